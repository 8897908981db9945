#include "config/config.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdio>
#include <memory>
#include <sstream>

#include "config/bounded_file.h"
#include "config/connect_json.h"
#include "config/connector_keys.h"
#include "config/listen_address.h"
#include "config/redact.h"
#include "config/settings.h"

extern char **environ;

namespace walcast {

namespace {

// A configuration file is a few dozen lines; anything larger is a wrong path.
constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr std::size_t kMaxPasswordFileBytes = 64 << 10;
std::string trim(const std::string &s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

bool is_kafka_key(const std::string &key) { return key.rfind("kafka.", 0) == 0 && key.size() > 6; }

// A key as the user typed it, with invisible bytes (a BOM, a tab) made visible.
std::string printable(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

std::size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// "; did you mean 'slot.name'?" when a known key is a few typos away.
std::string suggestion(const std::string &key) {
    const Setting *best = nullptr;
    std::size_t best_distance = std::min<std::size_t>(3, key.size() / 3) + 1;
    for (const auto &s : settings()) {
        std::size_t d = edit_distance(lower(key), s.name);
        if (d < best_distance) best = &s, best_distance = d;
    }
    return best ? std::string("; did you mean '") + best->name + "'?" : "";
}

[[noreturn]] void bad_value(const std::string &key, const std::string &value,
                            const std::string &accepted) {
    const std::string shown = is_secret_key(key) ? "***" : value;
    throw ConfigError("invalid value '" + shown + "' for " + key + "; accepted: " + accepted);
}

// The one boolean parser: true or false in any case, nothing else.
bool parse_bool(const std::string &key, const std::string &value) {
    std::string v = lower(value);
    if (v == "true") return true;
    if (v == "false") return false;
    bad_value(key, value, "true, false");
}

// Decimal integers only: no exponent, sign '+', fraction, trailing text or overflow.
std::int64_t parse_int(const Setting &spec, const std::string &value) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v < spec.min ||
        v > spec.max) {
        bad_value(spec.name, value, accepted_values(spec));
    }
    return v;
}

// Checks a value and returns its canonical spelling (what the sidecar compares
// and what the plugin receives): booleans, enums and operations in lower case,
// integers without leading zeros, metrics.address with its host.
std::string normalize(const Setting &spec, const std::string &value) {
    if (value.empty()) return value;  // unset: libpq or plugin defaults apply
    switch (spec.kind) {
        case Kind::kString:
            return value;
        case Kind::kInt:
            return std::to_string(parse_int(spec, value));
        case Kind::kBool:
            return parse_bool(spec.name, value) ? "true" : "false";
        case Kind::kEnum:
            for (const auto &a : spec.accepted)
                if (lower(value) == a) return a;
            bad_value(spec.name, value, accepted_values(spec));
        case Kind::kSink:
            if (value == "kafka" || value == "stdout" ||
                (value.rfind("file:", 0) == 0 && value.size() > 5))
                return value;
            bad_value(spec.name, value, accepted_values(spec));
        case Kind::kOps: {
            std::stringstream ss(value);
            std::string tok, out;
            while (std::getline(ss, tok, ',')) {
                tok = lower(trim(tok));
                if (tok != "c" && tok != "u" && tok != "d" && tok != "t" && tok != "none")
                    bad_value(spec.name, value, accepted_values(spec));
                out += (out.empty() ? "" : ",") + tok;
            }
            return out;
        }
        case Kind::kName:
            // Postgres slot names: lower-case letters, digits, underscore, at most 63.
            if (value.size() > 63 ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
                    std::string::npos)
                bad_value(spec.name, value, accepted_values(spec));
            return value;
        case Kind::kTopic:
            if (value.size() > 200 ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-") != std::string::npos)
                bad_value(spec.name, value, accepted_values(spec));
            return value;
        case Kind::kAddress:
            try {
                return parse_listen_address(value).to_string();
            } catch (const std::invalid_argument &e) {
                bad_value(spec.name, value,
                          accepted_values(spec) + " (" + e.what() +
                              "; without a host only 127.0.0.1 is served)");
            }
    }
    return value;
}

// Sorts what the sources gave into settings (kafka.* included) and the keys of a
// Debezium configuration that are not settings (connector_keys.cpp); every key that is
// neither, and every unsupported value of a connector key, goes into one ConfigError.
struct SortedKeys {
    std::map<std::string, std::string> settings;  // the later source wins
    std::vector<std::string> ignored;             // "name", "transforms.unwrap.type"...
    std::vector<SourcedValue> aliases;            // database.server.name=...
};

SortedKeys sort_keys(const std::vector<SourcedValue> &given) {
    SortedKeys out;
    std::vector<SourcedValue> unknown;
    std::vector<std::string> unsupported;
    for (const auto &kv : given) {
        // A declared setting always wins over the connector-key table.
        if (is_kafka_key(kv.key) || find_setting(kv.key) != nullptr) {
            out.settings[kv.key] = kv.value;
            continue;
        }
        const ForeignKey *foreign = find_foreign_key(kv.key);
        if (foreign == nullptr) {
            unknown.push_back(kv);
        } else if (foreign->kind == ForeignKind::kAlias) {
            out.aliases.push_back(kv);
        } else if (foreign->kind == ForeignKind::kUnsupported && !kv.value.empty()) {
            unsupported.push_back(kv.key + " (" + kv.origin +
                                  ") is not supported: " + foreign->reason);
        } else if (foreign->kind == ForeignKind::kDefaultOnly &&
                   !default_only_accepts(*foreign, kv.value)) {
            unsupported.push_back("unsupported value '" + kv.value + "' for " + kv.key + " (" +
                                  kv.origin + "): " + foreign->reason +
                                  "; accepted: " + (*foreign->target ? foreign->target : "unset"));
        } else if (std::find(out.ignored.begin(), out.ignored.end(), kv.key) == out.ignored.end()) {
            out.ignored.push_back(kv.key);
        }
    }
    if (unknown.empty() && unsupported.empty()) return out;
    std::string message;
    if (unknown.size() == 1) {
        const SourcedValue &kv = unknown.front();
        message = "unknown configuration key '" + printable(kv.key) + "' (" + kv.origin + ")" +
                  suggestion(kv.key);
    } else if (unknown.size() > 1) {
        // All of them at once: a pasted configuration is fixed in one round.
        std::vector<std::string> items;
        for (const auto &kv : unknown)
            items.push_back("'" + printable(kv.key) + "' (" + kv.origin + suggestion(kv.key) + ")");
        message = std::to_string(unknown.size()) + " unknown configuration keys: " + join(items);
    }
    if (!unknown.empty()) message += "; see 'walcast run --help' for the known keys";
    for (const auto &u : unsupported) message += (message.empty() ? "" : "; ") + u;
    throw ConfigError(message);
}

struct ConninfoOptionsDeleter {
    void operator()(PQconninfoOption *o) const { PQconninfoFree(o); }
};

// database.url is a URL or a conninfo string when libpq expands it as one.
bool is_expandable(const std::string &url) {
    return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0 ||
           url.find('=') != std::string::npos;
}

// The libpq keywords of database.url; ConfigError when libpq cannot parse it.
std::map<std::string, std::string> url_options(const std::string &url) {
    std::map<std::string, std::string> out;
    if (!is_expandable(url)) return out;
    char *err = nullptr;
    std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> opts(
        PQconninfoParse(url.c_str(), &err));
    if (!opts) {
        std::string msg = err ? err : "out of memory";
        PQfreemem(err);
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        // libpq quotes the token it could not read, which may be the password itself.
        for (const auto &secret : password_shaped_values(url))
            for (auto pos = msg.find(secret); pos != std::string::npos;
                 pos = msg.find(secret, pos + 3))
                msg.replace(pos, secret.size(), "***");
        throw ConfigError("database.url is not a valid libpq URL or connection string: " +
                          redact(msg));
    }
    for (PQconninfoOption *o = opts.get(); o->keyword; ++o)
        if (o->val) out[o->keyword] = o->val;
    return out;
}

// message.key.columns: <schema.table regex>:<column>[,<column>...] entries separated by
// ';' (the plugin checks the same; a mistake here stops walcast before it connects).
void check_message_key_columns(const std::string &value) {
    std::stringstream entries(value);
    std::string entry;
    while (std::getline(entries, entry, ';')) {
        const auto colon = entry.rfind(':');
        const std::string columns = colon == std::string::npos ? "" : entry.substr(colon + 1);
        if (colon == std::string::npos || trim(entry.substr(0, colon)).empty() ||
            columns.find_first_not_of(" \t,") == std::string::npos)
            throw ConfigError("invalid entry '" + trim(entry) +
                              "' in message.key.columns; accepted: <schema.table regex>:<column>"
                              "[,<column>...] entries separated by ';'");
    }
}

// Values given on the command line are visible to every local user (ps, /proc).
void refuse_secret_on_command_line(const std::string &key, const std::string &value) {
    const bool url_secret = key == "database.url" && [&] {
        auto opts = url_options(value);
        return opts.count("password") || opts.count("sslpassword");
    }();
    if (!is_secret_key(key) && !url_secret) return;
    std::vector<std::string> places = {"the configuration file (readable only by walcast's user)",
                                       "the " + env_name(key) + " environment variable"};
    if (key == "database.password" || url_secret) {
        places.push_back("a file named by database.password.file");
        places.push_back("PGPASSWORD / ~/.pgpass");
    }
    std::string where;
    for (std::size_t i = 0; i < places.size(); ++i)
        where += (i == 0 ? "" : i + 1 == places.size() ? ", or " : ", ") + places[i];
    throw ConfigError("refusing " + key + (url_secret ? " with a password" : "") +
                      " on the command line: every local user can read it with ps; put it in " +
                      where);
}

// A configuration that holds secrets must not be readable by every local user.
std::vector<std::string> secret_keys_in(const std::map<std::string, std::string> &props) {
    std::vector<std::string> out;
    for (const auto &[k, v] : props) {
        if (v.empty()) continue;
        if (is_secret_key(k)) {
            out.push_back(k);
        } else if (k == "database.url") {
            auto opts = url_options(v);
            if (opts.count("password") || opts.count("sslpassword")) out.push_back(k);
        }
    }
    return out;
}

}  // namespace

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Appends code point cp as UTF-8.
void append_utf8(std::string &out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// One logical line of a properties file: the text with continuations joined,
// and the number of its first physical line.
struct LogicalLine {
    std::string text;
    int lineno;
};

// Splits into physical lines at \n, \r or \r\n, as java.util.Properties does.
std::vector<std::string> physical_lines(const std::string &text) {
    std::vector<std::string> lines;
    std::string cur;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' || text[i] == '\r') {
            if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            lines.push_back(cur);
            cur.clear();
        } else {
            cur += text[i];
        }
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

bool ends_in_odd_backslashes(const std::string &s) {
    std::size_t n = 0;
    for (auto it = s.rbegin(); it != s.rend() && *it == '\\'; ++it) ++n;
    return n % 2 == 1;
}

std::string strip_leading_blanks(const std::string &s) {
    std::size_t i = 0;
    while (i < s.size() && is_blank(s[i])) ++i;
    return s.substr(i);
}

// Comment lines are skipped whole (a backslash at their end continues nothing);
// a line ending in an odd number of backslashes continues on the next one,
// whose leading blanks are dropped.
std::vector<LogicalLine> logical_lines(const std::string &text) {
    std::vector<LogicalLine> out;
    auto lines = physical_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string line = strip_leading_blanks(lines[i]);
        if (line.empty() || line[0] == '#' || line[0] == '!') continue;
        LogicalLine logical{"", static_cast<int>(i) + 1};
        while (ends_in_odd_backslashes(line)) {
            line.pop_back();
            logical.text += line;
            if (++i >= lines.size()) {
                line.clear();
                break;
            }
            line = strip_leading_blanks(lines[i]);
        }
        logical.text += line;
        out.push_back(std::move(logical));
    }
    return out;
}

// Resolves \t \n \r \f \uXXXX; any other escaped character stands for itself.
std::string unescape(const std::string &s, const std::string &where) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
            case 't':
                out += '\t';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 'f':
                out += '\f';
                break;
            case 'u': {
                auto hex4 = [&](std::size_t at, std::uint32_t &cp) {
                    if (at + 4 > s.size()) return false;
                    auto [end, ec] = std::from_chars(s.data() + at, s.data() + at + 4, cp, 16);
                    return ec == std::errc() && end == s.data() + at + 4;
                };
                std::uint32_t cp = 0, low = 0;
                if (!hex4(i + 1, cp)) throw ConfigError(where + ": malformed \\uXXXX escape");
                i += 4;
                // A UTF-16 surrogate pair, as Java writes characters beyond U+FFFF.
                if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < s.size() && s[i + 1] == '\\' &&
                    s[i + 2] == 'u' && hex4(i + 3, low) && low >= 0xDC00 && low < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                if (cp >= 0xD800 && cp < 0xE000)
                    throw ConfigError(where + ": \\u escape of an unpaired UTF-16 surrogate");
                append_utf8(out, cp);
                break;
            }
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

namespace {

std::vector<SourcedValue> read_properties(const std::string &text, const std::string &origin) {
    std::vector<SourcedValue> out;
    // A UTF-8 byte order mark (some Windows editors write one) is not part of the first key.
    const bool bom = text.rfind("\xEF\xBB\xBF", 0) == 0;
    for (const auto &line : logical_lines(bom ? text.substr(3) : text)) {
        const std::string where = origin + ":" + std::to_string(line.lineno);
        const std::string &t = line.text;
        // The key ends at the first unescaped '=', ':' or blank.
        std::size_t k = 0;
        while (k < t.size() && t[k] != '=' && t[k] != ':' && !is_blank(t[k]))
            k += t[k] == '\\' ? 2 : 1;
        k = std::min(k, t.size());
        std::size_t v = k;
        while (v < t.size() && is_blank(t[v])) ++v;
        if (v < t.size() && (t[v] == '=' || t[v] == ':')) ++v;
        while (v < t.size() && is_blank(t[v])) ++v;
        // Trailing blanks are dropped unless escaped (Java keeps them; they are
        // never meant in a setting).
        std::string raw_value = t.substr(v);
        while (!raw_value.empty() && is_blank(raw_value.back()) &&
               !ends_in_odd_backslashes(raw_value.substr(0, raw_value.size() - 1)))
            raw_value.pop_back();
        std::string key = unescape(t.substr(0, k), where);
        if (key.empty()) throw ConfigError(where + ": empty key");
        out.push_back({key, unescape(raw_value, where), where});
    }
    return out;
}

}  // namespace

std::map<std::string, std::string> parse_properties(const std::string &text,
                                                    const std::string &origin) {
    return sort_keys(read_properties(text, origin)).settings;
}

std::string env_name(const std::string &key) {
    std::string out = "WALCAST_";
    for (char c : key)
        out += (c == '.' || c == '-')
                   ? '_'
                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e) {
        std::string kv = *e;
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return env;
}

const std::string &Config::get(const std::string &key) const {
    static const std::string kEmpty;
    auto it = values.find(key);
    return it == values.end() ? kEmpty : it->second;
}

std::string Config::conninfo_redacted() const {
    std::string out;
    for (const auto &[k, v] : conn_params) {
        if (k == "password" || k == "sslpassword") continue;
        out += (out.empty() ? "" : " ") + k + "=" + redact(v);
    }
    return out.empty() ? "(libpq defaults)" : out;
}

std::string Config::describe_redacted() const {
    std::string out;
    for (const auto &[k, v] : values) {
        if (v.empty()) continue;
        out += (out.empty() ? "" : " ") + k + "=" + (is_secret_key(k) ? "***" : redact(v));
    }
    return out;
}

Config load_config(const ConfigSources &sources) {
    Config c;
    // Every key=value given, lowest precedence first: file, environment, --set.
    std::vector<SourcedValue> given;
    if (sources.file) {
        BoundedFile file;
        try {
            file = read_bounded_file(*sources.file, kMaxConfigBytes);
        } catch (const std::runtime_error &e) {
            throw ConfigError(std::string("cannot read config file ") + e.what());
        }
        given = looks_like_json(file.text) ? parse_connect_json(file.text, *sources.file)
                                           : read_properties(file.text, *sources.file);
        std::map<std::string, std::string> in_file;
        for (const auto &kv : given) in_file[kv.key] = kv.value;
        auto secrets = secret_keys_in(in_file);
        if (!secrets.empty() && world_readable(file.mode))
            c.warnings.push_back("config file " + *sources.file + " holds " + join(secrets) +
                                 " and every local user can read it: chmod o-r " + *sources.file);
    }
    for (const auto &spec : settings()) {
        auto it = sources.env.find(env_name(spec.name));
        if (it != sources.env.end()) given.push_back({spec.name, it->second, it->first});
    }
    for (const auto &[name, value] : sources.env) {
        // WALCAST_KAFKA_BOOTSTRAP_SERVERS -> kafka.bootstrap.servers
        if (name.rfind("WALCAST_KAFKA_", 0) != 0 || name.size() <= 14) continue;
        std::string key = "kafka." + lower(name.substr(14));
        std::replace(key.begin(), key.end(), '_', '.');
        given.push_back({key, value, name});
    }
    for (const auto &s : sources.sets) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            throw ConfigError("--set expects key=value, got '" + redact(s) + "'");
        const std::string key = trim(s.substr(0, eq)), value = trim(s.substr(eq + 1));
        given.push_back({key, value, "--set"});
    }
    SortedKeys sorted = sort_keys(given);
    for (const auto &kv : given)
        if (kv.origin == "--set") refuse_secret_on_command_line(kv.key, kv.value);
    std::map<std::string, std::string> &merged = sorted.settings;  // explicitly set values
    // Debezium 1.x names count only where today's name is not set.
    std::vector<std::string> notes = sorted.ignored, renamed;
    for (const auto &kv : sorted.aliases) {
        const std::string target = find_foreign_key(kv.key)->target;
        if (merged.count(target)) {
            notes.push_back(kv.key + " (" + target + " is set)");
        } else {
            merged[target] = kv.value;
            renamed.push_back(kv.key + " as " + target);
        }
    }
    // walcast is the output plugin; a Debezium file names pgoutput or decoderbufs.
    auto plugin = merged.find("plugin.name");
    if (plugin != merged.end() && lower(plugin->second) != "walcast") {
        notes.push_back("plugin.name=" + plugin->second +
                        " (walcast streams through its own output plugin)");
        merged.erase(plugin);
    }
    // One warning for all of them.
    std::string note;
    if (!notes.empty()) note = "ignoring keys without effect in walcast: " + join(notes);
    if (!renamed.empty()) note += (note.empty() ? "reading " : "; reading ") + join(renamed);
    if (!note.empty()) c.warnings.push_back(note + " (docs/debezium-keys.md)");

