/* idsess_proxy--1.1--1.2.sql: a proxy as safe as one store */

\echo Use "ALTER EXTENSION idsess_proxy UPDATE TO '1.2'" to load this file. \quit

-- PL/Proxy names a partition pN or partition_N: count both.
CREATE OR REPLACE FUNCTION idsess.proxy_partitions()
RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.count(*)::integer
        FROM pg_catalog.pg_foreign_server s, pg_catalog.unnest(s.srvoptions) AS o(opt)
        WHERE s.srvname = 'idsess_shards' AND o.opt ~ '^(p|partition_)[0-9]+=');

------------------------------------------------------------------------
-- Results tokens, authenticated.  A token is base64url(fields) '.'
-- base64url(HMAC-SHA256 of the fields) under a key of this database, made
-- when the extension is; it carries page numbers, counts and the bounds of
-- its page as (created, SHA-256 of the key), never a session key.  A token
-- changed on its way through an admin console fails.  The key is readable
-- only through the two functions below, which the roles that page may
-- call: a role that can call idsess_query can make tokens, no one else.
-- Not dumped: a restored proxy makes a new key, and old tokens fail as
-- tokens of another search do.

CREATE TABLE idsess.proxy_token_key (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	inner_pad bytea NOT NULL CHECK (octet_length(inner_pad) = 64),
	outer_pad bytea NOT NULL CHECK (octet_length(outer_pad) = 64)
);
COMMENT ON TABLE idsess.proxy_token_key IS 'The HMAC key of the proxy''s results tokens, as its two padded blocks';
REVOKE ALL ON idsess.proxy_token_key FROM PUBLIC;

