#include "incremental/finished_prefix.h"

namespace walcast {

std::optional<FinishedPrefix::Advance> FinishedPrefix::confirmed(std::uint64_t no,
                                                                 const KeyValues &end_key,
                                                                 std::uint64_t rows) {
    if (no < next_) return std::nullopt;  // already in the prefix
    done_[no] = Done{end_key, rows};
    std::optional<Advance> out;
    for (auto it = done_.begin(); it != done_.end() && it->first == next_; it = done_.erase(it)) {
        if (!out) out = Advance{0, last_key_, 0};
        if (!it->second.end_key.empty()) out->last_key = it->second.end_key;
        out->rows += it->second.rows;
        next_++;
    }
    if (out) {
        out->chunks = next_;
        last_key_ = out->last_key;
    }
    return out;
}

}  // namespace walcast
