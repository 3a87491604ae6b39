-- The store contract (issue 11; 1.2: issue 38), from the API as doc/reference.md states it:
-- what Duende's IServerSideSessionStore / IUserSession and
-- node-oidc-provider's Session adapter need.  Each block names the item.
\set SHOW_CONTEXT never

-- 1. Renew with a different user: subject, sid, created and scheme are
-- replaced, so lookup and revoke by the new ones find the session.
SELECT key FROM idsess_create('ct-old-sub', 'ticket 1', key => 'ct-k1', session_id => 'ct-sid-old',
                              display_name => 'Old Name', created => now() - interval '1 hour',
                              expires => now() + interval '1 hour');
SELECT idsess_update('ct-k1', 'ticket 1b', subject_id => 'ct-new-sub', session_id => 'ct-sid-new',
                     created => '2000-01-01 00:00:00+00', scheme => 'ct-scheme');
SELECT key, scheme, subject_id, session_id, created = '2000-01-01 00:00:00+00' AS created_set, ticket
FROM idsess_get_sessions(subject_id => 'ct-new-sub');
SELECT count(*) AS under_old_subject FROM idsess_get_sessions(subject_id => 'ct-old-sub');
SELECT count(*) AS under_new_sid FROM idsess_get_sessions(session_id => 'ct-sid-new');
-- created after the expiry the session keeps: refused.
SELECT idsess_update('ct-k1', created => now() + interval '2 hours');
\echo :LAST_ERROR_SQLSTATE

-- 2. Clear the display name: '' clears, NULL keeps.
SELECT idsess_update('ct-k1', display_name => 'New Name');
SELECT idsess_update('ct-k1');
SELECT display_name FROM idsess_get('ct-k1');
SELECT idsess_update('ct-k1', display_name => '');
SELECT display_name IS NULL AS cleared FROM idsess_get('ct-k1');
SELECT idsess_update('ct-k1', display_name => '   ');
\echo :LAST_ERROR_SQLSTATE

-- 8. Sessions without a user: created, read, not listed or limited by
-- subject; a later save gives them one, '' takes it away again.
SELECT key, subject_id IS NULL AS no_subject
FROM idsess_create(NULL, 'anonymous', key => 'ct-anon', max_sessions => 1);
SELECT subject_id IS NULL AS no_subject, ticket FROM idsess_get('ct-anon');
SELECT key FROM idsess_create(NULL, 'anonymous 2', key => 'ct-anon-2', max_sessions => 1);
SELECT count(*) AS anonymous_subjects FROM idsess.subjects WHERE subject_id IS NULL;
SELECT count(*) AS anonymous_top FROM idsess_report_top_subjects(1000) WHERE subject_id IS NULL;
SELECT sum(subjects) = (SELECT count(DISTINCT subject_id) FROM idsess.sessions) AS concurrency_counts_subjects_only
FROM idsess_report_concurrency();
SELECT idsess_update('ct-anon', subject_id => 'ct-user-8');
SELECT key FROM idsess_get_sessions(subject_id => 'ct-user-8');
SELECT idsess_update('ct-anon', subject_id => '');
SELECT count(*) AS listed FROM idsess_get_sessions(subject_id => 'ct-user-8');

-- 5. The issuer is stored, returned and replaced.
SELECT key, issuer FROM idsess_create('ct-iss', 'x', key => 'ct-k5', issuer => 'https://op.example');
SELECT issuer FROM idsess_get('ct-k5');
SELECT idsess_update('ct-k5', issuer => 'https://op2.example');
SELECT issuer FROM idsess_get_sessions(subject_id => 'ct-iss');

-- 9. Each client's own sid, returned wherever the clients are.
SELECT idsess_add_client('ct-k5', 'app-a', client_sid => 'sid-a');
SELECT idsess_add_client('ct-k5', 'app-b');
SELECT idsess_add_client('ct-k5', 'app-b', client_sid => 'sid-b');
-- Adding again without a sid keeps the one it has.
SELECT idsess_add_client('ct-k5', 'app-a');
SELECT idsess_clients('ct-k5'), idsess_clients('ct-k5', sids => true);
SELECT clients, client_sids FROM idsess_get('ct-k5');
SELECT clients, client_sids FROM idsess_get_sessions(subject_id => 'ct-iss');
SELECT clients, client_sids, issuer FROM idsess_query(subject_id => 'ct-iss');

