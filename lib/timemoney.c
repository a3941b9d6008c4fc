/* Time and money: civil-date arithmetic on the proleptic Gregorian calendar,
 * calendar periods, times and UTC offsets as text, money in major units.
 *
 * Civil dates:
 *
 * The two conversions follow Howard Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms" (http://howardhinnant.github.io/date_algorithms.html),
 * functions days_from_civil and civil_from_days: days are counted from
 * 1970-01-01, years are shifted to start on March 1 so that the leap day is
 * the last day of the shifted year, and a 400-year era has 146097 days.
 * Written here from the published description. */
#include <math.h>
#include <stdio.h>

#include "internal.h"

int64_t scrm__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                   /* [0, 399] */
    const int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void scrm__civil_from_days(int64_t z, int64_t *y_out, unsigned *m_out, unsigned *d_out)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;                                       /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    const unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);                /* [1, 31] */
    const unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);                   /* [1, 12] */
    if (y_out)
        *y_out = yoe + era * 400 + (m <= 2);
    if (m_out)
        *m_out = m;
    if (d_out)
        *d_out = d;
}

int scrm__is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned scrm__days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && scrm__is_leap_year(y) ? 29u : dim[m - 1];
}

int scrm__valid_date(int64_t y, unsigned m, unsigned d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= scrm__days_in_month(y, m);
}

/* ---- calendar periods (scrm_period_*) ----
 *
 * Period indices count whole periods from the period containing local
 * 1970-01-01 (see include/shopcrm/common.h). Weeks follow ISO 8601-1:2019:
 * Monday is the first day, week 1 of a week-numbering year is the week with
 * the year's first Thursday, so a week belongs to the year of its Thursday.
 * 1970-01-01 is a Thursday (day 0), so the Monday of its week is day -3 and
 * week index = floor((day + 3) / 7); the Thursday of week w is day 7w. */

/* Days of 0001-01-01 and 9999-12-31 (years 1..9999, SCRM_TIME_MIN/MAX). */
#define DAY_MIN INT64_C(-719162)
#define DAY_MAX INT64_C(2932896)

int64_t scrm__period_of_day(int64_t day, int unit)
{
    int64_t y;
    unsigned m;
    switch (unit) {
    case SCRM_PERIOD_DAY:
        return day;
    case SCRM_PERIOD_WEEK:
        return scrm__floor_div(day + 3, 7);
    default:
        break;
    }
    scrm__civil_from_days(day, &y, &m, NULL);
    switch (unit) {
    case SCRM_PERIOD_MONTH:
        return (y - 1970) * 12 + (int64_t)m - 1;
    case SCRM_PERIOD_QUARTER:
        return (y - 1970) * 4 + ((int64_t)m - 1) / 3;
    default: /* SCRM_PERIOD_YEAR */
        return y - 1970;
    }
}

int64_t scrm__period_first_day(int64_t index, int unit)
{
    switch (unit) {
    case SCRM_PERIOD_DAY:
        return index;
    case SCRM_PERIOD_WEEK:
        return 7 * index - 3;
    case SCRM_PERIOD_MONTH:
        return scrm__days_from_civil(1970 + scrm__floor_div(index, 12),
                                     (unsigned)(index - 12 * scrm__floor_div(index, 12)) + 1, 1);
    case SCRM_PERIOD_QUARTER:
        return scrm__days_from_civil(1970 + scrm__floor_div(index, 4),
                                     3 * (unsigned)(index - 4 * scrm__floor_div(index, 4)) + 1, 1);
    default: /* SCRM_PERIOD_YEAR */
        return scrm__days_from_civil(1970 + index, 1, 1);
    }
}

/* The one UTC-offset limit of the library (SCRM_MAX_UTC_OFFSET). */
static int offset_check(const char *fn, int64_t utc_offset)
{
    if (utc_offset < -SCRM_MAX_UTC_OFFSET || utc_offset > SCRM_MAX_UTC_OFFSET)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: utc_offset %lld s is beyond +/-18 hours (+/-%d s)", fn,
                           (long long)utc_offset, SCRM_MAX_UTC_OFFSET);
    return SCRM_OK;
}

