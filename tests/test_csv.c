/* Tests of CSV loading (shopcrm/io.h, lib/csv.c) and the civil-date helpers
 * of lib/calendar.c.
 *
 * Expected times are worked out by hand from day counts: 1970-01-01 is day
 * 0, 2024-01-01 is day 19723 (54 years, 13 of them leap: 54*365+13), so
 * 2024-03-01 is day 19723+31+29 = 19783, time 19783*86400 = 1709251200.
 * 1997-01-01 is day 9862 (27*365+7), time 852076800. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "failalloc.h"
#include "internal.h"
#include "shopcrm.h"

extern uint64_t scrm__csv_min_chunk_bytes;
extern uint64_t scrm__csv_window_bytes;

#define T20240301 INT64_C(1709251200)
#define T19970101 INT64_C(852076800)

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static scrm_dataset *new_ds(int key_type)
{
    scrm_dataset_options o = SCRM_DATASET_OPTIONS_INIT;
    o.key_type = key_type;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_OK);
    return ds;
}

static int load(scrm_csv_report **rep, scrm_dataset *ds, const char *text,
                const scrm_csv_options *o)
{
    return scrm_csv_load_buffer(rep, ds, text, strlen(text), o);
}

/* Sum of all amounts, via the partition view. */
static int64_t total_amount(const scrm_dataset *ds)
{
    int64_t s = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t k = 0; k < v.n_seg; k++)
            for (uint64_t i = 0; i < v.seg[k].n; i++)
                s += v.seg[k].amount[i];
    }
    return s;
}

/* The single order of a one-row dataset. */
static void only_order(const scrm_dataset *ds, int64_t *time, int64_t *amount)
{
    assert_int_equal(scrm_dataset_order_count(ds), 1);
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        if (v.n_rows) {
            *time = v.seg[0].time[0];
            *amount = v.seg[0].amount[0];
            return;
        }
    }
    fail();
}

static int64_t amount_of_u64(const scrm_dataset *ds, uint64_t key)
{
    uint32_t idx;
    assert_int_equal(scrm_dataset_find_u64(&idx, ds, key), SCRM_OK);
    int64_t s = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t k = 0; k < v.n_seg; k++)
            for (uint64_t i = 0; i < v.seg[k].n; i++)
                if (v.gid[v.seg[k].cust[i]] == idx)
                    s += v.seg[k].amount[i];
    }
    return s;
}

static void check_reject(const scrm_csv_report *r, uint64_t i, uint64_t line, const char *column,
                         const char *reason)
{
    uint64_t l;
    const char *c, *why;
    assert_int_equal(scrm_csv_report_reject(&l, &c, &why, r, i), SCRM_OK);
    assert_int_equal(l, line);
    assert_string_equal(c, column);
    assert_string_equal(why, reason);
}

/* ------------------------------------------------------------------ */
/* calendar                                                            */

static void test_calendar_round_trip_and_known_days(void **state)
{
    (void)state;
    assert_int_equal(scrm__days_from_civil(1970, 1, 1), 0);
    assert_int_equal(scrm__days_from_civil(2024, 3, 1), 19783);
    assert_int_equal(scrm__days_from_civil(1969, 12, 31), -1);
    assert_int_equal(scrm__days_from_civil(2000, 2, 29), 11016); /* 30*365+7+31+28 */
    /* 0001-01-01 is SCRM_TIME_MIN / 86400 */
    assert_int_equal(scrm__days_from_civil(1, 1, 1) * 86400, SCRM_TIME_MIN);
    assert_int_equal(scrm__days_from_civil(9999, 12, 31) * 86400 + 86399, SCRM_TIME_MAX);
    for (int64_t d = -800000; d <= 3000000; d += 7) {
        int64_t y;
        unsigned m, dd;
        scrm__civil_from_days(d, &y, &m, &dd);
        assert_true(scrm__valid_date(y, m, dd));
        assert_int_equal(scrm__days_from_civil(y, m, dd), d);
    }
    assert_true(scrm__is_leap_year(2000));
    assert_false(scrm__is_leap_year(1900));
    assert_true(scrm__is_leap_year(2024));
    assert_int_equal(scrm__days_in_month(2023, 2), 28);
    assert_int_equal(scrm__days_in_month(2024, 2), 29);
    assert_int_equal(scrm__days_in_month(2024, 13), 0);
    assert_false(scrm__valid_date(2023, 2, 29));
    assert_false(scrm__valid_date(2023, 4, 31));
}

/* ------------------------------------------------------------------ */
/* options, NULL arguments                                             */

static void test_options_init_defaults_and_errors(void **state)
{
    (void)state;
    scrm_csv_options o;
    memset(&o, 0xab, sizeof o);
    assert_int_equal(scrm_csv_options_init(&o, SCRM_CSV_OPTIONS_VERSION), SCRM_OK);
    assert_int_equal(o.version, SCRM_CSV_OPTIONS_VERSION);
    assert_string_equal(o.customer_column, "customer_id");
    assert_string_equal(o.time_column, "date");
    assert_string_equal(o.amount_column, "amount");
    assert_null(o.order_id_column);
    assert_null(o.quantity_column);
    assert_int_equal(o.has_header, 1);
    assert_int_equal(o.delimiter, 0);
    assert_int_equal(o.time_format, SCRM_TIME_AUTO);
    assert_int_equal(o.decimal_separator, '.');
    assert_int_equal(o.minor_digits, 2);
    assert_int_equal(o.on_error, SCRM_CSV_STRICT);
    assert_int_equal(o.max_rejects, 100);
    assert_null(o.na_customer);
    assert_null(o.progress);
    assert_int_equal(o.threads, 0);
    assert_int_equal(scrm_csv_options_init(NULL, 1), SCRM_EINVAL);
    assert_int_equal(scrm_csv_options_init(&o, 0), SCRM_EVERSION);
    assert_int_equal(scrm_csv_options_init(&o, SCRM_CSV_OPTIONS_VERSION + 1), SCRM_EVERSION);
}

static void test_bad_options_are_einval(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    const char *text = "customer_id,date,amount\n1,2024-03-01,1\n";
    struct {
        const char *what;
        scrm_csv_options o;
    } cases[6];
    for (int i = 0; i < 6; i++)
        scrm_csv_options_init(&cases[i].o, SCRM_CSV_OPTIONS_VERSION);
    cases[0].o.delimiter = '|';
    cases[1].o.decimal_separator = ';';
    cases[2].o.minor_digits = 7;
    cases[3].o.utc_offset = 86401;
    cases[4].o.quantity_column = "q"; /* without unit price */
    cases[5].o.time_format = 6;
    for (int i = 0; i < 6; i++)
        assert_int_equal(load(NULL, ds, text, &cases[i].o), SCRM_EINVAL);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.on_error = 2;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EVERSION);
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    scrm_dataset_free(ds);
}