-- 256 bits from three random UUIDs (366 random bits), in HMAC's two pads.
DO $key$
DECLARE
	k bytea := pg_catalog.sha256(pg_catalog.convert_to(
		gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
		|| pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
	ipad bytea := k;
	opad bytea := k;
BEGIN
	FOR i IN 0 .. 63 LOOP
		ipad := pg_catalog.set_byte(ipad, i, pg_catalog.get_byte(k, i) # 54);
		opad := pg_catalog.set_byte(opad, i, pg_catalog.get_byte(k, i) # 92);
	END LOOP;
	INSERT INTO idsess.proxy_token_key (inner_pad, outer_pad) VALUES (ipad, opad);
END
$key$;

CREATE FUNCTION idsess.proxy_token_seal(fields jsonb)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT pg_catalog.translate(pg_catalog.encode(m, 'base64'), E'+/=\n', '-_') || '.' ||
	       pg_catalog.translate(pg_catalog.encode(
	           pg_catalog.sha256(k.outer_pad || pg_catalog.sha256(k.inner_pad || m)), 'base64'), E'+/=\n', '-_')
	FROM idsess.proxy_token_key k, pg_catalog.convert_to(fields::text, 'UTF8') AS m
$fn$;
COMMENT ON FUNCTION idsess.proxy_token_seal(jsonb) IS 'A results token of these fields, under the proxy''s token key';

-- The fields of a token made by proxy_token_seal, or NULL for anything
-- else (another spelling of the same bytes included).  The tags are compared through a second hash, so that how long
-- the comparison takes says nothing about the right tag.
CREATE FUNCTION idsess.proxy_token_open(token text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	parts text[] := string_to_array(token, '.');
	m bytea;
	tag bytea;
	k idsess.proxy_token_key;
BEGIN
	IF token IS NULL OR octet_length(token) > 2048 OR cardinality(parts) <> 2 THEN
		RETURN NULL;
	END IF;
	BEGIN
		m := decode(rpad(translate(parts[1], '-_', '+/'), (octet_length(parts[1]) + 3) / 4 * 4, '='), 'base64');
		tag := decode(rpad(translate(parts[2], '-_', '+/'), (octet_length(parts[2]) + 3) / 4 * 4, '='), 'base64');
	EXCEPTION WHEN OTHERS THEN
		RETURN NULL;
	END;
	-- Only the one spelling proxy_token_seal writes: base64 lets a few
	-- others decode to the same bytes.
	IF translate(encode(m, 'base64'), E'+/=\n', '-_') IS DISTINCT FROM parts[1]
	   OR translate(encode(tag, 'base64'), E'+/=\n', '-_') IS DISTINCT FROM parts[2] THEN
		RETURN NULL;
	END IF;
	SELECT * INTO k FROM idsess.proxy_token_key;
	IF sha256(tag) <> sha256(sha256(k.outer_pad || sha256(k.inner_pad || m))) THEN
		RETURN NULL;
	END IF;
	RETURN convert_from(m, 'UTF8')::jsonb;
END
$fn$;
COMMENT ON FUNCTION idsess.proxy_token_open(text) IS 'The fields of a results token made by this proxy, or NULL when it was not';

-- idsess 1.2's search row, column for column: query_row's and the strength
-- of the sign-in.
CREATE TYPE idsess.search_row AS (
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
	ticket_bytes bytea,
	acr text,
	amr text[],
	auth_time timestamptz
);
COMMENT ON TYPE idsess.search_row IS 'One row of an idsess_query() page from 1.2 (as in idsess): query_row''s columns and the strength of the sign-in (acr, amr, auth_time)';

CREATE FUNCTION idsess.proxy_page_by_hash(
	subject_id text, session_id text, display_name text, client_id text,
	count integer, after_created timestamptz, after_hash bytea, prior boolean)
RETURNS SETOF idsess.search_row
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_shard_page_by_hash;
$$;
COMMENT ON FUNCTION idsess.proxy_page_by_hash(text, text, text, text, integer, timestamptz, bytea, boolean) IS
'idsess_shard_page_by_hash on every partition: each one''s next (or prior) rows in (created, key hash) order';

-- The key's hash as the shards order by it.
CREATE FUNCTION idsess.proxy_key_order(key text)
RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.sha256(pg_catalog.convert_to(key, 'UTF8'));
COMMENT ON FUNCTION idsess.proxy_key_order(text) IS 'The SHA-256 of a session key, the proxy''s tie-break after created';

-- One store pages by its internal id, which follows creation; the proxy
-- pages by (created, SHA-256 of the key), the same order as far as
-- created goes, and one that every shard can apply.  A page is the first
-- count rows of the merged shards' next count + 1 rows (the extra row tells
-- whether there is a next page).  Its token carries the page's first and
-- last bounds, the page number and the first page's total, under the
-- filters' hash, authenticated (proxy_token_seal).  Its rows are 1.2's, as
-- idsess's: a new return type, so the function is made again.
DROP FUNCTION idsess_query(text, text, text, text, integer, text, boolean, boolean);
CREATE FUNCTION idsess_query(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	display_name text DEFAULT NULL,
	client_id text DEFAULT NULL,
	count integer DEFAULT 25,
	results_token text DEFAULT NULL,
	prior boolean DEFAULT false,
	tickets boolean DEFAULT false)
RETURNS SETOF idsess.search_row
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	n integer := CASE WHEN count IS NULL OR count <= 0 THEN 25 ELSE count END;
	back boolean := COALESCE(prior, false);
	fhash text := encode(sha256(convert_to(format('%L/%L/%L/%L', subject_id, session_id,
	                                              display_name, client_id), 'UTF8')), 'hex');
	tok jsonb;
	tok_page integer;
	total bigint;
	page integer;
	found_rows idsess.search_row[];
	opened idsess.search_row[];
	got integer;
	more_before boolean;
	more_after boolean;
	first_row idsess.search_row;
	last_row idsess.search_row;
	cur idsess.search_row;
	out_token text;
	pages integer;
	bound bigint;
	opened_bytes bigint;
	caller_work_mem text;
BEGIN
	IF n > 1000 THEN
		RAISE EXCEPTION 'count must be at most 1000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF results_token IS NOT NULL THEN
		tok := idsess.proxy_token_open(results_token);
		BEGIN
			tok_page := (tok->>'p')::integer;
			IF tok->>'v' IS DISTINCT FROM 'proxy2' OR tok_page IS NULL
			   OR tok_page < 1 OR tok_page >= 2147483647
			   OR (tok->>'t')::bigint IS NULL OR (tok->>'t')::bigint < 0
			   OR (tok->>'fc')::timestamptz IS NULL OR (tok->>'lc')::timestamptz IS NULL
			   OR octet_length(decode(tok->>'fh', 'hex')) IS DISTINCT FROM 32
			   OR octet_length(decode(tok->>'lh', 'hex')) IS DISTINCT FROM 32 THEN
				tok := NULL;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			tok := NULL;
		END;
		IF tok IS NULL THEN
			RAISE EXCEPTION 'results token is not valid' USING ERRCODE = 'invalid_parameter_value',
				DETAIL = 'It was not made by this proxy, or was changed since.',
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
	-- Nothing comes before the first page, as Duende's stores answer.
	IF back AND tok_page = 1 THEN
		RETURN;
	END IF;

	-- Rows kept in the order read: ascending forward, descending backward.
	IF back THEN
		SELECT array_agg(x.r ORDER BY (x.r).created DESC, idsess.proxy_key_order((x.r).key) DESC) INTO found_rows
		FROM (SELECT r FROM idsess.proxy_page_by_hash(idsess_query.subject_id, idsess_query.session_id,
		                                              idsess_query.display_name, idsess_query.client_id, n + 1,
		                                              (tok->>'fc')::timestamptz, decode(tok->>'fh', 'hex'), true) AS r
		      ORDER BY r.created DESC, idsess.proxy_key_order(r.key) DESC LIMIT n + 1) AS x;
	ELSE
		SELECT array_agg(x.r ORDER BY (x.r).created, idsess.proxy_key_order((x.r).key)) INTO found_rows
		FROM (SELECT r FROM idsess.proxy_page_by_hash(idsess_query.subject_id, idsess_query.session_id,
		                                              idsess_query.display_name, idsess_query.client_id, n + 1,
		                                              (tok->>'lc')::timestamptz, decode(tok->>'lh', 'hex'), false) AS r
		      ORDER BY r.created, idsess.proxy_key_order(r.key) LIMIT n + 1) AS x;
	END IF;
	got := COALESCE(cardinality(found_rows), 0);

	IF back THEN
		more_before := got > n;
		more_after := true;
		page := CASE WHEN more_before THEN greatest(tok_page - 1, 2) ELSE 1 END;
	ELSE
		more_before := tok IS NOT NULL;
		more_after := got > n;
		page := CASE WHEN tok IS NULL THEN 1 ELSE tok_page + 1 END;
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
	-- The next page's number must fit: the last page there can be is one less.
	IF page >= 2147483647 THEN
		RAISE EXCEPTION 'there are no more pages' USING ERRCODE = 'program_limit_exceeded';
	END IF;
	out_token := idsess.proxy_token_seal(jsonb_build_object(
		'v', 'proxy2', 'h', fhash, 'p', page, 't', total,
		'fc', first_row.created, 'fh', encode(idsess.proxy_key_order(first_row.key), 'hex'),
		'lc', last_row.created, 'lh', encode(idsess.proxy_key_order(last_row.key), 'hex')));
	pages := least(greatest((total + n - 1) / n, page), 2147483647)::integer;

	IF NOT COALESCE(tickets, false) THEN
		RETURN QUERY
		SELECT r.key, r.scheme, r.subject_id, r.session_id, r.display_name, r.created, r.renewed,
		       r.expires, r.last_active, r.clients, out_token, more_before, more_after, total, pages, page,
		       r.issuer, r.client_sids, NULL::text, NULL::bytea, r.acr, r.amr, r.auth_time
		FROM unnest(found_rows[1:got]) AS r
		ORDER BY r.created, idsess.proxy_key_order(r.key);
		RETURN;
	END IF;
	-- Tickets are opened by idsess_get on each row's partition, as the
	-- calling role, so idsess's rule (idsess_service only) holds there too.
	-- Each is fetched with idsess_get in a select list, which hands its row
	-- over without a tuplestore (one in FROM would be materialized, and
	-- spill past work_mem), gathered in memory and counted against the
	-- bound of one call as idsess counts it (work_mem or 64 MB, 16 tickets
	-- of idsess's default idsess.max_ticket_size, whichever is more); the
	-- result's own store then gets a work_mem that holds them, for the one
	-- statement that fills it.
	bound := greatest(pg_size_bytes(current_setting('work_mem')), 64 * 1024 * 1024);
	opened := '{}';
	opened_bytes := 0;
	FOR i IN 1 .. got LOOP
		cur := found_rows[CASE WHEN back THEN got + 1 - i ELSE i END];
		SELECT (x.g).ticket, (x.g).ticket_bytes INTO cur.ticket, cur.ticket_bytes
		FROM (SELECT @extschema@.idsess_get(cur.key) AS g) AS x;
		opened_bytes := opened_bytes + COALESCE(octet_length(cur.ticket), 0)
		                             + COALESCE(octet_length(cur.ticket_bytes), 0);
		IF opened_bytes > bound THEN
			RAISE EXCEPTION 'the sessions'' tickets are too large to return at once'
				USING ERRCODE = 'program_limit_exceeded',
				DETAIL = format('One call returns at most %s kB of tickets.', bound / 1024),
				HINT = 'Open them one at a time with idsess_get, or raise work_mem.';
		END IF;
		cur.results_token := out_token;
		cur.has_prev := more_before;
		cur.has_next := more_after;
		cur.total_count := total;
		cur.total_pages := pages;
		cur.current_page := page;
		opened := opened || cur;
	END LOOP;
	caller_work_mem := current_setting('work_mem');
	-- Room for the tickets twice over (each row's memory is rounded up)
	-- plus the rows themselves.
	PERFORM set_config('work_mem', (2 * opened_bytes / 1024 + got * 8 + 1024)::text || 'kB', true);
	RETURN QUERY SELECT * FROM unnest(opened);
	PERFORM set_config('work_mem', caller_work_mem, true);
END
$fn$;
COMMENT ON FUNCTION idsess_query(text, text, text, text, integer, text, boolean, boolean) IS
'Admin search over every partition, as idsess_query: pages in (created, key hash) order merged from the shards, counts summed once for the first page, results tokens authenticated and free of session keys; tickets: opened by one idsess_get per row, bounded and kept in memory; rows show the strength of the sign-in';

-- 1.1's page function and token, replaced by the ones above.
DROP FUNCTION idsess.proxy_page(text, text, text, text, integer, timestamptz, text, boolean);

------------------------------------------------------------------------
-- Back-channel logouts, at least once through the proxy as on one store.
-- A shard call commits on its own, so the rows a shard gives are only
-- claimed there (for idsess_proxy.logout_lease, 5 minutes by default);
-- the proxy notes them in idsess.proxy_logout_acks in the caller's
-- transaction, and a later idsess_take_logouts (any caller's) deletes on
-- the shards what a committed transaction noted.  A caller that rolls back
-- or dies notes nothing, and its rows come back when the lease ends.

CREATE TABLE idsess.proxy_logout_acks (
	part integer NOT NULL,
	id bigint NOT NULL,
	xact bigint NOT NULL DEFAULT pg_catalog.txid_current(),
	PRIMARY KEY (part, id)
);
COMMENT ON TABLE idsess.proxy_logout_acks IS
'Back-channel logouts taken by committed transactions (partition, outbox id on that shard), still to delete from their shard';
REVOKE ALL ON idsess.proxy_logout_acks FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON idsess.proxy_logout_acks TO idsess_service;

CREATE FUNCTION idsess.proxy_claim_logouts(part integer, count integer, lease interval)
RETURNS SETOF idsess.logout
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON part;
	SELECT id, queued, cause, subject_id, session_id, clients, saml_sessions, issuer, client_sids
	FROM idsess_shard_claim_logouts(count, lease);
$$;
COMMENT ON FUNCTION idsess.proxy_claim_logouts(integer, integer, interval) IS
'idsess_shard_claim_logouts on one partition (part is the partition number)';

CREATE FUNCTION idsess.proxy_ack_logouts(part integer, ids bigint[])
RETURNS integer
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON part;
	SELECT idsess_shard_ack_logouts(ids);
$$;
COMMENT ON FUNCTION idsess.proxy_ack_logouts(integer, bigint[]) IS
'idsess_shard_ack_logouts on one partition (part is the partition number)';

CREATE OR REPLACE FUNCTION idsess_take_logouts(count integer DEFAULT 100)
RETURNS SETOF idsess.logout
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	parts integer := idsess.proxy_partitions();
	wanted integer := CASE WHEN count IS NULL OR count <= 0 THEN 100 ELSE count END;
	lease interval := COALESCE(NULLIF(current_setting('idsess_proxy.logout_lease', true), ''), '5 minutes')::interval;
	start_at integer := floor(random() * parts)::integer;
	taken idsess.logout[];
	done record;
	got integer;
	failed integer := 0;
	p integer;
BEGIN
	IF wanted > 100000 THEN
		RAISE EXCEPTION 'count must be at most 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- What committed transactions took: delivered, so deleted on the shards.
	-- This transaction's own notes wait for its commit.
	FOR done IN
		SELECT a.part, array_agg(a.id) AS ids
		FROM (SELECT k.part, k.id FROM idsess.proxy_logout_acks k
		      WHERE k.xact <> txid_current() FOR UPDATE SKIP LOCKED) a
		GROUP BY a.part
	LOOP
		BEGIN
			PERFORM idsess.proxy_ack_logouts(done.part, done.ids);
			DELETE FROM idsess.proxy_logout_acks k WHERE k.part = done.part AND k.id = ANY (done.ids);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'idsess_take_logouts could not remove delivered logouts from partition %: %', done.part, SQLERRM;
		END;
	END LOOP;
	FOR i IN 0 .. parts - 1 LOOP
		EXIT WHEN wanted = 0;
		p := (start_at + i) % parts;
		BEGIN
			SELECT array_agg(l ORDER BY l.id) INTO taken FROM idsess.proxy_claim_logouts(p, wanted, lease) l;
			got := COALESCE(cardinality(taken), 0);
			INSERT INTO idsess.proxy_logout_acks (part, id)
			SELECT p, t.id FROM unnest(taken) t
			ON CONFLICT (part, id) DO UPDATE SET xact = EXCLUDED.xact;
			RETURN QUERY SELECT * FROM unnest(taken);
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
'idsess_take_logouts over the partitions in turn, up to count in all (ids are unique per shard only), at least once: a caller that rolls back gets the rows again after idsess_proxy.logout_lease; an unreachable partition is skipped with a warning';

DROP FUNCTION idsess.proxy_take_logouts(integer, integer);

------------------------------------------------------------------------
-- Expired sessions, at least once through the proxy as on one store (the
-- shards run idsess 1.2): a shard only claims the sessions it gives (for
-- idsess_proxy.expired_lease, 5 minutes by default), the proxy notes them
-- in idsess.proxy_expired_acks in the caller's transaction, and a later
-- idsess_take_expired (any caller's) has the shards remove what a
-- committed transaction noted.  A caller that rolls back or dies notes
-- nothing, and its sessions come back when the lease ends (or the shard's
-- worker expires them into its outbox).  The notes hold the keys of
-- expired sessions, which no longer open anything, for the minutes until
-- the next call; only idsess_service reads them.
CREATE TABLE idsess.proxy_expired_acks (
	part integer NOT NULL,
	key text NOT NULL,
	xact bigint NOT NULL DEFAULT pg_catalog.txid_current(),
	PRIMARY KEY (part, key)
);
COMMENT ON TABLE idsess.proxy_expired_acks IS
'Expired sessions taken by committed transactions (partition, session key), still to remove from their shard';
REVOKE ALL ON idsess.proxy_expired_acks FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON idsess.proxy_expired_acks TO idsess_service;

CREATE FUNCTION idsess.proxy_claim_expired(part integer, count integer, tickets boolean,
                                           lease interval, done text[])
RETURNS SETOF idsess.session
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON part;
	SELECT key, scheme, subject_id, session_id, display_name, created, renewed, expires,
	       last_active, idle_timeout, clients, saml_sessions, ticket, ticket_bytes,
	       issuer, client_sids
	FROM idsess_take_expired(count, tickets, lease, done);
$$;
COMMENT ON FUNCTION idsess.proxy_claim_expired(integer, integer, boolean, interval, text[]) IS
'idsess_take_expired with a lease on one partition (part is the partition number): removes the done sessions, then claims up to count (0: none)';

DROP FUNCTION idsess_take_expired(integer, boolean);
DROP FUNCTION idsess.proxy_take_expired(integer, integer, boolean);
CREATE FUNCTION idsess_take_expired(count integer DEFAULT 100, tickets boolean DEFAULT false)
RETURNS SETOF idsess.session
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	parts integer := idsess.proxy_partitions();
	wanted integer := CASE WHEN count IS NULL OR count <= 0 THEN 100 ELSE count END;
	lease interval := COALESCE(NULLIF(current_setting('idsess_proxy.expired_lease', true), ''), '5 minutes')::interval;
	start_at integer := floor(random() * parts)::integer;
	bound bigint := greatest(pg_size_bytes(current_setting('work_mem')), 64 * 1024 * 1024);
	opened bigint := 0;
	caller_work_mem text := current_setting('work_mem');
	done_keys jsonb;
	acks text[];
	taken idsess.session[];
	result idsess.session[] := '{}';
	got integer;
	failed integer := 0;
	p integer;
BEGIN
	IF wanted > 100000 THEN
		RAISE EXCEPTION 'count must be at most 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- What committed transactions took: delivered, so removed on the shards.
	-- A partition visited below gets its part with its claim; the others
	-- alone.  This transaction's own notes wait for its commit.
	SELECT jsonb_object_agg(d.part::text, d.keys) INTO done_keys
	FROM (SELECT a.part, array_agg(a.key) AS keys
	      FROM (SELECT k.part, k.key FROM idsess.proxy_expired_acks k
	            WHERE k.xact <> txid_current() FOR UPDATE SKIP LOCKED) a
	      GROUP BY a.part) d;
	FOR i IN 0 .. parts - 1 LOOP
		p := (start_at + i) % parts;
		acks := CASE WHEN done_keys ? p::text
		             THEN ARRAY(SELECT jsonb_array_elements_text(done_keys -> p::text)) END;
		CONTINUE WHEN wanted = 0 AND acks IS NULL;
		BEGIN
			SELECT array_agg(s) INTO taken
			FROM idsess.proxy_claim_expired(p, wanted, COALESCE(tickets, false), lease, acks) s;
			IF acks IS NOT NULL THEN
				DELETE FROM idsess.proxy_expired_acks k WHERE k.part = p AND k.key = ANY (acks);
			END IF;
			got := COALESCE(cardinality(taken), 0);
			IF got > 0 THEN
				INSERT INTO idsess.proxy_expired_acks (part, key)
				SELECT p, t.key FROM unnest(taken) t
				ON CONFLICT (part, key) DO UPDATE SET xact = EXCLUDED.xact;
				SELECT opened + COALESCE(sum(COALESCE(octet_length(t.ticket), 0) + COALESCE(octet_length(t.ticket_bytes), 0)), 0)
				INTO opened FROM unnest(taken) t;
				IF opened > bound THEN
					RAISE EXCEPTION 'the sessions'' tickets are too large to return at once'
						USING ERRCODE = 'program_limit_exceeded',
						DETAIL = format('One call returns at most %s kB of tickets.', bound / 1024),
						HINT = 'Take fewer at a time, or raise work_mem.';
				END IF;
				result := result || taken;
				wanted := wanted - got;
			END IF;
		EXCEPTION
			WHEN program_limit_exceeded THEN
				RAISE;
			WHEN OTHERS THEN
				failed := failed + 1;
				RAISE WARNING 'idsess_take_expired skipped partition %: %', p, SQLERRM;
				IF failed = parts THEN
					RAISE;
				END IF;
		END;
	END LOOP;
	-- The result's own store holds the opened tickets in memory.
	PERFORM set_config('work_mem', (2 * opened / 1024 + cardinality(result) * 8 + 1024)::text || 'kB', true);
	RETURN QUERY SELECT * FROM unnest(result);
	PERFORM set_config('work_mem', caller_work_mem, true);
END
$fn$;
COMMENT ON FUNCTION idsess_take_expired(integer, boolean) IS
'idsess_take_expired over the partitions in turn, up to count in all, at least once: a caller that rolls back gets the sessions again after idsess_proxy.expired_lease; tickets: opened, bounded and kept in memory; an unreachable partition is skipped with a warning';

REVOKE ALL ON FUNCTION
	idsess_query(text, text, text, text, integer, text, boolean, boolean),
	idsess.proxy_token_seal(jsonb),
	idsess.proxy_token_open(text),
	idsess.proxy_page_by_hash(text, text, text, text, integer, timestamptz, bytea, boolean),
	idsess.proxy_key_order(text),
	idsess.proxy_claim_logouts(integer, integer, interval),
	idsess.proxy_ack_logouts(integer, bigint[]),
	idsess.proxy_claim_expired(integer, integer, boolean, interval, text[]),
	idsess_take_expired(integer, boolean)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	idsess_query(text, text, text, text, integer, text, boolean, boolean),
	idsess.proxy_token_seal(jsonb),
	idsess.proxy_token_open(text),
	idsess.proxy_page_by_hash(text, text, text, text, integer, timestamptz, bytea, boolean),
	idsess.proxy_key_order(text)
TO idsess_service, idsess_admin;
GRANT EXECUTE ON FUNCTION
	idsess.proxy_claim_logouts(integer, integer, interval),
	idsess.proxy_ack_logouts(integer, bigint[]),
	idsess.proxy_claim_expired(integer, integer, boolean, interval, text[]),
	idsess_take_expired(integer, boolean)
TO idsess_service;

------------------------------------------------------------------------
-- Tenants, incident revocation and the rest of issue 38: the shards' idsess
-- 1.2 arguments of create, update and revoke, all routed.  create and update keep going to the key's partition,
-- with the tenant; a revocation goes to every partition with every filter.
-- Each partition judges the confirmation, the dry run and the batch on its
-- own sessions: a filter that matches all of one partition's sessions needs
-- confirm there (stricter than one store, never laxer), and batch bounds
-- each partition's share of a call.  key_id is the one filter refused: each
-- shard numbers its own data keys, so one key id names unrelated keys in
-- the partitions.
DROP FUNCTION idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text);
DROP FUNCTION idsess.proxy_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text);
CREATE FUNCTION idsess.proxy_create(
	subject_id text, ticket text, ticket_bytes bytea, key text, session_id text,
	scheme text, display_name text, expires timestamptz, idle_timeout interval,
	created timestamptz, max_sessions integer, issuer text, max_lifetime interval, acr text,
	amr text[], auth_time timestamptz, client_ip inet, user_agent text, device text, tenant text)
RETURNS idsess.created
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
	TARGET idsess_create;
$$;
COMMENT ON FUNCTION idsess.proxy_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text) IS
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
	issuer text DEFAULT NULL,
	max_lifetime interval DEFAULT NULL,
	acr text DEFAULT NULL,
	amr text[] DEFAULT NULL,
	auth_time timestamptz DEFAULT NULL,
	client_ip inet DEFAULT NULL,
	user_agent text DEFAULT NULL,
	device text DEFAULT NULL,
	tenant text DEFAULT NULL)
RETURNS idsess.created
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	RETURN idsess.proxy_create(subject_id, ticket, ticket_bytes,
		COALESCE(key, pg_catalog.replace(pg_catalog.gen_random_uuid()::text
		                                 || pg_catalog.gen_random_uuid()::text, '-', '')),
		session_id, scheme, display_name, expires, idle_timeout, created, max_sessions, issuer,
		max_lifetime, acr, amr, auth_time, client_ip, user_agent, device, tenant);
END
$fn$;
COMMENT ON FUNCTION idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text) IS
'idsess_create on the partition of the key (made here when NULL), in tenant; the session limit counts the subject''s sessions of the tenant in that partition only';

DROP FUNCTION idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]);
DROP FUNCTION idsess.proxy_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]);
CREATE FUNCTION idsess.proxy_update(
	key text, ticket text, ticket_bytes bytea, expires timestamptz, renewed timestamptz,
	display_name text, subject_id text, session_id text, created timestamptz, scheme text,
	issuer text, new_key text, upsert boolean, idle_timeout interval, clients text[],
	client_sids text[], max_lifetime interval, acr text, amr text[], auth_time timestamptz,
	client_ip inet, user_agent text, device text, tenant text)
