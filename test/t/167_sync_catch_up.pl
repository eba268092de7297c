# electric-shapes-sync catching up on a backlog: while the stream's transactions reach the service
# well after they were committed (over 500 ms later than usual), the live long-polls their changes wake are woken together every
# 200 ms instead of once per change, so a backlog of one-row transactions reaches each client in
# a few larger responses (each response costs the service a response out and a request in).
# - live, caught up: every change reaches its client in a response of its own;
# - the service stopped (SIGSTOP) while 10,000 one-row transactions are written to 20 shapes, then
#   continued: each client gets its 2,500 changes in at most one response per 200 ms of the
#   catch-up, plus two (without pacing, one per fsync round that had its changes: a hundred or
#   more), and every client's rows equal the query;
# - caught up again: the next change reaches its client at once, in a response of its own.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ElectricShapesTest;
use SyncServiceTest;

my $shapes = 4;
my $node = new_shapes_cluster('catch_up', preload => 0);
$node->safe_psql('postgres', 'CREATE TABLE items (id bigserial PRIMARY KEY, grp int NOT NULL, val text)');
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 20000);
ok(wait_healthy($service), 'the service streams');

my $out = $node->basedir . '/clients.json';
my $err = $node->basedir . '/clients.stderr';
my $clients = IPC::Run::start(
    [ 'node', "$ENV{ES_ROOT}/test/lib/sync_live_counter.cjs", "$service->{base}/v1/shape", 'items', $shapes, $out ],
    '>>', $err, '2>>', $err);

sub clients
{
    my $text = -f $out ? slurp_file($out) : '';
    return $text eq '' ? {} : decode_json($text);
}

# Waits until check(clients) is true; returns whether it was within 60 s.
sub wait_clients
{
    my ($check) = @_;
    my $deadline = time + 60;
    while (time < $deadline) {
        my $c = eval { clients() } // {};
        return 1 if keys %$c == $shapes && $check->($c);
        usleep(50_000);
    }
    diag('clients: ' . (-f $out ? slurp_file($out) : 'none') . "\nstderr: " . (-f $err ? slurp_file($err) : ''));
    return 0;
}

sub ids_of { my ($k) = @_; return $node->safe_psql('postgres', "SELECT string_agg(id::text, ',' ORDER BY id) FROM items WHERE grp = $k") // ''; }

ok(wait_clients(sub { !grep { !$_->{live} } values %{ $_[0] } }), "$shapes clients live");

# 1. Live and caught up: one response per change.
for my $i (1 .. 10) {
    $node->safe_psql('postgres', "INSERT INTO items (grp, val) VALUES (0, 'live $i')");
    ok(wait_clients(sub { @{ $_[0]{0}{ids} } == $i }), "live change $i reached its client") or last;
}
is(clients()->{0}{responses}, 10, 'caught up, each of the 10 changes came in a response of its own');

# 2. A backlog: 10,000 one-row transactions while the service is stopped.
my %before = map { $_ => clients()->{$_}{responses} } 0 .. $shapes - 1;
kill 'STOP', $service->{pid};
$node->safe_psql('postgres', qq{DO \$\$
BEGIN
  FOR i IN 1..10000 LOOP
    INSERT INTO items (grp, val) VALUES (i % $shapes, 'backlog ' || i);
    COMMIT;
  END LOOP;
END \$\$});
usleep(600_000);    # every transaction of the backlog over the lag that counts as behind (500 ms)
my $continued = time;
kill 'CONT', $service->{pid};
my $total = 10010;
ok(wait_clients(sub { my $n = 0; $n += @{ $_->{ids} } for values %{ $_[0] }; $n == $total }),
    "the clients got all $total rows");
my $caught_up = time - $continued;
my $c = clients();
my @counts = map { $c->{$_}{responses} - $before{$_} } 0 .. $shapes - 1;
my $most = (sort { $b <=> $a } @counts)[0];
note(sprintf('caught up in %.2f s; responses per client: %s', $caught_up, join(' ', @counts)));
# One response per 200 ms tick while behind, plus the one that ends the catch-up (the
# keepalive of a walsender at the end of the WAL) and one tick's rounding.
my $bound = int($caught_up / 0.2) + 3;
ok($most <= $bound,
    sprintf('each client got its %d changes in at most %d responses, one per 200 ms (most: %d)', 10000 / $shapes, $bound, $most));
for my $k (0 .. $shapes - 1) {
    is(join(',', @{ $c->{$k}{ids} }), ids_of($k), "shape grp = $k equals its query") or last;
}

# 3. Caught up again: the next change in a response of its own, at once.
my $r = $c->{1}{responses};
my $n = @{ $c->{1}{ids} };
$node->safe_psql('postgres', "INSERT INTO items (grp, val) VALUES (1, 'after')");
ok(wait_clients(sub { @{ $_[0]{1}{ids} } == $n + 1 }), 'the change after the backlog reached its client');
is(clients()->{1}{responses}, $r + 1, 'in a response of its own');
ok($clients->pumpable, 'the clients reported no error') or diag(slurp_file($err));
$clients->kill_kill;

done_testing();
