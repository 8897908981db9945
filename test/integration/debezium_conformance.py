"""walcast against Debezium's PostgreSQL connector (3.6.1, pgoutput) on the same changes.

One PostgreSQL database holds the workload (test/debezium/workload/setup.sql: tables and
the rows both snapshots read). For each run (a combination of the type modes) one Debezium
engine (test/debezium/debezium.sh, written out through JsonConverter with schemas off and
on) and two walcast sidecars (schemas off, schemas on; file sink) start with
snapshot.mode=initial, each on its own slot; once every slot exists the streamed changes
run (workload/changes.sql). Every consumer stops after the insert into dz_zz_done.

The records are then paired (topic, key, op, order within those) and compared field by
field. What must differ between two consumers is named in one place below, with reasons
(EXCLUDED_FIELDS, SNAPSHOT_SHAPE_ONLY, SNAPSHOT_OVERALL_MARKERS); differences walcast makes on
purpose are listed in test/debezium/deliberate-differences.json.

Also a script, to capture and write the outputs and the difference report to a directory:
    python test/integration/debezium_conformance.py <outdir>
"""

import dataclasses
import json
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pg_server import ROOT, WALCAST_BIN, PgServer  # noqa: E402

DEBEZIUM_SH = ROOT / "test" / "debezium" / "debezium.sh"
WORKLOAD = ROOT / "test" / "debezium" / "workload"
DELIBERATE = ROOT / "test" / "debezium" / "deliberate-differences.json"
TYPES_DOC = ROOT / "docs" / "types.md"
DBNAME = "conform"
PREFIX = "conform"
DONE_TOPIC = f"{PREFIX}.public.dz_zz_done"
# walcast's own bookkeeping tables (snapshot progress) are not part of the comparison.
WALCAST_TABLES = r"walcast\..*"
# Debezium's precise mode has no representation for numeric NaN/Infinity.
SPECIAL_NUMERIC_TABLE = r"public\.dz_dec_special"
CAPTURE_TIMEOUT_S = 240
SNAPSHOT_STALL_S = 30  # a snapshot that writes nothing for this long is taken as done
QUIET_S = 1.5  # a consumer is done once DONE_TOPIC arrived and nothing else for this long


@dataclasses.dataclass(frozen=True)
class Run:
    """One combination of modes: one Debezium engine, two walcast sidecars."""
    name: str
    modes: Tuple[Tuple[str, str], ...]

    @property
    def settings(self) -> Dict[str, str]:
        return dict(self.modes)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.modes)


def _run(name, decimal, time_, binary, interval, hstore, tx):
    modes = (("decimal.handling.mode", decimal), ("time.precision.mode", time_),
             ("binary.handling.mode", binary), ("interval.handling.mode", interval),
             ("hstore.handling.mode", hstore), ("provide.transaction.metadata", tx))
    return Run(name, modes)


# Every value of every mode appears in at least one run.
RUNS = [
    _run("a", "precise", "adaptive", "bytes", "numeric", "json", "false"),
    _run("b", "string", "adaptive_time_microseconds", "base64", "string", "map", "true"),
    _run("c", "double", "connect", "hex", "numeric", "json", "true"),
    _run("d", "string", "connect", "base64-url-safe", "string", "map", "false"),
]

RUNS_BY_NAME = {r.name: r for r in RUNS}

