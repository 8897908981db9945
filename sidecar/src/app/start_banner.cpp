#include "app/start_banner.h"

namespace walcast {

namespace {

std::string snapshot_plan_in_words(const std::string &mode) {
    if (mode == "initial")
        return "snapshot the included tables if the slot is new or its snapshot unfinished, "
               "then stream";
    if (mode == "initial_only") return "snapshot the included tables, then drop the slot and stop";
    if (mode == "when_needed")
        return "as initial, and replace a lost slot with a new one and a new snapshot";
    if (mode == "no_data" || mode == "never") return "stream only, no snapshot";
    if (mode == "always") return "snapshot the included tables on every start, then stream";
    return "";
}

}  // namespace

std::string start_banner(const Config &config) {
    std::string banner = std::string("walcast ") + WALCAST_VERSION + " starting: slot " +
                         config.slot_name + ", topic.prefix " + config.topic_prefix + ", sink " +
                         config.sink + ", postgres " + config.conninfo_redacted() +
                         ", snapshot.mode " + config.snapshot_mode;
    std::string plan = snapshot_plan_in_words(config.snapshot_mode);
    if (!plan.empty()) banner += " (" + plan + ")";
    const bool snapshots = config.snapshot_mode != "no_data" && config.snapshot_mode != "never";
    if (snapshots && config.get("snapshot.initial.method") == "incremental")
        banner += ", first load incremental (streaming at once, tables read in chunks)";
    if (config.get("snapshot.new.tables") == "incremental")
        banner += ", tables new to the slot read incrementally";
    return banner;
}

}  // namespace walcast
