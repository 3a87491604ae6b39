-- bench/pgbench/spring_traffic.sql: the application traffic that runs
-- during mass expiry: one sign-in for every four requests.  Variables: n,
-- nsub, ticket.
\set i random(1, :n)
\set j random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
\set r random(0, 4)
\if :r = 0
BEGIN;
INSERT INTO spring.spring_session
  (primary_id, session_id, creation_time, last_access_time, max_inactive_interval, expiry_time, principal_name)
VALUES (bench.uuid_of(:j, 'p')::char(36), bench.uuid_of(:j, 's')::char(36), spring.ms(now()), spring.ms(now()), 1800,
  spring.ms(now() + interval '30 minutes'), bench.subject_of(:s));
INSERT INTO spring.spring_session_attributes (session_primary_id, attribute_name, attribute_bytes)
VALUES (bench.uuid_of(:j, 'p')::char(36), 'SPRING_SECURITY_CONTEXT', convert_to(:ticket, 'UTF8'));
END;
\else
SELECT s.primary_id, s.session_id, s.creation_time, s.last_access_time, s.max_inactive_interval,
       a.attribute_name, a.attribute_bytes
FROM spring.spring_session s
LEFT JOIN spring.spring_session_attributes a ON s.primary_id = a.session_primary_id
WHERE s.session_id = bench.uuid_of(:i, 's')::char(36);
\endif