static void test_null_arguments(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *rep = (scrm_csv_report *)(uintptr_t)1;
    assert_int_equal(scrm_csv_load_buffer(&rep, NULL, "a", 1, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_csv_load_buffer(&rep, ds, NULL, 5, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_csv_load_file(&rep, NULL, "x.csv", NULL), SCRM_EINVAL);
    assert_int_equal(scrm_csv_load_file(&rep, ds, NULL, NULL), SCRM_EINVAL);
    assert_ptr_equal(rep, (scrm_csv_report *)(uintptr_t)1); /* untouched */
    assert_int_equal(scrm_csv_load_file(NULL, ds, "/nonexistent/dir/x.csv", NULL), SCRM_EIO);
    assert_non_null(strstr(scrm_last_error(), "/nonexistent/dir/x.csv"));
    scrm_csv_report_free(NULL);
    assert_int_equal(scrm_csv_report_rows_read(NULL), 0);
    assert_int_equal(scrm_csv_report_rows_added(NULL), 0);
    assert_int_equal(scrm_csv_report_duplicates(NULL), 0);
    assert_int_equal(scrm_csv_report_empty_customer(NULL), 0);
    assert_int_equal(scrm_csv_report_rejected(NULL), 0);
    assert_int_equal(scrm_csv_report_reject_count(NULL), 0);
    assert_int_equal(scrm_csv_report_time_format(NULL), SCRM_TIME_AUTO);
    assert_int_equal(scrm_csv_report_delimiter(NULL), 0);
    assert_int_equal(scrm_csv_report_key_type(NULL), SCRM_KEY_AUTO);
    assert_int_equal(scrm_csv_report_reject(NULL, NULL, NULL, NULL, 0), SCRM_EINVAL);
    /* a NULL buffer of length 0 is an empty input: no header */
    assert_int_equal(scrm_csv_load_buffer(NULL, ds, NULL, 0, NULL), SCRM_EINVAL);
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* time formats                                                        */

struct time_case {
    int format;       /* option */
    const char *text; /* the time field */
    int64_t offset;   /* utc_offset option */
    int64_t expect;
};

static void test_time_formats_explicit(void **state)
{
    (void)state;
    static const struct time_case cases[] = {
        {SCRM_TIME_ISO8601, "2024-03-01", 0, T20240301},
        {SCRM_TIME_ISO8601, "2024-03-01T12:34:56", 0, T20240301 + 45296},
        {SCRM_TIME_ISO8601, "2024-03-01 12:34:56", 0, T20240301 + 45296},
        {SCRM_TIME_ISO8601, "2024-03-01 12:34", 0, T20240301 + 45240},
        {SCRM_TIME_ISO8601, "2024-03-01T12:34:56.999", 0, T20240301 + 45296}, /* fraction dropped */
        {SCRM_TIME_ISO8601, "\"2024-03-01T12:34:56,5Z\"", 0, T20240301 + 45296},
        {SCRM_TIME_ISO8601, "2024-03-01T12:00:00Z", 0, T20240301 + 43200},
        {SCRM_TIME_ISO8601, "2024-03-01T12:00:00+02:00", 0, T20240301 + 43200 - 7200},
        {SCRM_TIME_ISO8601, "2024-03-01T12:00:00-0530", 0, T20240301 + 43200 + 19800},
        {SCRM_TIME_ISO8601, "2024-03-01T12:00:00+05", 0, T20240301 + 43200 - 18000},
        {SCRM_TIME_ISO8601, "2024-03-01 12:00:00 UTC", 0, T20240301 + 43200},
        /* local time with the utc_offset option (São Paulo, UTC-3) */
        {SCRM_TIME_ISO8601, "2024-03-01 00:00:00", -10800, T20240301 + 10800},
        {SCRM_TIME_ISO8601, "2024-03-01", 3600, T20240301 - 3600},
        /* an explicit offset wins over the option */
        {SCRM_TIME_ISO8601, "2024-03-01T00:00:00Z", -10800, T20240301},
        {SCRM_TIME_ISO8601, "2024-03-01T00:00:00+01:00", -10800, T20240301 - 3600},
        {SCRM_TIME_YYYYMMDD, "20240301", 0, T20240301},
        {SCRM_TIME_YYYYMMDD, "19970101", 0, T19970101},
        {SCRM_TIME_YYYYMMDD, "20240301", -10800, T20240301 + 10800},
        {SCRM_TIME_DMY, "01/03/2024", 0, T20240301},
        {SCRM_TIME_DMY, "1/3/2024", 0, T20240301},
        {SCRM_TIME_DMY, "01/03/2024 12:34", 0, T20240301 + 45240},
        {SCRM_TIME_DMY, "01/03/2024 12:34:56", 7200, T20240301 + 45296 - 7200},
        {SCRM_TIME_EPOCH, "1709251200", 0, T20240301},
        {SCRM_TIME_EPOCH, "1709251200", 3600, T20240301}, /* epoch is UTC already */
        {SCRM_TIME_EPOCH, "-86400", 0, -86400},
        {SCRM_TIME_EPOCH, "20240301", 0, 20240301},
        {SCRM_TIME_AUTO, "2024-03-01T10:00:00Z", 0, T20240301 + 36000},
        {SCRM_TIME_AUTO, "20240301", 0, T20240301},
        {SCRM_TIME_AUTO, "1709251200", 0, T20240301},
        {SCRM_TIME_AUTO, "13/03/2024", 0, T20240301 + 12 * 86400},
        {SCRM_TIME_AUTO, " 2024-03-01 ", 0, T20240301}, /* spaces trimmed */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id,date,amount\n7,%s,1.00\n", cases[i].text);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.time_format = cases[i].format;
        o.utc_offset = cases[i].offset;
        scrm_csv_report *rep = NULL;
        int rc = load(&rep, ds, text, &o);
        if (rc != SCRM_OK)
            print_error("case %zu '%s': %s\n", i, cases[i].text, scrm_last_error());
        assert_int_equal(rc, SCRM_OK);
        int64_t t, a;
        only_order(ds, &t, &a);
        if (t != cases[i].expect)
            print_error("case %zu '%s'\n", i, cases[i].text);
        assert_int_equal(t, cases[i].expect);
        assert_int_equal(a, 100);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
}

static void test_time_bad_values_rejected_with_reason(void **state)
{
    (void)state;
    static const struct {
        int format;
        const char *text;
        const char *reason;
    } cases[] = {
        {SCRM_TIME_ISO8601, "2024-02-30", "'2024-02-30' is not an ISO 8601 time: day 30 (February 2024 has 29 days)"},
        {SCRM_TIME_ISO8601, "2024-03-01T24:00:00", "'2024-03-01T24:00:00' is not an ISO 8601 time: hour 24"},
        {SCRM_TIME_ISO8601, "2024-03-01T12:00:00+", "'2024-03-01T12:00:00+' is not an ISO 8601 time: bad UTC offset"},
        {SCRM_TIME_ISO8601, "20240301", "'20240301' is not an ISO 8601 time"},
        {SCRM_TIME_YYYYMMDD, "20241301", "'20241301' is not a YYYYMMDD date: month 13"},
        {SCRM_TIME_YYYYMMDD, "2024031", "'2024031' is not a YYYYMMDD date: 7 digits, not 8"},
        {SCRM_TIME_DMY, "31/02/2024", "'31/02/2024' is not a DD/MM/YYYY date: day 31 (February 2024 has 29 days)"},
        {SCRM_TIME_EPOCH, "17e8", "'17e8' is not an epoch time in seconds"},
        {SCRM_TIME_EPOCH, "253402300800", "'253402300800' is out of range (years 1 to 9999)"},
        {SCRM_TIME_EPOCH, "99999999999999999999",
         "'99999999999999999999' is out of range (years 1 to 9999)"},
        {SCRM_TIME_EPOCH, "-1234567a", "'-1234567a' is not an epoch time in seconds"},
        {SCRM_TIME_AUTO, "yesterday",
         "'yesterday' is not a time (ISO 8601, YYYYMMDD, DD/MM/YYYY, MM/DD/YYYY or epoch seconds)"},
        {SCRM_TIME_AUTO, "", "empty value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id,date,amount\n7,%s,1.00\n", cases[i].text);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.time_format = cases[i].format;
        assert_int_equal(load(NULL, ds, text, &o), SCRM_EPARSE);
        char expect[300];
        snprintf(expect, sizeof expect, "line 2, column date: %s", cases[i].reason);
        assert_string_equal(scrm_last_error(), expect);
        assert_int_equal(scrm_last_error_index(), 2);
        assert_int_equal(scrm_dataset_order_count(ds), 0);
        scrm_dataset_free(ds);
    }
}

static void test_time_auto_decides_per_column(void **state)
{
    (void)state;
    static const struct {
        const char *t1, *t2;
        int format;
        int64_t expect1;
    } cases[] = {
        /* CDNOW style: 8-digit valid dates */
        {"19970101", "19970102", SCRM_TIME_YYYYMMDD, T19970101},
        /* epoch seconds */
        {"1700000000", "1700000001", SCRM_TIME_EPOCH, 1700000000},
        {"2024-03-01", "2024-03-01T00:00:01Z", SCRM_TIME_ISO8601, T20240301},
        {"01/03/2024", "13/3/2024", SCRM_TIME_DMY, T20240301},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id,date,amount\n7,%s,1\n8,%s,2\n", cases[i].t1,
                 cases[i].t2);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *rep = NULL;
        assert_int_equal(load(&rep, ds, text, NULL), SCRM_OK);
        assert_int_equal(scrm_csv_report_time_format(rep), cases[i].format);
        assert_int_equal(scrm_csv_report_rows_added(rep), 2);
        int64_t mn;
        assert_int_equal(scrm_dataset_time_range(&mn, NULL, ds), SCRM_OK);
        if (cases[i].format != SCRM_TIME_EPOCH || i == 1)
            assert_int_equal(mn, cases[i].expect1);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
}

static void test_time_auto_mixed_kinds_reject_the_odd_rows(void **state)
{
    (void)state;
    /* the first value is ISO: the digit values are bad rows */
    const char *text = "customer_id,date,amount\n"
                       "1,2024-03-01,1\n"
                       "2,20240301,1\n"
                       "3,2024-03-02,1\n"
                       "4,1709251200,1\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_ISO8601);
    assert_int_equal(scrm_csv_report_rows_read(rep), 4);
    assert_int_equal(scrm_csv_report_rows_added(rep), 2);
    assert_int_equal(scrm_csv_report_rejected(rep), 2);
    check_reject(rep, 0, 3, "date", "'20240301' is not an ISO 8601 time");
    check_reject(rep, 1, 5, "date", "'1709251200' is not an ISO 8601 time");
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);

    /* strict: the first odd row fails the load */
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(NULL, ds, text, NULL), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(), "line 3, column date: '20240301' is not an ISO 8601 time");
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* amounts                                                             */

static void test_amounts_separators_and_rounding(void **state)
{
    (void)state;
    static const struct {
        char dec;
        int minor;
        const char *text;
        int64_t expect;
    } cases[] = {
        {'.', 2, "12.5", 1250},
        /* currency signs and codes, accounting negatives */
        {'.', 2, "\xC2\xA3" "12.50", 1250}, /* £12.50 */
        {'.', 2, "$12.50", 1250},
        {'.', 2, "US$ 1,234.50", 123450},
        {',', 2, "R$ 12,50", 1250},
        {'.', 2, "12.50 EUR", 1250},
        {',', 2, "12,50\xC2\xA0\xE2\x82\xAC", 1250}, /* 12,50 NBSP € */
        {'.', 2, "(12.50)", -1250},
        {',', 2, "(1.234,56 BRL)", -123456},
        {'.', 2, "-$1,234.50", -123450},
        {'.', 2, "$-3", -300},
        {'.', 2, "( $ 3 )", -300},
        /* more decimals than minor units: rounded, never scaled */
        {',', 2, "2,085", 209},
        {',', 2, "1.234,567", 123457},
        {'.', 2, "12", 1200},
        {'.', 2, "12.", 1200},
        {'.', 2, ".5", 50},
        {'.', 2, "-3.10", -310},
        {'.', 2, "+3.10", 310},
        {'.', 2, "0", 0},
        {'.', 2, "-0.00", 0},
        {'.', 2, "0.125", 13},   /* half away from zero */
        {'.', 2, "-0.125", -13},
        {'.', 2, "0.1249999", 12},
        {'.', 2, "0.135", 14},
        {'.', 2, "2.675", 268},  /* exact decimal, not binary floating point */
        {'.', 2, "\"1,234.56\"", 123456},
        {'.', 2, "\"12,345,678.9\"", 1234567890},
        {'.', 0, "12.5", 13},
        {'.', 0, "-12.5", -13},
        {'.', 3, "1.2345", 1235},
        {'.', 6, "0.0000005", 1},
        {',', 2, "12,5", 1250},
        {',', 2, "1.234,56", 123456},
        {',', 2, "1.234.567,891", 123456789},
        {',', 2, "-0,005", -1},
        {'.', 2, "92233720368547758.07", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id;date;amount\n7;20240301;%s\n", cases[i].text);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.decimal_separator = cases[i].dec;
        o.minor_digits = cases[i].minor;
        int rc = load(NULL, ds, text, &o);
        if (rc)
            print_error("case %zu: %s\n", i, scrm_last_error());
        assert_int_equal(rc, SCRM_OK);
        int64_t t, a;
        only_order(ds, &t, &a);
        if (a != cases[i].expect)
            print_error("case %zu '%s'\n", i, cases[i].text);
        assert_int_equal(a, cases[i].expect);
        scrm_dataset_free(ds);
    }
}

static void test_amounts_bad_values(void **state)
{
    (void)state;
    static const struct {
        char dec;
        const char *text;
        const char *reason;
    } cases[] = {
        {'.', "12,5x", "'12,5x' is not a number"},
        {'.', "\"12,34.5\"", "'12,34.5' is not a number"},     /* group of 2 */
        {'.', "\"1234,567.0\"", "'1234,567.0' is not a number"}, /* first group of 4 */
        {'.', "\"1,234,56\"", "'1,234,56' is not a number"},
        {'.', "\",123\"", "',123' is not a number"},
        {'.', "\"1,234.00\"", NULL},                            /* fine: 1234.00 */
        /* 1234 or, with a decimal comma, 1.234: never guessed */
        {'.', "\"2,085\"", "'2,085' is ambiguous: ',' is a thousands separator here, but the "
                         "value may have a decimal comma (decimal_separator ','; shopcrm "
                         "--decimal-comma); write it without the separator, or with decimals"},
        {',', "2.085", "'2.085' is ambiguous: '.' is a thousands separator here, but the "
                       "value may have a decimal point (decimal_separator '.'; shopcrm "
                       "without --decimal-comma); write it without the separator, or with "
                       "decimals"},
        {'.', "\"2,08\"", "'2,08' is not a number with '.' as decimal separator; it reads as "
                        "one with a decimal comma (decimal_separator ','; shopcrm "
                        "--decimal-comma)"},
        {'.', "R$ 2,08", "'R$ 2,08' is not a number with '.' as decimal separator; it reads as "
                         "one with a decimal comma (decimal_separator ','; shopcrm "
                         "--decimal-comma)"},
        {'.', "$$3", "'$$3' is not a number"},
        {'.', "(-3)", "'(-3)' is not a number"},
        {'.', "3 EURO", "'3 EURO' is not a number"},
        {'.', "EUR", "'EUR' is not a number"},
        {'.', "1e3", "'1e3' is not a number"},
        {'.', ".", "'.' is not a number"},
        {'.', "-", "'-' is not a number"},
        {'.', "1.2.3", "'1.2.3' is not a number"},
        {'.', "", "empty value"},
        {'.', "NA", "'NA' is not a number"},
        {'.', "92233720368547758.08", "'92233720368547758.08' is out of range"},
        {',', "1,234.56", "'1,234.56' is not a number with ',' as decimal separator; it reads "
                          "as one with a decimal point (decimal_separator '.'; shopcrm without "
                          "--decimal-comma)"},
        /* '.' is a thousands separator here */
        {',', "12.5", "'12.5' is not a number with ',' as decimal separator; it reads as one "
                      "with a decimal point (decimal_separator '.'; shopcrm without "
                      "--decimal-comma)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id;date;amount\n7;20240301;%s\n", cases[i].text);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.decimal_separator = cases[i].dec;
        int rc = load(NULL, ds, text, &o);
        if (!cases[i].reason) {
            assert_int_equal(rc, SCRM_OK);
            int64_t t, a;
            only_order(ds, &t, &a);
            assert_int_equal(a, 123400);
        } else {
            assert_int_equal(rc, SCRM_EPARSE);
            char expect[300];
            snprintf(expect, sizeof expect, "line 2, column amount: %s", cases[i].reason);
            assert_string_equal(scrm_last_error(), expect);
            assert_int_equal(scrm_dataset_order_count(ds), 0);
        }
        scrm_dataset_free(ds);
    }
}

static void test_quantity_times_unit_price(void **state)
{
    (void)state;
    /* 3 x 0.125 = 0.375 -> 38 cents (half away); -2 x 1.005 = -2.01 -> -201;
     * 1.5 x 2.99 = 4.485 -> 449; 12 x 0.85 = 10.20 -> 1020. The amount
     * column is ignored (it holds garbage). */
    const char *text = "id,when,qty,price,amount\n"
                       "1,20240301,3,0.125,x\n"
                       "1,20240301,-2,1.005,x\n"
                       "2,20240301,1.5,2.99,x\n"
                       "3,20240301,12,0.85,x\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "id";
    o.time_column = "when";
    o.quantity_column = "qty";
    o.unit_price_column = "price";
    assert_int_equal(load(NULL, ds, text, &o), SCRM_OK);
    assert_int_equal(amount_of_u64(ds, 1), 38 - 201);
    assert_int_equal(amount_of_u64(ds, 2), 449);
    assert_int_equal(amount_of_u64(ds, 3), 1020);
    scrm_dataset_free(ds);

    /* a bad quantity names the quantity column */
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(NULL, ds, "id,when,qty,price\n1,20240301,three,1\n", &o), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(), "line 2, column qty: 'three' is not a number");
    assert_int_equal(load(NULL, ds, "id,when,qty,price\n1,20240301,3,\n", &o), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(), "line 2, column price: empty value");
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* RFC 4180                                                            */

static void test_quoting_delimiters_newlines_and_escapes(void **state)
{
    (void)state;
    /* line 2: a customer holding the delimiter and doubled quotes;
     * line 3: a note spanning lines 3-5; line 6: a quoted amount. */
    const char *text = "customer_id,note,date,amount\n"
                       "\"Smith, \"\"Jo\"\"\",plain,20240301,1.00\n"
                       "\"b\",\"two\nmore\n\"\"lines\"\"\",20240301,2.00\n"
                       "c,\"x,y\",\"20240301\",\"3.00\"\n"
                       "d,,20240301,oops\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 4);
    assert_int_equal(scrm_csv_report_rows_added(rep), 3);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_STRING);
    /* the bad row starts on physical line 7 (the quoted note took 3 lines) */
    assert_int_equal(scrm_csv_report_reject_count(rep), 1);
    check_reject(rep, 0, 7, "amount", "'oops' is not a number");
    uint32_t idx;
    assert_int_equal(scrm_dataset_find_str(&idx, ds, "Smith, \"Jo\"", -1), SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&idx, ds, "b", -1), SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&idx, ds, "c", -1), SCRM_OK);
    assert_int_equal(total_amount(ds), 600);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_malformed_quotes_rejected(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n"
                       "1,20240301,\"2.00\"x\n"
                       "2,20240301,1\n"
                       "3,20240301,\"1\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_added(rep), 1);
    assert_int_equal(scrm_csv_report_rejected(rep), 2);
    check_reject(rep, 0, 2, "amount", "unexpected text after a closing quote");
    check_reject(rep, 1, 4, "amount", "unterminated quoted field");
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_bom_crlf_blank_lines_and_no_final_newline(void **state)
{
    (void)state;
    static const char *texts[] = {
        "\xEF\xBB\xBF" "customer_id,date,amount\r\n1,20240301,1.00\r\n2,20240301,2.00\r\n",
        "customer_id,date,amount\n1,20240301,1.00\n\n2,20240301,2.00",
        "customer_id,date,amount\r\n1,20240301,1.00\r\n\r\n2,20240301,\"2.00\"\r\n",
        "customer_id,date,amount\r\n1,20240301,1.00\r\n2,20240301,\"2.00\"",
        "\"customer_id\",\"date\",\"amount\"\r\n1,20240301,1.00\r\n2,20240301,2.00\r",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *rep = NULL;
        int rc = load(&rep, ds, texts[i], NULL);
        if (rc)
            print_error("case %zu: %s\n", i, scrm_last_error());
        assert_int_equal(rc, SCRM_OK);
        assert_int_equal(scrm_csv_report_rows_read(rep), 2);
        assert_int_equal(scrm_csv_report_rows_added(rep), 2);
        assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_U64);
        assert_int_equal(amount_of_u64(ds, 1), 100);
        assert_int_equal(amount_of_u64(ds, 2), 200);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
}

static void test_delimiter_detection_and_no_header(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int32_t delim;
    } cases[] = {
        {"customer_id,date,amount\n1,20240301,1.5\n", ','},
        {"customer_id;date;amount\n1;20240301;1,5\n", ';'},
        {"customer_id\tdate\tamount\n1\t20240301\t1.5\n", '\t'},
        /* the commas inside quotes do not count */
        {"\"customer_id,x,y,z\";date;amount\n1;20240301;1,5\n", ';'},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        if (i == 3)
            o.customer_column = "customer_id,x,y,z";
        if (cases[i].delim == ';')
            o.decimal_separator = ',';
        scrm_csv_report *rep = NULL;
        assert_int_equal(load(&rep, ds, cases[i].text, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_delimiter(rep), cases[i].delim);
        assert_int_equal(amount_of_u64(ds, 1), 150);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    /* no header: columns are "1", "2", ... and line numbers count from 1 */
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.has_header = 0;
    o.customer_column = "2";
    o.time_column = "1";
    o.amount_column = "3";
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, "20240301\t5\t1.00\n20240301\t6\tx\n", &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_delimiter(rep), '\t');
    assert_int_equal(scrm_csv_report_rows_read(rep), 2);
    assert_int_equal(amount_of_u64(ds, 5), 100);
    check_reject(rep, 0, 2, "3", "'x' is not a number");
    scrm_csv_report_free(rep);
    /* an explicit delimiter is used as given */
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    o.delimiter = ';';
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n1,20240301,1\n", &o), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "customer_id,date,amount"));
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* customers                                                           */

static void test_empty_customer_skipped_and_counted(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n"
                       "1,20240301,1\n"
                       ",20240301,2\n"
                       "\"\",20240301,3\n"
                       "NA,20240301,4\n"
                       ",garbage,garbage\n"
                       "2,20240301,5\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.na_customer = "NA";
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 6);
    assert_int_equal(scrm_csv_report_empty_customer(rep), 4);
    assert_int_equal(scrm_csv_report_rows_added(rep), 2);
    assert_int_equal(scrm_csv_report_rejected(rep), 0);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_U64);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);

    /* "NA" is in the default set */
    ds = new_ds(SCRM_KEY_AUTO);
    o.na_customer = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_empty_customer(rep), 4);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);

    /* without it, and without the default set, "NA" is a customer (a string key) */
    ds = new_ds(SCRM_KEY_AUTO);
    o.na_defaults = 0;
    o.on_error = SCRM_CSV_SKIP;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_empty_customer(rep), 3);
    assert_int_equal(scrm_csv_report_rows_added(rep), 3);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_STRING);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_key_type_auto_and_fixed(void **state)
{
    (void)state;
    static const struct {
        int ds_type;
        const char *keys[2];
        int expect_type;   /* after the load */
        uint64_t added;
    } cases[] = {
        {SCRM_KEY_AUTO, {"0", "18446744073709551615"}, SCRM_KEY_U64, 2},
        {SCRM_KEY_AUTO, {"1", "007"}, SCRM_KEY_STRING, 2},                 /* leading zero */
        {SCRM_KEY_AUTO, {"1", "18446744073709551616"}, SCRM_KEY_STRING, 2}, /* 2^64 */
        {SCRM_KEY_AUTO, {"1", "-1"}, SCRM_KEY_STRING, 2},
        {SCRM_KEY_AUTO, {"a@b.c", "2"}, SCRM_KEY_STRING, 2},
        /* non-digits just outside '0'..'9' inside an 8-digit group */
        {SCRM_KEY_AUTO, {"12345678", "1234567:"}, SCRM_KEY_STRING, 2},
        {SCRM_KEY_AUTO, {"12345678", "1234/678"}, SCRM_KEY_STRING, 2},
        {SCRM_KEY_AUTO, {"12345678901234567890", "99999999"}, SCRM_KEY_U64, 2},
        {SCRM_KEY_U64, {"007", " 8 "}, SCRM_KEY_U64, 2},  /* a u64 dataset accepts leading zeros */
        {SCRM_KEY_U64, {"1", "abc"}, SCRM_KEY_U64, 1},    /* a bad row */
        {SCRM_KEY_STRING, {"1", "2"}, SCRM_KEY_STRING, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id,date,amount\n%s,20240301,1\n%s,20240301,1\n",
                 cases[i].keys[0], cases[i].keys[1]);
        scrm_dataset *ds = new_ds(cases[i].ds_type);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.on_error = SCRM_CSV_SKIP;
        scrm_csv_report *rep = NULL;
        assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
        assert_int_equal(scrm_dataset_key_type(ds), cases[i].expect_type);
        assert_int_equal(scrm_csv_report_key_type(rep), cases[i].expect_type);
        assert_int_equal(scrm_csv_report_rows_added(rep), cases[i].added);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    /* check the values: "007" in a u64 dataset is 7; in auto, it is the string "007" */
    scrm_dataset *ds = new_ds(SCRM_KEY_U64);
    uint32_t idx;
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n007,20240301,1\n", NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_find_u64(&idx, ds, 7), SCRM_OK);
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\nabc,20240301,1\n", NULL), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(), "line 2, column customer_id: 'abc' is not an unsigned integer");
    scrm_dataset_free(ds);
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n5,20240301,1\n007,20240301,1\n", NULL),
                     SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&idx, ds, "007", 3), SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&idx, ds, "5", 1), SCRM_OK);
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

