// Numbers: Java-style double/float text, numeric (decimal.handling.mode), money.
#include "types_internal.h"

extern "C" {
#include "common/shortest_dec.h"
#include "utils/cash.h"
}

#include <cmath>
#include <cstdlib>

namespace {

// ---------------------------------------------------------------------------------------
// Java's Double.toString / Float.toString from the shortest round-trip digits.

// Splits PG's shortest form ("1e+10", "-1.5e-05", "123.456", "0") into significant digits
// (no leading or trailing zeros) and the exponent of the first one: value = d0.d1d2 x 10^exp.
int split_shortest(const char *s, int n, char *digits, int *exp10, bool *negative) {
    int i = 0, nd = 0, dot = -1, mantissa_digits = 0;
    *negative = false;
    if (i < n && s[i] == '-') {
        *negative = true;
        i++;
    }
    int leading_zeros = 0;
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            dot = mantissa_digits;
            continue;
        }
        mantissa_digits++;
        if (nd == 0 && s[i] == '0') {
            leading_zeros++;
            continue;
        }
        digits[nd++] = s[i];
    }
    // The exponent, read within n: the shortest-decimal buffers are not NUL-terminated.
    int e = 0;
    bool e_negative = false;
    for (i++; i < n; i++) {
        if (s[i] == '-')
            e_negative = true;
        else if (s[i] >= '0' && s[i] <= '9')
            e = e * 10 + (s[i] - '0');
    }
    if (e_negative) e = -e;
    while (nd > 0 && digits[nd - 1] == '0') nd--;
    if (dot < 0) dot = mantissa_digits;
    // value = 0.<all mantissa digits> x 10^dot; dropping leading zeros shifts the point.
    *exp10 = dot - leading_zeros + e - 1;
    return nd;
}

// Java (19 and later) prints at least two significant digits and, where the shortest
// round-trip form has one, the two-digit decimal closest to the exact value: 4.9E-324 for
// Double.MIN_VALUE, 9.9E-324 for twice it. Only subnormals can have a closer two-digit
// form than d.0; for them the candidate is kept when it reads back as the same number.
template <typename T>
bool reads_back(long r, int exp10, T value) {
    char text[32];
    snprintf(text, sizeof(text), "%ld.%lde%d", r / 10, r % 10, exp10);
    T back = sizeof(T) == sizeof(float) ? (T)strtof(text, nullptr) : (T)strtod(text, nullptr);
    return back == std::fabs(value);
}

// The candidates are d.d at the shortest form's exponent x and at x - 1 (9.9E-324 for a
// shortest 1E-323); the closer one that reads back wins.
template <typename T>
void refine_single_digit(T value, char *digits, int *nd, int *x) {
    if (*nd != 1 || std::fpclassify(value) != FP_SUBNORMAL) return;
    long double t = std::fabs((long double)value) * powl(10.0L, (long double)(1 - *x));
    long at_x = lroundl(t), below = lroundl(t * 10);
    long double err_x = fabsl(t - at_x), err_below = fabsl(t * 10 - below) / 10;
    long r;
    int e;
    if (below >= 10 && below <= 99 && err_below < err_x && reads_back(below, *x - 1, value)) {
        r = below;
        e = *x - 1;
    } else if (at_x >= 10 && at_x <= 99 && reads_back(at_x, *x, value)) {
        r = at_x;
        e = *x;
    } else {
        return;
    }
    digits[0] = (char)('0' + r / 10);
    digits[1] = (char)('0' + r % 10);
    *nd = r % 10 == 0 ? 1 : 2;
    *x = e;
}

