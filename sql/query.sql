-- The admin search: substring filters (case-insensitive), an exact client
-- filter, keyset paging forward and back with an opaque token.
\set SHOW_CONTEXT never

SELECT count(*) AS created FROM generate_series(1, 60) i,
  LATERAL idsess_create('user-' || lpad(i::text, 3, '0'), 'ticket ' || i,
                        key => 'k-q-' || lpad(i::text, 3, '0'),
                        session_id => 'SID' || lpad(i::text, 3, '0'),
                        display_name => CASE WHEN i % 3 = 0 THEN 'Grace Hopper ' ELSE 'Ada Lovelace ' END || i,
                        expires => now() + interval '1 hour');
SELECT count(*) FROM (SELECT idsess_add_client('k-q-' || lpad(i::text, 3, '0'), 'payroll')
                      FROM generate_series(1, 60, 4) i) c;

-- Case-insensitive substring filters, AND-ed.
SELECT subject_id, display_name FROM idsess_query(display_name => 'HOPPER 2');
SELECT subject_id, session_id FROM idsess_query(subject_id => 'USER-05', session_id => 'd05');
SELECT count(*) FROM idsess_query(display_name => 'lovelace', count => 100);
-- LIKE's metacharacters are literal.
SELECT count(*) AS percent FROM idsess_query(display_name => '%');
SELECT count(*) AS underscore FROM idsess_query(subject_id => 'user_0');
-- Exact client filter, with and without text filters.
SELECT subject_id, clients FROM idsess_query(client_id => 'payroll', display_name => 'grace');
SELECT count(*) FROM idsess_query(client_id => 'pay');
-- The default page size is 25.
SELECT count(*), min(total_count), min(total_pages), bool_or(has_next) FROM idsess_query(subject_id => 'user');

-- Paging forward: 60 matches, 25 a page.
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page, min(total_pages) AS pages,
       min(total_count) AS total, bool_and(has_prev) AS prev, bool_and(has_next) AS next,
       min(results_token) AS tok
FROM idsess_query(subject_id => 'user') \gset
\echo :min :max :count page :page of :pages total :total prev :prev next :next
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page, min(total_pages) AS pages,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next, min(results_token) AS tok2
FROM idsess_query(subject_id => 'user', results_token => :'tok') \gset
\echo :min :max :count page :page of :pages prev :prev next :next
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next, min(results_token) AS tok3
FROM idsess_query(subject_id => 'user', results_token => :'tok2') \gset
\echo :min :max :count page :page prev :prev next :next
-- And back.
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next, min(results_token) AS back2
FROM idsess_query(subject_id => 'user', results_token => :'tok3', prior => true) \gset
\echo :min :max :count page :page prev :prev next :next
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next
FROM idsess_query(subject_id => 'user', results_token => :'back2', prior => true);

-- Rows deleted between pages: nothing is skipped or repeated.
SELECT idsess_delete('k-q-' || lpad(i::text, 3, '0')) FROM generate_series(20, 30) i \g /dev/null
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next, min(results_token) AS tok2b
FROM idsess_query(subject_id => 'user', results_token => :'tok') \gset
\echo :min :max :count page :page prev :prev next :next
SELECT string_agg(right(subject_id, 2), ',' ORDER BY subject_id) AS page2_rows
FROM idsess_query(subject_id => 'user', results_token => :'tok');
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next
FROM idsess_query(subject_id => 'user', results_token => :'tok2b', prior => true);
-- Everything before a page deleted: going back finds the first page.
SELECT idsess_delete('k-q-' || lpad(i::text, 3, '0')) FROM generate_series(1, 19) i \g /dev/null
SELECT min(subject_id), max(subject_id), count(*), min(current_page) AS page,
       bool_and(has_prev) AS prev, bool_and(has_next) AS next
