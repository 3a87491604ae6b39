-- bench/pgbench/spring_touch.sql: Spring Session JDBC save() after a
-- request that only accessed the session: UPDATE_SESSION_QUERY (new last
-- access and expiry time; EXPIRY_TIME is indexed, so not a HOT update).
-- Variables: n.
\set i random(1, :n)
UPDATE spring.spring_session
SET session_id = bench.uuid_of(:i, 's')::char(36), last_access_time = spring.ms(now()), max_inactive_interval = 1800,
    expiry_time = spring.ms(now() + interval '30 minutes'), principal_name = principal_name
WHERE primary_id = bench.uuid_of(:i, 'p')::char(36);