// PostgreSQL's shortest form is not always the shortest Java finds: it prints whole
// numbers below 10^15 (10^7 for real) in full ("39363568" for the real 3.936357E7), and it
// does not take a decimal on the boundary of the number's rounding interval, which Java
// does (2.8781610130191448E16 where Java prints 2.878161013019145E16). So drop digits while
// the correctly rounded shorter decimal (glibc's %e) still reads back as the same number.
//
// Both happen only where the spacing of the numbers is 1 or more (from 2^52 for double,
// 2^23 for real): below it no decimal with fewer digits lies on or inside the interval
// (an interval boundary there has a longer exact expansion), so the check, which costs an
// snprintf and a strtod, is skipped.
template <typename T>
void shorten_like_java(T value, char *digits, int *nd, int *x) {
    const T threshold = sizeof(T) == sizeof(float) ? (T)8388608.0 : (T)4503599627370496.0;
    if (!(std::fabs(value) >= threshold)) return;
    while (*nd > 2) {
        char text[48];
        int k = *nd - 1;
        snprintf(text, sizeof(text), "%.*e", k - 1, std::fabs((double)value));
        T back = sizeof(T) == sizeof(float) ? (T)strtof(text, nullptr) : (T)strtod(text, nullptr);
        if (back != std::fabs(value)) return;
        // text is d.ddd...e<exp>: k digits.
        int n = 0;
        for (const char *p = text; *p && *p != 'e'; p++)
            if (*p != '.') digits[n++] = *p;
        *x = atoi(strchr(text, 'e') + 1);
        while (n > 1 && digits[n - 1] == '0') n--;
        *nd = n;
    }
}

template <typename T>
void append_java_number(StringInfo out, T value, const char *shortest, int len) {
    char digits[32];
    int x;
    bool negative;
    int nd = split_shortest(shortest, len, digits, &x, &negative);
    shorten_like_java(value, digits, &nd, &x);
    refine_single_digit(value, digits, &nd, &x);
    if (negative) appendStringInfoCharMacro(out, '-');
    if (nd == 0) {
        JSON_LITERAL(out, "0.0");
        return;
    }
    if (x >= -3 && x < 7) {
        if (x >= 0) {
            for (int i = 0; i <= x; i++) appendStringInfoCharMacro(out, i < nd ? digits[i] : '0');
            appendStringInfoCharMacro(out, '.');
            if (nd > x + 1)
                json_append(out, digits + x + 1, nd - x - 1);
            else
                appendStringInfoCharMacro(out, '0');
        } else {
            JSON_LITERAL(out, "0.");
            for (int i = 0; i < -x - 1; i++) appendStringInfoCharMacro(out, '0');
            json_append(out, digits, nd);
        }
    } else {
        appendStringInfoCharMacro(out, digits[0]);
        appendStringInfoCharMacro(out, '.');
        if (nd > 1)
            json_append(out, digits + 1, nd - 1);
        else
            appendStringInfoCharMacro(out, '0');
        appendStringInfo(out, "E%d", x);
    }
}

bool write_special(StringInfo out, double value) {
    const char *text = nullptr;
    if (std::isnan(value))
        text = "NaN";
    else if (std::isinf(value))
        text = value > 0 ? "Infinity" : "-Infinity";
    if (text == nullptr) return false;
    json_write_cstring(out, text);
    return true;
}

// ---------------------------------------------------------------------------------------
// numeric, read from its on-disk form (stable across versions: pg_upgrade keeps it), see
// src/backend/utils/adt/numeric.c. A value is sign, weight (of the first base-10000 digit),
// display scale and base-10000 digits.

constexpr uint16 kSignMask = 0xC000;
constexpr uint16 kNeg = 0x4000;
constexpr uint16 kShort = 0x8000;
constexpr uint16 kSpecial = 0xC000;
constexpr uint16 kNaN = 0xC000;
constexpr uint16 kPinf = 0xD000;
constexpr uint16 kShortSignMask = 0x2000;
constexpr uint16 kShortDscaleMask = 0x1F80;
constexpr int kShortDscaleShift = 7;
constexpr uint16 kShortWeightSignMask = 0x0040;
constexpr uint16 kShortWeightMask = 0x003F;
constexpr uint16 kDscaleMask = 0x3FFF;

