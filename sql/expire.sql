-- Removing expired and idle sessions with idsess_take_expired(): due order,
-- batch size, clients returned, renewed and touched sessions kept.  The
-- background worker serves this database too (worker.sql), so everything
-- here happens in one transaction the worker cannot see.
\set SHOW_CONTEXT never

BEGIN;
SELECT count(*) FROM generate_series(1, 5) i,
  LATERAL idsess_create('ivan', 'expired ' || i, key => 'k-x-' || i,
                        created => now() - interval '2 hours',
                        expires => now() - interval '1 hour' + i * interval '1 minute');
-- A session with clients that expired after it was used.
SELECT key FROM idsess_create('ivan', 'with clients', key => 'k-x-0',
                              created => now() - interval '2 hours', expires => now() + interval '1 hour');
SELECT idsess_add_client('k-x-0', 'spa'), idsess_add_client('k-x-0', 'crm');
SELECT idsess_update('k-x-0', expires => now() - interval '90 minutes');
SELECT key FROM idsess_create('ivan', 'live', key => 'k-live', expires => now() + interval '1 hour');
SELECT key FROM idsess_create('ivan', 'forever', key => 'k-forever');

-- Idle timeout: idle for 40 minutes with a 30-minute timeout is gone; a
-- touched session whose old due time passed is rescheduled instead.
SELECT key, idle_timeout FROM idsess_create('ivan', 'idle', key => 'k-idle',
                              created => now() - interval '40 minutes', idle_timeout => '30 minutes');
SELECT key FROM idsess_create('ivan', 'busy', key => 'k-busy',
                              created => now() - interval '40 minutes', idle_timeout => '1 hour');
SELECT idsess_touch('k-busy') AS touched, idsess_touch('k-idle') AS touched_idle;
UPDATE idsess.sessions SET due = now() - interval '1 minute' WHERE key = 'k-busy';

-- In due order, at most count at a time; clients come back, tickets do not.
SELECT key, subject_id, clients, ticket IS NULL AND ticket_bytes IS NULL AS no_ticket
FROM idsess_take_expired(2);
SELECT key, clients FROM idsess_take_expired(10) ORDER BY key;
SELECT count(*) AS nothing_left FROM idsess_take_expired(10);
SELECT key, due > now() AS rescheduled FROM idsess.sessions WHERE subject_id = 'ivan' ORDER BY key;
SELECT count(*) AS orphans FROM idsess.session_clients c
WHERE NOT EXISTS (SELECT FROM idsess.sessions s WHERE s.id = c.session);
-- Nothing went to the back-channel outbox: idsess_take_expired's caller
-- sends the logouts itself.
SELECT count(*) AS outbox FROM idsess.logout_outbox;
ROLLBACK;

-- 1.2: with a lease, expired sessions are claimed, not removed: no other
-- caller, and not the worker, takes them until the lease ends.  A later
-- call names the delivered ones in done, which removes them; count 0 only
-- acknowledges.  A key that a live session holds again is passed over.
BEGIN;
SELECT count(*) FROM generate_series(1, 3) i,
  LATERAL idsess_create('lease', 'ticket ' || i, key => 'k-l-' || i,
                        created => now() - interval '2 hours', expires => now() + interval '1 hour');
SELECT idsess_add_client('k-l-1', 'spa');
SELECT count(*) FILTER (WHERE idsess_update('k-l-' || i, expires => now() - interval '1 hour')) AS expired
FROM generate_series(1, 3) i;
SELECT key, clients, ticket FROM idsess_take_expired(2, tickets => true, lease => '5 minutes') ORDER BY key;
SELECT key, due = now() + interval '5 minutes' AS leased FROM idsess.sessions
WHERE subject_id = 'lease' ORDER BY key;
SELECT key FROM idsess_take_expired(10, lease => '5 minutes');
SELECT count(*) AS none_left FROM idsess_take_expired(10);
SELECT count(*) AS returned FROM idsess_take_expired(0, done => ARRAY['k-l-1', 'k-l-2']);
SELECT key FROM idsess.sessions WHERE subject_id = 'lease' ORDER BY key;
SELECT count(*) AS orphans FROM idsess.session_clients c
WHERE NOT EXISTS (SELECT FROM idsess.sessions s WHERE s.id = c.session);
SELECT idsess_update('k-l-3', ticket => 'again', subject_id => 'lease',
                     expires => now() + interval '1 hour', upsert => true) AS replaced;
