#!/usr/bin/env bash
# Incremental snapshot benchmark against the initial snapshot and Debezium's (see
# incremental_bench.py); needs `make`, test/install-deps.sh and a JDK for Debezium.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${DEBEZIUM:-1}" = 0 ] || bash "$top/test/debezium/debezium.sh" fetch
[ "${SINK:-file}" != kafka ] || bash "$top/test/kafka/kafka.sh" fetch
exec "$top/test/.venv/bin/python" "$top/bench/incremental_bench.py"
