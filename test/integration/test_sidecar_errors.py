"""Bad configurations and unreachable or refusing endpoints: a one-line error
that says what to change, and a non-zero exit code (2 = configuration,
1 = runtime: database unreachable, slot busy, plugin not allowed...)."""

import socket

import pytest

from conftest import unique


def base_props(pg, **extra):
    props = {
        "database.hostname": "127.0.0.1",
        "database.port": str(pg.port),
        "database.user": "postgres",
        "database.dbname": "postgres",
        "slot.name": unique("err"),
        "sink": "stdout",
        "snapshot.mode": "no_data",
    }
    props.update(extra)
    return props


def error_line(res):
    lines = [l for l in res.stderr.splitlines() if "error" in l]
    assert lines, f"no error line in stderr:\n{res.stderr}"
    return lines[-1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("args, rc, text", [
    (["--set", "databse.hostname=x"], 2, "unknown configuration key 'databse.hostname'"),
    (["--set", "decimal.handling.mode=exact"], 2,
     "invalid value 'exact' for decimal.handling.mode; accepted: precise, string, double"),
    (["--set", "tombstones.on.delete=maybe"], 2,
     "invalid value 'maybe' for tombstones.on.delete; accepted: true, false"),
    (["--set", "heartbeat.interval.ms=-5"], 2, "heartbeat.interval.ms; accepted: an integer >= 0"),
    (["--set", "snapshot.mode=always"], 2,
     "invalid value 'always' for snapshot.mode; accepted: no_data, never, initial"),
    (["--set", "snapshot.max.threads=0"], 2, "snapshot.max.threads; accepted: an integer >= 1"),
    (["--sink", "s3://bucket"], 2, "invalid value 's3://bucket' for sink"),
    (["--set", "sink=kafka"], 2, "sink=kafka needs kafka.bootstrap.servers"),
    (["--set", "kafka.bootstrap.servers=127.0.0.1:1", "--set", "kafka.no.such.property=1"], 2,
     "no.such.property"),
    (["--config", "/nonexistent/walcast.properties"], 2, "cannot read config file"),
    (["--log-level", "loud"], 2, "invalid value 'loud' for log.level"),
])
def test_configuration_errors_exit_2(walcast_cli, args, rc, text):
    res = walcast_cli("run", *args)
    assert res.returncode == rc, res.stderr
    assert text in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_unknown_key_in_file_names_file_and_line(walcast_cli):
    res = walcast_cli("run", props={"topic.prefix": "x", "slot.nmae": "y"})
    assert res.returncode == 2
    assert "unknown configuration key 'slot.nmae'" in res.stderr and ":2)" in res.stderr


def test_usage(walcast_cli):
    assert walcast_cli("--help").returncode == 0
    res = walcast_cli("run", "--help")
    assert res.returncode == 0 and "table.include.list" in res.stdout
    assert walcast_cli("--version").stdout.startswith("walcast ")
    assert walcast_cli().returncode == 2
    assert walcast_cli("frobnicate").returncode == 2


def test_unreachable_database_names_conninfo_without_password(walcast_cli):
    port = free_port()
    props = {"database.hostname": "127.0.0.1", "database.port": str(port),
             "database.user": "postgres", "database.password": "s3cret-pw", "sink": "stdout"}
    res = walcast_cli("run", props=props)
    assert res.returncode == 1, res.stderr
    line = error_line(res)
    assert "cannot connect to Postgres (host=127.0.0.1 port=%d user=postgres)" % port in line
    assert "Connection refused" in line
    assert "s3cret-pw" not in res.stderr


def test_unknown_role(pg, walcast_cli):
    res = walcast_cli("run", props=base_props(pg, **{"database.user": "nobody",
                                                     "database.password": "pw-hidden"}))
    assert res.returncode == 1
    assert 'role "nobody" does not exist' in error_line(res)
    assert "pw-hidden" not in res.stderr


def test_unknown_database(pg, walcast_cli):
    res = walcast_cli("run", props=base_props(pg, **{"database.dbname": "nodb"}))
    assert res.returncode == 1
    assert 'database "nodb" does not exist' in error_line(res)


def test_slot_in_use(pg, sidecar, walcast_cli):
    s = sidecar().start()
    pid = pg.slot(s.slot)["active_pid"]
    res = walcast_cli("run", props=base_props(pg, **{"slot.name": s.slot}))
    assert res.returncode == 1
    assert (f"replication slot {s.slot} is active for PID {pid}; stop the other consumer or "
            f"choose another slot.name") in error_line(res)
    s.assert_alive()


def test_slot_of_another_plugin(pg, walcast_cli):
    slot = unique("td")
    pg.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", slot)
    try:
        res = walcast_cli("run", props=base_props(pg, **{"slot.name": slot}))
        assert res.returncode == 1
        assert f"replication slot {slot} uses plugin 'test_decoding', not walcast" in error_line(res)
    finally:
        pg.execute("SELECT pg_drop_replication_slot(%s)", slot)


def test_missing_slot_without_create(pg, walcast_cli):
    res = walcast_cli("run", props=base_props(pg, **{"slot.create": "false"}))
    assert res.returncode == 1
    assert "does not exist and slot.create=false" in error_line(res)


def test_plugin_not_allowed_by_output_plugin_libraries(private_pg, walcast_cli):
    described = private_pg.execute(
        "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")[0][0]
    if not described:
        pytest.skip("this server has no output_plugin_libraries setting")
    private_pg.execute("ALTER SYSTEM SET output_plugin_libraries = 'pgoutput, test_decoding'")
    private_pg.execute("SELECT pg_reload_conf()")
    res = walcast_cli("run", props=base_props(private_pg))
    assert res.returncode == 1
    line = error_line(res)
    assert "add walcast to output_plugin_libraries" in line, line


def test_plugin_rejects_option_value(pg, walcast_cli):
    slot = unique("opt")
    res = walcast_cli("run", props=base_props(pg, **{"slot.name": slot,
                                                     "table.include.list": "public\\.(unclosed"}))
    try:
        assert res.returncode == 1
        line = error_line(res)
        assert "START_REPLICATION failed" in line and "table.include.list" in line, line
    finally:
        pg.execute("SELECT pg_drop_replication_slot(%s)", slot)


def test_unwritable_sink_file(pg, walcast_cli):
    res = walcast_cli("run", props=base_props(pg, sink="file:/nonexistent-dir/out.jsonl"))
    assert res.returncode == 1
    assert "cannot open sink file /nonexistent-dir/out.jsonl" in error_line(res)


def test_status_of_unreachable_database(walcast_cli):
    res = walcast_cli("status", "--set", "database.hostname=127.0.0.1",
                      "--set", f"database.port={free_port()}")
    assert res.returncode == 1
    assert "cannot connect to Postgres" in res.stderr


def test_default_initial_snapshot_without_the_extension_says_what_to_do(pg, walcast_cli):
    # This server has no walcast extension (test_snapshot.py uses a server of its own).
    props = base_props(pg)
    del props["snapshot.mode"]  # the default: initial
    res = walcast_cli("run", props=props)
    assert res.returncode != 0
    line = error_line(res)
    assert "CREATE EXTENSION walcast" in line and "snapshot.mode=no_data" in line, line
    assert pg.slot(props["slot.name"]) is None, "no slot is left behind"


def test_default_mode_refuses_a_slot_made_by_hand_without_the_extension(pg, walcast_cli):
    # No snapshot can be on record for it: streaming it would silently skip the rows
    # written before it was made (see test_slot_lifecycle.py).
    slot = unique("hand")
    pg.execute("SELECT pg_create_logical_replication_slot(%s, 'walcast')", slot)
    try:
        res = walcast_cli("run", props=base_props(pg, **{"slot.name": slot,
                                                         "snapshot.mode": "initial"}))
        assert res.returncode == 1, res.stderr
        line = error_line(res)
        assert (f"replication slot {slot} exists but walcast has no snapshot on record for it "
                "(the walcast extension is not installed)") in line, line
        assert "snapshot.mode=no_data" in line and "walcast slot drop" in line, line
    finally:
        pg.execute("SELECT pg_drop_replication_slot(%s)", slot)
