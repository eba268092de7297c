# electric-shapes-sync across restarts, with the official @electric-sql/client following a
# where-filtered and a whole-table shape while a writer runs:
# - the service killed with SIGKILL mid-stream (and a torn line left at the end of a shape log)
#   and started again on the same storage: it resumes from its files, the torn tail is cut, the
#   clients go on from their offsets with the same handles (no refetch) and equal the query;
# - PostgreSQL stopped with -m immediate and started again: the stream reconnects and the
#   clients equal the query, with the same handles;
# - a server that accepts connections and never answers (postmaster stopped with SIGSTOP) while
#   the service reconnects: the service goes on answering HTTP (health 202) meanwhile, since it
#   connects without blocking its event loop, and streams again once the server answers;
# - shapes made one after another reuse the service's SQL connections (a new backend per shape
#   cost more than making the shape), and a shape asked for after PostgreSQL restarted is made
#   at the first request, on a new connection, not refused for the pool's dead ones.
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ElectricShapesTest;
use SyncServiceTest;

my ($node, $storage, $service, $client) = start_items_sync('restart');

my $sentinel_id = 900000;
sub converge { converge_items($node, $client, $service, ++$sentinel_id, $_[0], grp1 => 'grp = 1', all => 'true'); }
sub query { return items_query($_[0]); }
sub handle_of { return client_handle($client, $_[0]); }
sub creations { return shapes_created($service); }

sub start_writer
{
    my ($seed) = @_;
    my $sql = qq{DO \$\$
BEGIN
  PERFORM setseed($seed);
  FOR i IN 1..400 LOOP
    INSERT INTO items VALUES (1000000 * $seed * 10 + i, i % 3, 'w' || i);
    UPDATE items SET grp = (grp + 1) % 3, val = 'moved' || i WHERE id = (random() * 300)::int + 1;
    DELETE FROM items WHERE id = (random() * 300)::int + 1;
    COMMIT;
    PERFORM pg_sleep(0.005);
  END LOOP;
END \$\$;};
    return IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
        '>', \my $o, '2>', \my $e);
}

converge('after the initial sync');
my %handle = map { $_ => handle_of($_) } qw(grp1 all);
is(creations(), 2, 'two shapes created');

# 1. SIGKILL mid-stream, a torn line at the end of a shape log, a restart on the same files.
my $writer = start_writer(1);
usleep(1_000_000);
$service->{handle}->signal('KILL');
eval { $service->{handle}->finish };
my $log_file = "$storage/shapes/$handle{all}/log.jsonl";
ok(-s $log_file, 'the whole-table shape has a log');
my $complete = slurp_file($log_file);
like($complete, qr/\n\z/, 'made of whole lines');
open my $fh, '>>', $log_file or die;
print $fh '{"headers":{"operation":"update","lsn":"99999999999","op_position":0},"key":"torn';
close $fh;
usleep(500_000);    # the writer goes on while the service is down
$service = start_sync_service($node, storage => $storage, port => $service->{port});
ok(wait_healthy($service), 'the restarted service streams');
like(service_log($service), qr/"message":"shape restored","event":"restored","shape_handle":"\Q$handle{all}\E"/, 'it restored the shapes');
my $restored = slurp_file($log_file);
is(substr($restored, 0, length($complete)), $complete, 'the log kept its whole lines');
unlike($restored, qr/torn/, 'and lost the torn one');
$writer->finish;
is($? >> 8, 0, 'the writer ran without errors');
converge('after SIGKILL and a restart');
is(handle_of($_), $handle{$_}, "$_ kept its handle (no refetch)") for qw(grp1 all);
is(creations(), 2, 'no shape was created again');
my @bad = grep { !eval { decode_json($_); 1 } } split /\n/, slurp_file($log_file);
is(scalar(@bad), 0, 'every line of the log is a message');

# 2. PostgreSQL stopped with -m immediate mid-stream, then started.
$writer = start_writer(2);
usleep(1_000_000);
$node->stop('immediate');
eval { $writer->finish };    # the writer's connection is gone with the server
$node->start;
converge('after an immediate stop of PostgreSQL');
is(handle_of($_), $handle{$_}, "$_ kept its handle across the server restart") for qw(grp1 all);
is(creations(), 2, 'no shape was created again');

# 3. A server that accepts and does not answer while the service reconnects: HTTP goes on.
my $walsender = $node->safe_psql('postgres',
    "SELECT pid FROM pg_stat_replication WHERE application_name = 'electric-shapes-sync'");
like($walsender, qr/^\d+$/, 'the service streams from a walsender');
my $postmaster = $node->{_pid};
ok($postmaster, 'the postmaster pid');
kill 'STOP', $postmaster;
kill 'TERM', $walsender;
my $http = HTTP::Tiny->new(timeout => 2);
my ($health, $answered) = (0, 0);
my $deadline = time + 8;
while (time < $deadline) {
    my $res = $http->get("$service->{base}/v1/health");
    $health = $res->{status};
    $answered++ if $health == 202;
    usleep(200_000);
}
kill 'CONT', $postmaster;
ok($answered >= 10, 'health answered 202 while the server did not answer') or diag("last status $health");
ok(wait_healthy($service), 'streaming again once the server answers');
converge('after the server answered again');
ok($client->{handle}->pumpable, 'the client reported no error') or diag(slurp_file($client->{err}));

# 4. The connections that make shapes: kept between shapes, replaced after a server restart.
sub new_shape_status
{
    my ($where) = @_;
    my $res = $http->get("$service->{base}/v1/shape?table=items&offset=-1&"
          . $http->www_form_urlencode({ where => $where }));
    return $res->{status} . ($res->{status} == 200 ? '' : " $res->{content}");
}
# The service's SQL sessions: every client backend but this query's own (the writers are done;
# the test's environment names them all after the script, PGAPPNAME).
sub service_backends
{
    return $node->safe_psql('postgres',
        "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
          . "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
}
$http = HTTP::Tiny->new(timeout => 30);
is(new_shape_status("id < $_"), 200, "shape id < $_ made") for (10, 20);
my $backends = service_backends();
like($backends, qr/^\d+(,\d+)?$/, 'one or two connections kept for making shapes');
is(new_shape_status("id < $_"), 200, "shape id < $_ made") for (30, 40, 50);
my %kept = map { $_ => 1 } split /,/, $backends;
my @new = grep { !$kept{$_} } split /,/, service_backends();
is("@new", '', 'the next three shapes were made on the connections kept, no new backend')
  or diag("before: $backends, after: " . service_backends());
$node->stop('immediate');
$node->start;
is(new_shape_status('id < 60'), 200, 'after a server restart, a new shape is made at the first request');
is(new_shape_status('id < 70'), 200, 'and the next one too');
ok(wait_healthy($service), 'streaming again after the second restart');
converge('after the second server restart');

done_testing();
