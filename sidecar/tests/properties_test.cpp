// Properties files follow java.util.Properties, so that Debezium files can be pasted.
#include <gtest/gtest.h>

#include "config/config.h"

namespace walcast {
namespace {

std::map<std::string, std::string> parse(const std::string &text) {
    return parse_properties(text, "f");
}

std::string parse_error(const std::string &text) {
    try {
        parse(text);
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "";
}

TEST(Properties, SeparatorsEqualsColonAndBlank) {
    auto m = parse("slot.name=a\ntopic.prefix: b\nlog.level   debug\nsink\t=\tstdout\n");
    EXPECT_EQ(m.at("slot.name"), "a");
    EXPECT_EQ(m.at("topic.prefix"), "b");
    EXPECT_EQ(m.at("log.level"), "debug");
    EXPECT_EQ(m.at("sink"), "stdout");
}

TEST(Properties, OnlyTheFirstSeparatorCounts) {
    auto m = parse("database.url=host=db port=5432\nkafka.x : a=b:c\n");
    EXPECT_EQ(m.at("database.url"), "host=db port=5432");
    EXPECT_EQ(m.at("kafka.x"), "a=b:c");
}

TEST(Properties, KeyWithoutValueIsEmpty) {
    auto m = parse("table.include.list\n");
    EXPECT_EQ(m.at("table.include.list"), "");
}

TEST(Properties, LeadingBlanksAndCommentsAreIgnored) {
    auto m = parse("   \t# a comment\n\t ! another\n\f  slot.name = s\n\n   \n");
    EXPECT_EQ(m.size(), 1u);
    EXPECT_EQ(m.at("slot.name"), "s");
}

TEST(Properties, LineEndingsLfCrLfAndCr) {
    auto m = parse("slot.name=a\r\ntopic.prefix=b\rlog.level=warn");
    EXPECT_EQ(m.at("slot.name"), "a");
    EXPECT_EQ(m.at("topic.prefix"), "b");
    EXPECT_EQ(m.at("log.level"), "warn");
}

TEST(Properties, OddBackslashesContinueTheLine) {
    auto m = parse("table.include.list=public.a,\\\n     public.b,\\\n\tpublic.c\nslot.name=s\n");
    EXPECT_EQ(m.at("table.include.list"), "public.a,public.b,public.c");
    EXPECT_EQ(m.at("slot.name"), "s");
}

TEST(Properties, EvenBackslashesDoNotContinue) {
    auto m = parse("kafka.path=C:\\\\dir\\\\\nslot.name=s\n");
    EXPECT_EQ(m.at("kafka.path"), "C:\\dir\\");
    EXPECT_EQ(m.at("slot.name"), "s");
}

TEST(Properties, ContinuationAtEndOfFileEndsTheValue) {
    EXPECT_EQ(parse("slot.name=ab\\").at("slot.name"), "ab");
}

TEST(Properties, CommentLineEndingInBackslashContinuesNothing) {
    auto m = parse("# comment \\\nslot.name=s\n");
    EXPECT_EQ(m.at("slot.name"), "s");
}

TEST(Properties, ErrorsNameTheFirstLineOfAContinuedLine) {
    std::string e = parse_error("slot.name=s\nno.such\\\n  .key=1\n");
    EXPECT_NE(e.find("'no.such.key' (f:2)"), std::string::npos) << e;
}

TEST(Properties, Escapes) {
    auto m = parse("kafka.a=t\\tn\\nr\\rf\\fb\\\\q\\q\n");
    EXPECT_EQ(m.at("kafka.a"), "t\tn\nr\rf\fb\\qq");
}

TEST(Properties, UnicodeEscapesBecomeUtf8) {
    auto m = parse("kafka.a=caf\\u00e9 \\u20AC \\ud83d\\ude00\n");
    EXPECT_EQ(m.at("kafka.a"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(Properties, MalformedUnicodeEscapeNamesTheLine) {
    EXPECT_EQ(parse_error("slot.name=s\nkafka.a=\\u12g4\n"), "f:2: malformed \\uXXXX escape");
    EXPECT_EQ(parse_error("kafka.a=\\u12"), "f:1: malformed \\uXXXX escape");
    EXPECT_EQ(parse_error("kafka.a=\\ud83d"), "f:1: \\u escape of an unpaired UTF-16 surrogate");
}

TEST(Properties, EscapedSeparatorsBelongToTheKey) {
    auto m = parse("kafka.a\\=b=1\nkafka.c\\:d:2\nkafka.e\\ f 3\n");
    EXPECT_EQ(m.at("kafka.a=b"), "1");
    EXPECT_EQ(m.at("kafka.c:d"), "2");
    EXPECT_EQ(m.at("kafka.e f"), "3");
}

TEST(Properties, TrailingBlanksAreDroppedUnlessEscaped) {
    auto m = parse("slot.name=s  \t\nkafka.a=x\\ \n");
    EXPECT_EQ(m.at("slot.name"), "s");
    EXPECT_EQ(m.at("kafka.a"), "x ");
}

TEST(Properties, LeadingBlanksOfTheValueAreDroppedEscapedOnesKept) {
    EXPECT_EQ(parse("kafka.a=\\  x\n").at("kafka.a"), "  x");
}

}  // namespace
}  // namespace walcast
