// Command-line handling that must not wait for the configuration to load.
#include "app/cli.h"

#include <gtest/gtest.h>

#include "app/start_banner.h"
#include "app/subcommand_error.h"

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

struct CliResult {
    int rc;
    std::string out, err;
};

CliResult run(std::vector<std::string> args) {
    args.insert(args.begin(), "walcast");
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = run_cli(static_cast<int>(argv.size()), argv.data());
    std::string out = testing::internal::GetCapturedStdout();
    return {rc, out, testing::internal::GetCapturedStderr()};
}

TEST(Cli, UnknownSubcommandIsNamedWithTheValidOnes) {
    CliResult r = run({"frobnicate"});
    EXPECT_EQ(r.rc, 2);
    EXPECT_NE(r.err.find("unknown subcommand 'frobnicate'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("valid subcommands: run, status, verify, slot, snapshot"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("config-doc"), std::string::npos) << r.err;  // hidden

    r = run({"slot", "dorp"});
    EXPECT_EQ(r.rc, 2);
    EXPECT_NE(r.err.find("unknown subcommand 'dorp' for walcast slot; valid subcommands: drop"),
              std::string::npos)
        << r.err;
}

TEST(Cli, UsageErrorsExitTwo) {
    CliResult none = run({});
    EXPECT_EQ(none.rc, 2);
    EXPECT_NE(none.err.find("walcast needs a subcommand: run, status, verify, slot, snapshot"),
              std::string::npos)
        << none.err;
    CliResult slot = run({"slot"});
    EXPECT_EQ(slot.rc, 2);
    EXPECT_NE(slot.err.find("walcast slot needs a subcommand: drop"), std::string::npos)
        << slot.err;
    EXPECT_EQ(run({"slot", "--help"}).rc, 0);
    CliResult version = run({"--version"});
    EXPECT_EQ(version.rc, 0);
    EXPECT_EQ(version.out, std::string("walcast ") + WALCAST_VERSION + "\n");
    EXPECT_EQ(run({"run", "--no-such-flag"}).rc, 2);
    EXPECT_EQ(run({"status", "--set", "no.such.key=1"}).rc, 2);
    EXPECT_EQ(run({"slot", "drop", "--set", "snapshot.mode=sometimes"}).rc, 2);
    EXPECT_EQ(run({"verify", "--examples", "many"}).rc, 2);
    EXPECT_EQ(run({"verify", "--bogus"}).rc, 2);
    EXPECT_EQ(run({"verify", "--config", "/nonexistent/walcast.properties"}).rc, 2);
    // verify reads the topics back: a sink it cannot read is a usage error, found before
    // any connection is attempted.
    CliResult r = run({"verify", "--sink", "stdout", "--set", "database.port=1"});
    EXPECT_EQ(r.rc, 2) << r.err;
    EXPECT_NE(r.err.find("set sink to kafka or file:<path> (sink=stdout)"), std::string::npos)
        << r.err;
    EXPECT_EQ(run({"--help"}).rc, 0);
    EXPECT_EQ(run({"verify", "--help"}).rc, 0);
}

TEST(Cli, KnownSubcommandsPassTheCheck) {
    CLI::App app{"test"};
    CLI::App *slot = app.add_subcommand("slot", "slots");
    slot->add_subcommand("drop", "drop");
    app.add_subcommand("run", "run")->add_option("--config");
    std::vector<const char *> ok = {"walcast", "--help", "slot", "drop", "--set", "a=b"};
    EXPECT_FALSE(subcommand_error(app, static_cast<int>(ok.size()), ok.data()));
    // A leaf command's own arguments are not subcommands.
    std::vector<const char *> leaf = {"walcast", "run", "--config", "x.properties"};
    EXPECT_FALSE(subcommand_error(app, static_cast<int>(leaf.size()), leaf.data()));
    std::vector<const char *> bad = {"walcast", "--help", "rn"};
    auto message = subcommand_error(app, static_cast<int>(bad.size()), bad.data());
    ASSERT_TRUE(message);
    EXPECT_EQ(*message,
              "unknown subcommand 'rn' for walcast; valid subcommands: slot, run (walcast --help)");
}

TEST(Cli, BannerSaysWhatTheRunWillDo) {
    Config config = load_config(ConfigSources{});
    std::string banner = start_banner(config);
    EXPECT_NE(banner.find(std::string("walcast ") + WALCAST_VERSION + " starting: slot "),
              std::string::npos)
        << banner;
    EXPECT_NE(banner.find("snapshot.mode initial (snapshot the included tables if the slot is new"),
              std::string::npos)
        << banner;
}

}  // namespace
}  // namespace walcast
