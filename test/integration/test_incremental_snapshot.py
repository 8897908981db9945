"""Incremental snapshots (DBLog watermarks) while streaming, file sink: a table whose
rows predate the slot is snapshot again in primary-key chunks, on a signal from
walcast.execute_snapshot(), under a concurrent insert/update/delete/key-change load on
that same table. Once the load stops, the folded sink equals the source row by row."""

import json
import re
import subprocess
import time

import pytest

from conftest import throwaway_server, unique, wait_until
from pg_server import free_port
from walcast_process import scrape_metrics
from incremental_load import Load, assert_folds_to_source, stop_loads


@pytest.fixture(scope="module")
def incr_pg():
    """A server of this module's own: the extension it creates stays out of the shared
    one (tests there need a database without it)."""
    with throwaway_server() as server:
        server.execute("CREATE EXTENSION walcast")
        yield server


def payload(obj):
    """A key or value as a schema-less consumer sees it (JsonConverter envelopes removed)."""
    if isinstance(obj, dict) and set(obj) == {"schema", "payload"}:
        return obj["payload"]
    return obj


@pytest.mark.parametrize("schemas,threads", [(False, 1), (False, 4), (True, 4)],
                         ids=["plain-1-thread", "plain-4-threads", "schemas-4-threads"])
def test_incremental_snapshot_under_load_folds_to_the_source(incr_pg, sidecar, schemas, threads):
    """snapshot.max.threads chunks in flight, each with its own window."""
    pg = incr_pg
    converters = {"key.converter.schemas.enable": "true",
                  "value.converter.schemas.enable": "true"} if schemas else {}
    table = unique("incr")
    rows = 20000
    pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, v bigint NOT NULL, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 0, 'row ' || g FROM generate_series(1, {rows}) g")
    # snapshot.mode=no_data: the rows above reach the sink only through the
    # incremental snapshot.
    metrics = f"127.0.0.1:{free_port()}"
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                incremental__snapshot__chunk__size=1000, snapshot__max__threads=threads,
                metrics__address=metrics,
                **{k.replace(".", "__"): v for k, v in converters.items()}).start()
    topic = f"{s.slot}.public.{table}"

    loads = [Load(pg, table, rows, lane) for lane in range(3)]
    for load in loads:
        load.start()
    time.sleep(0.5)
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", f"public.{table}")
    done = re.compile(rf"incremental snapshot of public\.{table} done: (\d+) rows read "
                      rf"in (\d+) chunks, at most (\d+) chunks in flight")
    wait_until(lambda: done.search(s.all_logs()) or not s.alive(), 120,
               "the incremental snapshot to finish")
    s.assert_alive()
    read, chunks, in_flight = map(int, done.search(s.all_logs()).groups())
    assert chunks >= read // 1000
    # Several windows were open at once, never more than three a reader (the chunk the
    # server reads, the one loaded meanwhile, the one the stream has yet to close).
    assert 2 <= in_flight <= 3 * threads, in_flight
    scraped = scrape_metrics(metrics)
    assert scraped[f'walcast_incremental_snapshot_chunks_total{{table="public.{table}"}}'] \
        == chunks
    assert scraped[f'walcast_incremental_snapshot_rows_total{{table="public.{table}"}}'] == read
    assert scraped["walcast_incremental_snapshot_tables_remaining"] == 0
    assert scraped["walcast_incremental_snapshot_chunks_in_flight"] == 0
    on_record = pg.execute("SELECT chunks, completed_at IS NOT NULL FROM "
                           "walcast.incremental_snapshots WHERE slot_name = %s", s.slot)
    assert on_record == [(chunks, True)]
    stop_loads(loads)
    assert sum(load.commits for load in loads) > 50, "the load must run during the snapshot"

    # Everything committed is in the sink: a sentinel row comes last.
    pg.execute(f"INSERT INTO {table} VALUES (-1, -1, 'sentinel')")
    s.wait_records(lambda recs: any(r["topic"] == topic and payload(r["key"]) == {"id": -1}
                                    for r in recs), timeout=60, what="the sentinel row")
    records = [dict(r, key=payload(r["key"]), raw_value=r["value"], value=payload(r["value"]))
               for r in s.records()]
    reads = [r for r in records if r["topic"] == topic and r["value"]
             and r["value"]["op"] == "r"]
    assert reads, "no op r events"
    src = reads[0]["value"]["source"]
    assert (src["snapshot"], src["lsn"], src["txId"], src["xmin"]) == \
        ("incremental", None, None, None)
    # The low watermark's LSN orders the chunk's rows.
    assert int(json.loads(src["sequence"])[0]) > 0
    if schemas:  # the table's Connect schema, as streamed events of it carry
        streamed = next(r for r in records if r["topic"] == topic and r["value"]
                        and r["value"]["op"] == "c")
        assert reads[0]["raw_value"]["schema"] == streamed["raw_value"]["schema"]
        assert reads[0]["raw_value"]["schema"]["name"] == f"{topic}.Envelope"

    assert_folds_to_source(pg, table,
                           ((r["key"], r["value"]) for r in records if r["topic"] == topic))
    # Rows changed during their chunk's window were left to the stream.
    dropped = sum(int(n) for n in re.findall(r"chunk \S+ of \S+: \d+ rows read, (\d+) "
                                             r"changed in its window", s.all_logs()))
    print(f"\n{len(reads)} op r events; {dropped} keys left to the stream")
    assert dropped > 0, "the load never touched a chunk between its watermarks"
    assert s.terminate() == 0


