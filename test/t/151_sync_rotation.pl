# Rotation of electric-shapes-sync's shapes with the official @electric-sql/client: a TRUNCATE,
# a column added and a column's type changed (the plugin's must-refetch for each) each give the shape's clients a 409 with a new handle (a long-poll held on the old handle ends
# with it at once), the clients refetch, and after a sentinel write their rows equal the query.
# A shape the change does not concern keeps its handle. A shape of the service dropped by someone
# else, or with its table, is refetched the same way.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $node = new_shapes_cluster('rotation', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text, big text);
    INSERT INTO items SELECT i, i % 3, 'v' || i, NULL FROM generate_series(1, 200) i;
    UPDATE items SET big = repeat('x', 10000) WHERE id = 3;
});

# Long-polls are held 30 s, so a 409 that comes sooner was sent by the rotation.
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 30000);
ok(wait_healthy($service), 'the service streams');
my $http = HTTP::Tiny->new(timeout => 60);

my $spec = encode_json([
    { name => 'grp1', columns => [qw(id grp val)], params => { table => 'items', where => 'grp = $1', params => ['1'] } },
    { name => 'all', columns => [qw(id grp val)], params => { table => 'items' } },
    { name => 'cols', columns => [qw(id grp val)], params => { table => 'items', columns => 'id,grp,val' } },
]);
my $client = start_shape_client($service, $node->basedir . '/client', $spec);

sub query
{
    my ($where) = @_;
    return "SELECT id || '|' || grp || '|' || coalesce(val, 'null') FROM items WHERE $where ORDER BY id";
}
my $sentinel_id = 900000;
# A sentinel write, then both shapes equal their queries.
sub converge
{
    my ($what) = @_;
    $sentinel_id++;
    $node->safe_psql('postgres', "INSERT INTO items (id, grp, val) VALUES ($sentinel_id, 1, 's')");
    ok(wait_for_rows($node, $client, 'grp1', query('grp = 1'), "$sentinel_id|1|s", $service),
        "where-filtered shape equals its query $what");
    ok(wait_for_rows($node, $client, 'all', query('true'), "$sentinel_id|1|s", $service),
        "whole-table shape equals its query $what");
    ok(wait_for_rows($node, $client, 'cols', query('true'), "$sentinel_id|1|s", $service),
        "column-list shape equals its query $what");
}
sub handle_of { my ($name) = @_; my $h = client_file($client, "$name.handle"); chomp $h; return $h; }

converge('after the initial sync');
my %handle = map { $_ => handle_of($_) } qw(grp1 all cols);
like($handle{$_}, qr/^\d+-\d+$/, "$_ has a handle") for sort keys %handle;

# A long-poll held on the whole-table shape's current handle and offset.
sub hold_long_poll
{
    my ($h) = @_;
    my $res = $http->get("http://127.0.0.1:$service->{port}/v1/shape?table=items&offset=0_inf&handle=$h");
    is($res->{status}, 200, 'catch-up on the current handle') or diag($res->{content});
    my $offset = $res->{headers}{'electric-offset'};
    my $socket = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
    print $socket "GET /v1/shape?table=items&offset=$offset&handle=$h&live=true&cursor=1 HTTP/1.1\r\n"
      . "Host: localhost\r\nConnection: close\r\n\r\n";
    # Held: nothing comes back within a second.
    ok(!IO::Select->new($socket)->can_read(1), 'the long-poll is held');
    return $socket;
}
# The held long-poll's response: status, new handle, body, seconds waited.
sub long_poll_ends
{
    my ($socket, $started) = @_;
    my $text = '';
    my $select = IO::Select->new($socket);
    while ($select->can_read(25)) {
        my $n = sysread($socket, my $buf, 65536);
        last unless $n;
        $text .= $buf;
    }
    my ($status) = $text =~ m{^HTTP/1\.1 (\d+)};
    my ($handle) = $text =~ m{^electric-handle: (\S+)\r$}mi;
    my ($body) = $text =~ m{\r\n\r\n(.*)\z}s;
    return ($status // 0, $handle // '', $body // '', time - $started);
}

# Writers run across every rotation.
sub start_writer
{
    my ($seed) = @_;
    my $sql = qq{DO \$\$
BEGIN
  PERFORM setseed($seed);
  FOR i IN 1..150 LOOP
    INSERT INTO items (id, grp, val) VALUES (100000 * $seed * 10 + i, i % 3, 'w' || i) ON CONFLICT DO NOTHING;
    UPDATE items SET grp = (grp + 1) % 3, val = 'moved' || i WHERE id = (random() * 200)::int + 1 AND id <> 3;
    DELETE FROM items WHERE id = (random() * 200)::int + 4;
    COMMIT;
    PERFORM pg_sleep(0.01);
  END LOOP;
END \$\$;};
    return IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
        '>', \my $o, '2>', \my $e);
}

