# Upgrading a filled idsess 1.0 store to 1.1.  A database installs 1.0 and is
# filled as an identity server and its operators fill it: sessions with text
# and bytea tickets, clients and SAML sessions, a rotated key ring, a
# revocation in the audit trail, back-channel logouts owed by the worker.
# ALTER EXTENSION idsess UPDATE then keeps every row and every ticket, and the
# store and its worker keep working.  A dump of a 1.0 database restores into
# 1.1 the same way.  Last, the whole pg_regress suite runs on a database that
# installed 1.0 and was updated, instead of one that installed 1.1.
#
# The server runs the current library throughout, as after a package
# upgrade: the 1.0 schema is served by the new library until the DBA runs
# ALTER EXTENSION, so the filling also checks that window.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Copy;
use File::Path qw(make_path);
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my $tempdir = PostgreSQL::Test::Utils::tempdir();
my $keyfile = "$tempdir/idsess.key";
write_master_key($keyfile);
my $other_key = "$tempdir/other.key";
write_master_key($other_key);

my $node = idsess_node('upgrade', databases => 'store,old',
	conf => "idsess.expired_sessions_trigger_logout = on\n",
	keyfile => $keyfile);

# Two 1.0 stores filled alike: one is updated in place, one is dumped.
for my $db (qw(store old))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{CREATE EXTENSION idsess VERSION '1.0' CASCADE});
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'idsess'}),
		'1.0', "$db: idsess 1.0 installed");
	$node->safe_psql($db, q{
		SELECT idsess_create('alice', 'ticket of alice' || repeat(', claim', 100), key => 'k-alice',
			session_id => 'sid-alice', display_name => 'Alice',
			expires => now() + interval '30 days', idle_timeout => interval '2 hours');
		SELECT idsess_add_client('k-alice', 'client-a');
		SELECT idsess_add_client('k-alice', 'client-b');
		SELECT idsess_add_saml_session('k-alice', 'https://sp.example/one', 'idx-1', 'alice');
		SELECT idsess_key_rotate();
		SELECT idsess_create('bob', ticket_bytes => '\x00ff10fe'::bytea, key => 'k-bob',
			scheme => 'saml', expires => 'infinity');
		SELECT idsess_add_client('k-bob', 'client-c');
		SELECT count((idsess_create('user-' || i, 'ticket ' || i, key => 'k-' || i,
			expires => now() + i * interval '1 hour')).key)
		FROM generate_series(1, 200) i;
		SELECT idsess_create('mallory', 'ticket of mallory', key => 'k-mallory');
		SELECT idsess_add_client('k-mallory', 'client-m');
		SELECT count(*) FROM idsess_revoke(subject_id => 'mallory', reason => 'before the upgrade');
		SELECT idsess_create('zoe', 'ticket of zoe', key => 'k-zoe',
			expires => clock_timestamp() + interval '100 milliseconds');
		SELECT idsess_add_client('k-zoe', 'client-z');
	});
}
$node->safe_psql('old', q{SELECT idsess_key_rotate()});
for my $db (qw(store old))
{
	ok($node->poll_query_until($db, q{SELECT count(*) = 1 FROM idsess.logout_outbox}),
		"$db: the worker expired a session on 1.0 and owes its logout");
}

# Everything the API shows of each session, and a fingerprint of each table.
my $sessions = q{
	SELECT string_agg(format('%s|%s|%s|%s', k, g, idsess_clients(k), idsess_saml_sessions(k)),
		E'\n' ORDER BY k)
	FROM (SELECT key FROM idsess.sessions) s(k),
		LATERAL (SELECT (g.key, g.scheme, g.subject_id, g.session_id, g.display_name, g.created,
		                 g.renewed, g.expires, g.last_active, g.idle_timeout, g.clients,
		                 g.saml_sessions, g.ticket, g.ticket_bytes)::text AS g
		         FROM idsess_get(k) g) x};
