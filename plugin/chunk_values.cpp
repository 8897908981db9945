#include "chunk_values.h"

namespace {

// Larger than this, the session's buffer is given back at the end of a transaction
// rather than kept (a chunk of huge rows should not pin its memory for the session).
constexpr int kKeepBytes = 16 * 1024 * 1024;

StringInfo session_buffer = nullptr;
bool session_buffer_taken = false;
bool callback_registered = false;

// The values of a call that ended with its transaction (an error, or a query that
// stopped reading them) are no longer referenced: the buffer is free again.
void release_at_transaction_end(XactEvent event, void *) {
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
        event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT &&
        event != XACT_EVENT_PREPARE)
        return;
    session_buffer_taken = false;
    if (session_buffer != nullptr && session_buffer->maxlen > kKeepBytes) {
        pfree(session_buffer->data);
        pfree(session_buffer);
        session_buffer = nullptr;
    }
}

// Values start at aligned offsets: a varlena's header is read as a 4-byte word.
void start_value(ChunkValues *cv) {
    while (cv->buf->len % MAXIMUM_ALIGNOF != 0) appendStringInfoCharMacro(cv->buf, '\0');
    cv->start = cv->buf->len;
    appendStringInfoSpaces(cv->buf, VARHDRSZ);
}

}  // namespace

void chunk_values_begin(ChunkValues *cv, MemoryContext own) {
    cv->offsets = NIL;
    cv->own = own;
    if (!callback_registered) {
        RegisterXactCallback(release_at_transaction_end, nullptr);
        callback_registered = true;
    }
    if (!session_buffer_taken) {
        if (session_buffer == nullptr) {
            MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
            session_buffer = makeStringInfo();
            MemoryContextSwitchTo(old);
        }
        resetStringInfo(session_buffer);
        session_buffer_taken = true;
        cv->buf = session_buffer;
        cv->shared = true;
    } else {
        MemoryContext old = MemoryContextSwitchTo(own);
        cv->buf = makeStringInfo();
        MemoryContextSwitchTo(old);
        cv->shared = false;
    }
    start_value(cv);
}

void chunk_values_flush(ChunkValues *cv) {
    const int len = cv->buf->len - cv->start;
    if (len == VARHDRSZ) return;
    SET_VARSIZE(cv->buf->data + cv->start, len);
    MemoryContext old = MemoryContextSwitchTo(cv->own);
    cv->offsets = lappend_int(cv->offsets, cv->start);
    MemoryContextSwitchTo(old);
    start_value(cv);
}

Datum chunk_values_get(const ChunkValues *cv, int i) {
    return PointerGetDatum(cv->buf->data + list_nth_int(cv->offsets, i));
}

void chunk_values_release(ChunkValues *cv) {
    if (cv->shared && cv->buf == session_buffer) session_buffer_taken = false;
    cv->shared = false;
}
