"""KafkaSink against a real broker, driven by its GoogleTest case.

KafkaSinkBroker.DeliversKeyedTombstoneAndNullKey produces keyed messages, a
tombstone and a null-key message into a 6-partition topic; here we read the
topic back and check keys, values, the tombstone, and that every key landed in
the partition the Java client would choose (Utils.toPositive(Utils.murmur2(key))
% 6, the same Java-produced vectors as sidecar/tests/murmur2_test.cpp).
"""

import os
import pathlib
import subprocess

import pytest

from kafka_fixture import ROOT, kafka_broker, unique_name  # noqa: F401 (fixture)

TESTS_BIN = pathlib.Path(os.environ.get("WALCAST_TESTS_BIN",
                                        ROOT / "sidecar" / "build" / "walcast_tests"))

# key -> toPositive(murmur2(key)) % 6, computed by kafka-clients 3.7.0 (Java).
JAVA_PARTITION_OF_6 = {
    '{"id":1}': 0,
    '{"id":2}': 4,
    '{"id":42}': 1,
    '{"id":1000000}': 5,
    '{"tenant":"acme","id":7}': 0,
}


def test_sink_roundtrip_keys_partitions_tombstone(kafka_broker):
    if not TESTS_BIN.exists():
        pytest.fail(f"{TESTS_BIN} not built (make)", pytrace=False)
    topic = unique_name("walcast.sinktest")
    kafka_broker.create_topic(topic, 6)

    env = dict(os.environ, WALCAST_TEST_KAFKA_BOOTSTRAP=kafka_broker.bootstrap,
               WALCAST_TEST_KAFKA_TOPIC=topic)
    proc = subprocess.run([str(TESTS_BIN), "--gtest_filter=KafkaSinkBroker.*"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[  PASSED  ] 1 test" in proc.stdout, proc.stdout[-3000:]

    records = kafka_broker.read([topic], min_count=7, timeout=60, idle=1)
    assert len(records) == 7, records

    keyed = [r for r in records if r.key is not None and r.raw_value is not None]
    assert {r.key for r in keyed} == set(JAVA_PARTITION_OF_6)
    for r in keyed:
        assert r.partition == JAVA_PARTITION_OF_6[r.key], r
        assert r.value == {"after": {"k": r.key_json}}

    tombstones = [r for r in records if r.raw_value is None]
    assert len(tombstones) == 1
    assert tombstones[0].key == '{"id":1}'
    # The tombstone follows its record in the same partition (log compaction needs it).
    first = next(r for r in keyed if r.key == '{"id":1}')
    assert tombstones[0].partition == first.partition
    assert tombstones[0].offset > first.offset

    null_key = [r for r in records if r.key is None]
    assert len(null_key) == 1 and null_key[0].value == {"op": "t"}
