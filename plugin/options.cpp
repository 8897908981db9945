#include "options.h"

#include "connect_schema.h"

#include <cstring>

namespace {

bool option_is(const DefElem *elem, const char *name) { return strcmp(elem->defname, name) == 0; }

// A plugin option given without a value arrives with arg == NULL.
const char *option_value(const DefElem *elem) {
    if (elem->arg == nullptr) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("walcast option \"%s\" needs a value", elem->defname)));
    }
    return strVal(elem->arg);
}

bool parse_bool(const DefElem *elem) {
    bool result;
    if (!parse_bool_with_len(option_value(elem), strlen(option_value(elem)), &result)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("walcast option \"%s\" has invalid value \"%s\"", elem->defname,
                               option_value(elem)),
                        errhint("Accepted values: true, false.")));
    }
    return result;
}

// Maps the option's value to one of names[i] (case-insensitive); errors list them.
int parse_choice(const DefElem *elem, const char *const *names, int count) {
    const char *value = option_value(elem);
    for (int i = 0; i < count; i++)
        if (pg_strcasecmp(value, names[i]) == 0) return i;
    StringInfoData accepted;
    initStringInfo(&accepted);
    for (int i = 0; i < count; i++) appendStringInfo(&accepted, "%s%s", i ? ", " : "", names[i]);
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("walcast option \"%s\" has invalid value \"%s\"", elem->defname, value),
                    errhint("Accepted values: %s.", accepted.data)));
    return -1;
}

template <typename Enum, int N>
Enum parse_enum(const DefElem *elem, const char *const (&names)[N]) {
    return static_cast<Enum>(parse_choice(elem, names, N));
}

regex_t *compile_anchored(const char *option, const char *pattern, int len);

// Debezium lists are comma-separated regular expressions that must match the whole
// identifier; they become one anchored alternation.
regex_t *compile_list(const DefElem *elem) {
    const char *value = option_value(elem);
    StringInfoData pattern;
    initStringInfo(&pattern);
    appendStringInfoString(&pattern, "^(?:");
    bool first = true;
    for (const char *p = value; *p;) {
        const char *comma = strchr(p, ',');
        int len = comma ? (int)(comma - p) : (int)strlen(p);
        while (len > 0 && (*p == ' ' || *p == '\t')) p++, len--;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len > 0) {
            appendStringInfo(&pattern, "%s(?:%.*s)", first ? "" : "|", len, p);
            first = false;
        }
        p = comma ? comma + 1 : p + strlen(p);
    }
    appendStringInfoString(&pattern, ")$");
    if (first) return nullptr;
    return compile_anchored(elem->defname, pattern.data, pattern.len);
}

regex_t *compile_anchored(const char *option, const char *pattern, int len) {
    int wide_len;
    pg_wchar *wide = (pg_wchar *)palloc((len + 1) * sizeof(pg_wchar));
    wide_len = pg_mb2wchar_with_len(pattern, wide, len);
    regex_t *re = (regex_t *)palloc(sizeof(regex_t));
    int rc = pg_regcomp(re, wide, wide_len, REG_ADVANCED | REG_NOSUB, C_COLLATION_OID);
    if (rc != REG_OKAY) {
        char message[256];
        pg_regerror(rc, re, message, sizeof(message));
        ereport(ERROR, (errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
                        errmsg("walcast option \"%s\" has an invalid regular expression: %s",
                               option, message)));
    }
    return re;
}

char *trimmed(const char *p, int len) {
    while (len > 0 && (*p == ' ' || *p == '\t')) p++, len--;
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    return pnstrdup(p, len);
}

[[noreturn]] void bad_key_columns(const char *entry) {
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("walcast option \"message.key.columns\" has invalid entry \"%s\"", entry),
             errhint("Entries are <schema.table regex>:<column>[,<column>...], separated "
                     "by ';'.")));
    pg_unreachable();
}

