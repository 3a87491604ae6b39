-- bench/sql/shipped.sql: Duende's store as it ships, for the bytes on disk
-- and a side-by-side measure of create, get and renew: the table of
-- bench/sql/duende.sql (same columns, indexes and algorithms), in schema
-- "duende_shipped", holding the ticket as Duende's Data Protection writes it
-- (bench.shipped_pool: about 1.4 times the ticket's length, where the main
-- baseline gets a value of idsess's compressed, sealed size).  Loaded,
-- measured and emptied at each size (bench/run: shipped), so that its
-- pages do not crowd the other stores' out of memory.

CREATE SCHEMA duende_shipped;
CREATE TABLE duende_shipped."ServerSideSessions" (LIKE duende."ServerSideSessions" INCLUDING ALL);
