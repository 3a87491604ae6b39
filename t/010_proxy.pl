# idsess sharded with PL/Proxy: a proxy cluster with idsess_proxy and two
# shard clusters holding four partitions as four databases, each running
# idsess (with its own expiry worker) and idsess_shard.  The API answers
# through the proxy as one store does: key calls reach the key's partition,
# the others every partition, and an admin search walked forward and back
# gives the pages a single store with the same sessions gives.  Each
# shard's worker expires its own sessions, and with a shard down the calls
# that need it fail clearly while the others still work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my $keyfile = PostgreSQL::Test::Utils::tempdir() . '/idsess.key';
write_master_key($keyfile);

# Partitions 0 and 1 on shard a, 2 and 3 on shard b.  Shard a also holds
# "single", a plain store (no worker) that gets the same sessions as the
# proxy, to compare with.  Both record where sessions are used (1.2).
my %parts = (a => [ 'idsess_p0', 'idsess_p1' ], b => [ 'idsess_p2', 'idsess_p3' ]);
my %shard;
for my $name (qw(a b))
{
	my $node = idsess_node("shard_$name", keyfile => $keyfile,
		databases => join(',', @{ $parts{$name} }), conf => "idsess.record_client = ip_and_agent\n");
	for my $db (@{ $parts{$name} }, $name eq 'a' ? ('single') : ())
	{
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, 'CREATE EXTENSION idsess CASCADE');
		$node->safe_psql($db, q{CREATE EXTENSION idsess_shard VERSION '1.1'}) if $db ne 'single';
	}
	$shard{$name} = $node;
}
my @partition_node = ($shard{a}, $shard{a}, $shard{b}, $shard{b});
my $single = $shard{a};

# The proxy preloads idsess for its log filter only: no database, no key.
my $proxy = PostgreSQL::Test::Cluster->new('proxy');
$proxy->init;
$proxy->append_conf('postgresql.conf', "shared_preload_libraries = 'idsess'\nidsess.databases = ''\n");
$proxy->start;
my $options = join(', ', map {
		my $node = $partition_node[$_];
		sprintf("p%d 'host=%s port=%d dbname=idsess_p%d'", $_, $node->host, $node->port, $_)
	} 0 .. 3);
$proxy->safe_psql('postgres', qq{
	CREATE EXTENSION idsess_proxy VERSION '1.1' CASCADE;
	CREATE SERVER idsess_shards FOREIGN DATA WRAPPER plproxy OPTIONS ($options);
	CREATE USER MAPPING FOR PUBLIC SERVER idsess_shards;
	GRANT USAGE ON FOREIGN SERVER idsess_shards TO idsess_service, idsess_admin, idsess_reporting;
});
is($proxy->safe_psql('postgres', 'SELECT idsess.proxy_partitions()'), '4',
	'the proxy sees four partitions');

# Which partition database holds a key: asked of the shards themselves.
sub holder
{
	my ($key) = @_;
	my @found;
	for my $p (0 .. 3)
	{
		push @found, $p
		  if $partition_node[$p]->safe_psql("idsess_p$p",
			qq{SELECT count(*) FROM idsess.sessions WHERE key = '$key'}) eq '1';
	}
	return join(',', @found);
}

# The same thirty sessions through the proxy and in the single store, in
# creation order with distinct creation times, as an identity server makes
# them.
my $setup = join('', map {
		my $name = $_ % 3 == 0 ? "Ada Smith $_" : "Grace Hopper $_";
		sprintf(q{SELECT idsess_create('user-%d', 'ticket-%d', key => 'key-%02d',
			session_id => 'sid-%02d', display_name => '%s', scheme => '%s',
			created => timestamptz '2026-01-01 00:00:00+00' + %d * interval '1 minute');},
			$_ % 7, $_, $_, $_, $name, $_ % 4 == 0 ? 'oidc' : 'idsrv', $_)
		  . ($_ % 2 == 0 ? sprintf(q{SELECT idsess_add_client('key-%02d', 'payroll');}, $_) : '')
		  . ($_ % 5 == 0 ? sprintf(q{SELECT idsess_add_client('key-%02d', 'spa');}, $_) : '')
	} 1 .. 30);
$proxy->safe_psql('postgres', $setup);
$single->safe_psql('single', $setup);

# Made at 1.1 and filled, then updated: the shards first, then the proxy.
my $old_token = $proxy->safe_psql('postgres',
	q{SELECT results_token FROM idsess_query(subject_id => 'user', count => 2) LIMIT 1});
for my $p (0 .. 3)
{
	$partition_node[$p]->safe_psql("idsess_p$p", q{ALTER EXTENSION idsess_shard UPDATE});
}
$proxy->safe_psql('postgres', q{ALTER EXTENSION idsess_proxy UPDATE});
is($proxy->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'idsess_proxy'}),
	'1.2', 'the proxy and its shards are updated to 1.2');
my ($ret, $out, $err) = $proxy->psql('postgres',
	qq{SELECT * FROM idsess_query(subject_id => 'user', count => 2, results_token => '$old_token')});
like($err, qr/results token is not valid/, 'a 1.1 token is refused after the update: search again');

my %used = map { holder(sprintf('key-%02d', $_)) => 1 } 1 .. 30;
is(join(',', sort keys %used), '0,1,2,3', 'the sessions spread over all four partitions');

