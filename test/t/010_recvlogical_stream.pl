# A consumer streams with the real pg_recvlogical while a chat application writes: it receives
# exactly the shaped changes, as one JSON document per line, in commit order, with begin and
# commit around each transaction that has anything for its shapes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('stream');
$node->safe_psql('postgres', q{
    CREATE TABLE conversations (id int PRIMARY KEY, title text);
    CREATE TABLE messages (id bigserial PRIMARY KEY, conversation_id int NOT NULL
                           REFERENCES conversations, author text, body text);
    INSERT INTO conversations SELECT g, 'conversation ' || g FROM generate_series(1, 5) g;
    SELECT electric_shapes.create_shape('conv_1', 'messages', 'conversation_id = 1');
    SELECT electric_shapes.create_shape('conv_2_bodies', 'messages', 'conversation_id = 2',
                                        columns => ARRAY['body']);
    SELECT electric_shapes.create_shape('conversations', 'conversations');
});

my $file = $node->basedir . '/stream.jsonl';
$node->command_ok(
    [ 'pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', 'sync', '--create-slot',
      '-P', 'electric_shapes' ],
    'pg_recvlogical creates an electric_shapes slot');
my $created_at = $node->safe_psql('postgres',
    q{SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'sync'});
my $consumer = start_recvlogical($node, 'sync', $file, 'include-transaction=on',
    'shapes=conv_1,conv_2_bodies');

# The writer: 50 transactions of 4 messages spread over 5 conversations, while streaming.
for my $t (1 .. 50) {
    $node->safe_psql('postgres', qq{
        INSERT INTO messages (conversation_id, author, body)
        SELECT (g % 5) + 1, 'user$t', 'message ' || $t || '.' || g FROM generate_series(0, 3) g;
    });
}
# Transactions with nothing for the selected shapes send nothing.
$node->safe_psql('postgres', q{UPDATE conversations SET title = 'renamed' WHERE id = 1});
$node->safe_psql('postgres', q{INSERT INTO messages (conversation_id, body) VALUES (5, 'x')});
# One last transaction that moves a message from conversation 1 into 2.
$node->safe_psql('postgres', q{UPDATE messages SET conversation_id = 2 WHERE id = 1});

# Each of the 50 transactions writes to conversations 1..4: one message for conv_1 and one for
# conv_2_bodies, plus begin and commit; the move adds a delete and an insert in a fourth frame.
my $expected = 50 * 4 + 4;
my @messages = wait_for_messages($file, $expected);

# The slot's confirmed position advances with the consumer: from before the first transaction it
# received to past the commit of the last one (a message's lsn is where its commit record starts;
# pg_recvlogical confirms the end of each commit message it wrote, in its next status update,
# hence the wait, before it is stopped).
my ($first_lsn, $last_lsn) = ($messages[0]{headers}{lsn}, $messages[-1]{headers}{lsn});
is($node->safe_psql('postgres', "SELECT '$created_at'::pg_lsn < '0/0'::pg_lsn + $first_lsn"), 't',
    'the slot was created before the first transaction the consumer received');
ok($node->poll_query_until('postgres',
        "SELECT confirmed_flush_lsn > '0/0'::pg_lsn + $last_lsn FROM pg_replication_slots WHERE slot_name = 'sync'"),
    'pg_recvlogical confirmed past the commit of the last transaction it received')
  or diag($node->safe_psql('postgres',
        "SELECT confirmed_flush_lsn, '0/0'::pg_lsn + $last_lsn FROM pg_replication_slots WHERE slot_name = 'sync'"));
stop_recvlogical($consumer);
@messages = read_messages($file);
is(scalar @messages, $expected, 'the consumer received exactly the shaped messages');

my (@data, %operations, %shape_of, $order_ok, $framing_ok);
my ($previous_lsn, $previous_position) = (-1, -1);
my $open_transaction;
$order_ok = $framing_ok = 1;
for my $m (@messages) {
    my $h = $m->{headers};
    if (($h->{control} // '') eq 'begin') {
        $framing_ok = 0 if $open_transaction;
        $open_transaction = $h->{lsn};
        next;
    }
    if (($h->{control} // '') eq 'commit') {
        $framing_ok = 0 unless defined $open_transaction && $open_transaction eq $h->{lsn};
        $framing_ok = 0 unless $h->{commit_time} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
        undef $open_transaction;
        next;
    }
    $framing_ok = 0 unless defined $open_transaction && $open_transaction eq $h->{lsn};
    if ($h->{lsn} < $previous_lsn
        || ($h->{lsn} == $previous_lsn && $h->{op_position} <= $previous_position)) {
        $order_ok = 0;
    }
    ($previous_lsn, $previous_position) = ($h->{lsn}, $h->{op_position});
    push @data, $m;
    $operations{ $h->{operation} }++;
    $shape_of{ join(',', @{ $h->{shapes} }) }++;
}
ok($framing_ok, 'every change sits between the begin and commit of its transaction');
ok($order_ok, '(lsn, op_position) strictly increases through the stream');
is_deeply(\%operations, { insert => 101, delete => 1 }, 'inserts, and the move as delete + insert');
is_deeply(\%shape_of, { conv_1 => 51, conv_2_bodies => 51 }, 'each message names its one shape');

my ($first) = grep { $_->{headers}{shapes}[0] eq 'conv_1' } @data;
is_deeply([ sort keys %{ $first->{value} } ], [qw(author body conversation_id id)],
    'conv_1 sends every column');
is($first->{key}, '"public"."messages"/"1"', 'the key names schema, table and primary key');
is_deeply($first->{headers}{relation}, [ 'public', 'messages' ], 'relation is schema and name');
like($first->{headers}{txids}[0], qr/^\d+$/, 'txids holds the transaction id');
my ($body_only) = grep { $_->{headers}{shapes}[0] eq 'conv_2_bodies' } @data;
is_deeply([ sort keys %{ $body_only->{value} } ], [qw(body id)],
    'conv_2_bodies sends its projection plus the key');
my @moved = grep { $_->{key} eq '"public"."messages"/"1"' } @data[-2 .. -1];
is_deeply([ map { $_->{headers}{operation} . ':' . $_->{headers}{shapes}[0] } @data[-2 .. -1] ],
    [ 'delete:conv_1', 'insert:conv_2_bodies' ], 'a move between conversations is a move-out and a move-in');

done_testing();
