/* Time parsing: the formats of scrm_time_format (shopcrm/io.h), shared by
 * the CSV loader (per value, through the scrm__time_* functions) and the
 * public scrm_time_parse() (one value, with a message saying what is wrong).
 *
 * Dates use the civil-date helpers of lib/calendar.c (Howard Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"). Parsed by hand: no
 * strptime/sscanf, whose behaviour depends on the locale. */
#include <stdio.h>

#include "internal.h"

static inline int is_digit(char ch) { return (unsigned char)(ch - '0') < 10; }

static inline int d2(const char *s)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static inline int d4(const char *s)
{
    int a = d2(s), b = d2(s + 2);
    return a < 0 || b < 0 ? -1 : a * 100 + b;
}

static int64_t days_cached(scrm__date_cache *dc, int y, int m, int d)
{
    int64_t ymd = (int64_t)y * 10000 + m * 100 + d;
    if (ymd != dc->ymd) {
        dc->ymd = ymd;
        dc->days = scrm__days_from_civil(y, (unsigned)m, (unsigned)d);
    }
    return dc->days;
}

/* local day + seconds of day - offset, range-checked */
static int finish(scrm__date_cache *dc, int y, int m, int d, int64_t sod, int64_t offset,
                  int64_t *out)
{
    int64_t t = days_cached(dc, y, m, d) * 86400 + sod - offset;
    if (t < SCRM_TIME_MIN || t > SCRM_TIME_MAX)
        return SCRM__NUM_RANGE;
    *out = t;
    return SCRM__NUM_OK;
}

int scrm__time_class(const char *s, size_t n)
{
    if (n >= 10 && s[4] == '-' && is_digit(s[0]))
        return SCRM__TC_ISO;
    if (n >= 8 && (s[1] == '/' || s[2] == '/'))
        return SCRM__TC_DMY;
    if (n && (is_digit(s[0]) || (s[0] == '-' && n > 1 && is_digit(s[1]))))
        return SCRM__TC_DIGITS;
    return 0;
}

/* "HH:MM[:SS[.fff]]" at s[*i]; returns seconds of day or -1. */
static int64_t parse_hms(const char *s, size_t n, size_t *i, int frac_ok)
{
    size_t k = *i;
    if (k + 5 > n || s[k + 2] != ':')
        return -1;
    int hh = d2(s + k), mm = d2(s + k + 3), ss = 0;
    if (hh < 0 || mm < 0 || hh > 23 || mm > 59)
        return -1;
    k += 5;
    if (k < n && s[k] == ':') {
        if (k + 3 > n || (ss = d2(s + k + 1)) < 0 || ss > 60)
            return -1;
        k += 3;
        if (frac_ok && k < n && (s[k] == '.' || s[k] == ',')) {
            k++;
            if (k >= n || !is_digit(s[k]))
                return -1;
            while (k < n && is_digit(s[k]))
                k++;
        }
    }
    *i = k;
    return (int64_t)hh * 3600 + mm * 60 + ss;
}

/* "Z", " UTC", "+hh", "+hh:mm", "+hhmm" (or '-') at s[*i]: the offset, or
 * 0 with *bad set. Nothing at s[*i] keeps *offset. */
static int parse_zone(const char *s, size_t n, size_t *i, int64_t *offset)
{
    size_t k = *i;
    if (k == n)
        return 0;
    if (s[k] == 'Z' && k + 1 == n) {
        *offset = 0;
        *i = k + 1;
        return 0;
    }
    if (s[k] == ' ' && n - k == 4 && memcmp(s + k, " UTC", 4) == 0) {
        *offset = 0;
        *i = n;
        return 0;
    }
    if (s[k] != '+' && s[k] != '-')
        return 0; /* trailing text: the caller sees i != n */
    int sign = s[k] == '-' ? -1 : 1, oh, om = 0;
    k++;
    if (k + 2 > n || (oh = d2(s + k)) < 0 || oh > 23)
        return -1;
    k += 2;
    if (k < n && s[k] == ':')
        k++;
    if (k < n) {
        if (k + 2 > n || (om = d2(s + k)) < 0 || om > 59)
            return -1;
        k += 2;
    }
    *offset = sign * ((int64_t)oh * 3600 + om * 60);
    *i = k;
    return 0;
}

