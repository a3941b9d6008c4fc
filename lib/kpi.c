/* Shop KPIs over a time window or per calendar period, and survey scores
 * (NPS, CSAT).
 *
 * The pass reads the dataset partition by partition (every order of a
 * customer is in one partition), so per-customer state lives in partition-
 * local scratch and only per-row totals leave the worker. Totals are
 * integers (money in 128-bit accumulators, so no intermediate overflow can
 * depend on the summation order): the result does not depend on the thread
 * count. See "the window engine" below.
 *
 * The time between purchases needs every purchase interval (for the exact
 * median). A partition of n rows has fewer than n intervals, so the interval
 * array is allocated up front (on the calling thread) with one slot per row;
 * each partition writes its intervals from its first row's offset, in the
 * same pass, while the rows are in cache. The runs are then packed together
 * in partition order. Only the pages written become resident: about 8 bytes
 * per interval (plain malloc, no huge-page advice). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

__extension__ typedef __int128 i128;

struct scrm_kpi {
    int64_t start, end, utc_offset;
    uint32_t flags;                       /* scrm_kpi_flag bits */
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
    [SCRM_KPI_RETAINED_FROM_START] = {"retained_from_start", SCRM_KPI_TYPE_COUNT},
    [SCRM_KPI_RETAINED_FROM_START_SHARE] = {"retained_from_start_share", SCRM_KPI_TYPE_RATIO},
    [SCRM_KPI_REACTIVATED_CUSTOMERS] = {"reactivated_customers", SCRM_KPI_TYPE_COUNT},
};

static const scrm_kpi_options kpi_defaults = SCRM_KPI_OPTIONS_INIT;
/* Struct size of each options version: version 1 ends at progress_payload. */
static const size_t kpi_sizes[] = {
    offsetof(scrm_kpi_options, progress_payload) + sizeof(void *),
    sizeof(scrm_kpi_options),
};
SCRM__OPTIONS_INIT_FN(scrm_kpi_options_init, scrm_kpi_options,
                      kpi_defaults, kpi_sizes, SCRM_KPI_OPTIONS_VERSION)


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


/* ---- the window engine ----
 *
 * One pass computes the KPIs of P consecutive windows, the rows: row p is
 * [B[p], B[p+1]) in local time (time + utc_offset). scrm_kpi_compute() is
 * the case P = 1, scrm_kpi_periods_compute() one row per calendar period.
 * Each row p has its lookback windows: S, customers at its start, have an
 * order in [s_lo[p], B[p]); E, customers at its end, in [e_lo[p], B[p+1]).
 * s_lo and e_lo do not decrease with p (an empty window has its lo at
 * INT64_MAX), so the rows whose S (or E) an order at time t falls in are a
 * contiguous range found by two binary searches, and a customer's sorted
 * orders give ranges in order: their union is a short list of disjoint
 * ranges, counted with difference arrays, and |S ∩ E| is the overlap of the
 * two lists. Per thread, integer totals per row (money in 128 bits) are
 * added in thread order: the result does not depend on the thread count.
 *
 * A partition's relevant rows are gathered by customer (a counting sort on
 * the local id) and each customer's run is put in time order (usually it
 * already is: an order log appended as it happens), so the rows of one
 * window, the purchase intervals and the lookback ranges come from one walk.
 * Intervals (with their row) are written from the partition's row offset
 * in the dataset, then packed in partition order and grouped by row for the
 * exact median. Memory: 8 bytes per row of the dataset for the intervals
 * (12 with more than one row: the row of each interval),
 * per thread 40 bytes per row of the largest partition and about 200 bytes
 * per window. */

typedef struct row_total {
    uint64_t orders, refunds, customers, new_customers, returning, repeat;
    uint64_t e_new; /* customers at the end whose first order is in the row */
    uint64_t intervals;
    i128 order_revenue, refund_amount, new_revenue, returning_revenue, interval_sum;
} row_total;

typedef struct trow {
    int64_t t, a; /* local time, amount */
} trow;

typedef struct range {
    uint32_t lo, hi; /* rows lo..hi, inclusive */
} range;

/* One thread's scratch. */
struct scratch {
    uint64_t *pos;     /* per local customer: run start, then end */
    trow *rows;        /* a partition's relevant rows, grouped by customer */
    range *sr, *er;    /* one customer's S and E ranges */
    row_total *tot;    /* P */
    int64_t *d_s, *d_e, *d_se; /* difference arrays, P + 1 */
};

struct kpi_job {
    const char *fn;
    uint32_t P;
    const int64_t *B;   /* P + 1 row bounds, local */
    const int64_t *s_lo, *e_lo; /* P each */
    int64_t lo_rel, hi_rel; /* rows outside [lo_rel, hi_rel) play no part */
    /* Calendar rows (B at local midnights): lut[d] is the row of day
     * day0 + d, and the lookback windows follow from B and L (0: the
     * period before), so every search below is a look-up. NULL: search. */
    const uint32_t *lut;
    int64_t day0, L;
    int64_t off;
    int64_t *gap;       /* one slot per dataset row: interval lengths ... */
    uint32_t *grow;     /* ... and their rows; partition p's from part_off[p] */
    uint64_t *part_off, *part_cnt;
    row_total *tot;     /* P: the merged totals */
    int64_t *d_s, *d_e, *d_se;
};