// Debezium's syntax: "inventory.customers:pk1,pk2;(.*).purchaseorders:pk3". The table
// part is a regular expression on schema.table; the last ':' ends it (a regex may hold
// one, a column name list does not).
MessageKeyColumns *parse_message_key_columns(const DefElem *elem) {
    MessageKeyColumns *head = nullptr, **tail = &head;
    char *copy = pstrdup(option_value(elem));
    char *save = nullptr;
    for (char *entry = strtok_r(copy, ";", &save); entry; entry = strtok_r(nullptr, ";", &save)) {
        char *colon = strrchr(entry, ':');
        if (colon == nullptr) bad_key_columns(entry);
        char *table = trimmed(entry, (int)(colon - entry));
        if (*table == '\0') bad_key_columns(entry);
        MessageKeyColumns *item = (MessageKeyColumns *)palloc0(sizeof(MessageKeyColumns));
        char *pattern = psprintf("^(?:%s)$", table);
        item->table = compile_anchored(elem->defname, pattern, (int)strlen(pattern));
        for (const char *p = colon + 1; *p;) {
            const char *comma = strchr(p, ',');
            int len = comma ? (int)(comma - p) : (int)strlen(p);
            char *column = trimmed(p, len);
            if (*column != '\0') item->columns = lappend(item->columns, column);
            p = comma ? comma + 1 : p + len;
        }
        if (item->columns == NIL) bad_key_columns(entry);
        *tail = item;
        tail = &item->next;
    }
    return head;
}

// A byte count from 1 to what one PostgreSQL message holds (1 GB), or 0 for that.
Size parse_size(const DefElem *elem) {
    const char *value = option_value(elem);
    char *end;
    errno = 0;
    long long bytes = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || bytes < 0 ||
        (unsigned long long)bytes >= MaxAllocSize)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("walcast option \"%s\" has invalid value \"%s\"", elem->defname, value),
                 errhint("Accepted values: a number of bytes below 1073741823, or 0 for "
                         "that limit.")));
    return (Size)bytes;
}

uint8 parse_skipped_operations(const DefElem *elem) {
    uint8 mask = 0;
    char *copy = pstrdup(option_value(elem));
    for (char *tok = strtok(copy, ", "); tok; tok = strtok(nullptr, ", ")) {
        if (strcmp(tok, "c") == 0)
            mask |= SKIP_CREATE;
        else if (strcmp(tok, "u") == 0)
            mask |= SKIP_UPDATE;
        else if (strcmp(tok, "d") == 0)
            mask |= SKIP_DELETE;
        else if (strcmp(tok, "t") == 0)
            mask |= SKIP_TRUNCATE;
        else if (strcmp(tok, "none") != 0)
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                     errmsg("walcast option \"skipped.operations\" has invalid value \"%s\"", tok),
                     errhint("Accepted values: a comma-separated list of c, u, d, t, "
                             "or none.")));
    }
    return mask;
}

const char *const kFormats[] = {"json", "frames"};
const char *const kDecimalModes[] = {"precise", "string", "double"};
const char *const kTimeModes[] = {"adaptive", "adaptive_time_microseconds", "connect"};
const char *const kBinaryModes[] = {"bytes", "base64", "base64-url-safe", "hex"};
const char *const kIntervalModes[] = {"numeric", "string"};
const char *const kHstoreModes[] = {"json", "map"};

const char *const kOptionNames =
    "format, topic.prefix, schema.include.list, schema.exclude.list, table.include.list, "
    "table.exclude.list, column.include.list, column.exclude.list, message.key.columns, "
    "skipped.operations, provide.transaction.metadata, message.prefix.include.list, "
    "message.prefix.exclude.list, publish.via.partition.root, decimal.handling.mode, "
    "time.precision.mode, binary.handling.mode, interval.handling.mode, hstore.handling.mode, "
    "unavailable.value.placeholder, value.converter.replace.null.with.default, event.max.bytes, "
    "schemas, signal.data.collection";

}  // namespace