-- 11. Remove one client.
SELECT idsess_remove_client('ct-k5', 'app-a');
SELECT idsess_remove_client('ct-k5', 'app-none');
SELECT idsess_clients('ct-k5', sids => true);
SELECT idsess_remove_client('ct-nokey', 'app-a');
\echo :LAST_ERROR_SQLSTATE

-- 11. One call saves a session: update with the client list set exactly
-- (added, kept, removed, sids replaced) ...
SELECT idsess_update('ct-k5', clients => '{app-b,app-c,app-d}', client_sids => '{sid-b2,NULL,sid-d}');
SELECT clients, client_sids FROM idsess_get('ct-k5');
SELECT idsess_update('ct-k5', clients => '{app-d,app-e}');
SELECT clients, client_sids FROM idsess_get('ct-k5');
SELECT idsess_update('ct-k5', clients => '{}');
SELECT clients FROM idsess_get('ct-k5');
-- ... or creates it when absent (upsert), clients and all.
SELECT idsess_update('ct-k11', 'created by upsert', subject_id => 'ct-user-11', upsert => true,
                     expires => now() + interval '1 hour', issuer => 'https://op.example',
                     clients => '{app-x}', client_sids => '{sid-x}');
SELECT key, subject_id, issuer, clients, client_sids, ticket, session_id IS NOT NULL AS has_sid
FROM idsess_get('ct-k11');
SELECT idsess_update('ct-k11', 'saved again', upsert => true, clients => '{app-x,app-y}');
SELECT ticket, clients, client_sids FROM idsess_get('ct-k11');
-- Without upsert an unknown key is still "no such session".
SELECT idsess_update('ct-k11-none', 'x');
-- An upsert needs a ticket; a session without a user needs no subject.
SELECT idsess_update('ct-k11-none', upsert => true);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('ct-k11-anon', 'anon', upsert => true);
SELECT subject_id IS NULL AS no_subject FROM idsess_get('ct-k11-anon');
-- The client arguments are checked.
SELECT idsess_update('ct-k11', clients => '{a,b}', client_sids => '{s}');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('ct-k11', client_sids => '{s}');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('ct-k11', clients => '{a,a}');
\echo :LAST_ERROR_SQLSTATE
-- A long list is checked by sorting: a repeat far apart, or of names that
-- differ only in length or case, is found; none there, none reported.
SELECT idsess_update('ct-k11', clients => ARRAY(SELECT 'app-' || i FROM generate_series(1, 20000) i) || '{app-1}');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('ct-k11', clients => '{ab,a,b,A,ab}');
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT idsess_update('ct-k11', clients => ARRAY(SELECT 'app-' || i FROM generate_series(1, 20000) i) || '{App-1,app-1x}');
SELECT cardinality(idsess_clients('ct-k11')) AS clients;
ROLLBACK;
SELECT idsess_update('ct-k11', clients => '{a,NULL}');
\echo :LAST_ERROR_SQLSTATE

-- 10. Atomic rekey: the row, created, clients and SAML sessions stay;
-- the old key is gone, the ticket opens under the new key.
SELECT idsess_add_saml_session('ct-k11', 'urn:sp', 'i1', 'n1') IS NOT NULL AS saml_added;
SELECT created AS created_before FROM idsess_get('ct-k11') \gset
SELECT idsess_update('ct-k11', new_key => 'ct-k10');
SELECT count(*) AS old_key_rows FROM idsess_get('ct-k11');
SELECT key, ticket, clients, jsonb_array_length(saml_sessions) AS saml,
       created = :'created_before' AS same_created
