-- Key rotation, re-sealing, retiring, crypto-shredding and a master key
-- change, with sessions being created and opened throughout.
\set SHOW_CONTEXT never
\getenv other_key IDSESS_OTHER_KEY
SELECT current_setting('idsess.master_key_file') AS first_key \gset

SELECT id, state, tickets FROM idsess.key_ring;
SELECT count(*) FROM generate_series(1, 3) i,
  LATERAL idsess_create('rot', 'ticket ' || i, key => 'k-r' || i);
SELECT idsess_key_rotate() AS new_active_key;
SELECT key FROM idsess_create('rot', 'ticket 4', key => 'k-r4');
-- Old and new tickets open side by side.
SELECT s.key, s.ticket, k.key_id FROM idsess_get_sessions(subject_id => 'rot') s
JOIN (SELECT key, key_id FROM idsess.sessions) k USING (key) ORDER BY s.key;
SELECT id, state, deactivated IS NOT NULL AS deactivated, tickets FROM idsess.key_ring;

-- A key still in use cannot be retired; the active one neither.
SELECT idsess_key_retire(1);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_key_retire(2);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_key_retire(42);
\echo :LAST_ERROR_SQLSTATE

-- Re-seal in batches until nothing is left under older keys.
SELECT idsess_reseal(2) AS resealed;
SELECT idsess_reseal(2) AS resealed;
SELECT idsess_reseal(2) AS resealed;
SELECT id, state, tickets FROM idsess.key_ring;
SELECT key, ticket FROM idsess_get_sessions(subject_id => 'rot') ORDER BY key;
SELECT idsess_key_retire(1);
SELECT id, state, ended IS NOT NULL AS ended, tickets FROM idsess.key_ring;
SELECT wrapped IS NULL AS erased FROM idsess.keys WHERE id = 1;
SELECT idsess_key_retire(1);

