/* Tests of shop KPIs (scrm_kpi_*) and survey scores (scrm_kpi_nps, scrm_kpi_csat).
 *
 * Expected values are worked out by hand from the fixture below (see the
 * comments next to each table), never copied from the code's output. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "failalloc.h"
#include "internal.h"
#include "shopcrm.h"
#include "slurp.h"

/* ---- fixture: 7 customers, window [1000, 2000) ----
 *
 * cust  time  amount   note
 *  A=1   500   1000    before the window
 *  A=1  1000   2000    at start (inclusive)
 *  A=1  1500   3000    in           -> A: returning, 2 orders in window (repeat), revenue 5000
 *  B=2  1200   4000    in
 *  B=2  1300  -1000    refund in    -> B: new, 1 order, revenue 3000
 *  B=2  2000   9999    at end (exclusive): after
 *  C=3  1999      0    zero amount: an order, in
 *  C=3  1100    500    in           -> C: new, 2 orders (repeat), revenue 500
 *  D=4   100    700    before
 *  D=4  1800   -300    refund in, no order in window -> not a customer of the window
 *  E=5  2500    800    after only   -> not a customer of the window
 *  F=6   999    100    one second before start
 *  F=6  1999    600    in           -> F: returning, 1 order, revenue 600
 *  G=7  1400   -200    refund in; G never ordered
 *  G=7   300    -50    refund before
 */
static const uint64_t fx_cust[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7};
static const int64_t fx_time[] = {500, 1000, 1500, 1200, 1300, 2000, 1999, 1100,
                                  100, 1800, 2500, 999, 1999, 1400, 300};
static const int64_t fx_amount[] = {1000, 2000, 3000, 4000, -1000, 9999, 0, 500,
                                    700, -300, 800, 100, 600, -200, -50};
#define FX_N (sizeof fx_cust / sizeof fx_cust[0])

/* A new dataset of n rows. */
static scrm_dataset *dataset_of(uint64_t n, const uint64_t *c, const int64_t *t, const int64_t *a)
{
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, n, c, t, a, NULL, NULL), SCRM_OK);
    return ds;
}

static scrm_dataset *fixture(void)
{
    return dataset_of(FX_N, fx_cust, fx_time, fx_amount);
}

static scrm_kpi *compute(const scrm_dataset *ds, int64_t start, int64_t end, int64_t off)
{
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.start = start;
    o.end = end;
    o.utc_offset = off;
    scrm_kpi *k = NULL;
    int rc = scrm_kpi_compute(&k, ds, &o);
    if (rc != SCRM_OK)
        fail_msg("scrm_kpi_compute: %s (%s)", scrm_strerror(rc), scrm_last_error());
    return k;
}

static int64_t cnt(const scrm_kpi *k, int metric)
{
    int64_t v = INT64_MIN;
    assert_int_equal(scrm_kpi_count(&v, k, metric), SCRM_OK);
    return v;
}

/* Expected counts of one window, in the order of the metrics 0..10. */
struct want_counts {
    int64_t orders, refunds, customers, new_c, returning, repeat;
    int64_t revenue, order_revenue, refund_amount, new_rev, ret_rev;
};

static void check_counts(const scrm_kpi *k, const struct want_counts *w, const char *name)
{
    const int64_t want[] = {w->orders, w->refunds, w->customers, w->new_c, w->returning,
                            w->repeat, w->revenue, w->order_revenue, w->refund_amount,
                            w->new_rev, w->ret_rev};
    for (int m = 0; m <= SCRM_KPI_RETURNING_REVENUE; m++) {
        int64_t got = cnt(k, m);
        if (got != want[m])
            fail_msg("%s: %s = %lld, want %lld", name, scrm_kpi_metric_name(m), (long long)got,
                     (long long)want[m]);
        /* the double view of an integer metric is the same number */
        assert_true(scrm_kpi_value(k, m) == (double)want[m]);
    }
}

static void check_ratio(const scrm_kpi *k, int metric, double want, const char *name)
{
    double got = scrm_kpi_value(k, metric);
    if (isnan(want)) {
        if (!isnan(got))
            fail_msg("%s: %s = %.17g, want NaN", name, scrm_kpi_metric_name(metric), got);
        return;
    }
    if (!(fabs(got - want) <= 1e-12 * fabs(want)))
        fail_msg("%s: %s = %.17g, want %.17g", name, scrm_kpi_metric_name(metric), got, want);
}

static void test_kpi_window_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture();
    scrm_kpi *k = compute(ds, 1000, 2000, 0);
    /* orders A,A,B,C,C,F = 6; refunds B,D,G = 3; customers A,B,C,F = 4;
     * new B,C; returning A,F; repeat A,C.
     * order revenue 2000+3000+4000+0+500+600 = 10100; refunds -1000-300-200 = -1500;
     * revenue 8600; new B 3000 + C 500 = 3500; returning A 5000 + F 600 = 5600
     * (D's and G's refunds, -500, belong to neither group). */
    struct want_counts w = {6, 3, 4, 2, 2, 2, 8600, 10100, -1500, 3500, 5600};
    check_counts(k, &w, "window");
    check_ratio(k, SCRM_KPI_AVERAGE_ORDER_VALUE, 10100.0 / 6.0, "window");
    check_ratio(k, SCRM_KPI_PURCHASE_FREQUENCY, 1.5, "window");
    check_ratio(k, SCRM_KPI_REPEAT_RATE, 0.5, "window");
    check_ratio(k, SCRM_KPI_REVENUE_PER_CUSTOMER, 2150.0, "window");
    check_ratio(k, SCRM_KPI_NEW_CUSTOMER_SHARE, 0.5, "window");
    check_ratio(k, SCRM_KPI_NEW_REVENUE_SHARE, 3500.0 / 8600.0, "window");
    check_ratio(k, SCRM_KPI_RETURNING_REVENUE_SHARE, 5600.0 / 8600.0, "window");
    int64_t s = 0, e = 0;
    assert_int_equal(scrm_kpi_window(&s, &e, k), SCRM_OK);
    assert_int_equal(s, 1000);
    assert_int_equal(e, 2000);
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_default_window_is_whole_dataset(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture();
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, NULL), SCRM_OK);
    /* orders A3 B2 C2 D1 E1 F2 = 11; refunds B D G G = 4; customers A..F = 6, all new
     * (no order before an unbounded start); repeat A,B,C,F = 4.
     * order revenue 1000+2000+3000+4000+9999+0+500+700+800+100+600 = 22699;
     * refunds -1000-300-200-50 = -1550; revenue 21149; new = 21149 - G's -250 = 21399. */
    struct want_counts w = {11, 4, 6, 6, 0, 4, 21149, 22699, -1550, 21399, 0};
    check_counts(k, &w, "whole");
    check_ratio(k, SCRM_KPI_AVERAGE_ORDER_VALUE, 22699.0 / 11.0, "whole");
    check_ratio(k, SCRM_KPI_PURCHASE_FREQUENCY, 11.0 / 6.0, "whole");
    check_ratio(k, SCRM_KPI_REPEAT_RATE, 4.0 / 6.0, "whole");
    check_ratio(k, SCRM_KPI_REVENUE_PER_CUSTOMER, 21149.0 / 6.0, "whole");
    check_ratio(k, SCRM_KPI_NEW_CUSTOMER_SHARE, 1.0, "whole");
    check_ratio(k, SCRM_KPI_NEW_REVENUE_SHARE, 21399.0 / 21149.0, "whole");
    check_ratio(k, SCRM_KPI_RETURNING_REVENUE_SHARE, 0.0, "whole");
    int64_t s = 0, e = 0;
    assert_int_equal(scrm_kpi_window(&s, &e, k), SCRM_OK);
    assert_true(s == SCRM_KPI_START_ALL && e == SCRM_KPI_END_ALL);
    scrm_kpi_free(k);

    /* The options initialiser gives the same defaults. */
    scrm_kpi_options o;
    memset(&o, 0x5a, sizeof o);
    assert_int_equal(scrm_kpi_options_init(&o, SCRM_KPI_OPTIONS_VERSION), SCRM_OK);
    assert_int_equal(o.version, SCRM_KPI_OPTIONS_VERSION);
    assert_true(o.start == SCRM_KPI_START_ALL && o.end == SCRM_KPI_END_ALL);
    assert_true(o.utc_offset == 0 && o.threads == 0 && o.progress == NULL);
    assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_OK);
    assert_int_equal(cnt(k, SCRM_KPI_REVENUE), 21149);
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

