// The Connect schema of each column follows Debezium's PostgresValueConverter /
// JdbcValueConverters.schemaBuilder for the same type, typmod and handling modes, so a
// schema always describes the payload walcast writes for that column. Where walcast
// writes a value Debezium would drop (unknown types, arrays Debezium cannot map), the
// schema describes what walcast writes (a string, an array of the element's schema).
#include "connect_schema.h"

#include <algorithm>

#include "json_writer.h"
#include "relation_cache.h"
#include "type_encoder.h"

extern "C" {
#include "catalog/pg_enum.h"
#include "utils/catcache.h"
#include "utils/syscache.h"
}

namespace {

// One schema node before its optional/default/field parts, which depend on where the
// node is used. Strings are JSON fragments, nullptr when absent.
struct SchemaNode {
    const char *type;            // int32, string, struct, array, map, ...
    const char *body = nullptr;  // `,"fields":[..]`, `,"items":{..}`, `,"keys":..,"values":..`
    const char *name = nullptr;  // semantic type name (plain text)
    int version = 0;             // 0: none
    const char *doc = nullptr;   // plain text
    const char *parameters = nullptr;  // the inside of the parameters object
};

void write_node(StringInfo out, const SchemaNode &n, bool optional, const char *default_json,
                const char *field) {
    JSON_LITERAL(out, "{\"type\":\"");
    appendStringInfoString(out, n.type);
    appendStringInfoChar(out, '"');
    if (n.body) appendStringInfoString(out, n.body);
    if (optional)
        JSON_LITERAL(out, ",\"optional\":true");
    else
        JSON_LITERAL(out, ",\"optional\":false");
    if (n.name) {
        JSON_LITERAL(out, ",\"name\":");
        json_write_cstring(out, n.name);
    }
    if (n.version) appendStringInfo(out, ",\"version\":%d", n.version);
    if (n.doc) {
        JSON_LITERAL(out, ",\"doc\":");
        json_write_cstring(out, n.doc);
    }
    if (n.parameters) appendStringInfo(out, ",\"parameters\":{%s}", n.parameters);
    if (default_json) appendStringInfo(out, ",\"default\":%s", default_json);
    if (field) {
        JSON_LITERAL(out, ",\"field\":");
        json_write_cstring(out, field);
    }
    appendStringInfoChar(out, '}');
}

const char *node_text(const SchemaNode &n, bool optional) {
    StringInfoData buf;
    initStringInfo(&buf);
    write_node(&buf, n, optional, nullptr, nullptr);
    return buf.data;
}

SchemaNode semantic(const char *type, const char *name, int version = 1) {
    SchemaNode n;
    n.type = type;
    n.name = name;
    n.version = version;
    return n;
}

SchemaNode plain(const char *type) {
    SchemaNode n;
    n.type = type;
    return n;
}

const char *parameter(const char *key, const char *value) {
    StringInfoData buf;
    initStringInfo(&buf);
    json_write_cstring(&buf, key);
    appendStringInfoChar(&buf, ':');
    json_write_cstring(&buf, value);
    return buf.data;
}

// org.apache.kafka.connect.data.Decimal (bytes, unscaled two's complement).
SchemaNode decimal(int scale, int precision) {
    SchemaNode n = semantic("bytes", "org.apache.kafka.connect.data.Decimal");
    char s[16];
    snprintf(s, sizeof(s), "%d", scale);
    const char *params = parameter("scale", s);
    if (precision >= 0) {
        char p[16];
        snprintf(p, sizeof(p), "%d", precision);
        params = psprintf("%s,%s", params, parameter("connect.decimal.precision", p));
    }
    n.parameters = params;
    return n;
}

// decimal.handling.mode double and string replace a decimal's schema (numeric and money
// alike); precise keeps the type's own, which is false here.
bool imprecise_decimal_node(const WalcastOptions *opts, SchemaNode *node) {
    switch (opts->decimal_mode) {
        case DecimalMode::Double:
            *node = plain("double");
            return true;
        case DecimalMode::String:
            *node = plain("string");
            return true;
        case DecimalMode::Precise:
            break;
    }
    return false;
}

SchemaNode numeric_node(int32 typmod, const WalcastOptions *opts) {
    SchemaNode imprecise;
    if (imprecise_decimal_node(opts, &imprecise)) return imprecise;
    if (typmod < (int32)VARHDRSZ) {
        SchemaNode n = semantic("struct", "io.debezium.data.VariableScaleDecimal");
        n.doc = "Variable scaled decimal";
        n.body =
            ",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
            "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]";
        return n;
    }
    int precision = ((typmod - VARHDRSZ) >> 16) & 0xffff;
    int scale = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
    return decimal(scale, precision);
}

// Fractional-second digits of a time/timestamp column, 6 when unspecified.
int time_precision(int32 typmod) { return typmod < 0 ? 6 : typmod; }

SchemaNode time_node(int32 typmod, const WalcastOptions *opts) {
    switch (opts->time_precision) {
        case TimePrecisionMode::Connect:
            return semantic("int32", "org.apache.kafka.connect.data.Time");
        case TimePrecisionMode::AdaptiveTimeMicroseconds:
            return semantic("int64", "io.debezium.time.MicroTime");
        case TimePrecisionMode::Adaptive:
            break;
    }
    return time_precision(typmod) <= 3 ? semantic("int32", "io.debezium.time.Time")
                                       : semantic("int64", "io.debezium.time.MicroTime");
}

SchemaNode timestamp_node(int32 typmod, const WalcastOptions *opts) {
    if (opts->time_precision == TimePrecisionMode::Connect)
        return semantic("int64", "org.apache.kafka.connect.data.Timestamp");
    return time_precision(typmod) <= 3 ? semantic("int64", "io.debezium.time.Timestamp")
                                       : semantic("int64", "io.debezium.time.MicroTimestamp");
}

SchemaNode binary_node(const WalcastOptions *opts) {
    return plain(opts->binary_mode == BinaryMode::Bytes ? "bytes" : "string");
}

// io.debezium.data.Enum: the labels in their sort order, comma-separated.
SchemaNode enum_node(Oid typid) {
    CatCList *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
    int n = list->n_members;
    Form_pg_enum *labels = (Form_pg_enum *)palloc(sizeof(Form_pg_enum) * Max(n, 1));
    for (int i = 0; i < n; i++) labels[i] = (Form_pg_enum)GETSTRUCT(&list->members[i]->tuple);
    std::sort(labels, labels + n,
              [](Form_pg_enum a, Form_pg_enum b) { return a->enumsortorder < b->enumsortorder; });
    StringInfoData allowed;
    initStringInfo(&allowed);
    for (int i = 0; i < n; i++) {
        if (i > 0) appendStringInfoChar(&allowed, ',');
        appendStringInfoString(&allowed, NameStr(labels[i]->enumlabel));
    }
    ReleaseSysCacheList(list);
    SchemaNode node = semantic("string", "io.debezium.data.Enum");
    node.parameters = parameter("allowed", allowed.data);
    return node;
}

// Types walcast writes as their text output: the ones Debezium gives a semantic name.
SchemaNode text_output_node(Oid typid) {
    if (get_typtype(typid) == TYPTYPE_ENUM) return enum_node(typid);
    if (typid == XMLOID) return semantic("string", "io.debezium.data.Xml");
    if (typid == TSVECTOROID) return semantic("string", "io.debezium.data.Tsvector");
    // Extension types are known by name: their OIDs differ per database.
    HeapTuple tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
    bool ltree = HeapTupleIsValid(tup) &&
                 strcmp(NameStr(((Form_pg_type)GETSTRUCT(tup))->typname), "ltree") == 0;
    if (HeapTupleIsValid(tup)) ReleaseSysCache(tup);
    return ltree ? semantic("string", "io.debezium.data.Ltree") : plain("string");
}

SchemaNode column_node(const TypeEncoder *enc, const WalcastOptions *opts);

SchemaNode array_node(const TypeEncoder *enc, const WalcastOptions *opts) {
    SchemaNode element = column_node(enc->element, opts);
    // Enum elements are the one kind Debezium declares required.
    bool optional_items = !(enc->element->category == TypeCategory::TextOutput &&
                            get_typtype(enc->element->typid) == TYPTYPE_ENUM);
    SchemaNode n = plain("array");
    n.body = psprintf(",\"items\":%s", node_text(element, optional_items));
    return n;
}

SchemaNode column_node(const TypeEncoder *enc, const WalcastOptions *opts) {
    switch (enc->category) {
        case TypeCategory::Int2:
            return plain("int16");
        case TypeCategory::Int4:
            return plain("int32");
        case TypeCategory::Int8:
        case TypeCategory::Oid:
            return plain("int64");
        case TypeCategory::Float4:
            return plain("float");  // JsonConverter's names for FLOAT32 / FLOAT64
        case TypeCategory::Float8:
            return plain("double");
        case TypeCategory::Bool:
            return plain("boolean");
        case TypeCategory::Text:
        case TypeCategory::Name:
            return plain("string");
        case TypeCategory::Numeric:
            return numeric_node(enc->typmod, opts);
        case TypeCategory::Money: {
            SchemaNode imprecise;
            if (imprecise_decimal_node(opts, &imprecise)) return imprecise;
            return decimal(2, -1);  // money.fraction.digits' default
        }
        case TypeCategory::Bytea:
            return binary_node(opts);
        case TypeCategory::Bit:
        case TypeCategory::VarBit: {
            if (enc->typmod == 1) return plain("boolean");
            SchemaNode n = semantic("bytes", "io.debezium.data.Bits");
            char length[16];
            snprintf(length, sizeof(length), "%d", enc->typmod < 0 ? INT_MAX : enc->typmod);
            n.parameters = parameter("length", length);
            return n;
        }
        case TypeCategory::Date:
            return opts->time_precision == TimePrecisionMode::Connect
                       ? semantic("int32", "org.apache.kafka.connect.data.Date")
                       : semantic("int32", "io.debezium.time.Date");
        case TypeCategory::Time:
            return time_node(enc->typmod, opts);
        case TypeCategory::TimeTz:
            return semantic("string", "io.debezium.time.ZonedTime");
        case TypeCategory::Timestamp:
            return timestamp_node(enc->typmod, opts);
        case TypeCategory::TimestampTz:
            return semantic("string", "io.debezium.time.ZonedTimestamp");
        case TypeCategory::Interval:
            return opts->interval_mode == IntervalMode::String
                       ? semantic("string", "io.debezium.time.Interval")
                       : semantic("int64", "io.debezium.time.MicroDuration");
        case TypeCategory::Uuid:
            return semantic("string", "io.debezium.data.Uuid");
        case TypeCategory::Json:
        case TypeCategory::Jsonb:
            return semantic("string", "io.debezium.data.Json");
        case TypeCategory::Hstore:
            if (opts->hstore_mode == HstoreMode::Json)
                return semantic("string", "io.debezium.data.Json");
            else {
                SchemaNode n = plain("map");
                n.body =
                    ",\"keys\":{\"type\":\"string\",\"optional\":false},"
                    "\"values\":{\"type\":\"string\",\"optional\":true}";
                return n;
            }
        case TypeCategory::Point: {
            SchemaNode n = semantic("struct", "io.debezium.data.geometry.Point");
            n.doc = "Geometry (POINT)";
            n.body =
                ",\"fields\":[{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
                "{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
                "{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
                "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]";
            return n;
        }
        case TypeCategory::Array:
            return array_node(enc, opts);
        case TypeCategory::TextOutput:
            return text_output_node(enc->typid);
    }
    return plain("string");
}

// The field's "default" is the one the payload writes for a missing value
// (column_default.h), so schema and payload cannot disagree.
void write_column_field(StringInfo out, Form_pg_attribute attr, const ColumnInfo *col,
                        const WalcastOptions *opts) {
    write_node(out, column_node(&col->encoder, opts), !attr->attnotnull, col->default_json,
               NameStr(attr->attname));
}

// The fields of a struct of columns: `[{..},{..}]`.
const char *columns_struct(Relation rel, const ColumnInfo *cols,
                           const AttrNumber *published_attnums, int ncols,
                           const WalcastOptions *opts, const char *name, bool optional) {
    StringInfoData buf;
    initStringInfo(&buf);
    JSON_LITERAL(&buf, "{\"type\":\"struct\",\"fields\":[");
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < ncols; i++) {
        if (i > 0) appendStringInfoChar(&buf, ',');
        write_column_field(&buf, TupleDescAttr(desc, published_attnums[i] - 1), &cols[i], opts);
    }
    appendStringInfo(&buf, "],\"optional\":%s,\"name\":", optional ? "true" : "false");
    json_write_cstring(&buf, name);
    appendStringInfoChar(&buf, '}');
    return buf.data;
}