RETURNS boolean
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
	TARGET idsess_update;
$$;
COMMENT ON FUNCTION idsess.proxy_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text) IS
'idsess_update on the partition of the key';

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
	client_sids text[] DEFAULT NULL,
	max_lifetime interval DEFAULT NULL,
	acr text DEFAULT NULL,
	amr text[] DEFAULT NULL,
	auth_time timestamptz DEFAULT NULL,
	client_ip inet DEFAULT NULL,
	user_agent text DEFAULT NULL,
	device text DEFAULT NULL,
	tenant text DEFAULT NULL)
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
		clients, client_sids, max_lifetime, acr, amr, auth_time, client_ip, user_agent, device,
		tenant);
END
$fn$;
COMMENT ON FUNCTION idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text) IS
'idsess_update on the partition of the key (an upsert creates in tenant); a new_key routing to another partition is refused (0A000)';

DROP FUNCTION idsess_revoke(text, text, text[], text);
DROP FUNCTION idsess.proxy_revoke(text, text, text[], text);
CREATE FUNCTION idsess.proxy_revoke(
	subject_id text, session_id text, client_ids text[], reason text, except_key text,
	tenant text, client_id text, created_before timestamptz, created_after timestamptz,
	key_id integer, confirm text, dry_run boolean, batch integer, client_ip inet,
	acr_not_in text[], amr_lacks text)
