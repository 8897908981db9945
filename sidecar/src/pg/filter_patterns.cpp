#include "pg/filter_patterns.h"

#include <utility>

#include "pg/pg_conn.h"
#include "pg/pg_query.h"

namespace walcast {

namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> pattern_list_items(const std::string &list) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string item = list.substr(start, comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) items.push_back(std::move(item));
        start = comma + 1;
    }
    return items;
}

void check_pattern_list(PGconn *conn, const std::string &setting, const std::string &list) {
    for (const auto &item : pattern_list_items(list)) {
        try {
            pg_query(conn, "SELECT ''::text ~ $1", {item}, "checking a regular expression");
        } catch (const PgError &e) {
            throw ConfigError(setting + ": '" + item + "' is not a valid regular expression (" +
                              e.what() + ")");
        }
    }
}

void check_filter_patterns(PGconn *conn, const Config &config) {
    for (const auto &[key, value] : config.values)
        if (!value.empty() && (ends_with(key, ".include.list") || ends_with(key, ".exclude.list")))
            check_pattern_list(conn, key, value);
}

}  // namespace walcast
