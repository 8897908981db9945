#include "verify/row_codec.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace walcast {

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
    // Eight bytes a step (the fold hashes every row it sums), then splitmix64's avalanche
    // so that the low bits make good bucket numbers. Not for adversaries: a collision only
    // sends a bucket to the exact key-by-key comparison.
    constexpr std::uint64_t k1 = 0x9e3779b97f4a7c15ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
    std::uint64_t h = seed ^ (bytes.size() * k1);
    const char *p = bytes.data();
    std::size_t n = bytes.size();
    auto step = [&](std::uint64_t w) {
        w *= k2;
        w = (w << 31) | (w >> 33);
        h = ((h ^ w) << 27 | (h ^ w) >> 37) * k1 + 0x52dce729;
    };
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        step(w);
    }
    if (n > 0) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        step(w ^ (static_cast<std::uint64_t>(n) << 56));
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

std::string encode_row(simdjson::dom::object object) {
    // Scratch space reused across rows (this runs once per event): values minified back to
    // back, and per field its name and where its value is.
    struct Field {
        std::string_view name;
        std::size_t begin, end;
    };
    thread_local simdjson::internal::string_builder<> values;
    thread_local std::vector<Field> fields;
    values.clear();
    fields.clear();
    std::size_t size = 0;
    for (auto field : object) {
        const std::size_t begin = values.str().size();
        values.append(field.value);
        fields.push_back(Field{field.key, begin, values.str().size()});
        size += field.key.size() + (values.str().size() - begin) + 2;
    }
    // Columns come in table order from both sides; sorting makes the form independent of it.
    auto by_name = [](const Field &a, const Field &b) { return a.name < b.name; };
    if (!std::is_sorted(fields.begin(), fields.end(), by_name))
        std::sort(fields.begin(), fields.end(), by_name);
    const std::string_view all = values.str();
    std::string out;
    out.reserve(size);
    for (const Field &f : fields) {
        out.append(f.name);
        out.push_back('\0');
        out.append(all.substr(f.begin, f.end - f.begin));
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
