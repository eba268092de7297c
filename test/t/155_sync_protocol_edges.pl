# electric-shapes-sync's answers at the edges of the protocol, over plain HTTP:
# - offset=now: no data, up-to-date at the shape's current end, no handle needed; a catch-up
#   from there gets exactly the changes after it; live=true with now is a 400;
# - If-None-Match with the response's etag: 304 with the headers and no body;
# - one keep-alive connection carrying a HEAD, a 304 and a GET with Connection: close: each
#   response framed exactly (a HEAD's and a 304's without a body), then the connection closed;
# - junk on a socket (not HTTP, binary bytes, a huge header, a request never finished) gets a
#   4xx or a closed connection, while a long-poll held on another connection is answered.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;
use SyncServiceTest;

my $node = new_shapes_cluster('edges', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 20) i;
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 20000);
ok(wait_healthy($service), 'the service streams');
my $http = HTTP::Tiny->new(timeout => 30);
my $url = "$service->{base}/v1/shape?table=items";

# offset=now.
my $res = $http->get("$url&offset=now&handle=ignored");
is($res->{status}, 200, 'offset=now: 200') or diag($res->{content});
is_deeply([ map { $_->{headers}{control} } @{ decode_json($res->{content}) } ], ['up-to-date'], 'only up-to-date');
my $h = $res->{headers};
ok($h->{'electric-handle'}, 'with the handle');
is($h->{'electric-offset'}, '0_inf', 'at the end of a shape with no changes yet');
ok(exists $h->{'electric-up-to-date'} && $h->{'electric-schema'}, 'up-to-date header and schema');
is($h->{'electric-has-data'}, 'false', 'no data');
my $handle = $h->{'electric-handle'};
$node->safe_psql('postgres', "INSERT INTO items VALUES (100, 1, 'a')");
my $later;
for (1 .. 100) {
    $res = $http->get("$url&offset=now");
    $later = $res->{headers}{'electric-offset'};
    last if $later ne '0_inf';
    select(undef, undef, undef, 0.1);
}
like($later, qr/^\d+_\d+$/, 'offset=now moves with the log');
$node->safe_psql('postgres', "INSERT INTO items VALUES (101, 1, 'b')");
my @keys;
for (1 .. 100) {
    $res = $http->get("$url&offset=$later&handle=$handle");
    @keys = map { $_->{key} // () } @{ decode_json($res->{content}) };
    last if @keys;
    select(undef, undef, undef, 0.1);
}
is_deeply(\@keys, ['"public"."items"/"101"'], 'a catch-up from it gets only the later change');
$res = $http->get("$url&offset=now&live=true");
is_deeply([ $res->{status}, decode_json($res->{content})->{errors} ],
    [ 400, { live => ["can't be true when offset is 'now'"] } ], 'live with now: 400');

# ETag and If-None-Match.
$res = $http->get("$url&offset=-1");
my $etag = $res->{headers}{etag};
like($etag, qr/^"\Q$handle\E:-1:0_inf"$/, 'etag names handle and offsets');
$res = $http->get("$url&offset=-1", { headers => { 'if-none-match' => $etag } });
is($res->{status}, 304, 'If-None-Match with it: 304');
is($res->{content} // '', '', 'no body');
is($res->{headers}{'electric-handle'}, $handle, 'the headers stay');
$res = $http->get("$url&offset=-1", { headers => { 'if-none-match' => '"x", ' . $etag } });
is($res->{status}, 304, 'one of several values: 304');
$res = $http->get("$url&offset=-1", { headers => { 'if-none-match' => '"x"' } });
is($res->{status}, 200, 'another etag: 200');

# Framing, on one keep-alive connection: the service writes its responses' bytes itself, so a
# body where none belongs (HEAD, 304) would be read by the client as the start of the next
# response. The last request asks to close; the service closes after answering it.
my $get_body = $http->get("$url&offset=-1")->{content};
my $conn = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $conn "HEAD /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: x\r\n\r\n"
  . "GET /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: x\r\nIf-None-Match: $etag\r\n\r\n"
  . "GET /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
my $bytes = '';
while (IO::Select->new($conn)->can_read(10)) {
    my $n = sysread($conn, my $buf, 65536);
    last unless $n;
    $bytes .= $buf;
}
my @methods = qw(HEAD GET GET);
my @framed;
while ($bytes =~ s/^(HTTP\/1\.1 (\d+) [^\r]*\r\n(.*?)\r\n\r\n)//s) {
    my ($status, $fields) = ($2, $3);
    my %f = map { /^([^:]+): (.*)$/ ? (lc $1 => $2) : () } split /\r\n/, $fields;
    my $body = '';
    my $method = $methods[ scalar @framed ] // 'GET';
    $body = substr($bytes, 0, $f{'content-length'}, '') if $method ne 'HEAD' && defined $f{'content-length'};
    push @framed, [ $status, $f{'content-length'}, $body, $f{connection} // '' ];
}
is_deeply(\@framed,
    [ [ 200, length($get_body), '', '' ], [ 304, undef, '', '' ], [ 200, length($get_body), $get_body, 'close' ] ],
    'HEAD: the length a GET carries, no body; 304: neither; then the body, and Connection: close');
is($bytes, '', 'nothing after the last response: the service closed the connection');

# Junk on sockets while a long-poll is held on another, with a request sent behind it on its
# connection (which the held request's watch for a closed connection must leave to be read).
$res = $http->get("$url&offset=0_inf&handle=$handle");
my $end = $res->{headers}{'electric-offset'};
my $poll = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $poll "GET /v1/shape?table=items&offset=$end&handle=$handle&live=true HTTP/1.1\r\nHost: x\r\n\r\n";
print $poll "GET /v1/shape?table=items&offset=$end&handle=$handle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
ok(!IO::Select->new($poll)->can_read(1), 'a long-poll is held');

sub junk
{
    my ($what, $bytes, $close_write) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
    syswrite($s, $bytes);
    my $text = '';
    while (IO::Select->new($s)->can_read(15)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $text .= $buf;
    }
    ok($text eq '' || $text =~ m{^HTTP/1\.1 4\d\d }, "$what: a 4xx or a closed connection")
      or diag(substr($text, 0, 200));
    return $text;
}
junk('not HTTP', "HELLO THERE\r\n\r\n");
junk('binary bytes', join('', map { chr(int(rand(256))) } 1 .. 20000));
junk('a huge header', "GET /v1/shape HTTP/1.1\r\nHost: x\r\nX-Big: " . ('a' x 200000) . "\r\n\r\n");
junk('a bad method', "BREW /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: x\r\n\r\n");
my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
print $slow "GET /v1/shape?table=items";    # never finished
$res = $http->get("$url&offset=-1");
is($res->{status}, 200, 'a normal request is served meanwhile');
$node->safe_psql('postgres', "INSERT INTO items VALUES (102, 1, 'c')");
my $answer = '';
while (IO::Select->new($poll)->can_read(10)) {
    my $n = sysread($poll, my $buf, 65536);
    last unless $n;
    $answer .= $buf;
}
like($answer, qr{^HTTP/1\.1 200 OK\r\n.*"value":\{"grp":"1","id":"102","val":"c"\}}s, 'the held long-poll gets the change');
my @answers = split /(?=HTTP\/1\.1 \d{3} )/, $answer;
is(scalar(@answers), 2, 'then the request sent behind it is answered, and the connection closed');
like($answers[1] // '', qr{^HTTP/1\.1 200 OK\r\n.*\r\nconnection: close\r\n.*"value":\{"grp":"1","id":"102","val":"c"\}}si,
    'the same change again: it read the whole request');
ok($service->{handle}->pumpable, 'the service is still running');
done_testing();
