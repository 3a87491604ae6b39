-- bench/pgbench/idsess_lookup.sql: exact lookup of a user's sessions,
-- tickets opened (IServerSideSessionStore.GetSessionsAsync).  Variables: nsub.
\set s random(0, :nsub - 1)
SELECT * FROM idsess_get_sessions(subject_id => bench.subject_of(:s));