void walcast_parse_options(WalcastOptions *opts, List *defels, bool for_snapshot) {
    ListCell *cell;
    foreach (cell, defels) {
        DefElem *elem = (DefElem *)lfirst(cell);
        if (option_is(elem, "format"))
            opts->format = parse_enum<OutputFormat>(elem, kFormats);
        else if (option_is(elem, "topic.prefix"))
            opts->topic_prefix = pstrdup(option_value(elem));
        else if (option_is(elem, "schema.include.list"))
            opts->schema_include = compile_list(elem);
        else if (option_is(elem, "schema.exclude.list"))
            opts->schema_exclude = compile_list(elem);
        else if (option_is(elem, "column.include.list"))
            opts->column_include = compile_list(elem);
        else if (option_is(elem, "message.key.columns"))
            opts->message_key_columns = parse_message_key_columns(elem);
        else if (option_is(elem, "table.include.list"))
            opts->table_include = compile_list(elem);
        else if (option_is(elem, "signal.data.collection"))
            opts->signal_data_collection = pstrdup(option_value(elem));
        else if (option_is(elem, "table.exclude.list"))
            opts->table_exclude = compile_list(elem);
        else if (option_is(elem, "column.exclude.list"))
            opts->column_exclude = compile_list(elem);
        else if (option_is(elem, "message.prefix.include.list"))
            opts->message_prefix_include = compile_list(elem);
        else if (option_is(elem, "message.prefix.exclude.list"))
            opts->message_prefix_exclude = compile_list(elem);
        else if (option_is(elem, "skipped.operations"))
            opts->skipped_ops = parse_skipped_operations(elem);
        else if (option_is(elem, "provide.transaction.metadata"))
            opts->transaction_metadata = parse_bool(elem);
        else if (option_is(elem, "schemas"))
            opts->schemas = parse_bool(elem);
        else if (option_is(elem, "publish.via.partition.root"))
            opts->via_partition_root = parse_bool(elem);
        else if (option_is(elem, "decimal.handling.mode"))
            opts->decimal_mode = parse_enum<DecimalMode>(elem, kDecimalModes);
        else if (option_is(elem, "time.precision.mode"))
            opts->time_precision = parse_enum<TimePrecisionMode>(elem, kTimeModes);
        else if (option_is(elem, "binary.handling.mode"))
            opts->binary_mode = parse_enum<BinaryMode>(elem, kBinaryModes);
        else if (option_is(elem, "interval.handling.mode"))
            opts->interval_mode = parse_enum<IntervalMode>(elem, kIntervalModes);
        else if (option_is(elem, "hstore.handling.mode"))
            opts->hstore_mode = parse_enum<HstoreMode>(elem, kHstoreModes);
        else if (option_is(elem, "value.converter.replace.null.with.default"))
            opts->replace_null_with_default = parse_bool(elem);
        else if (option_is(elem, "event.max.bytes"))
            opts->max_event_bytes = parse_size(elem);
        else if (option_is(elem, "unavailable.value.placeholder")) {
            opts->unavailable_placeholder = pstrdup(option_value(elem));
            opts->unavailable_placeholder_len = (int)strlen(opts->unavailable_placeholder);
        } else if (for_snapshot && option_is(elem, "snapshot.lsn")) {
            opts->snapshot_lsn =
                DatumGetLSN(DirectFunctionCall1(pg_lsn_in, CStringGetDatum(option_value(elem))));
        } else if (for_snapshot && option_is(elem, "snapshot.expect.filenode")) {
            opts->snapshot_expect_filenode = (Oid)strtoul(option_value(elem), nullptr, 10);
        } else if (for_snapshot && option_is(elem, "snapshot.as.streamed")) {
            opts->snapshot_as_streamed = parse_bool(elem);
        } else if (for_snapshot && option_is(elem, "snapshot.condition")) {
            opts->snapshot_condition = pstrdup(option_value(elem));
        } else if (for_snapshot && option_is(elem, "snapshot.compact")) {
            opts->snapshot_compact = parse_bool(elem);
        } else if (for_snapshot && option_is(elem, "snapshot.marker")) {
            const char *const markers[] = {"true",
                                           "first",
                                           "last",
                                           "first_in_data_collection",
                                           "last_in_data_collection",
                                           "incremental"};
            opts->snapshot_marker = markers[parse_choice(elem, markers, lengthof(markers))];
        } else {
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                     errmsg("walcast does not know option \"%s\"", elem->defname),
                     errhint("Known options: %s%s.", kOptionNames,
                             for_snapshot
                                 ? ", snapshot.lsn, snapshot.marker, snapshot.expect.filenode, "
                                   "snapshot.compact, snapshot.as.streamed, snapshot.condition"
                                 : "")));
        }
    }
    if (opts->schemas) opts->message_value_schema = connect_schema_message_value(opts);
}

List *walcast_message_key_columns(const WalcastOptions *opts, const char *qualified) {
    for (MessageKeyColumns *m = opts->message_key_columns; m; m = m->next)
        if (walcast_regex_match(m->table, qualified, (int)strlen(qualified))) return m->columns;
    return NIL;
}

bool walcast_regex_match(regex_t *re, const char *text, int len) {
    if (re == nullptr) return false;
    pg_wchar *wide = (pg_wchar *)palloc((len + 1) * sizeof(pg_wchar));
    int wide_len = pg_mb2wchar_with_len(text, wide, len);
    int rc = pg_regexec(re, wide, wide_len, 0, nullptr, 0, nullptr, 0);
    pfree(wide);
    return rc == REG_OKAY;
}
