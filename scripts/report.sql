-- scripts/report.sql: the demo's at-a-glance report, built on idsess's
-- report functions and views, called schema-qualified (doc/security.md, "How to call").
\pset footer off
\echo
\echo '== idsess: active sessions =========================================='
SELECT * FROM public.idsess_report_active();

\echo '== sessions per client application =================================='
SELECT * FROM public.idsess_report_clients();

\echo '== expiring within the next 15 minutes, by minute ==================='
SELECT to_char(date_trunc('minute', now() + expires_in), 'HH24:MI') AS minute, count(*) AS sessions
FROM public.idsess_report_expiring(15) GROUP BY 1 ORDER BY 1 LIMIT 8;

\echo '== what happened in the last hour ===================================='
SELECT sum(created) AS created, sum(expired) AS expired, sum(idle) AS ended_idle,
       sum(revoked) AS revoked, sum(deleted) AS deleted
FROM public.idsess_report_history(now() - interval '1 hour');

\echo '== the expiry worker ================================================='
SELECT database, state, total_removed AS removed_so_far, last_run::time(0) AS last_run,
       (next_due - now())::interval(0) AS next_due_in, coalesce(last_error, '-') AS last_error
FROM idsess.workers;

\echo '== an admin search: display name contains "hopper", first page of 5 ==='
SELECT subject_id, display_name, session_id, array_to_string(clients, ',') AS clients,
       current_page || '/' || total_pages AS page, total_count AS matches
FROM public.idsess_query(display_name => 'hopper', count => 5);
