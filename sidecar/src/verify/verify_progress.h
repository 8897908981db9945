// Progress of `walcast verify`: one line redrawn in place on a terminal (the phase, rows
// done of the estimate, rows/s, ETA), a log line every few seconds otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace walcast {

class VerifyProgress {
public:
    // log_interval_ms: between log lines when stderr is not a terminal.
    explicit VerifyProgress(int log_interval_ms = 10000);
    ~VerifyProgress();

    // A new phase of one table: "public.items: reading the source", with the units it
    // counts ("rows", "records", "buckets") and how many are expected (<= 0: unknown).
    void phase(const std::string &what, const char *unit, double expected);
    // n more units done; any thread. Prints when due.
    void add(std::uint64_t n);
    // Clears the line on a terminal (before the report is printed).
    void finish();

    // The text of the current line, `seconds` into the phase (for tests and printing).
    std::string line(double seconds) const;

private:
    using Clock = std::chrono::steady_clock;
    void print(bool force);

    std::mutex mutex_;
    std::string what_;
    const char *unit_ = "rows";
    double expected_ = 0;
    std::atomic<std::uint64_t> done_{0};
    Clock::time_point start_, last_print_;
    const int log_interval_ms_;
    const bool tty_;
    bool drawn_ = false;
};

}  // namespace walcast
