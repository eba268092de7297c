# electric-shapes-sync's retention and limits, each with what a client gets when it acts:
# - ELECTRIC_SHAPE_RETENTION: a shape nobody asked for within it is removed (files, catalog row);
#   a shape asked for meanwhile stays; a client of the removed one gets 409 and refetches;
# - ELECTRIC_MAX_CONCURRENT_REQUESTS: over either limit (initial syncs, other requests), 503 with
#   retry-after at once, counted in /metrics, while the other kind and health go on; under it
#   again, 200;
# - ELECTRIC_MAX_SHAPES: a new shape over the limit removes the least recently asked-for one,
#   whose clients get 409 and refetch;
# - ELECTRIC_MAX_SHAPE_LOG_SIZE: a shape whose log grows past it is rotated once its clients have
#   the changes: 409 with the new handle, whose snapshot holds every row.
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

my $node = new_shapes_cluster('limits', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 4, 'v' || i FROM generate_series(1, 20) i;
});
my $http = HTTP::Tiny->new(timeout => 30);

sub shape_url { my ($service, $grp) = @_; return "$service->{base}/v1/shape?table=items&where=grp%3D$grp"; }
sub rows_of { my ($res) = @_; return scalar(grep { $_->{key} } @{ decode_json($res->{content}) }); }
sub owned
{
    my ($prefix, $handle) = @_;
    return $node->safe_psql('postgres', "SELECT count(*) FROM electric_shapes.shapes WHERE name = '$prefix$handle'");
}
sub events
{
    my ($service, $event) = @_;
    return [ grep { ($_->{event} // '') eq $event } map { decode_json($_) } grep { /^\{/ } split /\n/,
        service_log($service) ];
}

# 1. Retention.
my $storage = $node->basedir . '/retention';
my $service = start_sync_service($node, storage => $storage,
    args => [ '--replication-stream-id', 'ret', '--shape-retention', '1500ms' ]);
ok(wait_healthy($service), 'service with a 1.5 s retention streams');
my $old = $http->get(shape_url($service, 1) . '&offset=-1')->{headers}{'electric-handle'};
my $kept = $http->get(shape_url($service, 2) . '&offset=-1')->{headers}{'electric-handle'};
ok(-d "$storage/shapes/$old" && owned('ess_ret_', $old) == 1, 'a shape with files and a catalog row');
my $deadline = time + 4;
while (time < $deadline) {    # grp 2 is asked for every 300 ms, grp 1 never again
    $http->get(shape_url($service, 2) . "&offset=0_inf&handle=$kept");
    usleep(300_000);
}
my ($removed) = @{ events($service, 'removed') };
is_deeply([ @$removed{qw(shape_handle cause request_id)} ], [ $old, 'retention', undef ],
    'the shape nobody asked for is removed, by retention');
ok(!-e "$storage/shapes/$old", 'its files are gone');
is(owned('ess_ret_', $old), 0, 'its catalog row is gone');
ok(-d "$storage/shapes/$kept" && owned('ess_ret_', $kept) == 1, 'the shape asked for stays');
my $res = $http->get(shape_url($service, 1) . "&offset=0_inf&handle=$old");
is($res->{status}, 409, 'its client gets 409');
isnt($res->{headers}{'electric-handle'}, $old, 'with a new handle');
$res = $http->get(shape_url($service, 1) . '&offset=-1');
is(rows_of($res), 5, 'the refetch has the rows');
$service->{handle}->kill_kill;

# 2. Limits.
$storage = $node->basedir . '/limits';
$service = start_sync_service($node, storage => $storage, long_poll => 20000,
    args => [ '--replication-stream-id', 'lim', '--max-concurrent-requests', '{"initial":1,"existing":1}',
        '--max-shapes', '2', '--max-shape-log-size', '3000' ]);
ok(wait_healthy($service), 'service with limits streams');

# Concurrent initial syncs: one waiting for its snapshot (the table is locked) takes the only
# place; another initial sync gets 503 at once, health still answers, and the first gets its rows.
my $locker = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
        'BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;' ], '>', \my $lout, '2>', \my $lerr);
$deadline = time + 10;
usleep(50_000) until time > $deadline
  || $node->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'items'::regclass") == 1;
my $first = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $first "GET /v1/shape?table=items&where=grp%3D1&offset=-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
ok(!IO::Select->new($first)->can_read(0.5), 'an initial sync waits for its snapshot');
my $t0 = time;
$res = $http->get(shape_url($service, 2) . '&offset=-1');
is($res->{status}, 503, 'another initial sync meanwhile: 503');
cmp_ok(time - $t0, '<', 1, 'at once');
is_deeply([ $res->{headers}{'retry-after'}, decode_json($res->{content})->{code} ],
    [ '1', 'concurrent_request_limit_exceeded' ], 'with retry-after and a reason');
