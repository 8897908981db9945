// The transactions a chunk's read saw, from pg_current_snapshot() of its statement
// ("xmin:xmax:xip,..."), to tell which streamed transactions the read missed.
//
// PostgreSQL writes a transaction's commit record before it leaves the proc array, so a
// transaction whose commit the stream decodes before a chunk's low watermark can still be
// invisible to the read that follows the watermark. Its change then comes out of the
// stream before the window opens and the read holds the older row: the window must drop
// that key too (WindowSet keeps the changes decoded before the windows for this).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace walcast {

struct SnapshotXids {
    // 32-bit transaction ids (what the stream's begin frames carry), compared modulo 2^32
    // as PostgreSQL compares them.
    std::uint32_t xmin = 0, xmax = 0;
    std::vector<std::uint32_t> xip;
    bool valid = false;

    // Nothing valid for text that is not a snapshot.
    static SnapshotXids parse(std::string_view text);
    // Whether a transaction that committed is visible to the snapshot.
    bool sees(std::uint32_t xid) const;
};

// a precedes b, modulo 2^32 (PostgreSQL's TransactionIdPrecedes for normal ids).
inline bool xid_precedes(std::uint32_t a, std::uint32_t b) {
    return static_cast<std::int32_t>(a - b) < 0;
}

}  // namespace walcast
