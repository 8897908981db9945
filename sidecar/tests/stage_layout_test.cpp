// The sidecar's layout rule: the streaming path (stream/) and the initial snapshot
// (snapshot/) never include each other, directly or through another header; they
// meet at sink/ and the shared folders. Reads the sources under WALCAST_SRC_DIR.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
const fs::path kSrc = WALCAST_SRC_DIR;

// The quoted includes of one source file, as written ("stage/file.h").
std::vector<std::string> includes_of(const std::string &file) {
    std::ifstream in(kSrc / file);
    std::vector<std::string> out;
    static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, include)) out.push_back(m[1]);
    return out;
}

std::string stage_of(const std::string &file) { return file.substr(0, file.find('/')); }

// Every file `file` reaches through includes, with the chain that reaches it.
void reach(const std::string &file, const std::string &chain, std::set<std::string> &seen,
           std::vector<std::pair<std::string, std::string>> &out) {
    for (const auto &inc : includes_of(file)) {
        if (!seen.insert(inc).second) continue;
        const std::string path = chain + " -> " + inc;
        out.emplace_back(inc, path);
        reach(inc, path, seen, out);
    }
}

std::vector<std::string> sources_in(const std::string &stage) {
    std::vector<std::string> files;
    for (const auto &e : fs::directory_iterator(kSrc / stage))
        files.push_back(stage + "/" + e.path().filename().string());
    return files;
}

void expect_never_reaches(const std::string &from, const std::string &to) {
    const auto files = sources_in(from);
    ASSERT_FALSE(files.empty()) << "no sources in " << (kSrc / from);
    for (const auto &file : files) {
        std::set<std::string> seen;
        std::vector<std::pair<std::string, std::string>> reached;
        reach(file, file, seen, reached);
        for (const auto &[inc, chain] : reached)
            EXPECT_NE(stage_of(inc), to) << from << "/ must not include " << to << "/: " << chain;
    }
}

TEST(StageLayout, StreamNeverIncludesSnapshot) { expect_never_reaches("stream", "snapshot"); }

TEST(StageLayout, SnapshotNeverIncludesStream) { expect_never_reaches("snapshot", "stream"); }

// The incremental snapshot watches the stream through stream/stream_observer.h: the
// streaming path knows nothing of it.
TEST(StageLayout, StreamNeverIncludesIncremental) { expect_never_reaches("stream", "incremental"); }

// Includes are written from sidecar/src and name their folder, and every source
// sits in a stage folder: the layout stays readable from `ls sidecar/src`.
TEST(StageLayout, IncludesNameAnExistingStageFile) {
    int files = 0;
    for (const auto &dir : fs::directory_iterator(kSrc)) {
        EXPECT_TRUE(dir.is_directory()) << dir.path() << " is outside a stage folder";
        if (!dir.is_directory()) continue;
        for (const auto &file : sources_in(dir.path().filename().string())) {
            ++files;
            for (const auto &inc : includes_of(file))
                EXPECT_TRUE(fs::exists(kSrc / inc))
                    << file << " includes \"" << inc << "\", not a path under sidecar/src";
        }
    }
    EXPECT_GT(files, 50);
}

}  // namespace
