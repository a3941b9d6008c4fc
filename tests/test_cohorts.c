/* Tests of cohort matrices (scrm_cohorts_*).
 *
 * Expected matrices are worked out by hand from the fixture below (see the
 * comments of each test), never copied from the code's output. */
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
#include "slurp.h"
#include "internal.h"
#include "shopcrm.h"

#ifndef SCRM_TEST_DATA
#define SCRM_TEST_DATA "tests/data"
#endif

#define D INT64_C(86400)
/* month starts, UTC (2017-01-01 is day 17167) */
#define DEC16 INT64_C(1480550400)
#define JAN INT64_C(1483228800)
#define FEB INT64_C(1485907200)
#define MAR INT64_C(1488326400)
#define APR INT64_C(1491004800)
#define MAY INT64_C(1493596800)
/* month indices since 1970-01 */
#define M_DEC16 563
#define M_JAN 564
#define M_FEB 565
#define M_MAR 566
#define M_APR 567

/* ---- fixture: 6 customers, keys 1..6 ----
 *
 * cust  time               amount  note
 *  1    2017-01-31 23:59:59  1000   last second of January
 *  1    2017-02-01 00:00:00  2000   first second of February
 *  1    2017-02-15            500
 *  2    2017-02-11           3000
 *  2    2017-02-12          -1000   refund
 *  2    2017-04-02            400
 *  3    2017-03-06              0   zero amount: an order (min_amount 0)
 *  3    2017-03-07            700
 *  4    2017-01-04             50   small order
 *  4    2017-03-02           5000
 *  5    2017-01-03           -300   only a refund: never acquired by default
 *  6    2017-04-21            100   last row of the dataset: observation end April
 */
static const uint64_t fx_cust[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6};
static const int64_t fx_time[] = {FEB - 1, FEB, FEB + 14 * D, FEB + 10 * D, FEB + 11 * D,
                                  APR + 1 * D, MAR + 5 * D, MAR + 6 * D, JAN + 3 * D,
                                  MAR + 1 * D, JAN + 2 * D, APR + 20 * D};
static const int64_t fx_amount[] = {1000, 2000, 500, 3000, -1000, 400, 0, 700, 50, 5000, -300, 100};
#define FX_N (sizeof fx_cust / sizeof fx_cust[0])

static scrm_dataset *fixture(uint32_t threads)
{
    scrm_dataset *ds = NULL;
    scrm_dataset_options o = SCRM_DATASET_OPTIONS_INIT;
    o.threads = threads;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, FX_N, fx_cust, fx_time, fx_amount, NULL, NULL),
                     SCRM_OK);
    return ds;
}

/* Per-customer acquisition times given by key 1..6, as an array by customer index. */
static void by_index(int64_t out[6], const scrm_dataset *ds, const int64_t by_key[6])
{
    for (uint64_t key = 1; key <= 6; key++) {
        uint32_t idx = 99;
        assert_int_equal(scrm_dataset_find_u64(&idx, ds, key), SCRM_OK);
        assert_true(idx < 6);
        out[idx] = by_key[key - 1];
    }
}

static scrm_cohorts *compute(const scrm_dataset *ds, const scrm_cohorts_options *o)
{
    scrm_cohorts *r = NULL;
    int rc = scrm_cohorts_compute(&r, ds, o);
    if (rc != SCRM_OK)
        fail_msg("scrm_cohorts_compute: %s (%s)", scrm_strerror(rc), scrm_last_error());
    return r;
}

#define N_ NAN
struct want {
    uint32_t C, K;
    int64_t first, obs_end;
    const uint64_t *sizes, *active, *orders;
    const int64_t *revenue;
    const double *retention, *ltv, *cum;
};

static void same_double(double got, double want, const char *what, size_t i)
{
    if (isnan(want) ? !isnan(got) : fabs(got - want) > 1e-12 * fmax(1, fabs(want)))
        fail_msg("%s[%zu] = %.17g, want %.17g", what, i, got, want);
}

static void check(const scrm_cohorts *r, const struct want *w)
{
    assert_int_equal(scrm_cohorts_count(r), w->C);
    assert_int_equal(scrm_cohorts_periods(r), w->K);
    assert_int_equal(scrm_cohorts_first_period(r), w->first);
    assert_int_equal(scrm_cohorts_observation_end(r), w->obs_end);
    const size_t n = (size_t)w->C * w->K;
    for (uint32_t c = 0; c < w->C; c++)
        if (scrm_cohorts_sizes(r)[c] != w->sizes[c])
            fail_msg("sizes[%u] = %llu, want %llu", c,
                     (unsigned long long)scrm_cohorts_sizes(r)[c],
                     (unsigned long long)w->sizes[c]);
    for (size_t i = 0; i < n; i++) {
        if (scrm_cohorts_active(r)[i] != w->active[i])
            fail_msg("active[%zu] = %llu, want %llu", i,
                     (unsigned long long)scrm_cohorts_active(r)[i],
                     (unsigned long long)w->active[i]);
        if (scrm_cohorts_orders(r)[i] != w->orders[i])
            fail_msg("orders[%zu] = %llu, want %llu", i,
                     (unsigned long long)scrm_cohorts_orders(r)[i],
                     (unsigned long long)w->orders[i]);
        if (scrm_cohorts_revenue(r)[i] != w->revenue[i])
            fail_msg("revenue[%zu] = %lld, want %lld", i, (long long)scrm_cohorts_revenue(r)[i],
                     (long long)w->revenue[i]);
        same_double(scrm_cohorts_retention(r)[i], w->retention[i], "retention", i);
        same_double(scrm_cohorts_ltv(r)[i], w->ltv[i], "ltv", i);
        same_double(scrm_cohorts_cum_orders(r)[i], w->cum[i], "cum_orders", i);
    }
}

/* Default options: monthly, classic, refunds ignored, min_amount 0.
 * Cohorts: Jan = {1 (first order Jan 31 23:59:59), 4 (Jan 4, 50)}, Feb = {2},
 * Mar = {3 (zero-amount order counts)}, Apr = {6}; 5 has only a refund.
 * Observation end April: K = Apr - Jan + 1 = 4; Feb has 3 observable
 * columns, Mar 2, Apr 1.
 *   Jan: k0 orders {1000, 50} active {1,4}; k1 (Feb) {2000, 500} active {1};
 *        k2 (Mar) {5000} active {4}; k3 nothing.
 *   Feb: k0 {3000} (the refund is ignored); k1 nothing; k2 (Apr) {400}.
 *   Mar: k0 {0, 700}; k1 nothing.   Apr: k0 {100}. */
static const uint64_t def_sizes[] = {2, 1, 1, 1};
static const uint64_t def_active[] = {2, 1, 1, 0, /**/ 1, 0, 1, 0, /**/ 1, 0, 0, 0, /**/ 1, 0, 0, 0};
static const uint64_t def_orders[] = {2, 2, 1, 0, /**/ 1, 0, 1, 0, /**/ 2, 0, 0, 0, /**/ 1, 0, 0, 0};
static const int64_t def_revenue[] = {1050, 2500, 5000, 0, /**/ 3000, 0, 400, 0,
                                      /**/ 700, 0, 0, 0, /**/ 100, 0, 0, 0};
static const double def_retention[] = {1, 0.5, 0.5, 0, /**/ 1, 0, 1, N_,
                                       /**/ 1, 0, N_, N_, /**/ 1, N_, N_, N_};
static const double def_ltv[] = {525, 1775, 4275, 4275, /**/ 3000, 3000, 3400, N_,
                                 /**/ 700, 700, N_, N_, /**/ 100, N_, N_, N_};
