"""A load on one table while it is snapshot incrementally, and the fold of a topic
(test_incremental_snapshot.py, test_kafka_incremental_snapshot.py)."""

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
