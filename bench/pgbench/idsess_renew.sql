-- bench/pgbench/idsess_renew.sql: cookie renewal: a new ticket and expiry
-- (ITicketStore.RenewAsync).  Variables: n, ticket.
\set i random(1, :n)
SELECT idsess_update(bench.key_of(:i), ticket => :ticket, expires => now() + interval '14 days');
