#include "verify/verify_progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "snapshot/progress_table.h"

namespace walcast {

VerifyProgress::VerifyProgress(int log_interval_ms)
    : start_(Clock::now()),
      last_print_(Clock::now()),
      log_interval_ms_(log_interval_ms),
      tty_(isatty(STDERR_FILENO) != 0) {}

VerifyProgress::~VerifyProgress() { finish(); }

void VerifyProgress::phase(const std::string &what, const char *unit, double expected) {
    std::lock_guard<std::mutex> lock(mutex_);
    what_ = what;
    unit_ = unit;
    expected_ = expected;
    done_ = 0;
    start_ = Clock::now();
}

std::string VerifyProgress::line(double seconds) const {
    const double done = static_cast<double>(done_.load());
    std::string out = what_ + ": " + human_count(done);
    if (expected_ > 0) out += " of ~" + human_count(std::max(expected_, done));
    out += std::string(" ") + unit_;
    const double rate = seconds > 0 ? done / seconds : 0;
    out += ", " + human_count(rate) + "/s";
    if (expected_ > 0 && rate > 0) {
        out += ", " + std::to_string(static_cast<int>(std::min(99.0, 100 * done / expected_))) +
               "%, ETA " + human_duration(std::max(0.0, (expected_ - done) / rate));
    }
    return out;
}

void VerifyProgress::add(std::uint64_t n) {
    done_ += n;
    print(false);
}

void VerifyProgress::print(bool force) {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;  // another thread is printing
    auto now = Clock::now();
    auto since = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_print_).count();
    if (!force && since < (tty_ ? 250 : log_interval_ms_)) return;
    last_print_ = now;
    const std::string text = line(std::chrono::duration<double>(now - start_).count());
    if (tty_) {
        std::fprintf(stderr, "\r\033[2K%s", fit_width(text, 79).c_str());
        std::fflush(stderr);
        drawn_ = true;
    } else {
        spdlog::info("verify: {}", text);
    }
}

void VerifyProgress::finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (tty_ && drawn_) {
        std::fputs("\r\033[2K", stderr);
        std::fflush(stderr);
        drawn_ = false;
    }
}

}  // namespace walcast
