-- bench/sql/load_shipped.sql: creates sessions lo..hi (those with i % mod =
-- 0) in Duende's store as it ships (bench/sql/shipped.sql): load_duende.sql
-- on that table, each session with a ticket from bench.shipped_pool.  psql
-- variables: lo, hi, mod.
\set sessions_table 'duende_shipped."ServerSideSessions"'
\set pool bench.shipped_pool
\ir load_duende.sql
