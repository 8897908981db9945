"""walcast's schema-ful topics consumed by real Kafka Connect consumers.

A Kafka Connect standalone worker runs Debezium's JDBC sink twice:
  - on the change events as they are (envelopes) into schema `replica` of a second
    database, whose tables the test created with the source's DDL;
  - behind Debezium's ExtractNewRecordState (deletes become tombstones) into schema
    `flat`, whose tables the sink creates from the flattened records' schemas.
walcast streams the source tables with key.converter.schemas.enable=true and
value.converter.schemas.enable=true (what a Debezium deployment's JsonConverter
writes); after a snapshot and inserts, updates, deletes and primary-key changes over
a range of column types, both copies must equal the source. jdbc_items keeps REPLICA
IDENTITY DEFAULT with NOT NULL non-key columns (a delete's `before` must still satisfy
its schema); jdbc_docs is REPLICA IDENTITY FULL with TOASTed text left alone by updates.
(With DEFAULT identity such an update carries a placeholder, and the JDBC sink writes
it as the value, Debezium's source included: not something a sink copy can pass.)

The harness self-check (WALCAST_CONNECT_SELFCHECK=1) runs the same scenario with
Debezium's own PostgreSQL source connector (pgoutput) in the worker instead of walcast:
it shows that what the test demands is what the consumers do with the events walcast
models.
"""

import hashlib
import os
import re
import time

import pytest

from connect_fixture import ConnectWorker, rows_diff, same_rows, table_exists, table_rows
from kafka_fixture import Walcast, kafka_broker, kafka_pg, unique_name  # noqa: F401 (fixtures)
from pg_server import wait_until

TARGET_DB = "sink"

# table -> (columns with their types, primary key)
TABLES = {
    "jdbc_items": ("""
        id int PRIMARY KEY,
        name text NOT NULL,
        qty smallint,
        big bigint,
        price numeric(12,2) NOT NULL,
        ratio numeric,
        score double precision,
        active boolean,
        born date,
        seen timestamp,
        seen_at timestamptz,
        payload bytea,
        tag uuid,
        doc jsonb,
        at_time time,
        labels text[],
        notes text""", ["id"]),
    "jdbc_docs": ("""
        id int PRIMARY KEY,
        title text,
        body text""", ["id"]),
    "jdbc_pairs": ("""
        a int,
        b text,
        note varchar(40),
        PRIMARY KEY (a, b)""", ["a", "b"]),
}

