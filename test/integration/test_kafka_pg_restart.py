"""Postgres restarted under load: the sidecar reconnects by itself and nothing
committed is missing."""

import time

from kafka_fixture import (assert_nothing_missing, duplicates, kafka_broker,  # noqa: F401
                           kafka_pg, read_until_complete, start_load_stream)


def test_postgres_restart_under_load(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    walcast, load, topic = start_load_stream(pg, broker, tmp_path, "pgrestart", partitions=3)

    for i in range(2):
        time.sleep(4)
        before = len(load.committed)
        pg.restart()
        print(f"\nrestart {i + 1}: after {before} committed changes")
        walcast.assert_alive()
        pg.wait_slot(walcast.slot, active=True, timeout=90)  # reconnected by itself
    time.sleep(4)
    load.stop()
    assert load.errors > 0, "the load never saw the restart"

    records = read_until_complete(broker, topic, load.committed, timeout=240)
    walcast.assert_alive()
    assert_nothing_missing(records, load.committed)
    got = {(r.value["after"]["seq"], r.value["after"]["v"]) for r in records if r.raw_value}
    print(f"{len(load.committed)} committed, {len(load.maybe)} in-doubt commits "
          f"({len(load.maybe & got)} of them arrived), {len(duplicates(records))} duplicated")
    assert walcast.terminate() == 0, walcast.log_tail()
