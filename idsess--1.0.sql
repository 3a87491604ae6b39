/* idsess--1.0.sql: the tables, types and functions of the session store */

\echo Use "CREATE EXTENSION idsess CASCADE" to load this file. \quit

-- The tables live in their own schema, off the users' search_path; the
-- functions are created in the extension's schema so that they can be called
-- unqualified.
CREATE SCHEMA idsess;
COMMENT ON SCHEMA idsess IS 'idsess: session tables (owner-only), views and types; the functions live in the schema CREATE EXTENSION chose';
REVOKE ALL ON SCHEMA idsess FROM PUBLIC;

-- Data keys, each wrapped (sealed) under the master key from
-- idsess.master_key_file.  Exactly one key is active for new seals.
CREATE TABLE idsess.keys (
	id integer PRIMARY KEY CHECK (id > 0),
	state text NOT NULL DEFAULT 'active'
		CHECK (state IN ('active', 'inactive', 'retired', 'destroyed')),
	wrapped bytea CHECK ((state IN ('retired', 'destroyed')) = (wrapped IS NULL)),
	created timestamptz NOT NULL DEFAULT pg_catalog.now(),
	deactivated timestamptz,
	destroyed timestamptz
);
CREATE UNIQUE INDEX keys_one_active ON idsess.keys (state) WHERE state = 'active';
COMMENT ON TABLE idsess.keys IS 'Data keys that seal tickets, each wrapped under the master key; one is active, inactive ones still open their tickets, retired and destroyed ones are gone';

CREATE TABLE idsess.sessions (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key text NOT NULL,
	scheme text NOT NULL,
	subject_id text NOT NULL,
	session_id text NOT NULL,
	display_name text,
	created timestamptz NOT NULL,
	renewed timestamptz NOT NULL,
	expires timestamptz,
	idle_timeout interval,
	-- last_active is written by idsess_touch and is deliberately not
	-- indexed, so that a touch can be a HOT update.
	last_active timestamptz NOT NULL,
	-- When the expirer must next look at the row: the earlier of expires
	-- and last_active + idle_timeout as last written by a create, an update
	-- or the expirer itself; NULL for a session that never expires.
	due timestamptz,
	key_id integer NOT NULL,
	ticket bytea NOT NULL,
	CONSTRAINT sessions_key_key UNIQUE (key),
	CONSTRAINT sessions_expires_check CHECK (expires IS NULL OR expires >= created)
) WITH (fillfactor = 90);
-- Sealed tickets do not compress; do not try.
ALTER TABLE idsess.sessions ALTER COLUMN ticket SET STORAGE EXTERNAL;
CREATE INDEX sessions_subject_idx ON idsess.sessions (subject_id);
CREATE INDEX sessions_sid_idx ON idsess.sessions (session_id);
CREATE INDEX sessions_due_idx ON idsess.sessions (due, id) WHERE due IS NOT NULL;
CREATE INDEX sessions_key_id_idx ON idsess.sessions (key_id);
CREATE INDEX sessions_search_idx ON idsess.sessions USING gin (
	pg_catalog.lower(subject_id) gin_trgm_ops,
	pg_catalog.lower(session_id) gin_trgm_ops,
	pg_catalog.lower(display_name) gin_trgm_ops);
COMMENT ON TABLE idsess.sessions IS 'Server-side sessions; the ticket column holds sealed (encrypted and authenticated) tickets only';

CREATE TABLE idsess.session_clients (
	session bigint NOT NULL,
	client_id text NOT NULL,
	added timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	PRIMARY KEY (session, client_id)
);
CREATE INDEX session_clients_client_idx ON idsess.session_clients (client_id, session);
COMMENT ON TABLE idsess.session_clients IS 'The client applications that joined each session (idsess.sessions.id)';