ITEM_INSERT = """INSERT INTO jdbc_items
    (id, name, qty, big, price, ratio, score, active, born, seen, seen_at, payload, tag, doc,
     at_time, labels, notes)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""


def item(i: int) -> tuple:
    """A row of jdbc_items whose values vary with i (every third nullable one NULL)."""
    nul = i % 3 == 0
    return (i, f"item {i} ' \" é", None if nul else (i * 7) % 32000 - 16000,
            None if nul else i * 10_000_000_019, f"{i * 13.37:.2f}",
            None if nul else f"{i}.{i:0{i % 9 + 1}d}", None if nul else i / 7,
            None if nul else i % 2 == 0, f"{1960 + i}-0{i % 9 + 1}-1{i % 9}",
            None if nul else f"{1999 + i % 40}-12-31 23:59:59.{i:06d}",
            f"2026-0{i % 9 + 1}-0{i % 9 + 1} 0{i % 10}:30:00.123456+0{i % 9}",
            None if nul else bytes([i % 256, 0, 255, 10]) * (i % 4),
            None if nul else f"{i:08x}-0000-4000-8000-{i:012x}",
            None if nul else f'{{"i": {i}, "tags": ["a", "b"]}}',
            None if nul else f"{i % 24:02d}:{i % 60:02d}:07.{i:06d}",
            None if nul else [f"l{i}", "two words", ""], f"n{i}")


def toasted(i: int) -> str:
    """8 kB of hex digits that pglz cannot shrink: stored out of line, so an UPDATE that
    leaves it alone does not carry it (an unchanged-TOAST placeholder in the event)."""
    return "".join(hashlib.sha256(f"{i}/{k}".encode()).hexdigest() for k in range(128))


def create_schema(pg):
    pg.execute(f"CREATE DATABASE {TARGET_DB}")
    pg.execute("CREATE SCHEMA replica; CREATE SCHEMA flat", dbname=TARGET_DB)
    for table, (columns, _key) in TABLES.items():
        pg.execute(f"CREATE TABLE {table} ({columns})")
        pg.execute(f"CREATE TABLE replica.{table} ({columns})", dbname=TARGET_DB)
    pg.execute("ALTER TABLE jdbc_docs REPLICA IDENTITY FULL")


def snapshot_rows(conn):
    for i in range(1, 21):
        conn.execute(ITEM_INSERT, item(i))
    for a in range(1, 6):
        for b in ("x", "y"):
            conn.execute("INSERT INTO jdbc_pairs VALUES (%s, %s, %s)", (a, b, f"{a}{b}"))
    for i in range(1, 7):
        conn.execute("INSERT INTO jdbc_docs VALUES (%s, %s, %s)", (i, f"doc {i}", toasted(i)))


def workload(conn):
    """Inserts, updates, deletes and key changes, some in multi-statement transactions."""
    for i in range(21, 41):
        conn.execute(ITEM_INSERT, item(i))
    conn.execute("UPDATE jdbc_items SET name = name || ' v2', price = price + 0.01, "
                 "seen = seen + interval '1 microsecond' WHERE id % 4 = 1")
    conn.execute("UPDATE jdbc_items SET qty = NULL, doc = NULL, payload = '' WHERE id = 2")
    conn.execute("UPDATE jdbc_items SET ratio = 123456789012345678901234567890.123456789, "
                 "score = -0.0, active = NULL, born = '0001-01-01', "
                 "seen = '1969-12-31 23:59:59.999999' WHERE id = 5")
    conn.execute("DELETE FROM jdbc_items WHERE id IN (6, 7, 22)")           # snapshot rows too
    conn.execute("UPDATE jdbc_items SET id = id + 1000 WHERE id IN (3, 8, 23)")  # key changes
    conn.execute("UPDATE jdbc_pairs SET b = 'z' WHERE a = 1 AND b = 'x'")
    conn.execute("UPDATE jdbc_pairs SET a = 100, note = 'moved' WHERE a = 2 AND b = 'y'")
    conn.execute("DELETE FROM jdbc_pairs WHERE a = 3")
    with conn.transaction():
        conn.execute(ITEM_INSERT, item(50))
        conn.execute("UPDATE jdbc_items SET name = 'short-lived' WHERE id = 50")
        conn.execute("DELETE FROM jdbc_items WHERE id = 50")
        conn.execute(ITEM_INSERT, item(51))
        conn.execute("UPDATE jdbc_items SET id = 52, name = 'renumbered' WHERE id = 51")
        conn.execute("INSERT INTO jdbc_pairs VALUES (7, 'x', NULL)")
        conn.execute("UPDATE jdbc_pairs SET note = 'late' WHERE a = 7")
    conn.execute("DELETE FROM jdbc_items WHERE id = 1003")                  # a moved row
    # TOASTed values left alone by an UPDATE (REPLICA IDENTITY FULL: the old row has them),
    # changed, and carried over a key change
    conn.execute("UPDATE jdbc_docs SET title = title || ' v2' WHERE id IN (1, 2)")
    conn.execute("UPDATE jdbc_docs SET body = body || '!' WHERE id = 3")
    conn.execute("UPDATE jdbc_docs SET id = 40 WHERE id = 4")
    conn.execute("DELETE FROM jdbc_docs WHERE id = 5")


def columns_of(pg, table):
    return [r[0] for r in pg.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", table)]


def wait_copies_equal(pg, worker, alive, timeout=120):
    """Until schema replica and flat of the target equal the source, table by table;
    fails with the differing rows, the connectors' failures and the logs."""
    pending = [(schema, t) for schema in ("replica", "flat") for t in TABLES]
    last = {}

    def converged():
        alive()
        worker.assert_healthy()
        for schema, table in list(pending):
            columns, key = columns_of(pg, table), TABLES[table][1]
            ordered = key + [c for c in columns if c not in key]
            source = table_rows(pg, "postgres", table, ordered, key)
            if not table_exists(pg, TARGET_DB, schema, table):
                last[(schema, table)] = "  (table not created yet)"
                continue
            target = table_rows(pg, TARGET_DB, f"{schema}.{table}", ordered, key)
            # Exact for the tables the test created; for those the sink created (flat),
            # numeric without a scale may have become double precision.
            exact = source == target
            if exact or (schema == "flat" and same_rows(source, target)):
                pending.remove((schema, table))
            else:
                last[(schema, table)] = rows_diff(source, target, len(key))
        return not pending

    deadline = time.time() + timeout
    while not converged():
        if time.time() > deadline:
            report = "\n".join(f"{TARGET_DB}.{s}.{t} differs from postgres.public.{t}:\n"
                               f"{last.get((s, t), '?')}" for s, t in pending)
            pytest.fail(f"after {timeout}s the sinks' copies still differ from the source:\n"
                        f"{report}\n---- Connect worker log (tail):\n{worker.log_tail(40)}",
                        pytrace=False)
        time.sleep(1)


