// What Debezium writes for a column whose value it does not have (column_default.h).
#include "column_default.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "types_internal.h"

extern "C" {
#include "nodes/nodes.h"
#include "utils/cash.h"
#include "utils/geo_decls.h"
#include "utils/ruleutils.h"
}

namespace {

bool matches(const char *text, const char *pattern) {
    regex_t re;
    pg_wchar wpattern[256];
    int wlen = pg_mb2wchar_with_len(pattern, wpattern, (int)strlen(pattern));
    if (pg_regcomp(&re, wpattern, wlen, REG_ADVANCED | REG_NOSUB, C_COLLATION_OID) != REG_OKAY)
        return false;
    bool ok = walcast_regex_match(&re, text, (int)strlen(text));
    pg_regfree(&re);
    return ok;
}

// The text of the column's DEFAULT expression as pg_get_expr prints it (what JDBC's
// COLUMN_DEF gives Debezium), or nullptr.
char *default_expression(Relation rel, Form_pg_attribute attr) {
    TupleConstr *constr = RelationGetDescr(rel)->constr;
    if (!attr->atthasdef || attr->attgenerated || constr == nullptr) return nullptr;
    for (int i = 0; i < constr->num_defval; i++) {
        if (constr->defval[i].adnum != attr->attnum) continue;
        Node *expr = (Node *)stringToNode(constr->defval[i].adbin);
        // pgjdbc's sessions use DateStyle ISO and IntervalStyle postgres: constants print
        // as Debezium reads them.
        int saved_date_style = DateStyle;
        int saved_interval_style = IntervalStyle;
        char *text = nullptr;
        DateStyle = USE_ISO_DATES;
        IntervalStyle = INTSTYLE_POSTGRES;
        PG_TRY();
        { text = deparse_expression(expr, NIL, false, false); }
        PG_FINALLY();
        {
            DateStyle = saved_date_style;
            IntervalStyle = saved_interval_style;
        }
        PG_END_TRY();
        return text;
    }
    return nullptr;
}

// PostgresDefaultValueConverter.extractDefault: a function call or CURRENT_* gives the
// type's placeholder; otherwise the text inside the first pair of quotes ('(.*?)'), or the
// whole text without quotes; NULL::... gives no default (nullptr).
const char *extract_default(const char *v, const char *placeholder) {
    static const char *const current[] = {"current_timestamp", "current_time", "current_date",
                                          "localtime", "localtimestamp"};
    if (matches(v, "^\\(?[A-Za-z0-9_.]+\\([^\n\r]*\\)")) return placeholder;
    for (const char *c : current)
        if (pg_strcasecmp(v, c) == 0) return placeholder;
    const char *quote = strchr(v, '\'');
    if (quote == nullptr) return strncmp(v, "NULL::", 6) == 0 ? nullptr : v;
    const char *end = quote + 1;
    while (*end && *end != '\'' && *end != '\n' && *end != '\r') end++;
    if (*end != '\'') return nullptr;
    return pnstrdup(quote + 1, end - quote - 1);
}

char *trimmed(const char *v) {
    while (isspace((unsigned char)*v)) v++;
    int len = (int)strlen(v);
    while (len > 0 && isspace((unsigned char)v[len - 1])) len--;
    return pnstrdup(v, len);
}

bool write_integer(StringInfo out, const char *s, int64 min, int64 max) {
    if (!matches(s, "^[+-]?[0-9]{1,19}$")) return false;
    errno = 0;
    long long v = strtoll(s, nullptr, 10);
    if (errno != 0 || v < min || v > max) return false;
    json_write_int64(out, v);
    return true;
}

// `text` read by the type's input function, written as the column's value would be.
void write_from_text(StringInfo out, const TypeEncoder *enc, PGFunction type_in, const char *text,
                     const WalcastOptions *opts) {
    type_encoder_write(
        out, enc,
        DirectFunctionCall3(type_in, CStringGetDatum(text), ObjectIdGetDatum(0), Int32GetDatum(-1)),
        opts);
}

void write_bool(StringInfo out, bool value) {
    if (value)
        JSON_LITERAL(out, "true");
    else
        JSON_LITERAL(out, "false");
}

// The default as Debezium parses it for the column's type (its mappers), written as the
// column's value would be. false: Debezium has no default for this column.
bool write_parsed_default(StringInfo out, Form_pg_attribute attr, const TypeEncoder *enc,
                          const char *v, const WalcastOptions *opts) {
    if (attr->atttypid != enc->typid) return false;  // domains: Debezium has no mapper
    const char *s;
    switch (enc->typid) {
        case INT2OID:
            return (s = extract_default(trimmed(v), "0")) && write_integer(out, s, -32768, 32767);
        case INT4OID:
            return (s = extract_default(trimmed(v), "0")) &&
                   write_integer(out, s, PG_INT32_MIN, PG_INT32_MAX);
        case INT8OID:
            return (s = extract_default(trimmed(v), "0")) &&
                   write_integer(out, s, PG_INT64_MIN, PG_INT64_MAX);
        case FLOAT4OID:
        case FLOAT8OID: {
            if (!(s = extract_default(trimmed(v), "0.0"))) return false;
            if (!matches(s, "^[+-]?(NaN|Infinity|([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?)$"))
                return false;
            if (enc->typid == FLOAT4OID)
                json_write_java_float(out, strtof(s, nullptr));
            else
                json_write_java_double(out, strtod(s, nullptr));
            return true;
        }
        case BOOLOID:
            if (!(s = extract_default(trimmed(v), "false"))) return false;
            write_bool(out, pg_strcasecmp(s, "true") == 0);
            return true;
        case NUMERICOID: {
            // Precise unconstrained numeric is a VariableScaleDecimal struct, which Connect
            // cannot take as a default (Debezium leaves such defaults out).
            if (opts->decimal_mode == DecimalMode::Precise && enc->typmod < (int32)VARHDRSZ)
                return false;
            if (!(s = extract_default(trimmed(v), "0.0"))) return false;
            if (!matches(s, "^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]{1,4})?$"))
                return false;
            write_from_text(out, enc, numeric_in, s, opts);
            return true;
        }
        case TEXTOID:
        case VARCHAROID:
        case BPCHAROID:
        case XMLOID:
        case JSONOID:
        case JSONBOID: {
            // Written as the text itself; only the placeholder differs (json's is "{}").
            bool json = enc->typid == JSONOID || enc->typid == JSONBOID;
            if (!(s = extract_default(v, json ? "{}" : ""))) return false;
            json_write_cstring(out, s);
            return true;
        }
        case UUIDOID: {
            if (!(s = extract_default(trimmed(v), "00000000-0000-0000-0000-000000000000")))
                return false;
            if (!matches(s,
                         "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                         "[0-9A-Fa-f]{12}$"))
                return false;
            char *lower = pstrdup(s);
            for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
            json_write_cstring(out, lower);
            return true;
        }
        case DATEOID:
            if (!(s = extract_default(trimmed(v), "1970-01-01"))) return false;
            if (!matches(s, "^[0-9]{4,}-[0-9]{2}-[0-9]{2}( BC)?$")) return false;
            type_encoder_write(out, enc, DirectFunctionCall1(date_in, CStringGetDatum(s)), opts);
            return true;
        case TIMEOID:
            if (!(s = extract_default(trimmed(v), "00:00"))) return false;
            if (!matches(s, "^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?$")) return false;
            write_from_text(out, enc, time_in, s, opts);
            return true;
        case TIMESTAMPOID:
        case TIMESTAMPTZOID: {
            // pgjdbc reads a text without an offset as UTC.
            if (!(s = extract_default(trimmed(v), "1970-01-01 00:00:00+00"))) return false;
            if (!matches(s,
                         "^[0-9]{4,}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2}"
                         "(\\.[0-9]{1,9})?)?([+-][0-9]{2}(:[0-9]{2}){0,2})?( BC)?$"))
                return false;
            if (enc->typid == TIMESTAMPTZOID &&
                !matches(s, "[0-9][+-][0-9]{2}(:[0-9]{2}){0,2}( BC)?$"))
                s = psprintf("%s+00", s);
            write_from_text(out, enc, enc->typid == TIMESTAMPOID ? timestamp_in : timestamptz_in, s,
                            opts);
            return true;
        }
        case INTERVALOID:
            // A function call's placeholder, "epoch", is no interval: no default then.
            if (!(s = extract_default(trimmed(v), nullptr))) return false;
            if (!matches(s, "^[-+0-9a-z :.]+$") || matches(s, "[a-z]{6,}")) return false;
            write_from_text(out, enc, interval_in, s, opts);
            return true;
        case BITOID:
        case VARBITOID:
            // bit(1): a boolean; longer bit strings: Debezium leaves their defaults out.
            if (enc->typmod != 1 || !(s = extract_default(trimmed(v), "00"))) return false;
            write_bool(out, strcmp(s, "1") == 0);
            return true;
        default:
            break;
    }
    // Enums: the label of a `'label'::type` default (extractEnumDefault).
    if (type_is_enum(enc->typid)) {
        const char *cast = nullptr;
        for (const char *p = v; (p = strstr(p, "::")) != nullptr; p += 2) cast = p;
        if (cast == nullptr || cast - v < 2 || v[0] != '\'' || cast[-1] != '\'') return false;
        json_write_string(out, v + 1, (int)(cast - v - 2));
        return true;
    }
    return false;
}

// The converters' fallback for a NOT NULL column with no value (JdbcValueConverters,
// PostgresValueConverter: convertValue's fallback argument).
void write_fallback(StringInfo out, const TypeEncoder *enc, const WalcastOptions *opts) {
    switch (enc->category) {
        case TypeCategory::Int2:
        case TypeCategory::Int4:
        case TypeCategory::Int8:
        case TypeCategory::Oid:
        case TypeCategory::Date:
        case TypeCategory::Time:
        case TypeCategory::Timestamp:
            JSON_LITERAL(out, "0");
            break;
        case TypeCategory::Float4:
        case TypeCategory::Float8:
            JSON_LITERAL(out, "0.0");
            break;
        case TypeCategory::Bool:
            JSON_LITERAL(out, "false");
            break;
        case TypeCategory::Numeric:
            // BigDecimal.ZERO at the column's scale, converted like any value.
            write_from_text(out, enc, numeric_in, "0", opts);
            break;
        case TypeCategory::Money:
            type_encoder_write(out, enc, Int64GetDatum(0), opts);
            break;
        case TypeCategory::Bit:
        case TypeCategory::VarBit:
            if (enc->typmod == 1)
                JSON_LITERAL(out, "false");
            else
                JSON_LITERAL(out, "\"\"");
            break;
        case TypeCategory::TimeTz:
            JSON_LITERAL(out, "\"00:00:00Z\"");
            break;
        case TypeCategory::TimestampTz:
            JSON_LITERAL(out, "\"1970-01-01T00:00:00Z\"");
            break;
        case TypeCategory::Interval:
            if (opts->interval_mode == IntervalMode::String)
                JSON_LITERAL(out, "\"P0Y0M0DT0H0M0S\"");
            else
                JSON_LITERAL(out, "0");
            break;
        case TypeCategory::Hstore:
            if (opts->hstore_mode == HstoreMode::Map)
                JSON_LITERAL(out, "{}");
            else
                JSON_LITERAL(out, "\"{}\"");
            break;
        case TypeCategory::Point: {
            Point origin;
            origin.x = origin.y = 0.0;
            write_point(out, PointerGetDatum(&origin));
            break;
        }
        case TypeCategory::Array:
            JSON_LITERAL(out, "[]");
            break;
        default:  // strings, bytes (empty in every binary mode), uuid, json, enums, ...
            JSON_LITERAL(out, "\"\"");
    }
}

}  // namespace

const char *column_default_json(Relation rel, Form_pg_attribute attr, const TypeEncoder *enc,
                                const WalcastOptions *opts, int *len) {
    char *expr = default_expression(rel, attr);
    if (expr == nullptr) return nullptr;
    StringInfoData buf;
    initStringInfo(&buf);
    if (!write_parsed_default(&buf, attr, enc, expr, opts)) {
        pfree(buf.data);
        return nullptr;
    }
    *len = buf.len;
    return buf.data;
}

const char *column_null_json(Form_pg_attribute attr, const TypeEncoder *enc,
                             const WalcastOptions *opts, const char *default_json,
                             int default_json_len, int *len) {
    // A nullable column's default only stands in for NULL through JsonConverter's
    // replace.null.with.default; a NOT NULL column's is Debezium's own.
    if (default_json != nullptr && (attr->attnotnull || opts->replace_null_with_default)) {
        *len = default_json_len;
        return default_json;
    }
    StringInfoData buf;
    initStringInfo(&buf);
    if (attr->attnotnull)
        write_fallback(&buf, enc, opts);
    else
        JSON_LITERAL(&buf, "null");
    *len = buf.len;
    return buf.data;
}
