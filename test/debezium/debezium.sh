#!/usr/bin/env bash
# Debezium's PostgreSQL connector (embedded engine) as a reference for walcast's events.
# Jars come from Maven Central via test/debezium/pom.xml; DebeziumCapture.java is compiled
# against them.
#
#   test/debezium/debezium.sh fetch              download the jars into the cache and compile
#                                                DebeziumCapture (idempotent)
#   test/debezium/debezium.sh run <props>        run DebeziumCapture with an engine .properties
#                                                file (see DebeziumCapture.java for capture.* keys)
#   test/debezium/debezium.sh classpath          print the classpath
#
# Environment:
#   WALCAST_DEBEZIUM_LIB   jar cache (default $HOME/.cache/walcast/debezium-lib)
#   WALCAST_DEBEZIUM_HEAP  JVM heap options (default "-Xms128m -Xmx512m")
#   WALCAST_DEBEZIUM_LOG   slf4j-simple level for the connector's log (default warn)
#   MVN                    maven command, may carry options (default mvn)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${WALCAST_DEBEZIUM_LIB:-${HOME:-/tmp}/.cache/walcast/debezium-lib}
HEAP=${WALCAST_DEBEZIUM_HEAP:--Xms128m -Xmx512m}
MVN=${MVN:-mvn}

log() { echo "debezium.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# The cache is valid for one pom.xml and one DebeziumCapture.java.
stamp() { cat "$HERE/pom.xml" "$HERE/DebeziumCapture.java" | cksum | awk '{print $1 "-" $2}'; }

lib_ready() {
    [ -f "$LIB/.complete" ] && [ "$(cat "$LIB/.complete")" = "$(stamp)" ] &&
        compgen -G "$LIB/jars/debezium-connector-postgres-*.jar" >/dev/null &&
        [ -f "$LIB/classes/DebeziumCapture.class" ]
}

do_fetch() {
    lib_ready && return 0
    command -v "${MVN%% *}" >/dev/null 2>&1 ||
        die "maven ('$MVN') not found; install it (apt-get install -y maven, see test/install-deps.sh)"
    command -v javac >/dev/null 2>&1 ||
        die "javac not found; install a JDK >= 17 (apt-get install -y openjdk-17-jdk-headless, see test/install-deps.sh)"
    mkdir -p "$(dirname "$LIB")"
    # Serialise concurrent fetches on one lock.
    exec 9>"$LIB.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if lib_ready; then exec 9>&-; return 0; fi

    local tmp="$LIB.tmp.$$" mvnlog="$LIB.mvn.log"
    rm -rf "$tmp"
    mkdir -p "$tmp/classes"
    log "fetching Debezium jars from Maven Central into $LIB"
    # shellcheck disable=SC2086  # MVN may carry options
    if ! $MVN -B -q -Dstyle.color=never -f "$HERE/pom.xml" \
            org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
            -DoutputDirectory="$tmp/jars" >"$mvnlog" 2>&1; then
        rm -rf "$tmp"
        log "error: maven failed to fetch the Debezium jars (full log: $mvnlog):"
        tail -n 30 "$mvnlog" | sed 's/\x1b\[[0-9;]*m//g' >&2
        exec 9>&-
        exit 1
    fi
    compgen -G "$tmp/jars/debezium-connector-postgres-*.jar" >/dev/null || {
        rm -rf "$tmp"; exec 9>&-; die "maven succeeded but no debezium-connector-postgres jar"; }
    if ! javac -nowarn -d "$tmp/classes" -cp "$tmp/jars/*" "$HERE/DebeziumCapture.java" >&2; then
        rm -rf "$tmp"; exec 9>&-; die "javac failed on DebeziumCapture.java"
    fi
    stamp >"$tmp/.complete"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    exec 9>&-
    log "fetched $(find "$LIB/jars" -name '*.jar' | wc -l) jars ($(du -sh "$LIB" | cut -f1))"
}

classpath() { echo "$LIB/classes:$LIB/jars/*"; }

cmd=${1:-}
case "$cmd" in
fetch)
    do_fetch
    ;;
classpath)
    do_fetch
    classpath
    ;;
run)
    [ $# -eq 2 ] || usage
    command -v java >/dev/null 2>&1 || die "java not found (see test/install-deps.sh)"
    do_fetch
    # A short-lived JVM: C1 only and serial GC start faster on a small machine.
    # shellcheck disable=SC2086
    exec java $HEAP -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
        -Dorg.slf4j.simpleLogger.defaultLogLevel="${WALCAST_DEBEZIUM_LOG:-warn}" \
        -Dorg.slf4j.simpleLogger.showDateTime=true \
        -cp "$(classpath)" DebeziumCapture "$2"
    ;;
*)
    usage
    ;;
esac
