"""Fixtures for the sidecar integration tests: a throwaway Postgres
(test/pg_tmp.sh) and the `walcast` binary as a child process.

    pg            a Postgres server shared by the tests of a session (unique slot
                  and table names per test keep them apart)
    private_pg    a server of the test's own (for tests that change server settings)
    sidecar       factory: sidecar(slot=..., **props) -> Sidecar (not started)
    walcast_cli   runs `walcast <args>` to completion -> CompletedProcess
"""

import json
import os
import pathlib
import signal
import subprocess
import uuid
from typing import Callable, List, Optional

import pytest

from pg_server import WALCAST_BIN, PgServer, throwaway_server, wait_until  # noqa: F401


def unique(base: str) -> str:
    """A name usable as slot, table and topic prefix."""
    return f"{base}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def pg():
    with throwaway_server() as server:
        yield server


@pytest.fixture
def private_pg():
    with throwaway_server() as server:
        yield server


class Sidecar:
    """`walcast run --config <file>` writing to a file sink, as a child process."""

    def __init__(self, workdir: pathlib.Path, pg: PgServer, slot: str, props: dict):
        if not WALCAST_BIN.exists():
            pytest.fail(f"{WALCAST_BIN} not built (make)", pytrace=False)
        self.workdir = pathlib.Path(workdir)
        self.pg = pg
        self.slot = slot
        self.out = self.workdir / f"{slot}.jsonl"
        self.props = {
            "database.hostname": "127.0.0.1",
            "database.port": str(pg.port),
            "database.user": "postgres",
            "database.dbname": "postgres",
            "slot.name": slot,
            "topic.prefix": slot,
            "sink": f"file:{self.out}",
            "status.update.interval.ms": "500",
            "log.level": "debug",
            # Streaming tests; snapshots are tested in test_snapshot.py.
            "snapshot.mode": "no_data",
        }
        self.props.update({k: str(v) for k, v in props.items()})
        self.config = self.workdir / f"{slot}.properties"
        self.config.write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0

    @property
    def log_path(self) -> pathlib.Path:
        return self.workdir / f"{self.slot}.{self.starts}.log"

    def start(self, wait_active=True):
        self.starts += 1
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(WALCAST_BIN), "run", "--config", str(self.config)],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        if wait_active:
            wait_until(lambda: self._active_or_dead(), 30, f"walcast to stream slot {self.slot}")
            self.assert_alive()
        return self

    def _active_or_dead(self):
        if self.proc.poll() is not None:
            return True
        s = self.pg.slot(self.slot)
        return s is not None and s["active"] and s["active_pid"] is not None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        if not self.alive():
            pytest.fail(f"walcast exited with {self.proc.returncode}:\n{self.log()}",
                        pytrace=False)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def terminate(self, timeout=60) -> int:
        if not self.alive():
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"walcast did not exit {timeout}s after SIGTERM:\n{self.log()}",
                        pytrace=False)
        self._log.close()
        return rc

    def log(self, tail=60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])
        except FileNotFoundError:
            return "(no log)"

    def records(self) -> List[dict]:
        """Complete lines of the file sink, parsed."""
        if not self.out.exists():
            return []
        text = self.out.read_text()
        return [json.loads(line) for line in text.split("\n")[:-1] if line]

    def data_records(self, table: str) -> List[dict]:
        topic = f"{self.props['topic.prefix']}.public.{table}"
        return [r for r in self.records() if r["topic"] == topic]

    def wait_records(self, predicate: Callable[[List[dict]], bool], timeout=30, what="records"):
        def check():
            self.assert_alive()
            return predicate(self.records())
        return wait_until(check, timeout, f"{what}; log:\n{self.log()}")


@pytest.fixture
def sidecar(pg, tmp_path):
    """Factory: sidecar(slot=None, server=None, **props). Stops what it started."""
    started: List[Sidecar] = []

    def make(slot: Optional[str] = None, server: Optional[PgServer] = None, **props) -> Sidecar:
        props = {k.replace("__", "."): v for k, v in props.items()}
        s = Sidecar(tmp_path, server or pg, slot or unique("wc"), props)
        started.append(s)
        return s

    yield make
    for s in started:
        if s.alive():
            s.terminate()
        try:
            if s.pg.slot(s.slot) is not None:
                s.pg.execute("SELECT pg_drop_replication_slot(%s)", s.slot)
        except Exception:  # the server may be gone (private_pg) or the slot busy
            pass


@pytest.fixture
def walcast_cli(tmp_path):
    """Runs `walcast <args>`; props (dict) become a config file passed with --config."""

    def run(*args, props: Optional[dict] = None, timeout=60, env=None):
        if not WALCAST_BIN.exists():
            pytest.fail(f"{WALCAST_BIN} not built (make)", pytrace=False)
        argv = [str(WALCAST_BIN), *args]
        if props is not None:
            cfg = tmp_path / f"cli_{uuid.uuid4().hex[:6]}.properties"
            cfg.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
            argv += ["--config", str(cfg)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, **(env or {})))

    return run
