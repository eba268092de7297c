# electric-shapes-sync behind a real nginx with the configuration docs/sync-operations.md shows
# (read from that file, with this test's ports and directories put in): 1,000 clients doing the
# initial sync of one shape at once through the cache cause a handful of requests to the
# service (counted from its /metrics, printed), each client ends with exactly the shape's rows,
# and live requests still work through it: the official client following the shape through
# nginx gets a change. nginx runs as this test's own unprivileged process.
use strict;
use warnings;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $clients = 1000;
my $node = new_shapes_cluster('nginx', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 500) i;
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 20000);
ok(wait_healthy($service), 'the service streams');

# nginx with the documented configuration.
my $dir = $node->basedir . '/nginx';
mkdir $dir;
mkdir "$dir/$_" for qw(cache temp);
my ($block) = slurp_file("$ENV{ES_ROOT}/docs/sync-operations.md") =~ /^```nginx\n(.*?)^```$/ms;
ok($block, 'the documentation shows an nginx configuration');
my $nginx_port = PostgreSQL::Test::Cluster::get_free_port();
my %put = ('127.0.0.1:3000' => "127.0.0.1:$service->{port}", 'listen 8080;' => "listen 127.0.0.1:$nginx_port;",
    '/var/cache/nginx/electric' => "$dir/cache");
for my $from (sort keys %put) {
    is(scalar(() = $block =~ /\Q$from\E/g), 1, "it has $from once");
    $block =~ s/\Q$from\E/$put{$from}/;
}
my $temp = join "\n", map { "    ${_}_temp_path $dir/temp/$_;" } qw(client_body proxy fastcgi uwsgi scgi);
open my $fh, '>', "$dir/nginx.conf" or die;
print $fh "daemon off;\nworker_processes 1;\npid $dir/nginx.pid;\nerror_log $dir/error.log warn;\n"
  . "events { worker_connections 4096; }\nhttp {\n    access_log $dir/access.log;\n$temp\n$block}\n";
close $fh;
my $nginx = IPC::Run::start([ 'sh', '-c', 'ulimit -n 8192 2>/dev/null; exec nginx -e "$0/error.log" -p "$0" -c "$0/nginx.conf"', $dir ],
    '>', "$dir/stdout", '2>', "$dir/stderr");
my $http = HTTP::Tiny->new(timeout => 10);
my $base = "http://127.0.0.1:$nginx_port";
my $deadline = time + 20;
usleep(100_000) until $http->get("$base/v1/health")->{status} == 200 || time > $deadline;
is($http->get("$base/v1/health")->{status}, 200, 'nginx answers, in front of the service')
  or diag(slurp_file("$dir/stderr"), -f "$dir/error.log" ? slurp_file("$dir/error.log") : '');

sub shape_requests
{
    my $text = $http->get("$service->{base}/metrics")->{content};
    my $n = 0;
    $n += $1 while $text =~ /^electric_shapes_sync_http_requests_total\{route="\/v1\/shape",status="\d+"\} (\d+)$/mg;
    return $n;
}

# 1,000 initial syncs at once.
my $before = shape_requests();
local $ENV{NODE_PATH} = npm_modules();
my $started = time;
IPC::Run::run([ 'sh', '-c', 'ulimit -n 8192 2>/dev/null; exec node "$@"', 'node',
        "$ENV{ES_ROOT}/test/lib/sync_fanout_clients.cjs", "$base/v1/shape?table=items", $clients ],
    '>', \my $out, '2>', \my $err, IPC::Run::timeout(60));
my $took = time - $started;
my $result = eval { decode_json($out) } // {};
is($result->{finished}, $clients, "$clients clients finished their initial sync")
  or diag($out, $err);
is($result->{same}, $clients, 'all with the same rows');
my $want = $node->safe_psql('postgres', "SELECT id || '|' || val FROM items ORDER BY id");
is(join("\n", @{ $result->{rows} // [] }), $want, 'which are the query\'s');
my $upstream = shape_requests() - $before;
my $total = 0;
$total += $_ for values %{ $result->{statuses} // {} };
diag(sprintf('fan-out: %d clients, %d shape requests through nginx, %d reached the service (%.1f s); cache: %s',
    $clients, $total, $upstream, $took, encode_json($result->{cache} // {})));
cmp_ok($upstream, '>=', 2, 'the service served the snapshot and a catch-up');
cmp_ok($upstream, '<=', 6, "a handful of requests reached the service ($upstream for $total)");

# Live requests through nginx: the official client gets a change.
my $client = start_shape_client({ base => $base }, $node->basedir . '/client',
    encode_json([ { name => 'all', columns => [qw(id grp val)], params => { table => 'items' } } ]));
my $query = "SELECT id || '|' || grp || '|' || coalesce(val, 'null') FROM items ORDER BY id";
ok(wait_for_rows($node, $client, 'all', $query, '500|2|v500', $service), 'a client through nginx syncs');
usleep(500_000);  # it is in a live request now
$node->safe_psql('postgres', "INSERT INTO items VALUES (900001, 1, 'live')");
ok(wait_for_rows($node, $client, 'all', $query, '900001|1|live', $service), 'and gets a change live');
$node->safe_psql('postgres', "UPDATE items SET val = 'again' WHERE id = 900001");
ok(wait_for_rows($node, $client, 'all', $query, '900001|1|again', $service), 'and the next one');

$nginx->kill_kill;
done_testing();
