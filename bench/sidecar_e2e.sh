#!/usr/bin/env bash
# End-to-end sidecar benchmark (see sidecar_e2e.py); needs `make` and test/install-deps.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/test/kafka/kafka.sh" fetch
exec "$top/test/.venv/bin/python" "$top/bench/sidecar_e2e.py"
