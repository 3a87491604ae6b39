-- bench/pgbench/duende_get.sql: Duende GetSessionAsync: the row by key (the
-- application then decrypts the ticket, which is not counted).  Variables: n.
\set i random(1, :n)
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions" WHERE "Key" = bench.key_of(:i);
