# The documentation's examples, run: README.md and docs/*.md are read top to bottom, and every
# fenced block marked runnable is run, in order, on one throwaway server configured with the
# README's own configuration block; where the text shows a block's output, the output must be
# exactly that. A document whose examples stop working, or whose shown output is wrong, fails here.
#
# Markers are HTML comments (invisible when rendered) on the line before a fence:
#   <!-- doc-test: conf -->            the block's heredoc body (or the block itself) is the
#                                      server configuration; it is appended to the test server's
#                                      postgresql.conf. Exactly one in all the documents.
#   <!-- doc-test: sh -->              run in the document's shell session: one bash per document,
#                                      started in the source tree, state (variables, cwd, jobs)
#                                      kept between blocks as in a terminal; a failing command
#                                      (set -e) fails the test.
#   <!-- doc-test: sh background -->   as sh, but started in the background, as in a second
#                                      terminal; its output is checked by "output background".
#   <!-- doc-test: sql db=NAME -->     run by psql -X -v ON_ERROR_STOP=1 -d NAME, block on stdin.
#   <!-- doc-test: sql db=NAME error --> as sql, and psql must fail (the output shows the error).
#   <!-- doc-test: output -->          the expected output (stdout and stderr, as a terminal shows
#                                      them) of the runnable block just before it.
#   <!-- doc-test: output background --> the expected output of the background block: the test
#                                      waits for its lines, then stops it with SIGINT (Ctrl-C).
#   <!-- doc-test: promtool-rules -->  a Prometheus rules file: promtool check rules must accept it.
#   <!-- doc-test: js background service=DB --> a Node program (an ES module, importing the npm
#                                      packages of test/npm), run in the background against an
#                                      electric-shapes-sync the test starts on database DB (one per
#                                      database, on a free port, which replaces the 3000 of
#                                      "localhost:3000" in the text); the test goes on once it has
#                                      printed its first line (the client has synced), and its output
#                                      is checked by "output background".
#   <!-- doc-test: skip REASON -->     not run (needs root, apt, systemctl, or is a fragment).
# Every sh, bash, console and sql block carries a marker, so that no example escapes the test.
#
# Values that differ from run to run are normalised, in the shown and in the real output alike,
# and nothing else: a message's "lsn", "txids" and "commit_time", a snapshot's "xmin", "xmax"
# and "xip_list", and LSNs written as pg_lsn (0/16B3748); and blanks at line ends, which the
# rendered page does not show and editors remove.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SyncServiceTest;

my $root = $ENV{ES_ROOT} or die "ES_ROOT is not set";
my @files = ("$root/README.md", sort glob("$root/docs/*.md"));
my $block_timeout = 180;

# --- Reading the documents.

# The fenced blocks of one Markdown file: [{lang, marker, text, line}].
sub blocks_of
{
    my ($file) = @_;
    open my $fh, '<', $file or die "cannot read $file: $!";
    my @lines = <$fh>;
    close $fh;
    my @blocks;
    my $marker;
    for (my $i = 0; $i < @lines; $i++) {
        my $line = $lines[$i];
        if ($line =~ /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/) {
            $marker = $1;
            next;
        }
        # A fence may be indented (inside a list item): its indentation is not part of the text.
        if ($line =~ /^(\s*)```(\S*)\s*$/) {
            my ($indent, $lang, $start) = ($1, $2, $i + 1);
            my $text = '';
            $i++;
            while ($i < @lines && $lines[$i] !~ /^\s*```\s*$/) {
                (my $l = $lines[$i]) =~ s/^\Q$indent\E//;
                $text .= $l;
                $i++;
            }
            die "$file:$start: fence not closed" if $i >= @lines;
            push @blocks, { lang => $lang, marker => $marker, text => $text, line => $start };
            $marker = undef;
            next;
        }
        $marker = undef if $line =~ /\S/;
    }
    return @blocks;
}

my %blocks_by_file = map { $_ => [ blocks_of($_) ] } @files;

