#include "pg/pg_query.h"

#include "pg/pg_wait.h"

namespace walcast {

PgError pg_result_error(const PGresult *res, PGconn *conn, const std::string &what) {
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = primary ? primary : one_line(PQerrorMessage(conn));
    return PgError(false, what.empty() ? message : what + ": " + message);
}

PgResultPtr pg_query(PGconn *conn, const std::string &sql, const std::vector<std::string> &params,
                     const std::string &what) {
    std::vector<const char *> values;
    for (const auto &p : params) values.push_back(p.c_str());
    PgResultPtr res(pg_exec_interruptible(conn, sql, &values));
    ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        throw pg_result_error(res.get(), conn, what);
    return res;
}

std::string pg_scalar(PGconn *conn, const std::string &sql,
                      const std::vector<std::string> &params) {
    PgResultPtr res = pg_query(conn, sql, params);
    if (PQntuples(res.get()) == 0 || PQgetisnull(res.get(), 0, 0)) return {};
    return PQgetvalue(res.get(), 0, 0);
}

std::string text_array_literal(const std::vector<std::string> &items) {
    std::string out = "{";
    for (const auto &item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : item) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

}  // namespace walcast
