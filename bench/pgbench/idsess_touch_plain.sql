-- bench/pgbench/idsess_touch_plain.sql: the touch of 1.0, on the sessions
-- bench/governance.sh made.  Variables: n.
\set i random(1, :n)
SELECT idsess_touch('g-' || :i);
