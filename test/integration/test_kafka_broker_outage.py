"""The broker is killed for 20 s under load and restarted on the same port:
nothing committed is missing, and the sidecar recovers by itself (same process,
no restart by the test)."""

import time

from kafka_fixture import (assert_nothing_missing, duplicates, kafka_pg,  # noqa: F401
                           kafka_private_broker, read_until_complete, start_load_stream)


def test_broker_down_20s_under_load(kafka_private_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_private_broker
    walcast, load, topic = start_load_stream(pg, broker, tmp_path, "outage", partitions=3)
    time.sleep(4)

    broker.kill()
    down_at = len(load.committed)
    time.sleep(20)
    walcast.assert_alive()
    during = len(load.committed) - down_at
    broker.restart()
    print(f"\n{during} changes committed while the broker was down")
    assert during > 0, "no load while the broker was down"

    time.sleep(5)
    load.stop()
    records = read_until_complete(broker, topic, load.committed, timeout=240)
    walcast.assert_alive()
    assert_nothing_missing(records, load.committed)
    assert walcast.starts == 1
    logs = walcast.all_logs()
    assert "all brokers down" in logs and "deliveries resumed" in logs, walcast.log_tail()
    dups = duplicates(records)
    print(f"{len(load.committed)} committed changes, {len(records)} records, "
          f"{len(dups)} duplicated events")

    # The slot caught up once Kafka was back (acknowledgements resumed).
    slot = pg.slot(walcast.slot)
    assert slot["active"], slot
    assert walcast.terminate() == 0, walcast.log_tail()
