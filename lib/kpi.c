/* Shop KPIs over a time window, and survey scores (NPS, CSAT).
 *
 * The window pass reads the dataset partition by partition (every order of a
 * customer is in one partition), so per-customer state lives in a small
 * partition-local scratch array and only per-partition totals leave the
 * worker. Totals are integers (money in 128-bit accumulators, so no
 * intermediate overflow can depend on the summation order) and are merged in
 * partition order: the result does not depend on the thread count. */
#include <math.h>

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
};

static const scrm_kpi_options kpi_defaults = SCRM_KPI_OPTIONS_INIT;
static const size_t kpi_sizes[] = {sizeof(scrm_kpi_options)};

SCRM_EXPORT int scrm_kpi_options_init(scrm_kpi_options *opts, unsigned version)
{
    if (!opts)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_options_init: opts is NULL");
    if (version < 1 || version > SCRM_KPI_OPTIONS_VERSION)
        return scrm__error(SCRM_EVERSION, -1,
                           "scrm_kpi_options_init: options version %u is not known (1..%u)",
                           version, (unsigned)SCRM_KPI_OPTIONS_VERSION);
    memcpy(opts, &kpi_defaults, kpi_sizes[version - 1]);
    opts->version = version;
    return SCRM_OK;
}

/* Totals of one partition. */
struct part_total {
    uint64_t orders, refunds, customers, new_customers, returning, repeat;
    i128 revenue, order_revenue, refund_amount, new_revenue, returning_revenue;
};

/* Per-customer scratch of one worker, sized for the largest partition. */
struct scratch {
    int64_t *first;   /* earliest order time (amount >= 0) in the whole dataset */
    uint64_t *in_win; /* orders in the window */
    uint8_t *group;   /* 0 = no order in window, 1 = new, 2 = returning */
};

struct kpi_job {
    const scrm_dataset *ds;
    int64_t start, end, off;
    uint32_t p_begin; /* partitions of this block: p_begin + [begin, end) */
    struct scratch *scratch;
    struct part_total *totals;
};

static void kpi_partition(const struct kpi_job *job, uint32_t p, struct scratch *s,
                          struct part_total *t)
{
    scrm__part_view v;
    scrm__dataset_partition(job->ds, p, &v);
    const int64_t start = job->start, end = job->end, off = job->off;

    for (uint32_t c = 0; c < v.n_cust; c++) {
        s->first[c] = INT64_MAX;
        s->in_win[c] = 0;
    }
    memset(t, 0, sizeof *t);

    /* Pass 1: each customer's first order and orders in the window; window sums.
     * Order times are within SCRM_TIME_MIN..MAX and |off| is bounded, so
     * time + off cannot overflow. */
    for (uint64_t i = 0; i < v.n_rows; i++) {
        uint32_t c = v.cust[i];
        int64_t lt = v.time[i] + off, a = v.amount[i];
        int in = lt >= start && lt < end;
        if (a >= 0) {
            if (lt < s->first[c])
                s->first[c] = lt;
            if (in) {
                s->in_win[c]++;
                t->orders++;
                t->order_revenue += a;
            }
        } else if (in) {
            t->refunds++;
            t->refund_amount += a;
        }
    }
    t->revenue = t->order_revenue + t->refund_amount;

