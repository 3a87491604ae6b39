# The hourly history counts what committed, exactly once: not a prepared
# transaction, not a rolled-back subtransaction, and not counts lost when
# the worker's flush fails; so does each tenant's.  More tenants with events
# in one round than idsess.tenant_counters holds are counted in the
# database's history only, and logged.  Counters belong to the served
# databases, so sessions in 32 databases the worker does not serve leave a
# later served database its history.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('stats', databases => 'one, late',
	conf => "max_prepared_transactions = 2\nidsess.tenant_counters = 2\n");

# Every database made from here on has the extension.
$node->safe_psql('template1', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('postgres', 'CREATE DATABASE one');
# Counting starts once the launcher has given the database a slot.
$node->poll_query_until('one', q{SELECT EXISTS (SELECT FROM idsess.workers WHERE database = 'one')});

my $created = q{SELECT coalesce(sum(created), 0) FROM idsess.stats_hourly};

# Waits until the history of $db counts at least $n sessions created, then
# returns the count.
sub created_after_flush
{
	my ($db, $n) = @_;
	$node->poll_query_until($db, "SELECT ($created) >= $n");
	# A flush in progress finishes within a round.
	sleep(1);
	return $node->safe_psql($db, $created);
}

# A prepared transaction and a rolled-back subtransaction count nothing:
# of these five creates, two committed.
$node->safe_psql(
	'one', q{
BEGIN;
SELECT idsess_create('u', 't', key => 'k-prepared', tenant => 'b');
PREPARE TRANSACTION 'p';
ROLLBACK PREPARED 'p';
BEGIN;
SAVEPOINT a;
SELECT idsess_create('u', 't', key => 'k-rolled-back', tenant => 'b');
ROLLBACK TO a;
SELECT idsess_create('u', 't', key => 'k-kept-1', tenant => 'a');
SAVEPOINT b;
SELECT idsess_create('u', 't', key => 'k-released', tenant => 'a');
RELEASE b;
SAVEPOINT c;
SELECT idsess_create('u', 't', key => 'k-rolled-back-2');
ROLLBACK TO c;
COMMIT;
});
is(created_after_flush('one', 2), 2,
	'only committed creates are counted (not prepared, not rolled back to a savepoint)');
my $tenants = q{SELECT string_agg(tenant || '=' || created, ' ' ORDER BY tenant)
	FROM (SELECT tenant, sum(created) AS created FROM idsess.stats_hourly_tenants GROUP BY tenant) t};
is($node->safe_psql('one', $tenants), 'a=2', 'so in each tenant\'s history');

# A flush that fails keeps its counts for the next one.
my $before = $node->safe_psql('one', $created);
$node->safe_psql(
	'one', q{
CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql
AS $$BEGIN RAISE EXCEPTION 'history refused'; END$$;
CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON idsess.stats_hourly
FOR EACH ROW EXECUTE FUNCTION public.refuse();
SELECT idsess_create('u', 't', key => 'k-during-' || i, tenant => 'a') FROM generate_series(1, 3) i;
});
ok( $node->poll_query_until(
		'one',
		q{SELECT last_error = 'history refused' FROM idsess.workers WHERE database = 'one'}),
	'the flush fails while the trigger refuses');
$node->safe_psql('one', 'DROP TRIGGER refuse ON idsess.stats_hourly');
is(created_after_flush('one', $before + 3) - $before, 3, 'counts of a failed flush are flushed later');
is($node->safe_psql('one', $tenants), 'a=5', 'so are the tenants\'');

# Three tenants in one round, room for two: the third's event is the
# database's only, and the worker says so.
$before = $node->safe_psql('one', $created);
my $log_at = -s $node->logfile;
$node->safe_psql('one',
	q{SELECT idsess_create('u', 't', key => 'k-' || t, tenant => t) FROM unnest('{x,y,z}'::text[]) t});
is(created_after_flush('one', $before + 3) - $before, 3, 'the database counts every tenant\'s create');
ok($node->wait_for_log(qr/WARNING:  idsess counted 1 session event of a tenant in the database's history only/, $log_at),
	'the worker logs the events it could not attribute to their tenant');
is($node->safe_psql('one', q{SELECT sum(created) FROM idsess.stats_hourly_tenants WHERE tenant IN ('x', 'y', 'z')}),
	2, 'two of the three tenants have their event');

# 32 databases outside idsess.databases create sessions; the database
# "late", served but created after them, still gets its history.
$node->safe_psql('postgres', "CREATE DATABASE other$_") for 1 .. 32;
$node->safe_psql("other$_", q{SELECT idsess_create('u', 't')}) for 1 .. 32;
$node->safe_psql('postgres', 'CREATE DATABASE late');
ok( $node->poll_query_until(
		'late', q{SELECT state = 'sleeping' FROM idsess.workers WHERE database = 'late'}),
	'the late database is served');
$node->safe_psql('late', q{SELECT idsess_create('u', 't')});
is(created_after_flush('late', 1), 1,
	'a served database gets its counters after 32 unserved ones created sessions');

$node->stop;
done_testing();