FROM idsess_get('ct-k10');
-- With a new ticket in the same call.
SELECT idsess_update('ct-k10', 'rekeyed ticket', new_key => 'ct-k10b');
SELECT ticket FROM idsess_get('ct-k10b');
-- A key in use by another session is refused.
SELECT idsess_update('ct-k10b', new_key => 'ct-k5');
\echo :LAST_ERROR_SQLSTATE
SELECT key FROM idsess_get('ct-k10b');
-- A revoked key stays revoked: neither rekeyed to nor upserted.
SELECT key FROM idsess_create('ct-revoked-sub', 'r', key => 'ct-k-rev', session_id => 'ct-sid-rev');
SELECT count(*) FROM idsess_revoke(session_id => 'ct-sid-rev');
SELECT idsess_update('ct-k10b', new_key => 'ct-k-rev');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('ct-k-rev', 'late save', upsert => true);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS not_revived FROM idsess_get('ct-k-rev');

-- 6. SAML add is an upsert by entity id.
SELECT jsonb_array_length(idsess_add_saml_session('ct-k5', 'urn:sp:one', 'idx-1', 'alice'));
SELECT jsonb_array_length(idsess_add_saml_session('ct-k5', 'urn:sp:two', 'idx-2', 'alice'));
SELECT idsess_add_saml_session('ct-k5', 'urn:sp:one', 'idx-9', 'alice2')
       @> '[{"entity_id": "urn:sp:one", "session_index": "idx-9", "name_id": "alice2"}]' AS replaced,
       jsonb_array_length(idsess_saml_sessions('ct-k5')) AS sessions;

-- 9, 5. Revoke returns the issuer and each client's sid.
SELECT idsess_update('ct-k5', clients => '{app-a,app-b}', client_sids => '{sid-a,NULL}');
SELECT key, issuer, clients, client_sids FROM idsess_revoke(subject_id => 'ct-iss');
SELECT key, clients, client_sids FROM idsess_revoke(subject_id => 'ct-new-sub', client_ids => '{nobody}');

-- 3, 5, 9. Expired sessions come with their tickets (for idsess_service),
-- issuer and clients' sids.  In one transaction the worker cannot see.
BEGIN;
SELECT key FROM idsess_create('ct-exp', 'expired ticket', key => 'ct-k3', issuer => 'https://op.example',
                              created => now() - interval '2 hours', expires => now() - interval '1 hour');
SELECT key FROM idsess_create('ct-exp', ticket_bytes => '\x00ff', key => 'ct-k3b',
                              created => now() - interval '2 hours', expires => now() + interval '1 hour');
INSERT INTO idsess.session_clients (session, client_id, client_sid)
SELECT id, 'app-exp', 'sid-exp' FROM idsess.sessions WHERE key = 'ct-k3';
UPDATE idsess.sessions SET expires = now() - interval '30 minutes', due = now() - interval '30 minutes'
WHERE key = 'ct-k3b';
SELECT key, ticket, ticket_bytes, issuer, clients, client_sids
FROM idsess_take_expired(10, tickets => true) ORDER BY key;
ROLLBACK;
BEGIN;
SELECT key FROM idsess_create('ct-exp', 'expired ticket', key => 'ct-k3',
                              created => now() - interval '2 hours', expires => now() - interval '1 hour');
-- Without tickets => true, none (as in 1.0).
SELECT key, ticket IS NULL AND ticket_bytes IS NULL AS no_ticket FROM idsess_take_expired(10);
ROLLBACK;

-- 4. Query rows with tickets, opt-in, no extra round trip.
SELECT key FROM idsess_create('ct-q-user', 'query ticket', key => 'ct-k4');
SELECT key, ticket FROM idsess_query(subject_id => 'ct-q-user', tickets => true);
SELECT key, ticket IS NULL AS no_ticket FROM idsess_query(subject_id => 'ct-q-user');

-- 3, 4. Tickets only for roles with idsess_service's privileges, checked
-- against the calling role.
CREATE ROLE ct_admin LOGIN IN ROLE idsess_admin;
SET ROLE ct_admin;
SELECT count(*) FROM idsess_query(subject_id => 'ct-q-user');
SELECT count(*) FROM idsess_query(subject_id => 'ct-q-user', tickets => true);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_clients('ct-k4', sids => true);
RESET ROLE;
CREATE ROLE ct_service LOGIN IN ROLE idsess_service NOSUPERUSER;
SET ROLE ct_service;
SELECT key, ticket FROM idsess_query(subject_id => 'ct-q-user', tickets => true);
RESET ROLE;
DROP ROLE ct_admin;
DROP ROLE ct_service;

