#include "stream/frame.h"

#include <charconv>

namespace walcast {

namespace {

// Splits off the next tab-terminated field; the remainder stays in `rest`.
std::string_view next_field(std::string_view &rest, const char *what) {
    auto tab = rest.find('\t');
    if (tab == std::string_view::npos)
        throw FrameError(std::string("malformed frame: missing field after ") + what);
    std::string_view field = rest.substr(0, tab);
    rest.remove_prefix(tab + 1);
    return field;
}

std::uint64_t parse_u64(std::string_view s, const char *what) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        throw FrameError(std::string("malformed frame: bad ") + what + " '" + std::string(s) + "'");
    return v;
}

// For error messages: the start of the frame, printable.
std::string excerpt(std::string_view data) {
    std::string out(data.substr(0, 60));
    for (char &c : out)
        if (c == '\t') c = ' ';
    return out;
}

Frame parse(std::string_view data) {
    Frame f;
    if (data.size() < 2 || data[1] != '\t') throw FrameError("malformed frame: no frame type");
    std::string_view rest = data.substr(2);
    switch (data[0]) {
        case 'B':
            f.type = FrameType::kBegin;
            f.xid = parse_u64(next_field(rest, "B"), "xid");
            f.commit_lsn = parse_u64(next_field(rest, "xid"), "commit_lsn");
            f.end_lsn = parse_u64(next_field(rest, "commit_lsn"), "end_lsn");
            f.metadata = rest;
            return f;
        case 'E': {
            f.type = FrameType::kEvent;
            std::string_view op = next_field(rest, "E");
            if (op.size() != 1 || std::string_view("cudrtm").find(op[0]) == std::string_view::npos)
                throw FrameError("malformed frame: unknown op '" + std::string(op) + "'");
            f.op = op[0];
            f.topic = next_field(rest, "op");
            if (f.topic.empty()) throw FrameError("malformed frame: empty topic");
            f.key = next_field(rest, "topic");
            f.value = rest;
            if (f.value.empty()) throw FrameError("malformed frame: empty value");
            return f;
        }
        case 'R':
            f.type = FrameType::kSchema;
            f.topic = next_field(rest, "R");
            if (f.topic.empty()) throw FrameError("malformed frame: empty topic");
            f.key = next_field(rest, "topic");
            f.value = rest;
            if (f.value.empty()) throw FrameError("malformed frame: empty value schema");
            return f;
        case 'W':
            f.type = FrameType::kControl;
            f.end_lsn = parse_u64(next_field(rest, "W"), "message lsn");
            f.value = rest;
            return f;
        case 'C':
            f.type = FrameType::kCommit;
            f.end_lsn = parse_u64(next_field(rest, "C"), "end_lsn");
            f.metadata = rest;
            return f;
        default:
            throw FrameError(std::string("malformed frame: unknown frame type '") + data[0] + "'");
    }
}

}  // namespace

Frame parse_frame(std::string_view data) {
    try {
        return parse(data);
    } catch (const FrameError &e) {
        throw FrameError(std::string(e.what()) + " in \"" + excerpt(data) + "\"");
    }
}

}  // namespace walcast