enum class NumKind { Finite, NaN, PosInf, NegInf };

struct NumericValue {
    NumKind kind;
    bool negative;
    int weight;
    int dscale;
    int ndigits;
    const char *digits;  // int16 base-10000 digits, possibly unaligned
};

NumericValue numeric_read(Datum value) {
    struct varlena *v = pg_detoast_datum_packed((struct varlena *)DatumGetPointer(value));
    const char *p = VARDATA_ANY(v);
    int len = (int)VARSIZE_ANY_EXHDR(v);
    NumericValue nv = {NumKind::Finite, false, 0, 0, 0, nullptr};
    uint16 header;
    memcpy(&header, p, sizeof(header));
    if ((header & kSignMask) == kSpecial) {
        nv.kind =
            header == kNaN ? NumKind::NaN : (header == kPinf ? NumKind::PosInf : NumKind::NegInf);
        return nv;
    }
    if ((header & kSignMask) == kShort) {
        nv.negative = (header & kShortSignMask) != 0;
        nv.dscale = (header & kShortDscaleMask) >> kShortDscaleShift;
        nv.weight = (header & kShortWeightSignMask ? ~(int)kShortWeightMask : 0) |
                    (header & kShortWeightMask);
        nv.digits = p + sizeof(uint16);
        nv.ndigits = (len - (int)sizeof(uint16)) / (int)sizeof(int16);
    } else {
        int16 weight;
        memcpy(&weight, p + sizeof(uint16), sizeof(weight));
        nv.negative = (header & kSignMask) == kNeg;
        nv.dscale = header & kDscaleMask;
        nv.weight = weight;
        nv.digits = p + 2 * sizeof(uint16);
        nv.ndigits = (len - 2 * (int)sizeof(uint16)) / (int)sizeof(int16);
    }
    return nv;
}

inline int floor_div4(int e) { return e >= 0 ? e / 4 : -((-e + 3) / 4); }

// Decimal digits of |value| x 10^scale, truncated to an integer, without leading zeros
// ("0" for zero). Digits beyond the scale cannot occur for values of a column constrained
// to that scale.
int numeric_unscaled_digits(const NumericValue &nv, int scale, StringInfo digits) {
    static const int pow10[4] = {1, 10, 100, 1000};
    resetStringInfo(digits);
    int hi = nv.ndigits > 0 ? 4 * nv.weight + 3 : 0;
    if (hi < 0) hi = 0;
    int lo = -scale;
    for (int e = hi; e >= lo; e--) {
        int i = nv.weight - floor_div4(e);
        int d = 0;
        if (i >= 0 && i < nv.ndigits) {
            int16 group;
            memcpy(&group, nv.digits + i * sizeof(int16), sizeof(group));
            int pos = e - 4 * floor_div4(e);
            d = (group / pow10[pos]) % 10;
        }
        if (d == 0 && digits->len == 0) continue;  // leading zero
        appendStringInfoCharMacro(digits, (char)('0' + d));
    }
    if (digits->len == 0) appendStringInfoCharMacro(digits, '0');
    return digits->len;
}

// |value| x 10^scale truncated to an integer, when it fits in 18 digits (almost every
// real column): skips the decimal-digit and limb arithmetic of the general path.
bool unscaled_small(const NumericValue &nv, int scale, uint64 *result) {
    if (scale < 0 || Max(4 * (nv.weight + 1), 0) + scale > 18) return false;
    static const uint64 pow10[] = {1,
                                   10,
                                   100,
                                   1000,
                                   10000,
                                   100000,
                                   1000000,
                                   10000000,
                                   100000000,
                                   1000000000,
                                   UINT64CONST(10000000000),
                                   UINT64CONST(100000000000),
                                   UINT64CONST(1000000000000),
                                   UINT64CONST(10000000000000),
                                   UINT64CONST(100000000000000)};
    uint64 u = 0;
    for (int i = 0; i < nv.ndigits; i++) {
        int16 group;
        memcpy(&group, nv.digits + i * sizeof(int16), sizeof(group));
        // The power of ten of the group's last digit in the unscaled value (<= 14 here).
        int e = 4 * (nv.weight - i) + scale;
        if (e >= 0)
            u += (uint64)group * pow10[e];
        else if (e > -4)
            u += (uint64)group / pow10[-e];  // digits beyond the scale are dropped
    }
    *result = u;
    return true;
}

