/* idsess_proxy--1.1.sql: idsess's API in a proxy database, routed by PL/Proxy to shard databases */

\echo Use "CREATE EXTENSION idsess_proxy CASCADE" to load this file. \quit

-- The shards are the partitions of the PL/Proxy cluster (a SQL/MED server)
-- named idsess_shards, which the DBA creates: one option p0, p1, ... per
-- partition, a power-of-two count, each a database running idsess (with its
-- own expiry worker) and idsess_shard.  A session lives in partition
-- hashtext(key) & (partitions - 1).  A shard server holds several
-- partitions, so that it is split by moving whole partition databases; and
-- since PL/Proxy keeps the low bits of the hash, doubling the partitions
-- would split each partition p into p and p + the old count, never mixing
-- two of them.  Calls naming a key go to that one partition; the others
-- go to every partition and are merged here.
--
-- Every function runs with the caller's rights (SECURITY INVOKER): PL/Proxy
-- connects to a shard as the calling user (through its user mapping), so
-- the shard's idsess roles decide what that user may do there, as they do
-- without a proxy.  Each remote call is its own transaction on its shard.
-- PL/Proxy functions must be volatile, so the functions idsess declares
-- STABLE (idsess_get, idsess_query, the reports...) are VOLATILE here.

CREATE SCHEMA idsess;
COMMENT ON SCHEMA idsess IS 'idsess_proxy: the result types of idsess and the routing helpers';

-- The result types, column for column those of idsess 1.1 (1.0's with
-- 1.1's attributes appended), so that a client sees the same rows through
-- the proxy.  PL/Proxy reads a shard's result columns by name.
CREATE TYPE idsess.session AS (
	key text,
	scheme text,
	subject_id text,
	session_id text,
	display_name text,
	created timestamptz,
	renewed timestamptz,
	expires timestamptz,
	last_active timestamptz,
	idle_timeout interval,
	clients text[],
	saml_sessions jsonb,
	ticket text,
	ticket_bytes bytea,
	issuer text,
	client_sids text[]
);
COMMENT ON TYPE idsess.session IS 'A session as the store functions return it (as in idsess)';

CREATE TYPE idsess.created AS (
	key text,
	scheme text,
	subject_id text,
	session_id text,
	display_name text,
	created timestamptz,
	renewed timestamptz,
	expires timestamptz,
	last_active timestamptz,
	idle_timeout interval,
	clients text[],
	saml_sessions jsonb,
	ticket text,
	ticket_bytes bytea,
	ended_sessions jsonb,
	issuer text,
	client_sids text[]
);
COMMENT ON TYPE idsess.created IS 'What idsess_create() returns (as in idsess)';

CREATE TYPE idsess.query_row AS (
	key text,
	scheme text,
	subject_id text,
	session_id text,
	display_name text,
	created timestamptz,
	renewed timestamptz,
	expires timestamptz,
	last_active timestamptz,
	clients text[],
	results_token text,
	has_prev boolean,
	has_next boolean,
	total_count bigint,
	total_pages integer,
	current_page integer,
	issuer text,
	client_sids text[],
	ticket text,
	ticket_bytes bytea
);
COMMENT ON TYPE idsess.query_row IS 'One row of an idsess_query() page (as in idsess)';

CREATE TYPE idsess.revoked AS (
	key text,
	subject_id text,
	session_id text,
	clients text[],
	saml_sessions jsonb,
	issuer text,
	client_sids text[]
);
COMMENT ON TYPE idsess.revoked IS 'A session idsess_revoke() removed (as in idsess)';

CREATE TYPE idsess.logout AS (
	id bigint,
	queued timestamptz,
	cause text,
	subject_id text,
	session_id text,
	clients text[],
	saml_sessions jsonb,
	issuer text,
	client_sids text[]
);
COMMENT ON TYPE idsess.logout IS 'A back-channel logout owed for an expired session (as in idsess; id is unique within its shard only)';

-- The number of partitions of idsess_shards, from its p0, p1, ... options.
CREATE FUNCTION idsess.proxy_partitions()
RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.count(*)::integer
        FROM pg_catalog.pg_foreign_server s, pg_catalog.unnest(s.srvoptions) AS o(opt)
        WHERE s.srvname = 'idsess_shards' AND o.opt ~ '^p[0-9]+=');
