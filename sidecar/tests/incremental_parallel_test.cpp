// Several incremental-snapshot chunks in flight: the planner's disjoint key ranges, the
// windows matched to streamed keys, the confirmed prefix recorded for a restart, and the
// progress line.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "incremental/chunk_planner.h"
#include "incremental/finished_prefix.h"
#include "incremental/incremental_progress.h"
#include "incremental/snapshot_xids.h"
#include "incremental/window_set.h"
#include "common/frame_error.h"

namespace walcast {
namespace {

// A table of integer keys, as the planner's boundary query and the reads see it.
struct FakeTable {
    std::set<int> keys;
    std::size_t chunk = 0;
    static int value(const KeyValues &k) { return std::stoi(k.at(0)); }
    std::optional<KeyValues> boundary(const KeyValues &after) const {
        auto it = after.empty() ? keys.begin() : keys.upper_bound(value(after));
        for (std::size_t i = 1; i < chunk && it != keys.end(); i++) ++it;
        if (it == keys.end()) return std::nullopt;
        return KeyValues{std::to_string(*it)};
    }
    // The read of a range: (after, through], the tail at most one chunk.
    std::vector<int> read(const ChunkRange &r) const {
        std::vector<int> out;
        for (int k : keys) {
            if (!r.after.empty() && k <= value(r.after)) continue;
            if (!r.tail() && k > value(r.through)) break;
            out.push_back(k);
            if (r.tail() && out.size() == chunk) break;
        }
        return out;
    }
};

std::vector<int> run_readers(ChunkPlanner &planner, const FakeTable &table, int threads,
                             std::vector<ChunkRange> *ranges = nullptr) {
    std::mutex mu;
    std::vector<int> seen;
    std::vector<std::thread> readers;
    for (int t = 0; t < threads; t++)
        readers.emplace_back([&] {
            while (auto r = planner.next([&](const KeyValues &a) { return table.boundary(a); })) {
                std::vector<int> rows = table.read(*r);
                if (r->tail())
                    planner.tail_read(
                        rows.size() == table.chunk,
                        rows.empty() ? KeyValues{} : KeyValues{std::to_string(rows.back())});
                std::lock_guard<std::mutex> lock(mu);
                seen.insert(seen.end(), rows.begin(), rows.end());
                if (ranges) ranges->push_back(*r);
            }
        });
    for (auto &t : readers) t.join();
    return seen;
}

TEST(ChunkPlanner, ReadersCoverEveryKeyExactlyOnce) {
    FakeTable table;
    for (int k = 1; k <= 1000; k++)
        if (k % 7) table.keys.insert(k * 3);
    table.chunk = 10;
    for (int threads : {1, 4}) {
        ChunkPlanner planner(0, {});
        std::vector<ChunkRange> ranges;
        std::vector<int> seen = run_readers(planner, table, threads, &ranges);
        std::sort(seen.begin(), seen.end());
        EXPECT_EQ(seen, std::vector<int>(table.keys.begin(), table.keys.end()));
        // Numbered consecutively; bounded ranges hold one chunk each when planned.
        std::sort(ranges.begin(), ranges.end(),
                  [](const ChunkRange &a, const ChunkRange &b) { return a.no < b.no; });
        for (std::size_t i = 0; i < ranges.size(); i++) {
            EXPECT_EQ(ranges[i].no, i);
            if (!ranges[i].tail()) {
                EXPECT_EQ(table.read(ranges[i]).size(), 10u);
            }
            if (i > 0 && !ranges[i - 1].tail()) {
                EXPECT_EQ(ranges[i].after, ranges[i - 1].through);
            }
        }
    }
}

TEST(ChunkPlanner, AFullTailContinuesAfterItsLastKey) {
    // Keys appended while the tail is read: a full tail plans on after its last key.
    FakeTable table;
    for (int k = 1; k <= 25; k++) table.keys.insert(k);
    table.chunk = 10;
    ChunkPlanner planner(5, {"0"});
    auto boundary = [&](const KeyValues &a) { return table.boundary(a); };
    auto r0 = planner.next(boundary);
    auto r1 = planner.next(boundary);
    auto r2 = planner.next(boundary);  // 21..25: no boundary, the tail
    ASSERT_TRUE(r0 && r1 && r2);
    EXPECT_EQ(r0->no, 5u);
    EXPECT_EQ(r1->through, KeyValues{"20"});
    EXPECT_TRUE(r2->tail());
    for (int k = 26; k <= 40; k++) table.keys.insert(k);
    std::vector<int> tail = table.read(*r2);
    ASSERT_EQ(tail.size(), 10u);  // 21..30
    planner.tail_read(true, {"30"});
    auto r3 = planner.next(boundary);
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->after, KeyValues{"30"});
    EXPECT_EQ(r3->through, KeyValues{"40"});
    auto r4 = planner.next(boundary);
    ASSERT_TRUE(r4 && r4->tail());
    planner.tail_read(false, {});
    EXPECT_FALSE(planner.next(boundary));
}

TEST(ChunkPlanner, StopWakesReadersWaitingForTheTail) {
    FakeTable table;
    table.chunk = 10;
    ChunkPlanner planner(0, {});
    auto boundary = [&](const KeyValues &a) { return table.boundary(a); };
    ASSERT_TRUE(planner.next(boundary)->tail());
    std::thread waiter([&] { EXPECT_FALSE(planner.next(boundary)); });
    planner.stop();
    waiter.join();
}

TEST(FinishedPrefix, OnlyAContiguousPrefixMovesTheRecord) {
    FinishedPrefix p(3, {"30"});
    EXPECT_FALSE(p.confirmed(4, {"50"}, 10));  // chunk 3 still out
    EXPECT_FALSE(p.confirmed(6, {"70"}, 10));
    auto a = p.confirmed(3, {"40"}, 7);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->chunks, 5u);
    EXPECT_EQ(a->last_key, KeyValues{"50"});
    EXPECT_EQ(a->rows, 17u);
    auto b = p.confirmed(5, {}, 0);  // an empty tail covers no more keys
    ASSERT_TRUE(b);
    EXPECT_EQ(b->chunks, 7u);
    EXPECT_EQ(b->last_key, KeyValues{"70"});
    EXPECT_FALSE(p.confirmed(4, {"50"}, 10));  // read again: already in the prefix
    EXPECT_EQ(p.pending(), 0u);
}

