#include "pg/lsn.h"

namespace walcast {

namespace {
// Parses up to 8 hex digits; false on anything else.
bool parse_hex32(std::string_view s, std::uint32_t &out) {
    if (s.empty() || s.size() > 8) return false;
    std::uint32_t v = 0;
    for (char c : s) {
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v * 16 + static_cast<std::uint32_t>(d);
    }
    out = v;
    return true;
}
}  // namespace

std::optional<Lsn> parse_lsn(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::uint32_t hi, lo;
    if (!parse_hex32(text.substr(0, slash), hi) || !parse_hex32(text.substr(slash + 1), lo))
        return std::nullopt;
    return (static_cast<Lsn>(hi) << 32) | lo;
}

}  // namespace walcast
