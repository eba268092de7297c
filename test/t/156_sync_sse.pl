# live_sse=true with the official @electric-sql/client (liveSse: true) and on raw sockets: the
# service answers with text/event-stream, `data:` frames of the messages, an up-to-date after each
# batch, `: keep-alive` comments in silences, and ends the response after its SSE timeout (the
# client reconnects) or at once when the shape rotates (the client's next request gets the 409).
# Clients with SSE follow two shapes while a writer runs, across stream ends and a TRUNCATE, and
# equal the query each time. The up-to-date of a stream names a position the client resumes from
# ("<lsn>_0") without getting the last transaction's messages again. A stream's request is logged
# when the stream ends, with its duration.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ElectricShapesTest;
use SyncServiceTest;

npm_modules('@electric-sql/client');
my $node = new_shapes_cluster('sse', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 300) i;
});

my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 3000,
    args => [ '--sse-timeout', 2500, '--sse-keepalive-interval', 600 ]);
ok(wait_healthy($service), 'the service streams');
my $base = "http://127.0.0.1:$service->{port}/v1/shape";
my $http = HTTP::Tiny->new(timeout => 30);

my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
    '-c', q{DO $$
BEGIN
  PERFORM setseed(0.3);
  FOR i IN 1..250 LOOP
    UPDATE items SET grp = (grp + 1) % 3, val = 'moved' || i WHERE id = (random() * 300)::int + 1;
    INSERT INTO items VALUES (1000 + i, i % 3, 'new' || i);
    UPDATE items SET id = id + 5000 WHERE id = (random() * 300)::int + 1;
    DELETE FROM items WHERE id = (random() * 300)::int + 1;
    COMMIT;
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;} ], '>', \my $wout, '2>', \my $werr);

my $sse = { liveSse => JSON::PP::true };
my $client = start_shape_client($service, $node->basedir . '/client', encode_json([
    { name => 'grp1', columns => [qw(id grp val)], options => $sse,
      params => { table => 'items', where => 'grp = $1', params => ['1'] } },
    { name => 'all', columns => [qw(id grp val)], options => $sse, params => { table => 'items' } },
]));

sub query { return "SELECT id || '|' || grp || '|' || val FROM items WHERE $_[0] ORDER BY id"; }
my $sentinel = 900000;
sub converge
{
    my ($what) = @_;
    $sentinel++;
    $node->safe_psql('postgres', "INSERT INTO items VALUES ($sentinel, 1, 's')");
    ok(wait_for_rows($node, $client, 'grp1', query('grp = 1'), "$sentinel|1|s", $service),
        "SSE client: where-filtered shape equals its query $what");
    ok(wait_for_rows($node, $client, 'all', query('true'), "$sentinel|1|s", $service),
        "SSE client: whole-table shape equals its query $what");
}

$writer->finish;
is($? >> 8, 0, 'the writer ran without errors') or diag($werr);
converge('after a writer ran through its live phase');

# Raw SSE: headers, chunked frames, keep-alives, the end after the timeout.
my $first = $http->get("$base?table=items&offset=-1");
my $handle = $first->{headers}{'electric-handle'};
my $caught = $http->get("$base?table=items&offset=$first->{headers}{'electric-offset'}&handle=$handle");
my $offset = $caught->{headers}{'electric-offset'};

# Opens an SSE request; returns { socket, raw, head, t0 }.
sub open_sse
{
    my ($query, $request_id) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
    my $id = $request_id ? "x-request-id: $request_id\r\n" : '';
    print $s "GET /v1/shape?$query HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n$id\r\n";
    return { socket => $s, raw => '', t0 => time };
}
# Reads until the raw response matches $re or $seconds pass; returns whether it matched. eof
# is set when the server closed the connection.
sub read_until
{
    my ($c, $re, $seconds) = @_;
    my $deadline = time + $seconds;
    while ($c->{raw} !~ $re) {
        my $left = $deadline - time;
        return 0 if $left <= 0 || $c->{eof};
        next unless IO::Select->new($c->{socket})->can_read($left);
        my $n = sysread($c->{socket}, my $buf, 65536);
        $c->{eof} = 1 if !$n;
        $c->{raw} .= $buf // '';
    }
    return 1;
}
# The body of a chunked response, de-chunked (what has arrived of it).
sub body_of
{
    my ($raw) = @_;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    my $body = '';
    while ($rest =~ s/^([0-9a-f]+)\r\n//) {
        my $n = hex $1;
        last if length($rest) < $n + 2;
        $body .= substr($rest, 0, $n);
        $rest = substr($rest, $n + 2);
    }
    return $body;
}
sub frames { return map { decode_json($_) } (body_of($_[0]) =~ /^data: (.*)$/mg); }