# An admin search walked page by page to its end, then back to its start
# with prior: each page as its keys in order and its paging facts.
sub walk
{
	my ($node, $db, $filters, $count) = @_;
	my @pages;
	my $token;
	my $prior = 'false';
	for my $step (1 .. 40)
	{
		my $tok = defined $token ? "'$token'" : 'NULL';
		my $line = $node->safe_psql($db, qq{
			SELECT coalesce(string_agg(q.key, ',' ORDER BY q.ordinality), '-'),
			       bool_or(q.has_prev), bool_or(q.has_next), max(q.total_count),
			       max(q.total_pages), max(q.current_page), max(q.results_token)
			FROM idsess_query($filters, count => $count, results_token => $tok,
			                  prior => $prior) WITH ORDINALITY AS q});
		my @f = split(/\|/, $line, -1);
		$token = pop @f;
		push @pages, join('|', @f);
		last if $token eq '';
		if ($prior eq 'false')
		{
			$prior = 'true' if $f[2] ne 't';
		}
		else
		{
			last if $f[1] ne 't';
		}
	}
	return join("\n", @pages);
}

for my $search (
	[ 'no filter', q{subject_id => NULL}, 4 ],
	[ 'display name', q{display_name => 'smith'}, 3 ],
	[ 'client', q{client_id => 'payroll'}, 4 ],
	[ 'subject and client', q{subject_id => 'USER-2', client_id => 'payroll'}, 1 ],
	[ 'nothing found', q{display_name => 'nobody'}, 5 ])
{
	my ($what, $filters, $count) = @$search;
	my $expected = walk($single, 'single', $filters, $count);
	my $got = walk($proxy, 'postgres', $filters, $count);
	is($got, $expected,
		"query ($what) walked forward and back through the proxy gives the single store's pages");
}
like(walk($proxy, 'postgres', q{subject_id => NULL}, 4), qr/^key-01,key-02,key-03,key-04\|f\|t\|30\|8\|1$/m,
	'the first page of the unfiltered walk is the four oldest sessions of thirty, page 1 of 8');

($ret, $out, $err) = $proxy->psql('postgres', q{
	SELECT * FROM idsess_query(subject_id => 'user', results_token => 'bm90IGEgdG9rZW4')});
like($err, qr/results token is not valid/, 'a forged token is refused');
my $tok = $proxy->safe_psql('postgres',
	q{SELECT results_token FROM idsess_query(subject_id => 'user', count => 2) LIMIT 1});
($ret, $out, $err) = $proxy->psql('postgres',
	qq{SELECT * FROM idsess_query(subject_id => 'other', results_token => '$tok')});
like($err, qr/results token belongs to a different search/,
	'a token used with other filters is refused');

