# A reference consumer of electric_shapes, as README.protocol.md describes it: it rebuilds shapes
# from shape_snapshot() and the stream (pg_recvlogical output files), and keeps nothing but what a
# real sync service would keep.
#
#  - Snapshot: the rows of shape_snapshot() become the shape's rows; its snapshot-end message is
#    kept (xmin, xmax, xip_list).
#  - Stream: a row message for a shape is applied unless its transaction (txids[0]) is visible in
#    that shape's snapshot: xid < xmin, or xid < xmax and not in xip_list. Messages for a followed
#    shape that arrive before its snapshot is taken wait for it.
#  - insert puts the whole projected row; update merges the columns it carries (replica default
#    sends key + changed columns, full the whole row); delete removes the key. must-refetch takes
#    a new snapshot of the shape through the refetch callback.
#  - Reconnects: (lsn, op_position) strictly increases through a slot's stream, so a message at
#    or below the last applied position was re-sent and is skipped.
#  - What should never happen (an insert of a key already there, an update or delete of a key
#    that is not) is recorded in anomalies, so tests can assert nothing was applied twice.
#
# State is plain data and can be saved to and loaded from a file, as a consumer that restarts
# would do.
package ShapeConsumer;

use strict;
use warnings;
use JSON::PP;

my $json = JSON::PP->new->utf8->canonical;

# new(refetch => sub { my ($shape) = @_; return @snapshot_lines })
sub new
{
    my ($class, %opts) = @_;
    my $self = bless {
        refetch => $opts{refetch},
        state => {
            follow => {},      # shape => 1 for the shapes this consumer rebuilds
            snapshots => {},   # shape => { xmin, xmax, xip => { xid => 1 }, lsn }
            rows => {},        # shape => { key => { column => value } }
            pending => {},     # shape => [ messages waiting for its snapshot ]
            last => undef,     # [lsn, op_position] of the last message taken from the stream
            offsets => {},     # stream file => bytes consumed
            counts => { applied => 0, visible => 0, duplicates => 0, refetches => 0 },
            anomalies => [],
        },
    }, $class;
    return $self;
}

# Follows a shape: its messages are kept until its snapshot arrives.
sub follow
{
    my ($self, $shape) = @_;
    $self->{state}{follow}{$shape} = 1;
    $self->{state}{pending}{$shape} //= [];
    return;
}

