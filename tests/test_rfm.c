/* Tests of RFM scoring, segment maps, summaries, audiences and CSV export.
 * Expected values are worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <shopcrm.h>
#include "failalloc.h"
#include "slurp.h"

#define DAY INT64_C(86400)
#define B INT64_C(10000) /* base day: 1997-05-19 */

typedef struct row {
    uint64_t key;
    int64_t day; /* days after B */
    int64_t hour;
    int64_t amount;
} row;

static scrm_dataset *make_ds_threads(const row *rows, size_t n, uint32_t threads)
{
    scrm_dataset *ds = NULL;
    scrm_dataset_options o = SCRM_DATASET_OPTIONS_INIT;
    o.threads = threads;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_OK);
    uint64_t *k = malloc(n * sizeof *k);
    int64_t *t = malloc(n * sizeof *t), *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        k[i] = rows[i].key;
        t[i] = (B + rows[i].day) * DAY + rows[i].hour * 3600;
        a[i] = rows[i].amount;
    }
    if (n)
        assert_int_equal(scrm_dataset_append_u64(NULL, ds, n, k, t, a, NULL, NULL), SCRM_OK);
    free(k);
    free(t);
    free(a);
    return ds;
}

static scrm_dataset *make_ds(const row *rows, size_t n) { return make_ds_threads(rows, n, 0); }

/* The hand-worked dataset (rows deliberately not in key order).
 * key: orders (day, amount)            freq rev     last order day
 * 10: (0,1000) (5,2000) (9,500)         3   3500    9
 * 20: (9,100)                           1   100     9
 * 30: (1,5000) (2,5000)                 2   10000   2
 * 40: (3,0) zero order, (4,-300) refund 1   -300    3 (refunds do not count)
 * 50: (6,-200) refund only              0   -200    6 (the refund)
 * 60: (7,700) (7,800) (8,900)           3   2400    8 (days mode: 2 days)
 * 70: (0,100000)                        1   100000  0
 * 80: (5,2500)                          1   2500    5
 * Last row: day 9, so as_of defaults to the start of day 10 and
 * recency = 10 - last: 10:1 20:1 30:8 40:7 50:4 60:2 70:10 80:5. */
static const row hand[] = {
    {60, 7, 10, 700}, {10, 0, 9, 1000}, {70, 0, 12, 100000}, {30, 1, 8, 5000},
    {30, 2, 8, 5000}, {40, 3, 1, 0},    {40, 4, 1, -300},    {10, 5, 2, 2000},
    {80, 5, 3, 2500}, {50, 6, 4, -200}, {60, 7, 20, 800},    {60, 8, 5, 900},
    {10, 9, 1, 500},  {20, 9, 23, 100},  {50, 6, 4, 0},
};
#define NHAND (sizeof hand / sizeof hand[0])
static const uint64_t hand_keys[8] = {10, 20, 30, 40, 50, 60, 70, 80};

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/scrm_test_rfm_%ld_%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid(), name);
}

static uint32_t idx_of(const scrm_dataset *ds, uint64_t key)
{
    uint32_t i = 0;
    assert_int_equal(scrm_dataset_find_u64(&i, ds, key), SCRM_OK);
    return i;
}

/* Check one score column against expectations in hand_keys order. */
static void check_scores(const scrm_rfm *r, const scrm_dataset *ds, int dim,
                         const uint8_t want[8])
{
    const uint8_t *s = scrm_rfm_scores(r, dim);
    assert_non_null(s);
    for (int k = 0; k < 8; k++) {
        uint32_t i = idx_of(ds, hand_keys[k]);
        if (s[i] != want[k])
            fail_msg("dim %d key %llu: score %u, want %u", dim, (unsigned long long)hand_keys[k],
                     s[i], want[k]);
    }
}

static void check_edges(const scrm_rfm *r, int dim, const double *want, uint32_t n)
{
    const double *e = scrm_rfm_edges(r, dim);
    assert_non_null(e);
    for (uint32_t k = 0; k < n; k++) {
        if (isnan(want[k]))
            assert_true(isnan(e[k]));
        else
            assert_true(e[k] == want[k]);
    }
}

