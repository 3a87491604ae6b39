-- bench/pgbench/idsess_add_client.sql: a client application joins the
-- session (IUserSession.AddClientIdAsync).  Variables: n.
\set i random(1, :n)
\set c random(1, 20)
SELECT idsess_add_client(bench.key_of(:i), 'app-' || :c);