/* First index i of a[0..n) with a[i] > x (n if none); a non-decreasing. */
static uint32_t upper(const int64_t *a, uint32_t n, int64_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* upper(B, P + 1, x): the first bound after x. */
static int64_t bound_after(const struct kpi_job *job, int64_t x)
{
    if (!job->lut)
        return upper(job->B, job->P + 1, x);
    if (x < job->B[0])
        return 0;
    if (x >= job->B[job->P])
        return (int64_t)job->P + 1;
    return (int64_t)job->lut[scrm__floor_div(x, 86400) - job->day0] + 1;
}

/* The rows whose S window [s_lo[p], B[p]) and whose E window [e_lo[p],
 * B[p + 1]) hold an order at t: [*s0, *s1] and [*e0, *e1] (empty when the
 * first is larger). With calendar rows s_lo[p] = B[p] - L and e_lo[p] =
 * B[p + 1] - L, or B[p - 1] and B[p] for the period before (L = 0), so the
 * counts of rows whose window starts at or before t are bounds of B too. */
static void lookback_rows(const struct kpi_job *job, int64_t t, int64_t *s0, int64_t *s1,
                          int64_t *e0, int64_t *e1)
{
    const int64_t P = job->P, ub = bound_after(job, t);
    int64_t ns, ne; /* rows whose S (E) window starts at or before t */
    if (!job->lut) {
        ns = upper(job->s_lo, job->P, t);
        ne = upper(job->e_lo, job->P, t);
    } else if (job->L) {
        const int64_t u = bound_after(job, t + job->L);
        ns = u < P ? u : P;
        ne = u - 1 < P ? (u > 0 ? u - 1 : 0) : P;
    } else {
        ns = ub + 1 < P ? ub + 1 : P;
        ne = ub < P ? ub : P;
    }
    *s0 = ub;
    *s1 = ns - 1;
    *e0 = ub > 0 ? ub - 1 : 0;
    *e1 = ne - 1;
}

/* Append rows lo..hi to a list of disjoint ranges given in order. */
static void range_add(range *r, uint32_t *n, int64_t lo, int64_t hi)
{
    if (lo > hi)
        return;
    if (*n && lo <= (int64_t)r[*n - 1].hi + 1) {
        if (hi > r[*n - 1].hi)
            r[*n - 1].hi = (uint32_t)hi;
        return;
    }
    r[*n].lo = (uint32_t)lo;
    r[*n].hi = (uint32_t)hi;
    (*n)++;
}

static int cmp_trow(const void *x, const void *y)
{
    const trow *a = x, *b = y;
    if (a->t != b->t)
        return (a->t > b->t) - (a->t < b->t);
    return (a->a > b->a) - (a->a < b->a);
}

/* Put one customer's run in time order. */
static void sort_run(trow *r, size_t n)
{
    size_t sorted = 1;
    while (sorted < n && r[sorted - 1].t <= r[sorted].t)
        sorted++;
    if (sorted >= n)
        return; /* already in time order */
    if (n <= 16) { /* insertion sort: most customers have few orders */
        for (size_t x = 1; x < n; x++) {
            trow key = r[x];
            size_t y = x;
            for (; y > 0 && cmp_trow(&r[y - 1], &key) > 0; y--)
                r[y] = r[y - 1];
            r[y] = key;
        }
        return;
    }
    qsort(r, n, sizeof *r, cmp_trow);
}

/* Add one row's group of a customer (their rows in window `p`) to the totals. */
static void group_add(const struct kpi_job *job, struct scratch *s, uint32_t p, int64_t first,
                      uint64_t orders, uint64_t refunds, i128 orev, i128 rref)
{
    row_total *t = &s->tot[p];
    t->orders += orders;
    t->refunds += refunds;
    t->order_revenue += orev;
    t->refund_amount += rref;
    if (!orders)
        return; /* refunds only: revenue, but not a customer of the window */
    t->customers++;
    t->repeat += orders >= 2;
    /* The customer has an order in the row, so first < B[p + 1]. */
    if (first >= job->B[p]) {
        t->new_customers++;
        t->new_revenue += orev + rref;
    } else {
        t->returning++;
        t->returning_revenue += orev + rref;
    }
}

/* One customer: rows r[0..n) in time order, first order at `first` (local;
 * INT64_MAX if none). Intervals go to job->gap/grow from *k. */
static void kpi_customer(const struct kpi_job *job, struct scratch *s, const trow *r, size_t n,
                         int64_t first, uint64_t *k)
{
    const uint32_t P = job->P;
    const int64_t *B = job->B, lo_win = B[0], hi_win = B[P];
    uint32_t ns = 0, ne = 0;
    uint32_t cur = UINT32_MAX;
    uint64_t orders = 0, refunds = 0;
    i128 orev = 0, rref = 0;
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t lt = r[i].t, a = r[i].a;
        if (a >= 0) {
            int64_t s0, s1, e0, e1;
            lookback_rows(job, lt, &s0, &s1, &e0, &e1);
            range_add(s->sr, &ns, s0, s1);
            range_add(s->er, &ne, e0, e1);
        }
        if (lt < lo_win || lt >= hi_win)
            continue;
        if (cur == UINT32_MAX || lt >= B[cur + 1]) {
            if (cur != UINT32_MAX)
                group_add(job, s, cur, first, orders, refunds, orev, rref);
            cur = P == 1 ? 0 : (uint32_t)(bound_after(job, lt) - 1);
            orders = refunds = 0;
            orev = rref = 0;
        }
        if (a >= 0) {
            if (orders) {
                const int64_t g = lt - prev;
                job->gap[*k] = g;
                if (job->grow) /* one row: no need to say which */
                    job->grow[*k] = cur;
                (*k)++;
                s->tot[cur].intervals++;
                s->tot[cur].interval_sum += g;
            }
            prev = lt;
            orders++;
            orev += a;
        } else {
            refunds++;
            rref += a;
        }
    }
    if (cur != UINT32_MAX)
        group_add(job, s, cur, first, orders, refunds, orev, rref);

    /* Lookback ranges: counts of S, E and S ∩ E per row, and the new
     * customers among E (the row of the first order, if in E). */
    for (uint32_t i = 0; i < ns; i++) {
        s->d_s[s->sr[i].lo]++;
        s->d_s[s->sr[i].hi + 1]--;
    }
    const uint32_t q =
        first >= lo_win && first < hi_win ? (uint32_t)(bound_after(job, first) - 1) : UINT32_MAX;
    for (uint32_t i = 0, j = 0; i < ne; i++) {
        const range e = s->er[i];
        s->d_e[e.lo]++;
        s->d_e[e.hi + 1]--;
        if (q >= e.lo && q <= e.hi)
            s->tot[q].e_new++;
        for (; j < ns && s->sr[j].hi < e.lo; j++)
            ;
        for (uint32_t x = j; x < ns && s->sr[x].lo <= e.hi; x++) {
            uint32_t lo = s->sr[x].lo > e.lo ? s->sr[x].lo : e.lo;
            uint32_t hi = s->sr[x].hi < e.hi ? s->sr[x].hi : e.hi;
            s->d_se[lo]++;
            s->d_se[hi + 1]--;
        }
    }
}

