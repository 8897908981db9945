// The live snapshot table fits an 80-column terminal whatever the names and figures.
#include "snapshot/progress_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "snapshot/snapshot_progress.h"

namespace walcast {
namespace {

void expect_fits(const std::vector<std::string> &lines, std::size_t width) {
    ASSERT_FALSE(lines.empty());
    for (const auto &line : lines) {
        EXPECT_LE(display_width(line), width) << "[" << line << "]";
        EXPECT_EQ(line.find('\n'), std::string::npos) << line;
        EXPECT_EQ(line.find('\033'), std::string::npos) << line;
    }
}

std::vector<SnapshotTable> tables_named(const std::vector<std::string> &names) {
    std::vector<SnapshotTable> tables;
    std::uint32_t rel = 16384;
    for (const auto &name : names) {
        SnapshotTable t;
        t.rel = rel++;
        t.published = name;
        t.estimated_rows = 5e9;
        tables.push_back(t);
    }
    return tables;
}

TEST(ProgressTable, EveryLineFitsEightyColumns) {
    auto tables = tables_named({"public.orders",
                                "a_very_long_schema_name.an_even_longer_table_name_of_sixty_chars",
                                "public.\xe8\xa8\x82\xe5\x96\xae\xe6\x98\x8e\xe7\xb4\xb0\xe8\xa1"
                                "\xa8\xe3\x81\xae\xe5\x90\x8d\xe5\x89\x8d\xe3\x81\x8c\xe9\x95\xb7"
                                "\xe3\x81\x84",  // CJK: two columns per character
                                "public.line\nbreak\033[2Jescape"});
    SnapshotProgress progress(tables, 10000, nullptr);
    progress.rows(16384, 4'000'000'000ULL, 900ULL << 40);  // 900 TB
    progress.acknowledged(16384, 3'999'999'999ULL);
    progress.rows(16385, 123456789, 123456789012ULL);
    progress.table_done(16386);
    progress.set_pinning(3600.0 * 1000, std::int64_t(1) << 50);
    for (double seconds : {0.0, 0.001, 1.0, 86400.0 * 30})
        expect_fits(progress.table_lines(seconds), 80);
}

TEST(ProgressTable, ManyTablesKeepTheBlockShort) {
    std::vector<std::string> names;
    for (int i = 0; i < 200; i++) names.push_back("public.t" + std::to_string(i));
    SnapshotProgress progress(tables_named(names), 10000, nullptr);
    progress.table_done(16384);
    auto lines = progress.table_lines(10);
    // header + kProgressTableRows table lines (the last one summing up the rest) + total + pinning
    EXPECT_EQ(lines.size(), kProgressTableRows + 3);
    EXPECT_NE(lines[kProgressTableRows].find("189 more tables (1 of them done)"), std::string::npos)
        << lines[kProgressTableRows];
    expect_fits(lines, 80);
}

TEST(ProgressTable, NarrowerTerminalNarrowerLines) {
    SnapshotProgress progress(tables_named({"public.orders"}), 10000, nullptr);
    progress.rows(16384, 10, 100);
    expect_fits(progress.table_lines(1, 40), 40);
}

TEST(ProgressTable, ColumnsLineUpUnderTheHeader) {
    ProgressRow t;
    t.name = "public.orders";
    t.fraction = 0.5;
    t.rows = 1234567;
    t.acked = 1200000;
    t.bytes = 1536;
    t.rate = 12345.6;
    t.eta_seconds = 62;
    auto lines = render_progress_table({t}, t, "footer");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].substr(0, 5), "table");
    EXPECT_EQ(lines[1].substr(0, 13), "public.orders");
    EXPECT_EQ(lines[0].size(), lines[1].size());  // right-aligned columns end together
    EXPECT_NE(lines[1].find(" 50.0% "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find(" 1.2M "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find(" 1.5 KB "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find(" 12.3k "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find(" 0:01:02"), std::string::npos) << lines[1];
    EXPECT_EQ(lines[3], "footer");
}

TEST(ProgressTable, FitWidthCutsAtCharacterBoundaries) {
    EXPECT_EQ(fit_width("abcdef", 4), "abc~");
    EXPECT_EQ(fit_width("abc", 3), "abc");
    // "é" is two bytes, one column: never cut in the middle of its bytes.
    EXPECT_EQ(fit_width("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9~");
    // A wide character that does not fit whole is left out.
    EXPECT_EQ(fit_width("a\xe8\xa8\x82\xe8\xa8\x82", 4), "a\xe8\xa8\x82~");
    EXPECT_EQ(display_width("a\xe8\xa8\x82"), 3u);
    EXPECT_EQ(fit_width("a\tb", 10), "a?b");
    EXPECT_EQ(human_duration(-1), "?");
    EXPECT_EQ(human_duration(1e9), ">99h");
    EXPECT_EQ(human_count(999), "999");
    EXPECT_EQ(human_count(1e12), "1.0T");
}

}  // namespace
}  // namespace walcast
