// Turning one column value into its Debezium JSON form. Resolved once per column
// (in the relation cache), applied per row without catalog look-ups.
#pragma once

#include "pg.h"
#include "options.h"

enum class TypeCategory : uint8 {
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Bool,
    Text,  // text, varchar, bpchar, and other varlena text types: the bytes as a string
    Name,
    Numeric,
    Money,
    Bytea,
    Bit,
    VarBit,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Hstore,
    Point,
    Array,
    TextOutput,  // everything else: the type's text output as a JSON string
};

struct TypeEncoder {
    Oid typid;     // after domains are resolved to their base type
    int32 typmod;  // the column's (or the domain's) type modifier
    TypeCategory category;
    FmgrInfo output;  // text output function, for TextOutput and the slow paths
    bool in_array;    // an array's element encoder (Debezium reads elements through JDBC)
    // Arrays: how to walk elements and how to encode each one.
    TypeEncoder *element;
    int16 elem_len;
    bool elem_byval;
    char elem_align;
};

// Fills enc for a column of type typid/typmod. Allocations go to cache_cxt, which
// lives as long as the relation cache entry.
void type_encoder_init(TypeEncoder *enc, Oid typid, int32 typmod, MemoryContext cache_cxt);

// Writes value (not null, possibly toasted or compressed) as JSON.
void type_encoder_write(StringInfo out, const TypeEncoder *enc, Datum value,
                        const WalcastOptions *opts);

// Writes unavailable.value.placeholder in the type's shape: a string for text-like
// types, the placeholder's bytes (binary.handling.mode) for bytea, a one-element
// array for arrays.
void type_encoder_write_unavailable(StringInfo out, const TypeEncoder *enc,
                                    const WalcastOptions *opts);

// Bytes in the shape of binary.handling.mode (bytes and base64: base64; base64-url-safe;
// hex: lowercase hex), always a JSON string.
void write_binary(StringInfo out, const unsigned char *data, int len, BinaryMode mode);