static const double def_cum[] = {1, 2, 2.5, 2.5, /**/ 1, 1, 2, N_, /**/ 2, 2, N_, N_,
                                 /**/ 1, N_, N_, N_};

static void test_cohorts_monthly_classic_worked_by_hand(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(1);
    scrm_cohorts *r = compute(ds, NULL);
    const struct want w = {4, 4, M_JAN, M_APR, def_sizes, def_active, def_orders,
                           def_revenue, def_retention, def_ltv, def_cum};
    check(r, &w);
    assert_int_equal(scrm_cohorts_unit(r), SCRM_PERIOD_MONTH);
    char buf[SCRM_PERIOD_LABEL_MAX];
    static const char *const labels[] = {"2017-01", "2017-02", "2017-03", "2017-04"};
    for (uint32_t c = 0; c < 4; c++) {
        assert_int_equal(scrm_cohorts_label(buf, sizeof buf, r, c), SCRM_OK);
        assert_string_equal(buf, labels[c]);
    }
    assert_int_equal(scrm_cohorts_label(buf, sizeof buf, r, 4), SCRM_ENOTFOUND);
    assert_int_equal(scrm_cohorts_label(buf, 7, r, 0), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_label(NULL, 16, r, 0), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_label(buf, 16, NULL, 0), SCRM_EINVAL);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* The same orders appended in reverse order (so each customer's first row
 * is their latest): the same matrices, for every option that reads the rows
 * in one pass when they are in time order. */
static void test_cohorts_do_not_depend_on_the_row_order(void **state)
{
    (void)state;
    uint64_t cust[FX_N];
    int64_t t[FX_N], amt[FX_N];
    for (size_t i = 0; i < FX_N; i++) {
        cust[i] = fx_cust[FX_N - 1 - i];
        t[i] = fx_time[FX_N - 1 - i];
        amt[i] = fx_amount[FX_N - 1 - i];
    }
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, FX_N, cust, t, amt, NULL, NULL), SCRM_OK);
    scrm_cohorts *r = compute(ds, NULL);
    const struct want w = {4, 4, M_JAN, M_APR, def_sizes, def_active, def_orders,
                           def_revenue, def_retention, def_ltv, def_cum};
    check(r, &w);
    scrm_cohorts_free(r);
    scrm_dataset *fwd = fixture(1);
    for (int variant = 0; variant < 4; variant++) {
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        o.mode = variant & 1 ? SCRM_COHORTS_ROLLING : SCRM_COHORTS_CLASSIC;
        o.refunds = variant >> 1;
        o.min_amount = variant == 1 ? 100 : 0;
        scrm_cohorts *x = compute(ds, &o), *y = compute(fwd, &o);
        assert_int_equal(scrm_cohorts_count(x), scrm_cohorts_count(y));
        assert_int_equal(scrm_cohorts_periods(x), scrm_cohorts_periods(y));
        const size_t n = (size_t)scrm_cohorts_count(x) * scrm_cohorts_periods(x);
        assert_memory_equal(scrm_cohorts_active(x), scrm_cohorts_active(y), n * 8);
        assert_memory_equal(scrm_cohorts_orders(x), scrm_cohorts_orders(y), n * 8);
        assert_memory_equal(scrm_cohorts_revenue(x), scrm_cohorts_revenue(y), n * 8);
        scrm_cohorts_free(x);
        scrm_cohorts_free(y);
    }
    scrm_dataset_free(fwd);
    scrm_dataset_free(ds);
}

/* Rolling: active in period k or later. Last active column per customer:
 * 1 -> k1, 4 -> k2 (Jan); 2 -> k2 (Feb); 3 -> k0 (Mar); 6 -> k0 (Apr). */
