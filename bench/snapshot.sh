#!/usr/bin/env bash
# Initial snapshot benchmark (see snapshot_bench.py); needs `make` and test/install-deps.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/test/kafka/kafka.sh" fetch
exec "$top/test/.venv/bin/python" "$top/bench/snapshot_bench.py"