static void test_strict_fails_whole_load_at_first_bad_row(void **state)
{
    (void)state;
    char text[2000] = "customer_id,date,amount\n";
    for (int i = 2; i <= 20; i++) {
        char row[64];
        snprintf(row, sizeof row, "%d,20240301,%s\n", i, i == 17 ? "\"12,5x\"" : i == 19 ? "bad" : "1");
        strcat(text, row);
    }
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.decimal_separator = ',';
    o.delimiter = ',';
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(), "line 17, column amount: '12,5x' is not a number");
    assert_int_equal(scrm_last_error_index(), 17);
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);

    /* skip: both bad rows listed, the rest added */
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 19);
    assert_int_equal(scrm_csv_report_rows_added(rep), 17);
    assert_int_equal(scrm_csv_report_rejected(rep), 2);
    assert_int_equal(scrm_csv_report_reject_count(rep), 2);
    check_reject(rep, 0, 17, "amount", "'12,5x' is not a number");
    check_reject(rep, 1, 19, "amount", "'bad' is not a number");
    assert_int_equal(scrm_csv_report_reject(NULL, NULL, NULL, rep, 2), SCRM_ENOTFOUND);
    assert_int_equal(scrm_dataset_order_count(ds), 17);
    scrm_csv_report_free(rep);

    /* max_rejects caps the list, not the count */
    scrm_dataset_free(ds);
    ds = new_ds(SCRM_KEY_AUTO);
    o.max_rejects = 1;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rejected(rep), 2);
    assert_int_equal(scrm_csv_report_reject_count(rep), 1);
    check_reject(rep, 0, 17, "amount", "'12,5x' is not a number");
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_short_rows_and_long_values(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n"
                       "1,20240301\n"
                       "2\n"
                       "3,20240301,1234567890123456789012345678901234567890123456789012345678901234567890\n"
                       "4,20240301,1,extra,fields,are,fine\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_added(rep), 1);
    check_reject(rep, 0, 2, "amount", "missing field (the row has 2 fields)");
    check_reject(rep, 1, 3, "date", "missing field (the row has 1 field)");
    check_reject(rep, 2, 4, "amount",
                 "'123456789012345678901234567890123456789012345678901234567890...' is out of range");
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_missing_column_names_it_and_lists_header(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *rep = (scrm_csv_report *)(uintptr_t)1;
    assert_int_equal(load(&rep, ds, "customer_id,date,dollars\n1,20240301,1\n", NULL), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(),
                        "CSV: column 'amount' not found; the header has: customer_id, date, dollars");
    assert_ptr_equal(rep, (scrm_csv_report *)(uintptr_t)1);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n1,20240301,1\n", &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(),
                        "CSV: column 'order' not found; the header has: customer_id, date, amount");
    assert_int_equal(load(NULL, ds, "", NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    scrm_dataset_free(ds);
}

static void test_order_lines_are_one_order(void **state)
{
    (void)state;
    const char *text = "order,customer_id,date,amount\n"
                       "A1,1,20240302,1\n"
                       "A2,1,20240301,2\n"
                       "A1,1,20240301,4\n"   /* a second line of A1, earlier */
                       "A1,1,20240305,-0.5\n" /* a refund line: the order is the net */
                       "\"A3\",2,20240301,8\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 5);
    assert_int_equal(scrm_csv_report_rows_added(rep), 3);
    assert_int_equal(scrm_csv_report_lines_merged(rep), 2);
    assert_int_equal(scrm_csv_report_orders_merged(rep), 1);
    assert_int_equal(scrm_csv_report_duplicates(rep), 0);
    assert_int_equal(total_amount(ds), 1450); /* 1 + 2 + 4 - 0.5 + 8 */
    int64_t lo, hi;
    assert_int_equal(scrm_dataset_time_range(&lo, &hi, ds), SCRM_OK);
    assert_int_equal(hi, 1709251200); /* A1 is at its earliest line, 2024-03-01 */
    scrm_csv_report_free(rep);
    /* loading the same orders again adds nothing: every row is a re-delivery */
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_added(rep), 0);
    assert_int_equal(scrm_csv_report_duplicates(rep), 5);
    assert_int_equal(scrm_csv_report_lines_merged(rep), 0);
    scrm_csv_report_free(rep);
    /* an empty order id is a bad row */
    assert_int_equal(load(NULL, ds, "order,customer_id,date,amount\n,1,20240301,1\n", &o), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(), "line 2, column order: empty order id");
    assert_int_equal(scrm_dataset_order_count(ds), 3);
    scrm_dataset_free(ds);
}

static void test_order_line_of_another_customer_is_a_bad_row(void **state)
{
    (void)state;
    const char *text = "order,customer_id,date,amount\n"
                       "B1,k1,20240301,1\n"
                       "B2,k1,20240301,2\n"
                       "B1,k2,20240301,4\n"
                       "B1,k1,20240302,8\n";
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    for (int w = 0; w < 2; w++) { /* one window, and a window per line */
        scrm__csv_window_bytes = w ? 1 : UINT64_C(16) << 20;
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        o.on_error = SCRM_CSV_STRICT;
        assert_int_equal(load(NULL, ds, text, &o), SCRM_EPARSE);
        assert_string_equal(scrm_last_error(),
                            "line 4, column order: the order's first line has customer 'k1', "
                            "this line 'k2': an order has one customer");
        assert_int_equal(scrm_last_error_index(), 4);
        assert_int_equal(scrm_dataset_order_count(ds), 0);
        /* the first bad row in file order, whatever the windows: the line of
         * another customer before a bad amount */
        const char *two = "order,customer_id,date,amount\n"
                          "B1,k1,20240301,1\n"
                          "B1,k2,20240301,2\n"
                          "B2,k1,20240301,x\n";
        assert_int_equal(load(NULL, ds, two, &o), SCRM_EPARSE);
        assert_int_equal(scrm_last_error_index(), 3);
        assert_non_null(strstr(scrm_last_error(), "an order has one customer"));
        o.on_error = SCRM_CSV_SKIP;
        scrm_csv_report *rep = NULL;
        assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_rows_read(rep), 4);
        assert_int_equal(scrm_csv_report_rows_added(rep), 2);
        assert_int_equal(scrm_csv_report_lines_merged(rep), 1);
        assert_int_equal(scrm_csv_report_rejected(rep), 1);
        assert_int_equal(scrm_csv_report_reject_count(rep), 1);
        uint64_t line;
        const char *col;
        assert_int_equal(scrm_csv_report_reject(&line, &col, NULL, rep, 0), SCRM_OK);
        assert_int_equal(line, 4);
        assert_string_equal(col, "order");
        assert_int_equal(total_amount(ds), 1100);
        assert_int_equal(scrm_dataset_customer_count(ds), 1);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
        /* numeric customers; an order's total out of range; at most
         * max_rejects listed, the first ones by line */
        const char *num = "order,customer_id,date,amount\n"
                          "C1,7,20240301,50000000000000000.00\n"
                          "C1,8,20240301,1\n"
                          "C1,7,20240301,50000000000000000.00\n"
                          "C2,7,20240301,x\n";
        ds = new_ds(SCRM_KEY_AUTO);
        o.max_rejects = 2;
        assert_int_equal(load(&rep, ds, num, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_rejected(rep), 3);
        assert_int_equal(scrm_csv_report_reject_count(rep), 2);
        const char *why;
        assert_int_equal(scrm_csv_report_reject(&line, NULL, &why, rep, 0), SCRM_OK);
        assert_int_equal(line, 3);
        assert_string_equal(why, "the order's first line has customer '7', this line '8': an "
                                 "order has one customer");
        assert_int_equal(scrm_csv_report_reject(&line, NULL, &why, rep, 1), SCRM_OK);
        assert_int_equal(line, 4);
        assert_string_equal(why, "the order's total amount is out of range");
        assert_int_equal(total_amount(ds), INT64_C(5000000000000000000));
        o.max_rejects = 100;
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    scrm__csv_window_bytes = UINT64_C(16) << 20;
}

static void test_exclude_filter_skips_and_counts(void **state)
{
    (void)state;
    const char *text = "order,status,customer_id,date,amount\n"
                       "A1,delivered,1,20240301,1\n"
                       "A2,canceled,1,20240301,2\n"
                       "A3, unavailable ,2,20240301,4\n" /* trimmed */
                       "A4,\"canceled\",3,garbage,8\n"   /* excluded before it is checked */
                       "A5,shipped,2,20240301,16\n";
    const char *cols[] = {"status", "status", "order"};
    const char *vals[] = {"canceled", "unavailable", "A5"};
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    o.exclude_columns = cols;
    o.exclude_values = vals;
    o.exclude_count = 2;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 5);
    assert_int_equal(scrm_csv_report_excluded(rep), 3);
    assert_int_equal(scrm_csv_report_rows_added(rep), 2);
    assert_int_equal(total_amount(ds), 1700);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
    /* two columns */
    o.exclude_count = 3;
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_excluded(rep), 4);
    assert_int_equal(total_amount(ds), 100);
    scrm_csv_report_free(rep);
    /* a column not in the header; bad options */
    cols[0] = "state";
    o.exclude_count = 1;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(), "CSV: column 'state' not found; the header has: "
                                           "order, status, customer_id, date, amount");
    vals[0] = NULL;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(), "CSV options: exclude entry 0 has a NULL value");
    const char *many[SCRM_CSV_MAX_EXCLUDE_COLUMNS + 1] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    o.exclude_columns = many;
    o.exclude_values = many;
    o.exclude_count = SCRM_CSV_MAX_EXCLUDE_COLUMNS + 1;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(), "CSV options: the exclude filter names more than 8 columns");
    assert_int_equal(scrm_dataset_order_count(ds), 1);
    scrm_dataset_free(ds);
}

