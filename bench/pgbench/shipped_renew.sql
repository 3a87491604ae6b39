-- bench/pgbench/shipped_renew.sql: duende_renew.sql on Duende's store as it
-- ships (bench/sql/shipped.sql): EF Core loads the entity by key, then
-- updates it with a new ticket as Data Protection writes it.  Two round
-- trips.  Variables: n, sdata.
\set i random(1, :n)
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende_shipped."ServerSideSessions" WHERE "Key" = bench.key_of(:i) LIMIT 2 \gset e_
UPDATE duende_shipped."ServerSideSessions"
SET "Renewed" = now(), "Expires" = now() + interval '14 days', "Data" = :sdata
WHERE "Id" = :e_Id;
