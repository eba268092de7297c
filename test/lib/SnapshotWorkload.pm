# The workload of the snapshot + stream tests: a table of items that concurrent pgbench writers
# insert, update (moving rows in and out of shapes), delete and re-key, a marker table to know
# when the stream has caught up, and the comparison of a rebuilt shape with the table itself.
package SnapshotWorkload;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

our @EXPORT = qw(setup_items start_writers finish_writers snapshot_lines expected_rows
  sync_stream compare_shape %SHAPES);

# The shapes the tests build: filter, columns, replica, and the query that must give the same rows.
our %SHAPES = (
    grp_1 => {
        where => 'grp = 1',
        columns => undef,
        replica => 'default',
        check => 'SELECT id, grp, val, note FROM items WHERE grp = 1',
    },
    grp_2_val => {
        where => 'grp = 2',
        columns => ['val'],
        replica => 'default',
        check => 'SELECT id, val FROM items WHERE grp = 2',
    },
    high_val => {
        where => 'val > 700',
        columns => [ 'grp', 'val' ],
        replica => 'full',
        check => 'SELECT id, grp, val FROM items WHERE val > 700',
    },
    notes => {
        where => undef,
        columns => ['note'],
        replica => 'default',
        check => 'SELECT id, note FROM items',
    },
);

# Creates the tables, seeds 300 items and the marker shape.
sub setup_items
{
    my ($node, %opts) = @_;
    $node->safe_psql('postgres', q{
        CREATE SEQUENCE item_ids START 100000;
        CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val int NOT NULL, note text);
        INSERT INTO items SELECT g, g % 5, (g * 37) % 1000, 'seed ' || g FROM generate_series(1, 300) g;
        CREATE TABLE marker (id int PRIMARY KEY);
        SELECT electric_shapes.create_shape('marker', 'marker');
    });
    $node->safe_psql('postgres', 'ALTER TABLE items REPLICA IDENTITY FULL') if $opts{full_identity};
    return;
}

# The SQL that creates one of %SHAPES.
sub create_shape_sql
{
    my ($name) = @_;
    my $s = $SHAPES{$name};
    my $where = defined $s->{where} ? "\$\$$s->{where}\$\$" : 'NULL';
    my $columns = $s->{columns} ? "ARRAY[" . join(',', map { "'$_'" } @{ $s->{columns} }) . "]" : 'NULL';
    return "SELECT electric_shapes.create_shape('$name', 'items', $where, $columns, '$s->{replica}')";
}
push @EXPORT, 'create_shape_sql';

# Starts pgbench writers for $seconds: each transaction upserts one item, moves another between
# groups, changes a third's value, and sometimes deletes a fourth and gives a fifth a new key.
# Rows are touched in ascending key order, so writers never deadlock.
my $writers_started = 0;

sub start_writers
{
    my ($node, $seconds, %opts) = @_;
    my $script = $node->basedir . '/writers.sql';
    open my $fh, '>', $script or die "cannot write $script: $!";
    print $fh <<'EOF';
\set a random(1, 290)
\set g random(0, 4)
\set v random(1, 1000)
\set r random(1, 100)
BEGIN;
INSERT INTO items VALUES (:a, :g, :v, 'ins ' || :v) ON CONFLICT (id) DO UPDATE SET grp = excluded.grp, val = excluded.val, note = excluded.note;
UPDATE items SET grp = :g WHERE id = :a + 1;
UPDATE items SET val = :v, note = CASE WHEN :r <= 50 THEN note ELSE 'upd ' || :v END WHERE id = :a + 2;
DELETE FROM items WHERE id = :a + 3 AND :r <= 40;
UPDATE items SET id = nextval('item_ids') WHERE id = :a + 4 AND :r <= 20;
COMMIT;
EOF
    close $fh;
    my $clients = $opts{clients} // 2;
    my $rate = $opts{rate} // 150;
    my @cmd = ('pgbench', '-n', '-c', $clients, '-j', $clients, '-T', $seconds, '-R', $rate,
        '--max-tries=10', '-f', $script, '-d', $node->connstr('postgres'));
    # Output goes to a file: a pipe nobody reads while the test waits would stall pgbench.
    my $log = $node->basedir . '/writers.' . ++$writers_started . '.log';
    my $handle = IPC::Run::start(\@cmd, '>', $log, '2>&1');
    return { handle => $handle, log => $log };
}

# Waits for the writers; returns pgbench's output and whether it ran without failures.
sub finish_writers
{
    my ($writers) = @_;
    eval { $writers->{handle}->finish; };
    my $output = PostgreSQL::Test::Utils::slurp_file($writers->{log});
    my $clean = $output =~ /number of failed transactions: 0 / && $output !~ /aborted/;
    return ($output, $clean);
}

# The lines of shape_snapshot($shape), optionally inside a REPEATABLE READ transaction.
sub snapshot_lines
{
    my ($node, $shape, %opts) = @_;
    my $sql = "SELECT electric_shapes.shape_snapshot('$shape')";
    $sql = "BEGIN ISOLATION LEVEL REPEATABLE READ; $sql; COMMIT;" if $opts{repeatable_read};
    my $out = $node->safe_psql('postgres', $sql);
    return split /\n/, $out;
}

# The rows a query gives, keyed as the stream keys items, every value as text (or undef).
sub expected_rows
{
    my ($node, $query) = @_;
    my $out = $node->safe_psql('postgres', qq{
        SELECT format('"public"."items"/"%s"', t.id) || chr(9) ||
               (SELECT jsonb_object_agg(key, value) FROM jsonb_each_text(to_jsonb(t)))::text
          FROM ($query) t});
    my %rows;
    for my $line (split /\n/, $out) {
        my ($key, $row) = split /\t/, $line, 2;
        $rows{$key} = JSON::PP->new->utf8->decode($row);
    }
    return \%rows;
}

# Writes a marker and applies the stream file until the marker has come through, so that every
# transaction committed before it has been applied.
my $marker_id = 0;

sub sync_stream
{
    my ($node, $consumer, $file) = @_;
    $marker_id++;
    $node->safe_psql('postgres', "INSERT INTO marker VALUES ($marker_id)");
    my $needle = qq{"key":"\\"public\\".\\"marker\\"/\\"$marker_id\\""};
    my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
    while (time < $deadline) {
        my $found = 0;
        if (-e $file) {
            open my $fh, '<', $file or die;
            local $/;
            my $text = <$fh>;
            close $fh;
            $found = index($text, $needle) >= 0;
        }
        $consumer->apply_file($file);
        return 1 if $found;
        usleep(100_000);
    }
    return 0;
}

# Compares a rebuilt shape with its query, row for row.
sub compare_shape
{
    my ($node, $consumer, $shape) = @_;
    my $expected = expected_rows($node, $SHAPES{$shape}{check});
    is_deeply($consumer->rows($shape), $expected,
        "$shape rebuilt from snapshot and stream equals its query (" . scalar(keys %$expected) . " rows)");
    return;
}

1;
