/* Tests of time and money (shopcrm/common.h): calendar periods
 * (scrm_period_index, scrm_period_start, scrm_period_label), times and UTC
 * offsets as text (scrm_time_print, scrm_time_parse, scrm_time_parse_offset),
 * money in major units (scrm_money_print, scrm_money_to_major,
 * scrm_money_from_major) and the dataset's minor digits.
 *
 * Expected values are worked out by hand: 1970-01-01 is day 0, a Thursday;
 * its ISO week started on Monday 1969-12-29 (day -3), so week index =
 * floor((day + 3) / 7); month index = (year - 1970) * 12 + month - 1, etc.
 * Epoch seconds of dates are day * 86400 (e.g. 2021-01-04 is day 18631). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shopcrm.h"

#define H 3600
#define D INT64_C(86400)

struct period_case {
    const char *what;
    int64_t t, offset;
    int unit;
    int64_t index;     /* expected index */
    const char *label; /* expected label */
    int64_t start;     /* expected start (UTC) of that period */
};

static const struct period_case cases[] = {
    /* the epoch, every unit */
    {"epoch day", 0, 0, SCRM_PERIOD_DAY, 0, "1970-01-01", 0},
    {"epoch week: Monday 1969-12-29", 0, 0, SCRM_PERIOD_WEEK, 0, "1970-W01", -3 * D},
    {"epoch month", 0, 0, SCRM_PERIOD_MONTH, 0, "1970-01", 0},
    {"epoch quarter", 0, 0, SCRM_PERIOD_QUARTER, 0, "1970-Q1", 0},
    {"epoch year", 0, 0, SCRM_PERIOD_YEAR, 0, "1970", 0},
    /* one second before the epoch: negative times */
    {"-1 s day", -1, 0, SCRM_PERIOD_DAY, -1, "1969-12-31", -D},
    {"-1 s week (same ISO week as the epoch)", -1, 0, SCRM_PERIOD_WEEK, 0, "1970-W01", -3 * D},
    {"-1 s month", -1, 0, SCRM_PERIOD_MONTH, -1, "1969-12", -31 * D},
    {"-1 s quarter: Oct+Nov+Dec = 92 days", -1, 0, SCRM_PERIOD_QUARTER, -1, "1969-Q4", -92 * D},
    {"-1 s year", -1, 0, SCRM_PERIOD_YEAR, -1, "1969", -365 * D},
    {"Sunday 1969-12-28 23:59:59: week before", -3 * D - 1, 0, SCRM_PERIOD_WEEK, -1, "1969-W52",
     -10 * D},
    {"Monday 1969-12-29 00:00", -3 * D, 0, SCRM_PERIOD_WEEK, 0, "1970-W01", -3 * D},
    /* ISO week 53 and week-year boundaries */
    {"Thursday 2020-12-31 is 2020-W53", 18627 * D, 0, SCRM_PERIOD_WEEK, 2661, "2020-W53",
     18624 * D},
    {"Sunday 2021-01-03 is 2020-W53", 18630 * D + 86399, 0, SCRM_PERIOD_WEEK, 2661, "2020-W53",
     18624 * D},
    {"Monday 2021-01-04 is 2021-W01", 18631 * D, 0, SCRM_PERIOD_WEEK, 2662, "2021-W01",
     18631 * D},
    {"Monday 2008-12-29 is 2009-W01", 14242 * D, 0, SCRM_PERIOD_WEEK, 2035, "2009-W01",
     14242 * D},
    {"Saturday 2005-01-01 is 2004-W53", 12784 * D, 0, SCRM_PERIOD_WEEK, 1826, "2004-W53",
     12779 * D},
    {"2017-03-14 day", 1489449600, 0, SCRM_PERIOD_DAY, 17239, "2017-03-14", 1489449600},
    {"2017-03-14 week 11 (Mon 03-13)", 1489449600, 0, SCRM_PERIOD_WEEK, 2463, "2017-W11",
     1489363200},
    /* leap days */
    {"2020-02-29 noon, day", 1582977600, 0, SCRM_PERIOD_DAY, 18321, "2020-02-29", 18321 * D},
    {"2020-02-29 noon, month", 1582977600, 0, SCRM_PERIOD_MONTH, 601, "2020-02", 18293 * D},
    {"2000-02-29 (leap by 400)", 951782400, 0, SCRM_PERIOD_DAY, 11016, "2000-02-29", 951782400},
    {"1900-02-28 + 1 day is 1900-03-01 (not leap)", -2203977600 + D, 0, SCRM_PERIOD_DAY, -25508,
     "1900-03-01", -2203977600 + D},
    {"2020-03-01 starts Q1's last month; quarter Q1", 18322 * D, 0, SCRM_PERIOD_QUARTER, 200,
     "2020-Q1", 18262 * D},
    {"2021-03-01, 365 days after 2020-03-01", 18687 * D, 0, SCRM_PERIOD_MONTH, 614, "2021-03",
     18687 * D},
    /* UTC offsets crossing midnight and month ends */
    {"2017-02-28T23:30Z at +01:00 is March", 1488324600, H, SCRM_PERIOD_MONTH, 566, "2017-03",
     1488326400 - H},
    {"2017-02-28T23:30Z at +01:00 is 03-01", 1488324600, H, SCRM_PERIOD_DAY, 17226, "2017-03-01",
     1488326400 - H},
    {"2017-03-01T00:30Z at -01:00 is February", 1488326400 + 1800, -H, SCRM_PERIOD_MONTH, 565,
     "2017-02", 1485907200 + H},
    {"2016-12-31T20:00Z at +05:00 is 2017", 1483214400, 5 * H, SCRM_PERIOD_YEAR, 47, "2017",
     1483228800 - 5 * H},
    {"1970-01-01T00:00Z at -18:00 is 1969-12-31", 0, -18 * H, SCRM_PERIOD_DAY, -1, "1969-12-31",
     -D + 18 * H},
    {"1969-12-31T23:00Z at +18:00 is 1970-01-01", -H, 18 * H, SCRM_PERIOD_DAY, 0, "1970-01-01",
     -18 * H},
    /* limits of years 1..9999 */
    {"0001-01-01 day", SCRM_TIME_MIN, 0, SCRM_PERIOD_DAY, -719162, "0001-01-01", SCRM_TIME_MIN},
    {"0001-01-01 is a Monday: 0001-W01", SCRM_TIME_MIN, 0, SCRM_PERIOD_WEEK, -102737, "0001-W01",
     SCRM_TIME_MIN},
    {"0001-01 month", SCRM_TIME_MIN, 0, SCRM_PERIOD_MONTH, -23628, "0001-01", SCRM_TIME_MIN},
    {"0001-Q1", SCRM_TIME_MIN, 0, SCRM_PERIOD_QUARTER, -7876, "0001-Q1", SCRM_TIME_MIN},
    {"year 1", SCRM_TIME_MIN, 0, SCRM_PERIOD_YEAR, -1969, "0001", SCRM_TIME_MIN},
    {"year 1 at -01:00 from 01:00Z", SCRM_TIME_MIN + H, -H, SCRM_PERIOD_YEAR, -1969, "0001",
     SCRM_TIME_MIN + H},
    {"9999-12-31 day", SCRM_TIME_MAX, 0, SCRM_PERIOD_DAY, 2932896, "9999-12-31",
     SCRM_TIME_MAX + 1 - D},
    {"9999-12-31 (Friday) is 9999-W52", SCRM_TIME_MAX, 0, SCRM_PERIOD_WEEK, 418985, "9999-W52",
     SCRM_TIME_MAX + 1 - 5 * D},
    {"9999-12 month", SCRM_TIME_MAX, 0, SCRM_PERIOD_MONTH, 96359, "9999-12",
     SCRM_TIME_MAX + 1 - 31 * D},
    {"9999-Q4", SCRM_TIME_MAX, 0, SCRM_PERIOD_QUARTER, 32119, "9999-Q4",
     SCRM_TIME_MAX + 1 - 92 * D},
    {"year 9999", SCRM_TIME_MAX, 0, SCRM_PERIOD_YEAR, 8029, "9999", SCRM_TIME_MAX + 1 - 365 * D},
};

