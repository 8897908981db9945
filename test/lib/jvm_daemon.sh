# Sourced by test/kafka/kafka.sh and test/connect/connect.sh: one background JVM per
# directory, tracked by a pid file. The sourcing script sources test/lib/script_log.sh.
#
#   abs_dir <dir>                              create <dir>, print its physical path
#   daemon_launch <pidfile> <outfile> <cmd>... start <cmd> in its own session, stdio to
#                                              <outfile>; returns once <pidfile> is written
#   daemon_pid <pidfile> <marker>              print the pid if it runs and its command line
#                                              holds <marker> (guards against pid reuse)
#   daemon_stop <pidfile> <marker> <name> <secs>  SIGTERM, up to <secs>, then SIGKILL
#   daemon_kill <pidfile> <marker> <name>      SIGKILL at once
#   daemon_log_tail <file> <lines> <outfile>   the end of a log and of the JVM's own output
#   daemon_wait_ready <pidfile> <name> <secs> <log> <outfile> <probe>...
#                                              polls <probe> until it succeeds; if the JVM
#                                              exits or <secs> pass, kills it, shows the end
#                                              of <log> and <outfile>, exits 1

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

daemon_launch() {
    local pidfile=$1 out=$2 t0=$SECONDS
    shift 2
    rm -f "$pidfile"
    echo "---- $(date '+%F %T') start" >>"$out"
    # Own session, no inherited stdio: a caller doing $(x.sh start ...) must not hang,
    # and the JVM survives the caller's terminal/process group going away. fd 9 is the
    # jar cache's lock (test/lib/maven_jars.sh).
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" \
        </dev/null >>"$out" 2>&1 9>&- &
    disown $!  # no "Killed" job notice from bash if we have to kill it
    while [ ! -s "$pidfile" ] && [ $((SECONDS - t0)) -lt 5 ]; do sleep 0.05; done
}

daemon_pid() {
    local pidfile=$1 marker=$2 pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$marker" || return 1
    echo "$pid"
}

daemon_wait_gone() {
    local pid=$1 secs=$2 t0=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        [ $((SECONDS - t0)) -ge "$secs" ] && return 1
        sleep 0.1
    done
    return 0
}

daemon_stop() {
    local pidfile=$1 marker=$2 name=$3 secs=$4 pid
    if ! pid=$(daemon_pid "$pidfile" "$marker"); then
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! daemon_wait_gone "$pid" "$secs"; then
        log "$name (pid $pid) did not stop within ${secs}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        daemon_wait_gone "$pid" 10 || die "$name (pid $pid) survives SIGKILL"
    fi
    rm -f "$pidfile"
}

daemon_kill() {
    local pidfile=$1 marker=$2 name=$3 pid
    if pid=$(daemon_pid "$pidfile" "$marker"); then
        kill -KILL "$pid" 2>/dev/null || true
        daemon_wait_gone "$pid" 10 || die "$name (pid $pid) survives SIGKILL"
    fi
    rm -f "$pidfile"
}

daemon_log_tail() {
    local file=$1 lines=$2 out=$3
    log "---- last lines of $file ----"
    tail -n "$lines" "$file" >&2 2>/dev/null || true
    if [ -s "$out" ]; then
        log "---- last lines of $out (JVM stdout/stderr) ----"
        tail -n 20 "$out" >&2
    fi
}

daemon_wait_ready() {
    local pidfile=$1 name=$2 secs=$3 logfile=$4 out=$5 t0=$SECONDS pid
    shift 5
    pid=$(cat "$pidfile" 2>/dev/null || true)
    while ! "$@"; do
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            log "error: the $name exited during startup"
            daemon_log_tail "$logfile" 40 "$out"
            exit 1
        fi
        if [ $((SECONDS - t0)) -ge "$secs" ]; then
            log "error: the $name was not ready after ${secs}s; killing it"
            kill -9 "$pid" 2>/dev/null || true
            daemon_log_tail "$logfile" 40 "$out"
            exit 1
        fi
        sleep 0.2
    done
    log "$name ready (pid $pid, $((SECONDS - t0))s)"
}
