// Resolving a column type to its encoder once, and dispatching per value.
//
// Mapping decisions follow Debezium's PostgreSQL connector (PostgresValueConverter and the
// Kafka Connect JsonConverter with schemas disabled); each writer documents its reference.
// Types Debezium drops unless include.unknown.datatypes is set (composite types, unknown
// extension types, geometric types other than point, ...) are written as their text
// output, a JSON string: walcast keeps them instead of dropping them (documented).
#include "types_internal.h"

namespace {

// Extension types are found by name: their OIDs differ per database.
TypeCategory category_by_name(Oid typid) {
    HeapTuple tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
    if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for type %u", typid);
    Form_pg_type form = (Form_pg_type)GETSTRUCT(tup);
    TypeCategory category = TypeCategory::TextOutput;
    const char *name = NameStr(form->typname);
    if (strcmp(name, "hstore") == 0)
        category = TypeCategory::Hstore;
    else if (strcmp(name, "citext") == 0)
        category = TypeCategory::Text;  // varlena text, same bytes as its output
    ReleaseSysCache(tup);
    return category;
}

}  // namespace

void type_encoder_init(TypeEncoder *enc, Oid typid, int32 typmod, MemoryContext cache_cxt) {
    memset(enc, 0, sizeof(*enc));

    // Domains take their base type's mapping; the domain's typmod applies when the
    // column has none (a column of a domain type never has its own).
    int32 domain_typmod = -1;
    Oid base = getBaseTypeAndTypmod(typid, &domain_typmod);
    if (base != typid && typmod < 0) typmod = domain_typmod;
    enc->typid = base;
    enc->typmod = typmod;

    Oid output_fn;
    bool is_varlena;
    getTypeOutputInfo(base, &output_fn, &is_varlena);
    fmgr_info_cxt(output_fn, &enc->output, cache_cxt);

    switch (base) {
        case INT2OID:
            enc->category = TypeCategory::Int2;
            break;
        case INT4OID:
            enc->category = TypeCategory::Int4;
            break;
        case INT8OID:
            enc->category = TypeCategory::Int8;
            break;
        case OIDOID:
            enc->category = TypeCategory::Oid;
            break;
        case FLOAT4OID:
            enc->category = TypeCategory::Float4;
            break;
        case FLOAT8OID:
            enc->category = TypeCategory::Float8;
            break;
        case BOOLOID:
            enc->category = TypeCategory::Bool;
            break;
        case TEXTOID:
        case VARCHAROID:
        case BPCHAROID:  // with its padding, as bpcharout prints it
            enc->category = TypeCategory::Text;
            break;
        case NAMEOID:
            enc->category = TypeCategory::Name;
            break;
        case NUMERICOID:
            enc->category = TypeCategory::Numeric;
            break;
        case CASHOID:
            enc->category = TypeCategory::Money;
            break;
        case BYTEAOID:
            enc->category = TypeCategory::Bytea;
            break;
        case BITOID:
            enc->category = TypeCategory::Bit;
            break;
        case VARBITOID:
            enc->category = TypeCategory::VarBit;
            break;
        case DATEOID:
            enc->category = TypeCategory::Date;
            break;
        case TIMEOID:
            enc->category = TypeCategory::Time;
            break;
        case TIMETZOID:
            enc->category = TypeCategory::TimeTz;
            break;
        case TIMESTAMPOID:
            enc->category = TypeCategory::Timestamp;
            break;
        case TIMESTAMPTZOID:
            enc->category = TypeCategory::TimestampTz;
            break;
        case INTERVALOID:
            enc->category = TypeCategory::Interval;
            break;
        case UUIDOID:
            enc->category = TypeCategory::Uuid;
            break;
        case JSONOID:
            enc->category = TypeCategory::Json;
            break;
        case JSONBOID:
            enc->category = TypeCategory::Jsonb;
            break;
        case POINTOID:
            enc->category = TypeCategory::Point;
            break;
        default: {
            Oid elem = get_element_type(base);
            if (OidIsValid(elem)) {
                enc->category = TypeCategory::Array;
                // An array column's typmod is its elements' typmod (numeric(10,2)[]).
                enc->element =
                    (TypeEncoder *)MemoryContextAllocZero(cache_cxt, sizeof(TypeEncoder));
                type_encoder_init(enc->element, elem, typmod, cache_cxt);
                enc->element->in_array = true;
                get_typlenbyvalalign(elem, &enc->elem_len, &enc->elem_byval, &enc->elem_align);
            } else {
                enc->category = category_by_name(base);
            }
        }
    }
}

