# electric_shapes.metrics() is accepted by the real `promtool check metrics`, with statistics on
# and off, with slots, shapes and failing health checks present.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ElectricShapesTest;
use IPC::Run;

# promtool comes with the Debian package prometheus (test/install-deps); missing, it is a failure.
my ($promtool) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
BAIL_OUT('promtool is not installed (Debian package prometheus)') unless $promtool;

# Runs promtool check metrics on text; returns its exit status and output.
sub promtool_check
{
    my ($text) = @_;
    my ($out, $err) = ('', '');
    IPC::Run::run([ $promtool, 'check', 'metrics' ], '<', \$text, '>', \$out, '2>', \$err);
    return ($? >> 8, $out . $err);
}

sub check_metrics
{
    my ($node, $test) = @_;
    my $text = $node->safe_psql('postgres', 'SELECT electric_shapes.metrics()');
    my ($status, $output) = promtool_check($text . "\n");
    is($status, 0, "promtool accepts metrics(): $test");
    is($output, '', "promtool has no lint remark: $test");
    return $text;
}

# The checker itself refuses what it should, so a pass means something.
my ($bad_status) = promtool_check("# HELP x_total a\n# TYPE x_total counter\nx_total{a=\"b\\q\"} 1\n");
isnt($bad_status, 0, 'promtool refuses a badly escaped label value');
my (undef, $lint) = promtool_check("# HELP requests a\n# TYPE requests counter\nrequests 1\n");
isnt($lint, '', 'promtool remarks on a counter without _total');

my $node = new_shapes_cluster('metrics');
$node->safe_psql('postgres', q{
CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id int, body text);
SELECT electric_shapes.create_shape('conv-1', 'messages', 'conversation_id = 1');
SELECT electric_shapes.create_shape('conv_2', 'messages', 'conversation_id = 2');
});
my $text = check_metrics($node, 'fresh server');
like($text, qr/^electric_shapes_statistics_enabled 1$/m, 'statistics are on');
like($text, qr/^electric_shapes_health_status\{check="wal_level"\} 0$/m, 'health checks are exported');

# A failing check and an idle slot of another plugin.
$node->safe_psql('postgres',
    "SELECT pg_create_logical_replication_slot('idle', 'test_decoding')");
$text = check_metrics($node, 'with an inactive slot');
like($text, qr/^electric_shapes_health_status\{check="inactive_slots"\} 1$/m, 'a warning is 1');

# The plugin's own slot: its creation failing is a failure of the test (safe_psql dies).
$node->safe_psql('postgres',
    "SELECT pg_create_logical_replication_slot('es_slot', 'electric_shapes')");
$node->safe_psql('postgres', q{
INSERT INTO messages VALUES (1, 1, 'hi'), (2, 2, 'there'), (3, 3, 'nobody');
UPDATE messages SET conversation_id = 2 WHERE id = 1;
DELETE FROM messages WHERE id = 2;
});
$node->safe_psql('postgres',
    "SELECT count(*) FROM pg_logical_slot_get_changes('es_slot', NULL, NULL)");
$text = check_metrics($node, 'with an electric_shapes slot and shapes');
like($text, qr/^electric_shapes_slot_changes_decoded_total\{slot="es_slot"\} [1-9]/m,
    'slot counters are exported');
like($text, qr/^electric_shapes_shape_inserts_total\{slot="es_slot",shape="conv-1"\} 1$/m,
    'shape counters are exported with slot and shape labels');
like($text, qr/^electric_shapes_slot_wal_status\{slot="es_slot",wal_status="reserved"\} 1$/m,
    'wal_status is a labelled gauge');
like($text, qr/^electric_shapes_slot_lag_bytes\{slot="es_slot"\} \d/m, 'lag in bytes');
$node->stop;

# Without the preload: statistics off, every family still declared.
my $bare = PostgreSQL::Test::Cluster->new('metrics_bare');
$bare->init;
$bare->start;
$bare->safe_psql('postgres', 'CREATE EXTENSION electric_shapes');
$text = check_metrics($bare, 'without the preload');
like($text, qr/^electric_shapes_statistics_enabled 0$/m, 'statistics are off');
like($text, qr/^# TYPE electric_shapes_shape_inserts_total counter$/m, 'families are declared anyway');
$bare->stop;

done_testing();
