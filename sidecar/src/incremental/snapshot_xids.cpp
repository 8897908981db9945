#include "incremental/snapshot_xids.h"

#include <algorithm>
#include <charconv>

namespace walcast {

namespace {

// One xid8 of the text (an epoch-qualified id); its low 32 bits.
bool take_xid(std::string_view &text, std::uint32_t &out) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end == text.data()) return false;
    out = static_cast<std::uint32_t>(v);
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return true;
}

bool take_char(std::string_view &text, char c) {
    if (text.empty() || text.front() != c) return false;
    text.remove_prefix(1);
    return true;
}

}  // namespace

SnapshotXids SnapshotXids::parse(std::string_view text) {
    SnapshotXids s;
    if (!take_xid(text, s.xmin) || !take_char(text, ':') || !take_xid(text, s.xmax) ||
        !take_char(text, ':'))
        return {};
    while (!text.empty()) {
        std::uint32_t xid;
        if (!take_xid(text, xid)) return {};
        s.xip.push_back(xid);
        if (!text.empty() && !take_char(text, ',')) return {};
    }
    s.valid = true;
    return s;
}

bool SnapshotXids::sees(std::uint32_t xid) const {
    if (xid_precedes(xid, xmin)) return true;
    if (!xid_precedes(xid, xmax)) return false;
    return std::find(xip.begin(), xip.end(), xid) == xip.end();
}

}  // namespace walcast
