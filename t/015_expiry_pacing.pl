# The expiry worker paces a backlog by itself: flat out while nothing else
# runs, pausing between batches while foreground work runs, and a fixed
# pause when idsess.expire_batch_delay asks for one, and no pause that would
# put it below idsess.expire_min_rate.  Asserted on the
# worker's own counters (idsess.workers) and on the sessions it left, never
# on how long anything took.  It also
# compresses the page images a backlog's removal writes, read back from the
# WAL with pg_waldump.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('pacing', databases => 'one',
	conf => "idsess.expire_batch_size = 100\nidsess.expire_min_rate = 0\n");
$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('one', 'CREATE EXTENSION idsess CASCADE');
ok($node->poll_query_until('one', q{SELECT state = 'sleeping' FROM idsess.workers}),
	'the worker runs');

my $paced = q{SELECT paced_batches || ',' || (paced_ms > 0) FROM idsess.workers};
sub paced_batches { return (split /,/, $node->safe_psql('one', $paced))[0]; }

# 3,000 sessions falling due together (in a second, or $in): 30 full
# batches of 100.
sub backlog
{
	my ($tag, $in) = @_;
	$in //= 1;
	$node->safe_psql('one', qq{SELECT idsess_create('u' || i, 't', key => '$tag-' || i,
		expires => now() + interval '$in seconds') FROM generate_series(1, 3000) i});
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

# A client backend busy on the CPU the whole time (until it is cancelled,
# or after 120 s): the worker yields.
my ($out, $err) = ('', '');
my $busy = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('one'), '-c',
		q{SET statement_timeout = '120s'; DO $$BEGIN /* busy_loop */ LOOP END LOOP; END$$}
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

# A reload that sets a fixed pause takes effect within the adaptive pause
# under way, not after one more batch.  The lock is taken before the
# backlog falls due, so its first batch waits for it (about 2 s) and the
# adaptive pause after that batch is the longest (1 s); the reload comes as
# the lock goes.  3 s later only that batch is gone (the fixed pause is 10 s).
backlog('switch', 3);
$node->safe_psql('one', q{
	BEGIN;
	LOCK TABLE idsess.sessions IN SHARE MODE;
	SELECT pg_sleep(5);
	COMMIT;
	ALTER SYSTEM SET idsess.expire_batch_delay = '10s';
	SELECT pg_reload_conf();
	SELECT pg_sleep(3);});
is($node->safe_psql('one', q{SELECT count(*) FROM idsess.sessions WHERE key LIKE 'switch-%'}),
	'2900', 'a busy server: a reload to a fixed pause ends the adaptive pause under way');
# Back to the pacing, with a rate floor (500 a second: 200 ms per batch,
# more than a busy batch and its pause take) that the 5 s spent so far
# would put far behind: the floor's schedule starts afresh after a fixed
# pause, so the rest of the backlog is paced, not rushed to make up for it.
my $switch_before = paced_batches();
$node->safe_psql('one', q{ALTER SYSTEM RESET idsess.expire_batch_delay});
$node->safe_psql('one', q{ALTER SYSTEM SET idsess.expire_min_rate = 500});
$node->reload;
is(wait_cleared('switch'), '0', 'a busy server: the backlog is cleared after the reload');
cmp_ok(paced_batches() - $switch_before, '>=', 25,
	'a busy server: after a fixed pause, the rate floor paces the rest of the backlog');

# A rate floor that no batch can keep up with leaves the worker no pause,
# however busy the server: each batch ends behind the schedule.
$node->safe_psql('one', q{ALTER SYSTEM SET idsess.expire_min_rate = 10000000});
$node->reload;
my $floor_before = paced_batches();
backlog('floor');
is(wait_cleared('floor'), '0', 'a busy server, a rate floor: the backlog is cleared');
is(paced_batches(), $floor_before,
	'a busy server, a rate floor out of reach: no batch was paced');
$node->safe_psql('one', q{ALTER SYSTEM RESET idsess.expire_min_rate});
$node->reload;
$node->safe_psql('one',
	q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%busy_loop%' AND pid <> pg_backend_pid()});
$busy->finish;

# An explicit pause applies on an idle server too: one after each full batch.
$node->safe_psql('one', q{ALTER SYSTEM SET idsess.expire_batch_delay = '5ms'});
$node->reload;
my $before = paced_batches();
backlog('fixed');
is(wait_cleared('fixed'), '0', 'a fixed pause: the backlog is cleared');
my $after = paced_batches();
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

# The backlog's first removal from each page after a checkpoint writes the
# page's image to the WAL.  page_images(TAG): clears a backlog written
# before a checkpoint and returns the compression method of each image of
# the sessions table its removal wrote ('none': uncompressed).
sub page_images
{
	my ($tag) = @_;
	backlog($tag, 3);
	$node->safe_psql('one', 'CHECKPOINT');
	my $lsn0 = $node->safe_psql('one', 'SELECT pg_current_wal_insert_lsn()');
	my $sessions = $node->safe_psql('one', q{SELECT pg_relation_filenode('idsess.sessions')});
	is(wait_cleared($tag), '0', "page images ($tag): the backlog is cleared");
	my $lsn1 = $node->safe_psql('one', 'SELECT pg_current_wal_insert_lsn()');
	my ($dump, $dump_err) = ('', '');
	IPC::Run::run(
		[ 'pg_waldump', '-b', '-r', 'Heap', '-p', $node->data_dir . '/pg_wal', '-s', $lsn0, '-e', $lsn1 ],
		'>', \$dump, '2>', \$dump_err) or diag("pg_waldump: $dump_err");
	# With -b, each record's block references follow it, a line each; the
	# worker, locking and then deleting the rows, is the only writer.
	return map { /compression saved: \d+, method: (\w+)$/ ? $1 : 'none' }
	  grep { m{^\s+blkref #\d+: rel \d+/\d+/$sessions fork main .*\(FPW} } split /\n/, $dump;
}

# With the server's wal_compression off, the worker compresses its images.
$node->safe_psql('one', q{ALTER SYSTEM RESET idsess.expire_batch_delay});
$node->reload;
is($node->safe_psql('one', 'SHOW wal_compression'), 'off', 'the server does not compress page images');
my @methods = page_images('wal');
cmp_ok(scalar @methods, '>', 0, 'page images: the removal wrote page images of the sessions table');
is(scalar(grep { $_ eq 'lz4' || $_ eq 'pglz' } @methods), scalar @methods, 'page images: every one is compressed');

# A method set in the server's configuration is the one the worker uses.
$node->safe_psql('one', q{ALTER SYSTEM SET wal_compression = 'pglz'});
$node->reload;
@methods = page_images('chosen');
cmp_ok(scalar @methods, '>', 0, "page images: the server's method, images written");
is(scalar(grep { $_ eq 'pglz' } @methods), scalar @methods, "page images: every one uses the server's method");

$node->stop;
done_testing();
