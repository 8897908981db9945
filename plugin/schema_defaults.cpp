#include "schema_defaults.h"

#include "json_writer.h"

extern "C" {
#include "utils/ruleutils.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
}

namespace {

// Column defaults. Debezium reads the default's text (pg_get_expr) and parses it per type
// name (PostgresDefaultValueConverter): a function call or CURRENT_* stands for a fixed
// placeholder ("0", "1970-01-01", ...), a quoted literal for its first '...' part, a bare
// word for itself, NULL::type for no default. Types it has no parser for (domains,
// arrays, bytea, money, ...) and struct-shaped results get no default.

// ^[(]?[A-Za-z0-9_.]+\(  with a ')' somewhere after it.
bool looks_like_function_call(const char *text) {
    const char *p = text;
    if (*p == '(') p++;
    const char *start = p;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '.') p++;
    if (p == start || *p != '(') return false;
    return strchr(p + 1, ')') != nullptr;
}

bool is_current_datetime(const char *text) {
    static const char *const kNames[] = {"current_timestamp", "current_time", "current_date",
                                         "localtime", "localtimestamp"};
    for (const char *name : kNames)
        if (pg_strcasecmp(text, name) == 0) return true;
    return false;
}

// The literal of a default expression, or nullptr for none; placeholder for functions
// (nullptr: the type takes none and the column gets no default).
const char *default_literal(const char *expr, const char *placeholder) {
    if (placeholder && (looks_like_function_call(expr) || is_current_datetime(expr)))
        return placeholder;
    const char *quote = strchr(expr, '\'');
    if (quote == nullptr) return strncmp(expr, "NULL::", 6) == 0 ? nullptr : expr;
    const char *close = strchr(quote + 1, '\'');
    if (close == nullptr) return nullptr;
    return pnstrdup(quote + 1, close - quote - 1);
}

char *trimmed(const char *text) {
    while (isspace((unsigned char)*text)) text++;
    int len = (int)strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1])) len--;
    return pnstrdup(text, len);
}

// What Debezium parses a function-call default of the type as; nullptr: no default
// (interval: Debezium's "epoch" placeholder is no interval PostgreSQL accepts).
const char *function_placeholder(Oid typid) {
    switch (typid) {
        case UUIDOID:
            return "00000000-0000-0000-0000-000000000000";
        case DATEOID:
        case TIMESTAMPOID:
            return "1970-01-01";
        case TIMESTAMPTZOID:
            return "1970-01-01 00:00:00+00";
        case TIMEOID:
            return "00:00";
        case FLOAT4OID:
        case FLOAT8OID:
        case NUMERICOID:
            return "0.0";
        case INTERVALOID:
            return nullptr;
        default:
            return "0";
    }
}

// A default PostgreSQL already converted to the column's type when the table was
// defined, so its text converts back without error: a quoted literal followed only by
// casts ('2024-01-01'::date, '-1'::integer) or a bare number (42, 1.5). Other
// expressions ((1 + 2), CURRENT_DATE + 1) get no default: Debezium fails to parse most of
// them too, and walcast never runs an input function on text that could make it raise an
// error in the middle of decoding.
bool is_validated_constant(const char *expr) {
    const char *p = expr;
    if (*p == '\'') {
        const char *close = strchr(p + 1, '\'');
        if (close == nullptr || close[1] == '\'') return false;  // '' inside: not simple
        for (p = close + 1; *p; p++)
            if (!(isalnum((unsigned char)*p) || strchr(":_ \"(),", *p))) return false;
        return close[1] == ':' && close[2] == ':';
    }
    if (*p == '-' || *p == '+') p++;
    bool digits = false;
    for (; isdigit((unsigned char)*p) || *p == '.'; p++) digits = digits || *p != '.';
    return digits && *p == '\0';
}

