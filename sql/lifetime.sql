-- An absolute lifetime (idsess.max_lifetime, max_lifetime): no create,
-- renewal, touch or upsert moves a session's end past created +
-- max_lifetime, and the worker ends it there with the cause max_lifetime in
-- the outbox, the statistics and the audit trail.  Idle timeout, expiry and
-- the cap combine: the first to arrive ends the session.
\set SHOW_CONTEXT never

-- No cap by default.
SHOW idsess.max_lifetime;
SELECT (idsess_create('lia', 't', key => 'k-l-none')).expires IS NULL AS never_expires;
SELECT lifetime_end IS NULL AS uncapped FROM idsess.sessions WHERE key = 'k-l-none';

-- A cap with no expiry: the session expires at the cap.
SELECT (idsess_create('lia', 't', key => 'k-l-cap', max_lifetime => '1 hour')).expires
       = now() + interval '1 hour' AS expires_at_cap;
-- An expiry past the cap is brought back to it; one before it is kept.
SELECT (idsess_create('lia', 't', key => 'k-l-late', expires => now() + interval '2 hours',
                      max_lifetime => '1 hour')).expires = now() + interval '1 hour' AS late_expiry_capped;
SELECT (idsess_create('lia', 't', key => 'k-l-early', expires => now() + interval '30 minutes',
                      max_lifetime => '1 hour')).expires = now() + interval '30 minutes' AS early_expiry_kept;
SELECT key, expires - created AS expires_in, lifetime_end - created AS lifetime
FROM idsess.sessions WHERE key LIKE 'k-l-%' AND lifetime_end IS NOT NULL ORDER BY key;

-- Renewals cannot pass the cap: a later expiry, infinity, a touch.
SELECT idsess_update('k-l-early', expires => now() + interval '1 day') AS renewed;
SELECT idsess_update('k-l-cap', expires => 'infinity') AS renewed_forever;
SELECT idsess_touch('k-l-cap') AS touched;
SELECT key, expires - created AS expires_in
FROM idsess.sessions WHERE key IN ('k-l-early', 'k-l-cap') ORDER BY key;
-- A new created does not move the cap either.
SELECT lifetime_end AS early_cap FROM idsess.sessions WHERE key = 'k-l-early' \gset
SELECT idsess_update('k-l-early', created => now() + interval '10 minutes',
                     expires => now() + interval '1 day') AS moved_created;
SELECT lifetime_end = :'early_cap' AS cap_unchanged, expires = lifetime_end AS expires_at_cap
FROM idsess.sessions WHERE key = 'k-l-early';

-- An update's max_lifetime brings the cap earlier, never later.
SELECT idsess_update('k-l-cap', max_lifetime => '2 hours') AS asked_longer;
SELECT lifetime_end - created AS lifetime FROM idsess.sessions WHERE key = 'k-l-cap';
SELECT idsess_update('k-l-cap', max_lifetime => '20 minutes') AS shortened;
SELECT lifetime_end - created AS lifetime, expires - created AS expires_in
FROM idsess.sessions WHERE key = 'k-l-cap';
-- And a session without one can be given one.
SELECT idsess_update('k-l-none', max_lifetime => '5 minutes') AS capped_later;
SELECT expires - created AS expires_in FROM idsess.sessions WHERE key = 'k-l-none';

-- Refused: a negative max_lifetime; 0 on an existing session (it would
-- remove the cap).
SELECT idsess_create('lia', 't', max_lifetime => '-1 second');
SELECT idsess_update('k-l-cap', max_lifetime => '0');
SELECT idsess_update('k-l-cap', max_lifetime => '-1 minute');

-- The setting caps new sessions (and upserts); 0 opts one out; sessions
-- created before it are left as they were.
ALTER SYSTEM SET idsess.max_lifetime = '8h';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW idsess.max_lifetime;
SELECT (idsess_create('lia', 't', key => 'k-l-set')).expires = now() + interval '8 hours' AS setting_caps;
SELECT (idsess_create('lia', 't', key => 'k-l-optout', max_lifetime => '0')).expires IS NULL AS opted_out;
SELECT idsess_update('k-l-upsert', ticket => 't', subject_id => 'lia', upsert => true) AS upserted;
SELECT idsess_update('k-l-upsert2', ticket => 't', subject_id => 'lia', upsert => true, max_lifetime => '1 minute') AS upserted;
SELECT key, lifetime_end - created AS lifetime FROM idsess.sessions
WHERE key IN ('k-l-set', 'k-l-optout', 'k-l-upsert', 'k-l-upsert2', 'k-l-none') ORDER BY key;
ALTER SYSTEM RESET idsess.max_lifetime;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW idsess.max_lifetime;

-- The worker ends a capped session at its cap, though renewed up to the
-- end: cause max_lifetime in the outbox, the statistics and the audit.
-- Beside it, an idle session whose inactivity deadline comes before its cap
-- ends as idle, and one whose expiry comes first as expired.
ALTER SYSTEM SET idsess.expired_sessions_trigger_logout = on;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT max_lifetime AS capped_before FROM idsess_report_totals() \gset
SELECT key FROM idsess_create('lia', 't', key => 'k-l-end', session_id => 'sid-l-end',
                              max_lifetime => '1.5 seconds');
SELECT key FROM idsess_create('lia', 't', key => 'k-l-idle', session_id => 'sid-l-idle',
                              max_lifetime => '1 hour', idle_timeout => '1 second');
SELECT key FROM idsess_create('lia', 't', key => 'k-l-exp', session_id => 'sid-l-exp',
                              max_lifetime => '1 hour', expires => clock_timestamp() + interval '1 second');
SELECT idsess_add_client('k-l-end', 'spa');
SELECT pg_sleep(0.6);
SELECT idsess_update('k-l-end', expires => clock_timestamp() + interval '1 hour') AS renewed_near_the_end;
SELECT idsess_touch('k-l-end') AS touched;
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions
                                WHERE key IN ('k-l-end', 'k-l-idle', 'k-l-exp'))$$, 5) AS ended;
SELECT cause, subject_id, session_id, clients FROM idsess_take_logouts()
WHERE session_id LIKE 'sid-l-%' ORDER BY session_id;
SELECT action, reason, sessions, clients FROM idsess.audit WHERE action = 'max_lifetime';
SELECT idsess_test.wait_until(format($$SELECT max_lifetime >= %s + 1 FROM idsess_report_totals()$$,
                                     :capped_before), 5) AS counted;
ALTER SYSTEM RESET idsess.expired_sessions_trigger_logout;
SELECT pg_reload_conf();
SELECT idsess_delete_sessions('lia') >= 0 AS cleaned;
DELETE FROM idsess.audit WHERE action = 'max_lifetime';
