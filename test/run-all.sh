#!/usr/bin/env bash
# The whole walcast test suite, from a fresh machine: installs dependencies, builds,
# installs, then runs the pg_regress suite, the sidecar's unit tests and the
# integration tests against a real PostgreSQL and a real Kafka broker.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

section() { printf '\n=== %s ===\n' "$*"; }

section "dependencies"
bash test/install-deps.sh

section "build and install"
make -s -j2
make -s install >/dev/null

section "plugin and extension (pg_regress)"
bash test/regress.sh

if [ -x sidecar/build/walcast_tests ]; then
    section "sidecar unit tests (GoogleTest)"
    (cd sidecar/build && ctest --output-on-failure)
fi

if [ -d test/integration ]; then
    section "integration tests (PostgreSQL + Kafka)"
    bash test/kafka/kafka.sh fetch
    WALCAST_BIN="$top/sidecar/build/walcast" test/.venv/bin/python -m pytest -q test/integration
fi
