# Subset snapshots (subset__where, subset__params, subset__order_by, subset__limit,
# subset__offset, by GET or POST) on a changes_only shape, as Electric serves them: 200 with
# {"metadata":{xmin,xmax,xip_list,snapshot_mark,database_lsn},"data":[...]}, electric-snapshot,
# no-cache; the subset's where checked like a shape's (hostile input is a 400 with a JSON
# message, and leaves no shape behind); a limited subset picked by PostgreSQL before its rows are
# rendered, by the table's values. TanStack DB's on-demand sync mode, with a live query that
# loads its rows as a subset, equals the query while a writer moves rows in and out of it (with
# replica full, as TanStack DB needs to take an update of a row it has not loaded as the row).
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

npm_modules('@tanstack/db', '@tanstack/electric-db-collection');
sub uri_escape { my ($s) = @_; $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge; return $s; }
my $node = new_shapes_cluster('subset', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    ALTER TABLE items REPLICA IDENTITY FULL;
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 300) i;
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage');
ok(wait_healthy($service), 'the service streams');
my $base = "http://127.0.0.1:$service->{port}/v1/shape?table=items&log=changes_only";
my $http = HTTP::Tiny->new(timeout => 30);

my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
    '-c', q{DO $$
BEGIN
  PERFORM setseed(0.4);
  FOR i IN 1..250 LOOP
    UPDATE items SET grp = (grp + 1) % 3, val = 'moved' || i WHERE id = (random() * 300)::int + 1;
    INSERT INTO items VALUES (1000 + i, i % 3, 'new' || i);
    UPDATE items SET val = 'upd' || i WHERE id = (random() * 300)::int + 1;
    DELETE FROM items WHERE id = (random() * 300)::int + 1;
    COMMIT;
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;} ], '>', \my $wout, '2>', \my $werr);
my $client = start_shape_client($service, $node->basedir . '/client',
    encode_json({ name => 'grp1', columns => [qw(id grp val)], params => { table => 'items', replica => 'full' }, grp => 1 }),
    'sync_tanstack_ondemand.cjs');
$writer->finish;
is($? >> 8, 0, 'the writer ran without errors') or diag($werr);
$node->safe_psql('postgres', "INSERT INTO items VALUES (900001, 1, 's')");
ok(wait_for_rows($node, $client, 'grp1', q{SELECT id || '|' || grp || '|' || val FROM items WHERE grp = 1 ORDER BY id},
        '900001|1|s', $service),
    'the on-demand live query equals its query after a writer ran');
my $requests = client_file($client, 'grp1.requests');
like($requests, qr/log=changes_only.*offset=now/, 'the collection synced changes only, from now');
like($requests, qr/subset__where=%22grp%22\+%3D\+%241/, 'the live query loaded its rows as a subset');

# Raw subset requests: the response as Electric gives it.
sub subset
{
    my ($query) = @_;
    my $res = $http->get("$base&offset=now&$query");
    return ($res, $res->{status} == 200 ? decode_json($res->{content}) : undef);
}
sub ids { return join ',', map { $_->{value}{id} } @{ $_[0]{data} }; }
my $where = 'subset__where=' . uri_escape('"grp" = $1') . '&subset__params=' . uri_escape('{"1":"2"}');
my ($res, $body) = subset("$where&subset__order_by=" . uri_escape('"id" DESC') . '&subset__limit=5');
is($res->{status}, 200, 'subset by GET');
is($res->{headers}{'electric-snapshot'}, 'true', 'electric-snapshot: true');
is($res->{headers}{'cache-control'}, 'no-cache', 'cache-control: no-cache');
ok($res->{headers}{'electric-schema'} && $res->{headers}{'electric-handle'} && $res->{headers}{'electric-offset'},
    'electric-schema, electric-handle and electric-offset');
my $m = $body->{metadata};
ok(($m->{xmin} // '') =~ /^\d+$/ && ($m->{xmax} // '') =~ /^\d+$/ && ref $m->{xip_list} eq 'ARRAY'
        && ($m->{database_lsn} // '') =~ /^\d+$/ && ($m->{snapshot_mark} // '') =~ /^\d+$/,
    'metadata: xmin, xmax, xip_list and database_lsn as decimal strings, snapshot_mark a number');
my $want = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM
    (SELECT id FROM items WHERE grp = 2 ORDER BY id DESC LIMIT 5) s});
is(ids($body), $want, 'the rows of the where, ordered and limited');
is_deeply([ map { $_->{headers}{operation} } @{ $body->{data} } ], [ ('insert') x 5 ], 'as insert messages');
is($body->{data}[0]{headers}{snapshot_mark}, $m->{snapshot_mark}, 'each with the snapshot mark');
($res, $body) = subset("$where&subset__order_by=" . uri_escape('"id" DESC') . '&subset__limit=3&subset__offset=2');
$want = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM
    (SELECT id FROM items WHERE grp = 2 ORDER BY id DESC LIMIT 3 OFFSET 2) s});
is(ids($body), $want, 'with an offset');
($res, $body) = subset('subset__order_by=' . uri_escape('val NULLS FIRST, id') . '&subset__limit=4');
$want = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY val NULLS FIRST, id) FROM
    (SELECT id, val FROM items ORDER BY val NULLS FIRST, id LIMIT 4) s});
is(ids($body), $want, 'without a where, ordered by a text column then the key');

my $post = $http->request('POST', "$base&offset=now", { headers => { 'content-type' => 'application/json' },
    content => encode_json({ where => '"grp" = $1', params => { 1 => '2' }, order_by => '"id" DESC', limit => 5 }) });
is($post->{status}, 200, 'subset by POST');
$want = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM
    (SELECT id FROM items WHERE grp = 2 ORDER BY id DESC LIMIT 5) s});
