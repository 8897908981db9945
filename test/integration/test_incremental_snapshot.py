"""Incremental snapshots (DBLog watermarks) while streaming, file sink: a table whose
rows predate the slot is snapshot again in primary-key chunks, on a signal from
walcast.execute_snapshot(), under a concurrent insert/update/delete/key-change load on
that same table. Once the load stops, the folded sink equals the source row by row."""

import json
import random
import re
import threading
import time

from conftest import unique, wait_until


def fold(records, topic):
    """key -> last `after` of the topic (deletes and tombstones remove)."""
    rows = {}
    for r in records:
        if r["topic"] != topic:
            continue
        key = tuple(r["key"].values())
        if r["value"] is None or r["value"]["op"] == "d":
            rows.pop(key, None)
        else:
            rows[key] = r["value"]["after"]
    return rows


class Load(threading.Thread):
    """Small transactions of inserts, updates, deletes and key changes on one table."""

    def __init__(self, pg, table, first_new_id):
        super().__init__(daemon=True)
        self.pg, self.table, self.next_id = pg, table, first_new_id
        self.stop = threading.Event()
        self.commits = 0
        self.error = None

    def run(self):
        rnd = random.Random(7)
        try:
            with self.pg.connect(autocommit=False) as conn:
                while not self.stop.is_set():
                    for _ in range(rnd.randint(1, 4)):
                        pick = rnd.randint(1, self.next_id)
                        kind = rnd.random()
                        if kind < 0.25:
                            self.next_id += 1
                            conn.execute(f"INSERT INTO {self.table} VALUES (%s, 0, 'new')",
                                         (self.next_id,))
                        elif kind < 0.7:
                            conn.execute(f"UPDATE {self.table} SET v = v + 1, note = md5(v::text)"
                                         f" WHERE id = %s", (pick,))
                        elif kind < 0.85:
                            conn.execute(f"DELETE FROM {self.table} WHERE id = %s", (pick,))
                        else:
                            self.next_id += 1
                            conn.execute(f"UPDATE {self.table} SET id = %s, v = v + 1 "
                                         f"WHERE id = %s", (self.next_id, pick))
                    conn.commit()
                    self.commits += 1
        except Exception as e:  # reported by the test
            self.error = e


def test_incremental_snapshot_under_load_folds_to_the_source(pg, sidecar):
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    table = unique("incr")
    rows = 5000
    pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, v bigint NOT NULL, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 0, 'row ' || g FROM generate_series(1, {rows}) g")
    # snapshot.mode=no_data: the rows above reach the sink only through the
    # incremental snapshot.
    s = sidecar(table__include__list=f"public\\.{table}",
                incremental__snapshot__chunk__size=200).start()
    topic = f"{s.slot}.public.{table}"

    load = Load(pg, table, rows)
    load.start()
    time.sleep(0.5)
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", f"public.{table}")
    done = re.compile(rf"incremental snapshot of public\.{table} done: (\d+) rows read")
    wait_until(lambda: done.search(s.all_logs()) or not s.alive(), 120,
               "the incremental snapshot to finish")
    s.assert_alive()
    load.stop.set()
    load.join(30)
    assert load.error is None, load.error
    assert load.commits > 50, "the load must run during the snapshot"

    # Everything committed is in the sink: a sentinel row comes last.
    pg.execute(f"INSERT INTO {table} VALUES (-1, -1, 'sentinel')")
    s.wait_records(lambda recs: any(r["topic"] == topic and r["key"] == {"id": -1}
                                    for r in recs), timeout=60, what="the sentinel row")
    records = s.records()
    reads = [r for r in records if r["topic"] == topic and r["value"]
             and r["value"]["op"] == "r"]
    assert reads, "no op r events"
    src = reads[0]["value"]["source"]
    assert (src["snapshot"], src["lsn"], src["txId"], src["xmin"]) == \
        ("incremental", None, None, None)
    # The low watermark's LSN orders the chunk's rows.
    assert int(json.loads(src["sequence"])[0]) > 0

    source = {(r["id"],): r for (r,) in pg.execute(f"SELECT to_jsonb(t) FROM {table} t")}
    folded = fold(records, topic)
    missing = [(k, source[k], folded.get(k)) for k in source if folded.get(k) != source[k]]
    extra = [k for k in folded if k not in source]
    assert not missing and not extra, (f"{len(missing)} rows missing or different, "
                                       f"{len(extra)} extra: {missing[:3]} {extra[:3]}")
    # Rows changed during their chunk's window were left to the stream.
    dropped = sum(int(n) for n in re.findall(r"chunk \S+ of \S+: \d+ rows read, (\d+) "
                                             r"changed in its window", s.all_logs()))
    assert dropped > 0, "the load never touched a chunk between its watermarks"
    assert s.terminate() == 0


def test_execute_snapshot_of_a_table_without_primary_key_is_refused(pg, sidecar):
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")
    table = unique("nokey")
    pg.execute(f"CREATE TABLE {table} (v int)")
    pg.execute(f"INSERT INTO {table} VALUES (1)")
    s = sidecar(log__level="info").start()
    pg.execute("SELECT walcast.execute_snapshot(ARRAY[%s])", table)
    wait_until(lambda: "has no primary key" in s.all_logs(), 30, "the refusal")
    s.assert_alive()
    assert not [r for r in s.records() if r["value"] and r["value"]["op"] == "r"]
    assert s.terminate() == 0
