"""A Debezium PostgreSQL connector configuration runs walcast as it is: the example of
Debezium's documentation as .properties and as Kafka Connect REST JSON (test/fixtures/
debezium) streams to a file sink; unknown keys stop walcast before anything starts, all
named in one message; snapshot.mode=always snapshots on every start; slot.drop.on.stop
drops the slot on a clean stop only; schema.include.list and column.include.list shape
the snapshot as they shape the stream."""

import pathlib
import signal
import subprocess

import pytest

from conftest import unique
from pg_server import WALCAST_BIN, wait_until

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "debezium"


def fill_fixture(name, pg, tmp_path):
    """The fixture with only its host, port, database and credential placeholders filled."""
    text = (FIXTURES / name).read_text()
    for placeholder, value in {"host": "127.0.0.1", "port": str(pg.port), "user": "postgres",
                               "password": "postgres", "dbname": "postgres"}.items():
        text = text.replace("{{" + placeholder + "}}", value)
    assert "{{" not in text
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def records(path):
    import json
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().split("\n")[:-1] if line]


def ops(recs, topic):
    """(op, id) of the data events of a topic, in order."""
    return [(r["value"]["op"], (r["value"]["after"] or r["value"]["before"])["id"])
            for r in recs if r["topic"] == topic and r.get("value")]


@pytest.mark.parametrize("fixture", ["fulfillment-connector.properties",
                                     "fulfillment-connector.json"])
def test_documentation_example_streams_as_it_is(private_pg, tmp_path, fixture):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    pg.execute("CREATE TABLE public.inventory (id int PRIMARY KEY, item text)")
    pg.execute("CREATE TABLE public.other (id int PRIMARY KEY)")
    pg.execute("INSERT INTO public.inventory VALUES (1, 'a'), (2, 'b')")
    config = fill_fixture(fixture, pg, tmp_path)
    out = tmp_path / "events.jsonl"
    log = tmp_path / "walcast.log"
    # The sink is walcast's own choice (Kafka Connect's is the worker's): the only addition.
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([str(WALCAST_BIN), "run", "--config", str(config),
                                 "--set", f"sink=file:{out}"],
                                stdout=log_file, stderr=subprocess.STDOUT)
        try:
            topic = "fulfillment.public.inventory"
            wait_until(lambda: proc.poll() is not None or len(ops(records(out), topic)) >= 2, 60,
                       "the snapshot of public.inventory")
            assert proc.poll() is None, log.read_text()
            pg.execute("INSERT INTO public.inventory VALUES (3, 'c')")
            pg.execute("INSERT INTO public.other VALUES (1)")
            pg.execute("DELETE FROM public.inventory WHERE id = 1")
            wait_until(lambda: proc.poll() is not None or
                       ("d", 1) in ops(records(out), topic), 60, "the streamed delete")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    recs = records(out)
    assert ops(recs, topic) == [("r", 1), ("r", 2), ("c", 3), ("d", 1)], recs
    assert {r["topic"] for r in recs} == {topic}, "table.include.list leaves public.other out"
    text = log.read_text()
    key_warnings = [line for line in text.splitlines() if "docs/debezium-keys.md" in line]
    assert len(key_warnings) == 1, text
    assert "ignoring keys without effect in walcast: name, connector.class" in key_warnings[0]


def test_unknown_keys_are_named_at_once_and_nothing_starts(pg, walcast_cli):
    slot = unique("dbz")
    props = {"database.hostname": "127.0.0.1", "database.port": pg.port,
             "database.user": "postgres", "slot.name": slot, "snapshot.mode": "no_data",
             "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "slot.nmae": slot, "database.dbnme": "postgres", "no.such.thing": "1",
             "transforms": "unwrap"}
    res = walcast_cli("run", props=props)
    assert res.returncode == 2, res.stderr
    err = res.stderr
    assert "3 unknown configuration keys:" in err, err
    assert "'slot.nmae' (" in err and "did you mean 'slot.name'?" in err, err
    assert "did you mean 'database.dbname'?" in err and "'no.such.thing' (" in err, err
    assert "connector.class" not in err and "'transforms'" not in err, err
    assert pg.slot(slot) is None, "nothing was started"