static int kpi_part(void *ctx, void *scratch, uint32_t p, const scrm__part_view *pv,
                    const scrm__summary *sum)
{
    const struct kpi_job *job = ctx;
    struct scratch *s = scratch;
    const scrm__part_view v = *pv;
    const int64_t off = job->off, lo = job->lo_rel, hi = job->hi_rel;
    uint64_t *pos = s->pos;
    memset(pos, 0, (size_t)v.n_cust * sizeof *pos);
    for (SCRM__EACH_SEG(v, sg))
        for (uint64_t i = 0; i < sg->n; i++) {
            int64_t lt = sg->time[i] + off;
            pos[sg->cust[i]] += lt >= lo && lt < hi;
        }
    uint64_t acc = 0;
    for (uint32_t c = 0; c < v.n_cust; c++) {
        uint64_t n = pos[c];
        pos[c] = acc;
        acc += n;
    }
    for (SCRM__EACH_SEG(v, sg))
        for (uint64_t i = 0; i < sg->n; i++) {
            int64_t lt = sg->time[i] + off;
            if (lt >= lo && lt < hi)
                s->rows[pos[sg->cust[i]]++] = (trow){lt, sg->amount[i]};
        }
    /* Now pos[c] is the end of customer c's run; runs are in local-id order. */
    uint64_t b = 0, k = job->part_off[p];
    for (uint32_t c = 0; c < v.n_cust; c++) {
        const uint64_t e = pos[c];
        if (e > b) {
            const int64_t f = sum->first[v.gid[c]];
            sort_run(s->rows + b, (size_t)(e - b));
            /* local time: stored times and |off| are bounded, no overflow */
            kpi_customer(job, s, s->rows + b, (size_t)(e - b), f == INT64_MIN ? INT64_MAX : f + off,
                         &k);
        }
        b = e;
    }
    job->part_cnt[p] = k - job->part_off[p];
    return SCRM_OK;
}

static int kpi_scratch_new(void *ctx, void *scratch, const scrm__shape *sh)
{
    const struct kpi_job *job = ctx;
    struct scratch *s = scratch;
    size_t nc = sh->max_cust ? sh->max_cust : 1, nr = sh->max_rows ? (size_t)sh->max_rows : 1;
    s->pos = scrm__calloc(nc, sizeof *s->pos);
    s->rows = scrm__calloc(nr, sizeof *s->rows);
    s->sr = scrm__calloc(nr, sizeof *s->sr);
    s->er = scrm__calloc(nr, sizeof *s->er);
    s->tot = scrm__calloc(job->P, sizeof *s->tot);
    s->d_s = scrm__calloc((size_t)job->P + 1, sizeof *s->d_s);
    s->d_e = scrm__calloc((size_t)job->P + 1, sizeof *s->d_e);
    s->d_se = scrm__calloc((size_t)job->P + 1, sizeof *s->d_se);
    if (!s->pos || !s->rows || !s->sr || !s->er || !s->tot || !s->d_s || !s->d_e || !s->d_se)
        return scrm__enomem(job->fn);
    return SCRM_OK;
}

static void kpi_scratch_free(void *ctx, void *scratch)
{
    struct scratch *s = scratch;
    (void)ctx;
    scrm__free(s->pos);
    scrm__free(s->rows);
    scrm__free(s->sr);
    scrm__free(s->er);
    scrm__free(s->tot);
    scrm__free(s->d_s);
    scrm__free(s->d_e);
    scrm__free(s->d_se);
}

/* Thread totals, in thread order (integers: the order cannot change a sum). */
static int kpi_merge(void *ctx, void *scratch, uint32_t thread)
{
    const struct kpi_job *job = ctx;
    const struct scratch *s = scratch;
    (void)thread;
    for (uint32_t p = 0; p < job->P; p++) {
        row_total *d = &job->tot[p];
        const row_total *t = &s->tot[p];
        d->orders += t->orders;
        d->refunds += t->refunds;
        d->customers += t->customers;
        d->new_customers += t->new_customers;
        d->returning += t->returning;
        d->repeat += t->repeat;
        d->e_new += t->e_new;
        d->intervals += t->intervals;
        d->order_revenue += t->order_revenue;
        d->refund_amount += t->refund_amount;
        d->new_revenue += t->new_revenue;
        d->returning_revenue += t->returning_revenue;
        d->interval_sum += t->interval_sum;
    }
    for (uint32_t p = 0; p <= job->P; p++) {
        job->d_s[p] += s->d_s[p];
        job->d_e[p] += s->d_e[p];
        job->d_se[p] += s->d_se[p];
    }
    return SCRM_OK;
}

