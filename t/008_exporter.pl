# monitoring/idsess-queries.yaml with the real prometheus-postgres-exporter:
# logged in with nothing but idsess_reporting, it exposes live sessions,
# sessions per client, removals per cause, the expiry worker and the key
# ring on /metrics (scraped here on loopback).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;
use HTTP::Tiny;
use IPC::Run;
use Time::HiRes qw(usleep);

my $exporter = '/usr/bin/prometheus-postgres-exporter';
plan skip_all => "$exporter is not installed (Debian package prometheus-postgres-exporter)"
  unless -x $exporter;
# The tree's query file, or the one a package installed (scripts/dev deb).
my $queries = $ENV{IDSESS_EXPORTER_QUERIES}
  // "$FindBin::RealBin/../monitoring/idsess-queries.yaml";
ok(-r $queries, "the query file $queries is there");

my $node = PostgreSQL::Test::Cluster->new('exporter');
$node->init;
my $keyfile = $node->basedir . '/idsess.key';
write_master_key($keyfile);
$node->append_conf('postgresql.conf', idsess_conf($keyfile, 'metrics'));
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE metrics');
$node->safe_psql('metrics', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('postgres', 'CREATE ROLE idsess_exporter LOGIN IN ROLE idsess_reporting');

# Three live sessions (clients: spa on two, payroll on one), two that
# expire at once, one revoked, and a rotated key ring.
$node->safe_psql('metrics', q{
	SELECT idsess_create('alice', 't', key => 'k-1');
	SELECT idsess_create('bob', 't', key => 'k-2');
	SELECT idsess_create('carol', 't', key => 'k-3');
	SELECT idsess_add_client('k-1', 'spa'), idsess_add_client('k-2', 'spa'), idsess_add_client('k-2', 'payroll');
	SELECT idsess_create('dave', 't', key => 'k-4');
	SELECT idsess_create('erin', 't', key => 'k-5', expires => clock_timestamp() + interval '200 milliseconds');
	SELECT idsess_create('frank', 't', key => 'k-6', expires => clock_timestamp() + interval '200 milliseconds');
	SELECT count(*) FROM idsess_revoke(subject_id => 'dave', reason => 'test');
	SELECT idsess_key_rotate();
});
# The worker removes the two and writes them, and the revocation, to the
# hourly history.
ok($node->poll_query_until('metrics', q{
	SELECT sum(expired) = 2 AND sum(revoked) = 1
	FROM idsess_report_history(now() - interval '1 hour', now())}),
	'the hourly history holds the expired and the revoked sessions');

# The exporter's login is a reporting role and nothing more.
my ($ret, $out, $err) = $node->psql('metrics', 'SELECT count(*) FROM idsess.key_ring',
	extra_params => [ '-U', 'idsess_exporter' ]);
like($err, qr/permission denied/, 'the exporter login cannot read idsess.key_ring');
($ret, $out, $err) = $node->psql('metrics', 'SELECT count(*) FROM idsess_report_key_ring()',
	extra_params => [ '-U', 'idsess_exporter' ]);
is($out, '2', 'but reads the key ring dates through idsess_report_key_ring()');
$node->safe_psql('postgres', 'CREATE ROLE idsess_t_plain LOGIN');
($ret, $out, $err) = $node->psql('metrics', 'SELECT count(*) FROM idsess_report_key_ring()',
	extra_params => [ '-U', 'idsess_t_plain' ]);
like($err, qr/permission denied/, 'a plain role cannot call idsess_report_key_ring()');

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = sprintf('host=%s port=%d user=idsess_exporter dbname=metrics sslmode=disable',
	$node->host, $node->port);
my $exporter_log = $node->basedir . '/exporter.log';
my $h = IPC::Run::start(
	[ $exporter, "--web.listen-address=127.0.0.1:$port",
	  "--extend.query-path=$queries", '--log.level=warn' ],
	'<', \undef, '>&', $exporter_log,
	init => sub {
		# The data source says everything; the exporter's driver (lib/pq)
		# panics on some libpq variables, such as the PGSYSCONFDIR that
		# pg_virtualenv sets.
		delete $ENV{$_} for grep { /^PG/ } keys %ENV;
		$ENV{DATA_SOURCE_NAME} = $dsn;
	});

# Scrapes until the idsess series are there (the exporter needs a moment to
# listen and connect), at most the tests' default timeout.
my $http = HTTP::Tiny->new(timeout => 10);
my $body = '';
my $last = '';
my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
while (time() < $deadline)
{
	my $r = $http->get("http://127.0.0.1:$port/metrics");
	$last = "$r->{status} $r->{reason}";
	if ($r->{success} && $r->{content} =~ /^idsess_key_ring_active_age_seconds/m)
	{
		$body = $r->{content};
		last;
	}
	usleep(200_000);
}
ok($body ne '', 'the exporter serves idsess series on loopback')
  or diag("exporter log:\n" . slurp_file($exporter_log) . "last response: $last");
note(join("\n", grep { /^idsess_/ } split /\n/, $body));

# metric NAME, LABELS: the value of the series with these labels (others,
# such as the exporter's server label, may be there too).
sub metric
{
	my ($name, %labels) = @_;
	for my $line (split /\n/, $body)
	{
		next unless $line =~ /^\Q$name\E(?:\{(.*)\})? (\S+)$/;
		my ($l, $v) = ($1 // '', $2);
		my %have = $l =~ /(\w+)="([^"]*)"/g;
		next if grep { !defined $have{$_} || $have{$_} ne $labels{$_} } keys %labels;
		return $v + 0;
	}
	return undef;
}

