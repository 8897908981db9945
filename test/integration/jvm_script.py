"""Runs one of the test/<tool>/<tool>.sh scripts that manage a JVM (Kafka broker, Connect
worker) and turns its failure into a test failure (pytest.fail, never a skip) that shows
the script's stderr."""

import pathlib
import subprocess

import pytest


def run_script(script: pathlib.Path, *args, timeout: float, needs: str, check: bool = True,
               stderr_tail: int = 4000) -> subprocess.CompletedProcess:
    """`script args...`; on a timeout, or an exit other than 0 when `check`, the test fails
    saying `needs` (why the tests need what the script manages)."""
    try:
        proc = subprocess.run([str(script), *args], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script.name} {' '.join(args)} timed out after {timeout}s:\n{e.stderr}",
                    pytrace=False)
    if check and proc.returncode != 0:
        pytest.fail(f"{script.name} {' '.join(args)} failed (exit {proc.returncode}); {needs}.\n"
                    f"stderr:\n{proc.stderr[-stderr_tail:]}", pytrace=False)
    return proc
