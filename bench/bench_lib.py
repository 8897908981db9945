"""Helpers shared by the benchmarks: a throwaway server's big table, `walcast run`
command lines, timing a set of processes with their peak RSS."""

import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "integration"))
from pg_server import WALCAST_BIN  # noqa: E402


def vm_hwm_kb(pid):
    """The process's own peak RSS so far (VmHWM), or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0


def timed(cmds):
    """Runs the commands in parallel; returns (seconds, peak RSS MB of the largest of them,
    sampled every 50 ms from /proc: rusage would count the forking Python's pages too)."""
    start = time.time()
    errs = [tempfile.TemporaryFile() for _ in cmds]
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=e) for c, e in zip(cmds, errs)]
    peak_kb = 0
    while any(p.poll() is None for p in procs):
        peak_kb = max([peak_kb] + [vm_hwm_kb(p.pid) for p in procs if p.returncode is None])
        time.sleep(0.05)
    elapsed = time.time() - start
    for p, err in zip(procs, errs):
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{p.args[:3]} failed: {err.read().decode()[-2000:]}")
    return elapsed, peak_kb / 1024


def walcast_cmd(pg, slot, readers, sink, tables="public\\.big"):
    """`walcast run` of an initial snapshot only (it exits when the snapshot is done)."""
    return [str(WALCAST_BIN), "run", "--sink", sink, "--set", f"table.include.list={tables}",
            "--set", "database.hostname=127.0.0.1", "--set", f"database.port={pg.port}",
            "--set", "database.user=postgres", "--set", "database.dbname=postgres",
            "--set", f"slot.name={slot}", "--set", f"topic.prefix={slot}",
            "--set", "snapshot.mode=initial_only", "--set", f"snapshot.max.threads={readers}",
            "--set", "log.level=warn"]


def create_big_table(pg, rows, name="big"):
    """A table of `rows` rows of about 230 bytes (bigint key, int, text, numeric,
    timestamptz), vacuumed and analyzed; prints its size. Returns its heap blocks."""
    t0 = time.time()
    pg.execute(f"CREATE TABLE {name} (id bigint PRIMARY KEY, a int, b text, c numeric(12,2), "
               f"d timestamptz)")
    pg.execute(f"INSERT INTO {name} SELECT g, g %% 1000, md5(g::text) || repeat('b', 120), "
               f"g * 1.25, '2024-01-01'::timestamptz + g * interval '1 s' "
               f"FROM generate_series(1, %s::bigint) g", rows)
    pg.execute(f"VACUUM ANALYZE {name}")
    size = pg.execute(f"SELECT pg_table_size('{name}')")[0][0]
    blocks = pg.execute(f"SELECT pg_relation_size('{name}') / "
                        f"current_setting('block_size')::int")[0][0]
    print(f"table {name}: {rows:,} rows, {size / 1e9:.2f} GB, built in {time.time() - t0:.0f} s")
    return blocks
