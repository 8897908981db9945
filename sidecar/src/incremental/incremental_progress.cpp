#include "incremental/incremental_progress.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace walcast {

IncrementalProgress::IncrementalProgress(Registry *metrics, int log_interval_ms)
    : metrics_(metrics), log_interval_ms_(log_interval_ms) {
    if (!metrics_) return;
    in_flight_metric_ = &metrics_->gauge("walcast_incremental_snapshot_chunks_in_flight",
                                         "Chunks of the incremental snapshot between their "
                                         "low watermark and the end of their window");
    remaining_metric_ = &metrics_->gauge("walcast_incremental_snapshot_tables_remaining",
                                         "Tables the incremental snapshot has yet to finish");
}

void IncrementalProgress::set_tables_remaining(std::size_t n) {
    if (remaining_metric_) remaining_metric_->set(static_cast<double>(n));
}

void IncrementalProgress::start_table(const std::string &table, double estimated,
                                      std::uint64_t done) {
    std::lock_guard<std::mutex> lock(mu_);
    table_ = table;
    estimated_ = estimated;
    rows_ = rows_at_start_ = done;
    in_flight_ = max_in_flight_ = 0;
    started_ = last_log_ = Clock::now();
    if (!metrics_) return;
    rows_metric_ = &metrics_->counter("walcast_incremental_snapshot_rows_total",
                                      "Rows read by incremental snapshots", {{"table", table}});
    chunks_metric_ = &metrics_->counter("walcast_incremental_snapshot_chunks_total",
                                        "Chunks read by incremental snapshots", {{"table", table}});
}

void IncrementalProgress::set_in_flight(int chunks) {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ = chunks;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (in_flight_metric_) in_flight_metric_->set(in_flight_);
}

void IncrementalProgress::chunk_confirmed(std::uint64_t rows) {
    std::lock_guard<std::mutex> lock(mu_);
    rows_ += rows;
    if (rows_metric_) rows_metric_->inc(static_cast<double>(rows));
    if (chunks_metric_) chunks_metric_->inc();
}

std::uint64_t IncrementalProgress::rows() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_;
}

int IncrementalProgress::max_in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
}

std::string IncrementalProgress::describe(std::uint64_t rows, double estimated, int in_flight,
                                          double rate) {
    std::string out = std::to_string(rows);
    if (estimated >= 0) {
        const double est = std::max(estimated, static_cast<double>(rows));
        out += " of ~" + std::to_string(static_cast<std::uint64_t>(est)) + " rows";
        if (est > 0) out += " (" + std::to_string(static_cast<int>(100.0 * rows / est)) + "%)";
    } else {
        out += " rows";
    }
    out += ", " + std::to_string(in_flight) + " chunks in flight, " +
           std::to_string(static_cast<std::uint64_t>(rate)) + " rows/s";
    if (estimated >= 0 && rate > 0) {
        const double left = std::max(0.0, estimated - static_cast<double>(rows)) / rate;
        out += ", ETA " + std::to_string(static_cast<std::uint64_t>(std::ceil(left))) + " s";
    }
    return out;
}

void IncrementalProgress::report(bool force) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    if (!force && now - last_log_ < std::chrono::milliseconds(log_interval_ms_)) return;
    last_log_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? (rows_ - rows_at_start_) / seconds : 0;
    spdlog::info("incremental snapshot of {}: {}", table_,
                 describe(rows_, estimated_, in_flight_, rate));
}

}  // namespace walcast