static void test_cohorts_rolling_counts_later_activity(void **state)
{
    (void)state;
    static const uint64_t act[] = {2, 2, 1, 0, /**/ 1, 1, 1, 0, /**/ 1, 0, 0, 0, /**/ 1, 0, 0, 0};
    static const double ret[] = {1, 1, 0.5, 0, /**/ 1, 1, 1, N_, /**/ 1, 0, N_, N_,
                                 /**/ 1, N_, N_, N_};
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.mode = SCRM_COHORTS_ROLLING;
    scrm_cohorts *r = compute(ds, &o);
    const struct want w = {4, 4, M_JAN, M_APR, def_sizes, act, def_orders,
                           def_revenue, ret, def_ltv, def_cum};
    check(r, &w);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* refunds = 1: customer 2's refund (Feb, k0 of the Feb cohort) lowers that
 * cell to 2000; customer 5's refund is ignored (5 is never acquired). */
static void test_cohorts_refunds_count_in_revenue_when_asked(void **state)
{
    (void)state;
    static const int64_t rev[] = {1050, 2500, 5000, 0, /**/ 2000, 0, 400, 0,
                                  /**/ 700, 0, 0, 0, /**/ 100, 0, 0, 0};
    static const double ltv[] = {525, 1775, 4275, 4275, /**/ 2000, 2000, 2400, N_,
                                 /**/ 700, 700, N_, N_, /**/ 100, N_, N_, N_};
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.refunds = 1;
    scrm_cohorts *r = compute(ds, &o);
    const struct want w = {4, 4, M_JAN, M_APR, def_sizes, def_active, def_orders,
                           rev, def_retention, ltv, def_cum};
    check(r, &w);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* min_amount 100: customer 4's 50 and customer 3's 0 do not count, so 4
 * joins the Mar cohort (5000) and 3 has one order (700).
 *   Jan {1}: k0 {1000}; k1 {2000, 500}.  Feb {2}: unchanged.
 *   Mar {3, 4}: k0 {700, 5000}.  Apr {6}: {100}. */
static void test_cohorts_min_amount_moves_acquisition(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {1, 1, 2, 1};
    static const uint64_t act[] = {1, 1, 0, 0, /**/ 1, 0, 1, 0, /**/ 2, 0, 0, 0, /**/ 1, 0, 0, 0};
    static const uint64_t ord[] = {1, 2, 0, 0, /**/ 1, 0, 1, 0, /**/ 2, 0, 0, 0, /**/ 1, 0, 0, 0};
    static const int64_t rev[] = {1000, 2500, 0, 0, /**/ 3000, 0, 400, 0,
                                  /**/ 5700, 0, 0, 0, /**/ 100, 0, 0, 0};
    static const double ret[] = {1, 1, 0, 0, /**/ 1, 0, 1, N_, /**/ 1, 0, N_, N_,
                                 /**/ 1, N_, N_, N_};
    static const double ltv[] = {1000, 3500, 3500, 3500, /**/ 3000, 3000, 3400, N_,
                                 /**/ 2850, 2850, N_, N_, /**/ 100, N_, N_, N_};
    static const double cum[] = {1, 3, 3, 3, /**/ 1, 1, 2, N_, /**/ 1, 1, N_, N_,
                                 /**/ 1, N_, N_, N_};
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.min_amount = 100;
    scrm_cohorts *r = compute(ds, &o);
    const struct want w = {4, 4, M_JAN, M_APR, sizes, act, ord, rev, ret, ltv, cum};
    check(r, &w);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* Window [Feb 1, Apr 1): observation end March. Rows kept: 1 {2000, 500},
 * 2 {3000} (and its refund, ignored), 3 {0, 700}, 4 {5000}.
 *   Feb {1, 2}: k0 orders 3, revenue 5500; k1 nothing.
 *   Mar {3, 4}: k0 orders 3, revenue 5700. */
static void test_cohorts_window_filters_orders_and_sets_the_end(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {2, 2};
    static const uint64_t act[] = {2, 0, /**/ 2, 0};
    static const uint64_t ord[] = {3, 0, /**/ 3, 0};
    static const int64_t rev[] = {5500, 0, /**/ 5700, 0};
    static const double ret[] = {1, 0, /**/ 1, N_};
    static const double ltv[] = {2750, 2750, /**/ 2850, N_};
    static const double cum[] = {1.5, 1.5, /**/ 1.5, N_};
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.start = FEB;
    o.end = APR;
    scrm_cohorts *r = compute(ds, &o);
    const struct want w = {2, 2, M_FEB, M_MAR, sizes, act, ord, rev, ret, ltv, cum};
    check(r, &w);
    scrm_cohorts_free(r);
    /* an explicit end after the data extends the observation: end = June 1
     * makes May observable (K = May - Feb + 1 = 4 with start Feb) */
    o.end = MAY + 31 * D;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_observation_end(r), M_APR + 1);
    assert_int_equal(scrm_cohorts_count(r), 3); /* Feb, Mar, Apr (6) */
    assert_int_equal(scrm_cohorts_periods(r), 4);
    /* Feb cohort, k2 = April: customer 2's 400; k3 = May: observable, 0 */
    assert_int_equal(scrm_cohorts_active(r)[2], 1);
    assert_true(scrm_cohorts_retention(r)[3] == 0);
    assert_true(isnan(scrm_cohorts_retention(r)[2 * 4 + 2])); /* Apr + 2 = June */
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* Given acquisition times (by key): 1 -> 2016-12-15 (before any row), 2 -> none,
 * 3 -> Feb 2, 4 -> Mar 3 (its Jan order is before: ignored), 5 -> Jan 2
 * (no order at all), 6 -> none. Observation end April; first Dec 2016:
 * C = 4 (Dec..Mar), K = 5.
 *   Dec {1}: k1 (Jan) {1000}; k2 (Feb) {2000, 500}.
 *   Jan {5}: nothing.   Feb {3}: k1 (Mar) {0, 700}.   Mar {4}: k0 {5000}. */
static void test_cohorts_given_acquisition_times(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {1, 1, 1, 1};
    static const uint64_t act[] = {0, 1, 1, 0, 0, /**/ 0, 0, 0, 0, 0,
                                   /**/ 0, 1, 0, 0, 0, /**/ 1, 0, 0, 0, 0};
    static const uint64_t ord[] = {0, 1, 2, 0, 0, /**/ 0, 0, 0, 0, 0,
                                   /**/ 0, 2, 0, 0, 0, /**/ 1, 0, 0, 0, 0};
    static const int64_t rev[] = {0, 1000, 2500, 0, 0, /**/ 0, 0, 0, 0, 0,
                                  /**/ 0, 700, 0, 0, 0, /**/ 5000, 0, 0, 0, 0};
    static const double ret[] = {0, 1, 1, 0, 0, /**/ 0, 0, 0, 0, N_,
                                 /**/ 0, 1, 0, N_, N_, /**/ 1, 0, N_, N_, N_};
    static const double ltv[] = {0, 1000, 3500, 3500, 3500, /**/ 0, 0, 0, 0, N_,
                                 /**/ 0, 700, 700, N_, N_, /**/ 5000, 5000, N_, N_, N_};
    static const double cum[] = {0, 1, 3, 3, 3, /**/ 0, 0, 0, 0, N_,
                                 /**/ 0, 2, 2, N_, N_, /**/ 1, 1, N_, N_, N_};
    const int64_t acq_key[6] = {DEC16 + 14 * D, INT64_MIN, FEB + 1 * D, MAR + 2 * D, JAN + 1 * D,
                                INT64_MIN};
    scrm_dataset *ds = fixture(1);
    int64_t acq[6], late[6], outside[6];
    by_index(acq, ds, acq_key);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.acquisition = acq;
    o.acquisition_count = 6;
    scrm_cohorts *r = compute(ds, &o);
    const struct want w = {4, 5, M_DEC16, M_APR, sizes, act, ord, rev, ret, ltv, cum};
    check(r, &w);
    char buf[SCRM_PERIOD_LABEL_MAX];
    assert_int_equal(scrm_cohorts_label(buf, sizeof buf, r, 0), SCRM_OK);
    assert_string_equal(buf, "2016-12");
    scrm_cohorts_free(r);

    /* a given time after the last row extends the observation end (June) */
    const int64_t late_key[6] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN,
                                 MAY + 35 * D};
    by_index(late, ds, late_key);
    o.acquisition = late;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_count(r), 1);
    assert_int_equal(scrm_cohorts_periods(r), 1);
    assert_int_equal(scrm_cohorts_first_period(r), M_APR + 2);
    assert_int_equal(scrm_cohorts_observation_end(r), M_APR + 2);
    assert_int_equal(scrm_cohorts_sizes(r)[0], 1);
    assert_true(scrm_cohorts_retention(r)[0] == 0);
    scrm_cohorts_free(r);

    /* a given time outside the window excludes the customer */
    const int64_t outside_key[6] = {JAN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
    by_index(outside, ds, outside_key);
    o.acquisition = outside;
    o.start = FEB;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_count(r), 0);
    assert_int_equal(scrm_cohorts_periods(r), 0);
    assert_null(scrm_cohorts_sizes(r));
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* ISO weeks and UTC offsets.
 * Customer 1: Sunday 2021-01-03 12:00 (2020-W53) and Monday 2021-01-04 00:00
 * (2021-W01): cohort 2020-W53, active in k0 and k1.
 * Customer 2: 2017-02-28 23:30Z; at +01:00 that is March 1st. */
static void test_cohorts_weeks_and_utc_offsets(void **state)
{
    (void)state;
    const uint64_t cust[] = {1, 1};
    const int64_t t[] = {18630 * D + 43200, 18631 * D};
    const int64_t amt[] = {100, 200};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, cust, t, amt, NULL, NULL), SCRM_OK);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.unit = SCRM_PERIOD_WEEK;
    scrm_cohorts *r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_count(r), 1);
    assert_int_equal(scrm_cohorts_periods(r), 2);
    assert_int_equal(scrm_cohorts_first_period(r), 2661);
    assert_int_equal(scrm_cohorts_active(r)[0], 1);
    assert_int_equal(scrm_cohorts_active(r)[1], 1);
    assert_int_equal(scrm_cohorts_revenue(r)[1], 200);
    char buf[SCRM_PERIOD_LABEL_MAX];
    assert_int_equal(scrm_cohorts_label(buf, sizeof buf, r, 0), SCRM_OK);
    assert_string_equal(buf, "2020-W53");
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);

    const uint64_t c2[] = {2, 2};
    const int64_t t2[] = {1488324600, MAR + 10 * D};
    ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c2, t2, amt, NULL, NULL), SCRM_OK);
    o = (scrm_cohorts_options)SCRM_COHORTS_OPTIONS_INIT;
    r = compute(ds, &o); /* UTC: Feb cohort, active in Feb and Mar */
    assert_int_equal(scrm_cohorts_first_period(r), M_FEB);
    assert_int_equal(scrm_cohorts_periods(r), 2);
    assert_int_equal(scrm_cohorts_active(r)[1], 1);
    scrm_cohorts_free(r);
    o.utc_offset = 3600; /* both in March */
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_first_period(r), M_MAR);
    assert_int_equal(scrm_cohorts_periods(r), 1);
    assert_int_equal(scrm_cohorts_orders(r)[0], 2);
    assert_int_equal(scrm_cohorts_active(r)[0], 1);
    assert_int_equal(scrm_cohorts_label(buf, sizeof buf, r, 0), SCRM_OK);
    assert_string_equal(buf, "2017-03");
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