    /* Classify the customers of the window. A customer with an order in the
     * window has first <= that order's time < end, so first >= start means
     * the first order lies in the window. */
    for (uint32_t c = 0; c < v.n_cust; c++) {
        uint8_t g = 0;
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

    /* Pass 2: revenue (refunds included) of each group. */
    for (uint64_t i = 0; i < v.n_rows; i++) {
        int64_t lt = v.time[i] + off;
        if (lt < start || lt >= end)
            continue;
        uint8_t g = s->group[v.cust[i]];
        if (g == 1)
            t->new_revenue += v.amount[i];
        else if (g == 2)
            t->returning_revenue += v.amount[i];
    }
}

static int kpi_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    const struct kpi_job *job = ctx;
    for (uint32_t i = begin; i < end; i++)
        kpi_partition(job, job->p_begin + i, &job->scratch[thread], &job->totals[job->p_begin + i]);
    return 0;
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

SCRM_EXPORT int scrm_kpi_compute(scrm_kpi **out, const scrm_dataset *ds,
                                 const scrm_kpi_options *opts)
{
    scrm_kpi_options o;
    struct scratch *scratch = NULL;
    struct part_total *totals = NULL;
    scrm_kpi *k = NULL;
    uint32_t threads = 0;
    int err;

    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "scrm_kpi_compute: %s is NULL", !out ? "out" : "ds");
    if ((err = scrm__options_load(&o, &kpi_defaults, sizeof o, opts, kpi_sizes,
                                  SCRM_KPI_OPTIONS_VERSION, "scrm_kpi_compute")) < 0)
        return err;
    if (o.start > o.end)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_kpi_compute: window start %lld is after its end %lld",
                           (long long)o.start, (long long)o.end);
    if (o.utc_offset > SCRM_KPI_MAX_UTC_OFFSET || o.utc_offset < -SCRM_KPI_MAX_UTC_OFFSET)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_kpi_compute: utc_offset %lld s is beyond +-%d s",
                           (long long)o.utc_offset, SCRM_KPI_MAX_UTC_OFFSET);

    uint32_t n_parts = scrm__dataset_partition_count(ds);
    uint32_t max_cust = 0;
    uint64_t total_rows = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        if (v.n_cust > max_cust)
            max_cust = v.n_cust;
        total_rows += v.n_rows;
    }
    threads = o.threads ? o.threads : scrm__dataset_threads(ds);
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (threads > n_parts)
        threads = n_parts ? n_parts : 1;

    /* Every allocation happens here, on the calling thread, before any work. */
    k = scrm__calloc(1, sizeof *k);
    totals = scrm__calloc(n_parts ? n_parts : 1, sizeof *totals);
    scratch = scrm__calloc(threads, sizeof *scratch);
    if (!k || !totals || !scratch) {
        err = scrm__enomem("scrm_kpi_compute");
        goto done;
    }
    for (uint32_t t = 0; t < threads; t++) {
        size_t n = max_cust ? max_cust : 1;
        scratch[t].first = scrm__calloc(n, sizeof *scratch[t].first);
        scratch[t].in_win = scrm__calloc(n, sizeof *scratch[t].in_win);
        scratch[t].group = scrm__calloc(n, sizeof *scratch[t].group);
        if (!scratch[t].first || !scratch[t].in_win || !scratch[t].group) {
            err = scrm__enomem("scrm_kpi_compute");
            goto done;
        }
    }

    struct kpi_job job = {ds, o.start, o.end, o.utc_offset, 0, scratch, totals};
    /* With a progress callback, work in blocks of partitions and report
     * between blocks (from the calling thread only); without, in one go. */
    uint32_t block = n_parts;
    if (o.progress && n_parts > 32)
        block = (n_parts + 31) / 32;
    uint64_t rows_done = 0;
    for (uint32_t b = 0; b < n_parts; b += block) {
        uint32_t nb = n_parts - b < block ? n_parts - b : block;
        job.p_begin = b;
        if ((err = scrm__parallel_for(threads, nb, kpi_range, &job)) < 0)
            goto done;
        if (o.progress) {
            for (uint32_t p = b; p < b + nb; p++) {
                scrm__part_view v;
                scrm__dataset_partition(ds, p, &v);
                rows_done += v.n_rows;
            }
            if (o.progress(rows_done, total_rows, o.progress_payload)) {
                err = scrm__error(SCRM_ECANCELLED, -1, "scrm_kpi_compute: cancelled");
                goto done;
            }
        }
    }

    /* Merge in partition order. */
    struct part_total sum;
    memset(&sum, 0, sizeof sum);
    for (uint32_t p = 0; p < n_parts; p++) {
        const struct part_total *t = &totals[p];
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

    k->start = o.start;
    k->end = o.end;
    k->utc_offset = o.utc_offset;
    *out = k;
    k = NULL;
    err = SCRM_OK;

done:
    if (scratch)
        for (uint32_t t = 0; t < threads; t++) {
            scrm__free(scratch[t].first);
            scrm__free(scratch[t].in_win);
            scrm__free(scratch[t].group);
        }
    scrm__free(scratch);
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

SCRM_EXPORT int scrm_nps(double *out, const int32_t *scores, uint64_t n)
{
    uint64_t promoters, detractors;
    int err;
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_nps: out is NULL");
    /* Reichheld (2003): promoters answer 9-10, detractors 0-6, on 0..10. */
    if ((err = survey_count(&promoters, &detractors, scores, n, 0, 10, 9, 6, "scrm_nps")) < 0)
        return err;
    /* The difference of counts is exact; one division and one rounding. */
    double diff = promoters >= detractors ? (double)(promoters - detractors)
                                          : -(double)(detractors - promoters);
    *out = 100.0 * diff / (double)n;
    return SCRM_OK;
}

SCRM_EXPORT int scrm_csat(double *out, const int32_t *scores, uint64_t n)
{
    uint64_t satisfied, low;
    int err;
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csat: out is NULL");
    if ((err = survey_count(&satisfied, &low, scores, n, 1, 5, 4, 3, "scrm_csat")) < 0)
        return err;
    *out = 100.0 * (double)satisfied / (double)n;
    return SCRM_OK;
}