FROM idsess_query(subject_id => 'user', results_token => :'tok2b', prior => true);
-- Nothing comes before the first page (as in Duende's stores).
SELECT count(*) AS before_first_page FROM idsess_query(subject_id => 'user', results_token => :'tok', prior => true);

-- Client-filtered paging.
SELECT string_agg(right(subject_id, 2), ',' ORDER BY subject_id) AS rows, min(total_count) AS total,
       min(results_token) AS ctok
FROM idsess_query(client_id => 'payroll', count => 3) \gset
\echo :rows total :total
SELECT string_agg(right(subject_id, 2), ',' ORDER BY subject_id) AS rows, min(current_page) AS page
FROM idsess_query(client_id => 'payroll', count => 3, results_token => :'ctok');

-- Tokens are checked.
SELECT count(*) FROM idsess_query(subject_id => 'other', results_token => :'tok');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_query(subject_id => 'user', client_id => 'payroll', results_token => :'tok');
SELECT count(*) FROM idsess_query(client_id => 'payroll', count => 3, results_token => :'tok');
-- The filters compare as the search uses them: case-insensitively.
SELECT count(*) AS same_search FROM idsess_query(subject_id => 'USER', results_token => :'tok');
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => 'garbage!');
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => '');
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => repeat('A', 100000));
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => encode('1:1:5:2:10:0', 'base64'));
SELECT count(*) FROM idsess_query(subject_id => 'user', prior => true);

-- A token is base64url(fields) '.' base64url(HMAC-SHA256 tag): forging or
-- altering the fields needs the master key.
CREATE FUNCTION pg_temp.unb64(s text) RETURNS bytea LANGUAGE sql
RETURN decode(rpad(translate(s, '-_', '+/'), (length(s) + 3) / 4 * 4, '='), 'base64');
CREATE FUNCTION pg_temp.b64(b bytea) RETURNS text LANGUAGE sql
RETURN rtrim(translate(encode(b, 'base64'), E'+/\n', '-_'), '=');
CREATE FUNCTION pg_temp.fields(tok text) RETURNS text[] LANGUAGE sql
RETURN string_to_array(convert_from(pg_temp.unb64(split_part(tok, '.', 1)), 'UTF8'), ':');
-- tok with its fields replaced (NULL: kept), its tag kept.
CREATE FUNCTION pg_temp.forge(tok text, page text, total text) RETURNS text LANGUAGE sql
RETURN pg_temp.b64(convert_to(array_to_string((pg_temp.fields(tok))[1:1] || COALESCE(page, (pg_temp.fields(tok))[2])
                                              || (pg_temp.fields(tok))[3:4] || COALESCE(total, (pg_temp.fields(tok))[5])
                                              || (pg_temp.fields(tok))[6:], ':'), 'UTF8'))
       || CASE WHEN strpos(tok, '.') > 0 THEN '.' || split_part(tok, '.', 2) ELSE '' END;
