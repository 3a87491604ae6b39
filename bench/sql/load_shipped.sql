-- bench/sql/load_shipped.sql: creates sessions lo..hi (those with i % mod =
-- 0) in Duende's store as it ships (bench/sql/shipped.sql), as
-- load_duende.sql does, each with a ticket from bench.shipped_pool.  psql
-- variables: lo, hi, mod.
INSERT INTO duende_shipped."ServerSideSessions"
  ("Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data")
SELECT bench.key_of(i), 'idsrv', bench.subject_of(i / 4), bench.sid_of(i), bench.name_of(i / 4),
       now(), now(), now() + make_interval(days => 7 + (i % 7)::int), p.data
FROM generate_series(:lo::bigint, :hi::bigint) i
JOIN bench.shipped_pool p ON p.n = i % 1000
WHERE i % :mod = 0;
