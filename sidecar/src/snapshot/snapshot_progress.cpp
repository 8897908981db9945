#include "snapshot/snapshot_progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace walcast {

namespace {

std::string human_bytes(double bytes) {
    const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, u++;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
    return buf;
}

std::string human_duration(double seconds) {
    if (seconds < 0) return "?";
    char buf[32];
    long s = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
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

std::string SnapshotProgress::line(const TableProgress &t, double seconds) const {
    double fraction = t.done ? 1.0
                      : t.estimated_rows > 0
                          ? std::min(0.99, static_cast<double>(t.acked) / t.estimated_rows)
                          : 0.0;
    double rate = seconds > 0 ? static_cast<double>(t.rows) / seconds : 0;
    double eta = t.done ? 0
                 : (rate > 0 && t.estimated_rows > 0)
                     ? std::max(0.0, (t.estimated_rows - t.rows) / rate)
                     : -1;
    const int width = 20;
    std::string bar(static_cast<std::size_t>(fraction * width), '#');
    bar.resize(width, '.');
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "[%s] %5.1f%% %-40.40s %12llu rows read, %llu delivered %10s %9.0f rows/s ETA %s",
                  bar.c_str(), fraction * 100, t.name.c_str(),
                  static_cast<unsigned long long>(t.rows), static_cast<unsigned long long>(t.acked),
                  human_bytes(t.bytes).c_str(), rate, human_duration(eta).c_str());
    return buf;
}

void SnapshotProgress::report(bool final) {
    auto now = Clock::now();
    auto since_last = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_report_);
    if (!final && since_last.count() < (tty_ ? 500 : log_interval_ms_)) return;
    last_report_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();

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
    std::string pinning = "xmin horizon pinned for " + human_duration(xmin_pinned_seconds_) +
                          ", slot retains " +
                          human_bytes(static_cast<double>(retained_wal_bytes_)) + " of WAL";
    if (tty_) {
        // Redraw in place: move up over the previous block, then rewrite each line.
        std::string out;
        if (drawn_lines_ > 0) out += "\033[" + std::to_string(drawn_lines_) + "F";
        int lines = 0;
        for (auto rel : order_) {
            out += "\033[2K" + line(tables_.at(rel), seconds) + "\n";
            lines++;
        }
        out += "\033[2K" + line(total, seconds) + "\n\033[2K" + pinning + "\n";
        lines += 2;
        std::fputs(out.c_str(), stderr);
        std::fflush(stderr);
        drawn_lines_ = lines;
    } else {
        spdlog::info("snapshot: {} | {}", line(total, seconds), pinning);
    }
}

}  // namespace walcast
