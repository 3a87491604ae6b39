-- bench/pgbench/idsess_spread.sql: the traffic of the spread mass expiry: a
-- request (get) and its activity (touch) on a live session, never one of
-- the expiring ones (i % 5 = r).  Variables: n, r.
\set i random(1, :n)
\set i :i + (CASE WHEN :i % 5 = :r THEN (CASE WHEN :i > 1 THEN -1 ELSE 1 END) ELSE 0 END)
SELECT * FROM idsess_get(bench.key_of(:i));
SELECT idsess_touch(bench.key_of(:i));
