# electric-shapes-sync with the official @electric-sql/client: a where-filtered shape (with
# params) and a whole-table shape followed by ShapeStream/Shape while SQL inserts, updates,
# deletes and moves rows between the shapes, during the initial sync and after it. After a
# sentinel write each client's rows equal the shape's query exactly. Bad input (an unknown
# table, an invalid where clause, a bad offset or handle) gets a 4xx with a JSON message while
# the clients go on syncing.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');

my $node = new_shapes_cluster('sync', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text, flag boolean NOT NULL DEFAULT false);
    INSERT INTO items SELECT i, i % 3, 'v' || i, i % 2 = 0 FROM generate_series(1, 300) i;
});

# The service: settings checked first (a bad one is exit status 2 before anything starts).
my $storage = $node->basedir . '/sync_storage';
{
    my ($o, $e) = ('', '');
    IPC::Run::run([ 'electric-shapes-sync', '--database-url', $node->connstr('postgres') ], '>', \$o, '2>', \$e);
    is($? >> 8, 2, 'no secret and not insecure: exit status 2');
    like($e, qr/^electric-shapes-sync: ELECTRIC_SECRET \(--secret\) is required[^\n]*\n\z/, 'in one line');
}
# The service and the client are killed when the test ends, whatever happens (SyncServiceTest).
my $service = start_sync_service($node, storage => $storage, long_poll => 3000);
my $base = $service->{base};
my $http = HTTP::Tiny->new(timeout => 30);
ok(wait_healthy($service, 10), 'healthy once streaming');
is($http->get("$base/v1/health")->{content}, '{"status":"active"}', 'health says active');
is($node->safe_psql('postgres',
        "SELECT plugin FROM pg_replication_slots WHERE slot_name = 'electric_shapes_slot_default'"),
    'electric_shapes', 'the service created its slot');

# Writers run while the clients make their initial sync: moves between groups, inserts,
# updates and deletes, each transaction committed on its own.
sub writer_sql
{
    my ($seed, $rounds) = @_;
    return qq{DO \$\$
DECLARE r int;
BEGIN
  PERFORM setseed($seed);
  FOR i IN 1..$rounds LOOP
    r := (random() * 300)::int + 1;
    UPDATE items SET grp = (grp + 1) % 3, val = 'moved' || i WHERE id = r;
    INSERT INTO items VALUES (1000 + $seed * 100000 + i, i % 3, 'new' || i, i % 2 = 1);
    UPDATE items SET flag = NOT flag WHERE id = (random() * 300)::int + 1;
    DELETE FROM items WHERE id = (random() * 300)::int + 1;
    IF i % 10 = 0 THEN UPDATE items SET val = NULL WHERE id = 1000 + $seed * 100000 + i - 1; END IF;
    COMMIT;
    PERFORM pg_sleep(0.005);
  END LOOP;
END \$\$;};
}
my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
    '-c', writer_sql(0.1, 300) ], '>', \my $wout, '2>', \my $werr);

my $outdir = $node->basedir . '/client';
mkdir $outdir;
my @columns = qw(id grp val flag);
my $spec = encode_json([
    { name => 'grp1', columns => \@columns,
      params => { table => 'items', where => 'grp = $1', params => ['1'] } },
    { name => 'all', columns => \@columns, params => { table => 'items' } },
]);
my $client = start_shape_client($service, $outdir, $spec);

# Whether the client's rows of shape name come to equal the shape's query (in the client's
# "id|grp|val|flag" form) with the sentinel row among them.
sub converges
{
    my ($name, $where, $sentinel) = @_;
    return wait_for_rows($node, $client, $name,
        "SELECT id || '|' || grp || '|' || coalesce(val, 'null') || '|' || flag FROM items WHERE $where ORDER BY id",
        $sentinel, $service);
}

$writer->finish;
is($? >> 8, 0, 'the writer ran without errors') or diag($werr);
$node->safe_psql('postgres', "INSERT INTO items VALUES (999999, 1, 'sentinel', true)");
ok(converges('grp1', 'grp = 1', '999999|1|sentinel|true'), 'where-filtered shape equals its query after the writes');
ok(converges('all', 'true', '999999|1|sentinel|true'), 'whole-table shape equals its query after the writes');

# Live changes after the initial sync: a second writer, then a second sentinel.
$writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
    '-c', writer_sql(0.2, 150) ], '>', \$wout, '2>', \$werr);

# Bad input while the clients sync: 4xx with a JSON message, and nothing else stops.
sub get_json
{
    my ($query) = @_;
    my $res = $http->get("$base/v1/shape?$query");
    my $body = eval { decode_json($res->{content}) };
    return ($res, $body);
}
my ($res, $body) = get_json('table=no_such_table&offset=-1');
is($res->{status}, 400, 'unknown table: 400');
is($res->{headers}{'content-type'}, 'application/json', 'with a JSON body');
is_deeply($body, { message => 'Invalid request', errors => { table => ['relation "no_such_table" does not exist'] } },
    'naming the table');
($res, $body) = get_json('table=items&offset=-1&where=no_such_column+%3D+1');
is($res->{status}, 400, 'invalid where clause: 400');
is_deeply($body,
    { message => 'Invalid request',
      errors => { where => ['invalid where_clause: column "no_such_column" does not exist'] } },
    "with PostgreSQL's message");