-- Crypto-shredding: destroying key 2 makes its tickets unopenable for ever,
-- and only with the exact confirmation.
SELECT idsess_key_rotate() AS new_active_key;
SELECT key FROM idsess_create('rot', 'ticket 5', key => 'k-r5');
SELECT idsess_key_destroy(2, NULL);
\echo :LAST_ERROR_SQLSTATE
-- No key id is no key, not key 0.
SELECT idsess_key_destroy(NULL, 'destroy key 0');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_key_destroy(NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_key_destroy(2, 'yes');
SELECT idsess_key_destroy(3, 'destroy key 3');
SELECT idsess_key_destroy(2, 'destroy key 2') AS shredded;
SELECT ticket FROM idsess_get('k-r1');
\echo :LAST_ERROR_SQLSTATE
SELECT ticket FROM idsess_get('k-r5');
SELECT idsess_reseal() AS nothing_to_reseal;
SELECT id, state, tickets FROM idsess.key_ring;
-- A set of sessions never fails for a ticket that cannot be opened: the
-- shredded ones come back with their ticket NULL, a warning saying why, and
-- the others with theirs.
SELECT key, ticket IS NULL AND ticket_bytes IS NULL AS unopenable, ticket
FROM idsess_get_sessions(subject_id => 'rot') ORDER BY key;
SELECT key, ticket IS NULL AND ticket_bytes IS NULL AS unopenable, ticket
FROM idsess_query(subject_id => 'rot', tickets => true) ORDER BY key;
-- Nor does Duende's cleanup stop at an expired session under a destroyed
-- key.  In one transaction the worker cannot see.
BEGIN;
UPDATE idsess.sessions SET expires = created, due = created WHERE key IN ('k-r1', 'k-r5');
SELECT key, ticket IS NULL AND ticket_bytes IS NULL AS unopenable, ticket
FROM idsess_take_expired(100, tickets => true) WHERE key LIKE 'k-r%' ORDER BY key;
ROLLBACK;
SELECT idsess_delete_sessions(subject_id => 'rot') AS deleted_shredded;

-- Master key change: re-wrap the key ring under another master key, in one
-- transaction, without touching tickets.
SELECT key FROM idsess_create('rot', 'ticket 6', key => 'k-r6');
SELECT md5(string_agg(ticket, '' ORDER BY key)) AS tickets_before FROM idsess.sessions WHERE subject_id = 'rot' \gset
SELECT idsess_rewrap_keys(:'other_key') AS rewrapped;
SELECT md5(string_agg(ticket, '' ORDER BY key)) = :'tickets_before' AS tickets_untouched
FROM idsess.sessions WHERE subject_id = 'rot';
-- This backend keeps the data keys it already unwrapped: it serves on
-- until the setting names the new file.
SELECT ticket FROM idsess_get('k-r6');
SELECT key FROM idsess_create('rot', 'ticket 6b', key => 'k-r6b');
SELECT idsess_delete('k-r6b');
-- A new backend unwraps with the old master key, which no longer opens the
-- ring; the new one does.
\c
SELECT ticket FROM idsess_get('k-r6');
SET idsess.master_key_file = :'other_key';
SELECT ticket FROM idsess_get('k-r6');
SELECT key FROM idsess_create('rot', 'ticket 7', key => 'k-r7');
-- A file that is not a master key changes nothing.
SELECT idsess_rewrap_keys('/nonexistent/new.key');
SELECT idsess_rewrap_keys(NULL);
-- And back again.
SELECT idsess_rewrap_keys(:'first_key') AS rewrapped;
RESET idsess.master_key_file;
SELECT key, ticket FROM idsess_get_sessions(subject_id => 'rot') ORDER BY key;

-- The worker rotates a key older than idsess.key_lifetime and, when
-- idsess.reseal_batch_size allows, re-seals in the background.
UPDATE idsess.keys SET created = now() - interval '91 days' WHERE state = 'active';
ALTER SYSTEM SET idsess.reseal_batch_size = 100;
SELECT pg_reload_conf();
SELECT idsess_test.wait_until($$SELECT EXISTS (SELECT FROM idsess.key_ring WHERE id = 4 AND state = 'active')
                           AND NOT EXISTS (SELECT FROM idsess.key_ring WHERE id = 3 AND tickets > 0)$$)
       AS rotated_and_resealed;
SELECT id, state, tickets FROM idsess.key_ring;
ALTER SYSTEM RESET idsess.reseal_batch_size;
SELECT pg_reload_conf();
-- The worker re-seals no more once a whole round has begun after the
-- reload (it reads its settings at the start of a round): the re-seal
-- tests below count what they re-seal themselves.
SELECT clock_timestamp() AS reloaded_at \gset
SELECT idsess_test.wait_until(format($$SELECT bool_or(last_run > %L) FROM idsess.workers$$, :'reloaded_at')) AS round_ended;
SELECT clock_timestamp() AS round_ended_at \gset
SELECT idsess_test.wait_until(format($$SELECT bool_or(last_run > %L) FROM idsess.workers$$, :'round_ended_at')) AS next_round_ended;
SELECT key, ticket FROM idsess_get_sessions(subject_id => 'rot') ORDER BY key;

-- Every key operation is audited.
SELECT action, key_id, sessions FROM idsess.audit WHERE action <> 'revoke' ORDER BY id;
SELECT idsess_delete_sessions(subject_id => 'rot') AS cleaned;

-- More keys in use than a backend caches (64): one re-seal opens tickets
-- under 70 keys and seals them all under the one active key.
DO $$
BEGIN
	FOR i IN 1..70 LOOP
		PERFORM idsess_create('many', 'ticket ' || i, key => 'k-m' || i);
		PERFORM idsess_key_rotate();
	END LOOP;
END $$;
SELECT count(DISTINCT key_id) AS keys_in_use FROM idsess.sessions WHERE subject_id = 'many';
SELECT idsess_reseal() AS resealed;
SELECT count(DISTINCT key_id) AS keys_in_use,
       bool_and(key_id = (SELECT id FROM idsess.keys WHERE state = 'active')) AS under_active
FROM idsess.sessions WHERE subject_id = 'many';
SELECT count(*) FILTER (WHERE ticket = 'ticket ' || substr(key, 4)) AS opened
FROM idsess_get_sessions(subject_id => 'many');
SELECT idsess_delete_sessions(subject_id => 'many') AS cleaned;

-- Re-sealing holds one row's tickets at a time: memory stays flat across
-- 20 tickets of 1 MB.  A test-only trigger notes the backend's memory
-- (all its memory contexts) as each row is updated.
SELECT count(c.key) FROM generate_series(1, 20) i,
  LATERAL idsess_create('big', repeat(md5(i::text), 32768), key => 'k-big' || i) c;
SELECT idsess_key_rotate() > 0 AS rotated;
CREATE TEMP TABLE reseal_memory (row_no serial, bytes bigint);
CREATE FUNCTION idsess_test.note_memory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO reseal_memory (bytes) SELECT sum(total_bytes) FROM pg_backend_memory_contexts;
	RETURN NEW;
END $$;
CREATE TRIGGER note_memory BEFORE UPDATE ON idsess.sessions
  FOR EACH ROW WHEN (NEW.subject_id = 'big') EXECUTE FUNCTION idsess_test.note_memory();
SELECT idsess_reseal() AS resealed;
DROP TRIGGER note_memory ON idsess.sessions;
-- Bound: the last row's update sees no more than 8 MB above the first's
-- (each row alone needs about 5 MB: its ticket detoasted, opened, sealed).
SELECT count(*) AS rows_noted,
       max(bytes) FILTER (WHERE row_no = 20) - max(bytes) FILTER (WHERE row_no = 1) < 8 * 1024 * 1024 AS flat
FROM reseal_memory;
SELECT count(*) FILTER (WHERE ticket = repeat(md5(substr(key, 6)), 32768)) AS opened
FROM idsess_get_sessions(subject_id => 'big');
SELECT idsess_delete_sessions(subject_id => 'big') AS cleaned;

-- A ticket that does not open (tampered) does not fail the re-seal: it is
-- skipped and reported once, with its session's sid and nothing of the
-- ticket, and audited; the others are re-sealed, and later batches do not
-- try it again.
SELECT count(c.key) FROM generate_series(1, 3) i,
  LATERAL idsess_create('bad', 'ticket ' || i, key => 'k-bad' || i, session_id => 'sid-bad' || i) c;
SELECT idsess_key_rotate() > 0 AS rotated;
UPDATE idsess.sessions SET ticket = set_byte(ticket, 40, get_byte(ticket, 40) # 1) WHERE key = 'k-bad2';
SELECT idsess_reseal() AS resealed;
SELECT idsess_reseal() AS resealed_again;
SELECT action, session_id, sessions FROM idsess.audit WHERE action = 'reseal skipped';
SELECT key, key_id = (SELECT id FROM idsess.keys WHERE state = 'active') AS under_active
FROM idsess.sessions WHERE subject_id = 'bad' ORDER BY key;
SELECT idsess_delete_sessions(subject_id => 'bad') AS cleaned;

-- Re-sealing keeps a compressed ticket compressed, under the new key.
SELECT key FROM idsess_create('zip', repeat('{"type":"role","value":"readers"},', 80), key => 'k-zip');
SELECT idsess_key_rotate() > 0 AS rotated;
SELECT idsess_reseal() AS resealed;
SELECT chr(get_byte(ticket, 3)) AS format, length(ticket) < 1000 AS compressed,
       key_id = (SELECT id FROM idsess.keys WHERE state = 'active') AS under_active
FROM idsess.sessions WHERE key = 'k-zip';
SELECT ticket = repeat('{"type":"role","value":"readers"},', 80) AS same FROM idsess_get('k-zip');
SELECT idsess_delete_sessions(subject_id => 'zip') AS cleaned;