static void test_period_cases_worked_by_hand(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct period_case *c = &cases[i];
        int64_t idx = 12345, st = 12345;
        char buf[SCRM_PERIOD_LABEL_MAX];
        if (scrm_period_index(&idx, c->t, c->unit, c->offset) != SCRM_OK)
            fail_msg("%s: index failed: %s", c->what, scrm_last_error());
        if (idx != c->index)
            fail_msg("%s: index %lld, want %lld", c->what, (long long)idx, (long long)c->index);
        assert_int_equal(scrm_period_label(buf, sizeof buf, idx, c->unit), SCRM_OK);
        if (strcmp(buf, c->label) != 0)
            fail_msg("%s: label %s, want %s", c->what, buf, c->label);
        assert_int_equal(scrm_period_start(&st, idx, c->unit, c->offset), SCRM_OK);
        if (st != c->start)
            fail_msg("%s: start %lld, want %lld", c->what, (long long)st, (long long)c->start);
    }
}

static void test_period_outside_years_1_to_9999_is_erange(void **state)
{
    (void)state;
    int64_t idx = 7, st = 7;
    char buf[SCRM_PERIOD_LABEL_MAX] = "unchanged";
    for (int unit = 0; unit <= SCRM_PERIOD_YEAR; unit++) {
        assert_int_equal(scrm_period_index(&idx, SCRM_TIME_MIN - 1, unit, 0), SCRM_ERANGE);
        assert_int_equal(scrm_period_index(&idx, SCRM_TIME_MAX + 1, unit, 0), SCRM_ERANGE);
        /* the offset moves a valid UTC time out of range */
        assert_int_equal(scrm_period_index(&idx, SCRM_TIME_MIN, unit, -1), SCRM_ERANGE);
        assert_int_equal(scrm_period_index(&idx, SCRM_TIME_MAX, unit, 1), SCRM_ERANGE);
        assert_int_equal(scrm_period_index(&idx, INT64_MAX, unit, 3600), SCRM_ERANGE);
        assert_int_equal(scrm_period_index(&idx, INT64_MIN, unit, -3600), SCRM_ERANGE);
        assert_int_equal(idx, 7);
        /* one period past either end */
        int64_t first, last;
        assert_int_equal(scrm_period_index(&first, SCRM_TIME_MIN, unit, 0), SCRM_OK);
        assert_int_equal(scrm_period_index(&last, SCRM_TIME_MAX, unit, 0), SCRM_OK);
        assert_int_equal(scrm_period_start(&st, first - 1, unit, 0), SCRM_ERANGE);
        assert_int_equal(scrm_period_start(&st, last + 1, unit, 0), SCRM_ERANGE);
        assert_int_equal(scrm_period_start(&st, INT64_MAX, unit, 0), SCRM_ERANGE);
        assert_int_equal(scrm_period_start(&st, INT64_MIN, unit, 0), SCRM_ERANGE);
        assert_int_equal(st, 7);
        assert_int_equal(scrm_period_label(buf, sizeof buf, first - 1, unit), SCRM_ERANGE);
        assert_int_equal(scrm_period_label(buf, sizeof buf, last + 1, unit), SCRM_ERANGE);
        assert_string_equal(buf, "unchanged");
        assert_non_null(strstr(scrm_last_error(), "1..9999"));
    }
}

