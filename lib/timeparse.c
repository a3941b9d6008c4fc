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

/* A date separator: '-', '/' or '.' (the same one both times). */
static inline int date_sep(char ch) { return ch == '-' || ch == '/' || ch == '.'; }

int scrm__time_class(const char *s, size_t n)
{
    if (n >= 8 && is_digit(s[0]) && date_sep(s[4]) && d4(s) >= 0)
        return SCRM__TC_ISO;
    if (n >= 8 && is_digit(s[0]) && (date_sep(s[1]) || (is_digit(s[1]) && date_sep(s[2]))))
        return SCRM__TC_DM;
    if (n && (is_digit(s[0]) || (s[0] == '-' && n > 1 && is_digit(s[1]))))
        return SCRM__TC_DIGITS;
    return 0;
}

/* Where a value fails, said as "hour 25" (for messages): buf, or NULL when
 * the caller does not want to know (the loader's hot path). */
struct why {
    char *buf;
    size_t cap;
};
#define WHY(w, ...) ((w) ? (void)snprintf((w)->buf, (w)->cap, __VA_ARGS__) : (void)0)

/* 1 or 2 digits at s[*i] (at most `max` digits): the value, or -1. */
static int digits12(const char *s, size_t n, size_t *i, int max)
{
    int v = 0, nd = 0;
    while (*i < n && nd < max && is_digit(s[*i])) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        nd++;
    }
    return nd ? v : -1;
}

/* "H:MM[:SS[.fff]]" (hour of one or two digits) at s[*i]; returns seconds
 * of day or -1 (with why). A leap second (:60) is refused: epoch seconds
 * cannot hold it, and a silent :59 or next-minute would move the order. */
static int64_t parse_hms(const char *s, size_t n, size_t *i, struct why *w)
{
    size_t k = *i;
    int hh = digits12(s, n, &k, 2), mm, ss = 0;
    if (hh < 0 || k + 3 > n || s[k] != ':' || (mm = d2(s + k + 1)) < 0) {
        WHY(w, "no time H:MM after the date");
        return -1;
    }
    k += 3;
    if (k < n && s[k] == ':') {
        if (k + 3 > n || (ss = d2(s + k + 1)) < 0) {
            WHY(w, "seconds are not two digits");
            return -1;
        }
        k += 3;
        if (k < n && (s[k] == '.' || s[k] == ',')) {
            k++;
            if (k >= n || !is_digit(s[k])) {
                WHY(w, "no digits after the decimal point of the seconds");
                return -1;
            }
            while (k < n && is_digit(s[k]))
                k++;
        }
    }
    if (hh > 23 || mm > 59 || ss > 59) {
        if (hh > 23)
            WHY(w, "hour %d", hh);
        else if (mm > 59)
            WHY(w, "minute %d", mm);
        else if (ss == 60)
            WHY(w, "second 60 (leap seconds are not accepted)");
        else
            WHY(w, "second %d", ss);
        return -1;
    }
    *i = k;
    return (int64_t)hh * 3600 + mm * 60 + ss;
}

/* "Z", " UTC", "+hh", "+hh:mm", "+hhmm" (or '-') at s[*i]: the offset, or
 * -1 (with why). Nothing at s[*i] keeps *offset. */
static int parse_zone(const char *s, size_t n, size_t *i, int64_t *offset, struct why *w)
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
    if (k + 2 > n || (oh = d2(s + k)) < 0 || oh > 23) {
        WHY(w, "bad UTC offset");
        return -1;
    }
    k += 2;
    if (k < n && s[k] == ':')
        k++;
    if (k < n) {
        if (k + 2 > n || (om = d2(s + k)) < 0 || om > 59) {
            WHY(w, "bad UTC offset");
            return -1;
        }
        k += 2;
    }
    *offset = sign * ((int64_t)oh * 3600 + om * 60);
    *i = k;
    return 0;
}

/* The date fields at the start of s in the order of fmt: YYYY-MM-DD for
 * ISO 8601 (separator '-', '/' or '.'), D-M-YYYY or M-D-YYYY for DMY and
 * MDY (separator '/', '.' or '-', day and month of one or two digits).
 * 1 with *i just after them, 0 if the value has not that shape. Shared by
 * the parsers and the messages. */
