/* Shop KPIs over a time window, and survey scores (NPS, CSAT).
 *
 * The window pass reads the dataset partition by partition (every order of a
 * customer is in one partition), so per-customer state lives in a small
 * partition-local scratch array and only per-partition totals leave the
 * worker. Totals are integers (money in 128-bit accumulators, so no
 * intermediate overflow can depend on the summation order) and are merged in
 * partition order: the result does not depend on the thread count.
 *
 * The time between purchases needs every purchase interval (for the exact
 * median). A partition of n rows has fewer than n intervals, so the interval
 * array is allocated up front (on the calling thread) with one slot per row;
 * each worker's range of partitions writes its intervals one after the other
 * from the row offset of its first partition, in the same pass, while the
 * rows are in cache (a customer's window orders gathered by a counting sort
 * on the local id, then sorted by time). The runs are then packed together in
 * partition order. Only the pages written become resident: about 8 bytes per
 * interval (plain malloc, no huge-page advice). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

__extension__ typedef __int128 i128;

struct scrm_kpi {
    int64_t start, end, utc_offset;
    int64_t exact[SCRM_KPI_METRIC_COUNT]; /* counts and money sums */
    double value[SCRM_KPI_METRIC_COUNT];  /* every metric as double */
};

static const struct {
    const char *name;
    int type;
} metric_info[SCRM_KPI_METRIC_COUNT] = {
    [SCRM_KPI_ORDERS] = {"orders", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_REFUNDS] = {"refunds", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_CUSTOMERS] = {"customers", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_NEW_CUSTOMERS] = {"new_customers", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_RETURNING_CUSTOMERS] = {"returning_customers", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_REPEAT_CUSTOMERS] = {"repeat_customers", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_REVENUE] = {"revenue", SCRM_KPI_TYPE_MONEY},
    [SCRM_KPI_ORDER_REVENUE] = {"order_revenue", SCRM_KPI_TYPE_MONEY},
    [SCRM_KPI_REFUND_AMOUNT] = {"refund_amount", SCRM_KPI_TYPE_MONEY},
    [SCRM_KPI_NEW_REVENUE] = {"new_revenue", SCRM_KPI_TYPE_MONEY},
    [SCRM_KPI_RETURNING_REVENUE] = {"returning_revenue", SCRM_KPI_TYPE_MONEY},
    [SCRM_KPI_AVERAGE_ORDER_VALUE] = {"average_order_value", SCRM_KPI_TYPE_MONEY_MEAN},
    [SCRM_KPI_PURCHASE_FREQUENCY] = {"purchase_frequency", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_REPEAT_RATE] = {"repeat_rate", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_REVENUE_PER_CUSTOMER] = {"revenue_per_customer", SCRM_KPI_TYPE_MONEY_MEAN},
    [SCRM_KPI_NEW_CUSTOMER_SHARE] = {"new_customer_share", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_NEW_REVENUE_SHARE] = {"new_revenue_share", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_RETURNING_REVENUE_SHARE] = {"returning_revenue_share", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_CUSTOMERS_AT_START] = {"customers_at_start", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_CUSTOMERS_AT_END] = {"customers_at_end", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_RETAINED_CUSTOMERS] = {"retained_customers", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_RETENTION_RATE] = {"retention_rate", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_CHURN_RATE] = {"churn_rate", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_PURCHASE_INTERVALS] = {"purchase_intervals", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES] = {"mean_days_between_purchases", SCRM_KPI_TYPE_DAYS},
    [SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES] = {"median_days_between_purchases",
                                                SCRM_KPI_TYPE_DAYS},
};

static const scrm_kpi_options kpi_defaults = SCRM_KPI_OPTIONS_INIT;
/* Struct size of each options version: version 1 ends at progress_payload. */
static const size_t kpi_sizes[] = {
    offsetof(scrm_kpi_options, progress_payload) + sizeof(void *),
    sizeof(scrm_kpi_options),
};
SCRM__OPTIONS_INIT_FN(scrm_kpi_options_init, scrm_kpi_options,
                      kpi_defaults, kpi_sizes, SCRM_KPI_OPTIONS_VERSION)

