-- bench/sql/load_duende.sql: creates sessions lo..hi (those with i % mod = 0)
-- in the Duende baseline, as its store's INSERT would, each with a
-- pre-encrypted ticket from bench.data_pool.  psql variables: lo, hi, mod;
-- and, to load another copy of the table (load_shipped.sql), sessions_table
-- and pool.
\if :{?sessions_table}
\else
\set sessions_table 'duende."ServerSideSessions"'
\set pool bench.data_pool
\endif
INSERT INTO :sessions_table
  ("Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data")
SELECT bench.key_of(i), 'idsrv', bench.subject_of(i / 4), bench.sid_of(i), bench.name_of(i / 4),
       now(), now(), now() + make_interval(days => 7 + (i % 7)::int), p.data
FROM generate_series(:lo::bigint, :hi::bigint) i
JOIN :pool p ON p.n = i % 1000
WHERE i % :mod = 0;
