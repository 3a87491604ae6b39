-- bench/pgbench/idsess_revoke.sql: an admin ends every session of a user
-- and gets the clients to notify.  Each client revokes its own users, one
-- after another, from a range loaded for this (subject rbase + client_id +
-- nclients * k).  Variables: rbase, nclients, k (0).
\set k :k + 1
\set s :rbase + :client_id + :nclients * :k
SELECT * FROM idsess_revoke(subject_id => bench.subject_of(:s), reason => 'benchmark');
