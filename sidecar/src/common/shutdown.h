// The one shutdown token of the process: SIGTERM/SIGINT set it, and every wait of the
// sidecar (sleeps, socket polls, libpq queries, Kafka flushes) wakes on it, so a stop
// request is honoured within a second whatever phase is running. A second signal
// aborts at once without draining (exit code kExitAborted).
#pragma once

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

namespace walcast {

// Exit codes of `walcast run` (documented in sidecar/README.md).
inline constexpr int kExitConfig = 2;       // usage or configuration error
inline constexpr int kExitAborted = 130;    // a second SIGTERM/SIGINT: no drain
inline constexpr int kExitSinkRefused = 5;  // Kafka authentication/TLS failure
inline constexpr int kExitPoisonEvent = 6;  // an event the sink rejects for good

// Thrown by a wait that was cut short by a stop request; the run ends cleanly.
class Stopped : public std::runtime_error {
public:
    explicit Stopped(const std::string &what) : std::runtime_error("stopped while " + what) {}
};

class ShutdownToken {
public:
    // The token SIGTERM/SIGINT set (install_stop_signal_handlers).
    static ShutdownToken &process();

    ShutdownToken();
    ~ShutdownToken();
    ShutdownToken(const ShutdownToken &) = delete;
    ShutdownToken &operator=(const ShutdownToken &) = delete;

    // Async-signal-safe. Returns how many requests were made so far (this one included).
    int request();
    bool requested() const { return requested_.load(std::memory_order_relaxed); }
    const std::atomic<bool> &flag() const { return requested_; }
    // Readable (POLLIN) once requested: add it to any poll() set.
    int fd() const { return fd_; }

    // Sleeps d; returns true (early) when a stop is requested.
    bool sleep_for(std::chrono::milliseconds d) const;
    // Waits until `fd` has `events`, timeout_ms passes (-1: no limit) or a stop is
    // requested. Returns the fd's revents (0 on timeout or stop).
    short wait_fd(int fd, short events, int timeout_ms) const;
    void throw_if_requested(const std::string &what) const {
        if (requested()) throw Stopped(what);
    }
    // For tests: forget earlier requests.
    void reset();

private:
    std::atomic<bool> requested_{false};
    std::atomic<int> count_{0};
    int fd_ = -1;
};

// SIGTERM and SIGINT: the first requests a stop of ShutdownToken::process(), the second
// exits at once with kExitAborted. SIGPIPE is ignored.
void install_stop_signal_handlers();

}  // namespace walcast
