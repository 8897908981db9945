"""walcast's fault campaign: each scenario injects one kind of fault while a mixed load
(test/integration/mixed_load.py: several tables, inserts, updates, deletes, key changes,
rollbacks, transactions of 50k rows) runs, then folds the sink and compares it with the
source (event_fold.py). Every scenario prints one line

    campaign <scenario>: events=N missing=0 extra=0 duplicates=D recover=Ss

and records its figures in build/fault-campaign.txt. Missing and extra must be 0;
duplicates are allowed (at-least-once) and reported. `recover` is the time from the end
of the fault until the slot acknowledged all WAL written by then (the sidecar
acknowledges only what its sink holds). `walcast verify` must agree with the fold.
"""

import errno
import json
import os
import random
import signal
import subprocess
import time

import pytest

from event_fold import SUMMARY_LINES, compare, duplicated, from_file, from_kafka
from kafka_fixture import (ROOT, WALCAST_BIN, Walcast, end_offsets, kafka_broker,  # noqa: F401
                           kafka_pg, kafka_private_broker, unique_name)
from mixed_load import TABLES, MixedLoad, create_tables, source_rows
from pg_server import wait_until

RESULTS = ROOT / "build" / "fault-campaign.txt"
PARTITIONS = 3
# The fault durations the campaign is defined with (issue 8).
BROKER_DOWN_S = 30
SIGSTOP_S = 60


# --------------------------------------------------------------------------
# Shared steps


def prepare_source(pg):
    create_tables(pg)
    pg.execute("CREATE EXTENSION walcast")  # for walcast verify


def start_kafka_scenario(name, pg, broker, workdir, seed):
    """The load's tables streamed to Kafka by a running walcast, and the load started."""
    prefix = unique_name(name)
    for table in TABLES:
        broker.create_topic(f"{prefix}.public.{table}", PARTITIONS)
    prepare_source(pg)
    walcast = Walcast(workdir, pg, broker, prefix,
                      ",".join(f"public.{t}" for t in TABLES)).start()
    pg.wait_slot(walcast.slot, active=True)
    return walcast, MixedLoad(pg, seed=seed).start()


def wait_recovered(pg, slot, timeout=180) -> float:
    """Seconds until the slot acknowledges the WAL written up to now."""
    t0 = time.time()
    lsn = pg.current_lsn()
    pg.wait_confirmed(slot, lsn, timeout=timeout)
    return time.time() - t0


def stop_load_and_drain(pg, load, slot):
    load.stop()
    print(f"\nload: {load.summary()}")
    t0 = time.time()
    pg.wait_confirmed(slot, pg.current_lsn(), timeout=300)
    print(f"  drained in {time.time() - t0:.1f}s")


def check_model(load, source):
    """The load's own record of the rows matches the source (else the comparison is moot)."""
    model = {t: {k: v for k, v in rows.items()} for t, rows in load.rows.items()}
    actual = {t: {k: r["version"] for k, r in rows.items()} for t, rows in source.items()}
    assert model == actual, "mixed_load's record of the committed rows disagrees with the source"


def run_verify(config) -> subprocess.CompletedProcess:
    return subprocess.run([str(WALCAST_BIN), "verify", "--config", str(config)],
                          capture_output=True, text=True, timeout=300)


def report_and_check(scenario, load, pg, records, config, recover, notes="", damaged=()):
    """Compares, prints and records the figures, then asserts on them."""
    source = source_rows(pg)
    check_model(load, source)
    report = compare(scenario, records, load.committed, source, damaged)
    t0 = time.time()
    verify = run_verify(config)
    print(f"  walcast verify: exit {verify.returncode} in {time.time() - t0:.1f}s")
    line = f"{report.line()} recover={max(recover):.1f}s"
    if notes:
        line += f" ({notes})"
    print(line)
    SUMMARY_LINES.append(line)
    print(report.details())
    if verify.returncode != 0:
        print("  walcast verify:", "\n  ".join((verify.stdout + verify.stderr).splitlines()[-8:]))
    save_result(scenario, report, recover, notes, verify.returncode)
    assert report.missing == 0, f"{report.missing} missing:\n{report.details()}"
    assert report.extra == 0, f"{report.extra} extra:\n{report.details()}"
    assert not report.damaged_lines, f"damaged lines in the sink:\n{report.details()}"
    assert verify.returncode == 0, f"walcast verify disagrees:\n{verify.stdout}{verify.stderr}"
    return report