/* Each window around a boundary of the fixture, worked out row by row. */
static void test_kpi_window_start_inclusive_end_exclusive(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t start, end, off;
        struct want_counts w;
    } cases[] = {
        /* only A@1000 (A ordered at 500 before): returning */
        {"[1000,1001)", 1000, 1001, 0, {1, 0, 1, 0, 1, 0, 2000, 2000, 0, 0, 2000}},
        /* only F@999, F's first order: new */
        {"[999,1000)", 999, 1000, 0, {1, 0, 1, 1, 0, 0, 100, 100, 0, 100, 0}},
        /* C@1999 (0, first order 1100) and F@1999 (600): both returning */
        {"[1999,2000)", 1999, 2000, 0, {2, 0, 2, 0, 2, 0, 600, 600, 0, 0, 600}},
        /* B@2000 only: returning (first order 1200) */
        {"[2000,2001)", 2000, 2001, 0, {1, 0, 1, 0, 1, 0, 9999, 9999, 0, 0, 9999}},
        /* start == end: an empty window */
        {"[1500,1500)", 1500, 1500, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
        /* local time = t + 1000: the same rows as [1000,2000) in UTC */
        {"[2000,3000)+1000", 2000, 3000, 1000, {6, 3, 4, 2, 2, 2, 8600, 10100, -1500, 3500, 5600}},
        /* t - 1 in [1000,2000) <=> t in [1001,2001): drops A@1000, adds B@2000;
         * A (1 order @1500) returning, B 2 orders new (4000-1000+9999 = 12999),
         * C new, F returning; repeat B,C. */
        {"[1000,2000)-1", 1000, 2000, -1,
         {6, 3, 4, 2, 2, 2, 16599, 18099, -1500, 13499, 3600}},
        /* up to 1000 exclusive: A@500, D@100, F@999, G@300 refund; all new */
        {"[MIN,1000)", SCRM_KPI_START_ALL, 1000, 0, {3, 1, 3, 3, 0, 0, 1750, 1800, -50, 1800, 0}},
        /* from 2000: B@2000 and E@2500; B returning, E new */
        {"[2000,MAX)", 2000, SCRM_KPI_END_ALL, 0,
         {2, 0, 2, 1, 1, 0, 10799, 10799, 0, 800, 9999}},
    };
    scrm_dataset *ds = fixture();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scrm_kpi *k = compute(ds, cases[i].start, cases[i].end, cases[i].off);
        check_counts(k, &cases[i].w, cases[i].name);
        scrm_kpi_free(k);
    }
    scrm_dataset_free(ds);
}

static void check_all_ratios_nan(const scrm_kpi *k, const char *name)
{
    for (int m = SCRM_KPI_AVERAGE_ORDER_VALUE; m < SCRM_KPI_METRIC_COUNT; m++)
        if (scrm_kpi_metric_type(m) != SCRM_KPI_TYPE_COUNT)
            check_ratio(k, m, NAN, name);
}

static void test_kpi_empty_window_has_zero_counts_and_nan_ratios(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture();
    scrm_kpi *k = compute(ds, 3000, 4000, 0);
    struct want_counts zero = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    check_counts(k, &zero, "after everything");
    check_ratio(k, SCRM_KPI_AVERAGE_ORDER_VALUE, NAN, "empty");
    /* Retention still has a meaning: the default lookback is the window's
     * length, 1000 s, so the customers at 3000 are those with an order in
     * [2000, 3000), B (2000) and E (2500), and nobody orders in the window:
     * retention 0 / 2 = 0, churn 1. Everything else is NaN. */
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 2);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_END), 0);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_CUSTOMERS), 0);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_FROM_START), 0);
    assert_int_equal(cnt(k, SCRM_KPI_REACTIVATED_CUSTOMERS), 0);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, 0.0, "after everything");
    check_ratio(k, SCRM_KPI_CHURN_RATE, 1.0, "after everything");
    check_ratio(k, SCRM_KPI_RETAINED_FROM_START_SHARE, 0.0, "after everything");
    for (int m = SCRM_KPI_AVERAGE_ORDER_VALUE; m < SCRM_KPI_METRIC_COUNT; m++)
        if (scrm_kpi_metric_type(m) != SCRM_KPI_TYPE_COUNT && m != SCRM_KPI_RETENTION_RATE &&
            m != SCRM_KPI_CHURN_RATE && m != SCRM_KPI_RETAINED_FROM_START_SHARE)
            check_ratio(k, m, NAN, "after everything");
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_empty_dataset(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, NULL), SCRM_OK);
    struct want_counts zero = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    check_counts(k, &zero, "empty dataset");
    check_all_ratios_nan(k, "empty dataset");
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_refunds_only_window(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture();
    /* [1800,1801): only D's refund of -300. No order, no customer. */
    scrm_kpi *k = compute(ds, 1800, 1801, 0);
    struct want_counts w = {0, 1, 0, 0, 0, 0, -300, 0, -300, 0, 0};
    check_counts(k, &w, "refund only");
    check_ratio(k, SCRM_KPI_AVERAGE_ORDER_VALUE, NAN, "refund only");
    check_ratio(k, SCRM_KPI_REPEAT_RATE, NAN, "refund only");
    check_ratio(k, SCRM_KPI_NEW_REVENUE_SHARE, 0.0, "refund only"); /* 0 / -300 */
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_zero_revenue_gives_nan_shares(void **state)
{
    (void)state;
    /* A single zero-amount order: one order, one customer, revenue 0. */
    scrm_dataset *ds = NULL;
    uint64_t c = 42;
    int64_t t = 0, a = 0;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, &c, &t, &a, NULL, NULL), SCRM_OK);
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, NULL), SCRM_OK);
    struct want_counts w = {1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    check_counts(k, &w, "zero order");
    check_ratio(k, SCRM_KPI_AVERAGE_ORDER_VALUE, 0.0, "zero order");
    check_ratio(k, SCRM_KPI_PURCHASE_FREQUENCY, 1.0, "zero order");
    check_ratio(k, SCRM_KPI_REVENUE_PER_CUSTOMER, 0.0, "zero order");
    check_ratio(k, SCRM_KPI_NEW_REVENUE_SHARE, NAN, "zero order");
    check_ratio(k, SCRM_KPI_RETURNING_REVENUE_SHARE, NAN, "zero order");
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_revenue_overflow_is_an_error(void **state)
{
    (void)state;
    uint64_t c[] = {1, 2};
    int64_t t[] = {0, 10};
    int64_t a[] = {INT64_MAX, 1};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c, t, a, NULL, NULL), SCRM_OK);
    scrm_kpi *k = (scrm_kpi *)&k; /* sentinel: must stay unchanged */
    scrm_kpi *const sentinel = k;
    assert_int_equal(scrm_kpi_compute(&k, ds, NULL), SCRM_EOVERFLOW);
    assert_ptr_equal(k, sentinel);
    assert_non_null(strstr(scrm_last_error(), "revenue"));
    /* Each order alone fits: INT64_MAX exactly is fine. */
    k = compute(ds, 0, 1, 0);
    assert_int_equal(cnt(k, SCRM_KPI_REVENUE), INT64_MAX);
    scrm_kpi_free(k);
    scrm_dataset_free(ds);

    /* Revenue MAX + MAX + MIN + (MIN + 2) = 0 fits, but the order revenue
     * 2 * MAX does not: still an overflow, reported, not wrapped. */
    uint64_t c2[] = {1, 1, 2, 2};
    int64_t t2[] = {0, 1, 2, 3};
    int64_t a2[] = {INT64_MAX, INT64_MAX, INT64_MIN, INT64_MIN + 2};
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 4, c2, t2, a2, NULL, NULL), SCRM_OK);
    k = sentinel;
    assert_int_equal(scrm_kpi_compute(&k, ds, NULL), SCRM_EOVERFLOW);
    assert_ptr_equal(k, sentinel);
    scrm_dataset_free(ds);
}

static void test_kpi_bad_arguments(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture();
    scrm_kpi *k = NULL;
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;

    assert_int_equal(scrm_kpi_compute(NULL, ds, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_compute(&k, NULL, NULL), SCRM_EINVAL);
    assert_null(k);

    o.start = 2000;
    o.end = 1999;
    assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "after its end"));
    assert_null(k);

    static const struct {
        int64_t off;
        int want;
    } offs[] = {{SCRM_MAX_UTC_OFFSET, SCRM_OK}, {SCRM_MAX_UTC_OFFSET + 1, SCRM_EINVAL},
                {-SCRM_MAX_UTC_OFFSET, SCRM_OK}, {-SCRM_MAX_UTC_OFFSET - 1, SCRM_EINVAL},
                {INT64_MIN, SCRM_EINVAL}};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
        o.utc_offset = offs[i].off;
        k = NULL;
        assert_int_equal(scrm_kpi_compute(&k, ds, &o), offs[i].want);
        assert_true((k != NULL) == (offs[i].want == SCRM_OK));
        scrm_kpi_free(k);
    }

    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    k = NULL;
    o.version = 0;
    assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_EVERSION);
    o.version = SCRM_KPI_OPTIONS_VERSION + 1;
    assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_EVERSION);
    assert_null(k);

    static const struct {
        int64_t lookback;
        int want;
    } lbs[] = {{1, SCRM_OK}, {SCRM_KPI_MAX_LOOKBACK, SCRM_OK}, {0, SCRM_OK},
               {-86400, SCRM_EINVAL}, {SCRM_KPI_MAX_LOOKBACK + 1, SCRM_EINVAL},
               {INT64_MAX, SCRM_EINVAL}, {INT64_MIN, SCRM_EINVAL}};
    for (size_t i = 0; i < sizeof lbs / sizeof lbs[0]; i++) {
        o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
        o.start = 1000; /* lookback windows near the ends of the time range */
        o.end = 2000;
        o.lookback = lbs[i].lookback;
        k = NULL;
        assert_int_equal(scrm_kpi_compute(&k, ds, &o), lbs[i].want);
        assert_true((k != NULL) == (lbs[i].want == SCRM_OK));
        if (lbs[i].want != SCRM_OK)
            assert_non_null(strstr(scrm_last_error(), "lookback"));
        scrm_kpi_free(k);
        k = NULL;
    }
    assert_int_equal(scrm_kpi_options_init(NULL, SCRM_KPI_OPTIONS_VERSION), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_options_init(&o, 0), SCRM_EVERSION);
    assert_int_equal(scrm_kpi_options_init(&o, SCRM_KPI_OPTIONS_VERSION + 1), SCRM_EVERSION);

    /* getters */
    k = compute(ds, 1000, 2000, 0);
    int64_t v = 77;
    assert_int_equal(scrm_kpi_count(NULL, k, SCRM_KPI_ORDERS), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_count(&v, NULL, SCRM_KPI_ORDERS), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_count(&v, k, -1), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_count(&v, k, SCRM_KPI_METRIC_COUNT), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_count(&v, k, SCRM_KPI_AVERAGE_ORDER_VALUE), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "average_order_value"));
    assert_int_equal(v, 77);
    assert_true(isnan(scrm_kpi_value(NULL, SCRM_KPI_ORDERS)));
    assert_true(isnan(scrm_kpi_value(k, -1)));
    assert_true(isnan(scrm_kpi_value(k, SCRM_KPI_METRIC_COUNT)));
    assert_int_equal(scrm_kpi_window(NULL, NULL, k), SCRM_OK);
    assert_int_equal(scrm_kpi_window(NULL, NULL, NULL), SCRM_EINVAL);
    scrm_kpi_free(k);
    scrm_kpi_free(NULL);
    scrm_dataset_free(ds);
}

