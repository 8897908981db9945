"""walcast's events equal those of Debezium 3.6.1's PostgreSQL connector on the same changes:
every type and mode, schemas off and on, snapshot and stream (debezium_conformance.py).

The Debezium jars come from Maven Central (test/debezium/debezium.sh fetch); when they
cannot be fetched the test fails, it is not skipped. Set WALCAST_CONFORMANCE_OUT=<dir> to
keep every output and the difference report there."""

import os
import pathlib
import shutil

import pytest

import debezium_conformance as dc
from pg_server import throwaway_server

RUN_NAMES = [r.name for r in dc.RUNS]


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    work = tmp_path_factory.mktemp("conformance")
    with throwaway_server() as server:
        try:
            result = dc.capture(server, work)
        except dc.CaptureError as e:
            pytest.fail(str(e), pytrace=False)
    keep = os.environ.get("WALCAST_CONFORMANCE_OUT")
    if keep:
        out = pathlib.Path(keep)
        out.mkdir(parents=True, exist_ok=True)
        for f in work.iterdir():
            shutil.copy(f, out / f.name)
    return result


@pytest.fixture(scope="module")
def deliberate():
    return dc.load_deliberate()


@pytest.fixture(scope="module")
def evaluated(captured, deliberate):
    result = dc.evaluate(captured, deliberate)
    keep = os.environ.get("WALCAST_CONFORMANCE_OUT")
    if keep:
        unexpected, allowed, failures = result
        pathlib.Path(keep, "diff-report.txt").write_text(dc.format_report(unexpected, failures))
        pathlib.Path(keep, "allowed-report.txt").write_text(dc.format_report(allowed, {}))
    return result


@pytest.mark.parametrize("schemas", ["off", "on"])
@pytest.mark.parametrize("run", RUN_NAMES)
def test_events_equal_debeziums(evaluated, run, schemas):
    unexpected, _, failures = evaluated
    key = (run, schemas)
    if key in failures or key in unexpected:
        report = dc.format_report({key: unexpected.get(key, [])},
                                  {key: failures[key]} if key in failures else {})
        pytest.fail(f"run {run} ({dict(dc.RUNS_BY_NAME[run].modes)}), schemas {schemas}: "
                    f"walcast differs from Debezium 3.6.1 (not on the allow-list "
                    f"{dc.DELIBERATE.relative_to(dc.ROOT)}):\n{report}", pytrace=False)


def test_debezium_produced_every_kind_of_event(captured):
    """The reference is not empty or partial: snapshot rows, every op, tombstones,
    transaction records and messages, schemas on and off."""
    for name, cap in captured.items():
        for schemas in ("off", "on"):
            lines = cap.lines[("debezium", schemas)]
            records = [dc.to_record(ln, i, schemas == "on") for i, ln in enumerate(lines)]
            ops = {r.op for r in records}
            assert {"r", "c", "u", "d", "t", "m", "tombstone"} <= ops, (name, schemas, ops)
            if cap.run.settings["provide.transaction.metadata"] == "true":
                assert {"BEGIN", "END"} <= ops, (name, schemas, ops)
            if schemas == "on":
                assert all(r.value_schema is not dc.MISSING for r in records
                           if r.value is not None), name


def test_every_allowed_difference_still_occurs(evaluated, deliberate):
    """An allow-list entry nothing matches any more is stale: remove it (and its line in
    docs/types.md)."""
    _, allowed, _ = evaluated
    used = set()
    for (run, schemas), diffs in allowed.items():
        for d in diffs:
            e = dc.deliberate_for(d, dc.RUNS_BY_NAME[run], schemas, deliberate)
            used.add(e["id"])
    stale = [e["id"] for e in deliberate if e["id"] not in used]
    assert not stale, f"allow-list entries that match no difference: {stale}"


def test_docs_list_the_deliberate_differences(deliberate):
    """docs/types.md's section is generated from the allow-list
    (python test/integration/debezium_conformance.py --docs rewrites it)."""
    text = dc.TYPES_DOC.read_text(encoding="utf-8")
    assert dc.docs_section(deliberate) in text, (
        "docs/types.md's 'Deliberate differences from Debezium' section differs from "
        "test/debezium/deliberate-differences.json; run "
        "python test/integration/debezium_conformance.py --docs")


