#include "app/subcommand_error.h"

namespace walcast {

namespace {

// Subcommands a user may type: those in a help group (hidden ones have none).
std::string visible_subcommands(const CLI::App &app) {
    std::string names;
    for (const CLI::App *sub :
         app.get_subcommands([](const CLI::App *s) { return !s->get_group().empty(); }))
        names += (names.empty() ? "" : ", ") + sub->get_name();
    return names;
}

}  // namespace

std::optional<std::string> subcommand_error(const CLI::App &app, int argc,
                                            const char *const *argv) {
    const CLI::App *level = &app;
    std::string path = app.get_name().empty() ? "walcast" : app.get_name();
    bool asks_help = false;
    for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (word == "-h" || word == "--help" || word == "--version") asks_help = true;
        if (word.empty() || word[0] == '-') continue;
        auto all = level->get_subcommands([](const CLI::App *) { return true; });
        if (all.empty()) return std::nullopt;  // a leaf command: the rest are its arguments
        const CLI::App *next = nullptr;
        for (const CLI::App *sub : all)
            if (sub->check_name(word)) next = sub;
        if (!next)
            return "unknown subcommand '" + word + "' for " + path +
                   "; valid subcommands: " + visible_subcommands(*level) + " (" + path + " --help)";
        level = next;
        path += " " + next->get_name();
    }
    if (!asks_help && level->get_require_subcommand_min() > 0)
        return path + " needs a subcommand: " + visible_subcommands(*level) + " (" + path +
               " --help)";
    return std::nullopt;
}

}  // namespace walcast
