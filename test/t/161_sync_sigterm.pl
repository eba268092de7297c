# electric-shapes-sync stopped with SIGTERM while the official client follows a shape and a writer
# runs: it stops accepting, answers a held long-poll at once (200, up-to-date at its offset, as
# Electric ends live requests on shutdown), fsyncs its logs, confirms the slot past them and
# exits 0 within a bound; started again on the same storage it restores its shapes (none is
# created again), and the client, which went on retrying, converges with nothing lost.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $node = new_shapes_cluster('sigterm', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 200) i;
    CREATE TABLE quiet (id int PRIMARY KEY);
    INSERT INTO quiet VALUES (1);
});
my $storage = $node->basedir . '/sync_storage';
my $service = start_sync_service($node, storage => $storage, long_poll => 20000);
ok(wait_healthy($service), 'the service streams');
my $client = start_shape_client($service, $node->basedir . '/client',
    encode_json([ { name => 'all', columns => [qw(id grp val)], params => { table => 'items' } } ]));
my $query = "SELECT id || '|' || grp || '|' || coalesce(val, 'null') FROM items ORDER BY id";
$node->safe_psql('postgres', "INSERT INTO items VALUES (900001, 1, 's')");
ok(wait_for_rows($node, $client, 'all', $query, '900001|1|s', $service), 'the client has the table');
my $handle = client_file($client, 'all.handle');
chomp $handle;

# A long-poll held on a shape nobody writes to.
my $http = HTTP::Tiny->new(timeout => 10);
my $res = $http->get("$service->{base}/v1/shape?table=quiet&offset=-1");
my $quiet_handle = $res->{headers}{'electric-handle'};
$res = $http->get("$service->{base}/v1/shape?table=quiet&offset=0_inf&handle=$quiet_handle");
my $quiet_offset = $res->{headers}{'electric-offset'};
my $poll = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $poll "GET /v1/shape?table=quiet&offset=$quiet_offset&handle=$quiet_handle&live=true HTTP/1.1\r\n"
  . "Host: x\r\nConnection: close\r\n\r\n";
ok(!IO::Select->new($poll)->can_read(0.5), 'a long-poll is held');

my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', q{
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    INSERT INTO items VALUES (100000 + i, i % 3, 'w' || i);
    UPDATE items SET val = 'u' || i WHERE id = i % 200 + 1;
    DELETE FROM items WHERE id = (i * 7) % 200 + 1;
    COMMIT;
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;} ], '>', \my $wout, '2>', \my $werr);
usleep(1_000_000);

my $started = time;
$service->{handle}->signal('TERM');
ok(IO::Select->new($poll)->can_read(5), 'SIGTERM: the held long-poll is answered at once');
my $raw = do { local $/; <$poll> };
my ($head, $body) = split /\r\n\r\n/, $raw, 2;
like($head, qr{^HTTP/1.1 200 }, 'with 200');
like($head, qr{\r\nelectric-up-to-date: }i, 'up-to-date');
like($head, qr{\r\nelectric-offset: \Q$quiet_offset\E\r\n}i, 'at its offset');
is_deeply([ map { $_->{headers}{control} } @{ decode_json($body) } ], ['up-to-date'], 'no data, up-to-date');
my $finished = eval { $service->{handle}->finish; 1 };
my $took = time - $started;
ok($finished && $service->{handle}->result(0) == 0, 'the service exits with status 0');
cmp_ok($took, '<', 5, sprintf('within the bound (%.2f s)', $took));
my ($confirmed_line) = grep { /"message":"confirmed the slot"/ } split /\n/, service_log($service);
ok($confirmed_line, 'it confirmed the slot as it stopped');
my $confirmed = $confirmed_line ? decode_json($confirmed_line)->{lsn} : -1;
is($node->safe_psql('postgres',
        "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'electric_shapes_slot_default'"),
    $confirmed, 'the slot is where the service said');
my $bad = grep { !/^\{.*\}$/ } split /\n/, service_log($service);
is($bad, 0, 'nothing but JSON lines in its log');

# Started again while the writer goes on: restored, not created again; the client converges.
usleep(300_000);
my $log_before = length(service_log($service));
$service = start_sync_service($node, storage => $storage, port => $service->{port}, long_poll => 20000);
ok(wait_healthy($service), 'started again');
$writer->finish;
is($writer->result(0), 0, 'the writer committed everything');
$node->safe_psql('postgres', "INSERT INTO items VALUES (900002, 1, 's')");
ok(wait_for_rows($node, $client, 'all', $query, '900002|1|s', $service), 'the client converges: nothing lost');
my $after = substr(service_log($service), $log_before);
is(scalar(() = $after =~ /"message":"shape restored"/g), 2, 'both shapes restored');
is(scalar(() = $after =~ /"message":"shape created"/g), 0, 'no shape created again');
is(client_file($client, 'all.handle'), "$handle\n", 'the client kept its handle');

done_testing();
