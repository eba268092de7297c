# Upgrading: shapes, slots and statistics made under 0.1.0 keep working after
# ALTER EXTENSION electric_shapes UPDATE, one version at a time (0.1.0 -> 0.2.0 -> 0.3.0), with a
# consumer streaming through the upgrades; and an upgraded extension has exactly the objects a
# fresh install of its version has, whether it started at 0.1.0 or at 0.2.0.
#
# The old install scripts are not shipped (nobody should install an old version anew); the test
# puts the ones shipped then, kept in test/upgrade, into its private installation.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('upgrade', no_extension => 1);
my $sharedir = `$ENV{PGBIN}/pg_config --sharedir`;
chomp $sharedir;
for my $old ('0.1.0', '0.2.0')
{
	copy("$ENV{ES_ROOT}/test/upgrade/electric_shapes--$old.sql", "$sharedir/extension/")
	  or die "cannot install the $old script into $sharedir/extension: $!";
}
my $describe = slurp_file("$ENV{ES_ROOT}/test/upgrade/describe_extension.sql");
my $default_version = $node->safe_psql('postgres',
    q{SELECT default_version FROM pg_available_extensions WHERE name = 'electric_shapes'});

# A chat database made under 0.1.0: shapes of every kind (indexed equality, whole table, a
# projection, replica full), a slot and counted statistics.
$node->safe_psql('postgres', q{
    CREATE EXTENSION electric_shapes VERSION '0.1.0';
    CREATE TABLE messages (id int PRIMARY KEY, conversation_id int NOT NULL, author text, body text);
    SELECT electric_shapes.create_shape('conv_1', 'messages', 'conversation_id = 1');
    SELECT electric_shapes.create_shape('conv_in', 'messages', 'conversation_id IN (2, 3)',
                                        columns => ARRAY['body']);
    SELECT electric_shapes.create_shape('all_full', 'messages', replica => 'full');
    -- The catalog rows as the 0.1.0 library wrote them: signatures without the key part.
    UPDATE electric_shapes.shape_catalog SET signature = regexp_replace(signature, ' \|key( \d+)*$', '');
    SELECT 'ok' FROM pg_create_logical_replication_slot('sync', 'electric_shapes');
});
is($node->safe_psql('postgres',
        q{SELECT count(*) FROM electric_shapes.shape_catalog WHERE signature LIKE '% |key%'}),
    '0', 'the shapes have signatures of 0.1.0');
is($node->safe_psql('postgres',
        q{SELECT extversion FROM pg_extension WHERE extname = 'electric_shapes'}),
    '0.1.0', 'the extension was created at 0.1.0');

my $file = $node->basedir . '/stream.jsonl';
my $consumer = start_recvlogical($node, 'sync', $file, 'include-transaction=on');
$node->safe_psql('postgres', q{
    INSERT INTO messages SELECT g, g % 4, 'u' || g, 'before ' || g FROM generate_series(1, 8) g;
});
wait_for_messages($file, 3);    # begin, a message, commit at least: streaming under 0.1.0

# First to 0.2.0, which is then exactly what 0.2.0's own script made.
$node->safe_psql('postgres', "ALTER EXTENSION electric_shapes UPDATE TO '0.2.0'");
$node->safe_psql('postgres', 'CREATE DATABASE fresh_020');
$node->safe_psql('fresh_020', "CREATE EXTENSION electric_shapes VERSION '0.2.0'");
is($node->safe_psql('postgres', $describe), $node->safe_psql('fresh_020', $describe),
	'0.1.0 updated to 0.2.0 equals a fresh install of 0.2.0');

$node->safe_psql('postgres', 'ALTER EXTENSION electric_shapes UPDATE');
is($node->safe_psql('postgres',
        q{SELECT extversion FROM pg_extension WHERE extname = 'electric_shapes'}),
    $default_version, "ALTER EXTENSION UPDATE brings it to $default_version");

is($node->safe_psql('postgres', q{
    SELECT string_agg(name || ':' || regexp_replace(signature, '.* \|key', 'key'), ' ' ORDER BY name)
      FROM electric_shapes.shape_catalog}),
    'all_full:key 1 conv_1:key 1 conv_in:key 1', 'the update recorded every shape\'s key');