static void test_values_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_customer_count(r), 8);
    assert_int_equal(scrm_rfm_bins(r), 5);
    assert_true(scrm_rfm_as_of(r) == (B + 10) * DAY);
    static const int32_t rec[8] = {1, 1, 8, 7, 4, 2, 10, 5};
    static const uint32_t freq[8] = {3, 1, 2, 1, 1, 3, 1, 1};
    static const int64_t rev[8] = {3500, 100, 10000, -300, -200, 2400, 100000, 2500};
    for (int k = 0; k < 8; k++) {
        uint32_t i = idx_of(ds, hand_keys[k]);
        assert_int_equal(scrm_rfm_recency_days(r)[i], rec[k]);
        assert_int_equal(scrm_rfm_frequency(r)[i], freq[k]);
        assert_true(scrm_rfm_revenue(r)[i] == rev[k]);
        assert_true(scrm_rfm_monetary(r)[i] == (double)rev[k]);
    }
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_quantile_scores_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    /* n = 8, N = 5: score = 1 + floor(5c/8): c 0,1 -> 1; 2,3 -> 2; 4 -> 3; 5,6 -> 4; 7 -> 5.
     * R (c = customers with larger recency): 70(10) c0, 30(8) c1, 40(7) c2,
     * 80(5) c3, 50(4) c4, 60(2) c5, 10 and 20 (1) c6. */
    static const uint8_t R[8] = {4, 4, 1, 2, 3, 4, 1, 2};
    /* F: 50(0) c0; 20,40,70,80 (1) c1; 30(2) c5; 10,60 (3) c6. */
    static const uint8_t F[8] = {4, 1, 4, 1, 1, 4, 1, 1};
    /* M: -300(40) c0, -200(50) c1, 100(20) c2, 2400(60) c3, 2500(80) c4,
     * 3500(10) c5, 10000(30) c6, 100000(70) c7. */
    static const uint8_t M[8] = {4, 2, 4, 1, 1, 2, 5, 3};
    check_scores(r, ds, SCRM_RFM_R, R);
    check_scores(r, ds, SCRM_RFM_F, F);
    check_scores(r, ds, SCRM_RFM_M, M);
    /* edges: R: largest recency with score > k: 7, 4, 2, none.
     * F: smallest frequency with score > k: 2, 2, 2, none.
     * M: 100, 2500, 3500, 100000. */
    static const double eR[4] = {7, 4, 2, NAN}, eF[4] = {2, 2, 2, NAN},
                        eM[4] = {100, 2500, 3500, 100000};
    check_edges(r, SCRM_RFM_R, eR, 4);
    check_edges(r, SCRM_RFM_F, eF, 4);
    check_edges(r, SCRM_RFM_M, eM, 4);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_segments_and_summary_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = NULL;
    /* the default, rfm11-v2: every customer in a segment; 60 (4,4,2) Potential
     * Loyalist, 70 (1,1,5) and 80 (2,1,3) Hibernating (v1 leaves them out) */
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    static const int32_t want2[8] = {0, 4, 7, 6, 3, 4, 10, 10};
    for (int k = 0; k < 8; k++)
        assert_int_equal(scrm_rfm_segments(r)[idx_of(ds, hand_keys[k])], want2[k]);
    assert_int_equal(scrm_rfm_unassigned_count(r), 0);
    assert_int_equal(scrm_rfm_segment_customers(r)[4], 2);
    assert_true(scrm_rfm_segment_revenue(r)[10] == 100000 + 2500);
    scrm_rfm_free(r);
    r = NULL;
    scrm_segment_map *v1 = NULL;
    assert_int_equal(scrm_segment_map_preset(&v1, "rfm11-v1"), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.segments = v1;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    scrm_segment_map_free(v1);
    /* rfm11-v1 order: 0 CH, 1 LC, 2 NC, 3 PR, 4 PL, 5 NA, 6 AS, 7 CL, 8 AR, 9 LO, 10 HI.
     * 10 (4,4,4) Champions; 20 (4,1,2) Potential Loyalist; 30 (1,4,4) Can't Lose Them;
     * 40 (2,1,1) About To Sleep; 50 (3,1,1) Promising; 60 (4,4,2), 70 (1,1,5),
     * 80 (2,1,3): no rule. */
    static const int32_t want[8] = {0, 4, 7, 6, 3, -1, -1, -1};
    const int32_t *seg = scrm_rfm_segments(r);
    for (int k = 0; k < 8; k++)
        assert_int_equal(seg[idx_of(ds, hand_keys[k])], want[k]);
    const scrm_segment_map *map = scrm_rfm_segment_map(r);
    assert_int_equal(scrm_segment_map_count(map), 11);
    assert_string_equal(scrm_segment_map_name(map, 7), "Can't Lose Them");

    const uint64_t *cnt = scrm_rfm_segment_customers(r);
    const int64_t *rev = scrm_rfm_segment_revenue(r);
    assert_int_equal(scrm_rfm_unassigned_count(r), 3);
    static const uint64_t wc[12] = {1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 3};
    for (int s = 0; s < 12; s++)
        assert_int_equal(cnt[s], wc[s]);
    assert_true(rev[0] == 3500 && rev[7] == 10000 && rev[6] == -300 && rev[3] == -200);
    assert_true(rev[11] == 2400 + 100000 + 2500);
    assert_true(rev[1] == 0);
    const double *share = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_SHARE);
    assert_true(share[0] == 1.0 / 8 && share[11] == 3.0 / 8 && share[1] == 0.0);
    /* unassigned: 60 (R4 F4 M2, rec 2, freq 3, 2400), 70 (1,1,5; 10; 1; 100000),
     * 80 (2,1,3; 5; 1; 2500). */
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_R)[11] == 7.0 / 3);
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_F)[11] == 2.0);
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_M)[11] == 10.0 / 3);
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_RECENCY)[11] == 17.0 / 3);
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_FREQUENCY)[11] == 5.0 / 3);
    assert_true(fabs(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_MONETARY)[11] - 104900.0 / 3) <
                1e-9);
    /* Champions: customer 10 alone. Empty segments: NaN means. */
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_RECENCY)[0] == 1.0);
    assert_true(isnan(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_R)[1]));
    assert_null(scrm_rfm_segment_stat(r, 7));
    assert_null(scrm_rfm_segment_stat(r, -1));
    assert_null(scrm_rfm_scores(r, 3));
    assert_null(scrm_rfm_edges(r, -1));
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_ntile_scores_hand_worked(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.method = SCRM_RFM_METHOD_NTILE;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* n = 8, N = 5: buckets of 2, 2, 2, 1, 1 rows: positions 0-1 -> 1,
     * 2-3 -> 2, 4-5 -> 3, 6 -> 4, 7 -> 5.
     * R order (recency desc, key asc): 70 30 40 80 50 60 10 20. */
    static const uint8_t R[8] = {4, 5, 1, 2, 3, 3, 1, 2};
    /* F order (freq asc, key asc): 20 40 50 70 80 30 10 60. */
    static const uint8_t F[8] = {4, 1, 3, 1, 2, 5, 2, 3};
    /* M order: 40 50 20 60 80 10 30 70. */
    static const uint8_t M[8] = {3, 2, 4, 1, 1, 2, 5, 3};
    check_scores(r, ds, SCRM_RFM_R, R);
    check_scores(r, ds, SCRM_RFM_F, F);
    check_scores(r, ds, SCRM_RFM_M, M);
    /* edges: first customer in that order with score > k:
     * R: 40 (7), 50 (4), 10 (1), 20 (1); F: 50 (1), 80 (1), 10 (3), 60 (3). */
    static const double eR[4] = {7, 4, 1, 1}, eF[4] = {1, 1, 3, 3};
    check_edges(r, SCRM_RFM_R, eR, 4);
    check_edges(r, SCRM_RFM_F, eF, 4);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_all_ties_share_quantile_score_ntile_breaks_by_key(void **state)
{
    (void)state;
    /* five customers, one order of 100 each on the same day */
    static const row rows[] = {{5, 0, 1, 100}, {3, 0, 2, 100}, {1, 0, 3, 100},
                               {4, 0, 4, 100}, {2, 0, 5, 100}};
    scrm_dataset *ds = make_ds(rows, 5);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    for (int d = 0; d < 3; d++) {
        for (uint32_t i = 0; i < 5; i++)
            assert_int_equal(scrm_rfm_scores(r, d)[i], 1);
        for (int k = 0; k < 4; k++)
            assert_true(isnan(scrm_rfm_edges(r, d)[k]));
    }
    scrm_rfm_free(r);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.method = SCRM_RFM_METHOD_NTILE;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* n = N = 5: one row per bucket, ties in key order: key k gets k. */
    for (uint64_t key = 1; key <= 5; key++)
        for (int d = 0; d < 3; d++)
            assert_int_equal(scrm_rfm_scores(r, d)[idx_of(ds, key)], key);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_ntile_string_keys_break_ties_bytewise(void **state)
{
    (void)state;
    const char *keys[] = {"b", "a", "ab", "B"};
    int64_t t[4] = {B * DAY, B * DAY, B * DAY, B * DAY}, a[4] = {5, 5, 5, 5};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 4, keys, NULL, t, a, NULL, NULL), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.method = SCRM_RFM_METHOD_NTILE;
    o.bins = 4;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* bytewise: "B" (0x42) < "a" < "ab" < "b" */
    static const char *order[4] = {"B", "a", "ab", "b"};
    for (int k = 0; k < 4; k++) {
        uint32_t i = 0;
        assert_int_equal(scrm_dataset_find_str(&i, ds, order[k], -1), SCRM_OK);
        for (int d = 0; d < 3; d++)
            assert_int_equal(scrm_rfm_scores(r, d)[i], k + 1);
    }
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_one_customer_and_more_bins_than_customers(void **state)
{
    (void)state;
    static const row one[] = {{7, 0, 0, 100}, {7, 3, 0, 50}};
    scrm_dataset *ds = make_ds(one, 2);
    for (int m = 0; m < 2; m++) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        o.method = m ? SCRM_RFM_METHOD_NTILE : SCRM_RFM_METHOD_QUANTILE;
        scrm_rfm *r = NULL;
        assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
        assert_int_equal(scrm_rfm_customer_count(r), 1);
        assert_int_equal(scrm_rfm_recency_days(r)[0], 1);
        assert_int_equal(scrm_rfm_frequency(r)[0], 2);
        for (int d = 0; d < 3; d++) {
            assert_int_equal(scrm_rfm_scores(r, d)[0], 1);
            assert_true(isnan(scrm_rfm_edges(r, d)[0]));
        }
        /* (1,1,1): Lost */
        assert_int_equal(scrm_rfm_segments(r)[0], 9);
        scrm_rfm_free(r);
    }
    scrm_dataset_free(ds);

    /* 3 customers, N = 5, monetary 100 < 200 < 300 */
    static const row three[] = {{1, 0, 0, 100}, {2, 0, 0, 200}, {3, 0, 0, 300}};
    ds = make_ds(three, 3);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* quantile: 1 + floor(5c/3): c 0 -> 1, 1 -> 2, 2 -> 4 */
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_M)[idx_of(ds, 1)], 1);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_M)[idx_of(ds, 2)], 2);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_M)[idx_of(ds, 3)], 4);
    /* edges: > 1: 200, > 2: 300, > 3: 300, > 4: none */
    static const double eM[4] = {200, 300, 300, NAN};
    check_edges(r, SCRM_RFM_M, eM, 4);
    scrm_rfm_free(r);
    o.method = SCRM_RFM_METHOD_NTILE;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* NTILE with N > n: buckets 1..n */
    for (uint64_t k = 1; k <= 3; k++)
        assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_M)[idx_of(ds, k)], k);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_bins_two_and_ten(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    scrm_rfm *r = NULL;
    o.bins = 2;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* M: 1 + floor(2c/8): c 0..3 -> 1, 4..7 -> 2 (80, 10, 30, 70) */
    static const uint8_t M2[8] = {2, 1, 2, 1, 1, 1, 2, 2};
    check_scores(r, ds, SCRM_RFM_M, M2);
    /* no preset for 2 bins: every customer unassigned */
    assert_int_equal(scrm_segment_map_count(scrm_rfm_segment_map(r)), 0);
    assert_int_equal(scrm_rfm_unassigned_count(r), 8);
    assert_int_equal(scrm_rfm_segments(r)[0], -1);
    scrm_rfm_free(r);
    o.bins = 10;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* M: 1 + floor(10c/8): c0 1, c1 2, c2 3, c3 4, c4 6, c5 7, c6 8, c7 9 */
    static const uint8_t M10[8] = {7, 3, 8, 1, 2, 4, 9, 6};
    check_scores(r, ds, SCRM_RFM_M, M10);
    /* edges: > 4 and > 5 both start at 2500 (score 5 is empty); > 9: none */
    static const double eM[9] = {-200, 100, 2400, 2500, 2500, 3500, 10000, 100000, NAN};
    check_edges(r, SCRM_RFM_M, eM, 9);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_bad_options_rejected(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = (scrm_rfm *)(uintptr_t)0x1234;
    struct {
        const char *what;
        int code;
        void (*set)(scrm_rfm_options *o);
    } cases[] = {
        {"bins 1", SCRM_EINVAL, NULL}, {"bins 11", SCRM_EINVAL, NULL},
        {"method 3", SCRM_EINVAL, NULL}, {"freq mode 2", SCRM_EINVAL, NULL},
        {"mon mode -1", SCRM_EINVAL, NULL}, {"offset", SCRM_EINVAL, NULL},
        {"as_of huge", SCRM_ERANGE, NULL}, {"version 0", SCRM_EVERSION, NULL},
        {"version 2", SCRM_EVERSION, NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        switch (c) {
        case 0: o.bins = 1; break;
        case 1: o.bins = 11; break;
        case 2: o.method = 3; break;
        case 3: o.frequency_mode = 2; break;
        case 4: o.monetary_mode = -1; break;
        case 5: o.utc_offset = SCRM_MAX_UTC_OFFSET + 1; break;
        case 6: o.as_of = SCRM_TIME_MAX + 1; break;
        case 7: o.version = 0; break;
        case 8: o.version = 2; break;
        }
        int err = scrm_rfm_compute(&r, ds, &o);
        if (err != cases[c].code)
            fail_msg("%s: got %d (%s)", cases[c].what, err, scrm_last_error());
        assert_true(r == (scrm_rfm *)(uintptr_t)0x1234);
        assert_true(strlen(scrm_last_error()) > 0);
    }
    /* a preset with 3 bins */
    scrm_segment_map *map = NULL;
    assert_int_equal(scrm_segment_map_preset(&map, "rf10-v1"), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.bins = 3;
    o.segments = map;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "5 bins"));
    assert_true(r == (scrm_rfm *)(uintptr_t)0x1234);
    scrm_segment_map_free(map);
    scrm_dataset_free(ds);
}

static void test_null_arguments(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(NULL, ds, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_compute(&r, NULL, NULL), SCRM_EINVAL);
    assert_null(r);
    assert_int_equal(scrm_rfm_options_init(NULL, 1), SCRM_EINVAL);
    scrm_rfm_options o;
    assert_int_equal(scrm_rfm_options_init(&o, 2), SCRM_EVERSION);
    assert_int_equal(scrm_rfm_options_init(&o, SCRM_RFM_OPTIONS_VERSION), SCRM_OK);
    assert_int_equal(o.bins, 5);
    assert_true(o.as_of == SCRM_RFM_AS_OF_DEFAULT);
    assert_int_equal(scrm_rfm_customer_count(NULL), 0);
    assert_null(scrm_rfm_recency_days(NULL));
    assert_null(scrm_rfm_frequency(NULL));
    assert_null(scrm_rfm_monetary(NULL));
    assert_null(scrm_rfm_revenue(NULL));
    assert_null(scrm_rfm_scores(NULL, 0));
    assert_null(scrm_rfm_edges(NULL, 0));
    assert_null(scrm_rfm_segments(NULL));
    assert_null(scrm_rfm_segment_map(NULL));
    assert_null(scrm_rfm_segment_customers(NULL));
    assert_null(scrm_rfm_segment_revenue(NULL));
    assert_null(scrm_rfm_segment_stat(NULL, 0));
    assert_int_equal(scrm_rfm_unassigned_count(NULL), 0);
    assert_int_equal(scrm_rfm_bins(NULL), 0);
    assert_true(scrm_rfm_as_of(NULL) == 0);
    scrm_rfm_free(NULL);
    uint64_t c = 0;
    int32_t seg = 0;
    assert_int_equal(scrm_rfm_audience(NULL, 0, &c, NULL, &seg, 1), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_audience_write_csv(NULL, ds, &seg, 1, "x"), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_write_csv(NULL, ds, "x"), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_audience(NULL, 0, NULL, r, &seg, 1), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_audience(NULL, 0, &c, r, NULL, 1), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_write_csv(r, NULL, "x"), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_write_csv(r, ds, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, NULL, 1, "x"), SCRM_EINVAL);
    scrm_rfm_free(r);
    /* segment maps */
    scrm_segment_map *map = NULL;
    assert_int_equal(scrm_segment_map_new(NULL), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_preset(NULL, "rfm11-v1"), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_preset(&map, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_add(NULL, "x", 1, 1, 1, 1, 1, 1), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_copy(&map, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_copy(NULL, map), SCRM_EINVAL);
    assert_null(map);
    assert_int_equal(scrm_segment_map_count(NULL), 0);
    assert_null(scrm_segment_map_name(NULL, 0));
    assert_int_equal(scrm_segment_map_bins(NULL), 0);
    assert_int_equal(scrm_segment_map_match(NULL, 1, 1, 1), -1);
    uint32_t b[6], i;
    assert_int_equal(scrm_segment_map_rule(b, NULL, 0), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_find(&i, NULL, "x"), SCRM_EINVAL);
    scrm_segment_map_free(NULL);
    scrm_dataset_free(ds);
}

static void test_frequency_days_and_monetary_mean(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.frequency_mode = SCRM_RFM_FREQUENCY_DAYS;
    o.monetary_mode = SCRM_RFM_MONETARY_MEAN;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* days: 60 bought twice on day 7 and once on day 8: 2 days; others as orders */
    static const uint32_t freq[8] = {3, 1, 2, 1, 1, 2, 1, 1};
    /* mean: revenue / frequency (50: an order of 0 and a refund of -200) */
    static const double mon[8] = {3500.0 / 3, 100, 5000, -300, -200, 1200, 100000, 2500};
    for (int k = 0; k < 8; k++) {
        uint32_t i = idx_of(ds, hand_keys[k]);
        assert_int_equal(scrm_rfm_frequency(r)[i], freq[k]);
        assert_true(scrm_rfm_monetary(r)[i] == mon[k]);
    }
    /* F quantile: 20,40,50,70,80 (1) c0; 30,60 (2) c5 -> 4; 10 (3) c7 -> 5 */
    static const uint8_t F[8] = {5, 1, 4, 1, 1, 4, 1, 1};
    check_scores(r, ds, SCRM_RFM_F, F);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_utc_offset_moves_days_across_midnight(void **state)
{
    (void)state;
    /* customer 1: 23:30 UTC on day 0 and 00:30 UTC on day 1 */
    int64_t t[2] = {B * DAY + 23 * 3600 + 1800, (B + 1) * DAY + 1800};
    int64_t a[2] = {100, 100};
    uint64_t k[2] = {1, 1};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, k, t, a, NULL, NULL), SCRM_OK);
    static const struct {
        int64_t off;
        uint32_t days;
        int64_t as_of;
    } cases[] = {
        /* UTC: two days; as_of = start of day 2 UTC */
        {0, 2, (B + 2) * DAY},
        /* UTC+1: 00:30 and 01:30 of day 1: one day; as_of = day 2 00:00 local = 23:00 UTC */
        {3600, 1, (B + 2) * DAY - 3600},
        /* UTC-1: 22:30 and 23:30 of day 0: one day; as_of = day 1 00:00 local = 01:00 UTC */
        {-3600, 1, (B + 1) * DAY + 3600},
    };
    for (size_t c = 0; c < 3; c++) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        o.frequency_mode = SCRM_RFM_FREQUENCY_DAYS;
        o.utc_offset = cases[c].off;
        scrm_rfm *r = NULL;
        assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
        assert_int_equal(scrm_rfm_frequency(r)[0], cases[c].days);
        assert_true(scrm_rfm_as_of(r) == cases[c].as_of);
        assert_int_equal(scrm_rfm_recency_days(r)[0], 1);
        scrm_rfm_free(r);
    }
    scrm_dataset_free(ds);
}

static void test_distinct_days_unsorted_rows(void **state)
{
    (void)state;
    /* customer 1: 80 orders on days 39..0 (twice each), appended newest first:
     * 40 distinct days (radix path). customer 2: 6 orders on days 5,1,5,3,1,0
     * (insertion-sort path): 4 days. */
    row rows[86];
    size_t n = 0;
    for (int d = 39; d >= 0; d--) {
        rows[n++] = (row){1, d, 5, 10};
        rows[n++] = (row){1, d, 1, 10};
    }
    static const int d2[6] = {5, 1, 5, 3, 1, 0};
    for (int j = 0; j < 6; j++)
        rows[n++] = (row){2, d2[j], 0, 10};
    scrm_dataset *ds = make_ds(rows, n);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.frequency_mode = SCRM_RFM_FREQUENCY_DAYS;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_frequency(r)[idx_of(ds, 1)], 40);
    assert_int_equal(scrm_rfm_frequency(r)[idx_of(ds, 2)], 4);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_as_of_past_scores_the_snapshot(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    scrm_rfm *r = NULL;
    /* 20 days later: every recency grows by 10, nothing left out */
    o.as_of = (B + 20) * DAY + 5 * 3600;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_true(scrm_rfm_as_of(r) == o.as_of);
    assert_int_equal(scrm_rfm_recency_days(r)[idx_of(ds, 70)], 20);
    assert_int_equal(scrm_rfm_recency_days(r)[idx_of(ds, 10)], 11);
    assert_int_equal(scrm_rfm_rows_after_as_of(r), 0);
    assert_int_equal(scrm_rfm_scored_count(r), 8);
    scrm_rfm_free(r);
    /* the start of the last day: its two rows (10 at 01:00, 20 at 23:00) are
     * left out; 20 has no other row, so is not scored; 10 keeps days 0 and 5 */
    o.as_of = (B + 9) * DAY;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_rows_after_as_of(r), 2);
    assert_int_equal(scrm_rfm_scored_count(r), 7);
    assert_int_equal(scrm_rfm_refund_only_count(r), 0);
    uint32_t i10 = idx_of(ds, 10), i20 = idx_of(ds, 20);
    assert_int_equal(scrm_rfm_segments(r)[i20], SCRM_RFM_NOT_SCORED);
    assert_int_equal(scrm_rfm_recency_days(r)[i20], 0);
    assert_int_equal(scrm_rfm_frequency(r)[i20], 0);
    assert_true(scrm_rfm_revenue(r)[i20] == 0);
    for (int d = 0; d < 3; d++)
        assert_int_equal(scrm_rfm_scores(r, d)[i20], 0);
    assert_int_equal(scrm_rfm_recency_days(r)[i10], 4);
    assert_int_equal(scrm_rfm_frequency(r)[i10], 2);
    assert_true(scrm_rfm_revenue(r)[i10] == 3000);
    /* the summary counts the 7 scored customers only */
    uint64_t total = 0;
    for (uint32_t s = 0; s <= 11; s++)
        total += scrm_rfm_segment_customers(r)[s];
    assert_int_equal(total, 7);
    scrm_rfm_free(r);
    /* 02:00 on the last day: 10's 01:00 order is in (recency 0), 20's is not */
    o.as_of = (B + 9) * DAY + 2 * 3600;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_rows_after_as_of(r), 1);
    assert_int_equal(scrm_rfm_recency_days(r)[i10], 0);
    assert_int_equal(scrm_rfm_frequency(r)[i10], 3);
    assert_int_equal(scrm_rfm_segments(r)[i20], SCRM_RFM_NOT_SCORED);
    scrm_rfm_free(r);
    /* day 1: only the day-0 orders of 10 and 70 are before it */
    o.as_of = (B + 1) * DAY;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_scored_count(r), 2);
    assert_int_equal(scrm_rfm_rows_after_as_of(r), NHAND - 2);
    assert_true(scrm_rfm_revenue(r)[i10] == 1000);
    assert_true(scrm_rfm_revenue(r)[idx_of(ds, 70)] == 100000);
    scrm_rfm_free(r);
    /* before every row: nobody is scored, the result is still complete */
    o.as_of = B * DAY;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_customer_count(r), 8);
    assert_int_equal(scrm_rfm_scored_count(r), 0);
    assert_int_equal(scrm_rfm_rows_after_as_of(r), NHAND);
    assert_true(isnan(scrm_rfm_edges(r, SCRM_RFM_F)[0]));
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_F), 0);
    scrm_rfm_free(r);
    /* threads do not change a snapshot */
    o.as_of = (B + 6) * DAY + 7;
    scrm_rfm *a = NULL, *b = NULL;
    o.threads = 1;
    assert_int_equal(scrm_rfm_compute(&a, ds, &o), SCRM_OK);
    o.threads = 7;
    assert_int_equal(scrm_rfm_compute(&b, ds, &o), SCRM_OK);
    assert_memory_equal(scrm_rfm_recency_days(a), scrm_rfm_recency_days(b), 8 * sizeof(int32_t));
    assert_memory_equal(scrm_rfm_segments(a), scrm_rfm_segments(b), 8 * sizeof(int32_t));
    assert_int_equal(scrm_rfm_rows_after_as_of(a), scrm_rfm_rows_after_as_of(b));
    scrm_rfm_free(a);
    scrm_rfm_free(b);
    scrm_dataset_free(ds);
}

