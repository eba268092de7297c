# Helpers shared by the TAP tests: throwaway clusters configured for electric_shapes, the real
# pg_recvlogical as consumer, and reading what it wrote.
package ElectricShapesTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(new_shapes_cluster start_recvlogical stop_recvlogical wait_for_messages
  read_messages decode_message);

# A started cluster with logical decoding, the plugin allowed and (unless preload => 0) preloaded.
sub new_shapes_cluster
{
    my ($name, %opts) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init(allows_streaming => 'logical');
    my $preload = exists $opts{preload} ? $opts{preload} : 1;
    my $conf = "output_plugin_libraries = 'pgoutput, test_decoding, electric_shapes'\n"
      . "max_replication_slots = 10\nmax_wal_senders = 10\nwal_sender_timeout = 0\n";
    $conf .= "shared_preload_libraries = 'electric_shapes'\n" if $preload;
    $conf .= $opts{extra_conf} if $opts{extra_conf};
    $node->append_conf('postgresql.conf', $conf);
    $node->start;
    $node->safe_psql('postgres', 'CREATE EXTENSION electric_shapes') unless $opts{no_extension};
    return $node;
}

# Starts pg_recvlogical streaming slot into file; returns the IPC::Run handle.
sub start_recvlogical
{
    my ($node, $slot, $file, @options) = @_;
    my @cmd = (
        'pg_recvlogical', '-d', $node->connstr('postgres'), '--slot', $slot, '--start',
        '-f', $file, '-F', '1', '-s', '1', '--no-loop');
    push @cmd, map { ('-o', $_) } @options;
    my ($out, $err) = ('', '');
    my $handle = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
    return { handle => $handle, out => \$out, err => \$err };
}

# Stops pg_recvlogical the way a user would (SIGINT), waiting for it to flush and exit.
sub stop_recvlogical
{
    my ($consumer) = @_;
    my $handle = $consumer->{handle};
    return unless $handle->pumpable;
    $handle->signal('INT');
    eval { $handle->finish; };
    return;
}

# Lines of file as decoded JSON messages (skips a last, partly written line).
sub read_messages
{
    my ($file) = @_;
    return () unless -e $file;
    open my $fh, '<', $file or die "cannot open $file: $!";
    my @messages;
    while (my $line = <$fh>) {
        last unless $line =~ /\n$/;
        chomp $line;
        next if $line eq '';
        push @messages, decode_message($line);
    }
    close $fh;
    return @messages;
}

# One line of the stream as a Perl structure; dies when it is not exactly one JSON document.
sub decode_message
{
    my ($line) = @_;
    return JSON::PP->new->utf8->decode($line);
}

# Waits until file holds at least $count messages or the timeout passes; returns them.
sub wait_for_messages
{
    my ($file, $count, $timeout) = @_;
    $timeout //= $PostgreSQL::Test::Utils::timeout_default;
    my $deadline = time + $timeout;
    my @messages;
    while (time < $deadline) {
        @messages = read_messages($file);
        return @messages if @messages >= $count;
        usleep(100_000);
    }
    return @messages;
}

1;