const char kSourceFields[] =
    "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
    "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
    "\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,"
    "last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"origin_lsn\"}";

const char kSourceField[] =
    "{\"type\":\"struct\",\"fields\":[%s],\"optional\":false,"
    "\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,\"field\":\"source\"}";

const char kTransactionField[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
    "\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}";

const char *with_field(const char *struct_json, const char *field) {
    // struct_json ends with '}': reopen it for the field name.
    int len = (int)strlen(struct_json);
    StringInfoData buf;
    initStringInfo(&buf);
    appendBinaryStringInfo(&buf, struct_json, len - 1);
    JSON_LITERAL(&buf, ",\"field\":");
    json_write_cstring(&buf, field);
    appendStringInfoChar(&buf, '}');
    return buf.data;
}

}  // namespace

void connect_schema_build(RelationInfo *info, Relation published, const WalcastOptions *opts) {
    // Columns of the published relation, by the attnum there (ColumnInfo holds the leaf's).
    AttrNumber *value_attnums = (AttrNumber *)palloc(sizeof(AttrNumber) * Max(info->ncolumns, 1));
    AttrNumber *key_attnums = (AttrNumber *)palloc(sizeof(AttrNumber) * Max(info->nkeys, 1));
    for (int i = 0; i < info->ncolumns; i++) value_attnums[i] = info->columns[i].published_attnum;
    for (int i = 0; i < info->nkeys; i++) key_attnums[i] = info->keys[i].published_attnum;

    info->key_schema = nullptr;
    if (info->nkeys > 0)
        info->key_schema = columns_struct(published, info->keys, key_attnums, info->nkeys, opts,
                                          psprintf("%s.Key", info->topic), false);
    const char *row = columns_struct(published, info->columns, value_attnums, info->ncolumns, opts,
                                     psprintf("%s.Value", info->topic), true);
    StringInfoData buf;
    initStringInfo(&buf);
    JSON_LITERAL(&buf, "{\"type\":\"struct\",\"fields\":[");
    appendStringInfoString(&buf, with_field(row, "before"));
    appendStringInfoChar(&buf, ',');
    appendStringInfoString(&buf, with_field(row, "after"));
    appendStringInfoChar(&buf, ',');
    appendStringInfo(&buf, kSourceField, kSourceFields);
    appendStringInfoChar(&buf, ',');
    appendStringInfoString(&buf, kTransactionField);
    JSON_LITERAL(&buf,
                 ",{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],"
                 "\"optional\":false,\"name\":");
    json_write_cstring(&buf, psprintf("%s.Envelope", info->topic));
    JSON_LITERAL(&buf, ",\"version\":2}");
    info->value_schema = buf.data;
}