static void test_refund_only_customers_not_scored(void **state)
{
    (void)state;
    /* the hand data plus 90: one refund of -12.50 and nothing else (as Online
     * Retail's 15864), and 95: two refunds */
    row rows[NHAND + 3];
    memcpy(rows, hand, sizeof hand);
    rows[NHAND] = (row){90, 3, 2, -1250};
    rows[NHAND + 1] = (row){95, 1, 2, -100};
    rows[NHAND + 2] = (row){95, 2, 2, -50};
    scrm_dataset *ds = make_ds(rows, NHAND + 3);
    scrm_rfm *r = NULL, *h = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_customer_count(r), 10);
    assert_int_equal(scrm_rfm_scored_count(r), 8);
    assert_int_equal(scrm_rfm_refund_only_count(r), 2);
    assert_true(scrm_rfm_refund_only_revenue(r) == -1250 - 150);
    uint32_t i90 = idx_of(ds, 90);
    assert_int_equal(scrm_rfm_segments(r)[i90], SCRM_RFM_NOT_SCORED);
    assert_int_equal(scrm_rfm_frequency(r)[i90], 0);
    assert_int_equal(scrm_rfm_recency_days(r)[i90], 7); /* day 3 to day 10 */
    assert_true(scrm_rfm_revenue(r)[i90] == -1250);
    for (int d = 0; d < 3; d++)
        assert_int_equal(scrm_rfm_scores(r, d)[i90], 0);
    /* the 8 scored customers get exactly the scores of the data without 90, 95 */
    scrm_dataset *hd = make_ds(hand, NHAND);
    assert_int_equal(scrm_rfm_compute(&h, hd, NULL), SCRM_OK);
    for (int k = 0; k < 8; k++) {
        uint32_t a = idx_of(ds, hand_keys[k]), b = idx_of(hd, hand_keys[k]);
        for (int d = 0; d < 3; d++)
            assert_int_equal(scrm_rfm_scores(r, d)[a], scrm_rfm_scores(h, d)[b]);
        assert_int_equal(scrm_rfm_segments(r)[a], scrm_rfm_segments(h)[b]);
    }
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 4; k++)
            assert_true(scrm_rfm_edges(r, d)[k] == scrm_rfm_edges(h, d)[k] ||
                        (isnan(scrm_rfm_edges(r, d)[k]) && isnan(scrm_rfm_edges(h, d)[k])));
    /* in no segment, no audience, no CSV row; their refunds in no segment */
    int64_t seg_rev = 0;
    for (uint32_t s = 0; s <= 11; s++)
        seg_rev += scrm_rfm_segment_revenue(r)[s];
    assert_true(seg_rev == 3500 + 100 + 10000 - 300 - 200 + 2400 + 100000 + 2500);
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_SHARE)[0] == 1.0 / 8);
    int32_t all[12];
    for (int s = 0; s < 11; s++)
        all[s] = s;
    all[11] = -1;
    uint64_t count = 0;
    assert_int_equal(scrm_rfm_audience(NULL, 0, &count, r, all, 12), SCRM_OK);
    assert_int_equal(count, 8);
    char path[512];
    tmp_path(path, sizeof path, "refund.csv");
    assert_int_equal(scrm_rfm_write_csv(r, ds, path), SCRM_OK);
    char *s = slurp(path);
    assert_null(strstr(s, "\n90,"));
    assert_null(strstr(s, "\n95,"));
    free(s);
    remove(path);
    scrm_rfm_free(r);
    scrm_rfm_free(h);
    scrm_dataset_free(hd);
    scrm_dataset_free(ds);
}