is(ids(decode_json($post->{content})), $want, 'the same rows');

# A limited subset is picked by the database before its rows are rendered: the newest 5 of a
# conversation of 5,000 messages, by a column the shape does not carry. PostgreSQL reads about
# those 5 rows of the table (an index serves the order), not the 5,000 that rendering every row
# of the where and ordering the rendered rows read; and the order is by the table's values (the
# rendered rows lack the column: ordered by it, they tied, and any 5 came back).
$node->safe_psql('postgres', q{
    CREATE TABLE msgs (id int PRIMARY KEY, conv int NOT NULL, at timestamptz NOT NULL, body text)
      WITH (autovacuum_enabled = false);
    INSERT INTO msgs SELECT i, i % 4, timestamptz '2026-01-01' + (i * 7919 % 20000) * interval '1 minute', 'm' || i
      FROM generate_series(1, 20000) i;
    CREATE INDEX ON msgs (conv, at);
    ANALYZE msgs;
});
my $msgs = "http://127.0.0.1:$service->{port}/v1/shape?table=msgs&log=changes_only&columns=id,conv,body&offset=now";
my $newest = 'subset__where=' . uri_escape('conv = $1') . '&subset__params=' . uri_escape('{"1":"2"}')
  . '&subset__order_by=' . uri_escape('at DESC') . '&subset__limit=5';
my $read = sub {
    my ($table) = @_;
    return $node->safe_psql('postgres', qq{SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)
        FROM pg_stat_user_tables WHERE relid = '@{[ $table // 'msgs' ]}'::regclass});
};
# A backend reports what its transactions read when it next goes idle, at most once a second
# (else within 10 s): the first request's reads are waited for, and the second comes over a
# second later, so that its own are reported at once and alone.
my $changed = sub {
    my ($from, $table) = @_;
    for (1 .. 150) { my $now = $read->($table); return $now if $now != $from; usleep(100_000); }
    return $from;
};
my $read_start = $read->();
$http->get("$msgs&$newest");    # makes the shape
my $read_before = $changed->($read_start);
usleep(1_200_000);
my $picked = $http->get("$msgs&$newest");
is($picked->{status}, 200, 'the newest 5 of a conversation');
my $picked_ids = join ',', sort { $a <=> $b } map { $_->{value}{id} } @{ decode_json($picked->{content})->{data} };
is($picked_ids, $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY id)
    FROM (SELECT id FROM msgs WHERE conv = 2 ORDER BY at DESC LIMIT 5) s}), 'by the table\'s values of a column the shape lacks');
my $read_after = $changed->($read_before);
cmp_ok($read_after - $read_before, '<=', 50,
    'PostgreSQL read about those rows of the table (' . ($read_after - $read_before) . ')');

# The same with a key of two columns (matched by a disjunction of the picked keys): the 4 rows
# with the highest v of those with a = 3, of 600, v not carried by the shape.
$node->safe_psql('postgres', q{
    CREATE TABLE pairs (a int, b text, v int NOT NULL, PRIMARY KEY (a, b));
    INSERT INTO pairs SELECT i % 6, 'b' || i, i * 37 % 600 FROM generate_series(1, 600) i;
});
my $pairs = "http://127.0.0.1:$service->{port}/v1/shape?table=pairs&log=changes_only&columns=a,b&offset=now";
my $highest = 'subset__where=' . uri_escape('a = 3') . '&subset__order_by=' . uri_escape('v DESC') . '&subset__limit=4';
$picked = $http->get("$pairs&$highest");
is(join(',', sort map { "$_->{value}{a}|$_->{value}{b}" } @{ decode_json($picked->{content})->{data} }),
    $node->safe_psql('postgres', q{SELECT string_agg(a || '|' || b, ',' ORDER BY a || '|' || b COLLATE "C")
        FROM (SELECT a, b FROM pairs WHERE a = 3 ORDER BY v DESC LIMIT 4) s}), 'a key of two columns: the rows');

# Hostile subsets: a 400 with a JSON message each, the service and the table unharmed.
for my $case (
    [ 'subset__where=' . uri_escape('id = (SELECT max(id) FROM pg_authid)'), 'where', 'a subquery' ],
    [ 'subset__where=' . uri_escape('true; DROP TABLE items'), 'where', 'a second statement' ],
    [ 'subset__where=' . uri_escape('nosuch = 1'), 'where', 'an unknown column' ],
    [ 'subset__where=' . uri_escape('id = $1'), 'where', 'a parameter without a value' ],
    [ 'subset__where=' . uri_escape('true) OR (true'), 'where', 'a parenthesis escape' ],
    [ 'subset__order_by=' . uri_escape('id; DROP TABLE items'), 'order_by', 'an order that is not columns' ],
    [ 'subset__order_by=nosuch', 'order_by', 'an unknown order column' ],
    [ 'subset__order_by=nosuch&subset__limit=3', 'order_by', 'an unknown order column, limited' ],
    [ 'subset__limit=-1', 'limit', 'a negative limit' ]) {
    my ($r) = subset($case->[0]);
    is($r->{status}, 400, "$case->[2]: 400");
    my $json = eval { decode_json($r->{content}) } // {};
    ok(exists $json->{errors}{subset}, "$case->[2]: a JSON message naming the subset") or diag($r->{content});
}
is($node->safe_psql('postgres', 'SELECT count(*) > 0 FROM items'), 't', 'the table is there');
is($node->safe_psql('postgres', "SELECT count(*) FROM electric_shapes.shapes WHERE name LIKE '%subset%'"), '0',
    'no shape of a subset is left behind');
is($http->get("http://127.0.0.1:$service->{port}/v1/health")->{status}, 200, 'the service is healthy');
done_testing();
