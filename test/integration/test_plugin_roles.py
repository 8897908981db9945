"""The least-privilege roles of docs/security.md, made by extension/walcast-roles.sql:
a streaming role creates its slot and streams through the replication protocol, a
snapshot role runs the sidecar's initial snapshot, and neither reads more."""

import json
import pathlib
import subprocess

import psycopg
import pytest

from conftest import unique, wait_until
from pg_server import ROOT
from test_plugin_replication import PG_RECVLOGICAL

ROLES_SQL = ROOT / "extension" / "walcast-roles.sql"
PSQL = PG_RECVLOGICAL.parent / "psql"


def run_roles_script(pg, **variables):
    argv = [str(PSQL), "-X", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
            "-d", "postgres", "-f", str(ROLES_SQL)]
    for k, v in variables.items():
        argv += ["-v", f"{k}={v}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def connect_as(pg, user):
    return psycopg.connect(f"host=127.0.0.1 port={pg.port} user={user} dbname=postgres",
                           autocommit=True)


def recvlogical(pg, user, *args, timeout=60):
    return subprocess.run([str(PG_RECVLOGICAL), "-h", "127.0.0.1", "-p", str(pg.port), "-U", user,
                           "-d", "postgres", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def roles_pg(private_pg):
    private_pg.execute("CREATE EXTENSION walcast")
    private_pg.execute("CREATE SCHEMA sales")
    private_pg.execute("CREATE SCHEMA secret")
    private_pg.execute("CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric)")
    private_pg.execute("INSERT INTO sales.orders SELECT g, g * 1.5 FROM generate_series(1, 50) g")
    private_pg.execute("CREATE TABLE secret.keys (id int PRIMARY KEY, k text)")
    private_pg.execute("INSERT INTO secret.keys VALUES (1, 'do not leak')")
    run_roles_script(private_pg, source_schemas="sales")
    run_roles_script(private_pg, source_schemas="sales")  # re-running is harmless
    return private_pg


def test_streaming_role_creates_a_slot_and_streams(roles_pg, tmp_path):
    slot = unique("stream")
    created = recvlogical(roles_pg, "walcast_stream", "--slot", slot, "--create-slot",
                          "-P", "walcast")
    assert created.returncode == 0, created.stderr
    out = tmp_path / "stream.out"
    proc = subprocess.Popen([str(PG_RECVLOGICAL), "-h", "127.0.0.1", "-p", str(roles_pg.port),
                             "-U", "walcast_stream", "-d", "postgres", "--slot", slot, "--start",
                             "-f", str(out), "-F", "0", "-o", "format=frames"],
                            stderr=subprocess.PIPE, text=True)
    try:
        roles_pg.wait_slot(slot, active=True, timeout=30)
        roles_pg.execute("INSERT INTO sales.orders VALUES (1000, 1)")
        roles_pg.execute("INSERT INTO secret.keys VALUES (2, 'streamed')")
        with connect_as(roles_pg, "walcast_stream") as conn:
            # The sidecar's heartbeat.
            conn.execute("SELECT pg_logical_emit_message(true, 'walcast.heartbeat', '1')")

        def lines():
            return [l for l in (out.read_text() if out.exists() else "").split("\n")[:-1] if l]
        wait_until(lambda: proc.poll() is not None or len(lines()) >= 9, 30, "9 frames")
        assert proc.poll() is None, proc.stderr.read()
        topics = [l.split("\t")[2] for l in lines() if l.startswith("E\t")]
        assert topics == ["walcast.sales.orders", "walcast.secret.keys", "walcast.message"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    roles_pg.wait_slot(slot, active=False)
    dropped = recvlogical(roles_pg, "walcast_stream", "--slot", slot, "--drop-slot")
    assert dropped.returncode == 0, dropped.stderr
    assert roles_pg.slot(slot) is None

    # Streaming only: no table data and no snapshot functions.
    with connect_as(roles_pg, "walcast_stream") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT walcast.snapshot_rows('sales.orders')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM sales.orders")


def test_snapshot_role_runs_the_sidecar_snapshot_and_reads_nothing_else(roles_pg, sidecar):
    s = sidecar(server=roles_pg, database__user="walcast_snapshot", snapshot__mode="initial",
                table__include__list=r"sales\.orders")
    s.start()
    s.wait_records(lambda recs: len([r for r in recs if r["value"]]) >= 50, timeout=60,
                   what="50 snapshot rows")
    roles_pg.execute("INSERT INTO sales.orders VALUES (51, 2)")
    topic = f"{s.slot}.sales.orders"
    s.wait_records(lambda recs: any(r["value"] and r["value"]["op"] == "c" for r in recs),
                   what="the streamed insert")
    values = [r["value"] for r in s.records() if r["topic"] == topic and r["value"]]
    assert sorted(v["after"]["id"] for v in values if v["op"] == "r") == list(range(1, 51))
    assert [v["after"]["id"] for v in values if v["op"] == "c"] == [51]
    completed = roles_pg.execute(
        "SELECT completed_at IS NOT NULL FROM walcast.snapshot_runs WHERE slot_name = %s", s.slot)
    assert completed == [(True,)]
    assert s.terminate() == 0

    # A schema outside source_schemas, and catalogs, stay closed to the snapshot role.
    keys_oid = roles_pg.execute("SELECT 'secret.keys'::regclass::oid")[0][0]
    with connect_as(roles_pg, "walcast_snapshot") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema secret"):
            conn.execute(f"SELECT walcast.snapshot_rows({keys_oid})")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="system catalog"):
            conn.execute("SELECT walcast.snapshot_rows('pg_authid')")
