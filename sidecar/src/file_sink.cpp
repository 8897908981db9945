#include "file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace walcast {

void append_json_string(std::string &out, std::string_view s) {
    static const char kHex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out += kHex[(c >> 4) & 0xf];
                    out += kHex[c & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

FileSink::FileSink(const std::string &path, DeliveryCallback on_delivery, FileSinkOptions opts)
    : path_(path), is_stdout_(path.empty()), on_delivery_(std::move(on_delivery)), opts_(opts) {
    if (is_stdout_) {
        fd_ = STDOUT_FILENO;
    } else {
        // Append: a restart after a crash adds to what is there (at-least-once).
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw std::runtime_error("cannot open sink file " + path + ": " + std::strerror(errno));
    }
    writer_ = std::thread(&FileSink::writer_main, this);
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

std::string FileSink::write_and_sync(const std::string &batch) {
    const std::string where = is_stdout_ ? std::string("stdout") : path_;
    std::size_t off = 0;
    while (off < batch.size()) {
        ssize_t n = ::write(fd_, batch.data() + off, batch.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return "write to " + where + " failed: " + std::strerror(errno);
        }
        off += static_cast<std::size_t>(n);
    }
    // Pipes and devices (a FIFO, /dev/null) cannot be synced: written is all there is.
    if (!is_stdout_ && ::fsync(fd_) != 0 && errno != EINVAL && errno != ENOTSUP)
        return "fsync of " + path_ + " failed: " + std::strerror(errno);
    return {};
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
