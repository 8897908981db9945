// How large one event may grow: event.max.bytes, and in any case what one PostgreSQL
// message can carry (1 GB). An event over the limit is an ERROR naming its table,
// LSN and column, raised before the value is appended where its stored size already
// tells (no gigabyte buffer is built first), else as soon as it is exceeded.
#pragma once

#include "pg.h"
#include "options.h"

// The event now being appended to out: table is "schema.table", or nullptr for a
// logical message (then what names the message's prefix).
void event_limit_begin(StringInfo out, const WalcastOptions *opts, const char *table,
                       const char *what, XLogRecPtr lsn);

// Any other error while the event is encoded (a buffer PostgreSQL cannot enlarge, a
// type's output function) names it too: push before encoding, pop after.
void event_limit_push_context(ErrorContextCallback *callback);
inline void event_limit_pop_context(ErrorContextCallback *callback) {
    error_context_stack = callback->previous;
}

// True when `more` further bytes keep the event within its limit.
bool event_limit_fits(StringInfo out, Size more);

// Raises the ERROR when `more` further bytes would take the event over its limit;
// `column` is the pre-rendered `"name":` of the value being written, or nullptr.
void event_limit_require(StringInfo out, Size more, const char *column, int column_len);
