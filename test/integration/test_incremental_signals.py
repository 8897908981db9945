"""Signals for incremental snapshots (file sink): Debezium's signal table
(signal.data.collection) with execute-snapshot, stop-, pause-, resume-snapshot and log;
walcast.execute_snapshot() with a condition; `walcast snapshot --where`; conditions the
extension refuses; signals forged with pg_logical_emit_message() ignored."""

import json
import re
import time

import pytest

from conftest import throwaway_server, unique, wait_until
from signal_table import make_signal_table, signal


@pytest.fixture(scope="module")
def sig_pg():
    with throwaway_server() as server:
        server.execute("CREATE EXTENSION walcast")
        yield server


def make_table(pg, rows):
    table = unique("sig")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, {rows}) g")
    return table


def read_ids(s, table):
    topic = f"{s.slot}.public.{table}"
    return sorted(r["key"]["id"] for r in s.records()
                  if r["topic"] == topic and r["value"] and r["value"]["op"] == "r")


def wait_read(s, table, ids):
    """The "done" log line can precede the sink's write of the last chunk."""
    s.wait_records(lambda recs: read_ids(s, table) == ids, 30, f"rows {ids[:3]}... of {table}")


def done(s, table):
    return f"incremental snapshot of public.{table} done" in s.all_logs() or not s.alive()


def test_signal_table_execute_snapshot_and_log(sig_pg, sidecar):
    """An execute-snapshot row (data-collections as a regex) reads the matching table;
    a log row goes to the sidecar's log; the signal table, not captured, streams
    nothing."""
    pg = sig_pg
    table = make_table(pg, 120)
    sig = make_signal_table(pg)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                signal__data__collection=f"public.{sig}",
                incremental__snapshot__chunk__size=50).start()
    signal(pg, sig, "log", {"message": "hello from the signal table"})
    signal(pg, sig, "execute-snapshot",
           {"data-collections": [f"public\\.{table[:-4]}.*"], "type": "INCREMENTAL"})
    wait_until(lambda: done(s, table), 60, "the incremental snapshot to finish")
    s.assert_alive()
    assert re.search(r"log signal \S+: hello from the signal table", s.all_logs())
    wait_read(s, table, list(range(1, 121)))
    assert not [r for r in s.records() if sig in r["topic"]]
    assert s.terminate() == 0


def test_execute_snapshot_function_with_condition(sig_pg, sidecar):
    pg = sig_pg
    table = make_table(pg, 100)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                incremental__snapshot__chunk__size=7).start()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s], 'incremental', ARRAY[%s])",
               table, "id % 10 = 3 AND v LIKE 'row%'")
    wait_until(lambda: done(s, table), 60, "the incremental snapshot to finish")
    s.assert_alive()
    wait_read(s, table, list(range(3, 100, 10)))
    assert s.terminate() == 0


def test_cli_where_and_refused_conditions(sig_pg, sidecar, walcast_cli):
    """--where applies to each table named; a condition the extension refuses is
    refused by the CLI (the function checks it) and, written straight into the signal
    table, by the sidecar before any query uses it."""
    pg = sig_pg
    table = make_table(pg, 60)
    sig = make_signal_table(pg)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                signal__data__collection=f"public.{sig}").start()
    refused = walcast_cli("snapshot", "--config", str(s.config), f"public.{table}",
                          "--where", "id IN (SELECT 1)")
    assert refused.returncode == 1, refused
    assert "snapshot condition refused" in refused.stderr, refused.stderr

    signal(pg, sig, "execute-snapshot",
           {"data-collections": [f"public.{table}"],
            "additional-conditions": [{"data-collection": f"public.{table}",
                                       "filter": "id > 0 OR pg_sleep(1) IS NULL"}]})
    wait_until(lambda: "refused: its condition" in s.all_logs(), 30, "the refusal")
    assert read_ids(s, table) == []

    ok = walcast_cli("snapshot", "--config", str(s.config), f"public.{table}",
                     "--where", "id <= 10")
    assert ok.returncode == 0, ok
    assert "where id <= 10" in ok.stdout, ok.stdout
    wait_until(lambda: done(s, table), 60, "the incremental snapshot to finish")
    s.assert_alive()
    wait_read(s, table, list(range(1, 11)))
    assert s.terminate() == 0


