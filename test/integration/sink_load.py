"""The `items` table of docs/sinks/*.md and a mixed load on it, for the sink recipe tests.

Values cover what the recipes must decode: negative and large decimals, dates and
timestamps before 1970, millisecond and microsecond timestamps, timestamptz, time, NULLs,
text with quotes and non-ASCII characters. The load inserts, updates, deletes and changes
keys (some in the same transaction, some rolled back); `rows()` reads the source back as
canonical strings, which each test compares with what its sink made of the events.
"""

import datetime as dt
import json
import random
from decimal import Decimal

ITEMS_DDL = """CREATE TABLE items (
    id      integer PRIMARY KEY,
    sku     text NOT NULL,
    price   numeric(12, 2),
    weight  numeric(30, 8),
    born    date,
    seen    timestamp(6),
    seen_ms timestamp(3),
    paid_at timestamptz,
    opens   time,
    note    text
)"""

COLUMNS = ("id", "sku", "price", "weight", "born", "seen", "seen_ms", "paid_at", "opens_us",
           "note")

EPOCH = dt.datetime(1970, 1, 1)


def _value_row(rng: random.Random, id_: int):
    def maybe(v):
        return None if rng.random() < 0.1 else v

    price = Decimal(rng.randint(-10**10 + 1, 10**10 - 1)).scaleb(-2)
    weight = Decimal(rng.randint(-10**22 + 1, 10**22 - 1)).scaleb(-8)
    born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 300 * 365))
    seen = EPOCH + dt.timedelta(microseconds=rng.randint(-60 * 365 * 86400 * 10**6,
                                                         120 * 365 * 86400 * 10**6))
    seen_ms = EPOCH + dt.timedelta(milliseconds=rng.randint(-60 * 365 * 86400 * 10**3,
                                                            120 * 365 * 86400 * 10**3))
    paid_at = (EPOCH + dt.timedelta(microseconds=rng.randint(0, 80 * 365 * 86400 * 10**6))
               ).replace(tzinfo=dt.timezone.utc)
    opens = (dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=rng.randint(0, 86400 * 10**6 - 1))
             ).time()
    note = rng.choice(["plain", "quote \" and \\ backslash", "ünïcødé ✓", "", "line\nbreak"])
    return (id_, f"sku-{rng.randint(0, 10**6)}", maybe(price), maybe(weight), maybe(born),
            maybe(seen), maybe(seen_ms), maybe(paid_at), maybe(opens), maybe(note))


INSERT = ("INSERT INTO items (id, sku, price, weight, born, seen, seen_ms, paid_at, opens, note) "
          "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
UPDATE = ("UPDATE items SET sku = %s, price = %s, weight = %s, born = %s, seen = %s, "
          "seen_ms = %s, paid_at = %s, opens = %s, note = %s WHERE id = %s")


def create_items(pg, replica_identity_full=False):
    pg.execute("CREATE EXTENSION IF NOT EXISTS walcast")  # the initial snapshot reads through it
    pg.execute(ITEMS_DDL)
    if replica_identity_full:
        pg.execute("ALTER TABLE items REPLICA IDENTITY FULL")


def seed(pg, count=40, seed_=7):
    """Rows present before walcast starts (the initial snapshot's rows)."""
    rng = random.Random(seed_)
    with pg.connect() as conn:
        for id_ in range(1, count + 1):
            conn.execute(INSERT, _value_row(rng, id_))


def mixed_load(pg, transactions=200, seed_=11, max_id=80) -> dict:
    """Inserts, updates, deletes and key changes; returns the count of each committed."""
    rng = random.Random(seed_)
    counts = {"insert": 0, "update": 0, "delete": 0, "key change": 0, "rolled back": 0}
    with pg.connect(autocommit=False) as conn:
        present = {r[0] for r in conn.execute("SELECT id FROM items")}
        for _ in range(transactions):
            staged, done = set(present), {k: 0 for k in counts}
            for _ in range(rng.randint(1, 5)):
                id_ = rng.randint(1, max_id)
                roll = rng.random()
                if id_ not in staged:
                    conn.execute(INSERT, _value_row(rng, id_))
                    staged.add(id_)
                    done["insert"] += 1
                elif roll < 0.6:
                    row = _value_row(rng, id_)
                    conn.execute(UPDATE, row[1:] + (id_,))
                    done["update"] += 1
                elif roll < 0.75:
                    new = rng.randint(max_id + 1, 2 * max_id)
                    if new in staged:
                        continue
                    conn.execute("UPDATE items SET id = %s, note = %s WHERE id = %s",
                                 (new, f"moved from {id_}", id_))
                    staged.discard(id_)
                    staged.add(new)
                    done["key change"] += 1
                else:
                    conn.execute("DELETE FROM items WHERE id = %s", (id_,))
                    staged.discard(id_)
                    done["delete"] += 1
            if rng.random() < 0.05:
                conn.rollback()
                counts["rolled back"] += 1
                continue
            conn.commit()
            present = staged
            for k, v in done.items():
                counts[k] += v
    return counts


def rows(pg) -> dict:
    """id -> tuple of canonical strings (None for NULL), in COLUMNS order."""
    out = {}
    for r in pg.execute(
            "SELECT id, sku, price::text, weight::text, born::text, "
            "to_char(seen, 'YYYY-MM-DD HH24:MI:SS.US'), "
            "to_char(seen_ms, 'YYYY-MM-DD HH24:MI:SS.MS'), "
            "to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), "
            "(extract(epoch FROM opens) * 1000000)::bigint::text, note FROM items"):
        out[r[0]] = canonical(r)
    return out


def canonical(values) -> tuple:
    """Decimals compared by value, everything else as text."""
    id_, sku, price, weight, *rest = values
    dec = (lambda v: None if v is None else Decimal(v).normalize())
    return (int(id_), sku, dec(price), dec(weight),
            *[None if v is None else str(v) for v in rest])


SENTINEL = 10**6


def insert_sentinel(pg):
    """A last row: once its event is delivered, every change before it is."""
    pg.execute("INSERT INTO items (id, sku) VALUES (%s, 'sentinel')", SENTINEL)


def read_through_sentinel(pg, broker, walcast, topic):
    """Every record of `topic` up to the sentinel's. The sentinel can be visible in its
    partition before earlier records are in others: wait until walcast has confirmed the
    sentinel's commit to the slot (it confirms only what Kafka acknowledged), then read."""
    def sentinel_commit(records):
        for r in records:
            v = r.value
            if v and v["after"] and v["after"]["id"] == SENTINEL:
                return int(json.loads(v["source"]["sequence"])[0])
        return None

    records = broker.read([topic], timeout=90, idle=0.5,
                          done=lambda rs: sentinel_commit(rs) is not None)
    commit = sentinel_commit(records)
    assert commit is not None, f"the sentinel's event never arrived ({len(records)} records)"
    pg.wait_confirmed(walcast.slot, commit, timeout=60)
    return broker.read([topic], timeout=60, idle=0.5,
                       done=lambda rs: sentinel_commit(rs) is not None)


def load_and_read(pg, broker, walcast, topic):
    """The mixed load, then every record of `topic` through the sentinel's: (the load's
    counts, the source's rows, the records)."""
    counts = mixed_load(pg)
    insert_sentinel(pg)
    expected = rows(pg)
    records = read_through_sentinel(pg, broker, walcast, topic)
    walcast.assert_alive()
    return counts, expected, records
