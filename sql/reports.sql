-- Views and reports for admins and reporting, the hourly history kept by the
-- worker, and the concurrent session limit.  Earlier tests left no live
-- sessions, so the figures here are exact.
\set SHOW_CONTEXT never
CREATE TEMP VIEW history_totals AS
SELECT sum(created) AS created, sum(expired) AS expired, sum(idle) AS idle, sum(revoked) AS revoked,
       sum(deleted) AS deleted, sum(limited) AS limited
FROM idsess_report_history(now() - interval '1 day', now() + interval '1 hour');
-- Let the worker flush what earlier tests counted (it does every round).
SELECT pg_sleep(1.5);
CREATE TEMP TABLE before AS SELECT * FROM history_totals;

SELECT count(*) AS live_sessions_left_by_earlier_tests FROM idsess.active_sessions;

-- Known sessions: three people, four clients, varied ages and expiries.
SELECT count(*) FROM (VALUES
  ('rep-ann', 'Ann Arbor', 'k-ann-1', 'SID-ANN-1', interval '2 minutes', interval '8 hours', '{spa,payroll}'::text[]),
  ('rep-ann', 'Ann Arbor', 'k-ann-2', 'SID-ANN-2', interval '30 minutes', interval '10 minutes', '{mobile}'),
  ('rep-ann', 'Ann Arbor', 'k-ann-3', 'SID-ANN-3', interval '3 hours', interval '8 hours', '{spa,crm,payroll,mobile}'),
  ('rep-bob', 'Bob Bristol', 'k-bob-1', 'SID-BOB-1-0123456789ABCDEF', interval '2 days', interval '2 days', '{spa}'),
  ('rep-bob', 'Bob Bristol', 'k-bob-2', 'SID-BOB-2', interval '10 hours', interval '5 minutes', '{}'),
  ('rep-cat', 'Cat Cardiff', 'k-cat-1', 'SID-CAT-1', interval '8 days', NULL, '{payroll}')
) AS v(sub, name, k, sid, age, left_, cl),
LATERAL idsess_create(sub, 'ticket', key => k, session_id => sid, display_name => name,
                      created => now() - age, expires => now() + left_, scheme => CASE WHEN sub = 'rep-cat' THEN 'saml' ELSE 'idsrv' END),
LATERAL (SELECT idsess_add_client(k, c) FROM unnest(cl) c) j;

-- psql views.
SELECT subject_id, display_name, sid, clients,
       date_trunc('minute', expires_in + interval '30 seconds') AS expires_in_rounded
FROM idsess.active_sessions ORDER BY sid;
SELECT subject_id, sid FROM idsess.active_sessions WHERE subject_id = 'rep-bob' ORDER BY sid;
SELECT subject_id, display_name, sid FROM idsess.client_sessions WHERE client_id = 'payroll' ORDER BY sid;
SELECT subject_id, display_name, sessions FROM idsess.subjects ORDER BY subject_id;
-- The views explain themselves in \dv+.
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
FROM pg_class c WHERE c.relnamespace = 'idsess'::regnamespace AND c.relkind IN ('r', 'v') ORDER BY 1;
SELECT count(*) AS uncommented_functions FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'idsess') AND d.deptype = 'e'
  AND obj_description(p.oid, 'pg_proc') IS NULL;

-- Reports.
SELECT * FROM idsess_report_active();
SELECT * FROM idsess_report_clients();
SELECT * FROM idsess_report_schemes();
SELECT subject_id, display_name, sid, clients FROM idsess_report_expiring(15);
SELECT * FROM idsess_report_age();
SELECT * FROM idsess_report_concurrency();
SELECT * FROM idsess_report_top_subjects(2);

-- Every range argument is bounded, and idsess_reporting runs the reports.
-- (The statement timeout only keeps an unbounded report from hanging the
-- suite; each answer below is a row count, not a time.)
SET statement_timeout = '10s';
SET ROLE idsess_reporting;
SHOW idsess.stats_retention;
-- -infinity and NULL start at the oldest hour kept (idsess.stats_retention
-- ago: 30 days of 24 hours); the future and infinity end at the current hour.
SELECT count(*) AS hours, min(hour) = date_trunc('hour', now() - interval '720 hours') AS from_retention,
       max(hour) = date_trunc('hour', now()) AS to_now
FROM idsess_report_history('-infinity');
SELECT count(*) AS hours, min(hour) = date_trunc('hour', now() - interval '720 hours') AS from_retention,
       max(hour) = date_trunc('hour', now()) AS to_now
