-- bench/pgbench/idsess_client.sql: "who is signed in to payroll": first
-- page of the sessions of one client application (about 2.5% of sessions),
-- with its total count.
SELECT * FROM idsess_query(client_id => 'payroll', count => 25);
