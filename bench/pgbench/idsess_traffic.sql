-- bench/pgbench/idsess_traffic.sql: the application traffic that runs
-- during mass expiry: one sign-in for every four requests.  Variables: n,
-- nsub, ticket.
\set i random(1, :n)
\set j random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
\set r random(0, 4)
\if :r = 0
SELECT key FROM idsess_create(subject_id => bench.subject_of(:s), ticket => :ticket,
  key => bench.key_of(:j), session_id => bench.sid_of(:j), display_name => bench.name_of(:s),
  expires => now() + interval '14 days');
\else
SELECT * FROM idsess_get(bench.key_of(:i));
\endif
