"""Probes around a snapshot that runs while a stream flows, shared by
test_incremental_snapshot_stream.py and bench/incremental_bench.py:

    SteadyWriter   commits a steady rate of inserts into another table, keeping each
                   transaction's xid and commit time
    SinkTail       follows a JSON-lines sink file (walcast's file sink, DebeziumCapture's
                   output), counts a topic's snapshot reads and times each streamed
                   record's arrival (commit-to-delivery latency from source.ts_ms)
    KafkaTail      the same from Kafka topics (delivery: the broker's append time)
    XminSampler    samples the xmin that walcast's backends and its slot hold
                   (pg_stat_activity, pg_replication_slots) every few milliseconds
"""

import json
import pathlib
import subprocess
import threading
import time
from typing import Dict, List, Optional, Tuple


def percentile(values, q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank; nan when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class _ProbeThread(threading.Thread):
    """A probe's thread: work() runs until stop(), which reports its error if it had one."""

    def __init__(self, what: str):
        super().__init__(daemon=True)
        self.what = what
        self.stop_event = threading.Event()
        self.error: Optional[BaseException] = None

    def run(self):
        try:
            self.work()
        except BaseException as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.stop_event.set()
        self.join(30)
        if self.error is not None:
            raise RuntimeError(f"{self.what} failed: {self.error}")


class SteadyWriter(_ProbeThread):
    """`changes_per_s` single-row inserts a second into `table` (which has a bigserial
    key and an int column v), in `tx_per_s` transactions a second. Keeps (commit time,
    xid, rows) of each transaction in `commits`."""

    def __init__(self, pg, table: str, changes_per_s: int = 2000, tx_per_s: int = 100):
        super().__init__(f"the writer on {table}")
        self.pg, self.table = pg, table
        self.tx_per_s = tx_per_s
        self.rows_per_tx = max(1, changes_per_s // tx_per_s)
        self.commits: List[Tuple[float, int, int]] = []

    def work(self):
        with self.pg.connect(autocommit=False) as conn:
            tick = time.time()
            while not self.stop_event.is_set():
                xid = int(conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0])
                conn.execute(f"INSERT INTO {self.table} (v) SELECT g FROM "
                             f"generate_series(1, {self.rows_per_tx}) g")
                conn.commit()
                self.commits.append((time.time(), xid, self.rows_per_tx))
                tick += 1.0 / self.tx_per_s
                time.sleep(max(0.0, tick - time.time()))

    def rows_committed_between(self, start: float, end: float) -> int:
        return sum(n for t, _, n in self.commits if start <= t <= end)

    def last_xid_before(self, t: float) -> Optional[int]:
        xids = [x for c, x, _ in self.commits if c <= t]
        return xids[-1] if xids else None


class SinkTail(threading.Thread):
    """Follows a JSON-lines file of {"topic":..,"key":..,"value":..} records as it grows.
    Counts the records of `read_topic` whose line holds every byte string of
    `read_marks` (op r, and for Debezium its incremental marker) without parsing them,
    and parses those of `stream_topic` to keep (arrival time, commit time) pairs.
    count_reads=False skips the counting (a capture that says itself when it is done):
    the tail then sees only the streamed topic's lines.

    The file is followed by `tail -F | grep` (C programs; only the lines of the two topics
    reach Python): a snapshot writes its file at hundreds of MB/s, and a tail in Python
    that reads and scans all of it fell a second behind on two cores, which showed as a
    second of stream latency that was the probe's own."""

    def __init__(self, path: pathlib.Path, read_topic: str, stream_topic: str,
                 read_marks=(b'"op":"r"',), count_reads: bool = True):
        super().__init__(daemon=True)
        self.count_reads = count_reads
        self.path = pathlib.Path(path)
        self.read_topic, self.stream_topic = read_topic, stream_topic
        self.read_marks = read_marks
        self.reads = 0
        self.first_read_at: Optional[float] = None
        self.last_read_at: Optional[float] = None
        self.streamed: List[Tuple[float, float]] = []  # (arrival, commit), seconds
        self.stop_event = threading.Event()
        self.procs: List[subprocess.Popen] = []

    @staticmethod
    def line_prefix(topic: str) -> bytes:
        return b'{"topic":' + json.dumps(topic).encode() + b","

    def run(self):
        read_prefix = self.line_prefix(self.read_topic)
        stream_prefix = self.line_prefix(self.stream_topic)
        patterns = [stream_prefix] + ([read_prefix] if self.count_reads else [])
        # A file that exists is followed by inotify; one tail had to wait for is polled,
        # once a second unless told otherwise.
        while not self.path.exists() and not self.stop_event.wait(0.005):
            pass
        if self.stop_event.is_set():
            return
        follow = subprocess.Popen(["tail", "-c", "+1", "-F", "-s", "0.01", str(self.path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        grep = subprocess.Popen(["grep", "--line-buffered", "-F"] +
                                [a for p in patterns for a in ("-e", p.decode())],
                                stdin=follow.stdout, stdout=subprocess.PIPE)
        follow.stdout.close()  # grep holds it
        self.procs = [follow, grep]
        # stop() sets the event, then kills what it finds in procs: one of the two sees
        # the other's write, so the followers never outlive the probe.
        if self.stop_event.is_set():
            self.kill_followers()
        for line in grep.stdout:
            now = time.time()
            if line.startswith(stream_prefix):
                self.take_streamed(json.loads(line)["value"], now)
            elif line.startswith(read_prefix):
                self.take_read(line, now)

    def take_read(self, data: bytes, delivered: float):
        if all(m in data for m in self.read_marks):
            self.reads += 1
            self.first_read_at = self.first_read_at or delivered
            self.last_read_at = delivered

    def take_streamed(self, value, delivered: float):
        if value and "payload" in value and "schema" in value:
            value = value["payload"]
        if value and value.get("source"):
            self.streamed.append((delivered, value["source"]["ts_ms"] / 1000.0))

    def wait_reads(self, count: int, timeout: float, alive=lambda: True) -> float:
        """Waits until `count` reads arrived; returns the arrival time of the last."""
        deadline = time.time() + timeout
        while self.reads < count:
            if time.time() > deadline:
                raise TimeoutError(f"{self.reads} of {count} snapshot reads arrived in "
                                   f"{timeout:.0f} s")
            if not alive():
                raise RuntimeError(f"the capture ended after {self.reads} of {count} reads")
            time.sleep(0.02)
        return self.last_read_at

    def kill_followers(self):
        for proc in self.procs:
            proc.kill()
            proc.wait()

    def stop(self):
        self.stop_event.set()
        self.kill_followers()
        self.join(30)

    def latencies_ms(self, committed_from: float, committed_to: float) -> List[float]:
        """Commit-to-delivery latencies of the streamed records committed in the interval."""
        return [(a - c) * 1000 for a, c in self.streamed if committed_from <= c <= committed_to]

    def arrived_between(self, start: float, end: float) -> int:
        return sum(1 for a, _ in self.streamed if start < a < end)


class KafkaTail(SinkTail):
    """SinkTail's counts from two Kafka topics instead of a file; a record's delivery
    time is the broker's append time (topics with message.timestamp.type=LogAppendTime)."""

    def __init__(self, bootstrap: str, read_topic: str, stream_topic: str,
                 read_marks=(b'"op":"r"',), count_reads: bool = True):
        super().__init__(pathlib.Path("/dev/null"), read_topic, stream_topic, read_marks,
                         count_reads=count_reads)
        self.bootstrap = bootstrap

    def run(self):
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "enable.auto.commit": False,
                             "group.id": f"stream-probe-{id(self)}"})
        try:
            topics = consumer.list_topics(timeout=10).topics
            consumer.assign([TopicPartition(t, p, -2) for t in (self.read_topic,
                                                                 self.stream_topic)
                             for p in topics[t].partitions])
            while not self.stop_event.is_set():
                for m in consumer.consume(10000, 0.05):
                    if m.error() or m.value() is None:
                        continue
                    delivered = m.timestamp()[1] / 1000.0
                    if m.topic() == self.read_topic:
                        self.take_read(m.value(), delivered)
                    else:
                        self.take_streamed(json.loads(m.value()), delivered)
        finally:
            consumer.close()


class XminSampler(_ProbeThread):
    """Every `interval` seconds, on a connection of its own: the backend_xmin and
    backend_xid of every backend of `application_name` (walcast names all its
    connections so), the slot's xmin and catalog_xmin, and the next xid to be
    assigned. Each sample: (time, {pid: (backend_xmin, backend_xid, backend_type)},
    slot xmin, slot catalog_xmin, next xid)."""

    QUERY = """
        SELECT clock_timestamp(),
               txid_snapshot_xmax(txid_current_snapshot()),
               (SELECT json_agg(json_build_array(pid, backend_xmin::text, backend_xid::text,
                                                 backend_type))
                FROM pg_stat_activity WHERE application_name = %(app)s),
               (SELECT json_build_array(xmin::text, catalog_xmin::text)
                FROM pg_replication_slots WHERE slot_name = %(slot)s)"""

    def __init__(self, pg, slot: str, application_name: str = "walcast",
                 interval: float = 0.003):
        super().__init__("the xmin sampler")
        self.pg, self.slot, self.app = pg, slot, application_name
        self.interval = interval
        self.samples: List[tuple] = []

    def work(self):
        as_int = lambda v: None if v is None else int(v)  # noqa: E731
        with self.pg.connect() as conn:
            while not self.stop_event.is_set():
                _, next_xid, backends, slot = conn.execute(
                    self.QUERY, {"app": self.app, "slot": self.slot}).fetchone()
                held = {pid: (as_int(xmin), as_int(xid), kind)
                        for pid, xmin, xid, kind in (backends or [])}
                slot = slot or [None, None]
                self.samples.append((time.time(), held, as_int(slot[0]), as_int(slot[1]),
                                     int(next_xid)))
                time.sleep(self.interval)

    def oldest_held(self, start: float, end: float) -> List[Tuple[float, int]]:
        """(time, oldest backend xmin or xid held by any of the backends) of the samples
        in the interval where some backend held one."""
        out = []
        for t, held, _, _, _ in self.samples:
            if start <= t <= end:
                values = [v for xmin, xid, _ in held.values() for v in (xmin, xid) if v]
                if values:
                    out.append((t, min(values)))
        return out

    def pins(self, start: float, end: float) -> Dict[int, Tuple[float, float]]:
        """For each xmin that was the oldest held: (first, last) time it was seen so."""
        spans: Dict[int, Tuple[float, float]] = {}
        for t, xmin in self.oldest_held(start, end):
            first, _ = spans.get(xmin, (t, t))
            spans[xmin] = (first, t)
        return spans

    def lag_in_commits(self, commits, start: float, end: float) -> int:
        """The most transactions of a concurrent writer ((commit time, xid, rows) as
        SteadyWriter keeps them) that had committed at a sample's time with an xid at
        or after the oldest xmin walcast's backends held then: how far, in the writer's
        transactions, walcast held the horizon back."""
        lag = 0
        for t, xmin in self.oldest_held(start, end):
            lag = max(lag, sum(1 for c, xid, _ in commits if c <= t and xid >= xmin))
        return lag

    def slot_xmins(self, start: float, end: float):
        """The slot's (xmin, catalog_xmin) values seen in the interval."""
        return [(s[2], s[3]) for s in self.samples if start <= s[0] <= end]
