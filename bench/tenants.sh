#!/usr/bin/env bash
# bench/tenants.sh [SESSIONS]: issue 38's two measurements, on the
# worktree's build in a private copy of the machine's PostgreSQL 15 (nothing
# installed on the machine is touched; as root, the server runs as postgres).
#
# 1. get with tenants in use against get without: SESSIONS sessions in the
#    default tenant and 100,000 more spread over ten tenants (ten tenant
#    admins granted), idsess_get of a random key of each kind mixed 1:1 in
#    one pgbench run, so both are measured at the same moment; 3 rounds of
#    15 s at 1 and 2 clients.
# 2. An incident revocation by client of a tenth of the SESSIONS sessions,
#    in batches of 1,000 (each its own transaction), while 4 clients get
#    random keys: its time, and the traffic kept (reads a second during the
#    revocation against the 10 s before it, after 20 s of warm-up).
# 3. An incident revocation by data key (a compromised key): the key is
#    rotated, a tenth more sessions are created under the new one, and they
#    are revoked in batches of 1,000, each call timed.  Beside it, at the
#    same moment, the batch's selection as 1.2 runs it ("bound": from the
#    key's first session) and without that bound ("index only": what the
#    (key_id, id) index gives alone, when the planner takes it), by
#    EXPLAIN ANALYZE, rolled back.  Before 1.2 the index was on key_id
#    alone and the selection walked the primary key from the oldest
#    session (see the commit that added the bound).
#
# SESSIONS defaults to 1,000,000.  Not part of bench/run (nor of --quick):
# the results go to bench/results/tenants-<date>-<SESSIONS>.txt.
set -euo pipefail
N=${1:-1000000}
M=100000
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
W=$(mktemp -d /tmp/idsess-gov.XXXXXX)
P=$W/usr/lib/postgresql/15/bin
trap 'kill "${bg:-}" 2>/dev/null || true; runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -w stop >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
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
port = 55992
listen_addresses = ''
unix_socket_directories = '$W'
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$W/master.key'
idsess.databases = ''
shared_buffers = 512MB
max_wal_size = 4GB
CONF
runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
q() { runuser -u postgres -- "$P/psql" -X -q -h "$W" -p 55992 -d postgres "$@"; }
out="$here/bench/results/tenants-$(date -u +%Y-%m-%d)-$N.txt"
say() { echo "$*" | tee -a "$out"; }
: > "$out"
say "bench/tenants.sh $N, commit $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo ' (modified)'), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"

# shellcheck source=bench/ticket.sh
. "$here/bench/ticket.sh"
ticket=$(bench_ticket)
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION idsess CASCADE" -f "$here/bench/sql/helpers.sql" >/dev/null
t0=$(date +%s)
q -v lo=1 -v hi="$N" -v mod=1 -v ticket="$ticket" -f "$here/bench/sql/load_idsess.sql" >/dev/null
q -v lo=$((N + 1)) -v hi=$((N + M)) -v mod=1 -v ticket="$ticket" -f "$here/bench/sql/load_idsess.sql" >/dev/null
# The tenant sessions: their tenant set as idsess_create(tenant => ...) sets it.
q -c "UPDATE idsess.sessions s SET tenant = 'tenant-' || (s.id % 10) WHERE s.id > $N" >/dev/null
for t in 0 1 2 3 4 5 6 7 8 9; do
	q -c "CREATE ROLE bench_tenant_$t LOGIN" -c "SELECT idsess_grant_tenant_admin('bench_tenant_$t', 'tenant-$t')" >/dev/null
done
# A tenth of the default tenant's sessions joined the client of the incident.
q -c "SELECT count(idsess_add_client(bench.key_of(i), 'incident')) FROM generate_series(10, $N, 10) i" >/dev/null
q -c "VACUUM ANALYZE" -c CHECKPOINT >/dev/null
say "loaded $N + $M sessions in $(( $(date +%s) - t0 )) s"

