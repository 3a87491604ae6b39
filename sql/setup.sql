-- Installs idsess (with pgcrypto and pg_trgm), a polling helper the tests
-- that wait for the background worker share, and a plan helper.
CREATE EXTENSION idsess CASCADE;
CREATE SCHEMA idsess_test;
-- Polls a boolean query for up to `seconds`; returns whether it became true.
CREATE FUNCTION idsess_test.wait_until(q text, seconds float8 DEFAULT 10) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	ok boolean;
	deadline timestamptz := clock_timestamp() + seconds * interval '1 second';
BEGIN
	LOOP
		EXECUTE q INTO ok;
		IF ok THEN RETURN true; END IF;
		IF clock_timestamp() > deadline THEN RETURN false; END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END $$;
-- The relations a query's plan scans, each as "index <name>" or "seq scan
-- <table>": what serves the query, whatever plan shape (plain or bitmap
-- index scan) the statistics of the moment lead to.
CREATE FUNCTION idsess_test.scans(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	m text[];
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		m := regexp_match(line, '(?:Index Only Scan|Index Scan)(?: Backward)? using (\S+) on');
		IF m IS NULL THEN
			m := regexp_match(line, 'Bitmap Index Scan on (\S+)');
		END IF;
		IF m IS NOT NULL THEN
			RETURN NEXT 'index ' || m[1];
		ELSE
			m := regexp_match(line, 'Seq Scan on (\S+)');
			IF m IS NOT NULL THEN
				RETURN NEXT 'seq scan ' || m[1];
			END IF;
		END IF;
	END LOOP;
END $$;
-- The sessions whose row's copy of their clients and SAML SP sessions (what
-- idsess_get returns) differs from idsess.session_clients and
-- idsess.session_saml, or is missing.
CREATE FUNCTION idsess_test.copies_out_of_step() RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT s.key FROM idsess.sessions s
	WHERE s.client_list IS DISTINCT FROM
	      COALESCE((SELECT array_agg(ARRAY[c.client_id, c.client_sid] ORDER BY c.added, c.client_id)
	                FROM idsess.session_clients c WHERE c.session = s.id), '{}')
	   OR s.saml_list IS DISTINCT FROM
	      COALESCE((SELECT jsonb_agg(jsonb_build_object('entity_id', m.entity_id,
	                    'session_index', m.session_index, 'name_id', m.name_id,
	                    'name_id_format', m.name_id_format) ORDER BY m.added, m.entity_id, m.session_index)
	                FROM idsess.session_saml m WHERE m.session = s.id), '[]')
	ORDER BY 1
$$;
SELECT extversion FROM pg_extension WHERE extname = 'idsess';
