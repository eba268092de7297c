# The server stops with -m immediate in the middle of the stream, under writers, and restarts:
# the slot goes back to the position it last saved, pg_recvlogical resumes from there, and the
# consumer skips what it already applied. A shape is also created and snapshotted after the
# restart. The rebuilt shapes equal their queries and nothing is applied twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use ShapeConsumer;
use SnapshotWorkload;

my $node = new_shapes_cluster('crash');
setup_items($node, full_identity => 1);
$node->command_ok(
    [ 'pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', 'sync', '--create-slot',
      '-P', 'electric_shapes' ],
    'slot created');
my $options = 'shapes=grp_1,grp_2_val,high_val,notes,marker';
my $consumer = ShapeConsumer->new(refetch => sub { snapshot_lines($node, shift) });

my $writers = start_writers($node, 30, rate => 200);
for my $shape (qw(grp_1 grp_2_val high_val)) {
    $node->safe_psql('postgres', create_shape_sql($shape));
    $consumer->apply_snapshot($shape, snapshot_lines($node, $shape));
}
my $file = $node->basedir . '/stream.1.jsonl';
my $stream = start_recvlogical($node, 'sync', $file, $options);
for (1 .. 6) {
    usleep(400_000);
    $consumer->apply_file($file);
}
# A checkpoint saves the slot's confirmed position; the crash comes a while after it.
$node->safe_psql('postgres', 'CHECKPOINT');
usleep(1_500_000);
$node->stop('immediate');
eval { $stream->{handle}->finish; };
finish_writers($writers);    # they fail with the server; the table is the truth
$consumer->apply_file($file);
my $before = $consumer->last_position;
$node->start;

$writers = start_writers($node, 5, rate => 200);
$file = $node->basedir . '/stream.2.jsonl';
$stream = start_recvlogical($node, 'sync', $file, $options);
usleep(500_000);
$consumer->follow('notes');
$node->safe_psql('postgres', create_shape_sql('notes'));
$consumer->apply_snapshot('notes', snapshot_lines($node, 'notes', repeatable_read => 1));
my ($output, $clean) = finish_writers($writers);
ok($clean, 'the writers after the restart ran without failures') or diag($output);
ok(sync_stream($node, $consumer, $file), 'the stream caught up with the last commit');
stop_recvlogical($stream);

compare_shape($node, $consumer, $_) for qw(grp_1 grp_2_val high_val notes);
is_deeply($consumer->anomalies, [], 'no insert of a present key, no update or delete of a missing one');
my $counts = $consumer->counts;
cmp_ok($counts->{duplicates}, '>', 0, 'the restarted slot re-sent messages, recognised by (lsn, op_position)');
diag("applied $counts->{applied}, visible in snapshots $counts->{visible}, "
    . "duplicates $counts->{duplicates}, last before the crash @$before");

done_testing();
