"""While an incremental snapshot reads a table, the stream of another table keeps flowing,
and no walcast backend holds an xmin for longer than one chunk's read (file sink).

The table is large enough, and the chunks small enough, for the snapshot to take a few
seconds; a steady writer commits to another table throughout, and a sampler reads
pg_stat_activity and pg_replication_slots every few milliseconds."""

import time

import pytest

from conftest import throwaway_server
from stream_probe import SinkTail, SteadyWriter, XminSampler, percentile

ROWS = 300_000
CHUNK = 200


@pytest.fixture(scope="module")
def stream_pg():
    with throwaway_server() as server:
        server.execute("CREATE EXTENSION walcast")
        server.execute("CREATE TABLE big (id bigint PRIMARY KEY, a int, b text)")
        server.execute(f"INSERT INTO big SELECT g, g % 1000, md5(g::text) "
                       f"FROM generate_series(1, {ROWS}) g")
        server.execute("CREATE TABLE other (id bigserial PRIMARY KEY, v int)")
        server.execute("VACUUM ANALYZE big")
        yield server


def one_transaction_read_seconds(pg) -> float:
    """How long reading the whole table in one statement takes (walcast's encoder, key
    order): how long a sidecar that read it in one transaction would pin its xmin."""
    start = time.time()
    pg.execute("SELECT sum(length(r)) FROM walcast.snapshot_key_range('big', NULL, NULL, 0, "
               "ARRAY['snapshot.compact', 'true']) r")
    return time.time() - start


def test_stream_flows_and_xmin_advances_during_an_incremental_snapshot(stream_pg, sidecar):
    pg = stream_pg
    full_read = one_transaction_read_seconds(pg)
    s = sidecar(server=pg, table__include__list="public\\.(big|other)",
                incremental__snapshot__chunk__size=CHUNK, log__level="info").start()
    prefix = s.slot
    tail = SinkTail(s.out, f"{prefix}.public.big", f"{prefix}.public.other")
    writer = SteadyWriter(pg, "other", changes_per_s=1000, tx_per_s=100)
    sampler = XminSampler(pg, s.slot)
    for thread in (tail, writer, sampler):
        thread.start()
    try:
        time.sleep(0.5)
        called = time.time()
        pg.execute("SELECT walcast.execute_snapshot(ARRAY['public.big'])")
        done = tail.wait_reads(ROWS, 120, s.alive)
        time.sleep(0.3)
    finally:
        sampler.stop()
        writer.stop()
        tail.stop()
    s.assert_alive()
    first = tail.first_read_at
    seconds = done - called
    assert tail.reads == ROWS

    # (i) Streamed changes arrive while the snapshot runs, not after it.
    committed = writer.rows_committed_between(first, done)
    arrived = tail.arrived_between(first, done)
    latencies = tail.latencies_ms(called, done)
    print(f"\nincremental snapshot of {ROWS:,} rows in chunks of {CHUNK}: {seconds:.2f} s "
          f"({ROWS / seconds:,.0f} rows/s); streamed meanwhile: {committed} rows committed, "
          f"{arrived} arrived; commit-to-delivery p50 {percentile(latencies, 0.5):.0f} ms, "
          f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms")
    problems = []
    if committed == 0 or arrived < committed // 2:
        problems.append(f"of the {committed} rows of 'other' committed while the snapshot's "
                        f"rows arrived, only {arrived} reached the sink before the last of "
                        f"them")

    # (ii) The oldest xmin any walcast backend holds keeps advancing: each one is
    # released in less than half the time reading the whole table in one transaction
    # takes (a chunk's read is 1/1500 of it), so reading the table in one transaction,
    # or in one chunk, fails here. The same in the concurrent writer's transactions:
    # those that committed with an xid at or after an xmin walcast still held.
    pins = sampler.pins(called, done)
    longest_xmin, (since, until) = max(pins.items(), key=lambda p: p[1][1] - p[1][0])
    longest = until - since
    lag = sampler.lag_in_commits(writer.commits, called, done)
    lag_bound = writer.tx_per_s * full_read / 2
    print(f"walcast backends held {len(pins)} distinct oldest xmins; the longest held for "
          f"{longest * 1000:.0f} ms; at most {lag} of the writer's transactions committed "
          f"behind a held xmin; one transaction reading the table takes "
          f"{full_read * 1000:.0f} ms")
    if len(pins) < 10:
        problems.append(f"walcast backends held only {len(pins)} xmins: {pins}")
    if longest >= full_read / 2:
        problems.append(f"xmin {longest_xmin} held for {longest:.2f} s; reading the table "
                        f"in one transaction takes {full_read:.2f} s")
    if lag > lag_bound:
        problems.append(f"{lag} of the writer's transactions committed behind an xmin "
                        f"walcast held; it commits {2 * lag_bound:.0f} while the table "
                        f"is read in one transaction")
    slots = sampler.slot_xmins(called, done)
    if not slots or any(xmin is not None for xmin, _ in slots):
        problems.append(f"the slot holds a data xmin: {set(slots)}")
    assert not problems, "\n".join(problems)
    assert s.terminate() == 0
