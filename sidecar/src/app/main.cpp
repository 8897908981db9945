// walcast sidecar entry point; everything else lives in walcast_core.
#include "app/cli.h"

int main(int argc, char **argv) { return walcast::run_cli(argc, argv); }
