-- scripts/report.sql: the demo's at-a-glance report on active sessions.
\pset footer off
\echo
\echo '== idsess: active sessions =========================================='
SELECT count(*) AS active_sessions,
       count(DISTINCT subject_id) AS people_signed_in,
       count(*) FILTER (WHERE expires IS NULL) AS never_expire,
       count(*) FILTER (WHERE idle_timeout IS NOT NULL) AS with_idle_timeout
FROM idsess.sessions s
WHERE (s.expires IS NULL OR s.expires > now())
  AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > now());

\echo '== sessions per client application =================================='
SELECT c.client_id AS client, count(*) AS sessions, count(DISTINCT s.subject_id) AS people
FROM idsess.session_clients c JOIN idsess.sessions s ON s.id = c.session
GROUP BY 1 ORDER BY 2 DESC, 1;

\echo '== expiring within the next 15 minutes ==============================='
SELECT date_trunc('minute', expires) + interval '1 minute' AS by_minute, count(*) AS sessions
FROM idsess.sessions
WHERE expires > now() AND expires <= now() + interval '15 minutes'
GROUP BY 1 ORDER BY 1 LIMIT 8;

\echo '== what the expiry worker did ========================================'
SELECT database, state, total_removed AS removed_so_far, last_run::time(0) AS last_run,
       (next_due - now())::interval(0) AS next_due_in, coalesce(last_error, '-') AS last_error
FROM idsess.workers;

\echo '== an admin search: display name contains "hopper", first page of 5 ==='
SELECT subject_id, display_name, session_id, array_to_string(clients, ',') AS clients,
       current_page || '/' || total_pages AS page, total_count AS matches
FROM idsess_query(display_name => 'hopper', count => 5);