def test_execute_snapshot_of_a_table_without_primary_key_is_refused(incr_pg, sidecar):
    pg = incr_pg
    table = unique("nokey")
    pg.execute(f"CREATE TABLE {table} (v int)")
    pg.execute(f"INSERT INTO {table} VALUES (1)")
    s = sidecar(server=pg, log__level="info").start()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", table)
    wait_until(lambda: "has no primary key" in s.all_logs(), 30, "the refusal")
    s.assert_alive()
    assert not [r for r in s.records() if r["value"] and r["value"]["op"] == "r"]
    assert s.terminate() == 0


def test_watermark_transactions_get_no_transaction_records(incr_pg, sidecar):
    """With provide.transaction.metadata, the signal's and the watermarks' transactions
    (control messages only) produce no BEGIN/END records; the rows read carry a null
    transaction block."""
    pg = incr_pg
    table = unique("meta")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 'x' FROM generate_series(1, 100) g")
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                incremental__snapshot__chunk__size=30,
                provide__transaction__metadata="true").start()
    topic = f"{s.slot}.public.{table}"
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", table)
    wait_until(lambda: f"incremental snapshot of public.{table} done" in s.all_logs()
               or not s.alive(), 60, "the incremental snapshot to finish")
    pg.execute(f"INSERT INTO {table} VALUES (0, 'last')")
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": 0}
                                    for r in recs), what="the last insert")
    records = s.records()
    reads = [r for r in records if r["topic"] == topic and r["value"]["op"] == "r"]
    assert len(reads) == 100
    assert all(r["value"]["transaction"] is None for r in reads)
    txn = [r["value"]["status"] for r in records if r["topic"] == f"{s.slot}.transaction"]
    assert txn == ["BEGIN", "END"], txn  # the insert's only
    assert s.terminate() == 0


def test_walcast_snapshot_cli_signals_the_running_sidecar(incr_pg, sidecar, walcast_cli):
    """`walcast snapshot TABLE` (the sidecar's own configuration file) sends the same
    signal as walcast.execute_snapshot(); a table that does not exist is refused with
    the server's words and nothing is read."""
    pg = incr_pg
    table = unique("cli")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 'x' FROM generate_series(1, 50) g")
    s = sidecar(server=pg, table__include__list=f"public\\.{table}").start()
    topic = f"{s.slot}.public.{table}"

    missing = walcast_cli("snapshot", "--config", str(s.config), f"public.{table}_none")
    assert missing.returncode == 1, missing
    assert "does not exist" in missing.stderr, missing.stderr

    done = walcast_cli("snapshot", "--config", str(s.config), f"public.{table}")
    assert done.returncode == 0, done
    assert "requested an incremental snapshot of 1 table" in done.stdout, done.stdout
    wait_until(lambda: f"incremental snapshot of public.{table} done" in s.all_logs()
               or not s.alive(), 60, "the incremental snapshot to finish")
    s.assert_alive()
    reads = [r for r in s.records() if r["topic"] == topic and r["value"]["op"] == "r"]
    assert sorted(r["key"]["id"] for r in reads) == list(range(1, 51))
    assert all(r["value"]["source"]["snapshot"] == "incremental" for r in reads)
    # `walcast status` shows the incremental snapshot on record.
    status = walcast_cli("status", "--config", str(s.config))
    assert re.search(rf"incremental snapshots: public\.{table}: 1 chunks, 50 rows confirmed, "
                     r"completed at ", status.stdout), status.stdout
    assert s.terminate() == 0


