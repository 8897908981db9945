#!/usr/bin/env bash
# Decoding speed of walcast against pgoutput, wal2json (format 2) and test_decoding, and
# the cost of Connect schemas: walcast_frames (format=frames, what the sidecar asks for)
# against walcast_frames_schemas (the same with schemas=true, as with
# key/value.converter.schemas.enable).
#
#   bash bench/plugin_decode.sh            (or: make bench)
#
# One workload of >= 1M row changes (one big transaction of ROWS inserts, then TXNS small
# transactions of 15 changes each: 7 inserts, 5 updates, 3 deletes) is decoded by
# pg_recvlogical through every plugin from the same starting point: copies of one slot
# made before the workload (pg_copy_logical_replication_slot can change the plugin of a
# copy). Plugins alternate within a round and the order rotates between rounds. Prints
# every run, medians, ratios, output size, events/s, walsender memory while walcast
# decodes the big transaction, optionally a perf profile of walcast's walsender, and a
# Markdown summary for the README. Never asserts on time: exits non-zero only when
# something fails to run.
#
# Environment:
#   ROUNDS=5         timed rounds (each decodes the workload once per plugin)
#   ROWS=500000      rows of the big transaction
#   TXNS=40000       small transactions (15 row changes each)
#   BIG=0            1: also decode a separate BIG_ROWS-row transaction through walcast and
#                    report walsender memory (flatness check); BIG_ROWS=10000000
#   PERF=auto        1/0: perf record walcast's walsender (auto: when perf works)
#   QUIET_WAIT=15    before each timed run wait up to this many seconds for the rest of
#                    the machine to be idle (0: don't); each run prints the CPU others
#                    used meanwhile, as a noise indicator
#   HOST=            server address for pg_recvlogical; default the Unix socket,
#                    HOST=127.0.0.1 for TCP
#   PLUGINS="walcast pgoutput wal2json test_decoding walcast_frames walcast_frames_schemas"
#                    (walcast_* variants: the walcast plugin with other options;
#                    walcast_frames_decstring: frames with decimal.handling.mode=string,
#                    what the sink recipes of docs/sinks/ use; not in the default list)
#   KEEP=0           1: keep the temporary server and its directory
#   BENCH_SUMMARY=   also write the Markdown summary to this file
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
ROUNDS=${ROUNDS:-5}
ROWS=${ROWS:-500000}
TXNS=${TXNS:-40000}
BIG=${BIG:-0}
BIG_ROWS=${BIG_ROWS:-10000000}
PERF=${PERF:-auto}
PLUGINS=(${PLUGINS:-walcast pgoutput wal2json test_decoding walcast_frames walcast_frames_schemas})
KEEP=${KEEP:-0}
QUIET_WAIT=${QUIET_WAIT:-15}
PUB=bench_pub
DB=bench

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s ==\n' "$*"; }
die() { printf 'plugin_decode: %s\n' "$*" >&2; exit 1; }

for tool in pg_recvlogical psql createdb python3; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

