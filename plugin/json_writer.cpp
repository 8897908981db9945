#include "json_writer.h"

namespace {

// Bytes that need a look in a JSON string: control characters, quote and backslash, and
// the lead bytes of 4-byte UTF-8 sequences (characters outside the BMP), which Kafka
// Connect's JSON writer (Jackson's UTF8JsonGenerator) escapes as a surrogate pair.
struct EscapeTable {
    bool needs[256];
    constexpr EscapeTable() : needs() {
        for (int c = 0; c < 0x20; c++) needs[c] = true;
        needs[(unsigned char)'"'] = true;
        needs[(unsigned char)'\\'] = true;
        for (int c = 0xF0; c <= 0xF7; c++) needs[c] = true;
    }
};
constexpr EscapeTable kEscape;

const char kHexDigits[] = "0123456789abcdef";
const char kEscapeHexDigits[] = "0123456789ABCDEF";  // Jackson's \uXXXX digits

// True when any of the 8 bytes is a control character, '"', '\\' or a 4-byte sequence's
// lead byte (bit tricks on a whole word: most text has nothing to escape and is skipped 8
// bytes at a time).
inline bool word_needs_escape(uint64 w) {
    const uint64 ones = UINT64CONST(0x0101010101010101);
    const uint64 quote = w ^ (ones * '"');
    const uint64 backslash = w ^ (ones * '\\');
    const uint64 hits = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                        ((backslash - ones) & ~backslash) | (w & (w << 1) & (w << 2) & (w << 3));
    return (hits & (ones * 0x80)) != 0;
}

void write_u_escape(StringInfo out, uint32 unit) {
    char esc[6] = {'\\',
                   'u',
                   kEscapeHexDigits[(unit >> 12) & 15],
                   kEscapeHexDigits[(unit >> 8) & 15],
                   kEscapeHexDigits[(unit >> 4) & 15],
                   kEscapeHexDigits[unit & 15]};
    json_append(out, esc, 6);
}

void write_escape(StringInfo out, unsigned char c) {
    switch (c) {
        case '"':
            JSON_LITERAL(out, "\\\"");
            break;
        case '\\':
            JSON_LITERAL(out, "\\\\");
            break;
        case '\n':
            JSON_LITERAL(out, "\\n");
            break;
        case '\r':
            JSON_LITERAL(out, "\\r");
            break;
        case '\t':
            JSON_LITERAL(out, "\\t");
            break;
        case '\b':
            JSON_LITERAL(out, "\\b");
            break;
        case '\f':
            JSON_LITERAL(out, "\\f");
            break;
        default:
            write_u_escape(out, c);
    }
}

}  // namespace

Size json_string_length(const char *text, Size len) {
    Size total = len + 2;
    for (Size i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (likely(!kEscape.needs[c])) continue;
        if (c >= 0xF0) {  // 4 bytes become two \uXXXX escapes
            total += 8;
            continue;
        }
        bool short_escape =
            c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f';
        total += short_escape ? 1 : 5;
    }
    return total;
}

void json_write_string_ex(StringInfo out, const char *text, int len, bool escape_supplementary) {
    enlargeStringInfo(out, len + 2);
    out->data[out->len++] = '"';
    int run_start = 0;
    int i = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64 word;
            memcpy(&word, text + i, 8);
            if (!word_needs_escape(word)) {
                i += 8;
                continue;
            }
        }
        for (int stop = Min(i + 8, len); i < stop; i++) {
            unsigned char c = (unsigned char)text[i];
            if (likely(!kEscape.needs[c])) continue;
            if (c >= 0xF0) {
                if (!escape_supplementary || i + 3 >= len) continue;
                uint32 cp = ((uint32)(c & 0x07) << 18) | ((uint32)(text[i + 1] & 0x3F) << 12) |
                            ((uint32)(text[i + 2] & 0x3F) << 6) | (uint32)(text[i + 3] & 0x3F);
                if (i > run_start) json_append(out, text + run_start, i - run_start);
                cp -= 0x10000;
                write_u_escape(out, 0xD800 + (cp >> 10));
                write_u_escape(out, 0xDC00 + (cp & 0x3FF));
                i += 3;
                run_start = i + 1;
                continue;
            }
            if (i > run_start) json_append(out, text + run_start, i - run_start);
            run_start = i + 1;
            write_escape(out, c);
        }
    }
    if (len > run_start) json_append(out, text + run_start, len - run_start);
    appendStringInfoCharMacro(out, '"');
}

void json_write_int64(StringInfo out, int64 value) {
    enlargeStringInfo(out, 21);
    out->len += pg_lltoa(value, out->data + out->len);
}

void json_write_uint64(StringInfo out, uint64 value) {
    enlargeStringInfo(out, 21);
    out->len += pg_ulltoa_n(value, out->data + out->len);
    out->data[out->len] = '\0';
}

void json_write_base64(StringInfo out, const unsigned char *data, int len, bool url_safe) {
    static const char std_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char url_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *alphabet = url_safe ? url_alphabet : std_alphabet;
    enlargeStringInfo(out, (len + 2) / 3 * 4 + 2);
    char *p = out->data + out->len;
    *p++ = '"';
    int i = 0;
    for (; i + 2 < len; i += 3) {
        uint32 v = ((uint32)data[i] << 16) | ((uint32)data[i + 1] << 8) | data[i + 2];
        *p++ = alphabet[(v >> 18) & 63];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63];
        *p++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32 v = (uint32)data[i] << 16;
        if (i + 1 < len) v |= (uint32)data[i + 1] << 8;
        *p++ = alphabet[(v >> 18) & 63];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = (i + 1 < len) ? alphabet[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p++ = '"';
    out->len = (int)(p - out->data);
    out->data[out->len] = '\0';
}

void json_write_hex(StringInfo out, const unsigned char *data, int len) {
    enlargeStringInfo(out, len * 2 + 2);
    char *p = out->data + out->len;
    *p++ = '"';
    for (int i = 0; i < len; i++) {
        *p++ = kHexDigits[data[i] >> 4];
        *p++ = kHexDigits[data[i] & 15];
    }
    *p++ = '"';
    out->len = (int)(p - out->data);
    out->data[out->len] = '\0';
}
