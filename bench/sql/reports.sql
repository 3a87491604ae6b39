-- bench/sql/reports.sql: how long each admin view's first page and each
-- report takes on the loaded store, with the plan of each view.  Run by
-- bench/run on the store mass expiry uses (1,000,000 sessions).  Each
-- timed statement follows a line "@@ label", which bench/report pairs with
-- psql's "Time:" line.
\pset footer off
VACUUM ANALYZE idsess.sessions;
VACUUM ANALYZE idsess.session_clients;
SELECT count(*) AS sessions FROM idsess.sessions;
SELECT subject_id AS some_subject FROM idsess.sessions ORDER BY id LIMIT 1 \gset
\timing on
\echo '@@ active_sessions, first 20 rows (plan)'
EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM idsess.active_sessions LIMIT 20;
\echo '@@ active_sessions of one subject (plan)'
EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM idsess.active_sessions WHERE subject_id = :'some_subject';
\echo '@@ client_sessions of payroll, first 20 rows (plan)'
EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM idsess.client_sessions WHERE client_id = 'payroll' LIMIT 20;
\echo '@@ subjects, first 20 rows (plan)'
EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM idsess.subjects LIMIT 20;
\echo '@@ idsess_report_active()'
SELECT * FROM idsess_report_active();
\echo '@@ idsess_report_clients()'
SELECT * FROM idsess_report_clients();
\echo '@@ idsess_report_schemes()'
SELECT * FROM idsess_report_schemes();
\echo '@@ idsess_report_expiring(15), counted'
SELECT count(*) AS expiring_rows FROM idsess_report_expiring(15);
\echo '@@ idsess_report_age()'
SELECT * FROM idsess_report_age();
\echo '@@ idsess_report_concurrency()'
SELECT * FROM idsess_report_concurrency();
\echo '@@ idsess_report_top_subjects(5)'
SELECT * FROM idsess_report_top_subjects(5);
\echo '@@ idsess_report_history(), counted'
SELECT count(*) AS hours FROM idsess_report_history();
