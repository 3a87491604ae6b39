-- bench/pgbench/idsess_search.sql: admin search by part of a display name
-- (a full name such as 'Grace Hopper', about one session in 2,450), first
-- page of 25 with its total count.  Variables: nsub.
\set s random(0, :nsub - 1)
SELECT * FROM idsess_query(display_name => bench.name_of(:s), count => 25);
