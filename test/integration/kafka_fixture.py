"""A real single-node Apache Kafka broker (KRaft) for the integration tests.

The broker is started with test/kafka/kafka.sh in a temporary directory. If it
cannot start, the tests FAIL (pytest.fail), never skip: CI must not turn green
without having talked to a real broker.

Use from a test module:
    from kafka_fixture import kafka_broker, kafka_private_broker  # noqa: F401 (fixtures)
"""

import json
import random
from collections import defaultdict
import os
import pathlib
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional

import pytest

try:
    from confluent_kafka import Consumer, KafkaError, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError as e:  # a missing test dependency is a failure, not a skip
    raise ImportError(
        "confluent-kafka is required for the Kafka integration tests "
        "(pip install -r test/requirements.txt)") from e

ROOT = pathlib.Path(__file__).resolve().parents[2]
KAFKA_SH = ROOT / "test" / "kafka" / "kafka.sh"

from pg_server import WALCAST_BIN, PgServer, throwaway_server  # noqa: E402,F401 (re-exported)
from walcast_process import WalcastProcess  # noqa: E402


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: Optional[str]       # None = null key
    raw_value: Optional[bytes]  # None = tombstone

    @property
    def value(self):
        return None if self.raw_value is None else json.loads(self.raw_value)

    @property
    def key_json(self):
        return None if self.key is None else json.loads(self.key)


class Broker:
    """One broker process, data in `datadir`. Ports survive restart()."""

    def __init__(self, datadir: pathlib.Path):
        self.datadir = pathlib.Path(datadir)
        self.bootstrap: Optional[str] = None

    def _sh(self, *args, timeout=120, check=True):
        try:
            proc = subprocess.run([str(KAFKA_SH), *args], capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"kafka.sh {' '.join(args)} timed out after {timeout}s:\n{e.stderr}",
                        pytrace=False)
        if check and proc.returncode != 0:
            pytest.fail(
                f"kafka.sh {' '.join(args)} failed (exit {proc.returncode}); "
                f"the Kafka integration tests need a real broker.\n"
                f"stderr:\n{proc.stderr[-4000:]}", pytrace=False)
        return proc

    def start(self):
        self._sh("fetch", timeout=900)
        out = self._sh("start", str(self.datadir), timeout=180).stdout.strip().splitlines()
        if not out:
            pytest.fail("kafka.sh start printed no bootstrap address", pytrace=False)
        self.bootstrap = out[-1].strip()
        self.wait_ready()
        return self

    def stop(self):
        self._sh("stop", str(self.datadir), check=False)

    def kill(self):
        """SIGKILL, like a crash."""
        self._sh("kill", str(self.datadir))

    def restart(self):
        out = self._sh("restart", str(self.datadir), timeout=180).stdout.strip().splitlines()
        if out:
            assert out[-1].strip() == self.bootstrap, "broker came back on another address"
        self.wait_ready()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                md = self.admin().list_topics(timeout=5)
                if md.brokers:
                    return
            except Exception as e:  # noqa: BLE001 - report the last one
                last = e
            time.sleep(0.5)
        pytest.fail(f"broker {self.bootstrap} not answering metadata requests: {last}",
                    pytrace=False)

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 4})

    def create_topic(self, name: str, partitions: int):
        admin = self.admin()  # must outlive the futures
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1)])
        for f in futures.values():
            f.result(timeout=30)

    def topics(self, prefix: str = "") -> List[str]:
        return sorted(t for t in self.admin().list_topics(timeout=10).topics
                      if t.startswith(prefix))

    def read(self, topics: Iterable[str], min_count: int = 0, timeout: float = 60,
             idle: float = 3.0,
             done: Optional[Callable[[List[Record]], bool]] = None) -> List[Record]:
        """Every record of `topics` from the beginning, in offset order per partition.

        Reads until at least `min_count` records (or `done(records)`) and then no new
        record for `idle` seconds, or until `timeout`. Returns what it has; tests
        assert on it.
        """
        return read_topics(self.bootstrap, list(topics), min_count, timeout, idle, done)

    def read_prefix(self, prefix: str, **kw) -> List[Record]:
        return self.read(self.topics(prefix), **kw)


