// libpq calls that wake on the process's shutdown token: connecting, running a query
// and waiting for its result never block a stop request for more than a moment.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

namespace walcast {

// PQconnectStartParams + PQconnectPoll, giving up after timeout_s. Returns the
// connection (check PQstatus) or nullptr on timeout. Throws Stopped.
PGconn *pg_connect_start(const char *const *keys, const char *const *values, int timeout_s);

// PQexec / PQexecParams (params may be empty), waiting on the socket and the
// shutdown token. After a stop request it is cancelled within 2 s (Stopped is thrown).
// Returns the last result, or the COPY result that starts a copy.
PGresult *pg_exec_interruptible(PGconn *conn, const std::string &sql,
                                const std::vector<const char *> *params = nullptr);

// Waits until a result can be read without blocking (PQisBusy false). Throws Stopped
// (after sending a cancel request) when a stop was requested 2 s before.
void pg_await_result(PGconn *conn, const std::string &what);

// Asks the server to cancel the running command (best effort).
void pg_cancel(PGconn *conn);

}  // namespace walcast
