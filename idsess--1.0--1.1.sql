/* idsess--1.0--1.1.sql: from idsess 1.0 to 1.1 (also the second half of a fresh 1.1 install) */

\echo Use "ALTER EXTENSION idsess UPDATE TO '1.1'" to load this file. \quit

-- A fresh CREATE EXTENSION idsess runs idsess--1.0.sql and then this script,
-- so every 1.1 install is an upgraded 1.0 one: the regression suite checks
-- the upgrade path on every run.  Each section below belongs to one change
-- of 1.1; new objects get a COMMENT, pg_extension_config_dump when they hold
-- data, and privileges as in 1.0 (nothing to PUBLIC).

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
