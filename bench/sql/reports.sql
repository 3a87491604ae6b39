-- bench/sql/reports.sql: how long each admin view's first page and each
-- report takes on the loaded store, with the plan of each view.  Run by
-- bench/reports against a bench/run --hold cluster.
\pset footer off
\timing on
VACUUM ANALYZE idsess.sessions;
VACUUM ANALYZE idsess.session_clients;
SELECT count(*) AS sessions FROM idsess.sessions;
\echo '--- views: first page'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM idsess.active_sessions LIMIT 20;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
SELECT * FROM idsess.active_sessions WHERE subject_id = (SELECT subject_id FROM idsess.sessions LIMIT 1);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
SELECT * FROM idsess.client_sessions WHERE client_id = (SELECT client_id FROM idsess.session_clients LIMIT 1) LIMIT 20;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM idsess.subjects LIMIT 20;
\echo '--- reports'
SELECT * FROM idsess_report_active();
SELECT * FROM idsess_report_clients();
SELECT * FROM idsess_report_schemes();
SELECT count(*) AS expiring_rows FROM idsess_report_expiring(15);
SELECT * FROM idsess_report_age();
SELECT * FROM idsess_report_concurrency();
SELECT * FROM idsess_report_top_subjects(5);
SELECT count(*) AS hours FROM idsess_report_history();
