"""What a newcomer sees first from `walcast`: the banner saying what a run will do comes
before the snapshot (which may take hours), and usage errors exit 2 with a message that
says what is wrong, `verify`'s included."""

import pytest

from conftest import unique


@pytest.fixture
def app_db(pg):
    """A database of the test's own with the walcast extension and one table of 3 rows."""
    db = unique("app")
    pg.execute(f"CREATE DATABASE {db}")
    pg.execute("CREATE EXTENSION walcast", dbname=db)
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", dbname=db)
    pg.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3) g", dbname=db)
    yield db
    for (slot,) in pg.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s",
                              db):
        pg.execute("SELECT pg_drop_replication_slot(%s)", slot)
    pg.execute(f"DROP DATABASE {db}")


def props_for(pg, db, tmp_path, **extra):
    props = {"database.hostname": "127.0.0.1", "database.port": str(pg.port),
             "database.user": "postgres", "database.dbname": db, "slot.name": unique("fh"),
             "topic.prefix": "fh", "sink": f"file:{tmp_path / 'events.jsonl'}"}
    props.update(extra)
    return props


def test_banner_comes_before_the_snapshot(pg, app_db, walcast_cli, tmp_path):
    res = walcast_cli("run", props=props_for(pg, app_db, tmp_path,
                                             **{"snapshot.mode": "initial_only"}))
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    banner = [i for i, l in enumerate(lines) if " starting: slot " in l]
    snapshot = [i for i, l in enumerate(lines) if " snapshot:" in l or "created slot" in l]
    assert banner and snapshot, res.stderr
    assert banner[0] < snapshot[0], f"the banner comes after the snapshot started:\n{res.stderr}"
    assert "walcast 0.1.0 starting" in lines[banner[0]]
    assert "snapshot.mode initial_only (snapshot the included tables, then drop the slot" \
        in lines[banner[0]], lines[banner[0]]
    assert (tmp_path / "events.jsonl").read_text().count('"op":"r"') == 3


@pytest.mark.parametrize("args, text", [
    (["--tables", "public\\.t("], "--tables: 'public\\.t(' is not a valid regular expression"),
    (["--set", "table.exclude.list=a,b[c"],
     "table.exclude.list: 'b[c' is not a valid regular expression"),
    (["--tables", "public\\.nothing_here"], "verify: no table matches public\\.nothing_here"),
    (["--sink", "stdout"], "set sink to kafka or file:<path> (sink=stdout)"),
])
def test_verify_usage_errors_exit_2(pg, app_db, walcast_cli, tmp_path, args, text):
    (tmp_path / "events.jsonl").write_text("")
    res = walcast_cli("verify", *args, props=props_for(pg, app_db, tmp_path))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "configuration error" in res.stderr and text in res.stderr, res.stderr


def test_verify_differences_still_exit_1(pg, app_db, walcast_cli, tmp_path):
    # An empty topic is a finding, not a usage error.
    (tmp_path / "events.jsonl").write_text("")
    res = walcast_cli("verify", props=props_for(pg, app_db, tmp_path))
    assert res.returncode == 1, res.stderr
    assert "3 missing" in res.stdout, res.stdout


@pytest.mark.parametrize("args, text", [
    (["frobnicate"], "unknown subcommand 'frobnicate' for walcast; valid subcommands: run, "
                     "status, verify, slot, snapshot"),
    (["slot", "dorp"], "unknown subcommand 'dorp' for walcast slot; valid subcommands: drop"),
    ([], "walcast needs a subcommand: run, status, verify, slot, snapshot"),
    (["status", "--frobnicate"], "--frobnicate"),
    (["verify", "--examples", "many"], "--examples"),
])
def test_usage_errors_name_the_problem_and_exit_2(walcast_cli, args, text):
    res = walcast_cli(*args)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert text in res.stderr, res.stderr


@pytest.mark.parametrize("mode", ["no_data", "initial"])
@pytest.mark.parametrize("setting", ["table.include.list", "column.exclude.list",
                                     "message.prefix.include.list"])
def test_run_with_a_bad_pattern_exits_2_before_creating_the_slot(pg, app_db, walcast_cli,
                                                                   tmp_path, mode, setting):
    props = props_for(pg, app_db, tmp_path, **{"snapshot.mode": mode, setting: "public\\..*,x("})
    res = walcast_cli("run", props=props)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert f"{setting}: 'x(' is not a valid regular expression" in res.stderr, res.stderr
    assert pg.slot(props["slot.name"]) is None, "no slot is left behind"
