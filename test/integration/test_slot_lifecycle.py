"""The slot's life with an initial snapshot: rights and connection limits are checked
before anything is created; a failed or killed first run never turns into "no snapshot
needed"; a slot walcast has no snapshot on record for is refused (when_needed replaces
it); a slot the server invalidated (wal_status lost) stops walcast with exit code 3,
`walcast status` says so, and snapshot.mode=when_needed replaces it by itself."""

import re
import signal
import subprocess

import pytest

from conftest import unique
from pg_server import WALCAST_BIN, free_port, wait_until
from walcast_process import scrape_metrics

SLOT_LOST_EXIT = 3


def make_table(pg, table, rows):
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, {rows}) g")


def grant_snapshot_rights(pg, role, table):
    """What a non-superuser needs for a snapshot of one table."""
    pg.execute("GRANT USAGE ON SCHEMA walcast TO " + role)
    pg.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON walcast.snapshot_runs, "
               "walcast.snapshot_chunks, walcast.snapshot_tables TO " + role)
    pg.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA walcast TO " + role)
    pg.execute(f"GRANT SELECT ON {table} TO {role}")


def snapshot_props(table, **extra):
    props = {"snapshot.mode": "initial", "table.include.list": f"public\\.{table}"}
    props.update({k.replace("__", "."): str(v) for k, v in extra.items()})
    return props


def ids_in_sink(s, table):
    """The ids the file sink holds for the table (reads, creates, updates)."""
    return {r["value"]["after"]["id"] for r in s.data_records(table)
            if r.get("value") and r["value"].get("after")}


def run_cli(*args, config, timeout=120):
    return subprocess.run([str(WALCAST_BIN), *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=timeout)


def snapshot_record(pg, slot):
    rows = pg.execute("SELECT consistent_point::text, completed_at IS NOT NULL "
                      "FROM walcast.snapshot_runs WHERE slot_name = %s", slot)
    return rows[0] if rows else None


def wait_exit(s, timeout):
    try:
        return s.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"walcast still running {timeout}s later:\n{s.log_tail()}", pytrace=False)


# --- item 3: rights first, nothing left behind, never "no snapshot needed" wrongly ---


