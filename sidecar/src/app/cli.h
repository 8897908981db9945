// The `walcast` command line: run, status, slot drop.
#pragma once

namespace walcast {

// Exit codes: 0 ok, 1 runtime failure (database unreachable, slot busy, ...),
// 2 usage or configuration error.
int run_cli(int argc, char **argv);

// Overwrites, in place, the values of secret --set arguments (database.password,
// kafka.sasl.password, the password inside a database.url) with '*', so that ps
// shows stars for the moment before the configuration refuses them.
void scrub_secret_arguments(int argc, char **argv);

}  // namespace walcast
