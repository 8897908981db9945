#!/usr/bin/env bash
# `walcast verify` benchmark (see verify_bench.py); needs `make` and test/install-deps.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/test/.venv/bin/python" "$top/bench/verify_bench.py"
