-- Revocation: remove a subject's or sid's sessions and return exactly the
-- clients (and SAML SPs) owed a back-channel logout; audited.
\set SHOW_CONTEXT never

SELECT key FROM idsess_create('grace', 'g1', key => 'k-g1', session_id => 'sid-g1');
SELECT key FROM idsess_create('grace', 'g2', key => 'k-g2', session_id => 'sid-g2');
SELECT key FROM idsess_create('heidi', 'h1', key => 'k-h1', session_id => 'sid-h1');
SELECT idsess_add_client('k-g1', c) FROM unnest('{spa,payroll,mobile}'::text[]) c;
SELECT idsess_add_client('k-g2', c) FROM unnest('{spa,crm}'::text[]) c;
SELECT idsess_add_client('k-h1', 'spa');
SELECT jsonb_array_length(idsess_add_saml_session('k-g1', 'urn:sp:wiki', 'w1', 'grace'));

-- Restricted to some clients: both sessions go, only those clients return.
SELECT key, subject_id, session_id, clients, saml_sessions
FROM idsess_revoke(subject_id => 'grace', client_ids => '{payroll,crm,urn:sp:wiki}', reason => 'password reset')
ORDER BY key;
SELECT count(*) AS grace_left FROM idsess.sessions WHERE subject_id = 'grace';
SELECT count(*) AS orphans FROM idsess.session_clients c
WHERE NOT EXISTS (SELECT FROM idsess.sessions s WHERE s.id = c.session);
SELECT count(*) AS saml_orphans FROM idsess.session_saml m
WHERE NOT EXISTS (SELECT FROM idsess.sessions s WHERE s.id = m.session);

-- By sid, all clients; the other subject is untouched.
SELECT key FROM idsess_create('heidi', 'h2', key => 'k-h2', session_id => 'sid-h2');
SELECT key, subject_id, session_id, clients FROM idsess_revoke(session_id => 'sid-h1');
SELECT key FROM idsess_get_sessions(subject_id => 'heidi');
-- Subject and sid together must both match.
SELECT count(*) FROM idsess_revoke(subject_id => 'grace', session_id => 'sid-h2');
SELECT key FROM idsess_revoke(subject_id => 'heidi', session_id => 'sid-h2', client_ids => '{}');
-- Nothing matched.
SELECT count(*) FROM idsess_revoke(subject_id => 'nobody');

-- Every revocation is audited: who, the filter, the reason, how many.
SELECT actor = session_user AS by_me, action, subject_id, session_id, client_ids, reason, sessions, clients
FROM idsess.audit WHERE session_id IS NULL OR session_id LIKE 'sid-%' ORDER BY id;

-- A revoked key stays revoked: an identity server that loaded the session
-- before the revocation cannot save it back, with update or with create.
SELECT key FROM idsess_create('ivan', 'i1', key => 'k-i1', expires => now() + interval '1 hour');
SELECT key FROM idsess_create('ivan', 'i2', key => 'k-i2');
SELECT key FROM idsess_create('ivan', 'i3', key => 'k-i3', idle_timeout => '30 minutes');
SELECT key FROM idsess_revoke(subject_id => 'ivan') ORDER BY key;
SELECT idsess_update('k-i1', ticket => 'late save');
\echo :LAST_ERROR_SQLSTATE
SELECT key FROM idsess_create('ivan', 'late save', key => 'k-i1');
\echo :LAST_ERROR_SQLSTATE
SELECT key FROM idsess_create('ivan', 'late save', key => 'k-i2', expires => now() + interval '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS ivan_sessions FROM idsess.sessions WHERE subject_id = 'ivan';
-- A key that never existed is still just "not there".
SELECT idsess_update('k-never', ticket => 'x') AS updated;
-- Only the key's hash is kept, until the session would have ended by
-- itself: its expiry, else its inactivity deadline, else for good.
SELECT k, round(extract(epoch FROM r.until - r.revoked) / 60) AS holds_for_minutes
FROM unnest('{k-i1,k-i2,k-i3}'::text[]) k
LEFT JOIN idsess.revoked_keys r ON r.key_hash = sha256(convert_to(k, 'UTF8'))
ORDER BY k;
SELECT (SELECT count(*) FROM idsess.revoked_keys
        WHERE key_hash = sha256(convert_to(k, 'UTF8'))) AS tombstones,
       (SELECT count(*) FROM idsess.revoked_keys r
        WHERE position(convert_to(k, 'UTF8') IN r.key_hash) > 0) AS plaintext
FROM (VALUES ('k-i1')) v(k);
-- A tombstone past its time no longer holds, and revocations purge it.
UPDATE idsess.revoked_keys SET until = now() - interval '1 second'
WHERE key_hash = sha256(convert_to('k-i1', 'UTF8'));
SELECT key FROM idsess_create('ivan', 'fresh sign-in', key => 'k-i1');
SELECT count(*) FROM idsess_revoke(subject_id => 'nobody-at-all');
SELECT count(*) AS stale_tombstones FROM idsess.revoked_keys WHERE until <= now();
SELECT idsess_delete('k-i1') AS deleted;
DELETE FROM idsess.revoked_keys WHERE key_hash IN (SELECT sha256(convert_to(k, 'UTF8'))
                                                   FROM unnest('{k-i2,k-i3}'::text[]) k);
