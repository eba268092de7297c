# Large shapes: a where clause with an IN list of 10,000 constants, and one of 1 MB, are accepted,
# indexed where they can be, snapshotted and streamed. Their definitions do not fit in a catalog
# row, and PostgreSQL does not keep the TOAST chunks of a user catalog table for decoding (VACUUM
# removes them while a slot still needs the row), so they are kept in pieces that each fit in a
# row of a user catalog table. The test proves it the hard way: shapes dropped, their catalog
# rows vacuumed (VACUUM and VACUUM FULL), and slots positioned before the drop still decode them,
# both following the creation in the stream and loading the definition at stream start.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use ElectricShapesTest;

my $node = new_shapes_cluster('large_shapes');
$node->safe_psql('postgres', q{
    CREATE TABLE messages (id int PRIMARY KEY, conversation_id int NOT NULL, body text);
    ALTER TABLE messages REPLICA IDENTITY FULL;
    -- Positioned before the shapes exist: follows their creation in the stream.
    SELECT 'slot' FROM pg_create_logical_replication_slot('before', 'electric_shapes');
});

# The conversations of a chat user: 10,000 of them, 7, 14, ..., 70000.
my $in_list = q{(SELECT 'conversation_id IN (' || string_agg((g * 7)::text, ', ') || ')'
                   FROM generate_series(1, 10000) g)};
$node->safe_psql('postgres',
    "SELECT electric_shapes.create_shape('conversations', 'messages', $in_list)");

# A long OR of text equalities: 52,428 terms of 20 bytes, padded to 1 MB exactly.
my $one_mb = q{(SELECT string_agg(format('body = %L', 'w' || lpad(g::text, 6, '0')), ' OR ')
                       || repeat(' ', 20)
                  FROM generate_series(1, 52428) g)};
is($node->safe_psql('postgres', "SELECT length($one_mb)"), 1024 * 1024,
    'the long where clause is 1 MB');
$node->safe_psql('postgres', "SELECT electric_shapes.create_shape('words', 'messages', $one_mb)");

# One byte more is refused with a hint.
my ($rc, $out, $err) = $node->psql('postgres',
    "SELECT electric_shapes.create_shape('too_long', 'messages', $one_mb || ' ')",
    extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  54000: where_clause of shape "too_long" is too long/,
    'a where clause over 1 MB is refused with 54000');
like($err, qr/DETAIL:  It has 1048577 bytes; the limit is 1048576 bytes \(1 MB\)\./,
    'naming its size and the limit');
like($err, qr/HINT:  Split the shape into several, or filter on a column that groups the rows/,
    'with a hint');

# The definitions are whole where they are read, and none of them lives in a TOAST table.
is( $node->safe_psql(
        'postgres', qq{
    SELECT string_agg(format('%s %s %s %s', s.name, s.where_clause = w.clause,
                             c.index_column IS NOT NULL, c.stored_apart), ' ' ORDER BY s.name)
      FROM electric_shapes.shapes s
      JOIN electric_shapes.shape_catalog c USING (name)
      JOIN (VALUES ('conversations', $in_list), ('words', $one_mb)) w(name, clause) USING (name)}),
    'conversations t t {3,4,13} words t f {3,4}',
    'the shapes view shows both where clauses whole; the IN list is indexed');
my $toast_rows = q{
    SELECT sum(pg_relation_size(reltoastrelid))
      FROM pg_class
     WHERE oid IN ('electric_shapes.shape_catalog'::regclass,
                   'electric_shapes.shape_catalog_parts'::regclass)};
is($node->safe_psql('postgres', $toast_rows), 0, 'nothing of the catalogs was ever stored out of line');

is( $node->safe_psql(
        'postgres', q{SELECT count(*) FROM electric_shapes.health WHERE detail ~ 'conversations|words'}),
    0, 'health reads the large filters and finds nothing wrong with them');

# The pieces are changed through the API alone, as the catalog is.
($rc, $out, $err) = $node->psql('postgres', q{
    CREATE ROLE app;
    SET ROLE app;
    DELETE FROM electric_shapes.shape_catalog_parts});
like($err, qr/permission denied for table shape_catalog_parts/,
    'nobody else may change the pieces');

# Positioned after the creations: loads the definitions at stream start.
$node->safe_psql('postgres',
    q{SELECT 'slot' FROM pg_create_logical_replication_slot('after', 'electric_shapes')});

$node->safe_psql('postgres', q{
    INSERT INTO messages VALUES
        (1, 70000, 'w052428'),  -- the last constant of each list
        (2, 69993, 'hello'),    -- the one before the last, of the IN list only
        (3, 70001, 'w000001'),  -- not in the IN list, the first word
        (4, 5, 'nothing');      -- in neither
});

# Initial data.
is( $node->safe_psql(
        'postgres', q{
    SELECT string_agg(m::jsonb->>'key', ' ' ORDER BY m::jsonb->>'key')
      FROM electric_shapes.shape_snapshot('conversations') m WHERE m::jsonb->>'key' IS NOT NULL}),
    '"public"."messages"/"1" "public"."messages"/"2"',
    'the snapshot of the IN-list shape holds its rows');
