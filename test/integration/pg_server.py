"""The throwaway PostgreSQL server of the integration tests and the benchmarks
(test/pg_tmp.sh: wal_level=logical, walcast allowed as an output plugin).

PG_BINDIR chooses the PostgreSQL (default: pg_config's); with WALCAST_PG_MAJOR set, a
server of another major fails the test instead of passing on the wrong PostgreSQL."""

import contextlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
from typing import Callable, Optional

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PG_TMP = ROOT / "test" / "pg_tmp.sh"
WALCAST_BIN = pathlib.Path(os.environ.get("WALCAST_BIN", ROOT / "sidecar" / "build" / "walcast"))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for now)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)


class PgServer:
    def __init__(self, datadir: pathlib.Path):
        self.datadir = pathlib.Path(datadir)
        self.port: Optional[int] = None

    def _sh(self, *args, timeout=120):
        proc = subprocess.run([str(PG_TMP), *args], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"pg_tmp.sh {' '.join(args)} failed:\n{proc.stderr[-3000:]}",
                        pytrace=False)
        return proc.stdout

    def start(self):
        self.port = int(self._sh("start", str(self.datadir)).strip().splitlines()[-1])
        expected = os.environ.get("WALCAST_PG_MAJOR")
        if expected:
            version = int(self.execute("SHOW server_version_num")[0][0])
            if version // 10000 != int(expected):
                self.stop()
                pytest.fail(f"PostgreSQL {version} runs, WALCAST_PG_MAJOR={expected} "
                            f"(PG_BINDIR={os.environ.get('PG_BINDIR')})", pytrace=False)
        return self

    def restart(self, mode: str = "fast"):
        """pg_ctl restart -m <mode>: "fast" (clean shutdown) or "immediate" (a crash and
        recovery at the next start)."""
        self._sh("restart", str(self.datadir), mode)

    def stop(self):
        subprocess.run([str(PG_TMP), "stop", str(self.datadir)], capture_output=True,
                       timeout=120)

    def dsn(self, dbname="postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def connect(self, dbname="postgres", autocommit=True):
        import psycopg  # imported late: the benchmarks' parent process may lack it
        return psycopg.connect(self.dsn(dbname), autocommit=autocommit)

    def execute(self, sql: str, *params, dbname="postgres"):
        with self.connect(dbname) as conn:
            cur = conn.execute(sql, params or None)
            return cur.fetchall() if cur.description else None

    def current_lsn(self) -> int:
        return int(self.execute("SELECT pg_current_wal_lsn() - '0/0'")[0][0])

    def slot(self, name: str) -> Optional[dict]:
        rows = self.execute(
            "SELECT active, active_pid, confirmed_flush_lsn::text, "
            "(confirmed_flush_lsn - '0/0')::numeric, (pg_current_wal_lsn() - '0/0')::numeric, "
            "plugin FROM pg_replication_slots WHERE slot_name = %s", name)
        if not rows:
            return None
        active, pid, lsn_text, lsn, current, plugin = rows[0]
        return {"active": active, "active_pid": pid, "confirmed_flush_lsn": lsn_text,
                "confirmed_flush": int(lsn or 0), "current_wal": int(current), "plugin": plugin}

    def wait_slot(self, name: str, active=True, timeout=60) -> dict:
        return wait_until(lambda: (s := self.slot(name)) is not None and s["active"] == active
                          and s, timeout, f"slot {name} active={active}: {self.slot(name)}")

    def wait_confirmed(self, name: str, lsn: int, timeout=30) -> dict:
        return wait_until(lambda: (s := self.slot(name)) and s["confirmed_flush"] >= lsn and s,
                          timeout, f"slot {name} confirmed_flush_lsn >= {lsn}: {self.slot(name)}")


@contextlib.contextmanager
def throwaway_server():
    if not PG_TMP.exists():
        pytest.fail(f"{PG_TMP} is missing", pytrace=False)
    # Not under pytest's tmp dir: that is private to the test user (0700), and
    # under root the server runs as `postgres`, which must reach its data dir.
    datadir = pathlib.Path(tempfile.mkdtemp(prefix="walcast-pg-"))
    datadir.chmod(0o755)
    server = PgServer(datadir).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(datadir, ignore_errors=True)