static int fit_i64(int64_t *out, i128 v, const char *fn, const char *what)
{
    if (v > (i128)INT64_MAX || v < (i128)INT64_MIN)
        return scrm__error(SCRM_EOVERFLOW, -1,
                           "%s: %s of the window does not fit a 64-bit integer", fn, what);
    *out = (int64_t)v;
    return SCRM_OK;
}

static double ratio(double num, double den)
{
    return den != 0.0 ? num / den : NAN;
}

/* The metrics of one row from its totals: x[m * stride] and val[m * stride].
 * iv[0..t->intervals) are the row's intervals (reordered by the median). */
static int row_values(int64_t *x, double *val, size_t stride, const row_total *t, int64_t at_s,
                      int64_t at_e, int64_t se, int64_t *iv, const char *fn)
{
    int err;
#define X(m) x[(size_t)(m) * stride]
#define V(m) val[(size_t)(m) * stride]
    X(SCRM_KPI_ORDERS) = (int64_t)t->orders;
    X(SCRM_KPI_REFUNDS) = (int64_t)t->refunds;
    X(SCRM_KPI_CUSTOMERS) = (int64_t)t->customers;
    X(SCRM_KPI_NEW_CUSTOMERS) = (int64_t)t->new_customers;
    X(SCRM_KPI_RETURNING_CUSTOMERS) = (int64_t)t->returning;
    X(SCRM_KPI_REPEAT_CUSTOMERS) = (int64_t)t->repeat;
    X(SCRM_KPI_CUSTOMERS_AT_START) = at_s;
    X(SCRM_KPI_CUSTOMERS_AT_END) = at_e;
    /* E − N, counted directly: customers at the end acquired before the row */
    X(SCRM_KPI_RETAINED_CUSTOMERS) = at_e - (int64_t)t->e_new;
    X(SCRM_KPI_RETAINED_FROM_START) = se;
    /* a customer of S has an order before the row, so S ∩ E ⊆ E − N */
    X(SCRM_KPI_REACTIVATED_CUSTOMERS) = at_e - (int64_t)t->e_new - se;
    X(SCRM_KPI_PURCHASE_INTERVALS) = (int64_t)t->intervals;
    if ((err = fit_i64(&X(SCRM_KPI_REVENUE), t->order_revenue + t->refund_amount, fn, "revenue")) <
            0 ||
        (err = fit_i64(&X(SCRM_KPI_ORDER_REVENUE), t->order_revenue, fn, "order revenue")) < 0 ||
        (err = fit_i64(&X(SCRM_KPI_REFUND_AMOUNT), t->refund_amount, fn, "refund amount")) < 0 ||
        (err = fit_i64(&X(SCRM_KPI_NEW_REVENUE), t->new_revenue, fn, "new customers' revenue")) <
            0 ||
        (err = fit_i64(&X(SCRM_KPI_RETURNING_REVENUE), t->returning_revenue, fn,
                       "returning customers' revenue")) < 0)
        return err;
    for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++)
        if (metric_info[m].type == SCRM_KPI_TYPE_COUNT || metric_info[m].type == SCRM_KPI_TYPE_MONEY)
            V(m) = (double)X(m);
        else
            X(m) = 0;
    const double orders = V(SCRM_KPI_ORDERS), customers = V(SCRM_KPI_CUSTOMERS);
    const double revenue = V(SCRM_KPI_REVENUE), s = V(SCRM_KPI_CUSTOMERS_AT_START);
    V(SCRM_KPI_AVERAGE_ORDER_VALUE) = ratio(V(SCRM_KPI_ORDER_REVENUE), orders);
    V(SCRM_KPI_PURCHASE_FREQUENCY) = ratio(orders, customers);
    V(SCRM_KPI_REPEAT_RATE) = ratio(V(SCRM_KPI_REPEAT_CUSTOMERS), customers);
    V(SCRM_KPI_REVENUE_PER_CUSTOMER) = ratio(revenue, customers);
    V(SCRM_KPI_NEW_CUSTOMER_SHARE) = ratio(V(SCRM_KPI_NEW_CUSTOMERS), customers);
    V(SCRM_KPI_NEW_REVENUE_SHARE) = ratio(V(SCRM_KPI_NEW_REVENUE), revenue);
    V(SCRM_KPI_RETURNING_REVENUE_SHARE) = ratio(V(SCRM_KPI_RETURNING_REVENUE), revenue);
    /* Customer retention rate CRR = (E - N) / S, the common practitioner
     * formula (the count form of the retention rate of Farris et al.,
     * "Marketing Metrics", 2010; sources in docs/kpi.md); the strict share
     * |S ∩ E| / S leaves the reactivated customers out. */
    V(SCRM_KPI_RETENTION_RATE) = ratio(V(SCRM_KPI_RETAINED_CUSTOMERS), s);
    V(SCRM_KPI_CHURN_RATE) = 1.0 - V(SCRM_KPI_RETENTION_RATE); /* NaN stays NaN */
    V(SCRM_KPI_RETAINED_FROM_START_SHARE) = ratio(V(SCRM_KPI_RETAINED_FROM_START), s);
    /* Intervals are whole seconds: the sum is exact in 128 bits, then one
     * division; the median is one or the mean of two exact middle values. */
    const int64_t n = (int64_t)t->intervals;
    V(SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES) =
        n ? (double)t->interval_sum / (double)n / 86400.0 : NAN;
    if (n) {
        int64_t lo = 0, hi = 0, max = 0;
        for (int64_t i = 0; i < n; i++)
            max = iv[i] > max ? iv[i] : max;
        select_ranks(iv, n, n / 2, max, n % 2 == 0 ? &lo : NULL, &hi);
        double med = n % 2 == 0 ? ((double)lo + (double)hi) / 2.0 : (double)hi;
        V(SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES) = med / 86400.0;
    } else {
        V(SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES) = NAN;
    }