void type_encoder_write(StringInfo out, const TypeEncoder *enc, Datum value,
                        const WalcastOptions *opts) {
    switch (enc->category) {
        case TypeCategory::Int2:
            json_write_int64(out, DatumGetInt16(value));
            break;
        case TypeCategory::Int4:
            json_write_int64(out, DatumGetInt32(value));
            break;
        case TypeCategory::Int8:
            json_write_int64(out, DatumGetInt64(value));
            break;
        case TypeCategory::Oid:
            json_write_uint64(out, DatumGetObjectId(value));
            break;
        case TypeCategory::Float4:
            json_write_java_float(out, DatumGetFloat4(value));
            break;
        case TypeCategory::Float8:
            json_write_java_double(out, DatumGetFloat8(value));
            break;
        case TypeCategory::Bool:
            if (DatumGetBool(value))
                JSON_LITERAL(out, "true");
            else
                JSON_LITERAL(out, "false");
            break;
        case TypeCategory::Text:
        case TypeCategory::Json:  // json keeps its input text: Debezium sends it as a string
            write_text(out, value);
            break;
        case TypeCategory::Name:
            json_write_cstring(out, NameStr(*DatumGetName(value)));
            break;
        case TypeCategory::Numeric:
            write_numeric(out, enc, value, opts);
            break;
        case TypeCategory::Money:
            write_money(out, value, opts);
            break;
        case TypeCategory::Bytea:
            write_bytea(out, value, opts);
            break;
        case TypeCategory::Bit:
        case TypeCategory::VarBit:
            write_bits(out, enc, value);
            break;
        case TypeCategory::Date:
            write_date(out, value, enc->in_array || opts->reading_table);
            break;
        case TypeCategory::Time:
            write_time(out, enc, value, opts);
            break;
        case TypeCategory::TimeTz:
            write_timetz(out, value, enc->in_array);
            break;
        case TypeCategory::Timestamp:
            write_timestamp(out, enc, value, opts);
            break;
        case TypeCategory::TimestampTz:
            write_timestamptz(out, enc, value);
            break;
        case TypeCategory::Interval:
            write_interval(out, value, opts);
            break;
        case TypeCategory::Uuid:
            write_uuid(out, value);
            break;
        case TypeCategory::Jsonb:
            write_jsonb(out, value);
            break;
        case TypeCategory::Hstore:
            write_hstore(out, enc, value, opts);
            break;
        case TypeCategory::Point:
            write_point(out, value);
            break;
        case TypeCategory::Array:
            write_array(out, enc, value, opts);
            break;
        case TypeCategory::TextOutput:
            write_text_output(out, enc, value);
            break;
    }
}

// Debezium (UnchangedToastedPlaceholder, PostgresValueConverter): the placeholder string
// for text-like columns; bytea: the placeholder's bytes under binary.handling.mode=bytes,
// the placeholder string under hex, and null under base64 and base64-url-safe (Debezium's
// converters for those modes do not recognise the marker and give up on the value);
// hstore: a one-entry map {placeholder: placeholder}; arrays: see write_array_unavailable.
// Only varlena types can be unchanged TOAST, so numbers and other fixed-size types never
// get here; numeric and other non-string varlena types get the placeholder string.
void type_encoder_write_unavailable(StringInfo out, const TypeEncoder *enc,
                                    const WalcastOptions *opts) {
    switch (enc->category) {
        case TypeCategory::Bytea:
            if (opts->binary_mode == BinaryMode::Hex)
                json_write_string(out, opts->unavailable_placeholder,
                                  opts->unavailable_placeholder_len);
            else if (opts->binary_mode == BinaryMode::Bytes)
                write_binary(out, (const unsigned char *)opts->unavailable_placeholder,
                             opts->unavailable_placeholder_len, opts->binary_mode);
            else
                JSON_LITERAL(out, "null");
            break;
        case TypeCategory::Hstore:
            write_hstore_unavailable(out, opts);
            break;
        case TypeCategory::Array:
            write_array_unavailable(out, enc, opts);
            break;
        default:
            json_write_string(out, opts->unavailable_placeholder,
                              opts->unavailable_placeholder_len);
    }
}
