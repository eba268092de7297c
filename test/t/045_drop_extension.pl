# DROP EXTENSION electric_shapes while replication slots decode with the plugin: refused, naming
# the slots (however the drop is reached), so that no slot loses the catalog it needs to decode
# the changes it holds; allowed once the slots are gone. After the extension is created again,
# streams work, and a running stream follows the new catalog rather than the dropped one's OID.
# The library is not preloaded: the backend that drops must load it by itself.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('drop_ext', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE notes (id int PRIMARY KEY, body text);
    SELECT electric_shapes.create_shape('notes_all', 'notes');
    SELECT 'slot' FROM pg_create_logical_replication_slot('keep', 'electric_shapes');
    SELECT 'slot' FROM pg_create_logical_replication_slot('other_plugin', 'test_decoding');
    INSERT INTO notes VALUES (1, 'undecoded');
});

# Refused, in every form, naming the slot of the plugin and not the other one.
for my $drop ('DROP EXTENSION electric_shapes', 'DROP EXTENSION electric_shapes CASCADE',
    'DROP SCHEMA electric_shapes CASCADE')
{
    my ($ret, $out, $err) = $node->psql('postgres', $drop);
    isnt($ret, 0, "$drop is refused while a slot decodes with the plugin");
    like($err, qr/ERROR:  cannot drop extension electric_shapes while replication slots decode with it/,
        "$drop: the error says why");
    like($err, qr/DETAIL:  Replication slot "keep" of this database uses the electric_shapes output plugin/,
        "$drop: the error names the slot, and only it");
    like($err, qr/HINT:  Drop the slots first with pg_drop_replication_slot\(\)/, "$drop: the hint says what to do");
}
# Even with event triggers of origin only (replica role), the guard holds.
my ($ret, $out, $err) = $node->psql('postgres',
    "SET session_replication_role = replica; DROP EXTENSION electric_shapes");
isnt($ret, 0, 'the guard holds under session_replication_role = replica');

# The slot still decodes what it holds.
like($node->safe_psql('postgres',
        "SELECT data FROM pg_logical_slot_get_changes('keep', NULL, NULL)"),
    qr/"operation":"insert".*"undecoded"/, 'the slot decodes the change it held');

# Without slots of the plugin in the database, the drop succeeds; the test_decoding slot stays.
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('keep')");
$node->safe_psql('postgres', 'DROP EXTENSION electric_shapes');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_extension WHERE extname = 'electric_shapes'"),
    '0', 'the drop succeeds once the slots are gone');

# A stream that runs while the extension is created again follows the new catalog.
$node->safe_psql('postgres',
    "SELECT 'slot' FROM pg_create_logical_replication_slot('live', 'electric_shapes')");
my $file = $node->basedir . '/live.jsonl';
my $consumer = start_recvlogical($node, 'live', $file);
$node->safe_psql('postgres', q{
    CREATE EXTENSION electric_shapes;
    SELECT electric_shapes.create_shape('notes_again', 'notes');
});
$node->safe_psql('postgres', "INSERT INTO notes VALUES (2, 'after')");

# A drop that got past the guard (its trigger disabled, the library not loaded in the backend
# that drops) under a running stream: the stream announces the old catalog's shapes dropped and
# follows the next catalog's, not the shapes of the dropped catalog's OID.
$node->safe_psql('postgres', q{
    ALTER EVENT TRIGGER electric_shapes_guard_drop DISABLE;
});
$node->safe_psql('postgres', 'DROP EXTENSION electric_shapes');
$node->safe_psql('postgres', q{
    CREATE EXTENSION electric_shapes;
    SELECT electric_shapes.create_shape('notes_third', 'notes');
});
$node->safe_psql('postgres', "INSERT INTO notes VALUES (3, 'third')");
my @messages = wait_for_messages($file, 5);
stop_recvlogical($consumer);
@messages = read_messages($file);
my @got = map {
    my $h = $_->{headers};
    join(' ', $h->{operation} // $h->{control}, @{ $h->{shapes} }, $_->{key} // '');
} @messages;
is_deeply(\@got, [
    'shape-added notes_again ',
    'insert notes_again "public"."notes"/"2"',
    'shape-dropped notes_again ',
    'shape-added notes_third ',
    'insert notes_third "public"."notes"/"3"',
], 'a running stream follows the extension dropped and created again');

# A slot that had not decoded past the drop when it happened still decodes.
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('live')");
$node->safe_psql('postgres', q{
    SELECT 'slot' FROM pg_create_logical_replication_slot('behind', 'electric_shapes');
    INSERT INTO notes VALUES (4, 'before the drop');
    ALTER EVENT TRIGGER electric_shapes_guard_drop DISABLE;
});
$node->safe_psql('postgres', 'DROP EXTENSION electric_shapes');
$node->safe_psql('postgres', 'CREATE EXTENSION electric_shapes');
$node->safe_psql('postgres', q{SELECT electric_shapes.create_shape('notes_fourth', 'notes')});
$node->safe_psql('postgres', "INSERT INTO notes VALUES (5, 'after')");
my ($rc, $changes, $stderr) = $node->psql('postgres',
    "SELECT data FROM pg_logical_slot_get_changes('behind', NULL, NULL)");
is($rc, 0, 'a slot that was behind when the catalog was dropped still decodes');
like($stderr, qr/WARNING:  the shape catalog of electric_shapes was dropped after this change was made/,
    'with a warning that what it held is decoded without the dropped shapes');
like($changes, qr/"shapes":\["notes_fourth"\].*"after"/s, 'and streams the new catalog\'s shapes');

done_testing();