-- Forged: the page and total of 1.0's attack (page 2147483647, total 2^63-1).
SELECT current_page, total_pages, total_count
FROM idsess_query(subject_id => 'user', results_token => pg_temp.forge(:'tok', '2147483647', '9223372036854775807')) LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
-- Tampered: a plausible page number, or one character of the tag changed
-- (its first, all of whose bits count), or the tag's unused last bits set
-- (a second spelling of the same token is not accepted either).
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => pg_temp.forge(:'tok', '3', NULL));
SELECT count(*) FROM idsess_query(subject_id => 'user',
  results_token => split_part(:'tok', '.', 1) || '.' || translate(left(split_part(:'tok', '.', 2), 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_A') || substr(split_part(:'tok', '.', 2), 2));
SELECT count(*) FROM idsess_query(subject_id => 'user',
  results_token => left(:'tok', -1) || translate(right(:'tok', 1), 'AEIMQUYcgkosw048', 'BFJNRVZdhlptx159'));
-- The token was not altered: the same search accepts it.
SELECT count(*) AS accepted FROM idsess_query(subject_id => 'user', results_token => :'tok');

-- Out of range fields under a valid tag (signed here with the master key,
-- which only a superuser can read): the parser bounds every field.  The
-- token key is HMAC-SHA256 of its label under the master key's MAC subkey.
SELECT hmac('idsess v1 results token'::bytea,
            hmac('idsess v1 authentication'::bytea,
                 decode(btrim(pg_read_file(current_setting('idsess.master_key_file')), E' \n'), 'hex'), 'sha256'),
            'sha256') AS token_key \gset
CREATE FUNCTION pg_temp.sign(fields text[], k bytea) RETURNS text LANGUAGE sql
RETURN pg_temp.b64(convert_to(array_to_string(fields, ':'), 'UTF8')) || '.'
       || pg_temp.b64(hmac(convert_to(array_to_string(fields, ':'), 'UTF8'), k, 'sha256'));
SELECT pg_temp.fields(:'tok') AS f \gset
-- The same fields signed here are accepted: the signing matches.
SELECT count(*) AS resigned FROM idsess_query(subject_id => 'user', results_token => pg_temp.sign(:'f', :'token_key'));
-- Each field out of range, or the layout broken, under a valid tag.
CREATE FUNCTION pg_temp.try(tok text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
	r record;
BEGIN
	SELECT min(current_page) AS page, min(total_pages) AS pages INTO r
	FROM idsess_query(subject_id => 'user', results_token => tok);
	RETURN 'accepted: page ' || r.page || ' of ' || r.pages;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ' ' || msg || ': ' || det;
END $$;
SELECT v.what, pg_temp.try(pg_temp.sign(v.f, :'token_key')) AS result
FROM (VALUES ('page 2^31-1', (:'f'::text[])[1:1] || '2147483647'::text || (:'f'::text[])[3:]),
             ('page 2^31', (:'f'::text[])[1:1] || '2147483648'::text || (:'f'::text[])[3:]),
             ('page 10^20', (:'f'::text[])[1:1] || '99999999999999999999'::text || (:'f'::text[])[3:]),
             ('page 0', (:'f'::text[])[1:1] || '0'::text || (:'f'::text[])[3:]),
             ('page -1', (:'f'::text[])[1:1] || '-1'::text || (:'f'::text[])[3:]),
             ('page +1', (:'f'::text[])[1:1] || '+1'::text || (:'f'::text[])[3:]),
             ('page blank', (:'f'::text[])[1:1] || ' 1'::text || (:'f'::text[])[3:]),
             ('page empty', (:'f'::text[])[1:1] || ''::text || (:'f'::text[])[3:]),
             ('total 2^63-1', (:'f'::text[])[1:4] || '9223372036854775807'::text || (:'f'::text[])[6:]),
             ('total 2^63', (:'f'::text[])[1:4] || '9223372036854775808'::text || (:'f'::text[])[6:]),
             ('first id 0', (:'f'::text[])[1:2] || '{0,0}'::text[] || (:'f'::text[])[5:]),
             ('last before first', (:'f'::text[])[1:2] || '{5,4}'::text[] || (:'f'::text[])[5:]),
             ('version 1', '1'::text || (:'f'::text[])[2:]),
             ('field missing', (:'f'::text[])[1:5]),
             ('field added', :'f'::text[] || '0'::text),
             ('digest cut', (:'f'::text[])[1:5] || left((:'f'::text[])[6], -1))) AS v(what, f);

-- Tokens need the master key: without one, a search that fits one page
-- still answers (no token: there is no other page); a longer one fails.
SET idsess.master_key_file = '';
SELECT count(*), bool_and(results_token IS NULL) AS no_token, bool_or(has_next) AS next
FROM idsess_query(subject_id => 'user', count => 100);
SELECT count(*) FROM idsess_query(subject_id => 'user', count => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => :'tok');
RESET idsess.master_key_file;

-- Expired sessions do not appear.
SELECT key FROM idsess_create('user-old', 'x', key => 'k-q-old', created => now() - interval '2 hours',
                              expires => now() - interval '1 hour');
SELECT count(*) FROM idsess_query(subject_id => 'user-old');

-- Substring search is served by the trigram index.
SET enable_seqscan = off;
SELECT idsess_test.scans($$SELECT id FROM idsess.sessions s WHERE lower(display_name) LIKE '%hopper 2%'$$);
RESET enable_seqscan;

SELECT idsess_delete(key) FROM idsess.sessions WHERE key LIKE 'k-q-%' \g /dev/null
SELECT count(*) AS left FROM idsess.sessions WHERE key LIKE 'k-q-%';
