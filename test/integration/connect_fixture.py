"""A Kafka Connect standalone worker (test/connect/connect.sh) running Debezium's JDBC
sink, for the tests that prove walcast's topics feed real Connect consumers.

The worker's jars come from Maven Central (test/connect/pom.xml). If they cannot be
fetched or the worker cannot start, the test FAILS (pytest.fail), never skips.
"""

import json
import pathlib
import re
import subprocess
import time
import urllib.error
import urllib.request
from typing import Dict, List, Sequence

import pytest

from jvm_script import run_script
from pg_server import PgServer, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONNECT_DIR = ROOT / "test" / "connect"
CONNECT_SH = CONNECT_DIR / "connect.sh"


def _sh(*args, timeout):
    return run_script(CONNECT_SH, *args, timeout=timeout, stderr_tail=6000,
                      needs="the JDBC-sink tests need a real Kafka Connect worker").stdout


def render(template: str, out: pathlib.Path, **values) -> pathlib.Path:
    """test/connect/<template> with each @KEY@ replaced by values[KEY]; fails on a
    placeholder left unfilled."""
    text = (CONNECT_DIR / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    if "@" in "".join(line for line in text.splitlines() if not line.startswith("#")):
        pytest.fail(f"{template}: placeholder left unfilled:\n{text}", pytrace=False)
    out.write_text(text)
    return out


class ConnectWorker:
    """One standalone worker in `workdir` with the connectors given to start()."""

    def __init__(self, workdir: pathlib.Path, bootstrap: str):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.bootstrap = bootstrap
        self.url = None
        self.names: List[str] = []

    def connector_file(self, template: str, name: str, **values) -> pathlib.Path:
        self.names.append(name)
        return render(template, self.workdir / f"{name}.properties", NAME=name, **values)

    def start(self, connector_files: Sequence[pathlib.Path]):
        _sh("fetch", timeout=900)
        plugin_path = _sh("plugin-path", timeout=30).strip()
        worker = render("worker.properties.in", self.workdir / "worker.properties",
                        BOOTSTRAP=self.bootstrap, REST_PORT=free_port(),
                        PLUGIN_PATH=plugin_path, DIR=self.workdir)
        out = _sh("start", str(self.workdir), str(worker), *map(str, connector_files),
                  timeout=180).strip().splitlines()
        if not out:
            pytest.fail("connect.sh start printed no URL", pytrace=False)
        self.url = out[-1].strip()
        return self

    def stop(self):
        subprocess.run([str(CONNECT_SH), "stop", str(self.workdir)], capture_output=True,
                       timeout=60)

    def log_tail(self, n=80) -> str:
        try:
            lines = (self.workdir / "connect.log").read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no connect.log)"
        return "\n".join(lines[-n:])

    def status(self, name: str) -> dict:
        try:
            with urllib.request.urlopen(f"{self.url}/connectors/{name}/status",
                                        timeout=10) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as e:
            return {"error": f"HTTP {e.code}: {e.read().decode(errors='replace')}"}

    def failures(self) -> Dict[str, str]:
        """name -> the failed connector's or task's trace, for every failed one."""
        out = {}
        for name in self.names:
            st = self.status(name)  # an error here: not registered yet, not failed
            for part in [st.get("connector", {})] + st.get("tasks", []):
                if part.get("state") == "FAILED":
                    out[name] = part.get("trace", "(no trace)")
        return out

    def rejected_records(self) -> List[str]:
        """The records Connect's error reporter logged (errors.log.enable), read back
        from Kafka: topic, offset, key and value of each."""
        try:
            text = (self.workdir / "connect.log").read_text(errors="replace")
        except FileNotFoundError:
            return []
        found = sorted(set(re.findall(
            r"Error encountered in task (\S+)\. Executing stage '(\w+)'.*?consumed record is "
            r"\{topic='([^']+)', partition=(\d+), offset=(\d+)", text)))
        out = []
        for task, stage, topic, partition, offset in found[:5]:
            key, value = _read_record(self.bootstrap, topic, int(partition), int(offset))
            out.append(f"--- {task} rejected {topic}[{partition}]@{offset} at {stage} "
                       f"(payloads; the schemas left out):\n"
                       f"key:   {_payload(key)[:1500]}\nvalue: {_payload(value)[:3000]}")
        return out

    def assert_healthy(self):
        failed = self.failures()
        if failed:
            pytest.fail("Kafka Connect reports failed connectors:\n" + "\n\n".join(
                f"--- {name}:\n{trace[-3000:]}" for name, trace in failed.items())
                + "\n\n" + "\n".join(self.rejected_records()), pytrace=False)

    def wait_running(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.assert_healthy()
            states = [self.status(n) for n in self.names]
            if all(s.get("connector", {}).get("state") == "RUNNING" and s.get("tasks")
                   and all(t.get("state") == "RUNNING" for t in s["tasks"]) for s in states):
                return
            time.sleep(0.5)
        pytest.fail(f"connectors not RUNNING after {timeout}s: {states}\n{self.log_tail()}",
                    pytrace=False)


def _payload(text: str) -> str:
    """The payload of a {"schema":..,"payload":..} message, else the text as it is."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict) and set(doc) == {"schema", "payload"}:
        return json.dumps(doc["payload"])
    return text


def _read_record(bootstrap: str, topic: str, partition: int, offset: int):
    """(key, value) of one record as text ("(null)" for null, "?" if unreadable)."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "walcast-connect-check",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        msg = consumer.poll(10)
        if msg is None or msg.error():
            return "?", "?"
        text = lambda b: "(null)" if b is None else b.decode(errors="replace")  # noqa: E731
        return text(msg.key()), text(msg.value())
    finally:
        consumer.close()


# --------------------------------------------------------------------------
# Comparing tables of two databases.

def _canonical(value):
    """A column value in a form that compares equal across the column types the JDBC
    sink may choose when it creates a table itself (numeric vs numeric(p,s), uuid vs
    text, json vs jsonb...)."""
    import datetime
    import decimal
    import uuid
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, decimal.Decimal):
        return value.normalize() if value.is_finite() else value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def table_rows(pg: PgServer, dbname: str, table: str, columns: Sequence[str],
               order_by: Sequence[str]) -> List[tuple]:
    cols = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{c}"' for c in order_by)
    rows = pg.execute(f"SELECT {cols} FROM {table} ORDER BY {order}", dbname=dbname)
    return [tuple(_canonical(v) for v in row) for row in rows]