# Fields whose values must differ between two consumers of the same change, with why.
# Paths are JSON paths into the payload ("schema"/"payload" unwrapped); source.sequence is
# compared as the list its string holds.
EXCLUDED_FIELDS = {
    "value.ts_ms": "when the connector processed the event (envelope time)",
    "value.ts_us": "when the connector processed the event (envelope time)",
    "value.ts_ns": "when the connector processed the event (envelope time)",
}
# Snapshot rows (op "r"): each consumer reads its own snapshot, at its own time and position,
# so these are compared by shape only (null, number, string: both must have the same).
SNAPSHOT_SHAPE_ONLY = {
    "value.source.ts_ms": "the time the row was read",
    "value.source.ts_us": "the time the row was read",
    "value.source.ts_ns": "the time the row was read",
    "value.source.lsn": "the position of the consumer's own snapshot",
    "value.source.sequence[0]": "the position of the consumer's own snapshot",
    "value.source.sequence[1]": "the position of the consumer's own snapshot",
    "value.source.txId": "the consumer's own snapshot transaction",
    "value.source.xmin": "the consumer's own snapshot transaction",
}
# source.snapshot marks the first and last row of the whole snapshot ("first", "last");
# which rows those are depends on the order tables are read in, which is each consumer's
# own (walcast reads in parallel). Paired rows may differ there; each side must still have
# exactly one "first" and one "last" (checked per file).
SNAPSHOT_OVERALL_MARKERS = ("first", "last")
# ---------------------------------------------------------------------------- capture

class CaptureError(Exception):
    pass


