#include "sink_factory.h"

#include <stdexcept>

#include "file_sink.h"
#include "kafka_sink.h"

namespace walcast {

std::unique_ptr<Sink> make_sink(const Config &config, DeliveryCallback on_delivery) {
    const std::string &kind = config.sink;
    if (kind == "kafka") {
        try {
            return make_kafka_sink(config.kafka_props, std::move(on_delivery));
        } catch (const std::invalid_argument &e) {
            throw ConfigError(e.what());  // a bad kafka.* property: the user's to fix
        }
    }
    if (kind == "stdout") return std::make_unique<FileSink>("", std::move(on_delivery));
    if (kind.rfind("file:", 0) == 0)
        return std::make_unique<FileSink>(kind.substr(5), std::move(on_delivery));
    throw ConfigError("unknown sink '" + kind + "'; accepted: kafka, stdout, file:/path");
}

}  // namespace walcast