RETURNS SETOF idsess.revoked
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_revoke;
$$;
COMMENT ON FUNCTION idsess.proxy_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text) IS
'idsess_revoke on every partition';

CREATE FUNCTION idsess_revoke(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	client_ids text[] DEFAULT NULL,
	reason text DEFAULT NULL,
	except_key text DEFAULT NULL,
	tenant text DEFAULT NULL,
	client_id text DEFAULT NULL,
	created_before timestamptz DEFAULT NULL,
	created_after timestamptz DEFAULT NULL,
	key_id integer DEFAULT NULL,
	confirm text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	batch integer DEFAULT NULL,
	client_ip inet DEFAULT NULL,
	acr_not_in text[] DEFAULT NULL,
	amr_lacks text DEFAULT NULL)
RETURNS SETOF idsess.revoked
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	in_tenant text := idsess_revoke.tenant;
BEGIN
	IF idsess_revoke.key_id IS NOT NULL THEN
		RAISE EXCEPTION 'key_id is not offered through the proxy' USING ERRCODE = 'feature_not_supported',
			DETAIL = 'Each shard has its own data keys: one key id names a different key in each partition.',
			HINT = 'Call idsess_revoke(key_id => ...) in the shard database whose data key it is (its idsess.key_ring view lists them).';
	END IF;
	PERFORM idsess.proxy_ping();
	-- "Everywhere else" is the kept session's tenant: only its partition
	-- knows it, so the others are told.
	IF idsess_revoke.except_key IS NOT NULL AND in_tenant IS NULL AND idsess_revoke.subject_id IS NOT NULL THEN
		SELECT k.tenant INTO in_tenant
		FROM idsess.proxy_my_sessions_of_key(idsess_revoke.subject_id, idsess_revoke.except_key, NULL) k
		WHERE k.current;
	END IF;
	RETURN QUERY SELECT * FROM idsess.proxy_revoke(idsess_revoke.subject_id,
		idsess_revoke.session_id, idsess_revoke.client_ids, idsess_revoke.reason,
		idsess_revoke.except_key, in_tenant, idsess_revoke.client_id, idsess_revoke.created_before,
		idsess_revoke.created_after, idsess_revoke.key_id, idsess_revoke.confirm,
		idsess_revoke.dry_run, idsess_revoke.batch, idsess_revoke.client_ip,
		idsess_revoke.acr_not_in, idsess_revoke.amr_lacks);
