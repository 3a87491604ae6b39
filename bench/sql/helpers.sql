-- bench/sql/helpers.sql: schema "bench" with the data generators every
-- store's loader and pgbench script share, so that session number i has
-- the same key, subject, sid and display name in idsess and in the
-- baselines.  Loaded once per benchmark cluster (psql -f).
--
-- Session i (1..N) belongs to subject i/4 (about four sessions per user).
-- Subjects are "tenant|number": 50% acme, 30% globex, 20% initech, so that
-- "acme|" is a broad search (half of all sessions: deep pages exist).
-- Display names are "First Last" from 97 x 101 names, so a full name such as
-- 'Grace Hopper' is a selective search (about one session in 2,450).

CREATE SCHEMA bench;

-- A Duende-style session key: 64 uppercase hex digits, random-looking but
-- reproducible from i.  These SQL functions use only immutable functions
-- (i::text, not 'k' || i, which is only stable), so that the planner inlines
-- them even in a prepared statement's generic plan; otherwise each call
-- would parse and plan its body again and add to every measured statement.
CREATE FUNCTION bench.key_of(i bigint) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql
AS $$ SELECT upper(encode(sha256(('k' || i::text)::bytea), 'hex')) $$;

-- A Duende-style sid: 32 uppercase hex digits.
CREATE FUNCTION bench.sid_of(i bigint) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql
AS $$ SELECT upper(md5('s' || i::text)) $$;

-- Spring Session's two UUIDs.
CREATE FUNCTION bench.uuid_of(i bigint, kind text) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql
AS $$ SELECT md5(kind || i::text)::uuid::text $$;

CREATE FUNCTION bench.subject_of(s bigint) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql
AS $$ SELECT CASE WHEN s % 10 < 5 THEN 'acme' WHEN s % 10 < 8 THEN 'globex' ELSE 'initech' END
             || '|' || lpad(s::text, 9, '0') $$;

CREATE FUNCTION bench.name_of(s bigint) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql
AS $$ SELECT (ARRAY['Ada','Alan','Alice','Amelia','Anna','Arthur','Barbara','Ben','Bertrand','Blaise',
  'Carl','Carol','Charles','Claude','Daniel','David','Donald','Dorothy','Edsger','Edith',
  'Elena','Emmy','Eric','Ernst','Esther','Felix','Frances','Frank','Fred','George',
  'Grace','Hannah','Hedy','Henri','Hugo','Ida','Irene','Isaac','Jack','James',
  'Jane','Jean','Joan','John','Julia','Karen','Katherine','Ken','Klaus','Lara',
  'Leonhard','Lise','Louis','Lucy','Margaret','Maria','Marie','Mark','Martha','Mary',
  'Max','Michael','Nancy','Niels','Noam','Olga','Oscar','Paul','Peter','Radia',
  'Richard','Rita','Robert','Rosa','Ruth','Sam','Sarah','Sophie','Stephen','Susan',
  'Ted','Thomas','Tim','Ursula','Vera','Victor','Walter','Werner','Xavier','Yann',
  'Yvonne','Zoe','Linus','Bjarne','Guido','Larry','Whitfield'])[1 + s % 97]
  || ' ' ||
  (ARRAY['Hopper','Lovelace','Turing','Noether','Curie','Meitner','Franklin','Goodall','Hamilton','Johnson',
  'Knuth','Dijkstra','Liskov','Perlman','Shannon','Babbage','Boole','Church','Codd','Gray',
  'Hoare','Kay','Lamport','McCarthy','Milner','Naur','Pascal','Ritchie','Thompson','Wirth',
  'Backus','Bell','Berners','Cerf','Conway','Diffie','Engelbart','Floyd','Goldwasser','Hellman',
  'Karp','Kernighan','Kleinrock','Lampson','Minsky','Moore','Newell','Pnueli','Rabin','Reddy',
  'Rivest','Sutherland','Tarjan','Torvalds','Ullman','Valiant','Wilkes','Yao','Zuse','Allen',
  'Bachman','Blum','Brooks','Cook','Corbato','Dahl','Estrin','Feigenbaum','Hartmanis','Hennessy',
  'Hinton','Iverson','Kahan','Lecun','Patterson','Rissanen','Scott','Shamir','Simon','Stearns',
  'Stonebraker','Wing','Yang','Adleman','Bengio','Catmull','Hanrahan','Hellerstein','Kahn','Lee',
  'Leighton','Nygaard','Pearl','Sifakis','Clarke','Emerson','Gosling','Stroustrup','Rossum','Wall',
  'Diaz'])[1 + (s / 97) % 101] $$;

-- Client applications.  Every session has the portal; about half also have
-- one of twenty others (payroll: about 2.5% of sessions).
CREATE FUNCTION bench.client_of(i bigint) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql
AS $$ SELECT CASE WHEN hashint8(i) % 2 = 0 THEN
  (ARRAY['payroll','mail','wiki','crm','erp','hr','tickets','chat','drive','calendar',
         'billing','analytics','cms','git','ci','monitoring','vpn','expenses','learning','travel'])
  [1 + abs(hashint8(i * 7919)) % 20] END $$;

