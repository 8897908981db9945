"""The sidecar end to end with the file sink: events, tombstones, topics and
keys; acknowledgements that follow the sink; crash and restart; idle slots;
heartbeats; transaction metadata; SIGTERM; `walcast status` and `slot drop`."""

import json
import random
import threading
import time

import pytest

from conftest import unique, wait_until


def ops(records):
    return [(r["key"], None if r["value"] is None else r["value"]["op"]) for r in records]


def test_changes_arrive_with_keys_topics_and_tombstones(pg, sidecar):
    table = unique("items")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
    pg.execute(f"CREATE TABLE {table}_nokey (note text)")
    s = sidecar(table__include__list=f"public\\.{table}.*").start()

    with pg.connect(autocommit=False) as conn:
        conn.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
        conn.execute(f"UPDATE {table} SET note = 'c' WHERE id = 1")
        conn.execute(f"DELETE FROM {table} WHERE id = 2")
        conn.execute(f"UPDATE {table} SET id = 3 WHERE id = 1")  # key change
        conn.execute(f"INSERT INTO {table}_nokey VALUES ('x')")
        conn.execute(f"DELETE FROM {table}_nokey")
        conn.commit()
    commit_end = pg.current_lsn()

    s.wait_records(lambda recs: len(recs) >= 10, what="10 records")
    got = s.data_records(table)
    assert ops(got) == [
        ({"id": 1}, "c"),
        ({"id": 2}, "c"),
        ({"id": 1}, "u"),
        ({"id": 2}, "d"),
        ({"id": 2}, None),  # tombstone
        ({"id": 1}, "d"),   # key change: delete old key, tombstone, create new key
        ({"id": 1}, None),
        ({"id": 3}, "c"),
    ]
    assert got[0]["value"]["after"] == {"id": 1, "note": "a"}
    assert got[0]["value"]["source"]["table"] == table
    nokey = s.data_records(f"{table}_nokey")
    # No key: no tombstone (a null-key tombstone deletes nothing).
    assert ops(nokey) == [(None, "c"), (None, "d")]
    assert all(r["topic"].startswith(s.slot + ".public.") for r in s.records())

    # The acknowledgement follows the sink: the slot's confirmed position
    # reaches the commit once the events are fsync'ed.
    pg.wait_confirmed(s.slot, commit_end, timeout=15)
    assert s.terminate() == 0


def test_filtered_table_is_not_emitted(pg, sidecar):
    table = unique("kept")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    pg.execute(f"CREATE TABLE {table}_skip (id int PRIMARY KEY)")
    s = sidecar(table__include__list=f"public\\.{table}").start()
    pg.execute(f"INSERT INTO {table}_skip VALUES (1)")
    pg.execute(f"INSERT INTO {table} VALUES (1)")
    s.wait_records(lambda recs: len(recs) >= 1)
    time.sleep(1)
    assert [r["topic"] for r in s.records()] == [f"{s.slot}.public.{table}"]


def test_sigterm_drains_acknowledges_and_exits_0(pg, sidecar):
    table = unique("term")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    # A long status interval: the final acknowledgement must come from shutdown.
    s = sidecar(status__update__interval__ms=600000).start()
    pg.execute(f"INSERT INTO {table} SELECT generate_series(1, 1000)")
    commit_end = pg.current_lsn()
    s.wait_records(lambda recs: len(recs) >= 1000, what="1000 records")
    assert s.terminate(timeout=30) == 0
    assert "stopped; acknowledged" in s.log_tail()
    slot = pg.slot(s.slot)
    assert not slot["active"]
    assert slot["confirmed_flush"] >= commit_end
    assert len(s.data_records(table)) == 1000


class Load(threading.Thread):
    """Small transactions of inserts with known ids, until stopped."""

    def __init__(self, pg, table, tolerate_restarts=False):
        super().__init__(daemon=True)
        self.pg, self.table = pg, table
        self.committed = set()
        self.halt = threading.Event()
        self.error = None
        self.tolerate_restarts = tolerate_restarts

    def run(self):
        next_id = 1
        while not self.halt.is_set():
            try:
                with self.pg.connect(autocommit=False) as conn:
                    while not self.halt.is_set():
                        n = random.randint(1, 50)
                        ids = list(range(next_id, next_id + n))
                        next_id += n  # an uncertain commit's ids are never reused
                        conn.execute(f"INSERT INTO {self.table} SELECT unnest(%s::int[])", (ids,))
                        conn.commit()
                        self.committed.update(ids)
                        time.sleep(0.002)
            except Exception as e:
                if not self.tolerate_restarts:
                    self.error = e
                    return
                time.sleep(0.2)  # the server is restarting

    def stop(self):
        self.halt.set()
        self.join(timeout=30)
        assert self.error is None, self.error


