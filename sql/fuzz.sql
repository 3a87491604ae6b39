-- The seeded input fuzz suite: every function of the extension called with
-- NULLs, empty and blank strings, oversized and odd unicode text, negative
-- and huge numbers, infinities and random bytes; random and mutated
-- results tokens; and sealed tickets mutated in idsess.sessions.  Every
-- call runs in its own exception block, and every error's SQLSTATE must be
-- one the function documents (fuzz_allowed below): an internal error
-- (XX000), a crash or a wrong plaintext fails the suite.  Seeded, so the
-- cases are the same on every run; everything happens in one transaction
-- that is rolled back, so nothing is left behind.
\set SHOW_CONTEXT never
SELECT pg_postmaster_start_time() AS started \gset
BEGIN;
SELECT setseed(0.1729);
SET LOCAL idsess.max_ticket_size = '64kB';

-- Sessions the fuzzer's keys, subjects and sids hit; made again whenever
-- the fuzzed calls have ended them.
CREATE FUNCTION pg_temp.fixture() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	-- A fuzzed revoke leaves tombstones that would refuse the fixture's keys.
	DELETE FROM idsess.revoked_keys;
	FOR i IN 1..4 LOOP
		IF NOT EXISTS (SELECT FROM public.idsess_get('fz-key-' || i)) THEN
			PERFORM public.idsess_delete('fz-key-' || i);
			PERFORM public.idsess_create('fz-sub-' || i % 2, 'fuzz ticket ' || i, key => 'fz-key-' || i,
			                             session_id => 'fz-sid-' || i, display_name => 'Fuzz ' || i,
			                             expires => now() + interval '1 day');
			PERFORM public.idsess_add_client('fz-key-' || i, 'fz-client');
			PERFORM public.idsess_add_saml_session('fz-key-' || i, 'fz-sp', 'fz-idx-' || i, 'fz-name');
		END IF;
	END LOOP;
END $$;
SELECT pg_temp.fixture() \g /dev/null

-- SQLSTATEs each function may raise: doc/reference.md's SQLSTATE table and the
-- function's own refusals.  Common to all: 22004 (missing), 22023 (invalid), 22001 (too long), 54000 (too large).
CREATE TEMP TABLE fuzz_allowed (fn text PRIMARY KEY, codes text[] NOT NULL);
INSERT INTO fuzz_allowed VALUES
  -- 23505 duplicate key, 23514 expires before created, 53400 session limit,
  -- 55000 key ring state; 22008 a timestamp beyond PostgreSQL's range;
  -- ISRVK a revoked key
  -- 1.2: 2202E amr not a one-dimensional array
  ('idsess_create',              '{23505,23514,53400,55000,22008,ISRVK,2202E}'),
  -- the ticket opening errors: XX001 altered, 42704 key not in the ring,
  -- 55000 key retired or destroyed
  ('idsess_get',                 '{XX001,42704,55000}'),
  -- 1.1: 23505 new_key taken or upserted key present, 2202E clients not
  -- a one-dimensional array, 53400 session limit of an upsert
  ('idsess_update',              '{23514,XX001,42704,55000,22008,ISRVK,23505,2202E,53400}'),
  ('idsess_touch',               '{}'),
  ('idsess_delete',              '{}'),
  ('idsess_get_sessions',        '{XX001,42704,55000}'),
  ('idsess_delete_sessions',     '{}'),
  -- tickets => true: the opening errors, 42501 for roles that may not
  -- 1.2: 22023 a lease out of bounds, 2202E done not one-dimensional
  ('idsess_take_expired',        '{XX001,42704,55000,42501,22023,2202E}'),
  ('idsess_add_client',          '{P0002,55000}'),
  ('idsess_clients',             '{P0002,55000}'),
  ('idsess_remove_client',       '{P0002,55000}'),
  ('idsess_add_saml_session',    '{P0002,55000}'),
  ('idsess_saml_sessions',       '{P0002,55000}'),
  ('idsess_remove_saml_session', '{P0002,55000}'),
  ('idsess_query',               '{XX001,42704,55000,42501}'),
  ('idsess_revoke',              '{}'),
  ('idsess_my_sessions',         '{}'),
  ('idsess_take_logouts',        '{}'),
  ('idsess_worker_status',       '{}'),
  ('idsess_key_rotate',          '{}'),
  ('idsess_reseal',              '{XX001,42704,55000}'),
  -- 42704 no such key, 55000 active or gone, 55006 tickets still use it
  ('idsess_key_retire',          '{42704,55000,55006}'),
  ('idsess_key_destroy',         '{42704,55000,55006}'),
  -- the new key file: 58P01 missing, 58030 unreadable, F0000 not a key
  ('idsess_rewrap_keys',         '{58P01,58030,F0000,42501}'),
  ('short_list',                 '{}'),
  ('short_id',                   '{}'),
  -- 22008: last_active + idle_timeout beyond PostgreSQL's range (values
  -- no stored session has: idle timeouts are bounded)
  ('session_is_live',            '{22008}'),
  ('idsess_report_active',       '{}'),
  ('idsess_report_clients',      '{}'),
  ('idsess_report_schemes',      '{}'),
  ('idsess_report_history',      '{}'),
  ('idsess_report_expiring',     '{}'),
  ('idsess_report_age',          '{}'),
  ('idsess_report_key_ring',     '{}'),
  ('idsess_report_concurrency',  '{}'),
  ('idsess_report_top_subjects', '{}'),
  ('idsess_report_totals',       '{}'),
  ('idsess_report_logout_outbox', '{}'),
  ('idsess_report_revoked_keys', '{}'),
  ('idsess_ticket_failures',     '{}'),
  -- 1.2 tenants: 42501 a tenant not the caller's or a report kept for all
  -- tenants; 0LP01 a role that may not become a tenant admin
  ('tenant_visible',             '{}'),
  ('tenant_scope',               '{}'),
  ('require_all_tenants',        '{42501}'),
  ('idsess_grant_tenant_admin',  '{0LP01}'),
  ('idsess_revoke_tenant_admin', '{}'),
  ('idsess_report_tenants',      '{}');
