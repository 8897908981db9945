#include "verify/spill_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace walcast {

namespace {

std::runtime_error io_error(const std::string &what, const std::string &path) {
    return std::runtime_error("verify: " + what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

SpillFiles::SpillFiles(const std::string &dir, std::uint32_t buckets, std::size_t buffer_bytes)
    : buffers_(buckets), buffer_bytes_(buffer_bytes) {
    std::string base = dir;
    if (base.empty()) {
        const char *tmp = std::getenv("TMPDIR");
        base = tmp && *tmp ? tmp : "/tmp";
    }
    std::string templ = base + "/walcast-verify-XXXXXX";
    if (!mkdtemp(templ.data())) throw io_error("cannot make a spill directory in", base);
    dir_ = templ;
}

SpillFiles::~SpillFiles() {
    for (std::uint32_t b = 0; b < buffers_.size(); b++) ::unlink(path(b).c_str());
    ::rmdir(dir_.c_str());
}

std::string SpillFiles::path(std::uint32_t bucket) const {
    return dir_ + "/" + std::to_string(bucket);
}

void SpillFiles::append(std::uint32_t bucket, std::string_view record) {
    std::string &buffer = buffers_[bucket];
    auto n = static_cast<std::uint32_t>(record.size());
    buffer.append(reinterpret_cast<const char *>(&n), sizeof n);
    buffer.append(record);
    if (buffer.size() >= buffer_bytes_) write_out(bucket);
}

void SpillFiles::write_out(std::uint32_t bucket) {
    std::string &buffer = buffers_[bucket];
    if (buffer.empty()) return;
    const std::string p = path(bucket);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw io_error("cannot write", p);
    const char *data = buffer.data();
    std::size_t left = buffer.size();
    while (left > 0) {
        ssize_t w = ::write(fd, data, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            ::close(fd);
            throw io_error("cannot write", p);
        }
        data += w;
        left -= static_cast<std::size_t>(w);
    }
    ::close(fd);
    bytes_written_ += buffer.size();
    buffer.clear();
    // Keep the capacity small: a bucket's buffer is refilled from empty.
    if (buffer.capacity() > 2 * buffer_bytes_) buffer.shrink_to_fit();
}

void SpillFiles::flush() {
    for (std::uint32_t b = 0; b < buffers_.size(); b++) write_out(b);
}

void SpillFiles::read(std::uint32_t bucket,
                      const std::function<void(std::string_view)> &on_record) const {
    const std::string p = path(bucket);
    std::unique_ptr<FILE, int (*)(FILE *)> f(std::fopen(p.c_str(), "rb"), std::fclose);
    if (!f) {
        if (errno == ENOENT) return;  // nothing was spilled to this bucket
        throw io_error("cannot read", p);
    }
    std::string record;
    std::uint32_t n = 0;
    while (std::fread(&n, sizeof n, 1, f.get()) == 1) {
        record.resize(n);
        if (n > 0 && std::fread(record.data(), 1, n, f.get()) != n)
            throw std::runtime_error("verify: spill file " + p + " ends inside a record");
        on_record(record);
    }
    if (std::ferror(f.get())) throw io_error("cannot read", p);
}

void SpillFiles::remove(std::uint32_t bucket) { ::unlink(path(bucket).c_str()); }

}  // namespace walcast
