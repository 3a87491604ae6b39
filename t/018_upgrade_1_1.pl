# Upgrading a filled idsess 1.1 store to 1.2.  A database installs 1.1 and is
# filled through 1.1's API: text and bytea tickets (compressed or not),
# clients with their own sids, SAML sessions, issuers, an upsert, a rotated
# key ring, a revocation and its tombstone, a logout owed by the worker.
# While the schema is still 1.1 the new library serves it through the
# unversioned symbols, as 1.1 behaved.  ALTER EXTENSION idsess UPDATE then
# keeps every row and every ticket, binds each versioned function to its
# 1.2 symbol, and 1.2's additions work on the old rows.  A dump of the 1.1
# database restores into 1.2 the same way.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my $tempdir = PostgreSQL::Test::Utils::tempdir();
my $keyfile = "$tempdir/idsess.key";
write_master_key($keyfile);

my $node = idsess_node('upgrade11', keyfile => $keyfile, databases => 'store,old',
	conf => "idsess.expired_sessions_trigger_logout = on\n"
	  . "idsess.session_limit_action = 'end_oldest'\n");

for my $db (qw(store old))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{CREATE EXTENSION idsess VERSION '1.1' CASCADE});
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'idsess'}),
		'1.1', "$db: idsess 1.1 installed");
	$node->safe_psql($db, q{
		SELECT idsess_create('alice', 'ticket of alice' || repeat(', claim', 100), key => 'k-alice',
			session_id => 'sid-alice', display_name => 'Alice', issuer => 'https://op.example',
			expires => now() + interval '30 days', idle_timeout => interval '2 hours');
		SELECT idsess_add_client('k-alice', 'client-a', 'csid-a');
		SELECT idsess_add_client('k-alice', 'client-b');
		SELECT idsess_add_saml_session('k-alice', 'https://sp.example/one', 'idx-1', 'alice');
		SELECT idsess_key_rotate();
		SELECT idsess_create('bob', ticket_bytes => '\x00ff10fe'::bytea, key => 'k-bob',
			scheme => 'saml', expires => 'infinity');
		SELECT idsess_update('k-up', ticket => 'upserted ticket', subject_id => 'carol',
			clients => ARRAY['client-u'], client_sids => ARRAY['csid-u'], upsert => true);
		SELECT idsess_create(NULL, 'a session without a user', key => 'k-anon');
		SELECT count((idsess_create('user-' || i, 'ticket ' || i, key => 'k-' || i,
			expires => now() + i * interval '1 hour')).key)
		FROM generate_series(1, 100) i;
		SELECT idsess_create('mallory', 'ticket of mallory', key => 'k-mallory');
		SELECT idsess_add_client('k-mallory', 'client-m');
		SELECT count(*) FROM idsess_revoke(subject_id => 'mallory', reason => 'before the upgrade');
		SELECT idsess_create('zoe', 'ticket of zoe', key => 'k-zoe',
			expires => clock_timestamp() + interval '100 milliseconds');
		SELECT idsess_add_client('k-zoe', 'client-z');
	});
	ok($node->poll_query_until($db, q{SELECT count(*) = 1 FROM idsess.logout_outbox}),
		"$db: the worker expired a session on 1.1 and owes its logout");
}

# Everything the API shows of each session, and a fingerprint of each table.
my $sessions = q{
	SELECT string_agg(format('%s|%s|%s|%s', k, g, idsess_clients(k, sids => true), idsess_saml_sessions(k)),
		E'\n' ORDER BY k)
	FROM (SELECT key FROM idsess.sessions) s(k),
		LATERAL (SELECT g::text AS g FROM idsess_get(k) g) x};
my $tables = q{
	SELECT string_agg(t || ':' || n, E'\n' ORDER BY t) FROM (
		SELECT 'keys' t, string_agg(format('%s,%s,%s', id, state, md5(wrapped)), ';' ORDER BY id) n FROM idsess.keys
		UNION ALL SELECT 'sessions', string_agg(format('%s,%s,%s,%s,%s,%s', id, key, key_id, expires, issuer, md5(ticket)), ';' ORDER BY id) FROM idsess.sessions
		UNION ALL SELECT 'clients', string_agg(format('%s,%s,%s', session, client_id, client_sid), ';' ORDER BY session, client_id) FROM idsess.session_clients
		UNION ALL SELECT 'saml', string_agg(format('%s,%s,%s', session, entity_id, session_index), ';' ORDER BY session, entity_id, session_index) FROM idsess.session_saml
		UNION ALL SELECT 'audit', string_agg(format('%s,%s,%s,%s', id, action, key_id, reason), ';' ORDER BY id) FROM idsess.audit
		UNION ALL SELECT 'outbox', string_agg(format('%s,%s,%s,%s', id, cause, subject_id, clients), ';' ORDER BY id) FROM idsess.logout_outbox
		UNION ALL SELECT 'tombstones', string_agg(md5(key_hash), ';' ORDER BY key_hash) FROM idsess.revoked_keys) x};
my $versioned = q{SELECT count(*) FROM pg_proc WHERE probin = '$libdir/idsess' AND prosrc LIKE '%\_1\_2'};

my $before_sessions = $node->safe_psql('store', $sessions);
my $before_tables = $node->safe_psql('store', $tables);
like($before_sessions, qr/^k-alice\|.*ticket of alice.*https:\/\/op\.example.*\|\{csid-a,NULL\}\|.*idx-1/m,
	'1.1 opens the text ticket with its issuer, client sids and SAML session');
like($before_sessions, qr/^k-bob\|.*\\\\x00ff10fe/m, '1.1 opens the bytea ticket');
is($node->safe_psql('store', $versioned), '0', 'a 1.1 schema binds the unversioned symbols');