def test_kill9_and_restart_nothing_missing(pg, sidecar):
    table = unique("crash")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(table__include__list=f"public\\.{table}").start()
    load = Load(pg, table)
    load.start()
    try:
        for _ in range(3):
            time.sleep(random.uniform(0.5, 2.0))
            s.kill9()
            pg.wait_slot(s.slot, active=False)
            s.start()
    finally:
        load.stop()
    committed = load.committed
    assert len(committed) > 100

    def complete(records):
        ids = {r["key"]["id"] for r in records if r["value"] is not None}
        return committed <= ids

    s.wait_records(complete, timeout=60, what=f"all {len(committed)} committed ids")
    ids = [r["key"]["id"] for r in s.data_records(table)]
    dupes = len(ids) - len(set(ids))
    print(f"{len(committed)} rows committed, {len(ids)} records, {dupes} duplicates "
          f"(redelivered from the unacknowledged window)")
    assert s.terminate() == 0


def test_idle_database_slot_keeps_up_with_other_database(pg, sidecar):
    other = unique("busy")
    pg.execute(f"CREATE DATABASE {other}")
    s = sidecar().start()  # streams the idle database `postgres`
    start = pg.slot(s.slot)["confirmed_flush"]
    pg.execute("CREATE TABLE heavy (id bigint, payload text)", dbname=other)
    for _ in range(5):
        pg.execute("INSERT INTO heavy SELECT g, repeat('x', 200) FROM generate_series(1, 40000) g",
                   dbname=other)
    target = pg.current_lsn()
    assert target - start > 20_000_000, "the other database wrote plenty of WAL"
    slot = pg.wait_confirmed(s.slot, target, timeout=30)
    assert slot["current_wal"] - slot["confirmed_flush"] < 1_000_000
    assert s.records() == [], "nothing of the other database is emitted"
    assert s.terminate() == 0


def test_heartbeats_go_to_the_heartbeat_topic(pg, sidecar):
    s = sidecar(heartbeat__interval__ms=200).start()
    s.wait_records(lambda recs: len(recs) >= 3, what="3 heartbeats")
    for r in s.records()[:3]:
        assert r["topic"] == f"__debezium-heartbeat.{s.slot}"
        assert r["key"] == {"serverName": s.slot}
        assert isinstance(r["value"]["ts_ms"], int)
    # Heartbeats are transactional messages of this database: the slot moves.
    pg.wait_confirmed(s.slot, pg.current_lsn() - 1, timeout=10)


def test_slow_heartbeat_does_not_hold_back_events(pg, sidecar):
    # Heartbeats run beside the streaming loop: a heartbeat.action.query that takes
    # seconds (or a server that does not answer) must not delay the events.
    table = unique("hbslow")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(heartbeat__interval__ms=100, heartbeat__action__query="SELECT pg_sleep(5)",
                table__include__list=f"public\\.{table}").start()
    s.wait_records(lambda recs: len(recs) >= 1, what="the first heartbeat")
    worst = 0.0
    for i in range(3):
        time.sleep(0.7)  # a heartbeat's action query is running all along
        start = time.monotonic()
        pg.execute(f"INSERT INTO {table} VALUES ({i})")
        s.wait_records(lambda recs: len(s.data_records(table)) > i, what=f"row {i}")
        worst = max(worst, time.monotonic() - start)
    assert worst < 2.0, f"an event waited {worst:.1f} s behind a heartbeat"
    assert s.terminate() == 0


def test_transaction_metadata_records(pg, sidecar):
    table = unique("txmeta")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(provide__transaction__metadata="true",
                table__include__list=f"public\\.{table}").start()
    pg.execute(f"INSERT INTO {table} VALUES (1), (2)")
    s.wait_records(lambda recs: len(recs) >= 4, what="begin, 2 events, end")
    recs = s.records()
    assert [r["topic"] for r in recs] == [f"{s.slot}.transaction", f"{s.slot}.public.{table}",
                                          f"{s.slot}.public.{table}", f"{s.slot}.transaction"]
    begin, end = recs[0], recs[3]
    assert begin["value"]["status"] == "BEGIN" and end["value"]["status"] == "END"
    assert begin["key"] == {"id": begin["value"]["id"]}
    assert end["value"]["event_count"] == 2


