/* Tests of the orders dataset: interning, appends, de-duplication, atomicity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <shopcrm.h>
#include "failalloc.h"
#include "internal.h"

static scrm_dataset *new_ds(int key_type, uint32_t threads)
{
    scrm_dataset_options o = SCRM_DATASET_OPTIONS_INIT;
    o.key_type = key_type;
    o.threads = threads;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_OK);
    return ds;
}

/* Sum of rows and customers over the partition views, and per-customer row
 * counts, computed independently of the public counters. */
static void view_totals(const scrm_dataset *ds, uint64_t *rows, uint64_t *custs)
{
    *rows = 0;
    *custs = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        *rows += v.n_rows;
        *custs += v.n_cust;
        uint64_t seg_rows = 0;
        for (uint32_t k = 0; k < v.n_seg; k++) {
            const scrm__row_seg *g = &v.seg[k];
            assert_true(g->n > 0);
            assert_true(g->n <= g->cap);
            for (uint64_t i = 0; i < g->n; i++)
                assert_true(g->cust[i] < v.n_cust);
            seg_rows += g->n;
        }
        assert_int_equal(seg_rows, v.n_rows);
    }
}

/* A failed or cancelled append left the dataset with these counts, in its
 * counters and in its partition views. */
static void assert_counts(const scrm_dataset *ds, uint64_t orders, uint64_t customers,
                          uint64_t duplicates)
{
    assert_int_equal(scrm_dataset_order_count(ds), orders);
    assert_int_equal(scrm_dataset_customer_count(ds), customers);
    assert_int_equal(scrm_dataset_duplicate_count(ds), duplicates);
    uint64_t rows, custs;
    view_totals(ds, &rows, &custs);
    assert_int_equal(rows, orders);
    assert_int_equal(custs, customers);
}

/* The orders of customer idx (time, amount), in append order. */
static uint32_t orders_of(const scrm_dataset *ds, uint32_t idx, int64_t *t, int64_t *a,
                          uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        for (uint32_t k = 0; k < v.n_seg; k++)
            for (uint64_t i = 0; i < v.seg[k].n; i++)
                if (v.gid[v.seg[k].cust[i]] == idx && n < max) {
                    t[n] = v.seg[k].time[i];
                    a[n++] = v.seg[k].amount[i];
                }
    }
    return n;
}

static void test_options_init_and_versions(void **state)
{
    (void)state;
    scrm_dataset_options o;
    assert_int_equal(scrm_dataset_options_init(&o, SCRM_DATASET_OPTIONS_VERSION), SCRM_OK);
    assert_int_equal(o.version, SCRM_DATASET_OPTIONS_VERSION);
    assert_int_equal(o.key_type, SCRM_KEY_AUTO);
    assert_int_equal(scrm_dataset_options_init(&o, 99), SCRM_EVERSION);
    assert_int_equal(scrm_dataset_options_init(NULL, 1), SCRM_EINVAL);
    scrm_dataset *ds = FAILALLOC_SENTINEL(scrm_dataset);
    o.version = 0;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_EVERSION);
    o.version = 2;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_EVERSION);
    o.version = 1;
    o.key_type = 3;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_EINVAL);
    assert_ptr_equal(ds, FAILALLOC_SENTINEL(scrm_dataset));
    assert_int_equal(scrm_dataset_new(NULL, NULL), SCRM_EINVAL);
    scrm_dataset_free(NULL);
}

static void test_empty_dataset(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO, 0);
    assert_int_equal(scrm_dataset_customer_count(ds), 0);
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
    int64_t lo = 7, hi = 7;
    assert_int_equal(scrm_dataset_time_range(&lo, &hi, ds), SCRM_ENOTFOUND);
    assert_int_equal(lo, 7);
    uint64_t added = 99;
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 0, NULL, NULL, NULL, NULL, NULL), SCRM_OK);
    assert_int_equal(added, 0);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
    uint32_t idx;
    assert_int_equal(scrm_dataset_find_u64(&idx, ds, 1), SCRM_ENOTFOUND);
    scrm_dataset_free(ds);
    assert_int_equal(scrm_dataset_customer_count(NULL), 0);
    assert_int_equal(scrm_dataset_order_count(NULL), 0);
    assert_int_equal(scrm_dataset_duplicate_count(NULL), 0);
    assert_int_equal(scrm_dataset_key_type(NULL), SCRM_KEY_AUTO);
}

static void test_u64_keys_are_interned_to_dense_indices(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO, 0);
    /* 3 customers: 42 (2 orders, one a refund), 0, UINT64_MAX (zero amount). */
    uint64_t c[] = {42, 0, 42, UINT64_MAX, 0};
    int64_t t[] = {1000, 500, 2000, 1500, -86400};
    int64_t a[] = {1999, 500, -300, 0, 100};
    uint64_t added = 0;
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 5, c, t, a, NULL, NULL), SCRM_OK);
    assert_int_equal(added, 5);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_U64);
    assert_int_equal(scrm_dataset_customer_count(ds), 3);
    assert_int_equal(scrm_dataset_order_count(ds), 5);
    int64_t lo, hi;
    assert_int_equal(scrm_dataset_time_range(&lo, &hi, ds), SCRM_OK);
    assert_int_equal(lo, -86400);
    assert_int_equal(hi, 2000);
    uint32_t seen = 0;
    static const uint64_t keys[] = {42, 0, UINT64_MAX};
    for (int i = 0; i < 3; i++) {
        uint32_t idx;
        uint64_t back;
        assert_int_equal(scrm_dataset_find_u64(&idx, ds, keys[i]), SCRM_OK);
        assert_true(idx < 3);
        seen |= 1u << idx;
        assert_int_equal(scrm_dataset_customer_key_u64(&back, ds, idx), SCRM_OK);
        assert_true(back == keys[i]);
    }
    assert_int_equal(seen, 7); /* dense: 0, 1, 2 */
    uint32_t idx = 77;
    assert_int_equal(scrm_dataset_find_u64(&idx, ds, 43), SCRM_ENOTFOUND);
    assert_int_equal(idx, 77);
    uint64_t k;
    assert_int_equal(scrm_dataset_customer_key_u64(&k, ds, 3), SCRM_ENOTFOUND);
    const char *s;
    assert_int_equal(scrm_dataset_customer_key_str(&s, NULL, ds, 0), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_find_str(&idx, ds, "42", -1), SCRM_EINVAL);

    /* Per-customer totals through the partition views. */
    uint64_t rows, custs;
    view_totals(ds, &rows, &custs);
    assert_int_equal(rows, 5);
    assert_int_equal(custs, 3);
    uint32_t i42;
    scrm_dataset_find_u64(&i42, ds, 42);
    int64_t t42[4], a42[4];
    assert_int_equal(orders_of(ds, i42, t42, a42, 4), 2);
    assert_int_equal(a42[0] + a42[1], 1699);
    scrm_dataset_free(ds);
}