int scrm__time_iso(scrm__date_cache *dc, const char *s, size_t n, int64_t offset, int64_t *out)
{
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return SCRM__NUM_BAD;
    int y = d4(s), m = d2(s + 5), d = d2(s + 8);
    if (y < 0 || m < 0 || d < 0 || !scrm__valid_date(y, (unsigned)m, (unsigned)d))
        return SCRM__NUM_BAD;
    size_t i = 10;
    int64_t sod = 0;
    if (i < n && (s[i] == 'T' || s[i] == ' ') && i + 1 < n && is_digit(s[i + 1])) {
        i++;
        if ((sod = parse_hms(s, n, &i, 1)) < 0 || parse_zone(s, n, &i, &offset) < 0)
            return SCRM__NUM_BAD;
    }
    if (i != n)
        return SCRM__NUM_BAD;
    return finish(dc, y, m, d, sod, offset, out);
}

/* The "D/M/YYYY" fields at the start of s (day and month of one or two
 * digits): 1 with *i just after the year, 0 if they are not there. Shared by
 * the parser and the error messages. */
static int dmy_fields(const char *s, size_t n, size_t *i_out, int *y, int *m, int *d)
{
    size_t i = 0;
    int f[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        int nd = 0;
        while (i < n && is_digit(s[i]) && nd < 2) {
            f[k] = f[k] * 10 + (s[i] - '0');
            i++;
            nd++;
        }
        if (nd == 0 || i >= n || s[i] != '/')
            return 0;
        i++;
    }
    if (i + 4 > n || (*y = d4(s + i)) < 0)
        return 0;
    *d = f[0];
    *m = f[1];
    *i_out = i + 4;
    return 1;
}

/* DD/MM/YYYY [HH:MM[:SS]] (one-digit day and month allowed) */
int scrm__time_dmy(scrm__date_cache *dc, const char *s, size_t n, int64_t offset, int64_t *out)
{
    size_t i;
    int y, m, d;
    if (!dmy_fields(s, n, &i, &y, &m, &d) || !scrm__valid_date(y, (unsigned)m, (unsigned)d))
        return SCRM__NUM_BAD;
    int64_t sod = 0;
    if (i < n) {
        if (s[i] != ' ' && s[i] != 'T')
            return SCRM__NUM_BAD;
        i++;
        if ((sod = parse_hms(s, n, &i, 0)) < 0 || i != n)
            return SCRM__NUM_BAD;
    }
    return finish(dc, y, m, d, sod, offset, out);
}

int scrm__time_ymd8(scrm__date_cache *dc, int64_t v, int64_t offset, int64_t *out)
{
    int y = (int)(v / 10000), m = (int)(v / 100 % 100), d = (int)(v % 100);
    if (v < 0 || y < 1 || !scrm__valid_date(y, (unsigned)m, (unsigned)d))
        return SCRM__NUM_BAD;
    return finish(dc, y, m, d, 0, offset, out);
}

int scrm__time_is_ymd8(const char *s, int64_t v, int ndig)
{
    scrm__date_cache dc = SCRM__DATE_CACHE_INIT;
    int64_t tmp;
    return ndig == 8 && s[0] != '-' && scrm__time_ymd8(&dc, v, 0, &tmp) != SCRM__NUM_BAD;
}

const char *scrm__time_format_name(int f)
{
    switch (f) {
    case SCRM_TIME_ISO8601: return "an ISO 8601 time";
    case SCRM_TIME_YYYYMMDD: return "a YYYYMMDD date";
    case SCRM_TIME_DMY: return "a DD/MM/YYYY date";
    case SCRM_TIME_EPOCH: return "an epoch time in seconds";
    default: return "a time (ISO 8601, YYYYMMDD, DD/MM/YYYY or epoch seconds)";
    }
}

/* ---- scrm_time_parse ---- */

/* Why the date y-m-d is not one, or NULL if it is. */
static const char *date_problem(char *buf, size_t cap, int y, int m, int d)
{
    static const char *const month[] = {"January", "February", "March",     "April",
                                        "May",     "June",     "July",      "August",
                                        "September", "October", "November", "December"};
    if (y < 1)
        snprintf(buf, cap, "year %d", y);
    else if (m < 1 || m > 12)
        snprintf(buf, cap, "month %d", m);
    else if (d < 1 || (unsigned)d > scrm__days_in_month(y, (unsigned)m))
        snprintf(buf, cap, "day %d (%s %d has %u days)", d, month[m - 1], y,
                 scrm__days_in_month(y, (unsigned)m));
    else
        return NULL;
    return buf;
}

