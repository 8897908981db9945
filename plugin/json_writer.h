// Appending JSON fragments to a StringInfo: the one output buffer of an event.
#pragma once

#include "pg.h"

// Writes text as a JSON string literal, quotes included, escaped as Kafka Connect's JSON
// writer (Jackson) escapes: \" \\ \b \f \n \r \t, other control characters as \u00XX,
// and characters outside the BMP as a surrogate pair (\uD83D\uDE00) unless
// escape_supplementary is false (a JSON document built to be embedded in a string, as
// Jackson's character-based writer builds it).
void json_write_string_ex(StringInfo out, const char *text, int len, bool escape_supplementary);

inline void json_write_string(StringInfo out, const char *text, int len) {
    json_write_string_ex(out, text, len, true);
}

inline void json_write_cstring(StringInfo out, const char *text) {
    json_write_string(out, text, (int)strlen(text));
}

// The bytes json_write_string would append for text, quotes included.
Size json_string_length(const char *text, Size len);

void json_write_int64(StringInfo out, int64 value);
void json_write_uint64(StringInfo out, uint64 value);

// A JSON string holding base64 (RFC 4648), optionally the URL-safe alphabet.
void json_write_base64(StringInfo out, const unsigned char *data, int len, bool url_safe);

// A JSON string holding lowercase hex.
void json_write_hex(StringInfo out, const unsigned char *data, int len);

// appendBinaryStringInfo, inlined: events are built from many short pieces, and an
// out-of-line call with its own bounds check per piece showed up in profiles.
inline void json_append(StringInfo out, const char *data, int len) {
    if (unlikely(out->maxlen - out->len <= len)) enlargeStringInfo(out, len);
    memcpy(out->data + out->len, data, len);
    out->len += len;
    out->data[out->len] = '\0';
}

#define JSON_LITERAL(out, lit) json_append((out), (lit), (int)sizeof(lit) - 1)
