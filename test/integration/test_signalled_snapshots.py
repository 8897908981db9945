"""Blocking snapshots, new tables and the incremental first load, file sink
(docs/incremental-snapshots.md): a blocking snapshot holds the stream while the parallel
reader reads the table under a concurrent load, and the slot is not acknowledged past its
signal before the rows are in the sink; a table that enters table.include.list between two
runs is read incrementally on its own (snapshot.new.tables=incremental) and the others are
not sent again; snapshot.initial.method=incremental streams at once and reads every table
in incremental chunks. Each time the folded sink equals the source row by row."""

import threading
import time

import pytest

from conftest import throwaway_server, unique, wait_until
from incremental_load import Load, assert_folds_to_source, create_load_table, stop_loads
from signal_table import make_signal_table, signal

INITIAL_MARKERS = {"first", "first_in_data_collection", "true", "last_in_data_collection",
                   "last"}


@pytest.fixture(scope="module")
def sig_pg():
    """A server of this module's own, with the extension. A short wal_sender_timeout: a
    held stream must keep its connection with status updates."""
    with throwaway_server() as server:
        server.execute("CREATE EXTENSION walcast")
        server.execute("ALTER SYSTEM SET wal_sender_timeout = '2s'")
        server.execute("SELECT pg_reload_conf()")
        yield server


def assert_fold_equals_source(pg, s, table, records):
    topic = f"{s.slot}.public.{table}"
    assert_folds_to_source(pg, table,
                           ((r["key"], r["value"]) for r in records if r["topic"] == topic))


def sentinel(pg, s, table):
    """Everything committed so far is in the sink once this insert is."""
    topic = f"{s.slot}.public.{table}"
    pg.execute(f"INSERT INTO {table} VALUES (-1, -1, 'sentinel')")
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": -1}
                                    for r in recs), timeout=60, what="the sentinel row")
    return s.records()


def test_blocking_snapshot_holds_the_stream_and_folds_to_the_source(sig_pg, sidecar):
    pg = sig_pg
    table = unique("blk")
    rows = 20000
    create_load_table(pg, table, rows)
    # Throttled, so that the hold lasts long enough to watch the slot's position.
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                snapshot__max__threads=2, snapshot__chunk__bytes=65536,
                snapshot__throttle__rows__per__second=5000).start()
    topic = f"{s.slot}.public.{table}"
    loads = [Load(pg, table, rows, lane) for lane in range(3)]
    for load in loads:
        load.start()
    time.sleep(0.5)
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s], 'blocking')", f"public.{table}")
    # The signal's transaction ends at or before this position.
    after_signal = pg.execute("SELECT pg_current_wal_lsn()::text")[0][0]

    # While held, the slot's acknowledgement stays before the signal's transaction.
    held_samples = 0
    resumed = "blocking snapshot done: the stream reads the slot again"
    deadline = time.time() + 120
    while time.time() < deadline:
        before = pg.execute("SELECT confirmed_flush_lsn < %s::pg_lsn, confirmed_flush_lsn::text "
                            "FROM pg_replication_slots WHERE slot_name = %s",
                            after_signal, s.slot)[0]
        logs = s.all_logs()
        if resumed in logs:
            break
        s.assert_alive()
        if "blocking snapshot of" in logs:
            held_samples += 1
            assert before[0], (f"slot acknowledged {before[1]} while the blocking snapshot "
                               f"was held (signal committed by {after_signal})")
        time.sleep(0.1)
    assert resumed in s.all_logs(), s.log_tail()
    assert held_samples >= 3, "the hold was too short to watch"
    # Held longer than wal_sender_timeout, on one connection: read once.
    assert s.all_logs().count("blocking snapshot of 1 tables") == 1, s.log_tail()
    assert "reconnecting" not in s.all_logs(), s.log_tail()
    time.sleep(1)  # the load goes on after the snapshot, through the stream
    stop_loads(loads)
    assert sum(load.commits for load in loads) > 50

    records = sentinel(pg, s, table)
    mine = [r for r in records if r["topic"] == topic and r["value"]]
    reads = [i for i, r in enumerate(mine) if r["value"]["op"] == "r"]
    assert len(reads) >= rows * 0.8, len(reads)
    markers = [mine[i]["value"]["source"]["snapshot"] for i in reads]
    assert set(markers) <= INITIAL_MARKERS, set(markers)
    assert markers[0] == "first" and markers[-1] == "last", (markers[0], markers[-1])
    # The stream stopped: no streamed event of the table among the rows read.
    streamed_inside = [mine[i]["value"]["op"] for i in range(reads[0], reads[-1] + 1)
                       if mine[i]["value"]["op"] != "r"]
    assert not streamed_inside, f"{len(streamed_inside)} streamed events among the rows read"
    assert reads[-1] < len(mine) - 1, "the stream resumed after the rows"
    assert_fold_equals_source(pg, s, table, records)
    # The slot is acknowledged past the signal once the rows are in the sink.
    wait_until(lambda: pg.execute(
        "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
        "WHERE slot_name = %s", after_signal, s.slot)[0][0], 30, "the ack to pass the signal")
    print(f"\n{len(reads)} rows read while the stream was held; {held_samples} samples")
    assert s.terminate() == 0


