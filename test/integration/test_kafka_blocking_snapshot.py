"""Blocking snapshot while streaming to the real broker: on
walcast.execute_snapshot(..., 'blocking') the stream waits while the parallel reader reads
the table (its own producer), under a concurrent insert/update/delete/key-change load; the
folded topic equals the source row by row and the rows carry the initial snapshot's
markers."""

import re
import time

from incremental_load import (Load, assert_folds_to_source, create_load_table, start_streaming,
                              stop_loads)
from kafka_fixture import (Walcast, kafka_broker, kafka_pg, unique_name,  # noqa: F401
                           wait_for)


def test_kafka_blocking_snapshot_under_load(kafka_broker, kafka_pg, tmp_path):
    pg = kafka_pg
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    rows = 20000
    table = unique_name("blk")
    create_load_table(pg, table, rows)
    walcast = Walcast(tmp_path, pg, kafka_broker, unique_name("blks"), f"public\\.{table}",
                      {"snapshot.mode": "no_data", "snapshot.max.threads": "2",
                      "snapshot.chunk.bytes": "65536"})
    start_streaming(walcast, pg, wait_for)
    topic = f"{walcast.prefix}.public.{table}"

    loads = [Load(pg, table, rows, lane) for lane in range(3)]
    for load in loads:
        load.start()
    time.sleep(0.5)
    started = time.monotonic()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s], 'blocking')", f"public.{table}")
    done = re.compile(r"blocking snapshot: (\d+) rows in")
    wait_for(lambda: ("blocking snapshot done" in walcast.all_logs()) or not walcast.alive(),
             180, "the blocking snapshot to finish")
    seconds = time.monotonic() - started
    walcast.assert_alive()
    time.sleep(1)  # the load goes on after the snapshot, through the stream
    stop_loads(loads)
    pg.execute(f"INSERT INTO {table} VALUES (-1, -1, 'sentinel')")
    records = kafka_broker.read(
        [topic], timeout=120,
        done=lambda recs: any(r.key_json == {"id": -1} for r in recs))
    reads = [r for r in records if r.value and r.value["op"] == "r"]
    read_rows = int(done.search(walcast.all_logs()).group(1))
    print(f"\nblocking snapshot of {read_rows} rows in {seconds:.1f} s under "
          f"{sum(load.commits for load in loads)} load commits")
    assert len(reads) == read_rows
    markers = {r.value["source"]["snapshot"] for r in reads}
    assert "incremental" not in markers and {"first", "last"} <= markers, markers
    assert_folds_to_source(pg, table, ((r.key_json, r.value) for r in records))
    assert walcast.terminate() == 0
