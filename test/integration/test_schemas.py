"""Schema-ful JSON through the sidecar (key/value.converter.schemas.enable): the same
changes streamed and snapshotted twice, schemaless and with schemas. Every schema-ful
key and value is {"schema":..,"payload":..}, the payload equals the schemaless record,
tombstones keep a null value, heartbeats and transaction records carry Debezium's
schemas, and the schemas of a few types are the ones Debezium declares (checked by hand
against Debezium 3.6.1's output)."""

import pytest

from conftest import throwaway_server, unique, wait_until


@pytest.fixture(scope="module")
def pg():
    """A server of this module's own: the extension created here must not reach the
    session's shared server, where some tests need a database without it."""
    with throwaway_server() as server:
        yield server

# Fields that differ between two runs over the same changes: when each record was made.
ENVELOPE_TIMES = ("ts_ms", "ts_us", "ts_ns")
# Snapshot rows of two runs come from two snapshots: their source position and time differ.
SNAPSHOT_SOURCE = ("ts_ms", "ts_us", "ts_ns", "lsn", "sequence", "txId", "snapshot")


def stable(value):
    """A record's value without what differs between two runs over the same changes."""
    if value is None:
        return None
    value = dict(value)
    for k in ENVELOPE_TIMES:
        value.pop(k, None)
    if value.get("op") == "r":
        value["source"] = {k: v for k, v in value["source"].items() if k not in SNAPSHOT_SOURCE}
    return value


def field(struct_schema, name):
    return next(f for f in struct_schema["fields"] if f["field"] == name)


