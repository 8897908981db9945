#include "snapshot/snapshot_preflight.h"

#include <algorithm>
#include <cstdlib>

#include "pg/pg_query.h"

namespace walcast {

void PreflightReport::add(const std::string &what, const std::string &fix) {
    missing.push_back(what);
    if (!fix.empty() && std::find(fixes.begin(), fixes.end(), fix) == fixes.end())
        fixes.push_back(fix);
}

std::string PreflightReport::message() const {
    std::string m = "the initial snapshot cannot run as role " + role +
                    "; nothing was created (no slot, no snapshot record). Missing:";
    for (const auto &line : missing) m += "\n  - " + line;
    if (!fixes.empty()) {
        m += "\nTo fix, run as a superuser (or the objects' owner):";
        for (const auto &f : fixes) m += "\n  " + f;
    }
    for (const auto &n : notes) m += "\n" + n;
    return m;
}

namespace {

bool is_true(PGresult *r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }
long long number(PGresult *r, int row, int col) {
    return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}

void check_role_and_extension(PGconn *conn, PreflightReport &report, bool &bypass_rls) {
    PgResultPtr res = pg_query(conn,
                               "SELECT format('%I', r.rolname), r.rolsuper, r.rolreplication, "
                               "       r.rolbypassrls, "
                               "       has_database_privilege(current_database(), 'CONNECT'), "
                               "       format('%I', current_database()), "
                               "       has_schema_privilege('walcast', 'USAGE') "
                               "FROM pg_roles r WHERE r.rolname = current_user",
                               {}, "checking the role's privileges");
    PGresult *r = res.get();
    report.role = PQgetvalue(r, 0, 0);
    const bool super = is_true(r, 0, 1);
    bypass_rls = super || is_true(r, 0, 3);
    if (!super && !is_true(r, 0, 2))
        report.add("the REPLICATION attribute (to create and stream the slot)",
                   "ALTER ROLE " + report.role + " REPLICATION;");
    if (!is_true(r, 0, 4))
        report.add("CONNECT on database " + std::string(PQgetvalue(r, 0, 5)),
                   "GRANT CONNECT ON DATABASE " + std::string(PQgetvalue(r, 0, 5)) + " TO " +
                       report.role + ";");
    if (!is_true(r, 0, 6))
        report.add("USAGE on schema walcast",
                   "GRANT USAGE ON SCHEMA walcast TO " + report.role + ";");

    // The functions the snapshot calls and the bookkeeping it reads and writes.
    PgResultPtr funcs =
        pg_query(conn,
                 "SELECT p.oid::regprocedure::text, has_function_privilege(p.oid, 'EXECUTE') "
                 "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                 "WHERE n.nspname = 'walcast' AND p.proname IN ('snapshot_rows', 'plan_chunks') "
                 "ORDER BY 1",
                 {}, "checking the walcast functions");
    for (int i = 0; i < PQntuples(funcs.get()); i++)
        if (!is_true(funcs.get(), i, 1))
            report.add(std::string("EXECUTE on function ") + PQgetvalue(funcs.get(), i, 0),
                       std::string("GRANT EXECUTE ON FUNCTION ") + PQgetvalue(funcs.get(), i, 0) +
                           " TO " + report.role + ";");
    // By oid: resolving the names would need USAGE on the schema.
    PgResultPtr tables = pg_query(
        conn,
        "SELECT 'walcast.' || c.relname, string_agg(p.priv, ', ' ORDER BY p.n) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) WITH ORDINALITY "
        "  AS p(priv, n) "
        "WHERE n.nspname = 'walcast' AND c.relname IN ('snapshot_runs', 'snapshot_chunks', "
        "  'snapshot_tables') "
        "  AND NOT has_table_privilege(c.oid, p.priv) "
        "GROUP BY c.relname ORDER BY c.relname",
        {}, "checking the snapshot bookkeeping tables");
    for (int i = 0; i < PQntuples(tables.get()); i++) {
        std::string privs = PQgetvalue(tables.get(), i, 1);
        std::string name = PQgetvalue(tables.get(), i, 0);
        report.add(privs + " on table " + name + " (the snapshot's record)",
                   "GRANT " + privs + " ON " + name + " TO " + report.role + ";");
    }
}

void check_tables(PGconn *conn, const TableFilter &filter, bool bypass_rls,
                  PreflightReport &report) {
    std::string oids = "{";
    // No sizes: a privilege check must not wait for a table's lock.
    for (const SnapshotTable &t : list_snapshot_tables(conn, filter, false))
        oids += (oids.size() > 1 ? "," : "") + std::to_string(t.rel);
    oids += "}";
    PgResultPtr res = pg_query(
        conn,
        "SELECT format('%I.%I', n.nspname, c.relname), format('%I', n.nspname), "
        "       has_schema_privilege(n.oid, 'USAGE'), has_table_privilege(c.oid, 'SELECT'), "
        "       c.relrowsecurity AND (c.relforcerowsecurity OR c.relowner <> "
        "         (SELECT oid FROM pg_roles WHERE rolname = current_user)) "
        "FROM unnest($1::oid[]) AS o(oid) JOIN pg_class c ON c.oid = o.oid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1",
        {oids}, "checking privileges on the included tables");
    PGresult *r = res.get();
    for (int i = 0; i < PQntuples(r); i++) {
        const std::string table = PQgetvalue(r, i, 0);
        const std::string schema = PQgetvalue(r, i, 1);
        if (!is_true(r, i, 2))
            report.add("USAGE on schema " + schema + " (table " + table + ")",
                       "GRANT USAGE ON SCHEMA " + schema + " TO " + report.role + ";");
        if (!is_true(r, i, 3))
            report.add("SELECT on table " + table,
                       "GRANT SELECT ON " + table + " TO " + report.role + ";");
        if (is_true(r, i, 4) && !bypass_rls)
            report.add("row-level security is enabled on " + table +
                           " and applies to this role: the snapshot would silently miss the "
                           "rows its policies hide (give the role BYPASSRLS, or exclude the "
                           "table with table.exclude.list)",
                       "ALTER ROLE " + report.role + " BYPASSRLS;");
    }
}

// Free connection slots for this role: server, role and database limits. Without
// pg_read_all_stats, other roles' sessions hide their backend_type: those with a
// database and a user count as client backends (their logical walsenders too, which
// errs on the safe side); pg_stat_replication lists every walsender to anyone.
void check_connections(PGconn *conn, const PreflightNeeds &needs, PreflightReport &report) {
    PgResultPtr res = pg_query(
        conn,
        "SELECT current_setting('max_connections')::int "
        "         - CASE WHEN r.rolsuper THEN 0 ELSE "
        "             current_setting('superuser_reserved_connections')::int "
        "             + coalesce(current_setting('reserved_connections', true)::int, 0) END "
        "         - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
        "              OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL)), "
        "       current_setting('max_wal_senders')::int "
        "         - (SELECT count(*) FROM pg_stat_replication), "
        "       CASE WHEN r.rolconnlimit < 0 THEN NULL ELSE r.rolconnlimit "
        "         - (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user) END, "
        "       CASE WHEN d.datconnlimit < 0 THEN NULL ELSE d.datconnlimit "
        "         - (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) "
        "         END, "
        "       current_setting('max_connections'), current_setting('max_wal_senders') "
        "FROM pg_roles r, pg_database d "
        "WHERE r.rolname = current_user AND d.datname = current_database()",
        {}, "checking the server's connection limits");
    PGresult *r = res.get();
    // The readers, plus one connection to plan (or hold a resumed snapshot) beside
    // the bookkeeping connection already open.
    const long long wanted = needs.readers + 1;
    auto short_of = [&](int col, const std::string &what, const std::string &setting) {
        if (PQgetisnull(r, 0, col)) return;
        long long free_now = number(r, 0, col);
        if (free_now >= wanted) return;
        report.add("connections: snapshot.max.threads=" + std::to_string(needs.readers) +
                       " needs " + std::to_string(wanted) + " more connections, " + what + " has " +
                       std::to_string(std::max(0LL, free_now)) + " free (" + setting + ")",
                   "");
    };
    short_of(0, "the server", "max_connections=" + std::string(PQgetvalue(r, 0, 4)));
    short_of(2, "role " + report.role, "its CONNECTION LIMIT");
    short_of(3, "the database", "its CONNECTION LIMIT");
    if (number(r, 0, 1) < 1)
        report.add("a free walsender for the slot (max_wal_senders=" +
                       std::string(PQgetvalue(r, 0, 5)) + ", all in use)",
                   "");
    if (report.missing.size() && report.notes.empty())
        for (const auto &m : report.missing)
            if (m.rfind("connections:", 0) == 0) {
                report.notes.push_back(
                    "Lower snapshot.max.threads, or raise the limit (max_connections needs a "
                    "server restart).");
                break;
            }
}

}  // namespace

PreflightReport check_snapshot_preflight(PGconn *conn, const TableFilter &filter,
                                         const PreflightNeeds &needs) {
    PreflightReport report;
    bool bypass_rls = false;
    check_role_and_extension(conn, report, bypass_rls);
    check_tables(conn, filter, bypass_rls, report);
    check_connections(conn, needs, report);
    return report;
}

void require_snapshot_preflight(PGconn *conn, const TableFilter &filter,
                                const PreflightNeeds &needs) {
    PreflightReport report = check_snapshot_preflight(conn, filter, needs);
    if (!report.ok()) throw PgError(true, report.message());
}

}  // namespace walcast
