"""SIGTERM/SIGINT end every phase of `walcast run` within seconds, and the log tells
the truth about the Kafka sink: no broker is called up unless one answered, and a
broker that refuses the client's TLS or credentials ends the run with exit code 5."""

import signal
import time

from kafka_fixture import (Walcast, free_port, kafka_broker, kafka_pg,  # noqa: F401
                           kafka_private_broker, unique_name, wait_for)

STOP_WITHIN = 5.0  # seconds from SIGTERM to exit


def time_to_exit(walcast, sig=signal.SIGTERM, limit=STOP_WITHIN):
    """Sends `sig`, returns (seconds to exit, exit code); kills and fails past `limit`*4."""
    started = time.monotonic()
    walcast.proc.send_signal(sig)
    try:
        rc = walcast.proc.wait(timeout=limit * 4)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        walcast.proc.kill()
        walcast.proc.wait()
        raise AssertionError(f"walcast ignored {sig.name} for {limit * 4} s:\n"
                             f"{walcast.log_tail()}")
    return time.monotonic() - started, rc


def snapshot_table(pg, rows):
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, t text)")
    pg.execute(f"INSERT INTO items SELECT g, repeat('x', 100) FROM generate_series(1, {rows}) g")
    pg.execute("ANALYZE items")


def test_sigterm_with_kafka_unreachable(kafka_pg, tmp_path):
    """Nothing listens on the bootstrap port: walcast says so, and SIGTERM ends it."""
    pg = kafka_pg
    snapshot_table(pg, 2000)

    class Nowhere:
        bootstrap = f"127.0.0.1:{free_port()}"

    walcast = Walcast(tmp_path, pg, Nowhere(), unique_name("nowhere"), "public.items",
                      {"snapshot.mode": "initial"}).start()
    time.sleep(8)
    walcast.assert_alive()
    seconds, rc = time_to_exit(walcast)
    log = walcast.log_tail(200)
    print(f"\nexit {seconds:.2f} s after SIGTERM with Kafka unreachable (rc {rc})")
    assert seconds < STOP_WITHIN, log
    assert rc == 0, log
    assert "brokers up" not in log and "kafka: connected" not in log, log
    assert "no broker at" in log and "has answered" in log, log


def test_sigterm_during_throttled_snapshot(kafka_broker, kafka_pg, tmp_path):
    pg = kafka_pg
    snapshot_table(pg, 20000)
    walcast = Walcast(tmp_path, pg, kafka_broker, unique_name("throttled"), "public.items",
                      {"snapshot.mode": "initial",
                       "snapshot.throttle.rows.per.second": "500"}).start()
    wait_for(lambda: "snapshot: 1 tables" in walcast.log_tail(200) or not walcast.alive(), 60,
             "the snapshot to start")
    time.sleep(4)
    walcast.assert_alive()
    seconds, rc = time_to_exit(walcast)
    print(f"\nexit {seconds:.2f} s after SIGTERM during a throttled snapshot (rc {rc})")
    assert seconds < STOP_WITHIN, walcast.log_tail()
    assert rc == 0, walcast.log_tail()
    # Interrupted, not completed: the next run resumes it.
    rows = pg.execute("SELECT completed_at IS NULL FROM walcast.snapshot_runs "
                      "WHERE slot_name = %s", walcast.slot)
    assert rows and rows[0][0], rows


def test_sigterm_while_slot_creation_waits(kafka_broker, kafka_pg, tmp_path):
    """CREATE_REPLICATION_SLOT waits for a running transaction: SIGTERM cancels it, and
    no slot is left behind."""
    pg = kafka_pg
    snapshot_table(pg, 10)
    blocker = pg.connect(autocommit=False)
    blocker.execute("INSERT INTO items VALUES (100000, 'open')")  # holds an xid, never commits
    try:
        walcast = Walcast(tmp_path, pg, kafka_broker, unique_name("slotwait"), "public.items",
                          {"snapshot.mode": "initial"}).start()
        wait_for(lambda: "waits for running transactions" in walcast.log_tail(200)
                 or not walcast.alive(), 60, "slot creation to wait")
        walcast.assert_alive()
        seconds, rc = time_to_exit(walcast)
        print(f"\nexit {seconds:.2f} s after SIGTERM while creating the slot (rc {rc})")
        assert seconds < STOP_WITHIN and rc == 0, walcast.log_tail()
        assert pg.slot(walcast.slot) is None, "a cancelled slot creation left its slot"
    finally:
        blocker.rollback()
        blocker.close()