static void test_string_keys_with_and_without_lengths(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO, 0);
    const char *c1[] = {"alice@example.com", "bob", "alice@example.com"};
    int64_t t[] = {10, 20, 30};
    int64_t a[] = {100, 200, 300};
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 3, c1, NULL, t, a, NULL, NULL), SCRM_OK);
    /* Length-given keys: "bobby" cut to "bob" is bob; a key with an embedded NUL is distinct. */
    const char *c2[] = {"bobby", "x\0y"};
    uint32_t lens[] = {3, 3};
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 2, c2, lens, t, a, NULL, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_customer_count(ds), 3);
    assert_int_equal(scrm_dataset_order_count(ds), 5);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_STRING);
    uint32_t ib, ix, ia;
    assert_int_equal(scrm_dataset_find_str(&ib, ds, "bob", -1), SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&ib, ds, "bobby", 3), SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&ix, ds, "x\0y", 3), SCRM_OK);
    assert_int_equal(scrm_dataset_find_str(&ia, ds, "x", -1), SCRM_ENOTFOUND);
    assert_int_equal(scrm_dataset_find_str(&ia, ds, "alice@example.com", -1), SCRM_OK);
    const char *s;
    uint32_t len;
    assert_int_equal(scrm_dataset_customer_key_str(&s, &len, ds, ix), SCRM_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "x\0y", 4); /* NUL-terminated copy */
    assert_int_equal(scrm_dataset_customer_key_str(&s, &len, ds, ia), SCRM_OK);
    assert_string_equal(s, "alice@example.com");
    /* Keys stay valid after more appends (arena chunks never move). */
    const char *c3[] = {"carol"};
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 1, c3, NULL, t, a, NULL, NULL), SCRM_OK);
    assert_string_equal(s, "alice@example.com");
    uint64_t u = 1;
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, &u, t, a, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_customer_key_u64(&u, ds, 0), SCRM_EINVAL);
    scrm_dataset_free(ds);
}

static void test_bad_row_adds_nothing_and_names_the_row(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO, 0);
    uint64_t c[] = {1, 2, 3, 4};
    int64_t t[] = {0, SCRM_TIME_MAX, SCRM_TIME_MAX + 1, 0};
    int64_t a[] = {1, 2, 3, 4};
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 4, c, t, a, NULL, NULL), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 2);
    assert_non_null(strstr(scrm_last_error(), "row 2"));
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
    int64_t t2[] = {SCRM_TIME_MIN, SCRM_TIME_MIN - 1};
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c, t2, a, NULL, NULL), SCRM_ERANGE);
    assert_int_equal(scrm_last_error_index(), 1);
    /* Both limits themselves are accepted. */
    int64_t t3[] = {SCRM_TIME_MIN, SCRM_TIME_MAX};
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c, t3, a, NULL, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_order_count(ds), 2);

    scrm_dataset *ss = new_ds(SCRM_KEY_STRING, 0);
    const char *k[] = {"a", "", "c"};
    assert_int_equal(scrm_dataset_append_str(NULL, ss, 3, k, NULL, t3, a, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_last_error_index(), 1);
    const char *k2[] = {"a", NULL};
    assert_int_equal(scrm_dataset_append_str(NULL, ss, 2, k2, NULL, t3, a, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_last_error_index(), 1);
    assert_int_equal(scrm_dataset_customer_count(ss), 0);
    scrm_dataset_free(ss);

    /* NULL arrays. */
    assert_int_equal(scrm_dataset_append_u64(NULL, NULL, 1, c, t, a, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, NULL, t, a, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, c, NULL, a, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 1, c, t, NULL, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, (uint64_t)UINT32_MAX + 1, c, t, a, NULL, NULL),
                     SCRM_EINVAL);
    assert_int_equal(scrm_dataset_order_count(ds), 2);
    scrm_dataset_free(ds);
}

/* The one order of the customer with key `key`. */
static void one_order(const scrm_dataset *ds, uint64_t key, int64_t want_t, int64_t want_a)
{
    uint32_t idx;
    int64_t t[4], a[4];
    assert_int_equal(scrm_dataset_find_u64(&idx, ds, key), SCRM_OK);
    assert_int_equal(orders_of(ds, idx, t, a, 4), 1);
    assert_int_equal(t[0], want_t);
    assert_int_equal(a[0], want_a);
}

/* Order lines of a count-only dataset (amounts NULL) merge too: one order
 * per key at the earliest time, amount 0, and the dataset stays count-only
 * (a merge must not read the missing amounts nor give the batch some). */
static void test_order_lines_merge_without_amounts(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_U64, 0);
    uint64_t c[] = {1, 1, 2};
    int64_t t[] = {20, 10, 30};
    uint64_t ok[] = {100, 100, 7};
    uint64_t added;
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 3, c, t, NULL, ok, NULL), SCRM_OK);
    assert_int_equal(added, 2);
    assert_int_equal(scrm_dataset_merged_count(ds), 1);
    assert_int_equal(scrm_dataset_has_amounts(ds), 0);
    one_order(ds, 1, 10, 0);
    one_order(ds, 2, 30, 0);
    /* a later line of order 100 is a re-delivery; amounts are still refused */
    int64_t a[] = {5};
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 1, c, t, a, ok, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 1, c, t, NULL, ok, NULL), SCRM_OK);
    assert_int_equal(added, 0);
    assert_int_equal(scrm_dataset_duplicate_count(ds), 1);
    assert_int_equal(scrm_dataset_has_amounts(ds), 0);
    scrm_dataset_free(ds);
}

