-- The store contract: create, get, update (renew), touch, delete, exact
-- lookup and delete by subject and/or sid.
\set SHOW_CONTEXT never

-- Create with a key and sid the identity server supplies.
SELECT key, scheme, subject_id, session_id, display_name,
       renewed = created AS renewed_is_created, expires - created AS lifetime,
       clients, saml_sessions, ticket IS NULL AND ticket_bytes IS NULL AS no_ticket_returned
FROM idsess_create('alice', 'ticket alice 1', key => 'k-alice-1', session_id => 'sid-a1',
                   display_name => 'Alice Liddell', expires => now() + interval '1 hour');

-- Without key and sid, both are generated: 64 and 32 uppercase hex digits.
SELECT key ~ '^[0-9A-F]{64}$' AS key_is_hex64, session_id ~ '^[0-9A-F]{32}$' AS sid_is_hex32,
       scheme, expires IS NULL AS never_expires
FROM idsess_create('bob', 'ticket bob');
SELECT count(DISTINCT s.key) AS distinct_keys, count(DISTINCT s.session_id) AS distinct_sids
FROM generate_series(1, 50) g, LATERAL idsess_create('carol', 'ticket carol ' || g) s;

-- Get opens the ticket; unknown keys give no row.
SELECT key, subject_id, ticket, ticket_bytes FROM idsess_get('k-alice-1');
SELECT count(*) AS unknown FROM idsess_get('no-such-key');

-- A duplicate key is a unique_violation that does not echo the key.
SELECT idsess_create('mallory', 'x', key => 'k-alice-1');
\echo :LAST_ERROR_SQLSTATE

-- Update replaces the ticket and expiry and renews the session.
SELECT pg_sleep(0.01);
SELECT idsess_update('k-alice-1', ticket => 'ticket alice 2', expires => now() + interval '2 hours') AS updated;
SELECT ticket, expires > created + interval '1 hour' AS extended, renewed > created AS renewed,
       last_active = renewed AS active_at_renewal
FROM idsess_get('k-alice-1');
-- Fields not given stay as they were.
SELECT idsess_update('k-alice-1', display_name => 'Alice P. Liddell') AS updated;
SELECT ticket, display_name, expires > created + interval '1 hour' AS still_extended FROM idsess_get('k-alice-1');
-- infinity means never expires.
SELECT idsess_update('k-alice-1', expires => 'infinity') AS updated;
SELECT expires FROM idsess_get('k-alice-1');
-- A missing session says so, so the caller can recreate it.
SELECT idsess_update('no-such-key', ticket => 'x') AS updated;

-- Touch records activity on live sessions only.
SELECT idsess_touch('k-alice-1') AS touched, idsess_touch('no-such-key') AS touched_unknown;

-- Exact lookup by subject and/or sid (tickets opened), never by substring.
SELECT key, session_id, ticket FROM idsess_get_sessions(subject_id => 'alice');
SELECT key FROM idsess_get_sessions(session_id => 'sid-a1');
SELECT key FROM idsess_get_sessions(subject_id => 'alice', session_id => 'sid-a1');
SELECT count(*) AS mismatched FROM idsess_get_sessions(subject_id => 'alice', session_id => 'other');
SELECT count(*) AS substring FROM idsess_get_sessions(subject_id => 'ali');
SELECT count(*) AS carols FROM idsess_get_sessions(subject_id => 'carol');

-- Expired sessions are invisible to get, touch and lookups until removed.
-- (In a transaction rolled back, so that the expiry worker never sees them.)
BEGIN;
SELECT key FROM idsess_create('dave', 'ticket dave', key => 'k-dave',
                              created => now() - interval '2 hours', expires => now() - interval '1 hour');
SELECT count(*) AS visible FROM idsess_get('k-dave');
SELECT idsess_touch('k-dave') AS touched;
SELECT count(*) AS visible FROM idsess_get_sessions(subject_id => 'dave');
-- Update does not revive it, even with a new expiry (nor one idle too long).
SELECT idsess_update('k-dave', expires => now() + interval '1 hour') AS renewed;
SELECT idsess_update('k-dave', ticket => 'ticket dave 2') AS updated;
SELECT key, ticket FROM idsess_get('k-dave');
SELECT expires < now() AS still_expired FROM idsess.sessions WHERE key = 'k-dave';
SELECT key FROM idsess_create('dave', 'ticket dave idle', key => 'k-dave-idle',
                              created => now() - interval '2 hours', idle_timeout => '10 minutes');
SELECT idsess_update('k-dave-idle', ticket => 'x') AS updated_idle;
SELECT count(*) AS visible FROM idsess_get('k-dave-idle');
ROLLBACK;

-- Delete by key, and exact delete by subject and/or sid.
SELECT key FROM idsess_create('dave', 'ticket dave', key => 'k-dave');
SELECT idsess_delete('k-dave') AS deleted, idsess_delete('k-dave') AS deleted_again;
SELECT idsess_delete_sessions(subject_id => 'carol') AS carols_deleted;
SELECT idsess_delete_sessions(subject_id => 'alice', session_id => 'other') AS none_deleted;
SELECT idsess_delete_sessions(session_id => 'sid-a1') AS alice_deleted;
SELECT subject_id, count(*) FROM idsess.sessions GROUP BY 1 ORDER BY 1;

