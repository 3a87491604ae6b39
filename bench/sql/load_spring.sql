-- bench/sql/load_spring.sql: creates sessions lo..hi (those with i % mod = 0)
-- in the Spring Session JDBC baseline: the session row and its security
-- context attribute (the ticket's JSON as bytes).  psql variables: lo, hi,
-- mod, ticket.
INSERT INTO spring.spring_session
  (primary_id, session_id, creation_time, last_access_time, max_inactive_interval, expiry_time, principal_name)
SELECT bench.uuid_of(i, 'p'), bench.uuid_of(i, 's'), spring.ms(now()), spring.ms(now()), 1800,
       spring.ms(now() + make_interval(days => 7 + (i % 7)::int)), bench.subject_of(i / 4)
FROM generate_series(:lo::bigint, :hi::bigint) i
WHERE i % :mod = 0;

INSERT INTO spring.spring_session_attributes (session_primary_id, attribute_name, attribute_bytes)
SELECT bench.uuid_of(i, 'p'), 'SPRING_SECURITY_CONTEXT', convert_to(:'ticket', 'UTF8')
FROM generate_series(:lo::bigint, :hi::bigint) i
WHERE i % :mod = 0;