/* Totals of one partition. */
struct part_total {
    uint64_t orders, refunds, customers, new_customers, returning, repeat;
    uint64_t at_start, at_end, retained, intervals;
    i128 revenue, order_revenue, refund_amount, new_revenue, returning_revenue;
    i128 interval_sum;     /* seconds, sum of the purchase intervals */
    int64_t interval_max;  /* the largest interval (0 when none) */
    uint64_t interval_off; /* first slot of this partition in the interval array */
};

/* Per-customer scratch of one worker, sized for the largest partition. */
struct scratch {
    int64_t *first;   /* earliest order time (amount >= 0) in the whole dataset */
    uint64_t *in_win; /* orders in the window */
    uint8_t *group;   /* 0 = no order in window, 1 = new, 2 = returning */
    uint8_t *at;      /* bit 0: customer at start, bit 1: customer at end */
    int64_t *times;   /* window order times of a partition, grouped by customer */
    i128 *wref;       /* refunds in the window */
};

struct kpi_job {
    int64_t start, end, off;
    int64_t s_lo, e_lo; /* lookback windows [s_lo, start) and [e_lo, end) */
    int end_bounded;    /* end is not SCRM_KPI_END_ALL */
    int64_t *intervals; /* one slot per row; partition p writes at totals[p].interval_off */
    struct part_total *totals;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The purchase intervals of one partition, after its first pass: in_win[c]
 * holds the window orders of customer c and is used up as a cursor. Written
 * at job->intervals + t->interval_off; sets t->intervals, t->interval_sum. */
static void kpi_intervals(const struct kpi_job *job, const scrm__part_view *v, struct scratch *s,
                          struct part_total *t)
{
    const int64_t start = job->start, end = job->end, off = job->off;
    uint64_t *pos = s->in_win;
    uint64_t sum = 0;
    for (uint32_t c = 0; c < v->n_cust; c++) {
        uint64_t n = pos[c];
        pos[c] = sum;
        sum += n;
    }
    for (SCRM__EACH_SEG(*v, sg))
        for (uint64_t i = 0; i < sg->n; i++) {
            int64_t lt = sg->time[i] + off;
            if (sg->amount[i] >= 0 && lt >= start && lt < end)
                s->times[pos[sg->cust[i]]++] = lt;
        }
    /* Now pos[c] is the end of customer c's run; runs are in local-id order. */
    int64_t *dst = job->intervals + t->interval_off;
    uint64_t b = 0, k = 0;
    i128 total = 0;
    int64_t imax = 0;
    for (uint32_t c = 0; c < v->n_cust; c++) {
        uint64_t e = pos[c];
        if (e - b >= 2) {
            int64_t *r = s->times + b;
            size_t n = (size_t)(e - b);
            size_t sorted = 1;
            while (sorted < n && r[sorted - 1] <= r[sorted])
                sorted++;
            if (sorted == n) {
                /* already in time order: an order log appended as it happens */
            } else if (n <= 16) { /* insertion sort: most customers have few orders */
                for (size_t x = 1; x < n; x++) {
                    int64_t key = r[x];
                    size_t y = x;
                    for (; y > 0 && r[y - 1] > key; y--)
                        r[y] = r[y - 1];
                    r[y] = key;
                }
            } else {
                qsort(r, n, sizeof *r, cmp_i64);
            }
            for (size_t x = 1; x < n; x++) {
                int64_t gap = r[x] - r[x - 1];
                dst[k++] = gap;
                total += gap;
                imax = gap > imax ? gap : imax;
            }
        }
        b = e;
    }
    t->intervals = k;
    t->interval_sum = total;
    t->interval_max = imax;
}

/* The k-th smallest of a[0..n) (0-based), reordering a: Hoare's selection
 * ("Algorithm 65: FIND", CACM 4(7), 1961) with a median-of-three pivot. */
static int64_t select_kth(int64_t *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
        int64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                int64_t tmp = a[i];
                a[i++] = a[j];
                a[j--] = tmp;
            }
        }
        /* Now a[lo..j] <= pivot <= a[i..hi] and everything between equals pivot. */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* The values of ranks k - 1 (if k > 0 and lo is not NULL) and k, from 0,
 * of a[0..n), all in 0..max: radix selection, as for the RFM quantile
 * edges. One pass makes a histogram of the top 12 bits of the values; only
 * the values of the (at most two) buckets holding the ranks are copied out
 * and selected among with select_kth. Without memory for that copy,
 * select_kth runs on all of a (same values, slower). */