def read_topics(bootstrap, topics, min_count=0, timeout=60, idle=3.0, done=None):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "walcast-test-" + uuid.uuid4().hex,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        # Only committed data: walcast's producer is idempotent, not transactional,
        # so this is the same as read_uncommitted, but states the intent.
        "isolation.level": "read_committed",
    })
    try:
        md = consumer.list_topics(timeout=10)
        parts = [TopicPartition(t, p, -2)  # -2 = OFFSET_BEGINNING
                 for t in topics if t in md.topics for p in md.topics[t].partitions]
        records: List[Record] = []
        if not parts:
            return records
        consumer.assign(parts)
        deadline = time.time() + timeout
        last_new = time.time()
        while time.time() < deadline:
            batch = consumer.consume(num_messages=10000, timeout=0.5)
            for m in batch:
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise RuntimeError(f"consumer error: {m.error()}")
                key = m.key()
                records.append(Record(m.topic(), m.partition(), m.offset(),
                                      None if key is None else key.decode(), m.value()))
            if batch:
                last_new = time.time()
            enough = len(records) >= min_count and (done is None or done(records))
            if enough and time.time() - last_new >= idle:
                break
        return records
    finally:
        consumer.close()


def _start_broker(datadir) -> Broker:
    if not KAFKA_SH.exists():
        pytest.fail(f"{KAFKA_SH} is missing", pytrace=False)
    return Broker(datadir).start()


_shared: dict = {}


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    """A broker shared by the session. Tests that stop or kill a broker use
    kafka_private_broker instead.

    Test modules import this fixture, which gives each module its own fixture
    definition; the module-level cache keeps it one broker per session anyway.
    """
    broker = _shared.get("broker")
    owner = broker is None
    if owner:
        broker = _shared["broker"] = _start_broker(tmp_path_factory.mktemp("kafka"))
    yield broker
    if owner:
        _shared.pop("broker", None)
        broker.stop()


@pytest.fixture
def kafka_private_broker(tmp_path_factory):
    """A broker of its own, for tests that stop, kill or restart it."""
    broker = _start_broker(tmp_path_factory.mktemp("kafka-private"))
    yield broker
    broker.stop()


def unique_name(base: str) -> str:
    """A topic prefix / slot-safe name unique to this run."""
    return f"{base}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------------------
# Java-compatible partitioning, to check where walcast put each key.

def murmur2(data: bytes) -> int:
    """org.apache.kafka.common.utils.Utils.murmur2, as a signed 32-bit int."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = data[length & ~3:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if len(tail) >= 1:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def java_partition(key: str, partitions: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


# Same Java-produced vectors as sidecar/tests/murmur2_test.cpp.
assert murmur2(b"21") == -973932308
assert murmur2(b"abc") == 479470107
assert murmur2('{"id":1000000}'.encode()) == -14095689


# --------------------------------------------------------------------------
# Postgres and the walcast daemon, for the end-to-end Kafka tests.
# (A private server per test: several tests restart or overload it.)

@pytest.fixture
def kafka_pg():
    """A private Postgres server (wal_level=logical, walcast plugin allowed)."""
    with throwaway_server() as pg:
        yield pg


class Walcast(WalcastProcess):
    """`walcast run --config <file>` with sink=kafka, as a child process."""

    def __init__(self, workdir: pathlib.Path, pg: PgServer, broker: Broker, prefix: str,
                 tables: str, extra: Optional[dict] = None):
        self.prefix = prefix
        super().__init__(workdir, pg, prefix.replace(".", "_").replace("-", "_").lower(), {
            "topic.prefix": prefix,
            "table.include.list": tables,
            "sink": "kafka",
            "kafka.bootstrap.servers": broker.bootstrap,
            # Short enough to keep test runs brisk, long enough for a 20 s outage.
            "kafka.message.timeout.ms": "120000",
            "log.level": "info",
            **(extra or {}),
        })
        self.peak_rss_kb = 0

    def vm_hwm_kb(self) -> int:
        """Peak resident set size of the running process, from /proc (VmHWM)."""
        try:
            for line in open(f"/proc/{self.pid}/status"):
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    self.peak_rss_kb = max(self.peak_rss_kb, kb)
                    return kb
        except FileNotFoundError:
            pass
        return self.peak_rss_kb


# --------------------------------------------------------------------------
# Reading events back.

def event_id(rec: Record):
    """Debezium's dedupe identity: (commit LSN, change LSN) from source.sequence,
    plus the topic and whether it is a tombstone (which has no value)."""
    if rec.raw_value is None:
        return None
    seq = json.loads(rec.value["source"]["sequence"])
    return (int(seq[0]), int(seq[1]))


def commit_lsn(rec: Record) -> int:
    return event_id(rec)[0]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)


def end_offsets(bootstrap: str, topic: str) -> dict:
    """High watermark per partition (the offset the next record will get)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "walcast-wm"})
    try:
        md = consumer.list_topics(topic, timeout=10)
        if topic not in md.topics or md.topics[topic].error is not None:
            return {}
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in md.topics[topic].partitions}
    finally:
        consumer.close()


# --------------------------------------------------------------------------
# Background write load for the fault tests.

LOAD_TABLE_DDL = ("CREATE TABLE {table} (seq bigint PRIMARY KEY, v int NOT NULL, "
                  "payload text)")


