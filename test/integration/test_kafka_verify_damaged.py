"""`walcast verify` against Kafka when a topic holds a record that is not JSON (written by
another producer, or damaged): the record is reported with its partition and offset, and
the table is still compared."""

import subprocess

from confluent_kafka import Producer

from kafka_fixture import (WALCAST_BIN, Walcast, kafka_broker, kafka_pg,  # noqa: F401
                           unique_name, wait_for)


def test_verify_reports_a_record_that_is_not_json(kafka_broker, kafka_pg, tmp_path):
    pg, broker = kafka_pg, kafka_broker
    pg.execute("CREATE EXTENSION walcast")
    pg.execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
    pg.execute("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20) g")
    prefix = unique_name("damaged")
    walcast = Walcast(tmp_path, pg, broker, prefix, "public\\.items",
                      {"snapshot.mode": "initial"}).start()
    topic = f"{prefix}.public.items"
    wait_for(lambda: len(broker.read([topic], timeout=5, idle=1)) >= 20, 120,
             "the snapshot's 20 records")
    assert walcast.terminate() == 0

    producer = Producer({"bootstrap.servers": broker.bootstrap})
    producer.produce(topic, key=b'{"id":5}', value=b'{"op":"c","after":{"id":5,', partition=0)
    assert producer.flush(30) == 0

    result = subprocess.run([str(WALCAST_BIN), "verify", "--config", str(walcast.config)],
                            capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "20 rows" in out and ": OK" in out, out + result.stderr
    assert f"topic {topic} partition 0 offset" in out, out
    assert "value is not valid JSON" in out and '{"op":"c","after":{"id":5,' in out, out
    assert "1 damaged record(s)" in out, out
