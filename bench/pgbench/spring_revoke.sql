-- bench/pgbench/spring_revoke.sql: ending every session of a user with
-- Spring Session JDBC: findByPrincipalName, then delete them (Spring
-- deletes one by one by session id; here one DELETE, which favours the
-- baseline; the attributes go by ON DELETE CASCADE).  Variables: rbase,
-- nclients, k (0).
\set k :k + 1
\set s :rbase + :client_id + :nclients * :k
SELECT s.primary_id, s.session_id, s.creation_time, s.last_access_time, s.max_inactive_interval,
       a.attribute_name, a.attribute_bytes
FROM spring.spring_session s
LEFT JOIN spring.spring_session_attributes a ON s.primary_id = a.session_primary_id
WHERE s.principal_name = bench.subject_of(:s)::varchar;
DELETE FROM spring.spring_session WHERE principal_name = bench.subject_of(:s)::varchar;
