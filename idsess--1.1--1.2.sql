/* idsess--1.1--1.2.sql: from idsess 1.1 to 1.2 (also the last part of a fresh 1.2 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.2'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql, idsess--1.0--1.1.sql
-- and then this script, so every 1.2 install is an updated 1.1 one.  As in
-- 1.1, each section below belongs to one change; new objects get a COMMENT,
-- pg_extension_config_dump when they hold data, and privileges as before
-- (nothing to PUBLIC).

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
