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

# shellcheck source=../lib/script_log.sh
. "$HERE/../lib/script_log.sh"

# shellcheck source=../lib/maven_jars.sh
. "$HERE/../lib/maven_jars.sh"

# The cache is valid for one pom.xml and one DebeziumCapture.java.
stamp() { maven_jars_stamp "$HERE/pom.xml" "$HERE/DebeziumCapture.java"; }

lib_ready() {
    maven_jars_stamped "$1" stamp &&
        compgen -G "$1/jars/debezium-connector-postgres-*.jar" >/dev/null &&
        [ -f "$1/classes/DebeziumCapture.class" ]
}

fill_lib() {
    maven_copy_dependencies "$HERE/pom.xml" "$1/jars" "$2" "the Debezium jars" || return 1
    compgen -G "$1/jars/debezium-connector-postgres-*.jar" >/dev/null || {
        log "error: maven succeeded but no debezium-connector-postgres jar"; return 1; }
    mkdir -p "$1/classes"
    javac -nowarn -d "$1/classes" -cp "$1/jars/*" "$HERE/DebeziumCapture.java" >&2 || {
        log "error: javac failed on DebeziumCapture.java"; return 1; }
}

do_fetch() {
    lib_ready "$LIB" && return 0
    command -v javac >/dev/null 2>&1 ||
        die "javac not found; install a JDK >= 17 (apt-get install -y openjdk-17-jdk-headless, see test/install-deps.sh)"
    maven_jars_fetch "$LIB" "Debezium jars" stamp lib_ready fill_lib
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
