// Records spilled to disk by bucket, for `walcast verify`: one file per bucket in a
// private directory that is removed with the object. Appends are buffered per bucket and
// written with the file opened only for the write, so that thousands of buckets need no
// open file each.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace walcast {

class SpillFiles {
public:
    // dir: where the private directory is made (empty: $TMPDIR or /tmp).
    SpillFiles(const std::string &dir, std::uint32_t buckets, std::size_t buffer_bytes);
    ~SpillFiles();
    SpillFiles(const SpillFiles &) = delete;
    SpillFiles &operator=(const SpillFiles &) = delete;

    // One record (any bytes) into a bucket. Throws std::runtime_error on a write error.
    void append(std::uint32_t bucket, std::string_view record);
    // Writes what is buffered; call before reading.
    void flush();
    // Every record of a bucket, in append order (safe from several threads at once for
    // different buckets once flushed).
    void read(std::uint32_t bucket, const std::function<void(std::string_view)> &on_record) const;
    // Frees a bucket's disk space once it is no longer needed.
    void remove(std::uint32_t bucket);
    std::uint64_t bytes_written() const { return bytes_written_; }

private:
    std::string path(std::uint32_t bucket) const;
    void write_out(std::uint32_t bucket);

    std::string dir_;
    std::vector<std::string> buffers_;
    std::size_t buffer_bytes_;
    std::uint64_t bytes_written_ = 0;
};

}  // namespace walcast
