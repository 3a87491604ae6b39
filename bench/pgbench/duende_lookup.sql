-- bench/pgbench/duende_lookup.sql: Duende GetSessionsAsync by subject (the
-- application then decrypts each ticket, not counted).  Variables: nsub.
\set s random(0, :nsub - 1)
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions" WHERE "SubjectId" = bench.subject_of(:s);