# Both scripts draw from 100,000 sessions, so that neither is favoured by
# the cache.
cat > "$W/get_default.sql" <<SQL
\set i random(1, $M)
SELECT * FROM idsess_get(bench.key_of(:i));
SQL
cat > "$W/get_tenant.sql" <<SQL
\set i random($((N + 1)), $((N + M)))
SELECT * FROM idsess_get(bench.key_of(:i));
SQL
chown postgres "$W"/*.sql
pgb() { runuser -u postgres -- "$P/pgbench" -n -M prepared -h "$W" -p 55992 "$@" postgres; }

say ""
say "1. get, default tenant (script 1) and tenants in use (script 2), mixed 1:1 in one run"
for round in 1 2 3; do
	for c in 1 2; do
		res=$(pgb -c $c -j $c -T 15 -r -f "$W/get_default.sql" -f "$W/get_tenant.sql" 2>/dev/null)
		d=$(echo "$res" | awk '/SQL script 1/ {s=1} s && /latency average/ {print $5; exit}')
		t=$(echo "$res" | awk '/SQL script 2/ {s=1} s && /latency average/ {print $5; exit}')
		awk -v r=$round -v c=$c -v d="$d" -v t="$t" \
			'BEGIN {printf "round %d, %d clients: default tenant %s ms, tenants %s ms, tenants/default %.3f\n", r, c, d, t, t / d}' | tee -a "$out"
	done
done

say ""
say "2. revoke by client $((N / 10)) of $N sessions in batches of 1,000 while 4 clients get"
cat > "$W/get_all.sql" <<SQL
\set i random(1, $N)
SELECT * FROM idsess_get(bench.key_of(:i));
SQL
chown postgres "$W/get_all.sql"
# 30 s of reads first: the last 10 s before the revocation are the baseline.
pgb -c 4 -j 2 -T 36000 -P 1 --progress-timestamp -f "$W/get_all.sql" > /dev/null 2> "$W/progress" &
bg=$!
sleep 32
start=$(date +%s.%N)
batches=0; total=0
while :; do
	b0=$(date +%s.%N)
	n=$(q -At -c "SELECT count(*) FROM idsess_revoke(client_id => 'incident', batch => 1000, reason => 'bench incident')")
	batches=$((batches + 1)); total=$((total + n))
	echo "$batches $n $b0 $(date +%s.%N)" >> "$W/batches"
	[ "$n" -gt 0 ] || break
done
end=$(date +%s.%N)
sleep 3
kill $bg 2>/dev/null || true; wait $bg 2>/dev/null || true; bg=
awk -v s="$start" -v e="$end" -v n="$total" -v b="$batches" '
	/^progress: / { t = $2; tps = $4; if (t >= s - 10 && t < s) { pre += tps; np++ } else if (t >= s + 1 && t <= e) { dur += tps; nd++ } }
	END {
		printf "revoked %d sessions in %d calls, %.1f s (%.0f sessions/s)\n", n, b, e - s, n / (e - s)
		printf "reads: %.0f/s in the 10 s before, %.0f/s during (%d samples): traffic kept %.0f%%\n", pre / np, nd ? dur / nd : 0, nd, nd ? 100 * (dur / nd) / (pre / np) : 0
	}' "$W/progress" | tee -a "$out"
awk '{ t = $4 - $3; if (NR <= 10) { a += t; na++ } last[NR % 10] = t; n = NR }
	END { for (i in last) { b += last[i]; nb++ } printf "a call: %.2f s on average over the first 10, %.2f s over the last 10\n", a / na, b / nb }' "$W/batches" | tee -a "$out"
q -At -c "SELECT 'left with the client: ' || count(*) FROM idsess.session_clients WHERE client_id = 'incident'" | tee -a "$out"
q -At -c "SELECT 'logouts owed in the outbox: ' || count(*) FROM idsess.logout_outbox WHERE cause = 'revoked'" | tee -a "$out"
q -At -c "SELECT 'audit rows: ' || count(*) || ', sessions ' || sum(sessions) FROM idsess.audit WHERE reason = 'bench incident'" | tee -a "$out"

say "3. revoke by data key $((N / 10)) sessions created after a rotation, in batches of 1,000"
q -c "SELECT idsess_key_rotate()" >/dev/null
q -v lo=$((N + M + 1)) -v hi=$((N + M + N / 10)) -v mod=1 -v ticket="$ticket" -f "$here/bench/sql/load_idsess.sql" >/dev/null
q -c "VACUUM ANALYZE idsess.sessions" >/dev/null
kid=$(q -At -c "SELECT id FROM idsess.keys WHERE state = 'active'")
for form in "index only" bound; do
	bound=""
	[ "$form" = bound ] && bound="AND s.id >= (SELECT pg_catalog.min(k.id) FROM idsess.sessions k WHERE k.key_id = $kid)"
	for r in 1 2 3; do
		q -At -c "BEGIN" -c "EXPLAIN (ANALYZE, FORMAT JSON) SELECT s.id FROM idsess.sessions s WHERE s.key_id = $kid $bound ORDER BY s.id LIMIT 1000 FOR UPDATE SKIP LOCKED" -c "ROLLBACK" |
			awk -v f="$form" -v r="$r" '/"Execution Time"/ { gsub(/[^0-9.]/, "", $0); printf "a batch'"'"'s selection, %s: %.1f ms (round %d)\n", f, $0, r }' | tee -a "$out"
	done
done
: > "$W/key_batches"
while :; do
	b0=$(date +%s.%N)
	n=$(q -At -c "SELECT count(*) FROM idsess_revoke(key_id => $kid, batch => 1000, reason => 'bench key')")
	echo "$n $b0 $(date +%s.%N)" >> "$W/key_batches"
	[ "$n" -gt 0 ] || break
done
awk '{ t = $3 - $2; s += t; n++; k += $1; if (t > m) m = t }
	END { printf "revoked %d sessions in %d calls, %.1f s: %.0f ms a call on average, %.0f ms at most\n", k, n, s, 1000 * s / n, 1000 * m }' "$W/key_batches" | tee -a "$out"
echo "written to $out"
