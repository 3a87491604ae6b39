#!/usr/bin/env bash
# adapters/node-oidc-provider/test/run.sh: the adapter's end-to-end test, on
# the package as a user gets it.  `npm pack` makes the tarball; a fresh
# project (test/app: its own locked oidc-provider, pg and TypeScript,
# installed with `npm ci`) installs it with npm install, imports it with the
# README's snippet, type-checks test/types.ts against its index.d.ts
# (tsc --noEmit), and runs test/e2e.js (the real provider over loopback)
# against a throwaway PostgreSQL cluster with idsess preloaded (a private
# port, a Unix socket in a temporary directory, a generated master key,
# client details recorded for the test; database oidc11 keeps idsess 1.1).
# With --bench N it runs bench/signin.js from the folder instead (N sign-ins
# per store).
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
# The end-to-end test checks what is recorded of the client; the benchmark
# measures the store as configured by default.
if [ "$script" = test/e2e.js ]; then
	echo "idsess.record_client = ip_and_agent" | as_pg tee -a "$work/data/postgresql.conf" >/dev/null
fi
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
as_pg "$bin/psql" -X -q -h "$work" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE DATABASE oidc;
CREATE DATABASE oidc11;
\c oidc
CREATE EXTENSION idsess CASCADE;
CREATE ROLE oidc LOGIN IN ROLE idsess_service;
ALTER ROLE oidc SET search_path = public;
\c oidc11
CREATE EXTENSION idsess VERSION '1.1' CASCADE;
SQL

npm_ci() { npm ci --no-audit --no-fund --loglevel=error; }
run_dir=$pkg
if [ "$script" = test/e2e.js ]; then
	# The package as published: only what package.json's files name.
	tarball=$(cd "$pkg" && npm pack --silent --pack-destination "$work" | tail -n 1)
	app=$work/app
	mkdir "$app"
	cp "$pkg/test/app/package.json" "$pkg/test/app/package-lock.json" "$pkg/test/tsconfig.json" \
		"$pkg/test/types.ts" "$app/"
	mkdir "$app/test"
	cp "$pkg/test/e2e.js" "$pkg/test/harness.js" "$app/test/"
	(cd "$app" && npm_ci && npm install --no-save --no-audit --no-fund --loglevel=error "$work/$tarball")
	echo "installed $tarball into a fresh project"
	# The README's snippet, as written, with a stand-in for the user's own
	# adapter of the other models.
	awk '/^```js$/ { n++; if (n == 1) { on = 1; next } } /^```$/ { on = 0 } on' \
		"$app/node_modules/idsess-oidc-provider-adapter/README.md" >"$app/snippet.js"
	printf '\nexport { provider };\n' >>"$app/snippet.js"
	cat >"$app/my-adapter.js" <<'JS'
export default class MyAdapter {
	constructor(name) { this.name = name; }
}
JS
	(cd "$app" && node --input-type=module -e "
		const { provider } = await import('./snippet.js');
		if (provider.issuer !== 'https://id.example.com') throw new Error('no provider');
		console.log('the README snippet imports the package and builds a provider');")
	(cd "$app" && npx --no-install tsc --noEmit -p tsconfig.json)
	echo "index.d.ts type-checks test/types.ts (tsc --noEmit)"
	run_dir=$app
else
	cd "$pkg"
	[ -d node_modules/oidc-provider ] || npm_ci
fi
cd "$run_dir"
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
