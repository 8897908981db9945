// The `default` of a column's Connect schema, as Debezium's PostgreSQL connector derives it
// from the column's default expression.
#pragma once

#include "pg.h"
#include "options.h"
#include "type_encoder.h"

// The default as JSON (encoded like a value of the column), or nullptr for none.
const char *schema_column_default(Relation rel, Form_pg_attribute attr, const TypeEncoder *enc,
                                  const WalcastOptions *opts);
