// Dates, times, timestamps, intervals (time.precision.mode, interval.handling.mode).
//
// References: Debezium PostgresValueConverter / JdbcValueConverters, io.debezium.time.*
// (Date, Time, MicroTime, Timestamp, MicroTimestamp, ZonedTimestamp, ZonedTime,
// MicroDuration, Interval) and Kafka Connect's Date/Time/Timestamp for mode "connect".
#include "types_internal.h"

#include <cmath>

namespace {

constexpr int64 kUsPerSec = 1000000;
constexpr int64 kUsPerDay = INT64CONST(86400000000);
// Days and microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
constexpr int32 kEpochShiftDays = 10957;
constexpr int64 kEpochShiftUs = INT64CONST(946684800000000);

// Debezium's ±infinity timestamps: pgjdbc's PGStatement.DATE_POSITIVE_INFINITY /
// DATE_NEGATIVE_INFINITY (9223372036825200000, -9223372036832400000) read as epoch
// microseconds (PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE_TIME), then converted
// like any timestamp: the same numbers as µs, divided by 1000 as ms.
constexpr int64 kPosInfUs = INT64CONST(9223372036825200000);
constexpr int64 kNegInfUs = -INT64CONST(9223372036832400000);

// Debezium's ±infinity dates: PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE
// (-5877611-06-21) and NEGATIVE_INFINITY_LOCAL_DATE (-5877611-06-22) as epoch days.
constexpr int32 kPosInfDays = -2147472692;
constexpr int32 kNegInfDays = -2147472691;

// The same dates read through JDBC (snapshot rows, array elements): pgjdbc gives a
// java.sql.Date at DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY milliseconds, whose
// calendar date (year 292278994 / 292269055, in a UTC JVM) Debezium's Date.toEpochDay casts
// to an int: -622191234 and -625821272.
constexpr int32 kJdbcPosInfDays = -622191234;
constexpr int32 kJdbcNegInfDays = -625821272;

inline int64 floor_div(int64 a, int64 b) {
    int64 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm),
// the calendar of java.time; year 0 is 1 BC.
void civil_from_days(int64 z, int64 *year, int *month, int *day) {
    z += 719468;
    int64 era = (z >= 0 ? z : z - 146096) / 146097;
    int64 doe = z - era * 146097;
    int64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64 y = yoe + era * 400;
    int64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64 mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = y + (*month <= 2);
}

// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of civil_from_days).
int64 days_from_civil(int64 y, int m, int d) {
    y -= m <= 2;
    int64 era = (y >= 0 ? y : y - 399) / 400;
    int64 yoe = y - era * 400;
    int64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

char *put_2(char *p, int v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

// java.time ISO_LOCAL_DATE year: at least 4 digits, '+' above 9999, '-' below 0.
void append_year(StringInfo out, int64 year) {
    if (year >= 0 && year <= 9999) {
        char digits[4];
        put_2(put_2(digits, (int)(year / 100)), (int)(year % 100));
        json_append(out, digits, 4);
    } else if (year > 9999) {
        appendStringInfo(out, "+" INT64_FORMAT, year);
    } else {
        appendStringInfo(out, "-%04lld", (long long)-year);
    }
}

// HH:MM:SS plus the fraction: exactly `width` digits when width > 0, else the minimal
// number of digits (none for a whole second), as DateTimeFormatter's appendFraction does.
// Writes at most 18 characters at p.
char *put_time_of_day(char *p, int64 us_of_day, int width) {
    int64 secs = us_of_day / kUsPerSec;
    int frac = (int)(us_of_day % kUsPerSec);
    p = put_2(p, (int)(secs / 3600));
    *p++ = ':';
    p = put_2(p, (int)(secs / 60 % 60));
    *p++ = ':';
    p = put_2(p, (int)(secs % 60));
    char digits[6];
    for (int i = 5; i >= 0; i--, frac /= 10) digits[i] = (char)('0' + frac % 10);
    int n;
    if (width > 0) {
        n = width;  // PostgreSQL stores µs: digits 7..9 are zeros
    } else {
        n = 6;
        while (n > 0 && digits[n - 1] == '0') n--;
    }
    if (n == 0) return p;
    *p++ = '.';
    for (int i = 0; i < n; i++) *p++ = i < 6 ? digits[i] : '0';
    return p;
}

void append_time_of_day(StringInfo out, int64 us_of_day, int width) {
    char text[24];
    char *end = put_time_of_day(text, us_of_day, width);
    json_append(out, text, (int)(end - text));
}

// Fractional-second digits of a time/timestamp column: its typmod, 6 when unspecified
// (pgjdbc's TypeInfoCache.getScale, which Debezium uses as the column scale).
inline int column_precision(const TypeEncoder *enc) { return enc->typmod < 0 ? 6 : enc->typmod; }

}  // namespace

// date: io.debezium.time.Date (and Kafka Connect Date in connect mode), days since the epoch.
// BC dates are negative day counts of the proleptic calendar.
// Through JDBC (jdbc) a BC date loses its era: java.sql.Date.toLocalDate() takes the year
// of the era, so 44 BC comes out as AD 44 ('0044-03-15 BC' -> -703383, not -735160).
void write_date(StringInfo out, Datum value, bool jdbc) {
    DateADT d = DatumGetDateADT(value);
    if (DATE_IS_NOEND(d)) {
        json_write_int64(out, jdbc ? kJdbcPosInfDays : kPosInfDays);
        return;
    }
    if (DATE_IS_NOBEGIN(d)) {
        json_write_int64(out, jdbc ? kJdbcNegInfDays : kNegInfDays);
        return;
    }
    int64 days = (int64)d + kEpochShiftDays;
    if (jdbc && days < -719162) {  // before 0001-01-01
        int64 year;
        int month, day;
        civil_from_days(days, &year, &month, &day);
        days = days_from_civil(1 - year, month, day);
    }
    json_write_int64(out, days);
}

// time: adaptive: io.debezium.time.Time (ms, int32) for time(0..3), MicroTime (µs) for
// time(4..6) and plain time; adaptive_time_microseconds: always µs; connect: ms.
void write_time(StringInfo out, const TypeEncoder *enc, Datum value, const WalcastOptions *opts) {
    TimeADT t = DatumGetTimeADT(value);
    bool millis;
    switch (opts->time_precision) {
        case TimePrecisionMode::Adaptive:
            millis = column_precision(enc) <= 3;
            break;
        case TimePrecisionMode::AdaptiveTimeMicroseconds:
            millis = false;
            break;
        default:
            millis = true;
    }
    json_write_int64(out, millis ? t / 1000 : t);
}

// timetz: io.debezium.time.ZonedTime, ISO_OFFSET_TIME in UTC: "11:51:30.123789Z", fraction
// with the digits needed only; OffsetTime.withOffsetSameInstant wraps around midnight
// ('23:00:00-01' -> "00:00:00Z", '24:00:00+00' -> "00:00:00Z"). Array elements come
// through JDBC as java.sql.Time, whose toLocalTime() keeps whole seconds only
// ('09:51:30.5+00' -> "09:51:30Z").
void write_timetz(StringInfo out, Datum value, bool in_array) {
    TimeTzADT *t = DatumGetTimeTzADTP(value);
    // zone is seconds west of UTC: local + zone = UTC.
    int64 utc = t->time + (int64)t->zone * kUsPerSec;
    utc -= floor_div(utc, kUsPerDay) * kUsPerDay;
    if (in_array) utc -= utc % kUsPerSec;
    appendStringInfoCharMacro(out, '"');
    append_time_of_day(out, utc, 0);
    JSON_LITERAL(out, "Z\"");
}

// timestamp: adaptive / adaptive_time_microseconds: io.debezium.time.Timestamp (ms) for
// timestamp(0..3), MicroTimestamp (µs) for timestamp(4..6) and plain timestamp; connect:
// ms. The wall-clock value is read as UTC. ±infinity: Debezium's constants (above).
void write_timestamp(StringInfo out, const TypeEncoder *enc, Datum value,
                     const WalcastOptions *opts) {
    Timestamp ts = DatumGetTimestamp(value);
    bool millis = opts->time_precision == TimePrecisionMode::Connect || column_precision(enc) <= 3;
    int64 result;
    if (TIMESTAMP_IS_NOEND(ts))
        result = millis ? kPosInfUs / 1000 : kPosInfUs;
    else if (TIMESTAMP_IS_NOBEGIN(ts))
        result = millis ? kNegInfUs / 1000 : kNegInfUs;
    else if (millis)
        result = floor_div(ts, 1000) + kEpochShiftUs / 1000;  // Instant.toEpochMilli floors
    else if (ts > PG_INT64_MAX - kEpochShiftUs)
        result = PG_INT64_MAX;  // after 294247-01-10: beyond a long of µs since 1970
    else
        result = ts + kEpochShiftUs;
    json_write_int64(out, result);
}

// timestamptz: io.debezium.time.ZonedTimestamp in UTC. ZonedTimestamp.toIsoString pads the
// fraction to exactly the column's precision (1..6; 6 when unspecified); precision 0 uses
// ISO_OFFSET_DATE_TIME, which prints no fraction for whole seconds:
// "2016-11-04T11:51:30.123456Z", timestamptz(3) "2016-11-04T11:51:30.120Z",
// timestamptz(0) "2016-11-04T11:51:30Z". ±infinity: "infinity" / "-infinity".
// Years as java.time prints them: "-0043-03-15T..." for 44 BC, "+10000-..." above 9999.
// Array elements come through JDBC: -infinity is a java.sql.Timestamp at
// DATE_NEGATIVE_INFINITY, which Debezium formats as the date it overflows to,
// "+292269055-12-02T23:00:00.000000Z" (fraction at the column's precision).
void write_timestamptz(StringInfo out, const TypeEncoder *enc, Datum value) {
    TimestampTz ts = DatumGetTimestampTz(value);
    if (TIMESTAMP_IS_NOEND(ts)) {
        JSON_LITERAL(out, "\"infinity\"");
        return;
    }
    if (TIMESTAMP_IS_NOBEGIN(ts) && enc->in_array) {
        char text[24];
        char *end = put_time_of_day(text, 23 * 3600 * kUsPerSec, column_precision(enc));
        JSON_LITERAL(out, "\"+292269055-12-02T");
        json_append(out, text, (int)(end - text));
        JSON_LITERAL(out, "Z\"");
        return;
    }
    if (TIMESTAMP_IS_NOBEGIN(ts)) {
        JSON_LITERAL(out, "\"-infinity\"");
        return;
    }
    int64 days = floor_div(ts, kUsPerDay);
    int64 us_of_day = ts - days * kUsPerDay;
    days += kEpochShiftDays;
    int64 year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    appendStringInfoCharMacro(out, '"');
    append_year(out, year);
    // The rest in one piece: "-MM-DDT" (7) + time of day (<= 18) + "Z\"" (2).
    char text[32];
    char *p = text;
    *p++ = '-';
    p = put_2(p, month);
    *p++ = '-';
    p = put_2(p, day);
    *p++ = 'T';
    p = put_time_of_day(p, us_of_day, column_precision(enc));
    *p++ = 'Z';
    *p++ = '"';
    json_append(out, text, (int)(p - text));
}

// interval. numeric (default): io.debezium.time.MicroDuration, computed as Debezium does
// from the fields of the text form (PGInterval: years, months, days, hours, minutes,
// seconds) with a month of 365.25/12 days, in doubles, truncated to a long:
// '1 mon' -> 2629800000000. string: io.debezium.time.Interval.toIsoString,
// "P<y>Y<m>M<d>DT<h>H<m>M<s>S" with every field present and the seconds stripped of
// trailing zeros: '1 year 2 mons 3 days 04:05:06.78' -> "P1Y2M3DT4H5M6.78S".
// PostgreSQL 17's infinite intervals (which Debezium cannot parse) are written as
// Long.MAX_VALUE/MIN_VALUE (numeric) or "infinity"/"-infinity" (string).
void write_interval(StringInfo out, Datum value, const WalcastOptions *opts) {
    Interval *iv = DatumGetIntervalP(value);
#ifdef INTERVAL_NOT_FINITE
    if (INTERVAL_NOT_FINITE(iv)) {
        bool positive = INTERVAL_IS_NOEND(iv);
        if (opts->interval_mode == IntervalMode::String)
            json_write_cstring(out, positive ? "infinity" : "-infinity");
        else
            json_write_int64(out, positive ? PG_INT64_MAX : PG_INT64_MIN);
        return;
    }
#endif
    // The fields interval_out prints: years and months share the sign of the month count,
    // hours/minutes/seconds the sign of the time part.
    int years = iv->month / MONTHS_PER_YEAR;
    int months = iv->month % MONTHS_PER_YEAR;
    int days = iv->day;
    int64 time = iv->time;
    int64 hours = time / USECS_PER_HOUR;
    time -= hours * USECS_PER_HOUR;
    int minutes = (int)(time / USECS_PER_MINUTE);
    time -= (int64)minutes * USECS_PER_MINUTE;
    int64 sec_us = time;  // seconds and microseconds, signed

    if (opts->interval_mode == IntervalMode::String) {
        StringInfoData s;
        initStringInfo(&s);
        appendStringInfo(&s, "P%dY%dM%dDT" INT64_FORMAT "H%dM", years, months, days, hours,
                         minutes);
        if (sec_us < 0) appendStringInfoCharMacro(&s, '-');
        uint64 abs_us = sec_us < 0 ? (uint64)(-sec_us) : (uint64)sec_us;
        appendStringInfo(&s, UINT64_FORMAT, abs_us / kUsPerSec);
        int frac = (int)(abs_us % kUsPerSec);
        if (frac != 0) {
            char digits[7];
            for (int i = 5; i >= 0; i--, frac /= 10) digits[i] = (char)('0' + frac % 10);
            int n = 6;
            while (digits[n - 1] == '0') n--;
            appendStringInfoCharMacro(&s, '.');
            json_append(&s, digits, n);
        }
        appendStringInfoCharMacro(&s, 'S');
        json_write_string(out, s.data, s.len);
        pfree(s.data);
        return;
    }

    // MicroDuration.durationMicros, operation for operation (Java int/double arithmetic).
    const double days_per_month_avg = 365.25 / 12.0;
    double seconds = (double)sec_us / 1e6;
    double number_of_days = (double)(years * 12 + months) * days_per_month_avg + days;
    double number_of_seconds =
        ((number_of_days * 24 + (double)hours) * 60 + minutes) * 60 + seconds;
    double micros = number_of_seconds * 1e6;
    // Java's (long) cast saturates and maps NaN to 0.
    int64 result;
    if (std::isnan(micros))
        result = 0;
    else if (micros >= 9223372036854775807.0)
        result = PG_INT64_MAX;
    else if (micros <= -9223372036854775808.0)
        result = PG_INT64_MIN;
    else
        result = (int64)micros;
    json_write_int64(out, result);
}
