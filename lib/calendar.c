/* Civil-date arithmetic on the proleptic Gregorian calendar.
 *
 * The two conversions follow Howard Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms" (http://howardhinnant.github.io/date_algorithms.html),
 * functions days_from_civil and civil_from_days: days are counted from
 * 1970-01-01, years are shifted to start on March 1 so that the leap day is
 * the last day of the shifted year, and a 400-year era has 146097 days.
 * Written here from the published description. */
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
 * 1970-01-01 (see include/shopcrm/cohort.h). Weeks follow ISO 8601-1:2019:
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

int scrm__period_check(const char *fn, int unit, int64_t utc_offset)
{
    if (unit < SCRM_PERIOD_DAY || unit > SCRM_PERIOD_YEAR)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown period unit %d (0..4)", fn, unit);
    if (utc_offset < -SCRM_PERIOD_MAX_UTC_OFFSET || utc_offset > SCRM_PERIOD_MAX_UTC_OFFSET)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: utc_offset %lld s is beyond +/-18 hours (+/-%d s)", fn,
                           (long long)utc_offset, SCRM_PERIOD_MAX_UTC_OFFSET);
    return SCRM_OK;
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
