"""`walcast run --config <file>` as a child process of the integration tests: the
configuration file, the start, the log of each start, and the ways it ends."""

import pathlib
import subprocess
from typing import Optional

import pytest

from pg_server import WALCAST_BIN, PgServer


class WalcastProcess:
    """Subclasses add the sink and what reading it back takes."""

    def __init__(self, workdir: pathlib.Path, pg: PgServer, slot: str, props: dict):
        if not WALCAST_BIN.exists():
            pytest.fail(f"{WALCAST_BIN} not built (make)", pytrace=False)
        self.workdir = pathlib.Path(workdir)
        self.pg = pg
        self.slot = slot
        self.props = {
            "database.hostname": "127.0.0.1",
            "database.port": str(pg.port),
            "database.user": "postgres",
            "database.dbname": "postgres",
            "slot.name": slot,
            # Streaming tests; snapshots are tested in test_snapshot.py.
            "snapshot.mode": "no_data",
        }
        self.props.update({k: str(v) for k, v in props.items()})
        self.config = self.workdir / f"{slot}.properties"
        self.write_config()
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0

    def write_config(self):
        """(Re)writes the configuration file from props; a later start() reads it."""
        self.config.write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))

    @property
    def log_path(self) -> pathlib.Path:
        return self.workdir / f"{self.slot}.{self.starts}.log"

    def start(self):
        self.starts += 1
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(WALCAST_BIN), "run", "--config", str(self.config)],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        if not self.alive():
            pytest.fail(f"walcast exited with {self.proc.returncode}:\n{self.log_tail()}",
                        pytrace=False)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._log.close()

    def terminate(self, timeout=60) -> int:
        """SIGTERM: drain, final ack, exit. Returns the exit code."""
        if not self.alive():
            return self.proc.returncode
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"walcast did not exit {timeout}s after SIGTERM:\n{self.log_tail()}",
                        pytrace=False)
        self._log.close()
        return rc

    def log_tail(self, n=60) -> str:
        """The last n lines of the latest start's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def all_logs(self) -> str:
        """The logs of every start, in order."""
        return "\n".join(
            (self.workdir / f"{self.slot}.{i}.log").read_text(errors="replace")
            for i in range(1, self.starts + 1)
            if (self.workdir / f"{self.slot}.{i}.log").exists())


def scrape_metrics(address: str) -> dict:
    """GET http://<address>/metrics -> {"name{labels}": value} (comments dropped)."""
    import urllib.request
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out