# Tokens are authenticated and carry no session key: the bounds are the
# keys' hashes.  1.1's token (unsigned JSON with the keys, checked only by
# an md5 of the filters) is refused, and so is a changed one.
my $fields = $proxy->safe_psql('postgres', qq{
	SELECT convert_from(decode(rpad(translate(split_part('$tok', '.', 1), '-_', '+/'),
	       (length(split_part('$tok', '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')});
unlike($fields, qr/key-\d\d/, 'a results token names no session key');
like($fields, qr/"p": 1\b/, 'it carries its page number');
my $forged = $proxy->safe_psql('postgres', q{
	SELECT translate(encode(convert_to(jsonb_build_object('v', 'proxy1',
		'h', md5(format('%L/%L/%L/%L', 'user', NULL, NULL, NULL)), 'p', 5000, 't', 999999999,
		'fc', now(), 'fk', 'key-01', 'lc', now(), 'lk', 'key-02')::text, 'UTF8'), 'base64'), E'+/\n', '-_')});
($ret, $out, $err) = $proxy->psql('postgres',
	qq{SELECT * FROM idsess_query(subject_id => 'user', results_token => '$forged')});
like($err, qr/results token is not valid/, 'a token made without the proxy\'s key is refused');
my $changed = $proxy->safe_psql('postgres', qq{
	SELECT translate(encode(convert_to(replace(convert_from(decode(rpad(translate(split_part('$tok', '.', 1), '-_', '+/'),
	       (length(split_part('$tok', '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8'), '"p": 1', '"p": 2147483646'),
	       'UTF8'), 'base64'), E'+/=\n', '-_') || '.' || split_part('$tok', '.', 2)});
($ret, $out, $err) = $proxy->psql('postgres',
	qq{SELECT * FROM idsess_query(subject_id => 'user', results_token => '$changed')});
like($err, qr/results token is not valid/, 'a token whose page was changed is refused');
# A seeded fuzz of the token: 2,000 mutations (a character replaced, the
# text cut, extended, doubled, its parts swapped, random text), none of
# which may be accepted or fail otherwise than as an invalid token.
is($proxy->safe_psql('postgres', qq{
	CREATE FUNCTION pg_temp.mutate(t text) RETURNS text LANGUAGE plpgsql AS \$\$
	DECLARE
		r float8 := random();
		p int := 1 + floor(random() * length(t))::int;
		alphabet text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/';
	BEGIN
		RETURN CASE
			WHEN r < 0.5 THEN overlay(t PLACING substr(alphabet, 1 + floor(random() * 68)::int, 1) FROM p FOR 1)
			WHEN r < 0.6 THEN left(t, p - 1)
			WHEN r < 0.7 THEN t || substr(alphabet, 1 + floor(random() * 68)::int, 1 + floor(random() * 8)::int)
			WHEN r < 0.75 THEN t || t
			WHEN r < 0.8 THEN split_part(t, '.', 2) || '.' || split_part(t, '.', 1)
			WHEN r < 0.85 THEN split_part(t, '.', 1) || '.' || split_part(t, '.', 1)
			ELSE encode(pg_temp.noise(floor(random() * 300)::int), 'base64')
		END;
	END \$\$;
	CREATE FUNCTION pg_temp.noise(n int) RETURNS bytea LANGUAGE sql AS
		\$\$SELECT substr(decode(string_agg(md5(random()::text), ''), 'hex'), 1, n) FROM generate_series(0, n / 16)\$\$;
	DO \$\$
	DECLARE
		m text;
		accepted int := 0;
		other int := 0;
	BEGIN
		PERFORM setseed(0.4242);
		FOR i IN 1 .. 2000 LOOP
			m := pg_temp.mutate('$tok');
			CONTINUE WHEN m = '$tok';
			BEGIN
				PERFORM * FROM idsess_query(subject_id => 'user', count => 2, results_token => m);
				accepted := accepted + 1;
			EXCEPTION WHEN invalid_parameter_value THEN
				NULL;
			WHEN OTHERS THEN
				other := other + 1;
			END;
		END LOOP;
		PERFORM set_config('fuzz.result', accepted || ' accepted, ' || other || ' other errors', false);
	END \$\$;
	SELECT current_setting('fuzz.result')}), '0 accepted, 0 other errors', 'token fuzz: 2,000 mutated tokens, none accepted, every one refused as invalid');
is($proxy->safe_psql('postgres',
		qq{SELECT count(*) FROM idsess_query(subject_id => 'user', count => 2, results_token => '$tok', prior => true)}),
	'0', 'nothing comes before the first page, as in Duende\'s stores');

# PL/Proxy's partition_N option names count as pN ones do.
is($proxy->safe_psql('postgres', qq{
	BEGIN;
	ALTER SERVER idsess_shards RENAME TO idsess_shards_pn;
	CREATE SERVER idsess_shards FOREIGN DATA WRAPPER plproxy
		OPTIONS (partition_0 'dbname=a', partition_1 'dbname=b');
	SELECT idsess.proxy_partitions();
	ROLLBACK}), '2', 'partitions named partition_N are counted');

# Reports sum over the partitions what the single store counts.
for my $report (qw(idsess_report_clients idsess_report_schemes idsess_report_age))
{
	my $sql = qq{SELECT string_agg(r::text, ';') FROM $report() r};
	is($proxy->safe_psql('postgres', $sql), $single->safe_psql('single', $sql),
		"$report through the proxy equals the single store's");
}
my $active = q{SELECT active_sessions, never_expire, expiring_within_1h FROM idsess_report_active()};
is($proxy->safe_psql('postgres', $active), $single->safe_psql('single', $active),
	'idsess_report_active through the proxy counts the single store\'s sessions');
my $history = q{SELECT sum(created) FROM idsess_report_history()};
is($proxy->safe_psql('postgres', $history), '30',
	'idsess_report_history sums the partitions\' creations');

# Exact lookup by subject or sid reaches every partition.
my $by_subject = q{SELECT string_agg(key || ':' || ticket, ',' ORDER BY key)
	FROM idsess_get_sessions(subject_id => 'user-3')};
is($proxy->safe_psql('postgres', $by_subject), $single->safe_psql('single', $by_subject),
	'idsess_get_sessions by subject gathers the sessions of every partition, tickets opened');
my $subject_parts = join(',', sort { $a <=> $b } keys %{ { map { holder(sprintf('key-%02d', $_)) => 1 }
	grep { $_ % 7 == 3 } 1 .. 30 } });
ok($subject_parts =~ /,/, "user-3's sessions lie in several partitions ($subject_parts)");
is($proxy->safe_psql('postgres',
		q{SELECT string_agg(key, ',') FROM idsess_get_sessions(session_id => 'sid-17')}),
	'key-17', 'idsess_get_sessions by sid finds the one session');

# Revoke reaches every partition and returns the clients to notify.
my $revoke = q{SELECT string_agg(key || ':' || clients::text, ',' ORDER BY key)
	FROM idsess_revoke(subject_id => 'user-3', client_ids => '{payroll}', reason => 'test')};
my $revoked = $proxy->safe_psql('postgres', $revoke);
is($revoked, $single->safe_psql('single', $revoke),
	'idsess_revoke through the proxy ends and reports what the single store does');
like($revoked, qr/key-10:\{payroll\}/, 'a revoked session comes with its clients, as filtered');
is($proxy->safe_psql('postgres', $by_subject), '', 'the revoked subject has no session left');
is($proxy->safe_psql('postgres',
		q{SELECT idsess_delete_sessions(subject_id => 'user-4')}),
	$single->safe_psql('single', q{SELECT idsess_delete_sessions(subject_id => 'user-4')}),
	'idsess_delete_sessions counts the sessions it deleted in every partition');

# The calls that name a key, on a key made by the proxy.
my $key = $proxy->safe_psql('postgres',
	q{SELECT key FROM idsess_create('zoe', 'ticket-zoe', display_name => 'Zoe')});
like($key, qr/^[0-9a-f]{64}$/, 'the proxy makes a 64-hex-digit key when none is given');
my $home = $proxy->safe_psql('postgres', qq{SELECT hashtext('$key') & 3});
is(holder($key), $home, 'the session lies in the partition of its key\'s hash, and only there');
is($proxy->safe_psql('postgres', qq{SELECT subject_id || ':' || ticket FROM idsess_get('$key')}),
	'zoe:ticket-zoe', 'idsess_get opens the ticket');
is($proxy->safe_psql('postgres', qq{SELECT idsess_update('$key', ticket => 'ticket-zoe-2')}),
	't', 'idsess_update');
is($proxy->safe_psql('postgres', qq{SELECT ticket FROM idsess_get('$key')}),
	'ticket-zoe-2', 'the updated ticket is read back');
is($proxy->safe_psql('postgres', qq{SELECT idsess_touch('$key')}), 't', 'idsess_touch');
is($proxy->safe_psql('postgres', q{SELECT idsess_touch('no-such-key')}), 'f',
	'idsess_touch of an unknown key');
is($proxy->safe_psql('postgres', qq{
	SELECT idsess_add_client('$key', 'spa'); SELECT idsess_add_client('$key', 'payroll')}),
	'{spa}' . "\n" . '{spa,payroll}', 'idsess_add_client returns the client list');
is($proxy->safe_psql('postgres', qq{SELECT idsess_clients('$key')}), '{spa,payroll}',
	'idsess_clients');
is($proxy->safe_psql('postgres', qq{
	SELECT jsonb_array_length(idsess_add_saml_session('$key', 'sp-1', 'idx-1', 'zoe'));
	SELECT jsonb_array_length(idsess_saml_sessions('$key'));
	SELECT idsess_remove_saml_session('$key', 'sp-1')}),
	"1\n1\n1", 'SAML SP sessions are added, listed and removed');
is($proxy->safe_psql('postgres', qq{SELECT idsess_delete('$key')}), 't', 'idsess_delete');
is($proxy->safe_psql('postgres', qq{SELECT count(*) FROM idsess_get('$key')}), '0',
	'a deleted session is gone');
is(holder($key), '', 'and gone from its partition');

# 1.2: the tenant goes with the key to its partition; the incident filters
# reach every partition.
$proxy->safe_psql('postgres', q{SELECT idsess_create('tina', 't', key => 'tenant-key', tenant => 'acme');
	SELECT idsess_add_client('tenant-key', 'hr')});
my $tpart = holder('tenant-key');
is($partition_node[$tpart]->safe_psql("idsess_p$tpart",
		q{SELECT tenant FROM idsess.sessions WHERE key = 'tenant-key'}),
	'acme', 'a session created with a tenant through the proxy has it on its shard');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT idsess_update('tenant-key', tenant => 'bolt')});
like($err, qr/belongs to another tenant/, 'idsess_update routes the tenant');
is($proxy->safe_psql('postgres', q{SELECT string_agg(key, ',') FROM idsess_revoke(client_id => 'hr',
		tenant => 'acme', confirm => 'revoke every session', dry_run => true)}),
	'tenant-key', 'a dry run by client and tenant through the proxy lists the session');
is($proxy->safe_psql('postgres', q{SELECT string_agg(key, ',') FROM idsess_revoke(subject_id => 'tina',
		client_id => 'hr', created_after => now() - interval '1 hour', batch => 10, reason => 'incident')}),
	'tenant-key', 'a batch revocation by client and sign-in time through the proxy ends it');
is(holder('tenant-key'), '', 'and it is gone from its partition');
($ret, $out, $err) = $proxy->psql('postgres',
	q{SELECT idsess_create('zoe', 'ticket', key => 'key-01')});
like($err, qr/unique/i, 'a key already in use is refused by its partition');

# 1.2's account page, client details and strength of the sign-in, through
# the proxy and in the single store alike: five sessions of one subject
# (two of them in tenant acme), a step-up, two touches with the client.
my $mia = join('', map {
		sprintf(q{SELECT idsess_create('mia', 't', key => 'mia-%d', session_id => 'mia-sid-%d',
			device => 'Device %d', client_ip => '198.51.100.%d', user_agent => 'Agent %d',
			acr => 'silver', amr => '{pwd}', auth_time => timestamptz '2026-01-02 00:00:00+00',
			tenant => %s, created => timestamptz '2026-01-02 00:00:00+00' + %d * interval '1 minute');},
			$_, $_, $_, $_, $_, $_ % 2 ? 'NULL' : q{'acme'}, $_)
	} 1 .. 5)
  . q{SELECT idsess_update('mia-2', acr => 'gold', amr => '{pwd,hwk}',
		auth_time => timestamptz '2026-01-02 01:00:00+00');
	SELECT idsess_touch('mia-1', client_ip => '203.0.113.77', user_agent => 'Mozilla/5.0', device => 'Laptop')
	       AND idsess_touch('mia-3', client_ip => '192.0.2.10');};
$proxy->safe_psql('postgres', $mia);
$single->safe_psql('single', $mia);
my @mia_part = (undef, split(/,/, $proxy->safe_psql('postgres',
	q{SELECT string_agg((hashtext('mia-' || i) & 3)::text, ',' ORDER BY i) FROM generate_series(1, 5) i})));
ok(scalar(keys %{ { map { $_ => 1 } @mia_part[ 1 .. 5 ] } }) > 1, 'the subject\'s sessions lie in several partitions');
is($partition_node[ $mia_part[1] ]->safe_psql("idsess_p$mia_part[1]",
		q{SELECT concat_ws(' ', client_ip, user_agent, device) FROM idsess.sessions WHERE key = 'mia-1'}),
	'203.0.113.0/24 Mozilla/5.0 Laptop',
	'idsess_touch through the proxy records the IP (cut to /24) and the agent on the shard');
my $mine = q{SELECT string_agg(concat_ws(' ', m.session_id, m.current, m.device, m.client_ip, m.user_agent,
		m.acr, m.amr), ', ' ORDER BY m.ordinality) FROM idsess_my_sessions('mia', current_key => 'mia-1') WITH ORDINALITY m};
my $my_sessions = $proxy->safe_psql('postgres', $mine);
is($my_sessions, $single->safe_psql('single', $mine),
	'idsess_my_sessions through the proxy gathers the partitions as the single store lists them');
like($my_sessions, qr/^mia-sid-1 t Laptop 203\.0\.113\.0\/24 Mozilla\/5\.0 silver \{pwd\}, mia-sid-3 f Device 3 192\.0\.2\.0\/24 Agent 3 /,
	'the current session first, then the one seen last');
my $strength = q{SELECT string_agg(concat_ws(' ', key, acr, amr, auth_time AT TIME ZONE 'UTC'), ', ' ORDER BY key)
	FROM idsess_query(subject_id => 'mia')};
my $searched = $proxy->safe_psql('postgres', $strength);
is($searched, $single->safe_psql('single', $strength),
	'idsess_query rows through the proxy carry the strength of the sign-in as the single store\'s');
like($searched, qr/^mia-1 silver \{pwd\} 2026-01-02 00:00:00, mia-2 gold \{pwd,hwk\} 2026-01-02 01:00:00,/,
	'with the step-up made through the proxy');
my $tenants = q{SELECT string_agg(concat_ws(' ', coalesce(tenant, '-'), sessions), ', ' ORDER BY tenant NULLS FIRST)
	FROM idsess_report_tenants()};
is($proxy->safe_psql('postgres', $tenants), $single->safe_psql('single', $tenants),
	'idsess_report_tenants through the proxy counts the single store\'s sessions per tenant');
is($proxy->safe_psql('postgres', q{SELECT subjects FROM idsess_report_tenants() WHERE tenant = 'acme'}),
	scalar(keys %{ { map { $_ => 1 } @mia_part[ 2, 4 ] } }),
	'and the tenant\'s subject once per partition it has sessions in');
my $dry = q{SELECT concat_ws(' / ',
	(SELECT string_agg(key, ',' ORDER BY key) FROM idsess_revoke(subject_id => 'mia', acr_not_in => '{gold}', dry_run => true)),
	(SELECT string_agg(key, ',' ORDER BY key) FROM idsess_revoke(amr_lacks => 'hwk', subject_id => 'mia', dry_run => true)),
	(SELECT string_agg(key, ',' ORDER BY key) FROM idsess_revoke(client_ip => '192.0.2.0/24', dry_run => true)))};
is($proxy->safe_psql('postgres', $dry), $single->safe_psql('single', $dry),
	'dry runs by acr, amr and IP through the proxy list what the single store lists');
# "Everywhere else" is the kept session's tenant, which only its partition
# holds: mia-2's (acme) reaches mia-4 only, mia-1's (the default) mia-3 and
# mia-5, whichever partitions they lie in.
my $acme_others = q{SELECT string_agg(key, ',' ORDER BY key)
	FROM idsess_revoke(subject_id => 'mia', except_key => 'mia-2', dry_run => true)};
is($proxy->safe_psql('postgres', $acme_others), 'mia-4',
	'sign out everywhere else through the proxy keeps to the kept session\'s tenant');
is($single->safe_psql('single', $acme_others), 'mia-4', 'as the single store does');
my $others = q{SELECT string_agg(key, ',' ORDER BY key) FROM idsess_revoke(subject_id => 'mia', except_key => 'mia-1')};
is($proxy->safe_psql('postgres', $others), 'mia-3,mia-5',
	'sign out everywhere else through the proxy ends the other partitions\' sessions too');
$single->safe_psql('single', $others);
is($proxy->safe_psql('postgres', q{SELECT string_agg(session_id, ',') FROM idsess_my_sessions('mia', 'mia-1')}),
	'mia-sid-1', 'and keeps the current one');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT * FROM idsess_revoke(key_id => 1, confirm => 'revoke every session')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/0A000: key_id is not offered through the proxy.*HINT:  Call idsess_revoke\(key_id/s,
	'a revocation by data key is refused: each shard numbers its own keys');

# The 1.1 contract through the proxy: upsert with issuer and each client's
# own sid, remove_client, add_client with a sid, a rekey within the key's
# partition (atomic, on one shard) and one across partitions (refused),
# a session without a user, revoke returning the issuer and client sids.
my $k11 = 'k11-base';
my $p11 = $proxy->safe_psql('postgres', qq{SELECT hashtext('$k11') & 3});
my ($same, $other) = split(/\|/, $proxy->safe_psql('postgres', qq{
	SELECT (SELECT 'k11-' || i FROM generate_series(1, 200) i WHERE hashtext('k11-' || i) & 3 = $p11 LIMIT 1),
	       (SELECT 'k11-' || i FROM generate_series(1, 200) i WHERE hashtext('k11-' || i) & 3 <> $p11 LIMIT 1)}));
is($proxy->safe_psql('postgres', qq{SELECT idsess_update('$k11', ticket => 't11', subject_id => 'u11',
		session_id => 'sid11', issuer => 'https://op.test', upsert => true,
		clients => '{app1,app2}', client_sids => '{s1,s2}')}),
	't', 'idsess_update with upsert creates the session through the proxy');
is($proxy->safe_psql('postgres', qq{SELECT concat_ws(' ', subject_id, issuer, clients::text, client_sids::text, ticket)
		FROM idsess_get('$k11')}),
	'u11 https://op.test {app1,app2} {s1,s2} t11', 'idsess_get returns the issuer and each client\'s sid');
is($proxy->safe_psql('postgres', qq{SELECT idsess_clients('$k11', sids => true)}), '{s1,s2}',
	'idsess_clients with sids');
is($proxy->safe_psql('postgres', qq{SELECT idsess_remove_client('$k11', 'app1')}), '{app2}',
	'idsess_remove_client');
is($proxy->safe_psql('postgres', qq{SELECT idsess_add_client('$k11', 'app3', 's3');
		SELECT idsess_clients('$k11', sids => true)}),
	"{app2,app3}\n{s2,s3}", 'idsess_add_client with the client\'s own sid');
is($proxy->safe_psql('postgres', qq{SELECT idsess_update('$k11', new_key => '$same')}), 't',
	'a rekey within the key\'s partition');
is(holder($same) . '/' . holder($k11), "$p11/", 'the session moved to its new key in the same partition');
($ret, $out, $err) = $proxy->psql('postgres', qq{SELECT idsess_update('$same', new_key => '$other')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/0A000: new_key belongs to another partition than key.*HINT:  Create the session under the new key/s,
	'a rekey to another partition is refused with its SQLSTATE and a hint');
is(holder($same) . '/' . holder($other), "$p11/", 'and the session stays under its key');
is($proxy->safe_psql('postgres', q{SELECT (idsess_create(NULL, 't-anon', key => 'anon-1')).subject_id IS NULL;
		SELECT ticket FROM idsess_get('anon-1')}),
	"t\nt-anon", 'a session without a user, created and read through the proxy');
is($proxy->safe_psql('postgres', q{SELECT string_agg(concat_ws(' ', key, issuer, client_sids::text), ',')
		FROM idsess_revoke(session_id => 'sid11')}),
	"$same https://op.test {s2,s3}", 'idsess_revoke returns the issuer and the clients\' sids');
is($proxy->safe_psql('postgres', q{SELECT string_agg(key || ':' || ticket, ',' ORDER BY key)
		FROM idsess_query(subject_id => 'user-1', count => 3, tickets => true)}),
	$single->safe_psql('single', q{SELECT string_agg(key || ':' || ticket, ',' ORDER BY key)
		FROM idsess_query(subject_id => 'user-1', count => 3, tickets => true)}),
	'idsess_query with tickets opens each row\'s ticket as the single store does');

# No ticket reaches a log through the proxy: not with a shard's error
# that PL/Proxy raises again (an update of a revoked session), not with an
# argument that fails to convert before any function runs.
# The test framework logs every statement; production does not (doc/security.md, "Logs").
for my $node ($proxy, $shard{a}, $shard{b})
{
	$node->append_conf('postgresql.conf', "log_statement = 'none'\n");
	$node->reload;
}
my %log_at = map { $_ => -s $_->logfile } ($proxy, $shard{a}, $shard{b});
$proxy->safe_psql('postgres', q{SELECT idsess_create('logged', 't', key => 'log-k1', session_id => 'log-sid');
	SELECT count(*) FROM idsess_revoke(session_id => 'log-sid')});
for my $sql (q{SELECT idsess_update('log-k1', 'LOGMARKER-3f9 revoked')},
	q{SELECT idsess_update('log-k1', 'LOGMARKER-3f9 upsert revoked', upsert => true)},
	q{SELECT idsess_create('logged', 'LOGMARKER-3f9 bad expires', expires => 'someday')},
	q{SELECT IDSESS_CREATE('logged', 'LOGMARKER-3f9 no such argument', colour => 'blue')})
{
	($ret, $out, $err) = $proxy->psql('postgres', $sql);
	isnt($ret, 0, "fails as it should: $sql");
}
$proxy->psql('postgres', q{SELECT 'LOGCONTROL-3f9' || 1/0});
ok($proxy->wait_for_log(qr/LOGCONTROL-3f9/, $log_at{$proxy}), 'the control statement is logged on the proxy');
for my $node ($proxy, $shard{a}, $shard{b})
{
	unlike(slurp_file($node->logfile, $log_at{$node}), qr/LOGMARKER-3f9/,
		'no ticket in the log of ' . $node->name);
}

# Privileges: the proxy runs with the caller's rights and connects to the
# shards as the caller, so each role keeps exactly what idsess grants it.
for my $node ($proxy, $shard{a}, $shard{b})
{
	$node->safe_psql('postgres', q{
		CREATE ROLE svc LOGIN IN ROLE idsess_service;
		CREATE ROLE rep LOGIN IN ROLE idsess_reporting});
}
is($proxy->safe_psql('postgres', q{SELECT ticket FROM idsess_get('key-01')}, extra_params => [ '-U', 'svc' ]),
	'ticket-1', 'idsess_service opens a ticket through the proxy');
is($proxy->safe_psql('postgres', q{SELECT count(ticket) FROM idsess_query(subject_id => 'user-1', tickets => true)},
		extra_params => [ '-U', 'svc' ]),
	$single->safe_psql('single', q{SELECT count(*) FROM idsess_query(subject_id => 'user-1')}),
	'idsess_service gets query rows with their tickets through the proxy');
for my $node ($proxy, $shard{a}, $shard{b})
{
	$node->safe_psql('postgres', q{CREATE ROLE adm LOGIN IN ROLE idsess_admin});
}
is($proxy->safe_psql('postgres', q{SELECT count(*) > 0 AND count(ticket) = 0 FROM idsess_query(subject_id => 'user-1')},
		extra_params => [ '-U', 'adm' ]),
	't', 'idsess_admin searches through the proxy, without tickets');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT * FROM idsess_query(subject_id => 'user-1', tickets => true)},
	extra_params => [ '-U', 'adm' ]);
like($err, qr/permission denied/, 'but is refused the tickets, as without the proxy');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT * FROM idsess_report_active()},
	extra_params => [ '-U', 'svc' ]);
like($err, qr/permission denied/, 'idsess_service has no reports through the proxy, as without it');
is($proxy->safe_psql('postgres', q{SELECT active_sessions > 0 FROM idsess_report_active()},
		extra_params => [ '-U', 'rep' ]),
	't', 'idsess_reporting gets the reports through the proxy');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT * FROM idsess.proxy_page_by_hash(NULL, NULL, NULL, NULL, 10, NULL, NULL, false)},
	extra_params => [ '-U', 'rep' ]);
like($err, qr/permission denied/, 'nor can it reach a shard page through the routing helpers');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT * FROM idsess_get(NULL)});
like($err, qr/key must not be null/, 'a NULL key gets idsess\'s error');

# take_expired and each shard's worker: with the workers stopped, expired
# sessions wait in every partition for idsess_take_expired; restarted,
# every worker removes its own partition's expired sessions.
my $workers = q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'idsess expiry worker'};
for my $name (qw(a b))
{
	$shard{$name}->append_conf('postgresql.conf', "idsess.databases = ''\n");
	$shard{$name}->reload;
	ok($shard{$name}->poll_query_until('postgres', $workers, '0'), "shard ${name}'s workers stop");
}
$proxy->safe_psql('postgres', join('', map {
	sprintf(q{SELECT idsess_create('late-%d', 't', key => 'late-%02d',
		expires => clock_timestamp() + interval '1 second');}, $_, $_) } 1 .. 12));
