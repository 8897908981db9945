#!/usr/bin/env bash
# walcast on an embedded default: installs what it needs, builds, starts a throwaway
# PostgreSQL, creates a small demo table, streams its changes to a file (or to Kafka
# when KAFKA_BOOTSTRAP is set) with the walcast sidecar while a short load runs, and
# prints the events. Nothing outside a temp directory is touched; it is removed at exit
# unless KEEP=1.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

out=${1:-$top/build/demo-events.jsonl}
mkdir -p "$(dirname "$out")"
bash test/install-deps.sh
make -s -j2 >/dev/null && make -s install >/dev/null

work=$(mktemp -d /tmp/walcast-demo.XXXXXX)
sidecar_pid=""
cleanup() {
    [ -n "$sidecar_pid" ] && kill "$sidecar_pid" 2>/dev/null && wait "$sidecar_pid" 2>/dev/null || true
    test/pg_tmp.sh stop "$work" >/dev/null 2>&1 || true
    [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

port=$(test/pg_tmp.sh start "$work")
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
echo "walcast demo: throwaway PostgreSQL on port $port"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION walcast;
CREATE TABLE customers (id int PRIMARY KEY, name text, balance numeric(12,2),
                        signed_up timestamptz DEFAULT now(), tags text[]);
-- Rows that exist before walcast starts arrive through the initial snapshot (op "r").
INSERT INTO customers (id, name, balance, tags) VALUES (100, 'existing', 99.5, ARRAY['seed']);
SQL

if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
    sink=(--sink kafka --set "kafka.bootstrap.servers=$KAFKA_BOOTSTRAP")
else
    : >"$out"
    sink=(--sink "file:$out")
fi
"$top/sidecar/build/walcast" run --set database.hostname=127.0.0.1 --set "database.port=$port" \
    --set database.user=postgres --set database.dbname=postgres \
    --set slot.name=demo --set topic.prefix=demo --set snapshot.mode=initial "${sink[@]}" &
sidecar_pid=$!

# Wait until the sidecar has created its slot, then write some changes.
for _ in $(seq 1 50); do
    [ "$(psql -Atc "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'demo' AND active")" = 1 ] && break
    sleep 0.2
done
psql -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO customers (id, name, balance, tags)
SELECT g, 'customer ' || g, g * 10.5, ARRAY['demo', 'batch-' || (g % 3)] FROM generate_series(1, 5) g;
UPDATE customers SET balance = balance + 1 WHERE id <= 2;
UPDATE customers SET id = 50 WHERE id = 5;
DELETE FROM customers WHERE id = 3;
SQL
target=$(psql -Atc "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
    done_=$(psql -Atc "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'demo'")
    [ "$done_" = t ] && break
    sleep 0.2
done
kill -TERM "$sidecar_pid"; wait "$sidecar_pid" || true; sidecar_pid=""

if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
    echo "walcast demo: $(wc -l <"$out") records in $out:"
    cat "$out"
fi
psql -c "SELECT slot_name, confirmed_flush_lsn, lag_bytes, retained_wal_bytes, wal_status FROM walcast.slot_status()"
