#include "snapshot/progress_table.h"

#include <cstdio>

namespace walcast {

namespace {

// Decodes one UTF-8 character at s[i]; returns its length in bytes (1 for an invalid
// byte, decoded as U+FFFD).
std::size_t decode(const std::string &s, std::size_t i, char32_t &cp) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) {
        cp = 0xfffd;
        return 1;
    }
    cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc >> 6) != 0x2) {
            cp = 0xfffd;
            return 1;
        }
        cp = (cp << 6) | (cc & 0x3f);
    }
    return len;
}

int char_width(char32_t cp) {
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 1;  // shown as '?'
    if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
        (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
        (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0x200b || cp == 0x200d)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

std::string pad_left(const std::string &s, std::size_t width) {
    std::string cell = fit_width(s, width);
    return std::string(width - display_width(cell), ' ') + cell;
}

std::string pad_right(const std::string &s, std::size_t width) {
    std::string cell = fit_width(s, width);
    return cell + std::string(width - display_width(cell), ' ');
}

std::string percent(double fraction) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100);
    return buf;
}

// Column widths: name, done, read, delivered, size, rows/s, ETA, one space between.
constexpr std::size_t kName = 25, kDone = 6, kRead = 7, kDelivered = 9, kSize = 9, kRate = 7,
                      kEta = 8;

std::string row_line(const std::string &name, const std::string &done, const std::string &read,
                     const std::string &delivered, const std::string &size, const std::string &rate,
                     const std::string &eta) {
    return pad_right(name, kName) + " " + pad_left(done, kDone) + " " + pad_left(read, kRead) +
           " " + pad_left(delivered, kDelivered) + " " + pad_left(size, kSize) + " " +
           pad_left(rate, kRate) + " " + pad_left(eta, kEta);
}

std::string row_line(const ProgressRow &r) {
    return row_line(r.name, percent(r.fraction), human_count(static_cast<double>(r.rows)),
                    human_count(static_cast<double>(r.acked)),
                    human_bytes(static_cast<double>(r.bytes)), human_count(r.rate),
                    r.done ? "done" : human_duration(r.eta_seconds));
}

// n in the largest of six units, each `base` times the one before, that keeps it below
// base once rounded to one decimal: no "1000.0k".
std::string scaled(double n, double base, const char *const (&units)[6], const char *sep) {
    int u = 0;
    while (n >= base - 0.05 && u < 5) n /= base, u++;
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s%s" : "%.1f%s%s", n, sep, units[u]);
    return buf;
}

}  // namespace

std::size_t display_width(const std::string &s) {
    std::size_t width = 0;
    char32_t cp;
    for (std::size_t i = 0; i < s.size();) {
        i += decode(s, i, cp);
        width += static_cast<std::size_t>(char_width(cp));
    }
    return width;
}

std::string fit_width(const std::string &s, std::size_t width) {
    // Control characters (a table may be named "a\nb") become '?': they would move the
    // cursor and break the redraw.
    std::string out;
    std::size_t used = 0;
    bool cut = false;
    char32_t cp;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = decode(s, i, cp);
        int w = char_width(cp);
        bool control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
        if (used + static_cast<std::size_t>(w) > width) {
            cut = true;
            break;
        }
        if (control)
            out += '?';
        else if (cp == 0xfffd && len == 1)
            out += "\xef\xbf\xbd";
        else
            out.append(s, i, len);
        used += static_cast<std::size_t>(w);
        i += len;
    }
    if (cut && width > 0) {
        // Drop characters until "~" fits in their place.
        while (!out.empty() && used + 1 > width) {
            std::size_t start = out.size() - 1;
            while (start > 0 && (static_cast<unsigned char>(out[start]) >> 6) == 0x2) --start;
            used -= display_width(out.substr(start));
            out.erase(start);
        }
        out += '~';
    }
    return out;
}

std::string human_count(double n) {
    static const char *const units[] = {"", "k", "M", "G", "T", "P"};
    return scaled(n, 1000, units, "");
}

std::string human_bytes(double bytes) {
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    return scaled(bytes, 1024, units, " ");
}

std::string human_duration(double seconds) {
    if (seconds < 0) return "?";
    if (seconds >= 100 * 3600.0) return ">99h";
    char buf[32];
    long s = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
}

std::vector<std::string> render_progress_table(const std::vector<ProgressRow> &tables,
                                               const ProgressRow &total, const std::string &footer,
                                               std::size_t width) {
    std::vector<std::string> lines;
    lines.push_back(row_line("table", "done", "read", "delivered", "size", "rows/s", "ETA"));
    // Unfinished tables first: they are what the user waits for.
    std::vector<const ProgressRow *> shown;
    for (const auto &t : tables)
        if (!t.done) shown.push_back(&t);
    for (const auto &t : tables)
        if (t.done) shown.push_back(&t);
    std::size_t limit = tables.size() > kProgressTableRows ? kProgressTableRows - 1 : tables.size();
    for (std::size_t i = 0; i < limit; ++i) lines.push_back(row_line(*shown[i]));
    if (limit < tables.size()) {
        std::size_t done = 0;
        for (std::size_t i = limit; i < shown.size(); ++i) done += shown[i]->done ? 1 : 0;
        lines.push_back("... and " + std::to_string(tables.size() - limit) + " more tables (" +
                        std::to_string(done) + " of them done)");
    }
    lines.push_back(row_line(total));
    lines.push_back(footer);
    for (auto &line : lines) line = fit_width(line, width);
    return lines;
}

}  // namespace walcast