def test_stdout_sink(pg, walcast_cli, tmp_path):
    import signal
    import subprocess
    from conftest import WALCAST_BIN
    slot = unique("stdout")
    table = unique("out")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    proc = subprocess.Popen(
        [str(WALCAST_BIN), "run", "--sink", "stdout", "--set", "database.hostname=127.0.0.1",
         "--set", f"database.port={pg.port}", "--set", "database.user=postgres",
         "--set", f"slot.name={slot}", "--set", f"topic.prefix={slot}",
         "--set", "snapshot.mode=no_data"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pg.wait_slot(slot)
        pg.execute(f"INSERT INTO {table} VALUES (7)")
        line = json.loads(proc.stdout.readline())
        assert line["topic"] == f"{slot}.public.{table}" and line["key"] == {"id": 7}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        pg.execute("SELECT pg_drop_replication_slot(%s)", slot)


def test_status_and_slot_drop(pg, sidecar, walcast_cli):
    s = sidecar(retained__wal__warn__bytes=0).start()
    props = dict(s.props)
    res = walcast_cli("status", props=props)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    for field in ("confirmed_flush_lsn:", "restart_lsn:", "retained WAL:", "wal_status:",
                  "safe_wal_size:", "lag (confirmed_flush):", f"sink:                  file:"):
        assert field in out, out
    assert f"active:                yes, pid {pg.slot(s.slot)['active_pid']}" in out
    assert "WARNING: slot" in out and "retained.wal.warn.bytes=0" in out

    res = walcast_cli("slot", "drop", props=props)
    assert res.returncode == 1
    assert "is active for PID" in res.stderr and "stop that consumer first" in res.stderr

    assert s.terminate() == 0
    res = walcast_cli("slot", "drop", props=props)
    assert res.returncode == 0, res.stderr
    assert f"dropped slot {s.slot}" in res.stdout
    assert pg.slot(s.slot) is None
    res = walcast_cli("status", props=props)
    assert res.returncode == 1 and "does not exist" in res.stdout


def test_postgres_restart_under_load(private_pg, sidecar):
    pg = private_pg
    table = unique("restart")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(server=pg, table__include__list=f"public\\.{table}").start()
    load = Load(pg, table, tolerate_restarts=True)
    load.start()
    try:
        time.sleep(1.5)
        pg._sh("restart", str(pg.datadir))
        wait_until(lambda: (sl := pg.slot(s.slot)) and sl["active"], 60,
                   f"walcast to reconnect; log:\n{s.log_tail()}")
        time.sleep(1.5)
    finally:
        load.stop()
    s.assert_alive()
    committed = load.committed

    def complete(records):
        return committed <= {r["key"]["id"] for r in records if r["value"] is not None}

    s.wait_records(complete, timeout=60, what=f"all {len(committed)} committed ids")
    assert "reconnecting in" in s.log_tail(10000)
    assert s.terminate() == 0


def _vm_hwm_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def test_big_transaction_memory_bounded(pg, sidecar):
    table = unique("big")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, payload text)")
    s = sidecar(table__include__list=f"public\\.{table}", log__level="info").start()
    rows = 300_000
    pg.execute(f"INSERT INTO {table} SELECT g, repeat('p', 100) FROM generate_series(1, {rows}) g")
    commit_end = pg.current_lsn()
    pg.wait_confirmed(s.slot, commit_end, timeout=180)
    hwm_mb = _vm_hwm_kb(s.proc.pid) / 1024
    print(f"peak RSS {hwm_mb:.0f} MB for a {rows}-row transaction")
    assert hwm_mb < 200
    assert len(s.data_records(table)) == rows
    assert s.terminate() == 0


def test_metrics_endpoint(pg, sidecar):
    import socket
    import urllib.request
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    table = unique("metrics")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(metrics__address=f"127.0.0.1:{port}",
                table__include__list=f"public\\.{table}").start()
    pg.execute(f"INSERT INTO {table} VALUES (1), (2)")
    pg.execute(f"DELETE FROM {table} WHERE id = 1")
    pg.wait_confirmed(s.slot, pg.current_lsn(), timeout=15)
    time.sleep(0.5)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    label = f'table="public.{table}"'  # labels come in name order
    assert f'walcast_events_total{{op="c",{label}}} 2' in body, body
    assert f'walcast_events_total{{op="d",{label}}} 1' in body, body
    assert f'walcast_events_total{{op="tombstone",{label}}} 1' in body, body
    assert "walcast_ack_lsn " in body and "walcast_delivery_latency_seconds_count" in body