/* Every unit on the fixture: whatever the unit, the counted orders are the
 * 10 rows with amount >= 0 (revenue 12750) and the sizes add up to the 5
 * acquired customers. */
static void test_cohorts_totals_do_not_depend_on_the_unit(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(1);
    for (int unit = 0; unit <= SCRM_PERIOD_YEAR; unit++) {
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        o.unit = unit;
        scrm_cohorts *r = compute(ds, &o);
        const uint32_t C = scrm_cohorts_count(r), K = scrm_cohorts_periods(r);
        uint64_t size = 0, ord = 0;
        int64_t rev = 0;
        for (uint32_t c = 0; c < C; c++)
            size += scrm_cohorts_sizes(r)[c];
        for (size_t i = 0; i < (size_t)C * K; i++) {
            ord += scrm_cohorts_orders(r)[i];
            rev += scrm_cohorts_revenue(r)[i];
        }
        assert_int_equal(size, 5);
        assert_int_equal(ord, 10);
        assert_int_equal(rev, 1000 + 2000 + 500 + 3000 + 400 + 0 + 700 + 50 + 5000 + 100);
        assert_int_equal(scrm_cohorts_unit(r), unit);
        scrm_cohorts_free(r);
    }
    scrm_dataset_free(ds);
}

static void test_cohorts_empty_inputs_give_empty_results(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    scrm_cohorts *r = compute(ds, NULL);
    assert_int_equal(scrm_cohorts_count(r), 0);
    assert_int_equal(scrm_cohorts_periods(r), 0);
    assert_int_equal(scrm_cohorts_observation_end(r), INT64_MIN);
    assert_null(scrm_cohorts_active(r));
    assert_null(scrm_cohorts_retention(r));
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);

    ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.start = MAY; /* after every row */
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_count(r), 0);
    assert_int_equal(scrm_cohorts_observation_end(r), M_APR);
    scrm_cohorts_free(r);
    o.start = JAN + 2 * D; /* only customer 5's refund */
    o.end = JAN + 3 * D;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_count(r), 0);
    assert_int_equal(scrm_cohorts_observation_end(r), M_JAN);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
    /* NULL handles in getters */
    assert_int_equal(scrm_cohorts_count(NULL), 0);
    assert_int_equal(scrm_cohorts_periods(NULL), 0);
    assert_int_equal(scrm_cohorts_first_period(NULL), 0);
    assert_int_equal(scrm_cohorts_observation_end(NULL), INT64_MIN);
    assert_int_equal(scrm_cohorts_unit(NULL), -1);
    assert_null(scrm_cohorts_sizes(NULL));
    assert_null(scrm_cohorts_orders(NULL));
    assert_null(scrm_cohorts_revenue(NULL));
    assert_null(scrm_cohorts_ltv(NULL));
    assert_null(scrm_cohorts_cum_orders(NULL));
    scrm_cohorts_free(NULL);
}

static void test_cohorts_bad_arguments(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(1);
    scrm_cohorts *const sentinel = (scrm_cohorts *)&ds;
    scrm_cohorts *r = sentinel;
    scrm_cohorts_options o;
    assert_int_equal(scrm_cohorts_compute(NULL, ds, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_compute(&r, NULL, NULL), SCRM_EINVAL);
#define EXPECT(field_set, code)                                                                \
    do {                                                                                       \
        o = (scrm_cohorts_options)SCRM_COHORTS_OPTIONS_INIT;                                   \
        field_set;                                                                             \
        assert_int_equal(scrm_cohorts_compute(&r, ds, &o), code);                              \
        assert_ptr_equal(r, sentinel);                                                         \
    } while (0)
    EXPECT(o.unit = 5, SCRM_EINVAL);
    EXPECT(o.unit = -1, SCRM_EINVAL);
    EXPECT(o.utc_offset = 64801, SCRM_EINVAL);
    EXPECT(o.min_amount = -1, SCRM_EINVAL);
    EXPECT(o.refunds = 2, SCRM_EINVAL);
    EXPECT(o.mode = 2, SCRM_EINVAL);
    EXPECT((o.start = FEB, o.end = FEB), SCRM_EINVAL);
    EXPECT((o.start = MAR, o.end = FEB), SCRM_EINVAL);
    EXPECT(o.end = SCRM_TIME_MAX + 2, SCRM_ERANGE);
    EXPECT(o.start = SCRM_TIME_MIN - 1, SCRM_ERANGE);
    EXPECT(o.version = 0, SCRM_EVERSION);
    EXPECT(o.version = SCRM_COHORTS_OPTIONS_VERSION + 1, SCRM_EVERSION);
    const int64_t acq[6] = {0, 0, 0, 0, 0, 0};
    EXPECT((o.acquisition = acq, o.acquisition_count = 5), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "acquisition_count"));
    int64_t acq_bad[6] = {0, 0, 0, 0, 0, 0};
    acq_bad[4] = SCRM_TIME_MAX + 1;
    EXPECT((o.acquisition = acq_bad, o.acquisition_count = 6), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 4);
#undef EXPECT
    /* options_init */
    assert_int_equal(scrm_cohorts_options_init(NULL, 1), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_options_init(&o, 0), SCRM_EVERSION);
    assert_int_equal(scrm_cohorts_options_init(&o, 2), SCRM_EVERSION);
    memset(&o, 0xff, sizeof o);
    assert_int_equal(scrm_cohorts_options_init(&o, 1), SCRM_OK);
    const scrm_cohorts_options def = SCRM_COHORTS_OPTIONS_INIT;
    assert_int_equal(o.version, 1);
    assert_int_equal(o.unit, SCRM_PERIOD_MONTH);
    assert_int_equal(o.start, def.start);
    assert_int_equal(o.end, SCRM_COHORTS_ALL);
    assert_int_equal(o.mode, SCRM_COHORTS_CLASSIC);
    assert_null(o.acquisition);
    assert_null(o.progress);
    scrm_dataset_free(ds);
}

static void test_cohorts_revenue_overflow_is_reported(void **state)
{
    (void)state;
    const uint64_t cust[] = {1, 2};
    const int64_t t[] = {JAN, JAN + D};
    const int64_t amt[] = {INT64_MAX / 2 + 1, INT64_MAX / 2 + 1};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, cust, t, amt, NULL, NULL), SCRM_OK);
    scrm_cohorts *r = NULL;
    assert_int_equal(scrm_cohorts_compute(&r, ds, NULL), SCRM_EOVERFLOW);
    assert_null(r);
    assert_non_null(strstr(scrm_last_error(), "2017-01"));
    /* one customer alone fits */
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.end = JAN + D;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_revenue(r)[0], INT64_MAX / 2 + 1);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);

    /* partial sums that do not fit int64 but a total that does: an order of
     * INT64_MAX, a refund of -INT64_MAX and an order of 5 in one cell (one
     * customer, so one partition, whose rows x max |amount| needs 128 bits) */
    const uint64_t c3[] = {7, 7, 7};
    const int64_t t3[] = {JAN, JAN + D, JAN + 2 * D};
    const int64_t a3[] = {INT64_MAX, -INT64_MAX, 5};
    ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 3, c3, t3, a3, NULL, NULL), SCRM_OK);
    o = (scrm_cohorts_options)SCRM_COHORTS_OPTIONS_INIT;
    o.refunds = 1;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_revenue(r)[0], 5);
    assert_int_equal(scrm_cohorts_orders(r)[0], 2);
    scrm_cohorts_free(r);
    const int64_t acq = JAN;
    o.acquisition = &acq;
    o.acquisition_count = 1;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_revenue(r)[0], 5);
    scrm_cohorts_free(r);
    o.acquisition = NULL;
    o.refunds = 0; /* INT64_MAX + 5 does not fit */
    assert_int_equal(scrm_cohorts_compute(&r, ds, &o), SCRM_EOVERFLOW);
    scrm_dataset_free(ds);
}

