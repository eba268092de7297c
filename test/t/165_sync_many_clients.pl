# electric-shapes-sync meeting many clients at once:
# - started under a low soft limit of open files (ulimit -Sn 256, the hard limit untouched), it
#   raises its soft limit to the hard one, and so holds 400 long-polls at once (more sockets than
#   the old soft limit allowed), every one of which gets the change written while they wait;
# - 400 long-polls of which 399 clients then close their connections: each is noticed at once
#   (status 499 in the request log, no longer counted as a held live request), and the next
#   change is answered to the one client left only;
# - out of descriptors (a hard limit of 40 and 60 connections), it waits for one to be freed
#   instead of spinning a core on accept, and accepts again once connections end;
# - the first requests for two shapes of one table, arriving together, both get their shape. Each
#   create_shape has to set the table's REPLICA IDENTITY FULL, and the two ALTER TABLEs' lock
#   upgrades deadlock: the one PostgreSQL cancels is run again, not refused as an invalid where
#   clause. An event trigger that sleeps before every ALTER TABLE holds both in the window where
#   each has its first lock, so the deadlock happens on every run.
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

my $node = new_shapes_cluster('many', preload => 0);
$node->safe_psql('postgres', q{
    CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO items SELECT i, i % 3, 'v' || i FROM generate_series(1, 20) i;
    CREATE TABLE fresh (id int PRIMARY KEY, grp int NOT NULL, val text);
    INSERT INTO fresh SELECT i, i % 3, 'f' || i FROM generate_series(1, 20) i;
});
my $service = start_sync_service($node, storage => $node->basedir . '/sync_storage', long_poll => 60000,
    shell => 'ulimit -Sn 256');
ok(wait_healthy($service), 'the service streams');
my $http = HTTP::Tiny->new(timeout => 30);

# The limit: soft raised to hard.
my $limits = slurp_file("/proc/$service->{pid}/limits");
my ($soft, $hard) = $limits =~ /^Max open files\s+(\S+)\s+(\S+)/m;
is($soft, $hard, "the service's soft limit of open files is raised to the hard limit ($hard)");
ok($hard eq 'unlimited' || $hard >= 1024, 'the hard limit leaves room for the 400 long-polls of this test');

# Sends one raw HTTP request per socket (Connection: close, so the answer ends at EOF); returns
# the sockets.
sub send_requests
{
    my (@paths) = @_;
    my @socks;
    for my $path (@paths) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $service->{port}, Proto => 'tcp')
          or die "connect: $!";
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        push @socks, $s;
    }
    return @socks;
}

# Reads every socket to its end (or until the deadline); returns the texts, in order.
sub read_all
{
    my ($seconds, @socks) = @_;
    my %text = map { $_ => '' } @socks;
    my $select = IO::Select->new(@socks);
    my $deadline = time + $seconds;
    while ($select->count && time < $deadline) {
        for my $s ($select->can_read(1)) {
            my $n = sysread($s, my $buf, 65536);
            if ($n) { $text{$s} .= $buf; next; }
            $select->remove($s);
            close $s;
        }
    }
    return map { $text{$_} } @socks;
}