-- 7. Paging back to the start after rows before the page were deleted:
-- a full first page.
SELECT count(*) FROM generate_series(1, 12) i,
  LATERAL idsess_create('ct-page-' || lpad(i::text, 2, '0'), 'p', key => 'ct-p-' || lpad(i::text, 2, '0'));
SELECT min(results_token) AS tok1 FROM idsess_query(subject_id => 'ct-page', count => 5) \gset
SELECT min(results_token) AS tok2 FROM idsess_query(subject_id => 'ct-page', count => 5, results_token => :'tok1') \gset
SELECT idsess_delete('ct-p-01'), idsess_delete('ct-p-02');
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next
FROM idsess_query(subject_id => 'ct-page', count => 5, results_token => :'tok2', prior => true);

-- 5, 9. The expiry worker's back-channel outbox carries the issuer and
-- each client's own sid.
ALTER SYSTEM SET idsess.expired_sessions_trigger_logout = on;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT key FROM idsess_create('ct-bcl', 'b', key => 'ct-k-bcl', session_id => 'ct-sid-bcl',
                              issuer => 'https://op.example', expires => clock_timestamp() + interval '1 second');
SELECT idsess_add_client('ct-k-bcl', 'app-1', client_sid => 'sid-1'), idsess_add_client('ct-k-bcl', 'app-2');
SELECT idsess_test.wait_until($$SELECT EXISTS (SELECT FROM idsess.logout_outbox WHERE subject_id = 'ct-bcl')$$, 5) AS queued;
SELECT cause, subject_id, session_id, issuer, clients, client_sids
FROM idsess_take_logouts(100) WHERE subject_id = 'ct-bcl';
ALTER SYSTEM RESET idsess.expired_sessions_trigger_logout;
SELECT pg_reload_conf();

-- Sign-in path (node-oidc-provider's saves and lookups).
-- A save that changes no identifier (a new ticket, a later expiry, the same
-- clients and sids) rewrites no index entry: the session's row gets a HOT
-- update and the unchanged client row is not written at all (this
-- transaction's own counts).
SELECT key FROM idsess_create('ct-hot', 't1', key => 'ct-k-hot', session_id => 'ct-sid-hot',
                              expires => now() + interval '1 hour');
SELECT idsess_update('ct-k-hot', 't2', clients => '{app-h}', client_sids => '{sid-h}');
SELECT pg_stat_force_next_flush();
BEGIN;
SELECT idsess_update('ct-k-hot', 't3', expires => now() + interval '2 hours', upsert => true,
                     subject_id => 'ct-hot', session_id => 'ct-sid-hot',
                     clients => '{app-h}', client_sids => '{sid-h}');
SELECT relname, n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_hot_upd AS hot, n_tup_del AS deleted
FROM pg_stat_xact_user_tables WHERE relid IN ('idsess.sessions'::regclass, 'idsess.session_clients'::regclass)
ORDER BY relname;
COMMIT;
SELECT ticket, clients, client_sids, expires > now() + interval '90 minutes' AS later
FROM idsess_get('ct-k-hot');
-- A changed sid is still written.
SELECT idsess_update('ct-k-hot', clients => '{app-h}', client_sids => '{sid-h2}');
SELECT client_sids FROM idsess_get('ct-k-hot');
-- The list is a set: the same clients in another order keep their order
-- and sids; a sid is paired with its client whatever the arrays' bounds;
-- a client left out is removed.
SELECT idsess_update('ct-k-hot', clients => '{app-h,app-i}', client_sids => '{sid-h2,sid-i}');
SELECT idsess_update('ct-k-hot', clients => '{app-i,app-h}');
SELECT clients, client_sids FROM idsess_get('ct-k-hot');
SELECT idsess_update('ct-k-hot', clients => '[0:1]={app-i,app-h}', client_sids => '[5:6]={sid-i,sid-h3}');
SELECT clients, client_sids FROM idsess_get('ct-k-hot');
SELECT idsess_update('ct-k-hot', clients => '[2:2]={app-i}', client_sids => '{sid-i}');
SELECT clients, client_sids FROM idsess_get('ct-k-hot');
-- The session still expires on time: renewed later, it is not removed at
-- its first deadline (the worker gives it its next one); renewed earlier,
-- it is removed at the new one.
SELECT key FROM idsess_create('ct-due', 'd', key => 'ct-k-due-later',
                              expires => clock_timestamp() + interval '1 second');
SELECT idsess_update('ct-k-due-later', expires => now() + interval '1 hour');
SELECT key FROM idsess_create('ct-due', 'd', key => 'ct-k-due-sooner',
                              expires => now() + interval '1 hour');
SELECT idsess_update('ct-k-due-sooner', expires => clock_timestamp() + interval '1 second');
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key = 'ct-k-due-sooner')$$, 10)
       AS sooner_removed;