    for (const auto &spec : settings()) c.values[spec.name] = spec.def;
    for (const auto &[k, v] : merged) {
        if (is_kafka_key(k)) {
            c.kafka_props[k.substr(6)] = v;
            c.values[k] = v;
        } else {
            c.values[k] = normalize(*find_setting(k), v);
        }
    }
    if (c.values["sink"].empty())
        c.values["sink"] = c.kafka_props.count("bootstrap.servers") ? "kafka" : "stdout";
    if (c.values["sink"] == "kafka" && !c.kafka_props.count("bootstrap.servers"))
        throw ConfigError("sink=kafka needs kafka.bootstrap.servers (host:port[,host:port...])");
    if (c.values["topic.prefix"].empty()) throw ConfigError("topic.prefix must not be empty");
    check_message_key_columns(c.values["message.key.columns"]);
    if (c.values["slot.name"].empty()) throw ConfigError("slot.name must not be empty");

    // The password from a file of its own (kept out of the main configuration).
    const std::string password_file = c.values["database.password.file"];
    if (!password_file.empty()) {
        if (!c.values["database.password"].empty())
            throw ConfigError("set database.password or database.password.file, not both");
        BoundedFile file;
        try {
            file = read_bounded_file(password_file, kMaxPasswordFileBytes);
        } catch (const std::runtime_error &e) {
            throw ConfigError(std::string("cannot read database.password.file ") + e.what());
        }
        std::string pw = file.text.substr(0, file.text.find_first_of("\r\n"));
        if (pw.empty())
            throw ConfigError("database.password.file " + password_file +
                              ": the first line is empty");
        if (world_readable(file.mode))
            c.warnings.push_back("database.password.file " + password_file +
                                 " can be read by every local user: chmod o-r " + password_file);
        c.values["database.password"] = pw;
    }