-- A session's clients and SAML sessions go with it.
SELECT key FROM idsess_create('erin', 'ticket erin', key => 'k-erin');
SELECT idsess_add_client('k-erin', 'web');
SELECT jsonb_array_length(idsess_add_saml_session('k-erin', 'urn:sp', 'ix1', 'erin@example.com')) AS saml;
SELECT idsess_delete('k-erin') AS deleted;
SELECT (SELECT count(*) FROM idsess.session_clients) AS clients_left,
       (SELECT count(*) FROM idsess.session_saml) AS saml_left;
SELECT idsess_delete_sessions(subject_id => 'bob') AS bob_deleted;

-- Ending the oldest sessions past the limit returns them, however many and
-- however large their client lists (once a use after free in SPI's memory
-- that crashed the server).
ALTER SYSTEM SET idsess.session_limit_action = 'end_oldest';
SELECT pg_reload_conf();
\c
SHOW idsess.session_limit_action;
SELECT count(*) FROM generate_series(1, 400) g,
       LATERAL idsess_create('many', 'ticket', key => 'k-many-' || g, session_id => 'sid-many-' || g) s;
SELECT count(idsess_add_client('k-many-' || g, repeat('c', 190) || c))
FROM generate_series(1, 400) g, generate_series(1, 3) c;
SELECT jsonb_array_length(c.ended_sessions) AS ended, count(DISTINCT e ->> 'key') AS distinct_keys,
       bool_and(e ->> 'subject_id' = 'many' AND e ->> 'session_id' = replace(e ->> 'key', 'k-', 'sid-'))
         AS ids_match,
       bool_and(e -> 'clients' = jsonb_build_array(repeat('c', 190) || '1', repeat('c', 190) || '2',
                                                   repeat('c', 190) || '3')) AS clients_intact
FROM idsess_create('many', 'ticket', key => 'k-many-last', max_sessions => 1) c,
     LATERAL jsonb_array_elements(c.ended_sessions) e
GROUP BY c.ended_sessions;
SELECT count(*) AS many_left FROM idsess.sessions WHERE subject_id = 'many';
-- Ended sessions are revoked: a late save from their device is refused.
SELECT idsess_update('k-many-1', ticket => 'late save');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM idsess.revoked_keys;
SELECT count(*) AS clients_left FROM idsess.session_clients;
-- An upsert returns no ended sessions: those the limit ends reach the
-- back-channel outbox instead (cause 'limit'), with their clients; create
-- returns them and queues none.
SELECT (idsess_create('lim', 'ticket 1', key => 'k-lim-1', session_id => 'sid-lim-1')).key;
SELECT idsess_add_client('k-lim-1', 'app-lim');
ALTER SYSTEM SET idsess.max_sessions_per_subject = 1;
SELECT pg_reload_conf();
\c
SELECT idsess_update('k-lim-2', ticket => 'ticket 2', subject_id => 'lim', upsert => true) AS upserted;
ALTER SYSTEM RESET idsess.max_sessions_per_subject;
SELECT pg_reload_conf();
\c
SELECT cause, subject_id, session_id, clients FROM idsess.logout_outbox WHERE subject_id = 'lim';
SELECT key FROM idsess.sessions WHERE subject_id = 'lim';
SELECT count(*) AS outbox_from_create FROM idsess.logout_outbox WHERE subject_id = 'many';
DELETE FROM idsess.logout_outbox WHERE subject_id = 'lim';
SELECT idsess_delete('k-lim-2') AS deleted;
DELETE FROM idsess.revoked_keys;
ALTER SYSTEM RESET idsess.session_limit_action;
SELECT pg_reload_conf();
SELECT idsess_delete('k-many-last') AS deleted;

-- Opened tickets never reach a temporary file: get_sessions keeps its
-- result in memory whatever work_mem (here 64 kB for 400 kB of tickets) and
-- bounds it instead: at most work_mem or 16 tickets of
-- idsess.max_ticket_size, whichever is more, else program_limit_exceeded.
SELECT count(*) FROM generate_series(1, 20) g,
       LATERAL idsess_create('big', repeat(chr(65 + g % 26), 20000), key => 'k-big-' || g) s;
SET work_mem = '64kB';
SELECT pg_stat_force_next_flush();
SELECT temp_files AS temp_files_before FROM pg_stat_database WHERE datname = current_database() \gset
SELECT count(*) AS sessions, sum(length(ticket)) AS ticket_chars,
       bool_and(ticket = repeat(chr(65 + replace(key, 'k-big-', '')::int % 26), 20000)) AS tickets_intact
FROM idsess_get_sessions(subject_id => 'big');
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT temp_files - :temp_files_before AS temp_files_written, temp_files AS temp_files_after
FROM pg_stat_database WHERE datname = current_database() \gset
\echo temp files written: :temp_files_written
-- (Control: a sort of as much data under this work_mem does write one.)
SELECT count(*) FROM (SELECT repeat('x', 20000) || g AS t FROM generate_series(1, 20) g ORDER BY t DESC) s;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT temp_files > :temp_files_after AS control_wrote_temp_file
FROM pg_stat_database WHERE datname = current_database();
-- The bound: with 1 kB tickets allowed, 16 kB or work_mem, 64 kB here.
SET idsess.max_ticket_size = '1kB';
SELECT count(*) FROM idsess_get_sessions(subject_id => 'big');
\echo :LAST_ERROR_SQLSTATE
RESET idsess.max_ticket_size;
RESET work_mem;
SELECT idsess_delete_sessions(subject_id => 'big') AS big_deleted;