def test_schemaful_records_wrap_the_schemaless_payload(pg, sidecar):
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    table = unique("sch")
    pg.execute(f"""CREATE TABLE {table} (
        id int PRIMARY KEY,
        price numeric(10,2) NOT NULL DEFAULT 0,
        seen timestamptz,
        doc jsonb,
        qty int DEFAULT 7,
        tags text[])""")
    pg.execute(f"CREATE TABLE {table}_nokey (note text)")
    pg.execute(f"INSERT INTO {table} VALUES (1, 9.99, '2024-01-02 03:04:05+00', '{{\"a\": 1}}', 1, "
               "'{x,y}')")

    prefix = unique("pfx")  # both runs: the same topics and source.name, in their own files
    common = dict(table__include__list=f"public\\.{table}.*", snapshot__mode="initial",
                  topic__prefix=prefix,
                  provide__transaction__metadata="true", heartbeat__interval__ms=300)
    plain = sidecar(**common).start()
    schemas = sidecar(key__converter__schemas__enable="true",
                      value__converter__schemas__enable="true", **common).start()

    with pg.connect(autocommit=False) as conn:
        conn.execute(f"INSERT INTO {table} (id, price, tags) VALUES (2, 1.5, '{{z}}')")
        conn.execute(f"UPDATE {table} SET doc = '[1, 2]' WHERE id = 1")
        conn.execute(f"INSERT INTO {table}_nokey VALUES ('n')")
        conn.execute("SELECT pg_logical_emit_message(true, 'app', 'hi')")
        conn.commit()
    pg.execute(f"DELETE FROM {table} WHERE id = 2")
    # A relation changed mid-stream: its next events carry the new shape.
    pg.execute(f"ALTER TABLE {table} ADD COLUMN extra smallint")
    pg.execute(f"INSERT INTO {table} (id, price, extra) VALUES (3, 3, 5)")

    topic_of = lambda s: f"{prefix}.public.{table}"  # noqa: E731

    def data(s, topics):
        return [r for r in s.records() if r["topic"] in topics]

    def enough(s):
        topics = {topic_of(s), topic_of(s) + "_nokey", f"{prefix}.message"}
        return len(data(s, topics)) >= 8 and any(
            r["topic"].startswith("__debezium-heartbeat") for r in s.records())

    for s in (plain, schemas):
        wait_until(lambda: s.assert_alive() or enough(s), 60, f"records of {s.slot}")

    def paired(s, suffix):
        return data(s, {f"{prefix}.message" if suffix == ".message" else topic_of(s) + suffix})

    for suffix in ("", "_nokey", ".message"):
        a, b = paired(plain, suffix), paired(schemas, suffix)
        assert len(a) == len(b) and a, (suffix, a, b)
        for x, y in zip(a, b):
            if x["key"] is None:
                assert y["key"] is None
            else:
                assert set(y["key"]) == {"schema", "payload"}
                assert y["key"]["payload"] == x["key"]
            if x["value"] is None:  # tombstone: the value stays Kafka-null
                assert y["value"] is None
                continue
            assert list(y["value"]) == ["schema", "payload"]
            assert stable(y["value"]["payload"]) == stable(x["value"])

    rows = paired(schemas, "")
    # Snapshot, insert, update, delete + tombstone, insert after the ALTER.
    assert [r["value"] and r["value"]["payload"]["op"] for r in rows] == \
        ["r", "c", "u", "d", None, "c"]
    key_schema = rows[0]["key"]["schema"]
    assert key_schema == {"type": "struct",
                          "fields": [{"type": "int32", "optional": False, "field": "id"}],
                          "optional": False, "name": f"{prefix}.public.{table}.Key"}
    assert rows[4]["key"]["schema"] == key_schema  # the tombstone's key
    envelope = rows[1]["value"]["schema"]
    assert envelope["name"] == f"{prefix}.public.{table}.Envelope" and envelope["version"] == 2
    assert [f["field"] for f in envelope["fields"]] == \
        ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]
    after = field(envelope, "after")
    assert after["name"] == f"{prefix}.public.{table}.Value" and after["optional"] is True
    assert field(after, "price") == {
        "type": "bytes", "optional": False, "name": "org.apache.kafka.connect.data.Decimal",
        "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"},
        "default": "AA==", "field": "price"}
    assert field(after, "seen") == {"type": "string", "optional": True,
                                    "name": "io.debezium.time.ZonedTimestamp", "version": 1,
                                    "field": "seen"}
    assert field(after, "doc") == {"type": "string", "optional": True,
                                   "name": "io.debezium.data.Json", "version": 1,
                                   "field": "doc"}
    assert field(after, "qty") == {"type": "int32", "optional": True, "default": 7,
                                   "field": "qty"}
    assert field(after, "tags") == {"type": "array",
                                    "items": {"type": "string", "optional": True},
                                    "optional": True, "field": "tags"}
    assert field(envelope, "source")["name"] == "io.debezium.connector.postgresql.Source"
    # The snapshot row has the same schemas as the streamed events before the ALTER.
    assert rows[0]["value"]["schema"] == envelope
    # After the ALTER the new column is in the schema.
    assert "extra" not in [f["field"] for f in after["fields"]]
    assert field(field(rows[5]["value"]["schema"], "after"), "extra")["type"] == "int16"

    nokey = paired(schemas, "_nokey")[0]
    assert nokey["key"] is None
    assert nokey["value"]["schema"]["name"] == f"{prefix}.public.{table}_nokey.Envelope"
    message = paired(schemas, ".message")[0]
    assert message["key"]["schema"]["name"] == "io.debezium.connector.postgresql.MessageKey"
    assert message["value"]["schema"]["name"] == \
        "io.debezium.connector.postgresql.MessageValue"

    tx = [r for r in schemas.records() if r["topic"] == f"{prefix}.transaction"]
    assert tx and all(r["key"]["schema"]["name"] ==
                      "io.debezium.connector.common.TransactionMetadataKey" for r in tx)
    assert {r["value"]["payload"]["status"] for r in tx} == {"BEGIN", "END"}
    assert all(r["value"]["schema"]["name"] ==
               "io.debezium.connector.common.TransactionMetadataValue" for r in tx)
    # The END of the transaction with four events is the same record in both runs
    # (heartbeats make transactions of their own, as many as time allows).
    def end_of_four(values):
        return next({**v, "ts_ms": 0} for v in values if v.get("event_count") == 4)
    plain_tx = [r["value"] for r in plain.records() if r["topic"] == f"{prefix}.transaction"]
    assert end_of_four(plain_tx) == end_of_four(r["value"]["payload"] for r in tx)

    beat = next(r for r in schemas.records() if r["topic"] == f"__debezium-heartbeat.{prefix}")
    assert beat["key"] == {"schema": {"type": "struct", "fields": [
        {"type": "string", "optional": False, "field": "serverName"}], "optional": False,
        "name": "io.debezium.connector.common.ServerNameKey", "version": 1},
        "payload": {"serverName": prefix}}
    assert beat["value"]["schema"]["name"] == "io.debezium.connector.common.Heartbeat"
    assert isinstance(beat["value"]["payload"]["ts_ms"], int)

    # Every line is valid JSON (records() parsed them); the raw text keeps the
    # JsonConverter layout: schema first, then payload.
    raw = schemas.out.read_text().splitlines()
    assert all('"value":{"schema":' in line or '"value":null' in line for line in raw)
    for s in (plain, schemas):
        assert s.terminate() == 0
