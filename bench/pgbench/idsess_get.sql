-- bench/pgbench/idsess_get.sql: a request: the session by its key, ticket
-- opened (ITicketStore.RetrieveAsync).  Variables: n.
\set i random(1, :n)
SELECT * FROM idsess_get(bench.key_of(:i));
