// Debezium's source.snapshot markers over batches of several tables arriving in any
// order: exactly one first and one last, first/last per table, true elsewhere.
#include "snapshot/snapshot_markers.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace walcast {
namespace {

struct Emitted {
    std::uint32_t rel;
    std::string after;
    std::string marker;
};

class MarkersTest : public ::testing::Test {
protected:
    std::shared_ptr<const ChunkTemplate> tmpl = std::make_shared<const ChunkTemplate>(
        ChunkTemplate::parse("S\tt\t{\"before\":null,\"after\":\t,\"op\":\"r\""));
    std::vector<Emitted> out;

    SnapshotMarkers markers(std::size_t tables) {
        return SnapshotMarkers(tables, [this](std::uint32_t rel, std::size_t, const ChunkTemplate &,
                                              const SnapshotRow &row, std::string_view marker) {
            out.push_back({rel, std::string(row.after), std::string(marker)});
        });
    }

    RowBatch batch(std::vector<int> ids) {
        RowBatch b;
        b.event_template = tmpl;
        for (int id : ids) {
            std::string r = "{\"id\":" + std::to_string(id) + "}";
            b.add_rows(r + "\t" + r + "\n");
        }
        return b;
    }

    std::map<std::string, int> count(const std::string &marker_filter = "") {
        std::map<std::string, int> n;
        for (const auto &e : out)
            if (marker_filter.empty() || e.marker == marker_filter) n[e.marker]++;
        return n;
    }

    std::vector<std::string> markers_of(std::uint32_t rel) {
        std::vector<std::string> m;
        for (const auto &e : out)
            if (e.rel == rel) m.push_back(e.marker);
        return m;
    }
};

TEST_F(MarkersTest, OneTableOverSeveralBatches) {
    SnapshotMarkers m = markers(1);
    m.batch(7, batch({1, 2}));
    m.batch(7, batch({3}));
    m.batch(7, batch({4, 5}));
    EXPECT_EQ(out.size(), 4u) << "the last row waits for the end of the table";
    m.table_finished(7);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(markers_of(7), (std::vector<std::string>{"first", "true", "true", "true", "last"}));
    EXPECT_EQ(out.back().after, "{\"id\":5}");
    EXPECT_EQ(m.released(), 5u);
}

TEST_F(MarkersTest, SingleRowIsLast) {
    SnapshotMarkers m = markers(1);
    m.batch(1, batch({1}));
    m.table_finished(1);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].marker, "last");
}

TEST_F(MarkersTest, InterleavedTablesGetTheirOwnFirstAndLast) {
    SnapshotMarkers m = markers(2);
    m.batch(1, batch({1, 2}));
    m.batch(2, batch({10, 11}));
    m.batch(1, batch({3}));
    m.table_finished(1);
    m.batch(2, batch({12}));
    m.table_finished(2);
    EXPECT_EQ(markers_of(1),
              (std::vector<std::string>{"first", "true", "last_in_data_collection"}));
    EXPECT_EQ(markers_of(2),
              (std::vector<std::string>{"first_in_data_collection", "true", "last"}));
}

// The table that finishes last may have no rows: the snapshot's last event is then the
// last row of the table that finished before it.
TEST_F(MarkersTest, EmptyTableFinishingLastLeavesLastOnTheOtherTable) {
    SnapshotMarkers m = markers(3);
    m.batch(1, batch({1, 2, 3}));
    m.table_finished(1);
    m.batch(2, batch({20}));
    m.table_finished(2);
    m.table_finished(3);  // empty
    EXPECT_EQ(count("first")["first"], 1);
    EXPECT_EQ(count("last")["last"], 1);
    EXPECT_EQ(out.back().rel, 2u);
    EXPECT_EQ(out.back().marker, "last");
    EXPECT_EQ(markers_of(1),
              (std::vector<std::string>{"first", "true", "last_in_data_collection"}));
    EXPECT_EQ(out.size(), 4u);
}

TEST_F(MarkersTest, EmptyTablesOnlyEmitNothing) {
    SnapshotMarkers m = markers(2);
    m.table_finished(1);
    m.table_finished(2);
    EXPECT_TRUE(out.empty());
}

TEST_F(MarkersTest, EveryRowIsEmittedOnceWhateverTheOrder) {
    SnapshotMarkers m = markers(3);
    int id = 0;
    for (int round = 0; round < 5; round++)
        for (std::uint32_t rel = 1; rel <= 3; rel++)
            if (!(rel == 3 && round > 1)) m.batch(rel, batch({id++, id++, id++}));
    m.table_finished(3);
    m.table_finished(1);
    m.table_finished(2);
    EXPECT_EQ(out.size(), static_cast<std::size_t>(id));
    auto n = count();
    EXPECT_EQ(n["first"], 1);
    EXPECT_EQ(n["last"], 1);
    EXPECT_EQ(n["first_in_data_collection"], 2);
    EXPECT_EQ(n["last_in_data_collection"], 2);
    EXPECT_EQ(out.back().rel, 2u);
}

}  // namespace
}  // namespace walcast