my %late = map { holder(sprintf('late-%02d', $_)) => 1 } 1 .. 12;
is(join(',', sort keys %late), '0,1,2,3', 'expiring sessions in every partition');
ok($proxy->poll_query_until('postgres',
		q{SELECT count(*) FROM idsess_get_sessions(subject_id => 'late-1')}, '0'),
	'the expiring sessions are past due');
my $taken = $proxy->safe_psql('postgres',
	q{SELECT count(*) FROM idsess_take_expired(5)}) + 0;
is($taken, 5, 'idsess_take_expired takes no more than asked for, across partitions');
is($proxy->safe_psql('postgres', q{SELECT count(*) FROM idsess_take_expired(100)}),
	12 - $taken, 'and the rest on the next call');
is($proxy->safe_psql('postgres', q{SELECT count(*) FROM idsess_take_expired(100)}),
	'0', 'then none is left');
# One call (an upsert with its client), so that the session cannot expire
# before its client joins on a busy machine.
$proxy->safe_psql('postgres', q{SELECT idsess_update('late-13', ticket => 't-late', subject_id => 'late-13',
	issuer => 'https://op.test', clients => '{app}', client_sids => '{csid}', upsert => true,
	expires => clock_timestamp() + interval '1 second')});
ok($proxy->poll_query_until('postgres', q{SELECT count(*) FROM idsess_get('late-13')}, '0'),
	'a session with an issuer and a client sid is past due');