def test_blocking_snapshot_stopped_runs_again_on_restart(sig_pg, sidecar):
    """SIGTERM during a blocking snapshot ends the run at once without acknowledging the
    signal's transaction: the next run reads the signal again and snapshots the table."""
    pg = sig_pg
    table = unique("blkr")
    rows = 20000
    create_load_table(pg, table, rows)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                snapshot__chunk__bytes=65536, snapshot__throttle__rows__per__second=2000).start()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s], 'blocking')", table)
    after_signal = pg.execute("SELECT pg_current_wal_lsn()::text")[0][0]
    wait_until(lambda: "blocking snapshot of 1 tables" in s.all_logs() or not s.alive(), 30,
               "the blocking snapshot to start")
    time.sleep(1)
    started = time.monotonic()
    assert s.terminate() == 0
    assert time.monotonic() - started < 10
    assert "blocking snapshot done" not in s.all_logs()
    assert pg.execute("SELECT confirmed_flush_lsn < %s::pg_lsn FROM pg_replication_slots "
                      "WHERE slot_name = %s", after_signal, s.slot)[0][0]

    s.props.pop("snapshot.throttle.rows.per.second")
    s.write_config()
    s.start()
    wait_until(lambda: "blocking snapshot done" in s.log_path.read_text() or not s.alive(), 60,
               "the blocking snapshot after the restart")
    records = sentinel(pg, s, table)
    assert_fold_equals_source(pg, s, table, records)
    assert s.terminate() == 0


def test_blocking_snapshot_with_transaction_metadata(sig_pg, sidecar):
    """The signal's transaction has no event: its BEGIN record stays deferred, and the hold
    does not wait for it."""
    pg = sig_pg
    table = unique("blkm")
    create_load_table(pg, table, 100)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}",
                provide__transaction__metadata="true").start()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s], 'blocking')", table)
    wait_until(lambda: "blocking snapshot done" in s.all_logs() or not s.alive(), 30,
               "the blocking snapshot")
    pg.execute(f"INSERT INTO {table} VALUES (0, 0, 'after')")
    topic = f"{s.slot}.public.{table}"
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": 0}
                                    for r in recs), what="the insert after the snapshot")
    records = s.records()
    reads = [r for r in records if r["topic"] == topic and r["value"]["op"] == "r"]
    assert sorted(r["key"]["id"] for r in reads) == list(range(1, 101))
    txn = [r["value"]["status"] for r in records if r["topic"] == f"{s.slot}.transaction"]
    assert txn == ["BEGIN", "END"], txn  # the insert's only
    assert s.terminate() == 0


