-- bench/pgbench/spring_get.sql: Spring Session JDBC findById (GET_SESSION_QUERY).
-- Variables: n.
\set i random(1, :n)
SELECT s.primary_id, s.session_id, s.creation_time, s.last_access_time, s.max_inactive_interval,
       a.attribute_name, a.attribute_bytes
FROM spring.spring_session s
LEFT JOIN spring.spring_session_attributes a ON s.primary_id = a.session_primary_id
WHERE s.session_id = bench.uuid_of(:i, 's')::char(36);