static int date_fields(const char *s, size_t n, int fmt, size_t *i_out, int *y, int *m, int *d)
{
    size_t i = 0;
    int a, b;
    char sep;
    if (fmt == SCRM_TIME_ISO8601) {
        if (n < 8 || (*y = d4(s)) < 0 || !date_sep(sep = s[4]))
            return 0;
        /* two-digit month and day, as ISO 8601 has them */
        if (n < 10 || (a = d2(s + 5)) < 0 || s[7] != sep || (b = d2(s + 8)) < 0)
            return 0;
        *m = a;
        *d = b;
        *i_out = 10;
        return 1;
    }
    if ((a = digits12(s, n, &i, 2)) < 0 || i >= n || !date_sep(sep = s[i]))
        return 0;
    i++;
    if ((b = digits12(s, n, &i, 2)) < 0 || i >= n || s[i] != sep || i + 5 > n ||
        (*y = d4(s + i + 1)) < 0)
        return 0;
    *i_out = i + 5;
    *d = fmt == SCRM_TIME_MDY ? b : a;
    *m = fmt == SCRM_TIME_MDY ? a : b;
    return 1;
}

/* The day-or-month fields of a D/M/YYYY-shaped value, for the auto
 * format's evidence: 1 if the value has that shape. */
int scrm__time_dm_fields(const char *s, size_t n, int *first, int *second)
{
    size_t i;
    int y;
    return date_fields(s, n, SCRM_TIME_DMY, &i, &y, second, first);
}

static const char *date_problem(char *buf, size_t cap, int y, int m, int d);

/* D/M/YY or M/D/YY (any of / . -), then the end or a blank: a date whose
 * year lost its century, as spreadsheets export it. */
static int two_digit_year(const char *s, size_t n)
{
    size_t i = 0;
    for (int field = 0; field < 3; field++) {
        size_t b = i;
        while (i < n && is_digit(s[i]))
            i++;
        size_t len = i - b;
        if (len < 1 || len > 2 || (field == 2 && len != 2))
            return 0;
        if (field < 2) {
            if (i >= n || (s[i] != '/' && s[i] != '.' && s[i] != '-'))
                return 0;
            i++;
        }
    }
    return i == n || s[i] == ' ' || s[i] == 'T';
}

/* A value of format fmt (ISO 8601, DMY or MDY): date, optionally 'T' or a
 * space and a time, and for ISO 8601 an optional zone. */
static int parse_datetime(scrm__date_cache *dc, int fmt, const char *s, size_t n, int64_t offset,
                          int64_t *out, struct why *w)
{
    size_t i;
    int y, m, d;
    if (!date_fields(s, n, fmt, &i, &y, &m, &d)) {
        if (w && fmt != SCRM_TIME_ISO8601 && two_digit_year(s, n))
            WHY(w, "a two-digit year (the year needs four digits: 2010, not 10)");
        return SCRM__NUM_BAD;
    }
    if (!scrm__valid_date(y, (unsigned)m, (unsigned)d)) {
        if (w)
            date_problem(w->buf, w->cap, y, m, d);
        return SCRM__NUM_BAD;
    }
    int64_t sod = 0;
    int has_time = 0;
    if (i < n && (s[i] == 'T' || s[i] == ' ') && i + 1 < n && is_digit(s[i + 1])) {
        i++;
        has_time = 1;
        if ((sod = parse_hms(s, n, &i, w)) < 0)
            return SCRM__NUM_BAD;
        if (fmt == SCRM_TIME_ISO8601 && parse_zone(s, n, &i, &offset, w) < 0)
            return SCRM__NUM_BAD;
    }
    if (i != n) {
        WHY(w, "unexpected text '%.*s' after the %s", (int)(n - i > 20 ? 20 : n - i), s + i,
            has_time ? "time" : "date");
        return SCRM__NUM_BAD;
    }
    return finish(dc, y, m, d, sod, offset, out);
}

int scrm__time_iso(scrm__date_cache *dc, const char *s, size_t n, int64_t offset, int64_t *out)
{
    return parse_datetime(dc, SCRM_TIME_ISO8601, s, n, offset, out, NULL);
}

/* D/M/YYYY or M/D/YYYY [H:MM[:SS]] (fmt SCRM_TIME_DMY or SCRM_TIME_MDY) */
int scrm__time_dm(scrm__date_cache *dc, int fmt, const char *s, size_t n, int64_t offset,
                  int64_t *out)
{
    return parse_datetime(dc, fmt, s, n, offset, out, NULL);
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
    case SCRM_TIME_MDY: return "an MM/DD/YYYY date";
    case SCRM_TIME_EPOCH: return "an epoch time in seconds";
    default: return "a time (ISO 8601, YYYYMMDD, DD/MM/YYYY, MM/DD/YYYY or epoch seconds)";
    }
}

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

