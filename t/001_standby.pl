# A primary and a streaming standby, both preloading idsess with the same
# master key and settings: the expiry worker (and its launcher) runs only on
# the primary; sessions, and the worker's removals, replicate; the standby
# opens replicated tickets read-only and removes nothing, even sessions that
# are past due; and once promoted, the standby starts its own worker, which
# removes the sessions that fell due meanwhile.  A data key rotation
# reaches the standby with the WAL; a master key change reaches it only when
# its own idsess.master_key_file names the new file.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

# One master key file, outside both data directories, named by both nodes.
my $keyfile = PostgreSQL::Test::Utils::tempdir() . '/idsess.key';
write_master_key($keyfile);

my $primary = idsess_node('primary', init => { allows_streaming => 1 }, keyfile => $keyfile);

# The standby's postgresql.conf comes with the backup: same key, same
# settings.
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

my $workers = q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'idsess expiry worker' AND datname = 'postgres'};
my $launchers = q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'idsess launcher'};

$primary->safe_psql('postgres', 'CREATE EXTENSION idsess CASCADE');

# The first idsess_create makes the data key on the primary.  The second
# session expires, but not before the standby has been looked at: it is
# brought forward below, so that a slow machine cannot race the primary's
# worker.
$primary->safe_psql('postgres', q{
	SELECT idsess_create('alice', 'ticket-forever', key => 'k-forever');
	SELECT idsess_create('bob', 'ticket-soon', key => 'k-soon',
		expires => clock_timestamp() + interval '1 hour');
});
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres',
		q{SELECT string_agg(key, ',' ORDER BY key) FROM idsess.sessions}),
	'k-forever,k-soon', 'the standby has both sessions');
is($standby->safe_psql('postgres',
		q{SELECT (SELECT ticket FROM idsess_get('k-forever')) || ',' ||
		         (SELECT ticket FROM idsess_get('k-soon'))}),
	'ticket-forever,ticket-soon', 'the standby opens the replicated tickets');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM idsess.keys}),
	'1', 'the data key made on the primary replicated');

# The launcher and the worker start only once recovery has finished.
ok($primary->poll_query_until('postgres', $workers, '1'),
	'the primary runs an expiry worker');
is($primary->safe_psql('postgres', $launchers), '1', 'the primary runs the launcher');
is($standby->safe_psql('postgres', $workers), '0', 'the standby runs no expiry worker');
is($standby->safe_psql('postgres', $launchers), '0', 'the standby runs no launcher');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM idsess.workers}),
	'0', 'the standby reports no workers');

# The expiring session falls due in a second; the primary's worker removes
# it and the removal replicates.
is($primary->safe_psql('postgres', q{
	SELECT idsess_update('k-soon', expires => clock_timestamp() + interval '1 second')}),
	't', 'the expiring session is brought forward on the primary');
ok($primary->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM idsess.sessions WHERE key = 'k-soon'}),
	'the primary\'s worker removes the expired session');
ok($standby->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM idsess.sessions WHERE key = 'k-soon'}),
	'the removal replicates to the standby');
ok($primary->safe_psql('postgres',
		q{SELECT total_removed >= 1 FROM idsess.workers WHERE database = 'postgres'}) eq 't',
	'the primary\'s worker counts the removal');
is($standby->safe_psql('postgres', q{SELECT key FROM idsess.sessions}),
	'k-forever', 'the session that never expires stays on the standby');

# A data key rotation is a row in idsess.keys: it replicates, and the
# standby opens tickets sealed under the new key as well as the old ones.
$primary->safe_psql('postgres', q{
	SELECT idsess_key_rotate();
	SELECT idsess_create('erin', 'ticket-rotated', key => 'k-rotated');
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
		q{SELECT (SELECT ticket FROM idsess_get('k-forever')) || ',' ||
		         (SELECT ticket FROM idsess_get('k-rotated'))}),
	'ticket-forever,ticket-rotated',
	'after a rotation the standby opens tickets under the old and the new data key');

