# A master key change keeps the store serving.  A backend that was running
# before idsess_rewrap_keys (an identity server's pooled connection) gets
# and creates sessions before the re-wrap, between it and the reload that
# names the new key file, and after that reload; so does a backend that
# starts after the reload.  A backend that starts between the re-wrap and
# the reload cannot unwrap keys (doc/operations.md, "Changing the master key").
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('rewrap');
my $newkeyfile = $node->basedir . '/idsess-2.key';
write_master_key($newkeyfile);
$node->safe_psql('postgres', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('postgres', q{SELECT idsess_create('u', 'ticket 1', key => 'k1')});
# Two data keys: tickets under an older key and under the active one.
$node->safe_psql('postgres', q{SELECT idsess_key_rotate()});

my $pooled = $node->background_psql('postgres');
is($pooled->query_safe(q{SELECT ticket FROM idsess_get('k1')}), 'ticket 1',
	'before: the running backend opens a ticket');
$pooled->query_safe(q{SELECT idsess_create('u', 'ticket 2', key => 'k2')});

is($node->safe_psql('postgres', qq{SELECT idsess_rewrap_keys('$newkeyfile')}), '2',
	'both data keys are re-wrapped');

is($pooled->query_safe(q{SELECT ticket FROM idsess_get('k1')}), 'ticket 1',
	'between re-wrap and reload: the running backend still opens a ticket');
is($pooled->query_safe(q{SELECT ticket FROM idsess_get('k2')}), 'ticket 2',
	'between re-wrap and reload: and one under the active key');
$pooled->query_safe(q{SELECT idsess_create('u', 'ticket 3', key => 'k3')});
pass('between re-wrap and reload: the running backend creates a session');

my ($rc, $out, $err) = $node->psql('postgres', q{SELECT ticket FROM idsess_get('k1')});
like($err, qr/the master key does not open the key ring/,
	'a backend started before the reload has only the old master key');

$node->append_conf('postgresql.conf', "idsess.master_key_file = '$newkeyfile'\n");
$node->reload;
is($pooled->query_safe(q{SELECT string_agg(ticket, ',' ORDER BY key) FROM idsess_get_sessions(subject_id => 'u')}),
	'ticket 1,ticket 2,ticket 3', 'after the reload: the running backend opens every ticket');
$pooled->query_safe(q{SELECT idsess_create('u', 'ticket 4', key => 'k4')});
pass('after the reload: the running backend creates a session');
$pooled->quit;

is($node->safe_psql('postgres', q{SELECT string_agg(ticket, ',' ORDER BY key) FROM idsess_get_sessions(subject_id => 'u')}),
	'ticket 1,ticket 2,ticket 3,ticket 4', 'a new backend opens every ticket with the new master key');

$node->stop;
done_testing();