    // Every secret value, for redact(): the settings, and passwords inside the URL.
    for (const auto &[k, v] : c.values)
        if (is_secret_key(k) && !v.empty()) c.secrets.push_back(v);
    for (const auto &[kw, v] : url_options(c.values["database.url"]))
        if (kw == "password" || kw == "sslpassword") c.secrets.push_back(v);

    // libpq keywords; the URL goes first as dbname so that libpq expands it and
    // the explicit keys override its parts.
    const std::pair<const char *, const char *> conn_keys[] = {
        {"database.url", "dbname"},
        {"database.hostname", "host"},
        {"database.port", "port"},
        {"database.user", "user"},
        {"database.password", "password"},
        {"database.dbname", "dbname"},
        {"database.sslmode", "sslmode"},
        {"database.sslrootcert", "sslrootcert"},
        {"database.sslcert", "sslcert"},
        {"database.sslkey", "sslkey"},
        {"database.sslpassword", "sslpassword"},
    };
    for (const auto &[key, kw] : conn_keys)
        if (!c.values[key].empty()) c.conn_params.emplace_back(kw, c.values[key]);

    // Typed copies of the values (already validated and normalized above).
    auto flag = [&](const char *key) { return parse_bool(key, c.values[key]); };
    auto number = [&](const char *key) { return parse_int(*find_setting(key), c.values[key]); };
    c.slot_name = c.values["slot.name"];
    c.slot_create = flag("slot.create");
    c.slot_drop_on_stop = flag("slot.drop.on.stop");
    c.slot_create_timeout_ms = number("slot.create.timeout.ms");
    c.topic_prefix = c.values["topic.prefix"];
    c.tombstones_on_delete = flag("tombstones.on.delete");
    c.provide_transaction_metadata = flag("provide.transaction.metadata");
    c.key_schemas = flag("key.converter.schemas.enable");
    c.value_schemas = flag("value.converter.schemas.enable");
    c.publish_via_partition_root = flag("publish.via.partition.root");
    c.heartbeat_interval_ms = number("heartbeat.interval.ms");
    c.heartbeat_action_query = c.values["heartbeat.action.query"];
    c.sink = c.values["sink"];
    c.metrics_address = c.values["metrics.address"];
    c.status_update_interval_ms = number("status.update.interval.ms");
    c.retained_wal_warn_bytes = number("retained.wal.warn.bytes");
    c.log_level = c.values["log.level"];
    c.snapshot_mode = c.values["snapshot.mode"];
    c.snapshot_max_threads = static_cast<int>(number("snapshot.max.threads"));
    c.snapshot_chunk_bytes = number("snapshot.chunk.bytes");
    c.incremental_chunk_size = number("incremental.snapshot.chunk.size");
    c.snapshot_throttle_rows_per_second = number("snapshot.throttle.rows.per.second");
    c.snapshot_throttle_bytes_per_second = number("snapshot.throttle.bytes.per.second");

    c.plugin_options.emplace_back("format", "frames");
    for (const auto &spec : settings()) {
        if (!spec.plugin_option) continue;
        // Only what the user set (plus the prefix): the plugin owns its defaults.
        std::string value = c.values[spec.name];
        bool user_set = merged.count(spec.name) > 0 || std::string(spec.name) == "topic.prefix";
        if (std::string(spec.name) == "message.prefix.include.list" && !value.empty() &&
            c.heartbeat_interval_ms > 0)
            value += ",walcast\\.heartbeat";  // heartbeats must pass the user's filter
        if (user_set && !value.empty()) c.plugin_options.emplace_back(spec.name, value);
    }
    // The plugin sends each topic's Connect schemas once (R frames, snapshot templates);
    // the sidecar wraps keys and values with them.
    if (c.key_schemas || c.value_schemas) c.plugin_options.emplace_back("schemas", "true");
    return c;
}

}  // namespace walcast