def check_flat_metadata(pg):
    """ExtractNewRecordState's add.fields: __op, __table and __lsn came from the events
    (snapshot rows are "r", streamed ones "c" or "u"; every row has its LSN)."""
    for table in TABLES:
        ops = {r[0] for r in pg.execute(f"SELECT DISTINCT __op FROM flat.{table}",
                                        dbname=TARGET_DB)}
        assert ops <= {"r", "c", "u"} and "r" in ops and ops & {"c", "u"}, (table, ops)
        names = {r[0] for r in pg.execute(f"SELECT DISTINCT __table FROM flat.{table}",
                                          dbname=TARGET_DB)}
        assert names == {table}, (table, names)
        missing_lsn = pg.execute(f"SELECT count(*) FROM flat.{table} WHERE __lsn IS NULL "
                                 "OR __lsn <= 0", dbname=TARGET_DB)[0][0]
        assert missing_lsn == 0, (table, missing_lsn)


def run_scenario(tmp_path, broker, pg, source: str):
    create_schema(pg)
    with pg.connect() as conn:
        snapshot_rows(conn)
    toast_rows = pg.execute("SELECT count(*) FROM pg_toast.pg_toast_%s" % pg.execute(
        "SELECT 'jdbc_docs'::regclass::oid")[0][0])[0][0]
    assert toast_rows > 0, "jdbc_docs.body should be stored out of line"
    prefix = unique_name(f"jdbc_{source}")
    slot = prefix.lower()
    tables = ",".join(f"public.{t}" for t in TABLES)
    worker = ConnectWorker(tmp_path / "connect", broker.bootstrap)
    sinks = dict(TOPICS_REGEX=re.escape(prefix) + r"\\.public\\..*", PG_PORT=pg.port,
                 TARGET_DB=TARGET_DB)
    files = [worker.connector_file("jdbc-sink.properties.in", "envelope-sink",
                                   TARGET_SCHEMA="replica", **sinks),
             worker.connector_file("jdbc-sink-flat.properties.in", "flat-sink",
                                   TARGET_SCHEMA="flat", **sinks)]
    walcast = None
    if source == "walcast":
        pg.execute("CREATE EXTENSION walcast")  # the initial snapshot's functions
        walcast = Walcast(tmp_path, pg, broker, prefix, tables, {
            "slot.name": slot,
            "snapshot.mode": "initial",
            "key.converter.schemas.enable": "true",
            "value.converter.schemas.enable": "true",
        }).start()
    else:
        files.insert(0, worker.connector_file(
            "pg-source.properties.in", "debezium-source", PG_PORT=pg.port,
            SOURCE_DB="postgres", TOPIC_PREFIX=prefix, TABLES=tables, SLOT=slot))

    def alive():
        if walcast is not None:
            walcast.assert_alive()

    try:
        worker.start(files)
        # Changes after the slot exists reach the topics; the rows before, the snapshot.
        wait_until(lambda: alive() or worker.assert_healthy() or (
            (st := pg.slot(slot)) is not None and st["active"]), 90,
            f"replication slot {slot} to be streamed")
        worker.wait_running()
        with pg.connect() as conn:
            workload(conn)
        wait_copies_equal(pg, worker, alive)
        check_flat_metadata(pg)
    finally:
        worker.stop()
        if walcast is not None:
            walcast.terminate()


def test_kafka_jdbc_sink_replicates_walcast_topics(tmp_path, kafka_broker, kafka_pg):
    run_scenario(tmp_path, kafka_broker, kafka_pg, "walcast")


# Debezium's own source tests the harness, not walcast; in one of four full `make test` runs
# on the loaded 2-core machine its jdbc_pairs records never reached the sinks within the
# wait (it passes alone), so it runs on request, not in every CI run.
@pytest.mark.skipif(os.environ.get("WALCAST_CONNECT_SELFCHECK") != "1",
                    reason="harness self-check with Debezium's source: WALCAST_CONNECT_SELFCHECK=1")
def test_kafka_jdbc_sink_harness_with_debezium_source(tmp_path, kafka_broker, kafka_pg):
    run_scenario(tmp_path, kafka_broker, kafka_pg, "debezium")