# A master key change re-wraps the data keys on the primary; the standby
# replays the re-wrapped keys but reads the master key from its own
# postgresql.conf: until it is pointed at the new file, it cannot unwrap
# them (an identity server falls back to the primary), and after a reload
# it can.
my $newkeyfile = PostgreSQL::Test::Utils::tempdir() . '/idsess-2.key';
write_master_key($newkeyfile);
$primary->safe_psql('postgres', qq{SELECT idsess_rewrap_keys('$newkeyfile')});
$primary->append_conf('postgresql.conf', "idsess.master_key_file = '$newkeyfile'\n");
$primary->reload;
$primary->wait_for_catchup($standby);
my ($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT ticket FROM idsess_get('k-rotated')});
like($err, qr/the master key does not open the key ring/,
	'a standby still on the old master key file cannot open re-wrapped keys');
$standby->append_conf('postgresql.conf', "idsess.master_key_file = '$newkeyfile'\n");
$standby->reload;
ok($standby->poll_query_until('postgres',
		q{SELECT ticket FROM idsess_get('k-rotated')}, 'ticket-rotated'),
	'after pointing at the new master key file and a reload, the standby opens tickets again');
$primary->safe_psql('postgres', q{SELECT idsess_delete('k-rotated')});
$primary->wait_for_catchup($standby);

# A session that falls due after the primary is gone.  The primary's worker
# is stopped first (by taking the database out of idsess.databases) so that
# only the standby can ever remove it.
$primary->append_conf('postgresql.conf', "idsess.databases = ''\n");
$primary->reload;
ok($primary->poll_query_until('postgres', $workers, '0'),
	'the primary\'s worker stops when its database leaves the setting');
$primary->safe_psql('postgres', q{
	SELECT idsess_create('carol', 'ticket-later', key => 'k-later',
		expires => clock_timestamp() + interval '1 second')});
$primary->wait_for_catchup($standby);
$primary->stop;

# Past due, the session is no longer served, but the standby keeps the row.
ok($standby->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM idsess_get('k-later')}),
	'the standby no longer serves the session once it is past due');
is($standby->safe_psql('postgres',
		q{SELECT string_agg(key, ',' ORDER BY key) FROM idsess.sessions}),
	'k-forever,k-later', 'the standby does not remove the session past due');
is($standby->safe_psql('postgres', $workers), '0',
	'the standby still runs no expiry worker');

# Promoted, the standby starts its launcher and worker, which removes it.
$standby->promote;
ok($standby->poll_query_until('postgres', $workers, '1'),
	'the promoted standby starts an expiry worker');
is($standby->safe_psql('postgres', $launchers), '1',
	'the promoted standby runs the launcher');
ok($standby->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM idsess.sessions WHERE key = 'k-later'}),
	'the promoted standby\'s worker removes the session past due');
is($standby->safe_psql('postgres', q{SELECT key FROM idsess.sessions}),
	'k-forever', 'the session that never expires survives promotion');
is($standby->safe_psql('postgres', q{SELECT ticket FROM idsess_get('k-forever')}),
	'ticket-forever', 'the promoted node still opens the ticket');
is($standby->safe_psql('postgres',
		q{SELECT total_removed FROM idsess.workers WHERE database = 'postgres'}),
	'1', 'the promoted node\'s worker reports its removal');

# The promoted node is writable: new sessions are sealed under the
# replicated data key and expire there.
$standby->safe_psql('postgres', q{
	SELECT idsess_create('dave', 'ticket-new', key => 'k-new',
		expires => clock_timestamp() + interval '300 milliseconds')});
is($standby->safe_psql('postgres', q{SELECT count(*) FROM idsess.keys}),
	'2', 'the promoted node reuses the replicated data keys');
ok($standby->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM idsess.sessions WHERE key = 'k-new'}),
	'sessions created on the promoted node expire there');

$standby->stop;
done_testing();
