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
SELECT idsess_key_destroy(2, 'yes');
SELECT idsess_key_destroy(3, 'destroy key 3');
SELECT idsess_key_destroy(2, 'destroy key 2') AS shredded;
SELECT ticket FROM idsess_get('k-r1');
\echo :LAST_ERROR_SQLSTATE
SELECT ticket FROM idsess_get('k-r5');
SELECT idsess_reseal() AS nothing_to_reseal;
SELECT id, state, tickets FROM idsess.key_ring;
SELECT idsess_delete_sessions(subject_id => 'rot') AS deleted_shredded;

-- Master key change: re-wrap the key ring under another master key, in one
-- transaction, without touching tickets.
SELECT key FROM idsess_create('rot', 'ticket 6', key => 'k-r6');
SELECT md5(string_agg(ticket, '' ORDER BY key)) AS tickets_before FROM idsess.sessions WHERE subject_id = 'rot' \gset
SELECT idsess_rewrap_keys(:'other_key') AS rewrapped;
SELECT md5(string_agg(ticket, '' ORDER BY key)) = :'tickets_before' AS tickets_untouched
FROM idsess.sessions WHERE subject_id = 'rot';
-- The old master key no longer opens the ring; the new one does.
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
