# The statistics match what consumers actually received: per shape and operation, bytes, changes
# and transactions, across reconnects, through reset_stats and slot drops; overflow of the bounded
# tables is counted, never a crash; consumer lag is a health check.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('counters', extra_conf => "logical_decoding_work_mem = '64kB'\n");
$node->safe_psql('postgres', q{
CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id int NOT NULL, body text);
CREATE TABLE audit (id bigserial PRIMARY KEY, note text);
SELECT electric_shapes.create_shape('conv_1', 'messages', 'conversation_id = 1');
SELECT electric_shapes.create_shape('conv_2', 'messages', 'conversation_id = 2');
SELECT electric_shapes.create_shape('every-message', 'messages');
SELECT electric_shapes.create_shape('picky', 'messages', '100 / (conversation_id - 5) > 0');
SELECT pg_create_logical_replication_slot('counted', 'electric_shapes');
});

# What a consumer received, counted the way shape_stats counts: per shape, messages by operation
# (must-refetch control messages apart) and their bytes; for the slot, all bytes.
my (%seen, $slot_bytes);
sub consume
{
    my ($slot) = @_;
    my @lines = split /\n/, $node->safe_psql('postgres',
        "SELECT data FROM pg_logical_slot_get_changes('$slot', NULL, NULL)");
    for my $line (@lines)
    {
        my $m = decode_message($line);
        $slot_bytes += length($line);
        my $h = $m->{headers};
        my $kind = $h->{operation} // (($h->{control} // '') eq 'must-refetch' ? 'must_refetch' : undef);
        for my $shape (@{ $h->{shapes} // [] })
        {
            next unless $kind;
            $seen{$shape}{$kind}++;
            $seen{$shape}{bytes} += length($line);
        }
    }
    return scalar @lines;
}

sub shape_row
{
    my ($slot, $shape) = @_;
    my $row = $node->safe_psql('postgres', qq{
SELECT inserts, updates, deletes, move_ins, move_outs, must_refetches, filter_errors, bytes
  FROM electric_shapes.shape_stats WHERE slot_name = '$slot' AND shape = '$shape'});
    my %r;
    @r{qw(inserts updates deletes move_ins move_outs must_refetches filter_errors bytes)} = split /\|/, $row;
    return \%r;
}

# The consumer received messages for exactly the expected shapes, shape_stats counts messages
# for exactly those, and for each the counts are what the consumer received.
sub shapes_match
{
    my ($slot, $test, @expected) = @_;
    is_deeply([ sort keys %seen ], [ sort @expected ], "$test: the consumer received messages for the expected shapes");
    is($node->safe_psql('postgres', qq{
SELECT string_agg(shape, ',' ORDER BY shape) FROM electric_shapes.shape_stats
 WHERE slot_name = '$slot' AND inserts + updates + deletes + must_refetches > 0}),
        join(',', sort @expected), "$test: shape_stats counts messages for the expected shapes");
    for my $shape (sort keys %seen)
    {
        my $r = shape_row($slot, $shape);
        is_deeply(
            [ @{$r}{qw(inserts updates deletes must_refetches bytes)} ],
            [ map { $seen{$shape}{$_} // 0 } qw(insert update delete must_refetch bytes) ],
            "$test: shape $shape counts what its consumer received");
    }
}

# Workload 1: inserts, an update inside a shape, moves between shapes, a delete, a change that
# only the unshaped table sees, a filter error, a truncate.
$node->safe_psql('postgres', q{
INSERT INTO messages VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c'), (4, 3, 'd');
UPDATE messages SET body = 'a2' WHERE id = 1;
UPDATE messages SET conversation_id = 2 WHERE id = 2;
UPDATE messages SET conversation_id = 1 WHERE id = 4;
DELETE FROM messages WHERE id = 3;
INSERT INTO audit (note) VALUES ('nobody shapes this');
INSERT INTO messages VALUES (5, 5, 'boom');
});
my $received = consume('counted');
ok($received > 0, "the consumer received $received messages");
shapes_match('counted', 'first session', qw(conv_1 conv_2 every-message));
my $r = shape_row('counted', 'conv_1');
is("$r->{move_ins}|$r->{move_outs}", '1|1', 'conv_1: one move-in (id 4) and one move-out (id 2)');
$r = shape_row('counted', 'conv_2');
is("$r->{move_ins}|$r->{move_outs}", '1|0', 'conv_2: one move-in (id 2)');
is(shape_row('counted', 'picky')->{filter_errors}, 1, 'picky: the division by zero is a filter error');

my $slot = $node->safe_psql('postgres', q{
SELECT changes_decoded, changes_emitted, changes_filtered, txns_decoded, txns_emitted, bytes_emitted,
       last_commit_lsn IS NOT NULL, last_commit_at IS NOT NULL, stats_reset IS NOT NULL
  FROM electric_shapes.slot_stats WHERE slot_name = 'counted'});
my @s = split /\|/, $slot;
is($s[0], 10, 'changes_decoded: every row change of the database');
is($s[0], $s[1] + $s[2], 'changes_decoded = changes_emitted + changes_filtered');
is($s[2], 1, 'changes_filtered: only the audit row went nowhere');
ok($s[3] >= 1 && $s[4] >= 1, 'transactions are counted');
is($s[5], $slot_bytes, 'bytes_emitted: every byte the consumer received');
is("$s[6]|$s[7]|$s[8]", 't|t|t', 'last commit and reset times are set');

# Workload 2, a new session on the same slot (a reconnect): counters go on from where they were.
$node->safe_psql('postgres', q{
INSERT INTO messages VALUES (6, 1, 'e'), (7, 2, 'f');
TRUNCATE messages;
});
consume('counted');
shapes_match('counted', 'after a reconnect', qw(conv_1 conv_2 every-message picky));
is($node->safe_psql('postgres',
    "SELECT bytes_emitted FROM electric_shapes.slot_stats WHERE slot_name = 'counted'"),
    $slot_bytes, 'bytes_emitted accumulates across sessions');
ok(shape_row('counted', 'conv_1')->{must_refetches} >= 1, 'a truncate is a must-refetch');

# A transaction bigger than logical_decoding_work_mem spills.
$node->safe_psql('postgres',
    "INSERT INTO messages SELECT g, 9, repeat('x', 200) FROM generate_series(100, 3000) g");
consume('counted');
shapes_match('counted', 'after a spilled transaction', qw(conv_1 conv_2 every-message picky));
my $spilled = $node->safe_psql('postgres',
    "SELECT spill_bytes FROM electric_shapes.slot_stats WHERE slot_name = 'counted'");
ok($spilled > 0, "spill_bytes counts what the reorder buffer spilled ($spilled)");

# A live pg_recvlogical consumer: the slot is active, its application is known.
my $file = $node->basedir . '/live.jsonl';
my $consumer = start_recvlogical($node, 'counted', $file, 'shapes=conv_1', 'include-transaction=on');
$node->poll_query_until('postgres',
    "SELECT active FROM electric_shapes.slot_stats WHERE slot_name = 'counted'")
  or fail('the streaming slot is active');
is($node->safe_psql('postgres',
    "SELECT s.application_name, s.active_pid = r.pid FROM electric_shapes.slot_stats s, pg_stat_replication r WHERE slot_name = 'counted'"),
    $node->safe_psql('postgres', 'SELECT application_name FROM pg_stat_replication') . '|t',
    'slot_stats shows the consumer holding the slot');
my $before = shape_row('counted', 'conv_1')->{inserts};
$node->safe_psql('postgres', "INSERT INTO messages VALUES (10, 1, 'live'), (11, 1, 'live')");
my @live = wait_for_messages($file, 4);
is(join(',', map { $_->{headers}{operation} // $_->{headers}{control} } @live), 'begin,insert,insert,commit',
    'the live consumer received both inserts');
$node->poll_query_until('postgres',
    "SELECT inserts = $before + 2 FROM electric_shapes.shape_stats WHERE slot_name = 'counted' AND shape = 'conv_1'")
  or fail('shape_stats follows a live stream');
pass('shape_stats follows a live stream');
# pg_recvlogical confirms the end of the commit it wrote (a message's lsn is where the commit
# starts), so the next session does not get this transaction again.
ok($node->poll_query_until('postgres',
        "SELECT confirmed_flush_lsn > '0/0'::pg_lsn + $live[-1]{headers}{lsn} FROM pg_replication_slots WHERE slot_name = 'counted'"),
    'the live consumer confirmed its transaction');
stop_recvlogical($consumer);
$node->poll_query_until('postgres',
    "SELECT NOT active FROM electric_shapes.slot_stats WHERE slot_name = 'counted'");

# reset_stats(slot): counters start again; shapes reappear as they receive messages.
$node->safe_psql('postgres', "SELECT electric_shapes.reset_stats('counted')");
is($node->safe_psql('postgres', q{
SELECT changes_decoded, bytes_emitted, spill_bytes, (SELECT count(*) FROM electric_shapes.shape_stats)
  FROM electric_shapes.slot_stats WHERE slot_name = 'counted'}), '0|0|0|0', 'reset_stats clears the slot');
(%seen, $slot_bytes) = ();
$node->safe_psql('postgres', "INSERT INTO messages VALUES (20, 2, 'after reset')");
consume('counted');
shapes_match('counted', 'after reset_stats', qw(conv_2 every-message));

# Consumer lag: WAL not yet confirmed by an electric_shapes slot's consumer.
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('laggard', 'electric_shapes')");
$node->safe_psql('postgres',
    "INSERT INTO audit (note) SELECT repeat('w', 500) FROM generate_series(1, 6000)");
my $lag = sub {
    my ($settings) = @_;
    return $node->safe_psql('postgres',
        "$settings SELECT status || '|' || detail FROM electric_shapes.health WHERE check_name = 'consumer_lag'");
};
like($lag->(q{SET electric_shapes.health_lag_warning_size = '1MB';}), qr/^warning\|.*slot "laggard" lags \d+ \w+/,
    'consumer_lag: a warning naming the slot above the warning size');
like($lag->(q{SET electric_shapes.health_lag_warning_size = '1MB'; SET electric_shapes.health_lag_error_size = '2MB';}),
    qr/^error\|/, 'consumer_lag: an error above the error size');
consume('laggard');
consume('counted');
like($lag->(q{SET electric_shapes.health_lag_warning_size = '1MB';}), qr/^ok\|/, 'consumer_lag: ok once consumed');

# Dropping a slot recycles its entries.
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('laggard')");
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('counted')");
is($node->safe_psql('postgres',
    'SELECT tracked_slots, tracked_shapes FROM electric_shapes.stats_capacity()'), '0|0',
    'a dropped slot frees its entries');
$node->stop;

# Bounded tables: what does not fit is counted and reported, and decoding goes on.
my $small = new_shapes_cluster('small',
    extra_conf => "electric_shapes.max_tracked_slots = 1\nelectric_shapes.max_tracked_shapes = 1\n");
$small->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY);
SELECT electric_shapes.create_shape('s1', 't');
SELECT electric_shapes.create_shape('s2', 't');
SELECT pg_create_logical_replication_slot('one', 'electric_shapes');
SELECT pg_create_logical_replication_slot('two', 'electric_shapes');
INSERT INTO t VALUES (1);
});
is($small->safe_psql('postgres', "SELECT count(*) FROM pg_logical_slot_get_changes('one', NULL, NULL)"),
    1, 'a stream with more shapes than tracked still sends');
is($small->safe_psql('postgres', "SELECT count(*) FROM pg_logical_slot_get_changes('two', NULL, NULL)"),
    1, 'a stream of an untracked slot still sends');
is($small->safe_psql('postgres',
    'SELECT tracked_slots, untracked_slots, tracked_shapes, untracked_shapes FROM electric_shapes.stats_capacity()'),
    '1|1|1|1', 'overflow is counted');
like($small->safe_psql('postgres',
    "SELECT status || '|' || detail FROM electric_shapes.health WHERE check_name = 'statistics_capacity'"),
    qr/^warning\|1 of 1 slots and 1 of 1 shapes tracked; 1 slot\(s\) and 1 shape\(s\) could not be tracked/,
    'statistics_capacity: a warning');
like($small->safe_psql('postgres', 'SELECT electric_shapes.metrics()'),
    qr/^electric_shapes_untracked_shapes_total 1$/m, 'metrics() reports the overflow');
$small->safe_psql('postgres', 'SELECT electric_shapes.reset_stats()');
is($small->safe_psql('postgres',
    "SELECT status FROM electric_shapes.health WHERE check_name = 'statistics_capacity'"),
    'ok', 'statistics_capacity: ok after reset_stats()');
$small->stop;

# Without the preload the plugin streams and slot_stats lists the slot, with NULL counters.
my $bare = new_shapes_cluster('unloaded', preload => 0);
$bare->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY);
SELECT electric_shapes.create_shape('s1', 't');
SELECT pg_create_logical_replication_slot('plain', 'electric_shapes');
INSERT INTO t VALUES (1);
});
is($bare->safe_psql('postgres', "SELECT count(*) FROM pg_logical_slot_get_changes('plain', NULL, NULL)"),
    1, 'the plugin streams without the preload');
is($bare->safe_psql('postgres',
    "SELECT slot_name, changes_decoded IS NULL, spill_bytes IS NOT NULL FROM electric_shapes.slot_stats"),
    'plain|t|t', 'slot_stats: the slot, no counters, spill_bytes from pg_stat_replication_slots');
$bare->stop;

done_testing();