# 400 long-polls on one shape, then one change.
my $res = $http->get("$service->{base}/v1/shape?table=items&offset=-1");
is($res->{status}, 200, 'the shape is made') or diag($res->{content});
my $handle = $res->{headers}{'electric-handle'};
my @polls = send_requests(("/v1/shape?table=items&offset=0_inf&handle=$handle&live=true") x 400);
sleep 2;    # every request has reached the service
my $open = () = glob("/proc/$service->{pid}/fd/*");
cmp_ok($open, '>', 400, 'the service holds all 400 connections open at once');
$node->safe_psql('postgres', "INSERT INTO items VALUES (1000, 1, 'for everyone')");
my @answers = read_all(30, @polls);
my $good = grep { m{\AHTTP/1\.1 200 } && /"operation":"insert"/ && /"id":"1000"/ && /"val":"for everyone"/ } @answers;
is($good, 400, 'every one of 400 long-polls held at once gets the change')
  or diag('first other answer: ' . ((grep { !m{\AHTTP/1\.1 200 } } @answers)[0] // 'none') . "\nservice log:\n"
    . service_log($service));

# 400 long-polls again, then 399 of their clients close their connections: the service notices
# each at once (logged with status 499, no longer counted as held) and the next change is
# answered to the one left, not to 400 sockets of which 399 are closed.
my ($offset) = $answers[0] =~ /^electric-offset: (\S+)\r$/mi;
like($offset, qr/^\d+_\d+$/, 'the offset after the change');
my @crowd = send_requests(("/v1/shape?table=items&offset=$offset&handle=$handle&live=true") x 400);
sub live_requests
{
    my ($m) = $http->get("$service->{base}/metrics")->{content} =~ /^electric_shapes_sync_live_requests (\d+)$/m;
    return $m // -1;
}
my $deadline = time + 10;
usleep(100_000) while live_requests() != 400 && time < $deadline;
is(live_requests(), 400, 'the service holds the 400 long-polls');
my $before = scalar(() = service_log($service) =~ /"status":499/g);
close $_ for @crowd[1 .. 399];
$deadline = time + 10;
usleep(100_000) while live_requests() != 1 && time < $deadline;
is(live_requests(), 1, 'once 399 clients closed their connections, one long-poll is held');
is(scalar(() = service_log($service) =~ /"message":"request"[^\n]*"status":499/g) - $before, 399,
    'the 399 requests are logged as ended by their clients (499)');
my $answered = scalar(() = service_log($service) =~ m{"path":"/v1/shape","status":200}g);
$node->safe_psql('postgres', "INSERT INTO items VALUES (1001, 1, 'for the one left')");
my ($last) = read_all(30, $crowd[0]);
like($last, qr/"val":"for the one left"/, 'the client left gets the change');
is(scalar(() = service_log($service) =~ m{"path":"/v1/shape","status":200}g) - $answered, 1,
    'and is the only one answered');

# Out of descriptors: a second service (its own slot) whose hard limit is 40 gets 60 connections
# at once. It
# cannot accept them all; it must wait for descriptors without spinning a core on accept (which
# fails again at once while the connections stay queued), and accept again once some are freed.
my $small = start_sync_service($node, storage => $node->basedir . '/sync_storage_small', long_poll => 60000,
    shell => 'ulimit -n 40; export ELECTRIC_REPLICATION_STREAM_ID=small');
ok(wait_healthy($small), 'a service with 40 descriptors streams');
sub cpu_ticks
{
    my ($pid) = @_;
    my @f = split ' ', (slurp_file("/proc/$pid/stat") =~ s/^.*\) //sr);
    return $f[11] + $f[12];    # utime + stime
}
my @held = map {
    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $small->{port}, Proto => 'tcp') or die "connect: $!"
} 1 .. 60;
sleep 1;
my $ticks = cpu_ticks($small->{pid});
sleep 2;
$ticks = cpu_ticks($small->{pid}) - $ticks;
cmp_ok($ticks, '<', 50, "out of descriptors, the service does not spin (CPU ticks in 2 s: $ticks)");
close $_ for @held;
ok(wait_healthy($small, 20), 'it accepts again once connections end');

# Two first requests for shapes of a fresh table, together, with every ALTER TABLE held back.
$node->safe_psql('postgres', q{
    CREATE FUNCTION slow_alter() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(0.5); END $$;
    CREATE EVENT TRIGGER slow_alter ON ddl_command_start WHEN TAG IN ('ALTER TABLE')
        EXECUTE FUNCTION slow_alter();
});
my @first = read_all(60, send_requests(map { "/v1/shape?table=fresh&offset=-1&where=grp+%3D+$_" } 1, 2));
my @handles = map { /^electric-handle: (\S+)\r$/mi ? $1 : () } @first;
is(scalar(grep { m{\AHTTP/1\.1 200 } } @first), 2, 'both first requests get their shape')
  or diag(join("\n---\n", @first));
is(scalar(@handles), 2, 'two handles');
isnt($handles[0], $handles[1], 'two shapes');
is($node->safe_psql('postgres', "SELECT relreplident FROM pg_class WHERE oid = 'fresh'::regclass"), 'f',
    'the table has REPLICA IDENTITY FULL');
my $log = service_log($service);
is(scalar(() = $log =~ /"shape refused"/g), 0, 'no shape was refused');
like(slurp_file($node->logfile), qr/deadlock detected/, 'the two creations did deadlock in the server');

done_testing();
