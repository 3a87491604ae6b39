-- bench/pgbench/idsess_create.sql: sign-in.  A new session for an existing
-- user, with a fresh key (as the cookie handler makes it) and the ~2 KB
-- ticket, which idsess seals.  Variables: nsub, ticket.
\set i random(5000000000, 9000000000000000000)
\set s random(0, :nsub - 1)
SELECT key FROM idsess_create(subject_id => bench.subject_of(:s), ticket => :ticket,
  key => bench.key_of(:i), session_id => bench.sid_of(:i), display_name => bench.name_of(:s),
  expires => now() + interval '14 days');
