-- Least privilege: each role can do exactly its job, a plain user nothing.
\set SHOW_CONTEXT never
CREATE ROLE idsess_t_service LOGIN IN ROLE idsess_service;
CREATE ROLE idsess_t_admin LOGIN IN ROLE idsess_admin;
CREATE ROLE idsess_t_reporting LOGIN IN ROLE idsess_reporting;
CREATE ROLE idsess_t_plain LOGIN;

-- Nothing is executable by PUBLIC and no table is readable but by its owner.
SELECT p.proname FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'idsess')
  AND has_function_privilege('public', p.oid, 'EXECUTE') ORDER BY 1;
SELECT c.relname,
       (SELECT string_agg(a.grantee::regrole::text || ':' || a.privilege_type, ', ' ORDER BY 1)
        FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS granted_to_others
FROM pg_class c WHERE c.relnamespace = 'idsess'::regnamespace AND c.relkind IN ('r', 'v')
ORDER BY 1;

-- The identity server: every store operation, tickets included.
SET ROLE idsess_t_service;
SELECT key FROM idsess_create('pat', 'pat ticket', key => 'k-p1');
SELECT key FROM idsess_create('pat', 'pat ticket 2', key => 'k-p2');
SELECT ticket FROM idsess_get('k-p1');
SELECT idsess_update('k-p1', ticket => 'pat ticket 1b'), idsess_touch('k-p1'), idsess_add_client('k-p1', 'spa');
SELECT count(*) FROM idsess_get_sessions(subject_id => 'pat');
SELECT count(*) FROM idsess_query(subject_id => 'pat');
SELECT count(*) FROM idsess_take_expired(1);
SELECT count(*) FROM idsess_take_logouts(1);
SELECT count(*) FROM idsess.sessions;
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_key_rotate();
SELECT count(*) FROM idsess.audit;
RESET ROLE;

-- The admin: search, revoke and audit; never a ticket.
SET ROLE idsess_t_admin;
SELECT subject_id, clients FROM idsess_query(subject_id => 'pat') ORDER BY key;
SELECT idsess_clients('k-p1');
SELECT ticket FROM idsess_get('k-p1');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_get_sessions(subject_id => 'pat');
SELECT idsess_create('pat', 'x');
SELECT idsess_update('k-p1', ticket => 'x');
SELECT ticket FROM idsess.sessions;
SELECT count(*) FROM idsess.key_ring;
SELECT count(*) >= 0 AS can_read_audit FROM idsess.audit;
SELECT count(*) >= 0 AS can_read_workers FROM idsess.workers;
SELECT idsess_key_destroy(1, 'destroy key 1');
SELECT key, clients FROM idsess_revoke(session_id => (SELECT session_id FROM idsess_query(subject_id => 'pat') WHERE key = 'k-p2'));
SELECT idsess_delete('k-p1');
RESET ROLE;

-- Reporting: aggregates and metadata only.
SET ROLE idsess_t_reporting;
SELECT count(*) >= 0 AS can_read_workers FROM idsess.workers;
SELECT count(*) FROM idsess_query(subject_id => 'pat');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_get('k-p1');
SELECT count(*) FROM idsess.audit;
RESET ROLE;

-- A plain user: nothing at all.
SET ROLE idsess_t_plain;
SELECT idsess_create('pat', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_get('k-p1');
SELECT count(*) FROM idsess_query(subject_id => 'pat');
SELECT * FROM idsess_revoke(subject_id => 'pat');
SELECT count(*) FROM idsess.workers;
SELECT count(*) FROM idsess.sessions;
RESET ROLE;

-- Search-path capture.  A role with CREATE on the database makes a schema
-- named after the identity server's login role, first on its default
-- search_path ("$user", public), with an idsess_create of the same
-- signature that keeps the tickets.
-- (A password, for servers that ask for one, as pg_virtualenv's does.)
CREATE ROLE idsess_t_identity LOGIN PASSWORD 'idsess-t-identity' IN ROLE idsess_service;
CREATE ROLE idsess_t_mallory LOGIN;
SELECT current_database() AS db, current_user AS superuser,
       (SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'idsess') AS ext_schema \gset
GRANT CREATE ON DATABASE :"db" TO idsess_t_mallory;
SET ROLE idsess_t_mallory;
CREATE SCHEMA idsess_t_identity;
CREATE TABLE idsess_t_identity.loot (ticket text);
GRANT USAGE ON SCHEMA idsess_t_identity TO PUBLIC;
GRANT INSERT ON idsess_t_identity.loot TO PUBLIC;
CREATE FUNCTION idsess_t_identity.idsess_create(subject_id text, ticket text DEFAULT NULL,
	ticket_bytes bytea DEFAULT NULL, key text DEFAULT NULL, session_id text DEFAULT NULL,
	scheme text DEFAULT 'idsrv', display_name text DEFAULT NULL, expires timestamptz DEFAULT NULL,
	idle_timeout interval DEFAULT NULL, created timestamptz DEFAULT NULL, max_sessions integer DEFAULT NULL)
RETURNS TABLE (key text) LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO idsess_t_identity.loot VALUES (ticket) RETURNING key;
END;
RESET ROLE;
SHOW search_path;
-- The unsafe call, unqualified on the default search_path, is captured:
SET ROLE idsess_t_identity;
SELECT key FROM idsess_create('victim', 'ticket 1', key => 'k-cap-1');
RESET ROLE;
SELECT ticket AS captured FROM idsess_t_identity.loot;
SELECT count(*) AS stored FROM idsess.sessions WHERE key = 'k-cap-1';
-- The safe calls reach the real function: schema-qualified ...
SET ROLE idsess_t_identity;
SELECT key FROM :"ext_schema".idsess_create('victim', 'ticket 2', key => 'k-cap-2');
SELECT ticket FROM :"ext_schema".idsess_get('k-cap-2');
RESET ROLE;
-- ... or unqualified under the search_path pinned for the login role.
ALTER ROLE idsess_t_identity SET search_path = :"ext_schema";
\c -reuse-previous=on "user=idsess_t_identity password=idsess-t-identity"
SHOW search_path;
SELECT key FROM idsess_create('victim', 'ticket 3', key => 'k-cap-3');
SELECT ticket FROM idsess_get('k-cap-3');
\c - :superuser
\set SHOW_CONTEXT never
SELECT count(*) AS captured FROM idsess_t_identity.loot;
SELECT key FROM idsess.sessions WHERE subject_id = 'victim' ORDER BY key;
-- idsess_get and idsess_get_sessions pin no search_path (their usual path
-- runs no SQL); the SQL they may run, the key ring's read on a cache miss
-- and the sessions of a subject, runs under the pinned path all the same.
-- Equality operators that record their calls, first on the caller's path,
-- are never used, not even by a backend whose key cache is cold:
SET ROLE idsess_t_mallory;
CREATE SCHEMA idsess_t_ops;
GRANT USAGE ON SCHEMA idsess_t_ops TO PUBLIC;
CREATE FUNCTION idsess_t_ops.int4eq(a int4, b int4) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN INSERT INTO idsess_t_identity.loot VALUES ('int4 = ' || a); RETURN a OPERATOR(pg_catalog.=) b; END$$;
CREATE OPERATOR idsess_t_ops.= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = idsess_t_ops.int4eq);
CREATE FUNCTION idsess_t_ops.texteq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN INSERT INTO idsess_t_identity.loot VALUES ('text = ' || a); RETURN a OPERATOR(pg_catalog.=) b; END$$;
CREATE OPERATOR idsess_t_ops.= (LEFTARG = text, RIGHTARG = text, FUNCTION = idsess_t_ops.texteq);
RESET ROLE;
ALTER ROLE idsess_t_identity SET search_path = idsess_t_ops, pg_catalog, :"ext_schema";
\c -reuse-previous=on "user=idsess_t_identity password=idsess-t-identity"
SELECT 'bait' = 'bait' AS caller_uses_them;
SELECT subject_id, ticket FROM idsess_get('k-cap-3');
SELECT key, ticket FROM idsess_get_sessions(subject_id => 'victim') ORDER BY key;
SELECT count(*) FROM idsess_get_sessions(session_id => 'no such sid');
SHOW search_path;
\c - :superuser
SELECT ticket AS recorded FROM idsess_t_identity.loot WHERE ticket LIKE '% = %' ORDER BY 1;
SELECT idsess_delete_sessions(subject_id => 'victim');
DROP SCHEMA idsess_t_ops, idsess_t_identity CASCADE;
REVOKE CREATE ON DATABASE :"db" FROM idsess_t_mallory;
DROP ROLE idsess_t_identity, idsess_t_mallory;

DROP ROLE idsess_t_service, idsess_t_admin, idsess_t_reporting, idsess_t_plain;