static void test_na_customer_list_and_default_set(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n"
                       "NA,20240301,1\n"
                       "N/A,20240301,1\n"
                       "null,20240301,1\n"
                       "NULL,20240301,1\n"
                       "NaN,20240301,1\n"
                       "None,20240301,1\n"
                       ",20240301,1\n"
                       "unknown,20240301,1\n"
                       "-,20240301,1\n"
                       "\"NA\",20240301,1\n" /* quoted: unquoted first, so NA too */
                       "7,20240301,1\n";
    const char *extra[] = {"unknown", "-"};
    struct { const char *name; int defaults; uint32_t n_extra; uint64_t empty; } cases[] = {
        {"defaults", 1, 0, 8},
        {"defaults and a list", 1, 2, 10},
        {"a list only", 0, 2, 3},
        {"nothing", 0, 0, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        assert_int_equal(o.na_defaults, 1);
        o.na_defaults = cases[k].defaults;
        o.na_customers = extra;
        o.na_customer_count = cases[k].n_extra;
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *rep = NULL;
        assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
        if (scrm_csv_report_empty_customer(rep) != cases[k].empty)
            fail_msg("%s: %llu empty", cases[k].name,
                     (unsigned long long)scrm_csv_report_empty_customer(rep));
        assert_int_equal(scrm_csv_report_rows_added(rep), 11 - cases[k].empty);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.na_customer_count = 1;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(), "CSV options: na_customers is NULL but na_customer_count is 1");
    const char *holes[] = {"-", NULL};
    o.na_customers = holes;
    o.na_customer_count = 2;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(), "CSV options: na_customers[1] is NULL");
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    o.exclude_count = 1;
    assert_int_equal(load(NULL, ds, text, &o), SCRM_EINVAL);
    assert_string_equal(scrm_last_error(), "CSV options: exclude_columns and exclude_values must "
                                           "hold exclude_count (1) entries");
    /* a version-1 caller: the fields after threads take their defaults */
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    o.version = 1;
    o.exclude_count = 5; /* beyond a version-1 struct: not read */
    assert_int_equal(load(NULL, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_dataset_order_count(ds), 3); /* 8 of the default set, empty */
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* progress, cancel, allocation failures                               */

struct prog {
    int calls;
    int cancel_at; /* cancel on this call (1-based), 0 = never */
    uint64_t last_done, last_total;
};

static int on_progress(uint64_t done, uint64_t total, void *payload)
{
    struct prog *p = payload;
    p->calls++;
    assert_true(done <= total);
    assert_true(done >= p->last_done);
    p->last_done = done;
    p->last_total = total;
    return p->cancel_at && p->calls == p->cancel_at;
}

static void test_progress_and_cancel_add_nothing(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n1,20240301,1\n2,20240301,2\n";
    for (int cancel_at = 0; cancel_at <= 2; cancel_at++) {
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        struct prog pr = {0, cancel_at, 0, 0};
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.progress = on_progress;
        o.progress_payload = &pr;
        scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
        int rc = load(&rep, ds, text, &o);
        if (cancel_at) {
            assert_int_equal(rc, SCRM_ECANCELLED);
            assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
            assert_int_equal(scrm_dataset_order_count(ds), 0);
            assert_int_equal(pr.calls, cancel_at);
        } else {
            assert_int_equal(rc, SCRM_OK);
            assert_int_equal(pr.last_done, strlen(text));
            assert_int_equal(pr.last_total, strlen(text));
            assert_int_equal(scrm_dataset_order_count(ds), 2);
            scrm_csv_report_free(rep);
        }
        scrm_dataset_free(ds);
    }
}

static void test_allocation_failures_add_nothing_and_leak_nothing(void **state)
{
    (void)state;
    /* exercises header copies, string keys with escapes, the scratch
     * buffer, the rejects list and the dataset's own allocations */
    const char *text = "order,customer_id,date,amount\n"
                       "o1,\"a\"\"b\",2024-03-01,\"1,000.5\"\n"
                       "o2,b,2024-03-02,\"x\"\"y\"\n"
                       "o3,c,20240303,3\n"
                       "o1,a,2024-03-01,1\n";
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    o.on_error = SCRM_CSV_SKIP;
    for (int always = 0; always <= 1; always++) {
        int ok = 0;
        for (long k = 0; k < 10000 && !ok; k++) {
            failalloc_install(-1, always); /* never, while the dataset is created */
            long base = failalloc_live;
            scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
            failalloc_countdown = k; /* then fail the (k+1)-th allocation of the load */
            scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
            int rc = load(&rep, ds, text, &o);
            failalloc_disarm();
            if (rc == SCRM_OK) {
                ok = 1;
                assert_true(k > 0);
                /* o2: bad amount; o3: a YYYYMMDD time in an ISO column
                 * (auto: parsed again with the format fixed); o1 again: a
                 * line of another customer */
                assert_int_equal(scrm_csv_report_rows_added(rep), 1);
                assert_int_equal(scrm_csv_report_duplicates(rep), 0);
                assert_int_equal(scrm_csv_report_rejected(rep), 3);
                assert_int_equal(scrm_csv_report_reject_count(rep), 3);
                scrm_csv_report_free(rep);
            } else {
                assert_int_equal(rc, SCRM_ENOMEM);
                assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
                assert_int_equal(scrm_dataset_order_count(ds), 0);
                assert_int_equal(scrm_dataset_customer_count(ds), 0);
                assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
            }
            scrm_dataset_free(ds);
            assert_int_equal(failalloc_live, base); /* no leak */
            failalloc_uninstall();
        }
        assert_true(ok);
    }
}

/* ------------------------------------------------------------------ */
/* scrm_time_parse                                                     */

/* Days by hand: 2024-03-01 is day 19783 (header comment), so 2024-02-29 is
 * 19782 (1709164800); 0001-01-01 is SCRM_TIME_MIN, 9999-12-31T23:59:59 is
 * SCRM_TIME_MAX (dataset.h). */
static void test_time_parse_values_and_limits(void **state)
{
    (void)state;
    static const struct {
        const char *name, *s;
        int fmt;
        int64_t offset, want;
    } cases[] = {
        {"iso date", "2024-03-01", SCRM_TIME_ISO8601, 0, T20240301},
        {"iso leap day", "2024-02-29", SCRM_TIME_ISO8601, 0, INT64_C(1709164800)},
        {"iso offset", "2024-03-01T10:30:00+02:00", SCRM_TIME_ISO8601, 0,
         T20240301 + 37800 - 7200},
        {"iso explicit offset wins", "2024-03-01T10:30:00-0130", SCRM_TIME_AUTO, 3600,
         T20240301 + 37800 + 5400},
        {"iso utc", "2024-03-01 10:30 UTC", SCRM_TIME_AUTO, -10800, T20240301 + 37800},
        {"iso local", "2024-03-01 10:30", SCRM_TIME_AUTO, -10800, T20240301 + 37800 + 10800},
        {"iso fraction dropped", "2024-03-01T00:00:01.999Z", SCRM_TIME_AUTO, 0, T20240301 + 1},
        {"year 1", "0001-01-01", SCRM_TIME_AUTO, 0, SCRM_TIME_MIN},
        {"year 1 west of utc", "0001-01-01", SCRM_TIME_AUTO, -3600, SCRM_TIME_MIN + 3600},
        {"year 9999", "9999-12-31T23:59:59Z", SCRM_TIME_AUTO, 0, SCRM_TIME_MAX},
        {"yyyymmdd", "19970101", SCRM_TIME_YYYYMMDD, 0, T19970101},
        {"auto yyyymmdd", "19970101", SCRM_TIME_AUTO, -10800, T19970101 + 10800},
        {"auto epoch", "1700000000", SCRM_TIME_AUTO, 3600, INT64_C(1700000000)},
        {"auto 8 digits, not a date", "19971301", SCRM_TIME_AUTO, 0, INT64_C(19971301)},
        {"negative epoch", "-1", SCRM_TIME_AUTO, 0, -1},
        {"epoch max", "253402300799", SCRM_TIME_EPOCH, 0, SCRM_TIME_MAX},
        {"dmy", "1/3/2024", SCRM_TIME_DMY, 0, T20240301},
        {"auto dmy leap day", "29/02/2024 01:00", SCRM_TIME_AUTO, 0, INT64_C(1709164800) + 3600},
        {"spaces", " \t2024-03-01  ", SCRM_TIME_AUTO, 0, T20240301},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 42;
        int rc = scrm_time_parse(&t, cases[i].s, strlen(cases[i].s), cases[i].fmt,
                                 cases[i].offset);
        if (rc != SCRM_OK || t != cases[i].want)
            print_error("case '%s': rc %d, t %lld, %s\n", cases[i].name, rc, (long long)t,
                        scrm_last_error());
        assert_int_equal(rc, SCRM_OK);
        assert_int_equal(t, cases[i].want);
    }
}

static void test_time_parse_bad_values_say_why(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int fmt;
        int64_t offset;
        int rc;
        const char *msg;
    } cases[] = {
        {"2024-13-01", SCRM_TIME_AUTO, 0, SCRM_EPARSE, "'2024-13-01' is not an ISO 8601 time: month 13"},
        {"2023-02-29", SCRM_TIME_ISO8601, 0, SCRM_EPARSE,
         "'2023-02-29' is not an ISO 8601 time: day 29 (February 2023 has 28 days)"},
        {"20240230", SCRM_TIME_AUTO, 0, SCRM_EPARSE, NULL}, /* auto: epoch 20240230 is fine */
        {"20240230", SCRM_TIME_YYYYMMDD, 0, SCRM_EPARSE,
         "'20240230' is not a YYYYMMDD date: day 30 (February 2024 has 29 days)"},
        {"31/04/2024", SCRM_TIME_AUTO, 0, SCRM_EPARSE,
         "'31/04/2024' is not a DD/MM/YYYY date: day 31 (April 2024 has 30 days)"},
        {"0000-12-31", SCRM_TIME_AUTO, 0, SCRM_ERANGE,
         "'0000-12-31' is out of range (years 1 to 9999)"},
        {"0001-01-01", SCRM_TIME_AUTO, 3600, SCRM_ERANGE,
         "'0001-01-01' is out of range (years 1 to 9999)"},
        {"9999-12-31T23:59:59-00:01", SCRM_TIME_AUTO, 0, SCRM_ERANGE,
         "'9999-12-31T23:59:59-00:01' is out of range (years 1 to 9999)"},
        {"253402300800", SCRM_TIME_EPOCH, 0, SCRM_ERANGE,
         "'253402300800' is out of range (years 1 to 9999)"},
        {"99999999999999999999", SCRM_TIME_AUTO, 0, SCRM_ERANGE,
         "'99999999999999999999' is out of range (years 1 to 9999)"},
        {"2024-03-01T24:00", SCRM_TIME_AUTO, 0, SCRM_EPARSE,
         "'2024-03-01T24:00' is not an ISO 8601 time: hour 24"},
        {"2024-03-01", SCRM_TIME_YYYYMMDD, 0, SCRM_EPARSE, "'2024-03-01' is not a YYYYMMDD date"},
        {"abc", SCRM_TIME_AUTO, 0, SCRM_EPARSE,
         "'abc' is not a time (ISO 8601, YYYYMMDD, DD/MM/YYYY, MM/DD/YYYY or epoch seconds)"},
        {"  ", SCRM_TIME_AUTO, 0, SCRM_EPARSE, "empty value"},
        {"1", 9, 0, SCRM_EINVAL, "scrm_time_parse: time format 9 is unknown"},
        {"1", SCRM_TIME_AUTO, 64801, SCRM_EINVAL,
         "scrm_time_parse: utc_offset 64801 s is beyond +/-18 hours (+/-64800 s)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 42;
        int rc = scrm_time_parse(&t, cases[i].s, strlen(cases[i].s), cases[i].fmt,
                                 cases[i].offset);
        if (!cases[i].msg) { /* valid under the other reading */
            assert_int_equal(rc, SCRM_OK);
            continue;
        }
        if (rc != cases[i].rc || strcmp(scrm_last_error(), cases[i].msg) != 0)
            print_error("case '%s': rc %d, %s\n", cases[i].s, rc, scrm_last_error());
        assert_int_equal(rc, cases[i].rc);
        assert_string_equal(scrm_last_error(), cases[i].msg);
        assert_int_equal(t, 42); /* not written on failure */
    }
    int64_t t;
    assert_int_equal(scrm_time_parse(NULL, "1", 1, SCRM_TIME_AUTO, 0), SCRM_EINVAL);
    assert_int_equal(scrm_time_parse(&t, NULL, 1, SCRM_TIME_AUTO, 0), SCRM_EINVAL);
    assert_int_equal(scrm_time_parse(&t, "2024-03-01x", 10, SCRM_TIME_AUTO, 0), SCRM_OK);
    assert_int_equal(t, T20240301); /* len bounds the text */
}

/* ------------------------------------------------------------------ */
/* chunking: results do not depend on the number of threads            */

static char *make_big_text(size_t *len_out, int with_bad_row)
{
    size_t cap = 1 << 20, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)sprintf(s, "note,customer_id,date,amount\n");
    for (int i = 0; i < 3000; i++) {
        char row[200];
        const char *note = i % 7 == 0 ? "\"multi\nline\n, \"\"quoted\"\"\"" : i % 5 == 0 ? "\"a,b\"" : "x";
        if (with_bad_row && i == 2500)
            sprintf(row, "%s,%d,2024-03-01T00:00:%02dZ,nope\n", note, i % 97, i % 60);
        else
            sprintf(row, "%s,%d,2024-03-01T00:00:%02dZ,%d.%02d\n", note, i % 97, i % 60, i, i % 100);
        size_t rl = strlen(row);
        assert_true(len + rl < cap);
        memcpy(s + len, row, rl);
        len += rl;
    }
    *len_out = len;
    return s;
}

static void test_chunked_parse_matches_single_thread(void **state)
{
    (void)state;
    size_t len;
    char *text = make_big_text(&len, 0);
    uint64_t saved = scrm__csv_min_chunk_bytes;
    /* expected: rows 0..2999, amount i*100 + i%100 cents */
    int64_t expect = 0;
    for (int i = 0; i < 3000; i++)
        expect += i * 100 + i % 100;
    static const uint64_t min_chunk[] = {1u << 20, 64, 1000, 7777};
    static const uint32_t threads[] = {1, 2, 3, 8};
    for (size_t k = 0; k < 4; k++) {
        scrm__csv_min_chunk_bytes = min_chunk[k];
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.threads = threads[k];
        scrm_csv_report *rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, len, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_rows_read(rep), 3000);
        assert_int_equal(scrm_csv_report_rows_added(rep), 3000);
        assert_int_equal(scrm_dataset_customer_count(ds), 97);
        assert_int_equal(total_amount(ds), expect);
        assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_ISO8601);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    free(text);
    /* the bad row's line: 1 header line + rows 0..2499, of which the
     * multiples of 7 (358 of them: 0, 7, ..., 2499) take 3 lines */
    text = make_big_text(&len, 1);
    uint64_t line = 1 + 1 + 2500 + 2 * 358;
    for (size_t k = 0; k < 4; k++) {
        scrm__csv_min_chunk_bytes = min_chunk[k];
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.threads = threads[k];
        assert_int_equal(scrm_csv_load_buffer(NULL, ds, text, len, &o), SCRM_EPARSE);
        assert_int_equal(scrm_last_error_index(), (int64_t)line);
        char expect_msg[100];
        snprintf(expect_msg, sizeof expect_msg, "line %llu, column amount: 'nope' is not a number",
                 (unsigned long long)line);
        assert_string_equal(scrm_last_error(), expect_msg);
        assert_int_equal(scrm_dataset_order_count(ds), 0);
        o.on_error = SCRM_CSV_SKIP;
        scrm_csv_report *rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, len, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_rows_added(rep), 2999);
        check_reject(rep, 0, line, "amount", "'nope' is not a number");
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    free(text);
    scrm__csv_min_chunk_bytes = saved;
}

static void test_chunked_string_keys_after_numeric_ones(void **state)
{
    (void)state;
    /* the first rows have numeric keys, a late one is a string: every
     * chunk must switch to string keys */
    size_t cap = 200000, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)sprintf(s, "customer_id,date,amount\n");
    for (int i = 0; i < 2000; i++)
        len += (size_t)sprintf(s + len, i == 1500 ? "k%d,19970101,1\n" : "%d,19970101,1\n", i % 50);
    uint64_t saved = scrm__csv_min_chunk_bytes;
    scrm__csv_min_chunk_bytes = 100;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.threads = 4;
    scrm_csv_report *rep = NULL;
    assert_int_equal(scrm_csv_load_buffer(&rep, ds, s, len, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_STRING);
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_YYYYMMDD);
    assert_int_equal(scrm_dataset_customer_count(ds), 51); /* "0".."49" and "k0" */
    assert_int_equal(scrm_dataset_order_count(ds), 2000);
    int64_t mn, mx;
    assert_int_equal(scrm_dataset_time_range(&mn, &mx, ds), SCRM_OK);
    assert_int_equal(mn, T19970101);
    assert_int_equal(mx, T19970101);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
    scrm__csv_min_chunk_bytes = saved;
    free(s);
}