is($proxy->safe_psql('postgres', q{SELECT concat_ws(' ', key, ticket, issuer, client_sids::text)
		FROM idsess_take_expired(10, tickets => true)}),
	'late-13 t-late https://op.test {csid}', 'idsess_take_expired with tickets, the issuer and the client sids');

# Expired sessions through the proxy are taken at least once: a caller that
# rolls back gets them again (after the lease), one that commits never does,
# and the next call has the shards remove them.
$proxy->safe_psql('postgres', join('', map {
	sprintf(q{SELECT idsess_create('gone-%d', 't', key => 'gone-%02d',
		expires => clock_timestamp() + interval '1 second');}, $_, $_) } 1 .. 8));
ok($proxy->poll_query_until('postgres', q{SELECT count(*) FROM idsess_get_sessions(subject_id => 'gone-1')}, '0'),
	'eight sessions expired');
# A lease long enough for two calls on a loaded machine.
my $take_expired = q{SET idsess_proxy.expired_lease = '4s';
	SELECT count(*) FROM idsess_take_expired(100) WHERE subject_id LIKE 'gone-%'};
is($proxy->safe_psql('postgres', "BEGIN; $take_expired; ROLLBACK"), '8',
	'a caller takes the eight expired sessions and rolls back');
is($proxy->safe_psql('postgres', $take_expired), '0', 'while the lease holds, no one else gets them');
sleep(5);
is($proxy->safe_psql('postgres', "BEGIN; $take_expired; COMMIT"), '8',
	'after the lease the next caller gets all eight again');
