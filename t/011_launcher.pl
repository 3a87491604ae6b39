# The launcher keeps its workers across its own restart: terminated (and
# started again by the postmaster), it learns from shared memory which
# databases are served and by which worker, starts no duplicate, and still
# restarts and stops those workers afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

# The postmaster logs each background worker it starts at DEBUG1.
my $node = idsess_node('launcher', databases => 'one, two', conf => "log_min_messages = debug1\n");

$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('postgres', 'CREATE DATABASE two');
$node->safe_psql($_, 'CREATE EXTENSION idsess CASCADE') for qw(one two);

my $workers = q{SELECT string_agg(datname || ':' || pid, ',' ORDER BY datname)
	FROM pg_stat_activity WHERE backend_type = 'idsess expiry worker'};
my $names = q{SELECT string_agg(datname, ',' ORDER BY datname)
	FROM pg_stat_activity WHERE backend_type = 'idsess expiry worker'};
my $launcher = q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'idsess launcher'};
ok($node->poll_query_until('postgres', $names, 'one,two'), 'one worker per database');
my $before = $node->safe_psql('postgres', $workers);

# Count worker starts from here on.
sub starts_since
{
	my ($offset) = @_;
	my $log = slurp_file($node->logfile, $offset);
	return scalar(() = $log =~ /starting background worker process "idsess expiry worker/g);
}

my $offset = -s $node->logfile;
my $old_launcher = $node->safe_psql('postgres', $launcher);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old_launcher)");
ok( $node->poll_query_until(
		'postgres', "SELECT EXISTS ($launcher AND pid <> $old_launcher)"),
	'the postmaster starts the launcher again');
# Let the new launcher make a few passes (one a second, and one each time a
# worker it started stops).
sleep(3);
is($node->safe_psql('postgres', $workers), $before,
	'the running workers stay, with the same pids');
is(starts_since($offset), 0, 'the new launcher starts no worker for a served database');

# It took the workers over: it restarts a terminated one ...
$offset = -s $node->logfile;
my ($one_pid) = $before =~ /one:(\d+)/;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($one_pid)");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 AND bool_and(pid <> $one_pid) FROM pg_stat_activity
		 WHERE backend_type = 'idsess expiry worker' AND datname = 'one'"),
	'a terminated worker is started again');
$node->safe_psql('one', q{SELECT idsess_create('u', 't', key => 'k-1',
	expires => clock_timestamp() + interval '300 milliseconds')});
ok($node->poll_query_until('one', q{SELECT count(*) = 0 FROM idsess.sessions}),
	'and it expires sessions');
is(starts_since($offset), 1, 'with one start');

# ... and stops the worker of a database no longer named.
$node->append_conf('postgresql.conf', "idsess.databases = 'one'\n");
$node->reload;
ok($node->poll_query_until('postgres', $names, 'one'),
	'an adopted worker stops when its database leaves the setting');

$node->stop;
done_testing();
