-- bench/pgbench/idsess_spread.sql: the traffic of the spread mass expiry: a
-- request (get) and its activity (touch) on a live session, never one of
-- the expiring ones (every fifth).  Variables: n.
\set i random(1, :n)
\set i :i - (CASE WHEN :i % 5 = 0 THEN 1 ELSE 0 END)
SELECT * FROM idsess_get(bench.key_of(:i));
SELECT idsess_touch(bench.key_of(:i));
