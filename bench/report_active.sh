#!/usr/bin/env bash
# bench/report_active.sh [SESSIONS]: idsess_report_active's subject count in
# 1.1 (distinct subjects, from the subject index) against 1.2's (distinct
# tenant and subject: a subject of two tenants is two people), on the same
# sessions: one database filled at idsess 1.1, copied, and the copy updated
# to 1.2.  Then the same in the copy with a tenth of the sessions moved into
# ten tenants.  Each report is called warm, 7 times (the median and the
# fastest are printed), and its subject count is EXPLAIN ANALYZEd; so is
# 1.2's with a shortcut for stores with no tenant (the form 1.2 now has).
#
# On the worktree's build in a private copy of the machine's PostgreSQL 15
# (nothing installed on the machine is touched; as root, the server runs as
# postgres).  SESSIONS defaults to 1,000,000.  Not part of bench/run: the
# results go to bench/results/report_active-<date>-<SESSIONS>.txt.
set -euo pipefail
N=${1:-1000000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
W=$(mktemp -d /tmp/idsess-ra.XXXXXX)
P=$W/usr/lib/postgresql/15/bin
trap 'runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -w stop >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
mkdir -p "$W/usr/lib/postgresql" "$W/usr/share/postgresql" "$W/src"
cp -a /usr/lib/postgresql/15 "$W/usr/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$W/usr/share/postgresql/"
tar -C "$here" --exclude=./.git --exclude=./bench/out --exclude='*.o' --exclude='*.bc' --exclude='*.so' -cf - . | tar -C "$W/src" -xf -
make -C "$W/src" -s with_llvm=no >/dev/null
make -C "$W/src" -s install with_llvm=no PG_CONFIG="$P/pg_config" >/dev/null
mkdir -p "$W/data"; chown -R postgres "$W"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/master.key"; chmod 600 "$W/master.key"; chown postgres "$W/master.key"
runuser -u postgres -- "$P/initdb" -D "$W/data" -A trust >/dev/null
cat >> "$W/data/postgresql.conf" <<CONF
port = 55993
listen_addresses = ''
unix_socket_directories = '$W'
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$W/master.key'
idsess.databases = ''
shared_buffers = 512MB
max_wal_size = 4GB
CONF
runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
q() { local db=$1; shift; runuser -u postgres -- "$P/psql" -X -q -h "$W" -p 55993 -d "$db" "$@"; }
out="$here/bench/results/report_active-$(date -u +%Y-%m-%d)-$N.txt"
mkdir -p "$(dirname "$out")"
say() { echo "$*" | tee -a "$out"; }
: > "$out"
say "bench/report_active.sh $N, commit $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo ' (modified)'), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"

# shellcheck source=bench/ticket.sh
. "$here/bench/ticket.sh"
ticket=$(bench_ticket)
q postgres -c "CREATE DATABASE v11" >/dev/null
q v11 -c "SET client_min_messages = warning" -c "CREATE EXTENSION idsess VERSION '1.1' CASCADE" \
	-f "$here/bench/sql/helpers.sql" >/dev/null
t0=$(date +%s)
q v11 -v lo=1 -v hi="$N" -v mod=1 -v ticket="$ticket" -f "$here/bench/sql/load_idsess.sql" >/dev/null
q v11 -c "VACUUM ANALYZE" >/dev/null
q postgres -c "CREATE DATABASE v12 TEMPLATE v11" >/dev/null
q v12 -c "ALTER EXTENSION idsess UPDATE TO '1.2'" -c "VACUUM ANALYZE" -c CHECKPOINT >/dev/null
say "loaded $N sessions ($((N / 4 + 1)) subjects) at 1.1 in $(( $(date +%s) - t0 )) s; copied and updated to 1.2"

# The subject count of each version's report, as written in its script.
sub11="SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.subject_id FROM idsess.sessions d) u"
sub12="SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.tenant, d.subject_id FROM idsess.sessions d
       WHERE d.subject_id IS NOT NULL AND idsess.tenant_visible(d.tenant)) u"
# 1.2's, with a shortcut: while no session has a tenant and the caller sees
# every tenant, a pair is a subject, counted from the subject index.
fast12="SELECT CASE WHEN idsess.tenant_scope() IS NULL
            AND NOT EXISTS (SELECT FROM idsess.sessions t WHERE t.tenant IS NOT NULL)
       THEN (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT d.subject_id FROM idsess.sessions d
             WHERE d.subject_id IS NOT NULL) u)
       ELSE ($sub12) END"

