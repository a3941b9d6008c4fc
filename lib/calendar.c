/* Civil-date arithmetic on the proleptic Gregorian calendar.
 *
 * The two conversions follow Howard Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms" (http://howardhinnant.github.io/date_algorithms.html),
 * functions days_from_civil and civil_from_days: days are counted from
 * 1970-01-01, years are shifted to start on March 1 so that the leap day is
 * the last day of the shifted year, and a 400-year era has 146097 days.
 * Written here from the published description. */
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
