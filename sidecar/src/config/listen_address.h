// "host:port" for the metrics endpoint. Without a host walcast listens on the
// loopback interface only: serving every interface must be asked for
// (0.0.0.0:9187 or [::]:9187).
#pragma once

#include <string>

namespace walcast {

struct ListenAddress {
    std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
    int port = 0;      // 0: any free port

    // "host:port", with brackets around an IPv6 host.
    std::string to_string() const;
};

// Accepts "host:port", "[v6]:port", ":port" and "port"; the port is a decimal
// integer from 0 to 65535. Throws std::invalid_argument saying what is wrong.
ListenAddress parse_listen_address(const std::string &text);

}  // namespace walcast
