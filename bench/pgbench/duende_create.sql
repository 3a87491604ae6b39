-- bench/pgbench/duende_create.sql: Duende sign-in (CreateSessionAsync): EF
-- Core's INSERT of the entity, the ticket already encrypted by the
-- application (a random base64 value of the sealed size).  Variables: nsub,
-- data.
\set i random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
INSERT INTO duende."ServerSideSessions"
  ("Key", "Scheme", "SubjectId", "SessionId", "DisplayName", "Created", "Renewed", "Expires", "Data")
VALUES (bench.key_of(:i), 'idsrv', bench.subject_of(:s), bench.sid_of(:i), bench.name_of(:s),
  now(), now(), now() + interval '14 days', :data)
RETURNING "Id";
