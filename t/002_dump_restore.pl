# pg_dump and pg_restore keep an idsess store whole: a custom-format dump of
# a database with sessions (text and bytea tickets, clients, SAML sessions,
# two data keys, an audit trail, a back-channel logout owed) restored into a
# new database on the same server has every session, and its tickets open
# with the same master key.  The restored store keeps working: its identity
# sequences carry on past the restored rows, so new sessions, audit entries
# and logouts can be written.  A dump never holds a ticket's plaintext nor
# the master key.
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
my $master_hex = write_master_key($keyfile);

my $node = idsess_node('dump', databases => 'src',
	conf => "idsess.expired_sessions_trigger_logout = on\n",
	keyfile => $keyfile);

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION idsess CASCADE');

# The worker expires a session and queues its back-channel logout; then it
# is stopped, so that nothing changes the store while it is dumped and
# compared.
$node->safe_psql('src', q{
	SELECT idsess_create('zoe', 'ticket of zoe', key => 'k-gone',
		expires => clock_timestamp() + interval '200 milliseconds');
	SELECT idsess_add_client('k-gone', 'client-x');
});
ok($node->poll_query_until('src', q{SELECT count(*) = 1 FROM idsess.logout_outbox}),
	'the expired session owes a logout');
$node->append_conf('postgresql.conf', "idsess.databases = ''\n");
$node->reload;
ok($node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
		WHERE backend_type = 'idsess expiry worker'}),
	'the expiry worker stops');

my $marker = 'PLAINTEXT-MARKER-5e1f0c7a';
$node->safe_psql('src', qq{
	SELECT idsess_create('alice', 'ticket $marker of alice', key => 'k-text',
		session_id => 'sid-text', display_name => 'Alice',
		expires => now() + interval '30 days', idle_timeout => interval '2 hours');
	SELECT idsess_add_client('k-text', 'client-a');
	SELECT idsess_add_client('k-text', 'client-b');
	SELECT idsess_add_saml_session('k-text', 'https://sp.example/one', 'idx-1', 'alice\@example');
	SELECT idsess_add_saml_session('k-text', 'https://sp.example/two', 'idx-2', 'alice', 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
	-- A second data key: the next sessions are sealed under it.
	SELECT idsess_key_rotate();
	SELECT idsess_create('bob', ticket_bytes => '\\x00ff${\ unpack('H*', $marker)}00fe'::bytea,
		key => 'k-bytes', scheme => 'saml');
	SELECT idsess_add_client('k-bytes', 'client-c');
	SELECT idsess_add_saml_session('k-bytes', 'https://sp.example/one', 'idx-3', 'bob');
	SELECT idsess_create('carol', 'plain ticket', key => 'k-plain');
});

is($node->safe_psql('src', q{SELECT string_agg(id || ':' || state, ',' ORDER BY id) FROM idsess.keys}),
	'1:inactive,2:active', 'the source has two data keys');

# Everything the API shows of each session, and a fingerprint of each table.
my $sessions = q{
	SELECT string_agg(format('%s|%s|%s|%s', k, g, idsess_clients(k), idsess_saml_sessions(k)),
		E'\n' ORDER BY k)
	FROM unnest(ARRAY['k-text', 'k-bytes', 'k-plain']) k,
		LATERAL (SELECT g::text FROM idsess_get(k) g) s};
my $tables = q{
	SELECT string_agg(t || ':' || n, ',' ORDER BY t) FROM (
		SELECT 'keys' t, string_agg(format('%s,%s,%s', id, state, md5(wrapped)), ';' ORDER BY id) n FROM idsess.keys
		UNION ALL SELECT 'sessions', string_agg(format('%s,%s,%s,%s,%s,%s', id, key, key_id, md5(ticket),
			client_list, md5(saml_list::text)), ';' ORDER BY id) FROM idsess.sessions
		UNION ALL SELECT 'clients', string_agg(format('%s,%s', session, client_id), ';' ORDER BY session, client_id) FROM idsess.session_clients
		UNION ALL SELECT 'saml', string_agg(format('%s,%s,%s', session, entity_id, session_index), ';' ORDER BY session, entity_id, session_index) FROM idsess.session_saml
		UNION ALL SELECT 'audit', string_agg(format('%s,%s,%s', id, action, key_id), ';' ORDER BY id) FROM idsess.audit
		UNION ALL SELECT 'outbox', string_agg(format('%s,%s,%s,%s', id, cause, subject_id, clients), ';' ORDER BY id) FROM idsess.logout_outbox
		UNION ALL SELECT 'stats', count(*)::text FROM idsess.stats_hourly) x};

my $src_sessions = $node->safe_psql('src', $sessions);
my $src_tables = $node->safe_psql('src', $tables);
like($src_sessions, qr/k-text\|.*ticket \Q$marker\E of alice.*\|\{client-a,client-b\}\|.*idx-2/,
	'the source opens the text ticket, with its clients and SAML sessions');
like($src_sessions, qr/k-bytes\|.*\\\\x00ff/, 'the source opens the bytea ticket');
like($src_tables, qr/\{\{client-a,NULL\},\{client-b,NULL\}\}/,
	'the source\'s session rows carry the copy of their clients that get reads');

# Custom-format dump, restored into a new database.
my $dumpfile = "$tempdir/src.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dumpfile, 'src' ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
# pg_restore must succeed and say nothing: no error, not even one it skips.
$node->command_checks_all(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dumpfile ],
	0, [qr/^$/], [qr/^$/], 'pg_restore -d dst');

