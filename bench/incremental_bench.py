"""Incremental snapshot benchmark, one table, one run; walcast writes to its file sink
(SINK=kafka: to a Kafka broker of this machine), Debezium's embedded engine to a file:

(a) walcast's initial snapshot (`walcast run`, fresh slot, snapshot.mode=initial_only)
    at snapshot.max.threads 1, 2 (the default) and 4;
(b) walcast's incremental snapshot: a sidecar already streaming, then
    `SELECT walcast.execute_snapshot(ARRAY['public.big'])`, timed from the call to the
    sidecar's "done" line (logged once the sink confirmed the last chunk), at
    snapshot.max.threads 1, 2 and 4; then once more with a tail on the sink for (d) (on two
    cores the tail's CPU would slow the timed run);
(c) Debezium 3.6.1's incremental snapshot of the same table (embedded engine,
    test/debezium/DebeziumCapture writing the same JSON lines as walcast's file sink): an
    execute-snapshot row in its signal table, timed from that commit to the last op r row
    with source.snapshot "incremental" (the tail is its only completion signal; at its
    rate the tail costs it little);
(d) during (b) and (c), a steady load of CHANGES_PER_S inserts a second on another table,
    and its commit-to-delivery p50/p99 (arrival in the sink file, or the broker's append
    time, minus source.ts_ms).

Both sides read chunks of the same size (CHUNKS, default 1024: the default of both).
Prints rows/s, the ratios incremental / initial (target >= 0.5) and walcast incremental
/ Debezium incremental (target >= 5) and the stream's p99; never asserts.
Medians of ROUNDS alternating rounds (single runs vary by 2x on a shared machine).
ROWS (default 1,000,000), CHUNKS ("1024"), THREADS ("1 2 4"), CHANGES_PER_S (2000),
ROUNDS (3), SINK (file), DEBEZIUM=0 skips (c). SINK_DIR: where the sink files of all
runs go (default /dev/shm when there is one): on this kind of machine writing a fresh
file into the disk's page cache ran anywhere between 0.5 and 3.7 GB/s from one run to
the next (whatever memory the kernel had to reclaim first), which swung single runs by
a second; tmpfs writes at a steady rate, the same for every run.
"""

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_lib import ROOT, create_big_table, timed, walcast_cmd  # noqa: E402
from conftest import Sidecar  # noqa: E402
from kafka_fixture import Broker  # noqa: E402
from pg_server import PgServer  # noqa: E402
from stream_probe import KafkaTail, SinkTail, SteadyWriter, percentile  # noqa: E402

ROWS = int(os.environ.get("ROWS", 1_000_000))
CHUNKS = [int(n) for n in os.environ.get("CHUNKS", "1024").split()]
THREADS = [int(n) for n in os.environ.get("THREADS", "1 2 4").split()]
CHANGES_PER_S = int(os.environ.get("CHANGES_PER_S", 2000))
DEBEZIUM = os.environ.get("DEBEZIUM", "1") != "0"
ROUNDS = int(os.environ.get("ROUNDS", 3))
SINK = os.environ.get("SINK", "file")
TIMEOUT_S = int(os.environ.get("TIMEOUT_S", 1800))
SINK_DIR = os.environ.get("SINK_DIR", "/dev/shm" if os.access("/dev/shm", os.W_OK) else "")


def wait_streaming(pg, tail, alive, what, timeout=120):
    """Commits a row to the streamed table until the sink shows one: the capture streams."""
    deadline = time.time() + timeout
    while not tail.streamed:
        if not alive():
            raise RuntimeError(f"{what} ended before streaming")
        if time.time() > deadline:
            raise RuntimeError(f"{what} did not stream within {timeout} s")
        pg.execute("INSERT INTO other (v) VALUES (0)")
        time.sleep(0.5)


def measure(pg, tail, alive, what, ask, wait_done=None):
    """Runs `ask` (the snapshot request) under the steady write load; returns
    (seconds from the request to the last snapshot row, stream latencies in ms).
    wait_done(asked): when the snapshot ended (default: the tail counted every row)."""
    writer = SteadyWriter(pg, "other", CHANGES_PER_S)
    writer.start()
    try:
        wait_streaming(pg, tail, alive, what)
        time.sleep(1)  # the load settles before the snapshot starts
        asked = time.time()
        ask()
        done = wait_done(asked) if wait_done else tail.wait_reads(ROWS, TIMEOUT_S, alive)
    finally:
        writer.stop()
    return done - asked, tail.latencies_ms(asked, done)