# Every shell or SQL example is marked, one way or the other.
my @unmarked;
for my $file (@files) {
    for my $b (@{ $blocks_by_file{$file} }) {
        (my $doc = $file) =~ s{^\Q$root\E/}{};
        push @unmarked, "$doc:$b->{line} ($b->{lang})"
          if $b->{lang} =~ /^(sh|bash|console|sql|psql)$/ && !defined $b->{marker};
    }
}
is(join("\n", @unmarked), '', 'every shell and SQL block carries a doc-test marker');

# The configuration block: its heredoc body, or its text.
my @conf = map { my $f = $_; map { [ $f, $_ ] } grep { ($_->{marker} // '') eq 'conf' } @{ $blocks_by_file{$f} } } @files;
is(scalar(@conf), 1, 'exactly one configuration block');
my $conf_text = $conf[0][1]{text};
$conf_text = $2 if $conf_text =~ /<<\s*'?(\w+)'?[^\n]*\n(.*?)^\1[ \t]*$/ms;

# Every link from one document to another, or to a heading, leads somewhere: GitHub's anchors are
# the heading's text in lower case, without punctuation, blanks turned into hyphens.
sub anchors_of
{
    my ($file) = @_;
    my %anchors;
    my $in_fence = 0;
    for my $line (split /\n/, PostgreSQL::Test::Utils::slurp_file($file)) {
        $in_fence = !$in_fence if $line =~ /^\s*```/;
        next if $in_fence || $line !~ /^#+\s+(.*?)\s*$/;
        (my $a = lc $1) =~ s/[^\w\- ]//g;
        $a =~ s/ /-/g;
        $anchors{$a} = 1;
    }
    return \%anchors;
}
my @broken;
for my $file (@files) {
    (my $doc = $file) =~ s{^\Q$root\E/}{};
    (my $dir = $file) =~ s{/[^/]*$}{};
    my $text = PostgreSQL::Test::Utils::slurp_file($file);
    while ($text =~ /\]\(([^)\s]+)\)/g) {
        my $link = $1;
        next if $link =~ /^[a-z]+:/;    # http:, https:, mailto:
        my ($path, $anchor) = split /#/, $link, 2;
        my $target = $path eq '' ? $file : "$dir/$path";
        if (!-e $target) { push @broken, "$doc: $link (no such file)"; next; }
        push @broken, "$doc: $link (no such heading)"
          if defined $anchor && !anchors_of($target)->{$anchor};
    }
}
is(join("\n", @broken), '', 'every link between the documents leads to a file and heading');

# --- The server: configured as the README says (the test framework's own settings first).
my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init(allows_streaming => 'logical');
$node->append_conf('postgresql.conf', "# The README's configuration block\n$conf_text");
$node->start;

my $scratch = tempdir('docs_XXXX', DIR => $PostgreSQL::Test::Utils::tmp_check, CLEANUP => 1);
my $stdbuf = '/usr/libexec/coreutils/libstdbuf.so';
ok(-e $stdbuf, "$stdbuf exists (psql then writes unbuffered, as on a terminal)");

# The environment every example runs in: the test server as the default server, psql's output
# unbuffered so that notices and results interleave as a terminal shows them.
my %env = (
    PGHOST => $node->host, PGPORT => $node->port, PGUSER => 'postgres',
    LD_PRELOAD => $stdbuf, _STDBUF_O => '0', PAGER => '', PSQL_PAGER => '',
    LC_ALL => 'C.UTF-8');

# --- Normalisation of what varies from run to run, and nothing else.
sub normalise
{
    my ($text) = @_;
    $text =~ s/"lsn":"\d+"/"lsn":"<lsn>"/g;
    $text =~ s/"txids":\[\d+\]/"txids":[<xid>]/g;
    $text =~ s/"commit_time":"[^"]*"/"commit_time":"<time>"/g;
    $text =~ s/"(xmin|xmax)":"\d+"/"$1":"<xid>"/g;
    $text =~ s/"xip_list":\[[^\]]*\]/"xip_list":[<xids>]/g;
    $text =~ s/\b[0-9A-F]{1,8}\/[0-9A-F]{1,8}\b/<lsn>/g;
    # Blanks at line ends: invisible on the rendered page, and removed by many editors.
    $text =~ s/[ \t]+$//mg;
    return $text;
}

# --- A document's shell session.
sub start_session
{
    my ($name) = @_;
    my $dir = "$scratch/$name";
    mkdir $dir;
    my ($in, $out) = ('', '');
    local %ENV = (%ENV, %env);
    delete $ENV{PGAPPNAME};    # set by the test framework; a user's session has none
    my $h = IPC::Run::start([ 'bash', '--noprofile', '--norc' ], '<', \$in, '>', \$out, '2>&1',
        init => sub { chdir $root or die "chdir $root: $!" });
    my $session = { h => $h, in => \$in, out => \$out, dir => $dir, n => 0 };
    run_in_session($session, "set -e\n", 'start');
    return $session;
}

# Runs text in the session; returns (completed, output).
sub run_in_session
{
    my ($s, $text, $label) = @_;
    my $file = "$s->{dir}/block" . ++$s->{n} . '.sh';
    open my $fh, '>', $file or die "cannot write $file: $!";
    print $fh $text;
    close $fh;
    ${ $s->{out} } = '';
    ${ $s->{in} } .= "source '$file'\nprintf '\\n__DOC_TEST_DONE__\\n'\n";
    my $deadline = time + $block_timeout;
    while (${ $s->{out} } !~ /\n__DOC_TEST_DONE__\n/ && time < $deadline) {
        last unless $s->{h}->pumpable;
        eval { $s->{h}->pump_nb; };
        select(undef, undef, undef, 0.05);
    }
    my $out = ${ $s->{out} };
    return (1, $1) if $out =~ /^(.*)\n__DOC_TEST_DONE__\n/s;
    return (0, $out . "\n[the block did not complete: "
          . ($s->{h}->pumpable ? "timed out" : "the shell exited, a command failed") . "]");
}

sub end_session
{
    my ($s) = @_;
    ${ $s->{in} } .= "exit 0\n";
    eval { $s->{h}->finish; };
    return;
}

# Lines of a file, 0 when it does not exist.
sub line_count
{
    my ($file) = @_;
    return 0 unless -e $file;
    open my $fh, '<', $file or return 0;
    my @l = <$fh>;
    close $fh;
    return scalar @l;
}

# --- The sync service of js blocks: one per database, started when a block first needs it.
my %services;
sub start_docs_service
{
    my ($db) = @_;
    my $service = start_sync_service($node, storage => "$scratch/sync_$db", database => $db);
    wait_healthy($service) or die "electric-shapes-sync did not start on database $db";
    return $service;
}

# --- Running the documents in order.
for my $file (@files) {
    (my $doc = $file) =~ s{^\Q$root\E/}{};
    (my $name = $doc) =~ s{[^A-Za-z0-9]+}{_}g;
    my $session;
    my ($last_output, $last_label);    # of the last runnable block
    my $background;                    # {file, label}
    for my $b (@{ $blocks_by_file{$file} }) {
        my $marker = $b->{marker} // next;
        my $label = "$doc:$b->{line}";
        my ($kind, @args) = split ' ', $marker;
        my %opt = map { /^(\w+)=(.*)$/ ? ($1 => $2) : ($_ => 1) } @args;
        if ($kind eq 'sh') {
            $session //= start_session($name);
            if ($opt{background}) {
                die "$label: a second background block while one runs" if $background;
                my $out = "$session->{dir}/background" . ($session->{n} + 1) . '.out';
                my $script = "$session->{dir}/background" . ($session->{n} + 1) . '.sh';
                open my $fh, '>', $script or die;
                print $fh $b->{text};
                close $fh;
                my ($done, $o) = run_in_session($session,
                    "set -m\nsource '$script' > '$out' 2>&1 &\n__doc_test_bg=\$!\nset +m\n", $label);
                ok($done, "$label: started in the background") or diag($o);
                $background = { file => $out, label => $label };
                ($last_output, $last_label) = (undef, undef);
            }
            else {
                my ($done, $o) = run_in_session($session, $b->{text}, $label);
                ok($done, "$label: runs") or diag($o);
                ($last_output, $last_label) = ($o, $label);
            }
        }
        elsif ($kind eq 'sql') {
            my $db = $opt{db} or die "$label: sql block without db=";
            my ($out, $in) = ('', $b->{text});
            local %ENV = (%ENV, %env);
            delete $ENV{PGAPPNAME};
            my $ok = IPC::Run::run([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $db ],
                '<', \$in, '>', \$out, '2>&1', IPC::Run::timeout($block_timeout));
            if ($opt{error}) {
                ok(!$ok, "$label: fails as shown") or diag($out);
            }
            else {
                ok($ok, "$label: runs in database $db") or diag($out);
            }
            ($last_output, $last_label) = ($out, $label);
        }
        elsif ($kind eq 'output') {
            my $expected = normalise($b->{text});
            if ($opt{background}) {
                die "$label: no background block runs" unless $background;
                # Wait for the lines it prints while running (a last pg_recvlogical line is
                # printed only when it stops), then stop it as Ctrl-C would.
                my $want = () = $b->{text} =~ /\n/g;
                $want-- if $b->{text} =~ /^pg_recvlogical: .*\n\z/m;
                my $deadline = time + $block_timeout;
                sleep 1 while line_count($background->{file}) < $want && time < $deadline;
                sleep 1;
                my ($done, $o) = run_in_session($session,
                    "kill -INT -- -\$__doc_test_bg\nwait \$__doc_test_bg || true\n", $label);
                ok($done, "$label: the background block stops on SIGINT") or diag($o);
                my $got = PostgreSQL::Test::Utils::slurp_file($background->{file});
                is(normalise($got), $expected, "$label: output of $background->{label} as shown");
                undef $background;
            }
            else {
                die "$label: output block without a runnable block before it" unless defined $last_label;
                is(normalise($last_output), $expected, "$label: output of $last_label as shown");
            }
            ($last_output, $last_label) = (undef, undef);
        }
        elsif ($kind eq 'js') {
            die "$label: a js block runs in the background" unless $opt{background};
            die "$label: a second background block while one runs" if $background;
            my $db = $opt{service} or die "$label: a js block without service=DB";
            $session //= start_session($name);
            $services{$db} //= start_docs_service($db);
            my $dir = $session->{dir};
            symlink(npm_modules('@electric-sql/client'), "$dir/node_modules") or die "symlink: $!"
              unless -e "$dir/node_modules";
            my $n = $session->{n} + 1;
            (my $text = $b->{text}) =~ s/\blocalhost:3000\b/localhost:$services{$db}{port}/g;
            open my $fh, '>', "$dir/block$n.mjs" or die;
            print $fh $text;
            close $fh;
            my $out = "$dir/background$n.out";
            my ($done, $o) = run_in_session($session,
                "set -m\nnode '$dir/block$n.mjs' > '$out' 2>&1 &\n__doc_test_bg=\$!\nset +m\n", $label);
            ok($done, "$label: started in the background") or diag($o);
            my $deadline = time + 60;
            select(undef, undef, undef, 0.1) while line_count($out) < 1 && time < $deadline;
            ok(line_count($out) >= 1, "$label: has synced (printed its first line)")
              or diag(service_log($services{$db}));
            $background = { file => $out, label => $label };
            ($last_output, $last_label) = (undef, undef);
        }
        elsif ($kind eq 'promtool-rules') {
            my $rules = "$scratch/rules_$b->{line}.yml";
            open my $fh, '>', $rules or die "cannot write $rules: $!";
            print $fh $b->{text};
            close $fh;
            my $out = '';
            my $ok = IPC::Run::run([ 'promtool', 'check', 'rules', $rules ], '>', \$out, '2>&1');
            ok($ok, "$label: promtool check rules accepts it") or diag($out);
            ($last_output, $last_label) = (undef, undef);
        }
        elsif ($kind eq 'conf' || $kind eq 'skip') {
            ($last_output, $last_label) = (undef, undef);
        }
        else {
            die "$label: unknown doc-test marker '$marker'";
        }
    }
    die "$doc: a background block was never stopped" if $background;
    end_session($session) if $session;
}

$node->stop;
done_testing();