SELECT count(*) FROM idsess_take_expired(0, done => ARRAY['k-l-3']);
SELECT key, ticket FROM idsess_get('k-l-3');
SELECT count(*) AS outbox FROM idsess.logout_outbox;
SAVEPOINT bounds;
SELECT count(*) FROM idsess_take_expired(1, lease => '0');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO bounds;
SELECT count(*) FROM idsess_take_expired(1, lease => '25 hours');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- The system-wide inactivity timeout applies to sessions created while it is
-- set; a session can turn it off or choose its own.
ALTER SYSTEM SET idsess.idle_timeout = '15min';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW idsess.idle_timeout;
BEGIN;
SELECT key, idle_timeout FROM idsess_create('judy', 'x', key => 'k-j-default');
SELECT key, idle_timeout FROM idsess_create('judy', 'x', key => 'k-j-off', idle_timeout => '0');
SELECT key, idle_timeout FROM idsess_create('judy', 'x', key => 'k-j-own', idle_timeout => '2 hours');
SELECT key, due - created AS due_after FROM idsess.sessions WHERE subject_id = 'judy' ORDER BY key;
ROLLBACK;
ALTER SYSTEM RESET idsess.idle_timeout;
SELECT pg_reload_conf();

-- One liveness rule: idsess.session_is_live (the views and reports),
-- the library's queries (idsess_get_sessions) and idsess_get's C test on
-- the hot path agree, at the boundaries too: a deadline of exactly now()
-- has passed.  The sessions are set by hand to reach the boundaries.
BEGIN;
SELECT count(*) FROM (SELECT idsess_create('lv-' || i, 'x', key => 'k-lv-' || i)
                      FROM generate_series(1, 7) i) c;
UPDATE idsess.sessions s SET created = now() - interval '1 day', expires = v.expires,
       last_active = v.last_active, idle_timeout = v.idle_timeout
FROM (VALUES ('k-lv-1', now() + interval '1 microsecond', now(), NULL::interval),
             ('k-lv-2', now(), now(), NULL),
             ('k-lv-3', now() - interval '1 second', now(), NULL),
             ('k-lv-4', NULL, now() - interval '10 minutes', interval '10 minutes'),
             ('k-lv-5', NULL, now() - interval '10 minutes' + interval '1 microsecond', interval '10 minutes'),
             ('k-lv-6', NULL, now(), NULL),
             ('k-lv-7', now() + interval '1 hour', now() - interval '1 hour', interval '1 hour'))
     AS v(key, expires, last_active, idle_timeout)
WHERE s.key = v.key;
SELECT s.key,
       idsess.session_is_live(s.expires, s.last_active, s.idle_timeout) AS rule,
       EXISTS (SELECT FROM idsess.active_sessions a WHERE a.subject_id = s.subject_id) AS view,
       EXISTS (SELECT FROM idsess_get_sessions(subject_id => s.subject_id)) AS library,
       EXISTS (SELECT FROM idsess_get(s.key)) AS hot_path
FROM idsess.sessions s WHERE s.subject_id LIKE 'lv-%' ORDER BY s.key;
ROLLBACK;
-- Inlined: the views' plans hold the condition itself, not a call.
CREATE FUNCTION pg_temp.calls_in_plan(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	line text;
	n bigint := 0;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		n := n + (line LIKE '%session_is_live%')::int;
	END LOOP;
	RETURN n;
END $$;
SELECT pg_temp.calls_in_plan('SELECT * FROM idsess.active_sessions') AS active_sessions,
       pg_temp.calls_in_plan('SELECT * FROM idsess.client_sessions') AS client_sessions,
       pg_temp.calls_in_plan('SELECT * FROM idsess.subjects') AS subjects;
