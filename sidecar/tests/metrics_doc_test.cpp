// README's "Metrics" table lists exactly the series the sidecar's code registers, so the
// list cannot drift from the code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace walcast {
namespace {

std::string read_file(const std::filesystem::path &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Every "walcast_..." string literal in the sources: the names given to the registry.
std::set<std::string> metric_names_in_code() {
    std::set<std::string> names;
    const std::regex literal(R"re("(walcast_[a-z_]+)")re");
    for (const auto &entry : std::filesystem::recursive_directory_iterator(WALCAST_SRC_DIR)) {
        if (entry.path().extension() != ".cpp" && entry.path().extension() != ".h") continue;
        std::string text = read_file(entry.path());
        for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it)
            names.insert((*it)[1]);
    }
    return names;
}

// The first column of the table under README's "## Metrics" heading.
std::set<std::string> metric_names_in_readme() {
    std::string readme = read_file(std::string(WALCAST_DOCS_DIR) + "/../README.md");
    auto start = readme.find("\n## Metrics\n");
    EXPECT_NE(start, std::string::npos) << "README.md has no \"## Metrics\" section";
    if (start == std::string::npos) return {};
    auto end = readme.find("\n## ", start + 1);
    std::string section = readme.substr(start, end == std::string::npos ? end : end - start);
    std::set<std::string> names;
    const std::regex row(R"(\n\| `(walcast_[a-z_]+)(\{[^`]*\})?` \|)");
    for (std::sregex_iterator it(section.begin(), section.end(), row), end_it; it != end_it; ++it)
        names.insert((*it)[1]);
    return names;
}

TEST(MetricsDoc, ReadmeListsEveryMetricOfTheCode) {
    std::set<std::string> code = metric_names_in_code();
    std::set<std::string> readme = metric_names_in_readme();
    EXPECT_GE(code.size(), 10u);
    for (const auto &name : code) EXPECT_TRUE(readme.count(name)) << name << " is not in README";
    for (const auto &name : readme)
        EXPECT_TRUE(code.count(name)) << name << " is in README but not in the code";
}

}  // namespace
}  // namespace walcast
