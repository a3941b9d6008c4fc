/* The per-customer summary shared by the analyses (lib/internal.h): first
 * and last order, last row, orders, distinct purchase days, revenue of
 * orders and of refunds. Built partition by partition inside an analysis
 * pass (lib/runner.c), while the partition's rows are in cache, and cached
 * on the dataset until the next append.
 *
 * Distinct days in one pass when each customer's orders come in time order
 * (an order log appended as it happens): a customer's day count grows when
 * an order falls on another day than their previous one. An order earlier
 * than the customer's previous one marks the partition unsorted, and its
 * days are then grouped by customer and counted after a sort. */
#include "internal.h"


scrm__summary *scrm__summary_new(uint32_t n, int64_t utc_offset)
{
    scrm__summary *s = scrm__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->utc_offset = utc_offset;
    s->n = n;
    atomic_init(&s->overflow, -1);
    size_t m = n ? n : 1;
    s->first = scrm__big_alloc(m * sizeof *s->first);
    s->last = scrm__big_alloc(m * sizeof *s->last);
    s->orders = scrm__big_alloc(m * sizeof *s->orders);
    s->days = scrm__big_alloc(m * sizeof *s->days);
    s->order_revenue = scrm__big_alloc(m * sizeof *s->order_revenue);
    s->refunds = scrm__big_alloc(m * sizeof *s->refunds);
    if (!s->first || !s->last || !s->orders || !s->days || !s->order_revenue || !s->refunds) {
        scrm__summary_free(s);
        return NULL;
    }
    return s;
}

void scrm__summary_free(scrm__summary *s)
{
    if (!s)
        return;
    scrm__free(s->first);
    scrm__free(s->last);
    scrm__free(s->orders);
    scrm__free(s->days);
    scrm__free(s->order_revenue);
    scrm__free(s->refunds);
    scrm__free(s);
}

/* A customer's running values while their partition is read: one record
 * (56 bytes, within a cache line) rather than eight arrays, so the row loop
 * touches one line per row and keeps its pointers in registers. */
struct scrm__summary_acc {
    int64_t first, last, last_row;
    int64_t pos, neg;  /* sums of the orders and of the refunds */
    uint32_t orders, days;
    int32_t day;       /* the day of the last order so far */
    uint32_t overflow; /* a sum did not fit int64 */
};

int scrm__summary_scratch_new(scrm__summary_scratch *s, uint32_t max_cust, uint64_t max_rows)
{
    size_t c = max_cust ? max_cust : 1, r = max_rows ? (size_t)max_rows : 1;
    memset(s, 0, sizeof *s);
    if (max_rows > UINT32_MAX)
        return scrm__error(SCRM_EINVAL, -1, "a partition has more than 2^32 - 1 orders");
    s->acc = scrm__malloc(c * sizeof *s->acc);
    s->off = scrm__malloc((c + 1) * sizeof *s->off);
    /* the day arrays are needed only by unsorted partitions: allocated
     * here all the same, so that a pass never allocates (plain malloc:
     * pages that are not written stay untouched) */
    s->day = scrm__malloc(r * sizeof *s->day);
    s->tmp = scrm__malloc(r * sizeof *s->tmp);
    if (!s->acc || !s->off || !s->day || !s->tmp) {
        scrm__summary_scratch_free(s);
        return scrm__enomem("per-customer summary");
    }
    return SCRM_OK;
}

void scrm__summary_scratch_free(scrm__summary_scratch *s)
{
    scrm__free(s->acc);
    scrm__free(s->off);
    scrm__free(s->day);
    scrm__free(s->tmp);
    memset(s, 0, sizeof *s);
}

/* Number of distinct values of d[0..k); may reorder d. */
static uint32_t distinct_days(int32_t *d, uint32_t k, uint32_t *tmp)
{
    if (k == 0)
        return 0;
    uint32_t i;
    for (i = 1; i < k && d[i - 1] <= d[i]; i++)
        ;
    if (i < k) {
        if (k <= 32) { /* insertion sort */
            for (uint32_t a = 1; a < k; a++) {
                int32_t x = d[a];
                uint32_t b = a;
                while (b > 0 && d[b - 1] > x) {
                    d[b] = d[b - 1];
                    b--;
                }
                d[b] = x;
            }
        } else { /* LSD radix on the biased days (the bias keeps their order) */
            uint32_t *u = (uint32_t *)d;
            for (uint32_t j = 0; j < k; j++)
                u[j] = (uint32_t)d[j] ^ UINT32_C(0x80000000);
            scrm__radix_sort_u32(u, tmp, k);
            /* equality is what is counted below: the bias need not be undone */
        }
    }
    uint32_t c = 1;
    for (uint32_t j = 1; j < k; j++)
        c += d[j] != d[j - 1];
    return c;
}

