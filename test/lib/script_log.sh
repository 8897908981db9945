# Sourced by the test/<tool>/<tool>.sh scripts (and so available to test/lib/*.sh):
# messages to stderr prefixed with the script's name, and usage from its header comment
# (lines 2 up to `set -euo pipefail`).
log() { echo "${0##*/}: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