/* The date fields of a value of format fmt, if it has that shape. */
static int date_fields(const char *s, size_t n, int fmt, int *y, int *m, int *d)
{
    if (fmt == SCRM_TIME_ISO8601) {
        if (n < 10 || s[4] != '-' || s[7] != '-')
            return 0;
        *y = d4(s);
        *m = d2(s + 5);
        *d = d2(s + 8);
        return *y >= 0 && *m >= 0 && *d >= 0;
    }
    if (fmt == SCRM_TIME_YYYYMMDD) {
        if (n != 8 || scrm__parse8(s) < 0)
            return 0;
        *y = d4(s);
        *m = d2(s + 4);
        *d = d2(s + 6);
        return 1;
    }
    if (fmt == SCRM_TIME_DMY) {
        size_t i;
        return dmy_fields(s, n, &i, y, m, d);
    }
    return 0;
}

/* The format a single value has under SCRM_TIME_AUTO, as the loader would
 * decide for a column holding only this value. */
static int auto_format(const char *s, size_t n)
{
    int64_t v;
    int nd;
    switch (scrm__time_class(s, n)) {
    case SCRM__TC_ISO: return SCRM_TIME_ISO8601;
    case SCRM__TC_DMY: return SCRM_TIME_DMY;
    case SCRM__TC_DIGITS:
        if (scrm__time_digits(s, n, &v, &nd) == SCRM__NUM_OK && scrm__time_is_ymd8(s, v, nd))
            return SCRM_TIME_YYYYMMDD;
        return SCRM_TIME_EPOCH;
    default: return SCRM_TIME_AUTO;
    }
}

static int parse_as(int fmt, const char *s, size_t n, int64_t offset, int64_t *out)
{
    scrm__date_cache dc = SCRM__DATE_CACHE_INIT;
    int64_t v;
    int nd, rc;
    switch (fmt) {
    case SCRM_TIME_ISO8601: return scrm__time_iso(&dc, s, n, offset, out);
    case SCRM_TIME_DMY: return scrm__time_dmy(&dc, s, n, offset, out);
    case SCRM_TIME_YYYYMMDD:
        if (scrm__time_digits(s, n, &v, &nd) != SCRM__NUM_OK || nd != 8 || s[0] == '-')
            return SCRM__NUM_BAD;
        return scrm__time_ymd8(&dc, v, offset, out);
    case SCRM_TIME_EPOCH:
        if ((rc = scrm__time_digits(s, n, &v, &nd)) != SCRM__NUM_OK)
            return rc;
        if (v < SCRM_TIME_MIN || v > SCRM_TIME_MAX)
            return SCRM__NUM_RANGE;
        *out = v;
        return SCRM__NUM_OK;
    default: return SCRM__NUM_BAD;
    }
}

static int parse_error(int rc, int fmt, const char *s, size_t n)
{
    char v[80], why[80];
    int y, m, d;
    if (n > 60)
        snprintf(v, sizeof v, "%.60s...", s);
    else
        snprintf(v, sizeof v, "%.*s", (int)n, s);
    if (n == 0)
        return scrm__error(SCRM_EPARSE, -1, "empty value");
    if (rc == SCRM__NUM_RANGE)
        return scrm__error(SCRM_ERANGE, -1,
                           "'%s' is out of range (years 1 to 9999)", v);
    if (date_fields(s, n, fmt, &y, &m, &d) && date_problem(why, sizeof why, y, m, d))
        return scrm__error(SCRM_EPARSE, -1, "'%s' is not a date: %s", v, why);
    return scrm__error(SCRM_EPARSE, -1, "'%s' is not %s", v,
                       scrm__time_format_name(fmt));
}

SCRM_EXPORT int scrm_time_parse(int64_t *out, const char *s, uint64_t len, int format,
                                int64_t utc_offset)
{
    if (!out || (!s && len))
        return scrm__error(SCRM_EINVAL, -1, "scrm_time_parse: NULL argument");
    if (format < SCRM_TIME_AUTO || format > SCRM_TIME_EPOCH)
        return scrm__error(SCRM_EINVAL, -1, "scrm_time_parse: time format %d is unknown",
                           format);
    int err = scrm__utc_offset_check("scrm_time_parse", utc_offset);
    if (err < 0)
        return err;
    size_t n = (size_t)len;
    if (!s)
        s = "";
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    int fmt = format == SCRM_TIME_AUTO ? auto_format(s, n) : format;
    int64_t t = 0;
    int rc = parse_as(fmt, s, n, utc_offset, &t);
    if (rc != SCRM__NUM_OK)
        return parse_error(rc, fmt, s, n);
    *out = t;
    return SCRM_OK;
}
