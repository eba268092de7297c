# electric-shapes-sync's journal (sync/journal.hpp): an fsync round fdatasyncs one file, the
# journal, and the shape logs are fdatasynced only at a checkpoint. So what a crash of the
# machine can take from a shape log since its last checkpoint must come back from the journal:
# - the official client follows two shapes while a writer runs; the service is killed (SIGKILL)
#   and the shape logs are damaged as a power loss would leave them (one cut back to the size it
#   was last synced at, the other's blocks zeros), a torn record is left at the journal's end;
#   at start the journal is replayed: the logs are whole again, the clients go on from their
#   offsets with the same handles (no refetch) and equal the query;
# - a graceful stop (SIGTERM) checkpoints: the journal is empty afterwards and the logs whole.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use SyncServiceTest;

my ($node, $storage, $service, $client) = start_items_sync('journal');

my $sentinel_id = 900000;
sub converge { converge_items($node, $client, $service, ++$sentinel_id, $_[0], grp1 => 'grp = 1', all => 'true'); }
sub query { return items_query($_[0]); }
sub handle_of { return client_handle($client, $_[0]); }
sub creations { return shapes_created($service); }

# Both shapes made and synced before any change: their logs were last fdatasynced when they
# became ready, at these sizes; every change after that is made durable by the journal alone.
ok(wait_for_rows($node, $client, 'grp1', query('grp = 1'), '298|1|v298', $service), 'grp1 synced');
ok(wait_for_rows($node, $client, 'all', query('true'), '300|0|v300', $service), 'all synced');
my %handle = map { $_ => handle_of($_) } qw(grp1 all);
my %log = map { $_ => "$storage/shapes/$handle{$_}/log.jsonl" } qw(grp1 all);
my %synced = map { $_ => -s $log{$_} // 0 } qw(grp1 all);

my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', q{DO $$
BEGIN
  FOR i IN 1..300 LOOP
    INSERT INTO items VALUES (10000 + i, i % 3, 'w' || i);
    UPDATE items SET grp = (grp + 1) % 3, val = 'moved' || i WHERE id = i;
    DELETE FROM items WHERE id = 300 - i;
    COMMIT;
    PERFORM pg_sleep(0.002);
  END LOOP;
END $$;} ], '>', \my $out, '2>', \my $err);
converge('while the writer runs');

# 1. SIGKILL, then the damage a power loss leaves in files never fdatasynced since.
$service->{handle}->signal('KILL');
eval { $service->{handle}->finish };
my %complete = map { $_ => slurp_file($log{$_}) } qw(grp1 all);
ok(length($complete{$_}) > $synced{$_}, "$_: its log grew after it was last synced") for qw(grp1 all);
ok(-s "$storage/journal", 'the journal holds it');
truncate($log{grp1}, $synced{grp1}) or die "truncate: $!";
open my $fh, '+<', $log{all} or die;
sysseek($fh, $synced{all}, 0);
syswrite($fh, "\0" x (length($complete{all}) - $synced{all}));
close $fh;
open $fh, '>>', "$storage/journal" or die;
print $fh "ESJ1\x01\x02\x03";    # a record torn by the crash
close $fh;

$service = start_sync_service($node, storage => $storage, port => $service->{port});
ok(wait_healthy($service), 'the restarted service streams');
like(service_log($service), qr/"message":"journal replayed","records":\d+/, 'it replayed the journal');
like(service_log($service), qr/"message":"journal ends with a torn record"/, 'and said the last record was torn');
$writer->finish;
is($? >> 8, 0, 'the writer ran without errors');
converge('after a replayed journal');
is(handle_of($_), $handle{$_}, "$_ kept its handle (no refetch)") for qw(grp1 all);
is(creations(), 2, 'no shape was created again');
for my $name (qw(grp1 all)) {
    my $now = slurp_file($log{$name});
    is(substr($now, 0, length($complete{$name})), $complete{$name}, "$name: the log is whole again");
    my @bad = grep { !eval { decode_json($_); 1 } } split /\n/, $now;
    is(scalar(@bad), 0, "$name: every line of the log is a message");
}

# 2. A graceful stop checkpoints: the logs synced, the journal empty.
$service->{handle}->signal('TERM');
eval { $service->{handle}->finish };
is(-s "$storage/journal" // 0, 0, 'the journal is empty after SIGTERM');
my %stopped = map { $_ => slurp_file($log{$_}) } qw(grp1 all);
$service = start_sync_service($node, storage => $storage, port => $service->{port});
ok(wait_healthy($service), 'started again');
is(scalar(() = service_log($service) =~ /"message":"journal replayed"/g), 1, 'nothing to replay this time');
converge('after a graceful stop');
is(substr(slurp_file($log{$_}), 0, length($stopped{$_})), $stopped{$_}, "$_: the log is as the stop left it") for qw(grp1 all);
ok($client->{handle}->pumpable, 'the client reported no error') or diag(slurp_file($client->{err}));

done_testing();
