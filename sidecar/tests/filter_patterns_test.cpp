// A pattern list is read the same way where it is checked (pg/filter_patterns) and where
// the snapshot turns it into one anchored regular expression (snapshot/snapshot_plan).
#include "pg/filter_patterns.h"

#include <gtest/gtest.h>

#include "snapshot/snapshot_plan.h"

namespace walcast {
namespace {

using Items = std::vector<std::string>;

TEST(PatternList, SplitsAtCommasTrimsAndDropsEmptyItems) {
    EXPECT_EQ(pattern_list_items(""), Items{});
    EXPECT_EQ(pattern_list_items(" , ,\t"), Items{});
    EXPECT_EQ(pattern_list_items("public.a"), Items{"public.a"});
    EXPECT_EQ(pattern_list_items(" public.a ,\tinv.* ,,x"), (Items{"public.a", "inv.*", "x"}));
    EXPECT_EQ(pattern_list_items("a b,c"), (Items{"a b", "c"}));  // inner blanks kept
}

TEST(PatternList, AnchoredRegexHasOneAlternativePerItem) {
    EXPECT_EQ(anchored_list_regex(""), "");
    EXPECT_EQ(anchored_list_regex(" , "), "");
    EXPECT_EQ(anchored_list_regex("public.a"), "^(?:(?:public.a))$");
    EXPECT_EQ(anchored_list_regex(" public.a , inv.*"), "^(?:(?:public.a)|(?:inv.*))$");
}

}  // namespace
}  // namespace walcast
