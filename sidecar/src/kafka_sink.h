// Kafka output of the sidecar, on librdkafka: an idempotent producer whose
// delivery reports feed the acknowledgement tracker.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sink.h"

namespace walcast {

// Producer defaults, applied before the user's properties (which win).
// Exposed for tests and `--help`.
const std::map<std::string, std::string> &kafka_default_props();

// produce(), poll() and flush() are called from one thread (the one that
// receives delivery reports); outstanding(), fatal() and describe() are safe
// from any thread (status, metrics).
class KafkaSink : public Sink {
public:
    // kafka_props: the user's `kafka.*` properties without the prefix, passed
    // through to librdkafka. Throws std::invalid_argument with a one-line message
    // naming the offending property.
    KafkaSink(const std::map<std::string, std::string> &kafka_props, DeliveryCallback on_delivery);
    ~KafkaSink() override;
    KafkaSink(const KafkaSink &) = delete;
    KafkaSink &operator=(const KafkaSink &) = delete;

    bool produce(const Message &msg) override;
    void poll(int timeout_ms) override;
    bool flush(int timeout_ms) override;
    std::size_t outstanding() const override;
    bool fatal() const override;
    std::string describe() const override;

    struct Impl;  // librdkafka handles and callback state; public for the C trampolines.

private:
    std::unique_ptr<Impl> impl_;
};

std::unique_ptr<Sink> make_kafka_sink(const std::map<std::string, std::string> &kafka_props,
                                      DeliveryCallback on_delivery);

}  // namespace walcast
