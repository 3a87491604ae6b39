-- bench/pgbench/idsess_page1.sql: broad admin search (subject contains
-- 'acme|': half of all sessions), first page of 25 with its total count.
SELECT * FROM idsess_query(subject_id => 'acme|', count => 25);
