#!/usr/bin/env bash
# bench/governance.sh: what issue 38's devices and activity cost.
#
#  1. Touch with activity recording on (idsess.record_client = ip_and_agent,
#     the default idsess.activity_granularity), against the touch of 1.0 with
#     recording off: pgbench, alternating rounds, the median of each.
#  2. Bytes per session with every 1.2 column used (absolute lifetime,
#     acr/amr/auth_time, IP, user agent, device, last_seen), against a
#     session with none of them: the heap per row and pg_column_size.
#
# Runs a throwaway cluster under $WORK (as postgres when started as root)
# with the idsess installed for $PGBIN's PostgreSQL; writes
# bench/results/governance.tsv and prints it.  N sessions (default 100000),
# ROUNDS rounds (3) of RUN_SECONDS seconds (10) with CLIENTS clients (2).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
N=${N:-100000}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${RUN_SECONDS:-10}
CLIENTS=${CLIENTS:-2}
PORT=${PORT:-55461}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$(mktemp -d /tmp/idsess-governance.XXXXXX)}
OUT=${OUT:-$HERE/results/governance.tsv}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$WORK"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/master.key"
chmod 600 "$WORK/master.key"
cp "$HERE"/pgbench/idsess_touch_plain.sql "$HERE"/pgbench/idsess_touch_activity.sql "$WORK/"
[ "$(id -u)" = 0 ] && chown -R postgres "$WORK"
as_pg "$PGBIN/initdb" -D "$WORK/data" -A trust >/dev/null
cat >> "$WORK/data/postgresql.conf" <<CONF
port = $PORT
unix_socket_directories = '$WORK'
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$WORK/master.key'
idsess.databases = 'postgres'
shared_buffers = 256MB
# The cost of the statement, not of the disk's flush (both touches commit
# the same way).
synchronous_commit = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -w stop -m fast >/dev/null; rm -rf "$WORK"' EXIT
export PGOPTIONS='-c client_min_messages=warning'
psql() { as_pg "$PGBIN/psql" -h "$WORK" -p "$PORT" -X -q -v ON_ERROR_STOP=1 -At postgres "$@"; }

psql -c "CREATE EXTENSION idsess CASCADE"
# A ticket of the size Duende's cookie handler saves (about 1.5 kB of JSON).
psql -c "SELECT count(*) FROM generate_series(1, $N) i,
  LATERAL idsess_create('user-' || i % 20000, repeat('{\"claim\":\"value ' || i || '\"}', 60), key => 'g-' || i,
                        expires => now() + interval '1 day')"
psql -c "VACUUM ANALYZE idsess.sessions"

run() {
	as_pg "$PGBIN/pgbench" -h "$WORK" -p "$PORT" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" \
		-T "$SECONDS_PER_RUN" -D n="$N" -f "$WORK/$1" postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
set_recording() {
	psql -c "ALTER SYSTEM SET idsess.record_client = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
}

# Every session has a client recorded once, as after its sign-in.
set_recording ip_and_agent
run idsess_touch_activity.sql >/dev/null
plain=(); activity=()
for r in $(seq 1 "$ROUNDS"); do
	set_recording off
	plain+=("$(run idsess_touch_plain.sql)")
	set_recording ip_and_agent
	activity+=("$(run idsess_touch_activity.sql)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p=$(median "${plain[@]}"); a=$(median "${activity[@]}")
hot=$(psql -c "SELECT round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1), 1) FROM pg_stat_user_tables
               WHERE relid = 'idsess.sessions'::regclass")

# Bytes per session: a table of sessions without the 1.2 columns and one
# with all of them used, each written once and vacuumed.
set_recording ip_and_agent
bytes() {
	psql -c "SELECT idsess_delete_sessions(subject_id => 'b-' || i) FROM generate_series(1, 2) i" >/dev/null
	psql -c "SELECT count(*) FROM generate_series(1, 10000) i,
	  LATERAL idsess_create('b-' || (i % 2 + 1), repeat('{\"claim\":\"value ' || i || '\"}', 60), key => 'b-' || i $1)" >/dev/null
	psql -c "SELECT round(avg(pg_column_size(s.*) - pg_column_size(s.ticket))), round(avg(pg_column_size(s.*)))
	         FROM idsess.sessions s WHERE key LIKE 'b-%'" | tr '|' '\t'
}
none=$(bytes "")
all=$(bytes ", max_lifetime => '8 hours', acr => 'urn:mace:incommon:iap:silver', amr => ARRAY['pwd', 'otp'],
              auth_time => now(), client_ip => ('2001:db8:' || to_hex(i) || '::1')::inet,
              user_agent => 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
              device => 'Firefox on Linux'")

{
	printf 'measure\tvalue\n'
	printf 'touch_1_0_tps_median\t%s\n' "$p"
	printf 'touch_recording_tps_median\t%s\n' "$a"
	printf 'touch_recording_cost_ratio\t%s\n' "$(awk -v p="$p" -v a="$a" 'BEGIN {printf "%.3f", p / a}')"
	printf 'touch_rounds_1_0\t%s\n' "${plain[*]}"
	printf 'touch_rounds_recording\t%s\n' "${activity[*]}"
	printf 'hot_update_percent\t%s\n' "$hot"
	printf 'row_bytes_without_ticket_none\t%s\n' "$(cut -f1 <<<"$none")"
	printf 'row_bytes_without_ticket_all_1_2_columns\t%s\n' "$(cut -f1 <<<"$all")"
	printf 'row_bytes_none\t%s\n' "$(cut -f2 <<<"$none")"
	printf 'row_bytes_all_1_2_columns\t%s\n' "$(cut -f2 <<<"$all")"
	printf 'sessions\t%s\nclients\t%s\nseconds_per_round\t%s\nrounds\t%s\n' "$N" "$CLIENTS" "$SECONDS_PER_RUN" "$ROUNDS"
} > "$OUT"
cat "$OUT"
