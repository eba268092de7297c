# electric_shapes.health on real clusters: every check provoked to warning or error, then back to
# ok; the views and metrics() without shared_preload_libraries.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;
use IPC::Run;

# status and detail of one check.
sub check
{
    my ($node, $name) = @_;
    my $row = $node->safe_psql('postgres',
        "SELECT status || '|' || detail FROM electric_shapes.health WHERE check_name = '$name'");
    return split /\|/, $row, 2;
}

sub status_is
{
    my ($node, $name, $expected, $test) = @_;
    my ($status, $detail) = check($node, $name);
    is($status, $expected, "$name: $test") or diag("detail: $detail");
    return $detail;
}

# --- A server as the README sets it up, with little headroom so that limits are reachable.
# No timed checkpoint: the wal_status checks below decide when WAL is removed.
my $node = new_shapes_cluster('health',
    extra_conf => "max_replication_slots = 5\nmax_wal_senders = 2\ncheckpoint_timeout = '1h'\n");

my $rows = $node->safe_psql('postgres', 'SELECT check_name, status FROM electric_shapes.health');
is($rows, join("\n", map { "$_|ok" } qw(wal_level output_plugin_libraries preload replication_slots
    wal_senders inactive_slots max_slot_wal_keep_size wal_status replica_identity shape_definitions
    consumer_lag statistics_capacity)), 'a well set-up server: every check has a row and is ok');

# Slot headroom: 5 slots at most; 4 in use leave one (warning), 5 leave none (error).
$node->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('phys_$_')") for 1 .. 3;
status_is($node, 'replication_slots', 'ok', '3 of 5 slots');
$node->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('phys_4')");
my $detail = status_is($node, 'replication_slots', 'warning', '4 of 5 slots');
like($detail, qr/4 of max_replication_slots = 5/, 'replication_slots: detail counts them');
$node->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('phys_5')");
status_is($node, 'replication_slots', 'error', '5 of 5 slots');

# max_slot_wal_keep_size unlimited while slots exist.
$detail = status_is($node, 'max_slot_wal_keep_size', 'warning', 'unlimited with slots');
like($detail, qr/unlimited \(-1\) and 5 replication slot/, 'max_slot_wal_keep_size: detail');
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('phys_$_')") for 1 .. 5;
status_is($node, 'replication_slots', 'ok', 'slots dropped');
status_is($node, 'max_slot_wal_keep_size', 'ok', 'no slot left');

# An inactive logical slot: a warning naming it and its WAL, an error above the size setting.
$node->safe_psql('postgres',
    "SELECT pg_create_logical_replication_slot('idle_slot', 'test_decoding')");
$detail = status_is($node, 'inactive_slots', 'warning', 'inactive logical slot');
like($detail, qr/slot "idle_slot" \(plugin test_decoding, database postgres\) is inactive and retains \d+ \w+ of WAL/,
    'inactive_slots: detail names the slot and the WAL it retains');
$node->safe_psql('postgres',
    "CREATE TABLE filler AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 3000) g");
$node->safe_psql('postgres',
    "ALTER SYSTEM SET electric_shapes.health_inactive_slot_error_size = '1MB'; SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres',
        "SELECT status = 'error' FROM electric_shapes.health WHERE check_name = 'inactive_slots'"),
    'inactive_slots: error above electric_shapes.health_inactive_slot_error_size');
$node->safe_psql('postgres',
    "ALTER SYSTEM RESET electric_shapes.health_inactive_slot_error_size; SELECT pg_reload_conf()");

# wal_status: with max_slot_wal_keep_size, an idle slot falls behind, then is lost.
$node->safe_psql('postgres',
    "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'; SELECT pg_reload_conf()");
$node->poll_query_until('postgres', "SELECT current_setting('max_slot_wal_keep_size') = '1MB'");
status_is($node, 'max_slot_wal_keep_size', 'ok', 'limited');
for (1 .. 3)
{
    $node->safe_psql('postgres',
        "INSERT INTO filler SELECT g, repeat('y', 1000) FROM generate_series(1, 100) g; SELECT pg_switch_wal()");
}
$node->safe_psql('postgres', 'CHECKPOINT');
$node->poll_query_until('postgres',
    "SELECT status = 'error' FROM electric_shapes.health WHERE check_name = 'wal_status'")
  or diag($node->safe_psql('postgres', 'SELECT slot_name, wal_status FROM pg_replication_slots'));
