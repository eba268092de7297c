# verify_jwt against tokens made by the jsonwebtoken npm package (what Node back ends sign with),
# then a few thousand random, truncated and damaged tokens: every call must succeed or fail with
# an authorization error, and the server must stay up. Whatever verifies must carry the HMAC of
# its header and payload under the secret (checked here, independently of the extension); the
# library's valid tokens verify, and the same tokens with one signature bit flipped never do.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use JSON::PP;
use MIME::Base64 qw(decode_base64 encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $modules = "$ENV{ES_ROOT}/test/npm/node_modules";
BAIL_OUT("jsonwebtoken is not installed in $modules; run test/install-deps")
  unless -f "$modules/jsonwebtoken/package.json";

my $secret = 'chat-secret-for-jsonwebtoken-0123456789';

# Tokens signed by jsonwebtoken, as one JSON object.
my $script = <<'JS';
const jwt = require('jsonwebtoken');
const crypto = require('crypto');
const secret = process.argv[1];
const now = Math.floor(Date.now() / 1000);
const out = {};
for (const alg of ['HS256', 'HS384', 'HS512']) {
  out[alg] = jwt.sign({ sub: 'user-' + alg, name: 'Zoë 💬', role: 'authenticated' }, secret,
                      { algorithm: alg, expiresIn: '1h', audience: 'chat', issuer: 'tests' });
}
out.expired = jwt.sign({ sub: 'late', exp: now - 3600 }, secret);
out.not_before = jwt.sign({ sub: 'early' }, secret, { notBefore: '1h' });
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
out.RS256 = jwt.sign({ sub: 'rsa' }, privateKey, { algorithm: 'RS256' });
out.none = jwt.sign({ sub: 'nobody' }, undefined, { algorithm: 'none' });
// jsonwebtoken accepts its own tokens: the same secret is used on both sides.
jwt.verify(out.HS512, secret, { algorithms: ['HS512'] });
console.log(JSON.stringify(out));
JS
my ($stdout, $stderr);
{
	local $ENV{NODE_PATH} = $modules;
	($stdout, $stderr) = run_command([ 'node', '-e', $script, $secret ]);
}
my $tokens = eval { decode_json($stdout) }
  or BAIL_OUT("node could not sign tokens: $stderr");

my $node = PostgreSQL::Test::Cluster->new('jwt');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION electric_shapes');

# "ok: <result>" or "<SQLSTATE>: <message>" for one statement.
sub outcome
{
	my ($sql) = @_;
	my ($out, $err);
	$node->psql('postgres', "\\set VERBOSITY verbose\n$sql", stdout => \$out, stderr => \$err);
	return "ok: $out" if $err eq '';
	return $err =~ /ERROR:\s+(\w{5}): ([^\n]*)/ ? "$1: $2" : "unexpected: $err";
}

sub verify
{
	my ($token, $extra) = @_;
	$extra = $extra ? ", $extra" : '';
	return outcome("SELECT electric_shapes.verify_jwt('$token', '$secret'$extra) ->> 'sub'");
}

for my $alg (qw(HS256 HS384 HS512))
{
	is(verify($tokens->{$alg}), "ok: user-$alg", "$alg token from jsonwebtoken verifies");
	my $claims = $node->safe_psql('postgres',
		"SELECT c ->> 'name', c ->> 'aud', c ->> 'iss', (c ->> 'exp')::bigint - (c ->> 'iat')::bigint "
		  . "FROM electric_shapes.verify_jwt('$tokens->{$alg}', '$secret') c");
	is($claims, "Zo\x{c3}\x{ab} \x{f0}\x{9f}\x{92}\x{ac}|chat|tests|3600", "$alg claims arrive intact");
	is(outcome("SELECT electric_shapes.verify_jwt('$tokens->{$alg}', 'another secret')"),
		'28P01: JWT signature is invalid', "$alg token with the wrong secret");
}

is(verify($tokens->{expired}), '28000: JWT has expired', 'expired jsonwebtoken token refused');
is(verify($tokens->{expired}, "'2 hours'"), 'ok: late', 'expired token accepted within leeway');
is(verify($tokens->{not_before}), '28000: JWT is not valid yet', 'notBefore token refused');
is(verify($tokens->{not_before}, "'2 hours'"), 'ok: early', 'notBefore token accepted within leeway');
is(verify($tokens->{RS256}), '28000: JWT algorithm "RS256" is not supported', 'RS256 token refused');
is(verify($tokens->{none}), '28000: JWT algorithm "none" is not allowed', 'unsigned token refused');

is( $node->safe_psql(
		'postgres', "BEGIN;
		 SELECT FROM electric_shapes.authenticate('$tokens->{HS384}', '$secret');
		 SELECT electric_shapes.user_id();
		 COMMIT;"),
	'user-HS384',
	'authenticate sets the claims user_id reads');

# Fuzzing: inputs derived from valid tokens and from nothing, all through verify_jwt in one
# session; each call's SQLSTATE is recorded.
srand(20240607);
my @alphabet = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_', '.', '.', '=', '+', '/', ' ', "\x{c3}\x{a9}");
my @valid = map { $tokens->{$_} } qw(HS256 HS384 HS512 expired);

sub b64url
{
	my $text = encode_base64($_[0], '');
	$text =~ tr{+/}{-_};
	$text =~ s/=+$//;
	return $text;
}

sub signed
{
	my ($header, $payload) = @_;
	my $input = b64url($header) . '.' . b64url($payload);
	return $input . '.' . b64url(hmac_sha256($input, $secret));
}

sub random_text
{
	my ($length) = @_;
	return join '', map { $alphabet[ int(rand(@alphabet)) ] } 1 .. $length;
}

sub random_bytes
{
	my ($length) = @_;
	return join '', map { chr(int(rand(256))) } 1 .. $length;
}

my @inputs;
for my $token (@valid)
{
	push @inputs, substr($token, 0, $_) for 0 .. length($token) - 1;
}
for (1 .. 1000)
{
	my $token = $valid[ int(rand(@valid)) ];
	for (1 .. 1 + int(rand(3)))
	{
		substr($token, int(rand(length($token))), 1) = $alphabet[ int(rand(@alphabet)) ];
	}
	push @inputs, $token;
}
push @inputs, random_text(int(rand(150))) for 1 .. 1000;
push @inputs, join('.', map { b64url(random_bytes(int(rand(40)))) } 1 .. 3) for 1 .. 300;
for (1 .. 600)
{
	my $kind = $_ % 6;
	my $payload =
		$kind == 0 ? random_bytes(int(rand(60)))
	  : $kind == 1 ? '{"sub":"' . random_bytes(int(rand(20))) . '"}'
	  : $kind == 2 ? '{"a":' . ('[' x (int(rand(100)) + 1)) . (']' x int(rand(100))) . '}'
	  : $kind == 3 ? '{"sub":"\\u' . sprintf('%04x', int(rand(65536))) . '"}'
	  : $kind == 4 ? '{"exp":' . (rand() < 0.5 ? '"x"' : sprintf('%.3g', rand() * 1e20)) . '}'
	  :              '{"sub":"a\\u0000"}';
	my @headers = ('{"alg":"HS256"}', '{"alg":"' . random_text(5) . '"}', random_bytes(10), '{"alg":"HS256","crit":[]}');
	push @inputs, signed($headers[ $_ % 7 == 0 ? int(rand(@headers)) : 0 ], $payload);
}

# Inputs whose outcome is known, by position: the valid tokens, and forgeries of them, each with
# one bit of its signature flipped.
my %expected_state;
sub b64url_decode
{
	(my $text = $_[0]) =~ tr{-_}{+/};
	return decode_base64($text . '=' x ((4 - length($text) % 4) % 4));
}
for my $alg (qw(HS256 HS384 HS512))
{
	my $token = $tokens->{$alg};
	push @inputs, $token;
	$expected_state{ scalar @inputs } = 'ok';
	my ($signed_part, $signature_part) = $token =~ /^(.*)\.([^.]*)$/;
	my $signature = b64url_decode($signature_part);
	for my $bit (0, 1, 7, 8, 100, 8 * length($signature) - 1)
	{
		my $forged = $signature;
		vec($forged, $bit, 1) ^= 1;
		push @inputs, "$signed_part." . b64url($forged);
		$expected_state{ scalar @inputs } = '28P01';
	}
}

# True when a token's third part decodes to the HMAC of the first two under the secret, with the
# digest of one of the three algorithms.
sub signature_matches
{
	my ($token) = @_;
	my @parts = split /\./, $token, -1;
	return 0 unless @parts == 3 && $parts[2] =~ /^[A-Za-z0-9_-]+$/;
	my $signature = b64url_decode($parts[2]);
	my $input = "$parts[0].$parts[1]";
	return grep { $_ eq $signature }
	  (hmac_sha256($input, $secret), hmac_sha384($input, $secret), hmac_sha512($input, $secret));
}

my $file = "${PostgreSQL::Test::Utils::tmp_check}/jwt_fuzz_inputs.txt";
open(my $fh, '>:raw', $file) or die "could not write $file: $!";
for my $input (@inputs)
{
	(my $line = $input) =~ s/\\/\\\\/g;
	print $fh "$line\n";
}
close $fh;
my $count = scalar(@inputs);
note "fuzzing verify_jwt with $count inputs";

$node->safe_psql(
	'postgres', qq{
	CREATE TABLE fuzz (id serial PRIMARY KEY, token text);
	COPY fuzz (token) FROM '$file';
	CREATE TABLE fuzz_outcome (id int, state text);
	DO \$\$
	DECLARE
	    r record;
	    state text;
	BEGIN
	    FOR r IN SELECT id, token FROM fuzz ORDER BY id LOOP
	        BEGIN
	            IF r.id % 10 = 0 THEN
	                PERFORM electric_shapes.authenticate(r.token, '$secret');
	            ELSE
	                PERFORM electric_shapes.verify_jwt(r.token, '$secret', '1 second');
	            END IF;
	            state := 'ok';
	        EXCEPTION WHEN OTHERS THEN
	            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
	        END;
	        INSERT INTO fuzz_outcome VALUES (r.id, state);
	    END LOOP;
	END
	\$\$;});

is($node->safe_psql('postgres', 'SELECT count(*) FROM fuzz_outcome'), $count, 'every fuzz input was tried');
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(DISTINCT state, ',' ORDER BY state) FROM fuzz_outcome WHERE state NOT IN ('ok', '28000', '28P01')"),
	'',
	'every fuzz input either verified or failed with an authorization SQLSTATE');
note $node->safe_psql('postgres', "SELECT state || ': ' || count(*) FROM fuzz_outcome GROUP BY state ORDER BY state");
my %state_of = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres', 'SELECT id, state FROM fuzz_outcome');
my @forged_accepted = grep { $state_of{$_} eq 'ok' && !signature_matches($inputs[ $_ - 1 ]) } sort { $a <=> $b } keys %state_of;
is_deeply(\@forged_accepted, [], 'every verified fuzz input carries the HMAC of its header and payload');
is_deeply({ map { $_ => $state_of{$_} } keys %expected_state }, \%expected_state,
	'valid tokens verify and their forgeries are refused as invalid signatures');
cmp_ok(scalar(grep { $_ eq 'ok' } values %state_of), '>=', 3, 'verified inputs were checked');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
unlike(slurp_file($node->logfile), qr/terminated by signal|server process .* exited/, 'no backend crashed');

$node->stop;
done_testing();
