#!/usr/bin/env bash
# Throwaway PostgreSQL instances for tests, benchmarks and the demo.
#   test/pg_tmp.sh start <datadir> [port]   -> prints the port; server runs as an unprivileged user
#   test/pg_tmp.sh stop <datadir>
#   test/pg_tmp.sh restart <datadir> [fast|immediate]   (immediate: a crash, then recovery)
#   test/pg_tmp.sh kill <datadir>            (immediate shutdown, like a crash)
# initdb refuses to run as root, so under root the cluster belongs to $WALCAST_PG_USER (postgres).
set -euo pipefail

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}
PG_USER=${WALCAST_PG_USER:-postgres}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# output_plugin_libraries exists only on patched minor releases; setting it elsewhere
# stops the server from starting.
plugin_allowlist_conf() {
    local described
    described=$("$PG_BINDIR/postgres" --describe-config 2>/dev/null || true)
    if grep -q '^output_plugin_libraries' <<<"$described"; then
        echo "output_plugin_libraries = 'pgoutput, test_decoding, walcast, wal2json'"
    fi
}

cmd=${1:?usage: pg_tmp.sh start|stop|restart|kill <datadir> [port]}
dir=${2:?datadir required}

case "$cmd" in
start)
    port=${3:-$(free_port)}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown "$PG_USER" "$dir"
    as_owner "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 100
fsync = off
full_page_writes = off
shared_buffers = 256MB
max_wal_size = 4GB
logical_decoding_work_mem = 64MB
wal_sender_timeout = 60s
$(plugin_allowlist_conf)
CONF
    echo "host replication all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
    as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "$port"
    ;;
stop) as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
restart) as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m "${3:-fast}" -w -t 120 \
    restart >/dev/null ;;
kill) as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