/* ------------------------------------------------------------------ */
/* streaming: many windows, one atomic load                            */

/* What a failed load must leave as it was. */
struct ds_state {
    uint64_t customers, orders, duplicates;
    int key_type, has_range;
    int64_t tmin, tmax, total;
};

static struct ds_state state_of(const scrm_dataset *ds)
{
    struct ds_state s = {scrm_dataset_customer_count(ds), scrm_dataset_order_count(ds),
                         scrm_dataset_duplicate_count(ds), scrm_dataset_key_type(ds), 0, 0, 0,
                         total_amount(ds)};
    s.has_range = scrm_dataset_time_range(&s.tmin, &s.tmax, ds) == SCRM_OK;
    return s;
}

static void assert_state(const struct ds_state *a, const struct ds_state *b)
{
    assert_int_equal(a->customers, b->customers);
    assert_int_equal(a->orders, b->orders);
    assert_int_equal(a->duplicates, b->duplicates);
    assert_int_equal(a->key_type, b->key_type);
    assert_int_equal(a->has_range, b->has_range);
    assert_int_equal(a->tmin, b->tmin);
    assert_int_equal(a->tmax, b->tmax);
    assert_int_equal(a->total, b->total);
}

/* Per customer (by global index): orders, amount, first and last time. */
struct cust_sum {
    uint64_t n;
    int64_t sum, first, last;
};

static struct cust_sum *customer_sums(const scrm_dataset *ds)
{
    uint64_t nc = scrm_dataset_customer_count(ds);
    struct cust_sum *cs = calloc(nc ? nc : 1, sizeof *cs);
    assert_non_null(cs);
    for (uint64_t g = 0; g < nc; g++) {
        cs[g].first = INT64_MAX;
        cs[g].last = INT64_MIN;
    }
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t k = 0; k < v.n_seg; k++)
            for (uint64_t i = 0; i < v.seg[k].n; i++) {
                struct cust_sum *c = &cs[v.gid[v.seg[k].cust[i]]];
                int64_t t = v.seg[k].time[i];
                c->n++;
                c->sum += v.seg[k].amount[i];
                c->first = t < c->first ? t : c->first;
                c->last = t > c->last ? t : c->last;
            }
    }
    return cs;
}

/* The same customers (by key) with the same orders, amounts and times:
 * the input of every RFM score. Global indices may differ (they depend on
 * the sequence of appends). */
static void assert_same_customers(const scrm_dataset *a, const scrm_dataset *b)
{
    struct ds_state sa = state_of(a), sb = state_of(b);
    assert_state(&sa, &sb);
    struct cust_sum *ca = customer_sums(a), *cb = customer_sums(b);
    for (uint32_t g = 0; g < sa.customers; g++) {
        uint32_t h;
        if (sa.key_type == SCRM_KEY_U64) {
            uint64_t k;
            assert_int_equal(scrm_dataset_customer_key_u64(&k, a, g), SCRM_OK);
            assert_int_equal(scrm_dataset_find_u64(&h, b, k), SCRM_OK);
        } else {
            const char *k;
            uint32_t len;
            assert_int_equal(scrm_dataset_customer_key_str(&k, &len, a, g), SCRM_OK);
            assert_int_equal(scrm_dataset_find_str(&h, b, k, len), SCRM_OK);
        }
        assert_int_equal(ca[g].n, cb[h].n);
        assert_int_equal(ca[g].sum, cb[h].sum);
        assert_int_equal(ca[g].first, cb[h].first);
        assert_int_equal(ca[g].last, cb[h].last);
    }
    free(ca);
    free(cb);
}

static void assert_same_report(const scrm_csv_report *a, const scrm_csv_report *b)
{
    assert_int_equal(scrm_csv_report_rows_read(a), scrm_csv_report_rows_read(b));
    assert_int_equal(scrm_csv_report_rows_added(a), scrm_csv_report_rows_added(b));
    assert_int_equal(scrm_csv_report_duplicates(a), scrm_csv_report_duplicates(b));
    assert_int_equal(scrm_csv_report_empty_customer(a), scrm_csv_report_empty_customer(b));
    assert_int_equal(scrm_csv_report_rejected(a), scrm_csv_report_rejected(b));
    assert_int_equal(scrm_csv_report_lines_merged(a), scrm_csv_report_lines_merged(b));
    assert_int_equal(scrm_csv_report_orders_merged(a), scrm_csv_report_orders_merged(b));
    assert_int_equal(scrm_csv_report_excluded(a), scrm_csv_report_excluded(b));
    assert_int_equal(scrm_csv_report_time_format(a), scrm_csv_report_time_format(b));
    assert_int_equal(scrm_csv_report_key_type(a), scrm_csv_report_key_type(b));
    assert_int_equal(scrm_csv_report_reject_count(a), scrm_csv_report_reject_count(b));
    for (uint64_t i = 0; i < scrm_csv_report_reject_count(a); i++) {
        uint64_t la, lb;
        const char *ca, *cb, *ra, *rb;
        assert_int_equal(scrm_csv_report_reject(&la, &ca, &ra, a, i), SCRM_OK);
        assert_int_equal(scrm_csv_report_reject(&lb, &cb, &rb, b, i), SCRM_OK);
        assert_int_equal(la, lb);
        assert_string_equal(ca, cb);
        assert_string_equal(ra, rb);
    }
}

/* Window, chunk and thread settings of a load. */
struct stream_cfg {
    uint64_t window, min_chunk;
    uint32_t threads;
};
static const struct stream_cfg one_window = {UINT64_C(16) << 20, UINT64_C(1) << 20, 1};

static void stream_set(const struct stream_cfg *cfg, scrm_csv_options *o)
{
    scrm__csv_window_bytes = cfg->window;
    scrm__csv_min_chunk_bytes = cfg->min_chunk;
    o->threads = cfg->threads;
}

static void stream_restore(void) { stream_set(&one_window, &(scrm_csv_options){0}); }

/* Orders o<first>..o<last-1> of customers id % 37, with some orders of two
 * lines and a quoted line break now and then; a bad amount at the end if
 * bad_last. */
static char *order_text(int first, int last, int bad_last)
{
    size_t cap = 64 + (size_t)(last - first + 1) * 80, len = 0;
    char *s = malloc(cap);
    if (!s)
        abort();
    len += (size_t)sprintf(s, "order,customer_id,date,note,amount\n");
    for (int i = first; i < last; i++) {
        int id = i % 11 == 0 ? i - 1 : i; /* repeats the previous id */
        const char *note = i % 5 == 0 ? "\"two\nlines\"" : "x";
        len += (size_t)sprintf(s + len, "o%d,%d,2024-03-%02dT10:00:00Z,%s,%d.%02d\n", id, id % 37,
                               1 + i % 28, note, i, i % 100);
    }
    if (bad_last)
        len += (size_t)sprintf(s + len, "o%d,1,2024-03-01,x,12x\n", last);
    assert_true(len < cap);
    return s;
}

/* A dataset holding orders o0..o99 (order keys seen, a time range). */
static scrm_dataset *preloaded(void)
{
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    char *text = order_text(0, 100, 0);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    assert_int_equal(load(NULL, ds, text, &o), SCRM_OK);
    free(text);
    return ds;
}

static const struct stream_cfg small_windows = {64, 64, 2};

static void test_stream_strict_bad_row_in_last_window_changes_nothing(void **state)
{
    (void)state;
    /* o50..o99 repeat orders of the dataset, o100.. are new, then a bad row */
    char *bad = order_text(50, 300, 1), *good = order_text(50, 300, 0);
    scrm_dataset *ref = preloaded(), *ds = preloaded();
    struct ds_state before = state_of(ds);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    scrm_csv_report *want = NULL, *got = FAILALLOC_SENTINEL(scrm_csv_report);
    assert_int_equal(load(&want, ref, good, &o), SCRM_OK);

    stream_set(&small_windows, &o);
    assert_int_equal(load(&got, ds, bad, &o), SCRM_EPARSE);
    assert_ptr_equal(got, FAILALLOC_SENTINEL(scrm_csv_report));
    got = NULL;
    /* header + 250 rows, 50 of which (multiples of 5) take two lines */
    assert_int_equal(scrm_last_error_index(), 1 + 250 + 50 + 1);
    struct ds_state after = state_of(ds);
    assert_state(&after, &before);
    /* usable, and the order keys of the failed load are forgotten: the
     * same load without the bad row adds what it adds to a fresh copy */
    assert_int_equal(load(&got, ds, good, &o), SCRM_OK);
    assert_same_report(got, want);
    assert_int_equal(scrm_csv_report_duplicates(got), 50); /* o50..o99 */
    assert_true(scrm_csv_report_lines_merged(got) > 10);
    assert_same_customers(ds, ref);
    scrm_csv_report_free(got);
    scrm_csv_report_free(want);
    scrm_dataset_free(ds);
    scrm_dataset_free(ref);

    /* a dataset still in SCRM_KEY_AUTO stays so: string keys came first */
    ds = new_ds(SCRM_KEY_AUTO);
    char skeys[2000];
    size_t at = (size_t)sprintf(skeys, "customer_id,date,amount\n");
    for (int i = 0; i < 50; i++) /* windows of string keys, then a bad row */
        at += (size_t)sprintf(skeys + at, "k%d,2024-03-01,%d\n", i, i);
    sprintf(skeys + at, "last,2024-03-01,oops\n");
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    stream_set(&small_windows, &o);
    assert_int_equal(load(NULL, ds, skeys, &o), SCRM_EPARSE);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n7,2024-03-01,1\n", &o), SCRM_OK);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_U64);
    scrm_dataset_free(ds);
    stream_restore();
    free(bad);
    free(good);
}

static void test_stream_cancel_at_each_progress_call_changes_nothing(void **state)
{
    (void)state;
    char *text = order_text(50, 300, 0);
    scrm_dataset *ref = preloaded();
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    stream_set(&small_windows, &o);
    struct prog pr = {0, 0, 0, 0};
    o.progress = on_progress;
    o.progress_payload = &pr;
    assert_int_equal(load(NULL, ref, text, &o), SCRM_OK);
    int calls = pr.calls;
    assert_true(calls > 10); /* a call after each window */
    for (int k = 1; k <= calls; k++) {
        scrm_dataset *ds = preloaded();
        struct ds_state before = state_of(ds);
        pr = (struct prog){0, k, 0, 0};
        assert_int_equal(load(NULL, ds, text, &o), SCRM_ECANCELLED);
        assert_int_equal(pr.calls, k);
        struct ds_state after = state_of(ds);
        assert_state(&after, &before);
        pr = (struct prog){0, 0, 0, 0};
        assert_int_equal(load(NULL, ds, text, &o), SCRM_OK);
        assert_same_customers(ds, ref);
        scrm_dataset_free(ds);
    }
    scrm_dataset_free(ref);
    stream_restore();
    free(text);
}

/* Fail the N-th allocation of a load of [data, data+len) into a preloaded
 * dataset, N = 0, 1, ... until the load succeeds, once and then always:
 * each time SCRM_ENOMEM, nothing changed, nothing leaked, and the dataset
 * still loads to the same result. */
static void allocation_failures_change_nothing(const char *data, size_t len,
                                               const scrm_csv_options *o)
{
    scrm_dataset *ref = preloaded();
    scrm_csv_report *want = NULL;
    assert_int_equal(scrm_csv_load_buffer(&want, ref, data, len, o), SCRM_OK);
    assert_int_equal(scrm_csv_report_reject_count(want), 1);
    for (int always = 0; always <= 1; always++) {
        int ok = 0;
        for (long k = 0; k < 100000 && !ok; k++) {
            failalloc_install(-1, always);
            scrm_dataset *ds = preloaded();
            struct ds_state before = state_of(ds);
            scrm_csv_report *got = FAILALLOC_SENTINEL(scrm_csv_report);
            failalloc_countdown = k;
            int rc = scrm_csv_load_buffer(&got, ds, data, len, o);
            failalloc_disarm();
            if (rc == SCRM_OK) {
                ok = 1;
            } else {
                assert_int_equal(rc, SCRM_ENOMEM);
                assert_ptr_equal(got, FAILALLOC_SENTINEL(scrm_csv_report));
                struct ds_state after = state_of(ds);
                assert_state(&after, &before);
                /* still usable */
                assert_int_equal(scrm_csv_load_buffer(&got, ds, data, len, o), SCRM_OK);
            }
            assert_same_report(got, want);
            assert_same_customers(ds, ref);
            scrm_csv_report_free(got);
            scrm_dataset_free(ds);
            assert_int_equal(failalloc_live, 0);
            failalloc_uninstall();
        }
        assert_true(ok);
    }
    scrm_csv_report_free(want);
    scrm_dataset_free(ref);
}

static void test_stream_allocation_failure_at_each_n_changes_nothing(void **state)
{
    (void)state;
    char *text = order_text(90, 130, 1); /* the bad row becomes a reject */
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    o.on_error = SCRM_CSV_SKIP;
    static const struct stream_cfg cfg = {300, 100, 2};
    stream_set(&cfg, &o);
    allocation_failures_change_nothing(text, strlen(text), &o);
    stream_restore();
    free(text);
}

/* One load of a real file per setting: the same customers and report. */
static void same_for_any_window(const char *path, const scrm_csv_options *base)
{
    static const struct stream_cfg cfgs[] = {
        {UINT64_C(16) << 20, UINT64_C(1) << 20, 2}, /* one window, two chunks */
        {1, 1, 1},         /* a window per line */
        {100, 64, 2},
        {4096, 1000, 2},
        {4096, 1, 1},
        {50000, 7777, 8},
    };
    scrm_csv_options o = *base;
    stream_set(&one_window, &o);
    scrm_dataset *ref = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *want = NULL;
    assert_int_equal(scrm_csv_load_file(&want, ref, path, &o), SCRM_OK);
    assert_true(scrm_csv_report_rows_added(want) > 0);
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        stream_set(&cfgs[k], &o);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *got = NULL;
        assert_int_equal(scrm_csv_load_file(&got, ds, path, &o), SCRM_OK);
        assert_same_report(got, want);
        assert_same_customers(ds, ref);
        scrm_csv_report_free(got);
        scrm_dataset_free(ds);
    }
    scrm_csv_report_free(want);
    scrm_dataset_free(ref);
    stream_restore();
}

/* The columns of tests/data/online_retail_head2000.csv (amount = quantity x
 * unit price; NA customers are in the default "no customer" set). */
static scrm_csv_options online_retail_options(void)
{
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "CustomerID";
    o.time_column = "InvoiceDate";
    o.quantity_column = "Quantity";
    o.unit_price_column = "UnitPrice";
    return o;
}

/* tests/data/olist_order_items_head1000.csv with the seller as "customer"
 * and order_id as the order: items of other sellers are rejected. */
static scrm_csv_options olist_items_by_seller_options(void)
{
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "seller_id"; /* string keys; order ids repeat per item */
    o.time_column = "shipping_limit_date";
    o.amount_column = "price";
    o.order_id_column = "order_id";
    o.on_error = SCRM_CSV_SKIP;
    return o;
}

