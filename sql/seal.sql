-- Sealed tickets: round trips, tamper and copy detection, nothing readable
-- in the stored bytes, and what happens without the right master key.
\set SHOW_CONTEXT never

-- Round trips as text and as bytea, empty and 1 MB.
SELECT key FROM idsess_create('t', ticket => 'plain text ticket', key => 'k-text');
SELECT key FROM idsess_create('t', ticket_bytes => '\x00ff10', key => 'k-bytes');
SELECT key FROM idsess_create('t', ticket => '', key => 'k-empty-text');
SELECT key FROM idsess_create('t', ticket_bytes => '', key => 'k-empty-bytes');
SELECT key FROM idsess_create('t', ticket => repeat('0123456789abcdef', 65536), key => 'k-1mb-text');
SELECT key FROM idsess_create('t', ticket_bytes => convert_to(repeat('fedcba9876543210', 65536), 'UTF8'), key => 'k-1mb-bytes');
SELECT key, ticket, ticket_bytes FROM idsess_get('k-text');
SELECT key, ticket, ticket_bytes FROM idsess_get('k-bytes');
SELECT key, ticket = '' AS empty_text, ticket_bytes FROM idsess_get('k-empty-text');
SELECT key, ticket, ticket_bytes = '' AS empty_bytes FROM idsess_get('k-empty-bytes');
SELECT key, ticket = repeat('0123456789abcdef', 65536) AS same, length(ticket) FROM idsess_get('k-1mb-text');
SELECT key, ticket_bytes = convert_to(repeat('fedcba9876543210', 65536), 'UTF8') AS same, length(ticket_bytes)
FROM idsess_get('k-1mb-bytes');

-- The stored value is a versioned seal: "IS", version 1, format, key id, IV,
-- AES-256-CBC ciphertext, HMAC-SHA256 tag.
SELECT key, substr(ticket, 1, 3) AS magic_version, get_byte(ticket, 3) = ascii('t') AS text_format,
       substr(ticket, 5, 4) AS key_id, length(ticket) AS sealed_bytes
FROM idsess.sessions WHERE key IN ('k-text', 'k-empty-text') ORDER BY key;
-- A fresh IV per seal: the same ticket sealed twice differs.
SELECT key FROM idsess_create('t', ticket => 'plain text ticket', key => 'k-text-2');
SELECT count(DISTINCT substr(ticket, 9, 16)) AS distinct_ivs, count(DISTINCT ticket) AS distinct_seals
FROM idsess.sessions WHERE key IN ('k-text', 'k-text-2');
-- IVs are drawn 64 at a time: 300 seals in one backend, past several
-- refills, and in a second backend, never repeat one.
SELECT count((idsess_create('t-iv', ticket => 'same ticket', key => 'k-iv-' || i)).key)
FROM generate_series(1, 150) i;
\c
SELECT count((idsess_create('t-iv', ticket => 'same ticket', key => 'k-iv-' || i)).key)
FROM generate_series(151, 300) i;
SELECT count(*) AS seals, count(DISTINCT substr(ticket, 9, 16)) AS distinct_ivs
FROM idsess.sessions WHERE subject_id = 't-iv';
SELECT idsess_delete_sessions(subject_id => 't-iv');

-- A marker in a ticket is found nowhere in the table's stored bytes, inline
-- or in TOAST.
SELECT key FROM idsess_create('t', ticket => 'MARKER-5ee1c0de small', key => 'k-marker');
SELECT key FROM idsess_create('t', ticket => repeat('MARKER-5ee1c0de big ', 20000), key => 'k-marker-big');
CHECKPOINT;
SELECT position('MARKER-5ee1c0de'::bytea IN pg_read_binary_file(pg_relation_filepath('idsess.sessions'))) AS in_heap,
       position('MARKER-5ee1c0de'::bytea IN pg_read_binary_file(pg_relation_filepath(
           (SELECT reltoastrelid FROM pg_class WHERE oid = 'idsess.sessions'::regclass)))) AS in_toast,
       position('MARKER-5ee1c0de'::bytea IN (SELECT string_agg(ticket, '') FROM idsess.sessions)) AS in_column;

