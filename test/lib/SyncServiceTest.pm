# Helpers of the TAP tests of electric-shapes-sync: the service as a child process (started,
# killed, restarted on the same storage and port), the official client as a child process
# (test/lib/sync_shape_client.cjs) and the comparison of what the client holds with the shape's
# query.
package SyncServiceTest;

use strict;
use warnings;
use Exporter 'import';
use HTTP::Tiny;
use IPC::Run;
use JSON::PP ();
use ElectricShapesTest ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw(npm_modules start_sync_service service_log wait_healthy start_shape_client client_file
  wait_for_rows kill_children items_query converge_items client_handle shapes_created start_items_sync);

my @children;

# The npm packages the tests use (test/install-deps), or a bail-out naming what is missing.
sub npm_modules
{
    my (@packages) = @_;
    my $modules = "$ENV{ES_ROOT}/test/npm/node_modules";
    for my $p (@packages) {
        BAIL_OUT("$p is not installed in $modules; run test/install-deps")
          unless -f "$modules/$p/package.json";
    }
    return $modules;
}

# Starts the service on node's database (opts{database}, default postgres; opts{args}: more flags); returns { handle,
# log, port, base, pid }. Its stderr (JSON log lines) goes to the file $service->{log} (appended
# to across restarts; IPC::Run fills a scalar only when the test pumps it). With opts{shell}, the
# service is exec'd by "bash -c '<shell>; exec ...'", so the shell can set its limits first.
sub start_sync_service
{
    my ($node, %opts) = @_;
    my $log = $opts{log} // "$opts{storage}.log";
    my $port = $opts{port} // PostgreSQL::Test::Cluster::get_free_port();
    my @cmd = ('electric-shapes-sync', '--database-url', $node->connstr($opts{database} // 'postgres'),
        '--port', $port, '--storage-dir', $opts{storage}, '--insecure', '--long-poll-timeout',
        $opts{long_poll} // 3000, @{ $opts{args} // [] });    # e.g. --secret, --jwt-secret
    @cmd = ('bash', '-c', "$opts{shell}; exec \"\$@\"", 'service', @cmd) if $opts{shell};
    my $handle = IPC::Run::start(\@cmd, '>>', $log, '2>>', $log);
    push @children, $handle;
    return { handle => $handle, log => $log, port => $port, base => "http://127.0.0.1:$port",
             pid => $handle->{KIDS}[0]{PID} };
}

# Waits until /v1/health answers 200; returns whether it did.
sub wait_healthy
{
    my ($service, $seconds) = @_;
    my $http = HTTP::Tiny->new(timeout => 5);
    my $deadline = time + ($seconds // 30);
    while (time < $deadline) {
        my $res = $http->get("$service->{base}/v1/health");
        return 1 if $res->{status} == 200;
        usleep(100_000);
    }
    diag("service log:\n" . service_log($service));
    return 0;
}

# What the service has logged.
sub service_log
{
    my ($service) = @_;
    open my $fh, '<', $service->{log} or return '';
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

# Starts sync_shape_client.cjs on the shapes of spec (see that file); returns { handle, err, dir }.
sub start_shape_client
{
    my ($service, $dir, $spec, $script) = @_;
    mkdir $dir;
    my $err = "$dir.stderr";
    local $ENV{NODE_PATH} = npm_modules();
    my $handle = IPC::Run::start(
        [ 'node', "$ENV{ES_ROOT}/test/lib/" . ($script // 'sync_shape_client.cjs'), "$service->{base}/v1/shape",
          $dir, $spec ],
        '>>', $err, '2>>', $err);
    push @children, $handle;
    return { handle => $handle, err => $err, dir => $dir };
}

# The content of a file the client wrote (<name>.rows, <name>.handle), or ''.
sub client_file
{
    my ($client, $file) = @_;
    open my $fh, '<', "$client->{dir}/$file" or return '';
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

# Waits until the client's rows of shape name equal the rows of query (one "a|b|c" text per row,
# ordered as the client orders them: by the first column) and contain the line sentinel.
sub wait_for_rows
{
    my ($node, $client, $name, $query, $sentinel, $service) = @_;
    my $deadline = time + 90;
    my ($got, $want) = ('', '');
    while (time < $deadline) {
        $want = $node->safe_psql('postgres', $query) . "\n";
        $want = '' if $want eq "\n";
        $got = client_file($client, "$name.rows");
        return 1 if $got eq $want && $got =~ /^\Q$sentinel\E$/m;
        usleep(200_000);
    }
    diag("shape $name: client has " . scalar(split /\n/, $got) . " rows, query " . scalar(split /\n/, $want));
    diag("client stderr: " . slurp_file($client->{err})) if -f $client->{err};
    diag("service log:\n" . service_log($service)) if $service;
    return 0;
}

# A cluster (named name) with table items (id, grp, val: 300 rows, grp = id % 3), the service on
# it (storage under the cluster's directory) and the official client following two shapes of
# items: grp1 (grp = $1 with params ['1']) and all. Returns ($node, $storage, $service, $client).
sub start_items_sync
{
    my ($name) = @_;
    npm_modules('@electric-sql/client');
    my $node = ElectricShapesTest::new_shapes_cluster($name, preload => 0);
    $node->safe_psql('postgres', q{
        CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
        INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 300) i;
    });
    my $storage = $node->basedir . '/sync_storage';
    my $service = start_sync_service($node, storage => $storage);
    ok(wait_healthy($service), 'the service streams');
    my $spec = JSON::PP::encode_json([
        { name => 'grp1', columns => [qw(id grp val)], params => { table => 'items', where => 'grp = $1', params => ['1'] } },
        { name => 'all', columns => [qw(id grp val)], params => { table => 'items' } },
    ]);
    my $client = start_shape_client($service, $node->basedir . '/client', $spec);
    return ($node, $storage, $service, $client);
}

# The rows of table items (id, grp, val) where $where as the client files hold them.
sub items_query
{
    my ($where) = @_;
    return "SELECT id || '|' || grp || '|' || coalesce(val, 'null') FROM items WHERE $where ORDER BY id";
}

# Writes the row (sentinel, 1, 's') into items and waits until the client's shapes (name =>
# where, in order) each equal their query and hold it; one test per shape, named by $what.
sub converge_items
{
    my ($node, $client, $service, $sentinel, $what, @shapes) = @_;
    $node->safe_psql('postgres', "INSERT INTO items VALUES ($sentinel, 1, 's')");
    while (my ($name, $where) = splice(@shapes, 0, 2)) {
        ok(wait_for_rows($node, $client, $name, items_query($where), "$sentinel|1|s", $service),
            "$name equals its query $what");
    }
}

# The handle the client holds for shape name.
sub client_handle
{
    my ($client, $name) = @_;
    my $handle = client_file($client, "$name.handle");
    chomp $handle;
    return $handle;
}

# How many shapes the service has created, by its log.
sub shapes_created
{
    my ($service) = @_;
    return scalar(() = service_log($service) =~ /"message":"shape created"/g);
}

# Whatever happens to a test, the processes it started do not outlive it.
sub kill_children
{
    for my $h (@children) {
        eval { $h->kill_kill(grace => 5) if $h->pumpable; };
    }
    return;
}

END { kill_children(); }

1;
