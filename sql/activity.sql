-- Devices and activity, privacy as a setting: idsess.record_client decides
-- what of the client a session records (nothing by default), the IP is cut
-- to idsess.ip_prefix_v4 / _v6 bits, last_seen moves only by
-- idsess.activity_granularity (a new IP always counts), and a subject can
-- list its sessions and sign out all but the current one.
\set SHOW_CONTEXT never

-- Off by default: the arguments are checked, then nothing is stored.
SHOW idsess.record_client;
SELECT key FROM idsess_create('dev', 't', key => 'k-a-off', session_id => 'sid-a-off', client_ip => '203.0.113.7',
                              user_agent => 'Mozilla/5.0', device => 'Firefox on Linux');
SELECT idsess_touch('k-a-off', client_ip => '198.51.100.1', user_agent => 'curl', device => 'x') AS touched;
SELECT idsess_update('k-a-off', client_ip => '198.51.100.1', device => 'x') AS renewed;
SELECT client_ip, user_agent, device, last_seen FROM idsess.sessions WHERE key = 'k-a-off';
SELECT idsess_touch('k-a-off', device => repeat('d', 201));

-- ip: the address (cut to /24 and /48 by default), the device label and
-- last_seen; no user agent.
ALTER SYSTEM SET idsess.record_client = 'ip';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW idsess.record_client;
SELECT key FROM idsess_create('dev', 't', key => 'k-a-ip', session_id => 'sid-a-ip',
                              client_ip => '203.0.113.77', user_agent => 'Mozilla/5.0',
                              device => 'Firefox on Linux');
SELECT key FROM idsess_create('dev', 't', key => 'k-a-v6', session_id => 'sid-a-v6',
                              client_ip => '2001:db8:1234:5678::1', device => 'Phone');
SELECT key, client_ip, user_agent, device, last_seen = created AS seen_at_sign_in
FROM idsess.sessions WHERE key IN ('k-a-ip', 'k-a-v6') ORDER BY key;

-- ip_and_agent: the user agent too, cut to 512 characters.
ALTER SYSTEM SET idsess.record_client = 'ip_and_agent';
ALTER SYSTEM SET idsess.ip_prefix_v4 = 32;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT key FROM idsess_create('dev', 't', key => 'k-a-all', session_id => 'sid-a-all',
                              client_ip => '192.0.2.10', user_agent => 'Mozilla/5.0 ' || repeat('é', 600),
                              device => 'Laptop');
SELECT client_ip, length(user_agent) AS agent_chars, device FROM idsess.sessions WHERE key = 'k-a-all';

-- The granularity: inside it a touch from the same address keeps last_seen;
-- a new address is written at once; past the granularity last_seen moves.
UPDATE idsess.sessions SET last_seen = now() - interval '30 seconds' WHERE key = 'k-a-all';
SELECT last_seen AS seen_before FROM idsess.sessions WHERE key = 'k-a-all' \gset
SELECT idsess_touch('k-a-all', client_ip => '192.0.2.10') AS touched_same_ip;
SELECT last_seen = :'seen_before' AS last_seen_kept FROM idsess.sessions WHERE key = 'k-a-all';
SELECT idsess_touch('k-a-all', client_ip => '192.0.2.99', user_agent => 'Other/1.0') AS touched_new_ip;
SELECT client_ip, user_agent, clock_timestamp() - last_seen < interval '10 seconds' AS seen_now FROM idsess.sessions WHERE key = 'k-a-all';
UPDATE idsess.sessions SET last_seen = now() - interval '61 seconds' WHERE key = 'k-a-all';
SELECT idsess_touch('k-a-all') AS touched_later;
SELECT clock_timestamp() - last_seen < interval '10 seconds' AS seen_now FROM idsess.sessions WHERE key = 'k-a-all';
-- A renewal is activity as well, by the same rule.
UPDATE idsess.sessions SET last_seen = now() - interval '61 seconds' WHERE key = 'k-a-ip';
SELECT idsess_update('k-a-ip', client_ip => '203.0.113.200', device => 'Firefox on Linux') AS renewed;
SELECT client_ip, clock_timestamp() - last_seen < interval '10 seconds' AS seen_now FROM idsess.sessions WHERE key = 'k-a-ip';
-- A touch of a session whose values do not change stays a HOT update.
BEGIN;
SELECT n_tup_hot_upd AS hot_before FROM pg_stat_xact_user_tables WHERE relid = 'idsess.sessions'::regclass \gset
SELECT idsess_touch('k-a-all', client_ip => '192.0.2.99') AS touched;
SELECT n_tup_hot_upd - :hot_before AS hot_updates FROM pg_stat_xact_user_tables WHERE relid = 'idsess.sessions'::regclass;
COMMIT;

-- The self-service list: no keys, the current session first.
SELECT session_id, current, device, client_ip, user_agent IS NOT NULL AS has_agent,
       last_seen IS NOT NULL AS seen, clients
FROM idsess_my_sessions('dev', current_key => 'k-a-all');
SELECT count(*) AS other_subjects_sessions FROM idsess_my_sessions('nobody');

-- Sign out everywhere else: the others end, their clients are returned,
-- the current one stays; the audit row says so.
SELECT idsess_add_client('k-a-ip', 'spa');
SELECT subject_id, session_id, clients FROM idsess_revoke(subject_id => 'dev', except_key => 'k-a-all')
ORDER BY session_id;
SELECT session_id, current FROM idsess_my_sessions('dev', 'k-a-all');
SELECT action, subject_id, reason, sessions, clients FROM idsess.audit
WHERE action = 'revoke' AND subject_id = 'dev';
SELECT idsess_revoke(except_key => 'k-a-all', session_id => 'sid-a-all');

ALTER SYSTEM RESET idsess.record_client;
ALTER SYSTEM RESET idsess.ip_prefix_v4;
SELECT pg_reload_conf();
SELECT idsess_delete_sessions('dev') AS deleted;
DELETE FROM idsess.audit WHERE subject_id = 'dev';
