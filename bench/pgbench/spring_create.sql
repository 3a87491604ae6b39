-- bench/pgbench/spring_create.sql: Spring Session JDBC save() of a new
-- session: the session row and its attribute row in one transaction.
-- Variables: nsub, ticket.
\set i random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
BEGIN;
INSERT INTO spring.spring_session
  (primary_id, session_id, creation_time, last_access_time, max_inactive_interval, expiry_time, principal_name)
VALUES (bench.uuid_of(:i, 'p')::char(36), bench.uuid_of(:i, 's')::char(36), spring.ms(now()), spring.ms(now()), 1800,
  spring.ms(now() + interval '30 minutes'), bench.subject_of(:s));
INSERT INTO spring.spring_session_attributes (session_primary_id, attribute_name, attribute_bytes)
VALUES (bench.uuid_of(:i, 'p')::char(36), 'SPRING_SECURITY_CONTEXT', convert_to(:ticket, 'UTF8'));
END;