static void test_stream_same_result_for_any_window_and_threads(void **state)
{
    (void)state;
    scrm_csv_options o = online_retail_options();
    same_for_any_window(SCRM_TEST_DATA "/online_retail_head2000.csv", &o);
    o.order_id_column = "InvoiceNo"; /* invoice lines: orders across windows */
    same_for_any_window(SCRM_TEST_DATA "/online_retail_head2000.csv", &o);
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "customer";
    o.amount_column = "dollars";
    same_for_any_window(SCRM_TEST_DATA "/rfm_cdnow_sample.csv", &o);
    o = olist_items_by_seller_options();
    same_for_any_window(SCRM_TEST_DATA "/olist_order_items_head1000.csv", &o);
    same_for_any_window(SCRM_EXAMPLES_DATA "/cdnow_orders.csv", &(scrm_csv_options)SCRM_CSV_OPTIONS_INIT);
}

static void test_stream_quoted_line_breaks_across_windows(void **state)
{
    (void)state;
    size_t len;
    char *text = make_big_text(&len, 0);
    int64_t expect = 0;
    for (int i = 0; i < 3000; i++)
        expect += i * 100 + i % 100;
    static const struct stream_cfg cfgs[] = {{1, 1, 2}, {37, 16, 2}, {500, 100, 2}, {999, 1, 3}};
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        stream_set(&cfgs[k], &o);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, len, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_rows_read(rep), 3000);
        assert_int_equal(scrm_csv_report_rows_added(rep), 3000);
        assert_int_equal(scrm_dataset_customer_count(ds), 97);
        assert_int_equal(total_amount(ds), expect);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    stream_restore();
    free(text);
}

static void test_stream_short_lines_cut_windows(void **state)
{
    (void)state;
    /* 6-byte rows and blank lines: more lines than a window's bytes / 16,
     * so windows are cut by lines; the rows are the same */
    size_t cap = 64 + 3000 * 8, len = 0;
    char *s = malloc(cap);
    if (!s)
        abort();
    len += (size_t)sprintf(s, "customer_id,date,amount\n");
    for (int i = 0; i < 3000; i++)
        len += (size_t)sprintf(s + len, i % 3 == 2 ? "\n" : "%d,%d,%d\n", i % 10, i % 10,
                               i % 7);
    static const struct stream_cfg cfgs[] = {{1600, 64, 2}, {800, 1 << 20, 1}, {160, 16, 2}};
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.time_format = SCRM_TIME_EPOCH;
    stream_set(&one_window, &o);
    scrm_dataset *ref = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *want = NULL;
    assert_int_equal(scrm_csv_load_buffer(&want, ref, s, len, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_added(want), 2000);
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        stream_set(&cfgs[k], &o);
        struct prog pr = {0, 0, 0, 0};
        o.progress = on_progress;
        o.progress_payload = &pr;
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *got = NULL;
        assert_int_equal(scrm_csv_load_buffer(&got, ds, s, len, &o), SCRM_OK);
        assert_same_report(got, want);
        assert_same_customers(ds, ref);
        /* a call after each window: windows of at most 1600/16 + 1 lines
         * (about 530 bytes here), three times as many as 1600-byte ones */
        if (k == 0)
            assert_true((uint64_t)pr.calls > 2 * (len / 1600));
        o.progress = NULL;
        scrm_csv_report_free(got);
        scrm_dataset_free(ds);
    }
    scrm_csv_report_free(want);
    scrm_dataset_free(ref);
    stream_restore();
    free(s);
}

/* ------------------------------------------------------------------ */
/* real data                                                           */

static void test_bundled_cdnow_sample(void **state)
{
    (void)state;
    /* Expected values computed independently with Python's csv module over
     * examples/data/cdnow_orders.csv (and matching data/README.md: 69,659
     * transactions, 23,570 customers, US$ 2,500,315.63):
     *   rows 69659, distinct customer_id 23570, sum(amount) 250031563
     *   cents, dates 19970101 (852076800) .. 19980630 (899164800). */
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *rep = NULL;
    int rc = scrm_csv_load_file(&rep, ds, SCRM_EXAMPLES_DATA "/cdnow_orders.csv", NULL);
    if (rc)
        print_error("%s\n", scrm_last_error());
    assert_int_equal(rc, SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 69659);
    assert_int_equal(scrm_csv_report_rows_added(rep), 69659);
    assert_int_equal(scrm_csv_report_rejected(rep), 0);
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_YYYYMMDD);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_U64);
    assert_int_equal(scrm_csv_report_delimiter(rep), ',');
    assert_int_equal(scrm_dataset_customer_count(ds), 23570);
    assert_int_equal(total_amount(ds), 250031563);
    int64_t mn, mx;
    assert_int_equal(scrm_dataset_time_range(&mn, &mx, ds), SCRM_OK);
    assert_int_equal(mn, 852076800);
    assert_int_equal(mx, 899164800);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_progress_mid_parse_cancel_on_real_file(void **state)
{
    (void)state;
    /* the 1.5 MB sample is parsed as one chunk: a progress call after the
     * first MiB, between the first (0) and the last (size) call */
    const char *path = SCRM_EXAMPLES_DATA "/cdnow_orders.csv";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    struct prog pr = {0, 0, 0, 0};
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.progress = on_progress;
    o.progress_payload = &pr;
    assert_int_equal(scrm_csv_load_file(NULL, ds, path, &o), SCRM_OK);
    assert_true(pr.calls >= 3);
    assert_int_equal(pr.last_done, pr.last_total);
    assert_int_equal(scrm_dataset_order_count(ds), 69659);
    scrm_dataset_free(ds);

    ds = new_ds(SCRM_KEY_AUTO);
    pr = (struct prog){0, 2, 0, 0};
    assert_int_equal(scrm_csv_load_file(NULL, ds, path, &o), SCRM_ECANCELLED);
    assert_true(pr.last_done > 0 && pr.last_done < pr.last_total);
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
    scrm_dataset_free(ds);
}

static void test_online_retail_slice(void **state)
{
    (void)state;
    /* tests/data/online_retail_head2000.csv: R write.csv style (quoted
     * strings), CustomerID "NA" for unknown customers. Computed
     * independently with Python (csv + decimal, ROUND_HALF_UP = half away
     * from zero): 2000 rows, 503 with CustomerID NA, 1497 others, 959
     * distinct customers, sum(round(Quantity*UnitPrice*100)) = 3291387,
     * InvoiceDate 2010-12-01 09:37:00 (1291196220) .. 2011-12-09 10:20:00
     * (1323426000) as UTC. */
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "CustomerID";
    o.time_column = "InvoiceDate";
    o.quantity_column = "Quantity";
    o.unit_price_column = "UnitPrice";
    o.na_customer = "NA";
    scrm_csv_report *rep = NULL;
    int rc = scrm_csv_load_file(&rep, ds, SCRM_TEST_DATA "/online_retail_head2000.csv", &o);
    if (rc)
        print_error("%s\n", scrm_last_error());
    assert_int_equal(rc, SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), 2000);
    assert_int_equal(scrm_csv_report_empty_customer(rep), 503);
    assert_int_equal(scrm_csv_report_rows_added(rep), 1497);
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_ISO8601);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_U64);
    assert_int_equal(scrm_dataset_customer_count(ds), 959);
    assert_int_equal(total_amount(ds), 3291387);
    int64_t mn, mx;
    assert_int_equal(scrm_dataset_time_range(&mn, &mx, ds), SCRM_OK);
    assert_int_equal(mn, 1291196220);
    assert_int_equal(mx, 1323426000);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

/* What a load of a real file must give (computed independently). */
struct load_want {
    uint64_t rows, empty, added, merged, multi, rejected, customers;
    int64_t total;
};

static void load_file_expect(const char *path, const scrm_csv_options *o,
                             const struct load_want *w)
{
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *rep = NULL;
    assert_int_equal(scrm_csv_load_file(&rep, ds, path, o), SCRM_OK);
    assert_int_equal(scrm_csv_report_rows_read(rep), w->rows);
    assert_int_equal(scrm_csv_report_empty_customer(rep), w->empty);
    assert_int_equal(scrm_csv_report_rows_added(rep), w->added);
    assert_int_equal(scrm_csv_report_lines_merged(rep), w->merged);
    assert_int_equal(scrm_csv_report_orders_merged(rep), w->multi);
    assert_int_equal(scrm_csv_report_rejected(rep), w->rejected);
    assert_int_equal(scrm_csv_report_duplicates(rep), 0);
    assert_int_equal(scrm_dataset_customer_count(ds), w->customers);
    assert_int_equal(total_amount(ds), w->total);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_olist_order_items_lines_by_order_id(void **state)
{
    (void)state;
    /* tests/data/olist_order_items_head1000.csv: one row per order item,
     * here with the seller as the "customer", so that an order's items of
     * another seller than its first item's are bad rows (skipped). Python
     * csv + decimal, first line of an order fixing its seller: 1000 rows,
     * 867 orders, 124 lines merged into 82 orders, 9 of other sellers, 391
     * sellers, sum of the prices of the orders 13552228 centavos. */
    scrm_csv_options o = olist_items_by_seller_options();
    const struct load_want w = {1000, 0, 867, 124, 82, 9, 391, 13552228};
    load_file_expect(SCRM_TEST_DATA "/olist_order_items_head1000.csv", &o, &w);
}

static void test_online_retail_invoice_lines_and_na_customers(void **state)
{
    (void)state;
    /* tests/data/online_retail_head2000.csv by InvoiceNo, with the default
     * "no customer" set (NA). Python csv + decimal: 2000 rows, 503 of
     * customer NA, 1378 invoices, 119 lines merged into 102 of them, no
     * invoice of two customers, 959 customers, sum of quantity x unit
     * price rounded per line 3291387 pence. */
    scrm_csv_options o = online_retail_options();
    o.order_id_column = "InvoiceNo";
    const struct load_want w = {2000, 503, 1378, 119, 102, 0, 959, 3291387};
    load_file_expect(SCRM_TEST_DATA "/online_retail_head2000.csv", &o, &w);
}

static void test_olist_brazilian_format(void **state)
{
    (void)state;
    /* tests/data/olist_orders_br.csv: ';' delimiter, decimal comma with '.'
     * thousands (some quoted), CRLF, São Paulo local time (UTC-3). Python:
     * 600 rows, 600 distinct clients, sum(valor) 8983485 centavos,
     * data_compra 2017-01-05 12:01:15 -> 1483634075 UTC ..
     * 2017-12-31 19:20:56 -> 1514497256 UTC (local + 3 h). */
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "cliente";
    o.time_column = "data_compra";
    o.amount_column = "valor";
    o.order_id_column = "pedido";
    o.decimal_separator = ',';
    o.utc_offset = -3 * 3600;
    scrm_csv_report *rep = NULL;
    int rc = scrm_csv_load_file(&rep, ds, SCRM_TEST_DATA "/olist_orders_br.csv", &o);
    if (rc)
        print_error("%s\n", scrm_last_error());
    assert_int_equal(rc, SCRM_OK);
    assert_int_equal(scrm_csv_report_delimiter(rep), ';');
    assert_int_equal(scrm_csv_report_rows_added(rep), 600);
    assert_int_equal(scrm_dataset_customer_count(ds), 600);
    assert_int_equal(total_amount(ds), 8983485);
    int64_t mn, mx;
    assert_int_equal(scrm_dataset_time_range(&mn, &mx, ds), SCRM_OK);
    assert_int_equal(mn, 1483634075);
    assert_int_equal(mx, 1514497256);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

/* A load records its currency digits as the dataset's (writers of money use
 * them); other digits than those of the orders already held are refused and
 * change nothing; a rejected first load leaves the digits as they were. */
/* A CSV file without amounts (amount_column "none" or NULL) loads into a
 * count-only dataset; a load that fails after a first window was appended
 * leaves the dataset as it was, its amounts mode included. */
static void test_count_only_load_and_rollback(void **state)
{
    (void)state;
    static const char ok[] = "cust,date\n1,2024-01-01\n1,2024-01-05\n2,2024-01-03\n";
    for (int k = 0; k < 2; k++) {
        scrm_dataset *ds = NULL;
        assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.customer_column = "cust";
        o.amount_column = k ? NULL : "none";
        scrm_csv_report *rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, ok, strlen(ok), &o), SCRM_OK);
        assert_int_equal(scrm_dataset_order_count(ds), 3);
        assert_int_equal(scrm_dataset_has_amounts(ds), 0);
        scrm_csv_report_free(rep);
        /* a file with amounts into it: refused, nothing added */
        static const char with[] = "cust,date,amount\n3,2024-01-02,1.00\n";
        o.amount_column = "amount";
        rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, with, strlen(with), &o), SCRM_EINVAL);
        assert_null(rep);
        assert_int_equal(scrm_dataset_order_count(ds), 3);
        scrm_dataset_free(ds);
    }
    /* many small windows, the last row bad: the first windows were appended
     * (count-only) and are rolled back, so amounts may come next */
    size_t cap = 64 + 400 * 24, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)sprintf(text, "cust,date\n");
    for (int i = 0; i < 400; i++)
        len += (size_t)sprintf(text + len, "%d,2024-01-%02d\n", i % 37, 1 + i % 28);
    len += (size_t)sprintf(text + len, "9,not-a-date\n");
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "cust";
    o.amount_column = "none";
    stream_set(&(struct stream_cfg){256, 64, 2}, &o);
    scrm_csv_report *rep = NULL;
    assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, len, &o), SCRM_EPARSE);
    stream_restore();
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    assert_int_equal(scrm_dataset_has_amounts(ds), 1);
    static const char with[] = "cust,date,amount\n3,2024-01-02,1.00\n";
    o = (scrm_csv_options)SCRM_CSV_OPTIONS_INIT;
    o.customer_column = "cust";
    assert_int_equal(scrm_csv_load_buffer(&rep, ds, with, strlen(with), &o), SCRM_OK);
    assert_int_equal(scrm_dataset_has_amounts(ds), 1);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
    free(text);
}

static void test_load_sets_the_dataset_minor_digits(void **state)
{
    (void)state;
    const char *yen = "customer_id,date,amount\n1,2024-01-15,1500\n2,2024-01-16,980\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.minor_digits = 0;
    scrm_csv_report *rep = (scrm_csv_report *)&o; /* sentinel: unchanged on error */
    /* a strict load that fails adds nothing and keeps the digits */
    assert_int_equal(load(&rep, ds, "customer_id,date,amount\n1,2024-01-15,x\n", &o),
                     SCRM_EPARSE);
    assert_ptr_equal(rep, (scrm_csv_report *)&o);
    assert_int_equal(scrm_dataset_minor_digits(ds), 2);
    assert_int_equal(load(NULL, ds, yen, &o), SCRM_OK);
    assert_int_equal(scrm_dataset_minor_digits(ds), 0);
    assert_int_equal(total_amount(ds), 1500 + 980);
    /* the same digits again: fine; other digits now: refused, nothing added */
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n3,2024-01-17,10\n", &o), SCRM_OK);
    o.minor_digits = 2;
    assert_int_equal(load(&rep, ds, "customer_id,date,amount\n4,2024-01-18,1.25\n", &o),
                     SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "0 minor digits"));
    assert_ptr_equal(rep, (scrm_csv_report *)&o);
    assert_int_equal(scrm_dataset_order_count(ds), 3);
    assert_int_equal(scrm_dataset_minor_digits(ds), 0);
    scrm_dataset_free(ds);
    /* a dinar dataset: 3 digits */
    ds = new_ds(SCRM_KEY_AUTO);
    o.minor_digits = 3;
    assert_int_equal(load(NULL, ds, "customer_id,date,amount\n1,2024-01-15,1.250\n", &o),
                     SCRM_OK);
    assert_int_equal(scrm_dataset_minor_digits(ds), 3);
    assert_int_equal(total_amount(ds), 1250);
    scrm_dataset_free(ds);
}