my $tables = q{
	SELECT string_agg(t || ':' || n, E'\n' ORDER BY t) FROM (
		SELECT 'keys' t, string_agg(format('%s,%s,%s', id, state, md5(wrapped)), ';' ORDER BY id) n FROM idsess.keys
		UNION ALL SELECT 'sessions', string_agg(format('%s,%s,%s,%s,%s', id, key, key_id, expires, md5(ticket)), ';' ORDER BY id) FROM idsess.sessions
		UNION ALL SELECT 'clients', string_agg(format('%s,%s', session, client_id), ';' ORDER BY session, client_id) FROM idsess.session_clients
		UNION ALL SELECT 'saml', string_agg(format('%s,%s,%s', session, entity_id, session_index), ';' ORDER BY session, entity_id, session_index) FROM idsess.session_saml
		UNION ALL SELECT 'audit', string_agg(format('%s,%s,%s,%s', id, action, key_id, reason), ';' ORDER BY id) FROM idsess.audit
		UNION ALL SELECT 'outbox', string_agg(format('%s,%s,%s,%s', id, cause, subject_id, clients), ';' ORDER BY id) FROM idsess.logout_outbox
		UNION ALL SELECT 'stats', sum(created + expired + revoked)::text FROM idsess.stats_hourly) x};

my $tickets = q{
	SELECT string_agg(format('%s=%s', s.key, coalesce(g.ticket, g.ticket_bytes::text)), ',' ORDER BY s.key)
	FROM idsess.sessions s, LATERAL idsess_get(s.key) g WHERE s.key <> 'k-carol'};

my $before_sessions = $node->safe_psql('store', $sessions);
my $before_tickets = $node->safe_psql('store', $tickets);
my $before_tables = $node->safe_psql('store', $tables);
like($before_sessions, qr/^k-alice\|.*ticket of alice.*\|\{client-a,client-b\}\|.*idx-1/m,
	'1.0 opens the text ticket with its clients and SAML session');
like($before_sessions, qr/^k-bob\|.*\\\\x00ff10fe/m, '1.0 opens the bytea ticket');
is($node->safe_psql('store', q{SELECT count(*) FROM idsess.sessions}), '202',
	'1.0 holds the 202 live sessions');

# A 1.0 schema gets its tickets sealed uncompressed (format 't', byte 4 of
# the seal), which the 1.0 library can open if the package is rolled back.
my $formats = q{SELECT string_agg(key || ':' || chr(get_byte(ticket, 3)), ',' ORDER BY key)
	FROM idsess.sessions WHERE key IN ('k-alice', 'k-bob')};
is($node->safe_psql('store', $formats), 'k-alice:t,k-bob:b',
	'the new library seals uncompressed tickets in a 1.0 store');

# The update itself.
$node->safe_psql('store', q{ALTER EXTENSION idsess UPDATE});
is($node->safe_psql('store', q{SELECT extversion FROM pg_extension WHERE extname = 'idsess'}),
	'1.2', 'ALTER EXTENSION idsess UPDATE reaches 1.2, through 1.1');
is($node->safe_psql('store', $tables), $before_tables,
	'the update keeps every key, session, client, SAML session, audit row, logout and statistic');
is($node->safe_psql('store', $sessions), $before_sessions,
	'every ticket opens after the update, with the same clients and SAML sessions');

is($node->safe_psql('store', q{SELECT count(*) FROM idsess.sessions WHERE client_list IS NOT NULL OR saml_list IS NOT NULL}),
	'0', 'the update rewrites no session row: get reads the clients of a 1.0 row from their tables');

# The updated store and its worker keep working.
is($node->safe_psql('store', q{
	SELECT (idsess_create('carol', 'ticket of carol', key => 'k-carol',
		expires => clock_timestamp() + interval '100 milliseconds')).key}),
	'k-carol', 'a session is created after the update');
is($node->safe_psql('store', q{SELECT idsess_add_client('k-alice', 'client-d')}),
	'{client-a,client-b,client-d}', 'a client joins a session created on 1.0');
is($node->safe_psql('store', q{SELECT client_list::text || ' ' || (saml_list->0->>'session_index') FROM idsess.sessions WHERE key = 'k-alice'}),
	'{{client-a,NULL},{client-b,NULL},{client-d,NULL}} idx-1',
	'and its row then carries a copy of its clients and SAML session');
$node->safe_psql('store', q{SELECT idsess_update('k-bob')});
is($node->safe_psql('store', q{SELECT client_list::text FROM idsess.sessions WHERE key = 'k-bob'}),
	'{{client-c,NULL}}', 'a save of a 1.0 session gives its row the copy');
is($node->safe_psql('store', q{SELECT clients FROM idsess_get('k-bob')}), '{client-c}',
	'which get returns');
ok($node->poll_query_until('store', q{SELECT count(*) = 2 FROM idsess.logout_outbox}),
	'the worker expires a session created after the update');
