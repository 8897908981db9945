// A misspelt or missing subcommand (`walcast frobnicate`, `walcast slot dorp`, `walcast`)
// named as such, with the valid ones, instead of CLI11's "A subcommand is required".
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace walcast {

// The message for argv (after the program name) when a word stands where a subcommand of
// `app` (or of the subcommand before it) must be and names none of them, or when a command
// that needs a subcommand is given none (and no --help/--version); nullopt otherwise.
// Options (words starting with '-') are skipped: the commands that have subcommands take
// only flags without values.
std::optional<std::string> subcommand_error(const CLI::App &app, int argc, const char *const *argv);

}  // namespace walcast