#undef X
#undef V
    return SCRM_OK;
}

/* What the engine is asked: P rows with bounds, lookback windows and
 * output columns (x and val of P x metrics, metric-major with stride P). */
typedef struct engine_in {
    const char *fn;
    const scrm_dataset *ds;
    const scrm_kpi_options *o;
    uint32_t P;
    const int64_t *B, *s_lo, *e_lo;
    int64_t *x;
    double *val;
    const uint32_t *lut; /* calendar rows: day -> row (see kpi_job), or NULL */
    int64_t L;           /* calendar rows: the lookback, 0 = the period before */
} engine_in;

static int run_engine(const engine_in *in)
{
    const uint32_t P = in->P;
    const uint32_t n_parts = scrm__dataset_partition_count(in->ds);
    const uint64_t total_rows = scrm_dataset_order_count(in->ds);
    struct kpi_job job;
    memset(&job, 0, sizeof job);
    int64_t *grouped = NULL;
    uint64_t *row_at = NULL;
    int err;
    job.fn = in->fn;
    job.P = P;
    job.B = in->B;
    job.s_lo = in->s_lo;
    job.e_lo = in->e_lo;
    job.off = in->o->utc_offset;
    job.lo_rel = in->B[0];
    job.lo_rel = in->s_lo[0] < job.lo_rel ? in->s_lo[0] : job.lo_rel;
    job.lo_rel = in->e_lo[0] < job.lo_rel ? in->e_lo[0] : job.lo_rel;
    job.hi_rel = in->B[P];
    job.lut = in->lut;
    job.L = in->L;
    job.day0 = scrm__floor_div(in->B[0], 86400);
    const size_t slots = total_rows ? (size_t)total_rows : 1;
    if (total_rows > SIZE_MAX / sizeof(int64_t) ||
        !(job.gap = scrm__malloc(slots * sizeof *job.gap)) ||
        (P > 1 && !(job.grow = scrm__malloc(slots * sizeof *job.grow))) ||
        !(job.part_off = scrm__calloc(n_parts ? n_parts : 1, sizeof *job.part_off)) ||
        !(job.part_cnt = scrm__calloc(n_parts ? n_parts : 1, sizeof *job.part_cnt)) ||
        !(job.tot = scrm__calloc(P, sizeof *job.tot)) ||
        !(job.d_s = scrm__calloc((size_t)P + 1, sizeof *job.d_s)) ||
        !(job.d_e = scrm__calloc((size_t)P + 1, sizeof *job.d_e)) ||
        !(job.d_se = scrm__calloc((size_t)P + 1, sizeof *job.d_se)) ||
        (P > 1 && !(row_at = scrm__calloc((size_t)P + 1, sizeof *row_at)))) {
        err = scrm__enomem(in->fn);
        goto done;
    }
    for (uint32_t p = 0, off = 0; p < n_parts; p++) {
        scrm__part_view v;
        scrm__dataset_partition(in->ds, p, &v);
        job.part_off[p] = off;
        off += (uint32_t)v.n_rows;
    }
    scrm__run run = {.fn = in->fn, .ds = in->ds, .threads = in->o->threads,
                     .progress = in->o->progress, .payload = in->o->progress_payload,
                     .progress_rows = 1, .want_summary = 1, .utc_offset = 0,
                     .scratch_size = sizeof(struct scratch), .scratch_new = kpi_scratch_new,
                     .scratch_free = kpi_scratch_free, .part = kpi_part, .merge = kpi_merge,
                     .ctx = &job};
    if ((err = scrm__run_partitions(&run)) < 0)
        goto done;

    /* Pack the partitions' intervals together, in partition order. */
    uint64_t n_iv = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        const uint64_t c = job.part_cnt[p], o = job.part_off[p];
        if (c && o != n_iv) {
            memmove(job.gap + n_iv, job.gap + o, (size_t)c * sizeof *job.gap);
            if (job.grow)
                memmove(job.grow + n_iv, job.grow + o, (size_t)c * sizeof *job.grow);
        }
        n_iv += c;
    }
    int64_t *iv = job.gap;
    if (P > 1) { /* group the intervals by row (a counting sort) */
        if (!(grouped = scrm__malloc(n_iv ? (size_t)n_iv * sizeof *grouped : 1))) {
            err = scrm__enomem(in->fn);
            goto done;
        }
        for (uint64_t i = 0; i < n_iv; i++)
            row_at[job.grow[i] + 1]++;
        for (uint32_t p = 0; p < P; p++)
            row_at[p + 1] += row_at[p];
        for (uint64_t i = 0; i < n_iv; i++)
            grouped[row_at[job.grow[i]]++] = job.gap[i];
        iv = grouped; /* row p's now end at row_at[p] */
    }
    int64_t at_s = 0, at_e = 0, se = 0;
    for (uint32_t p = 0, b = 0; p < P; p++) {
        at_s += job.d_s[p];
        at_e += job.d_e[p];
        se += job.d_se[p];
        if ((err = row_values(in->x + p, in->val + p, P, &job.tot[p], at_s, at_e, se, iv + b,
                              in->fn)) < 0)
            goto done;
        b += (uint32_t)job.tot[p].intervals;
    }
    err = SCRM_OK;
