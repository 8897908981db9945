// Kafka output of the sidecar, on librdkafka: an idempotent producer whose
// delivery reports feed the acknowledgement tracker.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sink/kafka_errors.h"
#include "sink/sink.h"

namespace walcast {

// Producer defaults, applied before the user's properties (which win).
// Exposed for tests and `--help`.
const std::map<std::string, std::string> &kafka_default_props();

// What happens to an event Kafka rejects for good (too large, topic refused):
// Debezium's event.processing.failure.handling.mode and Kafka Connect's dead-letter topic.
struct EventFailurePolicy {
    EventFailureMode mode = EventFailureMode::kFail;
    std::string dead_letter_topic;  // empty: none
    // Called once per skipped event with the librdkafka error name (for the metric).
    std::function<void(const std::string &reason)> on_skipped;
};

// produce(), poll() and flush() are called from one thread (the one that
// receives delivery reports); outstanding(), fatal() and describe() are safe
// from any thread (status, metrics).
class KafkaSink : public Sink {
public:
    // kafka_props: the user's `kafka.*` properties without the prefix, passed
    // through to librdkafka. Throws std::invalid_argument with a one-line message
    // naming the offending property.
    KafkaSink(const std::map<std::string, std::string> &kafka_props, DeliveryCallback on_delivery,
              EventFailurePolicy policy = {});
    ~KafkaSink() override;
    KafkaSink(const KafkaSink &) = delete;
    KafkaSink &operator=(const KafkaSink &) = delete;

    // Waits until a broker answers a metadata request, logging every few seconds
    // while none does. Throws SinkError (kExitSinkRefused) on an authentication or
    // TLS failure, Stopped on a stop request.
    void wait_connected();

    bool produce(const Message &msg) override;
    bool takes_value_buffers() const override { return true; }
    void poll(int timeout_ms) override;
    bool flush(int timeout_ms) override;
    std::size_t outstanding() const override;
    bool fatal() const override;
    std::string describe() const override;

    // Tests: makes librdkafka raise the fatal error a broker's out-of-order sequence
    // number would (rd_kafka_test_fatal_error); fatal() turns true at once.
    void simulate_fatal_error(const std::string &reason);

    struct Impl;  // librdkafka handles and callback state; public for the C trampolines.

private:
    std::unique_ptr<Impl> impl_;
};

std::unique_ptr<Sink> make_kafka_sink(const std::map<std::string, std::string> &kafka_props,
                                      DeliveryCallback on_delivery, EventFailurePolicy policy = {});

}  // namespace walcast
