# log=changes_only on electric-shapes-sync, as Electric serves it: the log mode is part of the
# shape's identity (a changes_only shape of a table is not its full shape), the initial response
# has no rows (only snapshot-end), and a client starts at the log's current end, so it gets the
# changes made after it asked and nothing before. The official client with log: 'changes_only'
# follows the changes of a writer and holds exactly the rows the writer made after it started.
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $node = new_shapes_cluster('changes_only', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 500) i;
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage');
ok(wait_healthy($service), 'the service streams');
my $base = "http://127.0.0.1:$service->{port}/v1/shape?table=items";
my $http = HTTP::Tiny->new(timeout => 30);

my $full = $http->get("$base&offset=-1");
is(scalar(@{ decode_json($full->{content}) }), 501, 'the full shape: 500 rows and snapshot-end');
my $first = $http->get("$base&log=changes_only&offset=-1");
is($first->{status}, 200, 'changes_only initial request');
my $handle = $first->{headers}{'electric-handle'};
isnt($handle, $full->{headers}{'electric-handle'}, 'a shape of its own: the log mode is part of the identity');
my $body = decode_json($first->{content});
is_deeply([ map { $_->{headers}{control} } @$body ], ['snapshot-end'], 'no rows, only snapshot-end');
like($body->[0]{headers}{xmin}, qr/^\d+$/, 'with the snapshot the log starts after');
is($first->{headers}{'electric-offset'}, '0_inf', 'a new shape: its log starts at 0_inf');
ok($first->{headers}{'electric-schema'}, 'electric-schema');

$node->safe_psql('postgres', "INSERT INTO items VALUES (1001, 1, 'a'), (1002, 2, 'b'); UPDATE items SET val = 'u' WHERE id = 7");
my ($caught, @changes);
for (1 .. 50) {
    $caught = $http->get("$base&log=changes_only&offset=0_inf&handle=$handle");
    @changes = grep { $_->{key} } @{ decode_json($caught->{content}) };
    last if @changes >= 3;
    select(undef, undef, undef, 0.1);
}
is_deeply([ map { "$_->{headers}{operation} $_->{value}{id}" } @changes ], [ 'insert 1001', 'insert 1002', 'update 7' ],
    'the changes after the shape was made');
my $end = $caught->{headers}{'electric-offset'};

my $later = $http->get("$base&log=changes_only&offset=-1");
is($later->{headers}{'electric-handle'}, $handle, 'a later client shares the shape');
is_deeply([ map { $_->{headers}{control} } @{ decode_json($later->{content}) } ], ['snapshot-end'],
    'and gets no rows');
is($later->{headers}{'electric-offset'}, $end, 'it starts at the log\'s current end');
my $from_end = $http->get("$base&log=changes_only&offset=$end&handle=$handle");
is_deeply([ map { $_->{headers}{control} // 'change' } @{ decode_json($from_end->{content}) } ], ['up-to-date'],
    'from there: nothing of what came before');

# The official client: only what a writer makes after it started.
my $client = start_shape_client($service, $node->basedir . '/client', encode_json([
    { name => 'changes', columns => [qw(id grp val)], params => { table => 'items' },
      options => { log => 'changes_only' } },
]));
# The client has its starting point once it made its first live request.
my $deadline = time + 30;
sleep 1 until client_file($client, 'changes.requests') =~ /live=true/ || time > $deadline;
$node->safe_psql('postgres', q{DO $$
BEGIN
  FOR i IN 1..100 LOOP
    INSERT INTO items VALUES (100000 + i, i % 3, 'new' || i);
    UPDATE items SET val = 'upd' || i WHERE id = 100000 + i - 1;
    DELETE FROM items WHERE id = 100000 + i - 2 AND i % 5 = 0;
    COMMIT;
  END LOOP;
END $$;});
$node->safe_psql('postgres', "INSERT INTO items VALUES (900001, 1, 's')");
ok(wait_for_rows($node, $client, 'changes',
        "SELECT id || '|' || grp || '|' || val FROM items WHERE id > 100000 ORDER BY id", '900001|1|s', $service),
    'the changes_only client holds exactly the rows made after it started');
done_testing();