// Decimal / VariableScaleDecimal of a value whose unscaled form fits in an int64.
void write_precise_small(StringInfo out, bool negative, uint64 unscaled, int scale,
                         bool constrained) {
    if (!constrained) {
        while (scale > 0 && unscaled % 10 == 0) {
            unscaled /= 10;
            scale--;
        }
        appendStringInfo(out, "{\"scale\":%d,\"value\":", scale);
    }
    uint64 v = negative ? (uint64)(-(int64)unscaled) : unscaled;
    unsigned char b[8];
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (56 - 8 * k));
    int start = 0;
    while (start < 7 && ((b[start] == 0x00 && !(b[start + 1] & 0x80)) ||
                         (b[start] == 0xFF && (b[start + 1] & 0x80))))
        start++;
    json_write_base64(out, b + start, 8 - start, false);
    if (!constrained) appendStringInfoCharMacro(out, '}');
}

// Big-endian two's-complement bytes of the integer with the given decimal digits, minimal
// length as Java's BigInteger.toByteArray() (what Kafka Connect's Decimal stores).
void twos_complement_bytes(const char *digits, int ndigits, bool negative, StringInfo bytes) {
    // Magnitude in base 2^32 limbs, little-endian.
    int max_limbs = ndigits / 9 + 2;
    uint32 *limbs = (uint32 *)palloc0(sizeof(uint32) * max_limbs);
    int nlimbs = 0;
    for (int i = 0; i < ndigits;) {
        int chunk = Min(9, ndigits - i);
        uint32 mul = 1, add = 0;
        for (int k = 0; k < chunk; k++, i++) {
            mul *= 10;
            add = add * 10 + (uint32)(digits[i] - '0');
        }
        uint64 carry = add;
        for (int l = 0; l < nlimbs; l++) {
            uint64 t = (uint64)limbs[l] * mul + carry;
            limbs[l] = (uint32)t;
            carry = t >> 32;
        }
        if (carry) limbs[nlimbs++] = (uint32)carry;
    }
    // Big-endian magnitude with one spare leading byte for the sign.
    int nbytes = nlimbs * 4 + 1;
    unsigned char *b = (unsigned char *)palloc0(nbytes);
    for (int l = 0; l < nlimbs; l++)
        for (int k = 0; k < 4; k++)
            b[nbytes - 1 - (l * 4 + k)] = (unsigned char)(limbs[l] >> (8 * k));
    if (negative) {
        int carry = 1;
        for (int i = nbytes - 1; i >= 0; i--) {
            int t = (unsigned char)~b[i] + carry;
            b[i] = (unsigned char)t;
            carry = t >> 8;
        }
    }
    // Drop redundant sign bytes: 0x00 before a byte < 0x80, 0xFF before a byte >= 0x80.
    int start = 0;
    while (start < nbytes - 1 && ((b[start] == 0x00 && !(b[start + 1] & 0x80)) ||
                                  (b[start] == 0xFF && (b[start + 1] & 0x80))))
        start++;
    resetStringInfo(bytes);
    json_append(bytes, (const char *)b + start, nbytes - start);
    pfree(limbs);
    pfree(b);
}