static void test_period_bad_arguments_are_einval(void **state)
{
    (void)state;
    int64_t v = 7;
    char buf[SCRM_PERIOD_LABEL_MAX] = "unchanged";
    assert_int_equal(scrm_period_index(NULL, 0, SCRM_PERIOD_DAY, 0), SCRM_EINVAL);
    assert_int_equal(scrm_period_start(NULL, 0, SCRM_PERIOD_DAY, 0), SCRM_EINVAL);
    assert_int_equal(scrm_period_label(NULL, 16, 0, SCRM_PERIOD_DAY), SCRM_EINVAL);
    assert_int_equal(scrm_period_index(&v, 0, -1, 0), SCRM_EINVAL);
    assert_int_equal(scrm_period_index(&v, 0, 5, 0), SCRM_EINVAL);
    assert_int_equal(scrm_period_start(&v, 0, 5, 0), SCRM_EINVAL);
    assert_int_equal(scrm_period_label(buf, sizeof buf, 0, 5), SCRM_EINVAL);
    assert_int_equal(scrm_period_index(&v, 0, SCRM_PERIOD_DAY, 18 * H + 1), SCRM_EINVAL);
    assert_int_equal(scrm_period_index(&v, 0, SCRM_PERIOD_DAY, -18 * H - 1), SCRM_EINVAL);
    assert_int_equal(scrm_period_start(&v, 0, SCRM_PERIOD_DAY, 18 * H + 1), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "utc_offset"));
    assert_int_equal(v, 7);
    /* +-18:00 exactly is allowed */
    assert_int_equal(scrm_period_index(&v, 0, SCRM_PERIOD_DAY, 18 * H), SCRM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(scrm_period_index(&v, 0, SCRM_PERIOD_DAY, -18 * H), SCRM_OK);
    assert_int_equal(v, -1);
}