# The whole report of each form, as a statement (the function runs the
# built version's).
live="FROM (SELECT pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER (WHERE s.idle_timeout IS NOT NULL) AS idle,
             pg_catalog.count(*) FILTER (WHERE s.expires IS NULL) AS never,
             pg_catalog.count(*) FILTER (WHERE s.expires <= pg_catalog.now() + interval '1 hour') AS soon
      FROM idsess.sessions s WHERE (s.expires IS NULL OR s.expires > pg_catalog.now())
        AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())"
rep11="SELECT t.n, ($sub11), t.idle, t.never, t.soon $live) t"
rep12="SELECT t.n, ($sub12), t.idle, t.never, t.soon $live AND idsess.tenant_visible(s.tenant)) t"
fastrep12="SELECT t.n, ($fast12), t.idle, t.never, t.soon $live AND idsess.tenant_visible(s.tenant)) t"
# Not made: the pairs counted in the same pass over the table as the live
# sessions (a proposal for stores with tenants in use).
onepass12="SELECT pg_catalog.count(*) FILTER (WHERE l.live),
       pg_catalog.count(DISTINCT ROW(s.tenant, s.subject_id)) FILTER (WHERE s.subject_id IS NOT NULL),
       pg_catalog.count(*) FILTER (WHERE l.live AND s.idle_timeout IS NOT NULL),
       pg_catalog.count(*) FILTER (WHERE l.live AND s.expires IS NULL),
       pg_catalog.count(*) FILTER (WHERE l.live AND s.expires <= pg_catalog.now() + interval '1 hour')
FROM idsess.sessions s,
     LATERAL (SELECT (s.expires IS NULL OR s.expires > pg_catalog.now())
                     AND (s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())) l(live)
WHERE idsess.tenant_visible(s.tenant)"

# median and fastest of 7 warm calls (after 2 unmeasured), in ms
timed() {
	local db=$1 sql=$2
	q "$db" -c "$sql" >/dev/null; q "$db" -c "$sql" >/dev/null
	for _ in 1 2 3 4 5 6 7; do
		q "$db" -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
	done | sort -n | awk '{ t[NR] = $1 } END { printf "median %.1f ms, fastest %.1f ms", t[4], t[1] }'
}
plan() {
	local db=$1 sql=$2
	q "$db" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) $sql" | sed 's/^/    /' | tee -a "$out"
}

for db in v11 v12; do
	say ""
	say "$db: idsess_report_active(): $(timed "$db" 'SELECT * FROM idsess_report_active()')"
	say "$db: its result: $(q "$db" -At -c 'SELECT * FROM idsess_report_active()')"
done
say ""
say "v11 report as 1.1 writes it: $(timed v11 "$rep11")"
say "v12 report as 1.2 wrote it: $(timed v12 "$rep12")"
say "v12 report with the shortcut: $(timed v12 "$fastrep12")"
say ""
say "v11 subject count alone: $(timed v11 "$sub11")"
plan v11 "$sub11"
say "v12 subject count alone: $(timed v12 "$sub12")"
plan v12 "$sub12"
say "v12 subject count with the shortcut: $(timed v12 "$fast12") (result $(q v12 -At -c "$fast12"), without: $(q v12 -At -c "$sub12"))"
plan v12 "$fast12"

# Tenants in use: a tenth of the sessions in ten tenants (as
# idsess_create(tenant => ...) would have placed them).
q v12 -c "UPDATE idsess.sessions SET tenant = 'tenant-' || (id % 10) WHERE id % 10 = 0" \
	-c "VACUUM ANALYZE idsess.sessions" -c CHECKPOINT >/dev/null
say ""
say "v12, a tenth of the sessions in ten tenants: idsess_report_active(): $(timed v12 'SELECT * FROM idsess_report_active()')"
say "v12 with tenants: its result: $(q v12 -At -c 'SELECT * FROM idsess_report_active()')"
say "v12 with tenants, subject count alone: $(timed v12 "$sub12")"
plan v12 "$sub12"
say "v12 with tenants, with the shortcut: $(timed v12 "$fast12") (result $(q v12 -At -c "$fast12"), without: $(q v12 -At -c "$sub12"))"
say "v12 with tenants, report as 1.2 wrote it: $(timed v12 "$rep12")"
say "v12 with tenants, report in one pass (not made): $(timed v12 "$onepass12") (result $(q v12 -At -c "$onepass12" | tr '|' ' '))"
plan v12 "$onepass12"
say "v11 report (no tenants), again: $(timed v11 "$rep11")"
