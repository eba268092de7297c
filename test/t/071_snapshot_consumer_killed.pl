# The consumer is killed (SIGKILL, pg_recvlogical and the applier's process alike) three times
# while writers run, and restarts from what it saved: pg_recvlogical resumes from the slot's
# confirmed position (it confirms what it has fsynced, -F), re-sends what came after, and the
# consumer recognises re-sent messages by (lsn, op_position). The rebuilt shapes equal their
# queries and nothing is applied twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use ShapeConsumer;
use SnapshotWorkload;

my $node = new_shapes_cluster('killed');
setup_items($node, full_identity => 1);
$node->command_ok(
    [ 'pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', 'sync', '--create-slot',
      '-P', 'electric_shapes' ],
    'slot created');
my @shapes = qw(grp_1 grp_2_val high_val);
my $options = 'shapes=' . join(',', @shapes, 'marker');
my $refetch = sub { snapshot_lines($node, shift) };
my $saved = $node->basedir . '/consumer.json';

my $writers = start_writers($node, 10, rate => 200);
my $consumer = ShapeConsumer->new(refetch => $refetch);
for my $shape (@shapes) {
    $node->safe_psql('postgres', create_shape_sql($shape));
    $consumer->apply_snapshot($shape, snapshot_lines($node, $shape));
}
$consumer->save($saved);

my $session = 1;
my $file = $node->basedir . "/stream.$session.jsonl";
my $stream = start_recvlogical($node, 'sync', $file, $options);
for my $kill (1 .. 3) {
    # Run a while, applying and saving as a consumer does, then die without warning.
    for (1 .. 4) {
        usleep(400_000);
        $consumer->apply_file($file);
        $consumer->save($saved);
    }
    usleep(300_000);
    $stream->{handle}->signal('KILL');
    eval { $stream->{handle}->finish; };
    undef $consumer;

    # Restart: the applier from its saved state, pg_recvlogical from the slot's confirmed position.
    $consumer = ShapeConsumer->load($saved, refetch => $refetch);
    $session++;
    $file = $node->basedir . "/stream.$session.jsonl";
    $stream = start_recvlogical($node, 'sync', $file, $options);
    # What the killed session wrote after the last save is read again too, as a restarted
    # consumer finds it in its files.
    $consumer->apply_file($node->basedir . '/stream.' . ($session - 1) . '.jsonl');
}

my ($output, $clean) = finish_writers($writers);
ok($clean, 'the writers ran without failures') or diag($output);
ok(sync_stream($node, $consumer, $file), 'the stream caught up with the last commit');
stop_recvlogical($stream);

compare_shape($node, $consumer, $_) for @shapes;
is_deeply($consumer->anomalies, [], 'no insert of a present key, no update or delete of a missing one');
my $counts = $consumer->counts;
cmp_ok($counts->{duplicates}, '>', 0, 're-sent messages were recognised by (lsn, op_position)');
diag("applied $counts->{applied}, visible in snapshots $counts->{visible}, "
    . "duplicates $counts->{duplicates}");

done_testing();
