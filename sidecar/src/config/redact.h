// Keeping secrets out of every message walcast prints: passwords in conninfo
// strings and URLs are masked by shape, and the values of secret settings are
// masked wherever they appear (libpq or librdkafka may echo them).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/sink.h>

namespace walcast {

// True for configuration keys whose value is a secret: database.password,
// database.sslpassword, and kafka.* keys naming a password, secret, token,
// JAAS configuration or private key.
bool is_secret_key(const std::string &key);

// Remembers a secret value so that redact() masks it anywhere in a message.
// Values shorter than 4 characters are only masked by shape (password=...).
void register_secret(const std::string &value);

// The text with every password-shaped value (password=..., sslpassword=...,
// sasl.password=..., scheme://user:secret@host, ?password=...) and every
// registered secret replaced by ***.
std::string redact(const std::string &text);

// The raw values that redact() would mask by shape in `text` (a URL or conninfo
// that libpq could not parse may still have its password quoted in libpq's message).
std::vector<std::string> password_shaped_values(const std::string &text);

// A logging sink that redacts each message before passing it to `inner`.
std::shared_ptr<spdlog::sinks::sink> redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner);

}  // namespace walcast