def create_topics(broker, prefix):
    """The run's topics, made before it (auto-creation costs a second of the measured
    time), stamped with the broker's append time (the delivery time of a record)."""
    from confluent_kafka.admin import NewTopic
    topics = [f"{prefix}.public.big", f"{prefix}.public.other"]
    admin = broker.admin()  # kept alive until the futures resolve
    for f in admin.create_topics([NewTopic(t, 1, 1, config={
            "message.timestamp.type": "LogAppendTime"}) for t in topics]).values():
        f.result(30)


def wait_done_line(s, asked):
    """When the sidecar logged the table's "done" line (once the sink confirmed every
    chunk)."""
    deadline = asked + TIMEOUT_S
    while "incremental snapshot of public.big done" not in s.log_path.read_text(errors="replace"):
        if not s.alive() or time.time() > deadline:
            raise RuntimeError(f"the incremental snapshot did not finish: {s.log_tail()}")
        time.sleep(0.05)
    return time.time()


def measure_quiet(pg, s):
    """Seconds from the request to the sidecar's "done" line, under the steady write load
    and with no tail reading the sink: a tail costs a core-fraction that the 2-core
    machine takes from the snapshot."""
    writer = SteadyWriter(pg, "other", CHANGES_PER_S)
    writer.start()
    try:
        time.sleep(1)
        asked = time.time()
        pg.execute("SELECT walcast.execute_snapshot(ARRAY['public.big'])")
        return wait_done_line(s, asked) - asked
    finally:
        writer.stop()


def walcast_incremental(pg, broker, work, chunk, threads, with_tail):
    """(seconds, stream latencies): with_tail measures latencies through a sink tail,
    else the time alone (measure_quiet)."""
    slot = f"wi{chunk}_{threads}_{len(list(work.glob('wi*.properties')))}"
    props = {"table.include.list": "public\\.(big|other)",
             "incremental.snapshot.chunk.size": chunk, "snapshot.max.threads": threads,
             "log.level": "info"}
    if broker:
        create_topics(broker, slot)
        props.update({"sink": "kafka", "kafka.bootstrap.servers": broker.bootstrap})
    s = Sidecar(work, pg, slot, props).start()
    if not with_tail:
        try:
            return measure_quiet(pg, s), None
        finally:
            s.terminate()
            pg.execute("SELECT pg_drop_replication_slot(%s)", slot)
            s.out.unlink(missing_ok=True)
    # The sidecar says when it is done: the tail only looks for the streamed table.
    topics = (f"{slot}.public.big", f"{slot}.public.other")
    tail = (KafkaTail(broker.bootstrap, *topics, count_reads=False) if broker
            else SinkTail(s.out, *topics, count_reads=False))
    tail.start()
    try:
        return measure(pg, tail, s.alive, "walcast",
                       lambda: pg.execute("SELECT walcast.execute_snapshot(ARRAY['public.big'])"),
                       lambda asked: wait_done_line(s, asked))
    finally:
        tail.stop()
        s.terminate()
        pg.execute("SELECT pg_drop_replication_slot(%s)", slot)
        s.out.unlink(missing_ok=True)


