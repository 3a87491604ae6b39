# monitoring/ with the real prometheus-postgres-exporter: logged in with
# nothing but idsess_reporting, it serves live sessions, sessions per
# client, cumulative session events (which rise as sessions are created and
# end, and do not fall when the worker trims the hourly history), the expiry
# worker, the logout outbox, revoked-key tombstones, tickets that failed to
# open, and the key ring against its lifetime, under Prometheus's naming
# conventions.  Every metric the Grafana dashboard and the alert rules name
# is one the exporter serves; the rules pass promtool and its unit tests;
# the sql_exporter collector serves the same names with the same queries.
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
use JSON::PP;
use Time::HiRes qw(usleep);

my $exporter = '/usr/bin/prometheus-postgres-exporter';
plan skip_all => "$exporter is not installed (Debian package prometheus-postgres-exporter)"
  unless -x $exporter;
# The tree's monitoring files, or those a package installed (scripts/dev deb).
my $queries = $ENV{IDSESS_EXPORTER_QUERIES}
  // "$FindBin::RealBin/../monitoring/idsess-queries.yaml";
my $monitoring = $ENV{IDSESS_MONITORING_DIR} // "$FindBin::RealBin/../monitoring";
ok(-r $queries, "the query file $queries is there");

my ($node, $keyfile) = idsess_node('exporter', databases => 'metrics',
	conf => "idsess.expired_sessions_trigger_logout = on\n");
