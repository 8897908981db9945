// LSN helpers: Postgres prints LSNs as two 32-bit hex halves ("16/B374D848"),
// the frames and Debezium use the plain 64-bit integer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace walcast {

using Lsn = std::uint64_t;

inline std::string format_lsn(Lsn lsn) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                  static_cast<unsigned>(lsn & 0xffffffffu));
    return buf;
}

// Parses "X/Y"; nullopt when malformed.
std::optional<Lsn> parse_lsn(std::string_view text);

}  // namespace walcast