($detail) = (check($node, 'wal_status'))[1];
like($detail, qr/slot "idle_slot" has wal_status lost/, 'wal_status: a lost slot is an error naming it');
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('idle_slot')");
status_is($node, 'wal_status', 'ok', 'lost slot dropped');
status_is($node, 'inactive_slots', 'ok', 'no inactive slot');

# An unreserved slot (behind max_slot_wal_keep_size, its WAL not removed yet) is a warning, and
# the next checkpoint invalidates it: lost, an error. max_slot_wal_keep_size is still 1MB, less
# than a segment, so a slot keeps only the current segment: one WAL switch leaves it behind. Only
# a checkpoint removes WAL or invalidates a slot, and the cluster's checkpoint_timeout is long, so
# the slot stays unreserved until the CHECKPOINT below.
sub wal_status_of
{
    return $node->safe_psql('postgres',
        "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '$_[0]'");
}
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');  # the slot starts at a segment's start
$node->safe_psql('postgres',
    "SELECT pg_create_logical_replication_slot('behind_slot', 'test_decoding')");
is(wal_status_of('behind_slot'), 'reserved', 'a new slot is reserved');
status_is($node, 'wal_status', 'ok', 'reserved slot');
$node->safe_psql('postgres', "INSERT INTO filler VALUES (0, 'z'); SELECT pg_switch_wal()");
is(wal_status_of('behind_slot'), 'unreserved', 'after a WAL switch the slot is unreserved');
$detail = status_is($node, 'wal_status', 'warning', 'unreserved slot');
like($detail, qr/slot "behind_slot" has wal_status unreserved/, 'wal_status: detail names the unreserved slot');
$node->safe_psql('postgres', 'CHECKPOINT');
is(wal_status_of('behind_slot'), 'lost', 'the checkpoint invalidates the unreserved slot');
$detail = status_is($node, 'wal_status', 'error', 'lost slot');
like($detail, qr/slot "behind_slot" has wal_status lost/, 'wal_status: detail names the lost slot');
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('behind_slot')");
$node->safe_psql('postgres', "ALTER SYSTEM RESET max_slot_wal_keep_size; SELECT pg_reload_conf()");
status_is($node, 'wal_status', 'ok', 'slot dropped');

# Sender headroom: 2 walsenders at most; one streaming consumer leaves one (warning), two none.
$node->safe_psql('postgres',
    "SELECT pg_create_logical_replication_slot('stream_$_', 'test_decoding')") for 1 .. 2;
my @receivers;
for my $i (1 .. 2)
{
    my ($out, $err) = ('', '');
    push @receivers, IPC::Run::start(
        [ 'pg_recvlogical', '-d', $node->connstr('postgres'), '-S', "stream_$i", '--start',
          '-f', '/dev/null', '--no-loop', '-s', '1' ], '>', \$out, '2>', \$err);
    $node->poll_query_until('postgres', "SELECT count(*) = $i FROM pg_stat_replication")
      or fail("consumer $i did not connect: $err");
    status_is($node, 'wal_senders', $i == 1 ? 'warning' : 'error', "$i of 2 walsenders in use");
}
$_->kill_kill for @receivers;
$node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_stat_replication');
status_is($node, 'wal_senders', 'ok', 'consumers gone');
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('stream_$_')") for 1 .. 2;

# Replica identity and shape definitions.
$node->safe_psql('postgres', q{
CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id int, author text, body text);
SELECT electric_shapes.create_shape('conv_full', 'messages', 'conversation_id = 7', replica => 'full');
SELECT electric_shapes.create_shape('authors', 'messages', columns => ARRAY['id', 'author']);
});
status_is($node, 'replica_identity', 'ok', 'table is REPLICA IDENTITY FULL');
$node->safe_psql('postgres', 'ALTER TABLE messages REPLICA IDENTITY DEFAULT');
$detail = status_is($node, 'replica_identity', 'error', 'identity no longer full');
like($detail, qr/shape "conv_full" needs REPLICA IDENTITY FULL on public\.messages/, 'replica_identity: detail');
$node->safe_psql('postgres', 'ALTER TABLE messages REPLICA IDENTITY FULL');
status_is($node, 'replica_identity', 'ok', 'identity restored');
status_is($node, 'shape_definitions', 'ok', 'columns exist');
$node->safe_psql('postgres', 'ALTER TABLE messages RENAME COLUMN author TO writer');
status_is($node, 'shape_definitions', 'ok', 'a renamed projected column keeps the shape');
$node->safe_psql('postgres', 'ALTER TABLE messages DROP COLUMN writer');
$detail = status_is($node, 'shape_definitions', 'error', 'projected column dropped');
like($detail, qr/shape "authors" on public\.messages: a column of its projection was dropped/,
    'shape_definitions: detail');
