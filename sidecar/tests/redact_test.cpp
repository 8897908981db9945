// Secrets never reach a message: by shape (password=..., URL userinfo) and by value.
#include "config/redact.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace walcast {
namespace {

TEST(Redact, PasswordShapedValues) {
    EXPECT_EQ(redact("host=db password=abc user=u"), "host=db password=*** user=u");
    EXPECT_EQ(redact("host=db password = 'a b\\' c' user=u"), "host=db password = *** user=u");
    EXPECT_EQ(redact("sslpassword=k1 x"), "sslpassword=*** x");
    EXPECT_EQ(redact("postgresql://u:pw@db:5432/x"), "postgresql://u:***@db:5432/x");
    EXPECT_EQ(redact("postgres://u@db/x?password=pw&sslmode=require"),
              "postgres://u@db/x?password=***&sslmode=require");
    EXPECT_EQ(redact("kafka.sasl.password=pw kafka.ssl.key.password=pw2"),
              "kafka.sasl.password=*** kafka.ssl.key.password=***");
    EXPECT_EQ(redact("client.secret=abc"), "client.secret=***");
    // Ordinary words are left alone.
    EXPECT_EQ(redact("password authentication failed for user \"u\""),
              "password authentication failed for user \"u\"");
    EXPECT_EQ(redact("http://127.0.0.1:9187/metrics"), "http://127.0.0.1:9187/metrics");
}

TEST(Redact, RegisteredValuesAnywhere) {
    register_secret("Tr0ub4dor&3");
    register_secret("ab");  // too short to search for in free text
    EXPECT_EQ(redact("invalid percent-encoded token: \"Tr0ub4dor&3\""),
              "invalid percent-encoded token: \"***\"");
    EXPECT_EQ(redact("ab cab"), "ab cab");
}

TEST(Redact, PasswordShapedValuesAreFound) {
    auto has = [](const std::vector<std::string> &v, const std::string &x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    auto found = password_shaped_values("postgresql://u:p%zz@h/d?sslpassword=k%q&x=1");
    EXPECT_TRUE(has(found, "p%zz"));
    EXPECT_TRUE(has(found, "k%q"));
    EXPECT_TRUE(has(password_shaped_values("host=h password='a b' user=u"), "'a b'"));
}

TEST(Redact, SecretKeys) {
    for (const char *k : {"database.password", "database.sslpassword", "kafka.sasl.password",
                          "kafka.ssl.key.password", "kafka.sasl.jaas.config",
                          "kafka.sasl.oauthbearer.client.secret"})
        EXPECT_TRUE(is_secret_key(k)) << k;
    for (const char *k : {"database.user", "database.password.file", "kafka.ssl.key.location"})
        EXPECT_FALSE(is_secret_key(k)) << k;
}

}  // namespace
}  // namespace walcast
