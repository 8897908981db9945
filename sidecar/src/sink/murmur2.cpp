#include "sink/murmur2.h"

namespace walcast {

std::int32_t murmur2(std::string_view data) {
    // All arithmetic in uint32_t: Java's int wraps silently, signed overflow in C++ is UB.
    const std::uint32_t m = 0x5bd1e995u;
    const int r = 24;
    const auto *bytes = reinterpret_cast<const unsigned char *>(data.data());
    const std::uint32_t length = static_cast<std::uint32_t>(data.size());

    std::uint32_t h = 0x9747b28cu ^ length;
    const std::uint32_t blocks = length / 4;
    for (std::uint32_t i = 0; i < blocks; ++i) {
        const unsigned char *p = bytes + i * 4;
        std::uint32_t k = std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) |
                          (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
        k *= m;
        k ^= k >> r;  // Java's >>> (logical shift)
        k *= m;
        h *= m;
        h ^= k;
    }

    const unsigned char *tail = bytes + (length & ~3u);
    switch (length % 4) {
        case 3:
            h ^= std::uint32_t(tail[2]) << 16;
            [[fallthrough]];
        case 2:
            h ^= std::uint32_t(tail[1]) << 8;
            [[fallthrough]];
        case 1:
            h ^= std::uint32_t(tail[0]);
            h *= m;
    }

    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return static_cast<std::int32_t>(h);
}

}  // namespace walcast
