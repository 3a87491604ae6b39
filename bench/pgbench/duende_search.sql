-- bench/pgbench/duende_search.sql: Duende QuerySessionsAsync, first page, by
-- part of a display name: EF Core's Contains() is LIKE '%x%' (no index can
-- serve it); the total count on every page, the page by id, and the count
-- of the rows before it (0 on the first page).  Variables: nsub.
\set s random(0, :nsub - 1)
SELECT count(*) FROM duende."ServerSideSessions"
WHERE "DisplayName" LIKE '%' || bench.name_of(:s) || '%';
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions"
WHERE "DisplayName" LIKE '%' || bench.name_of(:s) || '%' AND "Id" > 0
ORDER BY "Id" LIMIT 26;
SELECT count(*) FROM duende."ServerSideSessions"
WHERE "DisplayName" LIKE '%' || bench.name_of(:s) || '%' AND "Id" < 0;