work=$(mktemp -d /tmp/walcast-bench.XXXXXX)
chmod 755 "$work"
pgdir=$work/pg
started=0
cleanup() {
    if [ "$started" = 1 ]; then
        if [ "$KEEP" = 1 ]; then
            say "(kept: server in $pgdir, port $(cat "$pgdir/port"); stop with: test/pg_tmp.sh stop $pgdir)"
            return
        fi
        bash "$top/test/pg_tmp.sh" stop "$pgdir" || true
    fi
    [ "$KEEP" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

section "setup"
port=$(bash "$top/test/pg_tmp.sh" start "$pgdir")
started=1
host=${HOST:-$pgdir}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$port" -U postgres)
q() { "${PSQL[@]}" -At -d "$DB" -c "$1"; }

# Enough slots for every copy (a decoded copy is consumed), and no autovacuum: its
# workers would add noise and their CPU would be counted as the walsender's (see
# decode_run.py).
nslots=$(( ${#PLUGINS[@]} * (ROUNDS + 1) + 8 ))
"${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET max_replication_slots = $nslots" \
    -c "ALTER SYSTEM SET autovacuum = off" >/dev/null
bash "$top/test/pg_tmp.sh" restart "$pgdir"
pm=$(head -1 "$pgdir/data/postmaster.pid")
createdb -h "$pgdir" -p "$port" -U postgres "$DB"

server_version=$(q "SHOW server_version")
ldwm=$(q "SHOW logical_decoding_work_mem")
say "PostgreSQL $server_version on port $port (connection: ${HOST:-unix socket}), logical_decoding_work_mem=$ldwm"
say "$(nproc) CPUs; rounds=$ROUNDS rows=$ROWS txns=$TXNS plugins: ${PLUGINS[*]}"
wal2json_version=$(dpkg-query -W -f '${Version}' postgresql-15-wal2json 2>/dev/null || echo "?")
say "wal2json package $wal2json_version; walcast from $top ($(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'))"

"${PSQL[@]}" -d "$DB" -f "$here/schema.sql" >/dev/null
q "SELECT pg_create_logical_replication_slot('bench_src', 'test_decoding')" >/dev/null
start_lsn=$(q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'bench_src'")

# Copies for every timed run, plus one per plugin for the size round, one for the memory
# run and one for the profile, all made before anything is decoded.
# The output plugin of a run's name: walcast_* variants are walcast with other options.
plugin_of() { case $1 in walcast_*) echo walcast ;; *) echo "$1" ;; esac; }
copy_slot() { q "SELECT pg_copy_logical_replication_slot('bench_src', '$1', false, '$(plugin_of "$2")')" >/dev/null; }
for ((r = 0; r <= ROUNDS; r++)); do
    for p in "${PLUGINS[@]}"; do copy_slot "r${r}_$p" "$p"; done
done
copy_slot mem_walcast walcast
copy_slot perf_walcast walcast
q "SELECT pg_drop_replication_slot('bench_src')" >/dev/null

section "workload"
t0=$(date +%s.%N)
"${PSQL[@]}" -d "$DB" -v rows="$ROWS" -v txns="$TXNS" -f "$here/workload.sql" >/dev/null
end_lsn=$(q "SELECT pg_current_wal_lsn()")
t1=$(date +%s.%N)
"${PSQL[@]}" -d "$DB" -c "CHECKPOINT" >/dev/null
wal_bytes=$(q "SELECT pg_wal_lsn_diff('$end_lsn', '$start_lsn')")
say "generated in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s: $ROWS-row transaction + $TXNS small transactions, WAL $start_lsn .. $end_lsn ($((wal_bytes / 1048576)) MB)"

plugin_opts() {
    case $1 in
        wal2json) echo "-o format-version=2" ;;
        pgoutput) echo "-o proto_version=1 -o publication_names=$PUB" ;;
        walcast_frames) echo "-o format=frames" ;;
        walcast_frames_schemas) echo "-o format=frames -o schemas=true" ;;
        walcast_frames_decstring) echo "-o format=frames -o decimal.handling.mode=string" ;;
        *) echo "" ;;
    esac
}
recv() {  # recv SLOT PLUGIN OUTFILE
    # shellcheck disable=SC2046
    echo pg_recvlogical -h "$host" -p "$port" -U postgres -d "$DB" --slot "$1" --start \
        -E "$end_lsn" --no-loop $(plugin_opts "$2") -f "$3"
}

results=$work/results.tsv
: >"$results"
failed=0

