# Runs the TAP tests with TAP::Harness and prints one summary line that test/run adds up:
# "tap totals: N passed, N failed", counting test points. A file that dies, exits non-zero or
# runs a different number of tests than it planned counts as one more failure.
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
my $aggregate = $harness->runtests(@ARGV);

my ($passed, $failed) = (0, 0);
for my $file ($aggregate->descriptions) {
    my ($parser) = $aggregate->parsers($file);
    my $bad = scalar($parser->failed);
    $passed += scalar($parser->passed);
    $bad += 1 if $bad == 0 && $parser->has_problems;
    $failed += $bad;
}
print "tap totals: $passed passed, $failed failed\n";
exit($failed ? 1 : 0);