is($proxy->safe_psql('postgres', $take_expired), '0', 'once committed, they are not taken again');
my $gone = 0;
$gone += $partition_node[$_]->safe_psql("idsess_p$_",
	q{SELECT count(*) FROM idsess.sessions WHERE subject_id LIKE 'gone-%'}) for 0 .. 3;
is($gone, 0, 'and the shards removed them');
is($proxy->safe_psql('postgres', q{SELECT count(*) FROM idsess.proxy_expired_acks}), '0',
	'the proxy keeps no note of them');

$proxy->safe_psql('postgres', join('', map {
	sprintf(q{SELECT idsess_create('later-%d', 't', key => 'later-%02d',
		expires => clock_timestamp() + interval '1 second');}, $_, $_) } 1 .. 12));
for my $name (qw(a b))
{
	$shard{$name}->append_conf('postgresql.conf',
		"idsess.databases = '" . join(',', @{ $parts{$name} }) . "'\n");
	$shard{$name}->reload;
}
for my $p (0 .. 3)
{
	ok($partition_node[$p]->poll_query_until("idsess_p$p",
			q{SELECT count(*) = 0 FROM idsess.sessions WHERE key LIKE 'later-%'}),
		"partition ${p}'s own worker removes its expired sessions");
}
# Opened tickets through the proxy stay in memory, never in a temporary
# file, past work_mem; past the bound of one call they are refused.
$proxy->append_conf('postgresql.conf', "log_temp_files = 0\n");
$proxy->reload;
$proxy->safe_psql('postgres', q{SELECT idsess_create('big', repeat(md5(i::text), 1000), key => 'big-' || i)
	FROM generate_series(1, 20) i});
