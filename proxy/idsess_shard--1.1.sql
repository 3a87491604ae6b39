/* idsess_shard--1.1.sql: installed next to idsess in each shard database of an idsess_proxy cluster */

\echo Use "CREATE EXTENSION idsess_shard" to load this file. \quit

-- idsess_query pages by the internal session id, which is local to one
-- database; a proxy needs an order that every shard shares, so that it can
-- merge one page from the shards' pages.  That order is (created, key), keys
-- compared bytewise (COLLATE "C") so that every database agrees: the
-- order a single store's ids follow when sessions are created as they
-- happen (created defaults to the creation time), and a total order since
-- keys are unique.  This function is idsess_query's page under that order,
-- after (or, with prior, before) a (created, key) bound, with the same
-- filters and the same rows; the paging facts (results_token, has_prev,
-- has_next, counts) are left NULL: the proxy computes them.  There is no
-- (created, key) index: each page sorts the matching live sessions (a top-N
-- sort), cheap for a filtered search, a scan of the shard for a search
-- without filters.
CREATE FUNCTION idsess_shard_page(
	subject_id text,
	session_id text,
	display_name text,
	client_id text,
	count integer,
	after_created timestamptz,
	after_key text,
	prior boolean)
RETURNS SETOF idsess.query_row
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
	IF count IS NULL OR count <= 0 THEN
		RAISE EXCEPTION 'count must be positive' USING ERRCODE = 'invalid_parameter_value';
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
	       NULL::text, NULL::bytea
	FROM idsess.sessions s
	WHERE (idsess_shard_page.subject_id IS NULL OR lower(s.subject_id) LIKE p_subject)
	  AND (idsess_shard_page.session_id IS NULL OR lower(s.session_id) LIKE p_sid)
	  AND (idsess_shard_page.display_name IS NULL OR lower(s.display_name) LIKE p_name)
	  AND (idsess_shard_page.client_id IS NULL OR EXISTS (
	       SELECT FROM idsess.session_clients k
	       WHERE k.session = s.id AND k.client_id = idsess_shard_page.client_id))
	  AND (s.expires IS NULL OR s.expires > now())
	  AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > now())
	  AND (after_created IS NULL
	       OR (NOT prior AND (s.created, s.key COLLATE "C") > (after_created, after_key COLLATE "C"))
	       OR (prior AND (s.created, s.key COLLATE "C") < (after_created, after_key COLLATE "C")))
	ORDER BY CASE WHEN prior THEN NULL ELSE s.created END,
	         CASE WHEN prior THEN NULL ELSE s.key END COLLATE "C",
	         CASE WHEN prior THEN s.created END DESC,
	         CASE WHEN prior THEN s.key END COLLATE "C" DESC
	LIMIT count;
END
$fn$;
COMMENT ON FUNCTION idsess_shard_page(text, text, text, text, integer, timestamptz, text, boolean) IS
'For idsess_proxy: idsess_query''s filtered live sessions in (created, key) order after the bound (prior: before it, descending), up to count; paging facts NULL';

REVOKE ALL ON FUNCTION idsess_shard_page(text, text, text, text, integer, timestamptz, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION idsess_shard_page(text, text, text, text, integer, timestamptz, text, boolean)
	TO idsess_service, idsess_admin;
