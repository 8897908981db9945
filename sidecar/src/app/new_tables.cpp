#include "app/new_tables.h"

#include <spdlog/spdlog.h>

#include "pg/pg_conn.h"
#include "pg/pg_query.h"
#include "snapshot/captured_tables.h"
#include "snapshot/snapshot_settings.h"

namespace walcast {

void queue_new_tables(const Config &config) {
    PgConnPtr conn = pg_connect(config, false);
    if (pg_scalar(conn.get(), "SELECT 1 FROM pg_extension WHERE extname = 'walcast'").empty()) {
        spdlog::warn(
            "snapshot.new.tables=incremental needs the walcast extension in the source "
            "database: no table queued");
        return;
    }
    CapturedTables captured(conn.get(), config.slot_name);
    if (!captured.has_run()) {
        spdlog::warn(
            "snapshot.new.tables=incremental: slot {} has no snapshot on record "
            "(snapshot.mode={}), so nothing says which tables' rows its sink has: no table "
            "queued",
            config.slot_name, config.snapshot_mode);
        return;
    }
    const std::vector<std::string> tables = captured.queue_missing(table_filter_from(config));
    if (tables.empty()) {
        spdlog::info("snapshot.new.tables=incremental: no new table");
        return;
    }
    std::string names;
    for (const auto &t : tables) names += (names.empty() ? "" : ", ") + t;
    spdlog::info(
        "snapshot.new.tables=incremental: {} new tables queued for an incremental "
        "snapshot: {}",
        tables.size(), names);
}

}  // namespace walcast
