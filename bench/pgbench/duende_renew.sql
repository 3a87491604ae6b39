-- bench/pgbench/duende_renew.sql: Duende UpdateSessionAsync (cookie renewal,
-- and also what AddClientIdAsync does, since the client list lives in the
-- ticket): EF Core loads the entity by key, then updates the changed
-- columns by id, with the application's newly encrypted ticket.  Two round
-- trips, as EF makes them.  Variables: n, data.
\set i random(1, :n)
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions" WHERE "Key" = bench.key_of(:i) LIMIT 2 \gset e_
UPDATE duende."ServerSideSessions"
SET "Renewed" = now(), "Expires" = now() + interval '14 days', "Data" = :data
WHERE "Id" = :e_Id;
