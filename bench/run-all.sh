#!/usr/bin/env bash
# All benchmarks (`make bench`). Each script starts its own throwaway server and prints
# its own results; add new benchmark scripts to the list below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

scripts=(
    plugin_decode.sh
    sidecar_e2e.sh
    snapshot.sh
    verify.sh
    incremental.sh
)

status=0
for s in "${scripts[@]}"; do
    printf '\n##### bench/%s #####\n' "$s"
    bash "$here/$s" || { echo "bench/$s failed" >&2; status=1; }
done
exit $status