def test_blocking_snapshot_reads_the_rows_its_condition_selects(sig_pg, sidecar):
    """additional-conditions apply to a blocking snapshot as to an incremental one (Debezium's
    signal table): the rows read are those the table's condition selects; a table whose
    condition the extension refuses is skipped with an error, the others are read and the
    stream resumes."""
    pg = sig_pg
    table, refused = unique("blkc"), unique("blkx")
    create_load_table(pg, table, 300)
    create_load_table(pg, refused, 30)
    sig = make_signal_table(pg)
    s = sidecar(server=pg, table__include__list=f"public\\.({table}|{refused})",
                signal__data__collection=f"public.{sig}", snapshot__max__threads=2,
                snapshot__chunk__bytes=8192).start()
    signal(pg, sig, "execute-snapshot",
           {"data-collections": [f"public\\.({table}|{refused})"], "type": "blocking",
            "additional-conditions": [
                {"data-collection": f"public.{table}",
                 "filter": "id % 10 = 3 AND note LIKE 'row%'"},
                {"data-collection": f"public.{refused}", "filter": "pg_sleep(1) IS NULL"}]})
    wait_until(lambda: "blocking snapshot done" in s.all_logs() or not s.alive(), 60,
               "the blocking snapshot")
    s.assert_alive()
    assert "refused: its condition" in s.all_logs(), s.log_tail()
    pg.execute(f"INSERT INTO {table} VALUES (0, 0, 'after')")
    topic = f"{s.slot}.public.{table}"
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": 0}
                                    for r in recs), what="the insert after the snapshot")
    reads = {r["topic"]: [] for r in s.records()}
    for r in s.records():
        if r["value"] and r["value"]["op"] == "r":
            reads.setdefault(r["topic"], []).append(r["key"]["id"])
    assert sorted(reads.get(topic, [])) == list(range(3, 300, 10))
    assert reads.get(f"{s.slot}.public.{refused}", []) == []
    assert s.terminate() == 0


def test_cli_asks_for_a_blocking_snapshot(sig_pg, sidecar, walcast_cli):
    """`walcast snapshot --blocking --where ...`: a blocking snapshot of the rows selected."""
    pg = sig_pg
    table = unique("blkcli")
    create_load_table(pg, table, 50)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}").start()
    asked = walcast_cli("snapshot", "--config", str(s.config), f"public.{table}", "--blocking",
                        "--where", "id <= 10")
    assert asked.returncode == 0, asked
    assert "requested a blocking snapshot of 1 table (where id <= 10)" in asked.stdout, asked
    wait_until(lambda: "blocking snapshot done" in s.all_logs() or not s.alive(), 60,
               "the blocking snapshot")
    s.assert_alive()
    topic = f"{s.slot}.public.{table}"
    reads = [r for r in s.records() if r["topic"] == topic and r["value"]["op"] == "r"]
    assert sorted(r["key"]["id"] for r in reads) == list(range(1, 11))
    assert {r["value"]["source"]["snapshot"] for r in reads} <= INITIAL_MARKERS
    assert s.terminate() == 0


def test_table_included_between_runs_is_backfilled_incrementally(sig_pg, sidecar):
    pg = sig_pg
    a, b = unique("nta"), unique("ntb")
    create_load_table(pg, a, 50)
    create_load_table(pg, b, 70)  # exists before it is included: its rows are not in the WAL
    s = sidecar(server=pg, snapshot__mode="initial", table__include__list=f"public\\.{a}",
                snapshot__new__tables="incremental").start()
    s.wait_records(lambda recs: len([r for r in recs if r["value"]
                                     and r["value"]["op"] == "r"]) == 50,
                   what="the initial snapshot of a")
    assert "no new table" in s.all_logs()
    assert s.terminate() == 0
    recorded = dict(pg.execute("SELECT table_name, method FROM walcast.snapshot_tables "
                               "WHERE slot_name = %s", s.slot))
    assert recorded == {f"public.{a}": "initial"}

    s.props["table.include.list"] = f"public\\.({a}|{b})"
    s.write_config()
    mark = len(s.records())
    s.start()
    wait_until(lambda: f"incremental snapshot of public.{b} done" in s.all_logs()
               or not s.alive(), 60, "the backfill of b")
    s.assert_alive()
    records = sentinel(pg, s, a)
    new = records[mark:]
    reads_b = [r for r in new if r["topic"] == f"{s.slot}.public.{b}" and r["value"]["op"] == "r"]
    assert sorted(r["key"]["id"] for r in reads_b) == list(range(1, 71))
    assert {r["value"]["source"]["snapshot"] for r in reads_b} == {"incremental"}
    assert not [r for r in new if r["topic"] == f"{s.slot}.public.{a}"
                and r["value"]["op"] == "r"], "a was sent again"
    assert_fold_equals_source(pg, s, b, records)
    recorded = dict(pg.execute("SELECT table_name, method FROM walcast.snapshot_tables "
                               "WHERE slot_name = %s", s.slot))
    assert recorded == {f"public.{a}": "initial", f"public.{b}": "incremental"}
    assert s.terminate() == 0

    # A third run has nothing new to read.
    mark = len(s.records())
    s.start()
    wait_until(lambda: "no new table" in s.log_path.read_text() or not s.alive(), 30,
               "the third run's start")
    time.sleep(1)
    assert not [r for r in s.records()[mark:] if r["value"] and r["value"]["op"] == "r"]
    assert s.terminate() == 0