FROM idsess_report_history(NULL, NULL);
SELECT count(*) AS hours FROM idsess_report_history('-infinity', 'infinity');
SELECT count(*) AS hours FROM idsess_report_history(now() - interval '1000 years', now() + interval '1000 years');
SELECT count(*) AS hours FROM idsess_report_history(now() - interval '2 hours', 'infinity');
SELECT count(*) AS empty FROM idsess_report_history('infinity');
SELECT count(*) AS empty FROM idsess_report_history(now() - interval '2 hours', '-infinity');
SELECT count(*) AS empty FROM idsess_report_history(now(), now() - interval '1 hour');
-- The ends of the timestamp range (found by sql/fuzz.sql: 22008).
SELECT count(*) AS empty FROM idsess_report_history(NULL, '4713-11-24 00:00:00+00 BC');
SELECT count(*) AS empty FROM idsess_report_history('294276-12-31 23:59:59+00', NULL);
-- Counts: NULL or <= 0 mean the default, above the limit is an error.
SELECT count(*) AS expiring FROM idsess_report_expiring(NULL);
SELECT count(*) AS expiring FROM idsess_report_expiring(-1);
SELECT count(*) AS expiring FROM idsess_report_expiring(10080);
SELECT count(*) FROM idsess_report_expiring(10081);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_report_expiring(2147483647);
SELECT count(*) AS top FROM idsess_report_top_subjects(NULL);
SELECT count(*) AS top FROM idsess_report_top_subjects(-1);
SELECT count(*) AS top FROM idsess_report_top_subjects(1000);
SELECT count(*) FROM idsess_report_top_subjects(1001);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- With a retention beyond a year, a report spans at most 366 days:
-- -infinity starts 366 days back, an explicit longer span is refused.
ALTER SYSTEM SET idsess.stats_retention = '1000d';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW idsess.stats_retention;
SELECT count(*) AS hours, min(hour) = date_trunc('hour', now() - interval '366 days') AS from_a_year_ago
FROM idsess_report_history('-infinity');
SELECT count(*) AS hours FROM idsess_report_history(now() - interval '366 days');
SELECT count(*) FROM idsess_report_history(now() - interval '367 days');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_report_history(now() - interval '400 days', now() - interval '20 days');
SELECT min(hour) = date_trunc('hour', now() - interval '400 days') AND max(hour) = date_trunc('hour', now() - interval '100 days') AS whole_span
FROM idsess_report_history(now() - interval '400 days', now() - interval '100 days');
ALTER SYSTEM RESET idsess.stats_retention;
SELECT pg_reload_conf();
RESET statement_timeout;

-- The concurrent session limit: refuse (the default) ...
SELECT key FROM idsess_create('rep-ann', 'x', max_sessions => 3);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS ann_sessions FROM idsess.active_sessions WHERE subject_id = 'rep-ann';
SELECT key, ended_sessions FROM idsess_create('rep-ann', 'x', key => 'k-ann-4', session_id => 'SID-ANN-4', max_sessions => 4);
SELECT idsess_create('rep-ann', 'x', max_sessions => -1);
-- ... or end the oldest sessions and return them for back-channel logout.
ALTER SYSTEM SET idsess.session_limit_action = 'end_oldest';
ALTER SYSTEM SET idsess.max_sessions_per_subject = 3;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT key, jsonb_pretty(ended_sessions) FROM idsess_create('rep-ann', 'x', key => 'k-ann-5', session_id => 'SID-ANN-5');
SELECT sid FROM idsess.active_sessions WHERE subject_id = 'rep-ann' ORDER BY sid;
SELECT key, ended_sessions FROM idsess_create('rep-cat', 'x', key => 'k-cat-2');
SELECT key, ended_sessions FROM idsess_create('rep-cat', 'x', key => 'k-cat-3', max_sessions => 0);
ALTER SYSTEM RESET idsess.session_limit_action;
ALTER SYSTEM RESET idsess.max_sessions_per_subject;
SELECT pg_reload_conf();

-- The history: what happened since the first snapshot, flushed by the worker.
SELECT count(*) FROM idsess_revoke(subject_id => 'rep-bob');
SELECT idsess_delete('k-cat-2') AS deleted;
SELECT key FROM idsess_create('rep-dan', 'x', key => 'k-dan-1', created => now() - interval '1 hour',
                              expires => now() - interval '1 minute');
SELECT key FROM idsess_create('rep-dan', 'x', key => 'k-dan-2', created => now() - interval '1 hour',
                              idle_timeout => '10 minutes');
SELECT idsess_test.wait_until($$SELECT h.expired - b.expired = 1 AND h.idle - b.idle = 1
                            FROM history_totals h, before b$$) AS flushed;
SELECT h.created - b.created AS created, h.expired - b.expired AS expired, h.idle - b.idle AS idle,
       h.revoked - b.revoked AS revoked, h.deleted - b.deleted AS deleted, h.limited - b.limited AS limited
FROM history_totals h, before b;
SELECT count(*) AS hours, min(hour) = date_trunc('hour', now() - interval '1 day') AS from_a_day_ago
FROM idsess_report_history();

-- Reports on a million sessions use indexes: the first page of a view is
-- served by the client and subject indexes, not a sort of everything (the
-- plans on a million sessions are in BENCHMARKS.md).
SET enable_seqscan = off;
SELECT DISTINCT scan FROM idsess_test.scans($$SELECT * FROM idsess.client_sessions WHERE client_id = 'payroll' LIMIT 20$$) scan ORDER BY 1;
SELECT DISTINCT scan FROM idsess_test.scans($$SELECT * FROM idsess.active_sessions WHERE subject_id = 'rep-ann'$$) scan ORDER BY 1;
RESET enable_seqscan;

SELECT idsess_delete_sessions(subject_id => s) FROM unnest('{rep-ann,rep-bob,rep-cat,rep-dan}'::text[]) s;
