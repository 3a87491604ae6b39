-- bench/pgbench/duende_traffic.sql: the application traffic that runs
-- during mass expiry: one sign-in for every four requests.  Variables: n,
-- nsub, data.
\set i random(1, :n)
\set j random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
\set r random(0, 4)
\if :r = 0
INSERT INTO duende."ServerSideSessions"
  ("Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data")
VALUES (bench.key_of(:j), 'idsrv', bench.subject_of(:s), bench.sid_of(:j), bench.name_of(:s),
  now(), now(), now() + interval '14 days', :data)
RETURNING "Id";
\else
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions" WHERE "Key" = bench.key_of(:i);
\endif