UPDATE fuzz_allowed SET codes = codes || '{22004,22023,22001,54000}';

-- Every function of the extension has its list (trigger functions are not
-- called: only their triggers run them).
SELECT p.oid::regprocedure AS function_without_an_allowed_list
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'idsess')
  AND p.prorettype <> 'trigger'::regtype
  AND p.proname NOT IN (SELECT fn FROM fuzz_allowed);

-- Random values of each argument type, as text (pg_temp.literal below
-- makes them SQL literals).
CREATE FUNCTION pg_temp.pick(a text[]) RETURNS text LANGUAGE sql VOLATILE
RETURN a[1 + floor(random() * cardinality(a))::int];

CREATE FUNCTION pg_temp.rand_chars(n int) RETURNS text LANGUAGE sql VOLATILE
RETURN (SELECT string_agg(chr(CASE WHEN r < 0.5 THEN 32 + floor(random() * 95)::int
                                   WHEN r < 0.8 THEN 160 + floor(random() * 55000)::int  -- below the surrogates
                                   ELSE 65536 + floor(random() * 1048575)::int END), '')
        FROM (SELECT random() AS r FROM generate_series(1, n)) c);

CREATE FUNCTION pg_temp.rand_text() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
BEGIN
	RETURN CASE
		WHEN r < 0.10 THEN NULL
		WHEN r < 0.14 THEN ''
		WHEN r < 0.17 THEN pg_temp.pick(ARRAY[' ', E'\t', E' \n\r ', E'\u00a0'])
		WHEN r < 0.35 THEN pg_temp.pick(ARRAY['fz-key-1', 'fz-key-2', 'fz-key-3', 'fz-sub-0', 'fz-sub-1',
		                                      'fz-sid-1', 'fz-sid-4', 'fz-client', 'fz-sp', 'fz-idx-1', 'fz-name',
		                                      'fz', 'Fuzz', 'idsrv'])
		WHEN r < 0.38 THEN repeat('x', 200)
		WHEN r < 0.41 THEN repeat('x', 201)
		WHEN r < 0.43 THEN repeat(E'\u00e9', 200)
		WHEN r < 0.45 THEN repeat(E'\U0001F600', 201)
		WHEN r < 0.47 THEN repeat('y', 1001)
		WHEN r < 0.48 THEN repeat('z', 100000)
		WHEN r < 0.56 THEN pg_temp.pick(ARRAY[E'\u202Eevil', E'a\u200Bb', E'e\u0301', E'\uFEFF', E'\uFFFF',
		                                      E'\U0010FFFF', E'\u0130', E'\u00df', E'\u01C5', E'\u03A3\u03A3',
		                                      E'\U0001F469\u200D\U0001F4BB'])
		WHEN r < 0.62 THEN pg_temp.pick(ARRAY['%', '_', '\', '%_\%', '''', '"', ';', '--', '$1', '\x00ff',
		                                      '{', '{}', '[]', '{"a":1}', 'NULL'])
		WHEN r < 0.68 THEN pg_temp.pick(ARRAY['infinity', '-infinity', 'NaN', '-1', '0', '2147483648',
		                                      '9223372036854775808', '1e309', 'destroy key 1', 'destroy key 2',
		                                      'destroy key 3', 'PG_VERSION', 'postmaster.pid', '/dev/null',
		                                      '/nonexistent/key', '.'])
		ELSE pg_temp.rand_chars(1 + floor(random() * 40)::int)
	END;
END $$;

CREATE FUNCTION pg_temp.rand_bytes(n int) RETURNS bytea LANGUAGE sql VOLATILE
RETURN COALESCE((SELECT decode(string_agg(lpad(to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex')
                 FROM generate_series(1, n)), '');

-- A value callers mostly send: the fixture's names, small numbers, near times.
CREATE FUNCTION pg_temp.sane_value(t regtype) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	CASE t
	WHEN 'text'::regtype THEN
		RETURN CASE WHEN random() < 0.7
			THEN pg_temp.pick(ARRAY['fz-key-1', 'fz-key-2', 'fz-key-3', 'fz-key-4', 'fz-sub-0', 'fz-sub-1',
			                        'fz-sid-2', 'fz-sid-3', 'fz-client', 'fz-sp', 'fz-idx-2', 'fz-name', 'fz'])
			ELSE 'fz-' || pg_temp.rand_chars(1 + floor(random() * 12)::int) END;
	WHEN 'bytea'::regtype THEN
		-- Mostly NULL: a ticket is given as text or as bytes, not both.
		RETURN CASE WHEN random() < 0.7 THEN NULL ELSE pg_temp.rand_bytes(floor(random() * 100)::int)::text END;
	WHEN 'integer'::regtype THEN
		RETURN (1 + floor(random() * 100)::int)::text;
	WHEN 'boolean'::regtype THEN
		RETURN (random() < 0.5)::text;
	WHEN 'timestamp with time zone'::regtype THEN
		RETURN extract(epoch FROM now() + (random() * 48 - 12) * interval '1 hour')::text;
	WHEN 'interval'::regtype THEN
		RETURN pg_temp.pick(ARRAY['0', '20 minutes', '1 hour']);
	WHEN 'text[]'::regtype THEN
		RETURN ARRAY(SELECT pg_temp.pick(ARRAY['fz-client', 'fz-sp', 'other'])
		             FROM generate_series(1, 1 + floor(random() * 3)::int))::text;
	WHEN 'inet'::regtype THEN
		RETURN pg_temp.pick(ARRAY['192.0.2.1', '198.51.100.0/24', '2001:db8::1']);
	WHEN 'regrole'::regtype THEN
		-- Roles that may not be tenant admins: the fuzz changes no grant.
		RETURN pg_temp.pick(ARRAY['idsess_service', 'idsess_admin', 'idsess_reporting']);
	END CASE;
	RAISE EXCEPTION 'fuzz: no generator for type %', t;
END $$;

-- Anything at all: NULLs, empty and blank, oversized, odd unicode, LIKE
-- metacharacters, extreme numbers and times, random bytes.
CREATE FUNCTION pg_temp.wild_value(t regtype) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
BEGIN
	IF r < 0.08 THEN
		RETURN NULL;
	END IF;
	CASE t
	WHEN 'text'::regtype THEN
		RETURN pg_temp.rand_text();
	WHEN 'bytea'::regtype THEN
		RETURN (CASE
			WHEN r < 0.20 THEN ''::bytea
			WHEN r < 0.25 THEN pg_temp.rand_bytes(65537)
			WHEN r < 0.40 THEN '\x495301'::bytea || pg_temp.rand_bytes(floor(random() * 120)::int)
			WHEN r < 0.50 THEN (SELECT s.ticket FROM idsess.sessions s ORDER BY s.id DESC LIMIT 1)
			ELSE pg_temp.rand_bytes(floor(random() * 200)::int) END)::text;
	WHEN 'integer'::regtype THEN
		RETURN pg_temp.pick(ARRAY['0', '1', '2', '3', '-1', '15', '25', '1000', '1001', '10080', '10081',
		                          '100000', '100001', '2147483647', '-2147483648',
		                          floor(random() * 4294967296 - 2147483648)::bigint::text]);
	WHEN 'boolean'::regtype THEN
		RETURN pg_temp.pick(ARRAY['true', 'false']);
	WHEN 'timestamp with time zone'::regtype THEN
		RETURN CASE
			WHEN r < 0.30 THEN pg_temp.pick(ARRAY['infinity', '-infinity', '-210866803200', '9224318015999', '0'])
			ELSE extract(epoch FROM now() + (random() - 0.5) * pg_temp.pick(ARRAY['1 minute', '2 hours', '3 days',
			                                                                  '20 years', '4000 years'])::interval)::text END;
	WHEN 'interval'::regtype THEN
		RETURN pg_temp.pick(ARRAY['0', '-1 second', '1 second', '-1 day', '1 month', '178000000 years',
		                          '-178000000 years', '2147483647 days', '-2147483648 days', '2562047787 hours',
		                          (random() * 1000000)::int || ' seconds']);
	WHEN 'text[]'::regtype THEN
		RETURN (CASE
			WHEN r < 0.20 THEN '{}'::text[]
			WHEN r < 0.30 THEN '{NULL}'::text[]
			WHEN r < 0.35 THEN ARRAY(SELECT 'c' || i FROM generate_series(1, 1001) i)
			ELSE ARRAY(SELECT pg_temp.rand_text() FROM generate_series(1, 1 + floor(random() * 4)::int)) END)::text;
	WHEN 'inet'::regtype THEN
		RETURN pg_temp.pick(ARRAY['0.0.0.0/0', '255.255.255.255', '10.0.0.0/8', '::', '::/0',
		                          'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '::ffff:192.0.2.1',
		                          '2001:db8:1:2:3:4:5:6/128']);
	WHEN 'regrole'::regtype THEN
		RETURN pg_temp.pick(ARRAY['idsess_service', 'idsess_admin', 'idsess_reporting']);
	END CASE;
	RAISE EXCEPTION 'fuzz: no generator for type %', t;
END $$;

-- Times travel as seconds since the epoch (ancient ones do not survive the
-- round trip through text under every DateStyle and time zone).
CREATE FUNCTION pg_temp.literal(v text, t regtype) RETURNS text LANGUAGE sql
RETURN CASE WHEN t = 'timestamptz'::regtype AND v IS NOT NULL
            THEN 'pg_catalog.to_timestamp(' || quote_literal(v) || '::float8)'
            ELSE quote_nullable(v) || '::' || t::text END;

-- One call in its own exception block: the error's SQLSTATE, or NULL.
CREATE TEMP TABLE fuzz_log (fn text, code text, message text, call text);
CREATE FUNCTION pg_temp.try(fn text, call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
BEGIN
	EXECUTE call;
	INSERT INTO fuzz_log VALUES (fn, NULL, NULL, NULL);
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	INSERT INTO fuzz_log VALUES (fn, st, msg, left(call, 300));
	RETURN st;
END $$;

-- 1. The results token parser: random strings and mutations of a real token.
CREATE FUNCTION pg_temp.mutate(s text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
	n int := length(s);
	p int := 1 + floor(random() * greatest(n, 1))::int;
	alphabet text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
	c text := substr(alphabet, 1 + floor(random() * 65)::int, 1);
BEGIN
	RETURN CASE
		WHEN r < 0.30 THEN overlay(s PLACING c FROM p FOR 1)                 -- replace a character
		WHEN r < 0.40 THEN overlay(s PLACING '' FROM p FOR 1)                -- drop one
		WHEN r < 0.50 THEN overlay(s PLACING c FROM p FOR 0)                 -- insert one
		WHEN r < 0.60 THEN left(s, p - 1)                                     -- truncate
		WHEN r < 0.65 THEN s || s                                             -- doubled
		WHEN r < 0.70 THEN split_part(s, '.', 2) || '.' || split_part(s, '.', 1)  -- halves swapped
		WHEN r < 0.75 THEN replace(s, '.', '')                                -- no separator
		WHEN r < 0.80 THEN s || '.' || c                                      -- a third part
		WHEN r < 0.85 THEN upper(s)
		WHEN r < 0.90 THEN translate(s, '-_', '+/')                           -- plain base64
		WHEN r < 0.95 THEN pg_temp.rand_chars(1 + floor(random() * 300)::int)
		ELSE (SELECT string_agg(substr(alphabet, 1 + floor(random() * 65)::int, 1), '')
		      FROM generate_series(1, 1 + floor(random() * 250)::int))
	END;
END $$;

DO $$
DECLARE
	tok text := (SELECT min(q.results_token) FROM public.idsess_query(subject_id => 'fz-sub', count => 1) q);
	m text;
	code text;
	accepted int := 0;
BEGIN
	IF tok IS NULL THEN
		RAISE EXCEPTION 'fuzz: the fixture gave no results token';
	END IF;
	FOR i IN 1..1000 LOOP
		m := pg_temp.mutate(CASE WHEN i % 5 = 0 THEN pg_temp.mutate(tok) ELSE tok END);
		code := pg_temp.try('results_token', format(
			'SELECT count(*) FROM public.idsess_query(subject_id => %L, count => 1, results_token => %L, prior => %L)',
			'fz-sub', m, i % 3 = 0));
		IF code IS NULL AND m IS DISTINCT FROM tok THEN
			accepted := accepted + 1;
		END IF;
	END LOOP;
	PERFORM set_config('fuzz.forged_tokens_accepted', accepted::text, true);
END $$;
INSERT INTO fuzz_allowed VALUES ('results_token', '{22023}');

-- 2. The sealed-ticket parser: a session's sealed bytes mutated in place,
-- under a key that is then made inactive (so that reseal takes the row
-- too); opening must fail with a documented error or give the original
-- ticket, never another plaintext.  idsess_reseal's warning about a
-- ticket it skips names a key id that depends on the tests before this one.
SET LOCAL client_min_messages = error;
SELECT key FROM public.idsess_create('fz-seal', 'the fuzzed ticket', key => 'fz-seal-1', session_id => 'fz-seal-sid');
SELECT public.idsess_key_rotate() > 0 AS rotated;
CREATE FUNCTION pg_temp.mutate_seal(b bytea) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
	n int := length(b);
	p int := floor(random() * n)::int;
	bit int := floor(random() * n * 8)::int;
BEGIN
	RETURN CASE
		WHEN r < 0.30 THEN set_bit(b, bit, 1 - get_bit(b, bit))
		WHEN r < 0.40 THEN set_byte(b, p, floor(random() * 256)::int)
		WHEN r < 0.50 THEN substr(b, 1, p)                                           -- truncated
		WHEN r < 0.55 THEN substr(b, 1, n - 16)                                      -- a block short
		WHEN r < 0.62 THEN b || pg_temp.rand_bytes(1 + floor(random() * 40)::int)   -- extended
		WHEN r < 0.66 THEN b || pg_temp.rand_bytes(16)
		WHEN r < 0.80 THEN overlay(b PLACING pg_temp.pick(ARRAY['\x00000000', '\x00000001', '\x00000002',
		                                                        '\x00000003', '\x7fffffff', '\xffffffff',
		                                                        '\x80000000'])::bytea FROM 5 FOR 4)  -- key id
		WHEN r < 0.85 THEN overlay(b PLACING pg_temp.pick(ARRAY['t', 'b', 'k', 'x', '\000'])::bytea FROM 4 FOR 1)  -- format
		WHEN r < 0.88 THEN overlay(b PLACING '\x02'::bytea FROM 3 FOR 1)            -- version
		WHEN r < 0.90 THEN ''::bytea
		WHEN r < 0.95 THEN COALESCE((SELECT s.ticket FROM idsess.sessions s WHERE s.key <> 'fz-seal-1'
		                             ORDER BY s.id LIMIT 1), b || b)                 -- another row's
		ELSE pg_temp.rand_bytes(floor(random() * 200)::int)
	END;
END $$;
-- Opens fz-seal-1 with call: true when it gave a plaintext other than the
-- one sealed (or no row), false when it gave that one, a logged error or,
-- from a set of sessions, the documented NULL ticket of one that does not
-- open (made 'not opened' by the call).
CREATE FUNCTION pg_temp.try_open(fn text, call text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	opened text;
	st text;
BEGIN
	EXECUTE call INTO opened;
	INSERT INTO fuzz_log VALUES (fn, NULL, NULL, NULL);
	RETURN opened IS DISTINCT FROM 'the fuzzed ticket' AND opened IS DISTINCT FROM 'not opened';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
	INSERT INTO fuzz_log VALUES (fn, st, SQLERRM, left(call, 300));
	RETURN false;
END $$;
DO $$
DECLARE
	orig bytea;
	orig_key int;
	wrong int := 0;
	get text := 'SELECT g.ticket FROM public.idsess_get(''fz-seal-1'') g';
	get_sessions text := 'SELECT COALESCE(g.ticket, ''not opened'') FROM public.idsess_get_sessions(subject_id => ''fz-seal'') g '
	                     'WHERE g.key = ''fz-seal-1''';
BEGIN
	SELECT s.ticket, s.key_id INTO orig, orig_key FROM idsess.sessions s WHERE s.key = 'fz-seal-1';
	FOR i IN 1..600 LOOP
		UPDATE idsess.sessions SET ticket = pg_temp.mutate_seal(orig), key_id = orig_key WHERE key = 'fz-seal-1';
		CASE i % 3
		WHEN 0 THEN
			wrong := wrong + pg_temp.try_open('idsess_get', get)::int;
		WHEN 1 THEN
			wrong := wrong + pg_temp.try_open('idsess_get_sessions', get_sessions)::int;
		ELSE
			PERFORM pg_temp.try('idsess_reseal', 'SELECT public.idsess_reseal(10)');
		END CASE;
		-- Whatever happened, the ticket now opens as itself or not at all.
		wrong := wrong + pg_temp.try_open('idsess_get', get)::int;
	END LOOP;
	UPDATE idsess.sessions SET ticket = orig, key_id = orig_key WHERE key = 'fz-seal-1';
	PERFORM set_config('fuzz.wrong_plaintexts', wrong::text, true);
END $$;

RESET client_min_messages;
-- 3. Every function, 300 calls each with random arguments (3 for those
-- without arguments), schema-qualified.
DO $$
DECLARE
	f record;
	args text;
	sane boolean;
BEGIN
	FOR f IN
		SELECT p.oid, p.proname, quote_ident(n.nspname) || '.' || quote_ident(p.proname) AS qname,
		       p.proargtypes::regtype[] AS types
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
		WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'idsess')
		  AND p.prorettype <> 'trigger'::regtype
		ORDER BY p.proname
	LOOP
		PERFORM pg_temp.fixture();
		FOR i IN 1..CASE WHEN cardinality(f.types) = 0 THEN 3 ELSE 300 END LOOP
			-- Half the calls are mostly sane, to get past the argument checks.
			sane := random() < 0.5;
			SELECT COALESCE(string_agg(pg_temp.literal(CASE WHEN sane AND random() < 0.85
			                                                THEN pg_temp.sane_value(t) ELSE pg_temp.wild_value(t) END, t),
			                           ', ' ORDER BY o), '') INTO args
			FROM unnest(f.types) WITH ORDINALITY AS a(t, o);
			PERFORM pg_temp.try(f.proname, format('SELECT count(*) FROM %s(%s)', f.qname, args));
		END LOOP;
	END LOOP;
END $$;

-- The results.  Errors outside a function's list (none expected):
SELECT l.fn, l.code, min(l.message) AS message, min(l.call) AS a_call, count(*) AS n
FROM fuzz_log l LEFT JOIN fuzz_allowed a ON a.fn = l.fn
WHERE l.code IS NOT NULL AND (a.codes IS NULL OR NOT l.code = ANY (a.codes))
GROUP BY 1, 2 ORDER BY 1, 2;
-- Every function and both parsers were reached, and how many of them
-- got past the argument checks at least once.
SELECT count(DISTINCT fn) AS functions_and_parsers,
       count(DISTINCT fn) FILTER (WHERE fn IN (SELECT fn FROM fuzz_log WHERE code IS NULL)) AS with_successes
FROM fuzz_log;
SELECT count(*) AS cases_tried,
       current_setting('fuzz.forged_tokens_accepted') AS forged_tokens_accepted,
       current_setting('fuzz.wrong_plaintexts') AS wrong_plaintexts
FROM fuzz_log;
ROLLBACK;
-- The server is still up, this session still connected and no process
-- crashed (a crash restarts the postmaster's children and resets the start
-- time): crashes 0.
SELECT CASE WHEN pg_postmaster_start_time() = :'started' THEN 0 END AS crashes,
       count(*) AS fuzz_sessions_left
FROM idsess.sessions WHERE key LIKE 'fz-%';
