# Schema changes of shaped tables while a consumer streams with the real pg_recvlogical: the
# stream goes on through every change, each outcome arrives in commit order at the position of its
# DDL, and no message uses a column the table no longer has.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('ddl');
$node->safe_psql('postgres', q{
    CREATE TABLE notes (id int PRIMARY KEY, owner int, title text, body text);
    ALTER TABLE notes REPLICA IDENTITY FULL;
    SELECT electric_shapes.create_shape('every_note', 'notes');
    SELECT electric_shapes.create_shape('owner_1', 'notes', 'owner = 1', columns => ARRAY['title']);
    SELECT 'slot' FROM pg_create_logical_replication_slot('ddl', 'electric_shapes');
});
my $file = $node->basedir . '/ddl.jsonl';
my $consumer = start_recvlogical($node, 'ddl', $file);

my @steps = (
    q{INSERT INTO notes VALUES (1, 1, 'first', 'text')},
    q{ALTER TABLE notes ADD COLUMN tag text},
    q{INSERT INTO notes VALUES (2, 1, 'second', 'more', 'new')},
    q{ALTER TABLE notes RENAME COLUMN title TO headline},
    q{UPDATE notes SET headline = 'renamed' WHERE id = 1},
    q{ALTER TABLE notes DROP COLUMN owner},
    q{INSERT INTO notes VALUES (3, 'third', 'x', 'y')},
    q{ALTER TABLE notes RENAME TO memos},
    q{INSERT INTO memos VALUES (4, 'fourth', 'x', 'y')},
    q{DROP TABLE memos},
);
$node->safe_psql('postgres', $_) for @steps;

my @expected = (
    'insert every_note 1', 'insert owner_1 1',
    'must-refetch every_note schema-change',
    'insert every_note 2', 'insert owner_1 2',
    'must-refetch every_note schema-change', 'must-refetch owner_1 schema-change',
    'update every_note owner_1 1',    # the same bytes for both shapes: one message
    'must-refetch every_note schema-change', 'must-refetch owner_1 schema-change',
    'insert every_note 3',
    'must-refetch every_note schema-change',
    'insert every_note 4',
    'shape-dropped every_note', 'shape-dropped owner_1',
);
my @messages = wait_for_messages($file, scalar @expected);
stop_recvlogical($consumer);
@messages = read_messages($file);

# One line per message: what it is, for which shapes, and which row.
my @got = map {
    my $h = $_->{headers};
    my $what = $h->{operation} // $h->{control};
    my $line = join(' ', $what, @{ $h->{shapes} });
    $line .= " $h->{reason}" if $h->{reason};
    $line .= ' ' . ($_->{key} =~ m{/"(\d+)"$})[0] if $_->{key};
    $line;
} @messages;
is_deeply(\@got, \@expected, 'every schema change arrives as its documented outcome, in order');

my ($after_rename) = grep { ($_->{key} // '') =~ m{/"4"$} } @messages;
is_deeply($after_rename->{headers}{relation}, [ 'public', 'memos' ], 'a renamed table streams under its new name');
is_deeply([ sort keys %{ $after_rename->{value} } ], [qw(body headline id tag)],
    'after the drop, rows carry exactly the columns the table has');
my ($renamed) = grep {
    my $h = $_->{headers};
    ($h->{operation} // '') eq 'update' && grep { $_ eq 'owner_1' } @{ $h->{shapes} }
} @messages;
is_deeply($renamed->{value}, { id => '1', headline => 'renamed' }, 'a renamed column is sent under its new name');
is($node->safe_psql('postgres', 'SELECT count(*) FROM electric_shapes.shapes'), '0',
    'dropping the table dropped its shapes');

done_testing();
