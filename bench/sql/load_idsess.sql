-- bench/sql/load_idsess.sql: creates sessions lo..hi (those with i % mod = 0)
-- in idsess through idsess_create, which seals each ticket, then gives each
-- session its clients (the portal, and for about half one more) directly in
-- idsess.session_clients, and its row the copy of them that idsess_add_client
-- would have left (what idsess_get reads).  psql variables: lo, hi, mod, ticket.
-- Sessions expire 7 to 13 days from now, so none expires during the run.
SELECT count(idsess_create(subject_id => bench.subject_of(i / 4), ticket => :'ticket',
                           key => bench.key_of(i), session_id => bench.sid_of(i),
                           display_name => bench.name_of(i / 4),
                           expires => now() + make_interval(days => 7 + (i % 7)::int)))
FROM generate_series(:lo::bigint, :hi::bigint) i
WHERE i % :mod = 0;

INSERT INTO idsess.session_clients (session, client_id, added)
SELECT s.id, c.client_id, s.created + c.n * interval '1 ms'
FROM generate_series(:lo::bigint, :hi::bigint) i
JOIN idsess.sessions s ON s.key = bench.key_of(i)
CROSS JOIN LATERAL (VALUES (0, 'portal'), (1, bench.client_of(i))) c(n, client_id)
WHERE i % :mod = 0 AND c.client_id IS NOT NULL;

UPDATE idsess.sessions s
SET client_list = CASE WHEN bench.client_of(i) IS NULL THEN ARRAY[ARRAY['portal', NULL]]
                  ELSE ARRAY[ARRAY['portal', NULL], ARRAY[bench.client_of(i), NULL]] END
FROM generate_series(:lo::bigint, :hi::bigint) i
WHERE s.key = bench.key_of(i) AND i % :mod = 0;
