// The live snapshot table drawn on a terminal: fixed columns under a header, every line
// at most `width` display columns (80 by default), so a redraw in place never wraps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace walcast {

struct ProgressRow {
    std::string name;         // schema.table, any UTF-8
    double fraction = 0;      // delivered / estimated rows, 0..1
    std::uint64_t rows = 0;   // read
    std::uint64_t acked = 0;  // delivered (confirmed by the sink)
    std::uint64_t bytes = 0;
    double rate = 0;          // rows read per second
    double eta_seconds = -1;  // < 0: unknown
    bool done = false;
};

// At most this many table lines; the rest are summed up in one line, so the block stays
// shorter than a terminal and the cursor can move back over all of it.
inline constexpr std::size_t kProgressTableRows = 12;

// Header, one line per table (unfinished ones first, at most kProgressTableRows), a
// "... more tables" line when some are left out, the total and `footer`. No line is
// wider than `width` display columns.
std::vector<std::string> render_progress_table(const std::vector<ProgressRow> &tables,
                                               const ProgressRow &total, const std::string &footer,
                                               std::size_t width = 80);

// Columns a UTF-8 string takes on a terminal (East Asian wide and fullwidth characters
// count two, combining marks none).
std::size_t display_width(const std::string &s);

// s cut to at most `width` display columns at a character boundary; a cut name ends in "~".
std::string fit_width(const std::string &s, std::size_t width);

std::string human_count(double n);           // 999, 12.3k, 4.6M, 1.2G
std::string human_bytes(double bytes);       // 512 B, 1.2 KB ... TB
std::string human_duration(double seconds);  // 0:01:02, ">99h", "?" when unknown

}  // namespace walcast
