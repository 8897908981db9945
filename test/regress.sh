#!/usr/bin/env bash
# pg_regress suite of the output plugin and extension against a throwaway server
# (wal_level=logical, walcast allowed as an output plugin).
#   PG_CONFIG=...  the PostgreSQL to test (default: pg_config on PATH); walcast must be
#                  installed into it. Its server, psql and pg_regress are used; the
#                  results go to build/regress/<major>.
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
mkdir -p "build/regress/$major"
status=0
PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres make -s installcheck PG_CONFIG="$PG_CONFIG" || status=$?
if [ $status -ne 0 ] && [ -f "build/regress/$major/regression.diffs" ]; then
    head -200 "build/regress/$major/regression.diffs"
fi
exit $status
