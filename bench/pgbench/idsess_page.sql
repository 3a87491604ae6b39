-- bench/pgbench/idsess_page.sql: the same broad search, a later page: the
-- previous page's results token is passed (page 2, or page 10,000).
-- Variables: token.
SELECT * FROM idsess_query(subject_id => 'acme|', count => 25, results_token => :token);