static void test_order_lines_merge_and_redeliveries_are_skipped(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_U64, 0);
    /* Order key 0 exercises the key whose mixed value is the empty marker.
     * Order 100: lines at 20 and 10 (1 + 2); order 0: 3 and a refund line
     * of -1 at 25 (the net, 2, at the earliest time, 25); order 7: one line. */
    uint64_t c[] = {1, 1, 2, 2, 3};
    int64_t t[] = {20, 10, 30, 25, 50};
    int64_t a[] = {1, 2, 3, -1, 5};
    uint64_t ok[] = {100, 100, 0, 0, 7};
    uint64_t added;
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 5, c, t, a, ok, NULL), SCRM_OK);
    assert_int_equal(added, 3);
    assert_int_equal(scrm_dataset_duplicate_count(ds), 0);
    assert_int_equal(scrm_dataset_merged_count(ds), 2);
    assert_int_equal(scrm_dataset_customer_count(ds), 3);
    one_order(ds, 1, 10, 3);
    one_order(ds, 2, 25, 2);
    one_order(ds, 3, 50, 5);
    int64_t lo, hi;
    scrm_dataset_time_range(&lo, &hi, ds);
    assert_int_equal(lo, 10);
    assert_int_equal(hi, 50);
    /* A later append: orders 7 and 0 again are re-deliveries (all their
     * lines, whatever the customer), order 8 is new. */
    uint64_t c2[] = {9, 9, 9, 4};
    uint64_t ok2[] = {7, 8, 8, 0};
    int64_t t2[] = {60, 70, 65, 5};
    int64_t a2[] = {1, 1, 1, 1};
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 4, c2, t2, a2, ok2, NULL), SCRM_OK);
    assert_int_equal(added, 1);
    assert_int_equal(scrm_dataset_duplicate_count(ds), 2);
    assert_int_equal(scrm_dataset_merged_count(ds), 3);
    assert_int_equal(scrm_dataset_order_count(ds), 4);
    one_order(ds, 9, 65, 2);
    /* Orders without keys are never merged nor duplicates. */
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 2, c2, t, a, NULL, NULL), SCRM_OK);
    assert_int_equal(added, 2);
    assert_int_equal(scrm_dataset_order_count(ds), 6);
    scrm_dataset_free(ds);
}

static void test_order_lines_of_two_customers_are_an_error(void **state)
{
    (void)state;
    for (int is_str = 0; is_str < 2; is_str++) {
        scrm_dataset *ds = new_ds(is_str ? SCRM_KEY_STRING : SCRM_KEY_U64, 0);
        uint64_t c[] = {1, 1, 2, 1};
        const char *sk[] = {"a", "a", "b", "a"};
        int64_t t[] = {10, 20, 30, 40};
        int64_t a[] = {1, 2, 3, INT64_MAX};
        uint64_t ok[] = {5, 5, 5, 6};
        uint64_t added = 77;
        int rc = is_str ? scrm_dataset_append_str(&added, ds, 3, sk, NULL, t, a, ok, NULL)
                        : scrm_dataset_append_u64(&added, ds, 3, c, t, a, ok, NULL);
        assert_int_equal(rc, SCRM_EINVAL);
        assert_int_equal(added, 77);
        assert_int_equal(scrm_last_error_index(), 2);
        assert_non_null(strstr(scrm_last_error(), "row 2: order key 5 is an order of another "
                                                  "customer (its first line: row 0)"));
        assert_counts(ds, 0, 0, 0);
        /* the order's total out of range: 3 + INT64_MAX */
        ok[1] = 6;
        ok[2] = 9;
        rc = is_str ? scrm_dataset_append_str(&added, ds, 4, sk, NULL, t, a, ok, NULL)
                    : scrm_dataset_append_u64(&added, ds, 4, c, t, a, ok, NULL);
        assert_int_equal(rc, SCRM_ERANGE);
        assert_int_equal(scrm_last_error_index(), 3);
        assert_counts(ds, 0, 0, 0);
        /* the failed calls left no order key behind */
        rc = is_str ? scrm_dataset_append_str(&added, ds, 3, sk, NULL, t, a, ok, NULL)
                    : scrm_dataset_append_u64(&added, ds, 3, c, t, a, ok, NULL);
        assert_int_equal(rc, SCRM_OK);
        assert_int_equal(added, 3);
        assert_counts(ds, 3, 2, 0);
        scrm_dataset_free(ds);
    }
}

struct bad_log {
    uint32_t n, row[4], anchor[4], gid[4];
    int state[4];
};

static int log_bad(void *payload, uint32_t row, int st, uint32_t anchor, uint32_t gid)
{
    struct bad_log *l = payload;
    l->row[l->n] = row;
    l->state[l->n] = st;
    l->anchor[l->n] = anchor;
    l->gid[l->n++] = gid;
    return 0;
}

/* In a transaction (one CSV load), the lines of an order may come in
 * different batches: the later ones update the stored order. */
static void test_order_lines_merge_across_batches_of_a_transaction(void **state)
{
    (void)state;
    for (uint32_t threads = 1; threads <= 2; threads++) {
        scrm_dataset *ds = new_ds(SCRM_KEY_U64, threads);
        uint64_t c0[] = {8};
        int64_t t0[] = {1};
        uint64_t ok0[] = {50};
        uint64_t added;
        assert_int_equal(scrm_dataset_append_u64(&added, ds, 1, c0, t0, t0, ok0, NULL), SCRM_OK);
        scrm__dataset_mark *m = NULL;
        assert_int_equal(scrm__dataset_begin(ds, &m), SCRM_OK);
        /* batch 1: order 1 (customer 1, at 100, the latest), order 0 (customer 2) */
        uint64_t c1[] = {1, 2, 2};
        int64_t t1[] = {100, 40, 45}, a1[] = {10, 20, 1};
        uint64_t ok1[] = {1, 0, 0};
        scrm__append_ext x = {0};
        assert_int_equal(scrm__dataset_append_ext(&added, ds, 3, c1, NULL, NULL, t1, a1, ok1, &x),
                         SCRM_OK);
        assert_int_equal(added, 2);
        assert_int_equal(x.merged_lines, 1);
        assert_int_equal(x.merged_orders, 1);
        /* batch 2: order 1 again at 30 (moves the latest time back to 50),
         * another customer's line of order 0 (bad), order 0's third line,
         * order 50 of before the transaction (a re-delivery) */
        struct bad_log l = {0};
        x = (scrm__append_ext){.bad_row = log_bad, .payload = &l};
        uint64_t c2[] = {1, 3, 2, 1, 9};
        int64_t t2[] = {30, 10, 50, 35, 5}, a2[] = {5, 7, 2, 1, 1};
        uint64_t ok2[] = {1, 0, 0, 1, 50};
        assert_int_equal(scrm__dataset_append_ext(&added, ds, 5, c2, NULL, NULL, t2, a2, ok2, &x),
                         SCRM_OK);
        assert_int_equal(added, 0);
        assert_int_equal(x.merged_lines, 3);
        assert_int_equal(x.merged_orders, 1); /* order 1 got its second line */
        assert_int_equal(x.bad_rows, 1);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.row[0], 1);
        assert_int_equal(l.state[0], SCRM__ROW_CONFLICT);
        assert_int_equal(l.anchor[0], UINT32_MAX);
        uint32_t g2;
        assert_int_equal(scrm_dataset_find_u64(&g2, ds, 2), SCRM_OK);
        assert_int_equal(l.gid[0], g2);
        one_order(ds, 1, 30, 16);
        one_order(ds, 2, 40, 23);
        int64_t lo, hi;
        assert_int_equal(scrm_dataset_time_range(&lo, &hi, ds), SCRM_OK);
        assert_int_equal(lo, 1);
        assert_int_equal(hi, 40);
        assert_int_equal(scrm_dataset_order_count(ds), 3);
        assert_int_equal(scrm_dataset_merged_count(ds), 4);
        assert_int_equal(scrm_dataset_duplicate_count(ds), 1);
        /* a rollback takes it all back; the keys can come again */
        scrm__dataset_rollback(m);
        assert_counts(ds, 1, 1, 0);
        assert_int_equal(scrm_dataset_merged_count(ds), 0);
        assert_int_equal(scrm_dataset_time_range(&lo, &hi, ds), SCRM_OK);
        assert_int_equal(hi, 1);
        assert_int_equal(scrm_dataset_append_u64(&added, ds, 3, c1, t1, a1, ok1, NULL), SCRM_OK);
        assert_int_equal(added, 2);
        scrm_dataset_free(ds);
    }
}