static void test_kpi_metric_names_and_types(void **state)
{
    (void)state;
    static const struct {
        int metric;
        const char *name;
        int type;
    } cases[] = {
        {SCRM_KPI_ORDERS, "orders", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_REFUNDS, "refunds", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_CUSTOMERS, "customers", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_NEW_CUSTOMERS, "new_customers", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_RETURNING_CUSTOMERS, "returning_customers", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_REPEAT_CUSTOMERS, "repeat_customers", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_REVENUE, "revenue", SCRM_KPI_TYPE_MONEY},
        {SCRM_KPI_ORDER_REVENUE, "order_revenue", SCRM_KPI_TYPE_MONEY},
        {SCRM_KPI_REFUND_AMOUNT, "refund_amount", SCRM_KPI_TYPE_MONEY},
        {SCRM_KPI_NEW_REVENUE, "new_revenue", SCRM_KPI_TYPE_MONEY},
        {SCRM_KPI_RETURNING_REVENUE, "returning_revenue", SCRM_KPI_TYPE_MONEY},
        {SCRM_KPI_AVERAGE_ORDER_VALUE, "average_order_value", SCRM_KPI_TYPE_MONEY_MEAN},
        {SCRM_KPI_PURCHASE_FREQUENCY, "purchase_frequency", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_REPEAT_RATE, "repeat_rate", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_REVENUE_PER_CUSTOMER, "revenue_per_customer", SCRM_KPI_TYPE_MONEY_MEAN},
        {SCRM_KPI_NEW_CUSTOMER_SHARE, "new_customer_share", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_NEW_REVENUE_SHARE, "new_revenue_share", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_RETURNING_REVENUE_SHARE, "returning_revenue_share", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_CUSTOMERS_AT_START, "customers_at_start", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_CUSTOMERS_AT_END, "customers_at_end", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_RETAINED_CUSTOMERS, "retained_customers", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_RETENTION_RATE, "retention_rate", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_CHURN_RATE, "churn_rate", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_PURCHASE_INTERVALS, "purchase_intervals", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, "mean_days_between_purchases", SCRM_KPI_TYPE_DAYS},
        {SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, "median_days_between_purchases",
         SCRM_KPI_TYPE_DAYS},
        {SCRM_KPI_RETAINED_FROM_START, "retained_from_start", SCRM_KPI_TYPE_COUNT},
        {SCRM_KPI_RETAINED_FROM_START_SHARE, "retained_from_start_share", SCRM_KPI_TYPE_RATIO},
        {SCRM_KPI_REACTIVATED_CUSTOMERS, "reactivated_customers", SCRM_KPI_TYPE_COUNT},
    };
    assert_int_equal(sizeof cases / sizeof cases[0], SCRM_KPI_METRIC_COUNT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(cases[i].metric, (int)i); /* values are explicit and dense */
        assert_string_equal(scrm_kpi_metric_name(cases[i].metric), cases[i].name);
        assert_int_equal(scrm_kpi_metric_type(cases[i].metric), cases[i].type);
    }
    assert_null(scrm_kpi_metric_name(-1));
    assert_null(scrm_kpi_metric_name(SCRM_KPI_METRIC_COUNT));
    assert_int_equal(scrm_kpi_metric_type(-1), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_metric_type(SCRM_KPI_METRIC_COUNT), SCRM_EINVAL);
}

/* ---- retention KPIs ----
 *
 * Fixture in days (d = 86400 s), window [100d, 200d), lookback 50d, so a
 * customer at the start has an order in [50d, 100d) and one at the end an
 * order in [150d, 200d):
 *
 * cust  order days (refunds)      at start  at end  first  note
 *  P    10, 60, 120                  yes      no     10    churned
 *  Q    190, 160, 170, 80            yes      yes    80    retained; intervals 10, 20
 *  R    20, 180                      no       yes    20    lapsed, came back: in E - N
 *  T    120, 130.5, 199              no       yes   120    new; intervals 10.5, 68.5
 *  U    150                          no       yes   150    new
 *  V    90                           yes      no     90    churned
 *  W    95, 99, (-160)               yes      no     95    a refund is not an order
 *  X    200, 100                     no       no    100    new, not a customer at the end
 *  Y    101, 101                     no       no    101    new; interval 0 (same time)
 *
 * S = {P, Q, V, W} = 4; E = {Q, R, T, U} = 4; N = new customers at the end
 * {T, U} = 2; E - N = {Q, R} = 2; retention 2/4 = 0.5, churn 0.5. New
 * customers of the window (metric 3): T, U, X, Y = 4. S ∩ E = {Q} = 1
 * (share 1/4), reactivated = E - N - S ∩ E = {R} = 1. The data starts on
 * day 10, the S window on day 50: no flag.
 * Purchase intervals with both orders in the window: Q 10, 20; T 10.5, 68.5;
 * Y 0 (P's, W's and X's other orders are outside) -> 5 intervals,
 * mean 109 / 5 = 21.8 days, median (sorted 0, 10, 10.5, 20, 68.5) 10.5 days.
 *
 * With the default lookback, the window's length (100 days): S = an order
 * in [0d, 100d) = {P, Q, R, V, W} = 5, E = an order in the window = {P, Q,
 * R, T, U, X, Y} = 7 (X's 200 is outside), N = {T, U, X, Y} = 4, E - N =
 * {P, Q, R} = 3, retention 3/5 = 0.6, churn 0.4; S ∩ E = {P, Q, R} = 3,
 * share 0.6, reactivated 0. The S window starts on day 0, before the data's
 * first day (10): lookback incomplete. */
#define D 86400
static const uint64_t rt_cust[] = {'P', 'P', 'P', 'Q', 'Q', 'Q', 'Q', 'R', 'R', 'T', 'T', 'T',
                                   'U', 'V', 'W', 'W', 'W', 'X', 'X', 'Y', 'Y'};
static const int64_t rt_time[] = {10 * D, 60 * D, 120 * D, 190 * D, 160 * D, 170 * D, 80 * D,
                                  20 * D, 180 * D, 120 * D, 130 * D + D / 2, 199 * D, 150 * D,
                                  90 * D, 95 * D, 99 * D, 160 * D, 200 * D, 100 * D, 101 * D,
                                  101 * D};
static const int64_t rt_amount[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
                                    100, 100, 100, 100, 100, -50, 100, 100, 100, 100};
#define RT_N (sizeof rt_cust / sizeof rt_cust[0])

static scrm_dataset *retention_fixture(void)
{
    return dataset_of(RT_N, rt_cust, rt_time, rt_amount);
}

static scrm_kpi *compute_lb(const scrm_dataset *ds, int64_t start, int64_t end,
                            int64_t lookback)
{
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.start = start;
    o.end = end;
    o.lookback = lookback;
    scrm_kpi *k = NULL;
    int rc = scrm_kpi_compute(&k, ds, &o);
    if (rc != SCRM_OK)
        fail_msg("scrm_kpi_compute: %s (%s)", scrm_strerror(rc), scrm_last_error());
    return k;
}

