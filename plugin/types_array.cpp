// Arrays: nested JSON arrays of the element mapping, NULL elements as null.
#include "types_internal.h"

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
    ArrayWalk walk = {ARR_DATA_PTR(arr), ARR_NULLBITMAP(arr), 0};
    write_dimension(out, enc, &walk, ARR_DIMS(arr), ndim, 0, opts);
}

// Unchanged-TOAST arrays, after Debezium's UnchangedToastedPlaceholder: text-like elements
// get a one-element array holding the placeholder; numeric-shaped elements (integers,
// dates, times, timestamps, numeric-mode intervals) one element per placeholder byte
// (Java's signed byte value); floats the same as doubles; booleans one true per byte;
// bytea one element with the placeholder's bytes. Other element types (numeric, bits,
// point, hstore) get the placeholder string, as Debezium's fallback does.
void write_array_unavailable(StringInfo out, const TypeEncoder *enc, const WalcastOptions *opts) {
    const char *ph = opts->unavailable_placeholder;
    int len = opts->unavailable_placeholder_len;
    enum { String, Integer, Float, Boolean, Binary, Scalar } shape;
    switch (enc->element->category) {
        case TypeCategory::Text:
        case TypeCategory::Name:
        case TypeCategory::Json:
        case TypeCategory::Jsonb:
        case TypeCategory::Uuid:
        case TypeCategory::TimeTz:
        case TypeCategory::TimestampTz:
        case TypeCategory::TextOutput:
            shape = String;
            break;
        case TypeCategory::Int2:
        case TypeCategory::Int4:
        case TypeCategory::Int8:
        case TypeCategory::Oid:
        case TypeCategory::Date:
        case TypeCategory::Time:
        case TypeCategory::Timestamp:
            shape = Integer;
            break;
        case TypeCategory::Interval:
            shape = opts->interval_mode == IntervalMode::String ? String : Integer;
            break;
        case TypeCategory::Float4:
        case TypeCategory::Float8:
            shape = Float;
            break;
        case TypeCategory::Bool:
            shape = Boolean;
            break;
        case TypeCategory::Bytea:
            shape = Binary;
            break;
        default:
            shape = Scalar;
    }
    if (shape == Scalar) {
        json_write_string(out, ph, len);
        return;
    }
    appendStringInfoCharMacro(out, '[');
    if (shape == String) {
        json_write_string(out, ph, len);
    } else if (shape == Binary) {
        write_binary(out, (const unsigned char *)ph, len, opts->binary_mode);
    } else {
        for (int i = 0; i < len; i++) {
            if (i > 0) appendStringInfoCharMacro(out, ',');
            int b = (signed char)ph[i];
            if (shape == Integer)
                json_write_int64(out, b);
            else if (shape == Float)
                json_write_java_double(out, (double)b);
            else if (b != 0)
                JSON_LITERAL(out, "true");
            else
                JSON_LITERAL(out, "false");
        }
    }
    appendStringInfoCharMacro(out, ']');
}