is($node->safe_psql('dst', $tables), $src_tables,
	'the restored tables hold the same keys, sessions, clients, SAML sessions, audit, logouts and stats');
is($node->safe_psql('dst', $sessions), $src_sessions,
	'the restored sessions open with the same master key: same tickets, clients and SAML sessions');
is($node->safe_psql('dst', q{SELECT ticket_bytes FROM idsess_get('k-bytes')}),
	'\\x00ff' . unpack('H*', $marker) . '00fe', 'the restored bytea ticket is byte for byte the same');

# Each identity sequence must be restored past the restored rows, or the
# next insert collides with a restored id.
for my $table (qw(sessions audit logout_outbox))
{
	is($node->safe_psql('dst', qq{
		SELECT coalesce(s.last_value, 0) >= (SELECT coalesce(max(id), 0) FROM idsess.$table)
		FROM pg_sequences s
		WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass =
			pg_get_serial_sequence('idsess.$table', 'id')::regclass}),
		't', "the identity sequence of idsess.$table is restored");
}

# The restored store keeps working: new sessions (several, so that one of
# them needs an id a restored session holds), new clients and SAML sessions
# on restored sessions, a key rotation (which writes the audit trail).
my ($rc, $out, $err) = $node->psql('dst', q{
	SELECT count((idsess_create('dave', 'ticket of dave ' || i, key => 'k-new-' || i)).key)
	FROM generate_series(1, 5) i});
is($out, '5', 'new sessions can be created in the restored database')
	or diag($err);
is($node->safe_psql('dst', q{SELECT ticket FROM idsess_get('k-new-5')}),
	'ticket of dave 5', 'a new session\'s ticket opens');
is($node->safe_psql('dst', q{SELECT idsess_add_client('k-text', 'client-z')}),
	'{client-a,client-b,client-z}', 'a client joins a restored session');
is($node->safe_psql('dst', q{
	SELECT jsonb_array_length(idsess_add_saml_session('k-bytes', 'https://sp.example/two', 'idx-4', 'bob'))}),
	'2', 'a SAML session joins a restored session');
($rc, $out, $err) = $node->psql('dst', q{SELECT idsess_key_rotate()});
is($out, '3', 'the restored key ring rotates to the next key id (and audits it)')
	or diag($err);
is($node->safe_psql('dst', q{SELECT ticket FROM idsess_get('k-text')}),
	"ticket $marker of alice", 'tickets under the oldest key still open after rotation');

# A plain-format dump holds the data, but neither a ticket's plaintext nor
# the master key.
my $plainfile = "$tempdir/src.sql";
$node->command_ok([ 'pg_dump', '-Fp', '-f', $plainfile, 'src' ], 'pg_dump -Fp');
my $plain = slurp_file($plainfile);
like($plain, qr/^COPY idsess\.sessions /m, 'the plain dump holds the sessions');
like($plain, qr/\tk-text\t/, 'the plain dump holds the session keys');
unlike($plain, qr/\Q$marker\E/, 'the plain dump does not hold the ticket marker');
my $marker_hex = unpack('H*', $marker);
unlike($plain, qr/\Q$marker_hex\E/i, 'nor the marker in hex (the bytea ticket)');
unlike($plain, qr/\Q$master_hex\E/i, 'the plain dump does not hold the master key');

$node->stop;
done_testing();
