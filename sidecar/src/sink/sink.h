// The interface every output of the sidecar implements (Kafka, file, stdout).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace walcast {

// Identifies the transaction an event belongs to, so a delivery report can be
// credited to it in the acknowledgement tracker.
using DeliveryToken = std::uint64_t;

struct Message {
    std::string_view topic;
    std::string_view key;    // empty means a null Kafka key
    std::string_view value;  // ignored when tombstone is true
    bool tombstone = false;  // null Kafka value
    DeliveryToken token = 0;
    // Further pieces of the value, in order: snapshot events are put together from a
    // chunk's template and a row, and the sink's own copy is the only one made.
    std::string_view value_more[3] = {};
    // A malloc'd block starting with `value` (no further pieces), offered to a sink whose
    // takes_value_buffers() is true: when produce() returns true the sink owns (and frees)
    // it, so a large value is not copied again; when it returns false the caller keeps it.
    char *value_buffer = nullptr;

    std::size_t value_size() const {
        return value.size() + value_more[0].size() + value_more[1].size() + value_more[2].size();
    }
    template <typename Out>
    void append_value(Out &out) const {
        out.append(value);
        for (std::string_view piece : value_more) out.append(piece);
    }
};

// Called once per produced message, from Sink::poll() or Sink::flush(), on the
// thread that calls them. ok=false means the message is not durably stored and
// never will be by this sink instance.
using DeliveryCallback =
    std::function<void(DeliveryToken token, bool ok, const std::string &error)>;

// A sink failure retrying cannot fix (an event the sink rejects for good, credentials
// it refuses): thrown from poll()/flush(); the run ends with exit_code().
class SinkError : public std::runtime_error {
public:
    SinkError(int exit_code, const std::string &msg)
        : std::runtime_error(msg), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

class Sink {
public:
    virtual ~Sink() = default;

    // Queues a message. Returns false when the sink is full (backpressure):
    // nothing was queued; call poll() and retry later. Copies what it needs.
    virtual bool produce(const Message &msg) = 0;

    // Serves delivery reports without blocking longer than timeout_ms. May throw
    // SinkError (see there).
    virtual void poll(int timeout_ms) = 0;

    // Blocks until everything queued is delivered or failed, or timeout_ms passes.
    // Returns true when nothing is left outstanding.
    virtual bool flush(int timeout_ms) = 0;

    // Whether produce() takes Message::value_buffer over (see there).
    virtual bool takes_value_buffers() const { return false; }

    // Messages queued but not yet reported.
    virtual std::size_t outstanding() const = 0;

    // True after an error this instance cannot recover from (e.g. a fatal
    // idempotent-producer error): the caller must recreate the sink and
    // restart from the slot's confirmed position.
    virtual bool fatal() const = 0;

    // A short human-readable state for `walcast status` and /metrics.
    virtual std::string describe() const = 0;
};

}  // namespace walcast
