"""Initial snapshot with an exact cut-over to streaming, against a real Postgres and
a real Kafka broker: under a heavy concurrent write load (inserts, updates, deletes,
key changes) the state folded from the topics equals the source table row by row;
an interrupted snapshot resumes without starting from zero and still converges;
`walcast verify` reports what differs."""

import json
import random
import subprocess
import threading
import time

from kafka_fixture import (WALCAST_BIN, Walcast, kafka_broker, kafka_pg,  # noqa: F401
                           unique_name, wait_for)

ROWS = 60000


class ChurnLoad:
    """Inserts, updates, deletes and key changes on `accounts` from a thread."""

    def __init__(self, pg, seed=11):
        self.pg, self.rng = pg, random.Random(seed)
        self.stop_event = threading.Event()
        self.transactions = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        next_id = ROWS * 10
        with self.pg.connect(autocommit=False) as conn:
            while not self.stop_event.is_set():
                for _ in range(self.rng.randint(1, 8)):
                    r = self.rng.random()
                    id_ = self.rng.randint(1, ROWS)
                    if r < 0.35:
                        conn.execute("UPDATE accounts SET balance = balance + 1, note = note || '.' "
                                     "WHERE id = %s", (id_,))
                    elif r < 0.55:
                        next_id += 1
                        conn.execute("INSERT INTO accounts VALUES (%s, %s, 'new') "
                                     "ON CONFLICT DO NOTHING", (next_id, next_id % 97))
                    elif r < 0.75:
                        conn.execute("DELETE FROM accounts WHERE id = %s", (id_,))
                    elif r < 0.85:
                        next_id += 1
                        conn.execute("UPDATE accounts SET id = %s WHERE id = %s", (next_id, id_))
                    else:
                        conn.execute("UPDATE ledger SET amount = amount + 1 WHERE id = %s",
                                     (id_ % 5000 + 1,))
                conn.commit()
                self.transactions += 1

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=60)
        assert self.transactions > 50, f"the load barely ran ({self.transactions} transactions)"


def make_tables(pg):
    pg.execute("CREATE EXTENSION walcast")
    pg.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL, note text)")
    pg.execute(f"INSERT INTO accounts SELECT g, g % 1000, repeat('n', g % 50) "
               f"FROM generate_series(1, {ROWS}) g")
    pg.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount numeric(12,2), at timestamptz)")
    pg.execute("INSERT INTO ledger SELECT g, g * 1.5, '2024-01-01'::timestamptz + g * interval '1 min' "
               "FROM generate_series(1, 5000) g")
    pg.execute("CREATE TABLE empty_one (id int PRIMARY KEY)")
    pg.execute("ANALYZE")


def fold(records):
    """Last value per key; deletes and tombstones remove the key."""
    state = {}
    for rec in records:
        if rec.raw_value is None:
            state.pop(rec.key, None)
            continue
        value = rec.value
        if value["op"] == "d":
            state.pop(rec.key, None)
        elif value["op"] in ("c", "u", "r"):
            state[rec.key] = value["after"]
    return state


def source_accounts(pg):
    return {json.dumps({"id": id_}, separators=(",", ":")): {"id": id_, "balance": b, "note": n}
            for id_, b, n in pg.execute("SELECT id, balance, note FROM accounts")}


def snapshot_done(pg, slot):
    rows = pg.execute("SELECT completed_at IS NOT NULL FROM walcast.snapshot_runs "
                      "WHERE slot_name = %s", slot)
    return bool(rows and rows[0][0])


def caught_up(pg, slot):
    target = pg.execute("SELECT (pg_current_wal_lsn() - '0/0')::numeric")[0][0]

    def check():
        s = pg.slot(slot)
        return s is not None and s["confirmed_flush"] >= target
    return check


def run_verify(walcast, *args):
    return subprocess.run([str(WALCAST_BIN), "verify", "--config", str(walcast.config), *args],
                          capture_output=True, text=True, timeout=300)


SNAPSHOT_PROPS = {
    "snapshot.mode": "initial",
    "snapshot.max.threads": "2",
    "snapshot.chunk.bytes": "262144",  # many chunks, so readers share tables
}


