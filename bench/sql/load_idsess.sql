-- bench/sql/load_idsess.sql: creates sessions lo..hi (those with i % mod = 0)
-- (or, with rem set, i % mod = rem) in idsess with their clients (the portal, and for about half one more),
-- each in one call as an identity server's save makes it (idsess_update with
-- upsert): the ticket sealed, the clients written, and the row's copy of them
-- that idsess_get reads written with the row.  psql variables: lo, hi, mod,
-- ticket.  Sessions expire 7 to 13 days from now, so none expires during the
-- run.
\if :{?rem}
\else
\set rem 0
\endif
SELECT count(idsess_update(bench.key_of(i), :'ticket', upsert => true,
                           subject_id => bench.subject_of(i / 4), session_id => bench.sid_of(i),
                           display_name => bench.name_of(i / 4),
                           expires => now() + make_interval(days => 7 + (i % 7)::int),
                           clients => CASE WHEN bench.client_of(i) IS NULL THEN ARRAY['portal']
                                      ELSE ARRAY['portal', bench.client_of(i)] END))
FROM generate_series(:lo::bigint, :hi::bigint) i
WHERE i % :mod = :rem;
