// `walcast snapshot`: the table names reach walcast.execute_snapshot() as one text[].
#include <gtest/gtest.h>

#include "pg/pg_query.h"

namespace walcast {
namespace {

TEST(RequestSnapshot, NamesAreQuotedArrayElements) {
    EXPECT_EQ(text_array_literal({"public.t"}), R"({"public.t"})");
    EXPECT_EQ(text_array_literal({"a.b", "c.d"}), R"({"a.b","c.d"})");
    // Commas, braces, quotes and backslashes stay inside their element.
    EXPECT_EQ(text_array_literal({R"(s."x,{y}")", R"(t\u)"}), R"({"s.\"x,{y}\"","t\\u"})");
}

}  // namespace
}  // namespace walcast
