#include "snapshot/blocking_snapshot.h"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "pg/pg_query.h"
#include "snapshot/captured_tables.h"
#include "snapshot/snapshot_export.h"
#include "snapshot/snapshot_settings.h"
#include "snapshot/snapshot_store.h"

namespace walcast {

SnapshotResult run_blocking_snapshot(const Config &config,
                                     const std::vector<std::string> &collections,
                                     const TableCondition &condition_of,
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

    // Which streamed tables the regexes match whole, as the server reads regexes (as the
    // incremental snapshot resolves them).
    std::vector<std::string> names;
    for (const auto &t : all.tables) names.push_back(t.published);
    PgResultPtr matched = pg_query(conn.get(), R"SQL(
        SELECT r, t FROM unnest($2::text[]) r
        LEFT JOIN unnest($1::text[]) t ON t ~ ('^(?:' || r || ')$'))SQL",
                                   {text_array_literal(names), text_array_literal(collections)},
                                   "matching the blocking snapshot's tables");
    std::set<std::string> wanted;
    for (int i = 0; i < PQntuples(matched.get()); i++) {
        if (PQgetisnull(matched.get(), i, 1))
            spdlog::error("blocking snapshot of {}: no such table among those streamed",
                          PQgetvalue(matched.get(), i, 0));
        else
            wanted.insert(PQgetvalue(matched.get(), i, 1));
    }
    SnapshotPlan plan;
    std::map<std::uint32_t, std::string> conditions;  // table -> its condition (empty: none)
    for (const auto &t : all.tables) {
        if (!wanted.count(t.published)) continue;
        std::optional<std::string> condition = condition_of(conn.get(), t);
        if (!condition) continue;  // refused, logged
        if (!condition->empty())
            spdlog::info("blocking snapshot of {}: the rows where {}", t.published, *condition);
        conditions[t.rel] = *condition;
        plan.tables.push_back(t);
    }
    for (const auto &c : all.chunks) {
        auto it = conditions.find(c.rel);
        if (it == conditions.end()) continue;
        plan.chunks.push_back(c);
        plan.chunks.back().condition = it->second;
    }

    spdlog::info("blocking snapshot of {} tables ({} chunks), {} readers; the stream waits",
                 plan.tables.size(), plan.chunks.size(), settings.threads);
    if (plan.chunks.empty()) return {};
    // Nothing of it goes into the slot's run record: it is read again whole if interrupted.
    SnapshotStore store(conn.get(), config.slot_name, false);
    return run_snapshot(settings, snapshot, position, plan.chunks, plan.tables, store, make_sink,
                        metrics);
}

}  // namespace walcast