static void select_ranks(int64_t *a, int64_t n, int64_t k, int64_t max, int64_t *lo, int64_t *hi)
{
    enum { W = 12 };
    const int bits = max ? 64 - __builtin_clzll((uint64_t)max) : 1;
    const int sh = bits > W ? bits - W : 0;
    uint64_t cnt[1u << W] = {0};
    for (int64_t i = 0; i < n; i++)
        cnt[(uint64_t)a[i] >> sh]++;
    /* bucket of rank k - 1 (when wanted) and of rank k */
    const int want_lo = lo && k > 0;
    int64_t first = want_lo ? k - 1 : k, before = 0;
    uint32_t b0 = 0;
    while (before + (int64_t)cnt[b0] <= first)
        before += (int64_t)cnt[b0++];
    uint32_t b1 = b0;
    int64_t at_b1 = before;
    while (at_b1 + (int64_t)cnt[b1] <= k)
        at_b1 += (int64_t)cnt[b1++];
    const int64_t m = (int64_t)cnt[b0] + (b1 != b0 ? (int64_t)cnt[b1] : 0);
    int64_t *c = scrm__malloc((size_t)m * sizeof *c);
    if (!c) {
        *hi = select_kth(a, n, k);
        if (want_lo)
            *lo = select_kth(a, n, k - 1);
        return;
    }
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t bucket = (uint64_t)a[i] >> sh;
        if (bucket == b0 || bucket == b1)
            c[j++] = a[i];
    }
    /* c holds the values of ranks before .. before + m - 1, in any order */
    *hi = select_kth(c, m, k - before);
    if (want_lo)
        *lo = select_kth(c, m, k - 1 - before);
    scrm__free(c);
}

static void kpi_partition(const struct kpi_job *job, const scrm__part_view *pv,
                          const scrm__summary *sum, struct scratch *s, struct part_total *t)
{
    const scrm__part_view v = *pv;
    const int64_t start = job->start, end = job->end, off = job->off;

    /* each customer's first order in the whole dataset, from the summary,
     * in local time (times and |off| are bounded: no overflow) */
    for (uint32_t c = 0; c < v.n_cust; c++) {
        const int64_t f = sum->first[v.gid[c]];
        s->first[c] = f == INT64_MIN ? INT64_MAX : f + off;
        s->in_win[c] = 0;
        s->at[c] = 0;
        s->wref[c] = 0;
    }
    uint64_t interval_off = t->interval_off; /* set by begin() */
    memset(t, 0, sizeof *t);
    t->interval_off = interval_off;

    /* Pass 1: each customer's orders in the window and in the lookback
     * windows; window sums. */
    for (SCRM__EACH_SEG(v, sg))
        for (uint64_t i = 0; i < sg->n; i++) {
            uint32_t c = sg->cust[i];
            int64_t lt = sg->time[i] + off, a = sg->amount[i];
            int in = lt >= start && lt < end;
            if (a >= 0) {
                if (lt >= job->s_lo && lt < start)
                    s->at[c] |= 1;
                if (lt >= job->e_lo && lt < end)
                    s->at[c] |= 2;
                if (in) {
                    s->in_win[c]++;
                    t->orders++;
                    t->order_revenue += a;
                }
            } else if (in) {
                t->refunds++;
                t->refund_amount += a;
                s->wref[c] += a;
            }
        }
    t->revenue = t->order_revenue + t->refund_amount;

    /* Classify the customers of the window. A customer with an order in the
     * window has first <= that order's time < end, so first >= start means
     * the first order lies in the window. */
    for (uint32_t c = 0; c < v.n_cust; c++) {
        uint8_t g = 0;
        if (s->at[c] & 1)
            t->at_start++;
        if ((s->at[c] & 2) && job->end_bounded) {
            t->at_end++;
            if (s->first[c] < start)
                t->retained++;
        }
        if (s->in_win[c]) {
            t->customers++;
            if (s->in_win[c] >= 2)
                t->repeat++;
            if (s->first[c] >= start) {
                g = 1;
                t->new_customers++;
            } else {
                g = 2;
                t->returning++;
            }
        }
        s->group[c] = g;
    }

    if (job->start == SCRM_KPI_START_ALL) {
        /* No window start: every customer with a window order is new, so
         * their revenue is every window order plus their own refunds, and
         * no second pass over the rows is needed. */
        t->new_revenue = t->order_revenue;
        for (uint32_t c = 0; c < v.n_cust; c++)
            if (s->in_win[c])
                t->new_revenue += s->wref[c];
        kpi_intervals(job, &v, s, t);
        return;
    }

    /* Pass 2: revenue (refunds included) of each group. */
    for (SCRM__EACH_SEG(v, sg))
        for (uint64_t i = 0; i < sg->n; i++) {
            int64_t lt = sg->time[i] + off;
            if (lt < start || lt >= end)
                continue;
            uint8_t g = s->group[sg->cust[i]];
            if (g == 1)
                t->new_revenue += sg->amount[i];
            else if (g == 2)
                t->returning_revenue += sg->amount[i];
        }

    /* Pass 3: purchase intervals (uses up in_win). */
    kpi_intervals(job, &v, s, t);
}

