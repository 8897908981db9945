// Arrays: nested JSON arrays of the element mapping, NULL elements as null.
#include "types_internal.h"

extern "C" {
#include "common/md5.h"
#include "utils/numeric.h"
}

namespace {

struct ArrayWalk {
    const char *ptr;
    const bits8 *nulls;  // nullptr when the array has no NULL elements
    int index;
};

void write_element(StringInfo out, const TypeEncoder *enc, ArrayWalk *walk,
                   const WalcastOptions *opts) {
    int i = walk->index++;
    if (walk->nulls && !(walk->nulls[i / 8] & (1 << (i % 8)))) {
        JSON_LITERAL(out, "null");
        return;
    }
    Datum v = fetch_att(walk->ptr, enc->elem_byval, enc->elem_len);
    walk->ptr = att_addlength_pointer(walk->ptr, enc->elem_len, walk->ptr);
    walk->ptr = (const char *)att_align_nominal(walk->ptr, enc->elem_align);
    type_encoder_write(out, enc->element, v, opts);
}

void write_dimension(StringInfo out, const TypeEncoder *enc, ArrayWalk *walk, const int *dims,
                     int ndim, int d, const WalcastOptions *opts) {
    appendStringInfoCharMacro(out, '[');
    for (int i = 0; i < dims[d]; i++) {
        if (i > 0) appendStringInfoCharMacro(out, ',');
        if (d == ndim - 1)
            write_element(out, enc, walk, opts);
        else
            write_dimension(out, enc, walk, dims, ndim, d + 1, opts);
    }
    appendStringInfoCharMacro(out, ']');
}

// Debezium reads array elements through JDBC, which cannot turn a NaN or ±Infinity
// numeric element into a BigDecimal: the whole array becomes null.
bool has_special_numeric(ArrayType *arr) {
    ArrayIterator it = array_create_iterator(arr, 0, nullptr);
    Datum value;
    bool isnull;
    bool special = false;
    while (!special && array_iterate(it, &value, &isnull))
        special = !isnull && (numeric_is_nan(DatumGetNumeric(value)) ||
                              numeric_is_inf(DatumGetNumeric(value)));
    array_free_iterator(it);
    return special;
}

}  // namespace

// Debezium flattens nothing: multi-dimensional arrays arrive from pgjdbc as nested lists,
// here as nested JSON arrays ('{{1,2},{3,NULL}}' -> [[1,2],[3,null]]); an empty array is
// []. Lower bounds other than 1 are not represented (as in Debezium).
void write_array(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts) {
    check_stack_depth();
    ArrayType *arr = DatumGetArrayTypeP(value);
    int ndim = ARR_NDIM(arr);
    if (ndim <= 0) {
        JSON_LITERAL(out, "[]");
        return;
    }
    if (enc->element->category == TypeCategory::Numeric && has_special_numeric(arr)) {
        JSON_LITERAL(out, "null");
        return;
    }
    ArrayWalk walk = {ARR_DATA_PTR(arr), ARR_NULLBITMAP(arr), 0};
    write_dimension(out, enc, &walk, ARR_DIMS(arr), ndim, 0, opts);
}

// Unchanged-TOAST arrays, as Debezium 3.6 (UnchangedToastedReplicationMessageColumn and
// UnchangedToastedPlaceholder) picks its placeholder by the array type's name:
// text[], varchar[], char[], json[], jsonb[]: ["<placeholder>"]; bytea[]: the placeholder's
// bytes as one element, base64 whatever binary.handling.mode (Connect writes the raw bytes);
// integer[], bigint[], date[]: one number per placeholder byte (Java's signed byte value);
// uuid[]: the name-based UUID of the placeholder bytes (UUID.nameUUIDFromBytes, MD5,
// version 3). Every other array type gets the placeholder string, not an array.
void write_array_unavailable(StringInfo out, const TypeEncoder *enc, const WalcastOptions *opts) {
    const char *ph = opts->unavailable_placeholder;
    int len = opts->unavailable_placeholder_len;
    switch (enc->element->typid) {
        case TEXTOID:
        case VARCHAROID:
        case BPCHAROID:
        case JSONOID:
        case JSONBOID:
            appendStringInfoCharMacro(out, '[');
            json_write_string(out, ph, len);
            appendStringInfoCharMacro(out, ']');
            break;
        case BYTEAOID:
            appendStringInfoCharMacro(out, '[');
            json_write_base64(out, (const unsigned char *)ph, len, false);
            appendStringInfoCharMacro(out, ']');
            break;
        case INT4OID:
        case INT8OID:
        case DATEOID:
            appendStringInfoCharMacro(out, '[');
            for (int i = 0; i < len; i++) {
                if (i > 0) appendStringInfoCharMacro(out, ',');
                json_write_int64(out, (signed char)ph[i]);
            }
            appendStringInfoCharMacro(out, ']');
            break;
        case UUIDOID: {
            unsigned char md5[16];
#if PG_VERSION_NUM >= 150000
            const char *errstr = nullptr;
            if (!pg_md5_binary(ph, len, md5, &errstr))
#else
            if (!pg_md5_binary(ph, len, md5))
#endif
                elog(ERROR, "walcast: could not compute MD5 of the unavailable value placeholder");
            md5[6] = (unsigned char)((md5[6] & 0x0f) | 0x30);  // version 3
            md5[8] = (unsigned char)((md5[8] & 0x3f) | 0x80);  // IETF variant
            pg_uuid_t uuid;
            memcpy(uuid.data, md5, sizeof(uuid.data));
            appendStringInfoCharMacro(out, '[');
            write_uuid(out, UUIDPGetDatum(&uuid));
            appendStringInfoCharMacro(out, ']');
            break;
        }
        default:
            json_write_string(out, ph, len);
    }
}