static void test_order_key_from_string_is_stable(void **state)
{
    (void)state;
    uint64_t a = scrm_dataset_order_key_from_string("e481f51cbdc54678b7cc49136f2d6af7", 32);
    uint64_t b = scrm_dataset_order_key_from_string("e481f51cbdc54678b7cc49136f2d6af7", 32);
    uint64_t c = scrm_dataset_order_key_from_string("e481f51cbdc54678b7cc49136f2d6af8", 32);
    assert_true(a == b);
    assert_true(a != c);
    assert_true(scrm_dataset_order_key_from_string("ab", 1) == scrm_dataset_order_key_from_string("a", 1));
    assert_true(scrm_dataset_order_key_from_string("", 0) == scrm_dataset_order_key_from_string(NULL, 5));
    assert_true(scrm_dataset_order_key_from_string("a", 1) != scrm_dataset_order_key_from_string("a\0", 2));
}

/* A large batch (threads, table growth, many partitions): every key maps
 * back to itself; results do not depend on the thread count. */
static void fill_big(uint64_t *c, int64_t *t, int64_t *a, uint32_t n, uint32_t ncust)
{
    uint64_t x = 12345;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        c[i] = (x >> 33) % ncust * 0x9E3779B97F4A7C15ull; /* spread over the range */
        t[i] = 1500000000 + (int64_t)(i % 100000);
        a[i] = (int64_t)(x >> 40) % 10000 - 100;
    }
}

static void test_large_batches_are_deterministic_across_threads(void **state)
{
    (void)state;
    enum { N = 300000, NCUST = 50000 };
    uint64_t *c = malloc(N * sizeof *c);
    int64_t *t = malloc(N * sizeof *t), *a = malloc(N * sizeof *a);
    fill_big(c, t, a, N, NCUST);
    scrm_dataset *d1 = new_ds(SCRM_KEY_U64, 1), *d2 = new_ds(SCRM_KEY_U64, 2);
    /* d1 in one batch, d2 in three uneven batches: same customers and sums. */
    assert_int_equal(scrm_dataset_append_u64(NULL, d1, N, c, t, a, NULL, NULL), SCRM_OK);
    uint32_t cut1 = 1000, cut2 = 200000;
    assert_int_equal(scrm_dataset_append_u64(NULL, d2, cut1, c, t, a, NULL, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, d2, cut2 - cut1, c + cut1, t + cut1, a + cut1, NULL, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, d2, N - cut2, c + cut2, t + cut2, a + cut2, NULL, NULL), SCRM_OK);
    uint64_t expect_cust = scrm_dataset_customer_count(d1);
    assert_true(expect_cust > NCUST * 9 / 10 && expect_cust <= NCUST);
    assert_int_equal(scrm_dataset_customer_count(d2), expect_cust);
    assert_int_equal(scrm_dataset_order_count(d1), N);
    assert_int_equal(scrm_dataset_order_count(d2), N);
    int64_t *sum1 = calloc(expect_cust, sizeof *sum1), *sum2 = calloc(expect_cust, sizeof *sum2);
    const scrm_dataset *ds[2] = {d1, d2};
    int64_t *sums[2] = {sum1, sum2};
    for (int d = 0; d < 2; d++)
        for (uint32_t p = 0; p < scrm__dataset_partition_count(ds[d]); p++) {
            scrm__part_view v;
            scrm__dataset_partition(ds[d], p, &v);
            for (uint32_t k = 0; k < v.n_seg; k++)
                for (uint64_t r = 0; r < v.seg[k].n; r++)
                    sums[d][v.gid[v.seg[k].cust[r]]] += v.seg[k].amount[r];
        }
    /* Direct per-key sums from the input, compared through find(). */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t i1, i2;
        assert_int_equal(scrm_dataset_find_u64(&i1, d1, c[i]), SCRM_OK);
        assert_int_equal(scrm_dataset_find_u64(&i2, d2, c[i]), SCRM_OK);
        sum1[i1] -= a[i];
        sum2[i2] -= a[i];
    }
    for (uint64_t g = 0; g < expect_cust; g++) {
        assert_int_equal(sum1[g], 0);
        assert_int_equal(sum2[g], 0);
        uint64_t k;
        uint32_t back;
        assert_int_equal(scrm_dataset_customer_key_u64(&k, d1, (uint32_t)g), SCRM_OK);
        assert_int_equal(scrm_dataset_find_u64(&back, d1, k), SCRM_OK);
        assert_int_equal(back, g);
    }
    /* Same batches, different thread counts: identical indices. */
    scrm_dataset *d3 = new_ds(SCRM_KEY_U64, 2);
    assert_int_equal(scrm_dataset_append_u64(NULL, d3, N, c, t, a, NULL, NULL), SCRM_OK);
    for (uint64_t g = 0; g < expect_cust; g++) {
        uint64_t k1, k3;
        scrm_dataset_customer_key_u64(&k1, d1, (uint32_t)g);
        scrm_dataset_customer_key_u64(&k3, d3, (uint32_t)g);
        assert_true(k1 == k3);
    }
    /* Key ranks sort the keys numerically. */
    uint32_t *rank = NULL;
    assert_int_equal(scrm__dataset_key_ranks(&rank, d1, 1), SCRM_OK);
    uint64_t *by_rank = malloc(expect_cust * sizeof *by_rank);
    for (uint64_t g = 0; g < expect_cust; g++)
        scrm_dataset_customer_key_u64(&by_rank[rank[g]], d1, (uint32_t)g);
    for (uint64_t r = 1; r < expect_cust; r++)
        assert_true(by_rank[r - 1] < by_rank[r]);
    scrm__free(rank);
    free(by_rank);
    free(sum1);
    free(sum2);
    scrm_dataset_free(d1);
    scrm_dataset_free(d2);
    scrm_dataset_free(d3);
    free(c);
    free(t);
    free(a);
}

