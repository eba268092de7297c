# A long stream does not grow the walsender's memory: 1,000,000 changes (10 transactions of
# 100,000 rows) stream through the real pg_recvlogical while the walsender's private memory is
# sampled from /proc/<pid>/status.
#
# What is measured: RssAnon, the walsender's private resident memory (heap, memory contexts, the
# reorder buffer and our C++ state). VmRSS would also count the pages of shared buffers the
# process touches, which grows as decoding reads more of the WAL and catalog, leak or not.
#
# The bound: the largest sample while the last three transactions stream may exceed the largest
# sample while transactions 2 to 4 stream (the first one warms the caches up) by less than 20 MB.
# A leak of 40 bytes per change, or of one message buffer per transaction, would exceed it over
# the 600,000 changes in between; what legitimately varies (malloc keeping freed reorder buffer
# blocks, relation and shape caches) is far below it, since every transaction has the same shape.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use ElectricShapesTest;

my $transactions = 10;
my $rows_per_transaction = 100_000;
my $bound_kb = 20 * 1024;

if (!-r "/proc/self/status") {
    plan skip_all => 'no /proc to read memory from';
}

my $node = new_shapes_cluster('memory');
$node->safe_psql('postgres', q{
    CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, body text);
    SELECT electric_shapes.create_shape('all_events', 'events');
    SELECT electric_shapes.create_shape('kind_a', 'events', 'kind = ''a''');
    SELECT electric_shapes.create_shape('long_bodies', 'events', 'length(body) > 5', columns => ARRAY['id', 'body']);
});
$node->safe_psql('postgres',
    q{SELECT 'init' FROM pg_create_logical_replication_slot('memory', 'electric_shapes')});

# Messages go to /dev/null: the file system is not what is measured.
my @cmd = ('pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', 'memory', '--start',
    '-f', '-', '-F', '1', '-s', '1', '--no-loop', '-o', 'include-transaction=on');
my $err = '';
my $recv = IPC::Run::start(\@cmd, '>', '/dev/null', '2>', \$err);

my $pid;
for (1 .. 100) {
    $pid = $node->safe_psql('postgres',
        q{SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'memory'});
    last if $pid;
    usleep(100_000);
}
ok($pid, 'pg_recvlogical is connected to a walsender') or BAIL_OUT('no walsender');

sub rss_anon_kb
{
    open my $fh, '<', "/proc/$pid/status" or return undef;
    while (<$fh>) {
        return $1 if /^RssAnon:\s+(\d+)\s+kB/;
    }
    return undef;
}

my @samples;    # [transaction, kB]
my $started = time;
my $last_commit;    # a WAL position inside the last transaction, before its commit record
my @unconfirmed;    # transactions the consumer had not confirmed within the deadline
for my $t (1 .. $transactions) {
    my $first = ($t - 1) * $rows_per_transaction + 1;
    my $last = $t * $rows_per_transaction;
    # The target is read inside the transaction, after its rows and before its commit record:
    # pg_recvlogical confirms the positions of the messages it wrote, and only this transaction's
    # commit message lies past it. (A position read after the commit can lie past WAL that a
    # checkpoint or the background writer wrote meanwhile, which nothing confirms.)
    my $target = $last_commit = $node->safe_psql('postgres', qq{
        BEGIN;
        INSERT INTO events
        SELECT g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, 'body of event ' || g
        FROM generate_series($first, $last) g;
        SELECT pg_current_wal_insert_lsn();
        COMMIT;
    });
    # Sample while this transaction streams, until the consumer has confirmed all of it.
    my $deadline = time + 120;
    my $done = 'f';
    while (time < $deadline) {
        my $kb = rss_anon_kb();
        push @samples, [ $t, $kb ] if defined $kb;
        $done = $node->safe_psql('postgres',
            qq{SELECT confirmed_flush_lsn > '$target' FROM pg_replication_slots WHERE slot_name = 'memory'});
        last if $done eq 't';
        usleep(200_000);
    }
    push @unconfirmed, $t unless $done eq 't';
    my $kb = rss_anon_kb();
    push @samples, [ $t, $kb ] if defined $kb;
}
my $elapsed = time - $started;

# Measured against the last transaction's own position: WAL written after it (a checkpoint, the
# background writer's running-transactions record) has no message for the consumer to confirm,
# so the current WAL position is no target.
is_deeply(\@unconfirmed, [], 'the consumer confirmed each transaction within the deadline');
my $streamed = $node->safe_psql('postgres',
    qq{SELECT confirmed_flush_lsn > '$last_commit' FROM pg_replication_slots WHERE slot_name = 'memory'});
is($streamed, 't', 'the consumer confirmed every transaction');
ok(kill(0, $pid), 'the walsender is still the same process');
# Every row reaches every shape (kind_a shares all_events' message), so the stream really did
# the work being measured.
is($node->safe_psql('postgres', q{
        SELECT string_agg(shape || '=' || inserts, ',' ORDER BY shape) FROM electric_shapes.shape_stats
         WHERE slot_name = 'memory'}),
    'all_events=1000000,kind_a=333333,long_bodies=1000000', 'every change was sent to its shapes');

my $max_of = sub {
    my ($from, $to) = @_;
    my @kb = map { $_->[1] } grep { $_->[0] >= $from && $_->[0] <= $to } @samples;
    my $max = 0;
    for (@kb) { $max = $_ if $_ > $max; }
    return ($max, scalar @kb);
};
my ($early, $early_count) = $max_of->(2, 4);
my ($late, $late_count) = $max_of->(8, 10);
note(sprintf('%d changes in %.1f s; RssAnon max %d kB in transactions 2-4 (%d samples), %d kB in 8-10 (%d samples)',
    $transactions * $rows_per_transaction, $elapsed, $early, $early_count, $late, $late_count));
ok($early_count > 0 && $late_count > 0, 'memory was sampled early and late in the stream');
cmp_ok($late - $early, '<', $bound_kb,
    'the walsender grows less than 20 MB between the first and the last third of the stream');

$recv->signal('INT');
eval { $recv->finish; };
done_testing();