static void test_kpi_retention_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = retention_fixture();
    scrm_kpi *k = compute_lb(ds, 100 * D, 200 * D, 50 * D);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 4);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_END), 4);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_CUSTOMERS), 2);
    assert_int_equal(cnt(k, SCRM_KPI_NEW_CUSTOMERS), 4);
    assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), 5);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, 0.5, "retention");
    check_ratio(k, SCRM_KPI_CHURN_RATE, 0.5, "retention");
    check_ratio(k, SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, 21.8, "retention");
    check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 10.5, "retention");
    assert_true(scrm_kpi_value(k, SCRM_KPI_CUSTOMERS_AT_START) == 4.0);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_FROM_START), 1);
    assert_int_equal(cnt(k, SCRM_KPI_REACTIVATED_CUSTOMERS), 1);
    check_ratio(k, SCRM_KPI_RETAINED_FROM_START_SHARE, 0.25, "retention");
    assert_int_equal(scrm_kpi_flags(k), 0);
    scrm_kpi_free(k);

    /* default lookback: the window's length */
    k = compute(ds, 100 * D, 200 * D, 0);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 5);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_END), 7);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_CUSTOMERS), 3);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_FROM_START), 3);
    assert_int_equal(cnt(k, SCRM_KPI_REACTIVATED_CUSTOMERS), 0);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, 0.6, "default lookback");
    check_ratio(k, SCRM_KPI_CHURN_RATE, 0.4, "default lookback");
    check_ratio(k, SCRM_KPI_RETAINED_FROM_START_SHARE, 0.6, "default lookback");
    check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 10.5, "default lookback");
    assert_int_equal(scrm_kpi_flags(k), SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE);
    scrm_kpi_free(k);
    /* a lookback of 90 days starts the S window on day 10, the data's first
     * day: complete; 91 days reaches before it */
    k = compute_lb(ds, 100 * D, 200 * D, 90 * D);
    assert_int_equal(scrm_kpi_flags(k), 0);
    scrm_kpi_free(k);
    k = compute_lb(ds, 100 * D, 200 * D, 91 * D);
    assert_int_equal(scrm_kpi_flags(k), SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE);
    scrm_kpi_free(k);
    /* a window ending after the day of the last row (day 200) is partial */
    k = compute_lb(ds, 100 * D, 201 * D, 50 * D);
    assert_int_equal(scrm_kpi_flags(k), 0);
    scrm_kpi_free(k);
    k = compute_lb(ds, 100 * D, 201 * D + 1, 50 * D);
    assert_int_equal(scrm_kpi_flags(k), SCRM_KPI_FLAG_PARTIAL);
    scrm_kpi_free(k);

    /* Even counts of intervals: window [120d, 200d) has Q 10, 20 and T 10.5,
     * 68.5 (P's 120 and R's 180 are alone): median (10.5 + 20) / 2 = 15.25,
     * mean 109 / 4 = 27.25. Window [150d, 200d): Q 10, 20 only (T's 199 is
     * alone there): median = mean = 15. */
    k = compute_lb(ds, 120 * D, 200 * D, 50 * D);
    assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), 4);
    check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 15.25, "[120d,200d)");
    check_ratio(k, SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, 27.25, "[120d,200d)");
    scrm_kpi_free(k);
    k = compute_lb(ds, 150 * D, 200 * D, 50 * D);
    assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), 2);
    check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 15.0, "[150d,200d)");
    check_ratio(k, SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, 15.0, "[150d,200d)");
    scrm_kpi_free(k);

    /* Lookback 1 s: at start = an order at 100d - 1 s (none); at end = an
     * order at 200d - 1 s (none): S = 0 -> NaN rates, not 0. */
    k = compute_lb(ds, 100 * D, 200 * D, 1);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 0);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_END), 0);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, NAN, "lookback 1 s");
    check_ratio(k, SCRM_KPI_CHURN_RATE, NAN, "lookback 1 s");
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_retention_unbounded_window_is_nan(void **state)
{
    (void)state;
    scrm_dataset *ds = retention_fixture();
    /* no start: nobody is a customer at the start */
    scrm_kpi *k = compute_lb(ds, SCRM_KPI_START_ALL, 200 * D, 50 * D);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 0);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_END), 4);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, NAN, "no start");
    /* every order before 200d: intervals P 50, 60; Q 80, 10, 20; R 160;
     * T 10.5, 68.5; W 4; Y 0; X's 100 and 200: 200 is outside -> 10 intervals */
    assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), 10);
    scrm_kpi_free(k);
    /* no end: nobody is a customer at the end; S is still counted */
    k = compute_lb(ds, 100 * D, SCRM_KPI_END_ALL, 50 * D);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 4);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_END), 0);
    assert_int_equal(cnt(k, SCRM_KPI_RETAINED_CUSTOMERS), 0);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, NAN, "no end");
    check_ratio(k, SCRM_KPI_CHURN_RATE, NAN, "no end");
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static void test_kpi_options_version_1_gets_default_lookback(void **state)
{
    (void)state;
    scrm_dataset *ds = retention_fixture();
    /* A version-1 caller's struct ends before `lookback`: whatever lies there
     * is not read, and the default (the window's length) applies (S = 5,
     * retention 0.6 above). */
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.version = 1;
    o.start = 100 * D;
    o.end = 200 * D;
    o.lookback = -7; /* invalid if it were read */
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_OK);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 5);
    check_ratio(k, SCRM_KPI_RETENTION_RATE, 0.6, "version 1");
    scrm_kpi_free(k);
    /* scrm_kpi_options_init(1) leaves the lookback alone, (2) sets it */
    o.lookback = 42;
    assert_int_equal(scrm_kpi_options_init(&o, 1), SCRM_OK);
    assert_int_equal(o.version, 1);
    assert_int_equal(o.lookback, 42);
    assert_int_equal(scrm_kpi_options_init(&o, 2), SCRM_OK);
    assert_int_equal(o.lookback, SCRM_KPI_DEFAULT_LOOKBACK);
    assert_int_equal(o.lookback, SCRM_KPI_LOOKBACK_WINDOW);
    assert_int_equal(o.lookback, 0);
    scrm_dataset_free(ds);
}

static void test_kpi_median_of_many_intervals(void **state)
{
    (void)state;
    /* One customer with orders on days 0, 1, 3, 6, ..., k(k+1)/2 (appended in
     * reverse): intervals 1, 2, ..., 999 days; median 500, mean 500. A second
     * customer with orders 0 and 10000 days adds interval 10000: 1000
     * intervals, median (500 + 501) / 2, mean (499500 + 10000) / 1000. */
    enum { K = 1000 };
    static uint64_t c[K + 2];
    static int64_t t[K + 2], a[K + 2];
    for (int i = 0; i < K; i++) {
        c[i] = 1;
        t[i] = (int64_t)(K - 1 - i) * (K - i) / 2 * D;
        a[i] = 1;
    }
    c[K] = c[K + 1] = 2;
    t[K] = 0;
    t[K + 1] = 10000 * (int64_t)D;
    a[K] = a[K + 1] = 1;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, K, c, t, a, NULL, NULL), SCRM_OK);
    scrm_kpi *k = compute(ds, SCRM_KPI_START_ALL, SCRM_KPI_END_ALL, 0);
    assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), K - 1);
    check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 500.0, "999 intervals");
    check_ratio(k, SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, 500.0, "999 intervals");
    scrm_kpi_free(k);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c + K, t + K, a + K, NULL, NULL), SCRM_OK);
    k = compute(ds, SCRM_KPI_START_ALL, SCRM_KPI_END_ALL, 0);
    assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), K);
    check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 500.5, "1000 intervals");
    check_ratio(k, SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, 509.5, "1000 intervals");
    scrm_kpi_free(k);
    scrm_dataset_free(ds);
}