SELECT idsess_test.wait_until($$SELECT due > now() + interval '30 minutes' FROM idsess.sessions WHERE key = 'ct-k-due-later'$$, 10)
       AS later_rescheduled;
SELECT count(*) AS later_live FROM idsess_get('ct-k-due-later');
-- An upsert over an expired session not yet removed replaces it, its
-- clients with it (in one transaction, before the worker can remove it).
BEGIN;
SELECT key FROM idsess_create('ct-dead', 'old', key => 'ct-k-dead', created => now() - interval '2 hours',
                              expires => now() - interval '1 hour');
INSERT INTO idsess.session_clients (session, client_id)
SELECT id, 'app-old' FROM idsess.sessions WHERE key = 'ct-k-dead';
SELECT idsess_update('ct-k-dead', 'new', subject_id => 'ct-dead', upsert => true,
                     expires => now() + interval '1 hour', clients => '{app-new}');
SELECT ticket, clients FROM idsess_get('ct-k-dead');
COMMIT;
-- The provider's first save after a sign-in: a rekey from a key never
-- saved creates the session under the new key.
SELECT idsess_update('ct-k-never', 'first', subject_id => 'ct-dead', session_id => 'ct-sid-first',
                     new_key => 'ct-k-first', upsert => true, clients => '{}');
SELECT key, ticket, clients FROM idsess_get_sessions(session_id => 'ct-sid-first');
-- get_sessions by sid alone (findByUid) returns what the other filters
-- return: the live sessions in creation order, clients with their sids,
-- SAML sessions, tickets opened (text or bytes); none for an unknown sid.
BEGIN;
SELECT key FROM idsess_create('ct-bysid-a', 'ticket a', key => 'ct-k-bysid-1', session_id => 'ct-sid-shared',
                              issuer => 'https://op.example');
SELECT key FROM idsess_create('ct-bysid-b', ticket_bytes => '\x00ff', key => 'ct-k-bysid-2',
                              session_id => 'ct-sid-shared');
SELECT key FROM idsess_create('ct-bysid-c', 'gone', key => 'ct-k-bysid-3', session_id => 'ct-sid-shared',
                              created => now() - interval '2 hours', expires => now() - interval '1 hour');
SELECT idsess_add_client('ct-k-bysid-2', 'app-2', client_sid => 's2'), idsess_add_client('ct-k-bysid-2', 'app-1');
SELECT idsess_add_saml_session('ct-k-bysid-1', 'urn:sp', 'idx-1', 'name@x') IS NOT NULL AS saml_added;
SELECT key, subject_id, issuer, ticket, ticket_bytes, clients, client_sids, saml_sessions
FROM idsess_get_sessions(session_id => 'ct-sid-shared');
SELECT (SELECT array_agg(x::text) FROM idsess_get_sessions(session_id => 'ct-sid-shared') x) =
       (SELECT array_agg(y::text) FROM (
           SELECT * FROM idsess_get_sessions(subject_id => 'ct-bysid-a', session_id => 'ct-sid-shared')
           UNION ALL
           SELECT * FROM idsess_get_sessions(subject_id => 'ct-bysid-b', session_id => 'ct-sid-shared')) y)
       AS same_as_by_subject_and_sid;
