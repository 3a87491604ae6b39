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