my $log_at = -s $proxy->logfile;
is($proxy->safe_psql('postgres', q{SET work_mem = '64kB';
		SELECT count(*), sum(length(ticket)) FROM idsess_query(subject_id => 'big', count => 20, tickets => true)}),
	'20|640000', 'twenty 32 kB tickets through the proxy with work_mem at 64 kB');
$proxy->safe_psql('postgres', q{SELECT 'log mark'});
unlike(slurp_file($proxy->logfile, $log_at), qr/temporary file/, 'and no temporary file was written');
$proxy->safe_psql('postgres', q{SELECT idsess_update('big-' || i, ticket => repeat(md5(i::text), 120000))
	FROM generate_series(1, 20) i});
($ret, $out, $err) = $proxy->psql('postgres',
	q{SELECT count(*) FROM idsess_query(subject_id => 'big', count => 20, tickets => true)},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/54000: the sessions' tickets are too large to return at once/,
	'tickets past 64 MB in one call are refused, as one store refuses them');
$proxy->safe_psql('postgres', q{SELECT idsess_delete_sessions(subject_id => 'big')});

# Back-channel logouts through the proxy are delivered at least once: a
# caller that rolls back gets them again (after the lease), one that
# commits never does, and the shards' outboxes are then empty.
for my $name (qw(a b))
{
	$shard{$name}->append_conf('postgresql.conf', "idsess.expired_sessions_trigger_logout = on\n");
	$shard{$name}->reload;
}
# One call each (an upsert with its client): a session must not expire
# between its creation and its client's arrival on a busy machine.
$proxy->safe_psql('postgres', join('', map {
	sprintf(q{SELECT idsess_update('bye-%02d', ticket => 't', subject_id => 'bye-%d', clients => '{rp}',
		expires => clock_timestamp() + interval '1 second', upsert => true);},
		$_, $_) } 1 .. 8));