int scrm__utc_offset_check(const char *fn, int64_t utc_offset)
{
    return offset_check(fn, utc_offset);
}

int scrm__period_check(const char *fn, int unit, int64_t utc_offset)
{
    if (unit < SCRM_PERIOD_DAY || unit > SCRM_PERIOD_YEAR)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown period unit %d (0..4)", fn, unit);
    return offset_check(fn, utc_offset);
}

/* Indices of the first and last period of a unit within years 1..9999. */
static int period_in_range(int64_t index, int unit)
{
    return index >= scrm__period_of_day(DAY_MIN, unit) &&
           index <= scrm__period_of_day(DAY_MAX, unit);
}

SCRM_EXPORT int scrm_period_index(int64_t *index_out, int64_t t, int unit, int64_t utc_offset)
{
    int rc;
    if (!index_out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_period_index: index_out is NULL");
    if ((rc = scrm__period_check("scrm_period_index", unit, utc_offset)) != SCRM_OK)
        return rc;
    int64_t local;
    if (scrm__add_overflow_i64(t, utc_offset, &local) || local < SCRM_TIME_MIN ||
        local > SCRM_TIME_MAX)
        return scrm__error(SCRM_ERANGE, -1,
                           "scrm_period_index: time %lld (local, offset %lld s) is outside years "
                           "1..9999",
                           (long long)t, (long long)utc_offset);
    *index_out = scrm__period_of_day(scrm__floor_div(local, 86400), unit);
    return SCRM_OK;
}

SCRM_EXPORT int scrm_period_start(int64_t *t_out, int64_t index, int unit, int64_t utc_offset)
{
    int rc;
    if (!t_out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_period_start: t_out is NULL");
    if ((rc = scrm__period_check("scrm_period_start", unit, utc_offset)) != SCRM_OK)
        return rc;
    if (!period_in_range(index, unit))
        return scrm__error(SCRM_ERANGE, -1,
                           "scrm_period_start: period index %lld of unit %d is outside years "
                           "1..9999",
                           (long long)index, unit);
    *t_out = scrm__period_first_day(index, unit) * 86400 - utc_offset;
    return SCRM_OK;
}

SCRM_EXPORT int scrm_period_label(char *buf, uint32_t cap, int64_t index, int unit)
{
    int rc;
    if (!buf)
        return scrm__error(SCRM_EINVAL, -1, "scrm_period_label: buf is NULL");
    if ((rc = scrm__period_check("scrm_period_label", unit, 0)) != SCRM_OK)
        return rc;
    if (!period_in_range(index, unit))
        return scrm__error(SCRM_ERANGE, -1,
                           "scrm_period_label: period index %lld of unit %d is outside years "
                           "1..9999",
                           (long long)index, unit);
    char tmp[SCRM_PERIOD_LABEL_MAX];
    int64_t y;
    unsigned m, d;
    int n;
    if (unit == SCRM_PERIOD_WEEK) {
        /* The ISO year is the year of the week's Thursday (day 7 * index). */
        const int64_t thursday = 7 * index;
        scrm__civil_from_days(thursday, &y, NULL, NULL);
        const int64_t week = (thursday - scrm__days_from_civil(y, 1, 1)) / 7 + 1;
        n = snprintf(tmp, sizeof tmp, "%04lld-W%02lld", (long long)y, (long long)week);
    } else {
        scrm__civil_from_days(scrm__period_first_day(index, unit), &y, &m, &d);
        if (unit == SCRM_PERIOD_DAY)
            n = snprintf(tmp, sizeof tmp, "%04lld-%02u-%02u", (long long)y, m, d);
        else if (unit == SCRM_PERIOD_MONTH)
            n = snprintf(tmp, sizeof tmp, "%04lld-%02u", (long long)y, m);
        else if (unit == SCRM_PERIOD_QUARTER)
            n = snprintf(tmp, sizeof tmp, "%04lld-Q%u", (long long)y, (m - 1) / 3 + 1);
        else
            n = snprintf(tmp, sizeof tmp, "%04lld", (long long)y);
    }
    if (n < 0 || (uint32_t)n >= cap)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_period_label: buffer of %u bytes is too small for \"%s\" (%d "
                           "bytes with the NUL)",
                           cap, tmp, n + 1);
    memcpy(buf, tmp, (size_t)n + 1);
    return SCRM_OK;
}

/* ---- time as text ---- */

/* Copy tmp (n bytes, n >= 0 from snprintf) into buf of cap bytes, or fail
 * leaving buf unchanged. */
static int put_text(char *buf, uint32_t cap, const char *tmp, int n, const char *fn)
{
    if (n < 0 || (uint32_t)n >= cap)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: buffer of %u bytes is too small for \"%s\" (%d bytes with the NUL)",
                           fn, cap, tmp, n + 1);
    memcpy(buf, tmp, (size_t)n + 1);
    return SCRM_OK;
}

