#include "pg/pg_conn.h"

#include <vector>

#include "pg/pg_wait.h"
#include "config/redact.h"

namespace walcast {

std::string one_line(const char *message) {
    std::string out;
    bool space = false;
    for (const char *p = message ? message : ""; *p; ++p) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += *p;
    }
    return out;
}

std::string quote_literal(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += (c == '\'') ? std::string("''") : std::string(1, c);
    return out + "'";
}

std::string quote_ident(const std::string &s) {
    std::string out = "\"";
    for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

namespace {
// Credentials, missing roles or databases, hba rules: the user must act.
bool is_config_failure(const std::string &msg) {
    for (const char *needle : {"authentication failed", "pg_hba.conf", "does not exist", "password",
                               "permission denied", "must be superuser or replication role",
                               "invalid connection option", "invalid URI", "invalid integer value"})
        if (msg.find(needle) != std::string::npos) return true;
    return false;
}
}  // namespace

PgConnPtr pg_connect(const Config &config, bool replication) {
    std::vector<const char *> keys, values;
    for (const auto &[k, v] : config.conn_params) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    if (replication) {
        keys.push_back("replication");
        values.push_back("database");
    }
    keys.push_back("application_name");
    values.push_back("walcast");
    keys.push_back(nullptr);
    values.push_back(nullptr);
    // expand_dbname=1: a database.url (passed as dbname first) is expanded, and
    // later keywords override its parts.
    // Waits on the shutdown token as well as the socket (a stop request ends it).
    constexpr int kConnectTimeoutS = 10;
    PgConnPtr conn(pg_connect_start(keys.data(), values.data(), kConnectTimeoutS));
    if (!conn)
        throw PgError(false, "cannot connect to Postgres (" + config.conninfo_redacted() +
                                 "): no answer within " + std::to_string(kConnectTimeoutS) + " s");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        // libpq may quote parts of the connection string: redact before anything prints it.
        std::string msg = redact(one_line(PQerrorMessage(conn.get())));
        throw PgError(is_config_failure(msg),
                      "cannot connect to Postgres (" + config.conninfo_redacted() + "): " + msg);
    }
    return conn;
}

PgResultPtr pg_exec(PGconn *conn, const std::string &sql, ExecStatusType expect,
                    const std::string &what) {
    PgResultPtr res(pg_exec_interruptible(conn, sql));
    if (res && PQresultStatus(res.get()) == expect) return res;
    std::string msg = one_line(res ? PQresultErrorMessage(res.get()) : PQerrorMessage(conn));
    const char *state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    // A lost connection is worth a retry; an SQL error usually is not.
    bool lost = PQstatus(conn) != CONNECTION_OK || state == nullptr ||
                std::string(state).rfind("57P", 0) == 0 || std::string(state).rfind("08", 0) == 0;
    throw PgError(!lost, what + ": " + msg);
}

}  // namespace walcast