class LoadGenerator:
    """Writes transactions into `table` from a thread until stop().

    Each change is identified by (seq, v): inserts have v=0, each update bumps v.
    `committed` holds the changes whose COMMIT returned; `maybe` those whose COMMIT
    failed with a lost connection (they may or may not have committed).
    """

    def __init__(self, pg: PgServer, table: str = "load", max_rows: int = 20,
                 update_ratio: float = 0.3, pause: float = 0.002, seed: int = 7):
        import threading
        self.pg, self.table, self.max_rows = pg, table, max_rows
        self.update_ratio, self.pause = update_ratio, pause
        self.rng = random.Random(seed)
        self.committed: set = set()
        self.maybe: set = set()
        self.transactions = 0
        self.errors = 0
        self.last_error = ""
        self._next_seq = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._versions = {}  # seq -> last committed v

    def start(self):
        self._thread.start()
        return self

    def stop(self, min_transactions: int = 20):
        self._stop.set()
        self._thread.join(timeout=60)
        assert self.transactions >= min_transactions, (
            f"the load generator barely ran ({self.transactions} transactions, "
            f"{self.errors} errors, last: {self.last_error})")

    def _run(self):
        import psycopg
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = self.pg.connect(autocommit=False)
                self._one_transaction(conn)
            except psycopg.Error as e:
                self.errors += 1
                self.last_error = str(e).strip()
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
                time.sleep(0.3)
                continue
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def _one_transaction(self, conn):
        changes = []
        n = self.rng.randint(1, self.max_rows)
        first = self._next_seq
        self._next_seq += n
        conn.execute(f"INSERT INTO {self.table} (seq, v, payload) "
                     f"SELECT g, 0, repeat('p', 100) FROM generate_series(%s::bigint, %s::bigint) g",
                     (first, first + n - 1))
        changes += [(s, 0) for s in range(first, first + n)]
        if self._versions and self.rng.random() < self.update_ratio:
            pick = self.rng.sample(sorted(self._versions), min(5, len(self._versions)))
            for seq, v in conn.execute(
                    f"UPDATE {self.table} SET v = v + 1 WHERE seq = ANY(%s::bigint[]) RETURNING seq, v",
                    (pick,)).fetchall():
                changes.append((seq, v))
        try:
            conn.commit()
        except Exception:
            self.maybe.update(changes)  # the commit may have happened
            raise
        self.committed.update(changes)
        for seq, v in changes:
            self._versions[seq] = v
        self.transactions += 1
        return changes


def change_of(rec: Record):
    """(seq, v) of a load-table event, None for tombstones."""
    if rec.raw_value is None:
        return None
    after = rec.value["after"]
    return (after["seq"], after["v"])


def start_load_stream(pg: PgServer, broker: Broker, workdir: pathlib.Path, name: str,
                      partitions: int):
    """The fault tests' setup: table `load` streamed by a running walcast to its topic of
    `partitions` partitions, and a LoadGenerator writing into it. -> (walcast, load, topic)"""
    prefix = unique_name(name)
    topic = f"{prefix}.public.load"
    broker.create_topic(topic, partitions)
    pg.execute(LOAD_TABLE_DDL.format(table="load"))
    walcast = Walcast(workdir, pg, broker, prefix, "public.load").start()
    pg.wait_slot(walcast.slot, active=True)
    return walcast, LoadGenerator(pg, "load").start(), topic


def read_until_complete(broker: Broker, topic: str, want: set, timeout: float = 180):
    """Reads `topic` until every change in `want` is there (or timeout)."""
    records: List[Record] = []

    def complete():
        records[:] = broker.read([topic], min_count=len(want), timeout=20, idle=1)
        return want <= {change_of(r) for r in records}

    deadline = time.time() + timeout
    while time.time() < deadline and not complete():
        time.sleep(1)
    return records


def assert_nothing_missing(records: List[Record], committed: set):
    got = {change_of(r) for r in records}
    missing = sorted(committed - got)
    assert not missing, (f"{len(missing)} committed changes missing from Kafka, "
                         f"first: {missing[:10]}")


def duplicates(records: List[Record]) -> dict:
    """event id -> the records carrying it, for ids seen more than once."""
    by_id = defaultdict(list)
    for r in records:
        if r.raw_value is not None:
            by_id[event_id(r)].append(r)
    return {k: v for k, v in by_id.items() if len(v) > 1}


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_metrics(address: str) -> dict:
    """GET http://<address>/metrics -> {"name{labels}": value} (comments dropped)."""
    import urllib.request
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def metric_sum(metrics: dict, name: str) -> float:
    return sum(v for k, v in metrics.items() if k == name or k.startswith(name + "{"))
