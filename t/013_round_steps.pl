# One failing step of the worker's round does not stop the others: while
# every re-seal fails, sessions still expire, the hourly history is still
# flushed, the error is recorded (its message only), and the failing step
# is retried with a growing delay, not every round.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('steps', databases => 'one',
	conf => "idsess.reseal_batch_size = 10\n");
$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('one', 'CREATE EXTENSION idsess CASCADE');
ok($node->poll_query_until('one', q{SELECT state = 'sleeping' FROM idsess.workers}),
	'the worker runs');

# A ticket under an older key, and every re-seal refused (counted in a
# sequence, which a rollback does not undo).  The rotation commits with the
# trigger: committed alone, the worker could re-seal the ticket before the
# trigger exists, and no re-seal would ever fail.
$node->safe_psql(
	'one', q{
SELECT idsess_create('u', 't', key => 'k-old');
BEGIN;
SELECT idsess_key_rotate();
CREATE SEQUENCE public.reseal_attempts;
CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql
AS $$BEGIN PERFORM nextval('public.reseal_attempts');
RAISE EXCEPTION 'reseal refused' USING DETAIL = 'secret detail'; END$$;
CREATE TRIGGER refuse BEFORE UPDATE OF ticket ON idsess.sessions
FOR EACH ROW EXECUTE FUNCTION public.refuse();
COMMIT;
});
ok( $node->poll_query_until(
		'one', q{SELECT last_error = 'reseal refused' FROM idsess.workers}),
	'the failing re-seal is recorded, message only');

my $created = q{SELECT coalesce(sum(created), 0) FROM idsess.stats_hourly};
my $before = $node->safe_psql('one', $created);
$node->safe_psql('one', q{SELECT idsess_create('u', 't', key => 'k-soon-' || i,
	expires => clock_timestamp() + interval '300 milliseconds') FROM generate_series(1, 3) i});
ok( $node->poll_query_until(
		'one', q{SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key LIKE 'k-soon-%')}),
	'sessions still expire');
ok($node->poll_query_until('one', "SELECT ($created) >= $before + 3"),
	'the hourly history is still flushed');
$node->safe_psql('one', q{SELECT idsess_create('u', 't', key => 'k-later',
	expires => now() + interval '1 hour')});
ok( $node->poll_query_until(
		'one', q{SELECT w.next_due = s.expires FROM idsess.workers w, idsess.sessions s
		WHERE s.key = 'k-later'}),
	'the next due time is still computed');

# Retried after 1 s, 2 s, 4 s...: a handful of attempts in 3 seconds where
# a worker erroring every round (200 ms naps) makes fifteen.
my $a = $node->safe_psql('one', 'SELECT last_value FROM public.reseal_attempts');
sleep(3);
my $b = $node->safe_psql('one', 'SELECT last_value FROM public.reseal_attempts');
cmp_ok($b - $a, '<=', 3, 'the failing step backs off');

# Once the cause is gone, the step succeeds again.
$node->safe_psql('one', 'DROP TRIGGER refuse ON idsess.sessions');
ok( $node->poll_query_until(
		'one', q{SELECT count(*) = 0 FROM idsess.sessions
		WHERE key_id <> (SELECT id FROM idsess.keys WHERE state = 'active')}),
	'and re-seals once it can');

$node->stop;
done_testing();
