"""docs/sinks/clickhouse.md, run as written against a real ClickHouse reading a real broker.

ClickHouse is the one `chdb` embeds (test/requirements.txt); its Kafka engine consumes the
topic walcast writes, the materialized view of the recipe decodes each event, and the
ReplacingMergeTree read with FINAL must equal the source row for row after an initial
snapshot and a mixed load (inserts, updates, deletes, key changes, rolled-back
transactions) on a three-partition topic.
"""

import pathlib
import re
import time

import pytest

import sink_load
from kafka_fixture import ROOT, Walcast, kafka_broker, kafka_pg, unique_name  # noqa: F401

try:
    from chdb import session as chdb_session
except ImportError as e:  # a missing test dependency is a failure, not a skip
    raise ImportError("chdb is required (pip install -r test/requirements.txt)") from e

DOC = ROOT / "docs" / "sinks" / "clickhouse.md"


def doc_statements(doc: pathlib.Path, broker: str, topic: str, group: str):
    """The SQL statements of the doc's tested section, with this run's broker and topic."""
    text = doc.read_text()
    start = text.index("<!-- tested DDL")
    end = text.index("<!-- end of tested DDL -->")
    blocks = re.findall(r"```sql\n(.*?)```", text[start:end], re.S)
    assert len(blocks) == 3, "the doc's tested section lost its sql blocks"
    sql = "\n".join(blocks)
    sql = (sql.replace("'localhost:9092'", f"'{broker}'")
              .replace("'shop.public.items'", f"'{topic}'")
              .replace("'clickhouse-shop-items'", f"'{group}'"))
    return [s.strip() for s in sql.split(";\n") if s.strip().rstrip(";")]


def doc_settings(doc: pathlib.Path) -> dict:
    block = re.search(r"```properties\n(.*?)```", doc.read_text(), re.S).group(1)
    return dict(line.split("=", 1) for line in block.splitlines()
                if line and not line.startswith("#"))


FINAL_QUERY = ("SELECT id, sku, toString(price), toString(weight), toString(born), "
               "toString(seen), toString(seen_ms), toString(paid_at), toString(opens_us), note "
               "FROM shop.items FINAL ORDER BY id FORMAT JSONCompactEachRow")


def clickhouse_rows(ch) -> dict:
    import json
    out = {}
    for line in ch.query(FINAL_QUERY).bytes().decode().splitlines():
        r = json.loads(line)
        out[int(r[0])] = sink_load.canonical(r)
    return out


def test_clickhouse_recipe_equals_source(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    prefix = unique_name("shop")
    topic = f"{prefix}.public.items"
    broker.create_topic(topic, 3)
    sink_load.create_items(pg)
    sink_load.seed(pg)

    settings = doc_settings(DOC)
    assert settings.pop("topic.prefix") == "shop" and settings.pop("table.include.list")
    walcast = Walcast(tmp_path, pg, broker, prefix, "public.items",
                      {**settings, "snapshot.mode": "initial"}).start()

    ch = chdb_session.Session(str(tmp_path / "chdb"))
    try:
        for stmt in doc_statements(DOC, broker.bootstrap, topic, unique_name("ch")):
            ch.query(stmt)
        counts = sink_load.mixed_load(pg)
        print(f"\nload: {counts}")
        expected = sink_load.rows(pg)

        got, deadline = {}, time.time() + 90
        while time.time() < deadline:
            walcast.assert_alive()
            got = clickhouse_rows(ch)
            if got == expected:
                break
            time.sleep(1)
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        differ = [(k, expected[k], got[k]) for k in sorted(set(got) & set(expected))
                  if got[k] != expected[k]]
        assert not missing and not extra and not differ, (
            f"missing {missing[:10]}, extra {extra[:10]}, differing {differ[:5]}")
        assert counts["delete"] and counts["key change"] and counts["update"]
        # Without FINAL the unmerged versions and deletes are still there: FINAL did the work.
        versions = int(ch.query("SELECT count() FROM shop.items", "CSV").bytes())
        print(f"{len(expected)} rows equal; {versions} versions stored")
    finally:
        ch.query("DROP TABLE IF EXISTS shop.items_mv")
        ch.query("DROP TABLE IF EXISTS shop.items_queue")
        ch.close()
        walcast.terminate()