SCRM_EXPORT int scrm_time_print(char *buf, uint32_t cap, int64_t t, int64_t utc_offset, int style)
{
    static const char fn[] = "scrm_time_print";
    int rc;
    if (!buf)
        return scrm__error(SCRM_EINVAL, -1, "%s: buf is NULL", fn);
    if (style < SCRM_TIME_STYLE_DATE || style > SCRM_TIME_STYLE_ISO8601)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown style %d (0..2)", fn, style);
    if ((rc = offset_check(fn, utc_offset)) != SCRM_OK)
        return rc;
    int64_t local;
    if (scrm__add_overflow_i64(t, utc_offset, &local) || local < SCRM_TIME_MIN ||
        local > SCRM_TIME_MAX)
        return scrm__error(SCRM_ERANGE, -1,
                           "%s: time %lld (local, offset %lld s) is outside years 1..9999", fn,
                           (long long)t, (long long)utc_offset);
    int64_t day = scrm__floor_div(local, 86400), sod = local - day * 86400, y;
    unsigned m, d;
    scrm__civil_from_days(day, &y, &m, &d);
    char tmp[SCRM_TIME_TEXT_MAX + 16];
    int n = snprintf(tmp, sizeof tmp, "%04lld-%02u-%02u", (long long)y, m, d);
    if (style != SCRM_TIME_STYLE_DATE)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%c%02d:%02d:%02d",
                      style == SCRM_TIME_STYLE_ISO8601 ? 'T' : ' ', (int)(sod / 3600),
                      (int)(sod / 60 % 60), (int)(sod % 60));
    if (style == SCRM_TIME_STYLE_ISO8601) {
        int64_t a = utc_offset < 0 ? -utc_offset : utc_offset;
        if (utc_offset == 0)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, "Z");
        else if (a % 60 == 0)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%c%02d:%02d",
                          utc_offset < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
        else /* ISO 8601 offsets are whole minutes; seconds as +hh:mm:ss */
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%c%02d:%02d:%02d",
                          utc_offset < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60),
                          (int)(a % 60));
    }
    return put_text(buf, cap, tmp, n, fn);
}

static int all_digits(const char *s, uint64_t n)
{
    if (n == 0)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        if ((unsigned char)(s[i] - '0') > 9)
            return 0;
    return 1;
}

