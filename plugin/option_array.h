// The snapshot functions' options argument: a text[] of alternating option names and
// values, turned into the DefElems the plugin's option parser takes.
#pragma once

#include "pg.h"
#include "options.h"

List *walcast_options_from_array(ArrayType *array);  // snapshot_rows.cpp

// The options of a function reading a table (array: the argument, null when SQL NULL):
// parsed for a snapshot, with the database's name, rows rendered as Debezium's JDBC reads
// render them unless snapshot.as.streamed says otherwise (snapshot_rows.cpp). `function`:
// the SQL function's name, for errors (snapshot.condition is snapshot_rows()'s only).
void walcast_snapshot_options(WalcastOptions *opts, ArrayType *array, const char *function);
