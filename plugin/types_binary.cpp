// bytea (binary.handling.mode) and bit strings.
#include "types_internal.h"

extern "C" {
#include "utils/varbit.h"
}

// binary.handling.mode (Debezium BinaryHandlingMode): bytes (default) is Connect BYTES,
// which JsonConverter writes as standard base64; base64 the same text; base64-url-safe
// java.util.Base64.getUrlEncoder() (with padding); hex lowercase (HexConverter).
void write_binary(StringInfo out, const unsigned char *data, int len, BinaryMode mode) {
    switch (mode) {
        case BinaryMode::Bytes:
        case BinaryMode::Base64:
            json_write_base64(out, data, len, false);
            break;
        case BinaryMode::Base64UrlSafe:
            json_write_base64(out, data, len, true);
            break;
        case BinaryMode::Hex:
            json_write_hex(out, data, len);
            break;
    }
}

void write_bytea(StringInfo out, Datum value, const WalcastOptions *opts) {
    struct varlena *v = pg_detoast_datum_packed((struct varlena *)DatumGetPointer(value));
    write_binary(out, (const unsigned char *)VARDATA_ANY(v), (int)VARSIZE_ANY_EXHDR(v),
                 opts->binary_mode);
}

// bit(1) and varbit(1): boolean (Debezium: column length 1 -> BOOLEAN).
// bit(n > 1), varbit(n), varbit: io.debezium.data.Bits, bytes base64. Debezium reads the
// bit string as a binary number (first bit most significant), puts it in a BitSet and
// takes BitSet.toByteArray(): little-endian bytes, only as many as the highest set bit
// needs (B'101' -> [0x05] "BQ==", B'0000000100000011' -> [0x03,0x01] "AwE=", all zeros ->
// no bytes, ""), whatever the declared length.
void write_bits(StringInfo out, const TypeEncoder *enc, Datum value) {
    VarBit *bits = DatumGetVarBitP(value);
    int nbits = VARBITLEN(bits);
    const unsigned char *data = VARBITS(bits);
    if (enc->typmod == 1) {
        bool set = nbits > 0 && (data[0] & 0x80);
        if (set)
            JSON_LITERAL(out, "true");
        else
            JSON_LITERAL(out, "false");
        return;
    }
    int nbytes = (nbits + 7) / 8;
    unsigned char *le = (unsigned char *)palloc0(nbytes > 0 ? nbytes : 1);
    int used = 0;
    for (int i = 0; i < nbits; i++) {
        if (!(data[i / 8] & (0x80 >> (i % 8)))) continue;
        int k = nbits - 1 - i;  // weight of bit i in the number
        le[k / 8] |= (unsigned char)(1 << (k % 8));
        if (k / 8 + 1 > used) used = k / 8 + 1;
    }
    json_write_base64(out, le, used, false);
    pfree(le);
}