// Java's BigDecimal.toPlainString() of (sign, unscaled digits, scale): what Debezium's
// decimal.handling.mode=string emits (SpecialValueDecimal.fromLogical) and what it makes
// of money. Never exponent notation: "0.00000000000000000001", "0E-8" as "0.00000000",
// a negative scale as trailing zeros.
void append_java_plain(StringInfo out, bool negative, const char *digits, int ndigits, int scale) {
    bool zero = ndigits == 1 && digits[0] == '0';
    if (negative && !zero) appendStringInfoCharMacro(out, '-');
    if (scale <= 0) {
        json_append(out, digits, ndigits);
        if (!zero)
            for (int i = 0; i < -scale; i++) appendStringInfoCharMacro(out, '0');
    } else if (ndigits > scale) {
        json_append(out, digits, ndigits - scale);
        appendStringInfoCharMacro(out, '.');
        json_append(out, digits + ndigits - scale, scale);
    } else {
        JSON_LITERAL(out, "0.");
        for (int i = 0; i < scale - ndigits; i++) appendStringInfoCharMacro(out, '0');
        json_append(out, digits, ndigits);
    }
}

void write_decimal_double(StringInfo out, bool negative, const char *digits, int ndigits,
                          int scale) {
    StringInfoData buf;
    initStringInfo(&buf);
    if (negative) appendStringInfoCharMacro(&buf, '-');
    json_append(&buf, digits, ndigits);
    appendStringInfo(&buf, "e%d", -scale);
    json_write_java_double(out, strtod(buf.data, nullptr));  // strtod rounds correctly
    pfree(buf.data);
}

