-- Every bad input gets its own clear error (SQLSTATE shown after each), and
-- no error message quotes a ticket.
\set SHOW_CONTEXT never

-- Missing values: null_value_not_allowed (22004).
SELECT idsess_update(NULL, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', scheme => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_get(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_add_client('k', NULL);
\echo :LAST_ERROR_SQLSTATE

-- Empty or blank values: invalid_parameter_value (22023).
SELECT idsess_create('', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', key => '   ');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', session_id => '');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', display_name => '');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_add_client('k', '');
\echo :LAST_ERROR_SQLSTATE

-- Both ticket forms at once.
SELECT idsess_create('u', ticket => 'secret-ticket-text', ticket_bytes => '\x01');
\echo :LAST_ERROR_SQLSTATE

-- Oversized identifiers: string_data_right_truncation (22001). 200
-- characters (not bytes) are allowed.
SELECT length(key) FROM idsess_create(repeat('é', 200), 'x', key => repeat('k', 200));
SELECT idsess_create(repeat('u', 201), 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', key => repeat('k', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', display_name => repeat('d', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_add_client(repeat('k', 200), repeat('c', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_delete(repeat('k', 200)) AS deleted;

-- Oversized tickets: program_limit_exceeded (54000), limit configurable.
SET idsess.max_ticket_size = '1kB';
SELECT idsess_create('u', repeat('s', 1025));
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', ticket_bytes => convert_to(repeat('s', 1025), 'UTF8'));
SELECT length(key) FROM idsess_create('u', repeat('s', 1024), key => 'k-limit');
SELECT idsess_update('k-limit', ticket => repeat('s', 2000));
RESET idsess.max_ticket_size;
SELECT idsess_update('k-limit', ticket => repeat('s', 2000)) AS updated;

-- Times: expires before created is a check_violation (23514); -infinity and
-- a negative idle timeout are invalid.
SELECT idsess_create('u', 'x', expires => now() - interval '1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', created => now(), expires => now() - interval '1 day');
SELECT idsess_create('u', 'x', expires => '-infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_create('u', 'x', created => 'infinity');
SELECT idsess_create('u', 'x', idle_timeout => '-5 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('k-limit', expires => now() - interval '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_update('k-limit', renewed => 'infinity');

-- A filter that would match everything is refused, never "all sessions".
SELECT * FROM idsess_get_sessions();
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_delete_sessions(NULL, NULL);
SELECT * FROM idsess_revoke();
SELECT * FROM idsess_revoke(client_ids => '{web}');
SELECT * FROM idsess_revoke(subject_id => '');
SELECT * FROM idsess_revoke(subject_id => 'u', client_ids => '{web,NULL}');
SELECT * FROM idsess_revoke(subject_id => 'u', client_ids => '{{a},{b}}');
SELECT count(*) AS sessions_left FROM idsess.sessions WHERE subject_id = 'u';

-- Counts: NULL or <= 0 mean the default; too many is refused.
SELECT count(*) FROM idsess_take_expired(0);
SELECT count(*) FROM idsess_take_expired(1000000);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM idsess_query(count => 1001);

-- Unknown sessions.
SELECT idsess_add_client('no-such-key', 'web');
\echo :LAST_ERROR_SQLSTATE
SELECT idsess_clients('no-such-key');

-- Statements that fail with a ticket as an argument are not logged with
-- the statement text (errhidestmt): check the server log carries no ticket.
-- Whatever the error: a duplicate key, a blank or too long identifier
-- (22023, 22001), a ticket too large (54000), in create and in update.
SELECT idsess_create('u', ticket => 'LOGMARKER-91c2 secret', key => 'k-limit');
SELECT idsess_create(' ', ticket => 'LOGMARKER-91c2 blank subject');
SELECT idsess_create(repeat('x', 201), ticket => 'LOGMARKER-91c2 long subject');
SELECT idsess_create('u', ticket => 'LOGMARKER-91c2 blank key', key => '');
SELECT idsess_create('u', ticket => 'LOGMARKER-91c2 long sid', session_id => repeat('x', 201));
SELECT idsess_update('k-limit', ticket => 'LOGMARKER-91c2 blank name', display_name => ' ');
SELECT idsess_update('k-limit', ticket => 'LOGMARKER-91c2 long name', display_name => repeat('x', 201));
SET idsess.max_ticket_size = '1kB';
SELECT idsess_create('u', ticket => 'LOGMARKER-91c2 large' || repeat('s', 2000));
SELECT idsess_update('k-limit', ticket => 'LOGMARKER-91c2 large' || repeat('s', 2000));
RESET idsess.max_ticket_size;
-- Nor when the error comes before idsess runs: an argument that does not
-- convert, a function that does not exist with these arguments, a syntax
-- error, in any case of the function's name (the log filter, logfilter.c).
SELECT idsess_create('u', ticket => 'LOGMARKER-91c2 bad expires', expires => 'next tuesday-ish');
SELECT public.IDSESS_UPDATE('k-limit', ticket => 'LOGMARKER-91c2 bad renewed', renewed => 'soon');
SELECT idsess_create('u', ticket => 'LOGMARKER-91c2 no such argument', colour => 'blue');
SELECT idsess_update('k-limit', ticket => 'LOGMARKER-91c2 syntax',);
-- take_expired's done names session keys: a refused call logs none.
SELECT count(*) FROM idsess_take_expired(1, lease => '0', done => ARRAY['LOGMARKER-91c2 done key']);
-- 1.2: the caller's own session key in revoke's except_key and in
-- my_sessions' current_key; a refused or unconvertible call logs neither.
SELECT count(*) FROM idsess_revoke(except_key => 'LOGMARKER-91c2 except key');
SELECT count(*) FROM idsess_revoke(subject_id => 'u', except_key => 'LOGMARKER-91c2 except key', batch => 0);
SELECT count(*) FROM idsess_my_sessions('u', current_key => 'LOGMARKER-91c2 current key', colour => 'blue');
SELECT count(*) FROM idsess_my_sessions(NULL::int, current_key => 'LOGMARKER-91c2 current key');
-- (Control: an ordinary failing statement is logged with its text.)
SELECT 'LOGCONTROL-77e0' || 1/0;
SELECT idsess_test.wait_until($$SELECT position('LOGCONTROL-77e0' IN pg_read_file(pg_current_logfile())) > 0$$)
       AS control_in_log;
SELECT position('LOGMARKER-91c2' IN pg_read_file(pg_current_logfile())) AS ticket_in_log;

SELECT idsess_delete_sessions(subject_id => 'u') AS cleaned,
       idsess_delete_sessions(subject_id => repeat('é', 200)) AS cleaned_long;
