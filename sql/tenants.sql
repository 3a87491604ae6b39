-- Tenants: a tenant admin tries every path to see or end another tenant's
-- sessions, and fails; the service role sees all; the session limit counts
-- within a tenant; incident revocation by filters (doc/security.md#tenants).
\set SHOW_CONTEXT never
CREATE ROLE idsess_t_ta LOGIN;
CREATE ROLE idsess_t_tb LOGIN;
CREATE ROLE idsess_t_svc LOGIN IN ROLE idsess_service;
CREATE ROLE idsess_t_global LOGIN IN ROLE idsess_admin, idsess_reporting;
CREATE ROLE idsess_t_wide NOLOGIN IN ROLE idsess_admin;

-- Two tenants and the default one, the same subject in each.
SET ROLE idsess_t_svc;
SELECT key FROM idsess_create('alice', 'a1', key => 'k-a1', session_id => 'sid-a1', tenant => 'acme');
SELECT key FROM idsess_create('alice', 'a2', key => 'k-a2', session_id => 'sid-a2', tenant => 'acme', display_name => 'Alice A');
SELECT key FROM idsess_create('alice', 'b1', key => 'k-b1', session_id => 'sid-b1', tenant => 'bolt', display_name => 'Alice B');
SELECT key FROM idsess_create('alice', 'd1', key => 'k-d1', session_id => 'sid-d1');
SELECT idsess_add_client('k-a1', 'spa'), idsess_add_client('k-b1', 'spa'), idsess_add_client('k-d1', 'spa');
-- Keys are unique across tenants.
SELECT key FROM idsess_create('bob', 'x', key => 'k-a1', tenant => 'bolt');
\echo :LAST_ERROR_SQLSTATE
-- A session never changes tenant; an upsert creates in its tenant.
SELECT idsess_update('k-a1', tenant => 'bolt');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('k-a1', tenant => 'acme', display_name => 'Alice A1');
SELECT idsess_update('k-b2', ticket => 'b2', subject_id => 'bob', upsert => true, tenant => 'bolt');
-- The service role sees every tenant.
SELECT count(*) FROM idsess_query(subject_id => 'alice');
-- A subject of two tenants is two people: "your sessions" and "sign out
-- the others" stay in the current session's tenant.
SELECT session_id, current FROM idsess_my_sessions('alice', current_key => 'k-a1');
SELECT session_id, current FROM idsess_my_sessions('alice', tenant => 'bolt');
SELECT session_id, current FROM idsess_my_sessions('alice');
SELECT key FROM idsess_revoke(subject_id => 'alice', except_key => 'k-a1', dry_run => true);
SELECT key FROM idsess_revoke(subject_id => 'alice', except_key => 'k-d1', dry_run => true);
RESET ROLE;
SELECT key, tenant FROM idsess.sessions ORDER BY key;

-- Granting: only to roles without the all-tenant roles.
SELECT idsess_grant_tenant_admin('idsess_t_ta', 'acme');
SELECT idsess_grant_tenant_admin('idsess_t_ta', 'acme');
SELECT idsess_grant_tenant_admin('idsess_t_tb', 'bolt');
SELECT idsess_grant_tenant_admin('idsess_t_global', 'acme');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_grant_tenant_admin('idsess_t_ta', '');
\echo :LAST_ERROR_SQLSTATE
SELECT role, tenant FROM idsess.tenant_admins ORDER BY 1, 2;

-- The tenant admin of acme, by every path.
SET ROLE idsess_t_ta;
SELECT idsess.tenant_scope();
SELECT key, subject_id, display_name FROM idsess_query(subject_id => 'alice') ORDER BY key;
SELECT key FROM idsess_query(client_id => 'spa') ORDER BY key;
SELECT DISTINCT total_count FROM idsess_query(subject_id => 'ali');
SELECT key FROM idsess_query(session_id => 'sid-b1');
SELECT subject_id, tenant FROM idsess.active_sessions ORDER BY 1, 2;
SELECT client_id, tenant FROM idsess.client_sessions ORDER BY 1, 2;
SELECT subject_id, sessions, tenant FROM idsess.subjects ORDER BY 1;
SELECT active_sessions, subjects FROM idsess_report_active();
SELECT * FROM idsess_report_clients();
SELECT * FROM idsess_report_schemes();
SELECT * FROM idsess_report_concurrency();
SELECT subject_id, sessions FROM idsess_report_top_subjects();
SELECT sum(sessions) FROM idsess_report_age();
SELECT count(*) FROM idsess_report_expiring(10080);
SELECT tenant, sessions, subjects FROM idsess_report_tenants();
-- Its history is its tenants' (below); another tenant's is refused.
SELECT count(*) FROM idsess_report_history(tenant => 'bolt');
\echo :LAST_ERROR_SQLSTATE
SELECT created FROM idsess_report_totals(tenant => 'bolt');
\echo :LAST_ERROR_SQLSTATE
-- Another tenant's session by its key: as if there were none.
SELECT idsess_clients('k-b1');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_saml_sessions('k-d1');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_delete('k-b1');
SELECT idsess_delete_sessions(session_id => 'sid-b1');
SELECT count(*) FROM idsess_revoke(session_id => 'sid-b1');
SELECT count(*) FROM idsess_revoke(subject_id => 'alice', tenant => 'bolt');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_revoke(client_id => 'spa', dry_run => true);
-- Service paths are refused to a tenant admin, even with their grants.
SELECT ticket FROM idsess_get('k-b1');
\echo :LAST_ERROR_SQLSTATE
-- The tables, and the rows other tenants' admins act on, stay out of reach.
SELECT count(*) FROM idsess.sessions;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess.audit;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess.tenant_admins;
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_grant_tenant_admin('idsess_t_ta', 'bolt');
\echo :LAST_ERROR_SQLSTATE
-- A leaky function in the caller's WHERE sees no row the view filters out.
CREATE FUNCTION pg_temp.peek(t text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS
$$ BEGIN RAISE NOTICE 'peeked at %', t; RETURN true; END $$;
SELECT count(*) FROM idsess.active_sessions WHERE pg_temp.peek(subject_id || '/' || coalesce(tenant, '-'));
RESET ROLE;

-- Whatever the role sets: a search_path with its own tenant_visible, a
-- SET ROLE to a role with idsess_admin, a SECURITY DEFINER wrapper owned
-- by an all-tenant admin.
CREATE SCHEMA idsess_t_evil AUTHORIZATION idsess_t_ta;
CREATE FUNCTION idsess_t_evil.tenant_visible(text) RETURNS boolean LANGUAGE sql RETURN true;
ALTER FUNCTION idsess_t_evil.tenant_visible(text) OWNER TO idsess_t_ta;
GRANT idsess_t_wide TO idsess_t_ta;
CREATE FUNCTION public.idsess_t_wrapper() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
SET search_path = public AS $$ SELECT key FROM idsess_query(subject_id => 'alice') $$;
ALTER FUNCTION public.idsess_t_wrapper() OWNER TO idsess_t_global;
GRANT EXECUTE ON FUNCTION public.idsess_t_wrapper() TO idsess_t_ta;
SET SESSION AUTHORIZATION idsess_t_ta;
SET search_path = idsess_t_evil, idsess, public;
SELECT count(*) FROM idsess_query(subject_id => 'alice');
SET ROLE idsess_t_wide;
SELECT idsess.tenant_scope();
SELECT key FROM idsess_query(subject_id => 'alice') ORDER BY 1;
SELECT count(*) FROM idsess_revoke(session_id => 'sid-b1');
SELECT count(*) FROM idsess.active_sessions;
SELECT created FROM idsess_report_totals(tenant => 'bolt');
\echo :LAST_ERROR_SQLSTATE
-- What serves all tenants together stays out of reach through the wider role.
SELECT count(*) FROM idsess_report_key_ring();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_ticket_failures();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM public.idsess_t_wrapper() ORDER BY 1;
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT key FROM public.idsess_t_wrapper() AS w(key) ORDER BY 1;
REVOKE idsess_t_wide FROM idsess_t_ta;

-- Ending its own tenant's sessions works, and is in its history.
SET ROLE idsess_t_ta;
SELECT key, clients FROM idsess_revoke(subject_id => 'alice', client_ids => '{spa}', reason => 'tenant admin') ORDER BY key;
SELECT subject_id, sessions, tenants, reason FROM idsess.tenant_audit ORDER BY id;
RESET ROLE;
SET ROLE idsess_t_tb;
SELECT count(*) AS acme_history_seen_by_bolt FROM idsess.tenant_audit;
SELECT key FROM idsess_query(subject_id => 'alice');
RESET ROLE;
SELECT key, tenant FROM idsess.sessions ORDER BY key;

-- Revoking the last tenant takes idsess_tenant_admin too.
SELECT idsess_revoke_tenant_admin('idsess_t_tb', 'bolt');
SELECT pg_has_role('idsess_t_tb', 'idsess_tenant_admin', 'MEMBER');
-- A member of idsess_tenant_admin with no tenant sees none.
GRANT idsess_tenant_admin TO idsess_t_tb;
SET ROLE idsess_t_tb;
SELECT idsess.tenant_scope(), count(*) FROM idsess_query(subject_id => 'alice');
RESET ROLE;
REVOKE idsess_tenant_admin FROM idsess_t_tb;

-- The session limit counts within a tenant.
SELECT key, ended_sessions FROM idsess_create('carol', 'c', key => 'k-c-acme0', tenant => 'acme', max_sessions => 1);
SELECT key, ended_sessions FROM idsess_create('carol', 'c', key => 'k-c-bolt', tenant => 'bolt', max_sessions => 1);
SELECT key, ended_sessions->0->>'key' AS ended FROM idsess_create('carol', 'c', key => 'k-c-acme', tenant => 'acme', max_sessions => 1);
SELECT key FROM idsess.sessions WHERE subject_id = 'carol' ORDER BY key;

-- Incident revocation: filters AND-combined, a dry run, confirmation.
SELECT key FROM idsess_create('dave', 'd', key => 'k-old', created => now() - interval '2 hours');
SELECT key FROM idsess_create('dave', 'd', key => 'k-new');
SELECT idsess_add_client(k, 'payroll') FROM unnest('{k-old,k-new,k-c-acme}'::text[]) k;
SELECT key FROM idsess_revoke(client_id => 'payroll', created_before => now() - interval '1 hour', dry_run => true);
SELECT count(*) AS still_there FROM idsess.sessions WHERE key = 'k-old';
SELECT count(*) FROM idsess_revoke(created_after => now() - interval '1 year');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_revoke();
\echo :LAST_ERROR_SQLSTATE
SELECT key, clients FROM idsess_revoke(client_id => 'payroll', created_before => now() - interval '1 hour', reason => 'incident 7');
SELECT key FROM idsess_revoke(client_id => 'payroll', tenant => 'acme');
SELECT key FROM idsess_revoke(key_id => (SELECT max(id) FROM idsess.keys) + 1, confirm => 'revoke every session');
SELECT reason, sessions, tenants, filter - 'created_before' - 'key_id' AS filter FROM idsess.audit
WHERE action = 'revoke' ORDER BY id DESC LIMIT 3;
-- Batches: at most batch sessions each, oldest first, logouts owed in the outbox.
SELECT (idsess_create('erin', 'e', key => 'k-e' || i, tenant => 'bolt')).key FROM generate_series(1, 5) i;
SELECT idsess_add_client('k-e' || i, 'mail') FROM generate_series(1, 5) i;
DELETE FROM idsess.logout_outbox;
SELECT key FROM idsess_revoke(client_id => 'mail', batch => 2, reason => 'incident 8');
SELECT key FROM idsess_revoke(client_id => 'mail', batch => 2, reason => 'incident 8');
SELECT key FROM idsess_revoke(client_id => 'mail', batch => 2, reason => 'incident 8');
SELECT cause, subject_id, clients FROM idsess.logout_outbox ORDER BY id;
SELECT count(*) AS batches, sum(sessions) FROM idsess.audit WHERE reason = 'incident 8';
SELECT count(*) FROM idsess_revoke(client_id => 'mail', batch => 0);
\echo :LAST_ERROR_SQLSTATE

-- Each tenant's own history: its sessions' events, flushed by the worker,
-- seen whole by its admin and by nobody else's; the outbox and tombstone
-- reports count its own rows.  A new tenant, so the counts are this part's.
SELECT idsess_grant_tenant_admin('idsess_t_tb', 'cargo');
SET ROLE idsess_t_svc;
SELECT (idsess_create('fay', 'f', key => 'k-f' || i, tenant => 'cargo')).key FROM generate_series(1, 4) i;
SELECT key FROM idsess_create('fay', 'f', key => 'k-f-short', tenant => 'cargo', expires => now() + interval '1 second');
SELECT idsess_add_client('k-f-short', 'mail');
SELECT idsess_delete('k-f1');
RESET ROLE;
SELECT key FROM idsess_revoke(subject_id => 'fay', tenant => 'cargo', batch => 1);
SELECT idsess_test.wait_until($$SELECT (created, expired, revoked, deleted) = (5, 1, 1, 1)
                              FROM idsess_report_totals(tenant => 'cargo')$$) AS cargo_flushed;
SET ROLE idsess_t_tb;
SELECT * FROM idsess_report_totals();
SELECT sum(created) AS created, sum(expired) AS expired, sum(revoked) AS revoked, sum(deleted) AS deleted
FROM idsess_report_history(since => now() - interval '2 hours');
SELECT owed FROM idsess_report_logout_outbox();
SELECT tombstones FROM idsess_report_revoked_keys();
SELECT created FROM idsess_report_totals(tenant => 'acme');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_report_history(tenant => 'acme');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE idsess_t_ta;
SELECT created FROM idsess_report_totals(tenant => 'cargo');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_report_logout_outbox() WHERE owed > 0;
RESET ROLE;
-- The database's totals still count every tenant's events.
SELECT t.created >= 5 + c.created AS database_counts_all
FROM idsess_report_totals() t, idsess_report_totals(tenant => 'acme') c;
SELECT tenant, created, expired, revoked, deleted FROM idsess.stats_hourly_tenants WHERE tenant = 'cargo';
DELETE FROM idsess.sessions;
-- idsess_report_active's subjects are (tenant, subject) pairs, sessions
-- without a subject left out, with no tenant in use (counted from the
-- subject index) as with one.
CREATE TEMP VIEW subject_pairs AS
SELECT count(*) AS pairs FROM (SELECT DISTINCT tenant, subject_id FROM idsess.sessions WHERE subject_id IS NOT NULL) u;
SELECT (idsess_create(s, 't', key => 'k-pair-' || i)).key FROM unnest('{fay,fay,gus,NULL}'::text[]) WITH ORDINALITY v(s, i);
SELECT subjects, subjects = pairs AS as_pairs FROM idsess_report_active(), subject_pairs;
SELECT key FROM idsess_create('fay', 't', key => 'k-pair-acme', tenant => 'acme');
SELECT subjects, subjects = pairs AS as_pairs FROM idsess_report_active(), subject_pairs;
DROP VIEW subject_pairs;

DROP FUNCTION pg_temp.peek(text);
DELETE FROM idsess.tenant_admins;
DELETE FROM idsess.sessions;
DROP FUNCTION public.idsess_t_wrapper();
DROP SCHEMA idsess_t_evil CASCADE;
REVOKE idsess_tenant_admin FROM idsess_t_ta;
DROP ROLE idsess_t_ta, idsess_t_tb, idsess_t_svc, idsess_t_global, idsess_t_wide;