static void test_period_label_needs_room_for_the_nul(void **state)
{
    (void)state;
    char buf[16];
    /* "2017-03" is 7 characters + NUL */
    memcpy(buf, "xxxxxxxxxxxxxxx", 16);
    assert_int_equal(scrm_period_label(buf, 7, 566, SCRM_PERIOD_MONTH), SCRM_EINVAL);
    assert_int_equal(buf[0], 'x');
    assert_int_equal(scrm_period_label(buf, 8, 566, SCRM_PERIOD_MONTH), SCRM_OK);
    assert_string_equal(buf, "2017-03");
    assert_int_equal(scrm_period_label(buf, 10, 17239, SCRM_PERIOD_DAY), SCRM_EINVAL);
    assert_int_equal(scrm_period_label(buf, 11, 17239, SCRM_PERIOD_DAY), SCRM_OK);
    assert_string_equal(buf, "2017-03-14");
    assert_int_equal(scrm_period_label(buf, 4, 0, SCRM_PERIOD_YEAR), SCRM_EINVAL);
    assert_int_equal(scrm_period_label(buf, 5, 0, SCRM_PERIOD_YEAR), SCRM_OK);
    assert_string_equal(buf, "1970");
    assert_int_equal(scrm_period_label(buf, 0, 0, SCRM_PERIOD_YEAR), SCRM_EINVAL);
}

/* xorshift64* (Vigna 2016) for reproducible random times */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static void test_period_index_and_start_are_inverse_on_random_times(void **state)
{
    (void)state;
    const uint64_t span = (uint64_t)(SCRM_TIME_MAX - SCRM_TIME_MIN) + 1;
    for (int i = 0; i < 200000; i++) {
        const int unit = (int)(rng() % 5);
        const int64_t off = (int64_t)(rng() % (2 * 64800 + 1)) - 64800;
        int64_t t = SCRM_TIME_MIN + (int64_t)(rng() % span);
        if (i % 4 == 0) /* near the epoch, where signs change */
            t = (int64_t)(rng() % (400 * D)) - 200 * D;
        int64_t idx, s0, s1, back;
        if (scrm_period_index(&idx, t, unit, off) != SCRM_OK) {
            /* only when the offset pushes t outside years 1..9999 */
            assert_true(t + off < SCRM_TIME_MIN || t + off > SCRM_TIME_MAX);
            continue;
        }
        assert_int_equal(scrm_period_start(&s0, idx, unit, off), SCRM_OK);
        assert_true(s0 <= t);
        assert_int_equal(scrm_period_index(&back, s0, unit, off), SCRM_OK);
        assert_int_equal(back, idx);
        if (scrm_period_start(&s1, idx + 1, unit, off) == SCRM_OK) {
            assert_true(t < s1);
            assert_int_equal(scrm_period_index(&back, s1 - 1, unit, off), SCRM_OK);
            assert_int_equal(back, idx);
        } else {
            /* idx is the last period: t is in the last year */
            assert_true(t + off > SCRM_TIME_MAX - 366 * D);
        }
        char buf[SCRM_PERIOD_LABEL_MAX];
        assert_int_equal(scrm_period_label(buf, sizeof buf, idx, unit), SCRM_OK);
    }
}