is($http->get("$service->{base}/v1/health")->{status}, 200, 'health still answers');
ok(IO::Select->new($first)->can_read(10), 'the first one is answered once the lock goes');
like(do { local $/; <$first> }, qr{^HTTP/1.1 200 }, 'with 200');
close $first;
$locker->finish;

# Concurrent requests: one held long-poll takes the only place for non-initial requests.
my $a = $http->get(shape_url($service, 1) . '&offset=-1')->{headers}{'electric-handle'};
$res = $http->get(shape_url($service, 1) . "&offset=0_inf&handle=$a");
my $offset = $res->{headers}{'electric-offset'};
my $poll = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $poll "GET /v1/shape?table=items&where=grp%3D1&offset=$offset&handle=$a&live=true HTTP/1.1\r\n"
  . "Host: x\r\nConnection: close\r\n\r\n";
ok(!IO::Select->new($poll)->can_read(0.5), 'a long-poll is held');
$t0 = time;
$res = $http->get(shape_url($service, 1) . "&offset=0_inf&handle=$a");
is($res->{status}, 503, 'a second non-initial request: 503');
cmp_ok(time - $t0, '<', 1, 'at once');
is($res->{headers}{'retry-after'}, '1', 'with retry-after');
is(decode_json($res->{content})->{code}, 'concurrent_request_limit_exceeded', 'and a reason');
is($res->{headers}{'cache-control'}, 'no-store', 'never cached');
is($http->get(shape_url($service, 1) . '&offset=-1')->{status}, 200, 'an initial sync still gets 200');
is($http->get("$service->{base}/v1/health")->{status}, 200, 'health still answers');
my $metrics = $http->get("$service->{base}/metrics")->{content};
like($metrics, qr/^electric_shapes_sync_refused_requests_total\{limit="existing"\} 1$/m, 'the refusal is counted');
like($metrics, qr/^electric_shapes_sync_refused_requests_total\{limit="initial"\} 1$/m, 'and the initial one');
$node->safe_psql('postgres', "INSERT INTO items VALUES (1001, 1, 'x')");
ok(IO::Select->new($poll)->can_read(10), 'the long-poll gets its change');
close $poll;
usleep(100_000);
is($http->get(shape_url($service, 1) . "&offset=0_inf&handle=$a")->{status}, 200, 'then a catch-up gets 200');

# Shapes: a third one removes the least recently asked-for (grp 1, asked for before grp 2).
my $b = $http->get(shape_url($service, 2) . '&offset=-1')->{headers}{'electric-handle'};
usleep(50_000);
$http->get(shape_url($service, 2) . "&offset=0_inf&handle=$b");
my $c = $http->get(shape_url($service, 3) . '&offset=-1')->{headers}{'electric-handle'};
ok($c, 'a third shape is served');
my ($evicted) = @{ events($service, 'removed') };
is_deeply([ @$evicted{qw(shape_handle cause)} ], [ $a, 'shape limit' ], 'the least recently used one is removed');
is(owned('ess_lim_', $a), 0, 'with its catalog row');
ok(!-e "$storage/shapes/$a", 'and its files');
like($http->get("$service->{base}/metrics")->{content}, qr/^electric_shapes_sync_shapes 2$/m, 'two shapes');
$res = $http->get(shape_url($service, 1) . "&offset=0_inf&handle=$a");
is($res->{status}, 409, 'its client gets 409');
is(rows_of($http->get(shape_url($service, 1) . '&offset=-1')), 6, 'and refetches every row');

# Log size: rows of 200 bytes into grp 3 until its log passes 3000 bytes.
$res = $http->get(shape_url($service, 3) . "&offset=0_inf&handle=$c");
is($res->{status}, 200, 'grp 3 is served');
$offset = $res->{headers}{'electric-offset'};
$node->safe_psql('postgres', "INSERT INTO items VALUES ($_, 3, repeat('x', 200))") for 2001 .. 2014;
my $rotated;
$deadline = time + 20;
while (time < $deadline && !$rotated) {
    ($rotated) = @{ events($service, 'rotated') };
    usleep(100_000) unless $rotated;
}
ok($rotated, 'the shape is rotated');
is_deeply([ @$rotated{qw(shape_handle cause)} ], [ $c, 'log size limit' ], 'because of its log size');
cmp_ok(-s "$storage/shapes/$rotated->{new_handle}/log.jsonl" // 0, '<=', 3000, 'the new log is small');
$res = $http->get(shape_url($service, 3) . "&offset=$offset&handle=$c");
is($res->{status}, 409, 'the client gets 409');
is($res->{headers}{'electric-handle'}, $rotated->{new_handle}, 'with the new handle');
$res = $http->get(shape_url($service, 3) . '&offset=-1');
my $rows = rows_of($res);
$res = $http->get(shape_url($service, 3) . "&offset=0_inf&handle=$rotated->{new_handle}");
is($rows + rows_of($res), $node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE grp = 3'),
    'whose snapshot and log have every row');

done_testing();
