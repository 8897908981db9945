"""`walcast verify` in bounded memory: with a small memory budget (many key buckets spilled
to disk) it reports exactly what it reports with one bucket, its peak RSS stays under a
bound on a table larger than its budget, and every kind of difference comes with why and
how to repair it (a missing, an extra and a different key; a truncate that was not
streamed; a table without a key)."""

import re
import signal
import subprocess
import sys
import time

from conftest import unique


def verify(walcast_cli, s, *sets, tables=None):
    args = ["verify", "--config", str(s.config), "--examples", "3"]
    if tables:
        args += ["--tables", tables]
    for kv in sets:
        args += ["--set", kv]
    return walcast_cli(*args, timeout=300)


def without_buckets(report: str) -> str:
    """The report without the bucket counts (the only part that depends on them)."""
    return re.sub(r" \(\d+ buckets, \d+ differing\)", "", report)


def test_many_buckets_report_what_one_bucket_reports(private_pg, sidecar, walcast_cli):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    items, gone, loose = unique("items"), unique("gone"), unique("loose")
    pg.execute(f"CREATE TABLE {items} (id int PRIMARY KEY, v text)")
    pg.execute(f"CREATE TABLE {gone} (id int PRIMARY KEY)")
    pg.execute(f"CREATE TABLE {loose} (a int)")
    s = sidecar(server=pg, skipped__operations="t",
                table__include__list=f"public\\.({items}|{gone}|{loose})").start()
    pg.execute(f"INSERT INTO {items} SELECT g, 'v' || g FROM generate_series(1, 3000) g")
    pg.execute(f"INSERT INTO {gone} SELECT generate_series(1, 10)")
    pg.execute(f"INSERT INTO {loose} SELECT generate_series(1, 10)")
    pg.execute(f"TRUNCATE {gone}")  # not streamed: skipped.operations=t
    pg.execute(f"UPDATE {items} SET v = 'streamed' WHERE id = 1")
    s.wait_records(lambda recs: len(recs) >= 3021, what="3021 records")
    assert s.terminate() == 0

    clean = verify(walcast_cli, s, "verify.buckets=64", tables=f"public\\.{items}")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "3000 keys" in clean.stdout and "(64 buckets, 0 differing): OK" in clean.stdout

    # Changes nobody streams: the slot is gone.
    pg.execute("SELECT pg_drop_replication_slot(%s)", s.slot)
    pg.execute(f"UPDATE {items} SET v = 'changed' WHERE id = 2")
    pg.execute(f"DELETE FROM {items} WHERE id = 3")
    pg.execute(f"INSERT INTO {items} VALUES (5000, 'new')")
    pg.execute(f"INSERT INTO {loose} VALUES (11)")

    one = verify(walcast_cli, s, "verify.buckets=1")
    many = verify(walcast_cli, s, "verify.buckets=97", "verify.memory.bytes=1048576")
    assert one.returncode == 1 and many.returncode == 1, one.stdout + one.stderr
    assert "(97 buckets, " in many.stdout, many.stdout
    assert without_buckets(many.stdout) == one.stdout, (one.stdout, many.stdout)
    out = one.stdout
    assert "1 missing, 1 extra, 1 different" in out, out
    assert "  missing   {\"id\":5000}" in out and "  extra     {\"id\":3}" in out, out
    assert "different {\"id\":2}: v: source \"changed\", topic \"v2\";" in out, out
    assert "re-sends the table's rows through an incremental snapshot" in out, out
    # The truncated table: extra rows, and why.
    assert "0 missing, 10 extra, 0 different" in out, out
    assert "rows a TRUNCATE removed: truncates are not streamed (skipped.operations includes t)" in out, out
    assert "a tombstone (the key, a null value) per extra key" in out, out
    # The keyless table: counted, and why it cannot be repaired by key.
    assert "add up to 10 rows): DIFFERENT" in out, out
    assert "an incremental snapshot needs a key" in out, out
    assert "verify: 3 table(s) differ" in out, out


PEAK_RSS = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(r.stdout)
print("exit", r.returncode, "peak_rss_kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_verify(s, *sets):
    from conftest import WALCAST_BIN
    argv = [sys.executable, "-c", PEAK_RSS, str(WALCAST_BIN), "verify", "--config",
            str(s.config)]
    for kv in sets:
        argv += ["--set", kv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    m = re.search(r"exit (\d+) peak_rss_kb (\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    return int(m.group(1)), int(m.group(2)) // 1024, r.stdout


def test_peak_rss_stays_under_a_bound_with_a_small_budget(private_pg, sidecar):
    pg = private_pg
    pg.execute("CREATE EXTENSION walcast")
    big = unique("big")
    pg.execute(f"CREATE TABLE {big} (id int PRIMARY KEY, pad text)")
    pg.execute(f"INSERT INTO {big} SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g")
    pg.execute(f"ANALYZE {big}")
    s = sidecar(server=pg, snapshot__mode="initial", table__include__list=f"public\\.{big}")
    s.start()
    s.wait_records(lambda recs: len(recs) >= 100000, what="the 100000 snapshot rows")
    assert s.terminate() == 0

    # About 35 MB of rows folded; a 4 MB budget splits them into many buckets.
    rc, small_mb, out = peak_rss_verify(s, "verify.memory.bytes=4194304", "verify.threads=2")
    assert rc == 0 and "100000 keys" in out, out
    buckets = int(re.search(r"\((\d+) buckets", out).group(1))
    assert buckets >= 16, out
    rc, whole_mb, out = peak_rss_verify(s, "verify.buckets=1")
    assert rc == 0, out
    print(f"peak RSS: {small_mb} MB in {buckets} buckets, {whole_mb} MB in one")
    # The bound is generous (libraries, the source's read batches); one bucket needs more.
    assert small_mb < 40, (small_mb, whole_mb)
    assert whole_mb > small_mb + 20, (small_mb, whole_mb)

    # SIGTERM while the topic is spilled: verify stops and removes its spill files.
    from conftest import WALCAST_BIN
    spill = s.config.parent / "spill"
    spill.mkdir()
    proc = subprocess.Popen([str(WALCAST_BIN), "verify", "--config", str(s.config), "--set",
                             "verify.buckets=64", "--set", f"verify.spill.dir={spill}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any(spill.iterdir()) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "verify ended before its spill files appeared"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "stopped while verifying" in err, (proc.returncode, out, err)
    assert not any(spill.iterdir()), list(spill.iterdir())
