# The 1.1 library on a 1.0 schema (before ALTER EXTENSION UPDATE): the store
# works without the tombstones of revoked keys (idsess.revoked_keys is new in
# 1.1), and the same backend starts to use them once the update creates the
# table, without a reconnect.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('schema_1_0', databases => 'old');
$node->safe_psql('postgres', 'CREATE DATABASE old');

# One psql session, so one backend sees both schemas.
my ($rc, $out, $err) = $node->psql('old', q{
CREATE EXTENSION idsess VERSION '1.0' CASCADE;
SELECT 'created ' || key FROM idsess_create('u', 't', key => 'k1', expires => now() + interval '1 hour');
SELECT 'revoked ' || count(*) FROM idsess_revoke(subject_id => 'u');
SELECT 'updated ' || idsess_update('k1', ticket => 'late');
SELECT 'recreated ' || key FROM idsess_create('u', 't', key => 'k1', expires => now() + interval '1 hour');
ALTER EXTENSION idsess UPDATE TO '1.1';
SELECT 'revoked ' || count(*) FROM idsess_revoke(subject_id => 'u');
DO $$BEGIN PERFORM idsess_update('k1', ticket => 'late');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'update: %', SQLSTATE; END$$;
DO $$BEGIN PERFORM idsess_create('u', 't', key => 'k1');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'create: %', SQLSTATE; END$$;
SELECT 'tombstones ' || count(*) FROM idsess.revoked_keys;
});
is($rc, 0, 'the script ran without an unexpected error');
is( $out, join("\n",
		'created k1', 'revoked 1', 'updated false', 'recreated k1',
		'revoked 1', 'tombstones 1'),
	'on 1.0, revoke, update and create work without tombstones; after the update, revoke leaves one');
like($err, qr/update: ISRVK/, 'after ALTER EXTENSION UPDATE, the same backend refuses a late update');
like($err, qr/create: ISRVK/, 'and a late create');

$node->stop;
done_testing();
