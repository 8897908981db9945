// walcast.execute_snapshot(tables, kind, conditions): checks what the caller asks for
// with the caller's privileges, then writes the signal into walcast.signals as the
// table's owner. The sidecar takes signals only from signal tables (an INSERT privilege
// PostgreSQL checks), never from logical messages, which any role can write
// (docs/incremental-snapshots.md, "Who may ask").
#include "pg.h"

extern "C" {
#include "executor/spi.h"
}

#include "json_writer.h"
#include "snapshot_condition.h"

extern "C" {
PGDLLEXPORT Datum walcast_execute_snapshot(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(walcast_execute_snapshot);
}

namespace {

// The elements of a text[] (NULL elements as nullptr).
List *text_array_items(ArrayType *array) {
    Datum *values;
    bool *nulls;
    int n;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &n);
    List *out = NIL;
    for (int i = 0; i < n; i++)
        out = lappend(out, nulls[i] ? nullptr : TextDatumGetCString(values[i]));
    return out;
}

// data-collections are regular expressions (Debezium's semantics): a resolved name is
// written with its metacharacters escaped so that it matches itself only.
void append_regex_quoted(StringInfo out, const char *name) {
    for (const char *p = name; *p; p++) {
        if (strchr(".^$*+?()[]{}|\\", *p)) appendStringInfoChar(out, '\\');
        appendStringInfoChar(out, *p);
    }
}

// Inserts the signal as the owner of walcast.signals, and deletes it in the same
// transaction: the slot decodes the insert, the table stays empty.
char *insert_signal(const char *type, const char *data) {
    Oid nsp = get_namespace_oid("walcast", false);
    Oid relid = get_relname_relid("signals", nsp);
    if (!OidIsValid(relid))
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("walcast.signals does not exist")));
    Relation rel = table_open(relid, RowExclusiveLock);
    Oid owner = rel->rd_rel->relowner;
    table_close(rel, NoLock);

    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(
        owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    MemoryContext caller = CurrentMemoryContext;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    Oid types[2] = {TEXTOID, TEXTOID};
    Datum values[2] = {CStringGetTextDatum(type), CStringGetTextDatum(data)};
    if (SPI_execute_with_args("INSERT INTO walcast.signals (id, type, data) "
                              "VALUES (pg_catalog.gen_random_uuid()::pg_catalog.text, $1, $2) "
                              "RETURNING id",
                              2, types, values, nullptr, false, 1) != SPI_OK_INSERT_RETURNING ||
        SPI_processed != 1)
        elog(ERROR, "inserting into walcast.signals failed");
    bool isnull;
    Datum id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    char *id_text = MemoryContextStrdup(caller, TextDatumGetCString(id));
    Oid id_type[1] = {TEXTOID};
    Datum id_value[1] = {CStringGetTextDatum(id_text)};
    if (SPI_execute_with_args("DELETE FROM walcast.signals WHERE id = $1", 1, id_type, id_value,
                              nullptr, false, 0) != SPI_OK_DELETE)
        elog(ERROR, "deleting from walcast.signals failed");
    SPI_finish();
    SetUserIdAndSecContext(saved_user, saved_context);
    return id_text;
}

}  // namespace

extern "C" Datum walcast_execute_snapshot(PG_FUNCTION_ARGS) {
    List *tables = PG_ARGISNULL(0) ? NIL : text_array_items(PG_GETARG_ARRAYTYPE_P(0));
    if (tables == NIL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("execute_snapshot needs at least one table")));
    const char *kind = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
    if (strcmp(kind, "incremental") != 0 && strcmp(kind, "blocking") != 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("snapshot kind must be 'incremental' or 'blocking', not '%s'", kind)));
    List *conditions = PG_ARGISNULL(2) ? NIL : text_array_items(PG_GETARG_ARRAYTYPE_P(2));
    if (conditions != NIL && list_length(conditions) != list_length(tables))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("execute_snapshot takes one condition per table (or NULL)"),
                        errdetail("%d tables, %d conditions", list_length(tables),
                                  list_length(conditions))));

    StringInfoData names, filters;
    initStringInfo(&names);
    initStringInfo(&filters);
    for (int i = 0; i < list_length(tables); i++) {
        const char *name = (const char *)list_nth(tables, i);
        if (name == nullptr)
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("execute_snapshot: a table name is NULL")));
        // Resolved as a query naming the table would (search_path).
        RangeVar *rv = makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(name)));
        Oid relid = RangeVarGetRelid(rv, AccessShareLock, false);
        if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
            aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
        char *qualified =
            psprintf("%s.%s", get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
        StringInfoData pattern;
        initStringInfo(&pattern);
        append_regex_quoted(&pattern, qualified);
        appendStringInfoString(&names, names.len ? "," : "");
        json_write_cstring(&names, pattern.data);
        const char *condition = conditions == NIL ? nullptr : (const char *)list_nth(conditions, i);
        if (condition == nullptr) continue;
        // Checked with the caller's privileges now, and by the sidecar again before use.
        char *normalised = snapshot_condition_check(relid, condition);
        appendStringInfoString(&filters, filters.len ? "," : "");
        JSON_LITERAL(&filters, "{\"data-collection\":");
        json_write_cstring(&filters, pattern.data);
        JSON_LITERAL(&filters, ",\"filter\":");
        json_write_cstring(&filters, normalised);
        appendStringInfoChar(&filters, '}');
    }
    StringInfoData data;
    initStringInfo(&data);
    appendStringInfo(&data, "{\"type\":\"%s\",\"data-collections\":[%s]", kind, names.data);
    if (filters.len) appendStringInfo(&data, ",\"additional-conditions\":[%s]", filters.data);
    appendStringInfoChar(&data, '}');
    PG_RETURN_TEXT_P(cstring_to_text(insert_signal("execute-snapshot", data.data)));
}