def test_stop_with_broker_down_drains_briefly_and_second_sigint_aborts(
        kafka_private_broker, kafka_pg, tmp_path):
    """Events wait for a dead broker: SIGTERM drains for a few seconds only; a second
    SIGINT exits at once (130) without draining."""
    pg, broker = kafka_pg, kafka_private_broker
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, t text)")
    runs = []
    for sigs in ([signal.SIGTERM], [signal.SIGINT, signal.SIGINT]):
        walcast = Walcast(tmp_path, pg, broker, unique_name("drain"), "public.items").start()
        pg.wait_slot(walcast.slot, active=True)
        pg.execute("INSERT INTO items SELECT g, 'x' FROM generate_series(%s::int, %s::int) g",
                   len(runs) * 1000 + 1, len(runs) * 1000 + 100)
        pg.wait_confirmed(walcast.slot, pg.current_lsn(), timeout=60)
        broker.kill()
        pg.execute("INSERT INTO items SELECT g, 'y' FROM generate_series(%s::int, %s::int) g",
                   len(runs) * 1000 + 101, len(runs) * 1000 + 200)
        time.sleep(3)  # the events are read and wait in the producer queue
        walcast.assert_alive()
        started = time.monotonic()
        for sig in sigs:
            walcast.proc.send_signal(sig)
            time.sleep(0.1)
        try:
            rc = walcast.proc.wait(timeout=60)
        except Exception:  # noqa: BLE001
            walcast.proc.kill()
            raise AssertionError(f"no exit 60 s after {sigs}:\n{walcast.log_tail()}")
        runs.append((time.monotonic() - started, rc, walcast.log_tail()))
        broker.restart()
    (drain_s, drain_rc, drain_log), (abort_s, abort_rc, abort_log) = runs
    print(f"\nbroker down, events outstanding: exit {drain_s:.2f} s after SIGTERM (rc {drain_rc}), "
          f"{abort_s:.2f} s after two SIGINTs (rc {abort_rc})")
    assert drain_s < STOP_WITHIN and drain_rc == 0, drain_log
    assert "not delivered at shutdown" in drain_log, drain_log
    assert abort_s < 1.5 and abort_rc == 130, abort_log


def run_refused(pg, tmp_path, broker, name, extra):
    """Starts walcast with client settings the broker refuses; returns (rc, seconds, log)."""
    pg.execute("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, t text)")
    walcast = Walcast(tmp_path, pg, broker, unique_name(name), "public.items",
                      {"snapshot.mode": "no_data", **extra})
    started = time.monotonic()
    walcast.start()
    try:
        rc = walcast.proc.wait(timeout=60)
    except Exception:  # noqa: BLE001
        seconds, rc = time_to_exit(walcast)
        raise AssertionError(f"walcast kept retrying a refused connection for 60 s "
                             f"(exit {seconds:.1f} s after SIGTERM):\n{walcast.log_tail()}")
    return rc, time.monotonic() - started, walcast.log_tail(200)


def test_tls_to_a_plaintext_listener_is_fatal(kafka_broker, kafka_pg, tmp_path):
    rc, seconds, log = run_refused(kafka_pg, tmp_path, kafka_broker, "tls",
                                   {"kafka.security.protocol": "SSL"})
    print(f"\nTLS refused: exit {rc} after {seconds:.1f} s")
    assert rc == 5, log
    assert "TLS handshake with the broker failed" in log, log
    assert "brokers up" not in log and "kafka: connected" not in log, log


def test_sasl_refused_is_fatal(kafka_broker, kafka_pg, tmp_path):
    # The test broker has no SASL listener: it refuses the SASL handshake itself, which
    # librdkafka reports as an authentication failure, as it does a wrong password.
    rc, seconds, log = run_refused(kafka_pg, tmp_path, kafka_broker, "sasl", {
        "kafka.security.protocol": "SASL_PLAINTEXT",
        "kafka.sasl.mechanism": "PLAIN",
        "kafka.sasl.username": "walcast",
        "kafka.sasl.password": "wrong-password",
    })
    print(f"\nSASL refused: exit {rc} after {seconds:.1f} s")
    assert rc == 5, log
    assert "authentication" in log, log
    assert "wrong-password" not in log, log
    assert "brokers up" not in log and "kafka: connected" not in log, log
