-- The clients and SAML SP sessions of a session (Duende's IUserSession).
\set SHOW_CONTEXT never

SELECT key FROM idsess_create('frank', 'ticket frank', key => 'k-frank');
SELECT idsess_clients('k-frank') AS no_clients_yet;
-- Adding is idempotent and keeps join order.
SELECT idsess_add_client('k-frank', 'spa');
SELECT idsess_add_client('k-frank', 'payroll');
SELECT idsess_add_client('k-frank', 'spa');
SELECT idsess_add_client('k-frank', 'mobile');
SELECT idsess_clients('k-frank');
SELECT clients FROM idsess_get('k-frank');

-- The row's copy that get reads is trusted only in the shape idsess writes;
-- another (a hand-made update) is passed over for the table, the record.
UPDATE idsess.sessions SET client_list = '{spa,payroll}' WHERE key = 'k-frank';
SELECT clients FROM idsess_get('k-frank') AS one_dimensional_copy;
UPDATE idsess.sessions SET client_list = '{{NULL,sid}}' WHERE key = 'k-frank';
SELECT clients FROM idsess_get('k-frank') AS copy_without_client_id;
-- The next change to the clients writes it afresh.
SELECT idsess_remove_client('k-frank', 'nobody');
SELECT idsess_add_client('k-frank', 'mobile', 'sid-m');
SELECT client_list FROM idsess.sessions WHERE key = 'k-frank';

-- "Which sessions did client X join" is an index lookup.
SET enable_seqscan = off;
SELECT idsess_test.scans($$SELECT session FROM idsess.session_clients WHERE client_id = 'payroll'$$);
RESET enable_seqscan;

-- SAML SP sessions: one per (entity_id, session_index); adding the same pair
-- again replaces its NameID; remove by entity.
SELECT jsonb_array_length(idsess_add_saml_session('k-frank', 'https://sp-one.example', 'idx-1', 'frank@example.com'));
SELECT jsonb_array_length(idsess_add_saml_session('k-frank', 'https://sp-two.example', 'idx-2', 'frank',
                                                  'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'));
SELECT jsonb_array_length(idsess_add_saml_session('k-frank', 'https://sp-one.example', 'idx-1', 'frank.new@example.com'));
SELECT jsonb_array_length(idsess_add_saml_session('k-frank', 'https://sp-one.example', 'idx-3', 'frank@example.com'));
SELECT jsonb_pretty(idsess_saml_sessions('k-frank'));
SELECT idsess_remove_saml_session('k-frank', 'https://sp-one.example') AS removed;
SELECT idsess_remove_saml_session('k-frank', 'https://sp-none.example') AS removed;
SELECT jsonb_pretty(saml_sessions) FROM idsess_get('k-frank');
-- The SAML copy too: anything but an array of objects is passed over.
UPDATE idsess.sessions SET saml_list = '"tampered"' WHERE key = 'k-frank';
SELECT jsonb_array_length(saml_sessions) AS scalar_copy FROM idsess_get('k-frank');
UPDATE idsess.sessions SET saml_list = '{"entity_id": "urn:x"}' WHERE key = 'k-frank';
SELECT jsonb_array_length(saml_sessions) AS object_copy FROM idsess_get('k-frank');
UPDATE idsess.sessions SET saml_list = '[{"entity_id": "urn:x"}, 7]' WHERE key = 'k-frank';
SELECT jsonb_array_length(saml_sessions) AS copy_with_a_number FROM idsess_get('k-frank');
SELECT jsonb_array_length(idsess_add_saml_session('k-frank', 'https://sp-three.example', 'idx-4', 'frank')) AS rewritten;
SELECT idsess_remove_saml_session('k-frank', 'https://sp-three.example') AS removed;

-- Unknown and expired sessions are errors with their own SQLSTATEs.  (In a
-- transaction, so that the expiry worker does not remove the expired one.)
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT idsess_add_client('k-nobody', 'spa');
\echo :LAST_ERROR_SQLSTATE
SELECT key FROM idsess_create('frank', 'old ticket', key => 'k-frank-old',
                              created => now() - interval '1 day', expires => now() - interval '1 hour');
SELECT idsess_add_client('k-frank-old', 'spa');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_add_saml_session('k-frank-old', 'urn:sp', 'i', 'n');
SELECT idsess_saml_sessions('k-nobody');
SELECT idsess_remove_saml_session('k-frank-old', 'urn:sp');
SELECT idsess_add_saml_session('k-frank', 'urn:sp', '', 'n');
SELECT idsess_delete('k-frank-old') AS deleted;
COMMIT;
\set ON_ERROR_ROLLBACK off

-- idsess_get reads a session's clients and SAML SP sessions from the copy its
-- row carries: every change above kept the copies equal to the tables.
SELECT count(*) AS with_clients FROM idsess.sessions WHERE cardinality(client_list) > 0;
SELECT * FROM idsess_test.copies_out_of_step() AS out_of_step;

SELECT idsess_delete_sessions(subject_id => 'frank') AS cleaned;
