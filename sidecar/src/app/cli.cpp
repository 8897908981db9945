#include "app/cli.h"

#include <CLI/CLI.hpp>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

#include "config/config.h"
#include "config/connector_keys.h"
#include "metrics/metrics.h"
#include "metrics/metrics_server.h"
#include "incremental/incremental_snapshot.h"
#include "pg/filter_patterns.h"
#include "pg/pg_conn.h"
#include "stream/pipeline.h"
#include "config/redact.h"
#include "config/settings.h"
#include "common/shutdown.h"
#include "sink/sink_factory.h"
#include "pg/slot_health.h"
#include "snapshot/slot_drop_on_stop.h"
#include "snapshot/snapshot_mode.h"
#include "app/request_snapshot.h"
#include "app/new_tables.h"
#include "app/signalled_snapshots.h"
#include "app/start_banner.h"
#include "app/status.h"
#include "app/subcommand_error.h"
#include "verify/verify.h"

namespace walcast {

namespace {

// Logging to stderr through redact(): no log line shows a registered secret or
// a password-shaped value, whichever library wrote it.
void setup_logging(const Config &config) {
    for (const auto &secret : config.secrets) register_secret(secret);
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("walcast", redacting_sink(stderr_sink));
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    spdlog::flush_on(spdlog::level::trace);  // logs go to files in tests; keep them current
    for (const auto &w : config.warnings) spdlog::warn("{}", w);
    spdlog::debug("configuration: {}", config.describe_redacted());
}

struct CommonOptions {
    std::optional<std::string> config_file;
    std::vector<std::string> sets;
    std::string log_level;
    std::string sink;
};

void add_common(CLI::App *cmd, CommonOptions &o) {
    cmd->add_option("-c,--config", o.config_file,
                    "Debezium connector .properties file or Kafka Connect REST JSON");
    cmd->add_option("--set", o.sets, "Override a property: --set key=value (repeatable)");
    cmd->add_option("--log-level", o.log_level,
                    "trace, debug, info, warn, error, critical, off (log.level)");
}

Config load(const CommonOptions &o) {
    ConfigSources src;
    src.file = o.config_file;
    src.env = process_environment();
    src.sets = o.sets;
    // Dedicated flags are --set shorthands and win like them.
    if (!o.sink.empty()) src.sets.push_back("sink=" + o.sink);
    if (!o.log_level.empty()) src.sets.push_back("log.level=" + o.log_level);
    return load_config(src);
}

// A regular expression the server rejects is a usage error (exit 2) found before the slot
// exists. Best effort: an unreachable server or a refused role is reported, with its
// remedy, by what runs next.
void check_patterns_before_start(const Config &config) {
    PgConnPtr conn;
    try {
        conn = pg_connect(config, false);
    } catch (const PgError &) {
        return;
    }
    check_filter_patterns(conn.get(), config);
}

// A stop on request (SIGTERM, SIGINT) ends the run with 0.
int stopped_cleanly(const Config &config) {
    if (config.slot_drop_on_stop) drop_slot_on_stop(config);
    return 0;
}

int cmd_run(const Config &config) {
    install_stop_signal_handlers();
    const ShutdownToken &token = ShutdownToken::process();
    std::unique_ptr<Registry> registry;
    std::unique_ptr<SidecarMetrics> metrics;
    std::unique_ptr<MetricsServer> server;
    if (!config.metrics_address.empty()) {
        registry = std::make_unique<Registry>();
        metrics = std::make_unique<SidecarMetrics>(*registry);
        try {
            server = std::make_unique<MetricsServer>(*registry, config.metrics_address);
        } catch (const std::runtime_error &e) {
            throw ConfigError("metrics.address=" + config.metrics_address + ": " + e.what());
        }
    }
    // The stream's sink opens first: a misconfigured sink stops the run (ConfigError ->
    // exit 2; an unwritable file -> exit 1) before anything touches Postgres.
    Pipeline pipeline(config, token.flag(), metrics.get());
    // Incremental snapshots watch the stream; they start on a signal from the slot.
    IncrementalSnapshot incremental(config, token.flag(), metrics ? &metrics->registry() : nullptr);
    const SinkFactory snapshot_sink = [&](DeliveryCallback cb) {
        return make_sink(config, std::move(cb), registry.get());
    };
    // Blocking snapshots hold the stream: `incremental` hands their signals over.
    SignalledSnapshots signalled(config, incremental, snapshot_sink, registry.get());
    incremental.set_blocking_snapshot_handler(
        [&signalled](const ControlMessage &m) { signalled.request(m); });
    pipeline.set_observer(&signalled);
    try {
        pipeline.open_sink();
        check_patterns_before_start(config);
        // snapshot.mode: the initial snapshot (or its resumption) comes before streaming,
        // which then starts at the slot's consistent point. A slot lost while streaming
        // ends the run, unless when_needed replaces it with a new slot and snapshot.
        // The banner comes first: a snapshot can take hours, and the user should see at
        // once what this run is going to do.
        spdlog::info("{}", start_banner(config));
        for (;;) {
            bool stream = run_initial_snapshot(config, snapshot_sink, registry.get());
            if (!stream) return 0;
            if (token.requested()) return stopped_cleanly(config);
            if (config.get("snapshot.new.tables") == "incremental") queue_new_tables(config);
            spdlog::info("streaming slot {} to sink {}", config.slot_name, config.sink);
            int rc = pipeline.run();
            if (rc == 0 && token.requested()) return stopped_cleanly(config);
            if (rc != kExitSlotLost || config.snapshot_mode != "when_needed" || token.requested())
                return rc;
            spdlog::warn("snapshot.mode=when_needed: replacing lost slot {}", config.slot_name);
        }
    } catch (const Stopped &e) {
        // Chunks already delivered stay recorded: the next run resumes the snapshot.
        spdlog::info("{}; exiting", e.what());
        return stopped_cleanly(config);
    } catch (const SinkError &e) {
        spdlog::critical("{}", e.what());
        return e.exit_code();
    }
}

}  // namespace

void scrub_secret_arguments(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        char *kv = nullptr;
        if (std::strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            kv = argv[i + 1];
        } else if (std::strncmp(argv[i], "--set=", 6) == 0) {
            kv = argv[i] + 6;
        }
        char *eq = kv ? std::strchr(kv, '=') : nullptr;
        if (!eq) continue;
        std::string key(kv, eq);
        key.erase(key.find_last_not_of(" \t") + 1);
        key.erase(0, key.find_first_not_of(" \t"));
        if (is_secret_key(key)) {
            std::memset(eq + 1, '*', std::strlen(eq + 1));
        } else if (key == "database.url") {
            // Only the password-shaped parts, so that the refusal can still see them.
            for (const auto &secret : password_shaped_values(eq + 1))
                for (char *p = std::strstr(eq + 1, secret.c_str()); p;
                     p = std::strstr(p + secret.size(), secret.c_str()))
                    std::memset(p, '*', secret.size());
        }
    }
}

