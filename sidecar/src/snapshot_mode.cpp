#include "snapshot_mode.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "pg_query.h"
#include "snapshot_export.h"
#include "snapshot_plan.h"
#include "snapshot_store.h"

namespace walcast {

namespace {

std::int64_t int_setting(const Config &config, const std::string &key, std::int64_t fallback) {
    const std::string &v = config.get(key);
    return v.empty() ? fallback : std::strtoll(v.c_str(), nullptr, 10);
}

}  // namespace

SnapshotSettings snapshot_settings_from(const Config &config) {
    SnapshotSettings s;
    s.config = &config;
    s.threads = static_cast<int>(int_setting(config, "snapshot.max.threads", 2));
    s.max_rows_per_second =
        static_cast<double>(int_setting(config, "snapshot.throttle.rows.per.second", 0));
    s.max_bytes_per_second =
        static_cast<double>(int_setting(config, "snapshot.throttle.bytes.per.second", 0));
    // The encoder's options are the plugin's, minus the stream-only framing.
    for (const auto &[k, v] : config.plugin_options)
        if (k != "format" && k != "provide.transaction.metadata" && k != "skipped.operations" &&
            k != "message.prefix.include.list" && k != "message.prefix.exclude.list")
            s.encoder_options.emplace_back(k, v);
    return s;
}

TableFilter table_filter_from(const Config &config) {
    TableFilter f;
    f.include_list = config.get("table.include.list");
    f.exclude_list = config.get("table.exclude.list");
    f.via_partition_root = config.get("publish.via.partition.root") == "true";
    return f;
}

namespace {

bool slot_exists(PGconn *conn, const std::string &slot) {
    return !pg_scalar(conn, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {slot})
                .empty();
}

bool has_extension(PGconn *conn) {
    return !pg_scalar(conn, "SELECT 1 FROM pg_extension WHERE extname = 'walcast'").empty();
}

void require_extension(PGconn *conn) {
    if (!has_extension(conn))
        throw PgError(true,
                      "the initial snapshot (snapshot.mode=initial, the default) needs the walcast "
                      "extension in the source database: run CREATE EXTENSION walcast, or set "
                      "snapshot.mode=no_data to stream changes only");
}

// Plans inside a transaction that imported the snapshot (see plan_snapshot).
SnapshotPlan plan_under(const Config &config, const std::string &snapshot_name,
                        std::int64_t chunk_bytes, int readers) {
    PgConnPtr conn = pg_connect(config, false);
    pg_query(conn.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {});
    pg_query(conn.get(), "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot_name), {},
             "importing snapshot " + snapshot_name);
    // Four chunks per reader at least: the last chunks of a table finish close together.
    SnapshotPlan plan =
        plan_snapshot(conn.get(), table_filter_from(config), chunk_bytes, 4 * readers);
    pg_query(conn.get(), "COMMIT", {});
    return plan;
}

void log_result(const SnapshotResult &r) {
    spdlog::info("snapshot: {} rows, {:.1f} MB of events in {:.1f} s ({:.0f} rows/s)", r.rows,
                 static_cast<double>(r.bytes) / 1e6, r.seconds,
                 r.seconds > 0 ? r.rows / r.seconds : 0);
}

}  // namespace

bool run_initial_snapshot(const Config &config, const SinkFactory &make_sink, Registry *metrics) {
    const std::string &mode = config.snapshot_mode;
    const std::string &slot = config.slot_name;
    if (mode == "no_data" || mode == "never") return true;

    PgConnPtr conn = pg_connect(config, false);
    const bool have_slot = slot_exists(conn.get(), slot);
    if (have_slot && !has_extension(conn.get())) {
        // A slot made by hand (or by an older setup): without the extension no snapshot
        // was ever recorded, so there is nothing to resume; the slot's stream goes on.
        spdlog::info("slot {} exists: no snapshot needed", slot);
        return mode != "initial_only";
    }
    require_extension(conn.get());
    SnapshotStore store(conn.get(), slot);
    const std::int64_t chunk_bytes = int_setting(config, "snapshot.chunk.bytes", 64LL << 20);
    SnapshotSettings settings = snapshot_settings_from(config);

    if (have_slot) {
        auto run = store.load_run();
        if (!run || run->completed) {
            spdlog::info("slot {} exists{}: no snapshot needed", slot,
                         run ? " and its snapshot completed" : "");
            return mode != "initial_only";
        }
        // Interrupted: re-read the unfinished chunks under a fresh snapshot; the stream
        // still starts at the original consistent point, so the result converges.
        spdlog::info("resuming the snapshot of slot {} (consistent point {})", slot,
                     format_lsn(run->consistent_point));
        ExportedSnapshot snapshot = ExportedSnapshot::fresh(config);
        std::vector<SnapshotChunk> chunks = store.load_chunks();
        std::vector<SnapshotTable> tables =
            plan_under(config, snapshot.name(), chunk_bytes, settings.threads).tables;
        log_result(run_snapshot(settings, snapshot, run->consistent_point, chunks, tables, store,
                                make_sink, metrics));
        store.complete_run();
    } else {
        ExportedSnapshot snapshot = ExportedSnapshot::create_slot(
            config, slot, int_setting(config, "slot.create.timeout.ms", 300000));
        SnapshotPlan plan = plan_under(config, snapshot.name(), chunk_bytes, settings.threads);
        store.start_run(snapshot.consistent_point(), plan);
        log_result(run_snapshot(settings, snapshot, snapshot.consistent_point(), plan.chunks,
                                plan.tables, store, make_sink, metrics));
        store.complete_run();
    }

    if (mode == "initial_only") {
        // Nothing will stream from the slot: keeping it would retain WAL forever.
        pg_query(conn.get(), "SELECT pg_drop_replication_slot($1)", {slot},
                 "dropping slot " + slot);
        store.forget_run();
        spdlog::info("snapshot.mode=initial_only: snapshot done, slot {} dropped", slot);
        return false;
    }
    return true;
}

}  // namespace walcast