const char *connect_schema_message_key() {
    return "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":"
           "\"prefix\"}],\"optional\":false,\"name\":\"io.debezium.connector.postgresql."
           "MessageKey\",\"version\":1}";
}

const char *connect_schema_message_value(const WalcastOptions *opts) {
    StringInfoData buf;
    initStringInfo(&buf);
    JSON_LITERAL(&buf,
                 "{\"type\":\"struct\",\"fields\":["
                 "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},");
    appendStringInfo(&buf, kSourceField, kSourceFields);
    appendStringInfoChar(&buf, ',');
    appendStringInfoString(&buf, kTransactionField);
    appendStringInfo(&buf,
                     ",{\"type\":\"struct\",\"fields\":["
                     "{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"},"
                     "{\"type\":\"%s\",\"optional\":true,\"field\":\"content\"}],"
                     "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Message\","
                     "\"version\":1,\"field\":\"message\"}],\"optional\":false,"
                     "\"name\":\"io.debezium.connector.postgresql.MessageValue\",\"version\":1}",
                     opts->binary_mode == BinaryMode::Bytes ? "bytes" : "string");
    return buf.data;
}

const char *connect_schema_transaction_value() {
    return "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
           "\"field\":\"status\"},{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
           "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
           "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
           "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
           "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
           "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
           "\"optional\":true,\"field\":\"data_collections\"},"
           "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
           "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";
}

void connect_schema_write_frame(StringInfo out, const char *topic, int topic_len,
                                const char *key_schema, const char *value_schema) {
    JSON_LITERAL(out, "R\t");
    json_append(out, topic, topic_len);
    appendStringInfoChar(out, '\t');
    if (key_schema) appendStringInfoString(out, key_schema);
    appendStringInfoChar(out, '\t');
    appendStringInfoString(out, value_schema);
}

void connect_schema_wrap_begin(StringInfo out, const char *schema) {
    JSON_LITERAL(out, "{\"schema\":");
    appendStringInfoString(out, schema);
    JSON_LITERAL(out, ",\"payload\":");
}

void connect_schema_wrap_end(StringInfo out) { appendStringInfoChar(out, '}'); }
