#include "config/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace walcast {

namespace {

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void fail(const std::string &path, const std::string &why) {
    throw std::runtime_error(path + ": " + why);
}

}  // namespace

BoundedFile read_bounded_file(const std::string &path, std::size_t max_bytes) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0) fail(path, std::strerror(errno));
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) fail(path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not a file");
    if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file (a device, pipe or socket)");
    if (static_cast<std::size_t>(st.st_size) > max_bytes)
        fail(path, "is larger than " + std::to_string(max_bytes) + " bytes");

    BoundedFile out;
    out.mode = st.st_mode & 07777;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, std::strerror(errno));
        if (n == 0) break;
        out.text.append(buf, static_cast<std::size_t>(n));
        // The file may grow after fstat: the limit holds for what is read.
        if (out.text.size() > max_bytes)
            fail(path, "is larger than " + std::to_string(max_bytes) + " bytes");
    }
    return out;
}

}  // namespace walcast
