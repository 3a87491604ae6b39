# Crashes lose nothing committed and stop nothing: kill -9 of a backend in
# the middle of creates and add_clients, of the expiry worker in the middle
# of a backlog, of the launcher, and an immediate shutdown under load.
# After each, every create and add_client the client saw acknowledged is
# there, every session the worker removed left its logout row, and the
# worker expires sessions again.  The figures are printed for the README.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('crash', databases => 'one',
	conf => "restart_after_crash = on\nsynchronous_commit = on\n");
$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('one', 'CREATE EXTENSION idsess CASCADE');

my ($cases, $crashes, $lost) = (0, 0, 0);

# A client creating sessions, each followed by an add_client; it prints an
# acknowledgement after each statement returns, i.e. after its commit.
sub start_writer
{
	my ($tag, $n) = @_;
	my $script = "SET application_name = 'writer';\n";
	for my $i (1 .. $n)
	{
		$script .= "SELECT idsess_create('u$i', 't', key => '$tag-$i', "
		  . "expires => now() + interval '1 day');\n\\echo created $i\n"
		  . "SELECT idsess_add_client('$tag-$i', 'app');\n\\echo added $i\n";
	}
	# Files, not strings: IPC::Run feeds a string only while we wait on it.
	my $in = $node->basedir . "/$tag.sql";
	my $out = $node->basedir . "/$tag.out";
	open(my $fh, '>', $in) or die;
	print $fh $script;
	close($fh);
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('one') ],
		'<', $in, '>', $out, '2>', '/dev/null');
	return ($h, $out);
}

# Counts the acknowledged creates and add_clients missing after recovery.
sub missing
{
	my ($tag, $outfile) = @_;
	my $out = slurp_file($outfile);
	my @created = $out =~ /^created (\d+)$/mg;
	my @added = $out =~ /^added (\d+)$/mg;
	my %have = map { $_ => 1 } split /\n/, $node->safe_psql('one',
		"SELECT s.key || ':' || (c.client_id IS NOT NULL) FROM idsess.sessions s
		 LEFT JOIN idsess.session_clients c ON c.session = s.id WHERE s.key LIKE '$tag-%'");
	my $miss = 0;
	$miss += !($have{"$tag-$_:true"} || $have{"$tag-$_:false"}) for @created;
	$miss += !$have{"$tag-$_:true"} for @added;
	return ($miss, scalar(@created));
}

sub worker_expires
{
	my ($tag) = @_;
	$node->poll_query_until('one', 'SELECT true') or die;
	$node->safe_psql('one', qq{SELECT idsess_create('u', 't', key => '$tag-probe',
		expires => clock_timestamp() + interval '300 milliseconds')});
	return $node->poll_query_until('one',
		qq{SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key = '$tag-probe')});
}

sub wait_for_writes
{
	my ($tag, $n) = @_;
	$node->poll_query_until('one',
		"SELECT count(*) >= $n FROM idsess.sessions WHERE key LIKE '$tag-%'") or die;
}

# 1. kill -9 of the backend that creates and adds clients.
for my $round (1 .. 3)
{
	my $tag = "b$round";
	my ($h, $out) = start_writer($tag, 3000);
	wait_for_writes($tag, 100 * $round);
	my $pid = $node->safe_psql('one',
		q{SELECT pid FROM pg_stat_activity WHERE application_name = 'writer'});
	kill 'KILL', $pid;
	eval { $h->finish; };
	$node->poll_query_until('one', 'SELECT true') or die;
	$cases++;
	$crashes++;
	my ($miss, $acked) = missing($tag, $out);
	$lost += $miss;
	is($miss, 0, "backend kill -9 ($round): none of $acked acknowledged creates lost");
	ok(worker_expires($tag), 'the worker expires sessions after the crash');
}

# 2. kill -9 of the worker in the middle of a backlog, logouts on: every
# session removed left its logout row in the same transaction.
$node->append_conf('postgresql.conf', qq{idsess.expired_sessions_trigger_logout = on
idsess.expire_batch_size = 100
idsess.expire_batch_delay = '50ms'
});
$node->reload;
$node->safe_psql('one', q{SELECT count(idsess_create('old', 't', key => 'bl-' || i,
	created => now() - interval '2 hours', expires => now() + interval '1 hour'))
	FROM generate_series(1, 3000) i});
$node->safe_psql('one', q{UPDATE idsess.sessions SET expires = now() - interval '1 minute',
	due = now() - interval '1 minute' WHERE key LIKE 'bl-%'});
$node->poll_query_until('one', q{SELECT count(*) < 2900 FROM idsess.sessions WHERE key LIKE 'bl-%'})
  or die;
kill 'KILL', $node->safe_psql('one', q{SELECT pid FROM idsess.workers});
$cases++;
$crashes++;
$node->poll_query_until('one', 'SELECT true') or die;
my $accounted = $node->safe_psql('one', q{SELECT (SELECT count(*) FROM idsess.sessions WHERE key LIKE 'bl-%')
	+ (SELECT count(*) FROM idsess.logout_outbox WHERE subject_id = 'old')});
is($accounted, 3000, 'worker kill -9 mid-backlog: each session is either there or has its logout row');
$lost += 3000 - $accounted;
ok( $node->poll_query_until(
		'one', q{SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key LIKE 'bl-%')}),
	'the worker finishes the backlog after the crash');
is($node->safe_psql('one', q{SELECT count(*) FROM idsess.logout_outbox WHERE subject_id = 'old'}),
	3000, 'with one logout row per session');

# 3. kill -9 of the launcher.
kill 'KILL', $node->safe_psql('one',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'idsess launcher'});
$cases++;
$crashes++;
ok(worker_expires('launcher'), 'launcher kill -9: the worker expires sessions again');

# 4. Immediate shutdown while a client writes.
{
	my ($h, $out) = start_writer('im', 3000);
	wait_for_writes('im', 100);
	$node->stop('immediate');
	eval { $h->finish; };
	$node->start;
	$cases++;
	$crashes++;
	my ($miss, $acked) = missing('im', $out);
	$lost += $miss;
	is($miss, 0, "immediate shutdown: none of $acked acknowledged creates lost");
	ok(worker_expires('im'), 'the worker expires sessions after the restart');
}

diag("crash suite: cases tried $cases, crashes $crashes, sessions lost $lost");
$node->stop;
done_testing();
