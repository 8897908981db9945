"""Mixed insert/update/delete load through walcast into a real Kafka broker:
every committed change arrives, in commit order per key, with the right keys,
tombstones and topics; rolled-back changes never arrive; every key lands in the
partition the Java client would pick."""

import json
import random
from collections import defaultdict

from kafka_fixture import (Walcast, free_port, java_partition, kafka_broker,  # noqa: F401
                           kafka_pg, metric_sum, scrape_metrics, unique_name, wait_for)

PARTITIONS = 3


def key_of(id_):
    return json.dumps({"id": id_}, separators=(",", ":"))


def test_mixed_load_every_change_in_order(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    prefix = unique_name("mixed")
    items_topic, other_topic = f"{prefix}.public.items", f"{prefix}.public.other"
    broker.create_topic(items_topic, PARTITIONS)  # several partitions: order is per key
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, v bigint NOT NULL, note text)")
    pg.execute("CREATE TABLE other (id int PRIMARY KEY, v bigint NOT NULL)")
    pg.execute("CREATE TABLE ignored (id int PRIMARY KEY)")  # not in table.include.list

    metrics_address = f"127.0.0.1:{free_port()}"
    walcast = Walcast(tmp_path, pg, broker, prefix, "public.items,public.other",
                      {"metrics.address": metrics_address}).start()
    pg.wait_slot(walcast.slot, active=True)

    # expected[topic][key] = [(op, v)] in commit order; tombstones as ("tomb", None)
    expected = defaultdict(lambda: defaultdict(list))
    rows = {}  # current committed state of items: id -> v
    other_rows = set()
    rng = random.Random(1234)
    version = 0
    rolled_back = 0
    with pg.connect(autocommit=False) as conn:
        for tx in range(1500):
            staged = dict(rows)
            other_staged = set(other_rows)
            events = []
            for _ in range(rng.randint(1, 6)):
                version += 1
                id_ = rng.randint(1, 120)
                roll = rng.random()
                if id_ not in staged:
                    conn.execute("INSERT INTO items VALUES (%s, %s, %s)",
                                 (id_, version, "x" * rng.randint(0, 200)))
                    staged[id_] = version
                    events.append((items_topic, key_of(id_), ("c", version)))
                elif roll < 0.55:
                    conn.execute("UPDATE items SET v = %s WHERE id = %s", (version, id_))
                    staged[id_] = version
                    events.append((items_topic, key_of(id_), ("u", version)))
                elif roll < 0.65 and (id_ + 1000) not in staged and id_ < 1000:
                    # Key change: delete of the old key, tombstone, create of the new key.
                    new = id_ + 1000
                    conn.execute("UPDATE items SET id = %s, v = %s WHERE id = %s",
                                 (new, version, id_))
                    del staged[id_]
                    staged[new] = version
                    events += [(items_topic, key_of(id_), ("d", None)),
                               (items_topic, key_of(id_), ("tomb", None)),
                               (items_topic, key_of(new), ("c", version))]
                else:
                    conn.execute("DELETE FROM items WHERE id = %s", (id_,))
                    del staged[id_]
                    events += [(items_topic, key_of(id_), ("d", None)),
                               (items_topic, key_of(id_), ("tomb", None))]
                if rng.random() < 0.1:
                    oid = rng.randint(1, 40)
                    conn.execute("INSERT INTO other VALUES (%s, %s) ON CONFLICT (id) DO UPDATE "
                                 "SET v = EXCLUDED.v", (oid, version))
                    op = "u" if oid in other_staged else "c"
                    other_staged.add(oid)
                    events.append((other_topic, key_of(oid), (op, version)))
                if rng.random() < 0.05:
                    conn.execute("INSERT INTO ignored VALUES (%s) ON CONFLICT DO NOTHING", (tx,))
            if rng.random() < 0.08:
                conn.rollback()
                rolled_back += 1
                continue
            conn.commit()
            rows, other_rows = staged, other_staged
            for topic, key, ev in events:
                expected[topic][key].append(ev)

    total = sum(len(evs) for t in expected.values() for evs in t.values())
    print(f"\n{total} expected records, {rolled_back} transactions rolled back")

    records = []

    def arrived():
        records[:] = broker.read([items_topic, other_topic], min_count=total, timeout=30,
                                 idle=2)
        return len(records) >= total

    wait_for(arrived, 180, f"{total} records in Kafka")
    walcast.assert_alive()

    got = defaultdict(lambda: defaultdict(list))
    for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        assert r.key is not None, f"null key on a table with a primary key: {r}"
        if r.topic == items_topic:
            assert r.partition == java_partition(r.key, PARTITIONS), r
        if r.raw_value is None:
            got[r.topic][r.key].append(("tomb", None))
            continue
        v = r.value
        src = v["source"]
        assert src["connector"] == "postgresql" and src["name"] == prefix
        assert f"{prefix}.{src['schema']}.{src['table']}" == r.topic
        assert v["op"] in ("c", "u", "d"), v
        if v["op"] == "d":
            assert v["after"] is None and v["before"]["id"] == json.loads(r.key)["id"], v
            got[r.topic][r.key].append(("d", None))
        else:
            assert v["after"]["id"] == json.loads(r.key)["id"], v
            got[r.topic][r.key].append((v["op"], v["after"]["v"]))

    assert set(broker.topics(prefix)) <= {items_topic, other_topic}, broker.topics(prefix)
    assert set(got) == set(expected)
    mismatched = [(t, k) for t in expected for k in set(expected[t]) | set(got[t])
                  if expected[t][k] != got[t][k]]
    for t, k in mismatched[:5]:
        print(f"{t} {k}:\n  expected {expected[t][k]}\n  got      {got[t][k]}")
    assert not mismatched, f"{len(mismatched)} keys with a wrong event sequence"
    assert len(records) == total, "duplicates in a run without faults"

    # /metrics reflects the run (events are counted when delivered).
    events = total - sum(1 for r in records if r.raw_value is None)
    m = {}

    def counted():
        m.update(scrape_metrics(metrics_address))
        return metric_sum(m, "walcast_events_total") >= events

    wait_for(counted, 30, f"walcast_events_total >= {events}")
    print("metrics:", {k: v for k, v in m.items() if "bucket" not in k})
    assert m['walcast_events_total{op="c",table="public.items"}'] > 0, m  # labels in name order
    assert metric_sum(m, "walcast_bytes_total") > 0
    assert m["walcast_delivery_latency_seconds_count"] > 0
    assert m["walcast_ack_lsn"] > 0

    assert walcast.terminate() == 0, walcast.log_tail()
