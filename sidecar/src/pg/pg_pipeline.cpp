#include "pg/pg_pipeline.h"

#include <optional>

#include "pg/pg_query.h"
#include "pg/pg_wait.h"

namespace walcast {

namespace {

// The next result, waiting on the socket and the shutdown token.
PgResultPtr next_result(PGconn *conn, const std::string &what) {
    pg_await_result(conn, what);
    return PgResultPtr(PQgetResult(conn));
}

}  // namespace

std::size_t pg_pipeline_send(PGconn *conn, const std::vector<PipelinedStatement> &statements,
                             const std::string &what) {
    if (!PQenterPipelineMode(conn))
        throw PgError(false, what + ": " + one_line(PQerrorMessage(conn)));
    std::size_t sent = 0;
    for (const PipelinedStatement &s : statements) {
        std::vector<const char *> values;
        for (const std::string &p : s.params) values.push_back(p.c_str());
        const int n = static_cast<int>(values.size());
        const int queued = s.prepared.empty()
                               ? PQsendQueryParams(conn, s.sql.c_str(), n, nullptr, values.data(),
                                                   nullptr, nullptr, 0)
                               : PQsendQueryPrepared(conn, s.prepared.c_str(), n, values.data(),
                                                     nullptr, nullptr, 0);
        if (!queued || !PQpipelineSync(conn)) {
            const PgError error(false, what + ": " + one_line(PQerrorMessage(conn)));
            pg_pipeline_receive(conn, sent, what);  // what was sent still answers
            throw error;
        }
        sent++;
    }
    return sent;
}

std::vector<PgResultPtr> pg_pipeline_receive(PGconn *conn, std::size_t sent,
                                             const std::string &what) {
    // Every statement sent gives its result, the end of its results (null), then its sync.
    std::optional<PgError> failure;
    std::vector<PgResultPtr> results;
    for (std::size_t i = 0; i < sent; i++) {
        PgResultPtr res = next_result(conn, what);
        const ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && !failure)
            failure = pg_result_error(res.get(), conn, what);
        if (res) {
            while (PgResultPtr more = next_result(conn, what)) {
            }
        }
        results.push_back(std::move(res));
        PgResultPtr sync = next_result(conn, what);
        if ((!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) && !failure)
            failure = PgError(false, what + ": the pipeline lost its place");
    }
    if (!PQexitPipelineMode(conn) && !failure)
        failure = PgError(false, what + ": " + one_line(PQerrorMessage(conn)));
    if (failure) throw *failure;
    return results;
}

std::vector<PgResultPtr> pg_pipeline(PGconn *conn,
                                     const std::vector<PipelinedStatement> &statements,
                                     const std::string &what) {
    return pg_pipeline_receive(conn, pg_pipeline_send(conn, statements, what), what);
}

}  // namespace walcast
