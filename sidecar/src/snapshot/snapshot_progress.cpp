#include "snapshot/snapshot_progress.h"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace walcast {

namespace {

// Columns of the terminal on stderr, or 80 when unknown; never more than 80 (the table's
// layout), fewer on a narrower terminal so that no line wraps.
std::size_t terminal_width() {
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_col < 80)
        return ws.ws_col;
    return 80;
}

}  // namespace

SnapshotProgress::SnapshotProgress(const std::vector<SnapshotTable> &tables, int log_interval_ms,
                                   Registry *metrics)
    : start_(Clock::now()),
      last_report_(Clock::now()),
      log_interval_ms_(log_interval_ms),
      tty_(isatty(STDERR_FILENO) != 0) {
    for (const auto &t : tables) {
        TableProgress p;
        p.name = t.published;
        p.estimated_rows = t.estimated_rows;
        if (metrics) {
            p.rows_metric =
                &metrics->counter("walcast_snapshot_rows_total",
                                  "Rows read by the initial snapshot", {{"table", t.published}});
            p.bytes_metric = &metrics->counter("walcast_snapshot_bytes_total",
                                               "Event bytes produced by the initial snapshot",
                                               {{"table", t.published}});
        }
        tables_.emplace(t.rel, p);
        order_.push_back(t.rel);
    }
    if (metrics) {
        pinned_metric_ = &metrics->gauge("walcast_snapshot_xmin_pinned_seconds",
                                         "How long the snapshot has held back the xmin horizon");
        retained_metric_ = &metrics->gauge("walcast_snapshot_retained_wal_bytes",
                                           "WAL the slot retains while the snapshot runs");
    }
}

void SnapshotProgress::rows(std::uint32_t rel, std::uint64_t rows, std::size_t bytes) {
    auto it = tables_.find(rel);
    if (it == tables_.end()) return;
    it->second.rows += rows;
    it->second.bytes += bytes;
    if (it->second.rows_metric) it->second.rows_metric->inc(static_cast<double>(rows));
    if (it->second.bytes_metric) it->second.bytes_metric->inc(static_cast<double>(bytes));
}

void SnapshotProgress::acknowledged(std::uint32_t rel, std::uint64_t rows) {
    auto it = tables_.find(rel);
    if (it != tables_.end()) it->second.acked += rows;
}

void SnapshotProgress::table_done(std::uint32_t rel) {
    auto it = tables_.find(rel);
    if (it != tables_.end()) it->second.done = true;
}

void SnapshotProgress::set_pinning(double xmin_pinned_seconds, std::int64_t retained_wal_bytes) {
    xmin_pinned_seconds_ = xmin_pinned_seconds;
    retained_wal_bytes_ = retained_wal_bytes;
    if (pinned_metric_) pinned_metric_->set(xmin_pinned_seconds);
    if (retained_metric_) retained_metric_->set(static_cast<double>(retained_wal_bytes));
}

ProgressRow SnapshotProgress::row(const TableProgress &t, double seconds) const {
    ProgressRow r;
    r.name = t.name;
    r.done = t.done;
    r.fraction = t.done ? 1.0
                 : t.estimated_rows > 0
                     ? std::min(0.99, static_cast<double>(t.acked) / t.estimated_rows)
                     : 0.0;
    r.rows = t.rows;
    r.acked = t.acked;
    r.bytes = t.bytes;
    r.rate = seconds > 0 ? static_cast<double>(t.rows) / seconds : 0;
    r.eta_seconds = t.done ? 0
                    : (r.rate > 0 && t.estimated_rows > 0)
                        ? std::max(0.0, (t.estimated_rows - static_cast<double>(t.rows)) / r.rate)
                        : -1;
    return r;
}

SnapshotProgress::TableProgress SnapshotProgress::total() const {
    TableProgress total;
    total.name = "total";
    bool all_done = true;
    for (auto rel : order_) {
        const auto &t = tables_.at(rel);
        total.rows += t.rows;
        total.acked += t.acked;
        total.bytes += t.bytes;
        total.estimated_rows += t.done ? static_cast<double>(t.rows) : t.estimated_rows;
        all_done = all_done && t.done;
    }
    total.done = all_done;
    return total;
}

std::string SnapshotProgress::pinning() const {
    return "xmin horizon pinned for " + human_duration(xmin_pinned_seconds_) + ", slot retains " +
           human_bytes(static_cast<double>(retained_wal_bytes_)) + " of WAL";
}

std::vector<std::string> SnapshotProgress::table_lines(double seconds, std::size_t width) const {
    std::vector<ProgressRow> rows;
    for (auto rel : order_) rows.push_back(row(tables_.at(rel), seconds));
    return render_progress_table(rows, row(total(), seconds), pinning(), width);
}

void SnapshotProgress::report(bool final) {
    auto now = Clock::now();
    auto since_last = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_report_);
    if (!final && since_last.count() < (tty_ ? 500 : log_interval_ms_)) return;
    last_report_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    if (tty_) {
        // Redraw in place: move up over the previous block, then rewrite each line.
        std::string out;
        if (drawn_lines_ > 0) out += "\033[" + std::to_string(drawn_lines_) + "F";
        auto lines = table_lines(seconds, terminal_width());
        for (const auto &l : lines) out += "\033[2K" + l + "\n";
        std::fputs(out.c_str(), stderr);
        std::fflush(stderr);
        drawn_lines_ = static_cast<int>(lines.size());
    } else {
        ProgressRow r = row(total(), seconds);
        char done[16];
        std::snprintf(done, sizeof done, "%.1f%%", r.fraction * 100);
        spdlog::info("snapshot: {} done, {} rows read, {} delivered, {}, {} rows/s, ETA {} | {}",
                     done, r.rows, r.acked, human_bytes(static_cast<double>(r.bytes)),
                     human_count(r.rate), r.done ? "done" : human_duration(r.eta_seconds),
                     pinning());
    }
}

}  // namespace walcast
