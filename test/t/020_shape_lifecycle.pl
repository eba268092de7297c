# The lifecycle rule of SPEC section 3: a shape receives every change of every transaction that
# commits after the transaction that created it, including one that began before; and a stream
# that starts after the creation knows the shape even for a transaction older than it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('lifecycle');
$node->safe_psql('postgres', q{
    CREATE TABLE tickets (id int PRIMARY KEY, queue text NOT NULL);
    ALTER TABLE tickets REPLICA IDENTITY FULL;
    SELECT 'slot' FROM pg_create_logical_replication_slot('live', 'electric_shapes');
    SELECT 'slot' FROM pg_create_logical_replication_slot('late', 'electric_shapes');
});

my $file = $node->basedir . '/live.jsonl';
my $consumer = start_recvlogical($node, 'live', $file);

# A transaction begins and writes before the shape exists, and commits after its creation.
my $writer = $node->background_psql('postgres');
$writer->query_safe(q{BEGIN});
$writer->query_safe(q{INSERT INTO tickets VALUES (1, 'support')});
$node->safe_psql('postgres',
    q{SELECT electric_shapes.create_shape('support', 'tickets', $$queue = 'support'$$)});
$writer->query_safe(q{INSERT INTO tickets VALUES (2, 'support')});
$writer->query_safe(q{COMMIT});

my @messages = wait_for_messages($file, 3);
stop_recvlogical($consumer);
@messages = read_messages($file);
is(scalar @messages, 3, 'the announcement and both changes arrived');
is($messages[0]{headers}{control}, 'shape-added', 'the creation is announced first');
is_deeply($messages[0]{headers}{shapes}, ['support'], 'naming the shape');
is_deeply([ map { $_->{key} } @messages[1, 2] ],
    [ '"public"."tickets"/"1"', '"public"."tickets"/"2"' ],
    'both changes of the older transaction reach the new shape, also the one written before it');
cmp_ok($messages[1]{headers}{lsn}, '>', $messages[0]{headers}{lsn},
    'the transaction is streamed after the creation it committed after');

# The same for a stream that starts after the creation: the slot has confirmed past it.
$writer->query_safe(q{BEGIN});
$writer->query_safe(q{INSERT INTO tickets VALUES (3, 'support')});
$node->safe_psql('postgres',
    q{SELECT electric_shapes.create_shape('support_late', 'tickets', $$queue = 'support'$$)});
$node->safe_psql('postgres',
    q{SELECT 'advanced' FROM pg_replication_slot_advance('late', pg_current_wal_lsn())});
$writer->query_safe(q{INSERT INTO tickets VALUES (4, 'support')});
$writer->query_safe(q{COMMIT});
$writer->quit;

my $late = $node->safe_psql('postgres', q{
    SELECT string_agg(data::jsonb->>'key', ' ')
      FROM pg_logical_slot_get_changes('late', NULL, NULL, 'shapes', 'support_late')});
is($late, '"public"."tickets"/"3" "public"."tickets"/"4"',
    'a stream started after the creation still gives an older transaction to the shape');

done_testing();
