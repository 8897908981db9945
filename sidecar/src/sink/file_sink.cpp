#include "sink/file_sink.h"

#include "common/json_text.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace walcast {

std::uint64_t remove_torn_tail(int fd, const std::string &path) {
    struct stat st;
    if (::fstat(fd, &st) != 0)
        throw std::runtime_error("cannot stat sink file " + path + ": " + std::strerror(errno));
    const off_t size = st.st_size;
    // Scan back for the last newline; everything after it is an incomplete line.
    char buf[65536];
    off_t end = size;
    off_t keep = 0;
    while (end > 0) {
        const off_t start = std::max<off_t>(0, end - static_cast<off_t>(sizeof buf));
        const ssize_t n = ::pread(fd, buf, static_cast<std::size_t>(end - start), start);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("cannot read sink file " + path + ": " + std::strerror(errno));
        }
        if (n != end - start)
            throw std::runtime_error("sink file " + path + " changed while it was checked");
        const char *nl = static_cast<const char *>(::memrchr(buf, '\n', std::size_t(n)));
        if (nl) {
            keep = start + (nl - buf) + 1;
            break;
        }
        end = start;
    }
    if (keep == size) return 0;
    if (::ftruncate(fd, keep) != 0 || ::fsync(fd) != 0)
        throw std::runtime_error("cannot remove the incomplete last line of sink file " + path +
                                 ": " + std::strerror(errno));
    return static_cast<std::uint64_t>(size - keep);
}

FileSink::FileSink(const std::string &path, DeliveryCallback on_delivery, FileSinkOptions opts)
    : path_(path), is_stdout_(path.empty()), on_delivery_(std::move(on_delivery)), opts_(opts) {
    if (is_stdout_) {
        fd_ = STDOUT_FILENO;
    } else {
        std::string error = open_file();
        if (!error.empty()) throw std::runtime_error(error);
    }
    writer_ = std::thread(&FileSink::writer_main, this);
}

std::string FileSink::open_file() {
    // A pipe or device keeps the old behaviour: write-only, nothing to repair or check.
    struct stat st;
    const bool special = ::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    // Append: a restart after a crash adds to what is there (at-least-once). Read access
    // is only for finding a torn tail.
    const int flags = (special ? O_WRONLY : O_RDWR) | O_CREAT | O_APPEND | O_CLOEXEC;
    int fd = ::open(path_.c_str(), flags, 0644);
    bool readable = true;
    if (fd < 0 && errno == EACCES && !special) {
        // A write-only file: it can still be appended to, its tail just cannot be checked.
        fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        readable = false;
        if (fd >= 0)
            spdlog::warn("sink file {} is not readable: an incomplete last line cannot be found",
                         path_);
    }
    if (fd < 0) return "cannot open sink file " + path_ + ": " + std::strerror(errno);
    if (::fstat(fd, &st) != 0) {
        std::string error = "cannot stat sink file " + path_ + ": " + std::strerror(errno);
        ::close(fd);
        return error;
    }
    if (S_ISREG(st.st_mode) && readable) {
        try {
            // Bytes after the last newline were never confirmed: the events they held are
            // sent again from the slot (or re-read by a resumed snapshot).
            if (std::uint64_t removed = remove_torn_tail(fd, path_))
                spdlog::warn(
                    "sink file {}: removed an incomplete last line ({} bytes) left by an "
                    "interrupted write; its events were never acknowledged and are sent again",
                    path_, removed);
        } catch (const std::runtime_error &e) {
            ::close(fd);
            return e.what();
        }
    }
    if (fd_ >= 0 && fd_ != STDOUT_FILENO) ::close(fd_);
    fd_ = fd;
    regular_ = S_ISREG(st.st_mode);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    return {};
}

bool FileSink::file_replaced() const {
    struct stat open_st, path_st;
    if (::fstat(fd_, &open_st) != 0 || open_st.st_nlink == 0) return true;
    if (::stat(path_.c_str(), &path_st) != 0) return true;
    return path_st.st_dev != dev_ || path_st.st_ino != ino_;
}

FileSink::~FileSink() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;  // the writer writes and syncs what is left first; nobody hears of it
    }
    wake_writer_.notify_all();
    writer_.join();
    if (!is_stdout_ && fd_ >= 0) ::close(fd_);
}

bool FileSink::produce(const Message &msg) {
    if (msg.topic != topic_ || topic_prefix_.empty()) {
        topic_.assign(msg.topic);
        topic_prefix_ = "{\"topic\":";
        append_json_string(topic_prefix_, msg.topic);
        topic_prefix_ += ",\"key\":";
    }
    std::lock_guard<std::mutex> lock(mu_);
    // Full: the caller polls and retries. Bounds memory while the disk catches up.
    if (fatal_ || waiting_.size() >= opts_.max_pending || buffer_.size() >= opts_.sync_bytes)
        return false;
    const bool first = waiting_.empty();
    buffer_ += topic_prefix_;
    buffer_.append(msg.key.empty() ? std::string_view("null") : msg.key);
    buffer_ += ",\"value\":";
    if (msg.tombstone || msg.value_size() == 0)
        buffer_ += "null";
    else
        msg.append_value(buffer_);
    buffer_ += "}\n";
    if (first) first_waiting_ = Clock::now();
    waiting_.push_back(msg.token);
    // Wake the writer to start its window, or because the batch is full.
    if (first || buffer_.size() >= opts_.sync_bytes || waiting_.size() >= opts_.max_pending)
        wake_writer_.notify_one();
    return true;
}

