"""Incremental snapshot while streaming to the real broker: a table whose rows predate
the slot is snapshot again on walcast.execute_snapshot() under a concurrent
insert/update/delete/key-change load; the folded topic equals the source row by row, with
one reader, and with several readers across a kill -9 of the sidecar mid-snapshot."""

import re
import time

from incremental_load import (Load, assert_folds_to_source, create_load_table, start_streaming,
                              stop_loads)
from kafka_fixture import (Walcast, kafka_broker, kafka_pg, unique_name,  # noqa: F401
                           wait_for)


def test_kafka_incremental_snapshot_under_load(kafka_broker, kafka_pg, tmp_path):
    pg = kafka_pg
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    rows = 20000
    create_load_table(pg, "inc", rows)
    walcast = Walcast(tmp_path, pg, kafka_broker, unique_name("incr"), "public\\.inc",
                      {"snapshot.mode": "no_data", "snapshot.max.threads": "1",
                      "incremental.snapshot.chunk.size": "500"})
    start_streaming(walcast, pg, wait_for)
    topic = f"{walcast.prefix}.public.inc"

    loads = [Load(pg, "inc", rows, lane) for lane in range(3)]
    for load in loads:
        load.start()
    time.sleep(0.5)
    started = time.monotonic()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY['public.inc'])")
    # One reader: three windows at most (the chunk the server reads, the one loaded
    # meanwhile, the one the stream has yet to close).
    done = re.compile(r"incremental snapshot of public\.inc done: (\d+) rows read .*"
                      r"at most [123] chunks in flight")
    wait_for(lambda: done.search(walcast.all_logs()) or not walcast.alive(), 180,
             "the incremental snapshot to finish")
    seconds = time.monotonic() - started
    walcast.assert_alive()
    stop_loads(loads)
    pg.execute("INSERT INTO inc VALUES (-1, -1, 'sentinel')")
    records = kafka_broker.read(
        [topic], timeout=120,
        done=lambda recs: any(r.key_json == {"id": -1} for r in recs))
    reads = sum(1 for r in records if r.value and r.value["op"] == "r")
    print(f"\nincremental snapshot of {rows} rows in {seconds:.1f} s under "
          f"{sum(load.commits for load in loads)} load commits; {reads} op r events")
    assert reads > 0
    assert_folds_to_source(pg, "inc", ((r.key_json, r.value) for r in records))
    assert walcast.terminate() == 0


def test_kafka_incremental_snapshot_survives_kill9(kafka_broker, kafka_pg, tmp_path):
    """Four readers; kill -9 once some chunks are on record. The restarted sidecar continues
    after the recorded chunks (it does not start over) and still snapshots the second
    table the signal named (the request was on record before the slot moved past it)."""
    pg = kafka_pg
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    rows = 40000
    for t, n in (("inc", rows), ("inc2", 3000)):
        create_load_table(pg, t, n)
    walcast = Walcast(tmp_path, pg, kafka_broker, unique_name("incrkill"), "public\\.inc2?",
                      {"snapshot.mode": "no_data", "snapshot.max.threads": "4",
                      "incremental.snapshot.chunk.size": "200"})
    start_streaming(walcast, pg, wait_for)
    loads = [Load(pg, "inc", rows, lane) for lane in range(2)]
    for load in loads:
        load.start()
    time.sleep(0.5)
    pg.execute("SELECT walcast.execute_snapshot(ARRAY['public.inc', 'public.inc2'])")

    def recorded():
        r = pg.execute("SELECT chunks FROM walcast.incremental_snapshots "
                       "WHERE slot_name = %s AND table_name = 'public.inc'", walcast.slot)
        return r[0][0] if r else 0

    deadline = time.monotonic() + 60
    while recorded() < 6 and time.monotonic() < deadline and walcast.alive():
        time.sleep(0.05)
    walcast.assert_alive()
    walcast.kill9()
    on_record = recorded()
    assert 6 <= on_record < rows // 200, on_record
    assert "public.inc2 done" not in walcast.all_logs()

    walcast.start()
    done = re.compile(r"incremental snapshot of public\.inc done: (\d+) rows read in (\d+) "
                      r"chunks, at most (\d+) chunks in flight; resumed after chunk (\d+)")
    wait_for(lambda: (done.search(walcast.log_path.read_text())
                      and "public.inc2 done" in walcast.log_path.read_text())
             or not walcast.alive(), 180, "both incremental snapshots to finish")
    walcast.assert_alive()
    log = walcast.log_path.read_text()
    assert f"incremental snapshot of public.inc resumes after chunk {on_record}" in log
    assert "incremental snapshot of public.inc2 on record: starting it" in log
    _, chunks, in_flight, resumed = map(int, done.search(log).groups())
    assert resumed == on_record
    assert in_flight >= 2
    stop_loads(loads)
    pg.execute("INSERT INTO inc VALUES (-1, -1, 'sentinel')")
    pg.execute("INSERT INTO inc2 VALUES (-1, -1, 'sentinel')")
    topics = [f"{walcast.prefix}.public.inc", f"{walcast.prefix}.public.inc2"]
    records = kafka_broker.read(
        topics, timeout=120,
        done=lambda recs: sum(1 for r in recs if r.key_json == {"id": -1}) == 2)
    for topic, table in zip(topics, ("inc", "inc2")):
        assert_folds_to_source(pg, table,
                               ((r.key_json, r.value) for r in records if r.topic == topic))
    reads = [r for r in records if r.topic == topics[0] and r.value and r.value["op"] == "r"]
    print(f"\n{len(reads)} op r events of inc over two runs; {on_record} chunks on record "
          f"at the kill, {chunks} chunks after the restart")
    assert walcast.terminate() == 0
