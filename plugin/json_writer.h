// Appending JSON fragments to a StringInfo: the one output buffer of an event.
#pragma once

#include "pg.h"

// Writes text as a JSON string literal, quotes included.
void json_write_string(StringInfo out, const char *text, int len);

inline void json_write_cstring(StringInfo out, const char *text) {
    json_write_string(out, text, (int)strlen(text));
}

void json_write_int64(StringInfo out, int64 value);
void json_write_uint64(StringInfo out, uint64 value);

// A JSON string holding base64 (RFC 4648), optionally the URL-safe alphabet.
void json_write_base64(StringInfo out, const unsigned char *data, int len, bool url_safe);

// A JSON string holding lowercase hex.
void json_write_hex(StringInfo out, const unsigned char *data, int len);

inline void json_write_raw(StringInfo out, const char *raw, int len) {
    appendBinaryStringInfo(out, raw, len);
}

#define JSON_LITERAL(out, lit) appendBinaryStringInfo((out), (lit), (int)sizeof(lit) - 1)