std::string FileSink::append_batch(const std::string &batch) {
    const std::string where = is_stdout_ ? std::string("stdout") : path_;
    // Where this batch begins: a failed write or sync is cut back to it, so the file
    // never keeps a torn line (or unconfirmed lines) in front of the next batch.
    const off_t start = regular_ ? ::lseek(fd_, 0, SEEK_END) : -1;
    auto undo = [&](std::string error) {
        if (start < 0) return error;
        struct stat st;
        if (::fstat(fd_, &st) == 0 && st.st_size > start) {
            if (::ftruncate(fd_, start) == 0)
                error += "; removed the " + std::to_string(st.st_size - start) +
                         " bytes written of this batch";
            else
                error += "; could not remove the bytes written of this batch (" +
                         std::string(std::strerror(errno)) + "), the next start will";
        }
        return error;
    };
    std::size_t off = 0;
    while (off < batch.size()) {
        ssize_t n = ::write(fd_, batch.data() + off, batch.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return undo("write to " + where + " failed: " + std::strerror(errno));
        }
        off += static_cast<std::size_t>(n);
    }
    // Pipes and devices (a FIFO, /dev/null) cannot be synced: written is all there is.
    if (!is_stdout_ && ::fsync(fd_) != 0 && errno != EINVAL && errno != ENOTSUP)
        return undo("fsync of " + path_ + " failed: " + std::strerror(errno));
    return {};
}

std::string FileSink::write_and_sync(const std::string &batch) {
    if (!regular_) return append_batch(batch);
    // A file deleted or rotated away is reopened at the path; a batch that went to the
    // old file while that happened is written again to the new one before it counts as
    // delivered. The old file keeps its complete copy (at-least-once).
    bool written = false;  // this batch is in a file that is no longer at the path
    for (int reopened = 0;; reopened++) {
        if (file_replaced()) {
            if (reopened >= 3)
                return "sink file " + path_ + " keeps being replaced; not confirming";
            spdlog::warn("sink file {} was deleted or replaced (rotated?); reopening it{}", path_,
                         written ? " and writing the unconfirmed batch again there" : "");
            std::string error = open_file();
            if (!error.empty()) return error;
        }
        std::string error = append_batch(batch);
        if (!error.empty()) return error;
        if (!file_replaced()) return {};
        written = true;
    }
}

void FileSink::writer_main() {
    std::string batch, spare;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        if (waiting_.empty()) {
            if (stop_) return;
            wake_writer_.wait(lock, [&] { return stop_ || !waiting_.empty(); });
            continue;
        }
        auto full = [&] {
            return stop_ || flush_requested_ || fatal_ || buffer_.size() >= opts_.sync_bytes ||
                   waiting_.size() >= opts_.max_pending;
        };
        wake_writer_.wait_until(
            lock, first_waiting_ + std::chrono::milliseconds(opts_.sync_interval_ms), full);
        // Group commit: everything formatted so far goes in this write and sync.
        batch.swap(buffer_);
        buffer_.swap(spare);
        std::vector<DeliveryToken> tokens;
        tokens.swap(waiting_);
        flush_requested_ = false;
        syncing_ = tokens.size();
        const bool already_failed = fatal_;
        lock.unlock();
        std::string error = already_failed ? std::string() : write_and_sync(batch);
        batch.clear();
        lock.lock();
        spare.swap(batch);
        syncing_ = 0;
        if (!error.empty()) {
            error_ = error;
            fatal_ = true;
        }
        for (DeliveryToken t : tokens) done_.push_back(Report{t, !fatal_});
        if (!fatal_) delivered_ += tokens.size();
        batch_done_.notify_all();
    }
}

void FileSink::poll(int timeout_ms) {
    std::vector<Report> reports;
    std::string error;
    {
        std::unique_lock<std::mutex> lock(mu_);
        if (done_.empty() && timeout_ms > 0 && (!waiting_.empty() || syncing_ > 0))
            batch_done_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                 [&] { return !done_.empty(); });
        reports.swap(done_);
        error = error_;
    }
    for (const Report &r : reports) on_delivery_(r.token, r.ok, r.ok ? std::string() : error);
}

bool FileSink::flush(int timeout_ms) {
    {
        std::unique_lock<std::mutex> lock(mu_);
        flush_requested_ = true;
        wake_writer_.notify_one();
        batch_done_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return waiting_.empty() && syncing_ == 0; });
    }
    poll(0);
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_.empty() && syncing_ == 0 && !fatal_;
}

std::size_t FileSink::outstanding() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_.size() + syncing_ + done_.size();
}

std::string FileSink::describe() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string where = is_stdout_ ? "stdout" : "file:" + path_;
    std::string s = where + " (" + std::to_string(delivered_) + " delivered, " +
                    std::to_string(waiting_.size() + syncing_) + " pending)";
    if (fatal_) s += " FAILED: " + error_;
    return s;
}

}  // namespace walcast
