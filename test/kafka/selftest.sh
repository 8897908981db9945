#!/usr/bin/env bash
# Self-test of test/kafka/kafka.sh: start, produce/consume with kcat, stop, restart on the
# same port, consume again, crash (SIGKILL), stay down, restart, consume, stop.
#   test/kafka/selftest.sh [down_seconds]     (default 20)
# Prints timings and a closing "N passed, N failed" line; exit 0 only when all passed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
K="$HERE/kafka.sh"
DOWN=${1:-20}
dir=$(mktemp -d "${TMPDIR:-/tmp}/walcast-kafka-selftest.XXXXXX")
passed=0 failed=0

cleanup() {
    "$K" kill "$dir" >/dev/null 2>&1 || true
    if [ "$failed" -eq 0 ]; then rm -rf "$dir"; else echo "selftest: broker dir kept: $dir" >&2; fi
}
trap cleanup EXIT

check() { # name expected actual
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); echo "ok   $1"
    else
        failed=$((failed + 1)); echo "FAIL $1: expected [$2] got [$3]"
    fi
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}'; }
consume() { timeout 30 kcat -b "$1" -t t1 -C -e -q -o beginning | tr '\n' ' ' | sed 's/ $//'; }

"$K" fetch

t=$(now); b=$("$K" start "$dir"); echo "start (format + boot): $(since "$t") -> $b"
check "bootstrap file" "$b" "$(cat "$dir/bootstrap")"
check "status" "$b" "$("$K" status "$dir")"
printf 'm1\nm2\nm3\n' | timeout 30 kcat -b "$b" -t t1 -P
check "consume after produce" "m1 m2 m3" "$(consume "$b")"

t=$(now); "$K" stop "$dir"; echo "stop: $(since "$t")"
check "stopped" "1" "$("$K" status "$dir" >/dev/null 2>&1; echo $?)"

t=$(now); b2=$("$K" restart "$dir"); echo "restart after clean stop: $(since "$t")"
check "same port after restart" "$b" "$b2"
check "data kept after restart" "m1 m2 m3" "$(consume "$b2")"
printf 'm4\n' | timeout 30 kcat -b "$b2" -t t1 -P

"$K" kill "$dir"
check "killed" "1" "$("$K" status "$dir" >/dev/null 2>&1; echo $?)"
echo "broker down for ${DOWN}s"
sleep "$DOWN"
t=$(now); b3=$("$K" restart "$dir"); echo "restart after SIGKILL: $(since "$t")"
check "same port after crash" "$b" "$b3"
check "data kept after crash" "m1 m2 m3 m4" "$(consume "$b3")"

t=$(now); "$K" stop "$dir"; echo "stop: $(since "$t")"
check "stopped at end" "1" "$("$K" status "$dir" >/dev/null 2>&1; echo $?)"

echo "kafka-selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