is(metric('idsess_sessions_live'), 3, 'live sessions');
is(metric('idsess_sessions_subjects'), 3, 'subjects');
is(metric('idsess_client_sessions', client_id => 'spa'), 2, 'sessions of client spa');
is(metric('idsess_client_sessions', client_id => 'payroll'), 1, 'sessions of client payroll');
# The current and previous hour together: the test may straddle the hour.
my $removed = sub {
	my $c = shift;
	return (metric('idsess_removed_current_hour', cause => $c) // 0)
	  + (metric('idsess_removed_previous_hour', cause => $c) // 0);
};
is($removed->('expired'), 2, 'sessions removed on expiry');
is($removed->('revoked'), 1, 'sessions revoked');
is($removed->('idle'), 0, 'no session ended idle');
ok(defined metric('idsess_removed_current_hour', cause => 'limited'), 'every cause has a series');
is(metric('idsess_worker_state_up', database => 'metrics'), 1, 'the expiry worker is up');
ok(defined metric('idsess_worker_state_up', database => 'metrics', state => 'sleeping')
  || defined metric('idsess_worker_state_up', database => 'metrics', state => 'removing expired sessions'),
  'its state is a label');
unlike($body, qr/^idsess_worker_removed\{[^}]*state=/m, 'the worker counter carries no state label');
cmp_ok(metric('idsess_worker_removed', database => 'metrics'), '>=', 2,
	'the worker counts what it removed');
ok(defined metric('idsess_worker_paced_batches', database => 'metrics'), 'the worker pacing has a series');
ok(defined metric('idsess_worker_lag_seconds', database => 'metrics'), 'the worker lag has a series');
ok(defined metric('idsess_worker_seconds_since_last_run', database => 'metrics'),
	'time since the last round has a series');
is(metric('idsess_key_ring_keys', state => 'active'), 1, 'one active key');
is(metric('idsess_key_ring_keys', state => 'inactive'), 1, 'the rotated-out key is inactive');
is(metric('idsess_key_ring_keys', state => 'destroyed'), 0, 'no destroyed key');
my $age = metric('idsess_key_ring_active_age_seconds');
ok(defined $age && $age >= 0 && $age < 600, 'the active key is as old as the rotation');
# Its errors only: newer exporters also warn that the queries file (whose
# name has "idsess" in it) is a deprecated kind of configuration.
my $log = slurp_file($exporter_log);
my @errors = grep { /level=error/i } split /\n/, $log;
is_deeply([ grep { /idsess/ } @errors ], [], 'the exporter logged no error for an idsess query')
  or diag($log);

$h->signal('TERM');
$h->finish;
$node->stop;
done_testing();