# The same consumer goes on: changes after the upgrade, a shape created after it, and an ALTER
# TABLE that adds and drops a column. The update rewrites every catalog row (the signatures gain
# their key): that must not make the stream tell any consumer to refetch.
$node->safe_psql('postgres', q{
    ALTER TABLE messages ADD COLUMN edited boolean;
    ALTER TABLE messages DROP COLUMN edited;
    SELECT electric_shapes.create_shape('conv_3', 'messages', 'conversation_id = 3');
    UPDATE messages SET body = 'after 3' WHERE id = 3;
    DELETE FROM messages WHERE id = 1;
    INSERT INTO messages VALUES (9, 1, 'u9', 'after 9');
    SELECT 'sentinel';
});
$node->safe_psql('postgres', q{INSERT INTO messages VALUES (10, 0, 'u10', 'sentinel')});
my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
my @all;
while (time < $deadline) {
    @all = read_messages($file);
    last if grep { ($_->{key} // '') eq '"public"."messages"/"10"' } @all;
    sleep 1;
}
stop_recvlogical($consumer);
@all = read_messages($file);

# What each shape received, in order, whatever messages it shared with other shapes.
my %received;
for my $m (@all) {
    my $h = $m->{headers};
    next if ($h->{control} // '') =~ /^(begin|commit)$/;
    my $what = $h->{operation} ? "$h->{operation} " . ($m->{key} =~ s/.*\///r) : $h->{control};
    push @{ $received{$_} }, $what for @{ $h->{shapes} };
}
is_deeply(\%received, {
    # Whole-row shapes: the added and the dropped column change their messages' form.
    conv_1 => [ 'insert "1"', 'insert "5"', 'must-refetch', 'must-refetch',
                'delete "1"', 'insert "9"' ],
    all_full => [ (map { qq{insert "$_"} } 1 .. 8), 'must-refetch', 'must-refetch',
                  'update "3"', 'delete "1"', 'insert "9"', 'insert "10"' ],
    # A projection: neither the column change nor the upgrade's catalog rewrite concern it.
    conv_in => [ 'insert "2"', 'insert "3"', 'insert "6"', 'insert "7"', 'update "3"' ],
    conv_3 => [ 'shape-added', 'update "3"' ],
  }, 'each shape received exactly its changes, before and after the upgrade')
  or diag explain \%received;

# Statistics made under 0.1.0 are still there and keep counting.
is($node->safe_psql('postgres', q{
    SELECT string_agg(shape || ':' || inserts || '/' || updates || '/' || deletes, ' ' ORDER BY shape)
      FROM electric_shapes.shape_stats WHERE slot_name = 'sync'}),
    'all_full:10/1/1 conv_1:3/0/1 conv_3:0/1/0 conv_in:4/1/0',
    'statistics counted before and after the upgrade');
is($node->safe_psql('postgres', q{
    SELECT string_agg(name || ':' || coalesce(broken, 'ok'), ' ' ORDER BY name) FROM electric_shapes.shapes}),
    'all_full:ok conv_1:ok conv_3:ok conv_in:ok', 'no shape is broken by the upgrade');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM electric_shapes.shape_snapshot('conv_in')}),
    '5', 'shape_snapshot of a shape made under 0.1.0: 4 rows and snapshot-end');

# The upgraded extension is the new version exactly: the same objects, definitions, privileges,
# storage and comments as a fresh install.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION electric_shapes');
my $upgraded = $node->safe_psql('postgres', $describe);
my $fresh = $node->safe_psql('fresh', $describe);
ok(length($fresh) > 10000, 'the description of a fresh install is not empty');
is($upgraded, $fresh, 'the upgraded extension equals a fresh install of the new version');

# A database made under 0.2.0, with its row-level security helpers in use, updated directly.
$node->safe_psql('fresh_020', q{
    CREATE TABLE notes (id int PRIMARY KEY, owner_id text NOT NULL);
    SELECT electric_shapes.enable_owner_rls('notes', 'owner_id');
    SELECT electric_shapes.create_shape('notes_of_ann', 'notes', $$owner_id = 'ann'$$);
    ALTER EXTENSION electric_shapes UPDATE;
});
is($node->safe_psql('fresh_020', $describe), $fresh,
	'0.2.0 updated to the new version equals a fresh install of it');
is($node->safe_psql('fresh_020', q{
    CREATE ROLE ann_app;
    GRANT SELECT ON notes TO ann_app;
    BEGIN;
    SELECT electric_shapes.set_claims('{"sub": "ann"}');
    SET LOCAL ROLE ann_app;
    SELECT allowed FROM electric_shapes.shape_access('notes', $$owner_id = 'ann'$$)
    UNION ALL
    SELECT allowed FROM electric_shapes.shape_access('notes', NULL);
    COMMIT;}),
	"\nt\nf", 'shape_access decides for policies made under 0.2.0');

$node->stop;
done_testing();