/* Every day of 1999..2031: ISO weeks by the rule "the week belongs to the
 * year of its Thursday", checked against the weekday and day of year. */
static void test_iso_weeks_follow_the_thursday_rule(void **state)
{
    (void)state;
    /* 1999-01-01 is day 10592, a Friday */
    int64_t day = 10592;
    int weekday = 5; /* 1 = Monday */
    for (int y = 1999; y <= 2031; y++) {
        const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int doy = 1; doy <= 365 + leap; doy++, day++, weekday = weekday % 7 + 1) {
            /* ISO 8601 week number: (doy - weekday + 10) / 7 */
            int week = (doy - weekday + 10) / 7, iso_year = y;
            /* weekday of January 1st, 0 = Monday; a year has 53 weeks when
             * it starts on a Thursday, or on a Wednesday in a leap year */
            const int jan1 = ((weekday - 1 - (doy - 1)) % 7 + 7) % 7;
            if (week < 1) {
                const int py = y - 1;
                const int pleap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
                const int pjan1 = ((jan1 - (365 + pleap)) % 7 + 7) % 7;
                week = (pjan1 == 3 || (pleap && pjan1 == 2)) ? 53 : 52;
                iso_year = py;
            } else if (week == 53 && !(jan1 == 3 || (leap && jan1 == 2))) {
                week = 1;
                iso_year = y + 1;
            }
            char want[16], got[SCRM_PERIOD_LABEL_MAX];
            snprintf(want, sizeof want, "%04d-W%02d", iso_year, week);
            int64_t idx;
            assert_int_equal(scrm_period_index(&idx, day * D + 43200, SCRM_PERIOD_WEEK, 0), SCRM_OK);
            assert_int_equal(scrm_period_label(got, sizeof got, idx, SCRM_PERIOD_WEEK), SCRM_OK);
            if (strcmp(want, got) != 0)
                fail_msg("day %lld (%d, doy %d, weekday %d): %s, want %s", (long long)day, y, doy,
                         weekday, got, want);
        }
    }
}


/* 2024-01-15 is day 19737 (2024-01-01 is 1704067200 / 86400 = 19723). */
#define JAN15 (INT64_C(19737) * D)