/* A value of format fmt parsed again to say why it failed. */
static int parse_why(int fmt, const char *s, size_t n, struct why *w)
{
    scrm__date_cache dc = SCRM__DATE_CACHE_INIT;
    int64_t t, v;
    int nd;
    w->buf[0] = '\0';
    switch (fmt) {
    case SCRM_TIME_ISO8601:
    case SCRM_TIME_DMY:
    case SCRM_TIME_MDY: return parse_datetime(&dc, fmt, s, n, 0, &t, w);
    case SCRM_TIME_YYYYMMDD:
        if (scrm__time_digits(s, n, &v, &nd) != SCRM__NUM_OK || s[0] == '-')
            ; /* not digits: the format's name says it */
        else if (nd != 8)
            WHY(w, "%d digits, not 8", nd);
        else
            date_problem(w->buf, w->cap, (int)(v / 10000), (int)(v / 100 % 100), (int)(v % 100));
        return SCRM__NUM_BAD;
    default: return SCRM__NUM_BAD;
    }
}

void scrm__time_why(char *buf, size_t cap, int rc, int fmt, const char *s, size_t n)
{
    char v[80], why[120];
    struct why w = {why, sizeof why};
    if (n > 60)
        snprintf(v, sizeof v, "%.60s...", s);
    else
        snprintf(v, sizeof v, "%.*s", (int)n, s);
    if (n == 0)
        snprintf(buf, cap, "empty value");
    else if (rc == SCRM__NUM_RANGE)
        snprintf(buf, cap, "'%s' is out of range (years 1 to 9999)", v);
    else if (parse_why(fmt, s, n, &w) == SCRM__NUM_BAD && why[0])
        snprintf(buf, cap, "'%s' is not %s: %s", v, scrm__time_format_name(fmt), why);
    else
        snprintf(buf, cap, "'%s' is not %s", v, scrm__time_format_name(fmt));
}

/* ---- scrm_time_parse ---- */

/* The order of a D/M/YYYY value alone: DMY if the first field cannot be a
 * month, MDY if the second cannot, AUTO if both can (ambiguous). */
static int dm_order(const char *s, size_t n)
{
    int a, b;
    if (!scrm__time_dm_fields(s, n, &a, &b))
        return SCRM_TIME_DMY; /* not of the shape: reported as DD/MM/YYYY */
    if (a > 12 && b <= 12)
        return SCRM_TIME_DMY;
    if (b > 12 && a <= 12)
        return SCRM_TIME_MDY;
    return a > 12 ? SCRM_TIME_DMY : SCRM_TIME_AUTO;
}

/* The format a single value has under SCRM_TIME_AUTO, as the loader would
 * decide for a column holding only this value (AUTO: day and month both
 * fit, -1: no kind at all). */
static int auto_format(const char *s, size_t n)
{
    int64_t v;
    int nd;
    switch (scrm__time_class(s, n)) {
    case SCRM__TC_ISO: return SCRM_TIME_ISO8601;
    case SCRM__TC_DM: return dm_order(s, n);
    case SCRM__TC_DIGITS:
        if (scrm__time_digits(s, n, &v, &nd) == SCRM__NUM_OK && scrm__time_is_ymd8(s, v, nd))
            return SCRM_TIME_YYYYMMDD;
        return SCRM_TIME_EPOCH;
    default: return -1;
    }
}

static int parse_as(int fmt, const char *s, size_t n, int64_t offset, int64_t *out)
{
    scrm__date_cache dc = SCRM__DATE_CACHE_INIT;
    int64_t v;
    int nd, rc;
    switch (fmt) {
    case SCRM_TIME_ISO8601: return scrm__time_iso(&dc, s, n, offset, out);
    case SCRM_TIME_DMY:
    case SCRM_TIME_MDY: return scrm__time_dm(&dc, fmt, s, n, offset, out);
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

SCRM_EXPORT int scrm_time_parse(int64_t *out, const char *s, uint64_t len, int format,
                                int64_t utc_offset)
{
    if (!out || (!s && len))
        return scrm__error(SCRM_EINVAL, -1, "scrm_time_parse: NULL argument");
    if (format < SCRM_TIME_AUTO || format > SCRM_TIME_MDY)
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
    int fmt = format;
    if (format == SCRM_TIME_AUTO && (fmt = auto_format(s, n)) == SCRM_TIME_AUTO)
        return scrm__error(SCRM_EPARSE, -1,
                           "'%.*s' reads as DD/MM/YYYY and as MM/DD/YYYY (day and month are "
                           "both at most 12): give the format (SCRM_TIME_DMY or SCRM_TIME_MDY)",
                           (int)(n > 60 ? 60 : n), s);
    if (fmt < 0)
        fmt = SCRM_TIME_AUTO;
    int64_t t = 0;
    int rc = parse_as(fmt, s, n, utc_offset, &t);
    if (rc != SCRM__NUM_OK) {
        char msg[300];
        scrm__time_why(msg, sizeof msg, rc, fmt, s, n);
        return scrm__error(rc == SCRM__NUM_RANGE && n ? SCRM_ERANGE : SCRM_EPARSE, -1, "%s",
                           msg);
    }
    *out = t;
    return SCRM_OK;
}
