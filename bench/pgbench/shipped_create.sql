-- bench/pgbench/shipped_create.sql: duende_create.sql on Duende's store as
-- it ships (bench/sql/shipped.sql): EF Core's INSERT, the ticket as Data
-- Protection writes it (its encryption is not counted).  Variables: nsub,
-- sdata.
\set i random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
INSERT INTO duende_shipped."ServerSideSessions"
  ("Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data")
VALUES (bench.key_of(:i), 'idsrv', bench.subject_of(:s), bench.sid_of(:i), bench.name_of(:s),
  now(), now(), now() + interval '14 days', :sdata)
RETURNING "Id";
