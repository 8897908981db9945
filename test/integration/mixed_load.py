"""A write load for the fault tests in which every change can be named.

Three tables: `orders` (one-column key, default replica identity), `order_lines`
(two-column key, REPLICA IDENTITY FULL) and `bulk` (the large transactions). A
thread runs small transactions of inserts, updates, deletes and key changes (some
rolled back) and, when asked, large ones (tens of thousands of rows inserted,
updated or deleted at once).

Every row change sets `version` to a new number and keys are never reused, so each
change is one event identity: (table, key, op, version) for creates and updates,
(table, key, "d") and (table, key, "tomb") for a delete and its tombstone. The load
keeps the identities of the changes whose COMMIT succeeded, in commit order. A
commit cut off by a lost connection is in doubt; it is settled after reconnecting
with pg_xact_status(), so the list stays exact across server restarts.
"""

import queue
import random
import threading
import time
from typing import Dict, List, Optional, Tuple

from pg_server import PgServer

TABLES = {
    # name: (DDL, key columns)
    "orders": ("CREATE TABLE orders (id bigint PRIMARY KEY, version bigint NOT NULL, "
               "qty int NOT NULL, note text)", ("id",)),
    "order_lines": ("CREATE TABLE order_lines (order_id bigint, line int, "
                    "version bigint NOT NULL, sku text, PRIMARY KEY (order_id, line)); "
                    "ALTER TABLE order_lines REPLICA IDENTITY FULL", ("order_id", "line")),
    "bulk": ("CREATE TABLE bulk (id bigint PRIMARY KEY, version bigint NOT NULL, "
             "payload text NOT NULL)", ("id",)),
}

BIG_KINDS = ("insert", "update", "delete")

Key = Tuple[int, ...]
Event = Tuple  # (table, key, op, version-or-None)


def create_tables(pg: PgServer):
    for ddl, _ in TABLES.values():
        pg.execute(ddl)


def source_rows(pg: PgServer) -> Dict[str, Dict[Key, dict]]:
    """table -> key -> row as a dict, read from the source."""
    out = {}
    for table, (_, key_cols) in TABLES.items():
        rows = pg.execute(f"SELECT to_jsonb(t) FROM {table} t")
        out[table] = {tuple(r[c] for c in key_cols): r for (r,) in rows}
    return out


class _Transaction:
    """The changes of one transaction, applied to the model only once committed."""

    def __init__(self):
        self.events: List[Event] = []
        self.puts: List[Tuple[str, Key, int]] = []
        self.removes: List[Tuple[str, Key]] = []

    def create(self, table, key, version):
        self.events.append((table, key, "c", version))
        self.puts.append((table, key, version))

    def update(self, table, key, version):
        self.events.append((table, key, "u", version))
        self.puts.append((table, key, version))

    def delete(self, table, key):
        self.events += [(table, key, "d", None), (table, key, "tomb", None)]
        self.removes.append((table, key))


