// Reading small files that a user names (the configuration, a password file):
// only regular files, and only up to a size limit, so that a directory, a pipe
// or /dev/zero fails with a clear message instead of hanging or exhausting memory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace walcast {

struct BoundedFile {
    std::string text;
    mode_t mode = 0;  // permission bits, for "readable by every user" warnings
};

// Throws std::runtime_error naming the path and the reason.
BoundedFile read_bounded_file(const std::string &path, std::size_t max_bytes);

// True when users other than the owner and the group can read the file.
inline bool world_readable(mode_t mode) { return (mode & 0004) != 0; }

}  // namespace walcast
