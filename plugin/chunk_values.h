// Text values built back to back in one buffer that the session keeps from call to call,
// for a set-returning function that builds all its values before returning the first
// (walcast.snapshot_key_range()). Each call reuses the memory of the call before: values
// allocated and freed again for every call cost fresh pages from the kernel each time
// (the allocator gives large freed blocks back), a fifth of an incremental snapshot
// reader's time. A call that starts while another's values are still being returned (two
// such calls in one query) builds its values in memory of its own.
#pragma once

#include "pg.h"

struct ChunkValues {
    StringInfo buf;  // the session's buffer, or one of this call's
    bool shared;     // buf is the session's, held until chunk_values_release()
    int start;       // offset of the value being built (its varlena header)
    List *offsets;   // offsets of the finished values, in order
    MemoryContext own;
};

// Starts the values of one call; `own` is where a buffer of its own goes when the
// session's is taken (a multi-call memory context).
void chunk_values_begin(ChunkValues *cv, MemoryContext own);
// Where the value being built is written.
inline StringInfo chunk_values_out(ChunkValues *cv) { return cv->buf; }
// Bytes in the value being built.
inline int chunk_values_pending(const ChunkValues *cv) {
    return cv->buf->len - cv->start - VARHDRSZ;
}
// Ends the value being built (none when it is empty) and starts the next.
void chunk_values_flush(ChunkValues *cv);
inline int chunk_values_count(const ChunkValues *cv) { return list_length(cv->offsets); }
// The i-th finished value, valid until chunk_values_release().
Datum chunk_values_get(const ChunkValues *cv, int i);
// The values are no longer used: the session's buffer is free for the next call. Also
// safe to call twice; a transaction's end frees the buffer of a call that never got here.
void chunk_values_release(ChunkValues *cv);