CREATE TABLE idsess.session_saml (
	session bigint NOT NULL,
	entity_id text NOT NULL,
	session_index text NOT NULL,
	name_id text NOT NULL,
	name_id_format text,
	added timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	PRIMARY KEY (session, entity_id, session_index)
);
CREATE INDEX session_saml_entity_idx ON idsess.session_saml (entity_id, session);
COMMENT ON TABLE idsess.session_saml IS 'SAML service-provider sessions within each session (idsess.sessions.id)';

-- Back-channel logouts owed for sessions the expirer removed, written only
-- when idsess.expired_sessions_trigger_logout is on.
CREATE TABLE idsess.logout_outbox (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	queued timestamptz NOT NULL DEFAULT pg_catalog.now(),
	cause text NOT NULL CHECK (cause IN ('expired', 'idle')),
	subject_id text NOT NULL,
	session_id text NOT NULL,
	clients text[] NOT NULL,
	saml_sessions jsonb NOT NULL
);
COMMENT ON TABLE idsess.logout_outbox IS 'Back-channel logouts owed for expired sessions, drained by idsess_take_logouts()';

-- Revocations and key operations: who did what, when, to how many.
CREATE TABLE idsess.audit (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	actor name NOT NULL DEFAULT SESSION_USER,
	action text NOT NULL,
	key_id integer,
	subject_id text,
	session_id text,
	client_ids text[],
	reason text,
	sessions integer,
	clients integer
);
COMMENT ON TABLE idsess.audit IS 'Audit trail of revocations and key operations: who (session user), when, the filter, the reason, how many sessions and clients';

-- Session events per hour, flushed from shared-memory counters by the worker.
CREATE TABLE idsess.stats_hourly (
	hour timestamptz PRIMARY KEY,
	created bigint NOT NULL DEFAULT 0,
	expired bigint NOT NULL DEFAULT 0,
	idle bigint NOT NULL DEFAULT 0,
	revoked bigint NOT NULL DEFAULT 0,
	deleted bigint NOT NULL DEFAULT 0,
	limited bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE idsess.stats_hourly IS 'Sessions created, expired, ended by inactivity, revoked, deleted and ended by the session limit, per hour; kept for idsess.stats_retention';

SELECT pg_catalog.pg_extension_config_dump('idsess.stats_hourly', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.audit', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.keys', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.session_clients', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.session_saml', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.logout_outbox', '');
-- The identity sequences too, or a restored store would reuse ids.
SELECT pg_catalog.pg_extension_config_dump('idsess.sessions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('idsess.logout_outbox_id_seq', '');

REVOKE ALL ON ALL TABLES IN SCHEMA idsess FROM PUBLIC;

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
	ticket_bytes bytea
);
COMMENT ON TYPE idsess.session IS 'A session as the store functions return it; ticket (text) or ticket_bytes (bytea) is set only by functions that open tickets';

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
	ended_sessions jsonb
);
COMMENT ON TYPE idsess.created IS 'What idsess_create() returns: the new session (no ticket) and the sessions the session limit ended to make room, owed a back-channel logout';

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
	current_page integer
);
COMMENT ON TYPE idsess.query_row IS 'One row of an idsess_query() page: a session (no ticket) and the page''s paging facts, repeated on every row';

CREATE TYPE idsess.revoked AS (
	key text,
	subject_id text,
	session_id text,
	clients text[],
	saml_sessions jsonb
);
COMMENT ON TYPE idsess.revoked IS 'A session idsess_revoke() removed, with the clients and SAML SPs owed a back-channel logout';

CREATE TYPE idsess.logout AS (
	id bigint,
	queued timestamptz,
	cause text,
	subject_id text,
	session_id text,
	clients text[],
	saml_sessions jsonb
);
COMMENT ON TYPE idsess.logout IS 'A back-channel logout owed for a session the expirer removed';

-- Every function is SECURITY DEFINER: the tables are readable by their owner
-- only, and the functions are the only way in.

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
	max_sessions integer DEFAULT NULL)
RETURNS idsess.created
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_create';
COMMENT ON FUNCTION idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer) IS
'Creates a session and seals its ticket (give ticket or ticket_bytes); key and session_id are generated when NULL; expires NULL or infinity never expires; max_sessions overrides idsess.max_sessions_per_subject';

