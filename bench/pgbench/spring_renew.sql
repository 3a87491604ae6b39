-- bench/pgbench/spring_renew.sql: Spring Session JDBC save() of a session
-- whose security context changed: UPDATE_SESSION_QUERY and
-- UPDATE_SESSION_ATTRIBUTE_QUERY in one transaction.  Variables: n, ticket.
\set i random(1, :n)
BEGIN;
UPDATE spring.spring_session
SET session_id = bench.uuid_of(:i, 's')::char(36), last_access_time = spring.ms(now()), max_inactive_interval = 1800,
    expiry_time = spring.ms(now() + interval '30 minutes'), principal_name = principal_name
WHERE primary_id = bench.uuid_of(:i, 'p')::char(36);
UPDATE spring.spring_session_attributes SET attribute_bytes = convert_to(:ticket, 'UTF8')
WHERE session_primary_id = bench.uuid_of(:i, 'p')::char(36) AND attribute_name = 'SPRING_SECURITY_CONTEXT';
END;
