#include "stream/stream_observer.h"

namespace walcast {

RowViews::RowViews(std::vector<std::string> held) {
    // Views are taken once the strings are where they stay.
    auto strings = std::make_shared<std::vector<std::string>>(std::move(held));
    rows.reserve(strings->size());
    for (const std::string &s : *strings) rows.emplace_back(s);
    owner = std::move(strings);
}

}  // namespace walcast
