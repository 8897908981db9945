#include "incremental/incremental_store.h"

#include <simdjson.h>

#include <utility>

#include "common/json_text.h"
#include "pg/pg_query.h"

namespace walcast {

namespace {

std::string json_array(const KeyValues &values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); i++) {
        if (i) out += ',';
        append_json_string(out, values[i]);
    }
    return out + "]";
}

}  // namespace

KeyValues key_values_from_json(const std::string &json) {
    KeyValues out;
    simdjson::dom::parser parser;
    simdjson::dom::array arr;
    if (parser.parse(json).get(arr)) return out;
    for (simdjson::dom::element e : arr) {
        std::string_view v;
        if (!e.get(v)) out.emplace_back(v);
    }
    return out;
}

bool IncrementalStore::usable() {
    return pg_scalar(conn_,
                     "SELECT coalesce(bool_and(has_table_privilege(c.oid, 'SELECT, INSERT, "
                     "UPDATE')), false) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                     "c.relnamespace WHERE n.nspname = 'walcast' "
                     "AND c.relname = 'incremental_snapshots'") == "t";
}

bool IncrementalStore::request(const IncrementalRecord &request) {
    // A later signal starts the table again; the same or an older one changes nothing.
    PgResultPtr res = pg_query(
        conn_,
        "INSERT INTO walcast.incremental_snapshots AS s (slot_name, table_name, requested_lsn, "
        "condition) VALUES ($1, $2, $3::pg_lsn, nullif($4, '')) "
        "ON CONFLICT (slot_name, table_name) DO UPDATE "
        "SET requested_lsn = EXCLUDED.requested_lsn, requested_at = now(), "
        "    condition = EXCLUDED.condition, chunks = 0, "
        "    last_key = NULL, rows_read = 0, updated_at = NULL, completed_at = NULL "
        "WHERE s.requested_lsn < EXCLUDED.requested_lsn RETURNING 1",
        {slot_, request.table, format_lsn(request.requested), request.condition},
        "recording the incremental snapshot of " + request.table);
    return PQntuples(res.get()) == 1;
}

std::vector<IncrementalRecord> IncrementalStore::unfinished() {
    PgResultPtr res = pg_query(
        conn_,
        "SELECT table_name, requested_lsn::text, chunks, coalesce(to_jsonb(last_key)::text, "
        "'[]'), rows_read, coalesce(condition, '') FROM walcast.incremental_snapshots "
        "WHERE slot_name = $1 AND completed_at IS NULL ORDER BY requested_lsn, table_name",
        {slot_}, "reading the incremental snapshots on record");
    std::vector<IncrementalRecord> out;
    for (int i = 0; i < PQntuples(res.get()); i++) {
        IncrementalRecord r;
        r.table = PQgetvalue(res.get(), i, 0);
        r.requested = parse_lsn(PQgetvalue(res.get(), i, 1)).value_or(0);
        r.chunks = std::stoull(PQgetvalue(res.get(), i, 2));
        r.last_key = key_values_from_json(PQgetvalue(res.get(), i, 3));
        r.rows = std::stoull(PQgetvalue(res.get(), i, 4));
        r.condition = PQgetvalue(res.get(), i, 5);
        out.push_back(std::move(r));
    }
    return out;
}

void IncrementalStore::advance(const IncrementalRecord &p) {
    pg_query(conn_,
             "UPDATE walcast.incremental_snapshots SET chunks = $4, rows_read = $5, "
             "last_key = ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), "
             "updated_at = now() "
             "WHERE slot_name = $1 AND table_name = $2 AND requested_lsn = $3::pg_lsn "
             "AND chunks < $4",
             {slot_, p.table, format_lsn(p.requested), std::to_string(p.chunks),
              std::to_string(p.rows), json_array(p.last_key)},
             "recording the progress of the incremental snapshot of " + p.table);
}

void IncrementalStore::complete(const std::string &table, Lsn requested) {
    pg_query(conn_,
             "UPDATE walcast.incremental_snapshots SET completed_at = now() "
             "WHERE slot_name = $1 AND table_name = $2 AND requested_lsn = $3::pg_lsn",
             {slot_, table, format_lsn(requested)},
             "recording the end of the incremental snapshot of " + table);
}

}  // namespace walcast