# ---------------------------------------------------------------- the comparison itself

def _line(topic, key, value):
    import json
    return json.dumps({"topic": topic, "key": key, "value": value})


def _event(op, after, **source):
    return {"before": None, "after": after, "source": {"lsn": 10, "txId": 5, **source},
            "op": op, "ts_ms": 1}


def test_compare_sees_number_text_missing_fields_order_and_records():
    dbz = [_line("t", {"id": 1}, _event("c", {"id": 1, "f": 1.5, "g": "x"})),
           _line("t", {"id": 2}, _event("c", {"id": 2}))]
    wc = [_line("t", {"id": 1}, _event("c", {"id": 1, "g": "x", "h": None})),
          _line("t", {"id": 3}, _event("c", {"id": 3}))]
    got = {(d.kind, d.path) for d in dc.compare(dbz, wc, schemas=False)}
    assert got == {("missing-in-walcast", "value.after.f"), ("only-in-walcast", "value.after.h"),
                   ("record-missing-in-walcast", ""), ("record-only-in-walcast", "")}
    # 1.0 and 1 are different texts for a consumer
    diffs = dc.compare(['{"topic":"t","key":null,"value":{"op":"c","v":1.0}}'],
                       ['{"topic":"t","key":null,"value":{"op":"c","v":1}}'], False)
    assert [(d.kind, d.path, d.debezium, d.walcast) for d in diffs] == \
        [("value", "value.v", "1.0", "1")]
    # field order
    diffs = dc.compare(['{"topic":"t","key":null,"value":{"a":1,"b":2,"op":"c"}}'],
                       ['{"topic":"t","key":null,"value":{"b":2,"a":1,"op":"c"}}'], False)
    assert [d.kind for d in diffs] == ["field-order"]


def test_compare_excludes_only_what_must_differ():
    dbz = [_line("t", {"id": 1}, _event("r", {"id": 1}, snapshot="true", ts_ms=1))]
    wc = [_line("t", {"id": 1}, _event("r", {"id": 1}, snapshot="true", ts_ms=2))]
    # envelope time and the snapshot row's read time and position differ by nature
    wc[0] = wc[0].replace('"ts_ms": 1}', '"ts_ms": 99}').replace('"lsn": 10', '"lsn": 11')
    assert [d for d in dc.compare(dbz, wc, False) if d.kind != "snapshot-markers"] == []
    # ... but a snapshot row's txId that is null on one side is a difference
    wc2 = [wc[0].replace('"txId": 5', '"txId": null')]
    assert [d.path for d in dc.compare(dbz, wc2, False)
            if d.kind != "snapshot-markers"] == ["value.source.txId"]
    # in the stream, the source position must be equal
    s_dbz = [_line("t", {"id": 1}, _event("c", {"id": 1}))]
    s_wc = [s_dbz[0].replace('"lsn": 10', '"lsn": 11')]
    assert [d.path for d in dc.compare(s_dbz, s_wc, False)] == ["value.source.lsn"]


def test_compare_with_schemas_compares_the_schema():
    schema = {"type": "struct", "fields": [{"field": "id", "type": "int32"}], "optional": False}
    other = {"type": "struct", "fields": [{"field": "id", "type": "int64"}], "optional": False}
    import json
    d = json.dumps({"topic": "t", "key": {"schema": schema, "payload": {"id": 1}},
                    "value": None})
    w = json.dumps({"topic": "t", "key": {"schema": other, "payload": {"id": 1}},
                    "value": None})
    assert [(x.kind, x.path) for x in dc.compare([d], [w], True)] == \
        [("value", "keyschema.fields.id.type")]
    # a field one side lacks is named, the others still compare
    more = {"type": "struct",
            "fields": [{"field": "x", "type": "string"}, {"field": "id", "type": "int32"}],
            "optional": False}
    w = json.dumps({"topic": "t", "key": {"schema": more, "payload": {"id": 1}}, "value": None})
    assert [(x.kind, x.path) for x in dc.compare([d], [w], True)] == \
        [("only-in-walcast", "keyschema.fields.x")]