END
$fn$;
COMMENT ON FUNCTION idsess_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text) IS
'idsess_revoke on every partition (all reachable first) with every filter but key_id (refused, 0A000: data keys are per shard); each partition judges the confirmation and takes at most batch sessions, and audits and notifies its part';

REVOKE ALL ON FUNCTION
	idsess.proxy_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text),
	idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text),
	idsess.proxy_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text),
	idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text),
	idsess.proxy_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text),
	idsess_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	idsess.proxy_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text),
	idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text),
	idsess.proxy_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text),
	idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text)
TO idsess_service;
GRANT EXECUTE ON FUNCTION
	idsess.proxy_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text),
	idsess_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text)
TO idsess_service, idsess_admin;

------------------------------------------------------------------------
-- The rest of 1.2's API (issue 38): the touch that records where a
-- session is used goes to the key's partition; a subject's "your active
-- sessions" page and the sessions per tenant gather every partition.
DROP FUNCTION idsess_touch(text);
CREATE FUNCTION idsess_touch(
	key text,
	client_ip inet DEFAULT NULL,
	user_agent text DEFAULT NULL,
	device text DEFAULT NULL)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(key);
$$;
COMMENT ON FUNCTION idsess_touch(text, inet, text, text) IS
'idsess_touch on the partition of the key, with where the session is used (kept as the shard''s idsess.record_client allows)';