COMMENT ON FUNCTION idsess.proxy_partitions() IS 'How many partitions the idsess_shards cluster has';

-- Reaches every partition, so that a call that changes several shards fails
-- before it changes any when one of them is down (see idsess_revoke).
CREATE FUNCTION idsess.proxy_ping()
RETURNS SETOF integer
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	SELECT 1;
$$;
COMMENT ON FUNCTION idsess.proxy_ping() IS 'One row per partition; an error when a partition cannot be reached';

------------------------------------------------------------------------
-- Calls that name a key: one partition, chosen by the key's hash.

-- The routing hash of a key; a NULL key gets idsess's own error rather than
-- PL/Proxy's "hash function returned NULL".
CREATE FUNCTION idsess.proxy_key_hash(key text)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF key IS NULL THEN
		RAISE EXCEPTION 'key must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN hashtext(key);
END
$fn$;
COMMENT ON FUNCTION idsess.proxy_key_hash(text) IS 'The hash that chooses a key''s partition (hashtext); an error for NULL, as idsess gives';

-- The key is made here when the caller gives none (as idsess makes it: 32
-- random bytes in hex, from two random UUIDs here), since it decides the
-- partition.
CREATE FUNCTION idsess.proxy_create(
	subject_id text, ticket text, ticket_bytes bytea, key text, session_id text,
	scheme text, display_name text, expires timestamptz, idle_timeout interval,
	created timestamptz, max_sessions integer, issuer text)
RETURNS idsess.created
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
	TARGET idsess_create;
$$;
COMMENT ON FUNCTION idsess.proxy_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text) IS
'idsess_create on the partition of the (given) key';

CREATE FUNCTION idsess_create(
	subject_id text,
	ticket text DEFAULT NULL,
	ticket_bytes bytea DEFAULT NULL,
	key text DEFAULT NULL,
	session_id text DEFAULT NULL,
	scheme text DEFAULT 'idsrv',
	display_name text DEFAULT NULL,
	expires timestamptz DEFAULT NULL,
	idle_timeout interval DEFAULT NULL,
	created timestamptz DEFAULT NULL,
	max_sessions integer DEFAULT NULL,
	issuer text DEFAULT NULL)
RETURNS idsess.created
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	RETURN idsess.proxy_create(subject_id, ticket, ticket_bytes,
		COALESCE(key, pg_catalog.replace(pg_catalog.gen_random_uuid()::text
		                                 || pg_catalog.gen_random_uuid()::text, '-', '')),
		session_id, scheme, display_name, expires, idle_timeout, created, max_sessions, issuer);
END
$fn$;
COMMENT ON FUNCTION idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text) IS
'idsess_create on the partition of the key (made here when NULL); the session limit counts the subject''s sessions in that partition only';

CREATE FUNCTION idsess_get(key text)
RETURNS SETOF idsess.session
LANGUAGE plproxy VOLATILE ROWS 1
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_get(text) IS 'idsess_get on the partition of the key';

CREATE FUNCTION idsess.proxy_update(
	key text, ticket text, ticket_bytes bytea, expires timestamptz, renewed timestamptz,
	display_name text, subject_id text, session_id text, created timestamptz, scheme text,
	issuer text, new_key text, upsert boolean, idle_timeout interval, clients text[],
	client_sids text[])
RETURNS boolean
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
	TARGET idsess_update;
$$;
COMMENT ON FUNCTION idsess.proxy_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]) IS
'idsess_update on the partition of the key';