def save_result(scenario, report, recover, notes, verify_rc):
    """build/fault-campaign.txt: one row per scenario, the latest run of each."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    store = RESULTS.with_suffix(".json")
    rows = json.loads(store.read_text()) if store.exists() else {}
    rows[scenario] = {
        "events": report.events, "received": report.received, "missing": report.missing,
        "extra": report.extra, "duplicates": report.duplicates,
        "damaged_lines": len(report.damaged_lines),
        "recover_s": [round(r, 1) for r in recover], "verify": "ok" if verify_rc == 0 else
        f"exit {verify_rc}", "notes": notes,
    }
    store.write_text(json.dumps(rows, indent=1))
    out = ["| scenario | events | missing | extra | duplicates | damaged lines | "
           "recover s (max) | walcast verify | notes |",
           "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for name, r in rows.items():
        out.append(f"| {name} | {r['events']} | {r['missing']} | {r['extra']} | "
                   f"{r['duplicates']} | {r['damaged_lines']} | {max(r['recover_s']):.1f} | "
                   f"{r['verify']} | {r['notes']} |")
    RESULTS.write_text("\n".join(out) + "\n")


def finish_kafka_scenario(scenario, pg, broker, walcast, load, recover, notes=""):
    stop_load_and_drain(pg, load, walcast.slot)
    walcast.assert_alive()
    topics = [f"{walcast.prefix}.public.{t}" for t in TABLES]
    # The slot acknowledged everything: it is all in Kafka already.
    t0 = time.time()
    raw = broker.read(topics, min_count=len(load.committed), timeout=180, idle=1)
    records = from_kafka(raw)
    print(f"  read {len(records)} records back in {time.time() - t0:.1f}s")
    assert walcast.terminate() == 0, walcast.log_tail()
    return report_and_check(scenario, load, pg, records, walcast.config, recover, notes), records


# --------------------------------------------------------------------------
# Kafka scenarios


def test_kill9_five_times(kafka_broker, kafka_pg, tmp_path):
    """kill -9 five times, some in the middle of a 50k-row transaction, restarted each
    time: every duplicate comes from the window not yet acknowledged at a kill."""
    pg, broker = kafka_pg, kafka_broker
    walcast, load = start_kafka_scenario("camp_kill9", pg, broker, tmp_path, seed=11)
    topics = [f"{walcast.prefix}.public.{t}" for t in TABLES]
    rng = random.Random()
    kills, recover = [], []  # kills: (end offsets after the kill, confirmed flush at restart)
    time.sleep(2)
    for i in range(5):
        if i % 2 == 0:
            load.request_big()
        time.sleep(rng.uniform(0.5, 3.0))
        walcast.assert_alive()
        walcast.kill9()
        time.sleep(0.5)  # let requests already on the wire land
        ends = {(t, p): hw for t in topics for p, hw in end_offsets(broker.bootstrap, t).items()}
        slot = pg.wait_slot(walcast.slot, active=False, timeout=30)
        kills.append((ends, slot["confirmed_flush"]))
        walcast.start()
        recover.append(wait_recovered(pg, walcast.slot))
    _, records = finish_kafka_scenario("kill9 x5", pg, broker, walcast, load, recover,
                                      f"{load.big_transactions} large transactions")

    # A copy is legitimate only if a kill separated it from the previous copy while its
    # transaction was not yet acknowledged (commit LSN >= confirmed_flush_lsn: the slot
    # resumes there).
    bad = []
    for ident, copies in duplicated([r for r in records if r.value is not None]).items():
        pairs = zip(copies, copies[1:])
        ok = all(a.partition == b.partition and any(
            a.offset < ends.get((a.topic, a.partition), 0) <= b.offset and
            a.commit_lsn >= flush for ends, flush in kills) for a, b in pairs)
        if not ok:
            bad.append((ident, [(c.partition, c.offset) for c in copies]))
    assert not bad, f"{len(bad)} duplicates of acknowledged changes, e.g. {bad[:5]}"


def test_broker_down_30s(kafka_private_broker, kafka_pg, tmp_path):
    """The broker is killed for 30 s under load, a large transaction in flight, and
    restarted on the same port and data: the same sidecar process recovers by itself."""
    pg, broker = kafka_pg, kafka_private_broker
    walcast, load = start_kafka_scenario("camp_broker", pg, broker, tmp_path, seed=12)
    time.sleep(3)
    load.request_big()
    time.sleep(1)
    broker.kill()
    before = len(load.committed)
    time.sleep(BROKER_DOWN_S)
    walcast.assert_alive()
    during = len(load.committed) - before
    broker.restart()
    recover = [wait_recovered(pg, walcast.slot)]
    assert during > 0, "no load while the broker was down"
    finish_kafka_scenario(f"broker down {BROKER_DOWN_S}s", pg, broker, walcast, load, recover,
                          f"{during} changes committed while down")
    assert walcast.starts == 1
    logs = walcast.all_logs()
    assert "all brokers down" in logs and "deliveries resumed" in logs, walcast.log_tail()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart(mode, kafka_broker, kafka_pg, tmp_path):
    """PostgreSQL restarted twice (fast: clean shutdown; immediate: a crash, then
    recovery) under load: the sidecar reconnects by itself."""
    pg, broker = kafka_pg, kafka_broker
    walcast, load = start_kafka_scenario(f"camp_pg_{mode}", pg, broker, tmp_path, seed=13)
    rng = random.Random()
    recover = []
    for _ in range(2):
        time.sleep(3)
        load.request_big()
        time.sleep(rng.uniform(0.3, 2.0))
        pg.restart(mode)
        walcast.assert_alive()
        recover.append(wait_recovered(pg, walcast.slot))
    finish_kafka_scenario(f"postgres restart {mode} x2", pg, broker, walcast, load, recover,
                          f"commits in doubt: {load.in_doubt['committed']} committed, "
                          f"{load.in_doubt['aborted']} not")
    assert walcast.starts == 1
    assert load.connection_errors > 0, "the load never saw the restart"


def test_sigstop_60s(kafka_broker, kafka_pg, tmp_path):
    """The sidecar frozen (SIGSTOP) for 60 s, as long as wal_sender_timeout, then
    SIGCONT: whether or not the server dropped the connection, it recovers."""
    pg, broker = kafka_pg, kafka_broker
    walcast, load = start_kafka_scenario("camp_sigstop", pg, broker, tmp_path, seed=14)
    time.sleep(3)
    load.request_big()
    time.sleep(1)
    walsender = pg.slot(walcast.slot)["active_pid"]
    os.kill(walcast.pid, signal.SIGSTOP)
    try:
        time.sleep(SIGSTOP_S)
    finally:
        os.kill(walcast.pid, signal.SIGCONT)
    recover = [wait_recovered(pg, walcast.slot)]
    reconnected = pg.slot(walcast.slot)["active_pid"] != walsender
    finish_kafka_scenario(f"sigstop {SIGSTOP_S}s", pg, broker, walcast, load, recover,
                          "walsender timed out, reconnected" if reconnected
                          else "same connection")
    assert walcast.starts == 1


# --------------------------------------------------------------------------
# File sink: disk full


def mount_tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:  # the scenario needs root; a skip would hide it
        pytest.fail(f"mount -t tmpfs failed: {proc.stderr}", pytrace=False)


def fill(path, room: int):
    """Writes `path` until the file system is full, then gives back `room` bytes."""
    chunk, written = b"\0" * (1 << 20), 0
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        f.truncate(max(0, written - room))


def test_disk_full_file_sink(private_pg, sidecar, tmp_path):
    """The file sink's file system fills up under load (a 50k-row transaction does it)
    and is given room again: nothing is missing and no line is damaged."""
    pg = private_pg
    mnt = tmp_path / "tmpfs"
    mount_tmpfs(mnt, "32m")
    sc = None
    try:
        out = mnt / "events.jsonl"
        prepare_source(pg)
        sc = sidecar(server=pg, sink=f"file:{out}", log__level="info").start()
        load = MixedLoad(pg, seed=15).start()
        time.sleep(2)
        filler = mnt / "filler"
        fill(filler, room=2 << 20)  # the small transactions fit, the next large one does not
        load.request_big()
        wait_until(lambda: "No space left on device" in sc.all_logs(), 120,
                   f"the sink to hit the full disk; log:\n{sc.log_tail()}")
        time.sleep(5)
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,size=1g", str(mnt)], check=True)
        notes = []
        if not sc.alive():  # a sidecar that stops on a full disk is restarted by its operator
            notes.append(f"exited {sc.proc.returncode} on the full disk, restarted")
            sc.start()
        recover = [wait_recovered(pg, sc.slot)]
        stop_load_and_drain(pg, load, sc.slot)
        sc.assert_alive()
        assert sc.terminate() == 0, sc.log_tail()
        records, damaged = from_file(out)
        report_and_check("disk full (file sink)", load, pg, records, sc.config, recover,
                         "; ".join(notes), damaged)
    finally:
        if sc is not None and sc.alive():
            sc.terminate()
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)

