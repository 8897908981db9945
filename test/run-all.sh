#!/usr/bin/env bash
# The whole walcast test suite, from a fresh machine: installs dependencies, builds and
# installs walcast into each tested PostgreSQL (the system's pg_config, 15 on Debian
# bookworm, and 18 from PyPI: test/pg_versions.sh), then runs on each the pg_regress suite
# and the integration tests against a real PostgreSQL and a real Kafka broker, compiles the
# plugin against the headers of 14, 16 and 17, runs the sidecar's unit tests, and ends
# with one result line per PostgreSQL major.
#
#   WALCAST_PG_MAJORS="15 18"   the majors to build, install and run (default: both)
#
# The Kafka sink's tests (test_kafka_*) and the fault campaign (test_fault_campaign*) run on
# the first major only: they exercise the sidecar, the sink and the broker for minutes, not
# what differs between PostgreSQL versions; every other test runs on every major.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

section() { printf '\n=== %s ===\n' "$*"; }
logs=build/test-logs
rm -rf "$logs"
mkdir -p "$logs"
started=$SECONDS

# run LOG CMD...: the command's output to the terminal and to $logs/LOG; its exit status.
run() {
    local log=$logs/$1
    shift
    "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

section "dependencies"
bash test/install-deps.sh || exit 1

declare -A pg_config_of=(
    [15]=${PG_CONFIG:-pg_config}
    [18]=$(test/pg_versions.sh pg_config 18)
)
read -r -a majors <<<"${WALCAST_PG_MAJORS:-15 18}"

section "build and install (sidecar; plugin for PostgreSQL ${majors[*]})"
make -s sidecar || exit 1
for major in "${majors[@]}"; do
    config=${pg_config_of[$major]:?no PostgreSQL $major here (test/pg_versions.sh tested)}
    if [ "$major" = 15 ]; then
        # The system PostgreSQL builds in the tree (what `make && make install` does).
        make -s -j2 PG_CONFIG="$config" && make -s install PG_CONFIG="$config" >/dev/null
    else
        # Its own directory, so no object of another major is mixed in.
        mkdir -p "build/pg$major" &&
            make -s -j2 -C "build/pg$major" -f ../../Makefile PG_CONFIG="$config" &&
            make -s -C "build/pg$major" -f ../../Makefile PG_CONFIG="$config" install >/dev/null
    fi || { echo "walcast: the plugin does not build for PostgreSQL $major" >&2; exit 1; }
done

section "plugin against the headers of PostgreSQL $(test/pg_versions.sh compiled) (compile only)"
run compile.log bash test/check_versions.sh
compile_status=$?

declare -A regress_status version_of
for major in "${majors[@]}"; do
    config=${pg_config_of[$major]}
    version_of[$major]=$("$config" --version | awk '{print $2}')
    section "plugin and extension on PostgreSQL ${version_of[$major]} (pg_regress)"
    run "regress-$major.log" env PG_CONFIG="$config" bash test/regress.sh
    regress_status[$major]=$?
done

unit_status=0
if [ -x sidecar/build/walcast_tests ]; then
    section "sidecar unit tests (GoogleTest)"
    run unit.log bash -c 'cd sidecar/build && ctest --output-on-failure'
    unit_status=$?
fi

declare -A integration_status no_tls
if [ -d test/integration ]; then
    bash test/kafka/kafka.sh fetch || exit 1
    # Debezium's connector, the reference of test_debezium_conformance.py (runs on every major).
    bash test/debezium/debezium.sh fetch || exit 1
    # The Kafka Connect worker and Debezium's JDBC sink of test_kafka_jdbc_sink.py
    bash test/connect/connect.sh fetch || exit 1
    # flink-json, which decodes walcast's events in test_kafka_sink_flink.py
    bash test/flink/flink.sh fetch || exit 1
    first=1
    for major in "${majors[@]}"; do
        config=${pg_config_of[$major]}
        selection=(test/integration)
        [ $first = 1 ] || selection+=(--ignore-glob='*/test_kafka_*' --ignore-glob='*/test_fault_campaign*')
        first=0
        # Tests that turn TLS on in the server (named *tls*) need one built with OpenSSL,
        # which PyPI's 18 is not ("SSL is not supported by this build").
        no_tls[$major]=""
        if ! "$config" --configure | grep -qE -- "--with-(openssl|ssl)"; then
            selection+=(-k "not tls")
            no_tls[$major]=1
        fi
        section "integration tests on PostgreSQL ${version_of[$major]} (PostgreSQL + Kafka)"
        run "integration-$major.log" env PYTHONUNBUFFERED=1 PG_BINDIR="$("$config" --bindir)" WALCAST_PG_MAJOR="$major" \
            WALCAST_BIN="$top/sidecar/build/walcast" \
            test/.venv/bin/python -m pytest -q -p no:cacheprovider "${selection[@]}"
        integration_status[$major]=$?
    done
fi

# README's commands, verbatim, against a throwaway PostgreSQL 15 (the system's, whose
# plugin make installed above) and Kafka broker; walcast from a staging `make install`.
readme_status=""
if [[ " ${majors[*]} " == *" 15 "* ]]; then
    section "README path (test/readme_path.py)"
    run readme.log env PG_BINDIR="$("${pg_config_of[15]}" --bindir)" test/.venv/bin/python test/readme_path.py
    readme_status=$?
fi

# The counts of each runner's closing lines, summed into the last line.
passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

# "passed failed skipped" of a pytest log's closing line (failed counts errors too).
pytest_counts() {
    local line
    line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped)' "$1" | tail -1)
    of() { grep -oE "[0-9]+ $1" <<<"$line" | grep -oE '[0-9]+' || echo 0; }
    echo "$(of passed) $(($(of failed) + $(of 'errors?'))) $(of skipped)"
}

