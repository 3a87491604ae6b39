# A new session wakes the sleeping expiry worker for its earlier due time:
# with an inactivity timeout shorter than its lifetime, the idle deadline,
# not the expiry.  The worker naps up to an hour here, so only that wake-up
# can remove the session within the test's bound.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('wake', databases => 'wake', conf => "idsess.max_nap = '1h'\n");
$node->safe_psql('postgres', 'CREATE DATABASE wake');
$node->safe_psql('wake', 'CREATE EXTENSION idsess CASCADE');
ok( $node->poll_query_until('wake',
		q{SELECT state = 'sleeping' FROM idsess.workers WHERE database = 'wake'}),
	'the worker sleeps (for up to an hour)');

$node->safe_psql('wake', q{SELECT idsess_create('u', 't', key => 'k-idle',
	expires => now() + interval '1 day', idle_timeout => '1 second')});
{
	local $PostgreSQL::Test::Utils::timeout_default = 30;
	ok($node->poll_query_until('wake', q{SELECT count(*) = 0 FROM idsess.sessions}),
		'the session is removed at its idle deadline, not its expiry');
}

$node->stop;
done_testing();
