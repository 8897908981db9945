#!/usr/bin/env bash
# Throwaway single-node Apache Kafka broker (KRaft, broker+controller in one JVM)
# for tests and benchmarks. Jars come from Maven Central via test/kafka/pom.xml.
#
#   test/kafka/kafka.sh fetch                    download the broker jars into the cache (idempotent)
#   test/kafka/kafka.sh start <datadir> [port]   format a new broker in <datadir> and start it;
#                                                last stdout line is the bootstrap, 127.0.0.1:<port>
#   test/kafka/kafka.sh stop <datadir>           SIGTERM, up to 20 s, then SIGKILL
#   test/kafka/kafka.sh kill <datadir>           SIGKILL at once (a crash)
#   test/kafka/kafka.sh restart <datadir>        stop if running, start again on the same ports
#                                                with the existing data (no reformat)
#   test/kafka/kafka.sh status <datadir>         exit 0 and print the bootstrap if running
#
# Environment:
#   WALCAST_KAFKA_LIB            jar cache (default $HOME/.cache/walcast/kafka-lib)
#   WALCAST_KAFKA_HEAP           JVM heap options (default "-Xms256m -Xmx512m")
#   WALCAST_KAFKA_JVM_OPTS       extra JVM options
#   WALCAST_KAFKA_CONFIG         extra server.properties lines, appended at start
#   WALCAST_KAFKA_START_TIMEOUT  seconds to wait for readiness (default 60)
#   WALCAST_KAFKA_STOP_TIMEOUT   seconds stop waits before SIGKILL (default 20)
#   MVN                          maven command, may carry options (default mvn)
#
# Everything but the bootstrap address goes to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${WALCAST_KAFKA_LIB:-${HOME:-/tmp}/.cache/walcast/kafka-lib}
HEAP=${WALCAST_KAFKA_HEAP:--Xms256m -Xmx512m}
START_TIMEOUT=${WALCAST_KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${WALCAST_KAFKA_STOP_TIMEOUT:-20}
MVN=${MVN:-mvn}

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- fetch

pom_stamp() { cksum <"$HERE/pom.xml" | awk '{print $1 "-" $2}'; }

lib_ready() {
    [ -f "$LIB/.complete" ] && [ "$(cat "$LIB/.complete")" = "$(pom_stamp)" ] &&
        compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null
}

do_fetch() {
    lib_ready && return 0
    command -v "${MVN%% *}" >/dev/null 2>&1 ||
        die "maven ('$MVN') not found; install it (apt-get install -y maven, see test/install-deps.sh)"
    mkdir -p "$(dirname "$LIB")"
    # Serialise concurrent fetches (parallel tests) on one lock.
    local lockfile="$LIB.lock"
    exec 9>"$lockfile"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if lib_ready; then exec 9>&-; return 0; fi

    local tmp="$LIB.tmp.$$" mvnlog="$LIB.mvn.log"
    rm -rf "$tmp"
    log "fetching Kafka broker jars from Maven Central into $LIB"
    # shellcheck disable=SC2086  # MVN may carry options
    if ! $MVN -B -q -Dstyle.color=never -f "$HERE/pom.xml" \
            org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
            -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
        rm -rf "$tmp"
        log "error: maven failed to fetch the Kafka jars (full log: $mvnlog):"
        tail -n 30 "$mvnlog" | sed 's/\x1b\[[0-9;]*m//g' >&2
        exec 9>&-
        exit 1
    fi
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || {
        rm -rf "$tmp"; exec 9>&-; die "maven succeeded but no kafka_2.13 jar in $tmp"; }
    pom_stamp >"$tmp/.complete"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    exec 9>&-
    log "fetched $(find "$LIB" -name '*.jar' | wc -l) jars ($(du -sh "$LIB" | cut -f1))"
}

# ---------------------------------------------------------------- helpers

need_tools() {
    command -v java >/dev/null 2>&1 ||
        die "java not found; install a JRE >= 11 (apt-get install -y default-jre-headless, see test/install-deps.sh)"
    command -v kcat >/dev/null 2>&1 ||
        die "kcat not found; install it (apt-get install -y kcat, see test/install-deps.sh)"
}

port_in_use() {
    # bash's /dev/tcp: a successful connect means something listens there
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
        return
    fi
    local p i
    for i in $(seq 1 100); do
        p=$((20000 + RANDOM % 30000))
        port_in_use "$p" || { echo "$p"; return; }
    done
    die "no free port found"
}

# Kafka-style random UUID: 16 random bytes, base64url without padding (22 chars).
random_uuid() {
    local u
    while :; do
        u=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        # Kafka rejects ids starting with '-' on the command line parser side; avoid them.
        case "$u" in -*) continue ;; esac
        echo "$u"; return
    done
}

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