static int cancel_at_3(uint64_t done, uint64_t total, void *payload)
{
    (void)total;
    ++*(int *)payload;
    return done >= 3;
}

static void test_cohorts_progress_can_cancel(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    int calls = 0;
    o.progress = cancel_at_3;
    o.progress_payload = &calls;
    o.threads = 1;
    scrm_cohorts *r = NULL;
    assert_int_equal(scrm_cohorts_compute(&r, ds, &o), SCRM_ECANCELLED);
    assert_null(r);
    assert_int_equal(calls, 3);
    scrm_dataset_free(ds);
}

/* ---- real data: tests/data/cohort_online_retail.csv ---- */

static scrm_dataset *load_retail(uint32_t threads)
{
    scrm_dataset *ds = NULL;
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    dopt.threads = threads;
    assert_int_equal(scrm_dataset_new(&ds, &dopt), SCRM_OK);
    scrm_csv_options co = SCRM_CSV_OPTIONS_INIT;
    co.quantity_column = "quantity";
    co.unit_price_column = "unit_price";
    scrm_csv_report *rep = NULL;
    int rc = scrm_csv_load_file(&rep, ds, SCRM_TEST_DATA "/cohort_online_retail.csv", &co);
    if (rc != SCRM_OK)
        fail_msg("load: %s", scrm_last_error());
    assert_int_equal(scrm_csv_report_rows_added(rep), 7441);
    scrm_csv_report_free(rep);
    return ds;
}

/* Split a dataset by customer key parity into two datasets. */
static void split_by_parity(const scrm_dataset *ds, scrm_dataset **odd, scrm_dataset **even)
{
    const uint64_t n = scrm_dataset_order_count(ds);
    uint64_t *k[2];
    int64_t *t[2], *a[2];
    uint64_t m[2] = {0, 0};
    for (int s = 0; s < 2; s++) {
        k[s] = malloc(n * sizeof *k[s]);
        t[s] = malloc(n * sizeof *t[s]);
        a[s] = malloc(n * sizeof *a[s]);
        assert_non_null(k[s]);
        assert_non_null(t[s]);
        assert_non_null(a[s]);
    }
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t q = 0; q < v.n_seg; q++) {
            const scrm__row_seg *g = &v.seg[q];
            for (uint64_t i = 0; i < g->n; i++) {
                uint64_t key;
                assert_int_equal(scrm_dataset_customer_key_u64(&key, ds, v.gid[g->cust[i]]),
                                 SCRM_OK);
                const int s = (int)(key & 1);
                k[s][m[s]] = key;
                t[s][m[s]] = g->time[i];
                a[s][m[s]] = g->amount[i];
                m[s]++;
            }
        }
    }
    assert_int_equal(m[0] + m[1], n);
    scrm_dataset **outs[2] = {even, odd};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(scrm_dataset_new(outs[s], NULL), SCRM_OK);
        assert_int_equal(scrm_dataset_append_u64(NULL, *outs[s], m[s], k[s], t[s], a[s], NULL, NULL),
                         SCRM_OK);
        free(k[s]);
        free(t[s]);
        free(a[s]);
    }
}

static void assert_same_result(const scrm_cohorts *x, const scrm_cohorts *y)
{
    const uint32_t C = scrm_cohorts_count(x), K = scrm_cohorts_periods(x);
    assert_int_equal(scrm_cohorts_count(y), C);
    assert_int_equal(scrm_cohorts_periods(y), K);
    assert_int_equal(scrm_cohorts_first_period(x), scrm_cohorts_first_period(y));
    assert_int_equal(scrm_cohorts_observation_end(x), scrm_cohorts_observation_end(y));
    assert_int_equal(scrm_cohorts_unit(x), scrm_cohorts_unit(y));
    const size_t n = (size_t)C * K;
    if (!n)
        return;
    assert_memory_equal(scrm_cohorts_sizes(x), scrm_cohorts_sizes(y), C * sizeof(uint64_t));
    assert_memory_equal(scrm_cohorts_active(x), scrm_cohorts_active(y), n * sizeof(uint64_t));
    assert_memory_equal(scrm_cohorts_orders(x), scrm_cohorts_orders(y), n * sizeof(uint64_t));
    assert_memory_equal(scrm_cohorts_revenue(x), scrm_cohorts_revenue(y), n * sizeof(int64_t));
    assert_memory_equal(scrm_cohorts_retention(x), scrm_cohorts_retention(y),
                        n * sizeof(double));
    assert_memory_equal(scrm_cohorts_ltv(x), scrm_cohorts_ltv(y), n * sizeof(double));
    assert_memory_equal(scrm_cohorts_cum_orders(x), scrm_cohorts_cum_orders(y),
                        n * sizeof(double));
}

static void test_cohorts_merge_of_a_split_equals_the_whole(void **state)
{
    (void)state;
    scrm_dataset *whole = load_retail(2), *odd = NULL, *even = NULL;
    split_by_parity(whole, &odd, &even);
    assert_true(scrm_dataset_customer_count(odd) > 1000);
    assert_true(scrm_dataset_customer_count(even) > 1000);
    for (int variant = 0; variant < 5; variant++) {
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        switch (variant) {
        case 1: o.unit = SCRM_PERIOD_WEEK; o.refunds = 1; break;
        case 2: o.mode = SCRM_COHORTS_ROLLING; o.min_amount = 1000; break;
        case 3: /* [2011-03-01, 2011-09-01) */
            o.unit = SCRM_PERIOD_QUARTER; o.start = 1298937600; o.end = 1314835200; break;
        case 4: o.unit = SCRM_PERIOD_DAY; o.utc_offset = -5 * 3600; break;
        default: break;
        }
        scrm_cohorts *w = compute(whole, &o), *a = compute(odd, &o), *b = compute(even, &o);
        assert_true(scrm_cohorts_count(w) > 0);
        scrm_cohorts *m = NULL, *m2 = NULL;
        assert_int_equal(scrm_cohorts_merge(&m, a, b), SCRM_OK);
        assert_same_result(m, w);
        assert_int_equal(scrm_cohorts_merge(&m2, b, a), SCRM_OK); /* commutative */
        assert_same_result(m2, w);
        scrm_cohorts_free(m2);
        /* merging with an empty result changes nothing */
        scrm_dataset *empty = NULL;
        assert_int_equal(scrm_dataset_new(&empty, NULL), SCRM_OK);
        scrm_cohorts *e = compute(empty, &o);
        assert_int_equal(scrm_cohorts_merge(&m2, e, m), SCRM_OK);
        assert_same_result(m2, w);
        scrm_cohorts_free(m2);
        scrm_cohorts_free(e);
        scrm_dataset_free(empty);
        scrm_cohorts_free(m);
        scrm_cohorts_free(w);
        scrm_cohorts_free(a);
        scrm_cohorts_free(b);
    }
    scrm_dataset_free(whole);
    scrm_dataset_free(odd);
    scrm_dataset_free(even);
}

