-- bench/pgbench/idsess_touch.sql: activity for the inactivity timeout.
-- Variables: n.
\set i random(1, :n)
SELECT idsess_touch(bench.key_of(:i));
