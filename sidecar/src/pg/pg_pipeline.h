// Statements sent at once (libpq's pipeline mode), each followed by a sync point so each
// is its own implicit transaction, as if run one after the other: one round trip for all
// of them instead of one each. The server runs them in order; a failed one does not stop
// the ones after it (each has its own transaction).
#pragma once

#include <string>
#include <vector>

#include "pg/pg_conn.h"

namespace walcast {

struct PipelinedStatement {
    std::string sql;                  // or, with `prepared`, unused
    std::vector<std::string> params;  // text parameters $1..$n
    // The name of a statement prepared on the connection (pg_prepare): the server
    // neither parses nor plans it again.
    std::string prepared = {};
};

// The results, in order. Throws PgError (`what`: the message's prefix) naming the first
// statement that failed, once every result was read and the connection left pipeline
// mode; throws Stopped after a stop request, as pg_query.
std::vector<PgResultPtr> pg_pipeline(PGconn *conn,
                                     const std::vector<PipelinedStatement> &statements,
                                     const std::string &what);

// The same in two steps, so the caller can work while the server runs the statements:
// pg_pipeline_send() returns how many statements were sent, pg_pipeline_receive() their
// results. Nothing else may use the connection in between.
std::size_t pg_pipeline_send(PGconn *conn, const std::vector<PipelinedStatement> &statements,
                             const std::string &what);
std::vector<PgResultPtr> pg_pipeline_receive(PGconn *conn, std::size_t sent,
                                             const std::string &what);

}  // namespace walcast
