# A backlog spread thin leaves its readers nothing to prune: right after
# each batch, the expiry worker prunes the pages the batch deleted from, so
# the next get or touch landing on one does not prune (and log) it on its
# request's path, with idsess.expire_prune on.  Read from the pages
# themselves with pageinspect, in the pause after the first batch.  With
# it off (the default) the deleted tuples stay behind for the readers, as
# they did before.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my $node = PostgreSQL::Test::Cluster->new('prune');
$node->init;
my $keyfile = $node->basedir . '/idsess.key';
write_master_key($keyfile);
# Autovacuum would clean the pages too, and hide what the worker left.
$node->append_conf('postgresql.conf',
	idsess_conf($keyfile, 'one',
		"idsess.expire_batch_size = 100\nidsess.expire_prune = on\nautovacuum = off\n"));
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('one', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('one', 'CREATE EXTENSION pageinspect');
# Full pages, as touch's updates leave a store's pages: on-access pruning
# (heap_page_prune_opt) only prunes a page short of space.
$node->safe_psql('one', 'ALTER TABLE idsess.sessions SET (fillfactor = 100)');

# The line pointers of the deleted and updated tuples on the table's full
# pages (all but the last, which the inserts did not fill), read with
# pageinspect, which does not prune: "left", still with their storage (in
# use, xmax set, neither invalid (0x0800) nor a lock only (0x0080)), which
# a reader's on-access pruning would remove; "pruned", dead line pointers
# left for vacuum (flag 3).
my $lines = q{SELECT count(*) FILTER (WHERE t.lp_flags = 1 AND t.t_xmax <> '0' AND t.t_infomask & 2176 = 0)
		|| ',' || count(*) FILTER (WHERE t.lp_flags = 3)
	FROM generate_series(0,
		pg_relation_size('idsess.sessions') / current_setting('block_size')::int - 2) b,
	LATERAL heap_page_items(get_raw_page('idsess.sessions', b::int)) t};

# Polls $lines (never reading the table itself, which would prune it)
# until $done says yes, for at most 8 seconds: the worker's first batch
# is followed by a 10 s pause, in which nothing else deletes.  Returns the
# last (left, pruned).
sub watch_lines
{
	my ($done) = @_;
	my ($left, $pruned);
	my $until = time + 8;
	for (;;)
	{
		($left, $pruned) = split /,/, $node->safe_psql('one', $lines);
		last if $done->($left, $pruned) || time >= $until;
		select(undef, undef, undef, 0.1);
	}
	return ($left, $pruned);
}

# 2,000 sessions in creation order, so that each page holds several; every
# fifth falls due in a second, the others live on between them.  The
# worker takes them in batches of 100 with a 10 s pause after each: the
# pages are looked at after the first batch, in its pause.
sub spread_backlog
{
	my ($tag) = @_;
	$node->safe_psql('one', qq{SELECT idsess_create('u' || i, 't', key => '$tag-' || i,
		expires => now() + CASE WHEN i % 5 = 0 THEN interval '1 second' ELSE interval '1 day' END)
		FROM generate_series(1, 2000) i});
	my $pages = $node->safe_psql('one', q{SELECT pg_relation_size('idsess.sessions') /
		current_setting('block_size')::int});
	cmp_ok($pages, '>=', 10, "$tag: the sessions fill $pages pages");
}

# Ends the pause and lets the worker finish the backlog.
sub finish_backlog
{
	my ($tag, $total) = @_;
	$node->append_conf('postgresql.conf', "idsess.expire_batch_delay = 0\n");
	$node->reload;
	ok( $node->poll_query_until(
			'one', qq{SELECT state = 'sleeping' AND total_removed >= $total FROM idsess.workers}),
		"$tag: the worker removed the whole backlog");
	is( $node->safe_psql('one', qq{SELECT count(*) FROM idsess.sessions WHERE key LIKE '$tag-%'}),
		'1600', "$tag: the 1,600 others live on");
}

$node->append_conf('postgresql.conf', "idsess.expire_batch_delay = 10s\n");
$node->reload;
spread_backlog('on');
my ($left, $pruned) = watch_lines(sub { $_[0] == 0 && $_[1] >= 80 });
is($left, '0', 'on: after the first batch, no deleted tuple is left for a reader to prune');
cmp_ok($pruned, '>=', 80, "on: the batch's deleted tuples were pruned ($pruned)");
finish_backlog('on', 400);

# Without the worker's pruning, the batch leaves them all to the readers.
$node->safe_psql('one', 'TRUNCATE idsess.sessions CASCADE');
$node->append_conf('postgresql.conf', "idsess.expire_prune = off\nidsess.expire_batch_delay = 10s\n");
$node->reload;
spread_backlog('off');
($left, $pruned) = watch_lines(sub { $_[0] >= 80 });
cmp_ok($left, '>=', 80, "off: the first batch's deleted tuples are left ($left)");
sleep 1;
($left, $pruned) = split /,/, $node->safe_psql('one', $lines);
is($pruned, '0', 'off: and none is pruned');
finish_backlog('off', 800);

$node->stop;
done_testing();
