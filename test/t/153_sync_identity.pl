# Shape identity in electric-shapes-sync: requests with the same definition share one shape
# and handle, whatever spelling of the table they use (items, public.items, "items"), also across
# two official clients; DELETE /v1/shape drops the service's shape (never a shape the service
# does not own), and its clients get 409, refetch one shared new shape and equal the query.
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $node = new_shapes_cluster('identity', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 100) i;
    SELECT electric_shapes.create_shape('not_the_services', 'items');
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage');
ok(wait_healthy($service), 'the service streams');
my $http = HTTP::Tiny->new(timeout => 30);
my $shape_url = "$service->{base}/v1/shape";

my %handle;
for my $table ('items', 'public.items', '%22items%22', 'public.%22items%22') {
    my $res = $http->get("$shape_url?table=$table&offset=-1&where=grp+%3D+1");
    is($res->{status}, 200, "table=$table: 200") or diag($res->{content});
    $handle{$table} = $res->{headers}{'electric-handle'};
}
is(scalar(keys %{ { reverse %handle } }), 1, 'every spelling of the table gets the same handle');
my $res = $http->get("$shape_url?table=other.items&offset=-1");
is_deeply([ $res->{status}, eval { decode_json($res->{content})->{errors} } ],
    [ 400, { table => ['relation "other.items" does not exist'] } ], 'a table in no schema: 400');

# Two clients, two spellings, one shape.
my $spec = encode_json([
    { name => 'a', columns => [qw(id grp val)], params => { table => 'items', where => 'grp = 1' } },
    { name => 'b', columns => [qw(id grp val)], params => { table => 'public.items', where => 'grp = 1' } },
]);
my $client = start_shape_client($service, $node->basedir . '/client', $spec);
my $query = "SELECT id || '|' || grp || '|' || val FROM items WHERE grp = 1 ORDER BY id";
sub handle_of { my ($name) = @_; my $h = client_file($client, "$name.handle"); chomp $h; return $h; }
my $sentinel = 900000;
sub converge
{
    my ($what) = @_;
    $sentinel++;
    $node->safe_psql('postgres', "INSERT INTO items VALUES ($sentinel, 1, 's')");
    for my $name (qw(a b)) {
        ok(wait_for_rows($node, $client, $name, $query, "$sentinel|1|s", $service), "client $name equals the query $what");
    }
}
converge('at first');
is(handle_of('a'), $handle{items}, 'the first client has the shared handle');
is(handle_of('b'), $handle{items}, 'the second client too');
is($node->safe_psql('postgres', "SELECT count(*) FROM electric_shapes.shapes WHERE name LIKE 'ess\\_default\\_%'"),
    1, 'one electric_shapes shape for them all');

# DELETE: a wrong handle or an unknown shape is 404, a bad table 400; the right one is 202.
$res = $http->request('DELETE', "$shape_url?table=items&where=grp+%3D+1&handle=1-1");
is($res->{status}, 404, 'DELETE with another handle: 404');
$res = $http->request('DELETE', "$shape_url?table=items&where=grp+%3D+2");
is($res->{status}, 404, 'DELETE of a definition the service has no shape for: 404');
$res = $http->request('DELETE', "$shape_url?table=nope");
is($res->{status}, 400, 'DELETE of an unknown table: 400');
$res = $http->request('DELETE', "$shape_url?table=public.items&where=grp+%3D+1&handle=$handle{items}");
is($res->{status}, 202, 'DELETE of the shape: 202') or diag($res->{content});
my $names;
for (1 .. 50) {
    $names = $node->safe_psql('postgres', "SELECT string_agg(name, ',' ORDER BY name) FROM electric_shapes.shapes");
    last if $names !~ /\Q$handle{items}\E/;
    usleep(100_000);
}
unlike($names, qr/\Q$handle{items}\E/, "the service's shape is dropped");
like($names, qr/(?:^|,)not_the_services(?:,|\z)/, 'the shape it does not own is not');
$res = $http->get("$shape_url?table=items&offset=0_inf&handle=$handle{items}&where=grp+%3D+1");
is($res->{status}, 409, 'the deleted handle: 409');
isnt($res->{headers}{'electric-handle'}, $handle{items}, 'naming a new shape');
converge('after DELETE');
isnt(handle_of('a'), $handle{items}, 'the clients refetched');
is(handle_of('b'), handle_of('a'), 'one shape again');
ok($client->{handle}->pumpable, 'the client reported no error') or diag(slurp_file($client->{err}));

# Only DELETE is added: other methods stay refused.
$res = $http->request('PUT', "$shape_url?table=items");
is($res->{status}, 405, 'PUT: 405');
done_testing();