/* ------------------------------------------------------------------ */
/* dates and numbers of real exports (issue 11)                        */

/* Hand-worked: 2011-12-08 is day 15316 (41 years of 1970..2010 with 10
 * leap days: 14975 + 341 days into 2011), 1323302400; 2010-12-13 is
 * 1292198400. */
#define T20111208 INT64_C(1323302400)
#define T20101213 INT64_C(1292198400)

static void test_time_one_digit_hours_no_seconds_and_separators(void **state)
{
    (void)state;
    static const struct {
        int format;
        const char *text;
        int64_t expect;
    } cases[] = {
        {SCRM_TIME_ISO8601, "2011-12-08 9:06", T20111208 + 9 * 3600 + 6 * 60},
        {SCRM_TIME_ISO8601, "2011-12-08T09:06", T20111208 + 9 * 3600 + 6 * 60},
        {SCRM_TIME_ISO8601, "2011/12/08", T20111208},
        {SCRM_TIME_ISO8601, "2011.12.08 0:00:59", T20111208 + 59},
        {SCRM_TIME_DMY, "08.12.2011", T20111208},
        {SCRM_TIME_DMY, "8/12/2011 9:06", T20111208 + 9 * 3600 + 6 * 60},
        {SCRM_TIME_DMY, "08-12-2011 23:59:59", T20111208 + 86399},
        {SCRM_TIME_MDY, "12/8/2011 9:06", T20111208 + 9 * 3600 + 6 * 60},
        {SCRM_TIME_MDY, "12.08.2011", T20111208},
        {SCRM_TIME_MDY, "12/13/2010 8:26", T20101213 + 8 * 3600 + 26 * 60},
        {SCRM_TIME_AUTO, "2011/12/08 9:06", T20111208 + 9 * 3600 + 6 * 60},
        {SCRM_TIME_AUTO, "12/13/2010 8:26", T20101213 + 8 * 3600 + 26 * 60},
        {SCRM_TIME_AUTO, "13.12.2010", T20101213},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id,date,amount\n7,%s,1.00\n", cases[i].text);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.time_format = cases[i].format;
        int rc = load(NULL, ds, text, &o);
        if (rc != SCRM_OK)
            print_error("case %zu '%s': %s\n", i, cases[i].text, scrm_last_error());
        assert_int_equal(rc, SCRM_OK);
        int64_t t, a;
        only_order(ds, &t, &a);
        assert_int_equal(t, cases[i].expect);
        int64_t one;
        assert_int_equal(scrm_time_parse(&one, cases[i].text, strlen(cases[i].text),
                                         cases[i].format, 0), SCRM_OK);
        assert_int_equal(one, cases[i].expect);
        scrm_dataset_free(ds);
    }
}

static void test_time_leap_second_and_bad_clock_say_why(void **state)
{
    (void)state;
    static const struct {
        int format;
        const char *text, *reason;
    } cases[] = {
        {SCRM_TIME_ISO8601, "2016-12-31 23:59:60",
         "'2016-12-31 23:59:60' is not an ISO 8601 time: second 60 (leap seconds are not accepted)"},
        {SCRM_TIME_DMY, "31/12/2016 23:59:60",
         "'31/12/2016 23:59:60' is not a DD/MM/YYYY date: second 60 (leap seconds are not accepted)"},
        {SCRM_TIME_ISO8601, "2011-12-08 25:00", "'2011-12-08 25:00' is not an ISO 8601 time: hour 25"},
        {SCRM_TIME_MDY, "12/8/2011 9:60", "'12/8/2011 9:60' is not an MM/DD/YYYY date: minute 60"},
        {SCRM_TIME_MDY, "13/8/2011", "'13/8/2011' is not an MM/DD/YYYY date: month 13"},
        {SCRM_TIME_ISO8601, "2011-12-08 9:06 pm",
         "'2011-12-08 9:06 pm' is not an ISO 8601 time: unexpected text ' pm' after the time"},
        {SCRM_TIME_YYYYMMDD, "19970230",
         "'19970230' is not a YYYYMMDD date: day 30 (February 1997 has 28 days)"},
        {SCRM_TIME_ISO8601, "2011-12-08 9", "'2011-12-08 9' is not an ISO 8601 time: no time H:MM after the date"},
        {SCRM_TIME_ISO8601, "2011-12-08 9:06:5",
         "'2011-12-08 9:06:5' is not an ISO 8601 time: seconds are not two digits"},
        {SCRM_TIME_AUTO, "13/13/2011", "'13/13/2011' is not a DD/MM/YYYY date: month 13"},
        {SCRM_TIME_MDY, "12/1/10 8:26",
         "'12/1/10 8:26' is not an MM/DD/YYYY date: a two-digit year (the year needs four "
         "digits: 2010, not 10)"},
        {SCRM_TIME_DMY, "1.12.10",
         "'1.12.10' is not a DD/MM/YYYY date: a two-digit year (the year needs four digits: "
         "2010, not 10)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[200];
        snprintf(text, sizeof text, "customer_id,date,amount\n7,%s,1.00\n", cases[i].text);
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.time_format = cases[i].format;
        assert_int_equal(load(NULL, ds, text, &o), SCRM_EPARSE);
        char expect[300];
        snprintf(expect, sizeof expect, "line 2, column date: %s", cases[i].reason);
        assert_string_equal(scrm_last_error(), expect);
        assert_int_equal(scrm_dataset_order_count(ds), 0);
        int64_t t;
        assert_int_equal(scrm_time_parse(&t, cases[i].text, strlen(cases[i].text),
                                         cases[i].format, 0), SCRM_EPARSE);
        assert_string_equal(scrm_last_error(), cases[i].reason);
        scrm_dataset_free(ds);
    }
}

/* n rows of D/M/Y dates with both fields <= 12, then one `last` row. */
static char *dm_text(int n, const char *last)
{
    size_t cap = (size_t)n * 40 + 200;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t at = (size_t)snprintf(s, cap, "customer_id,date,amount\n");
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "%d,%d/%d/2011 9:%02d,1\n", i % 7, 1 + i % 12,
                               1 + (i / 12) % 12, i % 60);
    if (last)
        snprintf(s + at, cap - at, "99,%s,1\n", last);
    return s;
}

/* Sum of all order times, via the partition view. */
static int64_t total_time(const scrm_dataset *ds)
{
    int64_t s = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t k = 0; k < v.n_seg; k++)
            for (uint64_t i = 0; i < v.seg[k].n; i++)
                s += v.seg[k].time[i];
    }
    return s;
}

/* The times dm_text() means, summed by hand: 2011-01-01 is day 14975,
 * months of 2011 start after 0, 31, 59, ... days. */
static int64_t dm_time_sum(int n, int month_first)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t s = 0;
    for (int i = 0; i < n; i++) {
        int a = 1 + i % 12, b = 1 + (i / 12) % 12;
        int m = month_first ? a : b, d = month_first ? b : a;
        s += (14975 + before[m - 1] + d - 1) * INT64_C(86400) + 9 * 3600 + (i % 60) * 60;
    }
    return s;
}

static void test_time_auto_day_month_order_from_the_whole_column(void **state)
{
    (void)state;
    /* the evidence is the last row, after windows that were appended read
     * day first: the load still reads every row in the order it shows */
    static const struct {
        const char *last;
        int format;
        int64_t last_time;
    } cases[] = {
        {"12/13/2010 8:26", SCRM_TIME_MDY, T20101213 + 8 * 3600 + 26 * 60},
        {"13/12/2010 8:26", SCRM_TIME_DMY, T20101213 + 8 * 3600 + 26 * 60},
    };
    static const struct stream_cfg cfgs[] = {
        {UINT64_C(16) << 20, UINT64_C(1) << 20, 1}, {256, 64, 2}, {64, 16, 3}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
            char *text = dm_text(300, cases[i].last);
            scrm_dataset *ds = new_ds(SCRM_KEY_U64);
            scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
            stream_set(&cfgs[k], &o);
            scrm_csv_report *rep = NULL;
            int rc = load(&rep, ds, text, &o);
            stream_restore();
            if (rc)
                print_error("case %zu cfg %zu: %s\n", i, k, scrm_last_error());
            assert_int_equal(rc, SCRM_OK);
            assert_int_equal(scrm_csv_report_time_format(rep), cases[i].format);
            assert_int_equal(scrm_csv_report_rows_added(rep), 301);
            assert_int_equal(total_time(ds), dm_time_sum(300, cases[i].format == SCRM_TIME_MDY) +
                                                 cases[i].last_time);
            scrm_csv_report_free(rep);
            scrm_dataset_free(ds);
            free(text);
        }
}

static void test_time_auto_day_month_undecided_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *last;
        const char *msg;
    } cases[] = {
        {NULL, "CSV: column date: every date has day and month at most 12, so it reads as "
               "DD/MM/YYYY and as MM/DD/YYYY: give the time format (SCRM_TIME_DMY or "
               "SCRM_TIME_MDY; shopcrm --time-format dmy|mdy)"},
        {"13/1/2011,1\n100,1/13/2011",
         "CSV: column date has dates with the day first ('13/1/2011') and with the month first "
         "('1/13/2011'): give the time format (SCRM_TIME_DMY or SCRM_TIME_MDY; shopcrm "
         "--time-format dmy|mdy), the other values are then bad rows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int skip = 0; skip < 2; skip++) {
            char *text = dm_text(50, NULL);
            size_t len = strlen(text);
            char *full = malloc(len + 64);
            assert_non_null(full);
            memcpy(full, text, len);
            if (cases[i].last)
                snprintf(full + len, 64, "99,%s,1\n", cases[i].last);
            else
                full[len] = '\0';
            scrm_dataset *ds = preloaded();
            struct ds_state before = state_of(ds);
            scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
            o.on_error = skip ? SCRM_CSV_SKIP : SCRM_CSV_STRICT;
            scrm_csv_report *rep = NULL;
            assert_int_equal(load(&rep, ds, full, &o), SCRM_EPARSE);
            assert_null(rep);
            assert_string_equal(scrm_last_error(), cases[i].msg);
            struct ds_state after = state_of(ds);
            assert_state(&before, &after);
            /* the format given: every row read that way */
            o.time_format = SCRM_TIME_MDY;
            o.on_error = SCRM_CSV_SKIP;
            assert_int_equal(load(&rep, ds, full, &o), SCRM_OK);
            assert_int_equal(scrm_csv_report_rejected(rep), cases[i].last ? 1 : 0);
            scrm_csv_report_free(rep);
            scrm_dataset_free(ds);
            free(text);
            free(full);
        }
}

