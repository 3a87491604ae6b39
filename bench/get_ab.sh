#!/usr/bin/env bash
# bench/get_ab.sh A B: idsess_get built from two git revisions (B may be
# "worktree" for the uncommitted tree), each mixed 1:1 with Duende's SELECT
# in one pgbench run, so both stores are measured at the same moment;
# alternated A, B for 3 rounds of 15 s at 1 and 2 clients, 100,000 sessions
# with bench/ticket.sh's ticket.  Prints per-script latencies and the ratio
# Duende/idsess (1.0: as fast as Duende's SELECT).  Runs in a private copy
# of the machine's PostgreSQL 15 under a temporary directory: nothing
# installed on the machine is touched.  As root (the server runs as postgres).
set -euo pipefail
[ $# = 2 ] || { echo "usage: bench/get_ab.sh REV_A REV_B|worktree" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
W=$(mktemp -d /tmp/idsess-get-ab.XXXXXX)
trap 'runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -w stop >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
mkdir -p "$W/usr/lib/postgresql" "$W/usr/share/postgresql"
cp -a /usr/lib/postgresql/15 "$W/usr/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$W/usr/share/postgresql/"
P=$W/usr/lib/postgresql/15/bin
lib=$W/usr/lib/postgresql/15/lib/idsess.so
for side in a b; do
	rev=$([ $side = a ] && echo "$1" || echo "$2")
	mkdir -p "$W/$side"
	if [ "$rev" = worktree ]; then
		tar -C "$here" --exclude=./.git --exclude='*.o' --exclude='*.bc' --exclude='*.so' -cf - . | tar -C "$W/$side" -xf -
	else
		git -C "$here" archive "$rev" | tar -C "$W/$side" -xf -
	fi
	make -C "$W/$side" -s with_llvm=no >/dev/null
	cp "$W/$side/idsess.so" "$W/$side.so"
done
make -C "$W/b" -s install with_llvm=no PG_CONFIG="$P/pg_config" >/dev/null
mkdir -p "$W/data"; chown -R postgres "$W"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/master.key"; chmod 600 "$W/master.key"; chown postgres "$W/master.key"
runuser -u postgres -- "$P/initdb" -D "$W/data" -A trust >/dev/null
cat >> "$W/data/postgresql.conf" <<CONF
port = 55991
listen_addresses = ''
unix_socket_directories = '$W'
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$W/master.key'
idsess.databases = ''
shared_buffers = 512MB
CONF
start() { cp "$W/$1.so" "$lib"; runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null; }
stop() { runuser -u postgres -- "$P/pg_ctl" -D "$W/data" -w stop >/dev/null; }
q() { runuser -u postgres -- "$P/psql" -X -q -h "$W" -p 55991 -d postgres "$@"; }
start b
# shellcheck source=bench/ticket.sh
. "$here/bench/ticket.sh"
ticket=$(bench_ticket)
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION idsess CASCADE" \
	-f "$here/bench/sql/helpers.sql" -f "$here/bench/sql/duende.sql" >/dev/null
sealed=$(q -At -v t="$ticket" <<'SQL'
BEGIN;
SELECT (idsess_create(subject_id => 'probe', ticket => :'t')).key AS k \gset
SELECT octet_length(ticket) FROM idsess.sessions WHERE key = :'k';
ROLLBACK;
SQL
)
q -At -c "SELECT bench.fill_data_pool($sealed)" >/dev/null
q -v lo=1 -v hi=100000 -v mod=1 -v ticket="$ticket" -f "$here/bench/sql/load_idsess.sql" >/dev/null
q -v lo=1 -v hi=100000 -v mod=1 -f "$here/bench/sql/load_duende.sql" >/dev/null
q -c "VACUUM ANALYZE" -c CHECKPOINT >/dev/null
stop
cp "$here/bench/pgbench/idsess_get.sql" "$here/bench/pgbench/duende_get.sql" "$W/"; chown postgres "$W"/*.sql
echo "A = $1, B = $2"
for round in 1 2 3; do
	for side in a b; do
		start $side
		for c in 1 2; do
			out=$(runuser -u postgres -- "$P/pgbench" -n -M prepared -h "$W" -p 55991 -c $c -j $c -T 15 -r \
				-D n=100000 -f "$W/idsess_get.sql" -f "$W/duende_get.sql" postgres 2>/dev/null)
			i=$(echo "$out" | awk '/SQL script 1/ {s=1} s && /latency average/ {print $5; exit}')
			d=$(echo "$out" | awk '/SQL script 2/ {s=1} s && /latency average/ {print $5; exit}')
			awk -v r=$round -v s=$side -v c=$c -v i="$i" -v d="$d" \
				'BEGIN {printf "round %d %s clients %d: idsess %s ms, Duende %s ms, ratio %.3f\n", r, toupper(s), c, i, d, d / i}'
		done
		stop
	done
done