-- Flipping any one byte (header, IV, ciphertext or tag) fails to open.
UPDATE idsess.sessions SET ticket = set_byte(ticket, 40, get_byte(ticket, 40) # 1) WHERE key = 'k-text';
SELECT ticket FROM idsess_get('k-text');
\echo :LAST_ERROR_SQLSTATE
UPDATE idsess.sessions SET ticket = set_byte(ticket, 40, get_byte(ticket, 40) # 1) WHERE key = 'k-text';
SELECT ticket FROM idsess_get('k-text');
UPDATE idsess.sessions SET ticket = set_byte(ticket, 3, ascii('b')) WHERE key = 'k-text';
SELECT ticket FROM idsess_get('k-text');
UPDATE idsess.sessions SET ticket = set_byte(ticket, length(ticket) - 1, get_byte(ticket, length(ticket) - 1) # 128)
WHERE key = 'k-text-2';
SELECT ticket FROM idsess_get('k-text-2');
UPDATE idsess.sessions SET ticket = substr(ticket, 1, 20) WHERE key = 'k-text-2';
SELECT ticket FROM idsess_get('k-text-2');
\echo :LAST_ERROR_SQLSTATE
-- A header naming key 0 (the master key, which never seals a ticket) is a
-- forged ticket, not a wrong master key.
UPDATE idsess.sessions SET ticket = overlay(ticket PLACING '\x00000000'::bytea FROM 5) WHERE key = 'k-1mb-bytes';
SELECT ticket_bytes FROM idsess_get('k-1mb-bytes');
\echo :LAST_ERROR_SQLSTATE
-- A key id that is not in the key ring.
UPDATE idsess.sessions SET ticket = overlay(ticket PLACING '\x00000063'::bytea FROM 5) WHERE key = 'k-empty-text';
SELECT ticket FROM idsess_get('k-empty-text');
\echo :LAST_ERROR_SQLSTATE
-- Nor is one past 2147483647 (ids are positive int4): the same error.
UPDATE idsess.sessions SET ticket = overlay(ticket PLACING '\xffffffff'::bytea FROM 5) WHERE key = 'k-empty-text';
SELECT ticket FROM idsess_get('k-empty-text');
\echo :LAST_ERROR_SQLSTATE

-- A sealed ticket copied to another session does not open there.
UPDATE idsess.sessions SET ticket = (SELECT ticket FROM idsess.sessions WHERE key = 'k-bytes')
WHERE key = 'k-empty-bytes';
SELECT ticket_bytes FROM idsess_get('k-empty-bytes');
SELECT ticket_bytes FROM idsess_get('k-bytes');

-- Without a master key, sealing and opening fail with a hint; everything
-- that needs no key keeps working.
SET idsess.master_key_file = '';
SELECT ticket FROM idsess_get('k-bytes');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('t', 'x');
SELECT idsess_add_client('k-bytes', 'web');
SELECT count(*) FROM idsess_query(subject_id => 't');
SELECT count(*) FROM idsess_take_expired();
SELECT idsess_touch('k-bytes') AS touched;
SELECT key FROM idsess_revoke(session_id => (SELECT session_id FROM idsess.sessions WHERE key = 'k-bytes'));

-- A missing file, a malformed file, and the wrong master key.
SET idsess.master_key_file = '/nonexistent/idsess.key';
SELECT ticket FROM idsess_get('k-1mb-text');
\echo :LAST_ERROR_SQLSTATE
-- The file's path goes to the server log only, never to the client: the
-- service role must not learn where the key is.
CREATE ROLE idsess_test_service IN ROLE idsess_service;
SET ROLE idsess_test_service;
SELECT idsess_create('t', 'x');
RESET ROLE;
DROP ROLE idsess_test_service;
-- COPY writes files readable by others, which a key file must not be.
SELECT current_setting('data_directory') || '/idsess_bad.key' AS bad_key_path \gset
COPY (SELECT 'not a key') TO :'bad_key_path';
SET idsess.master_key_file = 'idsess_bad.key';
SELECT ticket FROM idsess_get('k-1mb-text');
\echo :LAST_ERROR_SQLSTATE
-- A private file that holds no key (relative paths are in the data directory).
SET idsess.master_key_file = 'PG_VERSION';
SELECT ticket FROM idsess_get('k-1mb-text');
\echo :LAST_ERROR_SQLSTATE
\getenv other_key IDSESS_OTHER_KEY
SET idsess.master_key_file = :'other_key';
SELECT length(ticket) FROM idsess_get('k-1mb-text');
\echo :LAST_ERROR_SQLSTATE
RESET idsess.master_key_file;
SELECT length(ticket) FROM idsess_get('k-1mb-text');

-- Non-superusers cannot see where the key is (the SQLSTATE only: the
-- message's wording changed in PostgreSQL 16).
CREATE ROLE idsess_test_nobody;
SET ROLE idsess_test_nobody;
\set VERBOSITY sqlstate
SHOW idsess.master_key_file;
\set VERBOSITY default
SELECT count(*) FROM pg_settings WHERE name = 'idsess.master_key_file';
RESET ROLE;
DROP ROLE idsess_test_nobody;

-- A ticket is compressed before it is sealed when that makes it smaller
-- (idsess.compress_tickets, on by default): a 2.7 KB JSON ticket stays in the
-- row instead of TOAST, and opens to the same text.  Incompressible bytes
-- (a ticket the identity server already encrypted) are sealed as they are.
SELECT '{"claims":[' || string_agg(format('{"type":"role","value":"app-role-%s-readers"}', i), ',') || ']}'
       AS json_ticket FROM generate_series(1, 60) i \gset
SELECT key FROM idsess_create('t', ticket => :'json_ticket', key => 'k-json');
SELECT key FROM idsess_create('t', ticket_bytes => (SELECT string_agg(sha256(i::text::bytea), '')
                                                    FROM generate_series(1, 64) i), key => 'k-random');
SELECT key, chr(get_byte(ticket, 3)) AS format, length(ticket) < octet_length(:'json_ticket') / 2 AS smaller,
       pg_column_size(ticket) = length(ticket) + 4 AS in_row
FROM idsess.sessions WHERE key = 'k-json';
SELECT key, chr(get_byte(ticket, 3)) AS format, length(ticket) >= 2048 AS full_size
FROM idsess.sessions WHERE key = 'k-random';
SELECT ticket = :'json_ticket' AS same FROM idsess_get('k-json');
SELECT ticket_bytes = (SELECT string_agg(sha256(i::text::bytea), '') FROM generate_series(1, 64) i) AS same
FROM idsess_get('k-random');
-- Renewal seals afresh, compressed again (keys.sql: so does re-sealing).
SELECT idsess_update('k-json', ticket => :'json_ticket' || ' ') AS renewed;
SELECT chr(get_byte(ticket, 3)) AS format, length(ticket) < octet_length(:'json_ticket') / 2 AS smaller
FROM idsess.sessions WHERE key = 'k-json';
SELECT ticket = :'json_ticket' || ' ' AS same FROM idsess_get('k-json');
-- A backend keeps one compression state for all its tickets, yet each
-- ticket is compressed on its own: fifty tickets that repeat each other's
-- text, sealed one after the other, each open to its own text (a state that
-- carried the previous ticket over as a dictionary would fail to open them).
SELECT count(idsess_create('t', ticket => repeat(format('{"sub":"u%s","role":"reader"},', i % 7), 20 + i),
                           key => 'k-lz4-' || i)) AS created
FROM generate_series(1, 50) i;
SELECT count(*) FILTER (WHERE g.ticket = repeat(format('{"sub":"u%s","role":"reader"},', i % 7), 20 + i)) AS same,
       count(*) FILTER (WHERE chr(get_byte(s.ticket, 3)) = 'T') AS compressed
FROM generate_series(1, 50) i, idsess_get('k-lz4-' || i) g, idsess.sessions s
WHERE s.key = 'k-lz4-' || i;
-- Tampering with a compressed ticket is caught before anything is
-- decompressed, like any other.
UPDATE idsess.sessions SET ticket = set_byte(ticket, 40, get_byte(ticket, 40) # 1) WHERE key = 'k-json';
SELECT ticket FROM idsess_get('k-json');
-- Turned off (superusers only), tickets are sealed as they are.
SET idsess.compress_tickets = off;
SELECT key FROM idsess_create('t', ticket => :'json_ticket', key => 'k-json-plain');
SELECT chr(get_byte(ticket, 3)) AS format, length(ticket) > octet_length(:'json_ticket') AS full_size
FROM idsess.sessions WHERE key = 'k-json-plain';
SELECT ticket = :'json_ticket' AS same FROM idsess_get('k-json-plain');
RESET idsess.compress_tickets;
CREATE ROLE idsess_test_nobody;
SET ROLE idsess_test_nobody;
SET idsess.compress_tickets = off;
RESET ROLE;
DROP ROLE idsess_test_nobody;

-- pgcrypto is the format's reference: with the key ring's secrets in plain
-- SQL (the master key file, read here as superuser, unwraps the active data
-- key), pgcrypto's hmac and decrypt_iv open a ticket the C path sealed, and
-- a ticket sealed with encrypt_iv and hmac opens through idsess_get.  Both
-- ways, compressed or not (the SQL path seals uncompressed).
CREATE FUNCTION pg_temp.subkeys(secret bytea, OUT enc bytea, OUT mac bytea) LANGUAGE sql
AS $$ SELECT hmac('idsess v1 encryption'::bytea, secret, 'sha256'),
             hmac('idsess v1 authentication'::bytea, secret, 'sha256') $$;
CREATE FUNCTION pg_temp.open_seal(sealed bytea, aad bytea, enc bytea, mac bytea,
                                  OUT format text, OUT plain bytea) LANGUAGE sql
AS $$ SELECT chr(get_byte(sealed, 3)),
             CASE WHEN hmac(int8send(length(aad)) || aad || substr(sealed, 1, length(sealed) - 32), mac, 'sha256')
                       = substr(sealed, length(sealed) - 31)
                  THEN decrypt_iv(substr(sealed, 25, length(sealed) - 56), enc, substr(sealed, 9, 16),
                                  'aes-cbc/pad:pkcs') END $$;
CREATE FUNCTION pg_temp.make_seal(plain bytea, format text, key_id integer, aad bytea,
                                  enc bytea, mac bytea) RETURNS bytea LANGUAGE sql
AS $$ SELECT body || hmac(int8send(length(aad)) || aad || body, mac, 'sha256')
      FROM (SELECT 'IS'::bytea || '\x01'::bytea || convert_to(format, 'SQL_ASCII') || int4send(key_id)
                   || iv || encrypt_iv(plain, enc, iv, 'aes-cbc/pad:pkcs') AS body
            FROM (SELECT gen_random_bytes(16) AS iv) r) b $$;
CREATE TEMP TABLE ring AS
SELECT k.id, w.format AS wrapped_as, d.enc, d.mac
FROM idsess.keys k,
     pg_temp.subkeys(decode(btrim(pg_read_file(current_setting('idsess.master_key_file')), E' \n\r\t'), 'hex')) m,
     LATERAL pg_temp.open_seal(k.wrapped, convert_to('key:' || k.id, 'UTF8'), m.enc, m.mac) w,
     LATERAL pg_temp.subkeys(w.plain) d
WHERE k.state = 'active';
SELECT wrapped_as, length(enc) AS enc_bytes, length(mac) AS mac_bytes FROM ring;
SET idsess.compress_tickets = off;
SELECT key FROM idsess_create('t', ticket => 'sealed by the C path', key => 'k-ref-c');
RESET idsess.compress_tickets;
SELECT o.format, convert_from(o.plain, 'UTF8') AS opened_by_pgcrypto
FROM idsess.sessions s, ring r,
     pg_temp.open_seal(s.ticket, convert_to(s.key, 'UTF8'), r.enc, r.mac) o
WHERE s.key = 'k-ref-c' AND s.key_id = r.id;
UPDATE idsess.sessions s SET ticket = pg_temp.make_seal(convert_to('sealed by pgcrypto', 'UTF8'), 't', r.id,
                                                        convert_to(s.key, 'UTF8'), r.enc, r.mac)
FROM ring r WHERE s.key = 'k-ref-c' AND s.key_id = r.id;
SELECT ticket AS opened_by_idsess FROM idsess_get('k-ref-c');
UPDATE idsess.sessions s SET ticket = pg_temp.make_seal('\x00ff'::bytea, 'b', r.id,
                                                        convert_to(s.key, 'UTF8'), r.enc, r.mac)
FROM ring r WHERE s.key = 'k-ref-c' AND s.key_id = r.id;
SELECT ticket, ticket_bytes AS opened_by_idsess FROM idsess_get('k-ref-c');
-- The tag covers the session key: the same seal under another key does not open.
UPDATE idsess.sessions s SET ticket = pg_temp.make_seal(convert_to('for another row', 'UTF8'), 't', r.id,
                                                        convert_to('k-other', 'UTF8'), r.enc, r.mac)
FROM ring r WHERE s.key = 'k-ref-c' AND s.key_id = r.id;
SELECT ticket FROM idsess_get('k-ref-c');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE ring;

SELECT idsess_delete_sessions(subject_id => 't') > 0 AS cleaned;
