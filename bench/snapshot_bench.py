"""Initial snapshot benchmark: walcast (file sink and Kafka sink) at 1, 2 and 4 readers
against raw parallel `COPY (SELECT * FROM t WHERE ctid range) TO STDOUT` at the same
parallelism (the physical limit) and `pg_dump -Fd -j N`, alternating over ROUNDS rounds
(medians: single runs vary by 2x on a shared machine); then the
TPS of a concurrent pgbench during a snapshot at default settings against without.
Prints rows/s, ratios and the sidecar's peak RSS; never asserts.
ROWS (default 5,000,000, about 1.1 GB), READERS (default "1 2 4"), ROUNDS (3), PGBENCH_SECONDS.
SINK_DIR: where the file sink writes (default /dev/shm when there is one): writing ~3.7 GB
into the disk's page cache ran anywhere between 0.5 and 3.7 GB/s from one run to the next
on this kind of machine (whatever memory the kernel had to reclaim first), which halved
the file sink's rate in some runs; tmpfs writes at a steady rate.
"""

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_lib import create_big_table, timed, walcast_cmd  # noqa: E402
from kafka_fixture import Broker, PgServer  # noqa: E402

ROWS = int(os.environ.get("ROWS", 5_000_000))
READERS = [int(n) for n in os.environ.get("READERS", "1 2 4").split()]
ROUNDS = int(os.environ.get("ROUNDS", 3))
PGBENCH_SECONDS = int(os.environ.get("PGBENCH_SECONDS", 20))
SINK_DIR = os.environ.get("SINK_DIR", "/dev/shm" if os.access("/dev/shm", os.W_OK) else "")
BINDIR = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="walcast-snapbench-"))
    os.chmod(work, 0o755)
    pg = PgServer(work / "pg").start()
    broker = Broker(work / "kafka").start()
    sinks = pathlib.Path(tempfile.mkdtemp(prefix="walcast-snapbench-sinks-",
                                          dir=SINK_DIR or work))
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(pg.port), PGUSER="postgres",
               PGDATABASE="postgres")
    os.environ.update(env)
    try:
        pg.execute("CREATE EXTENSION walcast")
        blocks = create_big_table(pg, ROWS)

        # Warm the broker up (JIT, log segments) and create the topics outside the measured
        # runs: a topic auto-created by the first produce costs over a second of waiting.
        for n in READERS:
            broker.create_topic(f"bk{n}.public.big", 1)
        pg.execute("CREATE TABLE warm AS SELECT * FROM big LIMIT 300000")
        timed([walcast_cmd(pg, "bwarm", 1, "kafka", "public\\.warm") + [
            "--set", f"kafka.bootstrap.servers={broker.bootstrap}"]])

        results = {}  # (name, readers) -> [(seconds, peak RSS MB)] over the rounds
        for round_ in range(1, ROUNDS + 1):
            for n in READERS:
                step = (blocks + n - 1) // n
                copy = [[f"{BINDIR}/psql", "-Atc",
                         f"COPY (SELECT * FROM big WHERE ctid >= '({i * step},0)' AND "
                         f"ctid < '({(i + 1) * step},0)') TO STDOUT"] for i in range(n)]
                dump_dir = work / f"dump{n}"
                dump = [[f"{BINDIR}/pg_dump", "-Fd", "-j", str(n), "-t", "big", "-f",
                         str(dump_dir)]]
                file_sink = sinks / f"events{n}.jsonl"
                runs = {
                    "raw COPY": lambda: timed(copy),
                    "pg_dump -Fd": lambda: timed(dump),
                    "walcast file": lambda: timed(
                        [walcast_cmd(pg, f"bf{n}", n, f"file:{file_sink}")]),
                    "walcast kafka": lambda: timed([walcast_cmd(pg, f"bk{n}", n, "kafka") + [
                        "--set", f"kafka.bootstrap.servers={broker.bootstrap}"]]),
                }
                for name, run in runs.items():
                    seconds, rss = run()
                    results.setdefault((name, n), []).append((seconds, rss))
                    print(f"  round {round_}, {n} reader(s) {name:14s} {seconds:7.1f} s "
                          f"{ROWS / seconds:12,.0f} rows/s  peak RSS {rss:5.0f} MB", flush=True)
                    shutil.rmtree(dump_dir, ignore_errors=True)
                    if file_sink.exists():
                        file_sink.unlink()

        def rate(name, n):
            """Rows/s of the median run."""
            return ROWS / statistics.median(sec for sec, _ in results[(name, n)])

        print(f"\nmedians of {ROUNDS} round(s):")
        print("| readers | raw COPY rows/s | pg_dump rows/s | walcast file rows/s (vs COPY) "
              "| walcast Kafka rows/s (vs COPY) |")
        print("|---:|---:|---:|---:|---:|")
        for n in READERS:
            copy_rate, dump_rate = rate("raw COPY", n), rate("pg_dump -Fd", n)
            file_rate, kafka_rate = rate("walcast file", n), rate("walcast kafka", n)
            print(f"| {n} | {copy_rate:,.0f} | {dump_rate:,.0f} | {file_rate:,.0f} "
                  f"({file_rate / copy_rate:.0%}) | {kafka_rate:,.0f} ({kafka_rate / copy_rate:.0%}) |")
        print("targets: file sink >= 70% of raw COPY, Kafka sink >= 50%")
        print("walcast peak RSS: " + ", ".join(
            f"{name.split()[1]} {n} reader(s) {max(r for _, r in results[(name, n)]):.0f} MB"
            for n in READERS for name in ("walcast file", "walcast kafka")))

        # Impact on a concurrent OLTP load, at default snapshot settings.
        subprocess.run([f"{BINDIR}/pgbench", "-i", "-q", "-s", "10"], check=True,
                       capture_output=True)

        def pgbench_tps():
            out = subprocess.run([f"{BINDIR}/pgbench", "-n", "-c", "2", "-T", str(PGBENCH_SECONDS)],
                                 capture_output=True, text=True, check=True).stdout
            return float([l for l in out.splitlines() if l.startswith("tps")][0].split()[2])
        alone = pgbench_tps()
        snap = subprocess.Popen(walcast_cmd(pg, "bp", 2, f"file:{work / 'p.jsonl'}"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        during = pgbench_tps()
        snap.wait()
        print(f"\npgbench TPS alone {alone:,.0f}, during a default snapshot {during:,.0f} "
              f"({during / alone:.0%})")
    finally:
        pg.stop()
        broker.stop()
        shutil.rmtree(sinks, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
