#include "config/listen_address.h"

#include <charconv>
#include <stdexcept>

namespace walcast {

std::string ListenAddress::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ListenAddress parse_listen_address(const std::string &text) {
    ListenAddress a;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw std::invalid_argument("expected [IPv6 address]:port");
        a.host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon != std::string::npos && text.find(':') != colon)
            throw std::invalid_argument("put an IPv6 address in brackets: [::1]:9187");
        if (colon == std::string::npos) {
            port = text;
        } else {
            a.host = text.substr(0, colon);
            port = text.substr(colon + 1);
        }
    }
    if (a.host.empty()) a.host = "127.0.0.1";  // loopback unless a host is named
    const char *end = port.data() + port.size();
    auto [p, ec] = std::from_chars(port.data(), end, a.port);
    if (port.empty() || ec != std::errc() || p != end || a.port < 0 || a.port > 65535)
        throw std::invalid_argument("the port must be an integer from 0 to 65535");
    return a;
}

}  // namespace walcast
