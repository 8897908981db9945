#include "snapshot/snapshot_batch.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/connect_schemas.h"
#include "common/frame_error.h"

namespace walcast {

ChunkTemplate ChunkTemplate::parse(std::string_view frame) {
    // Topics and JSON never hold a raw tab, so the three tabs delimit the fields.
    auto fail = [&] {
        return FrameError("malformed snapshot template frame: '" +
                          std::string(frame.substr(0, 60)) + "'");
    };
    if (frame.size() < 2 || frame.substr(0, 2) != "S\t") throw fail();
    std::string_view rest = frame.substr(2);
    std::vector<std::string_view> fields;
    for (;;) {
        auto tab = rest.find('\t');
        fields.push_back(rest.substr(0, tab));
        if (tab == std::string_view::npos) break;
        rest.remove_prefix(tab + 1);
    }
    if (fields.size() != 3 && fields.size() != 5) throw fail();
    ChunkTemplate t;
    t.topic = fields[0];
    t.head = fields[1];
    t.tail = fields[2];
    if (fields.size() == 5) {
        if (fields[4].empty()) throw fail();
        t.key_schema = fields[3];
        t.value_schema = fields[4];
    }
    return t;
}

void ChunkTemplate::wrap_with_schemas(bool keys, bool values) {
    if (!keys && !values) return;
    if (value_schema.empty())
        throw FrameError("snapshot template of " + topic + " carries no schemas");
    if (keys && !key_schema.empty()) key_head = schema_envelope_head(key_schema);
    if (values) {
        head = schema_envelope_head(value_schema) + head;
        value_close = "}";
    }
}

std::string_view ChunkTemplate::key_of(std::string_view key, std::string &scratch) const {
    if (key_head.empty() || key.empty()) return key;
    scratch.assign(key_head);
    scratch.append(key);
    scratch.push_back('}');
    return scratch;
}

void RowBatch::add_rows(std::string_view rows) {
    if (rows.empty()) return;
    if (rows.back() != '\n')
        throw FrameError(
            "malformed snapshot rows: no final newline after '" +
            std::string(rows.substr(rows.size() - std::min<std::size_t>(60, rows.size()))) + "'");
    const std::size_t base = data.size();
    data.append(rows);
    for (const char *p = rows.data(), *end = rows.data() + rows.size(); p < end;) {
        const char *nl = static_cast<const char *>(std::memchr(p, '\n', end - p));
        ends.push_back(static_cast<std::uint32_t>(base + (nl - rows.data())));
        p = nl + 1;
    }
}

SnapshotRow RowBatch::row(std::size_t i) const {
    std::size_t begin = i == 0 ? 0 : ends[i - 1] + 1;
    std::string_view r(data.data() + begin, ends[i] - begin);
    auto tab = r.find('\t');
    if (tab == std::string_view::npos)
        throw FrameError("malformed snapshot row: '" + std::string(r.substr(0, 60)) + "'");
    return SnapshotRow{r.substr(0, tab), r.substr(tab + 1)};
}

std::string envelope_times(std::int64_t micros) {
    return ",\"ts_ms\":" + std::to_string(micros / 1000) + ",\"ts_us\":" + std::to_string(micros) +
           ",\"ts_ns\":" + std::to_string(micros * 1000) + "}";
}

std::int64_t unix_micros_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string with_snapshot_marker(std::string_view value, std::string_view marker) {
    static constexpr std::string_view kDefault = "\"snapshot\":\"true\"";
    std::string out(value);
    auto pos = out.find(kDefault);
    if (pos != std::string::npos)
        out.replace(pos, kDefault.size(), "\"snapshot\":\"" + std::string(marker) + "\"");
    return out;
}

Message snapshot_message(const ChunkTemplate &t, const SnapshotRow &row, std::string_view tail,
                         std::string_view times, DeliveryToken token) {
    Message msg;
    msg.topic = t.topic;
    msg.key = row.key;
    msg.value = t.head;
    msg.value_more[0] = row.after;
    msg.value_more[1] = tail;
    msg.value_more[2] = times;
    msg.token = token;
    return msg;
}

}  // namespace walcast
