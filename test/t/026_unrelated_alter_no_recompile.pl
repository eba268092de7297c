# A shape is compiled against its own relation's definition, and recompiled only when that
# relation changes: an ALTER TABLE of another table must not recompile it (a single global
# invalidation counter once made every relcache invalidation anywhere recompile every shape,
# decoding 18 times slower under schema churn). The plugin logs each compilation at DEBUG1.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('recompile');
$node->safe_psql('postgres', q{
    CREATE TABLE t (id int PRIMARY KEY, v int);
    CREATE TABLE u (id int PRIMARY KEY);
    SELECT electric_shapes.create_shape('sh', 't', 'v > 0');
    SELECT 'init' FROM pg_create_logical_replication_slot('s', 'electric_shapes');
});
$node->safe_psql('postgres', q{
    INSERT INTO t VALUES (1, 1);
    ALTER TABLE u ADD COLUMN x int;
    INSERT INTO t VALUES (2, 1);
    ALTER TABLE u ALTER COLUMN x TYPE bigint;
    INSERT INTO t VALUES (3, 1);
    ALTER TABLE t ADD COLUMN w int;
    INSERT INTO t VALUES (4, 1, 4);
});

# One decoding pass over all of it, in this session: its DEBUG1 messages come back on stderr.
my ($stdout, $stderr) = ('', '');
$node->psql('postgres', q{
    SET client_min_messages = debug1;
    SELECT coalesce(data::json->>'key', data::json->'headers'->>'control')
    FROM pg_logical_slot_get_changes('s', NULL, NULL);
}, stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
# Adding a column changes what the shape sends (all columns): its consumers must refetch.
is($stdout, join("\n", (map { qq{"public"."t"/"$_"} } 1 .. 3), 'must-refetch', '"public"."t"/"4"'),
   'every insert is streamed');
my @compiles = $stderr =~ /electric_shapes: compiling shape "sh"/g;
is(scalar @compiles, 2, 'compiled at its first change and after ALTER TABLE t only')
  or diag($stderr);

done_testing();
