#pragma once
// Reported in source.version of every event.
#define WALCAST_VERSION "0.1.0"
