#!/usr/bin/env bash
# adapters/node-oidc-provider/test/run.sh: the adapter's end-to-end test.
# Starts a throwaway PostgreSQL cluster with idsess preloaded (a private
# port, a Unix socket in a temporary directory, a generated master key),
# installs the package's locked dependencies with `npm ci` when they are
# missing, and runs test/e2e.js (the real provider over loopback) against it.
# With --bench N it runs bench/signin.js instead (N sign-ins per store).
#
#   test/run.sh [--bench N]     PG_BINDIR selects the PostgreSQL binaries
set -euo pipefail

pkg=$(cd "$(dirname "$0")/.." && pwd)
bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
script=test/e2e.js
args=()
if [ "${1:-}" = --bench ]; then script=bench/signin.js; args=("${2:-50}"); fi

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/idsess-oidc.XXXXXX)
chmod 755 "$work"
port=$((57000 + $(echo -n "$work" | cksum | cut -d' ' -f1) % 900))
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key")
if [ "$(id -u)" = 0 ]; then chown postgres "$work" "$work/master.key"; fi

stop() {
	as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop EXIT

as_pg "$bin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat <<CONF | as_pg tee -a "$work/data/postgresql.conf" >/dev/null
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$work/master.key'
idsess.databases = 'oidc'
idsess.expired_sessions_trigger_logout = on
idsess.max_nap = 200ms
CONF
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
as_pg "$bin/psql" -X -q -h "$work" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE DATABASE oidc;
\c oidc
CREATE EXTENSION idsess CASCADE;
CREATE ROLE oidc LOGIN IN ROLE idsess_service;
ALTER ROLE oidc SET search_path = public;
SQL

cd "$pkg"
[ -d node_modules/oidc-provider ] || npm ci --no-audit --no-fund --loglevel=error
set +e
PGHOST=$work PGPORT=$port PGDATABASE=oidc PGUSER=oidc IDSESS_ADMIN_USER=postgres \
	timeout 180 node "$script" "${args[@]}"
rc=$?
set -e
if [ $rc != 0 ]; then echo "server log: $work/server.log"; tail -n 30 "$work/server.log"; fi
stop
trap - EXIT
[ $rc = 0 ] && rm -rf "$work"
exit $rc
