// File/stdout sink: line format, deliveries only after sync, batching and
// backpressure, failure reporting.
#include "sink/file_sink.h"
#include "common/json_text.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace walcast {
namespace {

struct Reports {
    std::vector<std::pair<DeliveryToken, bool>> all;
    std::string last_error;
    DeliveryCallback callback() {
        return [this](DeliveryToken t, bool ok, const std::string &e) {
            all.emplace_back(t, ok);
            if (!ok) last_error = e;
        };
    }
};

std::string temp_path(const char *name) {
    std::string p = ::testing::TempDir() + name;
    ::unlink(p.c_str());
    return p;
}

std::string read_file(const std::string &path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

Message msg(std::string_view topic, std::string_view key, std::string_view value,
            DeliveryToken token, bool tombstone = false) {
    Message m;
    m.topic = topic;
    m.key = key;
    m.value = value;
    m.token = token;
    m.tombstone = tombstone;
    return m;
}

TEST(FileSink, LineFormatValueVerbatim) {
    std::string path = temp_path("fs_format.jsonl");
    Reports r;
    {
        FileSink sink(path, r.callback());
        EXPECT_TRUE(sink.produce(
            msg("walcast.public.t", "{\"id\":1}", "{\"after\":{\"id\":1, \"x\":1.50}}", 1)));
        EXPECT_TRUE(sink.produce(msg("walcast.public.t", "{\"id\":1}", "ignored", 1, true)));
        EXPECT_TRUE(sink.produce(msg("walcast.public.nokey", "", "{\"op\":\"c\"}", 2)));
        EXPECT_TRUE(sink.flush(1000));
    }
    EXPECT_EQ(read_file(path),
              "{\"topic\":\"walcast.public.t\",\"key\":{\"id\":1},\"value\":{\"after\":{\"id\":1, "
              "\"x\":1.50}}}\n"
              "{\"topic\":\"walcast.public.t\",\"key\":{\"id\":1},\"value\":null}\n"
              "{\"topic\":\"walcast.public.nokey\",\"key\":null,\"value\":{\"op\":\"c\"}}\n");
    ASSERT_EQ(r.all.size(), 3u);
    EXPECT_EQ(r.all[0], std::make_pair(DeliveryToken{1}, true));
    EXPECT_EQ(r.all[2], std::make_pair(DeliveryToken{2}, true));
}

TEST(FileSink, NoReportBeforeSyncWindow) {
    std::string path = temp_path("fs_window.jsonl");
    Reports r;
    FileSinkOptions o;
    o.sync_interval_ms = 200;
    FileSink sink(path, r.callback(), o);
    sink.produce(msg("t", "", "{}", 7));
    sink.poll(0);
    EXPECT_TRUE(r.all.empty()) << "batched: not synced yet";
    EXPECT_EQ(sink.outstanding(), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    sink.poll(5000);
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_EQ(sink.outstanding(), 0u);
    EXPECT_EQ(read_file(path), "{\"topic\":\"t\",\"key\":null,\"value\":{}}\n");
}

TEST(FileSink, PollWithTimeoutWaitsForTheWindow) {
    Reports r;
    FileSinkOptions o;
    o.sync_interval_ms = 50;
    FileSink sink(temp_path("fs_wait.jsonl"), r.callback(), o);
    sink.produce(msg("t", "", "{}", 1));
    sink.poll(500);
    EXPECT_EQ(r.all.size(), 1u);
}

TEST(FileSink, FullBatchIsSyncedWithoutWaitingForTheWindow) {
    Reports r;
    FileSinkOptions o;
    o.max_pending = 3;
    o.sync_interval_ms = 100000;
    FileSink sink(temp_path("fs_full.jsonl"), r.callback(), o);
    for (int i = 0; i < 3; i++) EXPECT_TRUE(sink.produce(msg("t", "", "{}", 1)));
    auto start = std::chrono::steady_clock::now();
    while (r.all.size() < 3 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
        sink.poll(100);
    EXPECT_EQ(r.all.size(), 3u) << "a full batch does not wait for the 100 s window";
    EXPECT_TRUE(sink.produce(msg("t", "", "{}", 1)));
}

// A reader that never reads blocks the writer: the sink must refuse messages instead
// of buffering without bound, and deliver everything once the reader drains the pipe.
TEST(FileSink, BackpressureWhileTheWriterIsBlocked) {
    std::string fifo = temp_path("fs_fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    Reports r;
    FileSinkOptions o;
    o.sync_bytes = 4096;
    o.sync_interval_ms = 1;
    int produced = 0;
    {
        FileSink sink(fifo, r.callback(), o);
        std::string value = "\"" + std::string(300, 'x') + "\"";
        while (produced < 100000 && sink.produce(msg("t", "", value, 1))) {
            produced++;
            sink.poll(0);
        }
        EXPECT_LT(produced, 100000) << "never full: memory is not bounded";
        EXPECT_GT(produced, 10);
        // Drain the pipe: the writer finishes, and everything is reported.
        std::atomic<bool> done{false};
        std::thread drain([&] {
            char buf[65536];
            while (!done) {
                if (::read(reader, buf, sizeof buf) <= 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
        EXPECT_TRUE(sink.flush(10000));
        done = true;
        drain.join();
    }
    ::close(reader);
    EXPECT_EQ(r.all.size(), static_cast<std::size_t>(produced));
    for (const auto &report : r.all) EXPECT_TRUE(report.second);
}

TEST(FileSink, TopicIsJsonEscaped) {
    std::string out;
    append_json_string(out, "a\"b\\c\n\x01");
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(FileSink, UnwritableFileThrows) {
    Reports r;
    EXPECT_THROW(FileSink("/nonexistent-dir/x.jsonl", r.callback()), std::runtime_error);
}

TEST(FileSink, WriteFailureReportsAndIsFatal) {
    Reports r;
    if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
    FileSink sink("/dev/full", r.callback());
    sink.produce(msg("t", "", "{}", 5));
    EXPECT_FALSE(sink.flush(1000));
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_FALSE(r.all[0].second);
    EXPECT_TRUE(sink.fatal());
    EXPECT_NE(r.last_error.find("No space left"), std::string::npos) << r.last_error;
    EXPECT_FALSE(sink.produce(msg("t", "", "{}", 6)));
    EXPECT_NE(sink.describe().find("FAILED"), std::string::npos);
}

void write_file(const std::string &path, const std::string &content) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << content;
}

const std::string kLine = "{\"topic\":\"t\",\"key\":null,\"value\":{}}\n";

// A crash or a full disk can cut the last line short; the next run must not append after
// it (that glues two records into one invalid line in the middle of the file).
TEST(FileSink, TornTailIsRemovedOnOpen) {
    std::string path = temp_path("fs_torn.jsonl");
    write_file(path, kLine + "{\"topic\":\"t\",\"key\":nu");
    Reports r;
    {
        FileSink sink(path, r.callback());
        sink.produce(msg("t", "", "{}", 1));
        EXPECT_TRUE(sink.flush(1000));
    }
    EXPECT_EQ(read_file(path), kLine + kLine);
}

TEST(FileSink, TornTailWithoutAnyNewlineEmptiesTheFile) {
    std::string path = temp_path("fs_torn_all.jsonl");
    write_file(path, std::string(100000, 'x'));  // longer than one read-back chunk
    Reports r;
    { FileSink sink(path, r.callback()); }
    EXPECT_EQ(read_file(path), "");
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_EQ(remove_torn_tail(fd, path), 0u) << "nothing left to remove";
    ::close(fd);
}

TEST(FileSink, CompleteFileIsLeftAlone) {
    std::string path = temp_path("fs_whole.jsonl");
    write_file(path, kLine + kLine);
    Reports r;
    { FileSink sink(path, r.callback()); }
    EXPECT_EQ(read_file(path), kLine + kLine);
}

// Deleted while the sink runs: later events must land in a file at the path before they
// are confirmed, not in the unlinked inode.
TEST(FileSink, DeletedFileIsReopenedBeforeConfirming) {
    std::string path = temp_path("fs_deleted.jsonl");
    Reports r;
    FileSink sink(path, r.callback());
    sink.produce(msg("t", "", "{}", 1));
    ASSERT_TRUE(sink.flush(1000));
    ASSERT_EQ(::unlink(path.c_str()), 0);
    sink.produce(msg("t", "", "{\"n\":2}", 2));
    ASSERT_TRUE(sink.flush(1000));
    EXPECT_EQ(read_file(path), "{\"topic\":\"t\",\"key\":null,\"value\":{\"n\":2}}\n");
    ASSERT_EQ(r.all.size(), 2u);
    EXPECT_TRUE(r.all[1].second);
}

// Rotation by rename: the old events stay in the rotated file, new ones go to a new file.
TEST(FileSink, RenamedFileIsReopenedAtThePath) {
    std::string path = temp_path("fs_rotated.jsonl");
    std::string rotated = path + ".1";
    ::unlink(rotated.c_str());
    Reports r;
    FileSink sink(path, r.callback());
    sink.produce(msg("t", "", "{}", 1));
    ASSERT_TRUE(sink.flush(1000));
    ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
    sink.produce(msg("t", "", "{\"n\":2}", 2));
    ASSERT_TRUE(sink.flush(1000));
    EXPECT_EQ(read_file(rotated), kLine);
    EXPECT_EQ(read_file(path), "{\"topic\":\"t\",\"key\":null,\"value\":{\"n\":2}}\n");
}

// A file that cannot be reopened (its directory is gone): the events are not confirmed.
TEST(FileSink, FileThatCannotBeReopenedFailsTheBatch) {
    std::string dir = temp_path("fs_gone_dir");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    std::string path = dir + "/out.jsonl";
    Reports r;
    FileSink sink(path, r.callback());
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::rmdir(dir.c_str()), 0);
    sink.produce(msg("t", "", "{}", 3));
    EXPECT_FALSE(sink.flush(1000));
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_FALSE(r.all[0].second) << "written only to a deleted file: must not be confirmed";
    EXPECT_TRUE(sink.fatal());
}

// A write cut short (here by the file size limit: EFBIG, as ENOSPC or EDQUOT would) must
// not leave part of the batch in the file.
TEST(FileSink, FailedWriteLeavesNoPartialLine) {
    std::string path = temp_path("fs_efbig.jsonl");
    write_file(path, kLine);
    Reports r;
    struct rlimit old_limit;
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    {
        FileSink sink(path, r.callback());
        struct rlimit small = old_limit;
        small.rlim_cur = kLine.size() + 100;
        ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
        sink.produce(msg("t", "", "{\"n\":1}", 1));
        sink.produce(msg("t", "", "\"" + std::string(500, 'x') + "\"", 2));
        EXPECT_FALSE(sink.flush(1000));
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        EXPECT_TRUE(sink.fatal());
        EXPECT_NE(r.last_error.find("File too large"), std::string::npos) << r.last_error;
        EXPECT_NE(r.last_error.find("removed the 100 bytes"), std::string::npos) << r.last_error;
    }
    std::signal(SIGXFSZ, old_handler);
    ASSERT_EQ(r.all.size(), 2u);
    EXPECT_FALSE(r.all[0].second);
    EXPECT_FALSE(r.all[1].second);
    EXPECT_EQ(read_file(path), kLine) << "the failed batch is cut back to where it began";
}

TEST(FileSink, AppendsAcrossInstances) {
    std::string path = temp_path("fs_append.jsonl");
    Reports r;
    for (int i = 0; i < 2; i++) {
        FileSink sink(path, r.callback());
        sink.produce(msg("t", "", "{}", 1));
        sink.flush(1000);
    }
    const std::string line = "{\"topic\":\"t\",\"key\":null,\"value\":{}}\n";
    EXPECT_EQ(read_file(path), line + line) << "a restart appends (at-least-once)";
}

}  // namespace
}  // namespace walcast
