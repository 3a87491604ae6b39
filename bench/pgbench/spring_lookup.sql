-- bench/pgbench/spring_lookup.sql: Spring Session JDBC findByPrincipalName
-- (LIST_SESSIONS_BY_PRINCIPAL_NAME_QUERY).  Variables: nsub.
\set s random(0, :nsub - 1)
SELECT s.primary_id, s.session_id, s.creation_time, s.last_access_time, s.max_inactive_interval,
       a.attribute_name, a.attribute_bytes
FROM spring.spring_session s
LEFT JOIN spring.spring_session_attributes a ON s.primary_id = a.session_primary_id
WHERE s.principal_name = bench.subject_of(:s)::varchar;