done:
    scrm__free(grouped);
    scrm__free(row_at);
    scrm__free(job.gap);
    scrm__free(job.grow);
    scrm__free(job.part_off);
    scrm__free(job.part_cnt);
    scrm__free(job.tot);
    scrm__free(job.d_s);
    scrm__free(job.d_e);
    scrm__free(job.d_se);
    return err;
}

/* Every option check, before any work. */
static int check_options(const scrm_kpi_options *o, const char *fn)
{
    int err;
    if (o->start > o->end)
        return scrm__error(SCRM_EINVAL, -1, "%s: window start %lld is after its end %lld", fn,
                           (long long)o->start, (long long)o->end);
    if ((err = scrm__utc_offset_check(fn, o->utc_offset)) < 0)
        return err;
    if (o->lookback < 0 || o->lookback > SCRM_KPI_MAX_LOOKBACK)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: lookback %lld s is outside 0 (the window's length) .. %lld s "
                           "(100 years)",
                           fn, (long long)o->lookback, (long long)SCRM_KPI_MAX_LOOKBACK);
    return SCRM_OK;
}

static int load_options(scrm_kpi_options *o, const scrm_kpi_options *opts, const char *fn)
{
    int err;
    if ((err = scrm__options_load(o, &kpi_defaults, sizeof *o, opts, kpi_sizes,
                                  SCRM_KPI_OPTIONS_VERSION, fn)) < 0)
        return err;
    return check_options(o, fn);
}

/* t - d, or INT64_MIN when that does not fit. */
static int64_t sub_clamp(int64_t t, int64_t d)
{
    int64_t r;
    return __builtin_sub_overflow(t, d, &r) ? INT64_MIN : r;
}

/* The data's span in local time: [midnight of its first row's day, midnight
 * after its last row's day); *empty when there is no row. */
static void data_span(const scrm_dataset *ds, int64_t off, int64_t *lo, int64_t *hi, int *empty)
{
    int64_t a = 0, b = 0;
    *empty = scrm_dataset_order_count(ds) == 0 || scrm_dataset_time_range(&a, &b, ds) != SCRM_OK;
    *lo = *empty ? 0 : scrm__day(a, off) * 86400;
    *hi = *empty ? 0 : (scrm__day(b, off) + 1) * 86400;
}

/* The flags of a row [b0, b1) whose S window starts at s_lo (INT64_MAX: no
 * S window; INT64_MIN: unbounded below). */
static uint32_t row_flags(int64_t b0, int64_t b1, int64_t s_lo, int64_t span_lo, int64_t span_hi,
                          int empty)
{
    uint32_t f = 0;
    if (empty)
        return 0;
    if (s_lo != INT64_MAX && s_lo != INT64_MIN && s_lo < span_lo)
        f |= SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE;
    if ((b0 != SCRM_KPI_START_ALL && b0 < span_lo) || (b1 != SCRM_KPI_END_ALL && b1 > span_hi))
        f |= SCRM_KPI_FLAG_PARTIAL;
    return f;
}

/* Money metrics (amounts and the shares of revenue) of a dataset without
 * amounts are absent: NaN values and SCRM_KPI_FLAG_NO_AMOUNTS on each of
 * the n rows (value is metric-major: value[m * n + row]). */
static void absent_money(const scrm_dataset *ds, double *value, uint32_t n, uint32_t *flags)
{
    if (scrm_dataset_has_amounts(ds))
        return;
    for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++) {
        int t = metric_info[m].type;
        if (t == SCRM_KPI_TYPE_MONEY || t == SCRM_KPI_TYPE_MONEY_MEAN ||
            m == SCRM_KPI_NEW_REVENUE_SHARE || m == SCRM_KPI_RETURNING_REVENUE_SHARE)
            for (uint32_t i = 0; i < n; i++)
                value[(size_t)m * n + i] = NAN;
    }
    for (uint32_t i = 0; i < n; i++)
        flags[i] |= SCRM_KPI_FLAG_NO_AMOUNTS;
}

SCRM_EXPORT int scrm_kpi_compute(scrm_kpi **out, const scrm_dataset *ds,
                                 const scrm_kpi_options *opts)
{
    static const char fn[] = "scrm_kpi_compute";
    scrm_kpi_options o;
    scrm_kpi *k = NULL;
    int err;

    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "%s: %s is NULL", fn, !out ? "out" : "ds");
    if ((err = load_options(&o, opts, fn)) < 0)
        return err;
    if (!(k = scrm__calloc(1, sizeof *k)))
        return scrm__enomem(fn);

    /* One row, the window. S: an order in [start - L, start), E: in
     * [end - L, end), L = the lookback or, by default, end - start. An
     * unbounded start has nobody at it, an unbounded end neither (an empty
     * window: lo = INT64_MAX); with the default lookback, a bounded start
     * and no end, S is every customer with an order before start. */
    const int sb = o.start != SCRM_KPI_START_ALL, eb = o.end != SCRM_KPI_END_ALL;
    int64_t B[2] = {o.start, o.end}, s_lo = INT64_MAX, e_lo = INT64_MAX;
    if (o.lookback) {
        if (sb)
            s_lo = sub_clamp(o.start, o.lookback);
        if (eb)
            e_lo = sub_clamp(o.end, o.lookback);
    } else {
        if (sb)
        {
            int64_t len;
            s_lo = eb && !__builtin_sub_overflow(o.end, o.start, &len) ? sub_clamp(o.start, len)
                                                                       : INT64_MIN;
        }
        if (eb)
            e_lo = o.start;
    }
    engine_in in = {fn, ds, &o, 1, B, &s_lo, &e_lo, k->exact, k->value, NULL, 0};
    if ((err = run_engine(&in)) < 0)
        goto done;
    int64_t span_lo, span_hi;
    int empty;
    data_span(ds, o.utc_offset, &span_lo, &span_hi, &empty);
    if (!eb) /* no end, no customers at it: no retention (not 0) */
        k->value[SCRM_KPI_RETENTION_RATE] = k->value[SCRM_KPI_CHURN_RATE] =
            k->value[SCRM_KPI_RETAINED_FROM_START_SHARE] = NAN;
    k->flags = row_flags(o.start, o.end, sb ? s_lo : INT64_MAX, span_lo, span_hi, empty);
    absent_money(ds, k->value, 1, &k->flags);
    k->start = o.start;
    k->end = o.end;
    k->utc_offset = o.utc_offset;
    *out = k;
    k = NULL;