def test_slot_drop_on_stop_drops_the_slot_on_a_clean_stop_only(pg, sidecar):
    crashed = sidecar(slot__drop__on__stop="true").start()
    crashed.kill9()
    assert pg.slot(crashed.slot) is not None, "a crash keeps the slot"

    s = sidecar(slot__drop__on__stop="true").start()
    assert s.terminate() == 0, s.log_tail()
    assert pg.slot(s.slot) is None, s.log_tail()
    assert f"slot.drop.on.stop: dropped slot {s.slot}" in s.log_tail(), s.log_tail()

    kept = sidecar().start()
    assert kept.terminate() == 0
    assert pg.slot(kept.slot) is not None, "the default keeps the slot"


# The shared server stays without the extension (test_sidecar_errors.py relies on it).
def test_snapshot_mode_always_snapshots_on_every_start(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("alw")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 'n' FROM generate_series(1, 3) g")
    s = sidecar(server=pg, snapshot__mode="always", table__include__list=f"public\\.{table}")
    topic = f"{s.props['topic.prefix']}.public.{table}"

    s.start()
    s.wait_records(lambda r: len(ops(r, topic)) >= 3, what="the first snapshot")
    pg.execute(f"INSERT INTO {table} VALUES (4, 'n')")
    s.wait_records(lambda r: ("c", 4) in ops(r, topic), what="the streamed insert")
    wait_until(lambda: pg.slot(s.slot)["confirmed_flush_lsn"] is not None, 30, "a confirm")
    assert s.terminate() == 0, s.log_tail()
    first = ops(s.records(), topic)
    assert first == [("r", 1), ("r", 2), ("r", 3), ("c", 4)], first

    # Written while walcast is stopped: in the second snapshot, and streamed again after
    # it (the slot's position is before it): at least once.
    pg.execute(f"UPDATE {table} SET note = 'changed' WHERE id = 2")
    pg.execute(f"INSERT INTO {table} VALUES (5, 'n')")
    s.start()
    s.wait_records(lambda r: ("c", 5) in ops(r, topic)[len(first):],
                   what="the second snapshot and the stream")
    pg.execute(f"INSERT INTO {table} VALUES (6, 'n')")
    s.wait_records(lambda r: ("c", 6) in ops(r, topic)[len(first):], what="a new insert")
    assert s.terminate() == 0, s.log_tail()
    second = ops(s.records(), topic)[len(first):]
    assert sorted(second[:5]) == [("r", i) for i in range(1, 6)], second
    assert second[5:] == [("u", 2), ("c", 5), ("c", 6)], second
    assert "snapshot.mode=always: snapshot of every table" in s.all_logs()


def test_schema_and_column_include_lists_shape_the_snapshot(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    inside, outside = unique("sin"), unique("sout")
    for schema in (inside, outside):
        pg.execute(f"CREATE SCHEMA {schema}")
        pg.execute(f"CREATE TABLE {schema}.t (id int PRIMARY KEY, keep text, secret text)")
        pg.execute(f"INSERT INTO {schema}.t VALUES (1, 'k', 's')")
    s = sidecar(server=pg, snapshot__mode="initial", schema__include__list=inside,
                column__include__list=r".*\.t\.(id|keep)",
                message__key__columns=rf"{inside}\.t:keep")
    s.start()
    s.wait_records(lambda r: any(x["topic"].endswith(f"{inside}.t") for x in r),
                   what="the snapshot")
    pg.execute(f"INSERT INTO {inside}.t VALUES (2, 'k2', 's')")
    pg.execute(f"INSERT INTO {outside}.t VALUES (2, 'k2', 's')")
    s.wait_records(lambda r: len(r) >= 2, what="the streamed insert")
    assert s.terminate() == 0
    recs = s.records()
    assert {r["topic"] for r in recs} == {f"{s.props['topic.prefix']}.{inside}.t"}, recs
    assert [(r["value"]["op"], r["key"], r["value"]["after"]) for r in recs] == [
        ("r", {"keep": "k"}, {"id": 1, "keep": "k"}),
        ("c", {"keep": "k2"}, {"id": 2, "keep": "k2"})], recs