/* ---- the runner's callbacks ---- */

static int kpi_scratch_new(void *ctx, void *scratch, const scrm__shape *sh)
{
    struct scratch *s = scratch;
    size_t n = sh->max_cust ? sh->max_cust : 1;
    (void)ctx;
    s->first = scrm__calloc(n, sizeof *s->first);
    s->in_win = scrm__calloc(n, sizeof *s->in_win);
    s->group = scrm__calloc(n, sizeof *s->group);
    s->at = scrm__calloc(n, sizeof *s->at);
    s->times = scrm__calloc(sh->max_rows ? (size_t)sh->max_rows : 1, sizeof *s->times);
    s->wref = scrm__calloc(n, sizeof *s->wref);
    if (!s->first || !s->in_win || !s->group || !s->at || !s->times || !s->wref)
        return scrm__enomem("scrm_kpi_compute");
    return SCRM_OK;
}

static void kpi_scratch_free(void *ctx, void *scratch)
{
    struct scratch *s = scratch;
    (void)ctx;
    scrm__free(s->first);
    scrm__free(s->in_win);
    scrm__free(s->group);
    scrm__free(s->at);
    scrm__free(s->times);
    scrm__free(s->wref);
}

static int kpi_part(void *ctx, void *scratch, uint32_t p, const scrm__part_view *v,
                    const scrm__summary *sum)
{
    const struct kpi_job *job = ctx;
    kpi_partition(job, v, sum, scratch, &job->totals[p]);
    return SCRM_OK;
}

static int fit_i64(int64_t *out, i128 v, const char *what)
{
    if (v > (i128)INT64_MAX || v < (i128)INT64_MIN)
        return scrm__error(SCRM_EOVERFLOW, -1,
                           "scrm_kpi_compute: %s of the window does not fit a 64-bit integer",
                           what);
    *out = (int64_t)v;
    return SCRM_OK;
}

static double ratio(double num, double den)
{
    return den != 0.0 ? num / den : NAN;
}

/* Every option check, before any work. */
static int check_options(const scrm_kpi_options *o)
{
    int err;
    if (o->start > o->end)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_kpi_compute: window start %lld is after its end %lld",
                           (long long)o->start, (long long)o->end);
    if ((err = scrm__utc_offset_check("scrm_kpi_compute", o->utc_offset)) < 0)
        return err;
    if (o->lookback < 1 || o->lookback > SCRM_KPI_MAX_LOOKBACK)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_kpi_compute: lookback %lld s is outside 1 .. %lld s (100 years)",
                           (long long)o->lookback, (long long)SCRM_KPI_MAX_LOOKBACK);
    return SCRM_OK;
}

