// Progress of the incremental snapshot: per table, rows read against the planner's
// estimate (reltuples), rate and ETA in periodic log lines, and Prometheus series
// (README, "Metrics"). Thread-safe: readers report, the table's coordinator logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "metrics/metrics.h"

namespace walcast {

class IncrementalProgress {
public:
    // metrics may be null (metrics.address empty).
    IncrementalProgress(Registry *metrics, int log_interval_ms);

    // Tables waiting or running, for the tables-remaining gauge.
    void set_tables_remaining(std::size_t n);
    // A table starts: `estimated` rows in all (reltuples; negative: unknown), `done`
    // already read before a restart.
    void start_table(const std::string &table, double estimated, std::uint64_t done);
    // Chunks between their low watermark and the end of their window.
    void set_in_flight(int chunks);
    // The sink confirmed a chunk that read `rows` rows.
    void chunk_confirmed(std::uint64_t rows);
    // Logs the table's progress when due (always with force).
    void report(bool force = false);
    std::uint64_t rows() const;
    int max_in_flight() const;

    // "12000 of ~20000 rows (60%), 2 chunks in flight, 5000 rows/s, ETA 2 s".
    static std::string describe(std::uint64_t rows, double estimated, int in_flight,
                                double rows_per_second);

private:
    using Clock = std::chrono::steady_clock;
    mutable std::mutex mu_;
    Registry *metrics_;
    const int log_interval_ms_;
    std::string table_;
    double estimated_ = -1;
    std::uint64_t rows_ = 0, rows_at_start_ = 0;
    int in_flight_ = 0, max_in_flight_ = 0;
    Clock::time_point started_, last_log_;
    Counter *rows_metric_ = nullptr;
    Counter *chunks_metric_ = nullptr;
    Gauge *in_flight_metric_ = nullptr;
    Gauge *remaining_metric_ = nullptr;
};

}  // namespace walcast
