#include "sink/sink_factory.h"

#include <stdexcept>

#include "sink/file_sink.h"
#include "sink/kafka_sink.h"

namespace walcast {

std::unique_ptr<Sink> make_sink(const Config &config, DeliveryCallback on_delivery,
                                Registry *metrics) {
    const std::string &kind = config.sink;
    if (kind == "kafka") {
        std::unique_ptr<KafkaSink> sink;
        try {
            EventFailurePolicy policy;
            policy.mode =
                parse_event_failure_mode(config.get("event.processing.failure.handling.mode"));
            policy.dead_letter_topic = config.get("errors.deadletterqueue.topic.name");
            if (metrics)
                policy.on_skipped = [metrics](const std::string &reason) {
                    metrics
                        ->counter("walcast_events_skipped_total",
                                  "Events the sink rejected for good and the failure policy "
                                  "skipped (event.processing.failure.handling.mode)",
                                  {{"reason", reason}})
                        .inc();
                };
            sink = std::make_unique<KafkaSink>(config.kafka_props, std::move(on_delivery),
                                               std::move(policy));
        } catch (const std::invalid_argument &e) {
            throw ConfigError(e.what());  // a bad kafka.* property: the user's to fix
        }
        sink->wait_connected();
        return sink;
    }
    if (kind == "stdout") return std::make_unique<FileSink>("", std::move(on_delivery));
    if (kind.rfind("file:", 0) == 0)
        return std::make_unique<FileSink>(kind.substr(5), std::move(on_delivery));
    throw ConfigError("unknown sink '" + kind + "'; accepted: kafka, stdout, file:/path");
}

}  // namespace walcast
