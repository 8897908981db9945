#include "event_limits.h"

namespace {

struct EventInProgress {
    const char *table;
    const char *what;
    XLogRecPtr lsn;
    int start;  // out->len where the event began
    Size limit;
};

// Set at the start of every event; the encoder never nests events.
EventInProgress g_event;

// What a StringInfo, and so one CopyData message or one text datum, can hold.
const Size kPostgresLimit = MaxAllocSize - 1;

const char *event_subject() {
    return g_event.table ? psprintf("table %s", g_event.table)
                         : psprintf("logical message with prefix \"%s\"", g_event.what);
}

void name_the_event(void *) {
    errcontext("walcast: encoding the event of %s at LSN %X/%X", event_subject(),
               (uint32)(g_event.lsn >> 32), (uint32)g_event.lsn);
}

}  // namespace

void event_limit_push_context(ErrorContextCallback *callback) {
    callback->callback = name_the_event;
    callback->arg = nullptr;
    callback->previous = error_context_stack;
    error_context_stack = callback;
}

void event_limit_begin(StringInfo out, const WalcastOptions *opts, const char *table,
                       const char *what, XLogRecPtr lsn) {
    g_event.table = table;
    g_event.what = what;
    g_event.lsn = lsn;
    g_event.start = out->len;
    g_event.limit =
        opts->max_event_bytes > 0 ? Min(opts->max_event_bytes, kPostgresLimit) : kPostgresLimit;
}

bool event_limit_fits(StringInfo out, Size more) {
    return (Size)(out->len - g_event.start) + more <= g_event.limit &&
           (Size)out->len + more < kPostgresLimit;
}

void event_limit_require(StringInfo out, Size more, const char *column, int column_len) {
    if (event_limit_fits(out, more)) return;
    Size event_bytes = (Size)(out->len - g_event.start) + more;
    const char *subject = event_subject();
    ereport(ERROR,
            (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
             errmsg("walcast: the event of %s at LSN %X/%X exceeds %zu bytes", subject,
                    (uint32)(g_event.lsn >> 32), (uint32)g_event.lsn, g_event.limit),
             column ? errdetail("Column %.*s makes it at least %zu bytes (event.max.bytes, at "
                                "most 1 GB: what PostgreSQL can send as one message).",
                                column_len - 1, column, event_bytes)
                    : errdetail("It is at least %zu bytes (event.max.bytes, at most 1 GB: what "
                                "PostgreSQL can send as one message).",
                                event_bytes),
             g_event.table ? errhint("The slot cannot move past this change: leave the column out "
                                     "with column.exclude.list, or the table with "
                                     "table.exclude.list, or raise event.max.bytes.")
                           : errhint("The slot cannot move past this message: leave its prefix "
                                     "out with message.prefix.exclude.list, or raise "
                                     "event.max.bytes.")));
}
