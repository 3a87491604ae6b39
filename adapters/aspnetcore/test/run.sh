#!/usr/bin/env bash
# adapters/aspnetcore/test/run.sh: restores, builds (warnings are errors),
# tests and packs Idsess.AspNetCore. The tests start their own throwaway
# PostgreSQL cluster (idsess preloaded, a generated master key, the expiry
# worker) under a temporary directory, which this script stops and removes
# on every exit path, even when the test process was killed. Packages come
# from the machine's NuGet configuration; a warm package cache needs no
# network. Exits non-zero when any step fails.
#
#   test/run.sh       PG_BINDIR selects the PostgreSQL binaries,
#                     PACK_OUT where the .nupkg goes (default: out/),
#                     IDSESS_REPOSITORY_URL the repository named in it
set -euo pipefail

pkg=$(cd "$(dirname "$0")/.." && pwd)
bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
out=${PACK_OUT:-$pkg/out}
tests=$pkg/test/Idsess.AspNetCore.Tests

command -v dotnet >/dev/null || {
	echo "adapters/aspnetcore/test/run.sh: needs the .NET 10 SDK (dotnet on PATH)" >&2
	exit 1
}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/idsess-dotnet.XXXXXX)
chmod 755 "$work"
cleanup() {
	local d
	for d in "$work"/*/data; do
		[ -f "$d/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$pkg"
dotnet restore "$tests"
dotnet build -c Release --no-restore "$tests"
log=$work/test.log
set +e
IDSESS_TEST_WORKDIR=$work PG_BINDIR=$bin timeout 900 \
	dotnet test -c Release --no-build "$tests" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E '(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -n 1 || true)
passed=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*Failed: +([0-9]+), Passed.*/\1/p' <<<"$summary")
if [ "$rc" != 0 ] && [ "${failed:-0}" = 0 ]; then failed=1; fi
echo "Idsess.AspNetCore tests: ${passed:-0} passed, ${failed:-0} failed"
[ "$rc" = 0 ] || exit "$rc"
[ "${passed:-0}" -gt 0 ] || { echo "adapters/aspnetcore/test/run.sh: no test ran" >&2; exit 1; }

repo=()
[ -z "${IDSESS_REPOSITORY_URL:-}" ] || repo=("-p:RepositoryUrl=$IDSESS_REPOSITORY_URL" "-p:PackageProjectUrl=$IDSESS_REPOSITORY_URL")
dotnet pack -c Release --no-build -o "$out" "${repo[@]}" src/Idsess.AspNetCore
version=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' src/Idsess.AspNetCore/Idsess.AspNetCore.csproj)
nupkg=$out/Idsess.AspNetCore.$version.nupkg
[ -s "$nupkg" ] || { echo "adapters/aspnetcore/test/run.sh: dotnet pack made no $nupkg" >&2; exit 1; }
echo "package: $nupkg"