def test_missing_rights_are_listed_before_the_slot_exists_and_the_grants_fix_them(
        private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("t")
    make_table(pg, table, 500)
    pg.execute("CREATE ROLE snap_bob LOGIN REPLICATION")
    s = sidecar(server=pg, database__user="snap_bob", **snapshot_props(table))
    s.start(wait_active=False)
    rc = wait_exit(s, 60)
    log = s.log_tail(80)
    assert rc == 1, log
    assert "the initial snapshot cannot run as role snap_bob; nothing was created" in log, log
    assert "USAGE on schema walcast" in log and f"SELECT on table public.{table}" in log, log
    assert pg.slot(s.slot) is None, "no slot is left behind"
    assert snapshot_record(pg, s.slot) is None, "no snapshot record is left behind"

    # The statements the error prints are exactly what the role needs.
    grants = [line.strip() for line in log.splitlines()
              if re.match(r"\s+(GRANT|ALTER ROLE) ", line)]
    assert any(g.startswith("GRANT USAGE ON SCHEMA walcast TO snap_bob") for g in grants), grants
    for statement in grants:
        pg.execute(statement)
    s.start()  # as snap_bob, now with the rights
    s.wait_records(lambda _: ids_in_sink(s, table) == set(range(1, 501)), 60,
                   "the table's 500 rows in the sink")
    assert snapshot_record(pg, s.slot)[1], "the completed snapshot is on record"


def test_row_level_security_is_refused_before_the_slot(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("rls")
    make_table(pg, table, 10)
    pg.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    pg.execute(f"CREATE POLICY few ON {table} USING (id < 5)")
    pg.execute("CREATE ROLE snap_rls LOGIN REPLICATION")
    grant_snapshot_rights(pg, "snap_rls", table)
    s = sidecar(server=pg, database__user="snap_rls", **snapshot_props(table))
    s.start(wait_active=False)
    rc = wait_exit(s, 60)
    log = s.log_tail(40)
    assert rc == 1, log
    assert f"row-level security is enabled on public.{table}" in log, log
    assert "ALTER ROLE snap_rls BYPASSRLS;" in log, log
    assert pg.slot(s.slot) is None, "no slot is left behind"


def test_more_readers_than_connections_is_refused_before_the_slot(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("conn")
    # About 6 MB: enough 1 MiB chunks for every reader.
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, repeat('x', 200) FROM generate_series(1, 25000) g")
    # Role connection limits do not apply to superusers.
    pg.execute("CREATE ROLE snap_few LOGIN REPLICATION CONNECTION LIMIT 3")
    grant_snapshot_rights(pg, "snap_few", table)
    s = sidecar(server=pg, database__user="snap_few",
                **snapshot_props(table, snapshot__max__threads=4, snapshot__chunk__bytes=1048576))
    s.start(wait_active=False)
    rc = wait_exit(s, 120)
    log = s.log_tail(40)
    assert rc == 1, log
    assert "snapshot.max.threads=4 needs 5 more connections, role snap_few has" in log, log
    assert pg.slot(s.slot) is None, "no slot is left behind"

    # Beyond the server's max_connections too.
    pg.execute("ALTER SYSTEM SET max_connections = 12")
    pg.restart()
    s.props.update({"snapshot.max.threads": "16", "database.user": "postgres"})
    s.write_config()
    s.start(wait_active=False)
    rc = wait_exit(s, 60)
    log = s.log_tail(40)
    assert rc == 1, log
    assert "snapshot.max.threads=16 needs 17 more connections, the server has" in log, log
    assert "max_connections=12" in log, log
    assert pg.slot(s.slot) is None, "no slot is left behind"


def stop_right_after_the_slot(pg, s, table):
    """Starts walcast and freezes it (SIGSTOP) just after its slot is created, before the
    snapshot's plan is on record: the creation waits for an open transaction, walcast is
    frozen, the transaction commits and the server finishes the slot."""
    blocker = pg.connect(autocommit=False)
    blocker.execute(f"INSERT INTO {table} VALUES (100000, 'committed during creation')")
    s.start(wait_active=False)
    wait_until(lambda: "waits for running transactions" in s.log_tail(), 30,
               f"the slot's creation to wait; log:\n{s.log_tail()}")
    s.proc.send_signal(signal.SIGSTOP)
    try:
        blocker.commit()
        blocker.close()
        wait_until(lambda: (slot := pg.slot(s.slot)) is not None and not slot["active"], 30,
                   "the server to finish creating the slot")
    except BaseException:
        s.proc.send_signal(signal.SIGCONT)
        raise


ALL_ROWS = set(range(1, 301)) | {100000}


def test_a_run_failing_between_the_slot_and_its_record_drops_the_slot(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("fail")
    make_table(pg, table, 300)
    s = sidecar(server=pg, **snapshot_props(table))
    stop_right_after_the_slot(pg, s, table)
    # Planning (pg_table_size) now waits for this lock and gives up after 2 s.
    pg.execute("ALTER ROLE postgres SET lock_timeout = '2s'")
    locker = pg.connect(autocommit=False)
    locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    s.proc.send_signal(signal.SIGCONT)
    rc = wait_exit(s, 60)
    locker.rollback()
    locker.close()
    pg.execute("ALTER ROLE postgres RESET lock_timeout")
    log = s.log_tail(40)
    assert rc == 1 and "lock timeout" in log, log
    assert pg.slot(s.slot) is None, "no slot is left behind"
    assert f"dropped slot {s.slot} again" in log, log

    s.start()
    s.wait_records(lambda _: ids_in_sink(s, table) == ALL_ROWS, 60, "the table's rows in the sink")


def test_a_run_killed_between_the_slot_and_its_record_is_started_over(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("kill")
    make_table(pg, table, 300)
    s = sidecar(server=pg, **snapshot_props(table))
    stop_right_after_the_slot(pg, s, table)
    s.kill9()
    assert pg.slot(s.slot) is not None
    record_after_kill = snapshot_record(pg, s.slot)
    s.start()
    s.wait_records(lambda _: ids_in_sink(s, table) == ALL_ROWS, 60, "the table's rows in the sink")
    assert "nothing was read from it; dropping it and starting over" in s.log_tail(200)
    assert record_after_kill == ("0/0", False), "the pending record came before the slot"
    assert snapshot_record(pg, s.slot)[1]


def test_a_pending_record_with_its_slot_is_started_over(private_pg, sidecar):
    """The state a crash between the slot's creation and the snapshot's plan leaves."""
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("pend")
    make_table(pg, table, 200)
    slot = unique("pend")
    pg.execute("INSERT INTO walcast.snapshot_runs (slot_name, consistent_point) "
               "VALUES (%s, '0/0')", slot)
    pg.execute("SELECT pg_create_logical_replication_slot(%s, 'walcast')", slot)
    s = sidecar(slot=slot, server=pg, **snapshot_props(table)).start()
    s.wait_records(lambda _: ids_in_sink(s, table) == set(range(1, 201)), 60,
                   "the table's rows in the sink")
    assert "nothing was read from it; dropping it and starting over" in s.log_tail(200)
    assert snapshot_record(pg, slot)[1]


def test_a_slot_without_a_snapshot_on_record_is_refused_and_when_needed_replaces_it(
        private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("hand")
    make_table(pg, table, 100)
    slot = unique("hand")
    pg.execute("SELECT pg_create_logical_replication_slot(%s, 'walcast')", slot)
    s = sidecar(slot=slot, server=pg, **snapshot_props(table))
    s.start(wait_active=False)
    rc = wait_exit(s, 60)
    log = s.log_tail(40)
    assert rc == 1, log
    assert f"replication slot {slot} exists but walcast has no snapshot on record" in log, log
    assert "cannot take a snapshot at the consistent point of a slot it did not create" in log
    assert "no snapshot needed" not in log
    assert pg.slot(slot) is not None, "a slot walcast did not create is not dropped unasked"

    s.props["snapshot.mode"] = "when_needed"
    s.write_config()
    s.start()
    s.wait_records(lambda _: ids_in_sink(s, table) == set(range(1, 101)), 60,
                   "the table's rows in the sink")
    assert "has no snapshot on record; dropping it" in s.log_tail(200)


# --- item 6: a lost slot ---


def invalidate(pg, slot, table):
    """Writes WAL the slot does not consume and checkpoints until the server gives
    the slot up (max_slot_wal_keep_size is 1MB on these servers)."""
    for i in range(30):
        pg.execute(f"INSERT INTO {table} SELECT greatest(m, 100000) + g, repeat('w', 1000) "
                   f"FROM generate_series(1, 1000) g, (SELECT max(id) AS m FROM {table}) t")
        pg.execute("SELECT pg_switch_wal()")
        pg.execute("CHECKPOINT")
        status = pg.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s",
                            slot)
        if status and status[0][0] == "lost":
            return
    pytest.fail(f"slot {slot} not invalidated: {status}", pytrace=False)


def small_wal_keep(pg):
    pg.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
    pg.execute("SELECT pg_reload_conf()")
    wait_until(lambda: pg.execute("SHOW max_slot_wal_keep_size")[0][0] == "1MB", 10,
               "max_slot_wal_keep_size to be 1MB")


def test_a_slot_lost_while_streaming_stops_walcast_with_exit_3_and_status_says_so(
        private_pg, sidecar):
    pg = private_pg
    small_wal_keep(pg)
    table = unique("lost")
    make_table(pg, table, 10)
    s = sidecar(server=pg, table__include__list=f"public\\.{table}").start()  # no_data
    pg.execute(f"INSERT INTO {table} VALUES (11, 'streamed')")
    s.wait_records(lambda _: 11 in ids_in_sink(s, table), 30, "the streamed insert")

    status = run_cli("status", config=s.config)
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(r"safe_wal_size:\s+\d+ bytes", status.stdout), status.stdout

    # A stalled consumer falls behind; the checkpointer ends its walsender and
    # invalidates the slot; then it resumes.
    s.proc.send_signal(signal.SIGSTOP)
    try:
        invalidate(pg, s.slot, table)
    finally:
        s.proc.send_signal(signal.SIGCONT)
    rc = wait_exit(s, 60)
    log = s.log_tail(40)
    assert rc == SLOT_LOST_EXIT, log
    assert f"replication slot {s.slot} is lost" in log, log
    assert "walcast slot drop" in log and "snapshot.mode=when_needed" in log, log

    status = run_cli("status", config=s.config)
    assert status.returncode == SLOT_LOST_EXIT, status.stdout + status.stderr
    assert re.search(r"wal_status:\s+lost", status.stdout), status.stdout
    assert "safe_wal_size:         none, the slot is lost (max_slot_wal_keep_size = 1MB)" \
        in status.stdout, status.stdout
    assert "unlimited" not in status.stdout, status.stdout

    # A new start does not retry either.
    s.start(wait_active=False)
    assert wait_exit(s, 60) == SLOT_LOST_EXIT, s.log_tail()


def test_when_needed_replaces_a_lost_slot_with_a_new_snapshot(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    small_wal_keep(pg)
    table = unique("heal")
    make_table(pg, table, 200)
    metrics = f"127.0.0.1:{free_port()}"
    s = sidecar(server=pg, metrics__address=metrics,
                **snapshot_props(table, snapshot__mode="when_needed")).start()
    s.wait_records(lambda _: ids_in_sink(s, table) == set(range(1, 201)), 60, "the snapshot")
    assert scrape_metrics(metrics)["walcast_slot_lost"] == 0

    # Lost while streaming: the sidecar stalls, the server invalidates the slot.
    s.proc.send_signal(signal.SIGSTOP)
    try:
        pg.execute(f"INSERT INTO {table} VALUES (5000, 'written while the slot was lost')")
        invalidate(pg, s.slot, table)
    finally:
        s.proc.send_signal(signal.SIGCONT)
    wait_until(lambda: "dropping lost slot" in s.log_tail(200), 60,
               f"walcast to replace the lost slot; log:\n{s.log_tail()}")
    wait_until(lambda: (snapshot_record(pg, s.slot) or (None, False))[1], 60,
               "the new snapshot to complete")
    expected = {r[0] for r in pg.execute(f"SELECT id FROM {table}")}
    s.wait_records(lambda _: expected <= ids_in_sink(s, table), 60, "every row in the sink")
    s.assert_alive()
    m = scrape_metrics(metrics)
    assert m["walcast_slot_recreated_total"] == 1, m
    assert m["walcast_slot_lost"] == 0, m
    assert pg.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s",
                      s.slot)[0][0] != "lost"
    pg.execute(f"INSERT INTO {table} VALUES (6000, 'after')")
    s.wait_records(lambda _: 6000 in ids_in_sink(s, table), 30, "streaming on the new slot")

    # Lost while walcast is down: the row written meanwhile exists only in the lost WAL
    # and reaches the sink through the new snapshot.
    assert s.terminate() == 0
    pg.execute(f"INSERT INTO {table} VALUES (7000, 'only in the lost WAL')")
    invalidate(pg, s.slot, table)
    s.start()
    s.wait_records(lambda _: 7000 in ids_in_sink(s, table), 60, "the row of the lost WAL")
    assert "dropping lost slot" in s.log_tail(200)
    assert scrape_metrics(metrics)["walcast_slot_recreated_total"] == 1


def drop_under(pg, s):
    """Ends the sidecar's walsender and drops its slot before it reconnects (1 s)."""
    pid = pg.slot(s.slot)["active_pid"]
    pg.execute("SELECT pg_terminate_backend(%s)", pid)
    wait_until(lambda: not pg.slot(s.slot)["active"], 10, "the slot to be released")
    pg.execute("SELECT pg_drop_replication_slot(%s)", s.slot)


def test_a_slot_dropped_under_a_snapshot_mode_is_not_silently_recreated(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("gone")
    make_table(pg, table, 50)
    s = sidecar(server=pg, **snapshot_props(table)).start()
    s.wait_records(lambda _: ids_in_sink(s, table) == set(range(1, 51)), 60, "the snapshot")
    drop_under(pg, s)
    pg.execute(f"INSERT INTO {table} VALUES (500, 'while the slot was gone')")
    rc = wait_exit(s, 30)
    log = s.log_tail(40)
    assert rc == SLOT_LOST_EXIT, log
    assert f"replication slot {s.slot} no longer exists" in log, log

    # The next start takes a new snapshot: the row reaches the sink.
    s.start()
    s.wait_records(lambda _: 500 in ids_in_sink(s, table), 60, "the row written meanwhile")
