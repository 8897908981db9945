"""Moving from Debezium's pgoutput slot to walcast without a gap
(docs/migrating-from-debezium.md): pg_copy_logical_replication_slot(src, dst, false,
'walcast') creates walcast's slot at exactly the position Debezium confirmed, so walcast
(snapshot.mode=no_data) streams every change Debezium had not confirmed and none it had.
A slot created afresh instead starts at the current WAL position and misses the changes
written while neither ran: that is the gap the copy closes."""

import json

from conftest import unique


def pgoutput_consume(pg, db, slot, publication):
    """What Debezium does while it runs: decode the slot and confirm what it read."""
    return pg.execute("SELECT count(*) FROM pg_logical_slot_get_binary_changes(%s, NULL, NULL, "
                      "'proto_version', '1', 'publication_names', %s)", slot, publication,
                      dbname=db)[0][0]


def walcast_peek_ids(pg, db, slot):
    """The ids of the creates a walcast slot would send, without consuming them."""
    rows = pg.execute("SELECT data FROM pg_logical_slot_peek_changes(%s, NULL, NULL)", slot,
                      dbname=db)
    return sorted(json.loads(data)["after"]["id"] for (data,) in rows
                  if json.loads(data)["op"] == "c")


def test_copied_pgoutput_slot_streams_from_debeziums_position(pg, sidecar):
    db = unique("dbz")
    pg.execute(f"CREATE DATABASE {db}")
    try:
        pg.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)", dbname=db)
        pg.execute("CREATE PUBLICATION dbz_publication FOR ALL TABLES", dbname=db)
        debezium_slot = unique("debezium")
        pg.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", debezium_slot,
                   dbname=db)

        def insert(ids):
            pg.execute("INSERT INTO orders SELECT g, 'n' || g FROM generate_series(%s::int, %s::int) g",
                       ids[0], ids[-1], dbname=db)

        insert([1, 2, 3])  # Debezium streams and confirms these ...
        assert pgoutput_consume(pg, db, debezium_slot, "dbz_publication") > 0
        insert([4, 5, 6])  # ... then it is stopped: written while nobody reads

        # The procedure: read the position, copy the slot with walcast's plugin.
        (confirmed,) = pg.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                                  "WHERE slot_name = %s", debezium_slot)[0]
        walcast_slot = unique("walcast")
        pg.execute("SELECT pg_copy_logical_replication_slot(%s, %s, false, 'walcast')",
                   debezium_slot, walcast_slot, dbname=db)
        copied = pg.execute("SELECT plugin, confirmed_flush_lsn::text, database "
                            "FROM pg_replication_slots WHERE slot_name = %s", walcast_slot)[0]
        assert copied == ("walcast", confirmed, db), copied

        # For contrast: a slot created now starts at the current position.
        fresh_slot = unique("fresh")
        pg.execute("SELECT pg_create_logical_replication_slot(%s, 'walcast')", fresh_slot,
                   dbname=db)
        insert([7, 8, 9])  # written after the switch, before walcast starts
        assert walcast_peek_ids(pg, db, fresh_slot) == [7, 8, 9], "a fresh slot has the gap"
        pg.execute("SELECT pg_drop_replication_slot(%s)", fresh_slot)

        s = sidecar(slot=walcast_slot, **{"database.dbname": db, "snapshot.mode": "no_data",
                                          "topic.prefix": "dbz"}).start()
        topic = "dbz.public.orders"
        s.wait_records(lambda rs: sum(r["topic"] == topic for r in rs) >= 6, 60,
                       "the changes since Debezium's position")
        insert([10])
        target = pg.current_lsn()
        pg.wait_confirmed(walcast_slot, target, 60)
        s.terminate()
        ids = [r["value"]["after"]["id"] for r in s.records()
               if r["topic"] == topic and r["value"] and r["value"]["op"] == "c"]
        assert ids == [4, 5, 6, 7, 8, 9, 10], ids

        pg.execute("SELECT pg_drop_replication_slot(%s)", debezium_slot)
    finally:
        for (slot,) in pg.execute("SELECT slot_name FROM pg_replication_slots "
                                  "WHERE database = %s", db):
            pg.execute("SELECT pg_drop_replication_slot(%s)", slot)
        pg.execute(f"DROP DATABASE {db}")