is( $node->safe_psql(
        'postgres', q{
    SELECT string_agg(m::jsonb->>'key', ' ' ORDER BY m::jsonb->>'key')
      FROM electric_shapes.shape_snapshot('words') m WHERE m::jsonb->>'key' IS NOT NULL}),
    '"public"."messages"/"1" "public"."messages"/"3"',
    'the snapshot of the 1 MB shape holds its rows');

# The stream, through both ways of reading a definition.
my $changes = q{
    SELECT string_agg(coalesce(data::jsonb->'headers'->>'control', data::jsonb->'headers'->>'operation')
                      || ' ' || coalesce(data::jsonb->>'key', '') || ' '
                      || (data::jsonb->'headers'->'shapes')::text, E'\n')
      FROM pg_logical_slot_peek_changes('%s', NULL, NULL%s)};
my $expected_before = join("\n",
    'shape-added  ["conversations"]',
    'shape-added  ["words"]',
    'insert "public"."messages"/"1" ["conversations", "words"]',
    'insert "public"."messages"/"2" ["conversations"]',
    'insert "public"."messages"/"3" ["words"]');
my $expected_after = join("\n", (split /\n/, $expected_before)[ 2 .. 4 ]);
is($node->safe_psql('postgres', sprintf($changes, 'before', '')),
    $expected_before, 'a stream from before the creations follows them');
my $start = time;
is($node->safe_psql('postgres', sprintf($changes, 'after', '')),
    $expected_after, 'a stream started after the creations loads them');
my $elapsed = time - $start;
note(sprintf('stream start with both shapes: %.2f s', $elapsed));
cmp_ok($elapsed, '<', 20, 'loading the large shapes at stream start takes seconds at most');

# The hazard: the shapes are dropped, their rows and pieces vacuumed, and slots positioned before
# the drop read them again.
$node->safe_psql('postgres', q{
    SELECT electric_shapes.drop_shape('conversations');
    INSERT INTO messages VALUES (5, 70000, 'w052428');  -- after the drop of one shape
    SELECT electric_shapes.drop_shape('words');
    INSERT INTO messages VALUES (6, 70000, 'w052428');  -- after both drops
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM electric_shapes.shape_catalog_parts}),
    0, 'dropping the shapes removed their pieces');
$node->safe_psql('postgres', 'VACUUM electric_shapes.shape_catalog, electric_shapes.shape_catalog_parts');
$node->safe_psql('postgres', 'VACUUM FULL electric_shapes.shape_catalog, electric_shapes.shape_catalog_parts');
$node->safe_psql('postgres', 'VACUUM electric_shapes.shape_catalog, electric_shapes.shape_catalog_parts');

my $tail = join("\n",
    'shape-dropped  ["conversations"]',
    'insert "public"."messages"/"5" ["words"]',
    'shape-dropped  ["words"]');
is($node->safe_psql('postgres', sprintf($changes, 'before', '')),
    "$expected_before\n$tail", 'after VACUUM, a stream from before the creations still decodes them');
is($node->safe_psql('postgres', sprintf($changes, 'after', '')),
    "$expected_after\n$tail", 'after VACUUM, a stream from before the drops still loads the definitions');
# A stream of one shape looks it up by name, through the catalog's primary key when that index
# is still the one its snapshot shows; after the VACUUM FULL it is not, and the catalog is read.
is( $node->safe_psql('postgres', sprintf($changes, 'after', q{, 'shapes', 'conversations'})),
    join("\n",
        'insert "public"."messages"/"1" ["conversations"]',
        'insert "public"."messages"/"2" ["conversations"]',
        'shape-dropped  ["conversations"]'),
    'after VACUUM FULL, a stream of one shape from before the drop still loads it');

# A table change checks large shapes with their whole filter: dropping a column it does not read
# leaves the shape alone, dropping the one it reads breaks it.
$node->safe_psql('postgres', q{CREATE TABLE notes (id int PRIMARY KEY, tag int, other int)});
$node->safe_psql('postgres', q{SELECT electric_shapes.create_shape('tags', 'notes',
    (SELECT 'tag IN (' || string_agg(g::text, ', ') || ')' FROM generate_series(1, 10000) g))});
$node->safe_psql('postgres', 'ALTER TABLE notes DROP COLUMN other');
is($node->safe_psql('postgres', q{SELECT broken IS NULL FROM electric_shapes.shapes WHERE name = 'tags'}),
    't', 'dropping a column the large filter does not read keeps the shape');
$node->safe_psql('postgres', 'ALTER TABLE notes DROP COLUMN tag');
is($node->safe_psql('postgres', q{SELECT broken IS NOT NULL FROM electric_shapes.shapes WHERE name = 'tags'}),
    't', 'dropping the column it reads breaks it');
$node->safe_psql('postgres', 'DROP TABLE notes');
is($node->safe_psql('postgres', q{SELECT count(*) FROM electric_shapes.shape_catalog_parts}),
    0, 'dropping the table removed the pieces of its shapes');

done_testing();
