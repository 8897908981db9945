#!/usr/bin/env bash
# pg_regress suite and isolation specs of the output plugin and extension against a
# throwaway server (wal_level=logical, walcast allowed as an output plugin).
#   PG_CONFIG=...  the PostgreSQL to test (default: pg_config on PATH); walcast must be
#                  installed into it. Its server, psql, pg_regress and pg_isolation_regress
#                  are used; the results go to build/regress/<major> and build/isolation/<major>.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_BINDIR
PG_BINDIR=$("$PG_CONFIG" --bindir)
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
work=$(mktemp -d /tmp/walcast-regress.XXXXXX)
cleanup() { test/pg_tmp.sh stop "$work" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(test/pg_tmp.sh start "$work")
mkdir -p "build/regress/$major" "build/isolation/$major"
rm -f "build/regress/$major/regression.diffs" "build/isolation/$major/regression.diffs"
status=0
# installcheck runs the pg_regress suite (sql/), then the isolation specs (specs/).
PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres make -s installcheck PG_CONFIG="$PG_CONFIG" || status=$?
pgxs=$("$PG_CONFIG" --pgxs)
if [ ! -x "$(dirname "$pgxs")/../../src/test/isolation/pg_isolation_regress" ]; then
    echo "NOTE: isolation specs NOT run on PostgreSQL $major: its PGXS has no pg_isolation_regress"
fi
if [ $status -ne 0 ]; then
    for diffs in "build/regress/$major/regression.diffs" "build/isolation/$major/regression.diffs"; do
        if [ -f "$diffs" ]; then head -200 "$diffs"; fi
    done
fi
exit $status
