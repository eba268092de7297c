# Users of electric-shapes-sync with the official client and tokens signed by the npm
# jsonwebtoken package: in a chat schema protected by enable_membership_rls, two users each
# sync exactly their conversations (their rows equal the query run as that user); asking for
# someone else's conversation or the whole table is a 403 with a reason, and a tampered,
# expired, alg=none or foreign token a 401, never with rows; a user removed from a conversation
# loses it (the held live request ends with 409 and the client drops the rows, the next request
# is a 403) while the other member goes on; a proxy with the API secret gets any shape; user
# responses are private to the user; a held request ends when its token expires.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ElectricShapesTest;
use SyncServiceTest;

my $jwt_secret = 'chat-jwt-secret-for-the-sync-service-0123456789';
my $api_secret = 'proxy-secret-42';
my $modules = npm_modules('jsonwebtoken', '@electric-sql/client');

# The tokens, signed as a Node back end signs them.
my ($stdout, $stderr);
{
	local $ENV{NODE_PATH} = $modules;
	($stdout, $stderr) = run_command([ 'node', '-e', <<'JS', $jwt_secret ]);
const jwt = require('jsonwebtoken');
const secret = process.argv[1];
const now = Math.floor(Date.now() / 1000);
const user = (sub) => jwt.sign({ sub, role: 'chat_app' }, secret, { expiresIn: '1h' });
const out = { alice: user('alice'), bob: user('bob') };
out.expired = jwt.sign({ sub: 'alice', role: 'chat_app', exp: now - 60 }, secret);
out.none = jwt.sign({ sub: 'alice', role: 'chat_app' }, undefined, { algorithm: 'none' });
out.foreign = jwt.sign({ sub: 'alice', role: 'chat_app' }, 'another-secret-entirely-0123456789abcdef');
out.roleless = jwt.sign({ sub: 'alice' }, secret, { expiresIn: '1h' });
const [h, p, s] = out.alice.split('.');
const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
claims.sub = 'bob';  // alice's signature on bob's claims
out.tampered = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
console.log(JSON.stringify(out));
JS
}
my $tokens = eval { decode_json($stdout) } or BAIL_OUT("node could not sign tokens: $stderr");

my $node = new_shapes_cluster('users', preload => 0);
$node->safe_psql('postgres', q{
    CREATE ROLE chat_app;
    CREATE TABLE conversations (id bigint PRIMARY KEY, title text NOT NULL);
    CREATE TABLE memberships (conversation_id bigint NOT NULL REFERENCES conversations,
                              user_id text NOT NULL, PRIMARY KEY (conversation_id, user_id));
    CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id bigint NOT NULL REFERENCES conversations,
                           author text NOT NULL, body text NOT NULL);
    INSERT INTO conversations VALUES (1, 'alice and bob'), (2, 'alice alone'), (3, 'bob alone');
    INSERT INTO memberships VALUES (1, 'alice'), (1, 'bob'), (2, 'alice'), (3, 'bob');
    INSERT INTO messages SELECT g, 1 + g % 3, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END, 'm' || g
      FROM generate_series(1, 30) g;
    SELECT electric_shapes.enable_owner_rls('memberships', 'user_id', commands => '{select}');
    SELECT electric_shapes.enable_membership_rls('messages', 'conversation_id', 'memberships',
                                                 'conversation_id', 'user_id');
    GRANT SELECT ON conversations, memberships, messages TO chat_app;
    -- Set beforehand: shapes created at once on one table would each set it, and two such
    -- ALTER TABLEs can deadlock (a limit of create_shape, not of users' access).
    ALTER TABLE messages REPLICA IDENTITY FULL;
});
# Live requests are held 20 s: a request that ends sooner was ended by the service.
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 20000,
	args => [ '--secret', $api_secret, '--jwt-secret', $jwt_secret ]);
ok(wait_healthy($service), 'the service streams');

# The rows of a conversation as the user reads them in SQL: the policies decide.
sub as_user
{
	my ($sub, $conversation) = @_;
	return qq{BEGIN; SET LOCAL ROLE chat_app; SET LOCAL request.jwt.claims = '{"sub": "$sub"}';
	          SELECT id, conversation_id, body FROM messages WHERE conversation_id = $conversation ORDER BY id;
	          COMMIT;};
}
my @columns = qw(id conversation_id body);
sub shape
{
	my ($name, $user, $where, %params) = @_;
	return { name => $name, token => $tokens->{$user}, columns => \@columns,
		params => { table => 'messages', where => $where, columns => join(',', @columns), %params } };
}