static int cmp_i64_test(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The median of the purchase intervals against one worked out here by
 * sorting (each customer's order times, their gaps, all gaps), for gap
 * shapes that stress the selection: many equal gaps (same-second orders),
 * gaps spread over seconds, and one gap of nineteen centuries that puts
 * almost every other gap in the lowest histogram bucket. */
static void test_kpi_median_matches_a_sort(void **state)
{
    (void)state;
    enum { N = 40000, NC = 3000 };
    uint64_t *c = malloc(N * sizeof *c);
    int64_t *t = malloc(N * sizeof *t), *a = malloc(N * sizeof *a);
    int64_t *gaps = malloc(N * sizeof *gaps), *ts = malloc(N * sizeof *ts);
    assert_true(c && t && a && gaps && ts);
    uint64_t x = 777;
    for (int shape = 0; shape < 3; shape++)
        for (int extra = 0; extra < 2; extra++) { /* odd and even interval counts */
            uint32_t n = N - (uint32_t)extra;
            for (uint32_t i = 0; i < n; i++) {
                x = scrm__mix64(x + i);
                c[i] = x % NC + 1;
                t[i] = shape == 0   ? (int64_t)(x >> 40) % 50 * D      /* few distinct times */
                       : shape == 1 ? 1700000000 + (int64_t)(x >> 30) % (90 * D)
                                    : 1700000000 + (int64_t)(x >> 30) % (9 * D);
                a[i] = 100;
            }
            if (shape == 2) { /* customer 1: one order in the year 68 */
                c[0] = 1;
                t[0] = -60000000000;
            }
            scrm_dataset *ds = NULL;
            assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
            assert_int_equal(scrm_dataset_append_u64(NULL, ds, n, c, t, a, NULL, NULL), SCRM_OK);
            /* the gaps, customer by customer */
            uint32_t m = 0;
            for (uint64_t cust = 1; cust <= NC; cust++) {
                uint32_t k = 0;
                for (uint32_t i = 0; i < n; i++)
                    if (c[i] == cust)
                        ts[k++] = t[i];
                qsort(ts, k, sizeof *ts, cmp_i64_test);
                for (uint32_t i = 1; i < k; i++)
                    gaps[m++] = ts[i] - ts[i - 1];
            }
            qsort(gaps, m, sizeof *gaps, cmp_i64_test);
            double want = m % 2 ? (double)gaps[m / 2]
                                : ((double)gaps[m / 2 - 1] + (double)gaps[m / 2]) / 2.0;
            scrm_kpi *k = compute(ds, SCRM_KPI_START_ALL, SCRM_KPI_END_ALL, 0);
            assert_int_equal(cnt(k, SCRM_KPI_PURCHASE_INTERVALS), m);
            check_ratio(k, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, want / 86400.0, "median");
            scrm_kpi_free(k);
            scrm_dataset_free(ds);
        }
    free(c);
    free(t);
    free(a);
    free(gaps);
    free(ts);
}
#undef D

/* ---- results do not depend on the thread count ---- */

static uint64_t rng_state = 12345;
static uint64_t rng(void)
{
    rng_state += UINT64_C(0x9e3779b97f4a7c15);
    return scrm__mix64(rng_state);
}

static void test_kpi_bit_identical_across_thread_counts(void **state)
{
    (void)state;
    enum { N = 200000 };
    uint64_t *c = malloc(N * sizeof *c);
    int64_t *t = malloc(N * sizeof *t), *a = malloc(N * sizeof *a);
    assert_true(c && t && a);
    for (int i = 0; i < N; i++) {
        c[i] = rng() % 30000 * UINT64_C(0x9e3779b97f4a7c1); /* keys spread over the range */
        t[i] = (int64_t)(rng() % (400 * 86400));
        a[i] = (int64_t)(rng() % 20000) - 2000; /* ~10% refunds */
    }
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, N, c, t, a, NULL, NULL), SCRM_OK);

    /* Oracle by brute force per customer key (hand computation can't do 200k rows). */
    int64_t start = 100 * 86400, end = 300 * 86400;
    int64_t want_orders = 0, want_rev = 0;
    for (int i = 0; i < N; i++)
        if (t[i] >= start && t[i] < end) {
            want_rev += a[i];
            want_orders += a[i] >= 0;
        }

    double ref[SCRM_KPI_METRIC_COUNT];
    static const uint32_t thread_counts[] = {1, 2, 3, 4, 7, 64};
    for (size_t j = 0; j < sizeof thread_counts / sizeof thread_counts[0]; j++) {
        scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
        o.start = start;
        o.end = end;
        o.threads = thread_counts[j];
        scrm_kpi *k = NULL;
        assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_OK);
        double got[SCRM_KPI_METRIC_COUNT];
        for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++)
            got[m] = scrm_kpi_value(k, m);
        if (j == 0) {
            memcpy(ref, got, sizeof ref);
            assert_int_equal(cnt(k, SCRM_KPI_ORDERS), want_orders);
            assert_int_equal(cnt(k, SCRM_KPI_REVENUE), want_rev);
            assert_int_equal(cnt(k, SCRM_KPI_NEW_CUSTOMERS) + cnt(k, SCRM_KPI_RETURNING_CUSTOMERS),
                             cnt(k, SCRM_KPI_CUSTOMERS));
        } else if (memcmp(ref, got, sizeof ref) != 0) {
            fail_msg("threads=%u differs from threads=1", thread_counts[j]);
        }
        scrm_kpi_free(k);
    }
    scrm_dataset_free(ds);
    free(c);
    free(t);
    free(a);
}


/* n random rows of 3000 customers over `days` days, ~10% refunds. */
static scrm_dataset *random_dataset(uint32_t n, int64_t days)
{
    uint64_t *c = malloc(n * sizeof *c);
    int64_t *t = malloc(n * sizeof *t), *a = malloc(n * sizeof *a);
    assert_true(c && t && a);
    for (uint32_t i = 0; i < n; i++) {
        c[i] = rng() % 3000;
        t[i] = INT64_C(1704067200) + (int64_t)(rng() % (uint64_t)(days * 86400));
        a[i] = (int64_t)(rng() % 20000) - 2000;
    }
    scrm_dataset *ds = dataset_of(n, c, t, a);
    free(c);
    free(t);
    free(a);
    return ds;
}

/* ---- KPIs per period ----
 *
 * Fixture (UTC, 2024, a leap year; amounts in cents):
 *
 * cust  time                 amount
 *  A    2024-01-10 12:00       100
 *  A    2024-01-20 12:00        50
 *  A    2024-03-05 12:00        70
 *  B    2024-02-01 00:00       200
 *  B    2024-02-15 00:00       -20   refund
 *  C    2024-01-31 23:00        10
 *  C    2024-02-01 00:30        30
 *  D    2024-03-20 08:00        40
 *
 * The data spans 2024-01-10 00:00 .. 2024-03-21 00:00. Monthly rows Jan,
 * Feb, Mar; default lookback: S = customers of the month before, E = of the
 * month.
 * Jan: orders 3, customers {A, C} both new, repeat A; revenue 160; one
 *      interval (A, 10 days); S = {} -> retention NaN; E = {A, C}, both new,
 *      so retained 0. Flags: S (December) before the data, and January
 *      starts before it: LOOKBACK_INCOMPLETE | PARTIAL.
 * Feb: orders 2 (B 200, C 30), a refund -20; customers {B, C}: B new, C
 *      returning (first order Jan 31); revenue 210, new revenue 180,
 *      returning 30; C's two orders are in different months: no interval.
 *      S = {A, C}, E = {B, C}, N = {B}: retained 1, S ∩ E = {C} = 1,
 *      reactivated 0, retention 0.5, share 0.5. Flag: S (January) starts
 *      before the data's first day.
 * Mar: orders 2 (A 70, D 40), customers {A, D}: A returning, D new;
 *      revenue 110. S = {B, C}, E = {A, D}, N = {D}: retained 1 (A), S ∩ E
 *      = 0, reactivated 1 (A had lapsed in February), retention 0.5, share
 *      0. Flag: the data ends on Mar 20: PARTIAL.
 * Lookback 45 days for March: S = an order in [Jan 16, Mar 1) = {A (Jan
 * 20), B, C} = 3; E = an order in [Feb 16, Apr 1) = {A, D} (B's Feb 15 is a
 * refund); S ∩ E = {A} = 1, retained 1, reactivated 0. */
#define T2024(m, d, h, mi) \
    ((int64_t)(((m) == 1 ? 0 : (m) == 2 ? 31 : 60) + (d)-1) * 86400 + (h)*3600 + (mi)*60 + \
     INT64_C(1704067200))
static const uint64_t pd_cust[] = {'A', 'A', 'A', 'B', 'B', 'C', 'C', 'D'};
static const int64_t pd_time[] = {T2024(1, 10, 12, 0), T2024(1, 20, 12, 0), T2024(3, 5, 12, 0),
                                  T2024(2, 1, 0, 0),   T2024(2, 15, 0, 0),  T2024(1, 31, 23, 0),
                                  T2024(2, 1, 0, 30),  T2024(3, 20, 8, 0)};
static const int64_t pd_amount[] = {100, 50, 70, 200, -20, 10, 30, 40};
#define PD_N (sizeof pd_cust / sizeof pd_cust[0])

static scrm_dataset *periods_fixture(void)
{
    return dataset_of(PD_N, pd_cust, pd_time, pd_amount);
}

static scrm_kpi_periods *periods(const scrm_dataset *ds, int unit, const scrm_kpi_options *o)
{
    scrm_kpi_periods *r = NULL;
    int rc = scrm_kpi_periods_compute(&r, ds, unit, o);
    if (rc != SCRM_OK)
        fail_msg("scrm_kpi_periods_compute: %s (%s)", scrm_strerror(rc), scrm_last_error());
    return r;
}

static int64_t pcnt(const scrm_kpi_periods *r, int metric, uint32_t row)
{
    const int64_t *x = scrm_kpi_periods_exact(r, metric);
    assert_non_null(x);
    return x[row];
}

static void check_pval(const scrm_kpi_periods *r, int metric, uint32_t row, double want)
{
    const double *v = scrm_kpi_periods_values(r, metric);
    assert_non_null(v);
    if (isnan(want) ? !isnan(v[row]) : fabs(v[row] - want) > 1e-12)
        fail_msg("row %u: %s = %.17g, want %.17g", row, scrm_kpi_metric_name(metric), v[row], want);
}