static void test_degenerate_dimensions_flagged(void **state)
{
    (void)state;
    /* hand data: F values 3,1,2,1,1,3,1,1: five of eight share 1 (> half);
     * quantile F edges [2, 2, 2, NaN] collapse. R and M have no majority;
     * M's edges are distinct, R's are too (7, 4, 2) but the last is NaN. */
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_F),
                     SCRM_RFM_DEGENERATE_MAJORITY | SCRM_RFM_DEGENERATE_EDGES);
    assert_true(scrm_rfm_majority_share(r, SCRM_RFM_F) == 5.0 / 8);
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_M), 0);
    assert_true(scrm_rfm_majority_share(r, SCRM_RFM_M) == 0.0);
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_R), SCRM_RFM_DEGENERATE_EDGES);
    assert_int_equal(scrm_rfm_degenerate(r, 3), 0);
    assert_true(scrm_rfm_majority_share(NULL, 0) == 0.0);
    scrm_rfm_free(r);
    /* exactly half is not a majority: 1,1,2,3 */
    static const row half[] = {{1, 0, 0, 10}, {2, 0, 0, 10}, {3, 0, 0, 20}, {4, 0, 0, 30}};
    ds = (scrm_dataset_free(ds), make_ds(half, 4));
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.method = SCRM_RFM_METHOD_FIXED;
    const double e[4] = {1, 2, 3, 4};
    o.r_edges = o.f_edges = o.m_edges = e;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_M), 0); /* fixed: no edge flag */
    /* all four have recency 1 and frequency 1 */
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_F), SCRM_RFM_DEGENERATE_MAJORITY);
    assert_true(scrm_rfm_majority_share(r, SCRM_RFM_R) == 1.0);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_count_only_dataset_has_no_monetary_dimension(void **state)
{
    (void)state;
    /* the hand data's customers and times, appended without amounts */
    uint64_t k[NHAND];
    int64_t t[NHAND];
    for (size_t i = 0; i < NHAND; i++) {
        k[i] = hand[i].key;
        t[i] = (B + hand[i].day) * DAY + hand[i].hour * 3600;
    }
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_has_amounts(ds), 1); /* nothing says otherwise yet */
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, NHAND, k, t, NULL, NULL, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_has_amounts(ds), 0);
    assert_int_equal(scrm_dataset_has_amounts(NULL), 1);
    /* the other kind of rows is refused, the dataset unchanged */
    int64_t amt = 100;
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, k, t, &amt, NULL, NULL), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "without amounts"));
    assert_int_equal(scrm_dataset_order_count(ds), NHAND);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_has_monetary(r), 0);
    /* every row is an order (without amounts there are no refunds) */
    static const uint32_t freq[8] = {3, 1, 2, 2, 2, 3, 1, 1};
    const uint8_t *m = scrm_rfm_scores(r, SCRM_RFM_M);
    for (int j = 0; j < 8; j++) {
        uint32_t i = idx_of(ds, hand_keys[j]);
        assert_int_equal(scrm_rfm_frequency(r)[i], freq[j]);
        assert_true(isnan(scrm_rfm_monetary(r)[i]));
        assert_true(scrm_rfm_revenue(r)[i] == 0);
        assert_int_equal(m[i], 0);
        /* R x F: the segment is rf10-v1's cell of (R, F) */
        int32_t want = scrm_segment_map_match(scrm_rfm_segment_map(r),
                                              scrm_rfm_scores(r, SCRM_RFM_R)[i],
                                              scrm_rfm_scores(r, SCRM_RFM_F)[i], 1);
        assert_int_equal(scrm_rfm_segments(r)[i], want);
    }
    for (int k2 = 0; k2 < 4; k2++)
        assert_true(isnan(scrm_rfm_edges(r, SCRM_RFM_M)[k2]));
    assert_string_equal(scrm_segment_map_name(scrm_rfm_segment_map(r), 0), "Hibernating");
    assert_int_equal(scrm_rfm_unassigned_count(r), 0);
    assert_true(isnan(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_M)[0]));
    assert_int_equal(scrm_rfm_degenerate(r, SCRM_RFM_M), 0);
    assert_true(scrm_rfm_majority_share(r, SCRM_RFM_M) == 0.0);
    scrm_rfm_free(r);
    /* fixed edges and a past as_of without amounts: R and F as given, M 0;
     * at day 5 only the rows of days 0..4 count (customers 10, 70, 30, 40) */
    scrm_rfm_options fo = SCRM_RFM_OPTIONS_INIT;
    const double er[4] = {2, 4, 7, 9}, ef[4] = {2, 3, 5, 10}, em[4] = {1, 2, 3, 4};
    fo.method = SCRM_RFM_METHOD_FIXED;
    fo.r_edges = er;
    fo.f_edges = ef;
    fo.m_edges = em;
    fo.as_of = (B + 5) * DAY;
    assert_int_equal(scrm_rfm_compute(&r, ds, &fo), SCRM_OK);
    assert_int_equal(scrm_rfm_scored_count(r), 4);
    assert_int_equal(scrm_rfm_has_monetary(r), 0);
    for (int j = 0; j < 8; j++) {
        uint32_t i = idx_of(ds, hand_keys[j]);
        assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_M)[i], 0);
    }
    /* 30: days 1, 2: recency 3, frequency 2: R = 5 - #{2} = 4, F = 1 + #{2} = 2 */
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_R)[idx_of(ds, 30)], 4);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_F)[idx_of(ds, 30)], 2);
    assert_true(isnan(scrm_rfm_edges(r, SCRM_RFM_M)[0]));
    assert_int_equal(scrm_rfm_segments(r)[idx_of(ds, 20)], SCRM_RFM_NOT_SCORED);
    scrm_rfm_free(r);
    /* without amounts the M edges are not needed: NULL gives the same R and
     * F (a dataset with amounts still refuses NULL M edges) */
    fo.m_edges = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &fo), SCRM_OK);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_R)[idx_of(ds, 30)], 4);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_F)[idx_of(ds, 30)], 2);
    scrm_rfm_free(r);
    {
        scrm_dataset *dm = make_ds(hand, NHAND);
        scrm_rfm *rm = (scrm_rfm *)&rm;
        assert_int_equal(scrm_rfm_compute(&rm, dm, &fo), SCRM_EINVAL);
        assert_ptr_equal(rm, (scrm_rfm *)&rm);
        scrm_dataset_free(dm);
    }
    /* a user map's M bounds are ignored: an M 5 box still matches */
    scrm_segment_map *map = NULL;
    assert_int_equal(scrm_segment_map_new(&map), SCRM_OK);
    assert_int_equal(scrm_segment_map_add(map, "Any", 1, 10, 1, 10, 5, 5), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.segments = map;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_int_equal(scrm_rfm_segment_customers(r)[0], 8);
    scrm_segment_map_free(map);
    /* the CSV has no monetary and m columns */
    char path[512];
    tmp_path(path, sizeof path, "count_only.csv");
    assert_int_equal(scrm_rfm_write_csv(r, ds, path), SCRM_OK);
    char *s = slurp(path);
    assert_true(strncmp(s, "customer,recency_days,frequency,r,f,segment\n", 44) == 0);
    assert_non_null(strstr(s, "\n10,1,3,"));
    free(s);
    remove(path);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
    /* and the other way round */
    ds = make_ds(hand, NHAND);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, k, t, NULL, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_has_amounts(ds), 1);
    scrm_dataset_free(ds);
}

static void test_fixed_edges(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    const double er[4] = {2, 4, 7, 9}, ef[4] = {2, 3, 5, 10}, em[4] = {0, 1000, 5000, 50000};
    o.method = SCRM_RFM_METHOD_FIXED;
    o.r_edges = er;
    o.f_edges = ef;
    o.m_edges = em;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    /* R = 5 - #{e <= recency}: rec 1 -> 5, 2 -> 4, 4 -> 3, 5 -> 3, 7 -> 2, 8 -> 2, 10 -> 1
     * (recency: 10:1 20:1 30:8 40:7 50:4 60:2 70:10 80:5) */
    static const uint8_t R[8] = {5, 5, 2, 2, 3, 4, 1, 3};
    /* F = 1 + #{e <= freq}: 0,1 -> 1; 2 -> 2; 3 -> 3 */
    static const uint8_t F[8] = {3, 1, 2, 1, 1, 3, 1, 1};
    /* M: -300,-200 -> 1; 100 -> 2; 2400, 2500, 3500 -> 3; 10000 -> 4; 100000 -> 5 */
    static const uint8_t M[8] = {3, 2, 4, 1, 1, 3, 5, 3};
    check_scores(r, ds, SCRM_RFM_R, R);
    check_scores(r, ds, SCRM_RFM_F, F);
    check_scores(r, ds, SCRM_RFM_M, M);
    check_edges(r, SCRM_RFM_R, er, 4);
    check_edges(r, SCRM_RFM_M, em, 4);
    scrm_rfm_free(r);

    const double flat[4] = {2, 2, 5, 10}, down[4] = {5, 4, 3, 2},
                 nan_[4] = {1, NAN, 3, 4}, inf_[4] = {1, 2, 3, INFINITY};
    const double *bad[] = {flat, down, nan_, inf_, NULL};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        o.f_edges = bad[k];
        r = NULL;
        assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_EINVAL);
        assert_null(r);
        assert_non_null(strstr(scrm_last_error(), "F"));
    }
    scrm_dataset_free(ds);
}

static void test_large_recency_range_uses_radix(void **state)
{
    (void)state;
    /* recencies 100000, 50001, 1: far beyond a counting-sort range */
    static const row rows[] = {{1, 0, 0, 10}, {2, 49999, 0, 10}, {3, 99999, 0, 10}};
    scrm_dataset *ds = make_ds(rows, 3);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_recency_days(r)[idx_of(ds, 1)], 100000);
    /* 1 + floor(5c/3): key 1 c0 -> 1, key 2 c1 -> 2, key 3 c2 -> 4 */
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_R)[idx_of(ds, 1)], 1);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_R)[idx_of(ds, 2)], 2);
    assert_int_equal(scrm_rfm_scores(r, SCRM_RFM_R)[idx_of(ds, 3)], 4);
    static const double eR[4] = {50001, 1, 1, NAN};
    check_edges(r, SCRM_RFM_R, eR, 4);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One order per customer with the given amounts; the M scores and edges by
 * quantile must follow the definition in rfm.h, worked out here by sorting:
 * score = 1 + floor(N c / n), c = customers with a strictly smaller value;
 * e_k = the smallest value among the customers scoring above k. */
static void check_quantile_m(const int64_t *amounts, uint32_t n, uint32_t N)
{
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    uint64_t *k = malloc(n * sizeof *k);
    int64_t *t = malloc(n * sizeof *t);
    double *sorted = malloc(n * sizeof *sorted);
    for (uint32_t i = 0; i < n; i++) {
        k[i] = i + 1;
        t[i] = B * DAY;
    }
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, n, k, t, amounts, NULL, NULL), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.bins = N;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    const double *mon = scrm_rfm_monetary(r);
    const uint8_t *sc = scrm_rfm_scores(r, SCRM_RFM_M);
    memcpy(sorted, mon, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double want_edge[SCRM_RFM_MAX_BINS];
    for (uint32_t q = 0; q < N; q++)
        want_edge[q] = NAN;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lo = 0, hi = n; /* c = first position of mon[i] in sorted */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] < mon[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        uint32_t want = 1 + (uint32_t)((uint64_t)N * lo / n);
        if (sc[i] != want)
            fail_msg("n %u N %u customer %u value %.2f: score %u, want %u", n, N, i, mon[i],
                     sc[i], want);
        for (uint32_t q = 1; q < want; q++)
            if (isnan(want_edge[q - 1]) || mon[i] < want_edge[q - 1])
                want_edge[q - 1] = mon[i];
    }
    check_edges(r, SCRM_RFM_M, want_edge, N - 1);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
    free(k);
    free(t);
    free(sorted);
}

