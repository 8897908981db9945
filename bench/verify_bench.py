"""`walcast verify` benchmark: a table of SIZES rows (default "1000000 10000000") is
snapshotted to a file sink (snapshot.mode=initial_only), then verified with the default
memory budget. For each size: verify's rows/s and peak RSS, against `COPY t TO STDOUT`
(into /dev/null) of the same table in the same run as the baseline; the topic's decode
rate (one thread: read, parse, spill) and the fold's records/s per core (the bucket phase).
Rates per CPU-second are the
verify process's own CPU time (the machine may be shared). Flat peak RSS across sizes is the point: memory is bounded by verify.memory.bytes, not by
the table. Prints figures; never asserts. SIZES, BUDGET (verify.memory.bytes), THREADS;
NARROW=1 makes the table (id, a) only; SINK=kafka writes the events to a Kafka topic
(zstd-compressed: 100M rows' events fit a small disk) instead of a file.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "integration"))
from pg_server import PgServer, WALCAST_BIN  # noqa: E402
from kafka_fixture import Broker  # noqa: E402

SIZES = [int(n) for n in os.environ.get("SIZES", "1000000 10000000").split()]
BUDGET = os.environ.get("BUDGET", "")
THREADS = os.environ.get("THREADS", "")
NARROW = os.environ.get("NARROW") == "1"
KAFKA = os.environ.get("SINK", "file") == "kafka"
BINDIR = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()


def timed(cmd, capture=True):
    """(wall seconds, CPU seconds, peak RSS MB, stdout, stderr) of one command. CPU time is
    the child's own (wait4); peak RSS is its VmHWM sampled every 50 ms (rusage's maxrss
    would count the pages of the forking Python too)."""
    start = time.time()
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=out if capture else subprocess.DEVNULL, stderr=err)
    peak_kb = 0
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f"/proc/{p.pid}/status") as f:
                peak_kb = max(peak_kb, next(int(l.split()[1]) for l in f
                                            if l.startswith("VmHWM:")))
        except (OSError, StopIteration):
            pass
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - start
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} exit {p.returncode}: {stdout[-1500:]} {stderr[-1500:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024, stdout, stderr


def du(path):
    """Bytes of the files below path."""
    return sum(f.stat().st_size for f in pathlib.Path(path).rglob("*") if f.is_file())


def common(pg, slot):
    return ["--set", "database.hostname=127.0.0.1", "--set", f"database.port={pg.port}",
            "--set", "database.user=postgres", "--set", "database.dbname=postgres",
            "--set", f"slot.name={slot}", "--set", f"topic.prefix={slot}",
            "--set", "table.include.list=public\\.big"]


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="walcast-verifybench-"))
    os.chmod(work, 0o755)
    pg = PgServer(work / "pg").start()
    broker = Broker(work / "kafka").start() if KAFKA else None
    os.environ.update(PGHOST="127.0.0.1", PGPORT=str(pg.port), PGUSER="postgres",
                      PGDATABASE="postgres")
    rows_out = []
    try:
        pg.execute("CREATE EXTENSION walcast")
        for n in SIZES:
            t0 = time.time()
            pg.execute("DROP TABLE IF EXISTS big")
            if NARROW:
                pg.execute("CREATE TABLE big (id bigint PRIMARY KEY, a int)")
                pg.execute("INSERT INTO big SELECT g, g %% 1000 "
                           "FROM generate_series(1, %s::bigint) g", n)
            else:
                pg.execute("CREATE TABLE big (id bigint PRIMARY KEY, a int, b text, "
                           "c numeric(12,2), d timestamptz)")
                pg.execute("INSERT INTO big SELECT g, g %% 1000, md5(g::text) || repeat('b', "
                           "60), g * 1.25, '2024-01-01'::timestamptz + g * interval '1 s' "
                           "FROM generate_series(1, %s::bigint) g", n)
            pg.execute("VACUUM ANALYZE big")
            size = pg.execute("SELECT pg_table_size('big')")[0][0]
            events = work / f"events{n}.jsonl"
            slot = f"vb{n}"
            sink = (["--sink", "kafka", "--set", f"kafka.bootstrap.servers={broker.bootstrap}",
                     "--set", "kafka.compression.type=zstd"] if KAFKA
                    else ["--sink", f"file:{events}"])
            timed([str(WALCAST_BIN), "run", *sink, *common(pg, slot),
                   "--set", "snapshot.mode=initial_only", "--set", "log.level=warn"])
            stored = (f"Kafka topic (zstd) {du(work / 'kafka') / 1e9:.2f} GB" if KAFKA
                      else f"events file {events.stat().st_size / 1e9:.2f} GB")
            print(f"table big: {n:,} rows, {size / 1e9:.2f} GB, {stored}, built in "
                  f"{time.time() - t0:.0f} s", flush=True)

            copy_s, _, _, _, _ = timed([f"{BINDIR}/psql", "-Atc", "COPY big TO STDOUT"],
                                    capture=False)
            cmd = [str(WALCAST_BIN), "verify", *sink, *common(pg, slot),
                   "--set", "log.level=info"]
            if BUDGET:
                cmd += ["--set", f"verify.memory.bytes={BUDGET}"]
            if THREADS:
                cmd += ["--set", f"verify.threads={THREADS}"]
            secs, cpu, rss, out, err = timed(cmd)
            assert "every table matches" in out, out + err[-2000:]
            m = re.search(r"(\d+) topic records decoded in ([\d.]+) s \(([\d.]+) s CPU\); "
                          r"(\d+) bucket\(s\) folded in ([\d.]+) s \(([\d.]+) s CPU\) on (\d+) "
                          r"thread", err)
            src = re.search(r"(\d+) source rows read in ([\d.]+) s", err)
            records, decode_cpu = int(m.group(1)), float(m.group(3))
            buckets, fold_cpu, threads = int(m.group(4)), float(m.group(6)), int(m.group(7))
            rows_out.append((n, n / copy_s, n / secs, rss, buckets, n / cpu,
                             records / decode_cpu, records / fold_cpu))
            print(f"  COPY big TO STDOUT: {copy_s:.1f} s; walcast verify: {secs:.1f} s "
                  f"({cpu:.1f} s CPU), peak RSS {rss:.0f} MB, {buckets} buckets; source pass "
                  f"{src.group(2)} s, topic pass {m.group(2)} s ({decode_cpu:.1f} s CPU), "
                  f"fold {m.group(5)} s ({fold_cpu:.2f} s CPU) on {threads} threads", flush=True)
            events.unlink(missing_ok=True)
            pg.execute("SELECT pg_drop_replication_slot(%s) FROM pg_replication_slots "
                       "WHERE slot_name = %s", slot, slot)
        print("\n| rows | COPY rows/s | verify rows/s (vs COPY) | verify rows per CPU-s "
              "| peak RSS MB | buckets | topic decode records per CPU-s | fold records per CPU-s |")
        print("|---|---|---|---|---|---|---|---|")
        for n, copy_rate, rate, rss, buckets, per_cpu, decode, fold in rows_out:
            print(f"| {n:,} | {copy_rate:,.0f} | {rate:,.0f} ({rate / copy_rate:.0%}) | "
                  f"{per_cpu:,.0f} | {rss:.0f} | {buckets} | {decode:,.0f} | {fold:,.0f} |")
        if len(rows_out) > 1:
            print(f"peak RSS at {rows_out[-1][0]:,} rows / at {rows_out[0][0]:,} rows: "
                  f"{rows_out[-1][3] / rows_out[0][3]:.2f}")
    finally:
        if broker:
            broker.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
