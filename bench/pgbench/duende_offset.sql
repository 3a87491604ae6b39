-- bench/pgbench/duende_offset.sql: the broad search paged with OFFSET, the
-- way most admin UIs over such a table page (and how the issue describes
-- Duende's paging): the count, then OFFSET (page - 1) * 25.  Variables: off.
SELECT count(*) FROM duende."ServerSideSessions" WHERE "SubjectId" LIKE '%acme|%';
SELECT "Id", "Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data"
FROM duende."ServerSideSessions"
WHERE "SubjectId" LIKE '%acme|%'
ORDER BY "Id" OFFSET :off LIMIT 25;
