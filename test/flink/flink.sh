#!/usr/bin/env bash
# Flink's debezium-json format (flink-json) decoding walcast's events, for
# test/integration/test_kafka_sink_flink.py and docs/sinks/flink.md. Jars come from Maven
# Central via test/flink/pom.xml; FlinkFold.java is compiled against them.
#
#   test/flink/flink.sh fetch                  download the jars into the cache and compile
#                                              FlinkFold (idempotent)
#   test/flink/flink.sh fold <events> <out>    decode and fold the events (see FlinkFold.java)
#
# Environment:
#   WALCAST_FLINK_LIB   jar cache (default $HOME/.cache/walcast/flink-lib)
#   MVN                 maven command, may carry options (default mvn)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${WALCAST_FLINK_LIB:-${HOME:-/tmp}/.cache/walcast/flink-lib}
MVN=${MVN:-mvn}

# shellcheck source=../lib/script_log.sh
. "$HERE/../lib/script_log.sh"
# shellcheck source=../lib/maven_jars.sh
. "$HERE/../lib/maven_jars.sh"

# The cache is valid for one pom.xml and one FlinkFold.java.
stamp() { maven_jars_stamp "$HERE/pom.xml" "$HERE/FlinkFold.java"; }

lib_ready() {
    maven_jars_stamped "$1" stamp &&
        compgen -G "$1/jars/flink-json-*.jar" >/dev/null &&
        [ -f "$1/classes/FlinkFold.class" ]
}

fill_lib() {
    maven_copy_dependencies "$HERE/pom.xml" "$1/jars" "$2" "the Flink jars" || return 1
    mkdir -p "$1/classes"
    javac -nowarn -d "$1/classes" -cp "$1/jars/*" "$HERE/FlinkFold.java" >&2 || {
        log "error: javac failed on FlinkFold.java"; return 1; }
}

do_fetch() {
    lib_ready "$LIB" && return 0
    command -v javac >/dev/null 2>&1 ||
        die "javac not found; install a JDK >= 17 (see test/install-deps.sh)"
    maven_jars_fetch "$LIB" "Flink jars" stamp lib_ready fill_lib
}

case "${1:-}" in
fetch)
    do_fetch
    ;;
fold)
    [ $# -eq 3 ] || usage
    command -v java >/dev/null 2>&1 || die "java not found (see test/install-deps.sh)"
    do_fetch
    # A short-lived JVM: C1 only and serial GC start faster on a small machine.
    exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -cp "$LIB/classes:$LIB/jars/*" FlinkFold "$2" "$3"
    ;;
*)
    usage
    ;;
esac
