-- The strength of the sign-in (acr, amr, auth_time): given at creation,
-- replaced by a step-up (an update, or an upsert that creates), shown in the
-- admin search.
\set SHOW_CONTEXT never

SELECT key FROM idsess_create('sam', 't', key => 'k-st-1', session_id => 'sid-st-1',
                              acr => 'urn:example:loa:1', amr => '{pwd}',
                              auth_time => '2030-01-01 10:00:00+00');
SELECT key FROM idsess_create('sam', 't', key => 'k-st-2', session_id => 'sid-st-2');
SELECT key, acr, amr, auth_time FROM idsess.sessions WHERE subject_id = 'sam' ORDER BY key;

-- A step-up: a stronger acr, a second method, a new auth_time; what is not
-- given is kept, '' clears acr.
SELECT idsess_update('k-st-1', acr => 'urn:example:loa:2', amr => '{pwd,otp}',
                     auth_time => '2030-01-01 10:05:00+00') AS stepped_up;
SELECT idsess_update('k-st-1', ticket => 't2') AS renewed;
SELECT key, acr, amr, auth_time FROM idsess.sessions WHERE key = 'k-st-1';
SELECT idsess_update('k-st-2', acr => 'urn:example:loa:1') AS set;
SELECT idsess_update('k-st-2', acr => '') AS cleared;
SELECT acr IS NULL AS acr_cleared FROM idsess.sessions WHERE key = 'k-st-2';
SELECT idsess_update('k-st-up', ticket => 't', subject_id => 'sam', session_id => 'sid-st-up', upsert => true,
                     acr => 'urn:example:loa:2', amr => '{hwk}') AS upserted;

-- The admin search shows them.
SELECT subject_id, session_id, acr, amr, auth_time FROM idsess_query(subject_id => 'sam')
ORDER BY session_id;

-- Refused: an amr with a null or an empty method, a 2-D amr, too many
-- methods, an infinite auth_time, a blank acr or one too long.
SELECT idsess_create('sam', 't', amr => ARRAY['pwd', NULL]);
SELECT idsess_create('sam', 't', amr => '{pwd," "}');
SELECT idsess_create('sam', 't', amr => '{{pwd},{otp}}');
SELECT idsess_create('sam', 't', amr => (SELECT array_agg('m' || i) FROM generate_series(1, 33) i));
SELECT idsess_update('k-st-1', auth_time => 'infinity');
SELECT idsess_create('sam', 't', acr => ' ');
SELECT idsess_create('sam', 't', acr => repeat('a', 1001));

SELECT idsess_delete_sessions('sam') AS deleted;