$node->safe_psql('postgres', q{SELECT electric_shapes.drop_shape('authors')});
status_is($node, 'shape_definitions', 'ok', 'broken shape dropped');

status_is($node, 'consumer_lag', 'ok', 'no electric_shapes consumer');
status_is($node, 'preload', 'ok', 'preloaded');
status_is($node, 'statistics_capacity', 'ok', 'nothing overflowed');
$node->stop;

# --- A server missing everything: wal_level replica, default output_plugin_libraries, no preload.
my $bare = PostgreSQL::Test::Cluster->new('bare');
$bare->init;
$bare->append_conf('postgresql.conf', "wal_level = replica\n");
$bare->start;
$bare->safe_psql('postgres', 'CREATE EXTENSION electric_shapes');
$detail = status_is($bare, 'wal_level', 'error', 'wal_level replica');
like($detail, qr/wal_level is replica/, 'wal_level: detail');
# PostgreSQL 15.19 and later have output_plugin_libraries, which SPEC section 1 requires.
is($bare->safe_psql('postgres', "SELECT current_setting('output_plugin_libraries', true) IS NOT NULL"),
    't', 'this PostgreSQL has output_plugin_libraries');
$detail = status_is($bare, 'output_plugin_libraries', 'error', 'electric_shapes not listed');
like($detail, qr/output_plugin_libraries is 'pgoutput, test_decoding'/, 'output_plugin_libraries: detail');
# A list setting: one quoted string is one (wrong) library name.
is($bare->safe_psql('postgres', q{
SET output_plugin_libraries = 'pgoutput, test_decoding, electric_shapes';
SELECT status FROM electric_shapes.health WHERE check_name = 'output_plugin_libraries'}),
    'error', 'output_plugin_libraries: a single quoted string is not a list');
is($bare->safe_psql('postgres', q{
SET output_plugin_libraries = pgoutput, '$libdir/electric_shapes';
SELECT status FROM electric_shapes.health WHERE check_name = 'output_plugin_libraries'}),
    'ok', 'output_plugin_libraries: a path to the library counts');
$detail = status_is($bare, 'preload', 'warning', 'not preloaded');
like($detail, qr/not in shared_preload_libraries/, 'preload: detail says what is missing');
status_is($bare, 'statistics_capacity', 'ok', 'statistics off is not an overflow');
is($bare->safe_psql('postgres', 'SELECT count(*) FROM electric_shapes.slot_stats'), '0',
    'slot_stats answers without the preload');
is($bare->safe_psql('postgres', 'SELECT count(*) FROM electric_shapes.shape_stats'), '0',
    'shape_stats answers without the preload');
is($bare->safe_psql('postgres', 'SELECT enabled FROM electric_shapes.stats_capacity()'), 'f',
    'stats_capacity says statistics are off');
like($bare->safe_psql('postgres', 'SELECT electric_shapes.metrics()'),
    qr/^electric_shapes_statistics_enabled 0$/m, 'metrics() answers without the preload');
my ($ret, $stdout, $stderr) = $bare->psql('postgres', 'SELECT electric_shapes.reset_stats()');
is($ret, 0, 'reset_stats works without the preload');
like($stderr, qr/statistics are off/, 'reset_stats says there is nothing to reset');

# Listed but not yet loaded: the restart is pending.
$bare->safe_psql('postgres', "ALTER SYSTEM SET shared_preload_libraries = 'electric_shapes'");
$bare->reload;
ok($bare->poll_query_until('postgres',
        "SELECT detail ~ 'not been restarted' FROM electric_shapes.health WHERE check_name = 'preload'",
        't'),
    'preload: a pending restart is reported');

# Fixed and restarted: back to ok.
$bare->safe_psql('postgres', q{
ALTER SYSTEM SET wal_level = logical;
ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, electric_shapes;
});
$bare->restart;
status_is($bare, $_, 'ok', 'fixed after restart') for qw(wal_level output_plugin_libraries preload);
$bare->stop;

done_testing();