const std::string kTopic = "p.public.t";
std::string key(int id) { return "{\"id\":" + std::to_string(id) + "}"; }
// A row as the reader reads it (compact layout) and the chunk's envelope template.
std::string row(int id) { return key(id) + "\t{\"v\":" + std::to_string(id) + "}"; }
const auto kTemplate = std::make_shared<const ChunkTemplate>(
    ChunkTemplate::parse("S\t" + kTopic + "\t{\"after\":\t,\"op\":\"r\"\t{\"ks\":1}\t{\"vs\":1}"));

std::vector<std::string> rows(std::initializer_list<int> ids) {
    std::vector<std::string> out;
    for (int id : ids) out.push_back(row(id));
    return out;
}

RowViews views(std::initializer_list<int> ids) { return RowViews(rows(ids)); }

std::vector<std::string> strings(const RowViews &v) {
    return std::vector<std::string>(v.rows.begin(), v.rows.end());
}

TEST(WindowSet, AClosedChunkHandsBackItsRowsAndTemplate) {
    WindowSet w;
    w.add("a", kTopic);
    w.open("a");
    w.load("a", views({7, 8}), kTemplate, SnapshotXids{});
    auto a = w.close("a", 100);
    ASSERT_TRUE(a);
    EXPECT_EQ(strings(a->rows), rows({7, 8}));
    EXPECT_EQ(a->event_template, kTemplate);
    EXPECT_EQ(a->topic, kTopic);
}

