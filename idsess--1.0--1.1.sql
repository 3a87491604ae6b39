/* idsess--1.0--1.1.sql: from idsess 1.0 to 1.1 (also the second half of a fresh 1.1 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.1'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql and then this script,
-- so every 1.1 install is an upgraded 1.0 one: the regression suite checks
-- the upgrade path on every run.  Each section below belongs to one change
-- of 1.1; new objects get a COMMENT, pg_extension_config_dump when they hold
-- data, and privileges as in 1.0 (nothing to PUBLIC).

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
