# A walsender's relation cache holds full entries (a memory context of a few kB each) only for
# relations with shapes: writes to 150 partitions of an unshaped table leave no entry behind
# (each once stayed for the life of the stream), while the one shaped table has its entry.
# The walsender's memory contexts are read with pg_log_backend_memory_contexts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('relcache_memory');
$node->safe_psql('postgres', q{
    CREATE TABLE p (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
});
$node->safe_psql('postgres', join('', map { "CREATE TABLE p$_ PARTITION OF p FOR VALUES FROM ("
                                            . $_ * 10 . ') TO (' . ($_ * 10 + 10) . ');' } 0 .. 149));
$node->safe_psql('postgres', q{
    CREATE TABLE shaped (id int PRIMARY KEY);
    SELECT electric_shapes.create_shape('only', 'shaped');
    SELECT 'init' FROM pg_create_logical_replication_slot('s', 'electric_shapes');
});

my $file = $node->basedir . '/stream.jsonl';
my $consumer = start_recvlogical($node, 's', $file);
$node->safe_psql('postgres', q{INSERT INTO p SELECT i, 'x' FROM generate_series(0, 1499) i});
$node->safe_psql('postgres', q{INSERT INTO shaped VALUES (1)});
my @messages = wait_for_messages($file, 1);
is(scalar @messages, 1, 'the shaped insert is streamed, the partitions\' rows are not');

my $pid = $node->safe_psql('postgres', q{SELECT active_pid FROM pg_replication_slots WHERE slot_name = 's'});
my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
$node->wait_for_log(qr/Grand total:/, $offset);
my $log = slurp_file($node->logfile, $offset);
ok($log =~ /electric_shapes: \d+ total/, 'the plugin\'s memory context is listed');
my @entries = $log =~ /electric_shapes relation: \d+ total/g;
is(scalar @entries, 1, 'one relation cache entry: the shaped table\'s');

stop_recvlogical($consumer);
done_testing();