prop() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

# pid of the broker of <dir> if it is running (guards against pid reuse)
running_pid() {
    local dir=$1 pid
    [ -f "$dir/kafka.pid" ] || return 1
    pid=$(cat "$dir/kafka.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/server.properties" || return 1
    echo "$pid"
}

show_log_tail() {
    local dir=$1
    log "---- last lines of $dir/broker.log ----"
    tail -n 40 "$dir/broker.log" >&2 2>/dev/null || true
    if [ -s "$dir/kafka.out" ]; then
        log "---- last lines of $dir/kafka.out (JVM stdout/stderr) ----"
        tail -n 20 "$dir/kafka.out" >&2
    fi
}

write_config() {
    local dir=$1 port=$2 cport=$3
    cat >"$dir/server.properties" <<CONF
# generated by test/kafka/kafka.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a SIGKILL the controller keeps the dead broker's registration until its
# session expires (default 9 s) before the restarted broker may register again.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=268435456
CONF
    if [ -n "${WALCAST_KAFKA_CONFIG:-}" ]; then
        printf '%s\n' "# from WALCAST_KAFKA_CONFIG" "$WALCAST_KAFKA_CONFIG" >>"$dir/server.properties"
    fi

    cat >"$dir/log4j.properties" <<CONF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$dir/broker.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.org.apache.zookeeper=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
CONF

    # StorageTool: warnings and errors only, to its stderr (format.log)
    cat >"$dir/log4j-tool.properties" <<CONF
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
CONF
}

classpath() { echo "$LIB/*"; }

jvm_opts() {
    local dir=$1
    # shellcheck disable=SC2086
    echo $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$dir" \
        ${WALCAST_KAFKA_JVM_OPTS:-}
}

format_storage() {
    local dir=$1 cluster_id
    cluster_id=$(random_uuid)
    echo "$cluster_id" >"$dir/cluster.id"
    # A short-lived tool: C1 only and serial GC halve its JVM startup (~2.5 s -> ~1.2 s).
    if ! java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
            -Dlog4j.configuration="file:$dir/log4j-tool.properties" \
            -cp "$(classpath)" kafka.tools.StorageTool format \
            -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
        log "error: kafka.tools.StorageTool format failed:"
        cat "$dir/format.log" >&2
        exit 1
    fi
}

launch() {
    local dir=$1
    local cport port
    port=$(cat "$dir/port")
    cport=$(cat "$dir/controller.port")
    port_in_use "$port" && die "port $port is already in use; cannot start the broker of $dir"
    port_in_use "$cport" && die "controller port $cport is already in use; cannot start the broker of $dir"
    rm -f "$dir/kafka.pid"
    echo "---- $(date '+%F %T') start" >>"$dir/kafka.out"
    # Own session, no inherited stdio: a caller doing $(kafka.sh start ...) must not hang,
    # and the broker survives the caller's terminal/process group going away.
    # shellcheck disable=SC2046
    setsid bash -c 'echo $$ >"$1/kafka.pid"; shift; exec "$@"' _ "$dir" \
        java $(jvm_opts "$dir") -cp "$(classpath)" kafka.Kafka "$dir/server.properties" \
        </dev/null >>"$dir/kafka.out" 2>&1 9>&- &
    disown $!  # no "Killed" job notice from bash if we have to kill it
    local t0=$SECONDS
    while [ ! -s "$dir/kafka.pid" ] && [ $((SECONDS - t0)) -lt 5 ]; do sleep 0.05; done
    wait_ready "$dir" "$port"
}

broker_ready() {
    local port=$1 md
    md=$(timeout 10 kcat -b "127.0.0.1:$port" -L -m 5 2>/dev/null) || return 1
    grep -q "broker 1 at 127.0.0.1:$port" <<<"$md"
}

wait_ready() {
    local dir=$1 port=$2 t0=$SECONDS pid
    pid=$(cat "$dir/kafka.pid" 2>/dev/null || true)
    while :; do
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            log "error: the broker process exited during startup"
            show_log_tail "$dir"
            exit 1
        fi
        if port_in_use "$port" && broker_ready "$port"; then
            break
        fi
        if [ $((SECONDS - t0)) -ge "$START_TIMEOUT" ]; then
            log "error: broker not ready on 127.0.0.1:$port after ${START_TIMEOUT}s; killing it"
            kill -9 "$pid" 2>/dev/null || true
            show_log_tail "$dir"
            exit 1
        fi
        sleep 0.2
    done
    echo "127.0.0.1:$port" >"$dir/bootstrap"
    log "broker ready on 127.0.0.1:$port (pid $pid, $((SECONDS - t0))s)"
    echo "127.0.0.1:$port"
}

wait_gone() {
    local pid=$1 secs=$2 t0=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        [ $((SECONDS - t0)) -ge "$secs" ] && return 1
        sleep 0.1
    done
    return 0
}

do_stop() {
    local dir=$1 pid
    if ! pid=$(running_pid "$dir"); then
        rm -f "$dir/kafka.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
        log "broker (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "broker (pid $pid) survives SIGKILL"
    fi
    rm -f "$dir/kafka.pid"
}

do_kill() {
    local dir=$1 pid
    if pid=$(running_pid "$dir"); then
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "broker (pid $pid) survives SIGKILL"
    fi
    rm -f "$dir/kafka.pid"
}

# ---------------------------------------------------------------- main

cmd=${1:-}
case "$cmd" in
fetch)
    do_fetch
    ;;