TEST(ChunkRowBlock, RowsGetTheTemplatesEnvelopeAndTheConvertersSchemas) {
    // value_head + after + value_tail is the event value the plugin writes for the row.
    auto plain = chunk_row_block(*kTemplate, views({7}), false, false, 1700000000123456);
    EXPECT_EQ(plain->topic, kTopic);
    EXPECT_EQ(plain->value_head + "{\"v\":7}" + plain->value_tail,
              "{\"after\":{\"v\":7},\"op\":\"r\",\"ts_ms\":1700000000123,\"ts_us\":"
              "1700000000123456,\"ts_ns\":1700000000123456000}");
    EXPECT_TRUE(plain->key_head.empty());
    EXPECT_EQ(strings(plain->rows), rows({7}));
    // JsonConverter's layout: {"schema":..,"payload":..} around keys and values.
    auto wrapped = chunk_row_block(*kTemplate, views({7}), true, true, 1700000000123456);
    EXPECT_EQ(wrapped->key_head + key(7) + "}", "{\"schema\":{\"ks\":1},\"payload\":{\"id\":7}}");
    EXPECT_EQ(wrapped->value_head, "{\"schema\":{\"vs\":1},\"payload\":{\"after\":");
    EXPECT_EQ(wrapped->value_tail.back(), '}');
    EXPECT_EQ(wrapped->value_tail.substr(wrapped->value_tail.size() - 2), "}}");
    // Schemas asked of a template that carries none: refused, not sent without them.
    const ChunkTemplate bare = ChunkTemplate::parse("S\t" + kTopic + "\t{\"after\":\t}");
    EXPECT_THROW(chunk_row_block(bare, views({7}), false, true, 0), FrameError);
}

TEST(WindowSet, EachOpenWindowDropsOnlyItsOwnKeys) {
    WindowSet w;
    w.add("a", kTopic);
    w.add("b", kTopic);
    w.open("a");
    w.on_change(kTopic, key(2), 0);  // before b's low watermark: b still reads it
    w.open("b");
    w.load("a", views({1, 2, 3}), kTemplate, SnapshotXids{});
    w.on_change(kTopic, key(12), 0);  // b not loaded yet: remembered
    w.load("b", views({11, 12, 13}), kTemplate, SnapshotXids{});
    w.on_change(kTopic, key(3), 0);
    w.on_change("p.public.other", key(13), 0);
    EXPECT_EQ(w.in_flight(), 2u);
    auto b = w.close("b", 200);
    ASSERT_TRUE(b);
    EXPECT_EQ(strings(b->rows), rows({11, 13}));
    EXPECT_EQ(b->read, 3u);
    EXPECT_EQ(b->kept, 2u);
    auto a = w.close("a", 300);
    ASSERT_TRUE(a);
    EXPECT_EQ(strings(a->rows), rows({1}));
    EXPECT_EQ(w.in_flight(), 0u);
    EXPECT_EQ(w.unconfirmed(), 2u);
    EXPECT_EQ(w.closed_at("a"), std::optional<Lsn>(300));
    EXPECT_FALSE(w.close("unknown", 400));
}

TEST(WindowSet, AWindowClosesOnceAndKeepsOnlyWhereItsTransactionEnds) {
    // A high watermark read again after a reconnect emits nothing: the chunk is read
    // again instead (ChunkPlanner::redo), so closed chunks hold no rows.
    WindowSet w;
    for (const char *c : {"a", "b"}) {
        w.add(c, kTopic);
        w.open(c);
    }
    w.load("a", views({1}), kTemplate, SnapshotXids{});
    w.load("b", views({2}), kTemplate, SnapshotXids{});
    ASSERT_TRUE(w.close("a", 100));
    ASSERT_TRUE(w.close("b", 200));
    EXPECT_FALSE(w.close("a", 100));
    EXPECT_EQ(w.closed_at("b"), std::optional<Lsn>(200));
    w.forget("a");
    EXPECT_FALSE(w.closed_at("a"));
    EXPECT_EQ(w.unconfirmed(), 1u);
    EXPECT_FALSE(w.empty());
    w.remove("b");
    EXPECT_TRUE(w.empty());
}

TEST(WindowSet, AChangeTheReadMissedDropsItsKeyEvenIfDecodedBeforeTheLowWatermark) {
    // Transaction 100 wrote its commit record before the low watermark (so the stream
    // decodes it first) but had not left the proc array when the read took its snapshot:
    // the read holds the row as it was before 100, which must not go out after 100's change.
    WindowSet w;
    w.keep_changes_of(kTopic);
    w.add("a", kTopic);
    w.on_change(kTopic, key(1), 100);
    w.on_change(kTopic, key(2), 99);  // the read saw 99: its row is current
    w.open("a");
    w.load("a", views({1, 2, 3}), kTemplate, SnapshotXids::parse("99:101:100"));
    auto a = w.close("a", 100);
    ASSERT_TRUE(a);
    EXPECT_EQ(strings(a->rows), rows({2, 3}));
}

