"""A load on one table while it is snapshot incrementally, and the fold of a topic
(test_incremental_snapshot.py, test_kafka_*_snapshot.py, test_signalled_snapshots.py)."""

import random
import threading


def fold(records):
    """key -> last `after`, from (key dict, value dict or None) pairs in sink order
    (deletes and tombstones remove)."""
    rows = {}
    for key, value in records:
        key = tuple(key.values())
        if value is None or value["op"] == "d":
            rows.pop(key, None)
        else:
            rows[key] = value["after"]
    return rows


def assert_folds_to_source(pg, table, pairs):
    """The (key, value) pairs of the table's topic, in sink order, fold to its rows."""
    source = {(r["id"],): r for (r,) in pg.execute(f"SELECT to_jsonb(t) FROM {table} t")}
    folded = fold(pairs)
    wrong = [(k, source[k], folded.get(k)) for k in source if folded.get(k) != source[k]]
    extra = [k for k in folded if k not in source]
    assert not wrong and not extra, (f"{table}: {len(wrong)} rows missing or different, "
                                     f"{len(extra)} extra: {wrong[:3]} {extra[:3]}")


def stop_loads(loads):
    """Stops the loads; each must have run without an error."""
    for load in loads:
        load.stop.set()
    for load in loads:
        load.join(30)
        assert load.error is None, load.error


class Load(threading.Thread):
    """Small transactions of inserts, updates, deletes and key changes on one table whose
    keys 1..initial_rows exist at the start. Several loads may run at once: each makes
    new keys from its own range (`lane`) and retries nothing (a deadlock rolls back)."""

    def __init__(self, pg, table, initial_rows, lane=0):
        super().__init__(daemon=True)
        self.pg, self.table, self.initial = pg, table, initial_rows
        self.first_new = initial_rows + 1 + lane * 10_000_000
        self.next_id = self.first_new
        self.seed = 7 + lane
        self.stop = threading.Event()
        self.commits = 0
        self.error = None

    def pick(self, rnd):
        if rnd.random() < 0.8 or self.next_id == self.first_new:
            return rnd.randint(1, self.initial)
        return rnd.randint(self.first_new, self.next_id)

    def run(self):
        import psycopg
        rnd = random.Random(self.seed)
        try:
            with self.pg.connect(autocommit=False) as conn:
                while not self.stop.is_set():
                    try:
                        self.transaction(conn, rnd)
                        conn.commit()
                        self.commits += 1
                    except psycopg.errors.DeadlockDetected:
                        conn.rollback()
        except Exception as e:  # reported by the test
            self.error = e

    def transaction(self, conn, rnd):
        for _ in range(rnd.randint(1, 4)):
            pick = self.pick(rnd)
            kind = rnd.random()
            if kind < 0.25:
                self.next_id += 1
                conn.execute(f"INSERT INTO {self.table} VALUES (%s, 0, 'new')", (self.next_id,))
            elif kind < 0.7:
                conn.execute(f"UPDATE {self.table} SET v = v + 1, note = md5(v::text)"
                             f" WHERE id = %s", (pick,))
            elif kind < 0.85:
                conn.execute(f"DELETE FROM {self.table} WHERE id = %s", (pick,))
            else:
                self.next_id += 1
                conn.execute(f"UPDATE {self.table} SET id = %s, v = v + 1 WHERE id = %s",
                             (self.next_id, pick))


def create_load_table(pg, table, rows):
    """A table the Load threads work on: ids 1..rows, v 0."""
    pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, v bigint NOT NULL, note text)")
    pg.execute(f"INSERT INTO {table} SELECT g, 0, 'row ' || g FROM generate_series(1, {rows}) g")


def start_streaming(walcast, pg, wait_for):
    """Starts walcast (kafka_fixture.Walcast) and waits until its slot is active."""
    walcast.start()
    wait_for(lambda: (pg.slot(walcast.slot) or {}).get("active") or not walcast.alive(), 30,
             "walcast to stream")
    walcast.assert_alive()
    return walcast

