// The start banner says when the first load is incremental and when new tables are read.
#include <gtest/gtest.h>

#include "app/start_banner.h"
#include "config/config.h"

namespace walcast {
namespace {

Config with(std::vector<std::string> sets) {
    ConfigSources src;
    src.sets = std::move(sets);
    return load_config(src);
}

TEST(StartBanner, SaysTheFirstLoadIsIncremental) {
    const std::string said = "first load incremental";
    EXPECT_EQ(start_banner(with({})).find(said), std::string::npos);
    EXPECT_NE(start_banner(with({"snapshot.initial.method=incremental"})).find(said),
              std::string::npos);
    // Nothing to load without a snapshot mode.
    EXPECT_EQ(start_banner(with({"snapshot.initial.method=incremental", "snapshot.mode=no_data"}))
                  .find(said),
              std::string::npos);
}

TEST(StartBanner, SaysNewTablesAreRead) {
    const std::string said = "tables new to the slot read incrementally";
    EXPECT_EQ(start_banner(with({})).find(said), std::string::npos);
    EXPECT_NE(start_banner(with({"snapshot.new.tables=incremental"})).find(said),
              std::string::npos);
}

TEST(StartBanner, RefusesAnUnknownInitialMethod) {
    EXPECT_THROW(with({"snapshot.initial.method=serial"}), ConfigError);
}

}  // namespace
}  // namespace walcast