-- A rekey stays one atomic update on one shard only when the new key lies
-- in the old key's partition; moving the row to another partition would
-- take a transaction over two shards, which PL/Proxy does not have.  The
-- identity server then creates the session under the new key and deletes
-- the old one (two calls; a failure between them leaves both, never none).
CREATE FUNCTION idsess_update(
	key text,
	ticket text DEFAULT NULL,
	ticket_bytes bytea DEFAULT NULL,
	expires timestamptz DEFAULT NULL,
	renewed timestamptz DEFAULT NULL,
	display_name text DEFAULT NULL,
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	created timestamptz DEFAULT NULL,
	scheme text DEFAULT NULL,
	issuer text DEFAULT NULL,
	new_key text DEFAULT NULL,
	upsert boolean DEFAULT false,
	idle_timeout interval DEFAULT NULL,
	clients text[] DEFAULT NULL,
	client_sids text[] DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	mask integer := idsess.proxy_partitions() - 1;
BEGIN
	IF new_key IS NOT NULL AND key IS NOT NULL
	   AND (idsess.proxy_key_hash(new_key) & mask) <> (idsess.proxy_key_hash(key) & mask) THEN
		RAISE EXCEPTION 'new_key belongs to another partition than key'
			USING ERRCODE = 'feature_not_supported',
			DETAIL = pg_catalog.format('The session is in partition %s, the new key routes to partition %s; moving a session between partitions would need a transaction over two shards.',
			                           idsess.proxy_key_hash(key) & mask, idsess.proxy_key_hash(new_key) & mask),
			HINT = 'Create the session under the new key with idsess_create, then idsess_delete the old key; or choose a new key in the same partition.';
	END IF;
	RETURN idsess.proxy_update(key, ticket, ticket_bytes, expires, renewed, display_name,
		subject_id, session_id, created, scheme, issuer, new_key, upsert, idle_timeout,
		clients, client_sids);
END
$fn$;
COMMENT ON FUNCTION idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]) IS
'idsess_update on the partition of the key; a new_key routing to another partition is refused (0A000)';

CREATE FUNCTION idsess_touch(key text)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_touch(text) IS 'idsess_touch on the partition of the key';

CREATE FUNCTION idsess_delete(key text)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_delete(text) IS 'idsess_delete on the partition of the key';

CREATE FUNCTION idsess_add_client(key text, client_id text, client_sid text DEFAULT NULL)
RETURNS text[]
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_add_client(text, text, text) IS 'idsess_add_client on the partition of the key';

CREATE FUNCTION idsess_remove_client(key text, client_id text)
RETURNS text[]
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_remove_client(text, text) IS 'idsess_remove_client on the partition of the key';

CREATE FUNCTION idsess_clients(key text, sids boolean DEFAULT false)
RETURNS text[]
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_clients(text, boolean) IS 'idsess_clients on the partition of the key';

