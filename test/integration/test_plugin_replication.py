"""The output plugin through the replication protocol (pg_recvlogical on a walsender),
where callbacks run without the transaction the SQL functions provide: logical
messages outside a transaction, renamed schemas, and the server staying up."""

import json
import os
import pathlib
import subprocess
import time

import pytest

from conftest import unique, wait_until
from pg_server import PgServer

# The client tools of the PostgreSQL under test (PG_BINDIR, as the server fixture).
PG_RECVLOGICAL = pathlib.Path(
    os.environ.get("PG_BINDIR")
    or subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
) / "pg_recvlogical"


class Receiver:
    """pg_recvlogical --start on a walcast slot, writing one line per plugin write."""

    def __init__(self, pg: PgServer, workdir: pathlib.Path, slot: str, options: dict,
                 user: str = "postgres"):
        self.err_path = workdir / f"{slot}.err"
        self.pg = pg
        self.slot = slot
        self.out = workdir / f"{slot}.out"
        self.err = open(self.err_path, "w")
        argv = [str(PG_RECVLOGICAL), "-h", "127.0.0.1", "-p", str(pg.port), "-U", user,
                "-d", "postgres", "--slot", slot, "--start", "-f", str(self.out),
                "-F", "0", "-s", "1", "--no-loop"]
        for k, v in options.items():
            argv += ["-o", f"{k}={v}"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        pg.wait_slot(slot, active=True, timeout=30)
        self.walsender_pid = pg.slot(slot)["active_pid"]

    def lines(self):
        if not self.out.exists():
            return []
        return [line for line in self.out.read_text().split("\n")[:-1] if line]

    def wait_lines(self, count, timeout=30):
        def enough():
            if self.proc.poll() is not None:
                pytest.fail(f"pg_recvlogical exited {self.proc.returncode}: "
                            f"{self.err_path.read_text()}")
            return len(self.lines()) >= count
        wait_until(enough, timeout, f"{count} lines from slot {self.slot}: {self.lines()}")
        return self.lines()

    def wait_exit(self, timeout=30) -> str:
        """Waits for pg_recvlogical to end (the walsender failed); returns its stderr."""
        self.proc.wait(timeout=timeout)
        self.err.flush()
        return self.err_path.read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.err.close()


@pytest.fixture
def receiver(pg, tmp_path):
    started = []

    def make(options, slot=None, user="postgres", server=None):
        server = server or pg
        slot = slot or unique("recv")
        server.execute("SELECT pg_create_logical_replication_slot(%s, 'walcast')", slot)
        r = Receiver(server, tmp_path, slot, options, user)
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()
        try:
            r.pg.wait_slot(r.slot, active=False, timeout=30)
            r.pg.execute("SELECT pg_drop_replication_slot(%s)", r.slot)
        except Exception:
            pass


def server_identity(pg: PgServer):
    return pg.execute("SELECT pg_postmaster_start_time()")[0][0]


def walsender_alive(pg: PgServer, pid: int) -> bool:
    return bool(pg.execute("SELECT 1 FROM pg_stat_replication WHERE pid = %s", pid))


def events(lines):
    return [json.loads(line) for line in lines]


def test_messages_and_changes_stream_as_json_without_a_crash(pg, receiver):
    table = unique("msgs")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    started = server_identity(pg)
    r = receiver({"provide.transaction.metadata": "true",
                  "table.include.list": f"public\\.{table}"})

    pg.execute("SELECT pg_logical_emit_message(false, 'p', 'outside')")
    with pg.connect(autocommit=False) as conn:
        conn.execute("SELECT pg_logical_emit_message(true, 'p', 'inside')")
        conn.execute(f"INSERT INTO {table} VALUES (1)")
        conn.commit()
    pg.execute("SELECT pg_logical_emit_message(false, 'p', 'outside again')")

    got = events(r.wait_lines(6))
    shapes = [e.get("status") or e["op"] for e in got]
    # Non-transactional messages have no transaction (no BEGIN/END, a null block), as in
    # Debezium.
    assert shapes == ["m", "BEGIN", "m", "c", "END", "m"]
    assert got[0]["transaction"] is None and got[5]["transaction"] is None
    messages = [e for e in got if e.get("op") == "m"]
    assert [m["message"]["content"] for m in messages[:3]] == [
        "b3V0c2lkZQ==", "aW5zaWRl", "b3V0c2lkZSBhZ2Fpbg=="]
    assert all(m["source"]["db"] == "postgres" for m in messages)
    assert messages[0]["source"]["txId"] is None
    insert = next(e for e in got if e.get("op") == "c")
    assert insert["after"] == {"id": 1} and insert["source"]["db"] == "postgres"

    assert server_identity(pg) == started, "the server restarted"
    assert walsender_alive(pg, r.walsender_pid)


def test_messages_and_changes_stream_as_frames_without_a_crash(pg, receiver):
    table = unique("frames")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    started = server_identity(pg)
    r = receiver({"format": "frames", "table.include.list": f"public\\.{table}"})

    pg.execute("SELECT pg_logical_emit_message(false, 'p', 'outside')")
    pg.execute(f"INSERT INTO {table} VALUES (7)")
    pg.execute("SELECT pg_logical_emit_message(false, 'q', 'again')")

    lines = r.wait_lines(9)
    kinds = [line.split("\t", 1)[0] + (line.split("\t")[1] if line[0] == "E" else "")
             for line in lines]
    assert kinds[:9] == ["B", "Em", "C", "B", "Ec", "C", "B", "Em", "C"]
    message = lines[1].split("\t")
    assert message[2] == "walcast.message"
    assert json.loads(message[4])["source"]["db"] == "postgres"
    row = lines[4].split("\t")
    assert json.loads(row[3]) == {"id": 7}
    assert json.loads(row[4])["after"] == {"id": 7}

    assert server_identity(pg) == started, "the server restarted"
    assert walsender_alive(pg, r.walsender_pid)


def test_renamed_schema_and_partition_root_rename_the_topics(pg, receiver):
    schema, root = unique("sch"), unique("root")
    pg.execute(f"CREATE SCHEMA {schema}")
    pg.execute(f"CREATE TABLE {schema}.t (id int PRIMARY KEY)")
    pg.execute(f"CREATE TABLE {root} (id int, part int, PRIMARY KEY (id, part)) "
               f"PARTITION BY LIST (part)")
    pg.execute(f"CREATE TABLE {root}_leaf PARTITION OF {root} FOR VALUES IN (1)")
    r = receiver({"format": "frames", "publish.via.partition.root": "true",
                  "table.include.list": f"{schema}.*\\.t,public\\.{root}.*"})

    # The walsender's relation cache is warm before the renames.
    pg.execute(f"INSERT INTO {schema}.t VALUES (1)")
    pg.execute(f"INSERT INTO {root} VALUES (1, 1)")
    pg.execute(f"ALTER SCHEMA {schema} RENAME TO {schema}_new")
    pg.execute(f"ALTER TABLE {root} RENAME TO {root}_new")
    pg.execute(f"INSERT INTO {schema}_new.t VALUES (2)")
    pg.execute(f"INSERT INTO {root}_new VALUES (2, 1)")

    topics = [line.split("\t")[2] for line in r.wait_lines(12) if line.startswith("E\t")]
    assert topics == [f"walcast.{schema}.t", f"walcast.public.{root}",
                      f"walcast.{schema}_new.t", f"walcast.public.{root}_new"]
    assert walsender_alive(pg, r.walsender_pid)


def test_refused_events_end_the_stream_with_a_clear_error_not_a_crash(pg, receiver):
    """Oversized events and two tables sharing a topic: the walsender reports the error
    (the slot stays where it was) and the server keeps running."""
    table = unique("big")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
    pg.execute(f'CREATE TABLE "{table} x" (id int PRIMARY KEY)')
    pg.execute(f"CREATE TABLE {table}_x (id int PRIMARY KEY)")
    started = server_identity(pg)

    r = receiver({"event.max.bytes": "1000", "table.include.list": f"public\\.{table}"})
    pg.execute(f"INSERT INTO {table} VALUES (1, repeat('x', 5000))")
    err = r.wait_exit()
    assert f"the event of table public.{table} at LSN" in err and "exceeds 1000 bytes" in err
    assert "column.exclude.list" in err
    # Leaving the column out, the same slot goes on from that change.
    r2 = Receiver(pg, r.out.parent, r.slot, {"event.max.bytes": "1000",
                                             "column.exclude.list": f"public.{table}.body",
                                             "table.include.list": f"public\\.{table}"})
    try:
        assert json.loads(r2.wait_lines(1)[0])["after"] == {"id": 1}
    finally:
        r2.stop()

    r3 = receiver({"table.include.list": f"public\\.{table}.x"})
    pg.execute(f"INSERT INTO {table}_x VALUES (1)")
    pg.execute(f'INSERT INTO "{table} x" VALUES (2)')
    err = r3.wait_exit()
    assert (f'tables public.{table}_x and public."{table} x" both map to topic '
            f'"walcast.public.{table}_x"') in err
    assert server_identity(pg) == started, "the server restarted"


def test_value_whose_json_exceeds_1gb_is_refused_before_it_is_built(pg, receiver):
    """200 MB of control characters: 1.2 GB of JSON, more than one PostgreSQL message
    holds. The walsender refuses it by name before encoding it (no 'Cannot enlarge
    string buffer' after building a gigabyte), and stays within a few hundred MB."""
    table = unique("huge")
    pg.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
    r = receiver({"table.include.list": f"public\\.{table}"})
    pg.execute(f"INSERT INTO {table} VALUES (1, repeat(chr(1), 200000000))")
    err = r.wait_exit(timeout=120)
    assert f"the event of table public.{table} at LSN" in err, err
    assert 'Column "body" makes it at least 1200000' in err, err
    assert "Cannot enlarge" not in err
