-- bench/sql/spring.sql: baseline 2, Spring Session JDBC's store
-- (org/springframework/session/jdbc/schema-postgresql.sql) in schema
-- "spring": a session row and one attribute row per session attribute, here
-- the serialized security context (the ticket's JSON as bytes, unencrypted,
-- as Spring stores it).  Times are epoch milliseconds, as Spring writes them.
-- Its cleanup (JdbcIndexedSessionRepository.cleanUpExpiredSessions, every
-- minute by default) is one statement:
--   DELETE FROM SPRING_SESSION WHERE EXPIRY_TIME < ?
-- which the benchmark runs as is (bench/run expiry_test).

CREATE SCHEMA spring;

CREATE TABLE spring.spring_session (
  primary_id char(36) NOT NULL,
  session_id char(36) NOT NULL,
  creation_time bigint NOT NULL,
  last_access_time bigint NOT NULL,
  max_inactive_interval int NOT NULL,
  expiry_time bigint NOT NULL,
  principal_name varchar(100),
  CONSTRAINT spring_session_pk PRIMARY KEY (primary_id)
);
CREATE UNIQUE INDEX spring_session_ix1 ON spring.spring_session (session_id);
CREATE INDEX spring_session_ix2 ON spring.spring_session (expiry_time);
CREATE INDEX spring_session_ix3 ON spring.spring_session (principal_name);

CREATE TABLE spring.spring_session_attributes (
  session_primary_id char(36) NOT NULL,
  attribute_name varchar(200) NOT NULL,
  attribute_bytes bytea NOT NULL,
  CONSTRAINT spring_session_attributes_pk PRIMARY KEY (session_primary_id, attribute_name),
  CONSTRAINT spring_session_attributes_fk FOREIGN KEY (session_primary_id)
    REFERENCES spring.spring_session (primary_id) ON DELETE CASCADE
);

-- Epoch milliseconds, as Spring's Instant.toEpochMilli().
CREATE FUNCTION spring.ms(t timestamptz) RETURNS bigint
IMMUTABLE LANGUAGE sql AS $$ SELECT (extract(epoch FROM t) * 1000)::bigint $$;