# Untimed: output size and event count per plugin (piped into a counter).
section "output size (untimed round)"
for p in "${PLUGINS[@]}"; do
    if [ "$p" = test_decoding ]; then
        read -r bytes events < <($(recv "r0_$p" "$p" -) | LC_ALL=C awk '{b += length($0) + 1} /^table /{n++} END {print b + 0, n + 0}') || true
        say "$(printf '%-14s %12s bytes  (%s row events)' "$p" "$bytes" "$events")"
        printf 'size\t%s\t%s\t%s\n' "$p" "$bytes" "$events" >>"$results"
    else
        bytes=$($(recv "r0_$p" "$p" -) | wc -c) || true
        say "$(printf '%-14s %12s bytes' "$p" "$bytes")"
        printf 'size\t%s\t%s\t\n' "$p" "$bytes" >>"$results"
    fi
    [ "${bytes:-0}" -gt 0 ] || { say "  !! $p produced no output"; failed=1; }
done

section "timed decodes ($ROUNDS rounds, output to /dev/null)"
n=${#PLUGINS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do
        p=${PLUGINS[$(((i + r - 1) % n))]}
        # shellcheck disable=SC2046
        if res=$(python3 "$here/decode_run.py" --postmaster "$pm" --quiet-wait "$QUIET_WAIT" -- $(recv "r${r}_$p" "$p" /dev/null)); then :; fi
        line=$(python3 - "$res" "$r" "$p" <<'EOF'
import json, sys
res = json.loads(sys.argv[1] or "{}")
r, p = sys.argv[2], sys.argv[3]
mb = lambda kb: "?" if kb is None else f"{kb / 1024:.0f}"
print(f"round {r}  {p:<14} wall {res.get('wall_s', 0):6.2f} s  walsender cpu {res.get('ws_cpu_s') or 0:5.2f} s"
      f"  client cpu {res.get('client_cpu_s', 0):5.2f} s  walsender RssAnon {mb(res.get('anon_start_kb'))} -> {mb(res.get('anon_peak_kb'))} MB"
      + f"   (others used {res.get('other_cpu_s', 0):4.1f} cpu-s, steal {res.get('steal_s', 0):3.1f} s"
      + (f", waited {res['waited_s']:.0f} s for quiet" if res.get("waited_s", 0) >= 2 else "") + ")"
      + ("" if res.get("rc") == 0 else f"   FAILED rc={res.get('rc')}"))
EOF
)
        say "$line"
        printf 'run\t%s\t%s\t%s\n' "$r" "$p" "$res" >>"$results"
        case $line in *FAILED*) failed=1 ;; esac
    done
done

# check_rc JSON LABEL: note a failed decode (and show the server log's tail).
check_rc() {
    local rc
    rc=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1] or "{}").get("rc"))' "$1" 2>/dev/null || echo "?")
    if [ "$rc" != 0 ]; then
        say "!! $2: pg_recvlogical failed (rc=$rc); server log:"
        tail -15 "$pgdir/server.log" | sed 's/^/   /'
        failed=1
    fi
}

# Walsender memory over the big transaction, sampled every 20 ms.
mem_run() {  # mem_run SLOT LABEL ROWS END_LSN
    local tl=$work/timeline_$1.txt res
    # shellcheck disable=SC2046
    res=$(python3 "$here/decode_run.py" --postmaster "$pm" --sample-ms 20 --timeline "$tl" -- \
        pg_recvlogical -h "$host" -p "$port" -U postgres -d "$DB" --slot "$1" --start -E "$4" --no-loop -f /dev/null)
    printf 'mem\t%s\t%s\t%s\n' "$2" "$3" "$res" >>"$results"
    python3 - "$res" "$tl" "$2" <<'EOF'
import json, sys
res = json.loads(sys.argv[1])
rows = [l.split() for l in open(sys.argv[2])]
mb = lambda kb: f"{int(kb) / 1024:.0f} MB"
print(f"{sys.argv[3]}: wall {res['wall_s']:.1f} s, {len(rows)} samples; walsender RssAnon start {mb(res['anon_start_kb'])}, "
      f"peak {mb(res['anon_peak_kb'])}; VmRSS start {mb(res['rss_start_kb'])}, peak {mb(res['rss_peak_kb'])} (VmHWM {mb(res['hwm_kb'])})"
      f"  (others used {res.get('other_cpu_s', 0):.1f} cpu-s)")
if rows:
    marks = [rows[min(len(rows) - 1, int(len(rows) * f))] for f in (0, .1, .25, .5, .75, .9)] + [rows[-1]]
    print("  RssAnon over the run: " + ", ".join(f"{float(t):.1f}s {int(a) / 1024:.0f}MB" for t, a, _ in marks))
EOF
    check_rc "$res" "$2"
}

