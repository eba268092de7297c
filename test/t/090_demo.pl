# test/demo, the main job a new user runs first, must end by itself and cleanly: pg_recvlogical,
# the sync service and its web client stopped (a signal sent to a subshell instead once left
# pg_recvlogical streaming for ever), exit status 0, the scratch cluster gone, and the shaped
# changes of the chat traffic shown on the way, by the stream and by the client.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

# The installation test/run made, which holds electric_shapes: the demo then builds nothing.
my $bindir = `pg_config --bindir`;
chomp $bindir;
ok(-x "$bindir/pg_recvlogical", 'installation found');

my $bound = 120;
my ($out, $err) = ('', '');
my $started = time;
my $handle = IPC::Run::start([ 'bash', "$ENV{ES_ROOT}/test/demo", '5' ],
    '<', \undef, '>', \$out, '2>', \$err,
    init => sub { $ENV{ES_DEMO_PGBIN} = $bindir; },
    IPC::Run::timeout($bound));
my $finished = eval { $handle->finish; 1 };
my $elapsed = time - $started;
ok($finished, "the demo ended by itself within $bound seconds") or do {
    $handle->kill_kill;
    diag("stdout:\n$out\nstderr:\n$err");
};
is($handle->result(0), 0, 'the demo exits with status 0') if $finished;
is($err, '', 'the demo writes nothing to stderr');
like($out, qr/^== done: \d+ transactions written, all streamed$/m, 'the demo says it has finished');

# The first write is message 1 in conversation 2: only random_bodies' columns, between the
# transaction's begin and commit.
my @lines = grep { /^\{/ } split /\n/, $out;
my @messages = map { JSON::PP->new->utf8->decode($_) } @lines;
my @controls = map { $_->{headers}{control} // $_->{headers}{operation} } @messages[0 .. 2];
is_deeply(\@controls, [ 'begin', 'insert', 'commit' ], 'the first transaction is streamed whole');
my $insert = $messages[1];
delete @{ $insert->{headers} }{qw(lsn txids)};
is_deeply($insert, {
    headers => { operation => 'insert', relation => [ 'public', 'messages' ],
                 shapes => ['random_bodies'], op_position => 0 },
    key => '"public"."messages"/"1"',
    value => { id => '1', author_id => '2', body => 'message 1: c4ca4238a0b923820dcc509a6f75849b' } },
    'the first message is the insert random_bodies should see');

# The web client on the sync service saw the traffic of conversation 1 exactly: replaying the
# changes it printed, in order, gives the conversation's rows as the database has them at the
# end, and each message it holds arrived as one insert (written there, or moved there).
my @shape_rows = map { /^shape row: (.*)$/ ? $1 : () } split /\n/, $out;
my %client;
my @client_inserts;
for my $line (split /\n/, $out) {
    next unless $line =~ /^client: (insert|update|delete) (\{.*\})$/;
    my ($op, $value) = ($1, JSON::PP->new->utf8->decode($2));
    if ($op eq 'insert') {
        ok(!exists $client{ $value->{id} }, "client: message $value->{id} inserted once")
          or next;
        push @client_inserts, $value->{id};
        $client{ $value->{id} } = { %$value };
    }
    elsif ($op eq 'update') {
        ok(exists $client{ $value->{id} }, "client: message $value->{id} updated after its insert") or next;
        $client{ $value->{id} } = { %{ $client{ $value->{id} } }, %$value };
    }
    else {
        delete $client{ $value->{id} };
    }
}
like($out, qr/^== the client holds conversation 1 as the database does, (\d+) messages:$/m,
    'the demo says its client holds conversation 1');
ok(@shape_rows > 0, 'conversation 1 has messages at the end');
is(join("\n", map { "$_|$client{$_}{body}" } sort { $a <=> $b } keys %client), join("\n", @shape_rows),
    "the client's changes, replayed, give conversation 1's rows");
is(scalar(grep { $_->{conversation_id} ne '1' } values %client), 0, 'the client holds only conversation 1');

# Everything it started is gone: the scratch directory with the cluster in it, and its processes.
my ($work) = $out =~ /^scratch directory: (\S+)$/m;
ok(defined $work && !-e $work, 'the scratch directory is removed');
my $left = `ps -eo args`;
ok($left !~ /\Q$work\E/, 'no process of the demo is left') if defined $work;

done_testing();
