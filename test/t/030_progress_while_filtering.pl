# A stream that filters everything out still reports progress (SPEC section 3): the walsender's
# lag tracking in pg_stat_replication fills in and the slot's confirmed position follows the
# server, although not a single message is sent.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;

my $node = new_shapes_cluster('progress');
$node->safe_psql('postgres', q{
    CREATE TABLE events (id serial PRIMARY KEY, kind text);
    SELECT electric_shapes.create_shape('never', 'events', 'id < 0');
    SELECT 'slot' FROM pg_create_logical_replication_slot('quiet', 'electric_shapes');
});

my $file = $node->basedir . '/quiet.jsonl';
my $consumer = start_recvlogical($node, 'quiet', $file);
$node->poll_query_until('postgres',
    q{SELECT count(*) = 1 FROM pg_stat_replication WHERE pid = (SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'quiet')})
  or die 'pg_recvlogical did not connect';

# Filtered transactions spread over a few seconds: the lag tracker samples at most once a second.
for my $i (1 .. 12) {
    $node->safe_psql('postgres', q{INSERT INTO events (kind) SELECT 'filtered' FROM generate_series(1, 200)});
    usleep(400_000);
}
my $last = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');

ok($node->poll_query_until('postgres',
        q{SELECT write_lag IS NOT NULL FROM pg_stat_replication WHERE pid = (SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'quiet')}),
    'pg_stat_replication shows lag figures for a stream that sends nothing');
ok($node->poll_query_until('postgres',
        qq{SELECT confirmed_flush_lsn >= '$last' FROM pg_replication_slots WHERE slot_name = 'quiet'}),
    'the slot confirms past the filtered transactions');
stop_recvlogical($consumer);
is(-s $file // 0, 0, 'nothing was sent');

done_testing();