int run_cli(int argc, char **argv) {
    scrub_secret_arguments(argc, argv);
    CLI::App app{
        "walcast: stream a PostgreSQL logical replication slot (walcast output plugin) "
        "to Kafka, a file or stdout, acknowledging only what the sink holds."};
    app.set_version_flag("--version", std::string("walcast ") + WALCAST_VERSION);
    app.require_subcommand(1);
    app.footer(
        "Each subcommand's --help lists the settings it reads, with descriptions; "
        "docs/configuration.md has them all.");

    CommonOptions run_opts, status_opts, drop_opts, verify_opts;
    CLI::App *run = app.add_subcommand("run", "Stream the slot to the sink until SIGTERM");
    add_common(run, run_opts);
    run->add_option("--sink", run_opts.sink, "kafka, stdout or file:/path/events.jsonl (sink)");
    run->footer(settings_help(kRun));

    CLI::App *status = app.add_subcommand(
        "status", "Show the slot's confirmed position, retained WAL, wal_status and the sink");
    add_common(status, status_opts);
    status->footer(settings_help(kStatus));

    VerifyOptions verify_options;
    CLI::App *verify = app.add_subcommand(
        "verify", "Fold the change topics (last value per key) and compare them with the source");
    add_common(verify, verify_opts);
    verify->add_option("--sink", verify_opts.sink, "where the topics are: kafka or file:/path");
    verify->add_option("--tables", verify_options.tables,
                       "comma-separated regexes on schema.table (default: table.include.list)");
    verify->add_option("--examples", verify_options.examples, "examples per kind of difference")
        ->default_val(5);
    verify->add_flag("--repair", verify_options.repair,
                     "ask the running sidecar for an incremental snapshot of the tables that "
                     "differ, then verify them again");
    verify
        ->add_option("--repair-timeout", verify_options.repair_timeout_s,
                     "seconds --repair waits for the re-sent rows")
        ->default_val(600)
        ->check(CLI::PositiveNumber);
    verify->footer(settings_help(kVerify));

    CLI::App *slot = app.add_subcommand("slot", "Manage the replication slot");
    slot->require_subcommand(1);
    CLI::App *drop =
        slot->add_subcommand("drop", "Drop the slot on purpose (refused while active)");
    add_common(drop, drop_opts);
    drop->footer(settings_help(kSlotDrop));

    CommonOptions snapshot_opts;
    std::vector<std::string> snapshot_tables;
    std::string snapshot_where;
    bool snapshot_blocking = false;
    CLI::App *snapshot = app.add_subcommand(
        "snapshot",
        "Ask the sidecar streaming this database to re-read tables incrementally while it "
        "streams, or with --blocking while its stream waits (walcast.execute_snapshot)");
    add_common(snapshot, snapshot_opts);
    snapshot->add_option("tables", snapshot_tables, "tables to read again, as schema.table")
        ->required();
    snapshot->add_option("--where", snapshot_where,
                         "a condition (SQL expression on the table's own columns) applied to "
                         "each table: only matching rows are read");
    snapshot->add_flag("--blocking", snapshot_blocking,
                       "a blocking snapshot (Debezium's type blocking): the stream waits while "
                       "the parallel reader reads the tables");
    snapshot->footer(settings_help(kSnapshot));

    // Hidden: prints docs/configuration.md from the settings table (make config-doc).
    CLI::App *config_doc = app.add_subcommand("config-doc", "Print docs/configuration.md");
    config_doc->group("");
    bool debezium_keys_doc = false;
    config_doc->add_flag("--debezium-keys", debezium_keys_doc,
                         "Print docs/debezium-keys.md instead");

    if (auto unknown = subcommand_error(app, argc, argv)) {
        std::cerr << "walcast: " << *unknown << "\n";
        return kExitConfig;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    if (*config_doc) {
        std::cout << (debezium_keys_doc ? foreign_keys_markdown() : settings_markdown());
        return 0;
    }
    try {
        if (*run) {
            Config config = load(run_opts);
            setup_logging(config);
            return cmd_run(config);
        }
        if (*verify) {
            Config config = load(verify_opts);
            setup_logging(config);
            return run_verify(config, verify_options, std::cout);
        }
        if (*snapshot) {
            Config config = load(snapshot_opts);
            setup_logging(config);
            return request_snapshot(config, snapshot_tables, snapshot_where, snapshot_blocking,
                                    std::cout);
        }
        const CommonOptions &o = *status ? status_opts : drop_opts;
        Config config = load(o);
        setup_logging(config);
        return *status ? print_status(config, std::cout) : drop_slot(config, std::cout);
    } catch (const ConfigError &e) {
        std::cerr << "walcast: configuration error: " << redact(e.what()) << "\n";
        return 2;
    } catch (const SlotLostError &e) {
        std::cerr << "walcast: error: " << e.what() << "\n";
        return kExitSlotLost;
    } catch (const PgError &e) {
        std::cerr << "walcast: error: " << redact(e.what()) << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "walcast: error: " << redact(e.what()) << "\n";
        return 1;
    }
}

}  // namespace walcast
