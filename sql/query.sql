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
SELECT count(*) AS empty_page FROM idsess_query(subject_id => 'user', results_token => :'tok', prior => true);

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
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => 'garbage!');
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => '');
SELECT count(*) FROM idsess_query(subject_id => 'user', results_token => encode('1:1:5:2:10:0', 'base64'));
SELECT count(*) FROM idsess_query(subject_id => 'user', prior => true);

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