is($node->safe_psql('store', q{SELECT state IN ('sleeping', 'expiring') AND last_error IS NULL FROM idsess.workers WHERE database = 'store'}),
	't', 'the worker serves the updated database');
is($node->safe_psql('store', q{SELECT idsess_key_rotate()}), '3',
	'the key ring rotates on from its 1.0 keys');
is($node->safe_psql('store', q{SELECT sum(n) FROM (SELECT idsess_reseal(1000) n) x}), '202',
	'every ticket sealed under 1.0 keys reseals under the new key');
is($node->safe_psql('store', $tickets), $before_tickets, 'and still opens');
is($node->safe_psql('store', $formats), 'k-alice:T,k-bob:b',
	'a 1.1 store compresses a ticket when that makes it smaller');

# A dump of a 1.0 database restores into 1.1 with everything in it.
my $old_sessions = $node->safe_psql('old', $sessions);
my $old_tables = $node->safe_psql('old', $tables);
my $dumpfile = "$tempdir/old.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dumpfile, 'old' ], 'pg_dump -Fc of a 1.0 database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_checks_all(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dumpfile ],
	0, [qr/^$/], [qr/^$/], 'pg_restore of the 1.0 dump into 1.1 says nothing');
is($node->safe_psql('restored', q{SELECT extversion FROM pg_extension WHERE extname = 'idsess'}),
	'1.2', 'the restore installs the current version');
is($node->safe_psql('restored', $tables), $old_tables,
	'the restored 1.1 store holds every row of the 1.0 dump');
is($node->safe_psql('restored', $sessions), $old_sessions,
	'every ticket of the 1.0 dump opens in 1.1');
is($node->safe_psql('restored', q{SELECT (idsess_create('dave', 'ticket of dave')).subject_id}),
	'dave', 'the restored store takes new sessions');

# The pg_regress suite, on a database that installed 1.0 and was updated:
# the same inputs and expected outputs, but for how setup installs idsess.
my $suite = "$tempdir/suite";
make_path("$suite/sql", "$suite/expected");
my $src = $ENV{TESTDIR} // "$FindBin::RealBin/..";
my @schedule;
for my $line (split /\n/, slurp_file("$src/Makefile"))
{
	@schedule = split ' ', $1 if $line =~ /^REGRESS\s*=\s*(.*)$/;
}
ok(@schedule > 5, 'the suite\'s schedule is read from the Makefile');
for my $t (@schedule)
{
	copy("$src/sql/$t.sql", "$suite/sql/$t.sql") or die "copy $t.sql: $!";
	copy("$src/expected/$t.out", "$suite/expected/$t.out") or die "copy $t.out: $!";
}
for my $f ("$suite/sql/setup.sql", "$suite/expected/setup.out")
{
	my $text = slurp_file($f);
	$text =~ s/^CREATE EXTENSION idsess CASCADE;$/CREATE EXTENSION idsess VERSION '1.0' CASCADE;\nALTER EXTENSION idsess UPDATE;/m
		or die "setup does not install idsess as expected: $f";
	open(my $fh, '>', $f) or die "write $f: $!";
	print $fh $text;
	close($fh);
}
# A node set up as scripts/dev test sets up the suite's server (the TAP
# default log_statement = all would log the tickets the suite looks for).
$node->stop;
my $suite_node = idsess_node('suite', databases => 'contrib_regression',
	conf => "idsess.max_nap = '500ms'\nlogging_collector = on\nlog_statement = none\n",
	keyfile => $keyfile);
local $ENV{IDSESS_OTHER_KEY} = $other_key;
my $regress_out = "$tempdir/regress";
# From PostgreSQL 16 on, pg_regress reads the expected files from
# --expecteddir (the current directory unless given), not --inputdir.
my @expecteddir = $suite_node->pg_version >= 16 ? ("--expecteddir=$suite") : ();
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[ $ENV{PG_REGRESS}, '--bindir=', '--dbname=contrib_regression',
	  "--host=" . $suite_node->host, "--port=" . $suite_node->port,
	  "--inputdir=$suite", @expecteddir, "--outputdir=$regress_out",
	  '--load-extension=pgcrypto', '--load-extension=pg_trgm', @schedule ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'the pg_regress suite passes on a database updated from 1.0')
	or diag($stdout . $stderr
		. (-e "$regress_out/regression.diffs" ? slurp_file("$regress_out/regression.diffs") : ''));

$suite_node->stop;
done_testing();