int numeric_typmod_scale(int32 typmod) {
    // PG15+ allows negative scales; the 11-bit field is sign-extended.
    return ((((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024);
}

}  // namespace

void json_write_java_double(StringInfo out, double value) {
    if (write_special(out, value)) return;
    char buf[DOUBLE_SHORTEST_DECIMAL_LEN];
    int n = double_to_shortest_decimal_bufn(value, buf);
    append_java_number(out, value, buf, n);
}

void json_write_java_float(StringInfo out, float value) {
    if (write_special(out, value)) return;
    char buf[FLOAT_SHORTEST_DECIMAL_LEN];
    int n = float_to_shortest_decimal_bufn(value, buf);
    append_java_number(out, value, buf, n);
}

// numeric (Debezium PostgresValueConverter.convertDecimal, SpecialValueDecimal):
// - precise, numeric(p,s): Kafka Connect Decimal = base64 of the big-endian two's-complement
//   unscaled value at the column's scale (1234.11 in numeric(6,2) -> "AeIT").
// - precise, unconstrained numeric: io.debezium.data.VariableScaleDecimal
//   {"scale":N,"value":"<base64>"}, trailing zeros stripped first (stripTrailingZeros, a
//   negative scale clamped to 0): 1234.1100 -> {"scale":2,"value":"AeIT"}.
// - string: BigDecimal.toPlainString() of the value at the column's scale (the value's own
//   scale when unconstrained): "0.0000001", never E-notation.
// - double: the nearest double, Java text.
// NaN/Infinity: Debezium's string mode writes SpecialValueDecimal's enum names "NAN",
// "POSITIVE_INFINITY", "NEGATIVE_INFINITY"; double mode the doubles ("NaN", "Infinity",
// "-Infinity" as Jackson writes them). Precise mode cannot express them and Debezium fails
// the connector ("Got a special value (NaN/Infinity) for Decimal type ..."); walcast writes
// null instead, so one odd value does not stop the stream.
void write_numeric(StringInfo out, const TypeEncoder *enc, Datum value,
                   const WalcastOptions *opts) {
    NumericValue nv = numeric_read(value);
    if (nv.kind != NumKind::Finite) {
        switch (opts->decimal_mode) {
            case DecimalMode::String:
                if (nv.kind == NumKind::NaN)
                    JSON_LITERAL(out, "\"NAN\"");
                else if (nv.kind == NumKind::PosInf)
                    JSON_LITERAL(out, "\"POSITIVE_INFINITY\"");
                else
                    JSON_LITERAL(out, "\"NEGATIVE_INFINITY\"");
                break;
            case DecimalMode::Double:
                json_write_java_double(out, nv.kind == NumKind::NaN      ? NAN
                                            : nv.kind == NumKind::PosInf ? HUGE_VAL
                                                                         : -HUGE_VAL);
                break;
            case DecimalMode::Precise:
                JSON_LITERAL(out, "null");
                break;
        }
        return;
    }

    bool constrained = enc->typmod >= (int32)VARHDRSZ;
    int scale = constrained ? numeric_typmod_scale(enc->typmod) : nv.dscale;
    uint64 small;
    if (opts->decimal_mode == DecimalMode::Precise && unscaled_small(nv, scale, &small)) {
        write_precise_small(out, nv.negative && small != 0, small, scale, constrained);
        return;
    }
    StringInfoData digits;
    initStringInfo(&digits);
    int nd = numeric_unscaled_digits(nv, scale, &digits);
    bool negative = nv.negative && !(nd == 1 && digits.data[0] == '0');

    switch (opts->decimal_mode) {
        case DecimalMode::String: {
            // Built aside: json_write_string escapes nothing here, but keeps quoting in one place.
            StringInfoData text;
            initStringInfo(&text);
            append_java_plain(&text, negative, digits.data, nd, scale);
            json_write_string(out, text.data, text.len);
            pfree(text.data);
            break;
        }
        case DecimalMode::Double:
            write_decimal_double(out, negative, digits.data, nd, scale);
            break;
        case DecimalMode::Precise: {
            if (!constrained) {
                while (scale > 0 && nd > 1 && digits.data[nd - 1] == '0') {
                    nd--;
                    scale--;
                }
                if (nd == 1 && digits.data[0] == '0') scale = 0;
                appendStringInfo(out, "{\"scale\":%d,\"value\":", scale);
            }
            StringInfoData bytes;
            initStringInfo(&bytes);
            twos_complement_bytes(digits.data, nd, negative, &bytes);
            json_write_base64(out, (const unsigned char *)bytes.data, bytes.len, false);
            if (!constrained) appendStringInfoCharMacro(out, '}');
            pfree(bytes.data);
            break;
        }
    }
    pfree(digits.data);
}

// money (Debezium convertMoney, money.fraction.digits default 2): Debezium parses the text
// form into a BigDecimal at the scale of its fraction ("-$1,234.56" -> -1234.56), in
// streaming and snapshot alike. precise: Decimal(scale 2) bytes of the amount in cents;
// string: toPlainString ("1000.00", "-92233720368547758.08"); double: the nearest double
// (BigDecimal.doubleValue). walcast assumes the server's lc_monetary uses 2 fractional
// digits (C and most locales).
void write_money(StringInfo out, Datum value, const WalcastOptions *opts) {
    int64 cents = DatumGetCash(value);
    switch (opts->decimal_mode) {
        case DecimalMode::Double:
        case DecimalMode::String: {
            char digits[24];
            uint64 magnitude = cents < 0 ? -(uint64)cents : (uint64)cents;
            int nd = snprintf(digits, sizeof(digits), UINT64_FORMAT, magnitude);
            StringInfoData text;
            initStringInfo(&text);
            append_java_plain(&text, cents < 0, digits, nd, 2);
            if (opts->decimal_mode == DecimalMode::String)
                json_write_string(out, text.data, text.len);
            else
                json_write_java_double(out, strtod(text.data, nullptr));  // rounds correctly
            pfree(text.data);
            break;
        }
        case DecimalMode::Precise: {
            unsigned char b[8];
            uint64 u = (uint64)cents;
            for (int i = 7; i >= 0; i--, u >>= 8) b[i] = (unsigned char)u;
            int start = 0;
            while (start < 7 && ((b[start] == 0x00 && !(b[start + 1] & 0x80)) ||
                                 (b[start] == 0xFF && (b[start + 1] & 0x80))))
                start++;
            json_write_base64(out, b + start, 8 - start, false);
            break;
        }
    }
}
