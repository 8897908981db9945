"""Incremental snapshot while streaming to the real broker: a table whose rows predate
the slot is snapshot again on walcast.execute_snapshot() under a concurrent
insert/update/delete/key-change load; the folded topic equals the source row by row."""

import re
import time

from incremental_load import Load, fold
from kafka_fixture import (Walcast, kafka_broker, kafka_pg, unique_name,  # noqa: F401
                           wait_for)


def test_kafka_incremental_snapshot_under_load(kafka_broker, kafka_pg, tmp_path):
    pg = kafka_pg
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    rows = 20000
    pg.execute("CREATE TABLE inc (id bigint PRIMARY KEY, v bigint NOT NULL, note text)")
    pg.execute(f"INSERT INTO inc SELECT g, 0, 'row ' || g FROM generate_series(1, {rows}) g")
    walcast = Walcast(tmp_path, pg, kafka_broker, unique_name("incr"), "public\\.inc",
                      {"snapshot.mode": "no_data",
                       "incremental.snapshot.chunk.size": "500"}).start()
    wait_for(lambda: (pg.slot(walcast.slot) or {}).get("active") or not walcast.alive(), 30,
             "walcast to stream")
    walcast.assert_alive()
    topic = f"{walcast.prefix}.public.inc"

    loads = [Load(pg, "inc", rows, lane) for lane in range(3)]
    for load in loads:
        load.start()
    time.sleep(0.5)
    started = time.monotonic()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY['public.inc'])")
    done = re.compile(r"incremental snapshot of public\.inc done: (\d+) rows read")
    wait_for(lambda: done.search(walcast.all_logs()) or not walcast.alive(), 180,
             "the incremental snapshot to finish")
    seconds = time.monotonic() - started
    walcast.assert_alive()
    for load in loads:
        load.stop.set()
    for load in loads:
        load.join(30)
        assert load.error is None, load.error
    pg.execute("INSERT INTO inc VALUES (-1, -1, 'sentinel')")
    records = kafka_broker.read(
        [topic], timeout=120,
        done=lambda recs: any(r.key_json == {"id": -1} for r in recs))
    reads = sum(1 for r in records if r.value and r.value["op"] == "r")
    print(f"\nincremental snapshot of {rows} rows in {seconds:.1f} s under "
          f"{sum(load.commits for load in loads)} load commits; {reads} op r events")
    assert reads > 0
    source = {(r["id"],): r for (r,) in pg.execute("SELECT to_jsonb(t) FROM inc t")}
    folded = fold((r.key_json, r.value) for r in records)
    missing = [(k, source[k], folded.get(k)) for k in source if folded.get(k) != source[k]]
    extra = [k for k in folded if k not in source]
    assert not missing and not extra, (f"{len(missing)} rows missing or different, "
                                       f"{len(extra)} extra: {missing[:3]} {extra[:3]}")
    assert walcast.terminate() == 0