static void test_kpi_periods_monthly_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = periods_fixture();
    scrm_kpi_periods *r = periods(ds, SCRM_PERIOD_MONTH, NULL);
    assert_int_equal(scrm_kpi_periods_count(r), 3);
    assert_int_equal(scrm_kpi_periods_unit(r), SCRM_PERIOD_MONTH);
    assert_int_equal(scrm_kpi_periods_first(r), (2024 - 1970) * 12);
    static const struct {
        int metric;
        int64_t want[3];
    } counts[] = {
        {SCRM_KPI_ORDERS, {3, 2, 2}},
        {SCRM_KPI_REFUNDS, {0, 1, 0}},
        {SCRM_KPI_CUSTOMERS, {2, 2, 2}},
        {SCRM_KPI_NEW_CUSTOMERS, {2, 1, 1}},
        {SCRM_KPI_RETURNING_CUSTOMERS, {0, 1, 1}},
        {SCRM_KPI_REPEAT_CUSTOMERS, {1, 0, 0}},
        {SCRM_KPI_REVENUE, {160, 210, 110}},
        {SCRM_KPI_ORDER_REVENUE, {160, 230, 110}},
        {SCRM_KPI_REFUND_AMOUNT, {0, -20, 0}},
        {SCRM_KPI_NEW_REVENUE, {160, 180, 40}},
        {SCRM_KPI_RETURNING_REVENUE, {0, 30, 70}},
        {SCRM_KPI_CUSTOMERS_AT_START, {0, 2, 2}},
        {SCRM_KPI_CUSTOMERS_AT_END, {2, 2, 2}},
        {SCRM_KPI_RETAINED_CUSTOMERS, {0, 1, 1}},
        {SCRM_KPI_RETAINED_FROM_START, {0, 1, 0}},
        {SCRM_KPI_REACTIVATED_CUSTOMERS, {0, 0, 1}},
        {SCRM_KPI_PURCHASE_INTERVALS, {1, 0, 0}},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        for (uint32_t row = 0; row < 3; row++)
            if (pcnt(r, counts[i].metric, row) != counts[i].want[row])
                fail_msg("row %u: %s = %lld, want %lld", row, scrm_kpi_metric_name(counts[i].metric),
                         (long long)pcnt(r, counts[i].metric, row), (long long)counts[i].want[row]);
    check_pval(r, SCRM_KPI_AVERAGE_ORDER_VALUE, 0, 160.0 / 3);
    check_pval(r, SCRM_KPI_RETENTION_RATE, 0, NAN);
    check_pval(r, SCRM_KPI_RETENTION_RATE, 1, 0.5);
    check_pval(r, SCRM_KPI_CHURN_RATE, 1, 0.5);
    check_pval(r, SCRM_KPI_RETAINED_FROM_START_SHARE, 1, 0.5);
    check_pval(r, SCRM_KPI_RETENTION_RATE, 2, 0.5);
    check_pval(r, SCRM_KPI_RETAINED_FROM_START_SHARE, 2, 0.0);
    check_pval(r, SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES, 0, 10.0);
    check_pval(r, SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES, 1, NAN);
    check_pval(r, SCRM_KPI_ORDERS, 2, 2.0);
    assert_null(scrm_kpi_periods_exact(r, SCRM_KPI_RETENTION_RATE)); /* not an integer */
    assert_null(scrm_kpi_periods_values(r, SCRM_KPI_METRIC_COUNT));
    assert_null(scrm_kpi_periods_values(r, -1));
    const uint32_t *f = scrm_kpi_periods_flags(r);
    assert_non_null(f);
    assert_int_equal(f[0], SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE | SCRM_KPI_FLAG_PARTIAL);
    assert_int_equal(f[1], SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE);
    assert_int_equal(f[2], SCRM_KPI_FLAG_PARTIAL);
    scrm_kpi_periods_free(r);

    /* an explicit lookback of 45 days, rows from February (a bounded start) */
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.start = T2024(2, 1, 0, 0);
    o.lookback = 45 * 86400;
    r = periods(ds, SCRM_PERIOD_MONTH, &o);
    assert_int_equal(scrm_kpi_periods_count(r), 2);
    assert_int_equal(pcnt(r, SCRM_KPI_CUSTOMERS_AT_START, 1), 3);
    assert_int_equal(pcnt(r, SCRM_KPI_CUSTOMERS_AT_END, 1), 2);
    assert_int_equal(pcnt(r, SCRM_KPI_RETAINED_FROM_START, 1), 1);
    assert_int_equal(pcnt(r, SCRM_KPI_RETAINED_CUSTOMERS, 1), 1);
    assert_int_equal(pcnt(r, SCRM_KPI_REACTIVATED_CUSTOMERS, 1), 0);
    check_pval(r, SCRM_KPI_RETENTION_RATE, 1, 1.0 / 3);
    scrm_kpi_periods_free(r);

    /* a bounded end after the data: empty rows, partial */
    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    o.end = T2024(3, 1, 0, 0) + 61 * 86400; /* 2024-05-01 */
    r = periods(ds, SCRM_PERIOD_MONTH, &o);
    assert_int_equal(scrm_kpi_periods_count(r), 4);
    assert_int_equal(pcnt(r, SCRM_KPI_ORDERS, 3), 0);
    assert_int_equal(pcnt(r, SCRM_KPI_CUSTOMERS_AT_START, 3), 2); /* March's A and D */
    check_pval(r, SCRM_KPI_RETENTION_RATE, 3, 0.0);
    assert_int_equal(scrm_kpi_periods_flags(r)[3], SCRM_KPI_FLAG_PARTIAL);
    scrm_kpi_periods_free(r);
    scrm_dataset_free(ds);
}

/* Each row is the window of its period: the same numbers as scrm_kpi_compute
 * on that window, for days and weeks with the default lookback (the
 * period's length) and for every unit with a given one; on the random
 * dataset of the thread test, where windows of consecutive rows overlap in
 * their lookbacks and customers span many rows. */

static void test_kpi_periods_rows_equal_single_windows(void **state)
{
    (void)state;
    scrm_dataset *ds = random_dataset(20000, 400);
    static const struct {
        int unit;
        int64_t lookback;
    } cases[] = {{SCRM_PERIOD_DAY, 0},           {SCRM_PERIOD_WEEK, 0},
                 {SCRM_PERIOD_WEEK, 30 * 86400}, {SCRM_PERIOD_MONTH, 45 * 86400},
                 {SCRM_PERIOD_QUARTER, 86400},   {SCRM_PERIOD_YEAR, 365 * 86400}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
        o.lookback = cases[c].lookback;
        o.utc_offset = -3 * 3600;
        scrm_kpi_periods *r = periods(ds, cases[c].unit, &o);
        const uint32_t n = scrm_kpi_periods_count(r);
        assert_true(n > 0);
        for (uint32_t row = 0; row < n; row++) {
            int64_t t0, t1;
            /* local period bounds: scrm_period_start gives UTC, add the offset back */
            assert_int_equal(scrm_period_start(&t0, scrm_kpi_periods_first(r) + row, cases[c].unit, 0),
                             SCRM_OK);
            assert_int_equal(
                scrm_period_start(&t1, scrm_kpi_periods_first(r) + row + 1, cases[c].unit, 0),
                SCRM_OK);
            o.start = t0;
            o.end = t1;
            scrm_kpi *k = NULL;
            assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_OK);
            for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++) {
                double a = scrm_kpi_value(k, m), b = scrm_kpi_periods_values(r, m)[row];
                if (!(a == b || (isnan(a) && isnan(b))))
                    fail_msg("unit %d row %u: %s %.17g vs %.17g", cases[c].unit, row,
                             scrm_kpi_metric_name(m), b, a);
            }
            assert_int_equal(scrm_kpi_flags(k), scrm_kpi_periods_flags(r)[row]);
            scrm_kpi_free(k);
        }
        scrm_kpi_periods_free(r);
    }
    scrm_dataset_free(ds);
}

static void test_kpi_periods_bit_identical_across_thread_counts(void **state)
{
    (void)state;
    scrm_dataset *ds = random_dataset(100000, 400);
    static const uint32_t thread_counts[] = {1, 2, 7, 64};
    scrm_kpi_periods *ref = NULL;
    for (size_t j = 0; j < sizeof thread_counts / sizeof thread_counts[0]; j++) {
        scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
        o.threads = thread_counts[j];
        scrm_kpi_periods *r = periods(ds, SCRM_PERIOD_WEEK, &o);
        if (!ref) {
            ref = r;
            continue;
        }
        assert_int_equal(scrm_kpi_periods_count(r), scrm_kpi_periods_count(ref));
        const size_t n = scrm_kpi_periods_count(r);
        for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++)
            if (memcmp(scrm_kpi_periods_values(r, m), scrm_kpi_periods_values(ref, m),
                       n * sizeof(double)) != 0)
                fail_msg("threads=%u: %s differs", thread_counts[j], scrm_kpi_metric_name(m));
        scrm_kpi_periods_free(r);
    }
    scrm_kpi_periods_free(ref);
    scrm_dataset_free(ds);
}