# The new library serves the 1.1 schema as 1.1 did: an upsert that ends a
# session by the limit queues no logout (1.1's outbox takes no such cause),
# and take_expired has no lease.
$node->safe_psql('store', q{
	ALTER SYSTEM SET idsess.max_sessions_per_subject = 1; SELECT pg_reload_conf()});
is($node->safe_psql('store', q{
	SELECT idsess_update('k-up-2', ticket => 'second', subject_id => 'carol', upsert => true)}),
	't', 'an upsert on 1.1 ends the subject\'s older session');
is($node->safe_psql('store', q{SELECT count(*) FROM idsess.logout_outbox WHERE cause = 'limit'}),
	'0', 'and, as 1.1 did, queues no logout for it');
my ($ret, $out, $err) = $node->psql('store', q{SELECT * FROM idsess_take_expired(1, lease => '1 minute')});
like($err, qr/function idsess_take_expired\(integer, lease => unknown\) does not exist/,
	'take_expired has no lease before the update');
$node->safe_psql('store', q{
	ALTER SYSTEM RESET idsess.max_sessions_per_subject; SELECT pg_reload_conf()});
$node->safe_psql('store', q{SELECT idsess_delete('k-up-2')});
$node->safe_psql('store', q{DELETE FROM idsess.revoked_keys WHERE key_hash = sha256('k-up')});
is($node->safe_psql('store', q{
	SELECT idsess_update('k-up', ticket => 'upserted ticket', subject_id => 'carol',
		clients => ARRAY['client-u'], client_sids => ARRAY['csid-u'], upsert => true)}),
	't', 'the session the limit ended is put back as it was');
$before_sessions = $node->safe_psql('store', $sessions);
$before_tables = $node->safe_psql('store', $tables);

# The update itself.
$node->safe_psql('store', q{ALTER EXTENSION idsess UPDATE});
is($node->safe_psql('store', q{SELECT extversion FROM pg_extension WHERE extname = 'idsess'}),
	'1.2', 'ALTER EXTENSION idsess UPDATE reaches 1.2');
is($node->safe_psql('store', $tables), $before_tables,
	'the update keeps every key, session, client, SAML session, audit row, logout and tombstone');
is($node->safe_psql('store', $sessions), $before_sessions,
	'every ticket opens after the update, with the same clients, sids and SAML sessions');
is($node->safe_psql('store', $versioned), '16', 'sixteen functions bind their 1.2 symbols');
is($node->safe_psql('store', q{
	SELECT count(*) FROM pg_proc p WHERE p.probin = '$libdir/idsess'
	AND has_function_privilege('public', p.oid, 'EXECUTE')}),
	'0', 'no C function is open to PUBLIC after the update');
($ret, $out, $err) = $node->psql('store', q{SELECT idsess_update('k-mallory', ticket => 'late save')});
like($err, qr/revoked/, 'the tombstone of 1.1 still refuses a late save');

# 1.2 on the rows of 1.1: the limit's logouts reach the outbox, and expired
# sessions can be claimed for a lease and acknowledged.
$node->safe_psql('store', q{
	ALTER SYSTEM SET idsess.max_sessions_per_subject = 1; SELECT pg_reload_conf()});
is($node->safe_psql('store', q{
	SELECT idsess_update('k-up-3', ticket => 'third', subject_id => 'carol', upsert => true)}),
	't', 'an upsert on 1.2 ends the subject\'s older session');
is($node->safe_psql('store', q{
	SELECT string_agg(format('%s %s %s %s', cause, subject_id, clients, client_sids), ',')
	FROM idsess.logout_outbox WHERE cause = 'limit'}),
	'limit carol {client-u} {csid-u}', 'and queues its logout, with the clients and sids it had on 1.1');
$node->safe_psql('store', q{
	ALTER SYSTEM RESET idsess.max_sessions_per_subject; SELECT pg_reload_conf()});
# Expired and claimed in one transaction: the worker, which serves this
# database, must not remove the session in between.
is($node->safe_psql('store', q{
	BEGIN;
	UPDATE idsess.sessions SET expires = created, due = created WHERE key = 'k-1';
	SELECT string_agg(key || ' ' || ticket, ',') FROM idsess_take_expired(10, tickets => true, lease => '1 minute');
	COMMIT}),
	'k-1 ticket 1', 'a session of 1.1 is claimed with its ticket');
is($node->safe_psql('store', q{SELECT count(*) FROM idsess_take_expired(0, done => ARRAY['k-1'])}),
	'0', 'and acknowledged');
is($node->safe_psql('store', q{SELECT count(*) FROM idsess.sessions WHERE key = 'k-1'}),
	'0', 'which removes it');

# A dump of a 1.1 database restores into 1.2 with everything in it.
my $old_sessions = $node->safe_psql('old', $sessions);
my $old_tables = $node->safe_psql('old', $tables);
my $dumpfile = "$tempdir/old.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dumpfile, 'old' ], 'pg_dump -Fc of a 1.1 database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_checks_all(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dumpfile ],
	0, [qr/^$/], [qr/^$/], 'pg_restore of the 1.1 dump into 1.2 says nothing');
is($node->safe_psql('restored', q{SELECT extversion FROM pg_extension WHERE extname = 'idsess'}),
	'1.2', 'the restore installs 1.2');
is($node->safe_psql('restored', $tables), $old_tables,
	'the restored 1.2 store holds every row of the 1.1 dump');
is($node->safe_psql('restored', $sessions), $old_sessions,
	'every ticket of the 1.1 dump opens in 1.2');

$node->stop;
done_testing();
