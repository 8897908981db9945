// Text-like values, uuid, jsonb, hstore, point and the text-output fallback.
#include "types_internal.h"

#include "java_hashmap.h"

#include <algorithm>

extern "C" {
#include "utils/geo_decls.h"
#include "utils/jsonb.h"
}

// text, varchar, bpchar (with its padding), citext, json: the stored bytes are exactly what
// the output function would print, so no output-function round trip.
void write_text(StringInfo out, Datum value) {
    struct varlena *v = pg_detoast_datum_packed((struct varlena *)DatumGetPointer(value));
    json_write_string(out, VARDATA_ANY(v), (int)VARSIZE_ANY_EXHDR(v));
}

// uuid: io.debezium.data.Uuid, the canonical lowercase text.
void write_uuid(StringInfo out, Datum value) {
    static const char hex[] = "0123456789abcdef";
    const pg_uuid_t *u = DatumGetUUIDP(value);
    char buf[38];
    int p = 0;
    buf[p++] = '"';
    for (int i = 0; i < UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) buf[p++] = '-';
        buf[p++] = hex[u->data[i] >> 4];
        buf[p++] = hex[u->data[i] & 15];
    }
    buf[p++] = '"';
    json_append(out, buf, p);
}

// jsonb: io.debezium.data.Json, the text jsonb_out prints ({"a": 1}), as a string.
void write_jsonb(StringInfo out, Datum value) {
    Jsonb *jb = DatumGetJsonbP(value);
    char *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
    json_write_cstring(out, text);
}

// Everything else: the type's text output as a string (enum labels, inet, cidr, macaddr,
// macaddr8, xml, ltree, ranges, tsvector, geometric types other than point, composite and
// unknown types).
void write_text_output(StringInfo out, const TypeEncoder *enc, Datum value) {
    char *text = OutputFunctionCall(const_cast<FmgrInfo *>(&enc->output), value);
    json_write_cstring(out, text);
}

// point: io.debezium.data.geometry.Point {"x":..,"y":..,"wkb":"<base64>","srid":null}; the
// WKB is a little-endian 2D point (byte order 1, type 1, x, y: 21 bytes).
void write_point(StringInfo out, Datum value) {
    Point *pt = DatumGetPointP(value);
    unsigned char wkb[21];
    wkb[0] = 1;
    wkb[1] = 1;
    wkb[2] = wkb[3] = wkb[4] = 0;
    uint64 bits[2];
    memcpy(&bits[0], &pt->x, sizeof(double));
    memcpy(&bits[1], &pt->y, sizeof(double));
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 8; i++) wkb[5 + c * 8 + i] = (unsigned char)(bits[c] >> (8 * i));
    JSON_LITERAL(out, "{\"x\":");
    json_write_java_double(out, pt->x);
    JSON_LITERAL(out, ",\"y\":");
    json_write_java_double(out, pt->y);
    JSON_LITERAL(out, ",\"wkb\":");
    json_write_base64(out, wkb, sizeof(wkb), false);
    JSON_LITERAL(out, ",\"srid\":null}");
}

// ---------------------------------------------------------------------------------------
// hstore. Debezium parses the text form with pgjdbc's HStoreConverter.fromString into a
// java.util.HashMap and then writes the map's entries in HashMap iteration order: as a JSON
// document inside a string (hstore.handling.mode=json, via Jackson) or as a Connect map,
// i.e. an embedded JSON object (map). NULL values are JSON null in both. walcast emits
// the entries in the same HashMap order (bucket of String.hashCode, then insertion order),
// so the text matches byte for byte.

namespace {

struct HstoreEntry {
    char *key;
    int key_len;
    char *val;  // nullptr for NULL
    int val_len;
    uint32 bucket_hash;
    int order;
};

// Reads one "..." token of hstore_out's text (backslash escapes " and \), unescaped in place.
const char *read_quoted(const char *p, char **start, int *len) {
    if (*p != '"') elog(ERROR, "walcast: unexpected hstore text near \"%s\"", p);
    p++;
    char *w = const_cast<char *>(p);
    *start = w;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1]) p++;
        *w++ = *p++;
    }
    if (*p != '"') elog(ERROR, "walcast: unterminated hstore text");
    *len = (int)(w - *start);
    return p + 1;
}

int parse_hstore(char *text, HstoreEntry **entries_out) {
    int cap = 8, n = 0;
    HstoreEntry *entries = (HstoreEntry *)palloc(sizeof(HstoreEntry) * cap);
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (n == cap) {
            cap *= 2;
            entries = (HstoreEntry *)repalloc(entries, sizeof(HstoreEntry) * cap);
        }
        HstoreEntry *e = &entries[n];
        p = read_quoted(p, &e->key, &e->key_len);
        if (p[0] != '=' || p[1] != '>') elog(ERROR, "walcast: unexpected hstore text");
        p += 2;
        if (strncmp(p, "NULL", 4) == 0) {
            e->val = nullptr;
            e->val_len = 0;
            p += 4;
        } else {
            p = read_quoted(p, &e->val, &e->val_len);
        }
        e->bucket_hash = java_hashmap_hash(e->key, e->key_len);
        e->order = n;
        n++;
    }
    uint32 table = java_hashmap_capacity(n);
    std::stable_sort(entries, entries + n, [table](const HstoreEntry &a, const HstoreEntry &b) {
        return java_hashmap_bucket(a.bucket_hash, table) <
               java_hashmap_bucket(b.bucket_hash, table);
    });
    *entries_out = entries;
    return n;
}

// embedded: the object goes inside a JSON string (hstore.handling.mode=json), where
// characters outside the BMP stay as they are until the outer string escapes them.
void append_hstore_object(StringInfo out, const HstoreEntry *entries, int n, bool embedded) {
    appendStringInfoCharMacro(out, '{');
    for (int i = 0; i < n; i++) {
        if (i > 0) appendStringInfoCharMacro(out, ',');
        json_write_string_ex(out, entries[i].key, entries[i].key_len, !embedded);
        appendStringInfoCharMacro(out, ':');
        if (entries[i].val)
            json_write_string_ex(out, entries[i].val, entries[i].val_len, !embedded);
        else
            JSON_LITERAL(out, "null");
    }
    appendStringInfoCharMacro(out, '}');
}

void write_hstore_entries(StringInfo out, const HstoreEntry *entries, int n,
                          const WalcastOptions *opts) {
    if (opts->hstore_mode == HstoreMode::Map) {
        append_hstore_object(out, entries, n, false);
        return;
    }
    StringInfoData doc;
    initStringInfo(&doc);
    append_hstore_object(&doc, entries, n, true);
    json_write_string(out, doc.data, doc.len);
    pfree(doc.data);
}

}  // namespace

void write_hstore(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts) {
    char *text = OutputFunctionCall(const_cast<FmgrInfo *>(&enc->output), value);
    HstoreEntry *entries;
    int n = parse_hstore(text, &entries);
    write_hstore_entries(out, entries, n, opts);
    pfree(entries);
}

// Debezium's unchanged-TOAST hstore: the map {placeholder: placeholder}.
void write_hstore_unavailable(StringInfo out, const WalcastOptions *opts) {
    HstoreEntry e;
    e.key = e.val = const_cast<char *>(opts->unavailable_placeholder);
    e.key_len = e.val_len = opts->unavailable_placeholder_len;
    e.bucket_hash = 0;
    e.order = 0;
    write_hstore_entries(out, &e, 1, opts);
}
