"""Bad configurations and unreachable or refusing endpoints: a one-line error
that says what to change, and a non-zero exit code (2 = configuration,
1 = runtime: database unreachable, slot busy, plugin not allowed...)."""

import time

import pytest

from conftest import unique
from pg_server import free_port


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


@pytest.mark.parametrize("args, rc, text", [
    (["--set", "databse.hostname=x"], 2, "unknown configuration key 'databse.hostname'"),
    (["--set", "decimal.handling.mode=exact"], 2,
     "invalid value 'exact' for decimal.handling.mode; accepted: precise, string, double"),
    (["--set", "tombstones.on.delete=maybe"], 2,
     "invalid value 'maybe' for tombstones.on.delete; accepted: true, false"),
    (["--set", "heartbeat.interval.ms=-5"], 2,
     "heartbeat.interval.ms; accepted: an integer from 0 to 2147483647"),
    (["--set", "snapshot.mode=schema_only_recovery"], 2,
     "invalid value 'schema_only_recovery' for snapshot.mode; accepted: no_data, never, initial"),
    (["--set", "slot.nmae=x", "--set", "topic.prefx=y"], 2,
     "2 unknown configuration keys: 'slot.nmae' (--set; did you mean 'slot.name'?), "
     "'topic.prefx' (--set; did you mean 'topic.prefix'?)"),
    (["--set", "topic.delimiter=_"], 2,
     "unsupported value '_' for topic.delimiter (--set)"),
    (["--set", "snapshot.max.threads=0"], 2,
     "snapshot.max.threads; accepted: an integer from 1 to 64"),
    (["--set", "snapshot.max.threads=1e6"], 2,
     "invalid value '1e6' for snapshot.max.threads; accepted: an integer from 1 to 64"),
    (["--set", "snapshot.max.threads=1000000"], 2,
     "invalid value '1000000' for snapshot.max.threads; accepted: an integer from 1 to 64"),
    (["--set", "metrics.address=0.0.0.0:99999"], 2,
     "invalid value '0.0.0.0:99999' for metrics.address"),
    (["--set", "database.sslmode=strict"], 2,
     "invalid value 'strict' for database.sslmode; accepted: disable, allow, prefer, require, "
     "verify-ca, verify-full"),
    (["--set", "slot.nmae=x"], 2, "unknown configuration key 'slot.nmae' (--set); did you mean "
     "'slot.name'?"),
    (["--sink", "s3://bucket"], 2, "invalid value 's3://bucket' for sink"),
    (["--set", "sink=kafka"], 2, "sink=kafka needs kafka.bootstrap.servers"),
    (["--set", "kafka.bootstrap.servers=127.0.0.1:1", "--set", "kafka.no.such.property=1"], 2,
     "no.such.property"),
    (["--config", "/nonexistent/walcast.properties"], 2,
     "cannot read config file /nonexistent/walcast.properties: No such file or directory"),
    (["--config", "/tmp"], 2, "cannot read config file /tmp: is a directory, not a file"),
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


def test_help_describes_the_settings_each_subcommand_reads(walcast_cli):
    run = walcast_cli("run", "--help").stdout
    assert "snapshot.max.threads (default 2; an integer from 1 to 64)" in run
    assert "Parallel readers of the initial snapshot" in run
    drop = walcast_cli("slot", "drop", "--help").stdout
    assert "slot.name" in drop and "Logical replication slot to stream from" in drop
    assert "snapshot.mode" not in drop and "decimal.handling.mode" not in drop
    status = walcast_cli("status", "--help").stdout
    assert "retained.wal.warn.bytes" in status and "heartbeat.interval.ms" not in status
    assert "snapshot.max.threads" not in walcast_cli("--help").stdout


def test_debezium_style_properties_file(walcast_cli, tmp_path):
    # ':' and blank separators and a continued line, as java.util.Properties reads them.
    cfg = tmp_path / "debezium.properties"
    cfg.write_text("topic.prefix: shop\nsink   stdout\nsnapshot.max.threads = 1\\\n    00\n")
    res = walcast_cli("run", "--config", str(cfg))
    assert res.returncode == 2
    assert ("invalid value '100' for snapshot.max.threads; accepted: an integer from 1 to 64"
            in error_line(res)), res.stderr


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


def test_bad_filter_pattern_is_refused_before_the_slot_exists(pg, walcast_cli):
    # The plugin would refuse it at START_REPLICATION, after the slot was created; the
    # sidecar has the server compile it first (test_cli_first_hour.py covers the lists).
    slot = unique("opt")
    res = walcast_cli("run", props=base_props(pg, **{"slot.name": slot,
                                                     "table.include.list": "public\\.(unclosed"}))
    assert res.returncode == 2, res.stderr
    line = error_line(res)
    assert "table.include.list: 'public" in line and "(unclosed' is not a valid regular " \
        "expression" in line, line
    assert pg.slot(slot) is None


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


# ---- Input and secrets (issue 8, item 8) ----

def run_limited(*args, timeout=60):
    """walcast with 1 GiB of address space: a config that would exhaust memory fails fast."""
    import resource
    import subprocess

    from pg_server import WALCAST_BIN

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run([str(WALCAST_BIN), *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit)


def test_config_that_is_a_device_or_huge_is_refused(tmp_path):
    res = run_limited("run", "--config", "/dev/zero")
    assert res.returncode == 2, res.stderr
    assert ("cannot read config file /dev/zero: is not a regular file (a device, pipe or socket)"
            in res.stderr), res.stderr
    big = tmp_path / "big.properties"
    big.write_text("# padding\n" * 200_000)
    res = run_limited("run", "--config", str(big))
    assert res.returncode == 2, res.stderr
    assert f"cannot read config file {big}: is larger than 1048576 bytes" in res.stderr


def test_directory_as_config_creates_no_slot(pg, walcast_cli):
    # main read /tmp as an empty file, created slot "walcast" and streamed on defaults.
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": "postgres"}
    res = walcast_cli("run", "--config", "/tmp", "--set", "snapshot.mode=no_data", env=env,
                      timeout=20)
    assert res.returncode == 2, res.stderr
    assert pg.slot("walcast") is None


def test_byte_order_mark_at_the_start_of_the_config(walcast_cli, tmp_path):
    port = free_port()
    cfg = tmp_path / "bom.properties"
    cfg.write_bytes(b"\xef\xbb\xbfdatabase.hostname=127.0.0.1\n" +
                    f"database.port={port}\nsink=stdout\n".encode())
    res = walcast_cli("run", "--config", str(cfg))
    assert res.returncode == 1, res.stderr  # the config is fine; the database is not there
    assert f"cannot connect to Postgres (host=127.0.0.1 port={port})" in res.stderr, res.stderr


@pytest.mark.parametrize("setting", [
    "database.password=hunter2-cli",
    "database.sslpassword=hunter2-cli",
    "kafka.sasl.password=hunter2-cli",
    "database.url=postgresql://u:hunter2-cli@127.0.0.1/db",
    "database.url=host=127.0.0.1 password=hunter2-cli",
])
def test_password_on_the_command_line_is_refused(walcast_cli, setting):
    """ps shows every argument to every local user."""
    res = walcast_cli("run", "--set", "sink=stdout", "--set", setting)
    assert res.returncode == 2, res.stderr
    line = error_line(res)
    assert "refusing " in line and "every local user can read it with ps" in line, line
    assert "the configuration file" in line and " environment variable" in line, line
    if setting.startswith(("database.password", "database.url")):
        assert "database.password.file" in line and "~/.pgpass" in line, line
    assert "hunter2-cli" not in res.stderr


def test_password_from_environment_or_file_is_accepted(walcast_cli, tmp_path):
    port = free_port()
    pw = tmp_path / "pw"
    pw.write_text("file-secret-1\n")
    pw.chmod(0o600)
    base = ["run", "--set", "sink=stdout", "--set", "database.hostname=127.0.0.1",
            "--set", f"database.port={port}", "--set", "log.level=debug"]
    for extra, env in ([["--set", f"database.password.file={pw}"], None],
                       [[], {"WALCAST_DATABASE_PASSWORD": "env-secret-1"}]):
        res = walcast_cli(*base, *extra, env=env)
        assert res.returncode == 1, res.stderr  # refused connection, not configuration
        assert "cannot connect to Postgres" in res.stderr
        assert "file-secret-1" not in res.stderr and "env-secret-1" not in res.stderr
        assert "database.password=***" in res.stderr, "the debug configuration dump"


@pytest.mark.parametrize("props", [
    {"database.url": "postgresql://u:url-pass-1@127.0.0.1:{port}/db"},
    {"database.url": "postgresql://u@127.0.0.1:{port}/db?password=url-pass-1&sslmode=disable"},
    {"database.url": "host=127.0.0.1 port={port} password=url-pass-1 user=u"},
    {"database.url": "host=127.0.0.1 port={port} password='url pass 1' user=u"},
    {"database.url": "postgresql://u:url%2Dpass%2D1@127.0.0.1:{port}/db"},
    {"database.hostname": "127.0.0.1", "database.port": "{port}",
     "database.password": "url-pass-1", "database.sslpassword": "url-pass-2"},
    # libpq cannot parse this one; its message must not echo the password either.
    {"database.url": "postgresql://u:url-pass-1@127.0.0.1:{port}/db?nosuchoption=1"},
    # libpq quotes the token it cannot decode, here the password.
    {"database.url": "postgresql://u:url%zzpass@127.0.0.1:{port}/db"},
])
def test_connection_errors_never_show_a_password(walcast_cli, props):
    port = free_port()
    props = {k: v.format(port=port) for k, v in props.items()}
    props.update({"sink": "stdout", "log.level": "debug"})
    res = walcast_cli("run", props=props)
    assert res.returncode in (1, 2), res.stderr
    assert "walcast: " in res.stderr and "error" in res.stderr, res.stderr
    for secret in ("url-pass-1", "url pass 1", "url%2Dpass%2D1", "url-pass-2", "url%zzpass"):
        assert secret not in res.stderr, res.stderr


def test_world_readable_config_with_a_password_warns(walcast_cli, tmp_path):
    cfg = tmp_path / "open.properties"
    cfg.write_text(f"database.hostname=127.0.0.1\ndatabase.port={free_port()}\n"
                   "database.password=warn-pass-1\nsink=stdout\n")
    cfg.chmod(0o644)
    res = walcast_cli("run", "--config", str(cfg))
    assert f"holds database.password and every local user can read it: chmod o-r {cfg}" in \
        res.stderr, res.stderr
    cfg.chmod(0o600)
    res = walcast_cli("run", "--config", str(cfg))
    assert "every local user can read it" not in res.stderr


def make_cert(directory, name):
    import subprocess
    key, crt = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return key, crt


def test_tls_keys_reach_libpq(private_pg, walcast_cli, tmp_path):
    """database.sslmode / database.sslrootcert (Debezium's names) are libpq's on every connection."""
    import shutil
    key, crt = make_cert(tmp_path, "walcast-test-server")
    _, other_ca = make_cert(tmp_path, "someone-else")
    for f in (key, crt):
        shutil.copy(f, private_pg.datadir / f.name)
        shutil.chown(private_pg.datadir / f.name, "postgres", "postgres")
    (private_pg.datadir / key.name).chmod(0o600)
    # ALTER SYSTEM takes no parameters; the paths are ours (no quotes in them).
    private_pg.execute(f"ALTER SYSTEM SET ssl_cert_file = '{private_pg.datadir / crt.name}'")
    private_pg.execute(f"ALTER SYSTEM SET ssl_key_file = '{private_pg.datadir / key.name}'")
    private_pg.execute("ALTER SYSTEM SET ssl = on")
    private_pg.execute("SELECT pg_reload_conf()")
    time.sleep(1)

    props = base_props(private_pg, **{"database.sslmode": "verify-ca",
                                      "database.sslrootcert": str(crt)})
    res = walcast_cli("status", props=props)
    assert "cannot connect" not in res.stderr, res.stderr
    assert f"slot {props['slot.name']}" in res.stdout, res.stdout

    props["database.sslrootcert"] = str(other_ca)
    res = walcast_cli("status", props=props)
    assert res.returncode == 1
    assert "certificate verify failed" in res.stderr, res.stderr

    # A streaming run (replication connection) checks the certificate too.
    props["slot.name"] = unique("tls")
    res = walcast_cli("run", props=props, timeout=30)
    assert res.returncode == 1 and "certificate verify failed" in res.stderr, res.stderr
    assert private_pg.slot(props["slot.name"]) is None
