// What a librdkafka error means for walcast: retry it, give up on one event (the
// poison-event policy decides), or stop because the cluster refuses this client.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace walcast {

enum class KafkaErrorClass {
    kTransient,       // retry: broker down, timeout, leader change...
    kPermanentEvent,  // this event can never be stored as it is (size, topic refused)
    kRefused,         // authentication or TLS failure: no event can be stored
    kFatal,           // the producer instance is unusable (idempotence): recreate it
};

KafkaErrorClass classify_kafka_error(rd_kafka_resp_err_t err);

// event.processing.failure.handling.mode
enum class EventFailureMode { kFail, kWarn, kSkip };
// Throws std::invalid_argument for anything but fail, warn, skip.
EventFailureMode parse_event_failure_mode(const std::string &mode);

// One line naming an event Kafka rejected: table (source.schema.table of the value),
// key, value size and LSN (source.lsn), and the error. Never includes the value.
std::string describe_rejected_event(std::string_view topic, std::string_view key,
                                    std::string_view value, std::size_t value_size,
                                    rd_kafka_resp_err_t err);

// A JSON record for the dead-letter topic describing an event too large (or otherwise
// unfit) to be sent there itself.
std::string dead_letter_description(std::string_view topic, std::string_view key,
                                    std::string_view value, std::size_t value_size,
                                    rd_kafka_resp_err_t err);

}  // namespace walcast