($res, $body) = get_json('table=items&offset=-1&where=id+%3D+%241');
is($res->{status}, 400, 'a parameter without a value: 400');
is_deeply($body->{errors}, { where => ['parameter $1 has no value: give params[1]'] }, 'naming the parameter');
($res, $body) = get_json('table=items&offset=12x&handle=h');
is_deeply([ $res->{status}, $body->{errors} ], [ 400, { offset => ['has invalid format'] } ], 'bad offset: 400');
($res, $body) = get_json('table=items&offset=0_inf');
is_deeply([ $res->{status}, $body->{errors} ], [ 400, { handle => ["can't be blank when offset != -1"] } ],
    'offset without handle: 400');

# A good request: Electric's headers, CORS with the exposed headers, cache-control.
($res, $body) = get_json('table=items&offset=-1&where=grp+%3D+%241&params%5B1%5D=1');
is($res->{status}, 200, 'initial request: 200') or diag($res->{content});
my $h = $res->{headers};
ok($h->{'electric-handle'}, 'electric-handle');
is($h->{'electric-offset'}, '0_inf', 'electric-offset after the snapshot');
is_deeply(decode_json($h->{'electric-schema'}),
    { id => { type => 'int4', not_null => JSON::PP::true, pk_index => 0 },
      grp => { type => 'int4', not_null => JSON::PP::true }, val => { type => 'text' },
      flag => { type => 'bool', not_null => JSON::PP::true } }, 'electric-schema');
is($h->{'cache-control'}, 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746', 'cache-control');
like($h->{'access-control-expose-headers'}, qr/electric-handle/, 'CORS exposes the electric headers');
is($body->[-1]{headers}{control}, 'snapshot-end', 'the snapshot ends with snapshot-end');
my ($res2, $body2) = get_json("table=items&offset=0_inf&handle=nope&where=grp+%3D+%241&params%5B1%5D=1");
is($res2->{status}, 409, 'an unknown handle: 409');
is($res2->{headers}{'electric-handle'}, $h->{'electric-handle'}, 'with the current handle');
($res2, $body2) = get_json("table=items&offset=99999999999_0&handle=$h->{'electric-handle'}&where=grp+%3D+%241&params%5B1%5D=1");
is_deeply([ $res2->{status}, $body2->{errors} ], [ 400, { offset => ['out of bounds for this shape'] } ],
    'an offset past the log: 400');
($res2, $body2) = get_json("table=items&offset=0_inf&handle=$h->{'electric-handle'}&live=true&cursor=&where=grp+%3D+%241&params%5B1%5D=1");
is($res2->{status}, 200, 'live request: 200');
like($res2->{headers}{'electric-cursor'}, qr/^\d+$/, 'live response has electric-cursor');
is($body2->[-1]{headers}{control}, 'up-to-date', 'and ends with up-to-date');

$writer->finish;
is($? >> 8, 0, 'the second writer ran without errors') or diag($werr);
$node->safe_psql('postgres', "UPDATE items SET val = 'sentinel2' WHERE id = 999999");
$node->safe_psql('postgres', "INSERT INTO items VALUES (999998, 1, 'sentinel3', false)");
ok(converges('grp1', 'grp = 1', '999998|1|sentinel3|false'), 'where-filtered shape equals its query after live changes');
ok(converges('all', 'true', '999998|1|sentinel3|false'), 'whole-table shape equals its query after live changes');
ok($client->{handle}->pumpable, 'the client is still running (it reported no error)')
  or diag(slurp_file($client->{err}));

# Long-polls end each at its own deadline (its arrival plus the 3 s timeout), however many wait
# on the shape: a second one, 1.5 s after the first, is still held when the first ends.
my ($quiet_res) = get_json('table=items&offset=-1&where=id+%3D+-1');
my $quiet = "table=items&where=id+%3D+-1&handle=$quiet_res->{headers}{'electric-handle'}"
  . "&offset=$quiet_res->{headers}{'electric-offset'}&live=true";
sub open_long_poll
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
    print $s "GET /v1/shape?$quiet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    return $s;
}
sub read_all
{
    my ($s) = @_;
    my $bytes = '';
    while (IO::Select->new($s)->can_read(10)) { my $n = sysread($s, my $buf, 65536); last unless $n; $bytes .= $buf; }
    return $bytes;
}
my $poll_start = Time::HiRes::time();
my $first_poll = open_long_poll();
Time::HiRes::usleep(1_500_000);
my $second_poll = open_long_poll();
ok(IO::Select->new($first_poll)->can_read(10), 'the first long-poll ends');
cmp_ok(Time::HiRes::time() - $poll_start, '>=', 2.9, 'not before its timeout');
ok(!IO::Select->new($second_poll)->can_read(0.5), 'the second, 1.5 s younger, is still held then');
ok(IO::Select->new($second_poll)->can_read(10), 'and ends in its turn');
like($_, qr{^HTTP/1\.1 200 .*"control":"up-to-date"}s, 'up-to-date, with nothing new')
  for (read_all($first_poll), read_all($second_poll));

# The slot follows what the service has on disk.
my $lag = $node->safe_psql('postgres',
    "SELECT pg_current_wal_lsn() >= confirmed_flush_lsn AND confirmed_flush_lsn > '0/0' "
      . "FROM pg_replication_slots WHERE slot_name = 'electric_shapes_slot_default'");
is($lag, 't', 'the slot is confirmed');

$client->{handle}->signal('TERM');
eval { $client->{handle}->finish };
$service->{handle}->signal('TERM');
eval { $service->{handle}->finish };
done_testing();