my $c = open_sse("table=items&handle=$handle&offset=$offset&live=true&cursor=&live_sse=true", 'sse-stream-1');
ok(read_until($c, qr/\r\n\r\n/, 5), 'the SSE response starts at once, with nothing new to send');
my ($head) = split /\r\n\r\n/, $c->{raw};
like($head, qr{^HTTP/1\.1 200 }, 'status 200');
my %h;
$h{ lc $1 } = $2 while $head =~ /^([^:\r\n]+): ([^\r\n]*)/mg;
is($h{'content-type'}, 'text/event-stream', 'content-type text/event-stream');
is($h{'cache-control'}, 'public, max-age=1', 'cached for the SSE timeout less a second, as Electric');
is($h{'transfer-encoding'}, 'chunked', 'a chunked body, written as events come');
is($h{'electric-handle'}, $handle, 'electric-handle');
is($h{'electric-offset'}, $offset, 'electric-offset is where the client stands');
like($h{'electric-cursor'}, qr/^\d+$/, 'electric-cursor, required by the client for live requests');
like($h{'access-control-expose-headers'}, qr/electric-cursor/, 'CORS headers');
ok(read_until($c, qr/: keep-alive\n\n/, 2), 'a keep-alive comment in the silence');

$node->safe_psql('postgres', "BEGIN; INSERT INTO items VALUES (800001, 1, 'a'), (800002, 1, 'b'), (800003, 1, 'c'); COMMIT;");
ok(read_until($c, qr/"up-to-date"/, 5), 'the transaction arrives as events');
my @f = frames($c->{raw});
is_deeply([ map { $_->{value}{id} // $_->{headers}{control} } @f ], [qw(800001 800002 800003 up-to-date)],
    'one data frame per message, then up-to-date');
is($f[0]{headers}{operation}, 'insert', 'the messages are the log\'s messages');
my $lsn = $f[-1]{headers}{global_last_seen_lsn};
like($lsn, qr/^\d+$/, 'up-to-date carries global_last_seen_lsn');
# The client resumes from "<lsn>_0" after the stream ends: nothing it has comes again.
my $resume = $http->get("$base?table=items&handle=$handle&offset=${lsn}_0");
is($resume->{status}, 200, 'the resume offset is accepted') or diag($resume->{content});
is_deeply([ map { $_->{headers}{control} // 'change' } @{ decode_json($resume->{content}) } ], ['up-to-date'],
    'and gives none of the last transaction\'s messages again');
my $beyond = $http->get("$base?table=items&handle=$handle&offset=" . ($lsn + 1_000_000_000) . "_0");
is($beyond->{status}, 400, 'an offset past anything the service processed is still out of bounds');

ok(read_until($c, qr/\r\n0\r\n\r\n$/, 5), 'the stream ends with the last chunk after the SSE timeout');
my $lasted = time - $c->{t0};
ok($lasted > 2 && $lasted < 4.5, "after about 2.5 s ($lasted)");
close $c->{socket};
# The request is logged once its stream has ended, with the stream's duration.
my $line;
my $deadline = time + 5;
until ($line || time > $deadline) {
    ($line) = service_log($service) =~ /^(\{[^\n]*"message":"request","request_id":"sse-stream-1"[^\n]*)$/m;
    usleep(100_000) unless $line;
}
ok($line, 'the SSE request has its request line') or diag(service_log($service));
my $logged = $line ? decode_json($line) : {};
is_deeply([ @$logged{qw(method path status shape_handle)} ], [ 'GET', '/v1/shape', 200, $handle ],
    'status 200 and the shape\'s handle');
cmp_ok($logged->{duration_ms} // 0, '>', 2000, 'with the stream\'s duration');

# The streams and the long-polls that one change wakes at the same offset: the streams share one
# framing of it, whatever their cursors, and neither kind gets the other's up-to-date (a stream
# resumes from "<lsn>_0", a long-poll from the offset of its response).
my $at = $http->get("$base?table=items&offset=now")->{headers}{'electric-offset'};
my @streams = map { open_sse("table=items&handle=$handle&offset=$at&live=true$_&live_sse=true") } ('&cursor=1', '&cursor=2', '');
ok(read_until($_, qr/\r\n\r\n/, 5), 'a stream at the shape\'s end is open') for @streams;
my $poll = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $poll "GET /v1/shape?table=items&handle=$handle&offset=$at&live=true HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
usleep(300_000);  # every one of them is held
$node->safe_psql('postgres', "INSERT INTO items VALUES (800004, 2, 'shared')");
my @seen;
for my $stream (@streams) {
    ok(read_until($stream, qr/"up-to-date"/, 5), 'the change reaches the stream');
    push @seen, [ frames($stream->{raw}) ];
    close $stream->{socket};
}
is_deeply($seen[$_], $seen[0], "stream $_ gets the same events") for 1 .. $#seen;
is_deeply([ map { $_->{value} ? $_->{value}{id} : $_->{headers}{control} } @{ $seen[0] } ], [qw(800004 up-to-date)],
    'a stream gets the change and an up-to-date');
my $answer = do { local $/; <$poll> };
my ($poll_head, $poll_body) = split /\r\n\r\n/, $answer, 2;
like($poll_head, qr{^HTTP/1\.1 200 }, 'the long-poll is answered');
my @polled = @{ decode_json($poll_body) };
is_deeply($polled[0], $seen[0][0], 'with the same change');
my $caught_up = decode_json($http->get("$base?table=items&handle=$handle&offset=$at")->{content});
is($polled[-1]{headers}{global_last_seen_lsn}, $caught_up->[-1]{headers}{global_last_seen_lsn},
    'and a long-poll\'s up-to-date, as a catch-up from the same offset gets');
isnt($seen[0][-1]{headers}{global_last_seen_lsn}, $polled[-1]{headers}{global_last_seen_lsn},
    'which is not the streams\' resume position');

# A rotation ends the stream at once; the next request with the handle gets the 409.
my $now = $http->get("$base?table=items&offset=now");
$c = open_sse("table=items&handle=$handle&offset=$now->{headers}{'electric-offset'}&live=true&live_sse=true");
ok(read_until($c, qr/\r\n\r\n/, 5), 'another SSE stream');
my $t = time;
$node->safe_psql('postgres', 'TRUNCATE items');
ok(read_until($c, qr/\r\n0\r\n\r\n$/, 5), 'the TRUNCATE ends it cleanly');
ok(time - $t < 1.5, 'at once, not at the SSE timeout');
unlike(body_of($c->{raw}), qr/409|must-refetch/, 'no 409 inside the stream, as Electric');
my $gone = $http->get("$base?table=items&handle=$handle&offset=$now->{headers}{'electric-offset'}&live=true&live_sse=true");
is($gone->{status}, 409, 'the reconnect gets the 409');
isnt($gone->{headers}{'electric-handle'}, $handle, 'with the new handle');
$node->safe_psql('postgres', "INSERT INTO items SELECT i, i % 3, 'after' || i FROM generate_series(1, 50) i");
converge('after the TRUNCATE');

my $bad = $http->get("$base?table=items&handle=$handle&offset=0_inf&live_sse=true");
is($bad->{status}, 400, 'live_sse without live is refused');
like($bad->{content}, qr/"live_sse":\["can't be true unless live is also true"\]/, 'as Electric says it');

ok($client->{handle}->pumpable, 'the client never failed');
# The clients used SSE throughout: every live request after the first asked for it, and streams
# ended by the timeout were reopened (no fallback to long-polls).
for my $name (qw(grp1 all)) {
    my @live = grep { /live=true/ } split /\n/, client_file($client, "$name.requests");
    my @sse = grep { /live_sse=true/ } @live;
    ok(@sse >= 3, "$name: SSE requests (" . scalar(@sse) . "), the streams reopened after they ended");
    is(scalar(@sse), scalar(@live), "$name: every live request was an SSE request");
}
done_testing();
