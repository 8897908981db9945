// Command-line handling that must not wait for the configuration to load.
#include "app/cli.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace walcast {
namespace {

TEST(Cli, SecretArgumentsAreScrubbedInPlace) {
    std::vector<std::string> args = {"walcast",
                                     "run",
                                     "--set",
                                     "database.password=hunter2",
                                     "--set=kafka.sasl.password=pw2",
                                     "--set",
                                     "database.url=postgresql://u:pw3@db/x?sslpassword=pw4",
                                     "--set",
                                     "database.hostname=db"};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    scrub_secret_arguments(static_cast<int>(argv.size()), argv.data());
    EXPECT_STREQ(argv[3], "database.password=*******");
    EXPECT_STREQ(argv[4], "--set=kafka.sasl.password=***");
    EXPECT_STREQ(argv[6], "database.url=postgresql://u:***@db/x?sslpassword=***");
    EXPECT_STREQ(argv[8], "database.hostname=db");
}

}  // namespace
}  // namespace walcast
