#include "snapshot/blocking_snapshot.h"

#include <spdlog/spdlog.h>

#include <set>

#include "pg/pg_query.h"
#include "snapshot/snapshot_export.h"
#include "snapshot/snapshot_settings.h"
#include "snapshot/snapshot_store.h"

namespace walcast {

SnapshotResult run_blocking_snapshot(const Config &config, const std::vector<std::string> &tables,
                                     const SinkFactory &make_sink, Registry *metrics) {
    const SnapshotSettings settings = snapshot_settings_from(config);
    // Taken now, after the signal's commit: it sees every change the stream delivered
    // before the signal, and some after it that the stream delivers again on resuming.
    ExportedSnapshot snapshot = ExportedSnapshot::fresh(config);
    PgConnPtr conn = pg_connect(config, false);
    pg_query(conn.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {});
    pg_query(conn.get(), "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot.name()), {},
             "importing snapshot " + snapshot.name());
    // The position the rows carry as source.lsn: the WAL's end as the snapshot was read.
    const Lsn position =
        parse_lsn(pg_scalar(conn.get(), "SELECT pg_current_wal_lsn()::text")).value_or(0);
    SnapshotPlan all = plan_snapshot(conn.get(), table_filter_from(config),
                                     config.snapshot_chunk_bytes, 4 * settings.threads);
    pg_query(conn.get(), "COMMIT", {});

    const std::set<std::string> wanted(tables.begin(), tables.end());
    std::set<std::string> found;
    SnapshotPlan plan;
    std::set<std::uint32_t> rels;
    for (const auto &t : all.tables) {
        if (!wanted.count(t.published)) continue;
        found.insert(t.published);
        rels.insert(t.rel);
        plan.tables.push_back(t);
    }
    for (const auto &c : all.chunks)
        if (rels.count(c.rel)) plan.chunks.push_back(c);
    for (const auto &name : wanted)
        if (!found.count(name))
            spdlog::error("blocking snapshot of {}: no such table among those streamed", name);

    spdlog::info("blocking snapshot of {} tables ({} chunks), {} readers; the stream waits",
                 plan.tables.size(), plan.chunks.size(), settings.threads);
    if (plan.chunks.empty()) return {};
    // Nothing of it goes into the slot's run record: it is read again whole if interrupted.
    SnapshotStore store(conn.get(), config.slot_name, false);
    return run_snapshot(settings, snapshot, position, plan.chunks, plan.tables, store, make_sink,
                        metrics);
}

}  // namespace walcast