# Two users, each their own conversations, by = and by IN with params.
my $alice = start_shape_client($service, $node->basedir . '/alice', encode_json([
	shape('c1', 'alice', 'conversation_id = $1', params => { 1 => '1' }),
	shape('c2', 'alice', 'conversation_id IN (2)') ]), 'sync_user_client.cjs');
my $bob = start_shape_client($service, $node->basedir . '/bob', encode_json([
	shape('c1', 'bob', 'conversation_id = 1'),
	shape('c3', 'bob', 'conversation_id = $1', params => { 1 => '3' }) ]), 'sync_user_client.cjs');
ok(wait_for_rows($node, $alice, 'c1', as_user('alice', 1), '30|1|m30', $service), 'alice syncs conversation 1');
ok(wait_for_rows($node, $alice, 'c2', as_user('alice', 2), '28|2|m28', $service), 'alice syncs conversation 2');
ok(wait_for_rows($node, $bob, 'c1', as_user('bob', 1), '30|1|m30', $service), 'bob syncs conversation 1');
ok(wait_for_rows($node, $bob, 'c3', as_user('bob', 3), '29|3|m29', $service), 'bob syncs conversation 3');

# Refusals through the real client: no rows, ever; the error says why.
my $refused = start_shape_client($service, $node->basedir . '/refused', encode_json([
	shape('someone_else', 'alice', 'conversation_id = 3'),
	shape('whole_table', 'bob', undef),
	shape('or_escape', 'bob', 'conversation_id = 3 OR true'),
	shape('tampered', 'tampered', 'conversation_id = 3'),
	shape('expired', 'expired', 'conversation_id = 1'),
	shape('none', 'none', 'conversation_id = 1'),
	shape('foreign', 'foreign', 'conversation_id = 1') ]), 'sync_user_client.cjs');
my %want = (
	someone_else => qr/^403 (?=.*"reason":"you are not a member of conversation_id '3')(?=.*"hint":"Rows of public.messages are yours where conversation_id is one of your keys)/,
	whole_table => qr/^403 .*"reason":"the where clause does not pin conversation_id of public.messages with = or IN to keys you are a member of"/,
	or_escape => qr/^403 .*"reason":"the where clause does not pin conversation_id/,
	tampered => qr/^401 .*"reason":"JWT signature is invalid"/,
	expired => qr/^401 .*"reason":"JWT has expired"/,
	none => qr/^401 .*"reason":"JWT algorithm \\"none\\" is not allowed"/,
	foreign => qr/^401 .*"reason":"JWT signature is invalid"/);
for my $name (sort keys %want)
{
	my $error = '';
	for (1 .. 150) { $error = client_file($refused, "$name.error"); last if $error; usleep(100_000); }
	like($error, $want{$name}, "$name: refused with the reason");
	is(client_file($refused, "$name.rows"), '', "$name: no rows");
}

# The same over plain HTTP: the bodies carry no rows; user responses are private.
my $http = HTTP::Tiny->new(timeout => 30);
my $base = "$service->{base}/v1/shape?table=messages&offset=-1";
sub get_as
{
	my ($token, $query) = @_;
	return $http->get("$base&$query", { headers => $token ? { Authorization => "Bearer $token" } : {} });
}
my $res = get_as($tokens->{alice}, 'where=conversation_id%20%3D%201');
is($res->{status}, 200, 'a user\'s own shape over HTTP: 200');
like($res->{headers}{'cache-control'}, qr/^private, max-age=\d+/, 'cache-control is private');
unlike($res->{headers}{'cache-control'}, qr/public|s-maxage/, 'no shared-cache directive');
is($res->{headers}{vary}, 'authorization', 'vary: authorization');
$res = get_as($tokens->{alice}, 'where=conversation_id%20%3D%203');
is_deeply([ $res->{status}, ref decode_json($res->{content}), $res->{headers}{'cache-control'} ],
	[ 403, 'HASH', 'no-store' ], 'someone else\'s conversation: 403, a JSON object, not stored');
$res = get_as($tokens->{roleless}, 'where=conversation_id%20%3D%201');
like($res->{content}, qr/"reason":"the token has no role claim"/, 'a token without a role: 403');
is($res->{status}, 403, 'status 403');
$res = get_as(undef, 'where=conversation_id%20%3D%201');
is($res->{status}, 401, 'neither token nor secret: 401');
$res = get_as("$tokens->{alice}x", 'where=conversation_id%20%3D%201');
is_deeply([ $res->{status}, $res->{headers}{'www-authenticate'} ], [ 401, 'Bearer error="invalid_token"' ],
	'a damaged token: 401 with WWW-Authenticate');

# A user's live request is a long-poll, which ends when access is lost; an SSE stream would go on.
$res = $http->get("$service->{base}/v1/shape?table=messages&where=conversation_id%20%3D%201&offset=0_inf"
	  . "&handle=h&live=true&live_sse=true", { headers => { Authorization => "Bearer $tokens->{alice}" } });
