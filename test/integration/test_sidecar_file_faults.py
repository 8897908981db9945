"""The file sink under faults, end to end (no Kafka): its file deleted or rotated while
it streams, a full disk (a small tmpfs), a kill -9 that leaves an incomplete last line;
and `walcast verify` on a file with a damaged line. In every case an acknowledged event
is in a file and verify reads past damage instead of giving up."""

import json
import subprocess
import time

import pytest

from conftest import unique, wait_until


def file_ids(path, table_topic):
    """Ids of the data records of one topic in a file's complete, valid lines."""
    if not path.exists():
        return set()
    ids = set()
    for line in path.read_bytes().split(b"\n")[:-1]:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec["topic"] == table_topic and rec["value"] is not None:
            ids.add(rec["key"]["id"])
    return ids


def damaged_lines(data: bytes):
    """(line number, excerpt) of each line that is not valid JSON, the last one included
    even without a newline."""
    bad = []
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line:
            continue
        try:
            json.loads(line)
        except ValueError:
            bad.append((n, line[:60]))
    return bad


def topic_of(s, table):
    return f"{s.props['topic.prefix']}.public.{table}"


def run_verify(walcast_cli, s):
    return walcast_cli("verify", "--config", str(s.config), timeout=300)


def test_deleted_file_acknowledged_events_are_in_the_file_at_the_path(pg, sidecar):
    table = unique("deleted")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(table__include__list=f"public\\.{table}").start()
    pg.execute(f"INSERT INTO {table} SELECT generate_series(1, 100)")
    s.wait_records(lambda recs: len(recs) >= 100, what="the first 100 records")

    s.out.unlink()
    pg.execute(f"INSERT INTO {table} SELECT generate_series(101, 1100)")
    commit_end = pg.current_lsn()
    # Once acknowledged, the slot will never send these events again: they must be in
    # the file that is at the path now, not in the deleted one.
    pg.wait_confirmed(s.slot, commit_end, timeout=30)
    missing = set(range(101, 1101)) - file_ids(s.out, topic_of(s, table))
    assert not missing, (f"{len(missing)} acknowledged events are in no file "
                         f"(written to the deleted one?); log:\n{s.log_tail()}")
    assert "was deleted or replaced" in s.log_tail(200)
    assert s.terminate() == 0


