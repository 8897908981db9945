// The settings table: every setting is described and valid, --help and
// docs/configuration.md come from it.
#include "config/settings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"
#include "snapshot/snapshot_runner.h"
#include "snapshot/snapshot_settings.h"

namespace walcast {
namespace {

TEST(Settings, EverySettingIsDescribedGroupedAndConsumed) {
    std::set<std::string> names;
    for (const auto &s : settings()) {
        EXPECT_TRUE(names.insert(s.name).second) << "declared twice: " << s.name;
        EXPECT_GT(std::string(s.description).size(), 10u) << s.name;
        EXPECT_EQ(std::string(s.description).find('\n'), std::string::npos) << s.name;
        EXPECT_NE(s.commands & kAllCommands, 0u) << s.name;
        if (s.kind == Kind::kEnum) {
            EXPECT_FALSE(s.accepted.empty()) << s.name;
        }
    }
}

TEST(Settings, DefaultsAreTheEffectiveValuesAndPassValidation) {
    Config c = load_config({});
    for (const auto &s : settings()) {
        if (s.kind == Kind::kSink) continue;  // derived from kafka.bootstrap.servers
        EXPECT_EQ(c.get(s.name), s.def) << s.name;
        // Each default, set explicitly, is accepted and kept as it is.
        if (*s.def) {
            ConfigSources src;
            src.sets = {std::string(s.name) + "=" + s.def};
            EXPECT_EQ(load_config(src).get(s.name), s.def) << s.name;
        }
    }
}

TEST(Settings, TypedFieldsComeFromTheTable) {
    Config c = load_config({});
    EXPECT_EQ(std::to_string(c.slot_create_timeout_ms),
              find_setting("slot.create.timeout.ms")->def);
    EXPECT_EQ(std::to_string(c.snapshot_chunk_bytes), find_setting("snapshot.chunk.bytes")->def);
    EXPECT_EQ(std::to_string(c.snapshot_max_threads), find_setting("snapshot.max.threads")->def);
    EXPECT_EQ(std::to_string(c.status_update_interval_ms),
              find_setting("status.update.interval.ms")->def);
    EXPECT_EQ(std::to_string(c.retained_wal_warn_bytes),
              find_setting("retained.wal.warn.bytes")->def);
}

TEST(Settings, SnapshotSettingsReadTheParsedConfig) {
    ConfigSources src;
    src.sets = {"snapshot.max.threads=7", "snapshot.throttle.rows.per.second=100",
                "snapshot.throttle.bytes.per.second=2000", "publish.via.partition.root=TRUE"};
    Config c = load_config(src);
    SnapshotSettings s = snapshot_settings_from(c);
    EXPECT_EQ(s.threads, 7);
    EXPECT_EQ(s.max_rows_per_second, 100);
    EXPECT_EQ(s.max_bytes_per_second, 2000);
    EXPECT_TRUE(table_filter_from(c).via_partition_root);
}

TEST(Settings, SnapshotsLeaveTheSignalTableOut) {
    ConfigSources src;
    src.sets = {"table.exclude.list=public.x", "signal.data.collection=public.dbz_signal"};
    EXPECT_EQ(table_filter_from(load_config(src)).exclude_list, "public.x,public\\.dbz_signal");
    src.sets = {"signal.data.collection=s.t$"};
    EXPECT_EQ(table_filter_from(load_config(src)).exclude_list, "s\\.t\\$");
}

TEST(Settings, HelpDescribesOnlyWhatTheSubcommandReads) {
    const std::string run = settings_help(kRun), status = settings_help(kStatus),
                      drop = settings_help(kSlotDrop), verify = settings_help(kVerify);
    for (const auto &s : settings()) {
        const std::string line = "  " + std::string(s.name) + " ";
        const std::string line_end = "  " + std::string(s.name) + "\n";
        auto listed = [&](const std::string &help) {
            return help.find(line) != std::string::npos || help.find(line_end) != std::string::npos;
        };
        EXPECT_EQ(listed(run), (s.commands & kRun) != 0) << s.name;
        EXPECT_EQ(listed(status), (s.commands & kStatus) != 0) << s.name;
        EXPECT_EQ(listed(drop), (s.commands & kSlotDrop) != 0) << s.name;
        EXPECT_EQ(listed(verify), (s.commands & kVerify) != 0) << s.name;
        if (s.commands & kRun) {
            EXPECT_NE(run.find(s.description), std::string::npos) << s.name;
        }
    }
    EXPECT_NE(run.find("\nConnection:\n"), std::string::npos);
    EXPECT_EQ(drop.find("Plugin and event format"), std::string::npos);
    EXPECT_NE(run.find("  snapshot.max.threads (default 2; an integer from 1 to 64)\n"),
              std::string::npos)
        << run;
}

TEST(Settings, ConfigurationDocMatchesTheTable) {
    // Regenerate with: make config-doc
    std::ifstream in(WALCAST_DOCS_DIR "/configuration.md");
    ASSERT_TRUE(in) << WALCAST_DOCS_DIR "/configuration.md is missing";
    std::stringstream committed;
    committed << in.rdbuf();
    EXPECT_EQ(committed.str(), settings_markdown())
        << "docs/configuration.md is out of date: run 'make config-doc'";
}

TEST(Settings, ConfigurationDocNamesEverySetting) {
    const std::string doc = settings_markdown();
    for (const auto &s : settings())
        EXPECT_NE(doc.find("| `" + std::string(s.name) + "`"), std::string::npos) << s.name;
}

}  // namespace
}  // namespace walcast
