"""`walcast verify --repair` against a real broker and a running sidecar: a topic damaged
by another producer (a wrong value for one key, a tombstone that removes another) is
repaired by an incremental snapshot of the table, and the report says what was done. An
extra key (which re-sent rows cannot remove) is reported with how to remove it."""

import json
import subprocess

from confluent_kafka import Producer

from kafka_fixture import (WALCAST_BIN, Walcast, kafka_broker, kafka_pg,  # noqa: F401
                           unique_name, wait_for)


def run_verify(walcast, *args):
    return subprocess.run([str(WALCAST_BIN), "verify", "--config", str(walcast.config), *args],
                          capture_output=True, text=True, timeout=300)


def test_repair_fixes_a_damaged_topic(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    pg.execute("CREATE EXTENSION walcast")
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
    pg.execute("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 200) g")
    walcast = Walcast(tmp_path, pg, broker, unique_name("repair"), "public\\.items",
                      {"snapshot.mode": "initial"}).start()
    topic = f"{walcast.prefix}.public.items"
    records = []
    wait_for(lambda: len(records.extend(broker.read([topic], timeout=5, idle=1)) or records)
             >= 200, 120, "the snapshot's 200 records")
    partition_of = {r.key_json["id"]: r.partition for r in records}

    # Another producer: a wrong value for id 5, a tombstone for id 6.
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    wrong = {"before": None, "after": {"id": 5, "v": "bogus"}, "op": "u"}
    producer.produce(topic, key=b'{"id":5}', value=json.dumps(wrong).encode(),
                     partition=partition_of[5])
    producer.produce(topic, key=b'{"id":6}', value=None, partition=partition_of[6])
    assert producer.flush(30) == 0

    damaged = run_verify(walcast)
    assert damaged.returncode == 1, damaged.stdout + damaged.stderr
    assert "1 missing, 0 extra, 1 different" in damaged.stdout, damaged.stdout
    assert "walcast verify --repair" in damaged.stdout, damaged.stdout

    repaired = run_verify(walcast, "--repair", "--repair-timeout", "120")
    out = repaired.stdout
    assert repaired.returncode == 0, out + repaired.stderr
    assert "1 missing, 0 extra, 1 different" in out, out
    assert "repair: requested an incremental snapshot of public.items" in out, out
    assert "repair: public.items matches its topic now" in out, out
    assert out.rstrip().endswith("verify: every table matches its topic"), out
    walcast.assert_alive()

    again = run_verify(walcast)
    assert again.returncode == 0, again.stdout + again.stderr

    # A key the table never had: re-sent rows cannot remove it; the report says how.
    bogus = {"before": None, "after": {"id": 9999, "v": "bogus"}, "op": "c"}
    producer.produce(topic, key=b'{"id":9999}', value=json.dumps(bogus).encode(),
                     partition=partition_of[1])
    assert producer.flush(30) == 0
    extra = run_verify(walcast, "--repair", "--repair-timeout", "30")
    assert extra.returncode == 1, extra.stdout + extra.stderr
    assert "0 missing, 1 extra, 0 different" in extra.stdout, extra.stdout
    assert "a tombstone (the key, a null value) per extra key" in extra.stdout, extra.stdout
    assert "repair: nothing an incremental snapshot can repair" in extra.stdout, extra.stdout
    assert walcast.terminate() == 0