static void test_kpi_periods_bad_arguments(void **state)
{
    (void)state;
    scrm_dataset *ds = periods_fixture();
    scrm_kpi_periods *r = NULL;
    assert_int_equal(scrm_kpi_periods_compute(NULL, ds, SCRM_PERIOD_MONTH, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_periods_compute(&r, NULL, SCRM_PERIOD_MONTH, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, 5, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, -1, NULL), SCRM_EINVAL);
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.start = T2024(2, 2, 0, 0); /* not the first instant of a month */
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_MONTH, &o), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "2024-02"));
    /* ... but it is a day's */
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_DAY, &o), SCRM_OK);
    assert_int_equal(scrm_kpi_periods_count(r), 48); /* Feb 2 .. Mar 20 */
    scrm_kpi_periods_free(r);
    r = NULL;
    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    o.end = T2024(3, 1, 0, 0) + 1;
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_MONTH, &o), SCRM_EINVAL);
    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    o.lookback = -1;
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_MONTH, &o), SCRM_EINVAL);
    /* 100000 rows are allowed, one more is not */
    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    o.start = 0;
    o.end = (int64_t)SCRM_KPI_MAX_PERIODS * 86400;
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_DAY, &o), SCRM_OK);
    assert_int_equal(scrm_kpi_periods_count(r), SCRM_KPI_MAX_PERIODS);
    scrm_kpi_periods_free(r);
    r = NULL;
    o.end += 86400;
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_DAY, &o), SCRM_ERANGE);
    assert_null(r);
    /* a bound outside years 1..9999 */
    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    o.end = SCRM_TIME_MAX + 1 + 366 * 86400;
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_YEAR, &o), SCRM_ERANGE);
    assert_non_null(strstr(scrm_last_error(), "outside years"));
    /* a start after the data and no end: no row */
    o = (scrm_kpi_options)SCRM_KPI_OPTIONS_INIT;
    o.start = T2024(3, 1, 0, 0) + 31 * 86400; /* 2024-04-01 */
    assert_int_equal(scrm_kpi_periods_compute(&r, ds, SCRM_PERIOD_MONTH, &o), SCRM_OK);
    assert_int_equal(scrm_kpi_periods_count(r), 0);
    scrm_kpi_periods_free(r);
    r = NULL;
    /* the window's length of a huge window does not overflow (UBSan) */
    scrm_kpi_options w = SCRM_KPI_OPTIONS_INIT;
    w.start = INT64_MIN + 1;
    w.end = INT64_MAX - 1;
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, &w), SCRM_OK);
    assert_int_equal(cnt(k, SCRM_KPI_ORDERS), 7);
    assert_int_equal(cnt(k, SCRM_KPI_CUSTOMERS_AT_START), 0);
    scrm_kpi_free(k);
    /* NULL getters */
    assert_int_equal(scrm_kpi_periods_count(NULL), 0);
    assert_int_equal(scrm_kpi_periods_unit(NULL), -1);
    assert_int_equal(scrm_kpi_periods_first(NULL), 0);
    assert_null(scrm_kpi_periods_values(NULL, 0));
    assert_null(scrm_kpi_periods_exact(NULL, 0));
    assert_null(scrm_kpi_periods_flags(NULL));
    assert_int_equal(scrm_kpi_flags(NULL), 0);
    scrm_kpi_periods_free(NULL);
    scrm_dataset_free(ds);
}

static void test_kpi_periods_empty_dataset(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    scrm_kpi_periods *r = periods(ds, SCRM_PERIOD_MONTH, NULL);
    assert_int_equal(scrm_kpi_periods_count(r), 0);
    assert_null(scrm_kpi_periods_values(r, 0));
    assert_null(scrm_kpi_periods_flags(r));
    scrm_kpi_periods_free(r);
    /* bounded on both sides: rows without orders, no flags (no data to compare) */
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.start = T2024(1, 1, 0, 0);
    o.end = T2024(3, 1, 0, 0);
    r = periods(ds, SCRM_PERIOD_MONTH, &o);
    assert_int_equal(scrm_kpi_periods_count(r), 2);
    assert_int_equal(pcnt(r, SCRM_KPI_ORDERS, 1), 0);
    check_pval(r, SCRM_KPI_RETENTION_RATE, 1, NAN);
    assert_int_equal(scrm_kpi_periods_flags(r)[1], 0);
    scrm_kpi_periods_free(r);
    scrm_dataset_free(ds);
}


/* The CSV of the monthly fixture: the rows worked out in
 * test_kpi_periods_monthly_hand_worked, money in major units. */
/* A count-only dataset (no amounts): the counts are as with amounts, the
 * money metrics are absent (NaN values, the flag, empty CSV cells), never a
 * revenue of 0. Customers 1 (days 0 and 40) and 2 (day 35), window all. */
static void test_kpi_count_only_money_is_absent(void **state)
{
    (void)state;
    static const uint64_t c[] = {1, 1, 2};
    static const int64_t t[] = {0, 40 * 86400, 35 * 86400};
    scrm_dataset *ds = dataset_of(3, c, t, NULL);
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, NULL), SCRM_OK);
    assert_true(scrm_kpi_flags(k) & SCRM_KPI_FLAG_NO_AMOUNTS);
    assert_int_equal((int64_t)scrm_kpi_value(k, SCRM_KPI_ORDERS), 3);
    assert_int_equal((int64_t)scrm_kpi_value(k, SCRM_KPI_CUSTOMERS), 2);
    assert_true(fabs(scrm_kpi_value(k, SCRM_KPI_PURCHASE_FREQUENCY) - 1.5) < 1e-12);
    static const int money[] = {SCRM_KPI_REVENUE, SCRM_KPI_ORDER_REVENUE, SCRM_KPI_REFUND_AMOUNT,
                                SCRM_KPI_NEW_REVENUE, SCRM_KPI_RETURNING_REVENUE,
                                SCRM_KPI_AVERAGE_ORDER_VALUE, SCRM_KPI_REVENUE_PER_CUSTOMER,
                                SCRM_KPI_NEW_REVENUE_SHARE, SCRM_KPI_RETURNING_REVENUE_SHARE};
    for (size_t i = 0; i < sizeof money / sizeof money[0]; i++)
        assert_true(isnan(scrm_kpi_value(k, money[i])));
    scrm_kpi_free(k);
    /* with amounts the flag is off and revenue is a number */
    static const int64_t a[] = {100, 200, 300};
    scrm_dataset *dm = dataset_of(3, c, t, a);
    assert_int_equal(scrm_kpi_compute(&k, dm, NULL), SCRM_OK);
    assert_false(scrm_kpi_flags(k) & SCRM_KPI_FLAG_NO_AMOUNTS);
    assert_true(scrm_kpi_value(k, SCRM_KPI_REVENUE) == 600.0);
    scrm_kpi_free(k);
    scrm_dataset_free(dm);
    /* per period: every row flagged, money cells of the CSV empty */
    scrm_kpi_periods *r = periods(ds, SCRM_PERIOD_MONTH, NULL);
    assert_int_equal(scrm_kpi_periods_count(r), 2);
    for (uint32_t i = 0; i < 2; i++)
        assert_true(scrm_kpi_periods_flags(r)[i] & SCRM_KPI_FLAG_NO_AMOUNTS);
    assert_true(isnan(scrm_kpi_periods_values(r, SCRM_KPI_REVENUE)[0]));
    char path[256];
    snprintf(path, sizeof path, "%s/scrm_kpi_co_%ld.csv", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    assert_int_equal(scrm_kpi_periods_write_csv(r, path, 2), SCRM_OK);
    char *buf = slurp(path);
    /* January: 1 order, 0 refunds, 1 customer, 1 new, 0 returning, 0 repeat,
     * then five empty money cells (not 0.00) */
    assert_non_null(strstr(buf, "\n1970-01,1970-01-01T00:00:00Z,1970-02-01T00:00:00Z,1,0,1,0,1,1,0,0,,,,,,,"));
    assert_null(strstr(buf, "0.00"));
    free(buf);
    remove(path);
    scrm_kpi_periods_free(r);
    scrm_dataset_free(ds);
}

static void test_kpi_periods_write_csv(void **state)
{
    (void)state;
    scrm_dataset *ds = periods_fixture();
    scrm_kpi_periods *r = periods(ds, SCRM_PERIOD_MONTH, NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/scrm_kpi_%ld.csv", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    assert_int_equal(scrm_kpi_periods_write_csv(r, path, 2), SCRM_OK);
    char *buf = slurp(path);
    assert_true(strncmp(buf, "period,start,end,lookback_incomplete,partial,orders,refunds,", 60) == 0);
    /* February: 2 orders, 1 refund, 2 customers, 1 new, 1 returning, 0
     * repeat, revenue 2.10, order revenue 2.30, refunds -0.20 ... */
    assert_non_null(strstr(buf, "\n2024-02,2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,1,0,2,1,2,1,1,0,"
                                "2.10,2.30,-0.20,1.80,0.30,1.15,"));
    assert_non_null(strstr(buf, "\n2024-03,2024-03-01T00:00:00Z,2024-04-01T00:00:00Z,0,1,2,"));
    /* January's retention is undefined: an empty cell after churn's */
    assert_null(strstr(buf, "nan"));
    free(buf);
    assert_int_equal(scrm_kpi_periods_write_csv(NULL, path, 2), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_periods_write_csv(r, NULL, 2), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_periods_write_csv(r, path, SCRM_MAX_MINOR_DIGITS + 1), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_periods_write_csv(r, "/nonexistent/dir/k.csv", 2), SCRM_EIO);
    remove(path);
    scrm_kpi_periods_free(r);
    scrm_dataset_free(ds);
}

/* ---- progress and cancellation ---- */

struct prog {
    int calls, cancel_at;
    uint64_t last_done, total;
    int monotonic;
};

static int on_progress(uint64_t done, uint64_t total, void *payload)
{
    struct prog *p = payload;
    p->calls++;
    if (done < p->last_done)
        p->monotonic = 0;
    p->last_done = done;
    p->total = total;
    return p->calls == p->cancel_at;
}

static void test_kpi_progress_reports_rows_and_cancels(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture();
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    struct prog p = {0, 0, 0, 0, 1};
    o.progress = on_progress;
    o.progress_payload = &p;
    scrm_kpi *k = NULL;
    assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_OK);
    assert_true(p.calls >= 1);
    assert_true(p.monotonic);
    assert_int_equal(p.last_done, FX_N);
    assert_int_equal(p.total, FX_N);
    scrm_kpi_free(k);

    for (int at = 1; at <= 2; at++) {
        struct prog q = {0, at, 0, 0, 1};
        o.progress_payload = &q;
        k = NULL;
        assert_int_equal(scrm_kpi_compute(&k, ds, &o), SCRM_ECANCELLED);
        assert_null(k);
        assert_int_equal(q.calls, at);
    }
    scrm_dataset_free(ds);
}

