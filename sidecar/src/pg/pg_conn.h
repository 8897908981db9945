// RAII wrappers for libpq connections and results, plus error classification
// shared by the replication client, heartbeats and `walcast status`.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "config/config.h"

namespace walcast {

struct PGconnDeleter {
    void operator()(PGconn *c) const { PQfinish(c); }
};
struct PGresultDeleter {
    void operator()(PGresult *r) const { PQclear(r); }
};
using PgConnPtr = std::unique_ptr<PGconn, PGconnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

// A database problem. fatal: retrying cannot help (credentials, configuration,
// slot owned by someone else): the process exits non-zero. Otherwise the
// caller retries with backoff.
class PgError : public std::runtime_error {
public:
    PgError(bool fatal, const std::string &msg) : std::runtime_error(msg), fatal_(fatal) {}
    bool fatal() const { return fatal_; }

private:
    bool fatal_;
};

// Connects; replication=true opens a `replication=database` walsender session.
// Throws PgError whose message names the conninfo (without password).
PgConnPtr pg_connect(const Config &config, bool replication);

// Runs a simple query (the only protocol walsender sessions speak); throws
// PgError unless the result status is `expect`. `what` prefixes the message.
PgResultPtr pg_exec(PGconn *conn, const std::string &sql, ExecStatusType expect,
                    const std::string &what);

// libpq's message on one line.
std::string one_line(const char *message);

// Quotes a string literal / identifier for SQL and replication commands.
std::string quote_literal(const std::string &s);
std::string quote_ident(const std::string &s);

}  // namespace walcast