is_deeply([ $res->{status}, decode_json($res->{content})->{errors} ],
	[ 400, { live_sse => ["is not available with a bearer token; users' live requests are long-polls"] } ],
	'a user\'s SSE request: 400, it would not end on lost access');

$res = $http->request('DELETE', "$service->{base}/v1/shape?table=messages&where=conversation_id%20%3D%201",
	{ headers => { Authorization => "Bearer $tokens->{alice}" } });
is_deeply([ $res->{status}, decode_json($res->{content})->{reason} ], [ 403, 'users may not delete shapes' ],
	'a user\'s DELETE: 403');
$res = $http->request('OPTIONS', "$service->{base}/v1/shape?table=messages",
	{ headers => { Origin => 'https://chat.example', 'Access-Control-Request-Headers' => 'authorization' } });
is($res->{headers}{'access-control-allow-headers'}, 'authorization', 'browsers may send the token (CORS preflight)');

# A proxy with the secret gets any shape, the whole table included.
$res = $http->get("$base&secret=$api_secret");
is($res->{status}, 200, 'the proxy gets the whole table');
is(scalar(grep { $_->{key} } @{ decode_json($res->{content}) }), 30, 'with every row');

like(service_log($service), qr/following membership table/, 'the service follows the membership table');

# One change wakes a user's long-poll and the proxy's, on the same shape at the same offset: the
# service builds that response once for both, and each still gets its own: the user's private,
# the proxy's public, each with its own request id.
my $c1 = "$service->{base}/v1/shape?table=messages&where=conversation_id%20%3D%201";
$res = $http->get("$c1&offset=-1&secret=$api_secret");
my ($c1_handle, $c1_offset) = @{ $res->{headers} }{qw(electric-handle electric-offset)};
for (1 .. 20)
{
	$res = $http->get("$c1&offset=$c1_offset&handle=$c1_handle&secret=$api_secret");
	$c1_offset = $res->{headers}{'electric-offset'};
	last if defined $res->{headers}{'electric-up-to-date'};
}
is($http->get("$c1&offset=-1", { headers => { Authorization => "Bearer $tokens->{alice}" } })->{headers}{'electric-handle'},
	$c1_handle, 'alice\'s shape of conversation 1 is the proxy\'s');
sub hold_live
{
	my ($token, $id) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}) or die $!;
	my $path = "/v1/shape?table=messages&where=conversation_id%20%3D%201&offset=$c1_offset&handle=$c1_handle&live=true";
	$path .= "&secret=$api_secret" unless $token;
	print $s "GET $path HTTP/1.1\r\nHost: x\r\nX-Request-Id: $id\r\n"
	  . ($token ? "Authorization: Bearer $token\r\n" : '') . "Connection: close\r\n\r\n";
	return $s;
}
my %held = (user => hold_live($tokens->{alice}, 'user-poll'), proxy => hold_live(undef, 'proxy-poll'));
ok(!IO::Select->new(values %held)->can_read(1), 'both long-polls are held');
$node->safe_psql('postgres', q{INSERT INTO messages VALUES (33, 1, 'bob', 'to both')});
my %woken;
for my $who (sort keys %held)
{
	my $bytes = '';
	while (IO::Select->new($held{$who})->can_read(10))
	{
		my $n = sysread($held{$who}, my $buf, 65536);
		last unless $n;
		$bytes .= $buf;
	}
	my ($status, $fields, $body) = $bytes =~ m{^HTTP/1\.1 (\d+) [^\r]*\r\n(.*?)\r\n\r\n(.*)$}s;
	my %f = map { /^([^:]+): (.*)$/ ? (lc $1 => $2) : () } split /\r\n/, $fields // '';
	my ($cache) = ($f{'cache-control'} // '') =~ /^(private|public)/;
	$woken{$who} = [ $status, $f{'x-request-id'}, $cache // '', ($body // '') =~ /"to both"/ ? 'the row' : 'no row' ];
}
is_deeply(\%woken,
	{ user => [ 200, 'user-poll', 'private', 'the row' ], proxy => [ 200, 'proxy-poll', 'public', 'the row' ] },
	'both woken by the change: the user\'s response private, the proxy\'s public, each its own request id');

# Alice leaves conversation 1 while both clients hold live requests on it; bob goes on.
$node->safe_psql('postgres', q{
    DELETE FROM memberships WHERE conversation_id = 1 AND user_id = 'alice';
    INSERT INTO messages VALUES (31, 1, 'bob', 'after alice left'), (32, 2, 'alice', 'still mine');
});
my $error = '';
for (1 .. 100) { $error = client_file($alice, 'c1.error'); last if $error; usleep(100_000); }
like($error, qr/^403 .*"reason":"you are not a member of conversation_id '1'/,
	'alice: the live request ended within 10 s, the refetch is refused');
like(service_log($service), qr/access lost: held request ends.*"sub":"alice"/, 'the service ended it');
is(client_file($alice, 'c1.rows'), '', 'alice\'s client no longer shows conversation 1');
ok(wait_for_rows($node, $alice, 'c2', as_user('alice', 2), '32|2|still mine', $service),
	'alice keeps conversation 2 and its new message');
ok(wait_for_rows($node, $bob, 'c1', as_user('bob', 1), '31|1|after alice left', $service),
	'bob keeps conversation 1 and its new message');
unlike(slurp_file("$alice->{dir}/c1.rows") . slurp_file($alice->{err}), qr/after alice left/,
	'alice never received the message posted after she left');
$res = get_as($tokens->{alice}, 'where=conversation_id%20%3D%201');
is($res->{status}, 403, 'alice\'s next request for conversation 1: 403');
# Added back: the cached refusal goes with the membership change.
$node->safe_psql('postgres', q{INSERT INTO memberships VALUES (1, 'alice')});
for (1 .. 100) {
	$res = get_as($tokens->{alice}, 'where=conversation_id%20%3D%201');
	last if $res->{status} == 200;
	usleep(100_000);
}
is($res->{status}, 200, 'alice added back: her next requests get conversation 1');

# The stream can show a commit before other sessions see it: a synchronous commit waits for its
# standby after its WAL is flushed, still invisible. Bob leaves conversation 1 in such a commit,
# held while the service decodes it; an answer asked in that window must not let the message
# posted in the same transaction reach him.
$node->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'nobody'; SELECT pg_reload_conf();});
my ($hout, $herr) = ('', '');
my $held = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	'-c', q{BEGIN; DELETE FROM memberships WHERE conversation_id = 1 AND user_id = 'bob';
	        INSERT INTO messages VALUES (40, 1, 'alice', 'while bob was leaving'); COMMIT;} ], '>', \$hout, '2>', \$herr);
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'}),
	'bob\'s removal is committed and flushed, not yet visible');