// The value of literal as the column's type, encoded as walcast encodes payload values.
const char *encode_literal(const char *literal, Oid typid, int32 typmod, const TypeEncoder *enc,
                           const WalcastOptions *opts) {
    Oid input_fn, ioparam;
    getTypeInputInfo(typid, &input_fn, &ioparam);
    Datum value;
#if PG_VERSION_NUM >= 160000
    // Debezium leaves out defaults it cannot parse; so does walcast.
    FmgrInfo flinfo;
    fmgr_info(input_fn, &flinfo);
    ErrorSaveContext escontext = {T_ErrorSaveContext};
    if (!InputFunctionCallSafe(&flinfo, (char *)literal, ioparam, typmod, (Node *)&escontext,
                               &value))
        return nullptr;
#else
    value = OidInputFunctionCall(input_fn, (char *)literal, ioparam, typmod);
#endif
    StringInfoData buf;
    initStringInfo(&buf);
    type_encoder_write(&buf, enc, value, opts);
    return buf.data;
}

const char *string_default(const char *literal) {
    if (literal == nullptr) return nullptr;
    StringInfoData buf;
    initStringInfo(&buf);
    json_write_cstring(&buf, literal);
    return buf.data;
}

}  // namespace

const char *schema_column_default(Relation rel, Form_pg_attribute attr, const TypeEncoder *enc,
                                  const WalcastOptions *opts) {
    if (!attr->atthasdef || attr->attgenerated) return nullptr;
    TupleConstr *constr = RelationGetDescr(rel)->constr;
    if (constr == nullptr) return nullptr;
    const char *adbin = nullptr;
    for (int i = 0; i < constr->num_defval; i++)
        if (constr->defval[i].adnum == attr->attnum) adbin = constr->defval[i].adbin;
    if (adbin == nullptr) return nullptr;
    List *context = deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel));
    const char *expr = deparse_expression((Node *)stringToNode(adbin), context, false, false);

    Oid typid = attr->atttypid;  // a domain has no parser: its name is not a type Debezium knows
    int32 typmod = attr->atttypmod;
    // Struct-shaped values (VariableScaleDecimal) cannot be defaults in Connect.
    if (enc->typid != typid) return nullptr;
    switch (typid) {
        case TEXTOID:
        case VARCHAROID:
        case BPCHAROID:
        case XMLOID:
            return string_default(default_literal(expr, ""));
        case JSONOID:
        case JSONBOID:
            return string_default(default_literal(expr, "{}"));
        case BOOLOID: {
            const char *literal = default_literal(trimmed(expr), "false");
            if (literal == nullptr) return nullptr;
            return pg_strcasecmp(literal, "true") == 0 ? "true" : "false";
        }
        case BITOID:
        case VARBITOID: {
            if (typmod != 1) return nullptr;  // Bits defaults: left out
            const char *literal = default_literal(trimmed(expr), "00");
            if (literal == nullptr) return nullptr;
            return strcmp(literal, "1") == 0 ? "true" : "false";
        }
        case INT2OID:
        case INT4OID:
        case INT8OID:
        case FLOAT4OID:
        case FLOAT8OID:
        case NUMERICOID:
        case UUIDOID:
        case DATEOID:
        case TIMEOID:
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
        case INTERVALOID: {
            if (typid == NUMERICOID && opts->decimal_mode == DecimalMode::Precise &&
                typmod < (int32)VARHDRSZ)
                return nullptr;  // VariableScaleDecimal: a struct
            const char *placeholder = function_placeholder(typid);
            const char *text = trimmed(expr);
            const char *literal = default_literal(text, placeholder);
            if (literal == nullptr) return nullptr;
            if (literal != placeholder && !is_validated_constant(text)) return nullptr;
            return encode_literal(literal, typid, typmod, enc, opts);
        }
        default:
            break;
    }
    if (get_typtype(typid) == TYPTYPE_ENUM) {
        // 'label'::type only.
        const char *cast = strstr(expr, "'::");
        if (expr[0] != '\'' || cast == nullptr) return nullptr;
        return string_default(pnstrdup(expr + 1, cast - expr - 1));
    }
    return nullptr;
}