my $outbox = q{SELECT count(*) FROM idsess.logout_outbox WHERE subject_id LIKE 'bye-%'};
ok($proxy->poll_query_until('postgres', q{SELECT count(*) FROM idsess_get_sessions(subject_id => 'bye-1')}, '0'),
	'the sessions with a client expired');
my $queued = 0;
for my $try (1 .. 100)
{
	$queued = 0;
	$queued += $partition_node[$_]->safe_psql("idsess_p$_", $outbox) for 0 .. 3;
	last if $queued == 8;
	sleep(1);
}
is($queued, 8, 'the shards\' workers queued eight back-channel logouts');
# A lease long enough for two calls on a loaded machine.
my $take = q{SET idsess_proxy.logout_lease = '4s';
	SELECT count(*) FROM idsess_take_logouts(100) WHERE subject_id LIKE 'bye-%'};
is($proxy->safe_psql('postgres', "BEGIN; $take; ROLLBACK"), '8', 'a caller takes the eight logouts and rolls back');
is($proxy->safe_psql('postgres', $take), '0', 'while the lease holds, no one else gets them');
sleep(5);
is($proxy->safe_psql('postgres', "BEGIN; $take; COMMIT"), '8', 'after the lease the next caller gets all eight again');
is($proxy->safe_psql('postgres', $take), '0', 'once committed, they are not delivered again');
$queued = 0;
$queued += $partition_node[$_]->safe_psql("idsess_p$_", $outbox) for 0 .. 3;
is($queued, 0, 'and they are gone from the shards\' outboxes');

is($proxy->safe_psql('postgres',
		q{SELECT string_agg(database, ',' ORDER BY database) FROM idsess.workers}),
	'idsess_p0,idsess_p1,idsess_p2,idsess_p3', 'the proxy lists the four workers');
is($proxy->safe_psql('postgres',
		q{SELECT count(*) FROM idsess.workers WHERE total_removed > 0}),
	'4', 'each worker counts its own removals');

# Shard b down: partitions 2 and 3 fail with an error that names them;
# partitions 0 and 1 still answer, and a fan-out call changes nothing.
my @on_a = split(/\n/, $proxy->safe_psql('postgres', q{SELECT k FROM (VALUES ('key-01'), ('key-02'),
	('key-05'), ('key-06'), ('key-07'), ('key-08'), ('key-09'), ('key-12')) v(k)
	WHERE hashtext(k) & 3 IN (0, 1)}));
my @on_b = split(/\n/, $proxy->safe_psql('postgres', q{SELECT k FROM (VALUES ('key-01'), ('key-02'),
	('key-05'), ('key-06'), ('key-07'), ('key-08'), ('key-09'), ('key-12')) v(k)
	WHERE hashtext(k) & 3 IN (2, 3)}));
ok(@on_a && @on_b, 'live sessions on both shards to look for');
$shard{b}->stop;
is($proxy->safe_psql('postgres', qq{SELECT ticket FROM idsess_get('$on_a[0]')}),
	($on_a[0] =~ /(\d+)/ && 'ticket-' . ($1 + 0)), 'a key on the running shard is served');
($ret, $out, $err) = $proxy->psql('postgres', qq{SELECT * FROM idsess_get('$on_b[0]')});
like($err, qr/idsess_p[23].*(connect|connection)/s,
	'a key on the stopped shard fails with an error naming its partition');
for my $call (
	[ 'idsess_query', q{SELECT * FROM idsess_query()} ],
	[ 'idsess_get_sessions', q{SELECT * FROM idsess_get_sessions(subject_id => 'user-1')} ],
	[ 'idsess_report_active', q{SELECT * FROM idsess_report_active()} ])
{
	($ret, $out, $err) = $proxy->psql('postgres', $call->[1]);
	like($err, qr/idsess_p[23]/, "$call->[0] fails, naming the stopped partition");
}
($ret, $out, $err) = $proxy->psql('postgres',
	q{SELECT * FROM idsess_revoke(subject_id => 'user-1', reason => 'test')});
like($err, qr/idsess_p[23]/, 'idsess_revoke fails, naming the stopped partition');
is($proxy->safe_psql('postgres', qq{SELECT count(*) FROM idsess_get('$on_a[0]')}), '1',
	'and ends no session on the running shard');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT count(*) FROM idsess_take_expired()});
is($ret, 0, 'idsess_take_expired still answers from the running shard');
like($err, qr/WARNING:.*skipped partition [23]/, 'with a warning for each stopped partition');
$shard{b}->start;
is($proxy->safe_psql('postgres', qq{SELECT ticket FROM idsess_get('$on_b[0]')}),
	($on_b[0] =~ /(\d+)/ && 'ticket-' . ($1 + 0)), 'the restarted shard serves its keys again');

done_testing();
