// The compact forms `walcast verify` compares and spills: a row as its columns sorted by
// name ("name\0value\0..." with values as minified JSON), a key as minified JSON, and the
// 64-bit hashes that place a key in a bucket and sum a table's state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace walcast {

// Column name -> canonical JSON of its value.
using FoldedRow = std::map<std::string, std::string>;

// A fast 64-bit hash of bytes (not for adversaries).
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

// The order-independent contribution of one (key, row) to a table checksum: equal sets
// of rows give equal sums whatever the order they are added in.
inline std::uint64_t row_digest(std::string_view key, std::string_view row) {
    return hash64(row, hash64(key, 0x9e3779b97f4a7c15ULL));
}

// Which of `buckets` a canonical key belongs to.
inline std::uint32_t bucket_of(std::string_view key, std::uint32_t buckets) {
    return buckets <= 1 ? 0 : static_cast<std::uint32_t>(hash64(key, 7) % buckets);
}

// A JSON object's fields sorted by name, in the compact form.
std::string encode_row(simdjson::dom::object object);
// The compact form back as a map (for descriptions of differences).
FoldedRow decode_row(std::string_view row);

}  // namespace walcast
