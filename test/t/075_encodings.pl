# The stream is valid UTF-8 JSON whatever the database encoding. In a LATIN1 database every
# name and value is converted to UTF-8; in a SQL_ASCII database (which stores whatever bytes it
# is given) well-formed UTF-8 passes through and each other byte becomes the Latin-1 character
# of that byte (\u00XX). Both the SQL interface and the real pg_recvlogical are checked, and each
# line must decode as exactly one JSON document with exactly the expected strings.
#
# The SQL interface returns text of the database, which PostgreSQL converts to the client's
# encoding: there the plugin writes the database encoding (LATIN1 bytes, which a UTF8 client then
# receives as UTF-8: "café", not "cafÃ©"), and pg_logical_slot_get_binary_changes gives those
# database-encoded bytes as they are. pg_recvlogical always receives UTF-8.
#
# This file holds UTF-8 bytes and is read without `use utf8`: SQL is sent as bytes, and expected
# strings are decoded from UTF-8 before they are compared with decoded JSON.
use strict;
use warnings;
use Encode qw(decode encode);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;

my $node = new_shapes_cluster('encodings');

sub u { my $bytes = $_[0]; return decode('UTF-8', $bytes, Encode::FB_CROAK); }

# Decodes lines of raw bytes, checking each is well-formed UTF-8 and one JSON document.
sub decode_lines
{
    my ($what, @lines) = @_;
    my @messages;
    for my $line (@lines) {
        my $valid = eval { decode('UTF-8', $line, Encode::FB_CROAK | Encode::LEAVE_SRC); 1 };
        ok($valid, "$what: line is well-formed UTF-8") or diag(unpack('H*', $line));
        my $message = eval { decode_message($line) };
        ok(defined $message, "$what: line is one JSON document") or diag($@);
        push @messages, $message if $message;
    }
    return @messages;
}

