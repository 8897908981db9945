#!/usr/bin/env bash
# pg_regress suite of the output plugin and extension against a throwaway server
# (wal_level=logical, walcast allowed as an output plugin).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=$(mktemp -d /tmp/walcast-regress.XXXXXX)
cleanup() { test/pg_tmp.sh stop "$work" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(test/pg_tmp.sh start "$work")
mkdir -p build/regress
status=0
PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres make -s installcheck || status=$?
if [ $status -ne 0 ] && [ -f build/regress/regression.diffs ]; then
    head -200 build/regress/regression.diffs
fi
exit $status
