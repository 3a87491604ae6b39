-- Memory: 100,000 store calls in one backend leave its memory where it was.
-- A loop of create, get, delete, with a query and a get_sessions every 100
-- calls, runs 10,000 calls to warm the plan, relation and key caches, then
-- 100,000 calls; the backend's memory contexts (pg_backend_memory_contexts,
-- the same query before and after) may grow by at most 64 kB: a leak of one
-- byte a call would show.  Not counted: the text of the statement being run
-- (MessageContext) and PostgreSQL's WAL record buffer, which grows once to
-- fit the largest record written, say a trigram index page split.
CREATE FUNCTION idsess_test.store_loop(calls int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	k text;
	sid text;
	n bigint := 0;
	c bigint;
BEGIN
	FOR i IN 0 .. calls - 1 LOOP
		CASE
			WHEN i % 100 = 98 THEN
				SELECT count(*) INTO c FROM idsess_query(session_id => sid, count => 5);
			WHEN i % 100 = 99 THEN
				SELECT count(*) INTO c FROM idsess_get_sessions(subject_id => 'mem', session_id => sid);
			WHEN i % 3 = 0 THEN
				SELECT s.key, s.session_id INTO k, sid
				FROM idsess_create('mem', 'ticket ' || i, expires => now() + interval '1 hour') s;
				c := 1;
			WHEN i % 3 = 1 THEN
				SELECT count(*) INTO c FROM idsess_get(k);
			ELSE
				c := idsess_delete(k)::int;
		END CASE;
		n := n + c;
	END LOOP;
	PERFORM idsess_delete_sessions(subject_id => 'mem');
	RETURN n;
END $$;
SELECT idsess_test.store_loop(10000) > 0 AS warmed_up;
SELECT sum(total_bytes) AS before_bytes FROM pg_backend_memory_contexts
WHERE name NOT IN ('MessageContext', 'WAL record construction') \gset
SELECT idsess_test.store_loop(100000) > 0 AS looped;
SELECT sum(total_bytes) AS after_bytes FROM pg_backend_memory_contexts
WHERE name NOT IN ('MessageContext', 'WAL record construction') \gset
SELECT :after_bytes - :before_bytes <= 64 * 1024 AS within_64_kb;
DROP FUNCTION idsess_test.store_loop(int);