static void test_cohorts_merge_rejects_different_options(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    scrm_cohorts *base = compute(ds, &o), *other, *m = (scrm_cohorts *)&o;
    scrm_cohorts *const sentinel = m;
    for (int i = 0; i < 7; i++) {
        o = (scrm_cohorts_options)SCRM_COHORTS_OPTIONS_INIT;
        switch (i) {
        case 0: o.unit = SCRM_PERIOD_WEEK; break;
        case 1: o.utc_offset = 60; break;
        case 2: o.start = JAN; break;
        case 3: o.end = MAY; break;
        case 4: o.min_amount = 1; break;
        case 5: o.refunds = 1; break;
        default: o.mode = SCRM_COHORTS_ROLLING; break;
        }
        other = compute(ds, &o);
        assert_int_equal(scrm_cohorts_merge(&m, base, other), SCRM_EINVAL);
        assert_ptr_equal(m, sentinel);
        scrm_cohorts_free(other);
    }
    assert_int_equal(scrm_cohorts_merge(NULL, base, base), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_merge(&m, NULL, base), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_merge(&m, base, NULL), SCRM_EINVAL);
    /* merging a result with itself doubles every count (not disjoint, but
     * the arithmetic is still a cell-wise sum) */
    assert_int_equal(scrm_cohorts_merge(&m, base, base), SCRM_OK);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(scrm_cohorts_orders(m)[i], 2 * def_orders[i]);
        same_double(scrm_cohorts_retention(m)[i], def_retention[i], "retention", i);
    }
    scrm_cohorts_free(m);
    scrm_cohorts_free(base);
    scrm_dataset_free(ds);
}

static void test_cohorts_do_not_depend_on_the_thread_count(void **state)
{
    (void)state;
    scrm_dataset *ds = load_retail(1);
    for (int variant = 0; variant < 3; variant++) {
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        o.unit = variant == 1 ? SCRM_PERIOD_DAY : SCRM_PERIOD_MONTH;
        o.mode = variant == 2 ? SCRM_COHORTS_ROLLING : SCRM_COHORTS_CLASSIC;
        o.refunds = 1;
        o.threads = 1;
        scrm_cohorts *one = compute(ds, &o);
        static const uint32_t counts[] = {2, 3, 4, 7, 64};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            o.threads = counts[i];
            scrm_cohorts *r = compute(ds, &o);
            assert_same_result(r, one);
            scrm_cohorts_free(r);
        }
        scrm_cohorts_free(one);
    }
    scrm_dataset_free(ds);
}

/* The retail rows appended newest first in batches of 97 rows: every
 * partition then holds its rows in several segments, later segments with
 * earlier orders, so the one-pass attempt fails part way through a later
 * segment and is undone across segments. The matrices must equal those of
 * the same rows in one append, and of the CSV load. */
static void test_cohorts_do_not_depend_on_how_rows_were_appended(void **state)
{
    (void)state;
    scrm_dataset *ds = load_retail(2);
    const uint64_t n = scrm_dataset_order_count(ds);
    uint64_t *k = malloc(n * sizeof *k);
    int64_t *t = malloc(n * sizeof *t), *a = malloc(n * sizeof *a);
    assert_non_null(k);
    assert_non_null(t);
    assert_non_null(a);
    uint64_t m = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t q = 0; q < v.n_seg; q++)
            for (uint64_t i = 0; i < v.seg[q].n; i++) {
                assert_int_equal(
                    scrm_dataset_customer_key_u64(&k[m], ds, v.gid[v.seg[q].cust[i]]), SCRM_OK);
                t[m] = v.seg[q].time[i];
                a[m] = v.seg[q].amount[i];
                m++;
            }
    }
    assert_int_equal(m, n);
    /* newest first (insertion sort on time, descending: 7441 rows) */
    for (uint64_t i = 1; i < n; i++)
        for (uint64_t j = i; j > 0 && t[j - 1] < t[j]; j--) {
            uint64_t tk = k[j];
            int64_t tt = t[j], ta = a[j];
            k[j] = k[j - 1];
            t[j] = t[j - 1];
            a[j] = a[j - 1];
            k[j - 1] = tk;
            t[j - 1] = tt;
            a[j - 1] = ta;
        }
    scrm_dataset *one = NULL, *many = NULL;
    assert_int_equal(scrm_dataset_new(&one, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_new(&many, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, one, n, k, t, a, NULL, NULL), SCRM_OK);
    for (uint64_t i = 0; i < n; i += 97) {
        uint64_t b = n - i < 97 ? n - i : 97;
        assert_int_equal(scrm_dataset_append_u64(NULL, many, b, k + i, t + i, a + i, NULL, NULL),
                         SCRM_OK);
    }
    uint32_t max_seg = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(many); p++) {
        scrm__part_view v;
        scrm__dataset_partition(many, p, &v);
        max_seg = v.n_seg > max_seg ? v.n_seg : max_seg;
    }
    assert_true(max_seg >= 3);
    for (int variant = 0; variant < 4; variant++) {
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        o.mode = variant & 1 ? SCRM_COHORTS_ROLLING : SCRM_COHORTS_CLASSIC;
        o.refunds = variant >> 1;
        o.unit = variant == 2 ? SCRM_PERIOD_WEEK : SCRM_PERIOD_MONTH;
        scrm_cohorts *x = compute(ds, &o), *y = compute(one, &o), *z = compute(many, &o);
        assert_same_result(y, x);
        assert_same_result(z, x);
        scrm_cohorts_free(x);
        scrm_cohorts_free(y);
        scrm_cohorts_free(z);
    }
    scrm_dataset_free(one);
    scrm_dataset_free(many);
    scrm_dataset_free(ds);
    free(k);
    free(t);
    free(a);
}

/* ---- allocation failures ---- */

/* A result keeps its dataset's currency digits; merging results in
 * currencies of different digits is refused (the sums would mix units). */
static void test_cohorts_merge_refuses_other_minor_digits(void **state)
{
    (void)state;
    scrm_cohorts *r[3] = {NULL, NULL, NULL};
    const uint32_t digits[3] = {0, 3, 0};
    for (int i = 0; i < 3; i++) {
        scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
        dopt.minor_digits = digits[i];
        scrm_dataset *ds = NULL;
        assert_int_equal(scrm_dataset_new(&ds, &dopt), SCRM_OK);
        uint64_t key = 1 + (uint64_t)i;
        int64_t t = INT64_C(1704240000), amount = 1500;
        assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, &key, &t, &amount, NULL, NULL),
                         SCRM_OK);
        assert_int_equal(scrm_cohorts_compute(&r[i], ds, NULL), SCRM_OK);
        assert_int_equal(scrm_cohorts_minor_digits(r[i]), digits[i]);
        scrm_dataset_free(ds); /* the result does not need it */
    }
    scrm_cohorts *m = (scrm_cohorts *)&digits; /* sentinel: unchanged on error */
    assert_int_equal(scrm_cohorts_merge(&m, r[0], r[1]), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "minor digits"));
    assert_ptr_equal(m, (scrm_cohorts *)&digits);
    assert_int_equal(scrm_cohorts_merge(&m, r[0], r[2]), SCRM_OK);
    assert_int_equal(scrm_cohorts_minor_digits(m), 0);
    assert_int_equal(scrm_cohorts_revenue(m)[0], 3000);
    assert_int_equal(scrm_cohorts_minor_digits(NULL), 2);
    scrm_cohorts_free(m);
    for (int i = 0; i < 3; i++)
        scrm_cohorts_free(r[i]);
}

