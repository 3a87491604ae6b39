# The expiry worker merges the admin search index's pending list (GIN fast
# update) once it reaches a quarter of the index's gin_pending_list_limit,
# so that a sign-in does not find it full and merge it itself.  Autovacuum
# is off here, so nothing else merges it; the search still finds what was
# merged.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my ($node, $keyfile) = idsess_node('search_index', databases => 'one',
	conf => "autovacuum = off\n");
$node->safe_psql('postgres', 'CREATE DATABASE one');
$node->safe_psql('one', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('one', 'CREATE EXTENSION pgstattuple');
ok($node->poll_query_until('one', q{SELECT state = 'sleeping' FROM idsess.workers}),
	'the worker runs');

# A limit of 1 MB: the worker merges from 256 kB (32 pages) on, a backend
# at 128 pages.  A session's trigrams take about 1.4 kB of pending list.
$node->safe_psql('one',
	'ALTER INDEX idsess.sessions_search_idx SET (gin_pending_list_limit = 1024)');
my $pending = q{SELECT pending_pages FROM pgstatginindex('idsess.sessions_search_idx')};

# Twenty sessions stay pending: too few to be worth a merge.
$node->safe_psql('one', q{SELECT idsess_create('few-' || i, 't', display_name => 'Ada Few')
	FROM generate_series(1, 20) i});
my $few = $node->safe_psql('one', $pending);
cmp_ok($few, '>', 0, 'twenty sessions are in the pending list');
my $since = $node->safe_psql('one', 'SELECT now()');
ok( $node->poll_query_until(
		'one', qq{SELECT last_run > '$since'::timestamptz + interval '1 second' FROM idsess.workers}),
	'the worker ran meanwhile');
is($node->safe_psql('one', $pending), $few, 'a short pending list is left alone');

# 400 more: about 60 pages, past a quarter of the limit and short of it,
# so no backend merges them; the commit wakes the worker, which does.  (A
# round during the insert may merge part of it and leave the rest, short of
# a quarter, for later: below the quarter is what the worker keeps to.)
$node->safe_psql('one', q{SELECT idsess_create('many-' || i, 't', display_name => 'Grace Many')
	FROM generate_series(1, 400) i});
ok( $node->poll_query_until(
		'one', q{SELECT pending_pages < 32 FROM pgstatginindex('idsess.sessions_search_idx')}),
	'the worker merges the pending list into the index');

# Merged entries are found by the index: only the index can serve this.
is( $node->safe_psql(
		'one', q{SET enable_seqscan = off;
	SELECT count(*) FROM idsess.sessions
	WHERE lower(display_name) LIKE '%grace many%' OR lower(display_name) LIKE '%ada few%'}),
	'420', 'the search finds every merged session');
is( $node->safe_psql(
		'one', q{SELECT total_count FROM idsess_query(display_name => 'ace man') LIMIT 1}),
	'400', 'idsess_query finds them');

$node->stop;
done_testing();