/* Many small appends: rows are added in segments, never moved. Each
 * partition keeps its rows in append order, has few segments (room grows
 * geometrically) and the sums match the input. */
static void test_small_appends_keep_order_in_few_segments(void **state)
{
    (void)state;
    enum { BATCHES = 600, PER = 97, NC = 5000 };
    scrm_dataset *ds = new_ds(SCRM_KEY_U64, 2);
    uint64_t c[PER];
    int64_t t[PER], a[PER];
    int64_t *sum = calloc(NC, sizeof *sum);
    assert_non_null(sum);
    uint64_t x = 7;
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < PER; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            c[i] = (x >> 33) % NC * 0x9e3779b97f4a7c15u; /* spread over the key range */
            t[i] = 1700000000 + (int64_t)b * 1000 + i;  /* increasing in append order */
            a[i] = (int64_t)(x >> 50);
        }
        assert_int_equal(scrm_dataset_append_u64(NULL, ds, PER, c, t, a, NULL, NULL), SCRM_OK);
        for (int i = 0; i < PER; i++) {
            uint32_t g;
            assert_int_equal(scrm_dataset_find_u64(&g, ds, c[i]), SCRM_OK);
            assert_true(g < NC);
            sum[g] += a[i];
        }
    }
    uint64_t rows, custs, max_seg = 0, max_rows = 0;
    view_totals(ds, &rows, &custs);
    assert_int_equal(rows, (uint64_t)BATCHES * PER);
    assert_int_equal(custs, scrm_dataset_customer_count(ds));
    for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        int64_t prev = INT64_MIN;
        for (uint32_t k = 0; k < v.n_seg; k++)
            for (uint64_t r = 0; r < v.seg[k].n; r++) {
                assert_true(v.seg[k].time[r] > prev); /* append order across segments */
                prev = v.seg[k].time[r];
                sum[v.gid[v.seg[k].cust[r]]] -= v.seg[k].amount[r];
            }
        max_seg = v.n_seg > max_seg ? v.n_seg : max_seg;
        max_rows = v.n_rows > max_rows ? v.n_rows : max_rows;
    }
    for (uint32_t g = 0; g < custs; g++)
        assert_int_equal(sum[g], 0);
    /* Room for half the rows again on each new segment: a partition of n
     * rows has at most about log_1.5(n) + 2 segments. */
    assert_true(max_rows >= 60);
    double bound = 2.0;
    for (double r = 1; r < (double)max_rows; r *= 1.5)
        bound += 1;
    assert_true((double)max_seg <= bound);
    free(sum);
    scrm_dataset_free(ds);
}

/* Progress of an append: what the callback saw, and when it cancels. */
typedef struct progress_log {
    int calls;
    int cancel_at; /* call index that returns non-zero; -1 = never */
    uint64_t last_done, total;
    int monotonic;
} progress_log;

static int log_progress(uint64_t done, uint64_t total, void *payload)
{
    progress_log *l = payload;
    if (l->calls == 0 && done != 0)
        l->monotonic = 0;
    if (l->calls > 0 && (done < l->last_done || total != l->total))
        l->monotonic = 0;
    if (done > total)
        l->monotonic = 0;
    l->last_done = done;
    l->total = total;
    return l->calls++ == l->cancel_at;
}

static int append_logged(scrm_dataset *ds, int is_str, uint32_t n, const uint64_t *c,
                         const char *const *sk, const int64_t *t, const int64_t *a,
                         const uint64_t *ok, progress_log *l)
{
    scrm_dataset_append_options o = SCRM_DATASET_APPEND_OPTIONS_INIT;
    o.progress = log_progress;
    o.progress_payload = l;
    uint64_t added = 777;
    int rc = is_str ? scrm_dataset_append_str(&added, ds, n, sk, NULL, t, a, ok, &o)
                    : scrm_dataset_append_u64(&added, ds, n, c, t, a, ok, &o);
    if (rc != SCRM_OK)
        assert_int_equal(added, 777); /* nothing written on failure */
    return rc;
}

/* The callback sees (0, n) first, then non-decreasing progress, (n, n)
 * last; cancelling at any of its calls adds nothing, and the dataset
 * stays usable. */
static void test_append_progress_reports_and_cancels(void **state)
{
    (void)state;
    enum { N0 = 3000, N = 60000 };
    uint64_t *c = malloc(N * sizeof *c), *ok = malloc(N * sizeof *ok);
    int64_t *t = malloc(N * sizeof *t), *a = malloc(N * sizeof *a);
    char (*buf)[24] = malloc(N * sizeof *buf);
    const char **sk = malloc(N * sizeof *sk);
    for (uint32_t i = 0; i < N; i++) {
        c[i] = (uint64_t)(i % 20000) * 0x9e3779b97f4a7c15u + 3;
        snprintf(buf[i], sizeof buf[i], "cust-%u", i % 20000);
        sk[i] = buf[i];
        t[i] = 1700000000 + i;
        a[i] = 100 + i % 7;
        /* some orders of two lines (of one customer: rows i and i - 20000) */
        ok[i] = i % 10 == 9 && i >= 20000 ? i - 20000 : i;
    }
    for (int is_str = 0; is_str < 2; is_str++)
        for (uint32_t threads = 1; threads <= 2; threads++)
            for (int with_ok = 0; with_ok < 2; with_ok++) {
                scrm_dataset *ds = new_ds(is_str ? SCRM_KEY_STRING : SCRM_KEY_U64, threads);
                progress_log l = {.cancel_at = -1, .monotonic = 1};
                assert_int_equal(append_logged(ds, is_str, N0, c, sk, t, a, with_ok ? ok : NULL,
                                               &l),
                                 SCRM_OK);
                uint64_t n0 = scrm_dataset_order_count(ds), c0 = scrm_dataset_customer_count(ds),
                         d0 = scrm_dataset_duplicate_count(ds);
                /* a full run: how many calls, and their shape */
                scrm_dataset *ref = new_ds(is_str ? SCRM_KEY_STRING : SCRM_KEY_U64, threads);
                assert_int_equal(append_logged(ref, is_str, N0, c, sk, t, a, with_ok ? ok : NULL,
                                               &l),
                                 SCRM_OK);
                l = (progress_log){.cancel_at = -1, .monotonic = 1};
                assert_int_equal(append_logged(ref, is_str, N, c, sk, t, a, with_ok ? ok : NULL,
                                               &l),
                                 SCRM_OK);
                assert_true(l.monotonic);
                assert_int_equal(l.total, N);
                assert_int_equal(l.last_done, N);
                assert_true(l.calls >= 3); /* start, some of the planning, end */
                assert_true(l.calls <= 2 + 64);
                int calls = l.calls;
                for (int k = 0; k < calls; k++) {
                    progress_log lc = {.cancel_at = k, .monotonic = 1};
                    assert_int_equal(append_logged(ds, is_str, N, c, sk, t, a,
                                                   with_ok ? ok : NULL, &lc),
                                     SCRM_ECANCELLED);
                    assert_int_equal(lc.calls, k + 1); /* no call after the cancelling one */
                    assert_non_null(strstr(scrm_last_error(), "cancelled"));
                    assert_counts(ds, n0, c0, d0);
                    uint32_t idx;
                    if (is_str)
                        assert_int_equal(scrm_dataset_find_str(&idx, ds, sk[N - 1], -1),
                                         SCRM_ENOTFOUND);
                    else
                        assert_int_equal(scrm_dataset_find_u64(&idx, ds, c[N - 1]),
                                         SCRM_ENOTFOUND);
                }
                l = (progress_log){.cancel_at = -1, .monotonic = 1};
                assert_int_equal(append_logged(ds, is_str, N, c, sk, t, a, with_ok ? ok : NULL,
                                               &l),
                                 SCRM_OK);
                assert_int_equal(scrm_dataset_order_count(ds), scrm_dataset_order_count(ref));
                assert_int_equal(scrm_dataset_customer_count(ds),
                                 scrm_dataset_customer_count(ref));
                assert_int_equal(scrm_dataset_duplicate_count(ds),
                                 scrm_dataset_duplicate_count(ref));
                scrm_dataset_free(ref);
                scrm_dataset_free(ds);
            }
    free(c);
    free(ok);
    free(t);
    free(a);
    free(buf);
    free(sk);
}