def _same_value(source, target) -> bool:
    import decimal
    if source == target:
        return True
    # A column the sink created itself for Debezium's VariableScaleDecimal (numeric
    # without a declared scale) is double precision: equal if the double is.
    return (isinstance(source, decimal.Decimal) and isinstance(target, float)
            and float(source) == target)


def same_rows(source: List[tuple], target: List[tuple]) -> bool:
    return len(source) == len(target) and all(
        len(s) == len(t) and all(_same_value(a, b) for a, b in zip(s, t))
        for s, t in zip(source, target))


def _short(row: tuple) -> str:
    """A row's repr with long values cut (TOASTed text is kilobytes)."""
    def cut(v):
        r = repr(v)
        return r if len(r) <= 120 else f"{r[:60]}...{r[-20:]} ({len(v)} long)"
    return "(" + ", ".join(cut(v) for v in row) + ")"


def rows_diff(source: List[tuple], target: List[tuple], key_len: int) -> str:
    """The rows that differ, by key: missing, extra, changed."""
    src = {r[:key_len]: r for r in source}
    tgt = {r[:key_len]: r for r in target}
    lines = []
    for key in sorted(set(src) | set(tgt), key=repr):
        if key not in tgt:
            lines.append(f"  missing in target: {_short(src[key])}")
        elif key not in src:
            lines.append(f"  extra in target:   {_short(tgt[key])}")
        elif not same_rows([src[key]], [tgt[key]]):
            lines.append(f"  differs: source {_short(src[key])}\n"
                         f"           target {_short(tgt[key])}")
    return "\n".join(lines[:40]) + (f"\n  ... {len(lines) - 40} more" if len(lines) > 40 else "")


def table_exists(pg: PgServer, dbname: str, schema: str, table: str) -> bool:
    return bool(pg.execute("SELECT to_regclass(%s) IS NOT NULL", f'"{schema}"."{table}"',
                           dbname=dbname)[0][0])
