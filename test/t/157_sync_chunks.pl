# Chunked responses of electric-shapes-sync, as Electric's chunk_bytes_threshold makes them: with
# a small ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD, an initial sync of a shape many times larger is
# several responses (-1 -> 0_0 -> 0_1 ... -> 0_inf), a catch-up over a large transaction too,
# each response within the threshold (plus its control message) and without up-to-date until the
# last; every row and every change comes exactly once. The official client follows the chunks
# (with its prefetch of the next ones) while a writer runs and equals the query.
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use IO::Select;
use IO::Socket::INET;
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $threshold = 8192;
my $rows = 2000;
my $node = new_shapes_cluster('chunks', preload => 0);
$node->safe_psql('postgres', qq{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, repeat('x', 60) || i FROM generate_series(1, $rows) i;
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage',
    args => [ '--chunk-bytes-threshold', $threshold ]);
ok(wait_healthy($service), 'the service streams');
my $base = "http://127.0.0.1:$service->{port}/v1/shape?table=items";
my $http = HTTP::Tiny->new(timeout => 30);
# A response holds one chunk, plus its brackets and one control message.
my $bound = $threshold + 200;

# Follows the shape from offset until a response ends with up-to-date; returns the responses.
sub follow
{
    my ($offset, $handle) = @_;
    my @responses;
    for (1 .. 500) {
        my $res = $http->get("$base&offset=$offset" . ($handle ? "&handle=$handle" : ''));
        die "status $res->{status}: $res->{content}" unless $res->{status} == 200;
        my $messages = decode_json($res->{content});
        push @responses, { size => length($res->{content}), offset => $offset, messages => $messages,
            next => $res->{headers}{'electric-offset'}, up_to_date => exists $res->{headers}{'electric-up-to-date'} };
        $handle = $res->{headers}{'electric-handle'};
        $offset = $res->{headers}{'electric-offset'};
        last if @$messages && ($messages->[-1]{headers}{control} // '') eq 'up-to-date';
    }
    return ($handle, @responses);
}
sub controls { my ($r) = @_; return grep { defined } map { $_->{headers}{control} } @{ $r->{messages} }; }

my ($handle, @initial) = follow('-1');
my @snapshot = grep { $_->{offset} eq '-1' || $_->{offset} =~ /^0_\d+$/ } @initial;
ok(@snapshot >= 10, 'the initial rows come in many chunks (' . scalar(@snapshot) . ')');
is_deeply([ map { $_->{next} } @snapshot ],
    [ (map { "0_$_" } 0 .. $#snapshot - 1), '0_inf' ], 'offsets -1 -> 0_0 -> 0_1 ... -> 0_inf');
my @too_big = grep { $_->{size} > $bound } @initial;
is(scalar(@too_big), 0, "every response holds at most $bound bytes")
  or diag(join ',', map { $_->{size} } @too_big);
ok(!grep({ $_->{up_to_date} || grep { $_ eq 'up-to-date' } controls($_) } @initial[0 .. $#initial - 1]),
    'no response before the last is up to date');
is_deeply([ map { controls($_) } @snapshot ], ['snapshot-end'], 'one snapshot-end, at the end of the snapshot');
my @keys = map { $_->{key} } grep { $_->{key} } map { @{ $_->{messages} } } @initial;
my %seen;
$seen{$_}++ for @keys;
is(scalar(@keys), $rows, "$rows rows");
is(scalar(keys %seen), $rows, 'each once');
my $again = $http->get("$base&offset=0_3&handle=$handle");
is(length($again->{content}), $snapshot[4]{size}, 'a chunk is the same for every request of it');

# A transaction larger than many chunks, caught up from the end of the snapshot.
$node->safe_psql('postgres', q{UPDATE items SET val = val || 'y'});
my $end = $initial[-1]{next};
my $changes = 0;
my @catch_up;
for (1 .. 50) {
    (undef, @catch_up) = follow($end, $handle);
    $changes = grep { $_->{key} } map { @{ $_->{messages} } } @catch_up;
    last if $changes >= $rows;
    sleep 1;
}
ok(@catch_up >= 10, 'the changes come in many chunks (' . scalar(@catch_up) . ')');
is(scalar(grep { $_->{size} > $bound } @catch_up), 0, "every response holds at most $bound bytes");
ok(!grep({ $_->{up_to_date} } @catch_up[0 .. $#catch_up - 1]), 'only the last is up to date');
my @updates = grep { $_->{key} } map { @{ $_->{messages} } } @catch_up;
my %updated;
$updated{ $_->{key} }++ for @updates;
is(scalar(@updates), $rows, "$rows changes");
is(scalar(keys %updated), $rows, 'each once');
ok(!grep({ $_->{headers}{operation} ne 'update' || $_->{value}{val} !~ /y$/ } @updates), 'all of them the update');

# The official client, with a writer running.
my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
    '-c', q{DO $$
BEGIN
  FOR i IN 1..150 LOOP
    UPDATE items SET grp = (grp + 1) % 3, val = repeat('z', 80) || i WHERE id = (i * 7) % 2000 + 1;
    INSERT INTO items VALUES (10000 + i, i % 3, repeat('n', 70) || i);
    DELETE FROM items WHERE id = (i * 13) % 2000 + 1;
    COMMIT;
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;} ], '>', \my $wout, '2>', \my $werr);
my $client = start_shape_client($service, $node->basedir . '/client', encode_json([
    { name => 'all', columns => [qw(id grp val)], params => { table => 'items' } },
    { name => 'grp1', columns => [qw(id grp val)], params => { table => 'items', where => 'grp = 1' } },
]));
$writer->finish;
is($? >> 8, 0, 'the writer ran without errors') or diag($werr);
$node->safe_psql('postgres', "INSERT INTO items VALUES (900001, 1, 's')");
for my $shape ([ 'all', 'true' ], [ 'grp1', 'grp = 1' ]) {
    ok(wait_for_rows($node, $client, $shape->[0],
            "SELECT id || '|' || grp || '|' || val FROM items WHERE $shape->[1] ORDER BY id", '900001|1|s', $service),
        "the client's $shape->[0] shape equals its query");
}
my @chunk_requests = grep { /offset=0_\d+&/ } split /\n/, client_file($client, 'all.requests');
ok(@chunk_requests >= 10, 'the client followed the snapshot chunks (' . scalar(@chunk_requests) . ' requests)');
# A shape's first chunks come while its snapshot is still being read: the rows after the first
# 1,500 hold an enum value, whose output reads pg_enum, so with pg_enum locked shape_snapshot
# stops at row 1,501. The first request gets chunk 0 (and the next ones) all the same, before the
# shape is ready; once the lock goes, the rest follows, and every chunk is the one a later client
# gets.
$node->safe_psql('postgres', q{
    CREATE TYPE mood AS ENUM ('calm', 'busy');
    CREATE TABLE moods (id int PRIMARY KEY, m mood, val text);
    INSERT INTO moods SELECT i, CASE WHEN i > 1500 THEN 'busy'::mood END, repeat('m', 60) || i
      FROM generate_series(1, 2000) i;
});
my $moods = "http://127.0.0.1:$service->{port}/v1/shape?table=moods";
my $locker = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
        'BEGIN; LOCK TABLE pg_catalog.pg_enum IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;' ],
    '>', \my $lout, '2>', \my $lerr);
my $lock_held = sub {
    return $node->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' "
          . "AND relation = 'pg_catalog.pg_enum'::pg_catalog.regclass AND granted");
};
my $deadline = time + 10;
usleep(50_000) until time > $deadline || $lock_held->() == 1;
my $first = $http->get("$moods&offset=-1");
my $first_handle = $first->{headers}{'electric-handle'};
my $next = $http->get("$moods&offset=0_0&handle=$first_handle");
my $blocked = $lock_held->();
is_deeply([ $first->{status}, $first->{headers}{'electric-offset'}, $next->{status}, $next->{headers}{'electric-offset'} ],
    [ 200, '0_0', 200, '0_1' ], 'chunks 0 and 1 of a shape being created come while the rest is read');
is($blocked, 1, 'while its snapshot still waits for pg_enum');
unlike(service_log($service), qr/"shape ready","handle":"\Q$first_handle\E"/, 'before the shape is ready');
ok(!exists $first->{headers}{'electric-up-to-date'}, 'not up to date');
like($first->{headers}{'electric-schema'} // '', qr/"m":\{"type":"mood"\}/, 'with its electric-schema');
$locker->finish;
my @early = ($first, $next);
my $offset = '0_1';
for (1 .. 500) {
    my $res = $http->get("$moods&offset=$offset&handle=$first_handle");
    die "status $res->{status}: $res->{content}" unless $res->{status} == 200;
    push @early, $res;
    $offset = $res->{headers}{'electric-offset'};
    last if exists $res->{headers}{'electric-up-to-date'};
}
my @mood_keys = map { $_->{key} } grep { $_->{key} } map { @{ decode_json($_->{content}) } } @early;
my %mood_seen;
$mood_seen{$_}++ for @mood_keys;
is_deeply([ scalar(@mood_keys), scalar(keys %mood_seen) ], [ 2000, 2000 ], 'then all 2000 rows, each once');
my ($later_offset, @same) = ('-1');
for my $res (@early) {
    my $again = $http->get("$moods&offset=$later_offset" . ($later_offset eq '-1' ? '' : "&handle=$first_handle"));
    push @same, $again->{content} eq $res->{content} ? 1 : 0;
    $later_offset = $res->{headers}{'electric-offset'};
    last if $later_offset eq '0_inf';
}
is_deeply(\@same, [ (1) x scalar(@same) ], 'each chunk served early is the one a later client gets (' . scalar(@same) . ')');

# A crowd of initial syncs of one large shape, and slow clients of many: a response holds a
# piece of its chunk at a time, read from the file as it is written out, and every client that
# asks for a chunk meanwhile shares one response. 60 clients ask for the first 8 MB chunk of one
# shape at once and read none of it, then 12 clients each the first chunk of a shape of its own:
# the service's resident memory grows by less than 6 chunks each time, where holding them took
# one per client (480 MB, 96 MB; what the kernel's socket buffers take of each is at most 4 MB);
# then each client reads the very chunk a single client gets.
my $big_threshold = 8 * 1024 * 1024;
$node->safe_psql('postgres', q{
    CREATE TABLE crowd (id int PRIMARY KEY, val text);
    INSERT INTO crowd SELECT i, repeat(md5(i::text), 5) FROM generate_series(1, 50000) i;
});
my $big = start_sync_service($node, storage => $node->basedir . '/sync_storage_big',
    args => [ '--replication-stream-id', 'crowd', '--chunk-bytes-threshold', $big_threshold ]);
ok(wait_healthy($big), 'a service with 8 MB chunks streams');
my $crowd_url = "/v1/shape?table=crowd&offset=-1";
my $alone = $http->get("http://127.0.0.1:$big->{port}$crowd_url");
is($alone->{status}, 200, 'one client gets the first chunk');
cmp_ok(length($alone->{content}), '>', $big_threshold - 4096, 'of about 8 MB');
sub resident_kb { my ($pid) = @_; open my $f, '<', "/proc/$pid/status" or die $!; local $/; my ($kb) = <$f> =~ /^VmRSS:\s+(\d+)/m; return $kb; }
# Sends each request (a path) on a connection of its own and reads none of the responses until
# all are being answered: the service's memory must grow by less than 6 chunks; then each
# client reads its response, which must be the body a client that read at once got.
sub unread_clients
{
    my ($what, $paths, $bodies) = @_;
    my $before = resident_kb($big->{pid});
    my @sockets = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $big->{port}) or die $! } @$paths;
    print { $sockets[$_] } "GET $paths->[$_] HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" for 0 .. $#sockets;
    is(scalar(grep { IO::Select->new($_)->can_read(30) } @sockets), scalar(@sockets), "$what: all are being answered");
    usleep(300_000);
    my $grown_mb = (resident_kb($big->{pid}) - $before) / 1024;
    cmp_ok($grown_mb, '<', 48, "$what: the service holds a piece of each response (grew by " . int($grown_mb) . ' MB)');
    my $same = 0;
    for my $i (0 .. $#sockets) {
        my $response = do { local $/; readline $sockets[$i] };
        my ($head, $body) = split /\r\n\r\n/, $response, 2;
        $same++ if $head =~ m{^HTTP/1.1 200 } && $body eq $bodies->[$i];
        close $sockets[$i];
    }
    is($same, scalar(@sockets), "$what: then each reads what a client that read at once got");
}
unread_clients('60 clients of one chunk', [ ($crowd_url) x 60 ], [ ($alone->{content}) x 60 ]);
my @first_chunks = map { "/v1/shape?table=crowd&where=id+%3E+$_&offset=-1" } 1 .. 12;
my @alone_bodies = map { $http->get("http://127.0.0.1:$big->{port}$_")->{content} } @first_chunks;
is(scalar(grep { length($_) > $big_threshold - 4096 } @alone_bodies), 12, '12 shapes of their own, each first chunk of about 8 MB');
unread_clients('12 clients of 12 shapes\' first chunks', \@first_chunks, \@alone_bodies);

# The same for a catch-up: one transaction updates every row, and the 12 clients, each at the
# end of its shape's snapshot, ask for what their shape's log gained (8 MB chunks of it) without
# reading it; then each gets what a client that reads at once gets.
my %end;
for my $k (1 .. 12) {
    my $res = $http->get("http://127.0.0.1:$big->{port}/v1/shape?table=crowd&where=id+%3E+$k&offset=-1");
    my ($offset, $handle) = @{ $res->{headers} }{qw(electric-offset electric-handle)};
    for (1 .. 20) {
        last if $offset eq '0_inf';
        $res = $http->get("http://127.0.0.1:$big->{port}/v1/shape?table=crowd&where=id+%3E+$k&offset=$offset&handle=$handle");
        $offset = $res->{headers}{'electric-offset'};
    }
    $end{$k} = "offset=0_inf&handle=$handle";
}
$node->safe_psql('postgres', q{UPDATE crowd SET val = val || 'u'});
my $catch_up = sub { my ($k) = @_; return "/v1/shape?table=crowd&where=id+%3E+$k&$end{$k}"; };
for my $k (1 .. 12) {    # until the update is in every shape's log
    for (1 .. 100) {
        my $res = $http->get("http://127.0.0.1:$big->{port}" . $catch_up->($k));
        last if $res->{headers}{'electric-has-data'} eq 'true';
        usleep(100_000);
    }
}
my @catch_ups = map { $catch_up->($_) } 1 .. 12;
my @read_at_once = map { $http->get("http://127.0.0.1:$big->{port}$_")->{content} } @catch_ups;
is(scalar(grep { length($_) > $big_threshold - 4096 } @read_at_once), 12, 'each log gained a chunk of about 8 MB');
unread_clients('12 clients catching up on 12 shapes', \@catch_ups, \@read_at_once);

done_testing();