SCRM_EXPORT int scrm_kpi_compute(scrm_kpi **out, const scrm_dataset *ds,
                                 const scrm_kpi_options *opts)
{
    scrm_kpi_options o;
    struct part_total *totals = NULL;
    int64_t *intervals = NULL;
    scrm_kpi *k = NULL;
    int err;

    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_compute: %s is NULL", !out ? "out" : "ds");
    if ((err = scrm__options_load(&o, &kpi_defaults, sizeof o, opts, kpi_sizes,
                                  SCRM_KPI_OPTIONS_VERSION, "scrm_kpi_compute")) < 0 ||
        (err = check_options(&o)) < 0)
        return err;

    /* Every allocation of the result happens here, on the calling thread,
     * before any work; one interval slot per row (see the top of this
     * file), partition p's from its first row's offset. */
    const uint32_t n_parts = scrm__dataset_partition_count(ds);
    uint64_t total_rows = scrm_dataset_order_count(ds);
    k = scrm__calloc(1, sizeof *k);
    totals = scrm__calloc(n_parts ? n_parts : 1, sizeof *totals);
    if (!k || !totals || total_rows > SIZE_MAX / sizeof *intervals ||
        !(intervals = scrm__malloc(total_rows ? (size_t)total_rows * sizeof *intervals : 1))) {
        err = scrm__enomem("scrm_kpi_compute");
        goto done;
    }
    for (uint64_t p = 0, off = 0; p < n_parts; p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, (uint32_t)p, &v);
        totals[p].interval_off = off;
        off += v.n_rows;
    }
    /* Lookback windows [start - L, start) and [end - L, end), clamped so that
     * no subtraction overflows; an unbounded start has no customers at it
     * (the clamped window is empty), an unbounded end none either. */
    struct kpi_job job = {o.start, o.end, o.utc_offset,
                          o.start > INT64_MIN + o.lookback ? o.start - o.lookback : INT64_MIN,
                          o.end > INT64_MIN + o.lookback ? o.end - o.lookback : INT64_MIN,
                          o.end != SCRM_KPI_END_ALL, intervals, totals};
    scrm__run run = {.fn = "scrm_kpi_compute", .ds = ds, .threads = o.threads,
                     .progress = o.progress, .payload = o.progress_payload, .progress_rows = 1,
                     .want_summary = 1, .utc_offset = 0, .scratch_size = sizeof(struct scratch),
                     .scratch_new = kpi_scratch_new, .scratch_free = kpi_scratch_free,
                     .part = kpi_part, .ctx = &job};
    if ((err = scrm__run_partitions(&run)) < 0)
        goto done;

    /* Pack the partitions' intervals together, in partition order. */
    uint64_t n_intervals = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        if (totals[p].intervals && totals[p].interval_off != n_intervals)
            memmove(intervals + n_intervals, intervals + totals[p].interval_off,
                    (size_t)totals[p].intervals * sizeof *intervals);
        n_intervals += totals[p].intervals;
    }

    /* Merge in partition order. */
    struct part_total sum;
    memset(&sum, 0, sizeof sum);
    for (uint32_t p = 0; p < n_parts; p++) {
        const struct part_total *t = &totals[p];
        sum.at_start += t->at_start;
        sum.at_end += t->at_end;
        sum.retained += t->retained;
        sum.intervals += t->intervals;
        sum.interval_sum += t->interval_sum;
        sum.interval_max = t->interval_max > sum.interval_max ? t->interval_max : sum.interval_max;
        sum.orders += t->orders;
        sum.refunds += t->refunds;
        sum.customers += t->customers;
        sum.new_customers += t->new_customers;
        sum.returning += t->returning;
        sum.repeat += t->repeat;
        sum.revenue += t->revenue;
        sum.order_revenue += t->order_revenue;
        sum.refund_amount += t->refund_amount;
        sum.new_revenue += t->new_revenue;
        sum.returning_revenue += t->returning_revenue;
    }

    int64_t *x = k->exact;
    x[SCRM_KPI_ORDERS] = (int64_t)sum.orders;
    x[SCRM_KPI_REFUNDS] = (int64_t)sum.refunds;
    x[SCRM_KPI_CUSTOMERS] = (int64_t)sum.customers;
    x[SCRM_KPI_NEW_CUSTOMERS] = (int64_t)sum.new_customers;
    x[SCRM_KPI_RETURNING_CUSTOMERS] = (int64_t)sum.returning;
    x[SCRM_KPI_REPEAT_CUSTOMERS] = (int64_t)sum.repeat;
    x[SCRM_KPI_CUSTOMERS_AT_START] = (int64_t)sum.at_start;
    x[SCRM_KPI_CUSTOMERS_AT_END] = (int64_t)sum.at_end;
    x[SCRM_KPI_RETAINED_CUSTOMERS] = (int64_t)sum.retained;
    x[SCRM_KPI_PURCHASE_INTERVALS] = (int64_t)sum.intervals;
    if ((err = fit_i64(&x[SCRM_KPI_REVENUE], sum.revenue, "revenue")) < 0 ||
        (err = fit_i64(&x[SCRM_KPI_ORDER_REVENUE], sum.order_revenue, "order revenue")) < 0 ||
        (err = fit_i64(&x[SCRM_KPI_REFUND_AMOUNT], sum.refund_amount, "refund amount")) < 0 ||
        (err = fit_i64(&x[SCRM_KPI_NEW_REVENUE], sum.new_revenue, "new customers' revenue")) < 0 ||
        (err = fit_i64(&x[SCRM_KPI_RETURNING_REVENUE], sum.returning_revenue,
                       "returning customers' revenue")) < 0)
        goto done;

    double *val = k->value;
    for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++)
        if (metric_info[m].type == SCRM_KPI_TYPE_COUNT || metric_info[m].type == SCRM_KPI_TYPE_MONEY)
            val[m] = (double)x[m];
    double orders = val[SCRM_KPI_ORDERS], customers = val[SCRM_KPI_CUSTOMERS];
    double revenue = val[SCRM_KPI_REVENUE];
    val[SCRM_KPI_AVERAGE_ORDER_VALUE] = ratio(val[SCRM_KPI_ORDER_REVENUE], orders);
    val[SCRM_KPI_PURCHASE_FREQUENCY] = ratio(orders, customers);
    val[SCRM_KPI_REPEAT_RATE] = ratio(val[SCRM_KPI_REPEAT_CUSTOMERS], customers);
    val[SCRM_KPI_REVENUE_PER_CUSTOMER] = ratio(revenue, customers);
    val[SCRM_KPI_NEW_CUSTOMER_SHARE] = ratio(val[SCRM_KPI_NEW_CUSTOMERS], customers);
    val[SCRM_KPI_NEW_REVENUE_SHARE] = ratio(val[SCRM_KPI_NEW_REVENUE], revenue);
    val[SCRM_KPI_RETURNING_REVENUE_SHARE] = ratio(val[SCRM_KPI_RETURNING_REVENUE], revenue);
    /* Customer retention rate CRR = (E - N) / S, the common practitioner
     * formula (the count form of the retention rate of Farris et al.,
     * "Marketing Metrics", 2010; sources in docs/kpi.md). E - N is counted
     * directly as the customers at the end acquired before the start. */
    val[SCRM_KPI_RETENTION_RATE] = o.end == SCRM_KPI_END_ALL
                                       ? NAN /* no end, no customers at it */
                                       : ratio(val[SCRM_KPI_RETAINED_CUSTOMERS],
                                               val[SCRM_KPI_CUSTOMERS_AT_START]);
    val[SCRM_KPI_CHURN_RATE] = 1.0 - val[SCRM_KPI_RETENTION_RATE]; /* NaN stays NaN */
    /* Intervals are whole seconds: the sum is exact in 128 bits, then one
     * division; the median is one or the mean of two exact middle values. */
    val[SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES] =
        sum.intervals ? (double)sum.interval_sum / (double)sum.intervals / 86400.0 : NAN;
    if (sum.intervals) {
        int64_t n = (int64_t)sum.intervals, lo = 0, hi = 0;
        select_ranks(intervals, n, n / 2, sum.interval_max, n % 2 == 0 ? &lo : NULL, &hi);
        double med = n % 2 == 0 ? ((double)lo + (double)hi) / 2.0 : (double)hi;
        val[SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES] = med / 86400.0;
    } else {
        val[SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES] = NAN;
    }

    k->start = o.start;
    k->end = o.end;
    k->utc_offset = o.utc_offset;
    *out = k;
    k = NULL;
    err = SCRM_OK;

