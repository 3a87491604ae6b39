/* idsess--1.1--1.2.sql: from idsess 1.1 to 1.2 (also the last part of a fresh 1.2 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.2'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql, idsess--1.0--1.1.sql
-- and then this script, so every 1.2 install is an updated 1.1 one.  As in
-- 1.1, each section below belongs to one change; new objects get a COMMENT,
-- pg_extension_config_dump when they hold data, and privileges as before
-- (nothing to PUBLIC).

------------------------------------------------------------------------
-- Declared API versions.  1.0 and 1.1 bound their functions to the same
-- unversioned C symbols, which the library still serves for a database not
-- yet updated (it then asks which schema it is in: src/version.c).  From
-- 1.2 on, each function whose behaviour depends on the version binds the
-- symbol of its version, with the signature, defaults and settings it had;
-- a function replaced in place keeps its comment and its privileges.

CREATE OR REPLACE FUNCTION @extschema@.idsess_add_client(key text, client_id text, client_sid text DEFAULT NULL::text)
 RETURNS text[]
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_add_client_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_add_saml_session(key text, entity_id text, session_index text, name_id text, name_id_format text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_add_saml_session_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_clients(key text, sids boolean DEFAULT false)
 RETURNS text[]
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_clients_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_create(subject_id text, ticket text DEFAULT NULL::text, ticket_bytes bytea DEFAULT NULL::bytea, key text DEFAULT NULL::text, session_id text DEFAULT NULL::text, scheme text DEFAULT 'idsrv'::text, display_name text DEFAULT NULL::text, expires timestamp with time zone DEFAULT NULL::timestamp with time zone, idle_timeout interval DEFAULT NULL::interval, created timestamp with time zone DEFAULT NULL::timestamp with time zone, max_sessions integer DEFAULT NULL::integer, issuer text DEFAULT NULL::text)
 RETURNS idsess.created
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_create_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_delete(key text)
 RETURNS boolean
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_delete_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_delete_sessions(subject_id text DEFAULT NULL::text, session_id text DEFAULT NULL::text)
 RETURNS bigint
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_delete_sessions_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_get(key text)
 RETURNS SETOF idsess.session
 LANGUAGE c
 STABLE SECURITY DEFINER ROWS 1
AS 'MODULE_PATHNAME', 'idsess_get_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_get_sessions(subject_id text DEFAULT NULL::text, session_id text DEFAULT NULL::text)
 RETURNS SETOF idsess.session
 LANGUAGE c
 STABLE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'idsess_get_sessions_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_query(subject_id text DEFAULT NULL::text, session_id text DEFAULT NULL::text, display_name text DEFAULT NULL::text, client_id text DEFAULT NULL::text, count integer DEFAULT 25, results_token text DEFAULT NULL::text, prior boolean DEFAULT false, tickets boolean DEFAULT false)
 RETURNS SETOF idsess.query_row
 LANGUAGE c
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_query_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_remove_client(key text, client_id text)
 RETURNS text[]
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_remove_client_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_remove_saml_session(key text, entity_id text)
 RETURNS integer
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_remove_saml_session_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_reseal(count integer DEFAULT 1000)
 RETURNS integer
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_reseal_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_revoke(subject_id text DEFAULT NULL::text, session_id text DEFAULT NULL::text, client_ids text[] DEFAULT NULL::text[], reason text DEFAULT NULL::text)
 RETURNS SETOF idsess.revoked
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_revoke_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_take_logouts(count integer DEFAULT 100)
 RETURNS SETOF idsess.logout
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_take_logouts_1_2';
CREATE OR REPLACE FUNCTION @extschema@.idsess_update(key text, ticket text DEFAULT NULL::text, ticket_bytes bytea DEFAULT NULL::bytea, expires timestamp with time zone DEFAULT NULL::timestamp with time zone, renewed timestamp with time zone DEFAULT NULL::timestamp with time zone, display_name text DEFAULT NULL::text, subject_id text DEFAULT NULL::text, session_id text DEFAULT NULL::text, created timestamp with time zone DEFAULT NULL::timestamp with time zone, scheme text DEFAULT NULL::text, issuer text DEFAULT NULL::text, new_key text DEFAULT NULL::text, upsert boolean DEFAULT false, idle_timeout interval DEFAULT NULL::interval, clients text[] DEFAULT NULL::text[], client_sids text[] DEFAULT NULL::text[])
 RETURNS boolean
 LANGUAGE c
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS 'MODULE_PATHNAME', 'idsess_update_1_2';

------------------------------------------------------------------------
-- Every way a session ends reaches a back-channel logout: sessions the
-- session limit ends during an upsert (idsess_update(upsert => true)),
-- which returns no ended sessions, are queued in the outbox with the cause
-- 'limit', as the worker queues expired ones.  idsess_create still returns the sessions
-- it ended, and queues none.
ALTER TABLE idsess.logout_outbox
	DROP CONSTRAINT logout_outbox_cause_check,
	ADD CONSTRAINT logout_outbox_cause_check CHECK (cause IN ('expired', 'idle', 'limit'));
COMMENT ON TABLE idsess.logout_outbox IS 'Back-channel logouts owed for sessions that ended with no caller to notify (expired, idle, or ended by the session limit during an upsert), drained by idsess_take_logouts()';

------------------------------------------------------------------------
-- take_expired at least once where transactions commit on their own (the
-- shards behind idsess_proxy): with a lease, the expired sessions are
-- claimed, not removed; a later call names the ones delivered in `done`,
-- which removes them.  Without a lease, as in 1.1.
DROP FUNCTION @extschema@.idsess_take_expired(integer, boolean);
CREATE FUNCTION @extschema@.idsess_take_expired(
	count integer DEFAULT 100,
	tickets boolean DEFAULT false,
	lease interval DEFAULT NULL,
	done text[] DEFAULT NULL)
RETURNS SETOF idsess.session
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_take_expired_1_2';
COMMENT ON FUNCTION @extschema@.idsess_take_expired(integer, boolean, interval, text[]) IS
'Removes and returns up to count expired or idle sessions (tickets: opened, for roles of idsess_service only); concurrent callers never get the same session.  lease: claims them instead, for that long (at most a day); done: keys of claimed sessions delivered, removed first (count 0: only that)';
REVOKE ALL ON FUNCTION @extschema@.idsess_take_expired(integer, boolean, interval, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_take_expired(integer, boolean, interval, text[]) TO idsess_service;
-- metrics (issue 36): what the Prometheus exporter's queries
-- (monitoring/idsess-queries.yaml) read, logged in as idsess_reporting:
-- cumulative session events, the logout outbox, the revoked-key tombstones
-- and the tickets that failed to seal or open.  Only the reporting and
-- admin roles may call the new functions.

-- Cumulative events: the hourly history is trimmed to idsess.stats_retention,
-- so a sum over it falls when an hour is dropped, which Prometheus reads as a
-- counter reset.  The hours trimmed are added here first, so that this row
-- plus the hours kept is every event since the extension was installed.  A
-- dump keeps both; TRUNCATE of the history resets the totals.
CREATE TABLE idsess.stats_trimmed (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	created bigint NOT NULL DEFAULT 0,
	expired bigint NOT NULL DEFAULT 0,
	idle bigint NOT NULL DEFAULT 0,
	revoked bigint NOT NULL DEFAULT 0,
	deleted bigint NOT NULL DEFAULT 0,
	limited bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE idsess.stats_trimmed IS
'Session events of the hours trimmed from idsess.stats_hourly (at most one row): with the hours kept, the totals idsess_report_totals() returns';
SELECT pg_catalog.pg_extension_config_dump('idsess.stats_trimmed', '');
REVOKE ALL ON idsess.stats_trimmed FROM PUBLIC;

-- A row trigger: the worker's trim deletes at most one hour a round, and a
-- round that deletes none runs nothing here.
CREATE FUNCTION idsess.stats_keep_trimmed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	INSERT INTO idsess.stats_trimmed AS t (one, created, expired, idle, revoked, deleted, limited)
	VALUES (true, OLD.created, OLD.expired, OLD.idle, OLD.revoked, OLD.deleted, OLD.limited)
	ON CONFLICT (one) DO UPDATE SET
		created = t.created + EXCLUDED.created, expired = t.expired + EXCLUDED.expired,
		idle = t.idle + EXCLUDED.idle, revoked = t.revoked + EXCLUDED.revoked,
		deleted = t.deleted + EXCLUDED.deleted, limited = t.limited + EXCLUDED.limited;
	RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION idsess.stats_keep_trimmed() IS
'Trigger of idsess.stats_hourly: adds each deleted hour to idsess.stats_trimmed';
REVOKE ALL ON FUNCTION idsess.stats_keep_trimmed() FROM PUBLIC;
CREATE TRIGGER keep_trimmed AFTER DELETE ON idsess.stats_hourly
	FOR EACH ROW EXECUTE FUNCTION idsess.stats_keep_trimmed();
COMMENT ON TRIGGER keep_trimmed ON idsess.stats_hourly IS
'Keeps the totals whole when the worker trims the history (idsess.stats_trimmed)';

CREATE FUNCTION @extschema@.idsess_report_totals(
	OUT created bigint, OUT expired bigint, OUT idle bigint,
	OUT revoked bigint, OUT deleted bigint, OUT limited bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT (COALESCE(t.created, 0) + h.created)::bigint, (COALESCE(t.expired, 0) + h.expired)::bigint,
	       (COALESCE(t.idle, 0) + h.idle)::bigint, (COALESCE(t.revoked, 0) + h.revoked)::bigint,
	       (COALESCE(t.deleted, 0) + h.deleted)::bigint, (COALESCE(t.limited, 0) + h.limited)::bigint
	FROM (SELECT COALESCE(pg_catalog.sum(s.created), 0) AS created, COALESCE(pg_catalog.sum(s.expired), 0) AS expired,
	             COALESCE(pg_catalog.sum(s.idle), 0) AS idle, COALESCE(pg_catalog.sum(s.revoked), 0) AS revoked,
	             COALESCE(pg_catalog.sum(s.deleted), 0) AS deleted, COALESCE(pg_catalog.sum(s.limited), 0) AS limited
	      FROM idsess.stats_hourly s) h
	LEFT JOIN idsess.stats_trimmed t ON true;
END;
COMMENT ON FUNCTION @extschema@.idsess_report_totals() IS
'Sessions created, expired, ended by inactivity, revoked, deleted and ended by the session limit since the extension was installed, as of the worker''s last flush (needs idsess preloaded): never decrease, for Prometheus counters';

CREATE FUNCTION @extschema@.idsess_report_logout_outbox(OUT owed bigint, OUT oldest timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT (SELECT pg_catalog.count(*) FROM idsess.logout_outbox),
	       (SELECT o.queued FROM idsess.logout_outbox o ORDER BY o.id LIMIT 1);
END;
COMMENT ON FUNCTION @extschema@.idsess_report_logout_outbox() IS
'The back-channel logouts owed (idsess.logout_outbox, drained by idsess_take_logouts()): how many, and when the oldest was queued (NULL: none owed)';

CREATE FUNCTION @extschema@.idsess_report_revoked_keys(
	OUT tombstones bigint, OUT for_good bigint, OUT past_until bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE r.until IS NULL),
	       pg_catalog.count(*) FILTER (WHERE r.until <= pg_catalog.now())
	FROM idsess.revoked_keys r;
END;
COMMENT ON FUNCTION @extschema@.idsess_report_revoked_keys() IS
'Tombstones of revoked session keys (idsess.revoked_keys): how many, how many for good (their session never expired), how many past their time and not yet purged by the worker';

CREATE FUNCTION @extschema@.idsess_ticket_failures(
	OUT operation text, OUT sqlstate text, OUT failures bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'idsess_ticket_failures';
COMMENT ON FUNCTION @extschema@.idsess_ticket_failures() IS
'This database''s tickets that failed to seal or open since the server started, per operation (seal, open) and SQLSTATE; the usual kinds show 0 before they happen (needs idsess preloaded)';

REVOKE ALL ON FUNCTION
	@extschema@.idsess_report_totals(),
	@extschema@.idsess_report_logout_outbox(),
	@extschema@.idsess_report_revoked_keys(),
	@extschema@.idsess_ticket_failures()
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	@extschema@.idsess_report_totals(),
	@extschema@.idsess_report_logout_outbox(),
	@extschema@.idsess_report_revoked_keys(),
	@extschema@.idsess_ticket_failures()
TO idsess_reporting, idsess_admin;

------------------------------------------------------------------------
-- Documents (issue 36): the comment of idsess_revoke said it notified once
-- per session; it sends one notification per revocation, naming its audit
-- row, when the transaction commits.

COMMENT ON FUNCTION @extschema@.idsess_revoke(text, text, text[], text) IS
'Ends the sessions of a subject and/or sid and returns the clients and SAML SPs to notify (only those in client_ids when given); records the revocation in idsess.audit and, when sessions ended, sends one NOTIFY idsess_revoked with {"audit_id": N} at commit';

------------------------------------------------------------------------
-- One liveness rule (issue 37): a session is live until it expires or has
-- been idle too long.  The views and reports ask this function; being a
-- plain SQL expression it is inlined, so their plans and index use are
-- what the written-out condition gave.  The library keeps two copies for
-- itself: the hot path's C test (lookup.c) and the condition its queries
-- use (IDSESS_LIVE in session_sql.h; they also serve 1.0 and 1.1 schemas,
-- which lack this function).  sql/expire.sql checks all three agree at
-- the boundaries.  The views and reports that use it are defined once,
-- with the tenant filter, in the Tenants section below.

CREATE FUNCTION idsess.session_is_live(expires timestamptz, last_active timestamptz,
                                       idle_timeout interval)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (expires IS NULL OR expires > pg_catalog.now())
   AND (idle_timeout IS NULL OR last_active + idle_timeout > pg_catalog.now());
COMMENT ON FUNCTION idsess.session_is_live(timestamptz, timestamptz, interval) IS
'Whether a session with this expiry, last activity and idle timeout is live now: the one definition the views and reports use';
REVOKE ALL ON FUNCTION idsess.session_is_live(timestamptz, timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION idsess.session_is_live(timestamptz, timestamptz, interval)
	TO idsess_service, idsess_admin, idsess_reporting;

------------------------------------------------------------------------
-- Tenants (issue 38 part 1).  A session may carry a tenant; NULL is the
-- default tenant, so callers that name none are unchanged.  Keys stay
-- unique across tenants (the one unique constraint on key).  A role made
-- admin of tenants with idsess_grant_tenant_admin sees and ends those
-- tenants' sessions only, in every admin path: each one filters rows
-- through idsess.tenant_visible(), which reads the caller's tenants from
-- its session user and the role it SET ROLE to (never from current_user,
-- a setting or an argument), so a SECURITY DEFINER function between the
-- caller and idsess changes nothing (src/tenant.c, doc/security.md).
ALTER TABLE idsess.sessions ADD COLUMN tenant text;
-- A tenant admin's searches and a per-tenant revocation read this index;
-- default-tenant rows stay out of it (no cost to a store without tenants).
CREATE INDEX sessions_tenant_idx ON idsess.sessions (tenant, id) WHERE tenant IS NOT NULL;

CREATE TABLE idsess.tenant_admins (
	role regrole NOT NULL,
	tenant text NOT NULL CHECK (pg_catalog.length(tenant) BETWEEN 1 AND 200),
	granted timestamptz NOT NULL DEFAULT pg_catalog.now(),
	granted_by name NOT NULL DEFAULT SESSION_USER,
	PRIMARY KEY (role, tenant)
);
COMMENT ON TABLE idsess.tenant_admins IS
'Roles that administer some tenants only, and which (idsess_grant_tenant_admin); a role in here, or any role it is a member of, is restricted to its tenants in every admin path';
SELECT pg_catalog.pg_extension_config_dump('idsess.tenant_admins', '');
REVOKE ALL ON idsess.tenant_admins FROM PUBLIC;

-- Revocations by a tenant admin, or of one tenant, name their tenants, so
-- that a tenant admin can read its own history (idsess.tenant_audit).
ALTER TABLE idsess.audit ADD COLUMN tenants text[], ADD COLUMN filter jsonb;
COMMENT ON COLUMN idsess.audit.tenants IS 'The tenants a revocation was confined to (NULL: all tenants)';
COMMENT ON COLUMN idsess.audit.filter IS 'The selection filters of a revocation beyond subject and sid (idsess_revoke''s 1.2 arguments), and whether it was a dry run';

DO $role$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'idsess_tenant_admin') THEN
		CREATE ROLE idsess_tenant_admin NOLOGIN;
	END IF;
END
$role$;
COMMENT ON ROLE idsess_tenant_admin IS 'idsess: search, revoke and report on the sessions of the tenants idsess.tenant_admins gives each member; granted by idsess_grant_tenant_admin()';
GRANT USAGE ON SCHEMA idsess TO idsess_tenant_admin;

CREATE FUNCTION idsess.tenant_visible(tenant text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'idsess_tenant_visible';
COMMENT ON FUNCTION idsess.tenant_visible(text) IS
'Whether the calling role (its session user and the role it SET ROLE to, never current_user) may see a session of this tenant: every tenant unless idsess.tenant_admins restricts it';

CREATE FUNCTION idsess.tenant_scope()
RETURNS text[]
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'idsess_tenant_scope';
COMMENT ON FUNCTION idsess.tenant_scope() IS
'The tenants the calling role administers, sorted; NULL: all tenants (not restricted)';

CREATE FUNCTION idsess.require_all_tenants(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'idsess_require_all_tenants';
COMMENT ON FUNCTION idsess.require_all_tenants(text) IS
'true, or an error (42501) when the calling role is restricted to some tenants: guards what idsess keeps for all tenants together (the hourly history, key and outbox counts)';

CREATE FUNCTION @extschema@.idsess_grant_tenant_admin(role regrole, tenant text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_grant_tenant_admin';
COMMENT ON FUNCTION @extschema@.idsess_grant_tenant_admin(regrole, text) IS
'Makes role an admin of tenant (grants it idsess_tenant_admin): it then sees, counts, reports on, revokes and deletes that tenant''s sessions only (with its other tenants''); refuses a role with idsess_service, idsess_admin or idsess_reporting; false when it already was';

CREATE FUNCTION @extschema@.idsess_revoke_tenant_admin(role regrole, tenant text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_revoke_tenant_admin';
COMMENT ON FUNCTION @extschema@.idsess_revoke_tenant_admin(regrole, text) IS
'Takes tenant from role''s tenants; with its last tenant the role also loses idsess_tenant_admin (it would otherwise see all tenants); false when it was not admin of tenant';

REVOKE ALL ON FUNCTION
	idsess.tenant_visible(text), idsess.tenant_scope(), idsess.require_all_tenants(text),
	@extschema@.idsess_grant_tenant_admin(regrole, text),
	@extschema@.idsess_revoke_tenant_admin(regrole, text)
FROM PUBLIC;
-- Views and SQL reports call these with the caller's privileges.
GRANT EXECUTE ON FUNCTION
	idsess.tenant_visible(text), idsess.tenant_scope(), idsess.require_all_tenants(text)
TO idsess_service, idsess_admin, idsess_reporting, idsess_tenant_admin;
GRANT EXECUTE ON FUNCTION idsess.short_list(text[]), idsess.short_id(text),
	idsess.session_is_live(timestamptz, timestamptz, interval) TO idsess_tenant_admin;

-- The views, filtered; security_barrier keeps a caller's own WHERE
-- function from seeing rows of other tenants before the filter does.
CREATE OR REPLACE VIEW idsess.active_sessions WITH (security_barrier) AS
SELECT s.subject_id, s.display_name,
       idsess.short_id(s.session_id) AS sid,
       idsess.short_list(ARRAY(SELECT c.client_id FROM idsess.session_clients c
                               WHERE c.session = s.id ORDER BY c.added, c.client_id)) AS clients,
       pg_catalog.date_trunc('second', pg_catalog.now() - s.last_active) AS idle,
       pg_catalog.date_trunc('second', s.expires - pg_catalog.now()) AS expires_in,
       s.tenant
FROM idsess.sessions s
WHERE idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
  AND idsess.tenant_visible(s.tenant);
CREATE OR REPLACE VIEW idsess.client_sessions WITH (security_barrier) AS
SELECT c.client_id, s.subject_id, s.display_name,
       idsess.short_id(s.session_id) AS sid,
       pg_catalog.date_trunc('second', pg_catalog.now() - s.last_active) AS idle,
       pg_catalog.date_trunc('second', s.expires - pg_catalog.now()) AS expires_in,
       s.tenant
FROM idsess.session_clients c
JOIN idsess.sessions s ON s.id = c.session
WHERE idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
  AND idsess.tenant_visible(s.tenant);
-- A subject of two tenants is two people: one row per tenant and subject.
DROP VIEW idsess.subjects;
CREATE VIEW idsess.subjects WITH (security_barrier) AS
SELECT s.subject_id, pg_catalog.max(s.display_name) AS display_name,
       pg_catalog.count(*) AS sessions,
       pg_catalog.date_trunc('second', pg_catalog.now() - pg_catalog.max(s.last_active)) AS idle,
       pg_catalog.date_trunc('second', pg_catalog.min(s.expires) - pg_catalog.now()) AS next_expiry_in,
       s.tenant
FROM idsess.sessions s
WHERE s.subject_id IS NOT NULL
  AND idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
  AND idsess.tenant_visible(s.tenant)
GROUP BY s.tenant, s.subject_id;
COMMENT ON VIEW idsess.subjects IS 'One row per signed-in subject and tenant: display name, live sessions, time since last activity, time to the first expiry';
GRANT SELECT ON idsess.active_sessions, idsess.client_sessions, idsess.subjects
	TO idsess_admin, idsess_tenant_admin;

CREATE VIEW idsess.tenant_audit WITH (security_barrier) AS
SELECT a.id, a.at, a.actor, a.action, a.subject_id, a.session_id, a.client_ids, a.reason,
       a.sessions, a.clients, a.tenants, a.filter
FROM idsess.audit a
WHERE a.action = 'revoke' AND a.tenants IS NOT NULL AND a.tenants <> '{}'
  AND (idsess.tenant_scope() IS NULL OR a.tenants <@ idsess.tenant_scope());
COMMENT ON VIEW idsess.tenant_audit IS
'The revocations confined to tenants the caller administers (all of them for a role not restricted to tenants): a tenant admin''s history';
GRANT SELECT ON idsess.tenant_audit TO idsess_admin, idsess_tenant_admin;

-- Reports over live sessions: the caller's tenants only.  Subjects are
-- (tenant, subject) pairs; while no session has a tenant and the caller
-- sees every tenant, a pair is a subject, counted from the subject index
-- alone as in 1.1 (the pairs need a pass over the table).
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_active(
	OUT active_sessions bigint, OUT subjects bigint, OUT with_idle_timeout bigint,
	OUT never_expire bigint, OUT expiring_within_1h bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT COALESCE(t.n, 0),
	       CASE WHEN idsess.tenant_scope() IS NULL
	                 AND NOT EXISTS (SELECT FROM idsess.sessions e WHERE e.tenant IS NOT NULL)
	            THEN (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.subject_id FROM idsess.sessions d
	                                                  WHERE d.subject_id IS NOT NULL) u)
	            ELSE (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.tenant, d.subject_id FROM idsess.sessions d
	                                                  WHERE d.subject_id IS NOT NULL AND idsess.tenant_visible(d.tenant)) u)
	       END,
	       COALESCE(t.idle, 0), COALESCE(t.never, 0), COALESCE(t.soon, 0)
	FROM (SELECT pg_catalog.count(*) AS n,
	             pg_catalog.count(*) FILTER (WHERE s.idle_timeout IS NOT NULL) AS idle,
	             pg_catalog.count(*) FILTER (WHERE s.expires IS NULL) AS never,
	             pg_catalog.count(*) FILTER (WHERE s.expires <= pg_catalog.now() + interval '1 hour') AS soon
	      FROM idsess.sessions s
	      WHERE idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
	        AND idsess.tenant_visible(s.tenant)) t;
END;
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_clients()
RETURNS TABLE (client_id text, sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT c.client_id, pg_catalog.count(*) FROM idsess.session_clients c
	WHERE idsess.tenant_scope() IS NULL
	   OR EXISTS (SELECT FROM idsess.sessions s WHERE s.id = c.session AND idsess.tenant_visible(s.tenant))
	GROUP BY c.client_id ORDER BY 2 DESC, 1;
END;
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_schemes()
RETURNS TABLE (scheme text, sessions bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT s.scheme, pg_catalog.count(*) FROM idsess.sessions s
	WHERE idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
	  AND idsess.tenant_visible(s.tenant)
	GROUP BY s.scheme ORDER BY 2 DESC, 1;
END;
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
	  AND idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
	  AND idsess.tenant_visible(s.tenant)
	ORDER BY s.due;
END
$fn$;
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_age()
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
	           FROM idsess.sessions s WHERE idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
	             AND idsess.tenant_visible(s.tenant) GROUP BY 1) t ON t.bucket = b.bucket
	ORDER BY b.bucket;
END;
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_concurrency()
RETURNS TABLE (sessions_per_subject text, subjects bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT CASE WHEN n >= 10 THEN '10 or more' ELSE n::text END, pg_catalog.count(*)
	FROM (SELECT pg_catalog.count(*) AS n FROM idsess.sessions s
	      WHERE s.subject_id IS NOT NULL AND idsess.tenant_visible(s.tenant)
	      GROUP BY s.tenant, s.subject_id) per_subject
	GROUP BY 1 ORDER BY pg_catalog.min(n);
END;
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
	       (SELECT pg_catalog.max(s.display_name) FROM idsess.sessions s
	        WHERE s.subject_id = t.subject_id AND s.tenant IS NOT DISTINCT FROM t.tenant),
	       t.sessions,
	       idsess.short_list(ARRAY(SELECT DISTINCT c.client_id FROM idsess.session_clients c
	                               JOIN idsess.sessions s ON s.id = c.session
	                               WHERE s.subject_id = t.subject_id AND s.tenant IS NOT DISTINCT FROM t.tenant ORDER BY 1))
	FROM (SELECT s.tenant, s.subject_id, pg_catalog.count(*) AS sessions FROM idsess.sessions s
	      WHERE s.subject_id IS NOT NULL AND idsess.tenant_visible(s.tenant)
	      GROUP BY s.tenant, s.subject_id ORDER BY 3 DESC, 2 LIMIT n) t
	ORDER BY t.sessions DESC, t.subject_id;
END
$fn$;

-- Each tenant's session events, per hour: the same events as
-- idsess.stats_hourly, of the sessions that have a tenant, which the
-- worker flushes from shared memory each round (src/stats.c).  Trimmed with
-- the database's history; the hours trimmed are kept per tenant in
-- idsess.stats_trimmed_tenants, for totals that never decrease.
CREATE TABLE idsess.stats_hourly_tenants (
	tenant text NOT NULL,
	hour timestamptz NOT NULL,
	created bigint NOT NULL DEFAULT 0,
	expired bigint NOT NULL DEFAULT 0,
	idle bigint NOT NULL DEFAULT 0,
	revoked bigint NOT NULL DEFAULT 0,
	deleted bigint NOT NULL DEFAULT 0,
	limited bigint NOT NULL DEFAULT 0,
	max_lifetime bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant, hour)
);
CREATE INDEX stats_hourly_tenants_hour ON idsess.stats_hourly_tenants (hour);
COMMENT ON TABLE idsess.stats_hourly_tenants IS
'Sessions of each tenant created, expired, ended by inactivity, revoked, deleted, ended by the session limit and ended at their absolute lifetime, per hour; kept for idsess.stats_retention (the default tenant''s are in idsess.stats_hourly only)';
COMMENT ON INDEX idsess.stats_hourly_tenants_hour IS 'Trimming the hours past idsess.stats_retention, and the history of all tenants at once';
SELECT pg_catalog.pg_extension_config_dump('idsess.stats_hourly_tenants', '');
REVOKE ALL ON idsess.stats_hourly_tenants FROM PUBLIC;

CREATE TABLE idsess.stats_trimmed_tenants (
	tenant text PRIMARY KEY,
	created bigint NOT NULL DEFAULT 0,
	expired bigint NOT NULL DEFAULT 0,
	idle bigint NOT NULL DEFAULT 0,
	revoked bigint NOT NULL DEFAULT 0,
	deleted bigint NOT NULL DEFAULT 0,
	limited bigint NOT NULL DEFAULT 0,
	max_lifetime bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE idsess.stats_trimmed_tenants IS
'Session events of each tenant in the hours trimmed from idsess.stats_hourly_tenants: with the hours kept, the totals idsess_report_totals(tenant) returns';
SELECT pg_catalog.pg_extension_config_dump('idsess.stats_trimmed_tenants', '');
REVOKE ALL ON idsess.stats_trimmed_tenants FROM PUBLIC;

CREATE FUNCTION idsess.stats_keep_trimmed_tenants()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	INSERT INTO idsess.stats_trimmed_tenants AS t (tenant, created, expired, idle, revoked, deleted, limited, max_lifetime)
	VALUES (OLD.tenant, OLD.created, OLD.expired, OLD.idle, OLD.revoked, OLD.deleted, OLD.limited, OLD.max_lifetime)
	ON CONFLICT (tenant) DO UPDATE SET
		created = t.created + EXCLUDED.created, expired = t.expired + EXCLUDED.expired,
		idle = t.idle + EXCLUDED.idle, revoked = t.revoked + EXCLUDED.revoked,
		deleted = t.deleted + EXCLUDED.deleted, limited = t.limited + EXCLUDED.limited,
		max_lifetime = t.max_lifetime + EXCLUDED.max_lifetime;
	RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION idsess.stats_keep_trimmed_tenants() IS
'Trigger of idsess.stats_hourly_tenants: adds each deleted hour to idsess.stats_trimmed_tenants';
REVOKE ALL ON FUNCTION idsess.stats_keep_trimmed_tenants() FROM PUBLIC;
CREATE TRIGGER keep_trimmed AFTER DELETE ON idsess.stats_hourly_tenants
	FOR EACH ROW EXECUTE FUNCTION idsess.stats_keep_trimmed_tenants();
COMMENT ON TRIGGER keep_trimmed ON idsess.stats_hourly_tenants IS
'Keeps each tenant''s totals whole when the worker trims the history (idsess.stats_trimmed_tenants)';

-- The history of the tenants the caller may see: a tenant admin's own
-- (idsess.stats_hourly_tenants, summed over its tenants), or, for a role
-- not restricted to tenants, the whole database's, or one tenant's when it
-- names one.
DROP FUNCTION @extschema@.idsess_report_history(timestamptz, timestamptz);
CREATE FUNCTION @extschema@.idsess_report_history(
	since timestamptz DEFAULT pg_catalog.now() - interval '1 day',
	until timestamptz DEFAULT pg_catalog.now(),
	tenant text DEFAULT NULL)
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
	IF tenant IS NOT NULL AND NOT idsess.tenant_visible(tenant) THEN
		RAISE EXCEPTION 'permission denied for this tenant'
			USING ERRCODE = 'insufficient_privilege',
			      DETAIL = 'The calling role is not an admin of the tenant it named.',
			      HINT = 'idsess.tenant_scope() lists the tenants it administers.';
	END IF;
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
	IF tenant IS NULL AND idsess.tenant_scope() IS NULL THEN
		RETURN QUERY
		SELECT g.hour, COALESCE(h.created, 0), COALESCE(h.expired, 0), COALESCE(h.idle, 0),
		       COALESCE(h.revoked, 0), COALESCE(h.deleted, 0), COALESCE(h.limited, 0)
		FROM pg_catalog.generate_series(lo, hi, interval '1 hour') AS g(hour)
		LEFT JOIN idsess.stats_hourly h ON h.hour = g.hour
		ORDER BY g.hour;
		RETURN;
	END IF;
	RETURN QUERY
	SELECT g.hour, COALESCE(pg_catalog.sum(h.created), 0)::bigint, COALESCE(pg_catalog.sum(h.expired), 0)::bigint,
	       COALESCE(pg_catalog.sum(h.idle), 0)::bigint, COALESCE(pg_catalog.sum(h.revoked), 0)::bigint,
	       COALESCE(pg_catalog.sum(h.deleted), 0)::bigint, COALESCE(pg_catalog.sum(h.limited), 0)::bigint
	FROM pg_catalog.generate_series(lo, hi, interval '1 hour') AS g(hour)
	LEFT JOIN idsess.stats_hourly_tenants h ON h.hour = g.hour
	     AND (h.tenant = idsess_report_history.tenant
	          OR (idsess_report_history.tenant IS NULL AND idsess.tenant_visible(h.tenant)))
	GROUP BY g.hour
	ORDER BY g.hour;
END
$fn$;
COMMENT ON FUNCTION @extschema@.idsess_report_history(timestamptz, timestamptz, text) IS
'Per hour between since and until: sessions created, expired, ended by inactivity, revoked, deleted and ended by the session limit (needs idsess preloaded), of the whole database, or of one tenant (tenant), or for a tenant admin of its tenants; clamped to the hours kept (idsess.stats_retention) and to now, at most 366 days (NULL or -infinity: as far back as that allows)';
REVOKE ALL ON FUNCTION @extschema@.idsess_report_history(timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_report_history(timestamptz, timestamptz, text)
	TO idsess_reporting, idsess_admin, idsess_tenant_admin;

-- The outbox rows and tombstones name the ended session's tenant, so that
-- these reports count a tenant admin's own.
ALTER TABLE idsess.logout_outbox ADD COLUMN tenant text;
COMMENT ON COLUMN idsess.logout_outbox.tenant IS 'The ended session''s tenant (NULL: the default tenant, or queued before 1.2)';
ALTER TABLE idsess.revoked_keys ADD COLUMN tenant text;
COMMENT ON COLUMN idsess.revoked_keys.tenant IS 'The revoked session''s tenant (NULL: the default tenant, or revoked before 1.2)';
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_logout_outbox(OUT owed bigint, OUT oldest timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT pg_catalog.count(*), pg_catalog.min(o.queued)
	FROM idsess.logout_outbox o
	WHERE idsess.tenant_scope() IS NULL OR idsess.tenant_visible(o.tenant);
END;
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_revoked_keys(
	OUT tombstones bigint, OUT for_good bigint, OUT past_until bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE r.until IS NULL),
	       pg_catalog.count(*) FILTER (WHERE r.until <= pg_catalog.now())
	FROM idsess.revoked_keys r
	WHERE idsess.tenant_scope() IS NULL OR idsess.tenant_visible(r.tenant);
END;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_report_logout_outbox(), @extschema@.idsess_report_revoked_keys()
	TO idsess_tenant_admin;
-- The key ring serves every tenant: refused to a role restricted to tenants
-- (as are the ticket failures, in C).
CREATE OR REPLACE FUNCTION @extschema@.idsess_report_key_ring()
RETURNS TABLE (id integer, state text, created timestamptz, deactivated timestamptz, ended timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT k.id, k.state, k.created, k.deactivated, k.destroyed FROM idsess.keys k
	WHERE idsess.require_all_tenants('idsess_report_key_ring')
	ORDER BY k.id;
END;

-- Sessions per tenant, for the metrics: live sessions and subjects, and the
-- events since 1.2 (as idsess_report_totals(tenant) counts them), of every
-- tenant that has either.
CREATE FUNCTION @extschema@.idsess_report_tenants()
RETURNS TABLE (tenant text, sessions bigint, subjects bigint,
               created bigint, expired bigint, idle bigint, revoked bigint,
               deleted bigint, limited bigint, max_lifetime bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH live AS (
		SELECT s.tenant, pg_catalog.count(*) AS sessions, pg_catalog.count(DISTINCT s.subject_id) AS subjects
		FROM idsess.sessions s
		WHERE idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
		  AND idsess.tenant_visible(s.tenant)
		GROUP BY s.tenant),
	events AS (
		SELECT e.tenant, pg_catalog.sum(e.created) AS created, pg_catalog.sum(e.expired) AS expired,
		       pg_catalog.sum(e.idle) AS idle, pg_catalog.sum(e.revoked) AS revoked,
		       pg_catalog.sum(e.deleted) AS deleted, pg_catalog.sum(e.limited) AS limited,
		       pg_catalog.sum(e.max_lifetime) AS max_lifetime
		FROM (SELECT h.tenant, h.created, h.expired, h.idle, h.revoked, h.deleted, h.limited, h.max_lifetime
		      FROM idsess.stats_hourly_tenants h
		      UNION ALL
		      SELECT t.tenant, t.created, t.expired, t.idle, t.revoked, t.deleted, t.limited, t.max_lifetime
		      FROM idsess.stats_trimmed_tenants t) e
		WHERE idsess.tenant_visible(e.tenant)
		GROUP BY e.tenant)
	SELECT COALESCE(l.tenant, v.tenant), COALESCE(l.sessions, 0), COALESCE(l.subjects, 0),
	       COALESCE(v.created, 0)::bigint, COALESCE(v.expired, 0)::bigint, COALESCE(v.idle, 0)::bigint,
	       COALESCE(v.revoked, 0)::bigint, COALESCE(v.deleted, 0)::bigint, COALESCE(v.limited, 0)::bigint,
	       COALESCE(v.max_lifetime, 0)::bigint
	FROM live l FULL JOIN events v ON v.tenant = l.tenant
	ORDER BY 1 NULLS FIRST;
END;
COMMENT ON FUNCTION @extschema@.idsess_report_tenants() IS
'Per tenant (NULL: the default tenant) of the tenants the caller administers: live sessions and distinct subjects, and sessions created, expired, ended by inactivity, revoked, deleted, ended by the session limit and at their absolute lifetime since 1.2 (the default tenant''s events: idsess_report_totals()), as of the worker''s last flush';
REVOKE ALL ON FUNCTION @extschema@.idsess_report_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_report_tenants()
	TO idsess_reporting, idsess_admin, idsess_tenant_admin;

GRANT EXECUTE ON FUNCTION
	@extschema@.idsess_report_active(),
	@extschema@.idsess_report_clients(),
	@extschema@.idsess_report_schemes(),
	@extschema@.idsess_report_expiring(integer),
	@extschema@.idsess_report_age(),
	@extschema@.idsess_report_concurrency(),
	@extschema@.idsess_report_top_subjects(integer),
	@extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean),
	@extschema@.idsess_delete(text),
	@extschema@.idsess_delete_sessions(text, text),
	@extschema@.idsess_clients(text, boolean),
	@extschema@.idsess_saml_sessions(text)
TO idsess_tenant_admin;


------------------------------------------------------------------------
-- Incident revocation (issue 38 part 5): idsess_revoke selects sessions by
-- any of subject, sid, tenant, a client that joined them, a window of
-- sign-ins and the data key that sealed their ticket, AND-combined; a
-- selection that matches every session needs confirm => 'revoke every
-- session'; dry_run lists without ending; batch ends at most that many
-- (the oldest first) and queues their logouts in the outbox with the
-- cause 'revoked', each batch audited: a caller repeats the call, each in
-- its own transaction, until a batch comes back short.
ALTER TABLE idsess.logout_outbox
	DROP CONSTRAINT logout_outbox_cause_check,
	ADD CONSTRAINT logout_outbox_cause_check CHECK (cause IN ('expired', 'idle', 'limit', 'revoked'));
COMMENT ON TABLE idsess.logout_outbox IS 'Back-channel logouts owed for sessions that ended with no caller to notify (expired, idle, ended by the session limit during an upsert, or revoked in batches), drained by idsess_take_logouts()';
-- A batch by data key (a compromised key) walks this index in id order from
-- the key's first session; on the key alone it walked every older session
-- of other keys, each batch again.
DROP INDEX idsess.sessions_key_id_idx;
CREATE INDEX sessions_key_id_idx ON idsess.sessions (key_id, id);
COMMENT ON INDEX idsess.sessions_key_id_idx IS 'Re-sealing the tickets of older data keys, and revoking the sessions of one key in batches, oldest first';

DROP FUNCTION @extschema@.idsess_revoke(text, text, text[], text);
CREATE FUNCTION @extschema@.idsess_revoke(
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
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_revoke_1_2';
COMMENT ON FUNCTION @extschema@.idsess_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text) IS
'Ends the sessions the filters select (subject_id, session_id, tenant, client_id, created_before, created_after, key_id, client_ip (within the range), acr_not_in, amr_lacks: AND-combined; except_key: all of the subject''s sessions but that one; matching every session needs confirm => ''revoke every session'') and returns the clients and SAML SPs to notify (only those in client_ids when given); dry_run: lists them and ends none; batch: ends at most that many, oldest first, their logouts also queued in the outbox (call again until fewer come back); records each call in idsess.audit and, when sessions ended, sends one NOTIFY idsess_revoked with {"audit_id": N} at commit';
REVOKE ALL ON FUNCTION @extschema@.idsess_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_revoke(text, text, text[], text, text, text, text, timestamptz, timestamptz, integer, text, boolean, integer, inet, text[], text)
	TO idsess_service, idsess_admin, idsess_tenant_admin;

------------------------------------------------------------------------
-- Governance (issue 38, parts 2 to 4): an absolute lifetime, the strength
-- of the sign-in, and where a session is used.
--
-- An absolute lifetime: lifetime_end is created + max_lifetime (the
-- argument, else idsess.max_lifetime when the session was created).  No
-- create, renewal or upsert sets an expiry past it, so the liveness rule is
-- unchanged: the session expires there, and the expirer, seeing the expiry
-- reach lifetime_end, records the end cause max_lifetime in the outbox, the
-- statistics and the audit trail.
ALTER TABLE idsess.sessions ADD COLUMN lifetime_end timestamptz;
COMMENT ON COLUMN idsess.sessions.lifetime_end IS 'created + max_lifetime: the expiry never passes it; NULL: no absolute lifetime';
ALTER TABLE idsess.logout_outbox
	DROP CONSTRAINT logout_outbox_cause_check,
	ADD CONSTRAINT logout_outbox_cause_check CHECK (cause IN ('expired', 'idle', 'limit', 'revoked', 'max_lifetime'));
COMMENT ON TABLE idsess.logout_outbox IS 'Back-channel logouts owed for sessions that ended with no caller to notify (expired, idle, at their absolute lifetime, or ended by the session limit during an upsert), drained by idsess_take_logouts()';

ALTER TABLE idsess.stats_hourly ADD COLUMN max_lifetime bigint NOT NULL DEFAULT 0;
COMMENT ON TABLE idsess.stats_hourly IS 'Sessions created, expired, ended by inactivity, revoked, deleted, ended by the session limit and ended at their absolute lifetime, per hour; kept for idsess.stats_retention';
ALTER TABLE idsess.stats_trimmed ADD COLUMN max_lifetime bigint NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION idsess.stats_keep_trimmed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	INSERT INTO idsess.stats_trimmed AS t (one, created, expired, idle, revoked, deleted, limited, max_lifetime)
	VALUES (true, OLD.created, OLD.expired, OLD.idle, OLD.revoked, OLD.deleted, OLD.limited, OLD.max_lifetime)
	ON CONFLICT (one) DO UPDATE SET
		created = t.created + EXCLUDED.created, expired = t.expired + EXCLUDED.expired,
		idle = t.idle + EXCLUDED.idle, revoked = t.revoked + EXCLUDED.revoked,
		deleted = t.deleted + EXCLUDED.deleted, limited = t.limited + EXCLUDED.limited,
		max_lifetime = t.max_lifetime + EXCLUDED.max_lifetime;
	RETURN NULL;
END
$fn$;

DROP FUNCTION @extschema@.idsess_report_totals();
CREATE FUNCTION @extschema@.idsess_report_totals(
	tenant text DEFAULT NULL,
	OUT created bigint, OUT expired bigint, OUT idle bigint,
	OUT revoked bigint, OUT deleted bigint, OUT limited bigint, OUT max_lifetime bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
	IF tenant IS NOT NULL AND NOT idsess.tenant_visible(tenant) THEN
		RAISE EXCEPTION 'permission denied for this tenant'
			USING ERRCODE = 'insufficient_privilege',
			      DETAIL = 'The calling role is not an admin of the tenant it named.',
			      HINT = 'idsess.tenant_scope() lists the tenants it administers.';
	END IF;
	IF tenant IS NULL AND idsess.tenant_scope() IS NULL THEN
		SELECT (COALESCE(t.created, 0) + h.created)::bigint, (COALESCE(t.expired, 0) + h.expired)::bigint,
		       (COALESCE(t.idle, 0) + h.idle)::bigint, (COALESCE(t.revoked, 0) + h.revoked)::bigint,
		       (COALESCE(t.deleted, 0) + h.deleted)::bigint, (COALESCE(t.limited, 0) + h.limited)::bigint,
		       (COALESCE(t.max_lifetime, 0) + h.max_lifetime)::bigint
		INTO created, expired, idle, revoked, deleted, limited, max_lifetime
		FROM (SELECT COALESCE(pg_catalog.sum(s.created), 0) AS created, COALESCE(pg_catalog.sum(s.expired), 0) AS expired,
		             COALESCE(pg_catalog.sum(s.idle), 0) AS idle, COALESCE(pg_catalog.sum(s.revoked), 0) AS revoked,
		             COALESCE(pg_catalog.sum(s.deleted), 0) AS deleted, COALESCE(pg_catalog.sum(s.limited), 0) AS limited,
		             COALESCE(pg_catalog.sum(s.max_lifetime), 0) AS max_lifetime
		      FROM idsess.stats_hourly s) h
		LEFT JOIN idsess.stats_trimmed t ON true;
		RETURN;
	END IF;
	SELECT COALESCE(pg_catalog.sum(e.created), 0)::bigint, COALESCE(pg_catalog.sum(e.expired), 0)::bigint,
	       COALESCE(pg_catalog.sum(e.idle), 0)::bigint, COALESCE(pg_catalog.sum(e.revoked), 0)::bigint,
	       COALESCE(pg_catalog.sum(e.deleted), 0)::bigint, COALESCE(pg_catalog.sum(e.limited), 0)::bigint,
	       COALESCE(pg_catalog.sum(e.max_lifetime), 0)::bigint
	INTO created, expired, idle, revoked, deleted, limited, max_lifetime
	FROM (SELECT s.tenant, s.created, s.expired, s.idle, s.revoked, s.deleted, s.limited, s.max_lifetime
	      FROM idsess.stats_hourly_tenants s
	      UNION ALL
	      SELECT t.tenant, t.created, t.expired, t.idle, t.revoked, t.deleted, t.limited, t.max_lifetime
	      FROM idsess.stats_trimmed_tenants t) e
	WHERE e.tenant = idsess_report_totals.tenant
	   OR (idsess_report_totals.tenant IS NULL AND idsess.tenant_visible(e.tenant));
END
$fn$;
COMMENT ON FUNCTION @extschema@.idsess_report_totals(text) IS
'Sessions created, expired, ended by inactivity, revoked, deleted, ended by the session limit and ended at their absolute lifetime since the extension was installed (a tenant''s: since 1.2), as of the worker''s last flush (needs idsess preloaded): the whole database''s, one tenant''s (tenant), or for a tenant admin its tenants''; never decrease, for Prometheus counters';
REVOKE ALL ON FUNCTION @extschema@.idsess_report_totals(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_report_totals(text) TO idsess_reporting, idsess_admin, idsess_tenant_admin;

-- The strength of the sign-in: what an identity server's step-up changes
-- (an update), shown in the admin search.
ALTER TABLE idsess.sessions ADD COLUMN acr text, ADD COLUMN amr text[], ADD COLUMN auth_time timestamptz;
COMMENT ON COLUMN idsess.sessions.acr IS 'The authentication context class reference of the sign-in (or of the last step-up); NULL: not given';
COMMENT ON COLUMN idsess.sessions.amr IS 'The authentication methods of the sign-in (RFC 8176 names: pwd, otp, hwk ...); NULL: not given';
COMMENT ON COLUMN idsess.sessions.auth_time IS 'When the user last authenticated; NULL: not given';
-- The admin search shows them in a row type of its own: idsess_shard
-- 1.1 (released) returns idsess.query_row from a query of its 20 columns,
-- so that type keeps them.
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
COMMENT ON TYPE idsess.search_row IS 'One row of an idsess_query() page from 1.2: the columns of idsess.query_row and the strength of the sign-in (acr, amr, auth_time)';
DROP FUNCTION @extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean);
CREATE FUNCTION @extschema@.idsess_query(
	subject_id text DEFAULT NULL,
	session_id text DEFAULT NULL,
	display_name text DEFAULT NULL,
	client_id text DEFAULT NULL,
	count integer DEFAULT 25,
	results_token text DEFAULT NULL,
	prior boolean DEFAULT false,
	tickets boolean DEFAULT false)
RETURNS SETOF idsess.search_row
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_query_1_2';
COMMENT ON FUNCTION @extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean) IS
'Admin search: case-insensitive substring filters on subject, sid and display name plus an exact client filter, paged by an opaque results token (prior: page backward); tickets: opened on each row, for roles of idsess_service only; rows show the strength of the sign-in';
REVOKE ALL ON FUNCTION @extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_query(text, text, text, text, integer, text, boolean, boolean)
	TO idsess_service, idsess_admin, idsess_tenant_admin;

-- Where a session is used, as far as idsess.record_client allows: the
-- client's IP address (cut to idsess.ip_prefix_v4 / _v6 bits), its user
-- agent, a device label the identity server chose, and when it was last
-- seen (written only when it moved by idsess.activity_granularity or the
-- address changed).  None is indexed, so a touch stays a HOT update.
ALTER TABLE idsess.sessions ADD COLUMN client_ip inet, ADD COLUMN user_agent text,
	ADD COLUMN device text, ADD COLUMN last_seen timestamptz;
COMMENT ON COLUMN idsess.sessions.client_ip IS 'The client''s IP address, cut to idsess.ip_prefix_v4 / _v6 bits (idsess.record_client ip or ip_and_agent); NULL: not recorded';
COMMENT ON COLUMN idsess.sessions.user_agent IS 'The client''s user agent, at most 512 characters (idsess.record_client ip_and_agent); NULL: not recorded';
COMMENT ON COLUMN idsess.sessions.device IS 'A device label the identity server chose (idsess.record_client ip or ip_and_agent); NULL: not recorded';
COMMENT ON COLUMN idsess.sessions.last_seen IS 'When the client was last seen, to idsess.activity_granularity (idsess.record_client ip or ip_and_agent); NULL: not recorded';

DROP FUNCTION @extschema@.idsess_touch(text);
CREATE FUNCTION @extschema@.idsess_touch(
	key text,
	client_ip inet DEFAULT NULL,
	user_agent text DEFAULT NULL,
	device text DEFAULT NULL)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_touch_1_2';
COMMENT ON FUNCTION @extschema@.idsess_touch(text, inet, text, text) IS
'Records activity on a live session (for the inactivity timeout) without renewing it; client_ip, user_agent, device: where it is used, as idsess.record_client allows; false when no such session';
REVOKE ALL ON FUNCTION @extschema@.idsess_touch(text, inet, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_touch(text, inet, text, text) TO idsess_service;


-- A "your active sessions" page: a subject's live sessions, never their
-- keys (a key is a credential; a session is signed out by its sid with
-- idsess_revoke, or all but the current one with except_key).
-- A subject of two tenants is two people: the list is of one tenant's
-- sessions, the current session's unless the caller names one.
CREATE FUNCTION @extschema@.idsess_my_sessions(subject_id text, current_key text DEFAULT NULL,
                                               tenant text DEFAULT NULL)
RETURNS TABLE (session_id text, current boolean, device text, client_ip inet, user_agent text,
               created timestamptz, last_seen timestamptz, expires timestamptz, clients text[],
               acr text, amr text[], auth_time timestamptz, tenant text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT s.session_id, COALESCE(s.key = idsess_my_sessions.current_key, false), s.device, s.client_ip,
	       s.user_agent, s.created, s.last_seen, s.expires,
	       ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id
	             ORDER BY c.added, c.client_id),
	       s.acr, s.amr, s.auth_time, s.tenant
	FROM idsess.sessions s
	WHERE s.subject_id = idsess_my_sessions.subject_id
	  AND idsess.session_is_live(s.expires, s.last_active, s.idle_timeout)
	  AND s.tenant IS NOT DISTINCT FROM COALESCE(idsess_my_sessions.tenant,
	        (SELECT e.tenant FROM idsess.sessions e WHERE e.key = idsess_my_sessions.current_key))
	ORDER BY COALESCE(s.key = idsess_my_sessions.current_key, false) DESC,
	         COALESCE(s.last_seen, s.created) DESC, s.id;
END;
COMMENT ON FUNCTION @extschema@.idsess_my_sessions(text, text, text) IS
'A subject''s live sessions in one tenant (tenant; NULL: current_key''s session''s, else the default tenant) for a "your active sessions" page, without keys: sid, whether it is current_key''s, device, IP, user agent, created, last seen, expiry, clients, the strength of the sign-in and the tenant; the current one first, then the most recently seen';
REVOKE ALL ON FUNCTION @extschema@.idsess_my_sessions(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.idsess_my_sessions(text, text, text) TO idsess_service;

-- idsess_create and idsess_update gain their 1.2 arguments at the end:
-- the governance ones, then the tenant (a session's tenant never changes).
DROP FUNCTION @extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text);
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
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_create_1_2';
COMMENT ON FUNCTION @extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text) IS
'Creates a session and seals its ticket (give ticket or ticket_bytes); subject_id NULL: a session without a user; key and session_id are generated when NULL; expires NULL or infinity never expires; max_sessions overrides idsess.max_sessions_per_subject; max_lifetime (else idsess.max_lifetime; 0: none) caps its end at created + max_lifetime; acr, amr, auth_time: the strength of the sign-in; client_ip, user_agent, device: where it is used, as idsess.record_client allows; tenant NULL: the default tenant (max_sessions counts within the tenant)';

DROP FUNCTION @extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[]);
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
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'idsess_update_1_2';
COMMENT ON FUNCTION @extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text) IS
'Renews a session (renewed defaults to now) and replaces what is given: ticket, expires (infinity: never; never past the absolute lifetime), display name, subject and issuer ('''' clears them), sid, created, scheme, idle timeout, the client list (clients, client_sids); max_lifetime brings the absolute lifetime earlier, never later; acr ('''' clears it), amr and auth_time record a step-up; client_ip, user_agent, device: where it is used, as idsess.record_client allows; new_key rekeys it; upsert creates it when absent, in tenant; a tenant other than the session''s is refused; false when no such session';

REVOKE ALL ON FUNCTION
	@extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text),
	@extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	@extschema@.idsess_create(text, text, bytea, text, text, text, text, timestamptz, interval, timestamptz, integer, text, interval, text, text[], timestamptz, inet, text, text, text),
	@extschema@.idsess_update(text, text, bytea, timestamptz, timestamptz, text, text, text, timestamptz, text, text, text, boolean, interval, text[], text[], interval, text, text[], timestamptz, inet, text, text, text)
TO idsess_service;
