#!/usr/bin/env bash
# bench/aspnetcore/run.sh [SECONDS [ROUNDS [USERS [login|tokens]]]]: the ASP.NET Core ticket
# store benchmark (Program.cs), on demand, not in CI. Starts a throwaway
# cluster like the adapters' tests (idsess preloaded, a generated master key,
# Unix socket only), runs the benchmark against it and removes the cluster.
# The report goes to stdout and to $IDSESS_BENCH_OUT when set.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${IDSESS_BENCH_OUT:-}" ]; then
	IDSESS_BENCH_OUT=$(cd "$(dirname "$IDSESS_BENCH_OUT")" && pwd)/$(basename "$IDSESS_BENCH_OUT")
	export IDSESS_BENCH_OUT
fi
bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/idsess-aspnetcore-bench.XXXXXX)
chmod 755 "$work"
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key")
if [ "$(id -u)" = 0 ]; then chown postgres "$work" "$work/master.key"; fi
stop() {
	as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap stop EXIT

as_pg "$bin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat <<CONF | as_pg tee -a "$work/data/postgresql.conf" >/dev/null
port = 5432
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$work/master.key'
idsess.databases = 'bench'
shared_buffers = 256MB
CONF
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
as_pg "$bin/psql" -X -q -h "$work" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE DATABASE bench;
\c bench
CREATE EXTENSION idsess CASCADE;
CREATE ROLE app LOGIN IN ROLE idsess_service;
GRANT CREATE ON SCHEMA public TO app;
SQL

cd "$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release -v q -nologo >/dev/null
IDSESS_BENCH_CS="Host=$work;Database=bench;Username=app;Maximum Pool Size=20" \
IDSESS_BENCH_ADMIN_CS="Host=$work;Database=bench;Username=postgres" \
	dotnet run -c Release --no-build -- "${1:-5}" "${2:-3}" "${3:-500}" "${4:-login}"