done:
    scrm__free(intervals);
    scrm__free(totals);
    scrm__free(k);
    return err;
}

SCRM_EXPORT void scrm_kpi_free(scrm_kpi *k)
{
    scrm__free(k);
}

SCRM_EXPORT double scrm_kpi_value(const scrm_kpi *k, int metric)
{
    if (!k || metric < 0 || metric >= SCRM_KPI_METRIC_COUNT)
        return NAN;
    return k->value[metric];
}

SCRM_EXPORT int scrm_kpi_count(int64_t *out, const scrm_kpi *k, int metric)
{
    if (!out || !k)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_count: %s is NULL", !out ? "out" : "k");
    if (metric < 0 || metric >= SCRM_KPI_METRIC_COUNT)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_count: unknown metric %d", metric);
    if (metric_info[metric].type != SCRM_KPI_TYPE_COUNT &&
        metric_info[metric].type != SCRM_KPI_TYPE_MONEY)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_kpi_count: metric %s is not an integer; use scrm_kpi_value()",
                           metric_info[metric].name);
    *out = k->exact[metric];
    return SCRM_OK;
}

SCRM_EXPORT int scrm_kpi_window(int64_t *start_out, int64_t *end_out, const scrm_kpi *k)
{
    if (!k)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_window: k is NULL");
    if (start_out)
        *start_out = k->start;
    if (end_out)
        *end_out = k->end;
    return SCRM_OK;
}

