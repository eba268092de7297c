# Runs the TAP tests with TAP::Harness and prints one summary line that test/run adds up:
# "tap totals: N passed, N failed, N skipped", counting test points. A file that dies, exits
# non-zero, runs a different number of tests than it planned, or runs no test at all counts as
# one more failure. Skipped test points and files skipped whole are counted apart, never as
# passes, and listed with their reasons. Exits non-zero when anything failed.
use strict;
use warnings;
use TAP::Harness;

my $pgxs = `pg_config --pgxs`;
chomp $pgxs;
(my $perl_lib = $pgxs) =~ s{/src/makefiles/pgxs\.mk$}{/src/test/perl};

my $harness = TAP::Harness->new({
    lib       => [$perl_lib, "$ENV{ES_ROOT}/test/lib"],
    verbosity => $ENV{TAP_VERBOSE} ? 1 : 0,
    timer     => 1,
});
my %skip_reasons;    # file => [ "test N: reason", ... ]
$harness->callback(made_parser => sub {
    my ($parser, $job) = @_;
    my $file = $job->[1];    # [file name, description]
    $parser->callback(test => sub {
        my $result = shift;
        push @{ $skip_reasons{$file} }, "test " . $result->number . ": " . $result->explanation
            if $result->has_skip;
    });
});
my $aggregate = $harness->runtests(@ARGV);

my ($passed, $failed, $skipped) = (0, 0, 0);
for my $file ($aggregate->descriptions) {
    my ($parser) = $aggregate->parsers($file);
    if (defined $parser->skip_all) {
        print "tap skipped: $file (whole file): ", $parser->skip_all, "\n";
        $skipped += 1;
        $failed += 1 if $parser->exit || $parser->wait;
        next;
    }
    my %skip = map { $_ => 1 } $parser->skipped;
    print "tap skipped: $file $_\n" for @{ $skip_reasons{$file} || [] };
    my $bad = scalar($parser->failed);
    $bad += 1 if $bad == 0 && ($parser->has_problems || $parser->tests_run == 0);
    $passed += scalar($parser->passed) - scalar(keys %skip);
    $skipped += scalar(keys %skip);
    $failed += $bad;
}
print "tap totals: $passed passed, $failed failed, $skipped skipped\n";
exit($failed ? 1 : 0);
