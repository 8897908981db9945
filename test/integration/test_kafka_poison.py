"""Events Kafka rejects for good (here: larger than message.max.bytes) never stall the
stream in a loop. Default (event.processing.failure.handling.mode=fail): the run ends
with exit code 6 and a message naming the table, key, size and LSN and the remedies,
and nothing from that event on is acknowledged. skip/warn: the event is passed over
with a log line and walcast_events_skipped_total, recorded on the dead-letter topic
(errors.deadletterqueue.topic.name), and later changes are delivered."""

import json
import time

from kafka_fixture import (Walcast, free_port, kafka_broker, kafka_pg,  # noqa: F401
                           metric_sum, scrape_metrics, unique_name, wait_for)

BIG = 5_000_000  # characters: well above librdkafka's default message.max.bytes (1 MB)


def start(pg, broker, tmp_path, name, extra=None):
    prefix = unique_name(name)
    pg.execute("CREATE TABLE IF NOT EXISTS big (id int PRIMARY KEY, t text)")
    walcast = Walcast(tmp_path, pg, broker, prefix, "public.big", extra).start()
    pg.wait_slot(walcast.slot, active=True)
    return walcast, f"{prefix}.public.big"


def ids(records):
    return sorted(r.value["after"]["id"] for r in records if r.raw_value is not None)


def test_oversized_event_ends_the_run_by_default(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    walcast, topic = start(pg, broker, tmp_path, "poison")
    pg.execute("INSERT INTO big VALUES (1, 'small')")
    pg.wait_confirmed(walcast.slot, pg.current_lsn(), timeout=60)
    before_big = pg.current_lsn()
    pg.execute("INSERT INTO big VALUES (2, repeat('x', %s))", BIG)
    pg.execute("INSERT INTO big VALUES (3, 'after')")

    try:
        rc = walcast.proc.wait(timeout=60)
    except Exception:  # noqa: BLE001 - TimeoutExpired
        walcast.terminate(timeout=120)
        raise AssertionError("walcast neither delivered nor gave up on the oversized event "
                             f"within 60 s:\n{walcast.log_tail()}")
    log = walcast.log_tail(200)
    assert rc == 6, log
    for part in ("table public.big", 'key {"id":2}', "MSG_SIZE_TOO_LARGE", "LSN ",
                 "kafka.message.max.bytes", "event.processing.failure.handling.mode"):
        assert part in log, f"{part!r} missing:\n{log}"
    assert "recreating it" not in log, log
    slot = pg.slot(walcast.slot)
    assert slot["confirmed_flush"] <= before_big, (slot, before_big)
    # Events queued behind it may reach Kafka, but only as unacknowledged (resent later).
    got = ids(broker.read([topic], min_count=1, timeout=20))
    assert 1 in got and 2 not in got, got


def test_oversized_event_skipped_to_dead_letter_topic(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    metrics = f"127.0.0.1:{free_port()}"
    dlq = unique_name("dlq")
    walcast, topic = start(pg, broker, tmp_path, "skip", {
        "event.processing.failure.handling.mode": "skip",
        "errors.deadletterqueue.topic.name": dlq,
        "metrics.address": metrics,
    })
    pg.execute("INSERT INTO big VALUES (1, 'small')")
    pg.execute("INSERT INTO big VALUES (2, repeat('x', %s))", BIG)
    pg.execute("INSERT INTO big VALUES (3, 'after')")
    end = pg.current_lsn()

    wait_for(lambda: not walcast.alive() or pg.slot(walcast.slot)["confirmed_flush"] >= end, 60,
             "the acknowledgement to pass the skipped event")
    walcast.assert_alive()
    records = broker.read([topic], min_count=2, timeout=60)
    assert ids(records) == [1, 3], walcast.log_tail()
    dead = broker.read([dlq], min_count=1, timeout=60)
    assert len(dead) == 1, walcast.log_tail()
    described = dead[0].value
    assert described["table"] == "public.big" and described["topic"] == topic, described
    assert json.loads(described["key"]) == {"id": 2}, described
    assert described["value_bytes"] > BIG and described["error"] == "MSG_SIZE_TOO_LARGE"
    assert described["lsn"], described
    m = scrape_metrics(metrics)
    assert metric_sum(m, "walcast_events_skipped_total") == 1, m
    assert 'walcast_events_skipped_total{reason="MSG_SIZE_TOO_LARGE"}' in m, m
    log = walcast.log_tail(200)
    assert "skipping an event" in log and "public.big" in log, log
    walcast.assert_alive()
    assert walcast.terminate() == 0, walcast.log_tail()


def test_large_value_memory(kafka_broker, kafka_pg, tmp_path):
    """Peak RSS of the sidecar for one 100 MB value."""
    pg, broker = kafka_pg, kafka_broker
    size = 100_000_000
    walcast, topic = start(pg, broker, tmp_path, "rss", {
        # lz4 makes the batch small enough for the broker's default limit.
        "kafka.message.max.bytes": "1000000000",
        "kafka.queue.buffering.max.kbytes": "1048576",
    })
    base = walcast.vm_hwm_kb()
    pg.execute("INSERT INTO big VALUES (1, repeat('x', %s))", size)
    pg.execute("INSERT INTO big VALUES (2, 'after')")
    end = pg.current_lsn()
    pg.wait_confirmed(walcast.slot, end, timeout=400)
    peak = walcast.vm_hwm_kb()
    ratio = (peak - base) * 1024 / size
    print(f"\npeak RSS {peak / 1024:.0f} MB (start {base / 1024:.0f} MB) for a {size / 1e6:.0f} MB "
          f"value: {ratio:.2f}x the value")
    assert walcast.terminate() == 0, walcast.log_tail()
    # libpq's input buffer and the received message handed to librdkafka (no third copy).
    assert ratio < 2.5, f"{ratio:.2f}x"
