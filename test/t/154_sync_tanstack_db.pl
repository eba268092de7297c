# electric-shapes-sync with TanStack DB's electric collection (createCollection with
# electricCollectionOptions, the pinned packages of test/install-deps): awaitTxId of a transaction
# written through SQL, with its id from pg_current_xact_id()::xid as an application returns it,
# resolves once the change is in the collection, for a transaction before the collection's
# snapshot (through snapshot-end) and after it (through the messages' txids); a transaction that
# does not touch the shape does not resolve it; the collection equals the shape's query.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client', '@tanstack/db', '@tanstack/electric-db-collection');
my $node = new_shapes_cluster('tanstack', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE todos (id int PRIMARY KEY, list int NOT NULL, title text, done boolean NOT NULL DEFAULT false);
    INSERT INTO todos SELECT i, i % 2, 'todo ' || i, false FROM generate_series(1, 50) i;
    CREATE TABLE other (id int PRIMARY KEY);
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage');
ok(wait_healthy($service), 'the service streams');

# A transaction as an application's API writes it: its id from pg_current_xact_id()::xid.
sub write_tx
{
    my ($sql) = @_;
    my $txid = $node->safe_psql('postgres', "BEGIN; $sql; SELECT pg_current_xact_id()::xid; COMMIT;");
    return (split /\n/, $txid)[-1];
}
my $before = write_tx("UPDATE todos SET done = true WHERE id = 1");
like($before, qr/^\d+$/, 'a transaction id before the collection exists');

my $dir = $node->basedir . '/collection';
my $client = start_shape_client($service, $dir,
    encode_json({ name => 'todos', columns => [qw(id list title done)],
                  params => { table => 'todos', where => 'list = 1' } }),
    'sync_tanstack_client.cjs');
my $query = "SELECT id || '|' || list || '|' || title || '|' || done FROM todos WHERE list = 1 ORDER BY id";

# Asks the collection to await txid; returns "resolved" or "rejected <error>".
sub await_txid
{
    my ($txid) = @_;
    open my $fh, '>>', "$dir/txids" or die;
    print $fh "$txid\n";
    close $fh;
    for (1 .. 300) {
        my ($line) = grep { /^\Q$txid\E / } split /\n/, client_file($client, 'awaited');
        return $line =~ s/^\S+ //r if $line;
        usleep(100_000);
    }
    return 'no answer';
}

is(await_txid($before), 'resolved', 'awaitTxId of a transaction in the snapshot resolves');
my $insert = write_tx("INSERT INTO todos VALUES (1001, 1, 'new', false)");
is(await_txid($insert), 'resolved', 'awaitTxId of an insert resolves');
like(client_file($client, 'todos.rows'), qr/^1001\|1\|new\|false$/m, 'and the row is in the collection then');
my $update = write_tx("UPDATE todos SET title = 'renamed', done = true WHERE id = 3; DELETE FROM todos WHERE id = 5");
is(await_txid($update), 'resolved', 'awaitTxId of an update and a delete resolves');
my $rows = client_file($client, 'todos.rows');
like($rows, qr/^3\|1\|renamed\|true$/m, 'the update is in the collection then');
unlike($rows, qr/^5\|/m, 'and the delete');
my $move = write_tx("UPDATE todos SET list = 1 WHERE id = 2; UPDATE todos SET list = 0 WHERE id = 7");
is(await_txid($move), 'resolved', 'awaitTxId of moves in and out of the shape resolves');
my $unrelated = write_tx("INSERT INTO other VALUES (1)");
is(await_txid($unrelated), 'rejected TimeoutWaitingForTxIdError', 'a transaction of another table times out');

my $sentinel = write_tx("INSERT INTO todos VALUES (999999, 1, 'sentinel', false)");
is(await_txid($sentinel), 'resolved', 'the sentinel resolves');
ok(wait_for_rows($node, $client, 'todos', $query, '999999|1|sentinel|false', $service),
    'the collection equals the query');
ok($client->{handle}->pumpable, 'the collection reported no error') or diag(slurp_file($client->{err}));
done_testing();