SELECT idsess_delete('ct-k-bysid-3');
COMMIT;
SELECT count(*) AS unknown_sid FROM idsess_get_sessions(session_id => 'ct-sid-none');

-- A session an upsert creates with its clients starts with their copy.
SELECT idsess_update('ct-k-copy', 'created with three clients', subject_id => 'ct-user-11', upsert => true,
                     clients => '{app-c1,app-c2,app-c3}', client_sids => '{sid-1,NULL,sid-3}');
SELECT clients, client_sids FROM idsess_get('ct-k-copy');
SELECT client_list FROM idsess.sessions WHERE key = 'ct-k-copy';

-- idsess_get reads a session's clients and SAML SP sessions from the copy its
-- row carries: every change above kept the copies equal to the tables.
SELECT count(*) AS with_clients FROM idsess.sessions WHERE cardinality(client_list) > 0;
SELECT * FROM idsess_test.copies_out_of_step() AS out_of_step;

-- 1.2 (issue 38): the governance arguments, by name and type as
-- doc/reference.md states them, on every call that takes them.
ALTER SYSTEM SET idsess.record_client = 'ip_and_agent';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT key, expires - created AS capped_at
FROM idsess_create('ct-gov', 'ticket', key => 'ct-gov-1', session_id => 'ct-gov-sid-1',
                   max_lifetime => interval '8 hours', acr => 'urn:ct:loa:1', amr => ARRAY['pwd'],
                   auth_time => timestamptz '2030-01-01 00:00:00+00', client_ip => inet '192.0.2.1',
                   user_agent => 'ct-agent', device => 'ct-device');
SELECT idsess_update('ct-gov-1', max_lifetime => interval '4 hours', acr => 'urn:ct:loa:2',
                     amr => ARRAY['pwd', 'otp'], auth_time => timestamptz '2030-01-01 00:05:00+00',
                     client_ip => inet '192.0.2.2', user_agent => 'ct-agent-2', device => 'ct-device-2')
       AS stepped_up;
SELECT idsess_update('ct-gov-2', ticket => 'ticket', subject_id => 'ct-gov', session_id => 'ct-gov-sid-2',
                     upsert => true, max_lifetime => interval '1 hour', acr => 'urn:ct:loa:1',
                     amr => ARRAY['hwk'], auth_time => now(), client_ip => inet '2001:db8::1',
                     user_agent => 'ct-agent', device => 'ct-device') AS upserted;
SELECT idsess_touch('ct-gov-1', client_ip => inet '192.0.2.3', user_agent => 'ct-agent-3',
                    device => 'ct-device-3') AS touched;
SELECT session_id, current, device, client_ip, user_agent, expires - created AS capped_at, clients, acr, amr,
       auth_time IS NOT NULL AS has_auth_time, last_seen IS NOT NULL AS seen
FROM idsess_my_sessions(subject_id => 'ct-gov', current_key => 'ct-gov-1');
SELECT session_id, acr, amr FROM idsess_query(subject_id => 'ct-gov') ORDER BY session_id;
SELECT session_id FROM idsess_revoke(subject_id => 'ct-gov', except_key => 'ct-gov-1', reason => 'ct');
SELECT max_lifetime >= 0 AS totals_count_max_lifetime FROM idsess_report_totals();
-- Incident filters on what was recorded (dry runs): an IP range, an acr
-- below a level, an amr without a method.
SELECT (SELECT count(*) FROM idsess_revoke(subject_id => 'ct-gov', client_ip => '192.0.2.0/24', dry_run => true)) AS in_range,
       (SELECT count(*) FROM idsess_revoke(subject_id => 'ct-gov', client_ip => '198.51.100.0/24', dry_run => true)) AS out_of_range,
       (SELECT count(*) FROM idsess_revoke(subject_id => 'ct-gov', acr_not_in => '{urn:ct:loa:2}', dry_run => true)) AS acr_met,
       (SELECT count(*) FROM idsess_revoke(subject_id => 'ct-gov', acr_not_in => '{urn:ct:loa:3}', dry_run => true)) AS acr_below,
       (SELECT count(*) FROM idsess_revoke(subject_id => 'ct-gov', amr_lacks => 'otp', dry_run => true)) AS has_otp,
       (SELECT count(*) FROM idsess_revoke(subject_id => 'ct-gov', amr_lacks => 'hwk', dry_run => true)) AS lacks_hwk;
