"""A real single-node Apache Kafka broker (KRaft) for the integration tests.

The broker is started with test/kafka/kafka.sh in a temporary directory. If it
cannot start, the tests FAIL (pytest.fail), never skip: CI must not turn green
without having talked to a real broker.

Use from a test module:
    from kafka_fixture import kafka_broker, kafka_private_broker  # noqa: F401 (fixtures)
"""

import json
import os
import pathlib
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

from jvm_script import run_script  # noqa: E402
from pg_server import WALCAST_BIN, PgServer, free_port, throwaway_server  # noqa: E402,F401 (re-exported)
from walcast_process import WalcastProcess, scrape_metrics  # noqa: E402,F401 (re-exported)


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
        return run_script(KAFKA_SH, *args, timeout=timeout, check=check,
                          needs="the Kafka integration tests need a real broker")

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
        deadline = time.time() + timeout
        # A reader that expects records and finds none of its topics waits for them to
        # appear (a producer creates a topic with its first record, which may still be on
        # its way); else a missing topic simply has no records.
        while True:
            md = consumer.list_topics(timeout=10)
            found = any(t in md.topics for t in topics)
            if found or (min_count == 0 and done is None) or time.time() >= deadline:
                break
            time.sleep(0.2)
        parts = [TopicPartition(t, p, -2)  # -2 = OFFSET_BEGINNING
                 for t in topics if t in md.topics for p in md.topics[t].partitions]
        records: List[Record] = []
        if not parts:
            return records
        consumer.assign(parts)
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
            # Short enough to keep test runs brisk, long enough for the 30 s outage
            # of the fault campaign.
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
# Waiting, positions and metrics.

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


def metric_sum(metrics: dict, name: str) -> float:
    return sum(v for k, v in metrics.items() if k == name or k.startswith(name + "{"))