done:
    scrm__free(k);
    return err;
}

struct scrm_kpi_periods {
    uint32_t n;
    int unit;
    int64_t first, utc_offset;
    int64_t *exact; /* metric-major: exact[m * n + row] */
    double *value;
    uint32_t *flags;
};

SCRM_EXPORT void scrm_kpi_periods_free(scrm_kpi_periods *r)
{
    if (!r)
        return;
    scrm__free(r->exact);
    scrm__free(r->value);
    scrm__free(r->flags);
    scrm__free(r);
}

/* The period of local time t, which must be a period boundary. */
static int bound_period(int64_t *index, int64_t t, int unit, const char *what, const char *fn)
{
    if (t < SCRM_TIME_MIN || t > SCRM_TIME_MAX + 1)
        return scrm__error(SCRM_ERANGE, -1, "%s: %s %lld is outside years 1..9999", fn, what,
                           (long long)t);
    const int64_t day = scrm__floor_div(t, 86400), p = scrm__period_of_day(day, unit);
    if (scrm__period_first_day(p, unit) * 86400 != t) {
        char label[SCRM_PERIOD_LABEL_MAX] = "?";
        scrm_period_label(label, sizeof label, p, unit);
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: %s %lld is not the first instant of a period (it is inside %s)",
                           fn, what, (long long)t, label);
    }
    *index = p;
    return SCRM_OK;
}

SCRM_EXPORT int scrm_kpi_periods_compute(scrm_kpi_periods **out, const scrm_dataset *ds,
                                         int unit, const scrm_kpi_options *opts)
{
    static const char fn[] = "scrm_kpi_periods_compute";
    scrm_kpi_options o;
    scrm_kpi_periods *r = NULL;
    int64_t *B = NULL, *s_lo = NULL, *e_lo = NULL;
    uint32_t *lut = NULL;
    int err;

    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "%s: %s is NULL", fn, !out ? "out" : "ds");
    if ((err = load_options(&o, opts, fn)) < 0 ||
        (err = scrm__period_check(fn, unit, o.utc_offset)) < 0)
        return err;
    int64_t span_lo, span_hi;
    int empty;
    data_span(ds, o.utc_offset, &span_lo, &span_hi, &empty);
    /* rows: periods p0 .. p1 - 1 */
    int64_t p0 = 0, p1 = 0;
    if (o.start != SCRM_KPI_START_ALL) {
        if ((err = bound_period(&p0, o.start, unit, "start", fn)) < 0)
            return err;
    } else if (!empty) {
        p0 = scrm__period_of_day(scrm__floor_div(span_lo, 86400), unit);
    }
    if (o.end != SCRM_KPI_END_ALL) {
        if ((err = bound_period(&p1, o.end, unit, "end", fn)) < 0)
            return err;
    } else if (!empty) {
        p1 = scrm__period_of_day(scrm__floor_div(span_hi - 1, 86400), unit) + 1;
    }
    if (empty && (o.start == SCRM_KPI_START_ALL || o.end == SCRM_KPI_END_ALL))
        p1 = p0; /* nothing to bound the rows by */
    if (p1 < p0)
        p1 = p0;
    if (p1 - p0 > SCRM_KPI_MAX_PERIODS)
        return scrm__error(SCRM_ERANGE, -1, "%s: %lld periods, more than the %d allowed", fn,
                           (long long)(p1 - p0), SCRM_KPI_MAX_PERIODS);
    const uint32_t P = (uint32_t)(p1 - p0);
    const size_t cells = (size_t)P * SCRM_KPI_METRIC_COUNT;
    if (!(r = scrm__calloc(1, sizeof *r)) ||
        (P && (!(r->exact = scrm__calloc(cells, sizeof *r->exact)) ||
               !(r->value = scrm__calloc(cells, sizeof *r->value)) ||
               !(r->flags = scrm__calloc(P, sizeof *r->flags)) ||
               !(B = scrm__malloc(((size_t)P + 1) * sizeof *B)) ||
               !(s_lo = scrm__malloc((size_t)P * sizeof *s_lo)) ||
               !(e_lo = scrm__malloc((size_t)P * sizeof *e_lo)) ||
               !(lut = scrm__malloc((size_t)(scrm__period_first_day(p1, unit) -
                                             scrm__period_first_day(p0, unit)) *
                                    sizeof *lut))))) {
        err = scrm__enomem(fn);
        goto done;
    }
    r->n = P;
    r->unit = unit;
    r->utc_offset = o.utc_offset;
    r->first = P ? p0 : 0;
    if (P) {
        for (uint32_t p = 0; p <= P; p++)
            B[p] = scrm__period_first_day(p0 + p, unit) * 86400;
        /* Default lookback: S of a row is the period before it, E the row. */
        for (uint32_t p = 0; p < P; p++) {
            s_lo[p] = o.lookback ? B[p] - o.lookback
                      : p ? B[p - 1]
                          : scrm__period_first_day(p0 - 1, unit) * 86400;
            e_lo[p] = o.lookback ? B[p + 1] - o.lookback : B[p];
            r->flags[p] = row_flags(B[p], B[p + 1], s_lo[p], span_lo, span_hi, empty);
            /* the rows of the days of this period */
            for (int64_t d = B[p] / 86400, e = B[p + 1] / 86400, d0 = B[0] / 86400; d < e; d++)
                lut[d - d0] = p;
        }
        engine_in in = {fn, ds, &o, P, B, s_lo, e_lo, r->exact, r->value, lut, o.lookback};
        if ((err = run_engine(&in)) < 0)
            goto done;
        absent_money(ds, r->value, P, r->flags);
    }
    *out = r;
    r = NULL;
    err = SCRM_OK;
