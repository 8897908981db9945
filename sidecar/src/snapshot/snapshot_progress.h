// Progress of an initial snapshot: a live display on a terminal (per table and in
// total: rows, bytes, rows/s, ETA), periodic log lines otherwise, and metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/metrics.h"
#include "snapshot/progress_table.h"
#include "snapshot/snapshot_plan.h"

namespace walcast {

class SnapshotProgress {
public:
    SnapshotProgress(const std::vector<SnapshotTable> &tables, int log_interval_ms,
                     Registry *metrics);

    void rows(std::uint32_t rel, std::uint64_t rows, std::size_t bytes);
    // Events of rel the sink confirmed (the percentage counts these, not rows read).
    void acknowledged(std::uint32_t rel, std::uint64_t rows);
    // Every row of rel is delivered.
    void table_done(std::uint32_t rel);
    // How long the snapshot has pinned the xmin horizon and what the slot retains.
    void set_pinning(double xmin_pinned_seconds, std::int64_t retained_wal_bytes);
    // Redraws or logs when due; final=true always prints.
    void report(bool final = false);
    // The table as drawn on a terminal `width` columns wide (snapshot/progress_table.h),
    // `seconds` after the start.
    std::vector<std::string> table_lines(double seconds, std::size_t width = 80) const;

private:
    struct TableProgress {
        std::string name;
        double estimated_rows = 0;
        std::uint64_t rows = 0;   // read
        std::uint64_t acked = 0;  // confirmed by the sink
        std::uint64_t bytes = 0;
        bool done = false;
        Counter *rows_metric = nullptr;
        Counter *bytes_metric = nullptr;
    };
    using Clock = std::chrono::steady_clock;
    ProgressRow row(const TableProgress &t, double seconds) const;
    TableProgress total() const;
    std::string pinning() const;

    std::map<std::uint32_t, TableProgress> tables_;
    std::vector<std::uint32_t> order_;
    const Clock::time_point start_;
    Clock::time_point last_report_;
    const int log_interval_ms_;
    const bool tty_;
    int drawn_lines_ = 0;
    double xmin_pinned_seconds_ = 0;
    std::int64_t retained_wal_bytes_ = 0;
    Gauge *pinned_metric_ = nullptr;
    Gauge *retained_metric_ = nullptr;
};

}  // namespace walcast