static void test_append_options_versions(void **state)
{
    (void)state;
    scrm_dataset_append_options o;
    assert_int_equal(scrm_dataset_append_options_init(&o, SCRM_DATASET_APPEND_OPTIONS_VERSION), SCRM_OK);
    assert_int_equal(o.version, SCRM_DATASET_APPEND_OPTIONS_VERSION);
    assert_null(o.progress);
    assert_null(o.progress_payload);
    assert_int_equal(scrm_dataset_append_options_init(NULL, SCRM_DATASET_APPEND_OPTIONS_VERSION), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_append_options_init(&o, 99), SCRM_EVERSION);
    scrm_dataset *ds = new_ds(SCRM_KEY_AUTO, 1);
    uint64_t c[2] = {1, 2};
    int64_t t[2] = {1700000000, 1700000001}, a[2] = {5, 6};
    o.version = 99;
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c, t, a, NULL, &o), SCRM_EVERSION);
    assert_int_equal(scrm_dataset_order_count(ds), 0);
    assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
    uint64_t added = 0;
    assert_int_equal(scrm_dataset_append_u64(&added, ds, 2, c, t, a, NULL, NULL), SCRM_OK);
    assert_int_equal(added, 2);
    const char *s[1] = {"x"};
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 1, s, NULL, t, a, NULL, NULL),
                     SCRM_EINVAL); /* the dataset has uint64 keys now */
    assert_int_equal(scrm_dataset_append_u64(NULL, NULL, 2, c, t, a, NULL, NULL),
                     SCRM_EINVAL);
    scrm_dataset_free(ds);
}

static void test_string_key_ranks_are_bytewise(void **state)
{
    (void)state;
    scrm_dataset *ds = new_ds(SCRM_KEY_STRING, 0);
    const char *k[] = {"b", "ab", "a", "\xc3\xa9", "B"};
    int64_t t[] = {1, 1, 1, 1, 1}, a[] = {1, 1, 1, 1, 1};
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 5, k, NULL, t, a, NULL, NULL), SCRM_OK);
    uint32_t *rank;
    assert_int_equal(scrm__dataset_key_ranks(&rank, ds, 2), SCRM_OK);
    static const char *want[] = {"B", "a", "ab", "b", "\xc3\xa9"};
    for (int r = 0; r < 5; r++) {
        uint32_t idx;
        assert_int_equal(scrm_dataset_find_str(&idx, ds, want[r], -1), SCRM_OK);
        assert_int_equal(rank[idx], r);
    }
    scrm__free(rank);
    scrm_dataset_free(ds);
}

typedef struct test_key {
    char b[48];
    uint32_t len;
} test_key;

