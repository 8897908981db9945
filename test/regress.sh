#!/usr/bin/env bash
# pg_regress suite and isolation specs of the output plugin and extension against a
# throwaway server (wal_level=logical, walcast allowed as an output plugin).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=$(mktemp -d /tmp/walcast-regress.XXXXXX)
cleanup() { test/pg_tmp.sh stop "$work" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(test/pg_tmp.sh start "$work")
mkdir -p build/regress build/isolation
rm -f build/regress/regression.diffs build/isolation/regression.diffs
status=0
# installcheck runs the pg_regress suite (sql/), then the isolation specs (specs/).
PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres make -s installcheck || status=$?
pgxs=$("${PG_CONFIG:-pg_config}" --pgxs)
if [ ! -x "$(dirname "$pgxs")/../../src/test/isolation/pg_isolation_regress" ]; then
    echo "NOTE: isolation specs NOT run: this PostgreSQL's PGXS has no pg_isolation_regress"
fi
if [ $status -ne 0 ]; then
    for diffs in build/regress/regression.diffs build/isolation/regression.diffs; do
        if [ -f "$diffs" ]; then head -200 "$diffs"; fi
    done
fi
exit $status
