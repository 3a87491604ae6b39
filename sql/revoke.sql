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
