#include "verify/row_codec.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace walcast {

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
    std::uint64_t h = 1469598103934665603ULL ^ seed;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    // A final avalanche (splitmix64's): FNV's low bits alone are poor bucket numbers.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

std::string encode_row(simdjson::dom::object object) {
    std::vector<std::pair<std::string_view, std::string>> fields;
    for (auto field : object) fields.emplace_back(field.key, simdjson::minify(field.value));
    // Columns come in table order from both sides; sorting makes the form independent of it.
    if (!std::is_sorted(fields.begin(), fields.end(),
                        [](const auto &a, const auto &b) { return a.first < b.first; }))
        std::sort(fields.begin(), fields.end(),
                  [](const auto &a, const auto &b) { return a.first < b.first; });
    std::string out;
    for (const auto &[name, value] : fields) {
        out.append(name);
        out.push_back('\0');
        out.append(value);
        out.push_back('\0');
    }
    return out;
}

FoldedRow decode_row(std::string_view row) {
    FoldedRow out;
    while (!row.empty()) {
        auto a = row.find('\0');
        if (a == std::string_view::npos) break;
        auto b = row.find('\0', a + 1);
        if (b == std::string_view::npos) break;
        out[std::string(row.substr(0, a))] = std::string(row.substr(a + 1, b - a - 1));
        row.remove_prefix(b + 1);
    }
    return out;
}

}  // namespace walcast