TEST(WindowSet, KeptChangesGoOnceNoReadCanMissThem) {
    WindowSet w;
    w.keep_changes_of(kTopic);
    w.add("a", kTopic);  // added before any snapshot was seen: its read may miss anything
    for (std::uint32_t xid = 5; xid < 15; xid++) w.on_change(kTopic, key(1), xid);
    w.add("b", kTopic);
    w.open("b");
    w.load("b", views({1}), kTemplate, SnapshotXids::parse("10:15:"));
    EXPECT_EQ(w.changes_kept(), 10u);  // "a" may still miss 5..9
    w.remove("a");
    EXPECT_EQ(w.changes_kept(), 5u);  // xids before 10 are seen by every read from now on
    w.add("c", kTopic);               // its read's xmin is at least 10
    w.close("b", 100);
    EXPECT_EQ(w.changes_kept(), 5u);
    w.keep_changes_of("");
    EXPECT_EQ(w.changes_kept(), 0u);
}

TEST(SnapshotXids, VisibilityAsPostgreSQLDecidesIt) {
    SnapshotXids s = SnapshotXids::parse("10:20:12,15");
    ASSERT_TRUE(s.valid);
    EXPECT_TRUE(s.sees(9));
    EXPECT_FALSE(s.sees(12));
    EXPECT_TRUE(s.sees(13));
    EXPECT_FALSE(s.sees(15));
    EXPECT_FALSE(s.sees(20));
    // xid8 values carry an epoch: the stream's 32-bit ids compare modulo 2^32.
    SnapshotXids wrap = SnapshotXids::parse("8589934586:12884901893:");  // 2^32-6 .. 5
    ASSERT_TRUE(wrap.valid);
    EXPECT_TRUE(wrap.sees(4294967289u));
    EXPECT_TRUE(wrap.sees(3));
    EXPECT_FALSE(wrap.sees(5));
    EXPECT_FALSE(SnapshotXids::parse("10:20").valid);
    EXPECT_FALSE(SnapshotXids::parse("10:20:1,x").valid);
}

TEST(ChunkPlanner, ChunksToReadAgainComeFirstEvenAfterTheLastRange) {
    // Two chunks unconfirmed at a reconnect: both are read again, with their numbers and
    // bounded by the last key each read, also once planning has finished.
    FakeTable table;
    for (int k = 1; k <= 15; k++) table.keys.insert(k);
    table.chunk = 10;
    ChunkPlanner planner(0, {});
    auto boundary = [&](const KeyValues &a) { return table.boundary(a); };
    auto r0 = planner.next(boundary);
    auto r1 = planner.next(boundary);
    ASSERT_TRUE(r0 && r1 && r1->tail());
    planner.tail_read(false, {"15"});
    EXPECT_FALSE(planner.next(boundary));
    r1->through = {"15"};
    planner.redo(*r1);
    planner.redo(*r0);
    EXPECT_TRUE(planner.has_redo());
    auto a = planner.next(boundary);
    auto b = planner.next(boundary);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->no, 1u);
    EXPECT_TRUE(a->redo);
    EXPECT_EQ(table.read(*a), (std::vector<int>{11, 12, 13, 14, 15}));
    EXPECT_EQ(b->no, 0u);
    EXPECT_EQ(table.read(*b).size(), 10u);
    EXPECT_FALSE(planner.next(boundary));
    planner.redo(*r0);
    planner.stop();
    EXPECT_FALSE(planner.next(boundary));  // stopped: nothing more, not even a redo
}

TEST(WindowSet, AHighWatermarkBeforeTheRowsCloseNothing) {
    WindowSet w;
    w.add("a", kTopic);
    w.open("a");
    EXPECT_FALSE(w.close("a", 100));
    EXPECT_EQ(w.in_flight(), 1u);
}

TEST(IncrementalProgress, DescribesRowsRateAndEta) {
    EXPECT_EQ(IncrementalProgress::describe(5000, 20000, 3, 1000),
              "5000 of ~20000 rows (25%), 3 chunks in flight, 1000 rows/s, ETA 15 s");
    EXPECT_EQ(IncrementalProgress::describe(30, -1, 1, 10),
              "30 rows, 1 chunks in flight, 10 rows/s");
    EXPECT_EQ(IncrementalProgress::describe(30, 10, 0, 0),
              "30 of ~30 rows (100%), 0 chunks in flight, 0 rows/s");
}

}  // namespace
}  // namespace walcast
