"""kill -9 of the sidecar three times at random moments under load, restarted
each time: no committed change is missing, and every duplicate comes from the
window that was not yet acknowledged to Postgres when the process died."""

import random
import time

from kafka_fixture import (assert_nothing_missing, commit_lsn, duplicates,  # noqa: F401
                           end_offsets, kafka_broker, kafka_pg, read_until_complete,
                           start_load_stream)


def test_kill9_three_times_under_load(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    # One partition: offsets then order all records, so we know which copy of a
    # duplicate was written before which kill.
    walcast, load, topic = start_load_stream(pg, broker, tmp_path, "kill9", partitions=1)

    rng = random.Random()
    kills = []  # (high watermark after the kill, confirmed_flush_lsn at restart)
    for i in range(3):
        time.sleep(rng.uniform(2.0, 6.0))
        walcast.assert_alive()
        walcast.kill9()
        time.sleep(0.5)  # let requests already on the wire land
        hw = end_offsets(broker.bootstrap, topic).get(0, 0)
        slot = pg.wait_slot(walcast.slot, active=False, timeout=30)
        kills.append((hw, slot["confirmed_flush"]))
        print(f"\nkill {i + 1}: {hw} records in Kafka, slot confirmed_flush_lsn "
              f"{slot['confirmed_flush_lsn']}, {len(load.committed)} changes committed")
        walcast.start()
    time.sleep(3)
    load.stop()
    assert load.transactions > 50, "the load generator barely ran"

    records = read_until_complete(broker, topic, load.committed)
    walcast.assert_alive()
    assert_nothing_missing(records, load.committed)

    dups = duplicates(records)
    extra = sum(len(v) - 1 for v in dups.values())
    print(f"{len(load.committed)} committed changes, {len(records)} records, "
          f"{len(dups)} events duplicated ({extra} extra copies)")
    for i, (hw, flush) in enumerate(kills):
        n = sum(1 for recs in dups.values() if recs[0].offset < hw <= recs[-1].offset)
        print(f"  re-sent after kill {i + 1}: {n}")

    # A duplicate is legitimate only if, at some kill that separated its copies,
    # its transaction was not yet acknowledged (commit LSN >= confirmed_flush_lsn:
    # the slot resumes exactly there).
    bad = []
    for eid, recs in dups.items():
        offsets = [r.offset for r in recs]
        ok = all(any(a < hw <= b and commit_lsn(recs[0]) >= flush for hw, flush in kills)
                 for a, b in zip(offsets, offsets[1:]))
        if not ok:
            bad.append((eid, offsets))
    assert not bad, f"{len(bad)} duplicates of acknowledged events, e.g. {bad[:5]}"

    assert walcast.terminate() == 0, walcast.log_tail()