def test_exact_cutover_under_concurrent_writes(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    make_tables(pg)
    # No key: verify can only compare its row count with what its events add up to.
    pg.execute("CREATE TABLE keyless_log (at int, line text)")
    pg.execute("INSERT INTO keyless_log SELECT g, 'line ' || g FROM generate_series(1, 700) g")
    prefix = unique_name("snap")
    load = ChurnLoad(pg).start()
    time.sleep(0.5)  # the load is running before the slot is created
    walcast = Walcast(tmp_path, pg, broker, prefix, "public\\..*", SNAPSHOT_PROPS).start()
    wait_for(lambda: snapshot_done(pg, walcast.slot), 300, "the snapshot to complete")
    walcast.assert_alive()
    time.sleep(3)  # streaming under load after the cut-over
    load.stop()
    wait_for(caught_up(pg, walcast.slot), 120, "the stream to catch up")

    topic = f"{prefix}.public.accounts"
    records = broker.read([topic], min_count=ROWS)
    snapshot = [r for r in records if r.raw_value is not None and r.value["op"] == "r"]
    consistent_point = pg.execute("SELECT (consistent_point - '0/0')::numeric FROM "
                                  "walcast.snapshot_runs WHERE slot_name = %s", walcast.slot)[0][0]
    assert snapshot, "no snapshot rows"
    assert {r.value["source"]["lsn"] for r in snapshot} == {int(consistent_point)}
    # Streamed changes all commit at or after the consistent point: nothing doubled.
    streamed = [r for r in records if r.raw_value is not None and r.value["op"] != "r"]
    early = [r.value["source"]["sequence"] for r in streamed
             if int(json.loads(r.value["source"]["sequence"])[0]) < int(consistent_point)]
    assert streamed and not early, (consistent_point, early[:3])
    state = fold(records)
    source = source_accounts(pg)
    missing = source.keys() - state.keys()
    extra = state.keys() - source.keys()
    different = [k for k in source.keys() & state.keys() if source[k] != state[k]]
    assert not missing and not extra and not different, (
        f"{len(missing)} missing, {len(extra)} extra, {len(different)} different; "
        f"e.g. {sorted(missing)[:3]} {sorted(extra)[:3]} {different[:3]}")
    assert len(state) == len(source) > ROWS // 2

    # Debezium's markers: exactly one first and one last over the whole snapshot.
    all_snapshot = [r for r in broker.read_prefix(prefix + ".public.", min_count=ROWS)
                    if r.raw_value is not None and r.value["op"] == "r"]
    markers = [r.value["source"]["snapshot"] for r in all_snapshot]
    assert markers.count("first") == 1 and markers.count("last") == 1, markers[:5]

    # The user-facing check agrees, for every selected table.
    result = run_verify(walcast)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "public.accounts" in result.stdout and "public.ledger" in result.stdout
    assert "add up to 700 rows): OK" in result.stdout, result.stdout
    assert walcast.terminate() == 0


def test_resume_after_kill9_mid_snapshot(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    make_tables(pg)
    prefix = unique_name("resume")
    load = ChurnLoad(pg, seed=5).start()
    props = dict(SNAPSHOT_PROPS, **{"snapshot.max.threads": "1",
                                    "snapshot.throttle.rows.per.second": "8000"})
    walcast = Walcast(tmp_path, pg, broker, prefix, "public\\..*", props).start()

    def finished_chunks():
        rows = pg.execute("SELECT count(*) FILTER (WHERE finished_at IS NOT NULL), count(*) "
                          "FROM walcast.snapshot_chunks WHERE slot_name = %s", walcast.slot)
        return rows[0] if rows else (0, 0)
    wait_for(lambda: finished_chunks()[0] >= 3, 120, "some chunks to be recorded")
    walcast.kill9()
    done_before, total = finished_chunks()
    assert 0 < done_before < total, (done_before, total)
    assert not snapshot_done(pg, walcast.slot)

    walcast.props["snapshot.throttle.rows.per.second"] = "0"
    walcast.write_config()
    walcast.start()
    wait_for(lambda: snapshot_done(pg, walcast.slot), 300, "the resumed snapshot to complete")
    assert "resuming the snapshot" in walcast.log_tail(200)
    load.stop()
    wait_for(caught_up(pg, walcast.slot), 120, "the stream to catch up")

    topic = f"{prefix}.public.accounts"
    records = broker.read([topic], min_count=ROWS)
    reads = sum(1 for r in records if r.raw_value is not None and r.value["op"] == "r")
    # Not started from zero: the recorded chunks were not read again.
    assert reads < 2 * ROWS, reads
    state = fold(records)
    source = source_accounts(pg)
    assert state == source, (f"{len(source.keys() - state.keys())} missing, "
                             f"{len(state.keys() - source.keys())} extra")
    result = run_verify(walcast)
    assert result.returncode == 0, result.stdout + result.stderr
    assert walcast.terminate() == 0


def test_verify_reports_missing_extra_and_different(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    pg.execute("CREATE EXTENSION walcast")
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
    pg.execute("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g")
    prefix = unique_name("verify")
    walcast = Walcast(tmp_path, pg, broker, prefix, "public\\.items",
                      {"snapshot.mode": "initial"}).start()
    wait_for(lambda: snapshot_done(pg, walcast.slot), 120, "the snapshot to complete")
    pg.execute("UPDATE items SET v = 'streamed' WHERE id = 1")
    wait_for(caught_up(pg, walcast.slot), 60, "the stream to catch up")
    assert walcast.terminate() == 0

    ok = run_verify(walcast)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "100 keys" in ok.stdout and "OK" in ok.stdout

    # Changes nobody streams: the slot is gone.
    pg.execute("SELECT pg_drop_replication_slot(%s)", walcast.slot)
    pg.execute("UPDATE items SET v = 'changed' WHERE id = 2")
    pg.execute("DELETE FROM items WHERE id = 3")
    pg.execute("INSERT INTO items VALUES (1000, 'new')")
    bad = run_verify(walcast, "--tables", "public\\.items")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "1 missing, 1 extra, 1 different" in bad.stdout, bad.stdout
    assert '{"id":1000}' in bad.stdout and '{"id":3}' in bad.stdout
    assert '"changed"' in bad.stdout