def test_rotated_file_every_event_is_in_one_of_the_files(pg, sidecar):
    table = unique("rotated")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    s = sidecar(table__include__list=f"public\\.{table}").start()
    pg.execute(f"INSERT INTO {table} SELECT generate_series(1, 100)")
    s.wait_records(lambda recs: len(recs) >= 100, what="the first 100 records")

    rotated = s.out.with_name(s.out.name + ".1")
    s.out.rename(rotated)  # what logrotate does without copytruncate
    pg.execute(f"INSERT INTO {table} SELECT generate_series(101, 1100)")
    commit_end = pg.current_lsn()
    pg.wait_confirmed(s.slot, commit_end, timeout=30)
    topic = topic_of(s, table)
    new_ids, old_ids = file_ids(s.out, topic), file_ids(rotated, topic)
    assert set(range(101, 1101)) <= new_ids, f"{1000 - len(new_ids)} missing in the new file"
    assert set(range(1, 1101)) <= new_ids | old_ids
    assert s.terminate() == 0


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 2 MiB tmpfs, to fill. The tests run as root (CI too): no mount is a failure."""
    mnt = tmp_path / "small_tmpfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the disk-full test (run as root): {r.stderr}",
                    pytrace=False)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_no_torn_line_no_ack_past_the_file_and_recovery(private_pg, sidecar,
                                                                  small_tmpfs, walcast_cli):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")  # for verify
    table = unique("diskfull")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, pad text)")
    out = small_tmpfs / "events.jsonl"
    s = sidecar(server=pg, table__include__list=f"public\\.{table}", sink=f"file:{out}")
    s.out = out
    s.start()
    topic = topic_of(s, table)

    # Leave about 300 KB free, then write about 1.2 MB of events.
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"\0" * (1700 * 1024))
    transactions = []  # (ids, an LSN at or after the commit)
    next_id = 1
    with pg.connect(autocommit=False) as conn:
        for _ in range(30):
            ids = list(range(next_id, next_id + 50))
            next_id += 50
            conn.execute(f"INSERT INTO {table} SELECT i, repeat('p', 500) "
                         f"FROM unnest(%s::int[]) i", (ids,))
            conn.commit()
            transactions.append((ids, pg.current_lsn()))
    wait_until(lambda: "No space left on device" in s.log_tail(400), 60,
               f"the sink to hit the full disk; log:\n{s.log_tail()}")

    # While the disk stays full: the sidecar keeps trying, no line in the middle of the file
    # is torn, and whatever is acknowledged is in the file.
    for _ in range(8):
        s.assert_alive()
        confirmed = pg.slot(s.slot)["confirmed_flush"]
        data = out.read_bytes()
        bad = damaged_lines(data)
        # Only a batch being written (and cut back at once) may be incomplete, at the end.
        assert all(n == data.count(b"\n") + 1 for n, _ in bad), f"torn lines: {bad}"
        in_file = file_ids(out, topic)
        for ids, after_commit in transactions:
            if after_commit <= confirmed:
                assert set(ids) <= in_file, (
                    f"acknowledged up to {confirmed} but ids {ids[0]}..{ids[-1]} "
                    f"are not in the file")
        time.sleep(0.5)
    assert pg.slot(s.slot)["confirmed_flush"] < transactions[-1][1], \
        "everything acknowledged although the disk is full"

    filler.unlink()
    freed = time.monotonic()
    pg.wait_confirmed(s.slot, transactions[-1][1], timeout=60)
    log = s.all_logs()
    print(f"disk full: {log.count('No space left on device')} failed writes logged, "
          f"{log.count('bytes written of this batch')} cut back; caught up "
          f"{time.monotonic() - freed:.1f} s after space was freed")
    data = out.read_bytes()
    assert data.endswith(b"\n")
    assert damaged_lines(data) == [], "a torn line stayed in the file"
    assert set(range(1, next_id)) <= file_ids(out, topic)
    result = run_verify(walcast_cli, s)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every table matches" in result.stdout, result.stdout
    assert s.terminate() == 0


def test_kill9_mid_snapshot_torn_tail_is_repaired_and_verify_passes(private_pg, sidecar,
                                                                     walcast_cli):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    table = unique("snap")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, repeat('n', g % 40) "
               f"FROM generate_series(1, 60000) g")
    pg.execute("ANALYZE")
    s = sidecar(server=pg, table__include__list=f"public\\.{table}", snapshot__mode="initial",
                snapshot__max__threads="1", snapshot__chunk__bytes="131072",
                snapshot__throttle__rows__per__second="8000")
    s.start(wait_active=False)

    def finished_chunks():
        rows = pg.execute("SELECT count(*) FILTER (WHERE finished_at IS NOT NULL), count(*) "
                          "FROM walcast.snapshot_chunks WHERE slot_name = %s", s.slot)
        return rows[0] if rows else (0, 0)
    wait_until(lambda: s.assert_alive() or finished_chunks()[0] >= 2, 120,
               f"some chunks to be recorded; log:\n{s.log_tail()}")
    s.kill9()
    done, total = finished_chunks()
    assert 0 < done < total, (done, total)

    # A kill -9 or power loss in the middle of a write leaves part of a line at the end;
    # make sure this run has one (the start of a real record, cut short).
    data = s.out.read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    with open(s.out, "ab") as f:
        f.write(last[: len(last) // 2])

    s.props["snapshot.throttle.rows.per.second"] = "0"
    s.write_config()
    s.start(wait_active=False)
    wait_until(lambda: s.assert_alive() or bool(pg.execute(
        "SELECT completed_at IS NOT NULL FROM walcast.snapshot_runs WHERE slot_name = %s",
        s.slot)[0][0]), 300, f"the resumed snapshot to complete; log:\n{s.log_tail()}")
    pg.wait_confirmed(s.slot, pg.current_lsn(), timeout=60)
    assert damaged_lines(s.out.read_bytes()) == [], "the restart appended after a torn line"
    result = run_verify(walcast_cli, s)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every table matches" in result.stdout, result.stdout
    assert "removed an incomplete last line" in s.all_logs(), s.log_tail()
    assert s.terminate() == 0


def test_verify_reports_a_damaged_line_and_goes_on(private_pg, sidecar, walcast_cli):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")  # for verify
    table = unique("garbage")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    # A second table: the file is read once per topic, the damaged line is listed once.
    pg.execute(f"CREATE TABLE {table}_b (id int PRIMARY KEY)")
    s = sidecar(server=pg, table__include__list=f"public\\.{table}.*").start()
    pg.execute(f"INSERT INTO {table}_b SELECT generate_series(1, 5)")
    pg.execute(f"INSERT INTO {table} SELECT generate_series(1, 50)")
    s.wait_records(lambda recs: len(recs) >= 55, what="55 records")
    assert s.terminate() == 0

    lines = s.out.read_bytes().split(b"\n")
    garbage = b'{"topic":"' + topic_of(s, table).encode() + b'","key":{"id":7},"va\x01'
    lines.insert(10, garbage)
    s.out.write_bytes(b"\n".join(lines))
    offset = sum(len(line) + 1 for line in lines[:10])

    result = run_verify(walcast_cli, s)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    # The table is still compared (the 50 good records fold to the source) ...
    assert "50 rows" in out and ": OK" in out, out + result.stderr
    # ... and the damaged line is a finding, with where it is.
    assert f"{s.out} line 11 (byte {offset}): not valid JSON" in out, out
    assert "5 rows" in out, out
    assert "1 damaged record(s)" in out and out.count("damaged   ") == 1, out


def test_verify_accepts_rows_rendered_as_debezium_streams_them(private_pg, sidecar, walcast_cli):
    """Debezium's snapshot and stream render a few values differently (name columns, dates
    at +-infinity and BC): verify compares a streamed row with the table rendered as a
    streamed change, a snapshot row with the table rendered as a snapshot."""
    pg = private_pg
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    table = unique("rendered")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, nm name, d date)")
    pg.execute(f"INSERT INTO {table} VALUES (1, 'snap', 'infinity'), (2, 'snap', '0044-03-15 BC')")
    s = sidecar(server=pg, snapshot__mode="initial",
                table__include__list=f"public\\.{table}").start()
    s.wait_records(lambda recs: len(recs) >= 2, what="the 2 snapshot rows")
    pg.execute(f"INSERT INTO {table} VALUES (3, 'live', 'infinity'), (4, 'live', '-infinity')")
    s.wait_records(lambda recs: len(recs) >= 4, what="the 2 streamed rows")
    assert s.terminate() == 0
    recs = {r["key"]["id"]: r["value"]["after"] for r in s.records()}
    assert recs[1] == {"id": 1, "nm": "snap", "d": -622191234}
    assert recs[3] == {"id": 3, "nm": None, "d": -2147472692}

    result = run_verify(walcast_cli, s)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 rows" in result.stdout and ": OK" in result.stdout, result.stdout

