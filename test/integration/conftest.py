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
import subprocess
import uuid
from typing import Callable, List, Optional

import pytest

from pg_server import WALCAST_BIN, PgServer, throwaway_server, wait_until  # noqa: F401
from walcast_process import WalcastProcess


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


class Sidecar(WalcastProcess):
    """`walcast run --config <file>` writing to a file sink, as a child process."""

    def __init__(self, workdir: pathlib.Path, pg: PgServer, slot: str, props: dict):
        self.out = pathlib.Path(workdir) / f"{slot}.jsonl"
        super().__init__(workdir, pg, slot, {
            "topic.prefix": slot,
            "sink": f"file:{self.out}",
            "status.update.interval.ms": "500",
            "log.level": "debug",
            **props,
        })

    def start(self, wait_active=True):
        super().start()
        if wait_active:
            wait_until(lambda: self._active_or_dead(), 30, f"walcast to stream slot {self.slot}")
            self.assert_alive()
        return self

    def _active_or_dead(self):
        if self.proc.poll() is not None:
            return True
        s = self.pg.slot(self.slot)
        return s is not None and s["active"] and s["active_pid"] is not None

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
        return wait_until(check, timeout, f"{what}; log:\n{self.log_tail()}")


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


def pytest_terminal_summary(terminalreporter):
    """The fault campaign's figures (test_fault_campaign.py), one line per scenario."""
    import event_fold
    if event_fold.SUMMARY_LINES:
        terminalreporter.section("fault campaign")
        for line in event_fold.SUMMARY_LINES:
            terminalreporter.write_line(line)