-- base64url text (no padding) of `bytes` random bytes: what an
-- application's encryption hands the database, and as incompressible.
CREATE FUNCTION bench.random_base64url(bytes int) RETURNS text
LANGUAGE sql AS $$
  SELECT translate(rtrim(encode(
           (SELECT string_agg(gen_random_bytes(least(1024, bytes - o)), ''::bytea)
              FROM generate_series(0, bytes - 1, 1024) o),
           'base64'), '='), E'+/\n', '-_')
$$;

-- Pre-encrypted tickets for the baselines: Duende stores what the
-- application's Data Protection produced, base64 text of about the size of
-- idsess's sealed ticket.  A pool of distinct random values (no compression
-- possible, like real ciphertext); session i uses value i % 1000.
CREATE TABLE bench.data_pool (n int PRIMARY KEY, data text NOT NULL);

CREATE FUNCTION bench.fill_data_pool(sealed_bytes int) RETURNS void
LANGUAGE sql AS $$
  TRUNCATE bench.data_pool;
  INSERT INTO bench.data_pool SELECT n, bench.random_base64url(sealed_bytes) FROM generate_series(0, 999) n;
$$;

-- The ticket as Duende ships it (bench/sql/shipped.sql): ASP.NET Core Data
-- Protection's payload for the UTF-8 ticket, base64url, not compressed: a
-- magic header (4 bytes), the key id (16), the key modifier (16), the IV
-- (16), the AES-256-CBC ciphertext (PKCS#7 padding: the next multiple of
-- 16) and the HMAC-SHA256 tag (32).  Returns the value's length.
CREATE TABLE bench.shipped_pool (n int PRIMARY KEY, data text NOT NULL);

CREATE FUNCTION bench.fill_shipped_pool(ticket_bytes int) RETURNS int
LANGUAGE sql AS $$
  TRUNCATE bench.shipped_pool;
  INSERT INTO bench.shipped_pool
  SELECT n, bench.random_base64url(4 + 16 + 16 + 16 + (ticket_bytes / 16 + 1) * 16 + 32)
  FROM generate_series(0, 999) n;
  SELECT length(data) FROM bench.shipped_pool WHERE n = 0;
$$;

-- Sessions whose expiry lag is measured (bench/run lag_test): when each
-- session was due and when it was first seen gone.
CREATE TABLE bench.lag (
  key text PRIMARY KEY,
  expires timestamptz NOT NULL,
  gone timestamptz
);

-- Watches bench.lag until every session is gone or `seconds` pass,
-- looking every `interval_s` seconds; store is 'idsess', 'duende' or 'spring'.
CREATE PROCEDURE bench.watch_lag(store text, seconds float8, interval_s float8 DEFAULT 0.05)
LANGUAGE plpgsql AS $$
DECLARE
  deadline timestamptz := clock_timestamp() + make_interval(secs => seconds);
  left_ bigint;
BEGIN
  LOOP
    IF store = 'idsess' THEN
      UPDATE bench.lag l SET gone = clock_timestamp()
       WHERE gone IS NULL AND expires <= clock_timestamp()
         AND NOT EXISTS (SELECT FROM idsess.sessions s WHERE s.key = l.key);
    END IF;
    SELECT count(*) INTO left_ FROM bench.lag WHERE gone IS NULL;
    COMMIT;
    EXIT WHEN left_ = 0 OR clock_timestamp() > deadline;
    PERFORM pg_sleep(interval_s);
  END LOOP;
END $$;

-- Walks the broad search ('acme|') page by page through its results tokens,
-- as an admin UI does, up to page `last`; keeps the tokens of page 1 and of
-- page `last` in bench.tokens and returns how long the walk took (seconds).
CREATE TABLE bench.tokens (page int PRIMARY KEY, token text NOT NULL);

CREATE FUNCTION bench.walk_pages(last int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
  tok text;
  t0 timestamptz := clock_timestamp();
BEGIN
  DELETE FROM bench.tokens;
  FOR p IN 1..last LOOP
    SELECT results_token INTO tok
      FROM idsess_query(subject_id => 'acme|', count => 25, results_token => tok) LIMIT 1;
    IF tok IS NULL THEN
      RAISE EXCEPTION 'page % of the broad search is empty', p;
    END IF;
    IF p = 1 OR p = last THEN
      INSERT INTO bench.tokens VALUES (p, tok) ON CONFLICT (page) DO NOTHING;
    END IF;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;

-- Bytes on disk of the given tables: each table (heap with its free space
-- and visibility maps), its TOAST table (with the TOAST index) and each index.
CREATE FUNCTION bench.relation_sizes(tables regclass[])
RETURNS TABLE (relation text, kind text, bytes bigint)
LANGUAGE sql AS $$
  SELECT c.relname::text, 'table',
         pg_table_size(c.oid) - CASE WHEN c.reltoastrelid = 0 THEN 0 ELSE pg_total_relation_size(c.reltoastrelid) END
    FROM unnest(tables) t JOIN pg_class c ON c.oid = t
  UNION ALL
  SELECT c.relname::text, 'toast', pg_total_relation_size(c.reltoastrelid)
    FROM unnest(tables) t JOIN pg_class c ON c.oid = t WHERE c.reltoastrelid <> 0
  UNION ALL
  SELECT ic.relname::text, 'index', pg_relation_size(i.indexrelid)
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
   WHERE i.indrelid = ANY (tables)
$$;
