# The consumer protocol under concurrent writers: shapes are created, snapshotted and streamed
# while pgbench inserts, moves rows in and out of shapes, deletes and changes primary keys; a
# TRUNCATE in the middle makes the consumer refetch. Each shape rebuilt from its snapshot and
# the stream equals its query, row for row, and nothing is applied twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use ShapeConsumer;
use SnapshotWorkload;

my $node = new_shapes_cluster('concurrent');
setup_items($node);
$node->command_ok(
    [ 'pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', 'sync', '--create-slot',
      '-P', 'electric_shapes' ],
    'slot created before the shapes');

my $consumer = ShapeConsumer->new(refetch => sub { snapshot_lines($node, shift) });
my $file = $node->basedir . '/stream.jsonl';
my $writers = start_writers($node, 9);
usleep(500_000);

# The first shape: created and snapshotted under load, before the stream starts. Creating it
# sets REPLICA IDENTITY FULL on the table while the writers run.
$node->safe_psql('postgres', create_shape_sql('grp_1'));
$consumer->apply_snapshot('grp_1', snapshot_lines($node, 'grp_1'));
my $stream = start_recvlogical($node, 'sync', $file, 'shapes=grp_1,grp_2_val,high_val,notes,marker');

# More shapes while the stream runs: their messages start flowing before their snapshots are
# taken, and wait in the consumer for them.
for my $shape (qw(grp_2_val high_val notes)) {
    usleep(700_000);
    $consumer->follow($shape);
    $node->safe_psql('postgres', create_shape_sql($shape));
    usleep(300_000);
    $consumer->apply_file($file);
    $consumer->apply_snapshot($shape,
        snapshot_lines($node, $shape, repeatable_read => $shape eq 'high_val'));
}
usleep(1_500_000);
$consumer->apply_file($file);
# A TRUNCATE under load: every shape of the table must refetch.
$node->safe_psql('postgres', 'TRUNCATE items');

my ($output, $clean) = finish_writers($writers);
ok($clean, 'the writers ran without failures') or diag($output);
ok(sync_stream($node, $consumer, $file), 'the stream caught up with the last commit');
stop_recvlogical($stream);

compare_shape($node, $consumer, $_) for qw(grp_1 grp_2_val high_val notes);
is_deeply($consumer->anomalies, [], 'no insert of a present key, no update or delete of a missing one');
my $counts = $consumer->counts;
cmp_ok($counts->{refetches}, '>=', 4, 'the TRUNCATE made every shape refetch');
cmp_ok($counts->{applied}, '>', 100, 'the stream changed the shapes after their snapshots');
diag("applied $counts->{applied}, visible in snapshots $counts->{visible}, "
    . "duplicates $counts->{duplicates}, refetches $counts->{refetches}");

done_testing();