static void test_quantile_scores_follow_the_definition(void **state)
{
    (void)state;
    enum { n = 20000 };
    int64_t *a = malloc(n * sizeof *a);
    static const uint32_t bins[] = {2, 3, 5, 7, 10};
    for (int shape = 0; shape < 4; shape++) {
        uint64_t x = 12345;
        for (uint32_t i = 0; i < n; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            uint64_t u = x >> 33;
            switch (shape) {
            case 0: /* spread, a few ties */
                a[i] = 1 + (int64_t)(u % 10000000);
                break;
            case 1: /* a run of equal values alone in its histogram bucket,
                     * holding the 1/5 quantile; spread values around it */
                a[i] = i < 3000 ? 1 + (int64_t)(u % 4000)
                       : i < 5000 ? 10000
                                  : 100000 + (int64_t)(u % 100000000);
                break;
            case 2: /* everything in one bucket but one outlier */
                a[i] = i == 7 ? INT64_C(1000000000000000) : 10000 + (int64_t)(u % 100);
                break;
            default: /* three values */
                a[i] = 100 * (1 + (int64_t)(u % 3));
            }
        }
        for (size_t b = 0; b < sizeof bins / sizeof bins[0]; b++)
            check_quantile_m(a, n, bins[b]);
    }
    free(a);
}

static void test_revenue_overflow(void **state)
{
    (void)state;
    static const row rows[] = {{1, 0, 0, INT64_MAX}, {1, 1, 0, 1}};
    scrm_dataset *ds = make_ds(rows, 2);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_EOVERFLOW);
    assert_null(r);
    scrm_dataset_free(ds);
    /* two customers whose sum overflows only in the segment summary */
    static const row rows2[] = {{1, 0, 0, INT64_MAX}, {2, 0, 0, INT64_MAX}};
    ds = make_ds(rows2, 2);
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_EOVERFLOW);
    assert_null(r);
    scrm_dataset_free(ds);
}

static void test_empty_dataset_gives_empty_result(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_customer_count(r), 0);
    assert_true(isnan(scrm_rfm_edges(r, SCRM_RFM_M)[0]));
    assert_int_equal(scrm_rfm_unassigned_count(r), 0);
    assert_true(scrm_rfm_segment_stat(r, SCRM_RFM_STAT_SHARE)[0] == 0.0);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

/* ---- segment maps ---- */

static void test_rfm11_every_segment_reachable_with_documented_counts(void **state)
{
    (void)state;
    scrm_segment_map *m = NULL;
    assert_int_equal(scrm_segment_map_preset(&m, "rfm11-v1"), SCRM_OK);
    assert_int_equal(scrm_segment_map_count(m), 11);
    assert_int_equal(scrm_segment_map_bins(m), 5);
    /* counts of the 125 cells (worked out from the rule boxes, see rfm.h) */
    static const struct {
        const char *name;
        int cells;
    } want[11] = {{"Champions", 8},        {"Loyal Customers", 28}, {"New Customers", 2},
                  {"Promising", 1},        {"Potential Loyalist", 21}, {"Need Attention", 3},
                  {"About To Sleep", 3},   {"Can't Lose Them", 4},  {"At Risk", 16},
                  {"Lost", 1},             {"Hibernating", 2}};
    int got[12] = {0};
    for (uint32_t r = 1; r <= 5; r++)
        for (uint32_t f = 1; f <= 5; f++)
            for (uint32_t mm = 1; mm <= 5; mm++) {
                int32_t s = scrm_segment_map_match(m, r, f, mm);
                got[s < 0 ? 11 : s]++;
            }
    for (int s = 0; s < 11; s++) {
        assert_string_equal(scrm_segment_map_name(m, (uint32_t)s), want[s].name);
        assert_int_equal(got[s], want[s].cells);
    }
    assert_int_equal(got[11], 36);
    /* a few cells by hand: (5,1,1) New Customers, (3,1,1) Promising, (1,5,5)
     * Can't Lose Them, (1,1,1) Lost, (1,2,1) Hibernating, (5,5,1) unassigned */
    assert_int_equal(scrm_segment_map_match(m, 5, 1, 1), 2);
    assert_int_equal(scrm_segment_map_match(m, 3, 1, 1), 3);
    assert_int_equal(scrm_segment_map_match(m, 1, 5, 5), 7);
    assert_int_equal(scrm_segment_map_match(m, 1, 1, 1), 9);
    assert_int_equal(scrm_segment_map_match(m, 1, 2, 1), 10);
    assert_int_equal(scrm_segment_map_match(m, 5, 5, 1), -1);
    uint32_t b[6];
    assert_int_equal(scrm_segment_map_rule(b, m, 1), SCRM_OK);
    static const uint32_t lc[6] = {2, 5, 3, 5, 3, 5};
    assert_memory_equal(b, lc, sizeof lc);
    assert_int_equal(scrm_segment_map_rule(b, m, 11), SCRM_ENOTFOUND);
    uint32_t i = 99;
    assert_int_equal(scrm_segment_map_find(&i, m, "At Risk"), SCRM_OK);
    assert_int_equal(i, 8);
    assert_int_equal(scrm_segment_map_find(&i, m, "Nobody"), SCRM_ENOTFOUND);
    scrm_segment_map_free(m);
}

static void test_rfm11_v2_assigns_every_cell(void **state)
{
    (void)state;
    /* docs/rfm.md's table of "rfm11-v2": (R, F) -> the segments of M = 1..5 */
    static const struct {
        uint32_t r, f;
        const char *cells;
    } table[25] = {
        {5, 5, "PL PL LC CH CH"},
        {5, 4, "PL PL LC CH CH"},
        {5, 3, "PL PL LC LC LC"},
        {5, 2, "PL PL PL PL PL"},
        {5, 1, "NC PL PL PL PL"},
        {4, 5, "PL PL LC CH CH"},
        {4, 4, "PL PL LC CH CH"},
        {4, 3, "PL PL LC LC LC"},
        {4, 2, "PL PL PL PL PL"},
        {4, 1, "NC PL PL PL PL"},
        {3, 5, "PL PL LC LC LC"},
        {3, 4, "PL PL LC LC LC"},
        {3, 3, "PL PL LC LC LC"},
        {3, 2, "PL PL PL PL PL"},
        {3, 1, "PR PL PL PL PL"},
        {2, 5, "HI AR LC LC LC"},
        {2, 4, "HI AR LC LC LC"},
        {2, 3, "HI NA LC LC LC"},
        {2, 2, "AS NA NA AR AR"},
        {2, 1, "AS AS HI HI HI"},
        {1, 5, "HI AR AR CL CL"},
        {1, 4, "HI AR AR CL CL"},
        {1, 3, "HI AR AR AR AR"},
        {1, 2, "HI AR AR AR AR"},
        {1, 1, "LO HI HI HI HI"},
    };
    static const char *const abbr[11] = {"CH", "LC", "NC", "PR", "PL", "NA",
                                         "AS", "CL", "AR", "LO", "HI"};
    scrm_segment_map *v1 = NULL, *v2 = NULL;
    assert_int_equal(scrm_segment_map_preset(&v1, "rfm11-v1"), SCRM_OK);
    assert_int_equal(scrm_segment_map_preset(&v2, "rfm11-v2"), SCRM_OK);
    assert_int_equal(scrm_segment_map_count(v2), 11);
    assert_int_equal(scrm_segment_map_bins(v2), 5);
    for (uint32_t s = 0; s < 11; s++) /* same names, same indices */
        assert_string_equal(scrm_segment_map_name(v2, s), scrm_segment_map_name(v1, s));
    int seen = 0;
    for (int k = 0; k < 25; k++)
        for (uint32_t m = 1; m <= 5; m++) {
            int32_t s = scrm_segment_map_match(v2, table[k].r, table[k].f, m);
            assert_true(s >= 0 && s < 11);
            if (strncmp(table[k].cells + 3 * (m - 1), abbr[s], 2) != 0)
                fail_msg("rfm11-v2 cell (%u,%u,%u): got %s, the table says %.2s", table[k].r,
                         table[k].f, m, abbr[s], table[k].cells + 3 * (m - 1));
            int32_t s1 = scrm_segment_map_match(v1, table[k].r, table[k].f, m);
            assert_true(s1 < 0 || s1 == s); /* v1's cells keep their segment */
            seen++;
        }
    assert_int_equal(seen, 125);
    scrm_segment_map_free(v1);
    scrm_segment_map_free(v2);
}

static void test_rf10_partitions_the_grid(void **state)
{
    (void)state;
    scrm_segment_map *m = NULL;
    assert_int_equal(scrm_segment_map_preset(&m, "rf10-v1"), SCRM_OK);
    assert_int_equal(scrm_segment_map_count(m), 10);
    /* cells per segment in the 5x5 (R, F) grid, M ignored */
    static const int want[10] = {4, 4, 2, 2, 1, 4, 1, 1, 4, 2};
    int got[10] = {0};
    for (uint32_t r = 1; r <= 5; r++)
        for (uint32_t f = 1; f <= 5; f++) {
            int32_t s = scrm_segment_map_match(m, r, f, 1);
            assert_true(s >= 0);
            for (uint32_t mm = 2; mm <= 5; mm++)
                assert_int_equal(scrm_segment_map_match(m, r, f, mm), s);
            got[s]++;
        }
    assert_memory_equal(got, want, sizeof want);
    assert_string_equal(scrm_segment_map_name(m, 0), "Hibernating");
    assert_int_equal(scrm_segment_map_match(m, 5, 5, 3), 9); /* Champions */
    assert_int_equal(scrm_segment_map_match(m, 3, 3, 3), 4); /* Need Attention */
    scrm_segment_map_free(m);
    assert_string_equal(scrm_segment_map_preset_name(0), "rfm11-v1");
    assert_string_equal(scrm_segment_map_preset_name(1), "rf10-v1");
    assert_string_equal(scrm_segment_map_preset_name(2), "rfm11-v2");
    assert_null(scrm_segment_map_preset_name(3));
    m = (scrm_segment_map *)(uintptr_t)0x99;
    assert_int_equal(scrm_segment_map_preset(&m, "rfm11-v3"), SCRM_ENOTFOUND);
    assert_true(m == (scrm_segment_map *)(uintptr_t)0x99);
}

static void test_segment_map_add_validates(void **state)
{
    (void)state;
    scrm_segment_map *m = NULL;
    assert_int_equal(scrm_segment_map_new(&m), SCRM_OK);
    assert_int_equal(scrm_segment_map_bins(m), 0);
    assert_int_equal(scrm_segment_map_add(m, "A", 1, 2, 1, 10, 1, 10), SCRM_OK);
    assert_int_equal(scrm_segment_map_add(m, "A", 3, 3, 1, 1, 1, 1), SCRM_EINVAL); /* duplicate */
    assert_int_equal(scrm_segment_map_add(m, "", 1, 1, 1, 1, 1, 1), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_add(m, "B", 0, 1, 1, 1, 1, 1), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_add(m, "B", 2, 1, 1, 1, 1, 1), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_add(m, "B", 1, 1, 1, 11, 1, 1), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_add(m, "B", 1, 1, 1, 1, 3, 2), SCRM_EINVAL);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(scrm_segment_map_add(m, longname, 1, 1, 1, 1, 1, 1), SCRM_EINVAL);
    assert_int_equal(scrm_segment_map_count(m), 1);
    /* first match wins */
    assert_int_equal(scrm_segment_map_add(m, "B", 1, 10, 1, 10, 1, 10), SCRM_OK);
    assert_int_equal(scrm_segment_map_match(m, 2, 5, 5), 0);
    assert_int_equal(scrm_segment_map_match(m, 3, 5, 5), 1);
    scrm_segment_map *c = NULL;
    assert_int_equal(scrm_segment_map_copy(&c, m), SCRM_OK);
    scrm_segment_map_free(m);
    assert_int_equal(scrm_segment_map_count(c), 2);
    assert_string_equal(scrm_segment_map_name(c, 1), "B");
    assert_null(scrm_segment_map_name(c, 2));
    scrm_segment_map_free(c);
}