static void test_time_print_styles_and_offsets(void **state)
{
    (void)state;
    static const struct {
        int64_t t, off;
        int style;
        const char *want;
    } cases[] = {
        {JAN15 + 13 * H + 45 * 60, 0, SCRM_TIME_STYLE_DATE, "2024-01-15"},
        {JAN15 + 13 * H + 45 * 60, 0, SCRM_TIME_STYLE_DATETIME, "2024-01-15 13:45:00"},
        {JAN15 + 13 * H + 45 * 60, 0, SCRM_TIME_STYLE_ISO8601, "2024-01-15T13:45:00Z"},
        /* São Paulo, UTC-3: 02:00Z is 23:00 the day before */
        {JAN15 + 2 * H, -3 * H, SCRM_TIME_STYLE_ISO8601, "2024-01-14T23:00:00-03:00"},
        {JAN15 + 2 * H, -3 * H, SCRM_TIME_STYLE_DATE, "2024-01-14"},
        {JAN15, 5 * H + 30 * 60, SCRM_TIME_STYLE_ISO8601, "2024-01-15T05:30:00+05:30"},
        {JAN15, 61, SCRM_TIME_STYLE_ISO8601, "2024-01-15T00:01:01+00:01:01"},
        {INT64_C(-62135596800), 0, SCRM_TIME_STYLE_DATETIME, "0001-01-01 00:00:00"},
        {INT64_C(253402300799), 0, SCRM_TIME_STYLE_DATETIME, "9999-12-31 23:59:59"},
        {-1, 0, SCRM_TIME_STYLE_DATETIME, "1969-12-31 23:59:59"},
        {INT64_C(19782) * D, 0, SCRM_TIME_STYLE_DATE, "2024-02-29"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[SCRM_TIME_TEXT_MAX];
        assert_int_equal(scrm_time_print(buf, sizeof buf, cases[i].t, cases[i].off, cases[i].style),
                         SCRM_OK);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_time_print_errors_leave_the_buffer(void **state)
{
    (void)state;
    char buf[11] = "unchanged";
    assert_int_equal(scrm_time_print(buf, 10, JAN15, 0, SCRM_TIME_STYLE_DATE), SCRM_EINVAL);
    assert_string_equal(buf, "unchanged");
    assert_int_equal(scrm_time_print(buf, 11, JAN15, 0, SCRM_TIME_STYLE_DATE), SCRM_OK);
    assert_string_equal(buf, "2024-01-15");
    strcpy(buf, "unchanged");
    assert_int_equal(scrm_time_print(buf, 11, JAN15, 0, 3), SCRM_EINVAL);
    assert_int_equal(scrm_time_print(buf, 11, JAN15, SCRM_MAX_UTC_OFFSET + 1, 0), SCRM_EINVAL);
    assert_int_equal(scrm_time_print(buf, 11, INT64_C(253402300799), 1, 0), SCRM_ERANGE);
    assert_int_equal(scrm_time_print(buf, 11, INT64_C(-62135596800), -1, 0), SCRM_ERANGE);
    assert_int_equal(scrm_time_print(buf, 11, INT64_MAX, SCRM_MAX_UTC_OFFSET, 0), SCRM_ERANGE);
    assert_string_equal(buf, "unchanged");
    assert_int_equal(scrm_time_print(NULL, 11, JAN15, 0, 0), SCRM_EINVAL);
}

static void test_time_parse_offset_forms(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t want;
    } cases[] = {
        {"-10800", SCRM_OK, -10800}, {"-03:00", SCRM_OK, -10800}, {"-0300", SCRM_OK, -10800},
        {"-03", SCRM_OK, -10800},    {"+05:30", SCRM_OK, 19800},  {"Z", SCRM_OK, 0},
        {"0", SCRM_OK, 0},           {"+18:00", SCRM_OK, 64800},  {"64800", SCRM_OK, 64800},
        {"-64800", SCRM_OK, -64800}, {"64801", SCRM_EINVAL, 0},   {"+18:01", SCRM_EINVAL, 0},
        {"-03:60", SCRM_EINVAL, 0},  {"", SCRM_EINVAL, 0},        {"-", SCRM_EINVAL, 0},
        {"3h", SCRM_EINVAL, 0},      {"-03:0", SCRM_EINVAL, 0},   {"z", SCRM_EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        int rc = scrm_time_parse_offset(&v, cases[i].s, strlen(cases[i].s));
        if (rc != cases[i].rc)
            fail_msg("'%s': rc %d, want %d", cases[i].s, rc, cases[i].rc);
        assert_int_equal(v, cases[i].rc == SCRM_OK ? cases[i].want : 12345);
    }
}

static void test_time_parse_formats_worked_by_hand(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int format;
        int64_t off;
        int rc;
        int64_t want;
    } cases[] = {
        {"2024-01-15", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15},
        {"2024-01-15", SCRM_TIME_ISO8601, -3 * H, SCRM_OK, JAN15 + 3 * H},
        {"2024-01-15 13:45", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15 + 13 * H + 45 * 60},
        {"2024-01-15T13:45:10", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15 + 13 * H + 45 * 60 + 10},
        {"2024-01-15T13:45:10Z", SCRM_TIME_AUTO, -3 * H, SCRM_OK, JAN15 + 13 * H + 45 * 60 + 10},
        {"2024-01-15T13:45:10-03:00", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15 + 16 * H + 45 * 60 + 10},
        {"20240115", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15},
        {"20240115", SCRM_TIME_YYYYMMDD, 0, SCRM_OK, JAN15},
        {"20240115", SCRM_TIME_EPOCH, 0, SCRM_OK, 20240115},
        {"1705276800", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15},
        {"-1", SCRM_TIME_EPOCH, 0, SCRM_OK, -1},
        {"15/01/2024", SCRM_TIME_AUTO, 0, SCRM_OK, JAN15},
        {"5/1/2024 09:30", SCRM_TIME_DMY, 0, SCRM_OK, JAN15 - 10 * D + 9 * H + 30 * 60},
        {"2024-02-29", SCRM_TIME_AUTO, 0, SCRM_OK, INT64_C(19782) * D},
        {"2023-02-29", SCRM_TIME_AUTO, 0, SCRM_EPARSE, 0},
        {"2024-13-01", SCRM_TIME_AUTO, 0, SCRM_EPARSE, 0},
        {"2024-01-15 25:00", SCRM_TIME_AUTO, 0, SCRM_EPARSE, 0},
        {"2024-01-15x", SCRM_TIME_AUTO, 0, SCRM_EPARSE, 0},
        {"2024-01-15", SCRM_TIME_YYYYMMDD, 0, SCRM_EPARSE, 0},
        {"", SCRM_TIME_AUTO, 0, SCRM_EPARSE, 0},
        {"0001-01-01", SCRM_TIME_AUTO, 0, SCRM_OK, INT64_C(-62135596800)},
        {"0001-01-01", SCRM_TIME_AUTO, 1, SCRM_ERANGE, 0},
        {"9999-12-31T23:59:59", SCRM_TIME_AUTO, 0, SCRM_OK, INT64_C(253402300799)},
        {"9999-12-31T23:59:59", SCRM_TIME_AUTO, -1, SCRM_ERANGE, 0},
        {"2024-01-15", 6, 0, SCRM_EINVAL, 0},
        {"2024-01-15", SCRM_TIME_AUTO, SCRM_MAX_UTC_OFFSET + 1, SCRM_EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 777;
        int rc = scrm_time_parse(&v, cases[i].s, strlen(cases[i].s), cases[i].format,
                                 cases[i].off);
        if (rc != cases[i].rc)
            fail_msg("'%s' (format %d): rc %d, want %d (%s)", cases[i].s, cases[i].format, rc,
                     cases[i].rc, scrm_last_error());
        if (rc == SCRM_OK && v != cases[i].want)
            fail_msg("'%s': %lld, want %lld", cases[i].s, (long long)v,
                     (long long)cases[i].want);
        if (rc != SCRM_OK)
            assert_int_equal(v, 777);
    }
    /* not NUL-terminated: only len bytes are read */
    int64_t v;
    assert_int_equal(scrm_time_parse(&v, "2024-01-15junk", 10, SCRM_TIME_AUTO, 0), SCRM_OK);
    assert_int_equal(v, JAN15);
    assert_int_equal(scrm_time_parse(NULL, "2024-01-15", 10, 0, 0), SCRM_EINVAL);
}

static void test_money_print_uses_the_minor_digits(void **state)
{
    (void)state;
    static const struct {
        int64_t a;
        uint32_t digits;
        const char *want;
    } cases[] = {
        {123456, 2, "1234.56"}, {-5, 2, "-0.05"},   {0, 2, "0.00"},       {1500, 0, "1500"},
        {-1500, 0, "-1500"},    {12345, 3, "12.345"}, {7, 6, "0.000007"},
        {INT64_MIN, 2, "-92233720368547758.08"}, {INT64_MAX, 0, "9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[SCRM_MONEY_TEXT_MAX];
        assert_int_equal(scrm_money_print(buf, sizeof buf, cases[i].a, cases[i].digits), SCRM_OK);
        assert_string_equal(buf, cases[i].want);
    }
    char small[5] = "keep";
    assert_int_equal(scrm_money_print(small, sizeof small, 123456, 2), SCRM_EINVAL);
    assert_string_equal(small, "keep");
    assert_int_equal(scrm_money_print(small, sizeof small, 1, 7), SCRM_EINVAL);
    assert_int_equal(scrm_money_print(small, sizeof small, 1234, 0), SCRM_OK);
    assert_string_equal(small, "1234");
}

static void test_money_major_conversions(void **state)
{
    (void)state;
    assert_true(scrm_money_to_major(123456, 2) == 1234.56);
    assert_true(scrm_money_to_major(1500, 0) == 1500.0);
    assert_true(scrm_money_to_major(12345, 3) == 12.345);
    int64_t v = 99;
    assert_int_equal(scrm_money_from_major(&v, 12.5, 2), SCRM_OK);
    assert_int_equal(v, 1250);
    assert_int_equal(scrm_money_from_major(&v, 0.125 * 2, 0), SCRM_OK); /* 0.25 -> 0 */
    assert_int_equal(v, 0);
    assert_int_equal(scrm_money_from_major(&v, 2.5, 0), SCRM_OK); /* half away from zero */
    assert_int_equal(v, 3);
    assert_int_equal(scrm_money_from_major(&v, -2.5, 0), SCRM_OK);
    assert_int_equal(v, -3);
    assert_int_equal(scrm_money_from_major(&v, 1e300, 2), SCRM_ERANGE);
    assert_int_equal(scrm_money_from_major(&v, 9.3e16, 2), SCRM_ERANGE);
    assert_int_equal(v, -3);
    assert_int_equal(scrm_money_from_major(&v, 0.0 / 0.0, 2), SCRM_EINVAL);
    assert_int_equal(scrm_money_from_major(&v, 1.0, 7), SCRM_EINVAL);
    assert_int_equal(scrm_money_from_major(NULL, 1.0, 2), SCRM_EINVAL);
}

static void test_dataset_minor_digits_option(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_minor_digits(NULL), 2);
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_minor_digits(ds), 2);
    scrm_dataset_free(ds);
    scrm_dataset_options o = SCRM_DATASET_OPTIONS_INIT;
    o.minor_digits = 0;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_OK);
    assert_int_equal(scrm_dataset_minor_digits(ds), 0);
    scrm_dataset_free(ds);
    ds = NULL;
    o.minor_digits = SCRM_MAX_MINOR_DIGITS + 1;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_EINVAL);
    assert_null(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_cases_worked_by_hand),
        cmocka_unit_test(test_period_outside_years_1_to_9999_is_erange),
        cmocka_unit_test(test_period_bad_arguments_are_einval),
        cmocka_unit_test(test_period_label_needs_room_for_the_nul),
        cmocka_unit_test(test_period_index_and_start_are_inverse_on_random_times),
        cmocka_unit_test(test_iso_weeks_follow_the_thursday_rule),
        cmocka_unit_test(test_time_print_styles_and_offsets),
        cmocka_unit_test(test_time_print_errors_leave_the_buffer),
        cmocka_unit_test(test_time_parse_offset_forms),
        cmocka_unit_test(test_time_parse_formats_worked_by_hand),
        cmocka_unit_test(test_money_print_uses_the_minor_digits),
        cmocka_unit_test(test_money_major_conversions),
        cmocka_unit_test(test_dataset_minor_digits_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