/* ---- allocation failure ---- */

static void test_kpi_allocation_failure_leaves_nothing(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    dopt.threads = 2;
    assert_int_equal(scrm_dataset_new(&ds, &dopt), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, FX_N, fx_cust, fx_time, fx_amount, NULL, NULL),
                     SCRM_OK);
    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.start = 1000;
    o.end = 2000;
    /* The dataset keeps the per-customer summary the first analysis builds
     * (its allocation failures: test_rfm.c), so build it first: what is
     * counted below is the KPI computation's own memory. */
    scrm_kpi *warm = NULL;
    assert_int_equal(scrm_kpi_compute(&warm, ds, &o), SCRM_OK);
    scrm_kpi_free(warm);
    for (int always = 0; always <= 1; always++) {
        int ok = 0;
        for (long n = 1; n < 1000 && !ok; n++) {
            failalloc_install(n - 1, always); /* fail the n-th allocation */
            failalloc_live = 0;
            scrm_kpi *k = (scrm_kpi *)&ok;
            scrm_kpi *const sentinel = k;
            int rc = scrm_kpi_compute(&k, ds, &o);
            if (rc == SCRM_OK) {
                ok = 1;
                assert_int_equal(failalloc_live, 1); /* the result itself */
                assert_int_equal(cnt(k, SCRM_KPI_REVENUE), 8600);
                scrm_kpi_free(k);
                assert_int_equal(failalloc_live, 0);
                assert_true(n > 1); /* at least one allocation was failed first */
            } else {
                assert_int_equal(rc, SCRM_ENOMEM);
                assert_ptr_equal(k, sentinel);
                assert_int_equal(failalloc_live, 0);
                assert_non_null(strstr(scrm_last_error(), "out of memory"));
            }
            failalloc_uninstall();
        }
        assert_true(ok);
    }
    scrm_dataset_free(ds);
}

/* ---- NPS and CSAT ---- */

static void test_nps_hand_worked(void **state)
{
    (void)state;
    static const int32_t all_promoters[] = {9, 10, 10};
    static const int32_t all_detractors[] = {0, 6, 3, 1};
    static const int32_t all_passives[] = {7, 8};
    static const int32_t mixed[] = {10, 9, 8, 7, 6, 0, 9, 10}; /* P=4 D=2 n=8 -> 25 */
    static const int32_t edges[] = {6, 7, 8, 9};               /* P=1 D=1 -> 0 */
    static const int32_t third[] = {9, 5, 7};                  /* (1-1)/3 -> 0 */
    static const int32_t one_in_three[] = {10, 8, 7};          /* 1/3 -> 33.33.. */
    static const struct {
        const char *name;
        const int32_t *s;
        uint64_t n;
        double want;
    } cases[] = {
        {"all promoters", all_promoters, 3, 100.0},
        {"all detractors", all_detractors, 4, -100.0},
        {"all passives", all_passives, 2, 0.0},
        {"mixed", mixed, 8, 25.0},
        {"band edges 6|7 and 8|9", edges, 4, 0.0},
        {"promoter vs detractor", third, 3, 0.0},
        {"one promoter in three", one_in_three, 3, 100.0 / 3.0},
        {"single 0", all_detractors, 1, -100.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = -1e9;
        assert_int_equal(scrm_kpi_nps(&got, cases[i].s, cases[i].n), SCRM_OK);
        if (fabs(got - cases[i].want) > 1e-12)
            fail_msg("%s: nps %.17g, want %.17g", cases[i].name, got, cases[i].want);
    }
}

static void test_nps_rejects_bad_input(void **state)
{
    (void)state;
    static const int32_t low[] = {9, 10, -1, 3};
    static const int32_t high[] = {11};
    static const int32_t ok[] = {5};
    double out = 42.0;
    assert_int_equal(scrm_kpi_nps(&out, low, 4), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 2);
    assert_non_null(strstr(scrm_last_error(), "answer 2"));
    assert_int_equal(scrm_kpi_nps(&out, high, 1), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 0);
    assert_int_equal(scrm_kpi_nps(&out, ok, 0), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_nps(&out, NULL, 1), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_nps(NULL, ok, 1), SCRM_EINVAL);
    assert_true(out == 42.0);
    /* the band edges themselves are in range */
    static const int32_t bounds[] = {0, 10};
    assert_int_equal(scrm_kpi_nps(&out, bounds, 2), SCRM_OK);
    assert_true(out == 0.0);
}

static void test_csat_hand_worked(void **state)
{
    (void)state;
    static const int32_t a[] = {5, 4, 3, 2, 1};   /* 2/5 = 40 */
    static const int32_t b[] = {4, 4, 5, 5};      /* 100 */
    static const int32_t c[] = {1, 2, 3};         /* 0 */
    static const int32_t d[] = {3, 4, 3};         /* 1/3 */
    static const struct {
        const char *name;
        const int32_t *s;
        uint64_t n;
        double want;
    } cases[] = {
        {"one of each", a, 5, 40.0},
        {"all satisfied", b, 4, 100.0},
        {"none satisfied", c, 3, 0.0},
        {"band edge 3|4", d, 3, 100.0 / 3.0},
        {"single 5", a, 1, 100.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = -1e9;
        assert_int_equal(scrm_kpi_csat(&got, cases[i].s, cases[i].n), SCRM_OK);
        if (fabs(got - cases[i].want) > 1e-12)
            fail_msg("%s: csat %.17g, want %.17g", cases[i].name, got, cases[i].want);
    }
}

static void test_csat_rejects_bad_input(void **state)
{
    (void)state;
    static const int32_t zero[] = {5, 0};
    static const int32_t six[] = {1, 2, 3, 6};
    static const int32_t ok[] = {1, 5};
    double out = 42.0;
    assert_int_equal(scrm_kpi_csat(&out, zero, 2), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 1);
    assert_int_equal(scrm_kpi_csat(&out, six, 4), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 3);
    assert_int_equal(scrm_kpi_csat(&out, ok, 0), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_csat(&out, NULL, 2), SCRM_EINVAL);
    assert_int_equal(scrm_kpi_csat(NULL, ok, 2), SCRM_EINVAL);
    assert_true(out == 42.0);
    assert_int_equal(scrm_kpi_csat(&out, ok, 2), SCRM_OK);
    assert_true(out == 50.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpi_window_hand_worked),
        cmocka_unit_test(test_kpi_default_window_is_whole_dataset),
        cmocka_unit_test(test_kpi_window_start_inclusive_end_exclusive),
        cmocka_unit_test(test_kpi_empty_window_has_zero_counts_and_nan_ratios),
        cmocka_unit_test(test_kpi_empty_dataset),
        cmocka_unit_test(test_kpi_refunds_only_window),
        cmocka_unit_test(test_kpi_zero_revenue_gives_nan_shares),
        cmocka_unit_test(test_kpi_revenue_overflow_is_an_error),
        cmocka_unit_test(test_kpi_bad_arguments),
        cmocka_unit_test(test_kpi_metric_names_and_types),
        cmocka_unit_test(test_kpi_retention_hand_worked),
        cmocka_unit_test(test_kpi_retention_unbounded_window_is_nan),
        cmocka_unit_test(test_kpi_options_version_1_gets_default_lookback),
        cmocka_unit_test(test_kpi_median_of_many_intervals),
        cmocka_unit_test(test_kpi_median_matches_a_sort),
        cmocka_unit_test(test_kpi_bit_identical_across_thread_counts),
        cmocka_unit_test(test_kpi_periods_monthly_hand_worked),
        cmocka_unit_test(test_kpi_periods_rows_equal_single_windows),
        cmocka_unit_test(test_kpi_periods_bit_identical_across_thread_counts),
        cmocka_unit_test(test_kpi_periods_bad_arguments),
        cmocka_unit_test(test_kpi_periods_empty_dataset),
        cmocka_unit_test(test_kpi_periods_write_csv),
        cmocka_unit_test(test_kpi_count_only_money_is_absent),
        cmocka_unit_test(test_kpi_progress_reports_rows_and_cancels),
        cmocka_unit_test(test_kpi_allocation_failure_leaves_nothing),
        cmocka_unit_test(test_nps_hand_worked),
        cmocka_unit_test(test_nps_rejects_bad_input),
        cmocka_unit_test(test_csat_hand_worked),
        cmocka_unit_test(test_csat_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