static int64_t digits_value(const char *s, uint64_t n)
{
    int64_t v = 0;
    for (uint64_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

SCRM_EXPORT int scrm_time_parse_offset(int64_t *out, const char *s, uint64_t len)
{
    static const char fn[] = "scrm_time_parse_offset";
    if (!out || !s)
        return scrm__error(SCRM_EINVAL, -1, "%s: %s is NULL", fn, !out ? "out" : "s");
    int64_t v;
    if (len == 1 && s[0] == 'Z') {
        v = 0;
    } else if (len >= 3 && (s[0] == '+' || s[0] == '-') && all_digits(s + 1, 2) &&
               (len == 3 || (len == 5 && all_digits(s + 3, 2)) ||
                (len == 6 && s[3] == ':' && all_digits(s + 4, 2)))) {
        int64_t h = digits_value(s + 1, 2), m = len == 3 ? 0 : digits_value(s + len - 2, 2);
        if (m > 59)
            goto bad;
        v = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    } else {
        uint64_t i = len && (s[0] == '-' || s[0] == '+');
        if (!all_digits(s + i, len - i) || len - i > 6)
            goto bad;
        v = (s[0] == '-' ? -1 : 1) * digits_value(s + i, len - i);
    }
    if (v < -SCRM_MAX_UTC_OFFSET || v > SCRM_MAX_UTC_OFFSET)
        return scrm__error(SCRM_EINVAL, -1, "%s: '%.*s' is beyond +/-18 hours (+/-%d s)", fn,
                           (int)(len > 40 ? 40 : len), s, SCRM_MAX_UTC_OFFSET);
    *out = v;
    return SCRM_OK;
bad:
    return scrm__error(SCRM_EINVAL, -1,
                       "%s: '%.*s' is not a UTC offset (seconds like -10800, or -03:00, "
                       "-0300, -03, Z)",
                       fn, (int)(len > 40 ? 40 : len), s);
}

/* ---- money ---- */

static const int64_t pow10_tab[SCRM_MAX_MINOR_DIGITS + 1] = {1, 10, 100, 1000, 10000, 100000,
                                                             1000000};

size_t scrm__money_text(char out[SCRM_MONEY_TEXT_MAX], int64_t amount, uint32_t minor_digits)
{
    /* digits from the right, the point after minor_digits of them; no
     * snprintf: CSV exports write one amount per customer */
    char t[SCRM_MONEY_TEXT_MAX];
    uint64_t a = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
    size_t k = 0;
    for (uint32_t d = 0; d < minor_digits; d++) {
        t[k++] = (char)('0' + a % 10);
        a /= 10;
    }
    if (minor_digits)
        t[k++] = '.';
    do {
        t[k++] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    if (amount < 0)
        t[k++] = '-';
    for (size_t i = 0; i < k; i++)
        out[i] = t[k - 1 - i];
    out[k] = 0;
    return k;
}

SCRM_EXPORT int scrm_money_print(char *buf, uint32_t cap, int64_t amount, uint32_t minor_digits)
{
    static const char fn[] = "scrm_money_print";
    if (!buf)
        return scrm__error(SCRM_EINVAL, -1, "%s: buf is NULL", fn);
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "%s: minor_digits %u is not 0..%d", fn, minor_digits,
                           SCRM_MAX_MINOR_DIGITS);
    char tmp[SCRM_MONEY_TEXT_MAX];
    size_t n = scrm__money_text(tmp, amount, minor_digits);
    return put_text(buf, cap, tmp, (int)n, fn);
}

SCRM_EXPORT double scrm_money_to_major(double minor, uint32_t minor_digits)
{
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        minor_digits = SCRM_MAX_MINOR_DIGITS;
    return minor / (double)pow10_tab[minor_digits];
}

SCRM_EXPORT int scrm_money_from_major(int64_t *out, double major, uint32_t minor_digits)
{
    static const char fn[] = "scrm_money_from_major";
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "%s: out is NULL", fn);
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "%s: minor_digits %u is not 0..%d", fn, minor_digits,
                           SCRM_MAX_MINOR_DIGITS);
    if (!isfinite(major))
        return scrm__error(SCRM_EINVAL, -1, "%s: the amount is not a finite number", fn);
    double v = round(major * (double)pow10_tab[minor_digits]); /* half away from zero */
    /* 2^63 is exactly representable; every double below it fits int64 */
    if (!(v < 9223372036854775808.0 && v >= -9223372036854775808.0))
        return scrm__error(SCRM_ERANGE, -1, "%s: %g does not fit in int64 minor units", fn,
                           major);
    *out = (int64_t)v;
    return SCRM_OK;
}
