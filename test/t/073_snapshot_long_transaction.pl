# A shape is created while a long transaction that writes to its table is still open (it wrote
# before the creation and writes again after it), and another transaction writes, commits after
# the creation and before the snapshot. The first is in the snapshot's xip_list and its changes
# come through the stream; the second is visible in the snapshot and its messages are skipped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use ShapeConsumer;
use SnapshotWorkload;

my $node = new_shapes_cluster('long');
setup_items($node, full_identity => 1);
$node->safe_psql('postgres',
    q{INSERT INTO items SELECT g, g % 5, g % 1000, 'long seed ' || g FROM generate_series(1001, 1040) g});
$node->command_ok(
    [ 'pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', 'sync', '--create-slot',
      '-P', 'electric_shapes' ],
    'slot created');
my $consumer = ShapeConsumer->new(refetch => sub { snapshot_lines($node, shift) });
my $file = $node->basedir . '/stream.jsonl';
my $stream = start_recvlogical($node, 'sync', $file, 'shapes=grp_1,high_val,marker');
my $writers = start_writers($node, 6);

# The long transaction writes rows the writers never touch (ids above 1000).
my $long = $node->background_psql('postgres');
$long->query_safe('BEGIN');
my $long_xid = $long->query_safe('SELECT pg_current_xact_id()');
$long->query_safe(q{
    INSERT INTO items VALUES (1101, 1, 950, 'long insert'), (1102, 2, 10, 'long insert');
    UPDATE items SET grp = 1 WHERE id IN (1002, 1003);   -- move in
    UPDATE items SET grp = 2 WHERE id = 1006;            -- move out of grp_1
    UPDATE items SET val = 999 WHERE id = 1011;          -- update inside grp_1, moves into high_val
    DELETE FROM items WHERE id = 1016;
    UPDATE items SET id = 1201 WHERE id = 1021;          -- key change inside grp_1
});
my $short = $node->background_psql('postgres');
$short->query_safe('BEGIN');
my $short_xid = $short->query_safe('SELECT pg_current_xact_id()');
$short->query_safe(q{
    INSERT INTO items VALUES (1301, 1, 990, 'short insert');
    UPDATE items SET grp = 1 WHERE id = 1007;
    DELETE FROM items WHERE id = 1026;
});

for my $shape (qw(grp_1 high_val)) {
    $consumer->follow($shape);
    $node->safe_psql('postgres', create_shape_sql($shape));
}
# Committed after the creations, before the snapshots.
$short->query_safe('COMMIT');
my %snapshot;
for my $shape (qw(grp_1 high_val)) {
    $snapshot{$shape} = $consumer->apply_snapshot($shape, snapshot_lines($node, $shape));
}
ok($snapshot{grp_1}{xip}{$long_xid}, 'the long transaction is in the snapshot\'s xip_list');
ok(!ShapeConsumer::visible($snapshot{grp_1}, $long_xid), 'so its changes are not in the snapshot');
ok(ShapeConsumer::visible($snapshot{grp_1}, $short_xid), 'the short transaction is visible in it');

# The long transaction goes on after the creation, then commits.
$long->query_safe(q{
    UPDATE items SET grp = 1 WHERE id = 1031;
    UPDATE items SET note = 'changed late' WHERE id = 1101;
    DELETE FROM items WHERE id = 1003;
});
usleep(500_000);
$long->query_safe('COMMIT');
$long->quit;
$short->quit;

my ($output, $clean) = finish_writers($writers);
ok($clean, 'the writers ran without failures') or diag($output);
ok(sync_stream($node, $consumer, $file), 'the stream caught up with the last commit');
stop_recvlogical($stream);

my @all = read_messages($file);
my @long_messages = grep { ($_->{headers}{txids} // [0])->[0] == $long_xid } @all;
my @short_messages = grep { ($_->{headers}{txids} // [0])->[0] == $short_xid } @all;
cmp_ok(scalar @long_messages, '>=', 8, 'the long transaction\'s changes came through the stream');
cmp_ok(scalar @short_messages, '>=', 3, 'so did the short transaction\'s, to be skipped');
compare_shape($node, $consumer, $_) for qw(grp_1 high_val);
is_deeply($consumer->anomalies, [], 'no insert of a present key, no update or delete of a missing one');
my $counts = $consumer->counts;
diag("applied $counts->{applied}, visible in snapshots $counts->{visible}");

done_testing();
