-- scripts/demo.sql: demo sessions for scripts/dev demo.
-- 3,000 sessions of 1,200 people across five client applications: most live
-- for hours, some idle-limited, some about to expire (for the worker), a few
-- with SAML service providers.  Calls are schema-qualified (scripts/dev
-- installs idsess in public), as doc/security.md's "How to call" says.
\set ON_ERROR_STOP on
-- One transaction, so that the worker cannot remove the sessions that are
-- about to expire before their clients join.
BEGIN;
SELECT setseed(0.42);

CREATE TEMP TABLE people AS
SELECT i,
       'user-' || lpad(i::text, 5, '0') AS sub,
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Margaret','Dennis',
              'Radia','Tim','Hedy','John','Katherine','Linus','Anita','Niklaus','Sophie','Bjarne'])[1 + (i * 7) % 20]
       || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson','Hamilton','Ritchie',
              'Perlman','Berners-Lee','Lamarr','Backus','Johnson','Torvalds','Borg','Wirth','Wilson','Smith'])[1 + (i / 20) % 20]
       AS name
FROM generate_series(1, 1200) i;

-- A ticket like the ones ASP.NET Core serializes: claims as JSON, about 2 KB.
CREATE TEMP TABLE demo_sessions AS
SELECT p.sub, p.name, n,
       json_build_object('sub', p.sub, 'name', p.name, 'amr', json_build_array('pwd', 'mfa'),
                         'idp', 'local', 'auth_time', extract(epoch FROM now())::bigint,
                         'claims', (SELECT json_agg(json_build_object('type', 'role', 'value', 'role-' || r))
                                    FROM generate_series(1, 40) r))::text AS ticket,
       CASE
         WHEN n % 50 = 0 THEN now() + (n % 3 + 1) * interval '1 second'   -- expiring now
         WHEN n % 10 = 0 THEN now() + ((n / 10) % 15 + 1) * interval '1 minute'  -- expiring soon
         ELSE now() + interval '8 hours'
       END AS expires,
       CASE WHEN n % 7 = 0 THEN interval '20 minutes' END AS idle_timeout,
       now() - CASE WHEN n % 7 = 0 THEN n % 15 ELSE n % 240 END * interval '1 minute' AS created
FROM people p, generate_series(1, 3) k, LATERAL (SELECT (p.i - 1) * 3 + k AS n) x
WHERE (p.i + k) % 6 <> 0 OR k = 1;

SELECT count(*) AS sessions_loaded FROM (
  SELECT public.idsess_create(subject_id => sub, ticket => ticket, display_name => name,
                       key => 'demo-' || n, session_id => 'SID-' || lpad(n::text, 6, '0'),
                       created => created, expires => expires, idle_timeout => idle_timeout)
  FROM demo_sessions) s;

-- Each session signed in to one to three client applications.
SELECT count(*) AS client_joins FROM (
  SELECT public.idsess_add_client('demo-' || n, c)
  FROM demo_sessions,
       LATERAL string_to_table((ARRAY['spa', 'spa,payroll', 'mobile', 'crm,spa',
                                      'admin-portal,spa,payroll', 'mobile,crm'])[1 + n % 6], ',') c) j;

SELECT count(*) AS saml_sessions FROM (
  SELECT public.idsess_add_saml_session('demo-' || n, 'https://wiki.example.com/saml', 'idx-' || n, sub)
  FROM demo_sessions WHERE n % 9 = 0) s;
COMMIT;
