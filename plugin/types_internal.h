// Internals of the type encoders (type_encoder.cpp dispatches, types_*.cpp implement).
// Each writer gets a value that is not null and not an unchanged-TOAST pointer; varlena
// writers detoast it themselves.
#pragma once

#include "json_writer.h"
#include "options.h"
#include "type_encoder.h"

// Kafka Connect's JsonConverter writes numbers through Jackson, which prints doubles and
// floats with Java's Double.toString / Float.toString: shortest round-trip digits, plain
// notation with at least one fractional digit for 1e-3 <= |v| < 1e7 ("1.0", "100.5"),
// computerized scientific notation otherwise ("1.0E7", "1.5E-5"). NaN and infinities as
// the strings Jackson writes ("NaN", "Infinity", "-Infinity").
void json_write_java_double(StringInfo out, double value);
void json_write_java_float(StringInfo out, float value);

// types_numeric.cpp
void write_numeric(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts);
void write_money(StringInfo out, Datum value, const WalcastOptions *opts);

// types_temporal.cpp
// jdbc: the value as Debezium reads it through JDBC (array elements, snapshot rows),
// where ±infinity dates come out differently.
void write_date(StringInfo out, Datum value, bool jdbc);
void write_time(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts);
void write_timetz(StringInfo out, Datum value, bool in_array);
void write_timestamp(StringInfo out, const TypeEncoder *enc, Datum value,
                     const WalcastOptions *opts);
void write_timestamptz(StringInfo out, const TypeEncoder *enc, Datum value);
void write_interval(StringInfo out, Datum value, const WalcastOptions *opts);

// types_binary.cpp
void write_bytea(StringInfo out, Datum value, const WalcastOptions *opts);
void write_bits(StringInfo out, const TypeEncoder *enc, Datum value);

// types_misc.cpp
void write_text(StringInfo out, Datum value);
void write_uuid(StringInfo out, Datum value);
void write_jsonb(StringInfo out, Datum value);
void write_hstore(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts);
void write_hstore_unavailable(StringInfo out, const WalcastOptions *opts);
void write_point(StringInfo out, Datum value);
void write_text_output(StringInfo out, const TypeEncoder *enc, Datum value);

// types_array.cpp
void write_array(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts);
void write_array_unavailable(StringInfo out, const TypeEncoder *enc, const WalcastOptions *opts);
