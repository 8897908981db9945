"""One transaction of a million rows: everything reaches Kafka and the
sidecar's peak RSS (VmHWM) stays bounded."""

import os
import threading
import time

from kafka_fixture import (Walcast, end_offsets, kafka_broker, kafka_pg,  # noqa: F401
                           unique_name, wait_for)

ROWS = int(os.environ.get("WALCAST_BIG_TX_ROWS", "1000000"))
RSS_LIMIT_MB = int(os.environ.get("WALCAST_BIG_TX_RSS_LIMIT_MB", "300"))


def test_million_row_transaction_bounded_memory(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    prefix = unique_name("bigtx")
    topic = f"{prefix}.public.big"
    broker.create_topic(topic, 3)
    pg.execute("CREATE TABLE big (id int PRIMARY KEY, payload text)")

    walcast = Walcast(tmp_path, pg, broker, prefix, "public.big").start()
    pg.wait_slot(walcast.slot, active=True)

    # Sample VmHWM from the side; the kernel keeps the peak anyway, sampling
    # just keeps the last value if the process exits early.
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            walcast.vm_hwm_kb()
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    start = time.time()
    with pg.connect(autocommit=False) as conn:
        conn.execute("INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, %s) g",
                     (ROWS,))
        # Below the commit record: an acknowledgement past it covers the transaction.
        before_commit = conn.execute(
            "SELECT (pg_current_wal_insert_lsn() - '0/0')::numeric").fetchone()[0]
        conn.commit()
    committed = time.time()

    def delivered():
        walcast.assert_alive()
        return sum(end_offsets(broker.bootstrap, topic).values()) >= ROWS

    try:
        wait_for(delivered, 900, f"{ROWS} records in {topic}", interval=2)
        done = time.time()
        # ... and acknowledged: the slot moved past the transaction.
        wait_for(lambda: pg.slot(walcast.slot)["confirmed_flush"] > before_commit, 60,
                 "the slot to acknowledge the transaction")
    finally:
        stop.set()
        sampler.join()
    peak_mb = walcast.vm_hwm_kb() / 1024
    print(f"\n{ROWS} rows: insert {committed - start:.1f}s, commit to all-in-Kafka "
          f"{done - committed:.1f}s ({ROWS / max(done - committed, 1e-3):,.0f} rows/s); "
          f"sidecar peak RSS (VmHWM) {peak_mb:.1f} MB (limit {RSS_LIMIT_MB} MB)")
    assert sum(end_offsets(broker.bootstrap, topic).values()) == ROWS, "duplicates"
    assert peak_mb < RSS_LIMIT_MB
    assert walcast.terminate() == 0, walcast.log_tail()
