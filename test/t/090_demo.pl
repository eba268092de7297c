# test/demo, the main job a new user runs first, must end by itself and cleanly: pg_recvlogical
# stopped (a signal sent to a subshell instead once left it streaming for ever), exit status 0,
# the scratch cluster gone, and the shaped changes of the chat traffic shown on the way.
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
my $handle = IPC::Run::start([ 'bash', "$ENV{ES_ROOT}/test/demo", '2' ],
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

# Everything it started is gone: the scratch directory with the cluster in it, and its processes.
my ($work) = $out =~ /^scratch directory: (\S+)$/m;
ok(defined $work && !-e $work, 'the scratch directory is removed');
my $left = `ps -eo args`;
ok($left !~ /\Q$work\E/, 'no process of the demo is left') if defined $work;

done_testing();