static void test_custom_map_reports_unassigned(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_segment_map *m = NULL;
    assert_int_equal(scrm_segment_map_new(&m), SCRM_OK);
    assert_int_equal(scrm_segment_map_add(m, "Recent", 4, 5, 1, 10, 1, 10), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.segments = m;
    o.bins = 4; /* a user map works with any bins */
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    scrm_segment_map_free(m); /* the result holds its own copy */
    /* N = 4: R = 1 + floor(4c/8): 70 c0 -> 1, 30 c1 -> 1, 40 c2 -> 2, 80 c3 -> 2,
     * 50 c4 -> 3, 60 c5 -> 3, 10 and 20 c6 -> 4: only 10 and 20 are Recent. */
    assert_int_equal(scrm_rfm_segment_customers(r)[0], 2);
    assert_int_equal(scrm_rfm_unassigned_count(r), 6);
    assert_int_equal(scrm_rfm_segment_customers(r)[1], 6);
    assert_true(scrm_rfm_segment_revenue(r)[0] == 3600);
    assert_string_equal(scrm_segment_map_name(scrm_rfm_segment_map(r), 0), "Recent");
    assert_int_equal(scrm_rfm_segments(r)[idx_of(ds, 20)], 0);
    assert_int_equal(scrm_rfm_segments(r)[idx_of(ds, 60)], -1);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

/* ---- audiences and CSV ---- */

static void test_audience_indices(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm *r = NULL;
    scrm_segment_map *v1 = NULL;
    assert_int_equal(scrm_segment_map_preset(&v1, "rfm11-v1"), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.segments = v1;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    scrm_segment_map_free(v1);
    /* rfm11-v1: Champions (10) and the unassigned (60, 70, 80) */
    int32_t segs[2] = {0, -1};
    uint64_t count = 0;
    assert_int_equal(scrm_rfm_audience(NULL, 0, &count, r, segs, 2), SCRM_OK);
    assert_int_equal(count, 4);
    uint32_t idx[4], want[4] = {idx_of(ds, 10), idx_of(ds, 60), idx_of(ds, 70), idx_of(ds, 80)};
    /* ascending customer index */
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            if (want[b] < want[a]) {
                uint32_t t = want[a];
                want[a] = want[b];
                want[b] = t;
            }
    assert_int_equal(scrm_rfm_audience(idx, 4, &count, r, segs, 2), SCRM_OK);
    assert_memory_equal(idx, want, sizeof want);
    /* a short array gets the first ones, count stays the full size */
    uint32_t two[2] = {0, 0};
    assert_int_equal(scrm_rfm_audience(two, 2, &count, r, segs, 2), SCRM_OK);
    assert_int_equal(count, 4);
    assert_memory_equal(two, want, sizeof two);
    /* empty choice; bad segment */
    assert_int_equal(scrm_rfm_audience(NULL, 0, &count, r, NULL, 0), SCRM_OK);
    assert_int_equal(count, 0);
    int32_t bad = 11;
    count = 77;
    assert_int_equal(scrm_rfm_audience(NULL, 0, &count, r, &bad, 1), SCRM_EINVAL);
    bad = -2;
    assert_int_equal(scrm_rfm_audience(NULL, 0, &count, r, &bad, 1), SCRM_EINVAL);
    assert_int_equal(count, 77);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static void test_audience_csv_escapes_formulas(void **state)
{
    (void)state;
    const char *keys[] = {"=cmd()", "-1", "plain", "a,b", "q\"x", "@x", "+1", "\tt"};
    int64_t t[8], a[8];
    for (int i = 0; i < 8; i++) {
        t[i] = B * DAY + i;
        a[i] = 100;
    }
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 8, keys, NULL, t, a, NULL, NULL), SCRM_OK);
    scrm_segment_map *m = NULL;
    assert_int_equal(scrm_segment_map_new(&m), SCRM_OK);
    assert_int_equal(scrm_segment_map_add(m, "=Evil,seg", 1, 10, 1, 10, 1, 10), SCRM_OK);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.segments = m;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    scrm_segment_map_free(m);
    char path[512];
    tmp_path(path, sizeof path, "aud.csv");
    int32_t seg = 0;
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, &seg, 1, path), SCRM_OK);
    char *s = slurp(path);
    assert_true(strncmp(s, "customer,segment\n", 17) == 0);
    static const char *lines[] = {
        "\"'=cmd()\",\"'=Evil,seg\"\n", "\"'-1\",\"'=Evil,seg\"\n",
        "plain,\"'=Evil,seg\"\n",       "\"a,b\",\"'=Evil,seg\"\n",
        "\"q\"\"x\",\"'=Evil,seg\"\n",  "\"'@x\",\"'=Evil,seg\"\n",
        "\"'+1\",\"'=Evil,seg\"\n",     "\"'\tt\",\"'=Evil,seg\"\n",
    };
    size_t total = 17;
    for (size_t k = 0; k < 8; k++) {
        if (!strstr(s, lines[k]))
            fail_msg("missing line %s in:\n%s", lines[k], s);
        total += strlen(lines[k]);
    }
    assert_int_equal(strlen(s), total);
    free(s);
    /* nothing chosen: only the header */
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, NULL, 0, path), SCRM_OK);
    s = slurp(path);
    assert_string_equal(s, "customer,segment\n");
    free(s);
    remove(path);
    /* unwritable path */
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, &seg, 1, "/nonexistent/dir/x.csv"),
                     SCRM_EIO);
    /* a dataset that is not the result's */
    scrm_dataset *other = NULL;
    assert_int_equal(scrm_dataset_new(&other, NULL), SCRM_OK);
    assert_int_equal(scrm_rfm_audience_write_csv(r, other, &seg, 1, path), SCRM_EINVAL);
    assert_int_equal(scrm_rfm_write_csv(r, other, path), SCRM_EINVAL);
    scrm_dataset_free(other);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

extern uint32_t scrm__csvout_block_rows; /* test hook in lib/csvout.c */

/* Worked by hand; then again with one line per block on 3 threads (the
 * lines are formatted in parallel and written in order): the same bytes. */
static void test_write_csv_hand_worked(void **state)
{
    (void)state;
    static const struct { uint32_t threads, block; } runs[] = {{0, 8192}, {3, 1}};
    for (size_t run = 0; run < 2; run++) {
        uint32_t saved = scrm__csvout_block_rows;
        scrm__csvout_block_rows = runs[run].block;
        scrm_dataset *ds = make_ds_threads(hand, NHAND, runs[run].threads);
        scrm_rfm *r = NULL;
        assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
        char path[512];
        tmp_path(path, sizeof path, "all.csv");
        assert_int_equal(scrm_rfm_write_csv(r, ds, path), SCRM_OK);
        scrm__csvout_block_rows = saved;
        char *s = slurp(path);
        static const char *lines[] = {
            "customer,recency_days,frequency,monetary,r,f,m,segment\n",
            "10,1,3,35.00,4,4,4,Champions\n",
            "20,1,1,1.00,4,1,2,Potential Loyalist\n",
            "30,8,2,100.00,1,4,4,Can't Lose Them\n",
            "40,7,1,-3.00,2,1,1,About To Sleep\n",
            "50,4,1,-2.00,3,1,1,Promising\n",
            "60,2,3,24.00,4,4,2,Potential Loyalist\n",
            "70,10,1,1000.00,1,1,5,Hibernating\n",
            "80,5,1,25.00,2,1,3,Hibernating\n",
        };
        /* rows in customer key order (docs/rfm.md), whatever the index
         * order, the thread count or the block size */
        char want[1024] = "";
        for (size_t k = 0; k < 9; k++)
            strcat(want, lines[k]);
        assert_string_equal(s, want);
        free(s);
        remove(path);
        scrm_rfm_free(r);
        scrm_dataset_free(ds);
    }
}

static void test_write_csv_mean_rounds_half_away_from_zero(void **state)
{
    (void)state;
    /* 1: orders 1 and 2 cents: mean 1.5 -> 2 -> 0.02; 2: orders 0 and 0 and a
     * refund of -3: mean -1.5 -> -2 -> -0.02; 3: 3 orders summing 100:
     * 33.33 -> 33 -> 0.33; 4: one order of 12345 -> 123.45 */
    static const row rows[] = {{1, 0, 0, 1},  {1, 0, 1, 2},  {2, 0, 0, 0},  {2, 0, 1, 0},
                               {2, 0, 2, -3}, {3, 0, 0, 30}, {3, 0, 1, 30}, {3, 0, 2, 40},
                               {4, 0, 0, 12345}};
    scrm_dataset *ds = make_ds(rows, sizeof rows / sizeof rows[0]);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.monetary_mode = SCRM_RFM_MONETARY_MEAN;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    char path[512];
    tmp_path(path, sizeof path, "mean.csv");
    assert_int_equal(scrm_rfm_write_csv(r, ds, path), SCRM_OK);
    char *s = slurp(path);
    assert_non_null(strstr(s, "\n1,1,2,0.02,"));
    assert_non_null(strstr(s, "\n2,1,2,-0.02,"));
    assert_non_null(strstr(s, "\n3,1,3,0.33,"));
    assert_non_null(strstr(s, "\n4,1,1,123.45,"));
    free(s);
    remove(path);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

/* ---- progress, threads, allocation failures ---- */

static int progress_calls;
static int progress_stop_at;
static int on_progress(uint64_t done, uint64_t total, void *payload)
{
    (void)payload;
    assert_true(done <= total);
    return ++progress_calls == progress_stop_at;
}

static void test_progress_and_cancel(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.progress = on_progress;
    o.threads = 1;
    scrm_rfm *r = NULL;
    progress_calls = 0;
    progress_stop_at = -1;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    assert_true(progress_calls > 1);
    int all = progress_calls;
    scrm_rfm_free(r);
    for (int stop = 1; stop <= all; stop += all - 1) { /* the first call and the last */
        progress_calls = 0;
        progress_stop_at = stop;
        r = NULL;
        assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_ECANCELLED);
        assert_null(r);
    }
    scrm_dataset_free(ds);
}

/* A synthetic dataset: n customers, deterministic pseudo-random orders. */
/* n_rows random orders of n_cust customers, appended in batches of
 * `batch` rows (0: one append). */
static scrm_dataset *make_synthetic_batched(uint32_t n_cust, uint32_t n_rows, int strings,
                                            uint32_t batch, uint32_t threads)
{
    uint64_t x = 88172645463325252ull;
    uint64_t *k = malloc(n_rows * sizeof *k);
    int64_t *t = malloc(n_rows * sizeof *t), *a = malloc(n_rows * sizeof *a);
    char (*sk)[24] = malloc(n_rows * sizeof *sk);
    const char **sp = malloc(n_rows * sizeof *sp);
    for (uint32_t i = 0; i < n_rows; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k[i] = (x % n_cust) * 2654435761u;
        t[i] = B * DAY + (int64_t)((x >> 20) % (400 * DAY));
        a[i] = (int64_t)((x >> 40) % 20000) - 1000;
        snprintf(sk[i], sizeof sk[i], "c%llu", (unsigned long long)(x % n_cust));
        sp[i] = sk[i];
    }
    scrm_dataset *ds = NULL;
    scrm_dataset_options dso = SCRM_DATASET_OPTIONS_INIT;
    dso.threads = threads;
    assert_int_equal(scrm_dataset_new(&ds, &dso), SCRM_OK);
    if (!batch)
        batch = n_rows;
    for (uint32_t i = 0; i < n_rows; i += batch) {
        uint32_t b = n_rows - i < batch ? n_rows - i : batch;
        if (strings)
            assert_int_equal(scrm_dataset_append_str(NULL, ds, b, sp + i, NULL, t + i, a + i, NULL, NULL),
                             SCRM_OK);
        else
            assert_int_equal(scrm_dataset_append_u64(NULL, ds, b, k + i, t + i, a + i, NULL, NULL),
                             SCRM_OK);
    }
    free(k);
    free(t);
    free(a);
    free(sk);
    free(sp);
    return ds;
}