static void test_cohorts_allocation_failure_leaves_nothing(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(2);
    for (int op = 0; op < 2; op++) { /* 0: compute, 1: merge */
        scrm_cohorts *base = compute(ds, NULL);
        for (int always = 0; always <= 1; always++) {
            int ok = 0;
            for (long n = 1; n < 1000 && !ok; n++) {
                failalloc_install(n - 1, always); /* fail the n-th allocation */
                failalloc_live = 0;
                scrm_cohorts *r = (scrm_cohorts *)&ok;
                scrm_cohorts *const sentinel = r;
                int rc = op == 0 ? scrm_cohorts_compute(&r, ds, NULL)
                                 : scrm_cohorts_merge(&r, base, base);
                if (rc == SCRM_OK) {
                    ok = 1;
                    assert_int_equal(failalloc_live, 8); /* handle + 7 arrays */
                    assert_int_equal(scrm_cohorts_orders(r)[0], op == 0 ? 2 : 4);
                    scrm_cohorts_free(r);
                    assert_int_equal(failalloc_live, 0);
                    assert_true(n > 1);
                } else {
                    assert_int_equal(rc, SCRM_ENOMEM);
                    assert_ptr_equal(r, sentinel);
                    assert_int_equal(failalloc_live, 0);
                    assert_non_null(strstr(scrm_last_error(), "out of memory"));
                }
                failalloc_uninstall();
            }
            assert_true(ok);
        }
        scrm_cohorts_free(base);
    }
    scrm_dataset_free(ds);
}

/* ---- long-form CSV ---- */

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/scrm_test_cohorts_%ld_%s",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(), name);
}

/* A count-only dataset's cohorts: sizes, active and orders as usual, the
 * revenue cells of the CSV empty (absent, not 0.00); merging it with a
 * result that has revenues is refused. */
static void test_cohorts_count_only_revenue_is_absent(void **state)
{
    (void)state;
    static const uint64_t c[] = {1, 1, 2};
    static const int64_t t[] = {0, 40 * 86400, 35 * 86400};
    static const int64_t a[] = {100, 200, 300};
    scrm_dataset *ds = NULL, *dm = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 3, c, t, NULL, NULL, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_new(&dm, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, dm, 3, c, t, a, NULL, NULL), SCRM_OK);
    scrm_cohorts *r = NULL, *rm = NULL, *m = (scrm_cohorts *)&m;
    assert_int_equal(scrm_cohorts_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_cohorts_compute(&rm, dm, NULL), SCRM_OK);
    char path[512];
    tmp_path(path, sizeof path, "count_only.csv");
    assert_int_equal(scrm_cohorts_write_csv(r, path, 2), SCRM_OK);
    char *s = slurp(path);
    /* January 1970: customer 1, active in periods 0 and 1; February:
     * customer 2 (its period 0 is the partial last period) */
    assert_string_equal(s, "cohort,period,cohort_size,active_customers,orders,revenue,retention,partial\n"
                           "1970-01,0,1,1,1,,1,0\n"
                           "1970-01,1,1,1,1,,1,1\n"
                           "1970-02,0,1,1,1,,1,1\n");
    free(s);
    assert_int_equal(scrm_cohorts_write_csv(rm, path, 2), SCRM_OK);
    s = slurp(path);
    assert_non_null(strstr(s, "\n1970-01,0,1,1,1,1.00,1,0\n"));
    free(s);
    remove(path);
    assert_int_equal(scrm_cohorts_merge(&m, r, rm), SCRM_EINVAL);
    assert_ptr_equal(m, (scrm_cohorts *)&m);
    assert_int_equal(scrm_cohorts_merge(&m, r, r), SCRM_OK);
    scrm_cohorts_free(m);
    scrm_cohorts_free(r);
    scrm_cohorts_free(rm);
    scrm_dataset_free(ds);
    scrm_dataset_free(dm);
}

/* The last period is partial when the data (to local midnight after the day
 * of the last row) or the window end stops before it ends. The fixture's
 * last row is on April 21. */
static void test_cohorts_last_period_partial(void **state)
{
    (void)state;
    scrm_dataset *ds = fixture(1);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    scrm_cohorts *r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_observation_end(r), M_APR);
    assert_int_equal(scrm_cohorts_last_partial(r), 1); /* April 22 < May 1 */
    scrm_cohorts_free(r);
    /* by day: April 21 is observed whole */
    o.unit = SCRM_PERIOD_DAY;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_last_partial(r), 0);
    scrm_cohorts_free(r);
    /* a window ending on March 31 at 23:59:59 + 1 s: March is whole */
    o.unit = SCRM_PERIOD_MONTH;
    o.end = APR;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_last_partial(r), 0);
    scrm_cohorts_free(r);
    /* one second less: March is cut */
    o.end = APR - 1;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_last_partial(r), 1);
    scrm_cohorts_free(r);
    /* a window end after the data: still partial (no data after April 21) */
    o.end = MAY;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_last_partial(r), 1);
    assert_int_equal(scrm_cohorts_partial_periods(r), 1);
    scrm_cohorts_free(r);
    /* an end two months after the data: April (cut on the 21st), May and
     * June (no data at all) are not observed to their end: 3 periods, and
     * the CSV marks every cell in them, not only the last diagonal */
    o.end = MAY + 61 * D; /* July 1 */
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_observation_end(r), M_APR + 2);
    assert_int_equal(scrm_cohorts_partial_periods(r), 3);
    assert_int_equal(scrm_cohorts_last_partial(r), 1);
    {
        char path[512];
        tmp_path(path, sizeof path, "partial3.csv");
        assert_int_equal(scrm_cohorts_write_csv(r, path, 2), SCRM_OK);
        char *txt = slurp(path);
        /* one line per observable cell; its last field is 1 exactly when
         * its calendar period (cohort + k) is April or later */
        uint32_t lines = 0, marked = 0;
        for (char *p = strchr(txt, '\n') + 1; *p; p = strchr(p, '\n') + 1, lines++) {
            char *nl = strchr(p, '\n');
            int c = 10 * (p[5] - '0') + (p[6] - '0'); /* month of "2017-MM" */
            int k = atoi(strchr(p, ',') + 1);
            int want = c + k >= 4; /* April = month 4 */
            assert_int_equal(nl[-1] - '0', want);
            marked += (uint32_t)want;
        }
        assert_true(lines > 0 && marked > 0 && marked < lines);
        free(txt);
        remove(path);
    }
    scrm_cohorts_free(r);
    /* local time: at UTC-3 the last row (April 21, 00:00 UTC) is on April 20 */
    o = (scrm_cohorts_options)SCRM_COHORTS_OPTIONS_INIT;
    o.unit = SCRM_PERIOD_DAY;
    o.utc_offset = -3 * 3600;
    r = compute(ds, &o);
    assert_int_equal(scrm_cohorts_last_partial(r), 0);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);

    /* a last row on April 30 at 23:00 completes April */
    static const uint64_t c[] = {1, 2};
    static const int64_t t[] = {JAN, MAY - 3600};
    static const int64_t a[] = {100, 100};
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c, t, a, NULL, NULL), SCRM_OK);
    r = compute(ds, NULL);
    assert_int_equal(scrm_cohorts_last_partial(r), 0);
    /* merged with a result that ends earlier: the later end wins */
    static const uint64_t c2[] = {3};
    static const int64_t t2[] = {FEB + 5 * D};
    scrm_dataset *ds2 = NULL;
    assert_int_equal(scrm_dataset_new(&ds2, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds2, 1, c2, t2, a, NULL, NULL), SCRM_OK);
    scrm_cohorts *r2 = compute(ds2, NULL), *m = NULL;
    assert_int_equal(scrm_cohorts_last_partial(r2), 1);
    assert_int_equal(scrm_cohorts_merge(&m, r, r2), SCRM_OK);
    assert_int_equal(scrm_cohorts_last_partial(m), 0);
    scrm_cohorts_free(m);
    scrm_cohorts_free(r2);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds2);
    scrm_dataset_free(ds);
    assert_int_equal(scrm_cohorts_last_partial(NULL), 0);
}