CREATE FUNCTION idsess_get(key text)
RETURNS SETOF idsess.session
LANGUAGE C STABLE SECURITY DEFINER ROWS 1
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_get';
COMMENT ON FUNCTION idsess_get(text) IS 'The live session with this key, its ticket opened; no row when unknown or expired';

CREATE FUNCTION idsess_update(
	key text,
	ticket text DEFAULT NULL,
	ticket_bytes bytea DEFAULT NULL,
	expires timestamptz DEFAULT NULL,
	renewed timestamptz DEFAULT NULL,
	display_name text DEFAULT NULL)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_update';
COMMENT ON FUNCTION idsess_update(text, text, bytea, timestamptz, timestamptz, text) IS
'Renews a session (renewed defaults to now) and replaces what is given: ticket, expires (infinity: never), display name; false when no such session';

CREATE FUNCTION idsess_touch(key text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_touch';
COMMENT ON FUNCTION idsess_touch(text) IS 'Records activity on a live session for the inactivity timeout (a HOT update); false when unknown or expired';

CREATE FUNCTION idsess_delete(key text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_delete';
COMMENT ON FUNCTION idsess_delete(text) IS 'Deletes the session with this key; false when there was none';

CREATE FUNCTION idsess_get_sessions(subject_id text DEFAULT NULL, session_id text DEFAULT NULL)
RETURNS SETOF idsess.session
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_get_sessions';
COMMENT ON FUNCTION idsess_get_sessions(text, text) IS 'Live sessions whose subject and/or sid equal the given ones exactly, tickets opened; at least one filter is required';

CREATE FUNCTION idsess_delete_sessions(subject_id text DEFAULT NULL, session_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_delete_sessions';
COMMENT ON FUNCTION idsess_delete_sessions(text, text) IS 'Deletes sessions whose subject and/or sid equal the given ones exactly; returns how many; at least one filter is required';

CREATE FUNCTION idsess_take_expired(count integer DEFAULT 100)
RETURNS SETOF idsess.session
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_take_expired';
COMMENT ON FUNCTION idsess_take_expired(integer) IS 'Removes and returns up to count expired or idle sessions (no tickets); concurrent callers never get the same session';

CREATE FUNCTION idsess_add_client(key text, client_id text)
RETURNS text[]
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_add_client';
COMMENT ON FUNCTION idsess_add_client(text, text) IS 'Adds a client to a live session if absent; returns the session''s client list';

CREATE FUNCTION idsess_clients(key text)
RETURNS text[]
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_clients';
COMMENT ON FUNCTION idsess_clients(text) IS 'The client list of a live session, in the order the clients joined';

CREATE FUNCTION idsess_add_saml_session(key text, entity_id text, session_index text,
	name_id text, name_id_format text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_add_saml_session';
COMMENT ON FUNCTION idsess_add_saml_session(text, text, text, text, text) IS
'Adds (or replaces, for the same entity_id and session_index) a SAML SP session of a live session; returns the list';

CREATE FUNCTION idsess_saml_sessions(key text)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_saml_sessions';
COMMENT ON FUNCTION idsess_saml_sessions(text) IS 'The SAML SP sessions of a live session, as a JSON array';

CREATE FUNCTION idsess_remove_saml_session(key text, entity_id text)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_remove_saml_session';
COMMENT ON FUNCTION idsess_remove_saml_session(text, text) IS 'Removes the SAML SP sessions of one entity from a live session; returns how many';

CREATE FUNCTION idsess_query(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	display_name text DEFAULT NULL,
	client_id text DEFAULT NULL,
	count integer DEFAULT 25,
	results_token text DEFAULT NULL,
	prior boolean DEFAULT false)
RETURNS SETOF idsess.query_row
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_query';
COMMENT ON FUNCTION idsess_query(text, text, text, text, integer, text, boolean) IS
'Admin search: case-insensitive substring filters on subject, sid and display name plus an exact client filter, paged by an opaque results token (prior: page backward)';

CREATE FUNCTION idsess_revoke(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	client_ids text[] DEFAULT NULL,
	reason text DEFAULT NULL)
RETURNS SETOF idsess.revoked
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_revoke';
COMMENT ON FUNCTION idsess_revoke(text, text, text[], text) IS
'Ends the sessions of a subject and/or sid and returns the clients and SAML SPs to notify (only those in client_ids when given); NOTIFY idsess_revoked per session';

CREATE FUNCTION idsess_take_logouts(count integer DEFAULT 100)
RETURNS SETOF idsess.logout
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_take_logouts';
COMMENT ON FUNCTION idsess_take_logouts(integer) IS
'Removes and returns up to count back-channel logouts owed for expired sessions; concurrent callers get different rows; a rollback gives them back';

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
	OUT last_error_at timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'idsess_worker_status';
COMMENT ON FUNCTION idsess_worker_status() IS 'The expiry workers as shared memory records them (empty unless idsess is in shared_preload_libraries)';

CREATE VIEW idsess.workers AS SELECT * FROM idsess_worker_status();
COMMENT ON VIEW idsess.workers IS 'One row per expiry worker: pid, database, state, last run, removals, next due time, last error';

-- Key operations: for the database owner or a superuser only.
CREATE FUNCTION idsess_key_rotate()
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_key_rotate';
COMMENT ON FUNCTION idsess_key_rotate() IS 'Makes a new data key active and returns its id; older keys keep opening their tickets';

CREATE FUNCTION idsess_reseal(count integer DEFAULT 1000)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_reseal';
COMMENT ON FUNCTION idsess_reseal(integer) IS 'Re-seals up to count tickets under older keys with the active key; returns how many (0: none left)';

CREATE FUNCTION idsess_key_retire(key_id integer)
RETURNS void
LANGUAGE C VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_key_retire';
COMMENT ON FUNCTION idsess_key_retire(integer) IS 'Retires an inactive data key that no ticket uses any more (its wrapped key is erased)';

CREATE FUNCTION idsess_key_destroy(key_id integer, confirm text)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_key_destroy';
COMMENT ON FUNCTION idsess_key_destroy(integer, text) IS
'Crypto-shredding: erases an inactive data key so its tickets can never be opened; confirm must be ''destroy key N''; returns how many tickets it shredded';

CREATE FUNCTION idsess_rewrap_keys(new_key_file text)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_rewrap_keys';
COMMENT ON FUNCTION idsess_rewrap_keys(text) IS
'Master key change: re-wraps every data key under the master key in new_key_file, in one transaction; then point idsess.master_key_file at it and reload';

CREATE VIEW idsess.key_ring AS
SELECT k.id, k.state, k.created, k.deactivated, k.destroyed AS ended,
       (SELECT pg_catalog.count(*) FROM idsess.sessions s WHERE s.key_id = k.id) AS tickets
FROM idsess.keys k
ORDER BY k.id;
COMMENT ON VIEW idsess.key_ring IS 'The data keys: state, when made, deactivated and ended, and how many tickets each still seals';

-- Views for psql: live sessions without tickets, narrow enough for an
-- 80-column terminal.  Filter them with WHERE; subject_id and client_id
-- filters use indexes.
CREATE FUNCTION idsess.short_list(items text[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN pg_catalog.cardinality(items) <= 2 THEN pg_catalog.array_to_string(items, ',')
	ELSE pg_catalog.array_to_string(items[1:2], ',') || ' +' || (pg_catalog.cardinality(items) - 2) END;
COMMENT ON FUNCTION idsess.short_list(text[]) IS 'A list for an 80-column terminal: the first two items, then +N';

CREATE FUNCTION idsess.short_id(id text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN pg_catalog.length(id) <= 12 THEN id ELSE pg_catalog.left(id, 10) || '..' END;
COMMENT ON FUNCTION idsess.short_id(text) IS 'An identifier cut to 12 characters for an 80-column terminal';

CREATE VIEW idsess.active_sessions AS
SELECT s.subject_id, s.display_name,
       idsess.short_id(s.session_id) AS sid,
       idsess.short_list(ARRAY(SELECT c.client_id FROM idsess.session_clients c
                               WHERE c.session = s.id ORDER BY c.added, c.client_id)) AS clients,
       pg_catalog.date_trunc('second', pg_catalog.now() - s.last_active) AS idle,
       pg_catalog.date_trunc('second', s.expires - pg_catalog.now()) AS expires_in
FROM idsess.sessions s
WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now());
COMMENT ON VIEW idsess.active_sessions IS 'Live sessions without tickets: subject, display name, sid (cut short), clients (first two, +N), idle time, time left; idsess_query() gives full ids';

CREATE VIEW idsess.client_sessions AS
SELECT c.client_id, s.subject_id, s.display_name,
       idsess.short_id(s.session_id) AS sid,
       pg_catalog.date_trunc('second', pg_catalog.now() - s.last_active) AS idle,
       pg_catalog.date_trunc('second', s.expires - pg_catalog.now()) AS expires_in
FROM idsess.session_clients c
JOIN idsess.sessions s ON s.id = c.session
WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now());
COMMENT ON VIEW idsess.client_sessions IS 'One row per live session and client that joined it: filter with WHERE client_id = ... ("who is signed in to payroll")';

CREATE VIEW idsess.subjects AS
SELECT s.subject_id, pg_catalog.max(s.display_name) AS display_name,
       pg_catalog.count(*) AS sessions,
       pg_catalog.date_trunc('second', pg_catalog.now() - pg_catalog.max(s.last_active)) AS idle,
       pg_catalog.date_trunc('second', pg_catalog.min(s.expires) - pg_catalog.now()) AS next_expiry_in
FROM idsess.sessions s
WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())
GROUP BY s.subject_id;
COMMENT ON VIEW idsess.subjects IS 'One row per signed-in subject: display name, live sessions, time since last activity, time to the first expiry';

-- Reports.  History comes from idsess.stats_hourly, never from scanning
-- every session ever created.
CREATE FUNCTION idsess_report_active(
	OUT active_sessions bigint, OUT subjects bigint, OUT with_idle_timeout bigint,
	OUT never_expire bigint, OUT expiring_within_1h bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	-- Subjects come from the subject index alone (an index-only scan, no
	-- grouping of every session by subject).
	SELECT COALESCE(t.n, 0), (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.subject_id FROM idsess.sessions d) u),
	       COALESCE(t.idle, 0), COALESCE(t.never, 0), COALESCE(t.soon, 0)
	FROM (SELECT pg_catalog.count(*) AS n,
	             pg_catalog.count(*) FILTER (WHERE s.idle_timeout IS NOT NULL) AS idle,
	             pg_catalog.count(*) FILTER (WHERE s.expires IS NULL) AS never,
	             pg_catalog.count(*) FILTER (WHERE s.expires <= pg_catalog.now() + interval '1 hour') AS soon
	      FROM idsess.sessions s
	      WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())) t;
END;
COMMENT ON FUNCTION idsess_report_active() IS 'Live sessions now: how many, distinct subjects (from the subject index: expired sessions count until the worker removes them, about a second), with an idle timeout, never expiring, expiring within the hour';

CREATE FUNCTION idsess_report_clients()
RETURNS TABLE (client_id text, sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT c.client_id, pg_catalog.count(*) FROM idsess.session_clients c
	GROUP BY c.client_id ORDER BY 2 DESC, 1;
END;
COMMENT ON FUNCTION idsess_report_clients() IS 'Sessions per client application, from the client index alone (expired sessions count until the worker removes them, about a second)';

CREATE FUNCTION idsess_report_schemes()
RETURNS TABLE (scheme text, sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT s.scheme, pg_catalog.count(*) FROM idsess.sessions s
	WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())
	GROUP BY s.scheme ORDER BY 2 DESC, 1;
END;
COMMENT ON FUNCTION idsess_report_schemes() IS 'Live sessions per authentication scheme';

CREATE FUNCTION idsess_report_history(
	since timestamptz DEFAULT pg_catalog.now() - interval '1 day',
	until timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (hour timestamptz, created bigint, expired bigint, idle bigint,
               revoked bigint, deleted bigint, limited bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT g.hour, COALESCE(h.created, 0), COALESCE(h.expired, 0), COALESCE(h.idle, 0),
	       COALESCE(h.revoked, 0), COALESCE(h.deleted, 0), COALESCE(h.limited, 0)
	FROM pg_catalog.generate_series(pg_catalog.date_trunc('hour', since),
	                                pg_catalog.date_trunc('hour', until), interval '1 hour') AS g(hour)
	LEFT JOIN idsess.stats_hourly h ON h.hour = g.hour
	ORDER BY g.hour;
END;
COMMENT ON FUNCTION idsess_report_history(timestamptz, timestamptz) IS
'Per hour between since and until: sessions created, expired, ended by inactivity, revoked, deleted and ended by the session limit (needs idsess preloaded)';

CREATE FUNCTION idsess_report_expiring(minutes integer DEFAULT 15)
RETURNS TABLE (subject_id text, display_name text, sid text, clients text, expires_in interval)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT s.subject_id, s.display_name, idsess.short_id(s.session_id),
	       idsess.short_list(ARRAY(SELECT c.client_id FROM idsess.session_clients c
	                               WHERE c.session = s.id ORDER BY c.added, c.client_id)),
	       pg_catalog.date_trunc('second', s.due - pg_catalog.now())
	FROM idsess.sessions s
	WHERE s.due > pg_catalog.now() AND s.due <= pg_catalog.now() + minutes * interval '1 minute'
	  AND (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())
	ORDER BY s.due;
END;
COMMENT ON FUNCTION idsess_report_expiring(integer) IS 'Live sessions that expire (or go idle, unless touched) within the next N minutes, soonest first';

CREATE FUNCTION idsess_report_age()
RETURNS TABLE (age text, sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT b.label, COALESCE(t.n, 0)
	FROM (VALUES (1, 'under 5 minutes'), (2, '5 to 60 minutes'), (3, '1 to 8 hours'),
	             (4, '8 to 24 hours'), (5, '1 to 7 days'), (6, '7 days or more')) AS b(bucket, label)
	LEFT JOIN (SELECT CASE WHEN pg_catalog.now() - s.created < interval '5 minutes' THEN 1
	                       WHEN pg_catalog.now() - s.created < interval '1 hour' THEN 2
	                       WHEN pg_catalog.now() - s.created < interval '8 hours' THEN 3
	                       WHEN pg_catalog.now() - s.created < interval '1 day' THEN 4
	                       WHEN pg_catalog.now() - s.created < interval '7 days' THEN 5
	                       ELSE 6 END AS bucket, pg_catalog.count(*) AS n
	           FROM idsess.sessions s WHERE (s.expires IS NULL OR s.expires > pg_catalog.now()) AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now()) GROUP BY 1) t ON t.bucket = b.bucket
	ORDER BY b.bucket;
END;
COMMENT ON FUNCTION idsess_report_age() IS 'Live sessions by age (time since sign-in), in six buckets';

CREATE FUNCTION idsess_report_concurrency()
RETURNS TABLE (sessions_per_subject text, subjects bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT CASE WHEN n >= 10 THEN '10 or more' ELSE n::text END, pg_catalog.count(*)
	FROM (SELECT pg_catalog.count(*) AS n FROM idsess.sessions s GROUP BY s.subject_id) per_subject
	GROUP BY 1 ORDER BY pg_catalog.min(n);
END;
COMMENT ON FUNCTION idsess_report_concurrency() IS 'How many subjects have 1, 2, ... concurrent sessions, from the subject index alone (expired sessions count until the worker removes them)';

CREATE FUNCTION idsess_report_top_subjects(top integer DEFAULT 10)
RETURNS TABLE (subject_id text, display_name text, sessions bigint, clients text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT t.subject_id,
	       (SELECT pg_catalog.max(s.display_name) FROM idsess.sessions s WHERE s.subject_id = t.subject_id),
	       t.sessions,
	       idsess.short_list(ARRAY(SELECT DISTINCT c.client_id FROM idsess.session_clients c
	                               JOIN idsess.sessions s ON s.id = c.session
	                               WHERE s.subject_id = t.subject_id ORDER BY 1))
	FROM (SELECT s.subject_id, pg_catalog.count(*) AS sessions FROM idsess.sessions s
	      GROUP BY s.subject_id ORDER BY 2 DESC, 1 LIMIT top) t
	ORDER BY t.sessions DESC, t.subject_id;
END;
COMMENT ON FUNCTION idsess_report_top_subjects(integer) IS 'The subjects with the most concurrent sessions and the clients they use, from the subject index (expired sessions count until the worker removes them)';

-- Privileges.  Nothing is executable by PUBLIC; three NOLOGIN roles carry
-- the three jobs and are granted to login roles by the DBA.  Roles are
-- cluster-wide, so a second database's CREATE EXTENSION reuses them.
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
COMMENT ON ROLE idsess_service IS 'idsess: the identity server''s role; every store operation, opens tickets';
COMMENT ON ROLE idsess_admin IS 'idsess: search, revoke and report on sessions; never opens a ticket';
COMMENT ON ROLE idsess_reporting IS 'idsess: aggregates and session metadata only; no tickets, no changes';

-- Every function of the extension, whatever its schema, loses PUBLIC's
-- default EXECUTE; the grants below give each role its part.
DO $revoke$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT d.objid::regprocedure FROM pg_catalog.pg_depend d
		WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
		  AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'idsess')
		  AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$revoke$;

GRANT USAGE ON SCHEMA idsess TO idsess_service, idsess_admin, idsess_reporting;

GRANT EXECUTE ON FUNCTION
	idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer),
	idsess_get(text),
	idsess_update(text, text, bytea, timestamptz, timestamptz, text),
	idsess_touch(text),
	idsess_delete(text),
	idsess_get_sessions(text, text),
	idsess_delete_sessions(text, text),
	idsess_take_expired(integer),
	idsess_add_client(text, text),
	idsess_clients(text),
	idsess_add_saml_session(text, text, text, text, text),
	idsess_saml_sessions(text),
	idsess_remove_saml_session(text, text),
	idsess_query(text, text, text, text, integer, text, boolean),
	idsess_revoke(text, text, text[], text),
	idsess_take_logouts(integer)
TO idsess_service;

GRANT EXECUTE ON FUNCTION
	idsess_delete(text),
	idsess_delete_sessions(text, text),
	idsess_clients(text),
	idsess_saml_sessions(text),
	idsess_query(text, text, text, text, integer, text, boolean),
	idsess_revoke(text, text, text[], text),
	idsess_worker_status()
TO idsess_admin;
GRANT SELECT ON idsess.audit, idsess.workers, idsess.key_ring TO idsess_admin;

-- The views call these helpers with the caller's privileges.
GRANT EXECUTE ON FUNCTION idsess.short_list(text[]), idsess.short_id(text)
	TO idsess_service, idsess_admin, idsess_reporting;
GRANT SELECT ON idsess.active_sessions, idsess.client_sessions, idsess.subjects TO idsess_admin;

GRANT EXECUTE ON FUNCTION
	idsess_worker_status(),
	idsess_report_active(),
	idsess_report_clients(),
	idsess_report_schemes(),
	idsess_report_history(timestamptz, timestamptz),
	idsess_report_expiring(integer),
	idsess_report_age(),
	idsess_report_concurrency(),
	idsess_report_top_subjects(integer)
TO idsess_reporting, idsess_admin;
GRANT SELECT ON idsess.workers TO idsess_reporting;
