"""docs/sinks/starrocks.md on walcast's real events, without a StarRocks server.

No StarRocks runs here, so the DDL and the Routine Load statement are not executed. What
depends on walcast is checked: the doc's `jsonpaths`, evaluated with a JSONPath library on
every record of a real topic (initial snapshot, then inserts, updates, deletes and key
changes), mapped onto the doc's COLUMNS names; the computed columns as the doc writes them
(key from `after` or `before`, `__op`, the version from `source.sequence`); folded by key
with the doc's merge condition, the result must equal the source.
"""

import datetime as dt
import json
import re

from jsonpath_ng import parse as jsonpath

import sink_load
from kafka_fixture import ROOT, Walcast, kafka_broker, kafka_pg, unique_name  # noqa: F401

DOC = ROOT / "docs" / "sinks" / "starrocks.md"


def doc_settings() -> dict:
    block = re.search(r"```properties\n(.*?)```", DOC.read_text(), re.S).group(1)
    return dict(line.split("=", 1) for line in block.splitlines()
                if line and not line.startswith("#"))


def doc_routine_load():
    """(loaded column names, jsonpaths) of the doc's CREATE ROUTINE LOAD."""
    text = DOC.read_text()
    block = re.search(r"<!-- tested:.*?```sql\n(.*?)```", text, re.S).group(1)
    columns = re.search(r"COLUMNS \((.*?)\)\nWHERE", block, re.S).group(1)
    names = []
    for item in columns.split(","):
        item = item.strip()
        if "=" in item:
            break
        names.append(item)
    paths = json.loads(re.search(r'"jsonpaths" = "(.*?)",\n', block).group(1).replace('\\"', '"'))
    assert "WHERE op IN ('r', 'c', 'u', 'd')" in block
    assert "id = coalesce(after_id, before_id)" in block
    assert "__op = if(op = 'd', 1, 0)" in block
    assert '"merge_condition" = "version"' in block
    return names, [jsonpath(p) for p in paths]


def load_row(names, paths, event: dict) -> dict:
    """One event as Routine Load would map it: jsonpaths onto names, then COLUMNS."""
    row = {}
    for name, path in zip(names, paths, strict=True):
        found = path.find(event)
        row[name] = found[0].value if found else None
    row["id"] = row["after_id"] if row["after_id"] is not None else row["before_id"]
    row["__op"] = 1 if row["op"] == "d" else 0
    commit, change = json.loads(row["sequence"])
    row["version"] = int(commit) * 2**64 + int(change)
    return row


def render(row: dict) -> tuple:
    """The loaded columns read back as sink_load.rows() renders the source."""
    def ts(us):
        return (sink_load.EPOCH + dt.timedelta(microseconds=us)).strftime("%Y-%m-%d %H:%M:%S.%f")
    paid = row["paid_at"]
    return sink_load.canonical((
        row["id"], row["sku"], row["price"], row["weight"],
        None if row["born"] is None else dt.date(1970, 1, 1) + dt.timedelta(days=row["born"]),
        None if row["seen"] is None else ts(row["seen"]),
        None if row["seen_ms"] is None else ts(row["seen_ms"] * 1000)[:-3],
        None if paid is None else paid.replace("T", " ").rstrip("Z"),
        None if row["opens"] is None else row["opens"],
        row["note"]))


def test_starrocks_jsonpaths_fold_to_source(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    prefix = unique_name("shop")
    topic = f"{prefix}.public.items"
    broker.create_topic(topic, 3)
    sink_load.create_items(pg)
    sink_load.seed(pg)
    names, paths = doc_routine_load()

    settings = doc_settings()
    assert settings.pop("topic.prefix") == "shop" and settings.pop("table.include.list")
    walcast = Walcast(tmp_path, pg, broker, prefix, "public.items",
                      {**settings, "snapshot.mode": "initial"}).start()
    try:
        counts, expected, records = sink_load.load_and_read(pg, broker, walcast, topic)
    finally:
        walcast.terminate()
    assert counts["delete"] and counts["key change"] and counts["update"]
    assert all(r.raw_value is not None for r in records), "tombstones with tombstones.on.delete=false"

    table, ops = {}, {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = r.value
        row = load_row(names, paths, event)
        op = row["op"]
        ops[op] = ops.get(op, 0) + 1
        # What each op gives the mapping: the key always, the row for upserts.
        assert row["id"] == json.loads(r.key)["id"], (row, r.key)
        if op == "d":
            assert row["after_id"] is None and row["before_id"] is not None and row["__op"] == 1
        else:
            assert op in ("r", "c", "u") and row["after_id"] is not None and row["__op"] == 0
            assert row["sku"] == event["after"]["sku"]
        held = table.get(row["id"])
        if row["__op"] == 1:
            table.pop(row["id"], None)
        elif held is None or row["version"] >= held["version"]:  # merge_condition
            table[row["id"]] = row
    print(f"\nload: {counts}; ops in the topic: {ops}")
    assert set(ops) == {"r", "c", "u", "d"}

    got = {k: render(v) for k, v in table.items()}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    differ = [(k, expected[k], got[k]) for k in sorted(set(got) & set(expected))
              if got[k] != expected[k]]
    assert not missing and not extra and not differ, (
        f"missing {missing[:10]}, extra {extra[:10]}, differing {differ[:5]}")
