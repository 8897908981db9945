"""What a sink holds, compared with what the source committed (test/integration/mixed_load.py).

Two checks, both counted:
- events: every change the load committed must be in the sink at least once
  (missing otherwise); anything else in the sink is extra (a rolled-back change, a
  change that never happened); copies beyond the first are duplicates, which
  at-least-once delivery allows.
- fold: the last value per key (deletes and tombstones remove) must equal the source
  table row by row; a source row absent from the fold or different in it counts as
  missing, a folded row the source does not have as extra.
"""

import json
import pathlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from mixed_load import TABLES


# The summary line of each scenario run in this session; conftest.py prints them at the
# end of the run (pytest shows a passing test's output only with -s).
SUMMARY_LINES: List[str] = []


@dataclass
class SinkRecord:
    """One record of a Kafka topic or one line of the file sink."""
    topic: str
    partition: int
    offset: int  # the line number for the file sink
    key: tuple  # key column values
    value: Optional[dict]  # None: tombstone

    @property
    def table(self) -> str:
        return self.topic.rsplit(".", 1)[-1]

    @property
    def commit_lsn(self) -> int:
        return int(json.loads(self.value["source"]["sequence"])[0])

    def identity(self) -> tuple:
        """(table, key, op, version): names the change, as mixed_load does."""
        if self.value is None:
            return (self.table, self.key, "tomb", None)
        op = self.value["op"]
        if op == "d":
            return (self.table, self.key, "d", None)
        return (self.table, self.key, op, self.value["after"]["version"])


def _key(raw: Optional[str]) -> tuple:
    return () if raw is None else tuple(json.loads(raw).values())


def from_kafka(records: Iterable) -> List[SinkRecord]:
    """kafka_fixture.Record -> SinkRecord, in (topic, partition, offset) order."""
    out = [SinkRecord(r.topic, r.partition, r.offset, _key(r.key), r.value) for r in records]
    out.sort(key=lambda r: (r.topic, r.partition, r.offset))
    return out


def from_file(path: pathlib.Path) -> Tuple[List[SinkRecord], List[Tuple[int, str]]]:
    """The file sink's lines -> (records, damaged lines as (line number, length, start, end)).

    A damaged line is one that is not a complete JSON object: a write cut short,
    or the start of a later line glued to it.
    """
    records, damaged = [], []
    data = pathlib.Path(path).read_bytes()
    lines = data.split(b"\n")
    complete = lines[:-1]

    def describe(n, line):
        return (n, len(line), line[:100].decode(errors="replace"),
                line[-100:].decode(errors="replace"))

    if lines[-1]:
        damaged.append(describe(len(lines), lines[-1]))
    for n, line in enumerate(complete, 1):
        try:
            obj = json.loads(line)
            rec = SinkRecord(obj["topic"], 0, n,
                             () if obj["key"] is None else tuple(obj["key"].values()),
                             obj["value"])
        except (ValueError, KeyError, TypeError, AttributeError):
            damaged.append(describe(n, line))
            continue
        records.append(rec)
    return records, damaged


def fold(records: List[SinkRecord]) -> Dict[str, Dict[tuple, dict]]:
    """table -> key -> last `after` (records in sink order per key)."""
    out: Dict[str, Dict[tuple, dict]] = {t: {} for t in TABLES}
    for r in records:
        if r.table not in out:
            continue
        rows = out[r.table]
        if r.value is None or r.value["op"] == "d":
            rows.pop(r.key, None)
        else:
            rows[r.key] = r.value["after"]
    return out


@dataclass
class FoldReport:
    scenario: str
    events: int  # changes committed (each tombstone counted as one)
    received: int  # records of the load's tables in the sink
    missing_events: List = field(default_factory=list)
    extra_events: List = field(default_factory=list)
    duplicates: int = 0
    duplicates_by_table: Dict[str, int] = field(default_factory=dict)
    missing_rows: List = field(default_factory=list)  # (table, key): absent or different
    extra_rows: List = field(default_factory=list)
    damaged_lines: List = field(default_factory=list)

    @property
    def missing(self) -> int:
        return len(self.missing_events) + len(self.missing_rows)

    @property
    def extra(self) -> int:
        return len(self.extra_events) + len(self.extra_rows)

    def line(self) -> str:
        s = (f"campaign {self.scenario}: events={self.events} missing={self.missing} "
             f"extra={self.extra} duplicates={self.duplicates}")
        if self.damaged_lines:
            s += f" damaged_lines={len(self.damaged_lines)}"
        return s

    def details(self) -> str:
        parts = [f"  received {self.received} records; missing: {len(self.missing_events)} "
                 f"events, {len(self.missing_rows)} rows absent or different in the fold; "
                 f"extra: {len(self.extra_events)} events, {len(self.extra_rows)} rows; "
                 f"duplicates per table: {self.duplicates_by_table}"]
        for what, items in (("missing event", self.missing_events),
                            ("missing/different row", self.missing_rows),
                            ("extra event", self.extra_events), ("extra row", self.extra_rows),
                            ("damaged line", self.damaged_lines)):
            parts += [f"  {what}: {x}" for x in items[:5]]
        return "\n".join(parts)


def compare(scenario: str, records: List[SinkRecord], committed: List[tuple],
            source: Dict[str, Dict[tuple, dict]], damaged_lines=()) -> FoldReport:
    records = [r for r in records if r.table in TABLES]
    seen = Counter(r.identity() for r in records)
    expected = set(committed)
    assert len(expected) == len(committed), "the load named two changes alike"
    report = FoldReport(scenario, len(committed), len(records),
                        damaged_lines=list(damaged_lines))
    report.missing_events = [e for e in committed if e not in seen]
    report.extra_events = sorted((e for e in seen if e not in expected), key=repr)
    report.duplicates = sum(n - 1 for n in seen.values())
    for (table, *_), n in seen.items():
        if n > 1:
            report.duplicates_by_table[table] = report.duplicates_by_table.get(table, 0) + n - 1
    folded = fold(records)
    for table, rows in source.items():
        got = folded[table]
        report.missing_rows += [(table, k, rows[k], got.get(k)) for k in rows
                                if got.get(k) != rows[k]]
        report.extra_rows += [(table, k, got[k]) for k in got if k not in rows]
    return report


def duplicated(records: List[SinkRecord]) -> Dict[tuple, List[SinkRecord]]:
    """identity -> its copies (sink order), for changes present more than once."""
    copies: Dict[tuple, List[SinkRecord]] = {}
    for r in records:
        if r.table in TABLES:
            copies.setdefault(r.identity(), []).append(r)
    return {k: v for k, v in copies.items() if len(v) > 1}
