#include "snapshot/snapshot_reader.h"

#include <arpa/inet.h>
#include <poll.h>

#include <cstring>

#include "pg/pg_query.h"
#include "pg/pg_wait.h"
#include "common/shutdown.h"

namespace walcast {

namespace {

// PGCOPY binary: an 11-byte signature, flags and header-extension length, then
// tuples of (int16 field count, int32 length + bytes per field); -1 ends the data.
constexpr std::size_t kSignatureLength = 11;

std::uint32_t read_u32(const char *p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return ntohl(v);
}

std::int16_t read_i16(const char *p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return static_cast<std::int16_t>(ntohs(v));
}

struct CopyBuffer {
    char *data = nullptr;
    ~CopyBuffer() {
        if (data) PQfreemem(data);
    }
};

// PQgetCopyData that waits on the socket and the shutdown token: a stop request
// cancels the COPY and throws Stopped instead of waiting for the next row.
int next_copy_data(PGconn *conn, char **buf, const std::string &relname) {
    const ShutdownToken &token = ShutdownToken::process();
    for (;;) {
        int len = PQgetCopyData(conn, buf, 1);
        if (len != 0) return len;
        if (token.requested()) {
            pg_cancel(conn);
            throw Stopped("reading " + relname);
        }
        token.wait_fd(PQsocket(conn), POLLIN, 1000);
        if (!PQconsumeInput(conn)) return -2;
    }
}

}  // namespace

std::string options_array_sql(const std::vector<std::pair<std::string, std::string>> &options) {
    std::string sql = "ARRAY[";
    bool first = true;
    for (const auto &[name, value] : options) {
        sql += (first ? "" : ", ") + quote_literal(name) + ", " + quote_literal(value);
        first = false;
    }
    return sql + "]::text[]";
}

SnapshotReader::SnapshotReader(const Config &config, const std::string &snapshot_name)
    : conn_(pg_connect(config, false)),
      key_schemas_(config.key_schemas),
      value_schemas_(config.value_schemas) {
    // A snapshot of a billion rows runs for hours: the server's limits must not end it.
    for (const char *sql :
         {"SET statement_timeout = 0", "SET idle_in_transaction_session_timeout = 0",
          "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"})
        pg_query(conn_.get(), sql, {}, "starting a snapshot reader");
    if (!snapshot_name.empty())
        pg_query(conn_.get(), "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot_name), {},
                 "importing snapshot " + snapshot_name);
}

std::uint64_t SnapshotReader::read_chunk(
    const SnapshotChunk &chunk, const std::vector<std::pair<std::string, std::string>> &options,
    const std::function<void(RowBatch &&batch)> &on_batch, std::size_t batch_bytes) {
    auto all_options = options;
    all_options.emplace_back("snapshot.compact", "true");
    all_options.emplace_back("snapshot.expect.filenode", std::to_string(chunk.filenode));
    if (!chunk.condition.empty()) all_options.emplace_back("snapshot.condition", chunk.condition);
    std::string sql = "COPY (SELECT walcast.snapshot_rows(" + std::to_string(chunk.rel) +
                      "::oid::regclass, " + std::to_string(chunk.block_from) + ", " +
                      (chunk.block_to ? std::to_string(*chunk.block_to) : "NULL") + ", " +
                      options_array_sql(all_options) + ")) TO STDOUT (FORMAT binary)";
    PgResultPtr start(pg_exec_interruptible(conn_.get(), sql));
    if (PQresultStatus(start.get()) != PGRES_COPY_OUT)
        throw pg_result_error(start.get(), conn_.get(), "reading " + chunk.relname);

    // The first value is the chunk's template frame, every further one holds rows.
    std::shared_ptr<const ChunkTemplate> event_template;
    RowBatch batch;
    std::uint64_t rows = 0;
    bool header_seen = false;
    for (;;) {
        CopyBuffer buf;
        int len = next_copy_data(conn_.get(), &buf.data, chunk.relname);
        if (len == -1) break;  // done: the final result follows
        if (len == -2)
            throw PgError(
                false, "reading " + chunk.relname + ": " + one_line(PQerrorMessage(conn_.get())));
        const char *p = buf.data;
        const char *end = buf.data + len;
        if (!header_seen) {
            if (len < static_cast<int>(kSignatureLength + 8))
                throw PgError(false, "reading " + chunk.relname + ": short COPY header");
            p += kSignatureLength + 4;
            p += 4 + read_u32(p);
            header_seen = true;
        }
        while (p + 2 <= end) {
            std::int16_t fields = read_i16(p);
            p += 2;
            if (fields < 0) break;  // trailer
            for (int f = 0; f < fields && p + 4 <= end; f++) {
                std::int32_t field_len = static_cast<std::int32_t>(read_u32(p));
                p += 4;
                if (field_len < 0) continue;
                std::string_view value(p, static_cast<std::size_t>(field_len));
                p += field_len;
                if (!event_template) {
                    ChunkTemplate parsed = ChunkTemplate::parse(value);
                    parsed.wrap_with_schemas(key_schemas_, value_schemas_);
                    event_template = std::make_shared<const ChunkTemplate>(std::move(parsed));
                    batch.event_template = event_template;
                    continue;
                }
                batch.add_rows(value);
                if (batch.data.size() >= batch_bytes) {
                    rows += batch.rows();
                    on_batch(std::move(batch));
                    batch = RowBatch{};
                    batch.event_template = event_template;
                }
            }
        }
    }
    pg_await_result(conn_.get(), "reading " + chunk.relname);
    PgResultPtr done(PQgetResult(conn_.get()));
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK)
        throw pg_result_error(done.get(), conn_.get(), "reading " + chunk.relname);
    while (PgResultPtr extra{PQgetResult(conn_.get())}) {
    }
    if (!event_template) throw PgError(false, "reading " + chunk.relname + ": no template frame");
    rows += batch.rows();
    batch.end_of_chunk = true;
    batch.chunk_rows = rows;
    on_batch(std::move(batch));
    return rows;
}

}  // namespace walcast
