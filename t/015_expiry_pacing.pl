# The expiry worker paces a backlog by itself: flat out while nothing else
# runs, pausing between batches while foreground work runs, and a fixed
# pause when idsess.expire_batch_delay asks for one.  Asserted on the
# worker's own counters (idsess.workers), never on timing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my $node = PostgreSQL::Test::Cluster->new('pacing');
$node->init;
my $keyfile = $node->basedir . '/idsess.key';
write_master_key($keyfile);
$node->append_conf('postgresql.conf',
	idsess_conf($keyfile, 'one', "idsess.expire_batch_size = 100\n"));
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('one', 'CREATE EXTENSION idsess CASCADE');
ok($node->poll_query_until('one', q{SELECT state = 'sleeping' FROM idsess.workers}),
	'the worker runs');

my $paced = q{SELECT paced_batches || ',' || (paced_ms > 0) FROM idsess.workers};

# 3,000 sessions falling due together: 30 full batches of 100.
sub backlog
{
	my ($tag) = @_;
	$node->safe_psql('one', qq{SELECT idsess_create('u' || i, 't', key => '$tag-' || i,
		expires => now() + interval '1 second') FROM generate_series(1, 3000) i});
}

# Waits in one statement that sleeps between looks, so that the test's own
# polling is not foreground work the worker would yield to.  Each look is
# one index probe for the backlog's last session (the batches go in (due,
# id) order and the backlog shares one due time): a scan of the whole
# backlog could be caught running both before and after a batch.
sub wait_cleared
{
	my ($tag, $looks) = @_;
	$looks //= 1200;
	$node->safe_psql('one', qq{DO \$\$BEGIN
		FOR i IN 1 .. $looks LOOP
			EXIT WHEN NOT EXISTS (SELECT FROM idsess.sessions WHERE key = '$tag-3000');
			PERFORM pg_sleep(0.05);
		END LOOP; END\$\$});
	return $node->safe_psql('one',
		qq{SELECT count(*) FROM idsess.sessions WHERE key LIKE '$tag-%'});
}

# Nothing else running: no pause at all.
backlog('idle');
is(wait_cleared('idle'), '0', 'an idle server: the backlog is cleared');
is($node->safe_psql('one', $paced), '0,false', 'an idle server: no batch was paced');

# A client backend busy on the CPU the whole time: the worker yields.
my ($out, $err) = ('', '');
my $busy = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('one'), '-c',
		q{SET statement_timeout = '120s'; DO $$BEGIN /* busy_loop */ FOR i IN 1 .. 2000000000 LOOP END LOOP; END$$}
	],
	'>', \$out, '2>', \$err);
ok( $node->poll_query_until(
		'one', q{SELECT EXISTS (SELECT FROM pg_stat_activity
		WHERE state = 'active' AND query LIKE '%busy_loop%' AND pid <> pg_backend_pid())}),
	'a busy backend runs');
backlog('busy');
is(wait_cleared('busy'), '0', 'a busy server: the backlog is still cleared');
my ($n, $spent) = split /,/, $node->safe_psql('one', $paced);
cmp_ok($n, '>=', 25, 'a busy server: the batches were paced');
is($spent, 'true', 'a busy server: the pauses took time');
$node->safe_psql('one',
	q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%busy_loop%' AND pid <> pg_backend_pid()});
$busy->finish;

# An explicit pause applies on an idle server too: one after each full batch.
$node->safe_psql('one', q{ALTER SYSTEM SET idsess.expire_batch_delay = '5ms'});
$node->reload;
my $before = (split /,/, $node->safe_psql('one', $paced))[0];
backlog('fixed');
is(wait_cleared('fixed'), '0', 'a fixed pause: the backlog is cleared');
my $after = (split /,/, $node->safe_psql('one', $paced))[0];
cmp_ok($after - $before, '>=', 29, 'a fixed pause: every full batch was followed by one');

# A reload changes a fixed pause under way: in a 10 s pause after the first
# batch, a reload to 1ms lets the rest go within a few seconds.
$node->safe_psql('one', q{ALTER SYSTEM SET idsess.expire_batch_delay = '10s'});
$node->reload;
backlog('long');
ok( $node->poll_query_until(
		'one', q{SELECT count(*) = 2900 FROM idsess.sessions WHERE key LIKE 'long-%'}),
	'a 10 s pause: the first batch is gone, the worker pauses');
$node->safe_psql('one', q{ALTER SYSTEM SET idsess.expire_batch_delay = '1ms'});
$node->reload;
is(wait_cleared('long', 100), '0', 'a reload to 1ms shortens the pause under way');

$node->stop;
done_testing();