# pg_regress and pg_isolation_regress: "All N tests passed." or "M of N tests failed."
# (PostgreSQL 18 prefixes "# "), one such line per suite, summed.
regress_counts() {
    local p=0 f=0 n m
    while read -r n; do p=$((p + n)); done < <(grep -oE 'All [0-9]+ tests passed' "$1" | grep -oE '[0-9]+')
    while read -r m n; do
        p=$((p + n - m))
        f=$((f + m))
    done < <(grep -oE '[0-9]+ of [0-9]+ tests failed' "$1" | sed -E 's/ of / /; s/ tests failed//')
    [ $((p + f)) -gt 0 ] || f=1 # no closing line: the suite did not run
    echo "$p $f"
}

section "summary"
for major in "${majors[@]}"; do
    read -r rp rf < <(regress_counts "$logs/regress-$major.log")
    count "$rp" "$rf"
    if [ "${regress_status[$major]}" = 0 ]; then
        line="regress ok ($rp tests)"
    else
        line="regress FAILED ($rf of $((rp + rf)) tests)"
    fi
    if [ -n "${integration_status[$major]:-}" ]; then
        read -r ip if is < <(pytest_counts "$logs/integration-$major.log")
        count "$ip" "$if"
        if [ "${integration_status[$major]}" = 0 ]; then
            line+=", integration $ip passed"
        else
            line+=", integration FAILED ($ip passed, $if failed)"
        fi
        [ "$is" = 0 ] || line+=", $is skipped"
        [ "$major" = "${majors[0]}" ] || line+=" (Kafka sink and fault campaign on ${majors[0]} only)"
        [ -z "${no_tls[$major]}" ] || line+=" (no TLS tests: server built without SSL)"
    fi
    echo "PostgreSQL ${version_of[$major]}: $line"
done
grep -E '^PostgreSQL .*: plugin (compiles|does not compile)' "$logs/compile.log" | sed 's/$/, not run/'
count "$(grep -c 'plugin compiles' "$logs/compile.log")" "$(grep -c 'does not compile' "$logs/compile.log")"
[ "$compile_status" = 0 ] || grep -q 'does not compile' "$logs/compile.log" || count 0 1
if [ -f "$logs/unit.log" ]; then
    total=$(grep -oE 'tests failed out of [0-9]+' "$logs/unit.log" | grep -oE '[0-9]+$' || echo 0)
    ufailed=$(grep -oE '[0-9]+ tests failed out of' "$logs/unit.log" | grep -oE '^[0-9]+' || echo 1)
    count "$((total - ufailed))" "$ufailed"
    echo "sidecar unit tests: $((total - ufailed)) passed, $ufailed failed"
fi
if [ -n "$readme_status" ]; then
    if [ "$readme_status" = 0 ]; then count 1 0; echo "README path: ok"; else count 0 1; echo "README path: FAILED"; fi
fi
echo "make test took $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"

status=0
for s in "$compile_status" "$unit_status" "${regress_status[@]}" "${integration_status[@]}" ${readme_status:+"$readme_status"}; do
    [ "$s" = 0 ] || status=1
done
echo "total: $passed passed, $failed failed"
exit $status
