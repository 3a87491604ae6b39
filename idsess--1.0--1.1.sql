/* idsess--1.0--1.1.sql: from idsess 1.0 to 1.1 (also the second half of a fresh 1.1 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.1'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql and then this script,
-- so every 1.1 install is an upgraded 1.0 one: the regression suite checks
-- the upgrade path on every run.  Each section below belongs to one change
-- of 1.1; new objects get a COMMENT, pg_extension_config_dump when they hold
-- data, and privileges as in 1.0 (nothing to PUBLIC).

-- reports: every range argument of a report is bounded (1.0's
-- idsess_report_history('-infinity') never ended).  The history is clamped
-- to the hours kept (idsess.stats_retention) and to the current hour, and
-- spans at most 366 days; counts follow the other functions' rule (NULL or
-- <= 0: the default, above the limit: 22023).  PL/pgSQL, to raise errors;
-- the results are 1.0's.
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_history(
	since timestamptz DEFAULT pg_catalog.now() - interval '1 day',
	until timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (hour timestamptz, created bigint, expired bigint, idle bigint,
               revoked bigint, deleted bigint, limited bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
	-- Without idsess loaded in this backend the setting is not defined yet:
	-- its default.
	retention interval := COALESCE(
		(SELECT s.setting::bigint * interval '1 minute' FROM pg_catalog.pg_settings s
		 WHERE s.name = 'idsess.stats_retention' AND s.unit = 'min'),
		interval '30 days');
	oldest timestamptz := pg_catalog.now() - retention;
	hi timestamptz;
	lo timestamptz;
BEGIN
	-- Nothing before the retention window is kept, nothing after now has
	-- happened; past this test every time below is far from the ends of
	-- the timestamp range.
	IF until < oldest OR since > pg_catalog.now() THEN
		RETURN;
	END IF;
	hi := pg_catalog.date_trunc('hour', LEAST(COALESCE(until, 'infinity'), pg_catalog.now()));
	IF since IS NULL OR since = '-infinity' THEN
		lo := GREATEST(oldest, hi - interval '366 days');
	ELSE
		lo := GREATEST(since, oldest);
	END IF;
	lo := pg_catalog.date_trunc('hour', lo);
	IF lo < hi - interval '366 days' THEN
		RAISE EXCEPTION 'idsess_report_history spans more than 366 days'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'since and until, once clamped to the hours kept (idsess.stats_retention) and to now, are further apart.',
			      HINT = 'Ask for at most 366 days at a time; since => NULL gives the latest 366 days.';
	END IF;
	RETURN QUERY
	SELECT g.hour, COALESCE(h.created, 0), COALESCE(h.expired, 0), COALESCE(h.idle, 0),
	       COALESCE(h.revoked, 0), COALESCE(h.deleted, 0), COALESCE(h.limited, 0)
	FROM pg_catalog.generate_series(lo, hi, interval '1 hour') AS g(hour)
	LEFT JOIN idsess.stats_hourly h ON h.hour = g.hour
	ORDER BY g.hour;
END
$fn$;
COMMENT ON FUNCTION @extschema@.idsess_report_history(timestamptz, timestamptz) IS
'Per hour between since and until: sessions created, expired, ended by inactivity, revoked, deleted and ended by the session limit (needs idsess preloaded); clamped to the hours kept (idsess.stats_retention) and to now, at most 366 days (NULL or -infinity: as far back as that allows)';

CREATE OR REPLACE FUNCTION @extschema@.idsess_report_expiring(minutes integer DEFAULT 15)
RETURNS TABLE (subject_id text, display_name text, sid text, clients text, expires_in interval)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
	n integer := CASE WHEN minutes IS NULL OR minutes <= 0 THEN 15 ELSE minutes END;
BEGIN
	IF n > 10080 THEN
		RAISE EXCEPTION 'minutes must be at most 10080 (7 days)'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT s.subject_id, s.display_name, idsess.short_id(s.session_id),
	       idsess.short_list(ARRAY(SELECT c.client_id FROM idsess.session_clients c
	                               WHERE c.session = s.id ORDER BY c.added, c.client_id)),
	       pg_catalog.date_trunc('second', s.due - pg_catalog.now())
	FROM idsess.sessions s
	WHERE s.due > pg_catalog.now() AND s.due <= pg_catalog.now() + n * interval '1 minute'
	  AND (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())
	ORDER BY s.due;
END
$fn$;
COMMENT ON FUNCTION @extschema@.idsess_report_expiring(integer) IS
'Live sessions that expire (or go idle, unless touched) within the next N minutes (NULL or <= 0: 15; at most 10080), soonest first';

CREATE OR REPLACE FUNCTION @extschema@.idsess_report_top_subjects(top integer DEFAULT 10)
RETURNS TABLE (subject_id text, display_name text, sessions bigint, clients text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
	n integer := CASE WHEN top IS NULL OR top <= 0 THEN 10 ELSE top END;
BEGIN
	IF n > 1000 THEN
		RAISE EXCEPTION 'top must be at most 1000'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT t.subject_id,
	       (SELECT pg_catalog.max(s.display_name) FROM idsess.sessions s WHERE s.subject_id = t.subject_id),
	       t.sessions,
	       idsess.short_list(ARRAY(SELECT DISTINCT c.client_id FROM idsess.session_clients c
	                               JOIN idsess.sessions s ON s.id = c.session
	                               WHERE s.subject_id = t.subject_id ORDER BY 1))
	FROM (SELECT s.subject_id, pg_catalog.count(*) AS sessions FROM idsess.sessions s
	      WHERE s.subject_id IS NOT NULL
	      GROUP BY s.subject_id ORDER BY 2 DESC, 1 LIMIT n) t
	ORDER BY t.sessions DESC, t.subject_id;
END
$fn$;
COMMENT ON FUNCTION @extschema@.idsess_report_top_subjects(integer) IS
'The subjects with the most concurrent sessions (NULL or <= 0: 10; at most 1000) and the clients they use, from the subject index (expired sessions count until the worker removes them)';

-- revocation: a revoked session key stays revoked until the session would
-- have expired, so that a late save by an identity server that loaded the
-- session before the revocation cannot bring it back.
CREATE TABLE idsess.revoked_keys (
	key_hash bytea PRIMARY KEY,
	revoked timestamptz NOT NULL DEFAULT pg_catalog.now(),
	until timestamptz
);
CREATE INDEX revoked_keys_until ON idsess.revoked_keys (until) WHERE until IS NOT NULL;
COMMENT ON TABLE idsess.revoked_keys IS 'Tombstones of revoked (and session-limit-ended) session keys: idsess_update and idsess_create refuse these keys (SQLSTATE ISRVK) until the tombstone''s time';
COMMENT ON COLUMN idsess.revoked_keys.key_hash IS 'SHA-256 of the session key (as UTF-8); the key itself is not kept';
COMMENT ON COLUMN idsess.revoked_keys.revoked IS 'When the key was revoked';
COMMENT ON COLUMN idsess.revoked_keys.until IS 'The revoked session''s expiry, else its inactivity deadline; NULL: the session never expired, the key stays revoked for good';
COMMENT ON INDEX idsess.revoked_keys_until IS 'Purging tombstones past their time';
SELECT pg_catalog.pg_extension_config_dump('idsess.revoked_keys', '');
REVOKE ALL ON idsess.revoked_keys FROM PUBLIC;

-- monitoring: the key ring's dates for the reporting role, which the
-- Prometheus exporter's queries (monitoring/idsess-queries.yaml) log in
-- with; idsess.key_ring stays the admin's (it counts tickets per key).
CREATE FUNCTION idsess_report_key_ring()
RETURNS TABLE (id integer, state text, created timestamptz, deactivated timestamptz, ended timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT k.id, k.state, k.created, k.deactivated, k.destroyed FROM idsess.keys k ORDER BY k.id;
END;
COMMENT ON FUNCTION idsess_report_key_ring() IS
'The data keys without key material or ticket counts: id, state, when made, deactivated and ended (for monitoring the key ring''s age)';
REVOKE ALL ON FUNCTION idsess_report_key_ring() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION idsess_report_key_ring() TO idsess_reporting, idsess_admin;

-- contract: what Duende's full store contract and node-oidc-provider need
-- (issue 11).  Sessions may have no subject (a session without a user);
-- each session records the issuer that signed its user in; each client of
-- a session may carry its own sid.  idsess_update can change every field,
-- rekey atomically, create the session when absent (upsert) and set the
-- client list in one call; expired sessions and query rows can come with
-- their tickets for the identity server's role.  New result attributes are
-- appended to the 1.0 types, so 1.0 callers reading by name are unaffected;
-- client_sids is parallel to clients (same order, NULL: no sid).
ALTER TABLE idsess.sessions ALTER COLUMN subject_id DROP NOT NULL;
ALTER TABLE idsess.sessions ADD COLUMN issuer text;
COMMENT ON COLUMN idsess.sessions.subject_id IS 'The user''s sub; NULL for a session without a user (not listed, revoked or limited by subject)';
COMMENT ON COLUMN idsess.sessions.issuer IS 'The issuer that signed the user in (for logout tokens); NULL when not given';
ALTER TABLE idsess.session_clients ADD COLUMN client_sid text;
COMMENT ON COLUMN idsess.session_clients.client_sid IS 'The sid this client was given for the session (node-oidc-provider gives each client its own); NULL: none';
ALTER TABLE idsess.logout_outbox ALTER COLUMN subject_id DROP NOT NULL;
ALTER TABLE idsess.logout_outbox ADD COLUMN issuer text;
ALTER TABLE idsess.logout_outbox ADD COLUMN client_sids text[];
COMMENT ON COLUMN idsess.logout_outbox.issuer IS 'The expired session''s issuer, for the logout token';
COMMENT ON COLUMN idsess.logout_outbox.client_sids IS 'Each client''s own sid, parallel to clients (NULL element: none)';

ALTER TYPE idsess.session ADD ATTRIBUTE issuer text, ADD ATTRIBUTE client_sids text[];
ALTER TYPE idsess.created ADD ATTRIBUTE issuer text, ADD ATTRIBUTE client_sids text[];
ALTER TYPE idsess.revoked ADD ATTRIBUTE issuer text, ADD ATTRIBUTE client_sids text[];
ALTER TYPE idsess.logout ADD ATTRIBUTE issuer text, ADD ATTRIBUTE client_sids text[];
ALTER TYPE idsess.query_row ADD ATTRIBUTE issuer text, ADD ATTRIBUTE client_sids text[],
	ADD ATTRIBUTE ticket text, ADD ATTRIBUTE ticket_bytes bytea;

-- Sessions without a user belong to no subject: the per-subject view and
-- reports leave them out (idsess_report_top_subjects, in the reports
-- section above, too).
CREATE OR REPLACE VIEW idsess.subjects AS
SELECT s.subject_id, pg_catalog.max(s.display_name) AS display_name,
       pg_catalog.count(*) AS sessions,
       pg_catalog.date_trunc('second', pg_catalog.now() - pg_catalog.max(s.last_active)) AS idle,
       pg_catalog.date_trunc('second', pg_catalog.min(s.expires) - pg_catalog.now()) AS next_expiry_in
FROM idsess.sessions s
WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())
  AND s.subject_id IS NOT NULL
GROUP BY s.subject_id;
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_concurrency()
RETURNS TABLE (sessions_per_subject text, subjects bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT CASE WHEN n >= 10 THEN '10 or more' ELSE n::text END, pg_catalog.count(*)
	FROM (SELECT pg_catalog.count(*) AS n FROM idsess.sessions s WHERE s.subject_id IS NOT NULL
	      GROUP BY s.subject_id) per_subject
	GROUP BY 1 ORDER BY pg_catalog.min(n);
END;

DROP FUNCTION @extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer);
CREATE FUNCTION @extschema@.idsess_create(
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
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_create';
COMMENT ON FUNCTION @extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text) IS
'Creates a session and seals its ticket (give ticket or ticket_bytes); subject_id NULL: a session without a user; key and session_id are generated when NULL; expires NULL or infinity never expires; max_sessions overrides idsess.max_sessions_per_subject';

DROP FUNCTION @extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text);
CREATE FUNCTION @extschema@.idsess_update(
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
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_update';
COMMENT ON FUNCTION @extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]) IS
'Renews a session (renewed defaults to now) and replaces what is given: ticket, expires (infinity: never), display name, subject and issuer ('''' clears them), sid, created, scheme, idle timeout, the client list (clients, client_sids); new_key rekeys it; upsert creates it when absent; false when no such session';

DROP FUNCTION @extschema@.idsess_add_client(text, text);
CREATE FUNCTION @extschema@.idsess_add_client(key text, client_id text, client_sid text DEFAULT NULL)
RETURNS text[]
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_add_client';
COMMENT ON FUNCTION @extschema@.idsess_add_client(text, text, text) IS
'Adds a client to a live session if absent (client_sid: its own sid, replaced when given again); returns the session''s client list';

CREATE FUNCTION @extschema@.idsess_remove_client(key text, client_id text)
RETURNS text[]
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_remove_client';
COMMENT ON FUNCTION @extschema@.idsess_remove_client(text, text) IS
'Removes a client from a live session (nothing when absent); returns the session''s client list';

DROP FUNCTION @extschema@.idsess_clients(text);
CREATE FUNCTION @extschema@.idsess_clients(key text, sids boolean DEFAULT false)
RETURNS text[]
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_clients';
COMMENT ON FUNCTION @extschema@.idsess_clients(text, boolean) IS
'The client list of a live session, in the order the clients joined; sids: the clients'' own sids instead, in the same order';

DROP FUNCTION @extschema@.idsess_take_expired(integer);
CREATE FUNCTION @extschema@.idsess_take_expired(count integer DEFAULT 100, tickets boolean DEFAULT false)
RETURNS SETOF idsess.session
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_take_expired';
COMMENT ON FUNCTION @extschema@.idsess_take_expired(integer, boolean) IS
'Removes and returns up to count expired or idle sessions (tickets: opened, for roles of idsess_service only); concurrent callers never get the same session';

DROP FUNCTION @extschema@.idsess_query(text, text, text, text, integer, text, boolean);
CREATE FUNCTION @extschema@.idsess_query(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	display_name text DEFAULT NULL,
	client_id text DEFAULT NULL,
	count integer DEFAULT 25,
	results_token text DEFAULT NULL,
	prior boolean DEFAULT false,
	tickets boolean DEFAULT false)
RETURNS SETOF idsess.query_row
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_query';
COMMENT ON FUNCTION @extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean) IS
'Admin search: case-insensitive substring filters on subject, sid and display name plus an exact client filter, paged by an opaque results token (prior: page backward); tickets: opened on each row, for roles of idsess_service only';

COMMENT ON FUNCTION @extschema@.idsess_add_saml_session(text, text, text, text, text) IS
'Adds a SAML SP session to a live session, replacing any of the same entity_id (an upsert by entity, as Duende''s); returns the list';

REVOKE ALL ON FUNCTION
	@extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text),
	@extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]),
	@extschema@.idsess_add_client(text, text, text),
	@extschema@.idsess_remove_client(text, text),
	@extschema@.idsess_clients(text, boolean),
	@extschema@.idsess_take_expired(integer, boolean),
	@extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	@extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text),
	@extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]),
	@extschema@.idsess_add_client(text, text, text),
	@extschema@.idsess_remove_client(text, text),
	@extschema@.idsess_clients(text, boolean),
	@extschema@.idsess_take_expired(integer, boolean),
	@extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean)
TO idsess_service;
GRANT EXECUTE ON FUNCTION
	@extschema@.idsess_clients(text, boolean),
	@extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean)
TO idsess_admin;

-- catalog: the identity sequences, the only members 1.0 left without a
-- comment (\dx+ idsess lists them).
COMMENT ON SEQUENCE idsess.sessions_id_seq IS 'Row ids of idsess.sessions (never exposed: the session key is the handle)';
COMMENT ON SEQUENCE idsess.audit_id_seq IS 'Ids of idsess.audit entries (the audit_id in NOTIFY idsess_revoked payloads)';
COMMENT ON SEQUENCE idsess.logout_outbox_id_seq IS 'Ids of owed back-channel logouts in idsess.logout_outbox';

-- expiry pacing: the worker paces a backlog by itself (a duty cycle while
-- foreground work runs); idsess.workers shows how often and how long it
-- paused.  A view or function of the user's own that depends on
-- idsess.workers must be dropped before this update and made again after.
DROP VIEW idsess.workers;
DROP FUNCTION @extschema@.idsess_worker_status();
CREATE FUNCTION @extschema@.idsess_worker_status(
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
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'idsess_worker_status';
COMMENT ON FUNCTION @extschema@.idsess_worker_status() IS
'The expiry workers as shared memory records them (empty unless idsess is in shared_preload_libraries), with the pauses they made between backlog batches';
CREATE VIEW idsess.workers AS SELECT * FROM @extschema@.idsess_worker_status();
COMMENT ON VIEW idsess.workers IS
'One row per expiry worker: pid, database, state, last run, removals, next due time, last error, pauses between backlog batches (count, total ms)';
REVOKE ALL ON FUNCTION @extschema@.idsess_worker_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_worker_status() TO idsess_admin, idsess_reporting;
GRANT SELECT ON idsess.workers TO idsess_admin, idsess_reporting;

-- ticket compression: a ticket is compressed before it is sealed when that
-- makes it smaller (idsess.compress_tickets), so a typical serialized ticket
-- now stays in the row instead of TOAST.  A row with its ticket is several
-- times wider than before; the room left free on each page keeps idsess_touch
-- and renewals HOT updates (with 1.0's 90, a touch moved most rows to another
-- page and updated every index: bench/analysis.md).  It applies to pages
-- written from now on.
ALTER TABLE idsess.sessions SET (fillfactor = 75);

-- get from one row: each session row carries a copy of its clients and SAML
-- SP sessions, as idsess_get returns them, so that the store's hottest call
-- reads one row instead of three tables (issue 12).  idsess.session_clients
-- and idsess.session_saml stay the record; each change to them refreshes the
-- copy under the session's row lock.  No default: NULL means "no copy", and
-- the rows of this update (or of a 1.0 dump restored into 1.1) keep it until
-- their next save or client change, with get reading the tables meanwhile.
-- No row is rewritten by this update.
ALTER TABLE idsess.sessions ADD COLUMN client_list text[], ADD COLUMN saml_list jsonb;
COMMENT ON COLUMN idsess.sessions.client_list IS 'Copy of the session''s clients from idsess.session_clients, for idsess_get: {{client_id, client_sid}, ...} in the order added; NULL: no copy, read the table';
COMMENT ON COLUMN idsess.sessions.saml_list IS 'Copy of the session''s SAML SP sessions from idsess.session_saml, for idsess_get, as it returns them; NULL: no copy, read the table';

-- The two lookups an identity server makes on every request pin no
-- search_path: saving and restoring it on each call was 4% of a get's
-- instructions (issue 12), and their usual path runs no SQL and resolves
-- no name.  The SQL they may run (the key ring's read on a cache miss, the
-- sessions of a subject) pins the path itself, and idsess refuses to run a
-- statement under any other (src/spi.c).  Every other function keeps its pin.
ALTER FUNCTION @extschema@.idsess_get(text) RESET search_path;
ALTER FUNCTION @extschema@.idsess_get_sessions(text, text) RESET search_path;