def debezium_incremental(pg, work, chunk):
    slot = f"dbz{chunk}_{len(list(work.glob('dbz*.properties')))}"
    out = work / f"{slot}.jsonl"
    props = {
        "name": slot,
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "offset.storage": "org.apache.kafka.connect.storage.MemoryOffsetBackingStore",
        "offset.flush.interval.ms": "0",
        "database.hostname": "127.0.0.1", "database.port": str(pg.port),
        "database.user": "postgres", "database.password": "", "database.dbname": "postgres",
        "plugin.name": "pgoutput", "slot.name": slot, "slot.drop.on.stop": "true",
        "publication.name": f"{slot}_pub", "publication.autocreate.mode": "filtered",
        "topic.prefix": slot, "snapshot.mode": "no_data",
        "table.include.list": "public.big,public.other,public.dbz_signal",
        "signal.data.collection": "public.dbz_signal",
        "incremental.snapshot.chunk.size": str(chunk),
        "capture.out.schemaless": str(out),
        "capture.timeout.ms": str(TIMEOUT_S * 1000 * 2),
    }
    config = work / f"{slot}.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    log = open(work / f"{slot}.log", "wb")
    proc = subprocess.Popen(["bash", str(ROOT / "test/debezium/debezium.sh"), "run", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    tail = SinkTail(out, f"{slot}.public.big", f"{slot}.public.other",
                    read_marks=(b'"op":"r"', b'"snapshot":"incremental"'))
    tail.start()
    signal = ("INSERT INTO dbz_signal VALUES (%s, 'execute-snapshot', "
              "'{\"data-collections\": [\"public.big\"], \"type\": \"incremental\"}')")
    try:
        return measure(pg, tail, lambda: proc.poll() is None, "Debezium",
                       lambda: pg.execute(signal, slot))
    except Exception:
        log.flush()
        print((work / f"{slot}.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        tail.stop()
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        out.unlink(missing_ok=True)


def main():
    base = pathlib.Path(tempfile.mkdtemp(prefix="walcast-incrbench-"))
    os.chmod(base, 0o755)
    # The sidecars' and Debezium's files (sinks, settings, logs); the server stays in base.
    work = pathlib.Path(tempfile.mkdtemp(prefix="walcast-incrbench-sinks-", dir=SINK_DIR or base))
    os.chmod(work, 0o755)
    pg = PgServer(base / "pg").start()
    broker = Broker(base / "kafka").start() if SINK == "kafka" else None
    try:
        pg.execute("CREATE EXTENSION walcast")
        create_big_table(pg, ROWS)
        pg.execute("CREATE TABLE other (id bigserial PRIMARY KEY, v int)")
        pg.execute("CREATE TABLE dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) "
                   "NOT NULL, data text)")

        # Warm-up: the table in the page cache, the binaries and the JIT-less paths run
        # once, outside the measured runs.
        def initial_cmd(slot, threads):
            if not broker:
                return walcast_cmd(pg, slot, threads, f"file:{work / 'initial.jsonl'}")
            create_topics(broker, slot)
            return walcast_cmd(pg, slot, threads, "kafka") + [
                "--set", f"kafka.bootstrap.servers={broker.bootstrap}"]

        timed([initial_cmd("warm", 1)])
        (work / "initial.jsonl").unlink(missing_ok=True)

        seconds = {}  # run name -> [seconds per round]
        latencies = {}  # run name -> stream latencies (ms) of all rounds

        def record(name, secs, lat=None):
            seconds.setdefault(name, []).append(secs)
            stream = ""
            if lat is not None:
                latencies.setdefault(name, []).extend(lat)
                stream = (f", stream p50 {percentile(lat, 0.5):.0f} ms, p99 "
                          f"{percentile(lat, 0.99):.0f} ms, max {max(lat, default=0):.0f} ms")
            print(f"  round {round_}: {name}: {secs:.1f} s{stream}", flush=True)

        for round_ in range(1, ROUNDS + 1):
            for threads in THREADS:
                secs, _ = timed([initial_cmd(f"wa{round_}_{threads}", threads)])
                (work / "initial.jsonl").unlink(missing_ok=True)
                record(f"walcast initial, {threads} thread(s)", secs)
            for chunk in CHUNKS:
                for threads in THREADS:
                    secs, _ = walcast_incremental(pg, broker, work, chunk, threads, False)
                    _, lat = walcast_incremental(pg, broker, work, chunk, threads, True)
                    record(f"walcast incremental, chunk {chunk}, {threads} thread(s)", secs, lat)
                if DEBEZIUM:
                    record(f"Debezium 3.6.1 incremental, chunk {chunk}",
                           *debezium_incremental(pg, work, chunk))

        print(f"\n{ROWS:,} rows; walcast's sink: {SINK}, Debezium's: file (files in {work.parent}); "
              f"{CHANGES_PER_S:,} changes/s on another table "
              f"during the incremental snapshots; medians of {ROUNDS} round(s), stream "
              f"latencies of all rounds")
        print("| run | seconds | rows/s | stream p50 ms | stream p99 ms |")
        print("|---|---:|---:|---:|---:|")
        rate = {}
        for name, secs in seconds.items():
            median = statistics.median(secs)
            rate[name] = ROWS / median
            lat = latencies.get(name)
            p = (f"{percentile(lat, 0.5):.0f} | {percentile(lat, 0.99):.0f}" if lat
                 else " | ")
            print(f"| {name} | {median:.1f} | {rate[name]:,.0f} | {p} |")
        print()
        for chunk in CHUNKS:
            dbz = rate.get(f"Debezium 3.6.1 incremental, chunk {chunk}")
            for threads in THREADS:
                incr = rate[f"walcast incremental, chunk {chunk}, {threads} thread(s)"]
                initial = rate[f"walcast initial, {threads} thread(s)"]
                line = (f"chunk {chunk}, {threads} thread(s): incremental / initial "
                        f"{incr / initial:.2f} (target >= 0.5)")
                if dbz:
                    line += f"; walcast / Debezium incremental {incr / dbz:.1f}x (target >= 5)"
                print(line)
    finally:
        pg.stop()
        if broker:
            broker.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