static int cmp_test_key(const void *x, const void *y)
{
    const test_key *a = x, *b = y;
    int c = memcmp(a->b, b->b, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Many keys with long shared prefixes, NUL and high bytes, keys that are
 * prefixes of others: the ranks follow memcmp order, shorter first, as a
 * comparison sort of the same keys says. */
static void test_string_key_ranks_match_a_comparison_sort(void **state)
{
    (void)state;
    enum { N = 6000 };
    test_key *k = calloc(N, sizeof *k);
    const char **ptr = malloc(N * sizeof *ptr);
    uint32_t *len = malloc(N * sizeof *len);
    int64_t *t = malloc(N * sizeof *t), *a = malloc(N * sizeof *a);
    uint64_t x = 99;
    uint32_t n = 0;
    static const char *const prefixes[] = {"", "customer-", "customer-0000", "\xff\xfe",
                                           "a-very-long-shared-prefix-of-32b", "ab"};
    while (n < N) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        const char *pre = prefixes[(x >> 40) % 6];
        uint32_t pl = (uint32_t)strlen(pre), extra = (uint32_t)((x >> 20) % 12);
        test_key key = {{0}, pl + extra};
        memcpy(key.b, pre, pl);
        for (uint32_t j = 0; j < extra; j++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            uint32_t v = (uint32_t)(x >> 56);
            /* NUL, high bytes, digits */
            key.b[pl + j] = (char)(v < 40 ? 0 : v < 80 ? 0xff : '0' + v % 10);
        }
        if (key.len == 0)
            continue;
        int dup = 0; /* keys must be distinct */
        for (uint32_t i = n > 64 ? n - 64 : 0; i < n && !dup; i++)
            dup = k[i].len == key.len && memcmp(k[i].b, key.b, key.len) == 0;
        if (!dup)
            k[n++] = key;
    }
    scrm_dataset *ds = new_ds(SCRM_KEY_STRING, 2);
    for (uint32_t i = 0; i < N; i++) {
        ptr[i] = k[i].b;
        len[i] = k[i].len;
        t[i] = 1700000000;
        a[i] = 1;
    }
    assert_int_equal(scrm_dataset_append_str(NULL, ds, N, ptr, len, t, a, NULL, NULL), SCRM_OK);
    uint32_t *rank;
    assert_int_equal(scrm__dataset_key_ranks(&rank, ds, 2), SCRM_OK);
    qsort(k, N, sizeof *k, cmp_test_key);
    uint32_t distinct = 0;
    for (uint32_t r = 0; r < N; r++) {
        if (r > 0 && cmp_test_key(&k[r - 1], &k[r]) == 0)
            continue; /* a duplicate the window above missed: one customer */
        uint32_t idx;
        assert_int_equal(scrm_dataset_find_str(&idx, ds, k[r].b, k[r].len), SCRM_OK);
        assert_int_equal(rank[idx], distinct);
        distinct++;
    }
    assert_int_equal(distinct, scrm_dataset_customer_count(ds));
    scrm__free(rank);
    scrm_dataset_free(ds);
    free(k);
    free(ptr);
    free(len);
    free(t);
    free(a);
}

/* Fail the Nth allocation for N = 0, 1, ... until the append succeeds; each
 * failure must leave the dataset exactly as it was and leak nothing. Run with
 * "fail once" and "fail always". */
static void check_append_under_failures(int is_str, int with_okeys, int always)
{
    enum { N = 10000 }; /* above the threading threshold, few customers: few allocations */
    static uint64_t c[N];
    static int64_t t[N], a[N];
    static uint64_t ok[N];
    static char sbuf[N][12];
    static const char *sk[N];
    fill_big(c, t, a, N, 60);
    for (uint32_t i = 0; i < N; i++) {
        ok[i] = c[i] * 131 + i % 50; /* lines of few orders, each of one customer */
        snprintf(sbuf[i], sizeof sbuf[i], "k%llu", (unsigned long long)(c[i] % 100003));
        sk[i] = sbuf[i];
    }
    failalloc_install(-1, 0);
    failalloc_live = 0;
    scrm_dataset *ds = new_ds(is_str ? SCRM_KEY_STRING : SCRM_KEY_U64, 2);
    /* A first batch so there is state to preserve. */
    uint64_t added0;
    int rc0 = is_str ? scrm_dataset_append_str(&added0, ds, 1000, sk, NULL, t, a, with_okeys ? ok : NULL, NULL)
                     : scrm_dataset_append_u64(&added0, ds, 1000, c, t, a, with_okeys ? ok : NULL, NULL);
    assert_int_equal(rc0, SCRM_OK);
    uint64_t n0 = scrm_dataset_order_count(ds), c0 = scrm_dataset_customer_count(ds),
             d0 = scrm_dataset_duplicate_count(ds);
    const long live0 = failalloc_live;
    int ok_seen = 0;
    for (long fail_at = 0; fail_at < 10000 && !ok_seen; fail_at++) {
        failalloc_install(fail_at, always);
        uint64_t added = 12345;
        int rc = is_str ? scrm_dataset_append_str(&added, ds, N, sk, NULL, t, a, with_okeys ? ok : NULL, NULL)
                        : scrm_dataset_append_u64(&added, ds, N, c, t, a, with_okeys ? ok : NULL, NULL);
        failalloc_disarm();
        if (rc == SCRM_OK) {
            ok_seen = 1;
            break;
        }
        assert_int_equal(rc, SCRM_ENOMEM);
        assert_int_equal(added, 12345);
        assert_counts(ds, n0, c0, d0);
        /* A failed batch leaves the block count as it was, order-key set
         * slots included (the byte count: test_failed_append_releases_
         * order_key_memory). */
        assert_int_equal(failalloc_live, live0);
        /* Customers of the first batch are found; new ones are not. */
        uint32_t idx;
        if (is_str) {
            assert_int_equal(scrm_dataset_find_str(&idx, ds, sk[0], -1), SCRM_OK);
        } else {
            assert_int_equal(scrm_dataset_find_u64(&idx, ds, c[0]), SCRM_OK);
        }
    }
    assert_true(ok_seen);
    /* The same batch into a fresh dataset gives the same counts. */
    scrm_dataset *ref = new_ds(is_str ? SCRM_KEY_STRING : SCRM_KEY_U64, 1);
    if (is_str) {
        scrm_dataset_append_str(NULL, ref, 1000, sk, NULL, t, a, with_okeys ? ok : NULL, NULL);
        scrm_dataset_append_str(NULL, ref, N, sk, NULL, t, a, with_okeys ? ok : NULL, NULL);
    } else {
        scrm_dataset_append_u64(NULL, ref, 1000, c, t, a, with_okeys ? ok : NULL, NULL);
        scrm_dataset_append_u64(NULL, ref, N, c, t, a, with_okeys ? ok : NULL, NULL);
    }
    assert_int_equal(scrm_dataset_order_count(ds), scrm_dataset_order_count(ref));
    assert_int_equal(scrm_dataset_customer_count(ds), scrm_dataset_customer_count(ref));
    assert_int_equal(scrm_dataset_duplicate_count(ds), scrm_dataset_duplicate_count(ref));
    scrm_dataset_free(ref);
    scrm_dataset_free(ds);
    assert_int_equal(failalloc_live, 0);
    failalloc_uninstall();
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Integer key ranks (a split on the leading byte, then a sort per bucket on
 * the threads) against qsort of the keys, for 1, 2 and 7 threads: keys over
 * the whole uint64 range, small ids (all in one bucket), ids sharing their
 * top bytes, and keys that differ only in the lowest byte or only in the
 * highest one. */
static void test_u64_key_ranks_match_qsort_on_any_threads(void **state)
{
    (void)state;
    enum { N = 5000 };
    uint32_t saved = scrm__key_sort_parallel_min;
    scrm__key_sort_parallel_min = 0; /* the parallel path even for small sets */
    uint64_t *k = malloc(N * sizeof *k), *sorted = malloc(N * sizeof *sorted);
    int64_t *t = calloc(N, sizeof *t), *a = calloc(N, sizeof *a);
    for (int kind = 0; kind < 5; kind++) {
        uint32_t n = kind >= 3 ? 200 : N;
        uint64_t x = 12345;
        for (uint32_t i = 0; i < n; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            k[i] = kind == 0   ? x ^ (x >> 29)                        /* anywhere */
                   : kind == 1 ? 1 + (uint64_t)i * 7919 % N           /* small ids, a permutation */
                   : kind == 2 ? UINT64_C(0xabcd000000000000) | (x >> 20) /* shared top bytes */
                   : kind == 3 ? UINT64_C(0x1234567890abcd00) | i     /* lowest byte only */
                               : (uint64_t)i << 56 | 77;              /* highest byte only */
        }
        memcpy(sorted, k, n * sizeof *k);
        qsort(sorted, n, sizeof *sorted, cmp_u64);
        for (uint32_t i = 1; i < n; i++)
            assert_true(sorted[i - 1] < sorted[i]); /* distinct keys */
        scrm_dataset *ds = new_ds(SCRM_KEY_U64, 1);
        assert_int_equal(scrm_dataset_append_u64(NULL, ds, n, k, t, a, NULL, NULL), SCRM_OK);
        static const uint32_t threads[] = {1, 2, 7};
        for (int j = 0; j < 3; j++) {
            print_message("kind %d, %u threads\n", kind, threads[j]);
            uint32_t *rank = NULL;
            assert_int_equal(scrm__dataset_key_ranks(&rank, ds, threads[j]), SCRM_OK);
            for (uint32_t g = 0; g < n; g++) {
                uint64_t key = 0;
                assert_int_equal(scrm_dataset_customer_key_u64(&key, ds, g), SCRM_OK);
                assert_true(rank[g] < n);
                assert_true(sorted[rank[g]] == key);
            }
            scrm__free(rank);
        }
        scrm_dataset_free(ds);
    }
    scrm__key_sort_parallel_min = saved;
    free(k);
    free(sorted);
    free(t);
    free(a);
}

static void test_append_is_atomic_under_allocation_failure(void **state)
{
    (void)state;
    for (int is_str = 0; is_str < 2; is_str++)
        for (int okeys = 0; okeys < 2; okeys++)
            for (int always = 0; always < 2; always++)
                check_append_under_failures(is_str, okeys, always);
}

/* A failed append with order keys gives back the order-key sets it grew or
 * created: block and byte counts as before it, whatever allocation fails.
 * The batch has no new customer (every other structure it grows is undone
 * anyway), so the order-key sets are the only memory that could stay. The
 * first batch carries order keys (the sets exist and must grow back to
 * their old size) or none (the sets are created, then freed). */
static void check_okey_memory_under_failures(int first_okeys, int always)
{
    enum { N0 = 2000, N = 20000, NCUST = 60 };
    static uint64_t c[N], ok[N];
    static int64_t t[N], a[N];
    fill_big(c, t, a, N, NCUST);
    for (uint32_t i = 0; i < N; i++)
        ok[i] = (uint64_t)i * 7919 + 1; /* distinct: the second batch is all new keys */
    failalloc_install(-1, 0);
    failalloc_live = 0;
    failalloc_bytes = 0;
    scrm_dataset *ds = new_ds(SCRM_KEY_U64, 2);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, N0, c, t, a, first_okeys ? ok : NULL, NULL),
                     SCRM_OK);
    assert_int_equal(scrm_dataset_customer_count(ds), NCUST);
    const long live0 = failalloc_live, bytes0 = failalloc_bytes;
    int ok_seen = 0, failures = 0;
    for (long fail_at = 0; fail_at < 100000 && !ok_seen; fail_at++) {
        failalloc_install(fail_at, always);
        int rc = scrm_dataset_append_u64(NULL, ds, N - N0, c + N0, t + N0, a + N0, ok + N0, NULL);
        failalloc_disarm();
        if (rc == SCRM_OK) {
            ok_seen = 1;
            break;
        }
        failures++;
        assert_int_equal(rc, SCRM_ENOMEM);
        assert_counts(ds, N0, NCUST, 0);
        assert_int_equal(failalloc_live, live0);
        assert_int_equal(failalloc_bytes, bytes0);
    }
    assert_true(ok_seen);
    assert_true(failures > 3);
    assert_counts(ds, N, NCUST, 0);
    assert_true(failalloc_bytes > bytes0); /* the sets did grow (the check can fail) */
    /* the restored sets still de-duplicate: the whole batch again adds nothing */
    uint64_t added = 12345;
    assert_int_equal(scrm_dataset_append_u64(&added, ds, N, c, t, a, ok, NULL), SCRM_OK);
    assert_int_equal(added, first_okeys ? 0 : N0);
    scrm_dataset_free(ds);
    assert_int_equal(failalloc_live, 0);
    assert_int_equal(failalloc_bytes, 0);
    failalloc_uninstall();
}