my $flushed = $node->safe_psql('postgres', 'SELECT pg_current_wal_flush_lsn()');
ok($node->poll_query_until('postgres', qq{SELECT confirmed_flush_lsn >= '$flushed' FROM pg_replication_slots
	WHERE slot_name = 'electric_shapes_slot_default'}), 'the service has the transaction on disk');
usleep(500_000);  # the time an answer asked at once would take to reach the client
is($node->safe_psql('postgres', q{SELECT count(*) FROM memberships WHERE conversation_id = 1 AND user_id = 'bob'}),
	'1', 'other sessions still see bob as a member');
unlike(slurp_file("$bob->{dir}/c1.rows"), qr/while bob was leaving/, 'bob\'s client has not received the message');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf();});
$held->finish;
is($? >> 8, 0, 'the held commit completes once no standby is waited for') or diag($herr);
$error = '';
for (1 .. 100) { $error = client_file($bob, 'c1.error'); last if $error; usleep(100_000); }
like($error, qr/^403 .*"reason":"you are not a member of conversation_id '1'/,
	'bob\'s live request ended once the removal was visible, the refetch is refused');
unlike(slurp_file("$bob->{dir}/c1.rows") . slurp_file($bob->{err}), qr/while bob was leaving/,
	'bob never received the message posted in the transaction that removed him');

# A token that expires while its live request is held: the request ends with 401 then, not at
# the end of the 20 s long-poll.
{
	local $ENV{NODE_PATH} = $modules;
	($stdout, $stderr) = run_command([ 'node', '-e',
		q{const jwt = require('jsonwebtoken');
		  console.log(jwt.sign({ sub: 'bob', role: 'chat_app', exp: Math.floor(Date.now() / 1000) + 4 }, process.argv[1]));},
		$jwt_secret ]);
}
chomp $stdout;
$tokens->{short} = $stdout;
my $short = start_shape_client($service, $node->basedir . '/short', encode_json([
	shape('c3', 'short', 'conversation_id = 3') ]), 'sync_user_client.cjs');
ok(wait_for_rows($node, $short, 'c3', as_user('bob', 3), '29|3|m29', $service), 'a short-lived token syncs');
$error = '';
for (1 .. 120) { $error = client_file($short, 'c3.error'); last if $error; usleep(100_000); }
like($error, qr/^401 .*"reason":"JWT has expired"/, 'its held request ends with 401 when the token expires');

kill_children();
$node->stop;
done_testing();
