#include "snapshot/snapshot_mode.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "pg/pg_query.h"
#include "snapshot/captured_tables.h"
#include "pg/slot_health.h"
#include "snapshot/snapshot_decision.h"
#include "snapshot/snapshot_export.h"
#include "snapshot/snapshot_plan.h"
#include "snapshot/snapshot_preflight.h"
#include "snapshot/snapshot_settings.h"
#include "snapshot/snapshot_store.h"

namespace walcast {

namespace {

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

// Drops the slot this run created unless disarmed: a failure before the snapshot's plan
// is on record (privileges, planning, a stop) leaves no slot behind. Declared before
// the exported snapshot, so that its connection is gone when the slot is dropped.
class CreatedSlotGuard {
public:
    CreatedSlotGuard(const Config &config, std::string slot)
        : config_(config), slot_(std::move(slot)) {}
    CreatedSlotGuard(const CreatedSlotGuard &) = delete;
    CreatedSlotGuard &operator=(const CreatedSlotGuard &) = delete;
    ~CreatedSlotGuard() {
        if (!armed_) return;
        try {
            PgConnPtr conn = pg_connect(config_, false);
            drop_replication_slot(conn.get(), slot_);
            SnapshotStore(conn.get(), slot_).forget_run();
            spdlog::warn("dropped slot {} again: the run failed before its snapshot was on record",
                         slot_);
        } catch (const std::exception &e) {
            spdlog::error(
                "could not drop slot {} after the failed run ({}); drop it with "
                "`walcast slot drop`",
                slot_, e.what());
        }
    }
    void arm() { armed_ = true; }
    void disarm() { armed_ = false; }

private:
    const Config &config_;
    std::string slot_;
    bool armed_ = false;
};

SnapshotRecord record_state(const std::optional<SnapshotRun> &run) {
    if (!run) return SnapshotRecord::kNone;
    if (run->completed) return SnapshotRecord::kCompleted;
    return run->pending() ? SnapshotRecord::kPending : SnapshotRecord::kStarted;
}

std::string unrecorded_slot_message(const std::string &slot, bool extension) {
    return "replication slot " + slot + " exists but walcast has no snapshot on record for it" +
           (extension ? std::string() : std::string(" (the walcast extension is not installed)")) +
           ": it was created outside walcast (or by snapshot.mode=no_data), so the tables' rows "
           "before its consistent point never reached the sink, and walcast cannot take a "
           "snapshot at the consistent point of a slot it did not create. Either drop the slot "
           "(walcast slot drop) so that walcast creates it with a snapshot, set "
           "snapshot.mode=when_needed to let walcast do that, or set snapshot.mode=no_data to "
           "stream from it without a snapshot";
}

// One transaction: the run is on record as complete (the slot streams from its consistent
// point, no parallel read will follow), every table is on record as queued, and the signal
// that queues them travels through the slot. A run stopped before this commit leaves a
// pending record, and the next run creates the slot again.
void queue_first_load(PGconn *conn, const Config &config, Lsn point) {
    const std::string &slot = config.slot_name;
    pg_query(conn, "BEGIN", {});
    try {
        pg_query(conn,
                 "UPDATE walcast.snapshot_runs SET consistent_point = $2, completed_at = now() "
                 "WHERE slot_name = $1",
                 {slot, format_lsn(point)});
        CapturedTables captured(conn, slot);
        std::vector<std::string> tables = captured.missing(table_filter_from(config));
        captured.record_and_signal(tables);
        pg_query(conn, "COMMIT", {});
        spdlog::info(
            "slot {} created at {}: streaming starts at once; {} tables queued for an "
            "incremental snapshot",
            slot, format_lsn(point), tables.size());
    } catch (...) {
        PQclear(PQexec(conn, "ROLLBACK"));
        throw;
    }
}

}  // namespace

bool run_initial_snapshot(const Config &config, const SinkFactory &make_sink, Registry *metrics) {
    const std::string &mode = config.snapshot_mode;
    const std::string &slot = config.slot_name;
    if (mode == "initial_only" && config.get("snapshot.initial.method") == "incremental")
        throw ConfigError(
            "snapshot.initial.method=incremental reads the tables while streaming: it does "
            "not go with snapshot.mode=initial_only, which stops after the first load");
    // Stream-only modes: the stream checks the slot (a lost one stops it).
    if (mode == "no_data" || mode == "never") return true;

    PgConnPtr conn = pg_connect(config, false);
    // One run at a time decides about a slot: another run's slot may be between its
    // creation and its record. Held by this connection until the function returns.
    if (pg_scalar(conn.get(),
                  "SELECT pg_try_advisory_lock(hashtext('walcast.snapshot'), "
                  "hashtext($1))",
                  {slot}) != "t")
        throw PgError(true, "another walcast run is taking the snapshot of slot " + slot +
                                "; stop it or choose another slot.name");
    const std::optional<SlotInfo> info = lookup_slot(conn.get(), slot);
    const bool extension = has_extension(conn.get());
    std::optional<SnapshotRun> run;
    const SnapshotSettings settings = snapshot_settings_from(config);
    const PreflightNeeds needs{settings.threads};
    if (info && extension) {
        SnapshotStore store(conn.get(), slot);
        // Unreadable record: say everything that is missing, not just this.
        if (!store.readable())
            require_snapshot_preflight(conn.get(), table_filter_from(config), needs);
        run = store.load_run();
    }
    const SlotCondition condition = !info          ? SlotCondition::kMissing
                                    : info->lost() ? SlotCondition::kLost
                                                   : SlotCondition::kHealthy;
    const SnapshotAction action = decide_snapshot(mode, condition, record_state(run));
    spdlog::debug("slot {}: {}, snapshot record {}: {}", slot,
                  info ? (info->wal_status.empty() ? "exists" : info->wal_status) : "missing",
                  run ? (run->completed   ? "completed"
                         : run->pending() ? "pending"
                                          : "started")
                      : "none",
                  describe(action));

    switch (action) {
        case SnapshotAction::kStream:
            spdlog::info("slot {} exists and its snapshot completed: streaming", slot);
            return true;
        case SnapshotAction::kRefuseLost:
            if (metrics) slot_lost_gauge(*metrics).set(1);
            throw SlotLostError(describe_lost_slot(slot, *info));
        case SnapshotAction::kRefuseUnrecorded:
            throw PgError(true, unrecorded_slot_message(slot, extension));
        default:
            break;
    }
    require_extension(conn.get());
    SnapshotStore store(conn.get(), slot);
    const std::int64_t chunk_bytes = config.snapshot_chunk_bytes;
    const bool create = action == SnapshotAction::kCreate || action == SnapshotAction::kReplaceSlot;
    if (action != SnapshotAction::kDropCompleted)
        require_snapshot_preflight(conn.get(), table_filter_from(config), needs);

    if (action == SnapshotAction::kReplaceSlot) {
        if (info->active_pid)
            throw PgError(true, "replication slot " + slot + " is active for PID " +
                                    *info->active_pid +
                                    "; stop the other consumer or choose another slot.name");
        if (condition == SlotCondition::kLost) {
            if (metrics) slot_lost_gauge(*metrics).set(1);
            spdlog::error("{}", describe_lost_slot(slot, *info));
            spdlog::warn(
                "snapshot.mode={}: dropping lost slot {} and creating it again "
                "with a new initial snapshot; the changes in the lost WAL are covered "
                "by the snapshot's rows",
                mode, slot);
        } else if (record_state(run) == SnapshotRecord::kPending) {
            spdlog::warn(
                "slot {} was created by a walcast run that stopped before its snapshot "
                "started: nothing was read from it; dropping it and starting over",
                slot);
        } else {
            spdlog::warn(
                "snapshot.mode=when_needed: slot {} has no snapshot on record; "
                "dropping it and creating it again with a new initial snapshot",
                slot);
        }
        drop_replication_slot(conn.get(), slot);
        store.forget_run();
        if (metrics && condition == SlotCondition::kLost) {
            slots_recreated_counter(*metrics).inc();
        }
    }

    // A new slot replaces whatever was lost.
    if (metrics && create) slot_lost_gauge(*metrics).set(0);

    if (action == SnapshotAction::kResume) {
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
    } else if (action == SnapshotAction::kResnapshot) {
        // The slot keeps its position: the new snapshot sees at least as much as the
        // slot has confirmed, and the stream replays everything after that position.
        const Lsn from = parse_lsn(info->confirmed_flush_lsn).value_or(0);
        spdlog::info(
            "snapshot.mode=always: snapshot of every table, then streaming from slot {} at {} "
            "(changes between that position and the snapshot may be delivered again)",
            slot, format_lsn(from));
        ExportedSnapshot snapshot = ExportedSnapshot::fresh(config);
        SnapshotPlan plan = plan_under(config, snapshot.name(), chunk_bytes, settings.threads);
        store.start_run(from, plan);
        log_result(run_snapshot(settings, snapshot, from, plan.chunks, plan.tables, store,
                                make_sink, metrics));
        store.complete_run();
    } else if (create && config.get("snapshot.initial.method") == "incremental") {
        // The first load without an exported snapshot: the slot streams at once and every
        // table is read in incremental chunks (no horizon pinned for the whole read).
        store.record_pending();
        CreatedSlotGuard guard(config, slot);
        const Lsn point = create_slot_without_snapshot(config, slot, config.slot_create_timeout_ms);
        guard.arm();
        queue_first_load(conn.get(), config, point);
        guard.disarm();
    } else if (create) {
        // The record first: a slot found with only this record had nothing read from it.
        store.record_pending();
        CreatedSlotGuard guard(config, slot);
        std::optional<ExportedSnapshot> snapshot;
        snapshot = ExportedSnapshot::create_slot(config, slot, config.slot_create_timeout_ms);
        guard.arm();
        SnapshotPlan plan = plan_under(config, snapshot->name(), chunk_bytes, settings.threads);
        store.start_run(snapshot->consistent_point(), plan);
        guard.disarm();  // from here on an interrupted snapshot is resumed
        log_result(run_snapshot(settings, *snapshot, snapshot->consistent_point(), plan.chunks,
                                plan.tables, store, make_sink, metrics));
        store.complete_run();
    }

    if (mode == "initial_only") {
        // Nothing will stream from the slot: keeping it would retain WAL forever.
        drop_replication_slot(conn.get(), slot);
        store.forget_run();
        spdlog::info("snapshot.mode=initial_only: snapshot done, slot {} dropped", slot);
        return false;
    }
    return true;
}

}  // namespace walcast