static scrm_dataset *make_synthetic(uint32_t n_cust, uint32_t n_rows, int strings)
{
    return make_synthetic_batched(n_cust, n_rows, strings, 0, 0);
}

/* Rows appended in many small batches (several segments per partition)
 * give each customer the same values, scores and segment as one append;
 * customer indices differ, so customers are matched by key. */
static void test_results_do_not_depend_on_append_batches(void **state)
{
    (void)state;
    scrm_dataset *one = make_synthetic_batched(20000, 90000, 0, 0, 0);
    scrm_dataset *many = make_synthetic_batched(20000, 90000, 0, 333, 0);
    for (int method = 0; method < 2; method++) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        o.method = method;
        o.threads = 2;
        scrm_rfm *x = NULL, *y = NULL;
        assert_int_equal(scrm_rfm_compute(&x, one, &o), SCRM_OK);
        assert_int_equal(scrm_rfm_compute(&y, many, &o), SCRM_OK);
        uint32_t n = scrm_rfm_customer_count(x);
        assert_int_equal(scrm_rfm_customer_count(y), n);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t key;
            uint32_t j;
            assert_int_equal(scrm_dataset_customer_key_u64(&key, one, i), SCRM_OK);
            assert_int_equal(scrm_dataset_find_u64(&j, many, key), SCRM_OK);
            assert_int_equal(scrm_rfm_recency_days(x)[i], scrm_rfm_recency_days(y)[j]);
            assert_int_equal(scrm_rfm_frequency(x)[i], scrm_rfm_frequency(y)[j]);
            assert_int_equal(scrm_rfm_revenue(x)[i], scrm_rfm_revenue(y)[j]);
            for (int d = 0; d < 3; d++)
                assert_int_equal(scrm_rfm_scores(x, d)[i], scrm_rfm_scores(y, d)[j]);
            assert_int_equal(scrm_rfm_segments(x)[i], scrm_rfm_segments(y)[j]);
        }
        scrm_rfm_free(x);
        scrm_rfm_free(y);
    }
    scrm_dataset_free(one);
    scrm_dataset_free(many);
}

static void assert_same_result(const scrm_rfm *a, const scrm_rfm *b)
{
    uint32_t n = scrm_rfm_customer_count(a);
    assert_int_equal(n, scrm_rfm_customer_count(b));
    assert_memory_equal(scrm_rfm_recency_days(a), scrm_rfm_recency_days(b), n * 4);
    assert_memory_equal(scrm_rfm_frequency(a), scrm_rfm_frequency(b), n * 4);
    assert_memory_equal(scrm_rfm_monetary(a), scrm_rfm_monetary(b), n * 8);
    assert_memory_equal(scrm_rfm_revenue(a), scrm_rfm_revenue(b), n * 8);
    assert_memory_equal(scrm_rfm_segments(a), scrm_rfm_segments(b), n * 4);
    for (int d = 0; d < 3; d++) {
        assert_memory_equal(scrm_rfm_scores(a, d), scrm_rfm_scores(b, d), n);
        assert_memory_equal(scrm_rfm_edges(a, d), scrm_rfm_edges(b, d),
                            (scrm_rfm_bins(a) - 1) * sizeof(double));
    }
    uint32_t S = scrm_segment_map_count(scrm_rfm_segment_map(a)) + 1;
    assert_memory_equal(scrm_rfm_segment_customers(a), scrm_rfm_segment_customers(b), S * 8);
    for (int s = 0; s < 7; s++)
        assert_memory_equal(scrm_rfm_segment_stat(a, s), scrm_rfm_segment_stat(b, s), S * 8);
}

static void test_thread_count_does_not_change_results(void **state)
{
    (void)state;
    for (int strings = 0; strings < 2; strings++) {
        scrm_dataset *ds = make_synthetic(20000, 90000, strings);
        for (int method = 0; method < 2; method++)
            for (int mode = 0; mode < 2; mode++) {
                scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
                o.method = method;
                o.frequency_mode = mode;
                o.monetary_mode = mode;
                scrm_rfm *r1 = NULL, *r2 = NULL, *r3 = NULL;
                o.threads = 1;
                assert_int_equal(scrm_rfm_compute(&r1, ds, &o), SCRM_OK);
                o.threads = 2;
                assert_int_equal(scrm_rfm_compute(&r2, ds, &o), SCRM_OK);
                o.threads = 7;
                assert_int_equal(scrm_rfm_compute(&r3, ds, &o), SCRM_OK);
                assert_same_result(r1, r2);
                assert_same_result(r1, r3);
                /* sanity: the quantile scores use every value 1..5 here */
                int seen[6] = {0};
                for (uint32_t i = 0; i < scrm_rfm_customer_count(r1); i++)
                    seen[scrm_rfm_scores(r1, SCRM_RFM_M)[i]] = 1;
                for (int s = 1; s <= 5; s++)
                    assert_true(seen[s]);
                scrm_rfm_free(r1);
                scrm_rfm_free(r2);
                scrm_rfm_free(r3);
            }
        scrm_dataset_free(ds);
    }
}

/* Both CSV exports of one dataset made with `threads` worker threads, in
 * blocks of `block` lines; the caller frees the two texts. */
static void exports_with(char **scores, char **audience, uint32_t n_cust, uint32_t n_rows,
                         int strings, uint32_t threads, uint32_t block)
{
    scrm_dataset *ds = make_synthetic_batched(n_cust, n_rows, strings, 0, threads);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.method = SCRM_RFM_METHOD_NTILE;
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
    uint32_t saved = scrm__csvout_block_rows;
    scrm__csvout_block_rows = block;
    char path[512];
    tmp_path(path, sizeof path, "par.csv");
    assert_int_equal(scrm_rfm_write_csv(r, ds, path), SCRM_OK);
    *scores = slurp(path);
    static const int32_t segs[] = {-1, 0, 3, 9}; /* a selection with gaps */
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, segs, 4, path), SCRM_OK);
    *audience = slurp(path);
    scrm__csvout_block_rows = saved;
    remove(path);
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The exports are formatted in blocks on several threads and written in
 * block order: the same bytes for 1, 2 and 7 threads and for blocks of 1, 3
 * and 8192 lines (one block), with string and integer keys, and for tiny
 * inputs (one customer, fewer customers than threads). Block size 1 with 7
 * threads makes every line wait for its turn. */
static void test_csv_exports_do_not_depend_on_threads_or_blocks(void **state)
{
    (void)state;
    static const struct { uint32_t cust, rows; } sizes[] = {{1, 1}, {5, 9}, {3000, 12000}};
    static const uint32_t threads[] = {1, 2, 7};
    static const uint32_t blocks[] = {8192, 1, 3};
    for (int strings = 0; strings < 2; strings++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            char *ref_s = NULL, *ref_a = NULL;
            exports_with(&ref_s, &ref_a, sizes[z].cust, sizes[z].rows, strings, 1, 8192);
            /* one header and one line per scored customer (keys are c0.. or
             * k * 2654435761; refund-only customers are not scored) */
            scrm_dataset *ds = make_synthetic(sizes[z].cust, sizes[z].rows, strings);
            scrm_rfm *rr = NULL;
            assert_int_equal(scrm_rfm_compute(&rr, ds, NULL), SCRM_OK);
            assert_int_equal(count_lines(ref_s), 1 + scrm_rfm_scored_count(rr));
            scrm_rfm_free(rr);
            scrm_dataset_free(ds);
            assert_true(strncmp(ref_a, "customer,segment\n", 17) == 0);
            for (size_t t = 0; t < 3; t++)
                for (size_t b = 0; b < 3; b++) {
                    print_message("strings %d, %u customers, %u threads, blocks of %u\n",
                                  strings, sizes[z].cust, threads[t], blocks[b]);
                    char *s = NULL, *a = NULL;
                    exports_with(&s, &a, sizes[z].cust, sizes[z].rows, strings, threads[t],
                                 blocks[b]);
                    assert_string_equal(s, ref_s);
                    assert_string_equal(a, ref_a);
                    free(s);
                    free(a);
                }
            free(ref_s);
            free(ref_a);
        }
}

/* Blocks larger than a thread's 1 MiB buffer (40,000 lines of about 35
 * bytes): a thread flushes in the middle of its block, after waiting for
 * the blocks before it. Same bytes as on one thread. */
static void test_csv_export_blocks_larger_than_the_buffer(void **state)
{
    (void)state;
    char *ref_s = NULL, *ref_a = NULL, *s = NULL, *a = NULL;
    exports_with(&ref_s, &ref_a, 90000, 180000, 0, 1, 8192);
    exports_with(&s, &a, 90000, 180000, 0, 2, 40000);
    assert_true(strlen(ref_s) > 2 * (1u << 20) + 17);
    assert_string_equal(s, ref_s);
    assert_string_equal(a, ref_a);
    free(ref_s);
    free(ref_a);
    free(s);
    free(a);
}

/* Distinct purchase days of customers whose orders arrive out of time
 * order (the summary's grouping path), with more than 32 orders (the radix
 * sort inside it), several per day, refunds not counted: worked by hand. */
static void test_days_frequency_of_orders_out_of_time_order(void **state)
{
    (void)state;
    enum { N = 60 };
    uint64_t cust[N + 2];
    int64_t times[N + 2], amounts[N + 2];
    /* customer 7: 60 orders on days (i * 7) % 40 + 100, 40 distinct days,
     * in a scrambled order, two at different hours of the same day */
    for (int i = 0; i < N; i++) {
        cust[i] = 7;
        times[i] = (int64_t)((i * 7) % 40 + 100) * 86400 + (i % 2) * 3600;
        amounts[i] = 100;
    }
    /* a refund on a day of its own does not add a purchase day */
    cust[N] = 7;
    times[N] = INT64_C(200) * 86400;
    amounts[N] = -50;
    /* customer 8: one order, before customer 7's first (not in order overall) */
    cust[N + 1] = 8;
    times[N + 1] = INT64_C(50) * 86400;
    amounts[N + 1] = 10;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, N + 2, cust, times, amounts, NULL, NULL),
                     SCRM_OK);
    for (int mode = 0; mode < 2; mode++) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        o.frequency_mode = mode ? SCRM_RFM_FREQUENCY_DAYS : SCRM_RFM_FREQUENCY_ORDERS;
        scrm_rfm *r = NULL;
        assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
        uint32_t i7, i8;
        assert_int_equal(scrm_dataset_find_u64(&i7, ds, 7), SCRM_OK);
        assert_int_equal(scrm_dataset_find_u64(&i8, ds, 8), SCRM_OK);
        assert_int_equal(scrm_rfm_frequency(r)[i7], mode ? 40 : N);
        assert_int_equal(scrm_rfm_frequency(r)[i8], 1);
        assert_int_equal(scrm_rfm_revenue(r)[i7], N * 100 - 50);
        /* last order: day 139 (the refund on day 200 is later, but a refund) */
        assert_int_equal(scrm_rfm_recency_days(r)[i7], 201 - 139);
        scrm_rfm_free(r);
    }
    scrm_dataset_free(ds);
}