SCRM_EXPORT const char *scrm_kpi_metric_name(int metric)
{
    if (metric < 0 || metric >= SCRM_KPI_METRIC_COUNT)
        return NULL;
    return metric_info[metric].name;
}

SCRM_EXPORT int scrm_kpi_metric_type(int metric)
{
    if (metric < 0 || metric >= SCRM_KPI_METRIC_COUNT)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_metric_type: unknown metric %d", metric);
    return metric_info[metric].type;
}

/* ---- survey scores ---- */

/* Count answers in [lo, hi] (the "good" band) after checking every answer is
 * within [min, max]. */
static int survey_count(uint64_t *good_out, uint64_t *bad_out, const int32_t *scores, uint64_t n,
                        int32_t min, int32_t max, int32_t good_lo, int32_t bad_hi,
                        const char *what)
{
    if (!scores)
        return scrm__error(SCRM_EINVAL, -1, "%s: scores is NULL", what);
    if (n == 0)
        return scrm__error(SCRM_EINVAL, -1, "%s: no answers (n = 0)", what);
    uint64_t good = 0, bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        int32_t s = scores[i];
        if (s < min || s > max)
            return scrm__error(SCRM_ERANGE, (int64_t)i,
                               "%s: answer %llu is %ld, outside the scale %ld..%ld", what,
                               (unsigned long long)i, (long)s, (long)min, (long)max);
        good += s >= good_lo;
        bad += s <= bad_hi;
    }
    *good_out = good;
    *bad_out = bad;
    return SCRM_OK;
}

SCRM_EXPORT int scrm_kpi_nps(double *out, const int32_t *scores, uint64_t n)
{
    uint64_t promoters, detractors;
    int err;
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_nps: out is NULL");
    /* Reichheld (2003): promoters answer 9-10, detractors 0-6, on 0..10. */
    if ((err = survey_count(&promoters, &detractors, scores, n, 0, 10, 9, 6, "scrm_kpi_nps")) < 0)
        return err;
    /* The difference of counts is exact; one division and one rounding. */
    double diff = promoters >= detractors ? (double)(promoters - detractors)
                                          : -(double)(detractors - promoters);
    *out = 100.0 * diff / (double)n;
    return SCRM_OK;
}

SCRM_EXPORT int scrm_kpi_csat(double *out, const int32_t *scores, uint64_t n)
{
    uint64_t satisfied, low;
    int err;
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_csat: out is NULL");
    if ((err = survey_count(&satisfied, &low, scores, n, 1, 5, 4, 3, "scrm_kpi_csat")) < 0)
        return err;
    *out = 100.0 * (double)satisfied / (double)n;
    return SCRM_OK;
}