static void test_failed_append_releases_order_key_memory(void **state)
{
    (void)state;
    for (int first_okeys = 0; first_okeys < 2; first_okeys++)
        for (int always = 0; always < 2; always++)
            check_okey_memory_under_failures(first_okeys, always);
}

static void test_new_under_allocation_failure(void **state)
{
    (void)state;
    for (int always = 0; always <= 1; always++)
        for (long n = 0;; n++) {
            failalloc_install(n, always);
            failalloc_live = 0;
            scrm_dataset *ds = FAILALLOC_SENTINEL(scrm_dataset);
            int rc = scrm_dataset_new(&ds, NULL);
            failalloc_disarm();
            if (rc == SCRM_OK) {
                assert_true(n > 0);
                assert_int_equal(scrm_dataset_customer_count(ds), 0);
                scrm_dataset_free(ds);
                assert_int_equal(failalloc_live, 0);
                break;
            }
            assert_int_equal(rc, SCRM_ENOMEM);
            assert_ptr_equal(ds, FAILALLOC_SENTINEL(scrm_dataset));
            assert_int_equal(failalloc_live, 0);
        }
    failalloc_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_init_and_versions),
        cmocka_unit_test(test_empty_dataset),
        cmocka_unit_test(test_u64_keys_are_interned_to_dense_indices),
        cmocka_unit_test(test_string_keys_with_and_without_lengths),
        cmocka_unit_test(test_bad_row_adds_nothing_and_names_the_row),
        cmocka_unit_test(test_order_lines_merge_and_redeliveries_are_skipped),
        cmocka_unit_test(test_order_lines_merge_without_amounts),
        cmocka_unit_test(test_order_lines_of_two_customers_are_an_error),
        cmocka_unit_test(test_order_lines_merge_across_batches_of_a_transaction),
        cmocka_unit_test(test_order_key_from_string_is_stable),
        cmocka_unit_test(test_large_batches_are_deterministic_across_threads),
        cmocka_unit_test(test_small_appends_keep_order_in_few_segments),
        cmocka_unit_test(test_append_progress_reports_and_cancels),
        cmocka_unit_test(test_append_options_versions),
        cmocka_unit_test(test_string_key_ranks_are_bytewise),
        cmocka_unit_test(test_string_key_ranks_match_a_comparison_sort),
        cmocka_unit_test(test_u64_key_ranks_match_qsort_on_any_threads),
        cmocka_unit_test(test_append_is_atomic_under_allocation_failure),
        cmocka_unit_test(test_failed_append_releases_order_key_memory),
        cmocka_unit_test(test_new_under_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