section "walsender memory while walcast decodes the workload (the $ROWS-row transaction comes first)"
mem_run mem_walcast "workload (first its big transaction)" "$ROWS" "$end_lsn" || failed=1


if [ "$PERF" = auto ]; then
    if command -v perf >/dev/null && perf record -q -e cpu-clock -o "$work/perf.probe" true >/dev/null 2>&1; then
        PERF=1
    else
        PERF=0
    fi
fi
if [ "$PERF" = 1 ]; then
    section "perf profile of walcast's walsender (cpu-clock, self time, top 30)"
    # shellcheck disable=SC2046
    res=$(python3 "$here/decode_run.py" --postmaster "$pm" --perf "$work/perf.data" -- \
        $(recv perf_walcast walcast /dev/null)) || failed=1
    check_rc "$res" "perf run"
    if [ -s "$work/perf.data" ]; then
        # (|| true: head closing the pipe must not stop the script under pipefail)
        { perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso,symbol 2>/dev/null |
            grep '%' | grep -v '^#' | sed -e 's/[[:space:]-]*$//' | head -30; } || true
        say ""
        say "by shared object:"
        { perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso 2>/dev/null |
            grep '%' | grep -v '^#' | sed -e 's/[[:space:]-]*$//' | head -8; } || true
        say ""
        say "named user-space functions, children-inclusive (top 25; postgres has no frame pointers, so partial):"
        { perf report -i "$work/perf.data" --stdio --children -g none --sort symbol 2>/dev/null |
            grep '%' | grep -v '^#' | grep -v -e '\[k\]' -e '0x0000' -e 'PostgresMain' -e 'PostmasterMain' \
                -e 'libc_start' -e ' main$' -e 'exec_replication_command' |
            sed -e 's/[[:space:]-]*$//' | head -25; } || true
        [ "$KEEP" = 1 ] && say "(perf data: $work/perf.data)"
    else
        say "perf produced no data"
    fi
fi

if [ "$BIG" = 1 ]; then
    section "walsender memory while walcast decodes one $BIG_ROWS-row transaction"
    q "CREATE TABLE bench_huge (LIKE bench_big INCLUDING ALL)"
    q "SELECT pg_create_logical_replication_slot('big_walcast', 'walcast')" >/dev/null
    t0=$(date +%s.%N)
    sed -e 's/INSERT INTO bench_big/INSERT INTO bench_huge/' -e '/^CALL/d' "$here/workload.sql" >"$work/huge.sql"
    "${PSQL[@]}" -d "$DB" -v rows="$BIG_ROWS" -v txns=0 -f "$work/huge.sql" >/dev/null
    big_end=$(q "SELECT pg_current_wal_lsn()")
    say "generated in $(printf '%.0f' "$(echo "$(date +%s.%N) - $t0" | bc)") s"
    "${PSQL[@]}" -d "$DB" -c "CHECKPOINT" >/dev/null
    mem_run big_walcast "separate big transaction" "$BIG_ROWS" "$big_end" || failed=1
fi

section "summary"
python3 "$here/summarize.py" "$results" "$ROWS" "$TXNS" "$ROUNDS" "$server_version" "${HOST:-unix socket}" \
    | tee "${BENCH_SUMMARY:-/dev/null}"

if [ "$failed" != 0 ]; then
    die "some runs failed (see above)"
fi
