"""Errors the plugin raises on purpose (an event over event.max.bytes, two tables
mapping to one topic) come back at the same position after every reconnect: the
sidecar ends the run with a clear line and an exit code instead of retrying forever,
and never acknowledges past the refused event."""

import time

from conftest import unique
from pg_server import wait_until


def wait_exit(sidecar, timeout=30):
    wait_until(lambda: sidecar.proc.poll() is not None, timeout,
               f"walcast to exit; log:\n{sidecar.log_tail()}")
    return sidecar.proc.returncode


def test_event_over_event_max_bytes_ends_the_run_before_the_event(pg, sidecar):
    table = unique("big")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
    s = sidecar(snapshot__mode="no_data", event__max__bytes="4000").start()
    pg.execute(f"INSERT INTO {table} VALUES (1, 'small')")
    s.wait_records(lambda rs: len(s.data_records(table)) == 1, what="the small row")
    pg.execute(f"INSERT INTO {table} VALUES (2, repeat('x', 20000))")
    after_refused = pg.current_lsn()
    pg.execute(f"INSERT INTO {table} VALUES (3, 'after')")
    started = time.monotonic()
    assert wait_exit(s) == 6
    assert time.monotonic() - started < 30
    log = s.all_logs()
    assert "refused an event for good" in log and "event.max.bytes" in log, log
    assert s.starts == 1
    ids = [r["value"]["after"]["id"] for r in s.data_records(table)]
    assert ids == [1], ids
    # The slot stays before the refused event: the next run meets it again.
    assert pg.slot(s.slot)["confirmed_flush"] < after_refused

def test_two_tables_mapping_to_one_topic_end_the_run(pg, sidecar):
    schema = unique("a")
    pg.execute(f'CREATE SCHEMA {schema}')
    pg.execute(f'CREATE SCHEMA "{schema}.b"')
    pg.execute(f'CREATE TABLE {schema}."b.c" (id int PRIMARY KEY)')
    pg.execute(f'CREATE TABLE "{schema}.b".c (id int PRIMARY KEY)')
    s = sidecar(snapshot__mode="no_data").start()
    pg.execute(f'INSERT INTO {schema}."b.c" VALUES (1)')
    pg.execute(f'INSERT INTO "{schema}.b".c VALUES (1)')
    assert wait_exit(s) == 2
    log = s.all_logs()
    assert "one topic" in log and "table.exclude.list" in log, log
    assert s.starts == 1