# Streams the rows of the database through the SQL interface (text and bytea) and through
# pg_recvlogical, and checks the messages against the expected ones.
sub check_database
{
    my ($db, $setup, $writes, $expected, $to_utf8) = @_;
    $node->safe_psql('postgres',
        "CREATE DATABASE $db ENCODING '" . ($db eq 'latin1db' ? 'LATIN1' : 'SQL_ASCII')
          . "' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    $node->safe_psql($db, 'CREATE EXTENSION electric_shapes');
    $node->safe_psql($db, $setup);
    $node->safe_psql($db, qq{
        SELECT 'init' FROM pg_create_logical_replication_slot('${db}_sql', 'electric_shapes');
        SELECT 'init' FROM pg_create_logical_replication_slot('${db}_json', 'electric_shapes');
        SELECT 'init' FROM pg_create_logical_replication_slot('${db}_recv', 'electric_shapes');
    });
    my $file = $node->basedir . "/$db.jsonl";
    my @cmd = ('pg_recvlogical', '-d', $node->connstr($db), '--slot', "${db}_recv", '--start',
        '-f', $file, '-F', '1', '-s', '1', '--no-loop');
    my ($out, $err) = ('', '');
    my $handle = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
    $node->safe_psql($db, $writes);

    # A UTF8 client: PostgreSQL converts the text from the database encoding.
    my @text_lines = split /\n/, $node->safe_psql($db,
        qq{SET client_encoding = 'UTF8';
           SELECT data FROM pg_logical_slot_peek_changes('${db}_sql', NULL, NULL)});
    # Binary: the bytes the plugin wrote, in the database encoding.
    my @binary_lines = map { pack('H*', $_) } split /\n/, $node->safe_psql($db,
        qq{SELECT encode(data, 'hex') FROM pg_logical_slot_get_binary_changes('${db}_sql', NULL, NULL)});
    is_deeply(\@text_lines, [ map { $to_utf8->($_) } @binary_lines ],
        "$db: the binary SQL interface gives the text interface's messages in the database encoding");
    my @sql = decode_lines("$db SQL", @text_lines);
    is(scalar @sql, scalar @$expected, "$db SQL: message count");
    for my $i (0 .. $#$expected) {
        my $m = $sql[$i] or next;
        delete @{ $m->{headers} }{qw(lsn op_position txids)};
        is_deeply($m, $expected->[$i], "$db SQL: message $i has exactly the expected strings");
    }

    my @json = decode_lines("$db values=json", map { $to_utf8->(pack('H*', $_)) } split /\n/, $node->safe_psql($db,
        qq{SELECT encode(data, 'hex') FROM pg_logical_slot_get_binary_changes('${db}_json', NULL, NULL, 'values', 'json')}));

    my @lines;
    my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
    while (time < $deadline) {
        if (open my $fh, '<:raw', $file) {
            @lines = grep { $_ ne '' } map { s/\n$//r } grep { /\n$/ } <$fh>;
            close $fh;
        }
        last if @lines >= @$expected;
        select(undef, undef, undef, 0.1);
    }
    $handle->signal('INT');
    eval { $handle->finish; };
    my @recv = decode_lines("$db pg_recvlogical", @lines);
    is(scalar @recv, scalar @$expected, "$db pg_recvlogical: message count");
    for my $i (0 .. $#$expected) {
        my $m = $recv[$i] or next;
        delete @{ $m->{headers} }{qw(lsn op_position txids)};
        is_deeply($m, $expected->[$i], "$db pg_recvlogical: message $i has exactly the expected strings");
    }
    return { json => \@json, text => \@text_lines, binary => \@binary_lines, recv => \@lines };
}

# ---- LATIN1: names and values converted to UTF-8 ----------------------------------------------
{
    my $schema = u('schéma');
    my $table = u('tëst "q" \ ß');
    my $prefix = qq{"$schema"."$table"};
    my $insert = sub {
        my ($key, %value) = @_;
        return { headers => { operation => 'insert', relation => [ $schema, $table ],
                              shapes => ['enc'] },
                 key => $prefix . u($key), value => { map { u($_) => $value{$_} } keys %value } };
    };
    my $streams = check_database('latin1db',
        q{SET client_encoding = 'UTF8';
          CREATE SCHEMA "schéma";
          CREATE TABLE "schéma"."tëst ""q"" \ ß" (
              id int, "clé/k" text, "straße" text, "naïve""\ col
x" text, doc jsonb, PRIMARY KEY (id, "clé/k"));
          SELECT electric_shapes.create_shape('enc', '"schéma"."tëst ""q"" \ ß"',
                                              '"straße" IS DISTINCT FROM ''ignoré''');},
        q{SET client_encoding = 'UTF8';
          INSERT INTO "schéma"."tëst ""q"" \ ß" VALUES
            (1, 'ß/é', 'é ß ü ÿ © "quoted" back\slash', E'line1\nline2\ttab\x01ctl\x1f',
             '{"clé": "välue \"q\" \\\\ ñ"}'),
            (2, 'plain', 'ignoré', 'x', NULL),
            (3, '', NULL, '\', '["ß", 1.5]'),
            (4, 'k', 'café', 'x', NULL);},
        [
          $insert->('/"1"/"ß//é"', id => '1', 'clé/k' => u('ß/é'),
                    'straße' => u('é ß ü ÿ © "quoted" back\slash'),
                    qq{naïve"\\ col\nx} => "line1\nline2\ttab\x01ctl\x1f",
                    doc => u('{"clé": "välue \"q\" \\\\ ñ"}')),
          $insert->('/"3"/""', id => '3', 'clé/k' => '', 'straße' => undef,
                    qq{naïve"\\ col\nx} => '\\', doc => u('["ß", 1.5]')),
          $insert->('/"4"/"k"', id => '4', 'clé/k' => 'k', 'straße' => u('café'),
                    qq{naïve"\\ col\nx} => 'x', doc => undef),
        ], sub { encode('UTF-8', decode('latin1', $_[0])) });
    my @json = @{ $streams->{json} };
    # The bytes themselves: UTF-8 for a UTF8 client of the SQL interface and for pg_recvlogical,
    # LATIN1 (é = E9, ß = DF) from the binary SQL interface.
    my ($text_cafe) = grep { /"id":"4"/ } @{ $streams->{text} };
    ok(index($text_cafe // '', '"straße":"café"') >= 0,
        'latin1db get_changes: café comes back as café') or diag($text_cafe);
    my ($binary_cafe) = grep { /"id":"4"/ } @{ $streams->{binary} };
    ok(index($binary_cafe // '', "\"stra\xdfe\":\"caf\xe9\"") >= 0,
        'latin1db get_binary_changes: café in LATIN1 bytes') or diag($binary_cafe);
    my ($recv_cafe) = grep { /"id":"4"/ } @{ $streams->{recv} };
    ok(index($recv_cafe // '', '"straße":"café"') >= 0,
        'latin1db pg_recvlogical: café in UTF-8') or diag($recv_cafe);
    # shape_snapshot returns text of the database too.
    my ($snapshot_cafe) = grep { /"id":"4"/ } split /\n/, $node->safe_psql('latin1db',
        q{SET client_encoding = 'UTF8'; SELECT electric_shapes.shape_snapshot('enc')});
    ok(index($snapshot_cafe // '', '"straße":"café"') >= 0,
        'latin1db shape_snapshot: café comes back as café') or diag($snapshot_cafe);
    # values=json embeds jsonb as JSON: converted too.
    is_deeply([ map { $_->{value}{doc} } @json ],
        [ { u('clé') => u('välue "q" \\ ñ') }, [ u('ß'), 1.5 ], undef ], 'latin1db values=json: documents');
}

# ---- SQL_ASCII: well-formed UTF-8 passes, other bytes become \u00XX -----------------------------
{
    # "caf\xe9" is a raw byte E9 in a name and in values: not UTF-8, written as U+00E9.
    my $table = "t" . u('ë') . "st_caf\x{e9}";
    my $prefix = qq{"public"."$table"};
    my $insert = sub {
        my ($key, %value) = @_;
        return { headers => { operation => 'insert', relation => [ 'public', $table ],
                              shapes => ['enc'] },
                 key => $prefix . $key, value => \%value };
    };
    my $streams = check_database('asciidb',
        qq{CREATE TABLE "tëst_caf\xe9" (id int PRIMARY KEY, "col_\xff" text, doc jsonb);
           SELECT electric_shapes.create_shape('enc', '"tëst_caf\xe9"');},
        qq{INSERT INTO "tëst_caf\xe9" VALUES
             (1, 'é 😀 "q" \\ ', '{"k": "caf\xe9 ß"}'),
             (2, E'caf\\xe9 \\xff\\xfe \\xe2\\x82 end\\n', NULL),
             (3, E'\\x01\\x7f', '[1, "\xc3\xa9\xe9"]');},
        [
          $insert->('/"1"', id => '1', "col_\x{ff}" => u('é 😀 "q" \\ '),
                    doc => u('{"k": "caf') . "\x{e9}" . u(' ß"}')),
          $insert->('/"2"', id => '2', "col_\x{ff}" => "caf\x{e9} \x{ff}\x{fe} \x{e2}\x{82} end\n",
                    doc => undef),
          $insert->('/"3"', id => '3', "col_\x{ff}" => "\x01\x7f",
                    doc => '[1, "' . u('é') . "\x{e9}" . '"]'),
        ], sub { $_[0] });
    my @json = @{ $streams->{json} };
    # values=json embeds jsonb as JSON: repaired inside its strings.
    is_deeply([ map { $_->{value}{doc} } @json ],
        [ { k => "caf\x{e9} " . u('ß') }, undef, [ 1, u('é') . "\x{e9}" ] ],
        'asciidb values=json: documents');
}

done_testing();