-- A subject's sessions lie in every partition (they are placed by key), in
-- one tenant: the current session's, which only its partition knows, so
-- it is asked first and the tenant is named to all.
CREATE FUNCTION idsess.proxy_my_sessions(subject_id text, current_key text, tenant text)
RETURNS TABLE (session_id text, current boolean, device text, client_ip inet, user_agent text,
               created timestamptz, last_seen timestamptz, expires timestamptz, clients text[],
               acr text, amr text[], auth_time timestamptz, tenant text)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_my_sessions;
$$;
COMMENT ON FUNCTION idsess.proxy_my_sessions(text, text, text) IS 'idsess_my_sessions of every partition';

CREATE FUNCTION idsess.proxy_my_sessions_of_key(subject_id text, current_key text, tenant text)
RETURNS TABLE (session_id text, current boolean, device text, client_ip inet, user_agent text,
               created timestamptz, last_seen timestamptz, expires timestamptz, clients text[],
               acr text, amr text[], auth_time timestamptz, tenant text)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON idsess.proxy_key_hash(current_key);
	TARGET idsess_my_sessions;
$$;
COMMENT ON FUNCTION idsess.proxy_my_sessions_of_key(text, text, text) IS
'idsess_my_sessions of the partition of current_key: the current session''s tenant';