# 1. TRUNCATE: both shapes rotate.
# Any commit before it would end the long-poll with data; the writer starts after it and runs
# while the clients refetch.
my $socket = hold_long_poll($handle{all});
my $started = time;
$node->safe_psql('postgres', q{
    TRUNCATE items;
    INSERT INTO items SELECT i, i % 3, 'after' || i, NULL FROM generate_series(1, 100) i;
    UPDATE items SET big = repeat('y', 10000) WHERE id = 3;
});
my $writer = start_writer(1);
my ($status, $new_handle, $body, $waited) = long_poll_ends($socket, $started);
is($status, 409, 'TRUNCATE: the held long-poll gets 409');
ok($waited < 10, 'at once, not at the end of the long-poll') or diag("waited $waited s");
isnt($new_handle, $handle{all}, 'with a new handle');
is_deeply(eval { decode_json($body) }, [ { headers => { control => 'must-refetch' } } ], 'and must-refetch');
$writer->finish;
converge('after TRUNCATE');
isnt(handle_of($_), $handle{$_}, "TRUNCATE: $_ has a new handle") for qw(grp1 all cols);
is(handle_of('all'), $new_handle, 'the one the 409 named');
%handle = map { $_ => handle_of($_) } qw(grp1 all cols);
my $res = $http->get("http://127.0.0.1:$service->{port}/v1/shape?table=items&offset=0_inf&handle=$handle{all}");
is($res->{status}, 200, 'the new handle serves');

# 2. A schema change (a column added): the shapes of every column rotate, and the new shape's
# schema has the column; the column-list shape's messages keep their form and its handle.
$socket = hold_long_poll($handle{all});
$started = time;
$node->safe_psql('postgres', 'ALTER TABLE items ADD COLUMN extra int NOT NULL DEFAULT 7');
$writer = start_writer(2);
($status, $new_handle, $body, $waited) = long_poll_ends($socket, $started);
is($status, 409, 'schema change: the held long-poll gets 409');
ok($waited < 10, 'at once') or diag("waited $waited s");
$writer->finish;
converge('after a schema change');
isnt(handle_of($_), $handle{$_}, "schema change: $_ has a new handle") for qw(grp1 all);
is(handle_of('cols'), $handle{cols}, 'the column-list shape kept its handle');
%handle = map { $_ => handle_of($_) } qw(grp1 all cols);
$res = $http->get("http://127.0.0.1:$service->{port}/v1/shape?table=items&offset=-1");
is($res->{headers}{'electric-handle'}, $handle{all}, 'a new client gets the same new handle');
is_deeply(decode_json($res->{headers}{'electric-schema'})->{extra}, { type => 'int4', not_null => JSON::PP::true },
    'and the new column in electric-schema');

# 3. A type change of the filter's column: every shape of the table rotates, the new shapes
# are created on the new type.
%handle = map { $_ => handle_of($_) } qw(grp1 all cols);
$node->safe_psql('postgres', 'ALTER TABLE items ALTER COLUMN grp TYPE bigint');
converge('after a type change');
isnt(handle_of($_), $handle{$_}, "type change: $_ has a new handle") for qw(grp1 all cols);

# 4. The service's shape dropped behind its back: its clients refetch a new one, the others keep
# theirs.
%handle = map { $_ => handle_of($_) } qw(grp1 all cols);
$node->safe_psql('postgres', "SELECT electric_shapes.drop_shape('ess_default_$handle{all}')");
converge('after its shape was dropped by someone else');
isnt(handle_of('all'), $handle{all}, 'dropped behind its back: the shape has a new handle');
is(handle_of($_), $handle{$_}, "$_ kept its handle") for qw(grp1 cols);

# The rotated shapes are gone from the server: only the current ones are left.
my @current = sort map { "ess_default_$_" } map { handle_of($_) } qw(grp1 all cols);
my $names;
for (1 .. 50) {
    $names = $node->safe_psql('postgres', "SELECT string_agg(name, ',' ORDER BY name) FROM electric_shapes.shapes");
    last if $names eq join(',', @current);
    usleep(100_000);
}
is($names, join(',', @current), 'rotated shapes are dropped');
ok($client->{handle}->pumpable, 'the client reported no error') or diag(slurp_file($client->{err}));
$client->{handle}->signal('TERM');
eval { $client->{handle}->finish };

# 5. The table dropped: a held long-poll ends with 409, and the refetch is a 400 naming the table.
$socket = hold_long_poll(handle_of('all'));
$started = time;
$node->safe_psql('postgres', 'DROP TABLE items');
($status, $new_handle, $body, $waited) = long_poll_ends($socket, $started);
is($status, 409, 'table dropped: the held long-poll gets 409');
ok($waited < 10, 'at once') or diag("waited $waited s");
$res = $http->get("http://127.0.0.1:$service->{port}/v1/shape?table=items&offset=-1");
is_deeply([ $res->{status}, decode_json($res->{content})->{errors} ],
    [ 400, { table => ['relation "public.items" does not exist'] } ], 'the refetch: 400, the table does not exist');

done_testing();