CREATE FUNCTION idsess_add_saml_session(key text, entity_id text, session_index text,
	name_id text, name_id_format text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_add_saml_session(text, text, text, text, text) IS 'idsess_add_saml_session on the partition of the key';

CREATE FUNCTION idsess_saml_sessions(key text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_saml_sessions(text) IS 'idsess_saml_sessions on the partition of the key';

CREATE FUNCTION idsess_remove_saml_session(key text, entity_id text)
RETURNS integer
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_remove_saml_session(text, text) IS 'idsess_remove_saml_session on the partition of the key';

------------------------------------------------------------------------
-- Calls by subject, sid or filter: every partition.

CREATE FUNCTION idsess_get_sessions(subject_id text DEFAULT NULL, session_id text DEFAULT NULL)
RETURNS SETOF idsess.session
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
$$;
COMMENT ON FUNCTION idsess_get_sessions(text, text) IS 'idsess_get_sessions on every partition, rows in no particular order';

CREATE FUNCTION idsess.proxy_delete_sessions(subject_id text, session_id text)
RETURNS SETOF bigint
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_delete_sessions;
$$;
COMMENT ON FUNCTION idsess.proxy_delete_sessions(text, text) IS 'idsess_delete_sessions on every partition, one count each';

CREATE FUNCTION idsess_delete_sessions(subject_id text DEFAULT NULL, session_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	n bigint;
BEGIN
	PERFORM idsess.proxy_ping();
	SELECT COALESCE(pg_catalog.sum(d), 0)::bigint INTO n
	FROM idsess.proxy_delete_sessions(idsess_delete_sessions.subject_id,
	                                  idsess_delete_sessions.session_id) AS d;
	RETURN n;
END
$fn$;
COMMENT ON FUNCTION idsess_delete_sessions(text, text) IS 'idsess_delete_sessions on every partition (all reachable first); returns the total';

CREATE FUNCTION idsess.proxy_revoke(subject_id text, session_id text, client_ids text[], reason text)
RETURNS SETOF idsess.revoked
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_revoke;
$$;
COMMENT ON FUNCTION idsess.proxy_revoke(text, text, text[], text) IS 'idsess_revoke on every partition';

-- Each shard records its part in its own audit and notifies on its own
-- idsess_revoked channel.
CREATE FUNCTION idsess_revoke(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	client_ids text[] DEFAULT NULL,
	reason text DEFAULT NULL)
RETURNS SETOF idsess.revoked
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	PERFORM idsess.proxy_ping();
	RETURN QUERY SELECT * FROM idsess.proxy_revoke(idsess_revoke.subject_id,
		idsess_revoke.session_id, idsess_revoke.client_ids, idsess_revoke.reason);
END
$fn$;
COMMENT ON FUNCTION idsess_revoke(text, text, text[], text) IS
'idsess_revoke on every partition (all reachable first); each shard audits and notifies its part';

CREATE FUNCTION idsess.proxy_take_expired(part integer, count integer, tickets boolean)
RETURNS SETOF idsess.session
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON part;
	SELECT key, scheme, subject_id, session_id, display_name, created, renewed, expires,
	       last_active, idle_timeout, clients, saml_sessions, ticket, ticket_bytes,
	       issuer, client_sids
	FROM idsess_take_expired(count, tickets);
$$;
COMMENT ON FUNCTION idsess.proxy_take_expired(integer, integer, boolean) IS 'idsess_take_expired on one partition (part is the partition number)';

CREATE FUNCTION idsess.proxy_take_logouts(part integer, count integer)
RETURNS SETOF idsess.logout
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON part;
	SELECT id, queued, cause, subject_id, session_id, clients, saml_sessions, issuer, client_sids
	FROM idsess_take_logouts(count);
$$;
COMMENT ON FUNCTION idsess.proxy_take_logouts(integer, integer) IS 'idsess_take_logouts on one partition (part is the partition number)';

-- Taking removes rows for good on each shard as its call commits, so the
-- partitions are asked one after the other for what is still wanted, never
-- for more than is returned.  A partition that cannot be reached is skipped
-- with a warning rather than failing the call: failing would lose what the
-- partitions before it already gave up.  The first partition asked turns
-- with the calls, so that no partition waits behind another's backlog.
CREATE FUNCTION idsess_take_expired(count integer DEFAULT 100, tickets boolean DEFAULT false)
RETURNS SETOF idsess.session
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	parts integer := idsess.proxy_partitions();
	wanted integer := CASE WHEN count IS NULL OR count <= 0 THEN 100 ELSE count END;
	start_at integer := pg_catalog.floor(pg_catalog.random() * parts)::integer;
	got integer;
	failed integer := 0;
	p integer;
BEGIN
	IF wanted > 100000 THEN
		RAISE EXCEPTION 'count must be at most 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR i IN 0 .. parts - 1 LOOP
		EXIT WHEN wanted = 0;
		p := (start_at + i) % parts;
		BEGIN
			RETURN QUERY SELECT * FROM idsess.proxy_take_expired(p, wanted, COALESCE(tickets, false));
			GET DIAGNOSTICS got = ROW_COUNT;
			wanted := wanted - got;
		EXCEPTION WHEN OTHERS THEN
			failed := failed + 1;
			RAISE WARNING 'idsess_take_expired skipped partition %: %', p, SQLERRM;
			IF failed = parts THEN
				RAISE;
			END IF;
		END;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION idsess_take_expired(integer, boolean) IS
'idsess_take_expired over the partitions in turn, up to count in all; an unreachable partition is skipped with a warning';

CREATE FUNCTION idsess_take_logouts(count integer DEFAULT 100)
RETURNS SETOF idsess.logout
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	parts integer := idsess.proxy_partitions();
	wanted integer := CASE WHEN count IS NULL OR count <= 0 THEN 100 ELSE count END;
	start_at integer := pg_catalog.floor(pg_catalog.random() * parts)::integer;
	got integer;
	failed integer := 0;
	p integer;
BEGIN
	IF wanted > 100000 THEN
		RAISE EXCEPTION 'count must be at most 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR i IN 0 .. parts - 1 LOOP
		EXIT WHEN wanted = 0;
		p := (start_at + i) % parts;
		BEGIN
			RETURN QUERY SELECT * FROM idsess.proxy_take_logouts(p, wanted);
			GET DIAGNOSTICS got = ROW_COUNT;
			wanted := wanted - got;
		EXCEPTION WHEN OTHERS THEN
			failed := failed + 1;
			RAISE WARNING 'idsess_take_logouts skipped partition %: %', p, SQLERRM;
			IF failed = parts THEN
				RAISE;
			END IF;
		END;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION idsess_take_logouts(integer) IS
'idsess_take_logouts over the partitions in turn, up to count in all (ids are unique per shard only); an unreachable partition is skipped with a warning';

------------------------------------------------------------------------
-- Admin search: pages merged from every partition.

CREATE FUNCTION idsess.proxy_page(
	subject_id text, session_id text, display_name text, client_id text,
	count integer, after_created timestamptz, after_key text, prior boolean)
RETURNS SETOF idsess.query_row
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_shard_page;
$$;
COMMENT ON FUNCTION idsess.proxy_page(text, text, text, text, integer, timestamptz, text, boolean) IS
'idsess_shard_page on every partition: each one''s next (or prior) rows in (created, key) order';

-- The shard's own idsess_query counts, so that the sum counts what one
-- store would (including its client-index shortcut).
CREATE FUNCTION idsess.proxy_count(subject_id text, session_id text, display_name text, client_id text)
RETURNS SETOF bigint
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	SELECT COALESCE((SELECT q.total_count
	                 FROM idsess_query(subject_id, session_id, display_name, client_id, 1) q), 0);
$$;
COMMENT ON FUNCTION idsess.proxy_count(text, text, text, text) IS 'Each partition''s idsess_query total_count for these filters';

-- One store pages by its internal id, which follows creation; the proxy
-- pages by (created, key), the same order for sessions created as they
-- happen, and one that every shard can apply.  A page is the first count
-- rows of the merged shards' next count + 1 rows (the extra row tells
-- whether there is a next page), and its token carries the page's first
-- and last (created, key), the page number, the first page's count and a
-- hash of the filters: the token is the proxy's own, not a shard's.
CREATE FUNCTION idsess_query(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	display_name text DEFAULT NULL,
	client_id text DEFAULT NULL,
	count integer DEFAULT 25,
	results_token text DEFAULT NULL,
	prior boolean DEFAULT false,
	tickets boolean DEFAULT false)
RETURNS SETOF idsess.query_row
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	n integer := CASE WHEN count IS NULL OR count <= 0 THEN 25 ELSE count END;
	back boolean := COALESCE(prior, false);
	fhash text := md5(format('%L/%L/%L/%L', subject_id, session_id, display_name, client_id));
	tok jsonb;
	total bigint;
	page integer;
	found_rows idsess.query_row[];
	got integer;
	more_before boolean;
	more_after boolean;
	first_row idsess.query_row;
	last_row idsess.query_row;
	out_token text;
	pages integer;
BEGIN
	IF n > 1000 THEN
		RAISE EXCEPTION 'count must be at most 1000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF results_token IS NOT NULL THEN
		BEGIN
			tok := convert_from(decode(translate(results_token, '-_', '+/'), 'base64'), 'UTF8')::jsonb;
			IF tok->>'v' IS DISTINCT FROM 'proxy1' OR (tok->>'p')::integer IS NULL
			   OR (tok->>'t')::bigint IS NULL OR (tok->>'fc')::timestamptz IS NULL
			   OR (tok->>'lc')::timestamptz IS NULL OR tok->>'fk' IS NULL OR tok->>'lk' IS NULL THEN
				tok := NULL;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			tok := NULL;
		END;
		IF tok IS NULL THEN
			RAISE EXCEPTION 'results token is not valid' USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Pass results_token exactly as a previous idsess_query() returned it, or NULL for the first page.';
		END IF;
		IF tok->>'h' IS DISTINCT FROM fhash THEN
			RAISE EXCEPTION 'results token belongs to a different search' USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Pass the same filters as the search that returned the token.';
		END IF;
		total := (tok->>'t')::bigint;
	ELSIF back THEN
		RAISE EXCEPTION 'prior needs a results token' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'The first page has no prior page; pass the token of the page to go back from.';
	ELSE
		SELECT COALESCE(sum(c), 0)::bigint INTO total
		FROM idsess.proxy_count(idsess_query.subject_id, idsess_query.session_id,
		                        idsess_query.display_name, idsess_query.client_id) AS c;
	END IF;

	-- Rows kept in the order read: ascending forward, descending backward.
	IF back THEN
		SELECT array_agg(x.r ORDER BY (x.r).created DESC, (x.r).key COLLATE "C" DESC) INTO found_rows
		FROM (SELECT r FROM idsess.proxy_page(idsess_query.subject_id, idsess_query.session_id,
		                                      idsess_query.display_name, idsess_query.client_id, n + 1,
		                                      (tok->>'fc')::timestamptz, tok->>'fk', true) AS r
		      ORDER BY r.created DESC, r.key COLLATE "C" DESC LIMIT n + 1) AS x;
	ELSE
		SELECT array_agg(x.r ORDER BY (x.r).created, (x.r).key COLLATE "C") INTO found_rows
		FROM (SELECT r FROM idsess.proxy_page(idsess_query.subject_id, idsess_query.session_id,
		                                      idsess_query.display_name, idsess_query.client_id, n + 1,
		                                      (tok->>'lc')::timestamptz, tok->>'lk', false) AS r
		      ORDER BY r.created, r.key COLLATE "C" LIMIT n + 1) AS x;
	END IF;
	got := COALESCE(cardinality(found_rows), 0);

	IF back THEN
		more_before := got > n;
		more_after := true;
		page := CASE WHEN more_before THEN greatest((tok->>'p')::integer - 1, 2) ELSE 1 END;
	ELSE
		more_before := tok IS NOT NULL;
		more_after := got > n;
		page := CASE WHEN tok IS NULL THEN 1 ELSE (tok->>'p')::integer + 1 END;
	END IF;
	IF got = 0 THEN
		RETURN;
	END IF;
	got := least(got, n);
	IF back THEN
		first_row := found_rows[got];
		last_row := found_rows[1];
	ELSE
		first_row := found_rows[1];
		last_row := found_rows[got];
	END IF;
	out_token := translate(encode(convert_to(jsonb_build_object(
		'v', 'proxy1', 'h', fhash, 'p', page, 't', total,
		'fc', first_row.created, 'fk', first_row.key,
		'lc', last_row.created, 'lk', last_row.key)::text, 'UTF8'), 'base64'), E'+/\n', '-_');
	pages := greatest(((total + n - 1) / n)::integer, page);

	IF NOT COALESCE(tickets, false) THEN
		RETURN QUERY
		SELECT r.key, r.scheme, r.subject_id, r.session_id, r.display_name, r.created, r.renewed,
		       r.expires, r.last_active, r.clients, out_token, more_before, more_after, total, pages, page,
		       r.issuer, r.client_sids, NULL::text, NULL::bytea
		FROM unnest(found_rows[1:got]) AS r
		ORDER BY r.created, r.key COLLATE "C";
		RETURN;
	END IF;
	-- Tickets are opened by idsess_get on each row's partition, as the
	-- calling role, so idsess's rule (idsess_service only) holds there too.
	RETURN QUERY
	SELECT r.key, r.scheme, r.subject_id, r.session_id, r.display_name, r.created, r.renewed,
	       r.expires, r.last_active, r.clients, out_token, more_before, more_after, total, pages, page,
	       r.issuer, r.client_sids, g.ticket, g.ticket_bytes
	FROM unnest(found_rows[1:got]) AS r
	LEFT JOIN LATERAL @extschema@.idsess_get(r.key) AS g ON true
	ORDER BY r.created, r.key COLLATE "C";
END
$fn$;
COMMENT ON FUNCTION idsess_query(text, text, text, text, integer, text, boolean, boolean) IS
'Admin search over every partition, as idsess_query: pages in (created, key) order merged from the shards, counts summed once for the first page; tickets: opened by one idsess_get per row';

------------------------------------------------------------------------
-- Workers and reports: every partition, merged.

-- A shard server shows the workers of all its databases; each partition
-- reports only its own, so that a server holding several partitions does
-- not list its workers twice.
CREATE FUNCTION idsess_worker_status(
	OUT pid integer,
	OUT database name,
	OUT state text,
	OUT started timestamptz,
	OUT last_run timestamptz,
	OUT last_removed bigint,
	OUT total_removed bigint,
	OUT next_due timestamptz,
	OUT last_error text,
	OUT last_error_at timestamptz,
	OUT paced_batches bigint,
	OUT paced_ms bigint)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	SELECT * FROM idsess_worker_status() w WHERE w.database = pg_catalog.current_database();
$$;
COMMENT ON FUNCTION idsess_worker_status() IS 'The expiry worker of every partition (a shard server''s workers of other databases are left out)';

CREATE VIEW idsess.workers AS SELECT * FROM idsess_worker_status();
COMMENT ON VIEW idsess.workers IS 'One row per expiry worker of the shards: pid, database, state, last run, removals, next due time, last error, pauses between backlog batches';

CREATE FUNCTION idsess.proxy_report_active(
	OUT active_sessions bigint, OUT subjects bigint, OUT with_idle_timeout bigint,
	OUT never_expire bigint, OUT expiring_within_1h bigint)
RETURNS SETOF record
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_active;
$$;
COMMENT ON FUNCTION idsess.proxy_report_active() IS 'idsess_report_active of every partition';

CREATE FUNCTION idsess_report_active(
	OUT active_sessions bigint, OUT subjects bigint, OUT with_idle_timeout bigint,
	OUT never_expire bigint, OUT expiring_within_1h bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT COALESCE(sum(a.active_sessions), 0)::bigint, COALESCE(sum(a.subjects), 0)::bigint,
	       COALESCE(sum(a.with_idle_timeout), 0)::bigint, COALESCE(sum(a.never_expire), 0)::bigint,
	       COALESCE(sum(a.expiring_within_1h), 0)::bigint
	FROM idsess.proxy_report_active() a
$fn$;
COMMENT ON FUNCTION idsess_report_active() IS
'idsess_report_active summed over the partitions; a subject with sessions in k partitions counts k times in subjects';

CREATE FUNCTION idsess.proxy_report_clients()
RETURNS TABLE (client_id text, sessions bigint)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_clients;
$$;
COMMENT ON FUNCTION idsess.proxy_report_clients() IS 'idsess_report_clients of every partition';

CREATE FUNCTION idsess_report_clients()
RETURNS TABLE (client_id text, sessions bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT c.client_id, sum(c.sessions)::bigint FROM idsess.proxy_report_clients() c
	GROUP BY c.client_id ORDER BY 2 DESC, 1
$fn$;
COMMENT ON FUNCTION idsess_report_clients() IS 'Sessions per client application, summed over the partitions';

CREATE FUNCTION idsess.proxy_report_schemes()
RETURNS TABLE (scheme text, sessions bigint)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_schemes;
$$;
COMMENT ON FUNCTION idsess.proxy_report_schemes() IS 'idsess_report_schemes of every partition';

CREATE FUNCTION idsess_report_schemes()
RETURNS TABLE (scheme text, sessions bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT s.scheme, sum(s.sessions)::bigint FROM idsess.proxy_report_schemes() s
	GROUP BY s.scheme ORDER BY 2 DESC, 1
$fn$;
COMMENT ON FUNCTION idsess_report_schemes() IS 'Live sessions per authentication scheme, summed over the partitions';

CREATE FUNCTION idsess.proxy_report_history(since timestamptz, until timestamptz)
RETURNS TABLE (hour timestamptz, created bigint, expired bigint, idle bigint,
               revoked bigint, deleted bigint, limited bigint)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_history;
$$;
COMMENT ON FUNCTION idsess.proxy_report_history(timestamptz, timestamptz) IS 'idsess_report_history of every partition';

CREATE FUNCTION idsess_report_history(
	since timestamptz DEFAULT pg_catalog.now() - interval '1 day',
	until timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (hour timestamptz, created bigint, expired bigint, idle bigint,
               revoked bigint, deleted bigint, limited bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT h.hour, sum(h.created)::bigint, sum(h.expired)::bigint, sum(h.idle)::bigint,
	       sum(h.revoked)::bigint, sum(h.deleted)::bigint, sum(h.limited)::bigint
	FROM idsess.proxy_report_history($1, $2) h
	GROUP BY h.hour ORDER BY h.hour
$fn$;
COMMENT ON FUNCTION idsess_report_history(timestamptz, timestamptz) IS
'Per hour between since and until, the shards'' counts summed: created, expired, idle, revoked, deleted, limited';

CREATE FUNCTION idsess.proxy_report_expiring(minutes integer)
RETURNS TABLE (subject_id text, display_name text, sid text, clients text, expires_in interval)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_expiring;
$$;
COMMENT ON FUNCTION idsess.proxy_report_expiring(integer) IS 'idsess_report_expiring of every partition';

CREATE FUNCTION idsess_report_expiring(minutes integer DEFAULT 15)
RETURNS TABLE (subject_id text, display_name text, sid text, clients text, expires_in interval)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT e.subject_id, e.display_name, e.sid, e.clients, e.expires_in
	FROM idsess.proxy_report_expiring($1) e
	ORDER BY e.expires_in, e.subject_id, e.sid
$fn$;
COMMENT ON FUNCTION idsess_report_expiring(integer) IS
'Live sessions of every partition that expire (or go idle) within the next N minutes, soonest first (to the second)';

CREATE FUNCTION idsess.proxy_report_age()
RETURNS TABLE (age text, sessions bigint)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_age;
$$;
COMMENT ON FUNCTION idsess.proxy_report_age() IS 'idsess_report_age of every partition';

CREATE FUNCTION idsess_report_age()
RETURNS TABLE (age text, sessions bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT a.age, sum(a.sessions)::bigint FROM idsess.proxy_report_age() a
	GROUP BY a.age
	ORDER BY array_position(ARRAY['under 5 minutes', '5 to 60 minutes', '1 to 8 hours',
	                              '8 to 24 hours', '1 to 7 days', '7 days or more'], a.age)
$fn$;
COMMENT ON FUNCTION idsess_report_age() IS 'Live sessions by age in six buckets, summed over the partitions';

------------------------------------------------------------------------
-- Privileges: as in idsess.  Nothing to PUBLIC; the three roles (made if
-- this cluster has none yet) get the functions of their jobs, and the
-- routing helpers those functions call, since everything runs with the
-- caller's rights.

DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['idsess_service', 'idsess_admin', 'idsess_reporting'] LOOP
		IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$roles$;

DO $revoke$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT d.objid::regprocedure FROM pg_catalog.pg_depend d
		WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
		  AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'idsess_proxy')
		  AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$revoke$;

GRANT USAGE ON SCHEMA idsess TO idsess_service, idsess_admin, idsess_reporting;
GRANT EXECUTE ON FUNCTION idsess.proxy_partitions(), idsess.proxy_ping(), idsess.proxy_key_hash(text)
	TO idsess_service, idsess_admin, idsess_reporting;

GRANT EXECUTE ON FUNCTION
	idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text),
	idsess.proxy_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text),
	idsess_get(text),
	idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]),
	idsess.proxy_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]),
	idsess_touch(text),
	idsess_delete(text),
	idsess_get_sessions(text, text),
	idsess_delete_sessions(text, text),
	idsess.proxy_delete_sessions(text, text),
	idsess_take_expired(integer, boolean),
	idsess.proxy_take_expired(integer, integer, boolean),
	idsess_add_client(text, text, text),
	idsess_remove_client(text, text),
	idsess_clients(text, boolean),
	idsess_add_saml_session(text, text, text, text, text),
	idsess_saml_sessions(text),
	idsess_remove_saml_session(text, text),
	idsess_query(text, text, text, text, integer, text, boolean, boolean),
	idsess.proxy_page(text, text, text, text, integer, timestamptz, text, boolean),
	idsess.proxy_count(text, text, text, text),
	idsess_revoke(text, text, text[], text),
	idsess.proxy_revoke(text, text, text[], text),
	idsess_take_logouts(integer),
	idsess.proxy_take_logouts(integer, integer)
TO idsess_service;

GRANT EXECUTE ON FUNCTION
	idsess_delete(text),
	idsess_delete_sessions(text, text),
	idsess.proxy_delete_sessions(text, text),
	idsess_clients(text, boolean),
	idsess_saml_sessions(text),
	idsess_query(text, text, text, text, integer, text, boolean, boolean),
	idsess.proxy_page(text, text, text, text, integer, timestamptz, text, boolean),
	idsess.proxy_count(text, text, text, text),
	idsess_revoke(text, text, text[], text),
	idsess.proxy_revoke(text, text, text[], text),
	idsess_worker_status()
TO idsess_admin;
GRANT SELECT ON idsess.workers TO idsess_admin, idsess_reporting;

GRANT EXECUTE ON FUNCTION
	idsess_worker_status(),
	idsess_report_active(),
	idsess.proxy_report_active(),
	idsess_report_clients(),
	idsess.proxy_report_clients(),
	idsess_report_schemes(),
	idsess.proxy_report_schemes(),
	idsess_report_history(timestamptz, timestamptz),
	idsess.proxy_report_history(timestamptz, timestamptz),
	idsess_report_expiring(integer),
	idsess.proxy_report_expiring(integer),
	idsess_report_age(),
	idsess.proxy_report_age()
TO idsess_reporting, idsess_admin;