def fetch_debezium():
    """Fetches the jars and compiles the capture program; fails loudly (no skip)."""
    proc = subprocess.run([str(DEBEZIUM_SH), "fetch"], capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode != 0:
        raise CaptureError(f"test/debezium/debezium.sh fetch failed:\n{proc.stderr[-4000:]}")


def _props_text(props: Dict[str, str]) -> str:
    def esc(s):
        return (s.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=")
                .replace(":", "\\:"))
    return "".join(f"{esc(k)}={v.replace(chr(92), chr(92) * 2)}\n" for k, v in props.items())


def _common_settings(run: Run) -> Dict[str, str]:
    s = dict(run.settings)
    s["topic.prefix"] = PREFIX
    s["snapshot.mode"] = "initial"
    s["skipped.operations"] = "none"
    excluded = [WALCAST_TABLES]
    if s["decimal.handling.mode"] == "precise":
        excluded.append(SPECIAL_NUMERIC_TABLE)
    s["table.exclude.list"] = ",".join(excluded)
    return s


class Consumer:
    """A child process writing sink lines to one or more files."""

    def __init__(self, label: str, argv: List[str], log: pathlib.Path, slot: str,
                 outputs: Dict[str, pathlib.Path]):
        self.label, self.argv, self.log_path, self.slot = label, argv, log, slot
        self.outputs = outputs
        self.proc: Optional[subprocess.Popen] = None
        self.done_at: Optional[float] = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log_tail(self, n=40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()


def _debezium(run: Run, server: PgServer, workdir: pathlib.Path) -> Consumer:
    slot = f"dbz_{run.name}"
    out = {"off": workdir / f"debezium-{run.name}-schemas-off.jsonl",
           "on": workdir / f"debezium-{run.name}-schemas-on.jsonl"}
    props = {
        "name": f"conform-{run.name}",
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "offset.storage": "org.apache.kafka.connect.storage.MemoryOffsetBackingStore",
        "offset.flush.interval.ms": "0",
        "database.hostname": "127.0.0.1",
        "database.port": str(server.port),
        "database.user": "postgres",
        "database.password": "",
        "database.dbname": DBNAME,
        "plugin.name": "pgoutput",
        "slot.name": slot,
        "slot.drop.on.stop": "true",
        "publication.name": f"dbz_pub_{run.name}",
        "publication.autocreate.mode": "all_tables",
        **_common_settings(run),
        "capture.out.schemaless": str(out["off"]),
        "capture.out.schemas": str(out["on"]),
        "capture.stop.topic": DONE_TOPIC,
        "capture.grace.ms": str(int(QUIET_S * 1000)),
        "capture.timeout.ms": str(CAPTURE_TIMEOUT_S * 1000),
    }
    cfg = workdir / f"debezium-{run.name}.properties"
    cfg.write_text(_props_text(props))
    return Consumer(f"debezium {run.name}", [str(DEBEZIUM_SH), "run", str(cfg)],
                    workdir / f"debezium-{run.name}.log", slot, out)


def _walcast(run: Run, schemas: bool, server: PgServer, workdir: pathlib.Path) -> Consumer:
    tag = "on" if schemas else "off"
    slot = f"wc_{run.name}_{tag}"
    out = workdir / f"walcast-{run.name}-schemas-{tag}.jsonl"
    props = {
        "database.hostname": "127.0.0.1",
        "database.port": str(server.port),
        "database.user": "postgres",
        "database.dbname": DBNAME,
        "slot.name": slot,
        "sink": f"file:{out}",
        "status.update.interval.ms": "500",
        **_common_settings(run),
    }
    if schemas:
        props["key.converter.schemas.enable"] = "true"
        props["value.converter.schemas.enable"] = "true"
    cfg = workdir / f"walcast-{run.name}-schemas-{tag}.properties"
    cfg.write_text(_props_text(props))
    return Consumer(f"walcast {run.name} schemas {tag}",
                    [str(WALCAST_BIN), "run", "--config", str(cfg)],
                    workdir / f"walcast-{run.name}-schemas-{tag}.log", slot, {tag: out})


def _lines(path: pathlib.Path) -> List[str]:
    if not path.exists():
        return []
    return [ln for ln in path.read_text(encoding="utf-8").split("\n")[:-1] if ln]


def _saw_done(c: Consumer) -> bool:
    for path in c.outputs.values():
        if not any(f'"topic":"{DONE_TOPIC}"' in ln for ln in _lines(path)):
            return False
    return True


def server_has_xml(conn) -> bool:
    """Whether the server is built with libxml (PyPI's PostgreSQL 18 is not)."""
    try:
        with conn.transaction():
            conn.execute("SELECT '<a/>'::xml")
        return True
    except Exception:
        return False


def _snapshot_rows(server: PgServer, run: Run) -> int:
    """Rows in the tables the run captures: the snapshot records each consumer writes."""
    excluded = _common_settings(run)["table.exclude.list"].split(",")
    tables = server.execute(
        "SELECT format('%I.%I', n.nspname, c.relname), n.nspname || '.' || c.relname "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
        "'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'", dbname=DBNAME)
    total = 0
    for quoted, name in tables:
        if any(re.fullmatch(x, name) for x in excluded):
            continue
        total += server.execute(f"SELECT count(*) FROM {quoted}", dbname=DBNAME)[0][0]
    return total


def _snapshot_count(c: Consumer) -> int:
    path = next(iter(c.outputs.values()))
    return sum(1 for ln in _lines(path) if '"op":"r"' in ln)


def _sizes(c: Consumer):
    return tuple(p.stat().st_size if p.exists() else 0 for p in c.outputs.values())


@dataclasses.dataclass
class Captured:
    run: Run
    # (consumer, schemas "off"/"on") -> lines; consumer is "debezium" or "walcast"
    lines: Dict[Tuple[str, str], List[str]]
    # consumer -> a failure description (did not finish), or absent
    failures: Dict[Tuple[str, str], str]


def capture(server: PgServer, workdir: pathlib.Path, runs=RUNS) -> Dict[str, Captured]:
    """Runs the workload once under every run's consumers; returns their lines."""
    fetch_debezium()
    if not WALCAST_BIN.exists():
        raise CaptureError(f"{WALCAST_BIN} not built (make sidecar)")
    workdir.mkdir(parents=True, exist_ok=True)
    server.execute(f"DROP DATABASE IF EXISTS {DBNAME}")
    server.execute(f"CREATE DATABASE {DBNAME}")
    with server.connect(DBNAME) as conn:
        conn.execute("CREATE EXTENSION walcast")  # walcast's snapshot needs it
        conn.execute((WORKLOAD / "setup.sql").read_text())
        with_xml = server_has_xml(conn)
        if with_xml:
            conn.execute((WORKLOAD / "setup-xml.sql").read_text())

    consumers: Dict[Tuple[str, str], Consumer] = {}
    for run in runs:
        consumers[(run.name, "debezium")] = _debezium(run, server, workdir)
        consumers[(run.name, "walcast-off")] = _walcast(run, False, server, workdir)
        consumers[(run.name, "walcast-on")] = _walcast(run, True, server, workdir)
    try:
        for c in consumers.values():
            c.start()
        # Every consumer's slot must exist before the changes: each then snapshots the same
        # state and streams every change.
        deadline = time.time() + CAPTURE_TIMEOUT_S
        waiting = dict(consumers)
        while waiting and time.time() < deadline:
            slots = {r[0] for r in server.execute("SELECT slot_name FROM pg_replication_slots")}
            for key, c in list(waiting.items()):
                if c.slot in slots or c.proc.poll() is not None:
                    del waiting[key]
            time.sleep(0.2)
        if waiting:
            raise CaptureError("slots not created in time: " + ", ".join(
                f"{c.label}:\n{c.log_tail()}" for c in waiting.values()))
        # Debezium reads its snapshot after creating the slot, in a transaction of its own:
        # the changes wait until every consumer has written every snapshot row.
        # A consumer whose snapshot stops short is not waited for longer than SNAPSHOT_STALL_S:
        # the comparison then shows the rows it lacks.
        expected = {run.name: _snapshot_rows(server, run) for run in runs}
        waiting = dict(consumers)
        progress = {k: (-1, time.time()) for k in consumers}
        while waiting and time.time() < deadline:
            now = time.time()
            for key, c in list(waiting.items()):
                count = _snapshot_count(c)
                if count != progress[key][0]:
                    progress[key] = (count, now)
                if c.proc.poll() is not None or count >= expected[key[0]] or \
                        now - progress[key][1] > SNAPSHOT_STALL_S:
                    del waiting[key]
            time.sleep(0.2)
        if waiting:
            raise CaptureError("snapshots not finished in time: " + ", ".join(
                f"{c.label} ({_snapshot_count(c)} rows):\n{c.log_tail()}"
                for c in waiting.values()))
        with server.connect(DBNAME) as conn:
            conn.execute((WORKLOAD / "changes.sql").read_text())
            if with_xml:
                conn.execute((WORKLOAD / "changes-xml.sql").read_text())
            conn.execute("INSERT INTO dz_zz_done VALUES (1)")

        # Wait for every consumer to see the last insert and go quiet (or to exit).
        pending = dict(consumers)
        last_size = {k: (None, 0.0) for k in consumers}
        while pending and time.time() < deadline:
            now = time.time()
            for key, c in list(pending.items()):
                if c.proc.poll() is not None:
                    del pending[key]
                    continue
                size = _sizes(c)
                if size != last_size[key][0]:
                    last_size[key] = (size, now)
                if _saw_done(c) and now - last_size[key][1] >= QUIET_S:
                    if not c.label.startswith("debezium"):  # Debezium stops by itself
                        c.stop()
                    del pending[key]
            time.sleep(0.2)
        for c in consumers.values():
            if c.label.startswith("debezium") and c.proc.poll() is None:
                try:
                    c.proc.wait(timeout=max(5, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    pass
    finally:
        for c in consumers.values():
            c.stop()
        for run in runs:
            server.execute(f"DROP PUBLICATION IF EXISTS dbz_pub_{run.name}", dbname=DBNAME)
        for c in consumers.values():
            server.execute("SELECT pg_drop_replication_slot(slot_name) FROM "
                           "pg_replication_slots WHERE slot_name = %s AND NOT active", c.slot)

    result: Dict[str, Captured] = {}
    for run in runs:
        lines, failures = {}, {}
        dbz = consumers[(run.name, "debezium")]
        for tag in ("off", "on"):
            lines[("debezium", tag)] = _lines(dbz.outputs[tag])
            wc = consumers[(run.name, f"walcast-{tag}")]
            lines[("walcast", tag)] = _lines(wc.outputs[tag])
            for who, c in (("debezium", dbz), ("walcast", wc)):
                rc = c.proc.returncode
                ok = _saw_done(c) and (rc == 0 or (who == "walcast" and rc in (0, -15)))
                if not ok:
                    failures[(who, tag)] = (f"{c.label} did not finish (exit {rc}); "
                                            f"log {c.log_path}:\n{c.log_tail()}")
        result[run.name] = Captured(run, lines, failures)
    return result


# ---------------------------------------------------------------------------- compare

class Num:
    """A JSON number kept as its text: 1.0 and 1 differ, as they do for a consumer."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Num) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return self.text


def parse(text: str):
    return json.loads(text, parse_float=Num, parse_int=Num, parse_constant=Num)


def render(v, limit=160) -> str:
    def enc(x):
        if isinstance(x, Num):
            return x.text
        if isinstance(x, dict):
            return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{enc(y)}"
                                  for k, y in x.items()) + "}"
        if isinstance(x, list):
            return "[" + ",".join(enc(y) for y in x) + "]"
        return json.dumps(x, ensure_ascii=False)
    s = enc(v)
    return s if len(s) <= limit else s[:limit] + f"...({len(s)} chars)"


@dataclasses.dataclass
class Record:
    topic: str
    key: object       # payload part
    value: object     # payload part
    key_schema: object
    value_schema: object
    index: int        # line number in its file

    @property
    def op(self) -> str:
        if self.value is None:
            return "tombstone"
        if isinstance(self.value, dict):
            if "op" in self.value:
                return str(self.value["op"])
            if "status" in self.value:
                return str(self.value["status"])
        return "?"


MISSING = object()


def keyed_fields(schema):
    """A Connect schema with each struct's "fields" list turned into an object keyed by field
    name, so that a field one side lacks does not shift the others:
    valueschema.fields.after.fields.<column>.type."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "fields" and isinstance(v, list) and all(
                    isinstance(f, dict) and "field" in f for f in v):
                out[k] = {f["field"]: keyed_fields({x: y for x, y in f.items() if x != "field"})
                          for f in v}
            else:
                out[k] = keyed_fields(v)
        return out
    if isinstance(schema, list):
        return [keyed_fields(x) for x in schema]
    return schema


def to_record(line: str, index: int, schemas: bool) -> Record:
    obj = parse(line)
    key, value = obj.get("key"), obj.get("value")
    ks = vs = MISSING
    if schemas:
        ks, key = (key.get("schema", MISSING), key.get("payload", MISSING)) \
            if isinstance(key, dict) else (MISSING, key)
        vs, value = (value.get("schema", MISSING), value.get("payload", MISSING)) \
            if isinstance(value, dict) else (MISSING, value)
    # source.sequence is a JSON array in a string: compare its elements.
    source = value.get("source") if isinstance(value, dict) else None
    if isinstance(source, dict) and isinstance(source.get("sequence"), str):
        try:
            source["sequence"] = parse(source["sequence"])
        except ValueError:
            pass
    return Record(obj.get("topic"), key, value, keyed_fields(ks), keyed_fields(vs), index)


@dataclasses.dataclass
class Difference:
    kind: str            # value, missing-in-walcast, only-in-walcast, type, order, record
    topic: str
    op: str
    key: str
    path: str
    debezium: str
    walcast: str
    snapshot: bool


def _pair_key(r: Record):
    if r.topic.endswith(".transaction"):
        # Transaction ids are "<txid>:<lsn>" and the LSN is each consumer's choice: pair
        # BEGIN and END records by the transaction id part.
        tx = str(r.value.get("id", "")).split(":")[0] if isinstance(r.value, dict) else ""
        return (r.topic, tx, r.op)
    return (r.topic, render(r.key, 10 ** 6), r.op)


def pair(dbz: List[Record], wc: List[Record]):
    """Pairs records by topic, key and op, in order; returns (pairs, only_dbz, only_wc)."""
    groups: Dict[tuple, List[Record]] = {}
    for r in wc:
        groups.setdefault(_pair_key(r), []).append(r)
    pairs, only_dbz = [], []
    for r in dbz:
        g = groups.get(_pair_key(r))
        if g:
            pairs.append((r, g.pop(0)))
        else:
            only_dbz.append(r)
    only_wc = [r for g in groups.values() for r in g]
    only_wc.sort(key=lambda r: r.index)
    return pairs, only_dbz, only_wc


def _is_num(x):
    return isinstance(x, Num)


def diff_values(a, b, path: str, out: List[Tuple[str, str, object, object]]):
    """Appends (kind, path, debezium, walcast) for every difference under path."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(("missing-in-walcast", f"{path}.{k}", a[k], MISSING))
            else:
                diff_values(a[k], b[k], f"{path}.{k}", out)
        for k in b:
            if k not in a:
                out.append(("only-in-walcast", f"{path}.{k}", MISSING, b[k]))
        common_a = [k for k in a if k in b]
        common_b = [k for k in b if k in a]
        if common_a != common_b:
            out.append(("field-order", path, list(a), list(b)))
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(("value", path, a, b))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            diff_values(x, y, f"{path}[{i}]", out)
        return
    if type(a) is not type(b) and not (a is None or b is None):
        out.append(("type", path, a, b))
        return
    if a != b or (a is None) != (b is None):
        out.append(("value", path, a, b))


def _shape(v):
    if v is MISSING:
        return "absent"
    if v is None:
        return "null"
    return type(v).__name__


def _excluded(path: str, snapshot: bool, a=MISSING, b=MISSING) -> bool:
    """Whether a difference at path is one that must be (EXCLUDED_FIELDS and friends)."""
    if path in EXCLUDED_FIELDS:
        return True
    if not snapshot:
        return False
    if path in SNAPSHOT_SHAPE_ONLY:
        return _shape(a) == _shape(b)
    if path == "value.source.snapshot":
        return (a in SNAPSHOT_OVERALL_MARKERS or b in SNAPSHOT_OVERALL_MARKERS) and \
            "false" not in (a, b)
    return False


def _marker_counts(records: List[Record]):
    counts = {m: 0 for m in SNAPSHOT_OVERALL_MARKERS}
    for r in records:
        if r.op == "r":
            m = r.value.get("source", {}).get("snapshot")
            if m in counts:
                counts[m] += 1
    return counts


def _show(v) -> str:
    return "(absent)" if v is MISSING else render(v)


def compare(dbz_lines: List[str], wc_lines: List[str], schemas: bool) -> List[Difference]:
    dbz = [to_record(ln, i, schemas) for i, ln in enumerate(dbz_lines)]
    wc = [to_record(ln, i, schemas) for i, ln in enumerate(wc_lines)]
    pairs, only_dbz, only_wc = pair(dbz, wc)
    diffs: List[Difference] = []
    for r in only_dbz:
        diffs.append(Difference("record-missing-in-walcast", r.topic, r.op, render(r.key), "",
                                render(r.value), "(absent)", r.op == "r"))
    for r in only_wc:
        diffs.append(Difference("record-only-in-walcast", r.topic, r.op, render(r.key), "",
                                "(absent)", render(r.value), r.op == "r"))
    for d, w in pairs:
        snapshot = d.op == "r"
        raw: List[Tuple[str, str, object, object]] = []
        diff_values(d.key, w.key, "key", raw)
        diff_values(d.value, w.value, "value", raw)
        if schemas:
            diff_values(d.key_schema, w.key_schema, "keyschema", raw)
            diff_values(d.value_schema, w.value_schema, "valueschema", raw)
        for kind, path, a, b in raw:
            if kind != "field-order" and _excluded(path, snapshot, a, b):
                continue
            if kind == "field-order":
                a = [k for k in a if not _excluded(f"{path}.{k}", snapshot)]
                b = [k for k in b if not _excluded(f"{path}.{k}", snapshot)]
                if a == b:
                    continue
            diffs.append(Difference(kind, d.topic, d.op, render(d.key), path, _show(a),
                                    _show(b), snapshot))
    want = {m: 1 if any(r.op == "r" for r in dbz) else 0 for m in SNAPSHOT_OVERALL_MARKERS}
    for who, records in (("debezium", dbz), ("walcast", wc)):
        got = _marker_counts(records)
        if got != want:
            diffs.append(Difference("snapshot-markers", "(all)", "r", "", "value.source.snapshot",
                                    f"one of each: {want}", f"{who}: {got}", True))
    return diffs


# ---------------------------------------------------------------------------- deliberate

def load_deliberate(path: pathlib.Path = DELIBERATE) -> List[dict]:
    """The allow-list: each entry names what differs (regexes on topic, path, kind, modes),
    the reason, and optionally the values seen."""
    entries = json.loads(path.read_text(encoding="utf-8"))["differences"]
    for e in entries:
        if not e.get("reason"):
            raise ValueError(f"{path}: entry {e.get('id')} has no reason")
    return entries


def _mode_match(entry: dict, run: Run, schemas: str) -> bool:
    for k, v in entry.get("modes", {}).items():
        if k == "schemas":
            if v != schemas:
                return False
        elif not re.fullmatch(v, run.settings.get(k, "")):
            return False
    return True


def deliberate_for(d: Difference, run: Run, schemas: str, entries: List[dict]) -> Optional[dict]:
    for e in entries:
        if not _mode_match(e, run, schemas):
            continue
        if "kind" in e and not re.fullmatch(e["kind"], d.kind):
            continue
        if "topic" in e and not re.fullmatch(e["topic"], d.topic):
            continue
        if "path" in e and not re.fullmatch(e["path"], d.path):
            continue
        if "op" in e and not re.fullmatch(e["op"], d.op):
            continue
        if "key" in e and not re.fullmatch(e["key"], d.key):
            continue
        if "snapshot" in e and bool(e["snapshot"]) != d.snapshot:
            continue
        return e
    return None


DOCS_BEGIN = "<!-- generated from test/debezium/deliberate-differences.json -->"
DOCS_END = "<!-- end of generated list -->"


def docs_section(entries: List[dict]) -> str:
    """The list docs/types.md carries, one bullet per allow-list entry."""
    lines = [DOCS_BEGIN]
    for e in entries:
        lines.append(f"- {e['doc']} Why: {e['reason']}.")
    lines.append(DOCS_END)
    return "\n".join(lines)


def write_docs(entries: List[dict]):
    text = TYPES_DOC.read_text(encoding="utf-8")
    new = docs_section(entries)
    if DOCS_BEGIN in text:
        head, rest = text.split(DOCS_BEGIN, 1)
        tail = rest.split(DOCS_END, 1)[1]
        text = head + new + tail
    else:
        text = text.rstrip("\n") + "\n\n" + DOCS_HEADING + new + "\n"
    TYPES_DOC.write_text(text, encoding="utf-8")


DOCS_HEADING = """## Deliberate differences from Debezium

walcast's events are compared field by field with those of Debezium 3.6.1's PostgreSQL
connector (pgoutput) on the same changes, for every type and mode, schemas on and off,
snapshot and stream (`test/integration/test_debezium_conformance.py`). Besides the fields
that differ by nature (the envelope's `ts_ms`/`ts_us`/`ts_ns`; in snapshot rows the read
time, snapshot position and which row is the snapshot's overall `first`/`last`), these
differences are deliberate:

"""


# ---------------------------------------------------------------------------- report

def _generic_path(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def _group(d: Difference):
    """A kind of difference: column paths are per table, envelope paths across tables."""
    path = _generic_path(d.path)
    per_table = re.match(r"(value\.(after|before)|key)\b", path) or not path
    return (d.kind, path, d.topic if per_table else "")


def format_report(results: Dict[Tuple[str, str], List[Difference]],
                  failures: Dict[Tuple[str, str], List[str]], runs=RUNS,
                  limit_examples=3) -> str:
    """results: (run name, schemas) -> differences not on the allow-list."""
    by_name = {r.name: r for r in runs}
    lines = []
    for (run_name, schemas), fails in sorted(failures.items()):
        for f in fails:
            lines.append(f"!! run {run_name} schemas {schemas}: {f}")
    # Group by kind of difference: (kind, topic, generic path), over every run.
    groups: Dict[tuple, List[tuple]] = {}
    for (run_name, schemas), diffs in results.items():
        for d in diffs:
            groups.setdefault(_group(d), []).append((run_name, schemas, d))
    if not groups and not failures:
        lines.append("no differences")
    for (kind, path, table), items in sorted(groups.items(), key=lambda kv: kv[0]):
        where = sorted({f"{r}/schemas-{s}" for r, s, _ in items})
        topics = sorted({d.topic for _, _, d in items})
        ops: Dict[str, int] = {}
        for _, _, d in items:
            ops[d.op] = ops.get(d.op, 0) + 1
        lines.append(f"== {kind}: {path or '(whole record)'}{' of ' + table if table else ''}"
                     f"  [{len(items)}x; ops {', '.join(f'{o} {n}x' for o, n in ops.items())};"
                     f" {', '.join(where)}; topics {', '.join(topics)[:300]}]")
        seen = set()
        for run_name, schemas, d in items:
            sig = (d.debezium, d.walcast)
            if sig in seen:
                continue
            seen.add(sig)
            if len(seen) > limit_examples:
                lines.append("   ...")
                break
            lines.append(f"   run {run_name} ({by_name[run_name].describe()}), schemas "
                         f"{schemas}, op {d.op}{' (snapshot)' if d.snapshot else ''}, "
                         f"key {d.key}, path {d.path}")
            lines.append(f"     debezium: {d.debezium}")
            lines.append(f"     walcast:  {d.walcast}")
    return "\n".join(lines) + "\n"


def evaluate(captured: Dict[str, Captured], entries: List[dict]):
    """-> (unexpected differences, allowed differences, failures), keyed (run, schemas)."""
    unexpected, allowed, failures = {}, {}, {}
    for name, cap in captured.items():
        for schemas in ("off", "on"):
            key = (name, schemas)
            fails = [cap.failures[(who, schemas)] for who in ("debezium", "walcast")
                     if (who, schemas) in cap.failures]
            if fails:
                failures[key] = fails
            if ("walcast", schemas) in cap.failures:
                continue  # its output is incomplete: the failure is the difference
            diffs = compare(cap.lines[("debezium", schemas)], cap.lines[("walcast", schemas)],
                            schemas == "on")
            for d in diffs:
                e = deliberate_for(d, cap.run, schemas, entries)
                (allowed if e else unexpected).setdefault(key, []).append(d)
    return unexpected, allowed, failures


# ---------------------------------------------------------------------------- script

def main(argv):
    """Captures every run on a throwaway server and writes outputs and reports to outdir;
    --docs rewrites docs/types.md's list of deliberate differences instead."""
    if argv[1:] == ["--docs"]:
        write_docs(load_deliberate())
        return
    from pg_server import throwaway_server
    outdir = pathlib.Path(argv[1]).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="walcast-conform-"))
    t0 = time.time()
    with throwaway_server() as server:
        captured = capture(server, work)
    elapsed = time.time() - t0
    for f in work.iterdir():
        if f.suffix in (".jsonl", ".properties", ".log"):
            shutil.copy(f, outdir / f.name)
    for f in WORKLOAD.iterdir():
        shutil.copy(f, outdir / f"workload-{f.name}")
    entries = load_deliberate() if DELIBERATE.exists() else []
    unexpected, allowed, failures = evaluate(captured, entries)
    (outdir / "diff-report.txt").write_text(
        f"# walcast ({WALCAST_BIN}) vs Debezium 3.6.1, capture took {elapsed:.0f}s\n"
        "# differences not on the allow-list, grouped by kind, topic and field path\n"
        + format_report(unexpected, failures))
    (outdir / "allowed-report.txt").write_text(
        "# differences on the allow-list (test/debezium/deliberate-differences.json)\n"
        + format_report(allowed, {}))
    print(f"capture {elapsed:.0f}s; report in {outdir / 'diff-report.txt'}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