def test_reconnects_mid_snapshot_read_unconfirmed_chunks_again(incr_pg, sidecar):
    """The replication connection is cut while chunks are closed but not yet confirmed by
    the sink: after the reconnect those chunks are read again (the stream resends from
    the slot's confirmed position, their rows may be missing), and the sink ends up equal
    to the source under a concurrent load."""
    pg = incr_pg
    table = unique("recon")
    rows = 40000
    pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, v bigint NOT NULL, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 0, 'row ' || g FROM generate_series(1, {rows}) g")
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                incremental__snapshot__chunk__size=100, snapshot__max__threads=4,
                log__level="info").start()
    topic = f"{s.slot}.public.{table}"
    load = Load(pg, table, rows)
    load.start()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", f"public.{table}")
    done = f"incremental snapshot of public.{table} done"
    cuts = 0
    while done not in s.all_logs() and cuts < 20:
        s.assert_alive()
        time.sleep(0.2)
        pid = (pg.slot(s.slot) or {}).get("active_pid")
        if pid:
            pg.execute("SELECT pg_terminate_backend(%s)", pid)
            cuts += 1
        if "read again after the reconnect" in s.all_logs():
            break
    wait_until(lambda: done in s.all_logs() or not s.alive(), 120,
               "the incremental snapshot to finish")
    s.assert_alive()
    stop_loads([load])
    again = s.all_logs().count("read again after the reconnect")
    print(f"\n{cuts} connections cut, {again} chunks read again")
    assert again > 0, "no chunk was closed and unconfirmed at a reconnect"
    pg.execute(f"INSERT INTO {table} VALUES (-1, -1, 'sentinel')")
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": -1}
                                    for r in recs), timeout=60, what="the sentinel row")
    records = s.records()
    assert_folds_to_source(pg, table,
                           ((r["key"], r["value"]) for r in records if r["topic"] == topic))
    assert s.terminate() == 0


@pytest.fixture
def tmpfs_8m(tmp_path):
    """An 8 MiB tmpfs, to fill. The tests run as root (CI too): no mount is a failure."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (run as root): {r.stderr}", pytrace=False)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_sink_recreated_mid_snapshot_reads_unconfirmed_chunks_again(incr_pg, sidecar, tmpfs_8m):
    """The sink fails (disk full) while several chunks are closed but not confirmed: the
    sidecar recreates it and restarts the stream at the slot's confirmed position, where
    the rows of those chunks never were. Every such chunk is read again (before, only the
    last one's rows were sent again: the older ones were lost)."""
    pg = incr_pg
    table = unique("sinkfail")
    rows = 4000
    pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, pad text)")
    pg.execute(f"INSERT INTO {table} SELECT g, repeat('p', 200) FROM generate_series(1, {rows}) g")
    out = tmpfs_8m / "events.jsonl"
    s = sidecar(server=pg, table__include__list=f"public\\.{table}", sink=f"file:{out}",
                incremental__snapshot__chunk__size=100, snapshot__max__threads=4,
                log__level="info")
    s.out = out
    s.start()
    topic = f"{s.slot}.public.{table}"
    # About 400 KB free: the snapshot's events (about 2 MB) fill it.
    filler = tmpfs_8m / "filler"
    filler.write_bytes(b"\0" * (7800 * 1024))
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", f"public.{table}")
    wait_until(lambda: "No space left on device" in s.all_logs() or not s.alive(), 60,
               "the sink to hit the full disk")
    s.assert_alive()
    time.sleep(1)
    filler.unlink()
    done = f"incremental snapshot of public.{table} done"
    wait_until(lambda: done in s.all_logs() or not s.alive(), 120,
               "the incremental snapshot to finish")
    s.assert_alive()
    again = s.all_logs().count("read again after the reconnect")
    pg.execute(f"INSERT INTO {table} VALUES (-1, 'sentinel')")
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": -1}
                                    for r in recs), timeout=60, what="the sentinel row")
    ids = {r["key"]["id"] for r in s.records() if r["topic"] == topic}
    missing = sorted(set(range(1, rows + 1)) - ids)
    print(f"\n{again} chunks read again after the sink was recreated")
    assert not missing, f"{len(missing)} rows never reached the sink: {missing[:5]}..."
    assert again > 0
    assert s.terminate() == 0


def test_composite_key_ranges_read_every_row_once(incr_pg, sidecar):
    """A two-column primary key (int, text in the database's collation): the planned
    ranges compare rows as PostgreSQL does; three readers read every row exactly once."""
    pg = incr_pg
    table = unique("composite")
    pg.execute(f"CREATE TABLE {table} (a int, b text, v int, PRIMARY KEY (a, b))")
    pg.execute(f"INSERT INTO {table} SELECT g % 7, 'k' || (g * 37 % 101) || repeat('x', g % 3),"
               f" g FROM generate_series(1, 700) g ON CONFLICT DO NOTHING")
    expected = sorted(tuple(r) for r in pg.execute(f"SELECT a, b FROM {table}"))
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                incremental__snapshot__chunk__size=9, snapshot__max__threads=3).start()
    topic = f"{s.slot}.public.{table}"
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", f"public.{table}")
    done = re.compile(rf"incremental snapshot of public\.{table} done: (\d+) rows read in "
                      rf"(\d+) chunks, at most (\d+) chunks in flight")
    wait_until(lambda: done.search(s.all_logs()) or not s.alive(), 60,
               "the incremental snapshot to finish")
    s.assert_alive()
    read, chunks, _ = map(int, done.search(s.all_logs()).groups())
    assert read == len(expected)
    assert chunks >= len(expected) // 9
    keys = sorted((r["key"]["a"], r["key"]["b"]) for r in s.records()
                  if r["topic"] == topic and r["value"]["op"] == "r")
    assert keys == expected
    assert s.terminate() == 0