/* Warm the dataset's cached per-customer summary (UTC offset 0), so that
 * the allocation-failure loops below see only the allocations of the
 * analysis itself: the summary is kept by the dataset after the first
 * successful analysis (its own failures are tested in
 * test_summary_allocation_failures_keep_nothing). */
static void warm_summary(scrm_dataset *ds)
{
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    scrm_rfm_free(r);
}

/* Every allocation failure while the shared summary is being built fails
 * the analysis with SCRM_ENOMEM and caches nothing: after freeing the
 * dataset, no block is left; a later analysis (building the summary then)
 * gives the result of a fresh dataset. */
static void test_summary_allocation_failures_keep_nothing(void **state)
{
    (void)state;
    scrm_rfm *want = NULL;
    scrm_dataset *fresh = make_ds(hand, NHAND);
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.frequency_mode = SCRM_RFM_FREQUENCY_DAYS;
    assert_int_equal(scrm_rfm_compute(&want, fresh, &o), SCRM_OK);
    int ok = 0, failed = 0;
    for (long nth = 0; nth < 500 && !ok; nth++) {
        failalloc_install(-1, 0);
        long base = failalloc_live;
        scrm_dataset *ds = make_ds(hand, NHAND);
        failalloc_install(nth, 0);
        scrm_rfm *r = NULL;
        int err = scrm_rfm_compute(&r, ds, &o);
        failalloc_disarm();
        if (err == SCRM_OK) {
            ok = 1;
        } else {
            assert_int_equal(err, SCRM_ENOMEM);
            failed++;
            assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
        }
        assert_int_equal(scrm_rfm_customer_count(r), scrm_rfm_customer_count(want));
        for (uint32_t i = 0; i < scrm_rfm_customer_count(r); i++) {
            assert_int_equal(scrm_rfm_frequency(r)[i], scrm_rfm_frequency(want)[i]);
            assert_int_equal(scrm_rfm_recency_days(r)[i], scrm_rfm_recency_days(want)[i]);
            assert_int_equal(scrm_rfm_revenue(r)[i], scrm_rfm_revenue(want)[i]);
        }
        scrm_rfm_free(r);
        scrm_dataset_free(ds);
        assert_int_equal(failalloc_live, base);
        failalloc_uninstall();
    }
    assert_true(ok);
    assert_true(failed > 8); /* the summary's own allocations were among those failed */
    scrm_rfm_free(want);
    scrm_dataset_free(fresh);
}

/* Analyses started together on a fresh dataset each build the shared
 * summary; one copy is kept and every result equals a one-thread run. */
struct race {
    scrm_dataset *ds;
    scrm_rfm *r;
    int rc, days;
};

static void *race_main(void *arg)
{
    struct race *x = arg;
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.threads = 1;
    o.frequency_mode = x->days ? SCRM_RFM_FREQUENCY_DAYS : SCRM_RFM_FREQUENCY_ORDERS;
    x->rc = scrm_rfm_compute(&x->r, x->ds, &o);
    return NULL;
}

static void test_concurrent_analyses_share_one_summary(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        scrm_dataset *ds = make_synthetic(3000, 20000, round & 1);
        struct race x[4];
        pthread_t tid[4];
        for (int t = 0; t < 4; t++) {
            x[t] = (struct race){ds, NULL, -1, t & 1};
            assert_int_equal(pthread_create(&tid[t], NULL, race_main, &x[t]), 0);
        }
        for (int t = 0; t < 4; t++) {
            pthread_join(tid[t], NULL);
            assert_int_equal(x[t].rc, SCRM_OK);
        }
        for (int t = 2; t < 4; t++)
            assert_same_result(x[t - 2].r, x[t].r);
        /* again, now from the cached summary */
        for (int t = 0; t < 2; t++) {
            struct race y = {ds, NULL, -1, t};
            race_main(&y);
            assert_int_equal(y.rc, SCRM_OK);
            assert_same_result(x[t].r, y.r);
            scrm_rfm_free(y.r);
        }
        for (int t = 0; t < 4; t++)
            scrm_rfm_free(x[t].r);
        scrm_dataset_free(ds);
    }
}

static void test_allocation_failures_leave_nothing(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(hand, NHAND);
    warm_summary(ds);
    char path[512];
    tmp_path(path, sizeof path, "oom.csv");
    for (int variant = 0; variant < 6; variant++) {
        int ok = 0;
        for (long nth = 0; nth < 500 && !ok; nth++) {
            long live = failalloc_live;
            failalloc_install(nth, 0);
            long before = failalloc_live;
            int err;
            scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
            o.threads = 1;
            if (variant == 1) {
                o.method = SCRM_RFM_METHOD_NTILE;
                o.frequency_mode = SCRM_RFM_FREQUENCY_DAYS;
            }
            if (variant <= 1) {
                scrm_rfm *r = (scrm_rfm *)(uintptr_t)0x77;
                err = scrm_rfm_compute(&r, ds, &o);
                failalloc_disarm();
                if (err == SCRM_OK) {
                    ok = 1;
                    scrm_rfm_free(r);
                } else {
                    assert_int_equal(err, SCRM_ENOMEM);
                    assert_true(r == (scrm_rfm *)(uintptr_t)0x77);
                }
            } else if (variant == 2) {
                scrm_segment_map *m = NULL;
                err = scrm_segment_map_preset(&m, "rfm11-v1");
                failalloc_disarm();
                ok = err == SCRM_OK;
                if (!ok)
                    assert_int_equal(err, SCRM_ENOMEM);
                scrm_segment_map_free(m);
            } else {
                failalloc_disarm();
                scrm_rfm *r = NULL;
                assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_OK);
                int32_t segs[1] = {0};
                uint64_t count = 5;
                failalloc_install(nth, 0);
                before = failalloc_live;
                if (variant == 3)
                    err = scrm_rfm_write_csv(r, ds, path);
                else if (variant == 4)
                    err = scrm_rfm_audience_write_csv(r, ds, segs, 1, path);
                else
                    err = scrm_rfm_audience(NULL, 0, &count, r, segs, 1);
                failalloc_disarm();
                ok = err == SCRM_OK;
                if (!ok) {
                    assert_int_equal(err, SCRM_ENOMEM);
                    assert_int_equal(count, 5);
                }
                assert_int_equal(failalloc_live, before);
                scrm_rfm_free(r);
            }
            (void)before;
            assert_int_equal(failalloc_live, live);
            failalloc_uninstall();
        }
        assert_true(ok);
    }
    /* growth of a user map fails cleanly */
    scrm_segment_map *m = NULL;
    assert_int_equal(scrm_segment_map_new(&m), SCRM_OK);
    for (long nth = 0;; nth++) {
        failalloc_install(nth, 0);
        int err = scrm_segment_map_add(m, "X", 1, 1, 1, 1, 1, 1);
        failalloc_uninstall();
        if (err == SCRM_OK)
            break;
        assert_int_equal(err, SCRM_ENOMEM);
        assert_int_equal(scrm_segment_map_count(m), 0);
    }
    assert_int_equal(scrm_segment_map_count(m), 1);
    scrm_segment_map_free(m);
    remove(path);
    scrm_dataset_free(ds);
}

/* The parallel path (two threads, a dataset past the threading threshold,
 * one scratch set per dimension): every allocation failure is reported and
 * leaks nothing; NTILE with string keys covers the key-rank sort too. */
static void test_allocation_failures_with_threads(void **state)
{
    (void)state;
    for (int strings = 0; strings < 2; strings++) {
        scrm_dataset *ds = make_synthetic(20000, 90000, strings);
        warm_summary(ds);
        int ok = 0;
        for (long nth = 0; nth < 2000 && !ok; nth++) {
            failalloc_install(nth, 0);
            long live = failalloc_live;
            scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
            o.threads = 2;
            o.method = strings ? SCRM_RFM_METHOD_NTILE : SCRM_RFM_METHOD_QUANTILE;
            scrm_rfm *r = (scrm_rfm *)(uintptr_t)0x77;
            int err = scrm_rfm_compute(&r, ds, &o);
            failalloc_disarm();
            if (err == SCRM_OK) {
                ok = 1;
                scrm_rfm_free(r);
            } else {
                assert_int_equal(err, SCRM_ENOMEM);
                assert_true(r == (scrm_rfm *)(uintptr_t)0x77);
            }
            assert_int_equal(failalloc_live, live);
            failalloc_uninstall();
        }
        assert_true(ok);
        scrm_dataset_free(ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_hand_worked),
        cmocka_unit_test(test_quantile_scores_hand_worked),
        cmocka_unit_test(test_segments_and_summary_hand_worked),
        cmocka_unit_test(test_ntile_scores_hand_worked),
        cmocka_unit_test(test_all_ties_share_quantile_score_ntile_breaks_by_key),
        cmocka_unit_test(test_ntile_string_keys_break_ties_bytewise),
        cmocka_unit_test(test_one_customer_and_more_bins_than_customers),
        cmocka_unit_test(test_bins_two_and_ten),
        cmocka_unit_test(test_bad_options_rejected),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_frequency_days_and_monetary_mean),
        cmocka_unit_test(test_utc_offset_moves_days_across_midnight),
        cmocka_unit_test(test_distinct_days_unsorted_rows),
        cmocka_unit_test(test_as_of_past_scores_the_snapshot),
        cmocka_unit_test(test_refund_only_customers_not_scored),
        cmocka_unit_test(test_degenerate_dimensions_flagged),
        cmocka_unit_test(test_count_only_dataset_has_no_monetary_dimension),
        cmocka_unit_test(test_fixed_edges),
        cmocka_unit_test(test_large_recency_range_uses_radix),
        cmocka_unit_test(test_quantile_scores_follow_the_definition),
        cmocka_unit_test(test_revenue_overflow),
        cmocka_unit_test(test_empty_dataset_gives_empty_result),
        cmocka_unit_test(test_rfm11_every_segment_reachable_with_documented_counts),
        cmocka_unit_test(test_rfm11_v2_assigns_every_cell),
        cmocka_unit_test(test_rf10_partitions_the_grid),
        cmocka_unit_test(test_segment_map_add_validates),
        cmocka_unit_test(test_custom_map_reports_unassigned),
        cmocka_unit_test(test_audience_indices),
        cmocka_unit_test(test_audience_csv_escapes_formulas),
        cmocka_unit_test(test_write_csv_hand_worked),
        cmocka_unit_test(test_write_csv_mean_rounds_half_away_from_zero),
        cmocka_unit_test(test_csv_exports_do_not_depend_on_threads_or_blocks),
        cmocka_unit_test(test_csv_export_blocks_larger_than_the_buffer),
        cmocka_unit_test(test_progress_and_cancel),
        cmocka_unit_test(test_summary_allocation_failures_keep_nothing),
        cmocka_unit_test(test_days_frequency_of_orders_out_of_time_order),
        cmocka_unit_test(test_concurrent_analyses_share_one_summary),
        cmocka_unit_test(test_thread_count_does_not_change_results),
        cmocka_unit_test(test_allocation_failures_leave_nothing),
        cmocka_unit_test(test_allocation_failures_with_threads),
        cmocka_unit_test(test_results_do_not_depend_on_append_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
