-- Installs idsess (with pgcrypto and pg_trgm) and a polling helper the
-- tests that wait for the background worker share.
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
SELECT extversion FROM pg_extension WHERE extname = 'idsess';
