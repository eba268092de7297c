# electric-shapes-sync's /metrics and request log, checked against what this test's own HTTP
# requests received:
# - /metrics is Prometheus text that `promtool check metrics` accepts;
# - requests by route and status are exactly the responses the test got, shapes and log bytes
#   are what the registry and the storage directory hold, the commit-to-response histogram has
#   one observation per response that carried changes, the live gauge counts a held long-poll;
# - one JSON log line per request (method, path without the query, status, duration, request
#   id, shape handle) and per shape event; x-request-id is the client's when sane, else a new
#   one, and is sent back; LOG_LEVEL=warning leaves request lines out.
use strict;
use warnings;
use File::Basename;
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

my $node = new_shapes_cluster('metrics', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 10) i;
});
my $storage = $node->basedir . '/sync_storage';
my $service = start_sync_service($node, storage => $storage, long_poll => 20000);
my $http = HTTP::Tiny->new(timeout => 30);

my %got;               # "route status" => responses this test received
my $with_changes = 0;  # responses that carried changes (not offset=-1)
sub get
{
    my ($path, %headers) = @_;
    my $res = $http->get("$service->{base}$path", { headers => \%headers });
    my ($route) = $path =~ m{^([^?]*)};
    $route = 'other' unless grep { $_ eq $route } qw(/v1/shape /v1/health /metrics);
    $got{"$route $res->{status}"}++ if $res->{status} != 599;
    $with_changes++
      if $res->{status} == 200 && $path !~ /offset=-1/ && ($res->{headers}{'electric-has-data'} // '') eq 'true';
    return $res;
}

sub metrics
{
    my $res = get('/metrics');
    is($res->{status}, 200, '/metrics answers');
    is($res->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8', 'as Prometheus text');
    my %m;
    for (split /\n/, $res->{content}) {
        next if /^#/;
        my ($name, $value) = /^(\S+) (\S+)$/ or next;
        $m{$name} = $value;
    }
    return ($res->{content}, \%m);
}

# Every request this test makes is counted, the health checks of the start too.
my $deadline = time + 30;
usleep(100_000) until get('/v1/health')->{status} == 200 || time > $deadline;
is($http->get("$service->{base}/v1/health")->{status}, 200, 'the service streams');
$got{'/v1/health 200'}++;

# Requests with known outcomes.
my $res = get('/v1/shape?table=items&offset=-1', 'x-request-id' => 'client-req.1');
is($res->{status}, 200, 'initial sync');
is($res->{headers}{'x-request-id'}, 'client-req.1', "the client's request id comes back");
my $handle = $res->{headers}{'electric-handle'};
$res = get('/v1/shape?table=items&offset=-1', 'x-request-id' => 'not sane: spaces and more');
like($res->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'an insane one is replaced by a new id');
my $generated = $res->{headers}{'x-request-id'};
$res = get('/v1/shape?table=items&offset=0_inf&handle=old');
like($res->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'none given: a new id');
isnt($res->{headers}{'x-request-id'}, $generated, 'ids differ');
is($res->{status}, 409, 'another handle: 409');
is(get('/v1/shape?table=items&offset=bogus')->{status}, 400, 'bad offset: 400');
is(get('/nowhere')->{status}, 404, 'unknown path: 404');
is(get('/v1/health')->{status}, 200, 'health');
$res = get("/v1/shape?table=items&offset=0_inf&handle=$handle");
my $offset = $res->{headers}{'electric-offset'};

# Live requests woken by a change, each one response with changes; the gauge sees a held one.
for my $i (1 .. 3) {
    my $poll = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
    print $poll "GET /v1/shape?table=items&offset=$offset&handle=$handle&live=true HTTP/1.1\r\n"
      . "Host: x\r\nConnection: close\r\n\r\n";
    ok(!IO::Select->new($poll)->can_read(0.3), "live request $i is held");
    if ($i == 1) {
        my (undef, $m) = metrics();
        is($m->{electric_shapes_sync_live_requests}, 1, 'the live gauge counts it');
        cmp_ok($m->{electric_shapes_sync_http_connections}, '>=', 2, 'two connections at least');
    }
    $node->safe_psql('postgres', "INSERT INTO items VALUES (100 + $i, 1, 'live')");
    local $/;
    my $raw = <$poll>;
    close $poll;
    my ($status) = $raw =~ m{^HTTP/1.1 (\d+)};
    my ($has_data) = $raw =~ m{\r\nelectric-has-data: (\w+)}i;
    ($offset) = $raw =~ m{\r\nelectric-offset: (\S+)}i;
    is("$status $has_data", '200 true', "live request $i gets the change");
    $got{"/v1/shape 200"}++;
    $with_changes++;
}
# A catch-up over all of it: one more response with changes.
$res = get("/v1/shape?table=items&offset=0_inf&handle=$handle");
is(scalar(grep { $_->{key} } @{ decode_json($res->{content}) }), 3, 'a catch-up gets the three changes');
# A second shape.
is(get('/v1/shape?table=items&where=grp%3D1&offset=-1')->{status}, 200, 'a second shape');

my ($text, $m) = metrics();
my $check = IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', \$text, '>&', \my $promtool);
ok($check, 'promtool check metrics accepts it') or diag($promtool, $text);
my %counted;
for (keys %$m) {
    $counted{"$1 $2"} = $m->{$_} if /^electric_shapes_sync_http_requests_total\{route="([^"]*)",status="(\d+)"\}$/;
}
my %expected = %got;
$expected{'/metrics 200'}--;  # the scrape that reads them is counted once it is answered
delete $expected{'/metrics 200'} unless $expected{'/metrics 200'};
is_deeply(\%counted, \%expected, 'requests by route and status are exactly those the test got')
  or diag(explain(\%counted), explain(\%expected));
is($m->{electric_shapes_sync_shapes}, 2, 'two shapes');
my $bytes = 0;
$bytes += -s $_ for glob("$storage/shapes/*/log.jsonl");
cmp_ok($bytes, '>', 0, 'the logs hold changes');
is($m->{electric_shapes_sync_shape_log_bytes}, $bytes, 'log bytes are the log files\' sizes');
is($m->{electric_shapes_sync_commit_to_response_seconds_count}, $with_changes,
    "one latency observation per response with changes ($with_changes)");
is($m->{'electric_shapes_sync_commit_to_response_seconds_bucket{le="+Inf"}'}, $with_changes, '+Inf bucket too');
cmp_ok($m->{electric_shapes_sync_commit_to_response_seconds_sum}, '<', 60 * $with_changes, 'latencies are seconds');
is($m->{electric_shapes_sync_live_requests}, 0, 'no live request held now');
is($m->{electric_shapes_sync_up}, 1, 'up');
is($m->{'electric_shapes_sync_shape_events_total{event="created"}'}, 2, 'two shapes created');
cmp_ok(abs($m->{electric_shapes_sync_last_commit_timestamp_seconds} - time), '<', 60, 'last commit time is now');
like($m->{electric_shapes_sync_replication_lag_bytes}, qr/^\d+$/, 'lag in bytes');

# The log: every line JSON; one request line per request (health and metrics at debug only).
my @lines = map { decode_json($_) } grep { /^\{/ } split /\n/, service_log($service);
ok(@lines == scalar(grep { /\S/ } split /\n/, service_log($service)), 'every log line is JSON');
my @requests = grep { $_->{message} eq 'request' } @lines;
my $shape_requests = 0;
$shape_requests += $got{$_} for grep { m{^/v1/shape } } keys %got;
is(scalar(grep { $_->{path} eq '/v1/shape' } @requests), $shape_requests, 'one line per shape request');
is(scalar(grep { $_->{path} eq '/nowhere' } @requests), 1, 'and for the unknown path');
is(scalar(grep { $_->{message} eq 'server notice' } @lines), 1, "the server's notice is a log line too");
is(scalar(grep { $_->{path} =~ m{health|metrics} } @requests), 0, 'health and metrics only at debug');
my ($first) = grep { $_->{request_id} eq 'client-req.1' } @requests;
is_deeply([ @$first{qw(method path status shape_handle)} ], [ 'GET', '/v1/shape', 200, $handle ],
    'a request line: method, path without the query, status, handle');
# Checked in the text the service wrote: decoded, 71.740 is the number 71.74.
my ($first_text) = grep { /"message":"request"/ && /"request_id":"client-req\.1"/ } split /\n/, service_log($service);
like($first_text, qr/"duration_ms":\d+\.\d{3},/, 'and its duration, in milliseconds to the microsecond');
my @created = grep { ($_->{event} // '') eq 'created' } @lines;
is(scalar(@created), 2, 'two created events');
is_deeply([ @{ $created[0] }{qw(message shape_handle request_id cause)} ],
    [ 'shape created', $handle, 'client-req.1', 'request' ], 'the first names the request that caused it');
my ($bad_line) = grep { $_->{path} eq '/v1/shape' && $_->{status} == 400 } @requests;
ok($bad_line && !defined $bad_line->{shape_handle}, 'a 400 names no handle');

# LOG_LEVEL=warning: no request lines.
$service->{handle}->kill_kill;
my $quiet = start_sync_service($node, storage => $storage, port => $service->{port}, log => "$storage.quiet.log",
    args => [ '--log-level', 'warning' ]);
ok(wait_healthy($quiet), 'restarted with LOG_LEVEL=warning');
is($http->get("$quiet->{base}/v1/shape?table=items&offset=-1")->{status}, 200, 'a request');
is(scalar(grep { /"message":"request"/ } split /\n/, service_log($quiet)), 0, 'is not logged');

done_testing();