ALTER SYSTEM RESET idsess.record_client;
SELECT pg_reload_conf();
-- 12 (1.2). The tenant is kept from create and an upsert, and never changes.
SELECT key FROM idsess_create('ct-t-user', 't1', key => 'ct-t-k1', tenant => 'ct-acme');
SELECT idsess_update('ct-t-k2', 't2', subject_id => 'ct-t-user', upsert => true, tenant => 'ct-bolt');
SELECT idsess_update('ct-t-k1', 't1b', tenant => 'ct-acme'), idsess_update('ct-t-k1', 't1c');
SELECT idsess_update('ct-t-k1', tenant => 'ct-bolt');
\echo :LAST_ERROR_SQLSTATE
SELECT key, tenant FROM idsess.sessions WHERE subject_id = 'ct-t-user' ORDER BY key;
-- 13 (1.2). Incident revocation: filters AND-combined, a dry run ends
-- nothing, a batch ends at most that many and owes their logouts, and a
-- selection of every session needs the confirmation.
SELECT idsess_add_client(k, 'ct-t-app') FROM unnest('{ct-t-k1,ct-t-k2}'::text[]) k;
SELECT key FROM idsess_revoke(client_id => 'ct-t-app', tenant => 'ct-acme', dry_run => true);
SELECT count(*) AS both_left FROM idsess.sessions WHERE subject_id = 'ct-t-user';
SELECT count(*) FROM idsess_revoke(client_id => 'ct-t-app', created_after => now() + interval '1 hour');
SELECT count(*) FROM idsess_revoke(key_id => -1, confirm => 'revoke every session');
SELECT count(*) FROM idsess_revoke();
\echo :LAST_ERROR_SQLSTATE
SELECT key FROM idsess_revoke(client_id => 'ct-t-app', batch => 1, reason => 'ct incident');
SELECT key FROM idsess_revoke(client_id => 'ct-t-app', batch => 1, reason => 'ct incident');
SELECT count(*) FROM idsess_revoke(client_id => 'ct-t-app', batch => 1, reason => 'ct incident');
SELECT cause, subject_id, clients FROM idsess.logout_outbox WHERE subject_id = 'ct-t-user' ORDER BY id;
DELETE FROM idsess.logout_outbox WHERE subject_id = 'ct-t-user';
DELETE FROM idsess.revoked_keys
WHERE key_hash IN (sha256(convert_to('ct-t-k1', 'UTF8')), sha256(convert_to('ct-t-k2', 'UTF8')));

-- Clean up.
SELECT idsess_delete_sessions(subject_id => s)
FROM unnest(ARRAY['ct-user-11', 'ct-q-user', 'ct-iss', 'ct-new-sub', 'ct-gov']) s;
SELECT idsess_delete(k) FROM unnest(ARRAY['ct-anon', 'ct-anon-2', 'ct-k11-anon']) k;
SELECT idsess_delete_sessions(subject_id => s)
FROM unnest(ARRAY['ct-hot', 'ct-due', 'ct-dead', 'ct-bysid-a', 'ct-bysid-b']) s;
SELECT count(*) FROM generate_series(1, 12) i, LATERAL idsess_delete('ct-p-' || lpad(i::text, 2, '0'));
DELETE FROM idsess.revoked_keys WHERE key_hash = sha256(convert_to('ct-k-rev', 'UTF8'));
SELECT count(*) AS left_behind FROM idsess.sessions WHERE key LIKE 'ct-%';