-- One store breaks a tie of last seen by its internal id, which follows
-- creation; the proxy by created, then sid.
CREATE FUNCTION idsess_my_sessions(subject_id text, current_key text DEFAULT NULL, tenant text DEFAULT NULL)
RETURNS TABLE (session_id text, current boolean, device text, client_ip inet, user_agent text,
               created timestamptz, last_seen timestamptz, expires timestamptz, clients text[],
               acr text, amr text[], auth_time timestamptz, tenant text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT m.session_id, m.current, m.device, m.client_ip, m.user_agent, m.created, m.last_seen,
	       m.expires, m.clients, m.acr, m.amr, m.auth_time, m.tenant
	FROM idsess.proxy_my_sessions($1, $2, COALESCE($3, CASE WHEN $2 IS NOT NULL THEN
	         (SELECT k.tenant FROM idsess.proxy_my_sessions_of_key($1, $2, NULL) k WHERE k.current) END)) m
	ORDER BY m.current DESC, COALESCE(m.last_seen, m.created) DESC, m.created, m.session_id
$fn$;
COMMENT ON FUNCTION idsess_my_sessions(text, text, text) IS
'A subject''s live sessions of one tenant (tenant; NULL: current_key''s session''s, else the default tenant) in every partition, without keys, as idsess_my_sessions: the current one first, then the most recently seen';

CREATE FUNCTION idsess.proxy_report_tenants()
RETURNS TABLE (tenant text, sessions bigint, subjects bigint, created bigint, expired bigint,
               idle bigint, revoked bigint, deleted bigint, limited bigint, max_lifetime bigint)
LANGUAGE plproxy
AS $$
	CLUSTER 'idsess_shards';
	RUN ON ALL;
	TARGET idsess_report_tenants;
$$;
COMMENT ON FUNCTION idsess.proxy_report_tenants() IS 'idsess_report_tenants of every partition';

CREATE FUNCTION idsess_report_tenants()
RETURNS TABLE (tenant text, sessions bigint, subjects bigint, created bigint, expired bigint,
               idle bigint, revoked bigint, deleted bigint, limited bigint, max_lifetime bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT t.tenant, sum(t.sessions)::bigint, sum(t.subjects)::bigint, sum(t.created)::bigint,
	       sum(t.expired)::bigint, sum(t.idle)::bigint, sum(t.revoked)::bigint, sum(t.deleted)::bigint,
	       sum(t.limited)::bigint, sum(t.max_lifetime)::bigint
	FROM idsess.proxy_report_tenants() t
	GROUP BY t.tenant ORDER BY t.tenant NULLS FIRST
$fn$;
COMMENT ON FUNCTION idsess_report_tenants() IS
'Per tenant (NULL: the default tenant), summed over the partitions: live sessions, subjects (one with sessions in k partitions counts k times) and the events since 1.2';

REVOKE ALL ON FUNCTION
	idsess_touch(text, inet, text, text),
	idsess.proxy_my_sessions(text, text, text),
	idsess.proxy_my_sessions_of_key(text, text, text),
	idsess_my_sessions(text, text, text),
	idsess.proxy_report_tenants(),
	idsess_report_tenants()
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	idsess_touch(text, inet, text, text),
	idsess.proxy_my_sessions(text, text, text),
	idsess.proxy_my_sessions_of_key(text, text, text),
	idsess_my_sessions(text, text, text)
TO idsess_service;
GRANT EXECUTE ON FUNCTION idsess.proxy_report_tenants(), idsess_report_tenants()
	TO idsess_reporting, idsess_admin;
