-- The background worker (this database is in idsess.databases): expired and
-- idle sessions disappear within about a second, renewed and touched ones
-- stay, back-channel logouts reach the outbox when enabled, settings reload,
-- and the worker comes back when terminated.
\set SHOW_CONTEXT never


SELECT idsess_test.wait_until($$SELECT EXISTS (SELECT FROM idsess.workers
                            WHERE database = current_database() AND state = 'sleeping')$$) AS worker_ready;
SELECT database, state, last_error FROM idsess.workers;
SELECT count(*) AS worker_processes FROM pg_stat_activity WHERE backend_type = 'idsess expiry worker';
SELECT count(*) AS launchers FROM pg_stat_activity WHERE backend_type = 'idsess launcher';

-- Sessions expiring in a second are removed within a second of expiry;
-- a renewed one, a never-expiring one and a touched idle one stay.
SELECT key FROM idsess_create('kim', 'soon', key => 'k-w-soon', expires => clock_timestamp() + interval '1 second');
SELECT key FROM idsess_create('kim', 'renew', key => 'k-w-renew', expires => clock_timestamp() + interval '1 second');
SELECT key FROM idsess_create('kim', 'forever', key => 'k-w-forever');
SELECT key FROM idsess_create('kim', 'idle', key => 'k-w-idle', idle_timeout => '1 second');
SELECT key FROM idsess_create('kim', 'busy', key => 'k-w-busy', idle_timeout => '2 seconds');
SELECT idsess_update('k-w-renew', expires => clock_timestamp() + interval '1 hour') AS renewed;
SELECT pg_sleep(1);
SELECT idsess_touch('k-w-busy') AS touched;
SELECT pg_sleep(1.2);
SELECT idsess_touch('k-w-busy') AS touched_past_its_first_deadline;
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key IN ('k-w-soon', 'k-w-idle'))$$, 3)
       AS gone;
SELECT key FROM idsess.sessions WHERE subject_id = 'kim' ORDER BY key;
-- Each round also purges revocation tombstones past their time, and only
-- those.
INSERT INTO idsess.revoked_keys (key_hash, until) VALUES
  (sha256('k-w-stale'), now() - interval '1 second'),
  (sha256('k-w-holds'), now() + interval '1 hour');
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.revoked_keys
                                 WHERE key_hash = sha256('k-w-stale'))$$, 5) AS stale_purged;
SELECT count(*) AS still_held FROM idsess.revoked_keys WHERE key_hash = sha256('k-w-holds');
DELETE FROM idsess.revoked_keys WHERE key_hash = sha256('k-w-holds');
-- The worker's work shows in its status.
SELECT total_removed >= 2 AS removed_counted, last_run IS NOT NULL AS has_run,
       next_due IS NOT NULL AS knows_next_due, last_error
FROM idsess.workers WHERE database = current_database();

-- Back-channel logout on expiry: off by default (nothing written) ...
SELECT count(*) AS outbox FROM idsess.logout_outbox;
-- ... and when switched on with a reload, each removed session's subject,
-- sid, clients and SAML SPs are queued.
ALTER SYSTEM SET idsess.expired_sessions_trigger_logout = on;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT key FROM idsess_create('kim', 'bcl', key => 'k-w-bcl', session_id => 'sid-bcl',
                              expires => clock_timestamp() + interval '1 second');
SELECT idsess_add_client('k-w-bcl', 'spa'), idsess_add_client('k-w-bcl', 'payroll');
SELECT jsonb_array_length(idsess_add_saml_session('k-w-bcl', 'urn:sp:wiki', 'w1', 'kim'));
SELECT idsess_test.wait_until($$SELECT EXISTS (SELECT FROM idsess.logout_outbox)$$, 5) AS queued;
BEGIN;
SELECT cause, subject_id, session_id, clients, saml_sessions FROM idsess_take_logouts(10);
-- Taken rows come back if the taker rolls back.
ROLLBACK;
SELECT cause, subject_id, session_id, clients FROM idsess_take_logouts();
SELECT count(*) AS drained FROM idsess_take_logouts();
ALTER SYSTEM RESET idsess.expired_sessions_trigger_logout;
SELECT pg_reload_conf();

