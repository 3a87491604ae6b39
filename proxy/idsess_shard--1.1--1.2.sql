/* idsess_shard--1.1--1.2.sql: what an idsess_proxy 1.2 needs of each shard */

\echo Use "ALTER EXTENSION idsess_shard UPDATE TO '1.2'" to load this file. \quit

-- The admin search's page in (created, key hash) order, where 1.1's
-- idsess_shard_page uses (created, key).  The proxy's results token holds
-- the bound of a page; a session key is a bearer secret, so the bound is
-- the SHA-256 of the key (of its UTF-8 bytes, so that every shard agrees
-- whatever its encoding), which is as total an order as the key's own.
-- Its rows are idsess 1.2's search rows, with the strength of the sign-in.
CREATE FUNCTION idsess_shard_page_by_hash(
	subject_id text,
	session_id text,
	display_name text,
	client_id text,
	count integer,
	after_created timestamptz,
	after_hash bytea,
	prior boolean)
RETURNS SETOF idsess.search_row
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	-- idsess_query's case-insensitive substring patterns: lower-case, with
	-- LIKE's metacharacters taken literally.
	p_subject text := '%' || replace(replace(replace(lower(subject_id), '\', '\\'), '%', '\%'), '_', '\_') || '%';
	p_sid text := '%' || replace(replace(replace(lower(session_id), '\', '\\'), '%', '\%'), '_', '\_') || '%';
	p_name text := '%' || replace(replace(replace(lower(display_name), '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
	IF count IS NULL OR count <= 0 OR count > 100000 THEN
		RAISE EXCEPTION 'count must be between 1 and 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF prior AND after_created IS NULL THEN
		RAISE EXCEPTION 'prior needs a bound' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT s.key, s.scheme, s.subject_id, s.session_id, s.display_name, s.created,
	       s.renewed, s.expires, s.last_active,
	       ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id
	             ORDER BY c.added, c.client_id),
	       NULL::text, NULL::boolean, NULL::boolean, NULL::bigint, NULL::integer, NULL::integer,
	       s.issuer,
	       ARRAY(SELECT c.client_sid FROM idsess.session_clients c WHERE c.session = s.id
	             ORDER BY c.added, c.client_id),
	       NULL::text, NULL::bytea, s.acr, s.amr, s.auth_time
	FROM idsess.sessions s,
	     LATERAL (SELECT sha256(convert_to(s.key, 'UTF8')) AS h) k
	WHERE (idsess_shard_page_by_hash.subject_id IS NULL OR lower(s.subject_id) LIKE p_subject)
	  AND (idsess_shard_page_by_hash.session_id IS NULL OR lower(s.session_id) LIKE p_sid)
	  AND (idsess_shard_page_by_hash.display_name IS NULL OR lower(s.display_name) LIKE p_name)
	  AND (idsess_shard_page_by_hash.client_id IS NULL OR EXISTS (
	       SELECT FROM idsess.session_clients c
	       WHERE c.session = s.id AND c.client_id = idsess_shard_page_by_hash.client_id))
	  AND idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
	  AND (after_created IS NULL
	       OR (NOT prior AND (s.created, k.h) > (after_created, after_hash))
	       OR (prior AND (s.created, k.h) < (after_created, after_hash)))
	ORDER BY CASE WHEN prior THEN NULL ELSE s.created END,
	         CASE WHEN prior THEN NULL ELSE k.h END,
	         CASE WHEN prior THEN s.created END DESC,
	         CASE WHEN prior THEN k.h END DESC
	LIMIT count;
END
$fn$;
COMMENT ON FUNCTION idsess_shard_page_by_hash(text, text, text, text, integer, timestamptz, bytea, boolean) IS
'For idsess_proxy: idsess_query''s filtered live sessions in (created, SHA-256 of the key) order after the bound (prior: before it, descending), up to count, with the strength of the sign-in; paging facts NULL';

-- The back-channel logout outbox, claimed and acknowledged.  Through a
-- proxy, each shard's call commits on its own: a proxy caller that rolls
-- back would lose rows a shard had already deleted.  So the proxy claims
-- rows for a lease (they stay in the outbox, hidden from other claims
-- until the lease ends) and acknowledges (deletes) them once the caller's
-- transaction has committed; rows whose caller rolled back or died come
-- back when their lease ends.  Not dumped: after a restore every row is
-- simply unclaimed.
CREATE TABLE idsess.shard_logout_claims (
	id bigint PRIMARY KEY,
	until timestamptz NOT NULL
);
COMMENT ON TABLE idsess.shard_logout_claims IS
'Outbox rows (idsess.logout_outbox.id) an idsess_proxy caller holds until the lease ends, or until acknowledged';
REVOKE ALL ON idsess.shard_logout_claims FROM PUBLIC;

CREATE FUNCTION idsess_shard_claim_logouts(count integer, lease interval)
RETURNS SETOF idsess.logout
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF count IS NULL OR count <= 0 OR count > 100000 THEN
		RAISE EXCEPTION 'count must be between 1 and 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF lease IS NULL OR lease <= interval '0' OR lease > interval '1 day' THEN
		RAISE EXCEPTION 'lease must be positive and at most a day' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Claims of rows taken on the shard itself (idsess_take_logouts).
	DELETE FROM idsess.shard_logout_claims c
	WHERE c.until < now() AND NOT EXISTS (SELECT FROM idsess.logout_outbox o WHERE o.id = c.id);
	-- A claim that another caller made after this statement's snapshot is
	-- seen by the insert's conflict check: the row is then not returned.
	RETURN QUERY
	WITH free AS (
		SELECT o.id FROM idsess.logout_outbox o
		WHERE NOT EXISTS (SELECT FROM idsess.shard_logout_claims l
		                  WHERE l.id = o.id AND l.until > clock_timestamp())
		ORDER BY o.id LIMIT count
		FOR UPDATE OF o SKIP LOCKED),
	claimed AS (
		INSERT INTO idsess.shard_logout_claims AS l (id, until)
		SELECT free.id, clock_timestamp() + lease FROM free
		ON CONFLICT (id) DO UPDATE SET until = EXCLUDED.until WHERE l.until <= clock_timestamp()
		RETURNING l.id)
	SELECT o.id, o.queued, o.cause, o.subject_id, o.session_id, o.clients, o.saml_sessions,
	       o.issuer, o.client_sids
	FROM idsess.logout_outbox o JOIN claimed USING (id)
	ORDER BY o.id;
END
$fn$;
COMMENT ON FUNCTION idsess_shard_claim_logouts(integer, interval) IS
'For idsess_proxy: up to count back-channel logouts no one holds, held for lease; idsess_shard_ack_logouts removes them';

CREATE FUNCTION idsess_shard_ack_logouts(ids bigint[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	n integer;
BEGIN
	DELETE FROM idsess.logout_outbox WHERE id = ANY (ids);
	GET DIAGNOSTICS n = ROW_COUNT;
	DELETE FROM idsess.shard_logout_claims WHERE id = ANY (ids);
	RETURN n;
END
$fn$;
COMMENT ON FUNCTION idsess_shard_ack_logouts(bigint[]) IS
'For idsess_proxy: removes delivered back-channel logouts (claimed by idsess_shard_claim_logouts); returns how many were still there';

REVOKE ALL ON FUNCTION
	idsess_shard_page_by_hash(text, text, text, text, integer, timestamptz, bytea, boolean),
	idsess_shard_claim_logouts(integer, interval),
	idsess_shard_ack_logouts(bigint[])
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION idsess_shard_page_by_hash(text, text, text, text, integer, timestamptz, bytea, boolean)
	TO idsess_service, idsess_admin;
GRANT EXECUTE ON FUNCTION idsess_shard_claim_logouts(integer, interval), idsess_shard_ack_logouts(bigint[])
	TO idsess_service;