def test_incremental_first_load_streams_at_once(sig_pg, sidecar):
    pg = sig_pg
    table, other = unique("ifl"), unique("iflo")
    rows = 20000
    create_load_table(pg, table, rows)
    create_load_table(pg, other, 0)
    # Inserts into another table all along: streamed while the first load runs.
    stop_inserts = threading.Event()

    def insert_other():
        n = 0
        while not stop_inserts.is_set():
            n += 1
            pg.execute(f"INSERT INTO {other} VALUES (%s, 0, 'streamed')", n)
            time.sleep(0.02)

    inserter = threading.Thread(target=insert_other, daemon=True)
    inserter.start()
    s = sidecar(server=pg, snapshot__mode="initial", snapshot__initial__method="incremental",
                table__include__list=f"public\\.({table}|{other})",
                incremental__snapshot__chunk__size=200)
    # Nothing holds a snapshot for the whole load: no walcast backend stays in a
    # transaction, and none stays idle in one (walcast's short bookkeeping transactions
    # are idle in transaction only between their statements). The parallel first load,
    # whose exported snapshot would be held so, is told apart by its log line and by no
    # stream event between its rows (both asserted below).
    longest, longest_idle = [0.0], [0.0]
    stop_watch = threading.Event()

    def watch():
        while not stop_watch.is_set():
            age, idle = pg.execute(
                "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0)::float8, "
                "coalesce(max(extract(epoch FROM now() - xact_start)) FILTER "
                "(WHERE state = 'idle in transaction'), 0)::float8 "
                "FROM pg_stat_activity WHERE application_name = 'walcast' "
                "AND backend_xmin IS NOT NULL")[0]
            longest[0] = max(longest[0], age)
            longest_idle[0] = max(longest_idle[0], idle)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    s.start()
    topic = f"{s.slot}.public.{table}"
    assert "without a snapshot" in s.all_logs()
    loads = [Load(pg, table, rows, lane) for lane in range(2)]
    for load in loads:
        load.start()
    done = f"incremental snapshot of public.{table} done"
    wait_until(lambda: done in s.all_logs() or not s.alive(), 120, "the first load")
    stop_watch.set()
    watcher.join(5)
    stop_inserts.set()
    inserter.join(5)
    s.assert_alive()
    time.sleep(0.5)
    stop_loads(loads)

    records = sentinel(pg, s, table)
    order = [(r["topic"], r["value"]["op"]) for r in records if r["value"]]
    reads_at = [i for i, (t, op) in enumerate(order) if t == topic and op == "r"]
    streamed_inside = [i for i in range(reads_at[0], reads_at[-1])
                       if order[i][1] != "r"]
    assert streamed_inside, "nothing was streamed while the first load ran"
    reads = [r for r in records if r["topic"] == topic and r["value"]
             and r["value"]["op"] == "r"]
    assert {r["value"]["source"]["snapshot"] for r in reads} == {"incremental"}
    assert longest[0] < 5, f"a walcast backend held a transaction for {longest[0]:.1f} s"
    assert longest_idle[0] < 0.5, \
        f"a walcast backend stayed idle in a transaction for {longest_idle[0]:.2f} s"
    assert_fold_equals_source(pg, s, table, records)
    recorded = {t for (t,) in pg.execute("SELECT table_name FROM walcast.snapshot_tables "
                                         "WHERE slot_name = %s", s.slot)}
    assert recorded == {f"public.{table}", f"public.{other}"}
    print(f"\n{len(reads)} rows read incrementally; longest walcast transaction "
          f"{longest[0]:.2f} s")
    assert s.terminate() == 0