/* The default matrices above (test_cohorts_monthly_classic_worked_by_hand),
 * one line per observable cell: Jan has 4, Feb 3, Mar 2, Apr 1. Revenue in
 * major units: Jan k0 1000 + 50 = 1050 minor = 10.50 with 2 digits, 1050
 * with 0, 1.050 with 3. A second dataset leaves an empty cohort: customer 1
 * in 2017-01 and customers 2..4 in 2017-03 make 2017-02 a cohort of size 0,
 * whose retention is empty; 1 of 3 customers active prints
 * 0.3333333333333333 (16 digits are the shortest that read back). */
static void test_cohorts_write_csv_worked_by_hand(void **state)
{
    (void)state;
    static const char want2[] =
        "cohort,period,cohort_size,active_customers,orders,revenue,retention,partial\n"
        "2017-01,0,2,2,2,10.50,1,0\n"
        "2017-01,1,2,1,2,25.00,0.5,0\n"
        "2017-01,2,2,1,1,50.00,0.5,0\n"
        "2017-01,3,2,0,0,0.00,0,1\n"
        "2017-02,0,1,1,1,30.00,1,0\n"
        "2017-02,1,1,0,0,0.00,0,0\n"
        "2017-02,2,1,1,1,4.00,1,1\n"
        "2017-03,0,1,1,2,7.00,1,0\n"
        "2017-03,1,1,0,0,0.00,0,1\n"
        "2017-04,0,1,1,1,1.00,1,1\n";
    char path[512];
    tmp_path(path, sizeof path, "cells.csv");
    scrm_dataset *ds = fixture(1);
    scrm_cohorts *r = compute(ds, NULL);
    assert_int_equal(scrm_cohorts_write_csv(r, path, 2), SCRM_OK);
    char *s = slurp(path);
    assert_string_equal(s, want2);
    free(s);
    assert_int_equal(scrm_cohorts_write_csv(r, path, 0), SCRM_OK);
    s = slurp(path);
    assert_non_null(strstr(s, "\n2017-01,0,2,2,2,1050,1,0\n2017-01,1,2,1,2,2500,0.5,0\n"));
    assert_non_null(strstr(s, "\n2017-04,0,1,1,1,100,1,1\n"));
    free(s);
    assert_int_equal(scrm_cohorts_write_csv(r, path, 3), SCRM_OK);
    s = slurp(path);
    assert_non_null(strstr(s, "\n2017-01,0,2,2,2,1.050,1,0\n2017-01,1,2,1,2,2.500,0.5,0\n"));
    assert_non_null(strstr(s, "\n2017-04,0,1,1,1,0.100,1,1\n"));
    free(s);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);

    static const uint64_t c3[] = {1, 2, 3, 4, 2};
    static const int64_t t3[] = {JAN, MAR, MAR + D, MAR + 2 * D, APR};
    static const int64_t a3[] = {500, 100, 200, 300, 50};
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 5, c3, t3, a3, NULL, NULL), SCRM_OK);
    r = compute(ds, NULL);
    assert_int_equal(scrm_cohorts_write_csv(r, path, 2), SCRM_OK);
    s = slurp(path);
    /* Observation end April (the last row), K = 4. Jan {1}: k0 5.00, then
     * nothing; Feb: size 0, retention empty; Mar {2, 3, 4}: k0 6.00, k1
     * customer 2 alone (0.50): 1/3. */
    assert_string_equal(s, "cohort,period,cohort_size,active_customers,orders,revenue,retention,partial\n"
                           "2017-01,0,1,1,1,5.00,1,0\n"
                           "2017-01,1,1,0,0,0.00,0,0\n"
                           "2017-01,2,1,0,0,0.00,0,0\n"
                           "2017-01,3,1,0,0,0.00,0,1\n"
                           "2017-02,0,0,0,0,0.00,,0\n"
                           "2017-02,1,0,0,0,0.00,,0\n"
                           "2017-02,2,0,0,0,0.00,,1\n"
                           "2017-03,0,3,3,3,6.00,1,0\n"
                           "2017-03,1,3,1,1,0.50,0.3333333333333333,1\n");
    free(s);
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
    remove(path);
}

static void test_cohorts_write_csv_errors(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "err.csv");
    scrm_dataset *ds = fixture(1);
    scrm_cohorts *r = compute(ds, NULL);
    assert_int_equal(scrm_cohorts_write_csv(NULL, path, 2), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_write_csv(r, NULL, 2), SCRM_EINVAL);
    assert_int_equal(scrm_cohorts_write_csv(r, path, SCRM_MAX_MINOR_DIGITS + 1), SCRM_EINVAL);
    assert_null(fopen(path, "rb")); /* nothing created for a bad argument */
    assert_int_equal(scrm_cohorts_write_csv(r, "/nonexistent-dir/x/cells.csv", 2), SCRM_EIO);
    assert_non_null(strstr(scrm_last_error(), "/nonexistent-dir/x/cells.csv"));
    /* A full device: the write fails, the error is SCRM_EIO, and the device
     * (not a regular file) is left alone. */
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(scrm_cohorts_write_csv(r, "/dev/full", 2), SCRM_EIO);
        assert_int_equal(access("/dev/full", F_OK), 0);
    }
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cohorts_monthly_classic_worked_by_hand),
        cmocka_unit_test(test_cohorts_do_not_depend_on_the_row_order),
        cmocka_unit_test(test_cohorts_rolling_counts_later_activity),
        cmocka_unit_test(test_cohorts_refunds_count_in_revenue_when_asked),
        cmocka_unit_test(test_cohorts_min_amount_moves_acquisition),
        cmocka_unit_test(test_cohorts_window_filters_orders_and_sets_the_end),
        cmocka_unit_test(test_cohorts_given_acquisition_times),
        cmocka_unit_test(test_cohorts_weeks_and_utc_offsets),
        cmocka_unit_test(test_cohorts_totals_do_not_depend_on_the_unit),
        cmocka_unit_test(test_cohorts_empty_inputs_give_empty_results),
        cmocka_unit_test(test_cohorts_bad_arguments),
        cmocka_unit_test(test_cohorts_revenue_overflow_is_reported),
        cmocka_unit_test(test_cohorts_progress_can_cancel),
        cmocka_unit_test(test_cohorts_merge_refuses_other_minor_digits),
        cmocka_unit_test(test_cohorts_merge_of_a_split_equals_the_whole),
        cmocka_unit_test(test_cohorts_merge_rejects_different_options),
        cmocka_unit_test(test_cohorts_do_not_depend_on_the_thread_count),
        cmocka_unit_test(test_cohorts_do_not_depend_on_how_rows_were_appended),
        cmocka_unit_test(test_cohorts_allocation_failure_leaves_nothing),
        cmocka_unit_test(test_cohorts_last_period_partial),
        cmocka_unit_test(test_cohorts_count_only_revenue_is_absent),
        cmocka_unit_test(test_cohorts_write_csv_worked_by_hand),
        cmocka_unit_test(test_cohorts_write_csv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
