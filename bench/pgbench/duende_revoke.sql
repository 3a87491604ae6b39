-- bench/pgbench/duende_revoke.sql: Duende RemoveSessionsAsync for a user:
-- GetSessionsAsync (to find the clients to notify, after decrypting each
-- ticket), then DeleteSessionsAsync, which loads the entities again and
-- deletes them (EF deletes one by one by id; here one DELETE, which favours
-- the baseline).  Variables: rbase, nclients, k (0).
\set k :k + 1
\set s :rbase + :client_id + :nclients * :k
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions" WHERE "SubjectId" = bench.subject_of(:s);
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions" WHERE "SubjectId" = bench.subject_of(:s);
DELETE FROM duende."ServerSideSessions" WHERE "SubjectId" = bench.subject_of(:s);
