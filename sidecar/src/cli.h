// The `walcast` command line: run, status, slot drop.
#pragma once

namespace walcast {

// Exit codes: 0 ok, 1 runtime failure (database unreachable, slot busy, ...),
// 2 usage or configuration error.
int run_cli(int argc, char **argv);

}  // namespace walcast