static void test_time_auto_yyyymmdd_with_a_bad_value_is_not_epoch(void **state)
{
    (void)state;
    /* one typo in a CDNOW-like column: YYYYMMDD with that row bad, not a
     * column of epoch seconds in 1970 */
    const char *text = "customer_id,date,amount\n"
                       "1,19970101,1\n"
                       "2,19970102,1\n"
                       "3,19971301,1\n"
                       "4,1997011,1\n"
                       "5,19970103,1\n";
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(NULL, ds, text, NULL), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(),
                        "line 4, column date: '19971301' is not a YYYYMMDD date: month 13");
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.on_error = SCRM_CSV_SKIP;
    scrm_csv_report *rep = NULL;
    assert_int_equal(load(&rep, ds, text, &o), SCRM_OK);
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_YYYYMMDD);
    assert_int_equal(scrm_csv_report_rows_added(rep), 3);
    assert_int_equal(scrm_csv_report_rejected(rep), 2);
    check_reject(rep, 1, 5, "date", "'1997011' is not a YYYYMMDD date: 7 digits, not 8");
    int64_t mn;
    assert_int_equal(scrm_dataset_time_range(&mn, NULL, ds), SCRM_OK);
    assert_int_equal(mn, T19970101);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);

    /* fewer than half are dates: epoch seconds, every row read */
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(load(&rep, ds,
                          "customer_id,date,amount\n1,1700000000,1\n2,19970101,1\n3,1700000100,1\n",
                          NULL),
                     SCRM_OK);
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_EPOCH);
    assert_int_equal(scrm_csv_report_rows_added(rep), 3);
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static void test_space_delimiter_runs_of_blanks(void **state)
{
    (void)state;
    /* as CDNOW_master.txt: leading blanks, runs of spaces, CRLF; plus a
     * tab, a line of blanks and a quoted field with a space */
    const char *text = " customer_id  date number_of_cds  dollar_value\r\n"
                       " 00001 19970101  1   11.77\r\n"
                       " 00002 19970112  1   12.00  \r\n"
                       "   \r\n"
                       "\t00002\t19970112  5   77.00\r\n"
                       "\"0 3\" 19970102  2   20.76";
    for (int detect = 0; detect < 2; detect++) {
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.delimiter = detect ? 0 : ' ';
        o.amount_column = "dollar_value";
        scrm_csv_report *rep = NULL;
        int rc = load(&rep, ds, text, &o);
        if (rc)
            print_error("%s\n", scrm_last_error());
        assert_int_equal(rc, SCRM_OK);
        assert_int_equal(scrm_csv_report_delimiter(rep), ' ');
        assert_int_equal(scrm_csv_report_rows_read(rep), 4);
        assert_int_equal(scrm_csv_report_rows_added(rep), 4);
        assert_int_equal(scrm_dataset_customer_count(ds), 3);
        assert_int_equal(total_amount(ds), 1177 + 1200 + 7700 + 2076);
        uint32_t idx;
        assert_int_equal(scrm_dataset_find_str(&idx, ds, "0 3", 3), SCRM_OK);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    /* a short row names the missing column */
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.delimiter = ' ';
    assert_int_equal(load(NULL, ds, "customer_id date amount\n 1 19970101\n", &o), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(),
                        "line 2, column amount: missing field (the row has 2 fields)");
    scrm_dataset_free(ds);
}

/* The gzip file of `len` bytes of text, made with zlib's deflate (the
 * reader under test uses inflate). */
static unsigned char *gzip_bytes(const char *text, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    z.next_in = (Bytef *)(uintptr_t)text;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static char *write_temp(const void *data, size_t len)
{
    char *path = strdup("/tmp/scrm_test_csv_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_gzip_buffer_and_file_load_as_the_plain_text(void **state)
{
    (void)state;
    /* 90,000 orders (about 4 MB, several buffer fills at 256 KiB windows)
     * and a string key in the last row: the load must read the whole
     * input again, decompressing from the start */
    char *orders = order_text(0, 90000, 0);
    size_t olen = strlen(orders);
    char *text = malloc(olen + 64);
    assert_non_null(text);
    memcpy(text, orders, olen);
    size_t len = olen + (size_t)sprintf(text + olen, "o_last,zz,2024-03-01T10:00:00Z,x,1.00\n");
    size_t gzlen;
    unsigned char *gz = gzip_bytes(text, len, &gzlen);
    char *path = write_temp(gz, gzlen);
    static const struct stream_cfg cfgs[] = {{UINT64_C(256) << 10, UINT64_C(64) << 10, 2},
                                             {UINT64_C(16) << 20, UINT64_C(1) << 20, 2}};
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.order_id_column = "order";
        stream_set(&cfgs[k], &o);
        scrm_dataset *ref = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *want = NULL;
        assert_int_equal(scrm_csv_load_buffer(&want, ref, text, len, &o), SCRM_OK);
        assert_int_equal(scrm_csv_report_key_type(want), SCRM_KEY_STRING);
        for (int from_file = 0; from_file < 2; from_file++) {
            scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
            scrm_csv_report *got = NULL;
            struct prog pr = {0, 0, 0, 0};
            o.progress = on_progress;
            o.progress_payload = &pr;
            int rc = from_file ? scrm_csv_load_file(&got, ds, path, &o)
                               : scrm_csv_load_buffer(&got, ds, (const char *)gz, gzlen, &o);
            o.progress = NULL;
            if (rc)
                print_error("%s\n", scrm_last_error());
            assert_int_equal(rc, SCRM_OK);
            assert_same_report(got, want);
            assert_same_customers(ds, ref);
            assert_int_equal(pr.last_done, len); /* the last call: all of it */
            assert_int_equal(pr.last_total, len);
            scrm_csv_report_free(got);
            scrm_dataset_free(ds);
        }
        scrm_csv_report_free(want);
        scrm_dataset_free(ref);
    }
    stream_restore();
    unlink(path);
    free(path);
    free(gz);
    free(text);
    free(orders);
}

static void test_gzip_members_and_a_record_too_long(void **state)
{
    (void)state;
    /* two gzip members (cat a.gz b.gz) are one input: the trailer's size
     * (of the last member) is short, the load still reads all of it */
    char *a = order_text(0, 5000, 0), *b = order_text(5000, 9000, 0);
    char *rows_b = strchr(b, '\n') + 1; /* b without its header */
    size_t la = strlen(a), lb = strlen(rows_b), ga, gb;
    unsigned char *za = gzip_bytes(a, la, &ga), *zb = gzip_bytes(rows_b, lb, &gb);
    char *plain = malloc(la + lb);
    unsigned char *both = malloc(ga + gb);
    assert_non_null(plain);
    assert_non_null(both);
    memcpy(plain, a, la);
    memcpy(plain + la, rows_b, lb);
    memcpy(both, za, ga);
    memcpy(both + ga, zb, gb);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    static const struct stream_cfg cfg = {4096, 1024, 2};
    stream_set(&cfg, &o);
    scrm_dataset *ref = new_ds(SCRM_KEY_AUTO), *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_report *want = NULL, *got = NULL;
    assert_int_equal(scrm_csv_load_buffer(&want, ref, plain, la + lb, &o), SCRM_OK);
    struct prog pr = {0, 0, 0, 0};
    o.progress = on_progress;
    o.progress_payload = &pr;
    assert_int_equal(scrm_csv_load_buffer(&got, ds, (const char *)both, ga + gb, &o), SCRM_OK);
    assert_same_report(got, want);
    assert_same_customers(ds, ref);
    assert_int_equal(pr.last_done, la + lb);
    assert_int_equal(pr.last_total, la + lb);
    scrm_csv_report_free(got);
    scrm_csv_report_free(want);
    scrm_dataset_free(ds);
    scrm_dataset_free(ref);

    /* a quoted field of 4 MiB of line breaks: more than the buffer holds
     * (a 4 KiB window and 1 MiB of slack, twice) in gzip input is an
     * error; plain text is read */
    size_t big = (size_t)4 << 20;
    char *text = malloc(big + 200);
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "order,customer_id,date,note,amount\no1,1,2024-03-01,\"");
    for (size_t i = 0; i < big; i += 2) {
        text[n++] = 'x';
        text[n++] = '\n';
    }
    n += (size_t)sprintf(text + n, "\",1.00\no2,2,2024-03-02,y,2.00\n");
    size_t gl;
    unsigned char *gz = gzip_bytes(text, n, &gl);
    o.progress = NULL;
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(scrm_csv_load_buffer(NULL, ds, text, n, &o), SCRM_OK);
    assert_int_equal(scrm_dataset_order_count(ds), 2);
    scrm_dataset_free(ds);
    ds = new_ds(SCRM_KEY_AUTO);
    assert_int_equal(scrm_csv_load_buffer(NULL, ds, (const char *)gz, gl, &o), SCRM_EPARSE);
    assert_string_equal(scrm_last_error(),
                        "CSV: a record of the gzip buffer runs on for more than 1 MiB (a quoted "
                        "field with line breaks?); decompress the file to load it");
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    scrm_dataset_free(ds);
    stream_restore();
    free(gz);
    free(text);
    free(both);
    free(plain);
    free(za);
    free(zb);
    free(a);
    free(b);
}

static void test_gzip_corrupt_or_truncated_adds_nothing(void **state)
{
    (void)state;
    char *text = order_text(100, 3000, 0);
    size_t gzlen;
    unsigned char *gz = gzip_bytes(text, strlen(text), &gzlen);
    unsigned char *bad = malloc(gzlen);
    assert_non_null(bad);
    static const struct {
        const char *what;
        size_t len; /* 0: all, corrupted in the middle */
        const char *msg;
    } cases[] = {
        {"truncated", 0, "the gzip data ends early (a truncated file?)"},
        {"corrupt", 1, "the gzip data is corrupt ("},
        {"bad trailer", 2, "the gzip data is corrupt (incorrect data check)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int from_file = 0; from_file < 2; from_file++) {
            memcpy(bad, gz, gzlen);
            size_t n = gzlen;
            if (cases[i].len == 0)
                n = gzlen / 2;
            else if (cases[i].len == 1)
                memset(bad + gzlen / 3, 0xA5, 40);
            else
                bad[gzlen - 8] ^= 1; /* the CRC-32 */
            char *path = write_temp(bad, n);
            scrm_dataset *ds = preloaded();
            struct ds_state before = state_of(ds);
            scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
            o.order_id_column = "order";
            o.on_error = SCRM_CSV_SKIP;
            scrm_csv_report *rep = NULL;
            int rc = from_file ? scrm_csv_load_file(&rep, ds, path, &o)
                               : scrm_csv_load_buffer(&rep, ds, (const char *)bad, n, &o);
            assert_int_equal(rc, SCRM_EIO);
            assert_null(rep);
            if (!strstr(scrm_last_error(), cases[i].msg))
                print_error("%s: %s\n", cases[i].what, scrm_last_error());
            assert_non_null(strstr(scrm_last_error(), cases[i].msg));
            assert_non_null(strstr(scrm_last_error(), from_file ? path : "the gzip buffer"));
            struct ds_state after = state_of(ds);
            assert_state(&after, &before);
            scrm_dataset_free(ds);
            unlink(path);
            free(path);
        }
    free(bad);
    free(gz);
    free(text);
}

static void test_binary_input_is_refused_not_read_as_a_header(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
        const char *msg;
    } cases[] = {
        {"PK\x03\x04\x14\x00\x06\x00", 8,
         "CSV: the input is a zip archive, not CSV text (an .xlsx workbook is one: export it as CSV)"},
        {"BZh91AY&SY", 10, "CSV: the input is bzip2-compressed, not CSV text"},
        {"\xFD" "7zXZ\x00\x00", 7, "CSV: the input is xz-compressed, not CSV text"},
        {"c\x00u\x00s\x00t\x00", 8,
         "CSV: the input is binary, not CSV text (a NUL byte at offset 1; UTF-16 text must be "
         "converted to UTF-8)"},
        {"\x7f" "ELF\x02\x01\x01\x00", 8,
         "CSV: the input is binary, not CSV text (a NUL byte at offset 7; UTF-16 text must be "
         "converted to UTF-8)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
        scrm_csv_report *rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, cases[i].data, cases[i].len, NULL),
                         SCRM_EPARSE);
        assert_null(rep);
        assert_string_equal(scrm_last_error(), cases[i].msg);
        char *path = write_temp(cases[i].data, cases[i].len);
        assert_int_equal(scrm_csv_load_file(&rep, ds, path, NULL), SCRM_EPARSE);
        char want[300];
        snprintf(want, sizeof want, "CSV: '%s'%s", path, cases[i].msg + strlen("CSV: the input"));
        assert_string_equal(scrm_last_error(), want);
        assert_int_equal(scrm_dataset_order_count(ds), 0);
        unlink(path);
        free(path);
        scrm_dataset_free(ds);
    }
}

static void test_gzip_allocation_failure_at_each_n_changes_nothing(void **state)
{
    (void)state;
    char *text = order_text(90, 400, 1); /* the bad row becomes a reject */
    size_t gzlen;
    unsigned char *gz = gzip_bytes(text, strlen(text), &gzlen);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.order_id_column = "order";
    o.on_error = SCRM_CSV_SKIP;
    allocation_failures_change_nothing((const char *)gz, gzlen, &o);
    free(gz);
    free(text);
}

/* CDNOW_master.txt as published (gzip, whitespace-separated, CRLF): the
 * figures of tests/data/CDNOW_master.txt.gz.README.md (counted with Python
 * when the file was collected). */
static void test_cdnow_master_gz_as_published(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO);
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.amount_column = "dollar_value";
    scrm_csv_report *rep = NULL;
    int rc = scrm_csv_load_file(&rep, ds, SCRM_TEST_DATA "/CDNOW_master.txt.gz", &o);
    if (rc)
        print_error("%s\n", scrm_last_error());
    assert_int_equal(rc, SCRM_OK);
    assert_int_equal(scrm_csv_report_delimiter(rep), ' ');
    assert_int_equal(scrm_csv_report_time_format(rep), SCRM_TIME_YYYYMMDD);
    assert_int_equal(scrm_csv_report_key_type(rep), SCRM_KEY_STRING); /* "00001" */
    assert_int_equal(scrm_csv_report_rows_read(rep), 69659);
    assert_int_equal(scrm_csv_report_rows_added(rep), 69659);
    assert_int_equal(scrm_dataset_customer_count(ds), 23570);
    assert_int_equal(total_amount(ds), INT64_C(250031563));
    int64_t mn, mx;
    assert_int_equal(scrm_dataset_time_range(&mn, &mx, ds), SCRM_OK);
    assert_int_equal(mn, T19970101);
    assert_int_equal(mx, T19970101 + (365 + 180) * INT64_C(86400)); /* 1998-06-30 */
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar_round_trip_and_known_days),
        cmocka_unit_test(test_time_parse_values_and_limits),
        cmocka_unit_test(test_time_parse_bad_values_say_why),
        cmocka_unit_test(test_options_init_defaults_and_errors),
        cmocka_unit_test(test_bad_options_are_einval),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_time_formats_explicit),
        cmocka_unit_test(test_time_bad_values_rejected_with_reason),
        cmocka_unit_test(test_time_auto_decides_per_column),
        cmocka_unit_test(test_time_auto_mixed_kinds_reject_the_odd_rows),
        cmocka_unit_test(test_amounts_separators_and_rounding),
        cmocka_unit_test(test_amounts_bad_values),
        cmocka_unit_test(test_quantity_times_unit_price),
        cmocka_unit_test(test_quoting_delimiters_newlines_and_escapes),
        cmocka_unit_test(test_malformed_quotes_rejected),
        cmocka_unit_test(test_bom_crlf_blank_lines_and_no_final_newline),
        cmocka_unit_test(test_delimiter_detection_and_no_header),
        cmocka_unit_test(test_empty_customer_skipped_and_counted),
        cmocka_unit_test(test_key_type_auto_and_fixed),
        cmocka_unit_test(test_strict_fails_whole_load_at_first_bad_row),
        cmocka_unit_test(test_short_rows_and_long_values),
        cmocka_unit_test(test_missing_column_names_it_and_lists_header),
        cmocka_unit_test(test_order_lines_are_one_order),
        cmocka_unit_test(test_order_line_of_another_customer_is_a_bad_row),
        cmocka_unit_test(test_exclude_filter_skips_and_counts),
        cmocka_unit_test(test_na_customer_list_and_default_set),
        cmocka_unit_test(test_progress_and_cancel_add_nothing),
        cmocka_unit_test(test_allocation_failures_add_nothing_and_leak_nothing),
        cmocka_unit_test(test_chunked_parse_matches_single_thread),
        cmocka_unit_test(test_chunked_string_keys_after_numeric_ones),
        cmocka_unit_test(test_bundled_cdnow_sample),
        cmocka_unit_test(test_progress_mid_parse_cancel_on_real_file),
        cmocka_unit_test(test_online_retail_slice),
        cmocka_unit_test(test_olist_order_items_lines_by_order_id),
        cmocka_unit_test(test_online_retail_invoice_lines_and_na_customers),
        cmocka_unit_test(test_olist_brazilian_format),
        cmocka_unit_test(test_stream_strict_bad_row_in_last_window_changes_nothing),
        cmocka_unit_test(test_stream_cancel_at_each_progress_call_changes_nothing),
        cmocka_unit_test(test_stream_allocation_failure_at_each_n_changes_nothing),
        cmocka_unit_test(test_stream_same_result_for_any_window_and_threads),
        cmocka_unit_test(test_stream_quoted_line_breaks_across_windows),
        cmocka_unit_test(test_stream_short_lines_cut_windows),
        cmocka_unit_test(test_load_sets_the_dataset_minor_digits),
        cmocka_unit_test(test_time_one_digit_hours_no_seconds_and_separators),
        cmocka_unit_test(test_time_leap_second_and_bad_clock_say_why),
        cmocka_unit_test(test_time_auto_day_month_order_from_the_whole_column),
        cmocka_unit_test(test_time_auto_day_month_undecided_is_refused),
        cmocka_unit_test(test_time_auto_yyyymmdd_with_a_bad_value_is_not_epoch),
        cmocka_unit_test(test_space_delimiter_runs_of_blanks),
        cmocka_unit_test(test_gzip_buffer_and_file_load_as_the_plain_text),
        cmocka_unit_test(test_gzip_members_and_a_record_too_long),
        cmocka_unit_test(test_gzip_corrupt_or_truncated_adds_nothing),
        cmocka_unit_test(test_binary_input_is_refused_not_read_as_a_header),
        cmocka_unit_test(test_gzip_allocation_failure_at_each_n_changes_nothing),
        cmocka_unit_test(test_cdnow_master_gz_as_published),
        cmocka_unit_test(test_count_only_load_and_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