def test_pause_resume_and_stop_mid_table(sig_pg, sidecar):
    """pause-snapshot holds the readers before their next chunk; resume-snapshot lets them
    go on; stop-snapshot abandons the running table at its next chunk boundary and drops
    the queued ones."""
    pg = sig_pg
    table = make_table(pg, 30000)
    other = make_table(pg, 30)
    sig = make_signal_table(pg)
    s = sidecar(server=pg, table__include__list=f"public\\.({table}|{other})",
                signal__data__collection=f"public.{sig}",
                incremental__snapshot__chunk__size=10).start()
    # Paused before anything runs: nothing is read while paused.
    signal(pg, sig, "pause-snapshot", {"type": "incremental"})
    signal(pg, sig, "execute-snapshot", {"data-collections": [f"public.{table}",
                                                               f"public.{other}"]})
    wait_until(lambda: f"incremental snapshot of public.{table}: chunks" in s.all_logs(), 30,
               "the reader to start the table")
    time.sleep(1.0)
    assert read_ids(s, table) == [], "read while paused"
    signal(pg, sig, "resume-snapshot")
    s.wait_records(lambda recs: len(read_ids(s, table)) >= 10, 30, "the first chunks")
    signal(pg, sig, "pause-snapshot")
    wait_until(lambda: s.all_logs().count("pause-snapshot signal") == 2, 30, "the pause")
    time.sleep(1.0)  # chunks in flight at the pause finish
    paused_at = read_ids(s, table)
    time.sleep(1.0)
    assert read_ids(s, table) == paused_at, "read on while paused"
    assert 10 <= len(paused_at) < 30000
    # Stopped while paused: the table is abandoned, the queued one dropped.
    signal(pg, sig, "stop-snapshot",
           {"data-collections": [f"public\\.{table[:-4]}.*", f"public.{other}"],
            "type": "incremental"})
    # (The two lines come from two threads, in either order.)
    wait_until(lambda: f"incremental snapshot of public.{table} stopped by a signal"
               in s.all_logs() and "1 queued request(s) dropped" in s.all_logs(), 30,
               "the stop")
    signal(pg, sig, "resume-snapshot")
    time.sleep(1.0)
    assert read_ids(s, table) == paused_at
    assert read_ids(s, other) == []
    assert f"incremental snapshot of public.{table} done" not in s.all_logs()
    # The stopped table is not resumed from the record.
    assert pg.execute("SELECT count(*) FROM walcast.incremental_snapshots "
                      "WHERE slot_name = %s AND completed_at IS NULL", s.slot)[0][0] == 0
    # Resumed and asked again: the table is read whole.
    signal(pg, sig, "execute-snapshot", {"data-collections": [f"public.{other}"]})
    wait_until(lambda: done(s, other), 30, "the other table")
    wait_read(s, other, list(range(1, 31)))
    s.assert_alive()
    assert s.terminate() == 0


def test_signals_in_logical_messages_are_ignored(sig_pg, sidecar):
    """pg_logical_emit_message() is open to every role: a signal written that way (the
    format of earlier versions, or posing as a signal row) is ignored."""
    pg = sig_pg
    table = make_table(pg, 20)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}").start()
    pg.execute("SELECT pg_logical_emit_message(true, 'walcast.control', %s)",
               json.dumps({"signal": "execute-snapshot", "type": "incremental",
                           "data-collections": [f"public.{table}"]}))
    pg.execute("SELECT pg_logical_emit_message(true, 'walcast.control', %s)",
               "signal\t" + json.dumps({"id": "x", "type": "execute-snapshot", "data": json.dumps(
                   {"data-collections": [f"public.{table}"]})}))
    wait_until(lambda: s.all_logs().count("written with pg_logical_emit_message() is ignored")
               >= 1 and "walcast control message ignored" in s.all_logs(), 30, "the warnings")
    pg.execute(f"INSERT INTO {table} VALUES (0, 'last')")
    s.wait_records(lambda recs: any(r["value"] and r["value"]["op"] == "c" for r in recs),
                   what="the insert")
    assert read_ids(s, table) == []
    assert s.terminate() == 0


def test_conditions_name_built_in_functions_only(sig_pg, sidecar):
    """The reader resolves a condition's names in pg_catalog only: a user's lower(varchar)
    in public, a better match than the built-in lower(text) under the default
    search_path, is not what the condition calls (it would run as the sidecar's role)."""
    pg = sig_pg
    table = unique("sigvc")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v varchar(20))")
    pg.execute(f"INSERT INTO {table} SELECT g, 'Row ' || g FROM generate_series(1, 20) g")
    pg.execute("CREATE OR REPLACE FUNCTION public.lower(varchar) RETURNS text "
               "LANGUAGE sql IMMUTABLE AS $$ SELECT 'row 3' $$")
    sig = make_signal_table(pg)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                signal__data__collection=f"public.{sig}").start()
    try:
        signal(pg, sig, "execute-snapshot",
               {"data-collections": [f"public.{table}"],
                "additional-conditions": [{"data-collection": f"public.{table}",
                                           "filter": "lower(v) = 'row 3'"}]})
        wait_until(lambda: done(s, table) or "refused" in s.all_logs(), 30, "the snapshot")
        assert "refused" not in s.all_logs(), s.log_tail()
        wait_read(s, table, [3])
    finally:
        pg.execute("DROP FUNCTION public.lower(varchar)")
    assert s.terminate() == 0
