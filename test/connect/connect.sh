#!/usr/bin/env bash
# Throwaway Kafka Connect standalone worker for the JDBC-sink test: one JVM running
# Debezium's JDBC sink (and, for the harness self-check, Debezium's PostgreSQL source).
# Jars come from Maven Central via test/connect/pom.xml.
#
#   test/connect/connect.sh fetch            download the worker and plugin jars into the
#                                            cache (idempotent)
#   test/connect/connect.sh start <dir> <worker.properties> <connector.properties>...
#                                            start a worker whose files live in <dir>; waits
#                                            for its REST API; last stdout line is its URL
#   test/connect/connect.sh stop <dir>       SIGTERM, up to 20 s, then SIGKILL
#   test/connect/connect.sh plugin-path      the plugin.path value for worker.properties
#
# The worker.properties must set listeners=http://127.0.0.1:<port> (the REST API the
# readiness check and the tests use) and plugin.path (see plugin-path).
#
# Environment:
#   WALCAST_CONNECT_LIB            jar cache (default $HOME/.cache/walcast/connect-lib)
#   WALCAST_CONNECT_HEAP           JVM heap options (default "-Xms128m -Xmx512m")
#   WALCAST_CONNECT_START_TIMEOUT  seconds to wait for the REST API (default 90)
#   MVN                            maven command, may carry options (default mvn)
#
# Everything but the URL goes to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${WALCAST_CONNECT_LIB:-${HOME:-/tmp}/.cache/walcast/connect-lib}
HEAP=${WALCAST_CONNECT_HEAP:--Xms128m -Xmx512m}
START_TIMEOUT=${WALCAST_CONNECT_START_TIMEOUT:-90}
STOP_TIMEOUT=20
MVN=${MVN:-mvn}
# pom.xml profile -> directory under $LIB: the worker's jars are its classpath; each
# plugin's is a directory of plugin.path=$LIB/plugins (each loaded in its own class loader).
declare -A PROFILE_DIR=([worker]=worker [jdbc-sink]=plugins/jdbc-sink [pg-source]=plugins/pg-source)

# shellcheck source=../lib/script_log.sh
. "$HERE/../lib/script_log.sh"

# ---------------------------------------------------------------- fetch

# shellcheck source=../lib/maven_jars.sh
. "$HERE/../lib/maven_jars.sh"

pom_stamp() { maven_jars_stamp "$HERE/pom.xml"; }

lib_ready() {
    maven_jars_stamped "$1" pom_stamp &&
        compgen -G "$1/worker/connect-runtime-*.jar" >/dev/null &&
        compgen -G "$1/plugins/jdbc-sink/debezium-connector-jdbc-*.jar" >/dev/null &&
        compgen -G "$1/plugins/pg-source/debezium-connector-postgres-*.jar" >/dev/null
}

fill_lib() {
    local profile
    for profile in "${!PROFILE_DIR[@]}"; do
        maven_copy_dependencies "$HERE/pom.xml" "$1/${PROFILE_DIR[$profile]}" "$2" \
            "the jars of profile $profile" -P "$profile" || return 1
    done
}

do_fetch() {
    maven_jars_fetch "$LIB" "the Kafka Connect worker and Debezium's connectors" \
        pom_stamp lib_ready fill_lib
}

plugin_path() { echo "$LIB/plugins"; }

# ---------------------------------------------------------------- run

# shellcheck source=../lib/jvm_daemon.sh
. "$HERE/../lib/jvm_daemon.sh"

running_pid() { daemon_pid "$1/connect.pid" "$1/log4j.properties"; }


write_log_config() {
    local dir=$1
    cat >"$dir/log4j.properties" <<CONF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/connect.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
log4j.logger.org.reflections=ERROR
log4j.logger.org.hibernate=WARN
log4j.logger.org.apache.kafka.connect.runtime.rest.RestServer=WARN
CONF
}

do_start() {
    local dir=$1 worker=$2 url
    shift 2
    url=$(sed -n 's/^listeners=//p' "$worker" | tail -n 1)
    [[ "$url" == http://127.0.0.1:* ]] || die "$worker must set listeners=http://127.0.0.1:<port>"
    write_log_config "$dir"
    # shellcheck disable=SC2086
    daemon_launch "$dir/connect.pid" "$dir/connect.out" \
        java $HEAP -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" \
        -cp "$LIB/worker/*" org.apache.kafka.connect.cli.ConnectStandalone "$worker" "$@"
    # The REST API answers once the worker has started (and, standalone, after the
    # connectors of the command line were created).
    daemon_wait_ready "$dir/connect.pid" "Connect worker on $url" "$START_TIMEOUT" \
        "$dir/connect.log" "$dir/connect.out" curl -sf -o /dev/null "$url/connectors"
    echo "$url"
}

do_stop() { daemon_stop "$1/connect.pid" "$1/log4j.properties" worker "$STOP_TIMEOUT"; }

cmd=${1:-}
case "$cmd" in
fetch)
    do_fetch
    ;;
plugin-path)
    plugin_path
    ;;
start)
    [ $# -ge 3 ] || usage
    command -v java >/dev/null 2>&1 ||
        die "java not found; install a JRE >= 17 (apt-get install -y default-jre-headless, see test/install-deps.sh)"
    command -v curl >/dev/null 2>&1 || die "curl not found (apt-get install -y curl)"
    dir=$(abs_dir "$2")
    running_pid "$dir" >/dev/null && die "a worker is already running in $dir"
    do_fetch
    shift 2
    do_start "$dir" "$@"
    ;;
stop)
    [ $# -ge 2 ] || usage
    [ -d "$2" ] || exit 0
    do_stop "$(cd "$2" && pwd -P)"
    ;;
*)
    usage
    ;;
esac