done:
    scrm_kpi_periods_free(r);
    scrm__free(lut);
    scrm__free(B);
    scrm__free(s_lo);
    scrm__free(e_lo);
    return err;
}

SCRM__GETTER(uint32_t, scrm_kpi_periods_count, scrm_kpi_periods, n, 0)
SCRM__GETTER(int, scrm_kpi_periods_unit, scrm_kpi_periods, unit, -1)
SCRM__GETTER(int64_t, scrm_kpi_periods_first, scrm_kpi_periods, first, 0)
SCRM__GETTER(uint32_t, scrm_kpi_flags, scrm_kpi, flags, 0)

SCRM_EXPORT const double *scrm_kpi_periods_values(const scrm_kpi_periods *r, int metric)
{
    if (!r || !r->n || metric < 0 || metric >= SCRM_KPI_METRIC_COUNT)
        return NULL;
    return r->value + (size_t)metric * r->n;
}

SCRM_EXPORT const int64_t *scrm_kpi_periods_exact(const scrm_kpi_periods *r, int metric)
{
    if (!r || !r->n || metric < 0 || metric >= SCRM_KPI_METRIC_COUNT ||
        (metric_info[metric].type != SCRM_KPI_TYPE_COUNT &&
         metric_info[metric].type != SCRM_KPI_TYPE_MONEY))
        return NULL;
    return r->exact + (size_t)metric * r->n;
}

SCRM_EXPORT const uint32_t *scrm_kpi_periods_flags(const scrm_kpi_periods *r)
{
    return r && r->n ? r->flags : NULL;
}

/* The ISO 8601 text of a period's first instant (local midnight). */
static void period_bound(scrm__csvout *w, int64_t index, int unit, int64_t off)
{
    char t[SCRM_TIME_TEXT_MAX];
    const int64_t utc = scrm__period_first_day(index, unit) * 86400 - off;
    if (scrm_time_print(t, sizeof t, utc, off, SCRM_TIME_STYLE_ISO8601) == SCRM_OK)
        scrm__csvout_text(w, t, strlen(t));
}

SCRM_EXPORT int scrm_kpi_periods_write_csv(const scrm_kpi_periods *r, const char *path,
                                           uint32_t minor_digits)
{
    static const char fn[] = "scrm_kpi_periods_write_csv";
    scrm__csvout w;
    int err = scrm__csvout_begin(&w, r, path, minor_digits, fn);
    if (err < 0)
        return err;
    static const char head[] = "period,start,end,lookback_incomplete,partial";
    scrm__csvout_put(&w, head, sizeof head - 1);
    for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++) {
        scrm__csvout_ch(&w, ',');
        scrm__csvout_put(&w, metric_info[m].name, strlen(metric_info[m].name));
    }
    scrm__csvout_ch(&w, '\n');
    for (uint32_t i = 0; i < r->n && !err; i++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        if ((err = scrm_period_label(label, sizeof label, r->first + i, r->unit)) < 0)
            break;
        scrm__csvout_text(&w, label, strlen(label));
        scrm__csvout_ch(&w, ',');
        period_bound(&w, r->first + i, r->unit, r->utc_offset);
        scrm__csvout_ch(&w, ',');
        period_bound(&w, r->first + i + 1, r->unit, r->utc_offset);
        scrm__csvout_ch(&w, ',');
        scrm__csvout_ch(&w, r->flags[i] & SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE ? '1' : '0');
        scrm__csvout_ch(&w, ',');
        scrm__csvout_ch(&w, r->flags[i] & SCRM_KPI_FLAG_PARTIAL ? '1' : '0');
        for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++) {
            const size_t c = (size_t)m * r->n + i;
            const int type = metric_info[m].type;
            scrm__csvout_ch(&w, ',');
            if (type == SCRM_KPI_TYPE_COUNT)
                scrm__csvout_i64(&w, r->exact[c]);
            else if (type == SCRM_KPI_TYPE_MONEY && !(r->flags[i] & SCRM_KPI_FLAG_NO_AMOUNTS))
                scrm__csvout_money(&w, r->exact[c], minor_digits);
            else if (type == SCRM_KPI_TYPE_MONEY)
                continue; /* count-only: absent, empty */
            else if (!isfinite(r->value[c]))
                continue; /* undefined: empty */
            else if (type == SCRM_KPI_TYPE_MONEY_MEAN)
                scrm__csvout_double(&w, scrm_money_to_major(r->value[c], minor_digits));
            else
                scrm__csvout_double(&w, r->value[c]);
        }
        scrm__csvout_ch(&w, '\n');
    }
    return scrm__csvout_close(&w, path, err, fn);
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

