// What Debezium writes for a column it has no value for: a NOT NULL column missing from a
// REPLICA IDENTITY DEFAULT/INDEX old row, a column of a type its stream cannot read
// (name), and (Kafka Connect's JsonConverter, replace.null.with.default) any NULL of a
// column with a default. Resolved once per column, in the relation cache.
#pragma once

#include "pg.h"
#include "options.h"
#include "type_encoder.h"

// The column's DEFAULT as Debezium parses it (a literal; a function call or CURRENT_*
// gives the type's placeholder, e.g. 0 for nextval(), the epoch for now()), written as a
// value of the column; nullptr when Debezium has none (no default, an expression it cannot
// read, a type without a parser: bytea, money, arrays, intervals, domains, ...). Connect
// schemas carry it as the field's "default".
const char *column_default_json(Relation rel, Form_pg_attribute attr, const TypeEncoder *enc,
                                const WalcastOptions *opts, int *len);

// The JSON to write instead of a missing or NULL value: default_json (for a nullable
// column only with value.converter.replace.null.with.default), else for a NOT NULL column
// the converters' fallback (0, "", false, [], "1970-01-01T00:00:00Z", ...), else null.
const char *column_null_json(Form_pg_attribute attr, const TypeEncoder *enc,
                             const WalcastOptions *opts, const char *default_json,
                             int default_json_len, int *len);
