-- bench/pgbench/shipped_get.sql: duende_get.sql on Duende's store as it
-- ships (bench/sql/shipped.sql): the row by key, its ticket as Data
-- Protection wrote it (the application's decryption is not counted).
-- Variables: n.
\set i random(1, :n)
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende_shipped."ServerSideSessions" WHERE "Key" = bench.key_of(:i);