/* Days of an unsorted partition: group the order days (of the rows before
 * cut) by customer, count. */
static void days_by_grouping(scrm__summary_scratch *s, const scrm__part_view *v, int64_t off,
                             int64_t cut)
{
    uint32_t nc = v->n_cust, acc = 0;
    for (uint32_t c = 0; c < nc; c++) {
        s->off[c] = acc;
        s->acc[c].days = acc; /* fill cursor */
        acc += s->acc[c].orders;
    }
    s->off[nc] = acc;
    for (SCRM__EACH_SEG(*v, g))
        for (uint64_t i = 0; i < g->n; i++)
            if (g->amount[i] >= 0 && g->time[i] < cut)
                s->day[s->acc[g->cust[i]].days++] = (int32_t)scrm__day_in_range(g->time[i], off);
    for (uint32_t c = 0; c < nc; c++)
        s->acc[c].days = distinct_days(s->day + s->off[c], s->off[c + 1] - s->off[c], s->tmp);
}

/* The summary of the rows with time < cut (INT64_MAX: all rows); returns
 * the number of rows left out. */
static inline __attribute__((always_inline)) uint64_t
summary_part(scrm__summary *sum, scrm__summary_scratch *s, const scrm__part_view *v, int64_t cut)
{
    const uint32_t nc = v->n_cust;
    const int64_t off = sum->utc_offset;
    int sorted = 1;
    uint64_t skipped = 0;
    scrm__summary_acc *restrict acc = s->acc;
    for (uint32_t c = 0; c < nc; c++)
        acc[c] = (scrm__summary_acc){.first = INT64_MAX, .last = INT64_MIN,
                                     .last_row = INT64_MIN, .day = INT32_MIN};
    for (SCRM__EACH_SEG(*v, g)) {
        const uint32_t *cu = g->cust;
        const int64_t *tm = g->time, *am = g->amount;
        for (uint64_t i = 0; i < g->n; i++) {
            scrm__summary_acc *restrict x = &acc[cu[i]];
            const int64_t t = tm[i], a = am[i];
            if (t >= cut) {
                skipped++;
                continue;
            }
            x->last_row = t > x->last_row ? t : x->last_row;
            if (a < 0) {
                x->overflow |= (uint32_t)__builtin_add_overflow(x->neg, a, &x->neg);
                continue;
            }
            x->overflow |= (uint32_t)__builtin_add_overflow(x->pos, a, &x->pos);
            x->orders++;
            x->first = t < x->first ? t : x->first;
            if (t >= x->last) {
                /* in time order: a new day when it differs from the last one's */
                const int32_t d = (int32_t)scrm__day_in_range(t, off);
                x->days += d != x->day;
                x->day = d;
                x->last = t;
            } else {
                sorted = 0;
            }
        }
    }
    if (!sorted)
        days_by_grouping(s, v, off, cut);
    int64_t bad = -1;
    for (uint32_t c = 0; c < nc; c++) {
        const uint32_t g = v->gid[c];
        const scrm__summary_acc *x = &acc[c];
        const int none = x->orders == 0;
        sum->first[g] = none ? INT64_MIN : x->first;
        sum->last[g] = none ? x->last_row : x->last;
        sum->orders[g] = x->orders;
        sum->days[g] = x->days;
        sum->order_revenue[g] = x->pos;
        sum->refunds[g] = x->neg;
        if (x->overflow && (bad < 0 || (int64_t)g < bad))
            bad = g;
    }
    if (bad >= 0) { /* keep the smallest index: the same whatever the thread count */
        int64_t cur = atomic_load(&sum->overflow);
        while ((cur < 0 || bad < cur) &&
               !atomic_compare_exchange_weak(&sum->overflow, &cur, bad))
            ;
    }
    return skipped;
}

void scrm__summary_part(scrm__summary *sum, scrm__summary_scratch *s, const scrm__part_view *v)
{
    summary_part(sum, s, v, INT64_MAX);
}

uint64_t scrm__summary_part_before(scrm__summary *sum, scrm__summary_scratch *s,
                                   const scrm__part_view *v, int64_t cut)
{
    return summary_part(sum, s, v, cut);
}