start)
    [ $# -ge 2 ] || usage
    need_tools
    dir=$(abs_dir "$2")
    if running_pid "$dir" >/dev/null; then
        die "a broker is already running in $dir (use stop, or restart)"
    fi
    [ -e "$dir/data/meta.properties" ] &&
        die "$dir already holds a formatted broker; use 'restart' to reuse it, or remove the directory"
    do_fetch
    port=${3:-$(free_port)}
    port_in_use "$port" && die "port $port is already in use"
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    echo "$port" >"$dir/port"
    echo "$cport" >"$dir/controller.port"
    rm -f "$dir/bootstrap"
    write_config "$dir" "$port" "$cport"
    format_storage "$dir"
    launch "$dir"
    ;;
restart)
    [ $# -ge 2 ] || usage
    need_tools
    dir=$(abs_dir "$2")
    [ -f "$dir/server.properties" ] && [ -f "$dir/port" ] && [ -e "$dir/data/meta.properties" ] ||
        die "$dir holds no broker; use 'start' first"
    do_fetch
    do_stop "$dir"
    launch "$dir"
    ;;
stop)
    [ $# -ge 2 ] || usage
    [ -d "$2" ] || exit 0
    do_stop "$(cd "$2" && pwd -P)"
    ;;
kill)
    [ $# -ge 2 ] || usage
    [ -d "$2" ] || exit 0
    do_kill "$(cd "$2" && pwd -P)"
    ;;
status)
    [ $# -ge 2 ] || usage
    dir=$(cd "$2" 2>/dev/null && pwd -P) || exit 1
    running_pid "$dir" >/dev/null || { log "not running"; exit 1; }
    cat "$dir/bootstrap" 2>/dev/null || echo "127.0.0.1:$(cat "$dir/port")"
    ;;
*)
    usage
    ;;
esac
