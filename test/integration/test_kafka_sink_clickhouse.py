"""docs/sinks/clickhouse.md, run as written against a real ClickHouse reading a real broker.

ClickHouse is the one `chdb` embeds (test/requirements.txt); its Kafka engine consumes the
topic walcast writes, the materialized view of the recipe decodes each event, and the
ReplacingMergeTree read with FINAL must equal the source row for row after an initial
snapshot and a mixed load (inserts, updates, deletes, key changes, rolled-back
transactions) on a three-partition topic.
"""

import json
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


def doc_statements(doc: pathlib.Path, broker: str, topic: str, group: str,
                   database: str = "shop", precise: bool = False):
    """The SQL statements of the doc's tested section, with this run's broker, topic and
    database; `precise`: the variant of its "Precise decimals" section."""
    text = doc.read_text()
    start = text.index("<!-- tested DDL")
    end = text.index("<!-- end of tested DDL -->")
    blocks = re.findall(r"```sql\n(.*?)```", text[start:end], re.S)
    assert len(blocks) == 3, "the doc's tested section lost its sql blocks"
    sql = "\n".join(blocks)
    if precise:
        function, columns = re.findall(r"```sql\n(.*?)```",
                                       text[text.index("<!-- precise:"):], re.S)[:2]
        cast_lines = re.findall(r"^ *CAST\(JSONExtract\(row, '(?:price|weight)'.*\n", sql, re.M)
        assert len(cast_lines) == 2, "the view's decimal columns changed"
        sql = sql.replace(cast_lines[0], columns).replace(cast_lines[1], "")
        sql = function + "\n" + sql
    sql = (sql.replace("'localhost:9092'", f"'{broker}'")
              .replace("'shop.public.items'", f"'{topic}'")
              .replace("'clickhouse-shop-items'", f"'{group}'")
              .replace("DATABASE IF NOT EXISTS shop;", f"DATABASE IF NOT EXISTS {database};")
              .replace("shop.items", f"{database}.items"))
    return [s.strip() for s in sql.split(";\n") if s.strip().rstrip(";")]


# chdb's ClickHouse is built without base64Decode (a server has it): the same, in SQL.
BASE64_DECODE = [
    """CREATE FUNCTION walcast_test_bits AS (text) -> arrayStringConcat(arrayMap(
         ch -> substring(bin(toUInt8(position(
             'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', ch) - 1)), 3, 6),
         splitByString('', replaceAll(ifNull(text, ''), '=', ''))))""",
    """CREATE FUNCTION base64Decode AS (encoded) ->
         unbin(substring(walcast_test_bits(encoded), 1,
                         intDiv(length(walcast_test_bits(encoded)), 8) * 8))""",
]


def doc_settings(doc: pathlib.Path) -> dict:
    block = re.search(r"```properties\n(.*?)```", doc.read_text(), re.S).group(1)
    return dict(line.split("=", 1) for line in block.splitlines()
                if line and not line.startswith("#"))


FINAL_QUERY = ("SELECT id, sku, toString(price), toString(weight), toString(born), "
               "toString(seen), toString(seen_ms), toString(paid_at), toString(opens_us), note "
               "FROM {database}.items FINAL ORDER BY id FORMAT JSONCompactEachRow")


def clickhouse_rows(ch, database) -> dict:
    out = {}
    for line in ch.query(FINAL_QUERY.format(database=database)).bytes().decode().splitlines():
        r = json.loads(line)
        out[int(r[0])] = sink_load.canonical(r)
    return out


def test_clickhouse_recipe_equals_source(kafka_broker, kafka_pg, tmp_path):
    """Two pipelines side by side: the recipe (decimal.handling.mode=string) into `shop`,
    and its precise-decimals variant (walcast's default decimal mode) into `shop_precise`."""
    pg, broker = kafka_pg, kafka_broker
    sink_load.create_items(pg)
    sink_load.seed(pg)
    settings = doc_settings(DOC)
    assert settings.pop("topic.prefix") == "shop" and settings.pop("table.include.list")
    assert settings == {"decimal.handling.mode": "string"}, "the recipe's settings changed"

    pipelines = []  # (database, walcast)
    ch = chdb_session.Session(str(tmp_path / "chdb"))
    try:
        for stmt in BASE64_DECODE:
            ch.query(stmt)
        for database, extra in (("shop", settings), ("shop_precise", {})):
            prefix = unique_name(database)
            topic = f"{prefix}.public.items"
            broker.create_topic(topic, 3)
            workdir = tmp_path / database
            workdir.mkdir()
            walcast = Walcast(workdir, pg, broker, prefix, "public.items",
                              {**extra, "snapshot.mode": "initial"}).start()
            pipelines.append((database, walcast))
            for stmt in doc_statements(DOC, broker.bootstrap, topic, unique_name("ch"),
                                       database, precise=database == "shop_precise"):
                ch.query(stmt)
        counts = sink_load.mixed_load(pg)
        print(f"\nload: {counts}")
        assert counts["delete"] and counts["key change"] and counts["update"]
        expected = sink_load.rows(pg)

        for database, walcast in pipelines:
            got, deadline = {}, time.time() + 90
            while time.time() < deadline:
                walcast.assert_alive()
                got = clickhouse_rows(ch, database)
                if got == expected:
                    break
                time.sleep(1)
            missing = sorted(set(expected) - set(got))
            extra = sorted(set(got) - set(expected))
            differ = [(k, expected[k], got[k]) for k in sorted(set(got) & set(expected))
                      if got[k] != expected[k]]
            assert not missing and not extra and not differ, (
                f"{database}: missing {missing[:10]}, extra {extra[:10]}, "
                f"differing {differ[:5]}")
            versions = int(ch.query(f"SELECT count() FROM {database}.items", "CSV").bytes())
            print(f"{database}: {len(expected)} rows equal; {versions} versions stored")
    finally:
        for database, walcast in pipelines:
            ch.query(f"DROP TABLE IF EXISTS {database}.items_mv")
            ch.query(f"DROP TABLE IF EXISTS {database}.items_queue")
            walcast.terminate()
        ch.close()
