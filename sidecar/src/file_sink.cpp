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
}

FileSink::~FileSink() {
    if (!pending_.empty() && !fatal_) sync();
    if (!is_stdout_ && fd_ >= 0) ::close(fd_);
}

bool FileSink::produce(const Message &msg) {
    // Full: the caller polls (which syncs) and retries. Bounds memory.
    if (fatal_ || pending_.size() >= opts_.max_pending || unsynced_bytes_ >= opts_.sync_bytes)
        return false;
    std::size_t before = buffer_.size();
    buffer_ += "{\"topic\":";
    append_json_string(buffer_, msg.topic);
    buffer_ += ",\"key\":";
    buffer_.append(msg.key.empty() ? std::string_view("null") : msg.key);
    buffer_ += ",\"value\":";
    buffer_.append(msg.tombstone || msg.value.empty() ? std::string_view("null") : msg.value);
    buffer_ += "}\n";
    unsynced_bytes_ += buffer_.size() - before;
    if (pending_.empty()) first_pending_ = Clock::now();
    pending_.push_back(msg.token);
    // Hand big buffers to the kernel early; the fsync still waits for poll().
    if (buffer_.size() >= (1u << 20)) write_buffer();
    return true;
}

bool FileSink::write_buffer() {
    std::size_t off = 0;
    while (off < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            error_ = "write to " + (is_stdout_ ? std::string("stdout") : path_) +
                     " failed: " + std::strerror(errno);
            fatal_ = true;
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    buffer_.clear();
    return true;
}

void FileSink::sync() {
    bool ok = !fatal_ && write_buffer();
    if (ok && !is_stdout_ && ::fsync(fd_) != 0) {
        error_ = "fsync of " + path_ + " failed: " + std::strerror(errno);
        fatal_ = true;
        ok = false;
    }
    std::vector<DeliveryToken> done;
    done.swap(pending_);
    unsynced_bytes_ = 0;
    if (ok) delivered_ += done.size();
    for (DeliveryToken t : done) on_delivery_(t, ok, ok ? std::string() : error_);
}

void FileSink::poll(int timeout_ms) {
    if (pending_.empty()) return;
    auto due = first_pending_ + std::chrono::milliseconds(opts_.sync_interval_ms);
    bool full = pending_.size() >= opts_.max_pending || unsynced_bytes_ >= opts_.sync_bytes;
    auto now = Clock::now();
    if (!full && now < due) {
        if (timeout_ms <= 0) return;
        // Wait for the batch window, but no longer than the caller allows.
        auto until = std::min(due, now + std::chrono::milliseconds(timeout_ms));
        std::this_thread::sleep_until(until);
        if (until < due) return;
    }
    sync();
}

bool FileSink::flush(int /*timeout_ms*/) {
    if (!pending_.empty()) sync();
    return pending_.empty() && !fatal_;
}

std::string FileSink::describe() const {
    std::string where = is_stdout_ ? "stdout" : "file:" + path_;
    std::string s = where + " (" + std::to_string(delivered_) + " delivered, " +
                    std::to_string(pending_.size()) + " pending)";
    if (fatal_) s += " FAILED: " + error_;
    return s;
}

}  // namespace walcast
