# Statistics of dropped shapes are released when the stream decodes the drop, so the shared table
# (electric_shapes.max_tracked_shapes entries) never fills up with shapes that are gone: after
# creating and dropping more shapes than it holds, live shapes are still counted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('stats_churn', extra_conf => "electric_shapes.max_tracked_shapes = 3\n");
$node->safe_psql('postgres', q{
    CREATE TABLE t (id int PRIMARY KEY);
    SELECT 'init' FROM pg_create_logical_replication_slot('s', 'electric_shapes');
});
sub stream { return $node->safe_psql('postgres', q{SELECT count(*) FROM pg_logical_slot_get_changes('s', NULL, NULL)}); }

# Three rounds of two shapes that each count one insert, then are dropped: six shapes in all.
for my $round (1 .. 3) {
    $node->safe_psql('postgres', qq{
        SELECT electric_shapes.create_shape('a$round', 't');
        SELECT electric_shapes.create_shape('b$round', 't');
        INSERT INTO t VALUES ($round);
    });
    is(stream(), 3, "round $round: two shape-added announcements and one insert for both shapes");
    is($node->safe_psql('postgres', q{SELECT string_agg(shape || '=' || inserts, ',' ORDER BY shape)
                                      FROM electric_shapes.shape_stats WHERE slot_name = 's'}),
       "a$round=1,b$round=1", "round $round: both shapes counted");
    $node->safe_psql('postgres', qq{
        SELECT electric_shapes.drop_shape('a$round');
        SELECT electric_shapes.drop_shape('b$round');
    });
    stream();
    is($node->safe_psql('postgres', q{SELECT count(*) FROM electric_shapes.shape_stats WHERE slot_name = 's'}),
       '0', "round $round: the dropped shapes' statistics are released");
}

$node->safe_psql('postgres', q{
    SELECT electric_shapes.create_shape('live1', 't');
    SELECT electric_shapes.create_shape('live2', 't');
    INSERT INTO t VALUES (10);
});
stream();
is($node->safe_psql('postgres', q{SELECT string_agg(shape || '=' || inserts, ',' ORDER BY shape)
                                  FROM electric_shapes.shape_stats WHERE slot_name = 's'}),
   'live1=1,live2=1', 'live shapes are counted after the churn');

# A shape created again under a dropped shape's name starts from zero.
$node->safe_psql('postgres', q{
    SELECT electric_shapes.drop_shape('live2');
    SELECT electric_shapes.create_shape('live2', 't');
    INSERT INTO t VALUES (11);
});
stream();
is($node->safe_psql('postgres', q{SELECT string_agg(shape || '=' || inserts, ',' ORDER BY shape)
                                  FROM electric_shapes.shape_stats WHERE slot_name = 's'}),
   'live1=2,live2=1', 'a re-created shape is counted from zero');

done_testing();
