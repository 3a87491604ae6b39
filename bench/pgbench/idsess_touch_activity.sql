-- bench/pgbench/idsess_touch_activity.sql: a touch that records where the
-- session is used (idsess.record_client), from the address and browser it
-- signed in from: inside idsess.activity_granularity it writes only
-- last_active, as idsess_touch.sql does.  Variables: n.
\set i random(1, :n)
SELECT idsess_touch('g-' || :i, client_ip => ('192.0.2.' || (:i % 250))::inet,
                    user_agent => 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
                    device => 'Firefox on Linux');
