#include "config/redact.h"

#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <vector>

namespace walcast {

namespace {

constexpr std::size_t kMinSecretLength = 4;

std::mutex g_mu;
std::vector<std::string> &registered() {
    static std::vector<std::string> secrets;
    return secrets;
}

bool contains_ci(const std::string &text, const char *needle) {
    auto it = std::search(
        text.begin(), text.end(), needle, needle + std::char_traits<char>::length(needle),
        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != text.end();
}

// key=value where the key ends in "password" or "secret" (libpq's password and
// sslpassword, librdkafka's sasl.password, ssl.key.password, client.secret...),
// in a URL query (up to '&') or a conninfo (quoted, or up to a space). A value
// already masked (***) stays as it is, with what follows it.
const std::regex &url_param() {
    static const std::regex re(R"(([?&][A-Za-z0-9_.]*(password|secret)=)[^&#\s]*)",
                               std::regex::icase);
    return re;
}
const std::regex &keyword_value() {
    static const std::regex re(
        R"(([A-Za-z0-9_.]*(password|secret)\s*=\s*)(\*\*\*|'(\\.|[^'\\])*'|"(\\.|[^"\\])*"|[^\s'"]+))",
        std::regex::icase);
    return re;
}
// scheme://user:secret@host
const std::regex &url_userinfo() {
    static const std::regex re(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)[^@/?#\s]*@)");
    return re;
}

}  // namespace

bool is_secret_key(const std::string &key) {
    if (key == "database.password" || key == "database.sslpassword") return true;
    if (key.rfind("kafka.", 0) != 0) return false;
    for (const char *s : {"password", "secret", "jaas", "token", "key.pem"})
        if (key.find(s) != std::string::npos) return true;
    return false;
}

void register_secret(const std::string &value) {
    if (value.size() < kMinSecretLength) return;
    std::lock_guard<std::mutex> lock(g_mu);
    auto &secrets = registered();
    if (std::find(secrets.begin(), secrets.end(), value) != secrets.end()) return;
    secrets.push_back(value);
    // Longest first, so that a secret containing another is masked whole.
    std::sort(secrets.begin(), secrets.end(),
              [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
}

std::string redact(const std::string &text) {
    std::string out = text;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        for (const auto &secret : registered()) {
            for (auto pos = out.find(secret); pos != std::string::npos;
                 pos = out.find(secret, pos + 3))
                out.replace(pos, secret.size(), "***");
        }
    }
    // Regular expressions are slow: only lines that may hold a secret go through them.
    if (contains_ci(out, "password") || contains_ci(out, "secret"))
        out = std::regex_replace(std::regex_replace(out, url_param(), "$1***"), keyword_value(),
                                 "$1***");
    if (out.find("://") != std::string::npos)
        out = std::regex_replace(out, url_userinfo(), "$1***@");
    return out;
}

std::vector<std::string> password_shaped_values(const std::string &text) {
    std::vector<std::string> out;
    auto add = [&](std::string v) {
        if (!v.empty() && v != "***") out.push_back(std::move(v));
    };
    for (std::sregex_iterator it(text.begin(), text.end(), url_param()), end; it != end; ++it)
        add(it->str(0).substr(it->length(1)));  // after "?key="
    for (std::sregex_iterator it(text.begin(), text.end(), keyword_value()), end; it != end; ++it)
        add(it->str(3));
    for (std::sregex_iterator it(text.begin(), text.end(), url_userinfo()), end; it != end; ++it) {
        std::string v = it->str(0).substr(it->length(1));  // after "scheme://user:"
        v.pop_back();                                      // the '@'
        add(v);
    }
    return out;
}

namespace {

class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override {
        const std::string clean = redact(std::string(msg.payload.data(), msg.payload.size()));
        spdlog::details::log_msg copy = msg;
        copy.payload = clean;
        inner_->log(copy);
    }
    void flush_() override { inner_->flush(); }
    void set_pattern_(const std::string &pattern) override { inner_->set_pattern(pattern); }
    void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
        inner_->set_formatter(std::move(f));
    }

private:
    std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

std::shared_ptr<spdlog::sinks::sink> redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner) {
    return std::make_shared<RedactingSink>(std::move(inner));
}

}  // namespace walcast
