# The launcher serves every database named in idsess.databases: one expiry
# worker each, a worker for a database created later, a quiet wait (logged
# once, with no process connected) until CREATE EXTENSION, a plain DROP
# DATABASE of a named database without the extension, and a stopped worker
# when a database leaves the setting.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('databases', databases => 'one, two, later, gone');

$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('postgres', 'CREATE DATABASE two');
$node->safe_psql($_, 'CREATE EXTENSION idsess CASCADE') for qw(one two);

my $workers = q{SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_stat_activity
	WHERE backend_type = 'idsess expiry worker'};
ok($node->poll_query_until('postgres', $workers, 'one,two'),
	'one expiry worker for each named database that exists');

# Both databases expire their own sessions.
for my $db (qw(one two))
{
	$node->safe_psql($db, qq{SELECT idsess_create('u', 't', key => 'k-$db',
		expires => clock_timestamp() + interval '300 milliseconds')});
}
for my $db (qw(one two))
{
	ok($node->poll_query_until($db, q{SELECT count(*) = 0 FROM idsess.sessions}),
		"sessions expire in database $db");
}

# A database created later is served.  Until it has the extension, its
# worker looks, says so once and exits: the launcher starts it again every
# idsess.max_nap (at least a second), and no worker stays connected.
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', 'CREATE DATABASE later');
my $waiting = q{SELECT pid IS NULL AND state = 'waiting for CREATE EXTENSION idsess'
	FROM idsess.workers WHERE database = 'later'};
ok($node->poll_query_until('one', $waiting),
	'a database without the extension waits for it, with no worker process');
my $first = $node->safe_psql('one',
	q{SELECT started FROM idsess.workers WHERE database = 'later'});
ok( $node->poll_query_until(
		'one',
		qq{SELECT started > '$first' FROM idsess.workers WHERE database = 'later'}),
	'the launcher looks again');
ok($node->poll_query_until('one', $waiting), 'and the database still waits');
my $log = slurp_file($node->logfile, $log_offset);
my $count = () = $log =~ /waiting for CREATE EXTENSION idsess in database "later"/g;
is($count, 1, 'the wait for the extension is logged once');
$node->safe_psql('later', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('later', q{SELECT idsess_create('u', 't', key => 'k-later',
	expires => clock_timestamp() + interval '300 milliseconds')});
ok($node->poll_query_until('later', q{SELECT count(*) = 0 FROM idsess.sessions}),
	'the later database is served once the extension exists');
is($node->safe_psql('later', q{SELECT state FROM idsess.workers WHERE database = 'later'}),
	'sleeping', 'its worker reports sleeping');

# A named database without the extension can be dropped without FORCE,
# and leaves the status view.
$node->safe_psql('postgres', 'CREATE DATABASE gone');
ok( $node->poll_query_until(
		'one', q{SELECT state = 'waiting for CREATE EXTENSION idsess' FROM idsess.workers
		WHERE database = 'gone'}),
	'a second database waits for the extension');
my ($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE gone');
is($rc, 0, 'a plain DROP DATABASE of a named database without the extension succeeds');
is($err, '', 'with no error');
ok( $node->poll_query_until(
		'one', q{SELECT NOT EXISTS (SELECT FROM idsess.workers WHERE database = 'gone')}),
	'the dropped database leaves idsess.workers');

# A database removed from the setting loses its worker on reload.
$node->append_conf('postgresql.conf', "idsess.databases = 'one'\n");
$node->reload;
ok($node->poll_query_until('postgres', $workers, 'one'),
	'workers of databases no longer named stop on reload');

$node->stop;
done_testing();
