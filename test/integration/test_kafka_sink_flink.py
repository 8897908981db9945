"""docs/sinks/flink.md: walcast's real events decoded by Flink's debezium-json format.

walcast streams an initial snapshot and a mixed load of `items` (REPLICA IDENTITY FULL,
the doc's settings) into a real broker; test/flink/FlinkFold.java decodes every record
with flink-json's DebeziumJsonDeserializationSchema, folds the changelog rows (checking
that each retraction carries the row it retracts) and the result must equal the source.
A table left at REPLICA IDENTITY DEFAULT must be refused by the format, as the doc says.
"""

import json
import re
import subprocess

import sink_load
from kafka_fixture import ROOT, Walcast, kafka_broker, kafka_pg, unique_name  # noqa: F401

DOC = ROOT / "docs" / "sinks" / "flink.md"
FLINK_SH = ROOT / "test" / "flink" / "flink.sh"


def doc_settings() -> dict:
    block = re.search(r"```properties\n(.*?)```", DOC.read_text(), re.S).group(1)
    return dict(line.split("=", 1) for line in block.splitlines()
                if line and not line.startswith("#"))


def fold(tmp_path, records, name):
    events = tmp_path / f"{name}.events"
    with open(events, "wb") as f:
        for r in records:
            f.write((r.raw_value or b"") + b"\n")
    out = tmp_path / f"{name}.rows"
    proc = subprocess.run(["bash", str(FLINK_SH), "fold", str(events), str(out)],
                          capture_output=True, text=True, timeout=600)
    return proc, out


def test_flink_debezium_json_folds_to_source(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    prefix = unique_name("shop")
    topic = f"{prefix}.public.items"
    broker.create_topic(topic, 3)
    # Made up front: a read that starts before the sidecar's producer created the topic
    # finds no topic and returns nothing.
    broker.create_topic(f"{prefix}.public.items_default", 1)
    sink_load.create_items(pg, replica_identity_full=True)
    pg.execute(sink_load.ITEMS_DDL.replace("items", "items_default"))
    sink_load.seed(pg)

    settings = doc_settings()
    assert settings.pop("topic.prefix") == "shop" and settings.pop("table.include.list")
    walcast = Walcast(tmp_path, pg, broker, prefix, "public.items,public.items_default",
                      {**settings, "snapshot.mode": "initial"}).start()
    try:
        counts, expected, records = sink_load.load_and_read(pg, broker, walcast, topic)
        # Streaming for sure now (the snapshot is behind): an insert and an update.
        pg.execute("INSERT INTO items_default (id, sku) VALUES (1, 'a')")
        pg.execute("UPDATE items_default SET sku = 'b' WHERE id = 1")
        default_records = broker.read([f"{prefix}.public.items_default"], min_count=2,
                                      timeout=30, idle=1)
    finally:
        walcast.terminate()
    print(f"\nload: {counts}; {len(records)} records")
    assert counts["delete"] and counts["key change"] and counts["update"]

    proc, out = fold(tmp_path, records, "items")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = {}
    for line in out.read_text().splitlines():
        row = sink_load.canonical(json.loads(line))
        got[row[0]] = row
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    differ = [(k, expected[k], got[k]) for k in sorted(set(got) & set(expected))
              if got[k] != expected[k]]
    assert not missing and not extra and not differ, (
        f"missing {missing[:10]}, extra {extra[:10]}, differing {differ[:5]}")

    # REPLICA IDENTITY DEFAULT: the update's `before` is null and the format refuses it.
    assert [json.loads(r.raw_value)["op"] for r in default_records] == ["c", "u"]
    proc, _ = fold(tmp_path, default_records, "items_default")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "REPLICA IDENTITY to FULL" in proc.stderr, proc.stderr[-3000:]
