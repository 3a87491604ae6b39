-- bench/pgbench/duende_page.sql: Duende QuerySessionsAsync for the broad
-- search (subject contains 'acme|'), the page after the one whose last id
-- the results token carries: total count, the page by id, and the count of
-- all matching rows before it (how Duende numbers pages).  Page 1: last = 0.
-- Variables: last.
SELECT count(*) FROM duende."ServerSideSessions" WHERE "SubjectId" LIKE '%acme|%';
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions"
WHERE "SubjectId" LIKE '%acme|%' AND "Id" > :last
ORDER BY "Id" LIMIT 26;
SELECT count(*) FROM duende."ServerSideSessions" WHERE "SubjectId" LIKE '%acme|%' AND "Id" < :last;