# Applies the lines of shape_snapshot($shape): rows, then snapshot-end; replays waiting messages.
sub apply_snapshot
{
    my ($self, $shape, @lines) = @_;
    my $s = $self->{state};
    die "empty snapshot of $shape" unless @lines;
    my $end = $json->decode(pop @lines)->{headers};
    die "snapshot of $shape does not end with snapshot-end"
      unless ($end->{control} // '') eq 'snapshot-end';
    my %rows;
    for my $line (@lines) {
        my $m = $json->decode($line);
        my $h = $m->{headers};
        die "not a snapshot row: $line"
          if $h->{operation} ne 'insert' || exists $h->{lsn} || $h->{shapes}[0] ne $shape;
        $self->anomaly("snapshot of $shape repeats $m->{key}") if exists $rows{ $m->{key} };
        $rows{ $m->{key} } = $m->{value};
    }
    $s->{rows}{$shape} = \%rows;
    $s->{snapshots}{$shape} = {
        xmin => $end->{xmin},
        xmax => $end->{xmax},
        xip => { map { $_ => 1 } @{ $end->{xip_list} } },
        lsn => $end->{lsn},
    };
    $s->{follow}{$shape} = 1;
    my $pending = delete $s->{pending}{$shape} // [];
    $self->apply_row($shape, $_) for @$pending;
    return $s->{snapshots}{$shape};
}

# True when transaction $xid is visible in snapshot $snap (its changes are in the snapshot rows).
sub visible
{
    my ($snap, $xid) = @_;
    return 1 if $xid < $snap->{xmin};
    return 0 if $xid >= $snap->{xmax};
    return !$snap->{xip}{$xid};
}

# Takes one stream message (decoded).
sub apply_message
{
    my ($self, $m) = @_;
    my $s = $self->{state};
    my $h = $m->{headers};
    if (defined $h->{op_position}) {
        my $last = $s->{last};
        if ($last
            && ($h->{lsn} < $last->[0] || ($h->{lsn} == $last->[0] && $h->{op_position} <= $last->[1])))
        {
            $s->{counts}{duplicates}++;
            return;
        }
        $s->{last} = [ $h->{lsn}, $h->{op_position} ];
    }
    my $control = $h->{control} // '';
    if ($control eq 'must-refetch') {
        for my $shape (grep { $s->{follow}{$_} } @{ $h->{shapes} }) {
            $s->{counts}{refetches}++;
            delete $s->{snapshots}{$shape};
            $s->{pending}{$shape} = [];
            $self->apply_snapshot($shape, $self->{refetch}->($shape));
        }
        return;
    }
    if ($control eq 'shape-dropped') {
        for my $shape (grep { $s->{follow}{$_} } @{ $h->{shapes} }) {
            delete $s->{$_}{$shape} for qw(follow snapshots rows pending);
        }
        return;
    }
    return if $control ne '';    # begin, commit, shape-added
    for my $shape (@{ $h->{shapes} }) {
        next unless $s->{follow}{$shape};
        if ($s->{snapshots}{$shape}) {
            $self->apply_row($shape, $m);
        } else {
            push @{ $s->{pending}{$shape} }, $m;
        }
    }
    return;
}

# Applies a row message to one shape, unless the shape's snapshot already holds its transaction.
sub apply_row
{
    my ($self, $shape, $m) = @_;
    my $s = $self->{state};
    my $h = $m->{headers};
    if (visible($s->{snapshots}{$shape}, $h->{txids}[0])) {
        $s->{counts}{visible}++;
        return;
    }
    my $rows = $s->{rows}{$shape};
    my $key = $m->{key};
    my $op = $h->{operation};
    if ($op eq 'insert') {
        $self->anomaly("insert of $key into $shape, which has it") if exists $rows->{$key};
        $rows->{$key} = { %{ $m->{value} } };
    } elsif ($op eq 'update') {
        if (!exists $rows->{$key}) {
            $self->anomaly("update of $key in $shape, which lacks it");
            $rows->{$key} = {};
        }
        $rows->{$key}{$_} = $m->{value}{$_} for keys %{ $m->{value} };
    } elsif ($op eq 'delete') {
        $self->anomaly("delete of $key from $shape, which lacks it") unless exists $rows->{$key};
        delete $rows->{$key};
    } else {
        die "unknown operation $op";
    }
    $s->{counts}{applied}++;
    return;
}

sub anomaly
{
    my ($self, $what) = @_;
    push @{ $self->{state}{anomalies} }, $what;
    return;
}

# Applies the complete lines of a pg_recvlogical output file that were not read yet. A last line
# without its newline (the writer was killed while writing it) is left for later; it is re-sent
# after a reconnect anyway.
sub apply_file
{
    my ($self, $file) = @_;
    return 0 unless -e $file;
    my $s = $self->{state};
    open my $fh, '<', $file or die "cannot open $file: $!";
    binmode $fh;
    seek $fh, $s->{offsets}{$file} // 0, 0;
    my $taken = 0;
    while (my $line = <$fh>) {
        last unless $line =~ /\n\z/;
        $s->{offsets}{$file} += length $line;
        chomp $line;
        next if $line eq '';
        $self->apply_message($json->decode($line));
        $taken++;
    }
    close $fh;
    return $taken;
}

sub rows { my ($self, $shape) = @_; return $self->{state}{rows}{$shape} // {}; }
sub counts { my ($self) = @_; return $self->{state}{counts}; }
sub anomalies { my ($self) = @_; return $self->{state}{anomalies}; }
sub last_position { my ($self) = @_; return $self->{state}{last}; }

# Saves the consumer's state to a file, written whole then renamed into place.
sub save
{
    my ($self, $path) = @_;
    open my $fh, '>', "$path.tmp" or die "cannot write $path.tmp: $!";
    print $fh $json->encode($self->{state});
    close $fh or die "cannot write $path.tmp: $!";
    rename "$path.tmp", $path or die "cannot rename $path.tmp: $!";
    return;
}

# A consumer with the state of a file written by save.
sub load
{
    my ($class, $path, %opts) = @_;
    my $self = $class->new(%opts);
    open my $fh, '<', $path or die "cannot read $path: $!";
    local $/;
    $self->{state} = $json->decode(<$fh>);
    close $fh;
    return $self;
}

1;