$node->safe_psql('postgres', 'CREATE DATABASE metrics');
$node->safe_psql('metrics', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('postgres', 'CREATE ROLE idsess_exporter LOGIN IN ROLE idsess_reporting');

# Three live sessions (clients: spa on two, payroll on one; one in tenant
# acme), two that expire at once (both signed in to spa, so their logouts
# are owed; one in tenant acme), one revoked, and a rotated key ring.
$node->safe_psql('metrics', q{
	SELECT idsess_create('alice', 't', key => 'k-1');
	SELECT idsess_create('bob', 't', key => 'k-2');
	SELECT idsess_create('carol', 't', key => 'k-3', tenant => 'acme');
	SELECT idsess_add_client('k-1', 'spa'), idsess_add_client('k-2', 'spa'), idsess_add_client('k-2', 'payroll');
	SELECT idsess_create('dave', 't', key => 'k-4');
	SELECT idsess_create('erin', 't', key => 'k-5', expires => clock_timestamp() + interval '200 milliseconds', tenant => 'acme');
	SELECT idsess_create('frank', 't', key => 'k-6', expires => clock_timestamp() + interval '200 milliseconds');
	SELECT idsess_add_client('k-5', 'spa'), idsess_add_client('k-6', 'spa');
	SELECT count(*) FROM idsess_revoke(subject_id => 'dave', reason => 'test');
	SELECT idsess_key_rotate();
});
# carol's ticket is damaged on disk: opening it fails with XX001.
$node->safe_psql('metrics', q{
	UPDATE idsess.sessions SET ticket = set_byte(ticket, 30, get_byte(ticket, 30) # 1)
	WHERE key = 'k-3'});
my ($ret, $out, $err) = $node->psql('metrics', q{SELECT ticket FROM idsess_get('k-3')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/XX001/, 'the damaged ticket does not open (XX001)');

# The master key file goes missing for a moment: a sign-in fails to seal
# its ticket (58P01).
$node->safe_psql('postgres', q{ALTER SYSTEM SET idsess.master_key_file = '/nonexistent/idsess.key'});
$node->reload;
($ret, $out, $err) = $node->psql('metrics', q{SELECT idsess_create('kim', 't', key => 'k-11')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/58P01/, 'without its master key file a ticket is not sealed (58P01)');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET idsess.master_key_file');
$node->reload;

# The worker removes the two and writes them, the revocation and the six
# sessions created to the history.
ok($node->poll_query_until('metrics', q{
	SELECT expired = 2 AND revoked = 1 AND created = 6 FROM idsess_report_totals()}),
	'the totals hold the created, expired and revoked sessions');

# The exporter's login is a reporting role and nothing more.
($ret, $out, $err) = $node->psql('metrics', 'SELECT count(*) FROM idsess.key_ring',
	extra_params => [ '-U', 'idsess_exporter' ]);
like($err, qr/permission denied/, 'the exporter login cannot read idsess.key_ring');
($ret, $out, $err) = $node->psql('metrics', 'SELECT count(*) FROM idsess_report_key_ring()',
	extra_params => [ '-U', 'idsess_exporter' ]);
is($out, '2', 'but reads the key ring dates through idsess_report_key_ring()');
$node->safe_psql('postgres', 'CREATE ROLE idsess_t_plain LOGIN');
for my $f (qw(idsess_report_key_ring idsess_report_totals idsess_report_logout_outbox
	idsess_report_revoked_keys idsess_ticket_failures))
{
	($ret, $out, $err) = $node->psql('metrics', "SELECT count(*) FROM $f()",
		extra_params => [ '-U', 'idsess_t_plain' ]);
	like($err, qr/permission denied/, "a plain role cannot call $f()");
}

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

# scrape(COND): scrapes until COND (given the body) holds, at most the
# tests' default timeout (the exporter needs a moment to listen and
# connect); returns the last body.
my $http = HTTP::Tiny->new(timeout => 10);
my $last = '';
sub scrape
{
	my ($cond) = @_;
	my $body = '';
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while (time() < $deadline)
	{
		my $r = $http->get("http://127.0.0.1:$port/metrics");
		$last = "$r->{status} $r->{reason}";
		if ($r->{success})
		{
			$body = $r->{content};
			return $body if $cond->($body);
		}
		usleep(200_000);
	}
	diag("exporter log:\n" . slurp_file($exporter_log) . "last response: $last");
	return $body;
}

# metric BODY, NAME, LABELS: the value of the series with these labels
# (others, such as the exporter's server label, may be there too).
sub metric
{
	my ($body, $name, %labels) = @_;
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

my $body = scrape(sub { $_[0] =~ /^idsess_key_ring_active_age_seconds/m });
ok($body =~ /^idsess_/m, 'the exporter serves idsess series on loopback');
note(join("\n", grep { /^idsess_/ } split /\n/, $body));

is(metric($body, 'idsess_sessions_live'), 3, 'live sessions');
is(metric($body, 'idsess_sessions_subjects'), 3, 'subjects');
is(metric($body, 'idsess_client_sessions', client_id => 'spa'), 2, 'sessions of client spa');
is(metric($body, 'idsess_client_sessions', client_id => 'payroll'), 1, 'sessions of client payroll');
is(metric($body, 'idsess_tenant_sessions', tenant => 'acme'), 1, 'live sessions of tenant acme');
is(metric($body, 'idsess_tenant_subjects', tenant => 'acme'), 1, 'subjects of tenant acme');
is(metric($body, 'idsess_sessions_created_total'), 6, 'sessions created');
is(metric($body, 'idsess_tenant_sessions_created_total', tenant => 'acme'), 2,
	'sessions of tenant acme created');
is(metric($body, 'idsess_tenant_sessions_ended_total', tenant => 'acme', cause => 'expired'), 1,
	'sessions of tenant acme ended on expiry');
is(metric($body, 'idsess_tenant_sessions_ended_total', tenant => 'acme', cause => 'revoked'), 0,
	'no session of tenant acme revoked');
is(metric($body, 'idsess_sessions_ended_total', cause => 'expired'), 2, 'sessions ended on expiry');
is(metric($body, 'idsess_sessions_ended_total', cause => 'revoked'), 1, 'sessions revoked');
is(metric($body, 'idsess_sessions_ended_total', cause => $_), 0, "no session ended: $_")
  for qw(idle deleted limited max_lifetime);
is(metric($body, 'idsess_worker_state_up', database => 'metrics'), 1, 'the expiry worker is up');
ok(defined metric($body, 'idsess_worker_state_up', database => 'metrics', state => 'sleeping')
  || defined metric($body, 'idsess_worker_state_up', database => 'metrics',
	state => 'removing expired sessions'),
  'its state is a label');
unlike($body, qr/^idsess_worker_removed_total\{[^}]*state=/m,
	'the worker counter carries no state label');
cmp_ok(metric($body, 'idsess_worker_removed_total', database => 'metrics'), '>=', 2,
	'the worker counts what it removed');
ok(defined metric($body, 'idsess_worker_paced_batches_total', database => 'metrics'),
	'the worker pacing has a series');
ok(defined metric($body, 'idsess_worker_paced_seconds_total', database => 'metrics'),
	'the worker pacing time has a series');
ok(defined metric($body, 'idsess_worker_lag_seconds', database => 'metrics'),
	'the worker lag has a series');
my $now = time();
my $last_run = metric($body, 'idsess_worker_last_run_timestamp_seconds', database => 'metrics');
ok(defined $last_run && $last_run > $now - 600 && $last_run <= $now + 5,
	'the last round is a Unix time of the last minutes');
my $started = metric($body, 'idsess_worker_started_timestamp_seconds', database => 'metrics');
ok(defined $started && $started <= $last_run, 'the worker started before its last round');
is(metric($body, 'idsess_worker_last_error_timestamp_seconds'), undef,
	'no error, no last-error series (no sentinel)');

my $owed = $node->safe_psql('metrics', 'SELECT count(*) FROM idsess.logout_outbox');
is($owed, 2, 'the worker owes the logouts of the two expired sessions');
is(metric($body, 'idsess_logout_outbox_owed'), 2, 'the outbox depth');
my $age = metric($body, 'idsess_logout_outbox_oldest_age_seconds');
ok(defined $age && $age > 0 && $age < 600, 'the age of the oldest owed logout');
is(metric($body, 'idsess_revoked_keys_tombstones'), 1, 'one revoked key remembered');
is(metric($body, 'idsess_revoked_keys_for_good'), 1, 'for good: the session never expired');
is(metric($body, 'idsess_revoked_keys_past_until'), 0, 'none waiting for the purge');
is(metric($body, 'idsess_ticket_failures_total', operation => 'open', sqlstate => 'XX001'), 1,
	'the damaged ticket counts as one open failure, by SQLSTATE');
is(metric($body, 'idsess_ticket_failures_total', operation => 'seal', sqlstate => '58P01'), 1,
	'the sign-in without the master key file counts as one seal failure');
is(metric($body, 'idsess_ticket_failures_total', operation => 'seal', sqlstate => 'F0000'), 0,
	'a failure that has not happened shows 0 before it does');
is(metric($body, 'idsess_key_ring_keys', state => 'active'), 1, 'one active key');
is(metric($body, 'idsess_key_ring_keys', state => 'inactive'), 1, 'the rotated-out key is inactive');
is(metric($body, 'idsess_key_ring_keys', state => 'destroyed'), 0, 'no destroyed key');
$age = metric($body, 'idsess_key_ring_active_age_seconds');
ok(defined $age && $age >= 0 && $age < 600, 'the active key is as old as the rotation');
is(metric($body, 'idsess_key_ring_active_lifetime_seconds'), 90 * 86400,
	'against idsess.key_lifetime (90 days by default)');

# The conventions: a counter ends in _total and only counters do; no
# "seconds since" series; none of 1.1's names is left.
my %type = $body =~ /^# TYPE (idsess_\w+) (\w+)$/mg;
for my $name (sort keys %type)
{
	is($type{$name}, $name =~ /_total$/ ? 'counter' : 'gauge', "$name is a $type{$name}");
}
unlike($body, qr/^idsess_\w*(seconds_since|_current_hour|_previous_hour|last_error_time)/m,
	'no "seconds since" or hourly-window series');
unlike($body, qr/^idsess_(worker_removed|worker_paced_batches|worker_paced_seconds)[{ ]/m,
	'no counter without _total');

# Some of the sessions end and more are made, the history refuses a write
# for a moment (the counts wait in shared memory); the worker trims the hours
# the history no longer keeps (dated back here) and the totals do not fall.
my %before = map { $_ => metric($body, 'idsess_sessions_ended_total', cause => $_) }
  qw(expired deleted revoked);
my $removed_before = metric($body, 'idsess_worker_removed_total', database => 'metrics');
# The worker meets an error (its history write refused) and carries on.
$node->safe_psql('metrics', q{
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql
AS $$BEGIN RAISE EXCEPTION 'history refused'; END$$;
CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON idsess.stats_hourly
FOR EACH ROW EXECUTE FUNCTION refuse();
SELECT idsess_create('jane', 't', key => 'k-10');
});
ok($node->poll_query_until('metrics',
		q{SELECT last_error = 'history refused' FROM idsess.workers WHERE database = 'metrics'}),
	'the worker logged an error');
$node->safe_psql('metrics', 'DROP TRIGGER refuse ON idsess.stats_hourly');
$node->safe_psql('metrics', q{
	UPDATE idsess.stats_hourly SET hour = hour - interval '400 days';
	SELECT idsess_create('gina', 't', key => 'k-7');
	SELECT idsess_create('hank', 't', key => 'k-8');
	SELECT idsess_create('ivan', 't', key => 'k-9', expires => clock_timestamp() + interval '200 milliseconds');
	SELECT idsess_delete('k-7');
});
ok($node->poll_query_until('metrics', q{
	SELECT count(*) = 0 FROM idsess.stats_hourly WHERE hour < now() - interval '300 days'}),
	'the worker trimmed the hours past idsess.stats_retention');
ok($node->poll_query_until('metrics', q{
	SELECT created = 10 AND expired = 3 AND deleted = 1 FROM idsess_report_totals()}),
	'the totals count the new sessions and keep the trimmed hours');
# The identity server takes the logouts owed (ivan's too, once he expired).
is($node->safe_psql('metrics', 'SELECT count(*) FROM idsess_take_logouts(100)'), 3,
	'three logouts were owed');
$body = scrape(sub {
	(metric($_[0], 'idsess_sessions_created_total') // 0) == 10
	  && (metric($_[0], 'idsess_logout_outbox_owed') // -1) == 0 });
is(metric($body, 'idsess_sessions_created_total'), 10, 'sessions created rose by the four made');
my $error_at = metric($body, 'idsess_worker_last_error_timestamp_seconds', database => 'metrics');
ok(defined $error_at && $error_at > $now - 600 && $error_at <= time() + 5,
	'the error\'s time is a Unix time');
is(metric($body, 'idsess_sessions_ended_total', cause => 'expired'), $before{expired} + 1,
	'ended on expiry rose by one');
is(metric($body, 'idsess_sessions_ended_total', cause => 'deleted'), $before{deleted} + 1,
	'deleted rose by one');
is(metric($body, 'idsess_sessions_ended_total', cause => 'revoked'), $before{revoked},
	'revoked did not fall with the trimmed hour');
cmp_ok(metric($body, 'idsess_worker_removed_total', database => 'metrics'), '>',
	$removed_before, 'the worker counter rose');
is(metric($body, 'idsess_logout_outbox_owed'), 0, 'the outbox was drained');
is(metric($body, 'idsess_logout_outbox_oldest_age_seconds'), 0, 'an empty outbox has no age');

# Its errors only: newer exporters also warn that the queries file (whose
# name has "idsess" in it) is a deprecated kind of configuration.
my $log = slurp_file($exporter_log);
my @errors = grep { /level=error/i } split /\n/, $log;
is_deeply([ grep { /idsess/ } @errors ], [], 'the exporter logged no error for an idsess query')
  or diag($log);
$h->signal('TERM');
$h->finish;

# The dashboard and the alert rules name only metrics the exporter serves.
my %served = map { $_ => 1 } $body =~ /^(idsess_\w+)(?:\{| )/mg;
sub names_in
{
	my ($text) = @_;
	my %n = map { $_ => 1 } $text =~ /\b(idsess_[a-z0-9_]+)/g;
	return sort keys %n;
}
my $dashboard_file = "$monitoring/dashboard.json";
my $dashboard = decode_json(slurp_file($dashboard_file));
my @exprs = map { map { $_->{expr} // () } @{ $_->{targets} // [] } } @{ $dashboard->{panels} };
push @exprs, map { $_->{definition} // () } @{ $dashboard->{templating}{list} // [] };
cmp_ok(scalar(@exprs), '>=', 10, 'the dashboard has its panels\' queries');
my @named = names_in(join("\n", @exprs));
for my $m (@named)
{
	ok($served{$m}, "dashboard metric $m is served");
}
for my $m (qw(idsess_sessions_live idsess_client_sessions idsess_sessions_created_total
	idsess_sessions_ended_total idsess_worker_lag_seconds idsess_worker_paced_seconds_total
	idsess_logout_outbox_owed idsess_logout_outbox_oldest_age_seconds idsess_key_ring_keys
	idsess_key_ring_active_age_seconds))
{
	ok((grep { $_ eq $m } @named), "the dashboard shows $m");
}

my $alerts = "$monitoring/alerts.yaml";
my @alert_names = names_in(join("\n", grep { /^\s*expr:/ .. /^\s*(for|labels|annotations):/ }
	split /\n/, slurp_file($alerts)));
cmp_ok(scalar(@alert_names), '>=', 5, 'the alert rules name idsess metrics');
ok($served{$_}, "alert metric $_ is served") for @alert_names;

# The same metrics for sql_exporter: each collector query runs as the
# exporter's login and has the columns its metrics name, and the collector
# defines exactly the series prometheus-postgres-exporter served.
SKIP:
{
	skip 'YAML::XS is not installed (Debian package libyaml-libyaml-perl)', 4
	  unless eval { require YAML::XS; 1 };
	my $collector = YAML::XS::LoadFile("$monitoring/sql_exporter/idsess.collector.yml");
	my %sql = map { $_->{query_name} => $_->{query} } @{ $collector->{queries} };
	my (%columns, @bad);
	for my $q (sort keys %sql)
	{
		(my $query = $sql{$q}) =~ s/;?\s*$//;
		($ret, $out, $err) = $node->psql('metrics',
			"COPY ($query) TO STDOUT WITH (FORMAT csv, HEADER)",
			extra_params => [ '-U', 'idsess_exporter' ]);
		push @bad, "$q: $err" if $ret != 0;
		$columns{$q} = { map { $_ => 1 } split /,/, (split /\n/, $out)[0] // '' };
	}
	is(join("\n", @bad), '', 'every sql_exporter query runs as the reporting role');
	my @missing;
	for my $m (@{ $collector->{metrics} })
	{
		for my $c (@{ $m->{values} }, @{ $m->{key_labels} // [] })
		{
			push @missing, "$m->{metric_name}: $c" unless $columns{ $m->{query_ref} }{$c};
		}
	}
	is(join(', ', @missing), '', 'every value and label column is in its query\'s result');
	is_deeply([ sort map { $_->{metric_name} } @{ $collector->{metrics} } ],
		[ sort keys %served ], 'the collector defines the series the exporter serves');
	is_deeply([ grep { ($_->{type} eq 'counter') != ($_->{metric_name} =~ /_total$/) }
			@{ $collector->{metrics} } ],
		[], 'its counters, and only they, end in _total');
}

SKIP:
{
	my $promtool = '/usr/bin/promtool';
	skip "$promtool is not installed (Debian package prometheus)", 2 unless -x $promtool;
	my ($stdout, $stderr) = ('', '');
	ok(IPC::Run::run([ $promtool, 'check', 'rules', $alerts ], '>', \$stdout, '2>', \$stderr),
		'promtool check rules passes') or diag("$stdout$stderr");
	# promtool resolves the test file's rule_files from its own directory.
	ok(IPC::Run::run([ $promtool, 'test', 'rules', "$monitoring/alerts-test.yaml" ],
			'>', \$stdout, '2>', \$stderr),
		'the alert rules pass their unit tests') or diag("$stdout$stderr");
}

$node->stop;
done_testing();