-- A larger backlog goes in several batches.
ALTER SYSTEM SET idsess.expire_batch_size = 7;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT n_tup_del AS deleted_before FROM pg_stat_all_tables WHERE relid = 'idsess.sessions'::regclass \gset
BEGIN;
SELECT count(*) FROM generate_series(1, 50) i,
  LATERAL idsess_create('lee', 'backlog ' || i, created => now() - interval '1 hour', expires => now() - interval '1 minute');
COMMIT;
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE subject_id = 'lee')$$, 5) AS backlog_gone;
-- The worker reports its deletions, so autovacuum knows of the dead rows.
SET stats_fetch_consistency = none;
SELECT idsess_test.wait_until(format($$SELECT n_tup_del >= %s + 50
  FROM pg_stat_all_tables WHERE relid = 'idsess.sessions'::regclass$$, :deleted_before), 5) AS deletions_reported;
RESET stats_fetch_consistency;
-- With a pause between batches, a backlog goes more slowly but completely:
-- 50 due sessions are 8 batches of 7 with seven pauses of 200 ms, so some
-- are still there 0.3 s after they commit.
ALTER SYSTEM SET idsess.expire_batch_delay = '200ms';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW idsess.expire_batch_delay;
BEGIN;
SELECT count(*) FROM generate_series(1, 50) i,
  LATERAL idsess_create('lee', 'paced ' || i, created => now() - interval '1 hour', expires => now() - interval '1 minute');
COMMIT;
SELECT pg_sleep(0.3);
SELECT count(*) > 0 AS still_removing FROM idsess.sessions WHERE subject_id = 'lee';
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE subject_id = 'lee')$$, 10) AS paced_backlog_gone;
ALTER SYSTEM RESET idsess.expire_batch_delay;
ALTER SYSTEM RESET idsess.expire_batch_size;
SELECT pg_reload_conf();

-- A due session row-locked by another transaction is skipped, and the
-- worker does not spin on it: over two seconds of the lock its whole
-- database commits a few dozen transactions (a worker that naps 1 ms and
-- reruns commits thousands).  Once the lock is gone the session goes.
SELECT key FROM idsess_create('kim', 'locked', key => 'k-w-locked', expires => clock_timestamp() + interval '2 seconds');
SET stats_fetch_consistency = none;
BEGIN;
SELECT key AS locked FROM idsess.sessions WHERE key = 'k-w-locked' FOR UPDATE;
SELECT pg_sleep(2.5);
SELECT xact_commit AS commits_before FROM pg_stat_database WHERE datname = current_database() \gset
SELECT pg_sleep(2);
SELECT xact_commit - :commits_before < 100 AS worker_sleeps_while_locked
FROM pg_stat_database WHERE datname = current_database();
COMMIT;
RESET stats_fetch_consistency;
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key = 'k-w-locked')$$, 3)
       AS removed_once_unlocked;

-- Terminated, the worker is started again by the launcher.
SELECT pid AS old_pid FROM idsess.workers WHERE database = current_database() \gset
SELECT pg_terminate_backend(:old_pid);
SELECT idsess_test.wait_until(format($$SELECT EXISTS (SELECT FROM idsess.workers WHERE database = current_database()
                                  AND pid <> %s AND state = 'sleeping')$$, :old_pid), 15) AS worker_back;
SELECT key FROM idsess_create('kim', 'after restart', key => 'k-w-after', expires => clock_timestamp() + interval '1 second');
SELECT idsess_test.wait_until($$SELECT NOT EXISTS (SELECT FROM idsess.sessions WHERE key = 'k-w-after')$$, 4) AS still_expiring;

SELECT idsess_delete_sessions(subject_id => 'kim') AS cleaned;