class MixedLoad:
    def __init__(self, pg: PgServer, seed: int = 1, pause: float = 0.01,
                 big_rows: int = 50000, rollback_ratio: float = 0.05):
        self.pg = pg
        self.rng = random.Random(seed)
        self.pause = pause
        self.big_rows = big_rows
        self.rollback_ratio = rollback_ratio
        self.committed: List[Event] = []  # identities of committed changes, commit order
        self.rows: Dict[str, Dict[Key, int]] = {t: {} for t in TABLES}  # key -> version
        self.transactions = 0
        self.big_transactions = 0
        self.rolled_back = 0
        self.connection_errors = 0
        self.in_doubt = {"committed": 0, "aborted": 0}
        self.unexpected: List[str] = []  # errors that are not a lost connection
        self._version = 0
        self._id = 0
        self._big_kind = 0
        self._big_requests: "queue.Queue[None]" = queue.Queue()
        self._pending: Optional[tuple] = None  # (xid, changes, big) of a commit in doubt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # ------------------------------------------------------------------ control

    def start(self):
        self._thread.start()
        return self

    def request_big(self):
        """Runs the next large transaction (insert, update or delete, in turn) soon."""
        self._big_requests.put(None)

    def stop(self, min_transactions: int = 50):
        self._stop.set()
        self._thread.join(timeout=300)
        assert not self._thread.is_alive(), "the load did not stop"
        assert not self.unexpected, f"the load failed: {self.unexpected[:3]}"
        assert self.transactions >= min_transactions, (
            f"the load barely ran ({self.transactions} transactions, "
            f"{self.connection_errors} connection errors)")

    def summary(self) -> str:
        return (f"{self.transactions} transactions ({self.big_transactions} large, "
                f"{self.rolled_back} rolled back, in doubt: {self.in_doubt}), "
                f"{len(self.committed)} committed changes")

    # ------------------------------------------------------------------ thread

    def _run(self):
        import psycopg
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = self.pg.connect(autocommit=False)
                if self._pending is not None:
                    self._settle(conn)
                if not self._big_requests.empty():
                    self._big_requests.get()
                    self._run_transaction(conn, self._big, big=True)
                else:
                    self._run_transaction(conn, self._small)
            except psycopg.OperationalError:
                self.connection_errors += 1
                conn = self._close(conn)
                time.sleep(0.2)
                continue
            except Exception as e:  # noqa: BLE001 - reported by stop()
                self.unexpected.append(repr(e))
                conn = self._close(conn)
                time.sleep(0.2)
                continue
            if self.pause:
                time.sleep(self.pause)
        self._close(conn)

    @staticmethod
    def _close(conn):
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
        return None

    def _run_transaction(self, conn, body, big=False):
        import psycopg
        xid = conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
        tx = _Transaction()
        try:
            body(conn, tx)
        except psycopg.OperationalError:
            raise  # died before COMMIT: rolled back
        if not big and self.rng.random() < self.rollback_ratio:
            conn.rollback()
            self.rolled_back += 1
            return
        try:
            conn.commit()
        except psycopg.OperationalError:
            self._pending = (xid, tx, big)  # the COMMIT may or may not have happened
            raise
        self._apply(tx, big)

    def _settle(self, conn):
        import psycopg
        xid, tx, big = self._pending
        try:
            status = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()[0]
        except psycopg.errors.InvalidParameterValue:
            # "transaction ID ... is in the future": a crash lost all of its WAL, so
            # it never committed (nothing else assigned that id yet: this is settled
            # before the load's next transaction).
            status = "aborted"
        conn.rollback()
        self._pending = None
        if status == "committed":
            self.in_doubt["committed"] += 1
            self._apply(tx, big)
        else:
            self.in_doubt["aborted"] += 1

    def _apply(self, tx: _Transaction, big: bool):
        self.committed += tx.events
        for table, key, version in tx.puts:
            self.rows[table][key] = version
        for table, key in tx.removes:
            del self.rows[table][key]
        self.transactions += 1
        self.big_transactions += big

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def _next_id(self) -> int:
        self._id += 1
        return self._id

    # ------------------------------------------------------------------ transactions

    def _small(self, conn, tx: _Transaction):
        rng = self.rng
        touched = set()  # one change per key and transaction keeps the model simple

        def pick(table):
            keys = [k for k in self.rows[table] if (table, k) not in touched]
            if not keys:
                return None
            key = rng.choice(keys)
            touched.add((table, key))
            return key

        for _ in range(rng.randint(1, 8)):
            roll = rng.random()
            if roll < 0.3 or len(self.rows["orders"]) < 20:
                id_, v = self._next_id(), self._next_version()
                conn.execute("INSERT INTO orders VALUES (%s, %s, %s, %s)",
                             (id_, v, rng.randint(1, 99), "n" * rng.randint(0, 300)))
                tx.create("orders", (id_,), v)
                touched.add(("orders", (id_,)))
                for line in range(rng.randint(0, 3)):
                    v = self._next_version()
                    conn.execute("INSERT INTO order_lines VALUES (%s, %s, %s, %s)",
                                 (id_, line, v, f"sku-{rng.randint(1, 999)}"))
                    tx.create("order_lines", (id_, line), v)
                    touched.add(("order_lines", (id_, line)))
            elif roll < 0.55 and (key := pick("orders")):
                v = self._next_version()
                conn.execute("UPDATE orders SET version = %s, qty = %s WHERE id = %s",
                             (v, rng.randint(1, 99), key[0]))
                tx.update("orders", key, v)
            elif roll < 0.7 and (key := pick("order_lines")):
                v = self._next_version()
                conn.execute("UPDATE order_lines SET version = %s, sku = %s "
                             "WHERE order_id = %s AND line = %s",
                             (v, f"sku-{rng.randint(1, 999)}", *key))
                tx.update("order_lines", key, v)
            elif roll < 0.8 and (key := pick("orders")):
                # Key change: delete of the old key (and its tombstone), create of the new.
                new, v = (self._next_id(),), self._next_version()
                conn.execute("UPDATE orders SET id = %s, version = %s WHERE id = %s",
                             (new[0], v, key[0]))
                tx.delete("orders", key)
                tx.create("orders", new, v)
                touched.add(("orders", new))
            elif roll < 0.85 and (key := pick("order_lines")):
                new, v = (key[0], 1000 + self._next_id()), self._next_version()
                conn.execute("UPDATE order_lines SET line = %s, version = %s "
                             "WHERE order_id = %s AND line = %s", (new[1], v, *key))
                tx.delete("order_lines", key)
                tx.create("order_lines", new, v)
                touched.add(("order_lines", new))
            elif roll < 0.95 and (key := pick("orders")):
                conn.execute("DELETE FROM orders WHERE id = %s", key)
                tx.delete("orders", key)
            elif key := pick("order_lines"):
                conn.execute("DELETE FROM order_lines WHERE order_id = %s AND line = %s", key)
                tx.delete("order_lines", key)

    def _big(self, conn, tx: _Transaction):
        kind = BIG_KINDS[self._big_kind % len(BIG_KINDS)]
        live = self.rows["bulk"]
        if kind != "insert" and not live:
            kind = "insert"
        self._big_kind += 1
        if kind == "insert":
            first = self._id + 1
            self._id += self.big_rows
            base = self._version + 1 - first  # version = base + id: new and increasing
            self._version += self.big_rows
            conn.execute("INSERT INTO bulk SELECT g, %s + g, repeat('b', 120) "
                         "FROM generate_series(%s::bigint, %s::bigint) g",
                         (base, first, first + self.big_rows - 1))
            for id_ in range(first, first + self.big_rows):
                tx.create("bulk", (id_,), base + id_)
        elif kind == "update":
            base = self._version + 1
            self._version += self._id + 1
            conn.execute("UPDATE bulk SET version = %s + id", (base,))
            for (id_,) in live:
                tx.update("bulk", (id_,), base + id_)
        else:
            conn.execute("DELETE FROM bulk WHERE id % 2 = 0")
            for (id_,) in live:
                if id_ % 2 == 0:
                    tx.delete("bulk", (id_,))
