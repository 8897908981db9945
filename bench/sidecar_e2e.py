"""End-to-end sidecar benchmark: PostgreSQL -> walcast -> Kafka on this machine.

Prints (never asserts):
- sustained row changes/s from commit to Kafka acknowledgement (1M rows in 5000-row
  transactions), against the baseline of how fast Postgres alone committed the same load;
- commit-to-delivery latency p50/p99 at a fixed 10,000 changes/s (broker LogAppendTime
  minus the event's commit time source.ts_ms);
- sidecar CPU seconds per million events and peak RSS (VmHWM), also for one 1M-row transaction.
ROWS, RATE, SECONDS override the sizes.
"""

import json
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_lib import vm_hwm_kb  # noqa: E402
from kafka_fixture import Broker, PgServer, WALCAST_BIN  # noqa: E402
from stream_probe import percentile  # noqa: E402

ROWS = int(os.environ.get("ROWS", 1_000_000))
RATE = int(os.environ.get("RATE", 10_000))
SECONDS = int(os.environ.get("SECONDS", 10))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_acked(pg, slot, timeout=600):
    target = pg.execute("SELECT (pg_current_wal_lsn() - '0/0')::numeric")[0][0]
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = pg.slot(slot)
        if s and s["confirmed_flush"] >= target:
            return time.time()
        time.sleep(0.05)
    raise RuntimeError("walcast did not acknowledge the load in time")


def start_walcast(work, pg, bootstrap, prefix):
    props = {
        "database.hostname": "127.0.0.1", "database.port": str(pg.port),
        "database.user": "postgres", "database.dbname": "postgres",
        "slot.name": prefix, "topic.prefix": prefix, "sink": "kafka",
        "kafka.bootstrap.servers": bootstrap, "status.update.interval.ms": "1000",
        "snapshot.mode": "no_data",  # streaming only: the snapshot has its own benchmark
    }
    config = work / f"{prefix}.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    log = open(work / f"{prefix}.log", "wb")
    import subprocess
    return subprocess.Popen([str(WALCAST_BIN), "run", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="walcast-e2e-"))
    os.chmod(work, 0o755)
    broker = Broker(work / "kafka").start()
    pg = PgServer(work / "pg").start()
    proc = None
    try:
        from confluent_kafka.admin import AdminClient, NewTopic
        prefix = "e2e"
        topic = f"{prefix}.public.t"
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for f in admin.create_topics([NewTopic(topic, 3, 1, config={
                "message.timestamp.type": "LogAppendTime"})]).values():
            f.result(30)
        pg.execute("CREATE TABLE t (id bigint PRIMARY KEY, v int, pad text)")
        proc = start_walcast(work, pg, broker.bootstrap, prefix)
        pg.wait_slot(prefix, active=True)

        # 1. Sustained throughput.
        batch = 5000
        cpu0, t0 = cpu_seconds(proc.pid), time.time()
        with pg.connect() as conn:
            for start in range(0, ROWS, batch):
                conn.execute("INSERT INTO t SELECT g, g %% 100, repeat('x', 60) "
                             "FROM generate_series(%s::bigint, %s::bigint) g", (start + 1, start + batch))
        committed = time.time()
        acked = wait_acked(pg, prefix)
        cpu1 = cpu_seconds(proc.pid)
        rate = ROWS / (acked - t0)
        pg_rate = ROWS / (committed - t0)

        # 2. Latency at a fixed rate: RATE rows/s in 100 transactions a second.
        per_tx = max(1, RATE // 100)
        first_id = ROWS * 2
        with pg.connect() as conn:
            next_id, tick = first_id, time.time()
            for _ in range(SECONDS * 100):
                conn.execute("INSERT INTO t SELECT g, 1, 'l' FROM generate_series(%s::bigint, %s::bigint) g",
                             (next_id, next_id + per_tx - 1))
                next_id += per_tx
                tick += 0.01
                time.sleep(max(0.0, tick - time.time()))
        wait_acked(pg, prefix)
        latencies = []
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-lat",
                      "enable.auto.commit": False})
        md = c.list_topics(topic, timeout=10)
        c.assign([TopicPartition(topic, p, -2) for p in md.topics[topic].partitions])
        idle_since = time.time()
        while time.time() - idle_since < 3:
            msgs = c.consume(10000, 0.5)
            if msgs:
                idle_since = time.time()
            for m in msgs:
                if m.error() or m.value() is None:
                    continue
                v = json.loads(m.value())
                if v.get("after") and v["after"]["id"] >= first_id:
                    latencies.append(m.timestamp()[1] - v["source"]["ts_ms"])
        c.close()
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)

        # 3. One transaction of ROWS rows: peak memory.
        t2 = time.time()
        pg.execute("INSERT INTO t SELECT g, 2, repeat('y', 60) FROM generate_series(%s::bigint, %s::bigint) g",
                   ROWS * 3, ROWS * 4 - 1)
        wait_acked(pg, prefix)
        big_seconds = time.time() - t2
        rss = vm_hwm_kb(proc.pid) / 1024

        print("walcast sidecar end to end (Postgres, Kafka broker and sidecar on this machine)")
        print(f"| figure | value | target |")
        print(f"|---|---:|---|")
        print(f"| sustained row changes/s, commit to Kafka ack (lz4) | {rate:,.0f} | >= 50,000 |")
        print(f"| baseline: rows/s Postgres alone committed the load | {pg_rate:,.0f} | |")
        print(f"| ratio sidecar / Postgres write rate | {rate / pg_rate:.2f} | |")
        print(f"| latency p50 at {RATE:,} changes/s (ms) | {p50:.0f} | |")
        print(f"| latency p99 at {RATE:,} changes/s (ms) | {p99:.0f} | < 100 |")
        print(f"| sidecar CPU s per 1M events | {(cpu1 - cpu0) * 1e6 / ROWS:.2f} | |")
        print(f"| 1 transaction of {ROWS:,} rows, commit to ack (s) | {big_seconds:.1f} | |")
        print(f"| sidecar peak RSS (MB) | {rss:.0f} | < 200 |")
    finally:
        if proc:
            proc.terminate()
            proc.wait(60)
        pg.stop()
        broker.stop()


if __name__ == "__main__":
    main()
