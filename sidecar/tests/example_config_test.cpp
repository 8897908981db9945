// examples/walcast.properties, which README tells users to copy, stays a valid
// configuration: the file loads as is, and so does each commented-out setting once
// uncommented.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "config/config.h"
#include "config/settings.h"

namespace walcast {
namespace {

const std::string kExample = std::string(WALCAST_DOCS_DIR) + "/../examples/walcast.properties";

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

Config load_text(const std::string &text) {
    char path[] = "/tmp/walcast-example-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    std::FILE *f = fdopen(fd, "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    ConfigSources sources;
    sources.file = path;
    try {
        Config config = load_config(sources);
        std::remove(path);
        return config;
    } catch (...) {
        std::remove(path);
        throw;
    }
}

TEST(ExampleConfig, LoadsAsIs) {
    std::string text = read_file(kExample);
    ASSERT_FALSE(text.empty()) << kExample;
    Config config = load_text(text);
    EXPECT_EQ(config.sink, "kafka");
    EXPECT_EQ(config.get("table.include.list"), "public\\..*");
    EXPECT_EQ(config.slot_name, "walcast");
    EXPECT_EQ(config.snapshot_mode, "initial");
}

TEST(ExampleConfig, EveryCommentedSettingIsValidToo) {
    std::string text = read_file(kExample);
    const std::regex setting(R"(^#([a-z][a-z0-9._-]*)=(.*)$)");
    std::istringstream lines(text);
    std::string line;
    int checked = 0;
    while (std::getline(lines, line)) {
        std::smatch m;
        if (!std::regex_match(line, m, setting)) continue;
        const std::string key = m[1];
        checked++;
        if (key.rfind("kafka.", 0) != 0) {
            EXPECT_NE(find_setting(key), nullptr) << "unknown key in the example: " << line;
        }
        // A file that must exist on the user's machine cannot be loaded here.
        if (key == "database.password.file") continue;
        std::string uncommented = text;
        uncommented.replace(uncommented.find(line), line.size(), line.substr(1));
        EXPECT_NO_THROW(load_text(uncommented)) << line;
    }
    EXPECT_GE(checked, 5);
}

}  // namespace
}  // namespace walcast
