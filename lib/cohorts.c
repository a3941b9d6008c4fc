/* Cohort retention matrices (include/shopcrm/cohorts.h).
 *
 * Frame: all periods P0..E (NP of them) that a cohort or an order can fall
 * in, P0 = the first period of a window row or given acquisition time, E =
 * the observation end. Cells (a, k) with a + k < NP are stored per thread in
 * a triangular layout (row a starts at rowoff[a]); they are integers (counts,
 * 128-bit money sums), so adding the per-thread matrices in thread order
 * gives the same result for any thread count.
 *
 * Each worker takes a contiguous block of partitions (all orders of a
 * customer are in one partition). Per partition, periods come from a day ->
 * period lookup table built once for the data's day range (DESIGN.md,
 * "Calendar by lookup table"), and:
 *   - with given acquisition times, or without refunds: one pass over the
 *     rows, taking a customer's first counted row as their acquisition (true
 *     for a time-ordered log); a later row in an earlier period proves it
 *     wrong, and then the rows done so far are undone and
 *   - two passes are made: the period of each row that counts and each
 *     customer's smallest period, then orders and revenue into cell
 *     (cohort, k);
 *   - both set a per-customer bitmap of the periods k with a counted order;
 *     a last pass over the customers adds cohort sizes and distinct active
 *     customers (classic: every set bit; rolling: a histogram of the highest
 *     set bit, turned into suffix sums at the end).
 * No sort of the rows is needed. Revenue is summed in int64 while a bound
 * (rows x largest |amount|) proves no overflow, in 128 bits otherwise. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>

#include "internal.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;


struct scrm_cohorts {
    int unit, refunds, mode;
    uint32_t minor_digits; /* the currency of the revenue (the dataset's) */
    int no_amounts;        /* of a count-only dataset: revenue and ltv are absent */
    int64_t utc_offset, start, end, min_amount;
    int64_t first, obs_end;
    int64_t obs_until; /* observed up to this UTC instant (exclusive); INT64_MAX: unknown */
    uint32_t C, K;
    uint64_t *sizes, *active, *orders;
    int64_t *revenue;
    double *retention, *ltv, *cum_orders;
};

static const scrm_cohorts_options options_default = SCRM_COHORTS_OPTIONS_INIT;
static const size_t options_sizes[] = {sizeof(scrm_cohorts_options)};
SCRM__OPTIONS_INIT_FN(scrm_cohorts_options_init, scrm_cohorts_options,
                      options_default, options_sizes, SCRM_COHORTS_OPTIONS_VERSION)

/* ---- result handle ---- */

SCRM_EXPORT void scrm_cohorts_free(scrm_cohorts *r)
{
    if (!r)
        return;
    scrm__free(r->sizes);
    scrm__free(r->active);
    scrm__free(r->orders);
    scrm__free(r->revenue);
    scrm__free(r->retention);
    scrm__free(r->ltv);
    scrm__free(r->cum_orders);
    scrm__free(r);
}

/* n elements of `size` bytes, zeroed, through scrm__big_alloc (fresh 4 KiB
 * pages are costly on some systems: large matrices ask for huge pages). */
static void *zalloc_big(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    const size_t bytes = n * size;
    void *p = scrm__big_alloc(bytes ? bytes : 1);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* A result with C x K cells, zeroed. */
static scrm_cohorts *result_new(uint32_t C, uint32_t K, const char *fn)
{
    scrm_cohorts *r = scrm__calloc(1, sizeof *r);
    if (!r) {
        scrm__enomem(fn);
        return NULL;
    }
    const size_t cells = (size_t)C * K;
    if (cells) {
        r->sizes = scrm__calloc(C, sizeof *r->sizes);
        r->active = zalloc_big(cells, sizeof *r->active);
        r->orders = zalloc_big(cells, sizeof *r->orders);
        r->revenue = zalloc_big(cells, sizeof *r->revenue);
        r->retention = scrm__big_alloc(cells * sizeof *r->retention);
        r->ltv = scrm__big_alloc(cells * sizeof *r->ltv);
        r->cum_orders = scrm__big_alloc(cells * sizeof *r->cum_orders);
        if (!r->sizes || !r->active || !r->orders || !r->revenue || !r->retention || !r->ltv ||
            !r->cum_orders) {
            scrm_cohorts_free(r);
            scrm__enomem(fn);
            return NULL;
        }
    }
    r->C = C;
    r->K = K;
    return r;
}

/* Ratios of every cell from the counts: NaN when not observable (c + k >= K)
 * or the cohort is empty. */
static void result_ratios(scrm_cohorts *r)
{
    const uint32_t C = r->C, K = r->K;
    for (uint32_t c = 0; c < C; c++) {
        const double size = (double)r->sizes[c];
        i128 rev = 0;
        uint64_t ord = 0;
        for (uint32_t k = 0; k < K; k++) {
            const size_t i = (size_t)c * K + k;
            rev += r->revenue[i];
            ord += r->orders[i];
            if ((uint64_t)c + k >= K || r->sizes[c] == 0) {
                r->retention[i] = r->ltv[i] = r->cum_orders[i] = NAN;
            } else {
                r->retention[i] = (double)r->active[i] / size;
                r->ltv[i] = (double)rev / size;
                r->cum_orders[i] = (double)ord / size;
            }
        }
    }
}

/* ---- computation ---- */

#define ACQ_NONE INT32_MAX

typedef struct scratch {
    int32_t *rp;    /* per row: frame period of a counted row or refund, -1 = ignored */
    int32_t *acq;   /* per customer: frame period of acquisition, ACQ_NONE = not acquired */
    uint64_t *bits; /* per customer: W words, bit k = a counted order in period k */
    /* frame matrices (triangular) */
    uint64_t *orders, *act, *sizes;
    i128 *rev;      /* exact revenue sums */
    int64_t *rev64; /* fast sums, flushed into rev before they could overflow */
    uint64_t budget; /* bound on |any rev64 cell|: sum of rows x max |amount| added since the last flush */
} scratch;

typedef struct job {
    const int32_t *lut;   /* day - day_lo -> frame period */
    int64_t t0;           /* UTC start of day_lo */
    int64_t lo, hi;       /* window rows: lo <= t <= hi */
    int64_t min_amount;
    int refunds, rolling;
    int unit;
    int64_t off, P0;
    uint32_t NP, W;
    const uint64_t *rowoff; /* NP: start of row a in the triangular matrices */
    uint64_t tri;           /* cells of the triangular matrices */
    const int64_t *acq_time; /* given acquisition times (or the summary's first orders) or NULL */
    int use_summary;         /* acquisition = the summary's first order of each customer */
    int64_t acq_lo, acq_hi;  /* given times inside the window: acq_lo <= x <= acq_hi */
    int64_t lut_day_lo, lut_days;
    scratch total;           /* the threads' matrices added up, in thread order */
} job;

/* Frame period of a given acquisition time x (inside the window). */
static int32_t acq_period(const job *j, int64_t x)
{
    const int64_t day = scrm__day(x, j->off);
    if (day >= j->lut_day_lo && day - j->lut_day_lo < j->lut_days)
        return j->lut[day - j->lut_day_lo];
    return (int32_t)(scrm__period_of_day(day, j->unit) - j->P0);
}

/* The rows of one partition into the thread's matrices; revenue into the
 * int64 sums (wide = 0) or the 128-bit ones (wide = 1); one_word: W is 1.
 * Inlined four times. */
static inline __attribute__((always_inline)) void part_rows(const job *j, scratch *s,
                                                            const scrm__part_view *vp,
                                                            const int wide, const int one_word)
{
    const scrm__part_view v = *vp;
    const uint32_t nc = v.n_cust, W = one_word ? 1 : j->W;
    const uint64_t n = v.n_rows;
    const int64_t lo = j->lo, hi = j->hi, t0 = j->t0, min_amount = j->min_amount;
    const int refunds = j->refunds;
    const int32_t *lut = j->lut;
    int32_t *rp = s->rp, *acq = s->acq;

    uint64_t *bits = s->bits;
    memset(bits, 0, (size_t)nc * W * sizeof *bits);
    const uint64_t *rowoff = j->rowoff;
    uint64_t *orders = s->orders;
    i128 *rev128 = s->rev;
    int64_t *rev64 = s->rev64;
#define REV_ADD(cell, a)                                                                       \
    do {                                                                                       \
        if (wide)                                                                              \
            rev128[cell] += (a);                                                               \
        else                                                                                   \
            rev64[cell] += (a);                                                                \
    } while (0)
#define DAY_PERIOD(t) lut[(uint64_t)((t)-t0) / 86400u]
#define ADD_ORDER(c, A, r, a)                                                                  \
    do {                                                                                       \
        const uint32_t k_ = (uint32_t)((r) - (A));                                             \
        const uint64_t cell_ = rowoff[A] + k_;                                                 \
        REV_ADD(cell_, a);                                                                     \
        orders[cell_]++;                                                                       \
        bits[(size_t)(c)*W + (k_ >> 6)] |= UINT64_C(1) << (k_ & 63);                           \
    } while (0)

    if (j->acq_time) {
        /* acquisition known up front: one pass over the rows */
        for (uint32_t c = 0; c < nc; c++) {
            const int64_t x = j->acq_time[v.gid[c]];
            acq[c] = x != INT64_MIN && x >= j->acq_lo && x <= j->acq_hi ? acq_period(j, x)
                                                                       : ACQ_NONE;
        }
        for (SCRM__EACH_SEG(v, g)) {
            const uint32_t *cust = g->cust;
            const int64_t *time = g->time, *amount = g->amount;
            for (uint64_t i = 0; i < g->n; i++) {
                const int64_t t = time[i], a = amount[i];
                if (t < lo || t > hi)
                    continue;
                const uint32_t c = cust[i];
                const int32_t A = acq[c];
                if (a >= min_amount) {
                    const int32_t r = DAY_PERIOD(t);
                    if (r >= A) /* acquired, not before the acquisition period */
                        ADD_ORDER(c, A, r, a);
                } else if (refunds && a < 0) {
                    const int32_t r = DAY_PERIOD(t);
                    if (r >= A)
                        REV_ADD(rowoff[A] + (uint32_t)(r - A), a);
                }
            }
        }
    } else {
        uint64_t done = 0; /* rows handled by the one-pass attempt */
        if (!refunds) {
            /* One pass, assuming each customer's first counted row (in row
             * order) is in their earliest period, as in a time-ordered log.
             * A row in an earlier period proves it wrong: undo and fall back
             * to two passes. */
            for (uint32_t c = 0; c < nc; c++)
                acq[c] = ACQ_NONE;
            uint32_t k = 0; /* the wrong row, if any, is row i of segment k */
            uint64_t i = 0;
            int wrong = 0;
            for (; k < v.n_seg; k++) {
                const uint32_t *cust = v.seg[k].cust;
                const int64_t *time = v.seg[k].time, *amount = v.seg[k].amount;
                for (i = 0; i < v.seg[k].n; i++) {
                    const int64_t t = time[i], a = amount[i];
                    if (t < lo || t > hi || a < min_amount)
                        continue;
                    const int32_t r = DAY_PERIOD(t);
                    const uint32_t c = cust[i];
                    int32_t A = acq[c];
                    if (A == ACQ_NONE)
                        acq[c] = A = r;
                    else if (r < A) {
                        wrong = 1;
                        break;
                    }
                    ADD_ORDER(c, A, r, a);
                }
                if (wrong)
                    break;
            }
            done = n;
            if (wrong) { /* undo the rows before it with the periods they used */
                for (uint32_t q = 0; q <= k; q++) {
                    const uint32_t *cust = v.seg[q].cust;
                    const int64_t *time = v.seg[q].time, *amount = v.seg[q].amount;
                    const uint64_t m = q < k ? v.seg[q].n : i;
                    for (uint64_t u = 0; u < m; u++) {
                        const int64_t t = time[u], a = amount[u];
                        if (t < lo || t > hi || a < min_amount)
                            continue;
                        const int32_t r = DAY_PERIOD(t), A = acq[cust[u]];
                        const uint64_t cell = rowoff[A] + (uint32_t)(r - A);
                        REV_ADD(cell, -(i128)a);
                        orders[cell]--;
                    }
                }
                memset(bits, 0, (size_t)nc * W * sizeof *bits);
                done = 0;
            }
        }
        if (done < n) {
            /* pass 1: the period of each row that counts, and each
             * customer's acquisition period (the smallest) */
            for (uint32_t c = 0; c < nc; c++)
                acq[c] = ACQ_NONE;
            uint64_t base = 0;
            for (SCRM__EACH_SEG(v, g)) {
                const uint32_t *cust = g->cust;
                const int64_t *time = g->time, *amount = g->amount;
                for (uint64_t i = 0; i < g->n; i++) {
                    const int64_t t = time[i], a = amount[i];
                    int32_t r = -1;
                    if (t >= lo && t <= hi) {
                        if (a >= min_amount) {
                            r = DAY_PERIOD(t);
                            const uint32_t c = cust[i];
                            if (r < acq[c])
                                acq[c] = r;
                        } else if (refunds && a < 0) {
                            r = DAY_PERIOD(t);
                        }
                    }
                    rp[base + i] = r;
                }
                base += g->n;
            }
            /* pass 2: cells */
            base = 0;
            for (SCRM__EACH_SEG(v, g)) {
                const uint32_t *cust = g->cust;
                const int64_t *amount = g->amount;
                for (uint64_t i = 0; i < g->n; i++) {
                    const int32_t r = rp[base + i];
                    if (r < 0)
                        continue;
                    const uint32_t c = cust[i];
                    const int32_t A = acq[c];
                    if (r < A) /* not acquired (ACQ_NONE), or before the acquisition period */
                        continue;
                    const int64_t a = amount[i];
                    if (a >= 0)
                        ADD_ORDER(c, A, r, a);
                    else
                        REV_ADD(rowoff[A] + (uint32_t)(r - A), a);
                }
                base += g->n;
            }
        }
    }
#undef ADD_ORDER
#undef DAY_PERIOD
#undef REV_ADD

    /* pass 3 */
    uint64_t *act = s->act, *sizes = s->sizes;
    for (uint32_t c = 0; c < nc; c++) {
        const int32_t A = acq[c];
        if (A == ACQ_NONE)
            continue;
        sizes[A]++;
        const uint64_t *b = bits + (size_t)c * W;
        uint64_t *row = act + rowoff[A];
        if (j->rolling) {
            for (uint32_t w = W; w-- > 0;)
                if (b[w]) {
                    row[w * 64 + 63 - (uint32_t)__builtin_clzll(b[w])]++;
                    break;
                }
        } else {
            for (uint32_t w = 0; w < W; w++)
                for (uint64_t x = b[w]; x; x &= x - 1)
                    row[w * 64 + (uint32_t)__builtin_ctzll(x)]++;
        }
    }
}

/* Add the int64 revenue sums into the exact ones and reset them. */
static void flush_rev64(scratch *s, uint64_t tri)
{
    for (uint64_t i = 0; i < tri; i++) {
        s->rev[i] += s->rev64[i];
        s->rev64[i] = 0;
    }
    s->budget = 0;
}

/* One partition. Revenue goes into int64 sums while no sum can overflow:
 * |a cell| <= rows added x max |amount| since the last flush (the budget);
 * before the budget would pass INT64_MAX the sums are flushed into the
 * 128-bit ones, and a partition whose own bound passes it adds into those
 * directly. Exact either way, and the same sums whatever the thread count. */
static void do_part(const job *j, scratch *s, const scrm__part_view *vp)
{
    const scrm__part_view v = *vp;
    uint64_t maxabs = 0;
    for (SCRM__EACH_SEG(v, g))
        for (uint64_t i = 0; i < g->n; i++) {
            const int64_t a = g->amount[i];
            const uint64_t m = a < 0 ? 0u - (uint64_t)a : (uint64_t)a;
            maxabs = m > maxabs ? m : maxabs;
        }
    const u128 bound = (u128)maxabs * v.n_rows;
    if (bound > (u128)INT64_MAX) {
        if (j->W == 1)
            part_rows(j, s, &v, 1, 1);
        else
            part_rows(j, s, &v, 1, 0);
        return;
    }
    if ((u128)s->budget + bound > (u128)INT64_MAX)
        flush_rev64(s, j->tri);
    s->budget += (uint64_t)bound;
    if (j->W == 1) /* up to 64 periods (monthly cohorts over 5 years): one bitmap word */
        part_rows(j, s, &v, 0, 1);
    else
        part_rows(j, s, &v, 0, 0);
}

/* ---- the runner's callbacks ---- */

static void scratch_release(scratch *s)
{
    scrm__free(s->rp);
    scrm__free(s->acq);
    scrm__free(s->bits);
    scrm__free(s->orders);
    scrm__free(s->act);
    scrm__free(s->sizes);
    scrm__free(s->rev);
    scrm__free(s->rev64);
}

/* The matrices of one thread (rows: rows and customers too when rows_too). */
static int scratch_make(const job *j, scratch *s, const scrm__shape *sh, int rows_too)
{
    if (rows_too) {
        s->rp = scrm__malloc((size_t)(sh->max_rows ? sh->max_rows : 1) * sizeof *s->rp);
        s->acq = scrm__malloc((size_t)(sh->max_cust ? sh->max_cust : 1) * sizeof *s->acq);
        s->bits = scrm__malloc((size_t)(sh->max_cust ? sh->max_cust : 1) * j->W * sizeof *s->bits);
    }
    s->orders = zalloc_big((size_t)j->tri, sizeof *s->orders);
    s->act = zalloc_big((size_t)j->tri, sizeof *s->act);
    s->sizes = scrm__calloc(j->NP, sizeof *s->sizes);
    s->rev = zalloc_big((size_t)j->tri, sizeof *s->rev);
    s->rev64 = zalloc_big((size_t)j->tri, sizeof *s->rev64);
    if ((rows_too && (!s->rp || !s->acq || !s->bits)) || !s->orders || !s->act || !s->sizes ||
        !s->rev || !s->rev64)
        return scrm__enomem("scrm_cohorts_compute");
    return SCRM_OK;
}

static int scratch_new(void *ctx, void *scr, const scrm__shape *sh)
{
    return scratch_make(ctx, scr, sh, 1);
}

static void scratch_free(void *ctx, void *scr)
{
    (void)ctx;
    scratch_release(scr);
}

static int begin(void *ctx, const scrm__summary *sum)
{
    job *j = ctx;
    if (j->use_summary)
        j->acq_time = sum->first; /* INT64_MIN (no order) is "not acquired" */
    return SCRM_OK;
}

static int run_part(void *ctx, void *scr, uint32_t p, const scrm__part_view *v,
                    const scrm__summary *sum)
{
    (void)p;
    (void)sum;
    do_part(ctx, scr, v);
    return SCRM_OK;
}

/* Thread t's matrices into the total, in thread order. */
static int merge(void *ctx, void *scr, uint32_t t)
{
    job *j = ctx;
    scratch *s = scr, *tot = &j->total;
    (void)t;
    flush_rev64(s, j->tri);
    for (uint64_t i = 0; i < j->tri; i++) {
        tot->orders[i] += s->orders[i];
        tot->act[i] += s->act[i];
        tot->rev[i] += s->rev[i];
    }
    for (uint32_t a = 0; a < j->NP; a++)
        tot->sizes[a] += s->sizes[a];
    return SCRM_OK;
}

/* Local period of a time that must be within years 1..9999. */
static int period_of(int64_t *out, int64_t t, int unit, int64_t off, const char *what)
{
    int64_t local;
    if (scrm__add_overflow_i64(t, off, &local) || local < SCRM_TIME_MIN || local > SCRM_TIME_MAX)
        return scrm__error(SCRM_ERANGE, -1,
                           "scrm_cohorts_compute: %s %lld (with utc_offset %lld s) is outside "
                           "years 1..9999",
                           what, (long long)t, (long long)off);
    *out = scrm__period_of_day(scrm__floor_div(local, 86400), unit);
    return SCRM_OK;
}

/* Every option check that needs no data. */
static int check_options(const scrm_cohorts_options *o, const scrm_dataset *ds, const char *fn)
{
    int err;
    if ((err = scrm__period_check(fn, o->unit, o->utc_offset)) != SCRM_OK)
        return err;
    if (o->min_amount < 0)
        return scrm__error(SCRM_EINVAL, -1, "%s: min_amount %lld is negative", fn,
                           (long long)o->min_amount);
    if (o->refunds != 0 && o->refunds != 1)
        return scrm__error(SCRM_EINVAL, -1, "%s: refunds must be 0 or 1, not %d", fn,
                           o->refunds);
    if (o->mode != SCRM_COHORTS_CLASSIC && o->mode != SCRM_COHORTS_ROLLING)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown mode %d", fn, o->mode);
    if (o->start != SCRM_COHORTS_ALL && o->end != SCRM_COHORTS_ALL && o->end <= o->start)
        return scrm__error(SCRM_EINVAL, -1, "%s: window end %lld is not after its start %lld",
                           fn, (long long)o->end, (long long)o->start);
    const uint64_t n_cust = scrm_dataset_customer_count(ds);
    if (o->acquisition && o->acquisition_count != n_cust)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: acquisition_count %u is not the dataset's %llu customers", fn,
                           o->acquisition_count, (unsigned long long)n_cust);
    if (o->acquisition)
        for (uint32_t i = 0; i < o->acquisition_count; i++) {
            const int64_t x = o->acquisition[i];
            int64_t local;
            if (x != INT64_MIN && (scrm__add_overflow_i64(x, o->utc_offset, &local) ||
                                   local < SCRM_TIME_MIN || local > SCRM_TIME_MAX))
                return scrm__error(SCRM_ERANGE, i,
                                   "%s: acquisition time %lld of customer %u (with utc_offset "
                                   "%lld s) is outside years 1..9999",
                                   fn, (long long)x, i, (long long)o->utc_offset);
        }
    return SCRM_OK;
}

/* The frame: periods P0..E; *empty when no cohort can be formed. */
typedef struct frame {
    int64_t lo, hi;       /* window rows: lo <= t <= hi */
    int64_t P0, E;
    int64_t wmin, wmax;   /* time range of the window's rows */
    int64_t until;        /* observed until: scrm_cohorts.obs_until */
    int rows_in_window, empty;
} frame;

static int frame_of(frame *f, const scrm_cohorts_options *o, const scrm_dataset *ds,
                    const char *fn)
{
    int err;
    const int has_start = o->start != SCRM_COHORTS_ALL, has_end = o->end != SCRM_COHORTS_ALL;
    int64_t tmp = 0;
    memset(f, 0, sizeof *f);
    f->E = INT64_MIN;
    if (has_start && (err = period_of(&tmp, o->start, o->unit, o->utc_offset, "window start")))
        return err;
    if (has_end && (err = period_of(&f->E, o->end - 1, o->unit, o->utc_offset, "window end - 1")))
        return err;
    f->lo = has_start ? o->start : INT64_MIN;
    f->hi = has_end ? o->end - 1 : INT64_MAX;

    /* given acquisition times: the extreme ones in the window */
    int64_t acq_min = INT64_MAX, acq_max = INT64_MIN;
    if (o->acquisition)
        for (uint32_t i = 0; i < o->acquisition_count; i++) {
            const int64_t x = o->acquisition[i];
            if (x == INT64_MIN || x < f->lo || x > f->hi)
                continue;
            acq_min = x < acq_min ? x : acq_min;
            acq_max = x > acq_max ? x : acq_max;
        }

    /* rows of the window: their time range */
    int64_t tmin = 0, tmax = 0;
    f->wmin = INT64_MAX;
    f->wmax = INT64_MIN;
    const int have_rows = scrm_dataset_order_count(ds) > 0 &&
                          scrm_dataset_time_range(&tmin, &tmax, ds) == SCRM_OK;
    if (have_rows) {
        f->wmin = tmin > f->lo ? tmin : f->lo;
        f->wmax = tmax < f->hi ? tmax : f->hi;
        if (!has_end && (err = period_of(&tmp, tmax, o->unit, o->utc_offset, "last order time")))
            return err;
        if (!has_end)
            f->E = tmp;
    }
    /* The data is observed to local midnight after the day of its last row
     * (an export covers its last day), and no further than the window end. */
    f->until = has_end ? o->end : INT64_MAX;
    if (have_rows) {
        const int64_t day_after = (scrm__day(tmax, o->utc_offset) + 1) * 86400 - o->utc_offset;
        f->until = day_after < f->until ? day_after : f->until;
    }
    f->rows_in_window = f->wmin <= f->wmax;
    if (f->rows_in_window &&
        ((err = period_of(&tmp, f->wmin, o->unit, o->utc_offset, "order time")) ||
         (err = period_of(&tmp, f->wmax, o->unit, o->utc_offset, "order time"))))
        return err;
    if (!has_end && acq_max != INT64_MIN) {
        period_of(&tmp, acq_max, o->unit, o->utc_offset, "acquisition");
        f->E = tmp > f->E ? tmp : f->E;
    }
    f->P0 = INT64_MAX;
    if (f->rows_in_window)
        f->P0 = scrm__period_of_day(scrm__day(f->wmin, o->utc_offset), o->unit);
    if (acq_min != INT64_MAX) {
        period_of(&tmp, acq_min, o->unit, o->utc_offset, "acquisition");
        f->P0 = tmp < f->P0 ? tmp : f->P0;
    }
    const int anything = o->acquisition ? acq_min != INT64_MAX : f->rows_in_window;
    f->empty = !anything || f->P0 > f->E;
    if (!f->empty && (uint64_t)(f->E - f->P0 + 1) * (uint64_t)(f->E - f->P0 + 1) >
                         SCRM_COHORTS_MAX_CELLS)
        return scrm__error(SCRM_ERANGE, -1,
                           "%s: %llu periods observed: %llu cells is over the limit of %u", fn,
                           (unsigned long long)(f->E - f->P0 + 1),
                           (unsigned long long)((f->E - f->P0 + 1) * (f->E - f->P0 + 1)),
                           (unsigned)SCRM_COHORTS_MAX_CELLS);
    return SCRM_OK;
}

/* Day -> frame period table over the window's rows (walking periods, not
 * days: one civil computation per period). */
static int32_t *period_lut(job *j, const frame *f, const scrm_cohorts_options *o)
{
    const int64_t d_lo = scrm__day(f->wmin, o->utc_offset), d_hi = scrm__day(f->wmax, o->utc_offset);
    const int64_t days = d_hi - d_lo + 1;
    int32_t *lut = scrm__big_alloc((size_t)days * sizeof *lut);
    if (!lut)
        return NULL;
    int64_t pidx = scrm__period_of_day(d_lo, o->unit);
    int64_t next = scrm__period_first_day(pidx + 1, o->unit);
    for (int64_t d = d_lo; d <= d_hi; d++) {
        if (d >= next) {
            pidx++;
            next = scrm__period_first_day(pidx + 1, o->unit);
        }
        lut[d - d_lo] = (int32_t)(pidx - f->P0);
    }
    j->t0 = d_lo * 86400 - o->utc_offset;
    j->lut_day_lo = d_lo;
    j->lut_days = days;
    return lut;
}

/* The result from the added-up frame matrices: the rows from the first to
 * the last non-empty cohort. */
static int assemble(scrm_cohorts **out, const job *j, const scrm_cohorts_options *o,
                    const char *fn)
{
    const scratch *s0 = &j->total;
    const uint32_t NP = j->NP;
    uint32_t c_first = NP, c_last = 0;
    for (uint32_t a = 0; a < NP; a++)
        if (s0->sizes[a]) {
            c_first = a < c_first ? a : c_first;
            c_last = a;
        }
    if (c_first == NP) { /* e.g. only given times, all outside the window */
        *out = result_new(0, 0, fn);
        return *out ? SCRM_OK : SCRM_ENOMEM;
    }
    const uint32_t C = c_last - c_first + 1, K = NP - c_first;
    scrm_cohorts *r = result_new(C, K, fn);
    if (!r)
        return SCRM_ENOMEM;
    r->first = j->P0 + c_first;
    for (uint32_t c = 0; c < C; c++) {
        const uint32_t a = c_first + c, len = NP - a; /* observable cells of the row */
        const uint64_t ro = j->rowoff[a];
        r->sizes[c] = s0->sizes[a];
        if (j->rolling) { /* suffix sums of the last-active histogram */
            uint64_t acc = 0;
            for (uint32_t k = len; k-- > 0;) {
                acc += s0->act[ro + k];
                r->active[(size_t)c * K + k] = acc;
            }
        } else {
            for (uint32_t k = 0; k < len; k++)
                r->active[(size_t)c * K + k] = s0->act[ro + k];
        }
        for (uint32_t k = 0; k < len; k++) {
            const i128 v = s0->rev[ro + k];
            if (v > INT64_MAX || v < INT64_MIN) {
                char lab[SCRM_PERIOD_LABEL_MAX];
                if (scrm_period_label(lab, sizeof lab, j->P0 + a, o->unit) != SCRM_OK)
                    lab[0] = 0;
                scrm_cohorts_free(r);
                return scrm__error(SCRM_EOVERFLOW, -1,
                                   "%s: the revenue of cohort %s, period %u does not fit int64",
                                   fn, lab, k);
            }
            r->revenue[(size_t)c * K + k] = (int64_t)v;
            r->orders[(size_t)c * K + k] = s0->orders[ro + k];
        }
    }
    result_ratios(r);
    *out = r;
    return SCRM_OK;
}

SCRM_EXPORT int scrm_cohorts_compute(scrm_cohorts **out, const scrm_dataset *ds,
                                     const scrm_cohorts_options *opts)
{
    static const char fn[] = "scrm_cohorts_compute";
    scrm_cohorts_options o;
    frame f;
    int err;
    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL %s", fn, !out ? "out" : "dataset");
    if ((err = scrm__options_load(&o, &options_default, sizeof o, opts, options_sizes,
                                  SCRM_COHORTS_OPTIONS_VERSION, fn)) < 0 ||
        (err = check_options(&o, ds, fn)) < 0 || (err = frame_of(&f, &o, ds, fn)) < 0)
        return err;

    scrm_cohorts *r = NULL;
    int32_t *lut = NULL;
    uint64_t *rowoff = NULL;
    job j;
    memset(&j, 0, sizeof j);
    if (!f.empty) {
        const uint64_t NP64 = (uint64_t)(f.E - f.P0) + 1;
        const uint32_t NP = (uint32_t)NP64;
        j.NP = NP;
        j.W = (NP + 63) / 64;
        j.tri = NP64 * (NP64 + 1) / 2;
        j.P0 = f.P0;
        j.lo = f.lo;
        j.hi = f.hi;
        j.min_amount = o.min_amount;
        j.refunds = o.refunds;
        j.rolling = o.mode == SCRM_COHORTS_ROLLING;
        j.unit = o.unit;
        j.off = o.utc_offset;
        j.acq_time = o.acquisition;
        j.acq_lo = f.lo;
        j.acq_hi = f.hi;
        /* Without given times, a customer's acquisition is their first
         * counted order in the window: with no window start and every
         * order counted (min_amount 0), that is the first order of the
         * shared per-customer summary, and one pass over the rows does. */
        j.use_summary = !o.acquisition && o.start == SCRM_COHORTS_ALL && o.min_amount == 0;
        rowoff = scrm__malloc((size_t)NP * sizeof *rowoff);
        if (!rowoff || (err = scratch_make(&j, &j.total, NULL, 0)) < 0)
            goto nomem;
        /* row a holds NP - a cells: rowoff[a] = sum_{b<a} (NP - b) = a*NP - a(a-1)/2 */
        for (uint32_t a = 0; a < NP; a++)
            rowoff[a] = (uint64_t)a * NP - ((uint64_t)a * (a ? a - 1 : 0)) / 2;
        j.rowoff = rowoff;
        if (f.rows_in_window) {
            if (!(lut = period_lut(&j, &f, &o)))
                goto nomem;
            j.lut = lut;
        } else {
            /* only given acquisition times: no row to read; the lookup table
             * is empty, so acq_period computes periods directly */
            j.lo = 1;
            j.hi = 0;
        }
        scrm__run run = {.fn = fn, .ds = ds, .threads = o.threads, .progress = o.progress,
                         .payload = o.progress_payload, .want_summary = j.use_summary,
                         .utc_offset = 0, .scratch_size = sizeof(scratch),
                         .scratch_new = scratch_new, .scratch_free = scratch_free,
                         .begin = begin, .part = run_part, .merge = merge, .ctx = &j};
        if ((err = scrm__run_partitions(&run)) < 0 || (err = assemble(&r, &j, &o, fn)) < 0)
            goto done;
    } else if (!(r = result_new(0, 0, fn))) {
        goto nomem;
    }
    r->unit = o.unit;
    r->utc_offset = o.utc_offset;
    r->start = o.start;
    r->end = o.end;
    r->min_amount = o.min_amount;
    r->refunds = o.refunds;
    r->mode = o.mode;
    r->minor_digits = scrm_dataset_minor_digits(ds);
    r->no_amounts = !scrm_dataset_has_amounts(ds);
    r->obs_end = f.E;
    r->obs_until = f.until;
    *out = r;
    r = NULL;
    err = SCRM_OK;
    goto done;
nomem:
    err = scrm__enomem(fn);
done:
    scrm_cohorts_free(r);
    scrm__free(lut);
    scrm__free(rowoff);
    scratch_release(&j.total);
    return err;
}

/* ---- merge ---- */

SCRM_EXPORT int scrm_cohorts_merge(scrm_cohorts **out, const scrm_cohorts *a,
                                   const scrm_cohorts *b)
{
    static const char fn[] = "scrm_cohorts_merge";
    if (!out || !a || !b)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    if (a->unit != b->unit || a->utc_offset != b->utc_offset || a->start != b->start ||
        a->end != b->end || a->min_amount != b->min_amount || a->refunds != b->refunds ||
        a->mode != b->mode)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: the results were computed with different options (unit, "
                           "utc_offset, window, min_amount, refunds or mode)",
                           fn);
    if (a->minor_digits != b->minor_digits)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: the revenues are in currencies of %u and %u minor digits",
                           fn, a->minor_digits, b->minor_digits);
    if (a->no_amounts != b->no_amounts)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: one result has revenues, the other is of a dataset without "
                           "amounts (count-only)",
                           fn);
    const int64_t E = a->obs_end > b->obs_end ? a->obs_end : b->obs_end;
    int64_t first;
    uint64_t C64, K64;
    if (!a->C && !b->C) {
        first = 0;
        C64 = K64 = 0;
    } else {
        int64_t last;
        if (!a->C || !b->C) {
            const scrm_cohorts *x = a->C ? a : b;
            first = x->first;
            last = x->first + x->C - 1;
        } else {
            first = a->first < b->first ? a->first : b->first;
            const int64_t la = a->first + a->C - 1, lb = b->first + b->C - 1;
            last = la > lb ? la : lb;
        }
        C64 = (uint64_t)(last - first) + 1;
        K64 = (uint64_t)(E - first) + 1;
        if (C64 * K64 > SCRM_COHORTS_MAX_CELLS)
            return scrm__error(SCRM_ERANGE, -1, "%s: %llu x %llu cells is over the limit of %u",
                               fn, (unsigned long long)C64, (unsigned long long)K64,
                               (unsigned)SCRM_COHORTS_MAX_CELLS);
    }
    scrm_cohorts *r = result_new((uint32_t)C64, (uint32_t)K64, fn);
    if (!r)
        return SCRM_ENOMEM;
    r->unit = a->unit;
    r->utc_offset = a->utc_offset;
    r->start = a->start;
    r->end = a->end;
    r->min_amount = a->min_amount;
    r->refunds = a->refunds;
    r->mode = a->mode;
    r->minor_digits = a->minor_digits;
    r->no_amounts = a->no_amounts;
    r->obs_end = E;
    r->obs_until = a->obs_until > b->obs_until ? a->obs_until : b->obs_until;
    r->first = first;
    const scrm_cohorts *src[2] = {a, b};
    for (int s = 0; s < 2; s++) {
        const scrm_cohorts *x = src[s];
        const uint64_t dc = (uint64_t)(x->first - first);
        for (uint32_t c = 0; c < x->C; c++) {
            const size_t ro = (size_t)(dc + c) * r->K;
            r->sizes[dc + c] += x->sizes[c];
            for (uint32_t k = 0; k < x->K; k++) {
                const size_t i = (size_t)c * x->K + k;
                r->active[ro + k] += x->active[i];
                r->orders[ro + k] += x->orders[i];
                if (scrm__add_overflow_i64(r->revenue[ro + k], x->revenue[i],
                                           &r->revenue[ro + k])) {
                    scrm_cohorts_free(r);
                    return scrm__error(SCRM_EOVERFLOW, -1,
                                       "%s: a revenue cell sum does not fit int64", fn);
                }
            }
        }
    }
    if (r->C)
        result_ratios(r);
    *out = r;
    return SCRM_OK;
}

/* ---- getters ---- */

SCRM__GETTER(uint32_t, scrm_cohorts_count, scrm_cohorts, C, 0)

SCRM__GETTER(uint32_t, scrm_cohorts_periods, scrm_cohorts, K, 0)

SCRM__GETTER(int64_t, scrm_cohorts_first_period, scrm_cohorts, first, 0)

SCRM__GETTER(int64_t, scrm_cohorts_observation_end, scrm_cohorts, obs_end, INT64_MIN)

SCRM__GETTER(int, scrm_cohorts_unit, scrm_cohorts, unit, -1)

SCRM_EXPORT uint32_t scrm_cohorts_partial_periods(const scrm_cohorts *r)
{
    if (!r || r->obs_end == INT64_MIN || r->obs_until == INT64_MAX)
        return 0;
    /* periods E, E - 1, ... whose end (the next period's local midnight)
     * is after the observed part: at most the K columns of the frame */
    uint32_t n = 0;
    while (n < r->K &&
           r->obs_until < scrm__period_first_day(r->obs_end - n + 1, r->unit) * 86400 - r->utc_offset)
        n++;
    return n;
}

SCRM_EXPORT int scrm_cohorts_last_partial(const scrm_cohorts *r)
{
    return scrm_cohorts_partial_periods(r) > 0;
}
SCRM__GETTER(uint32_t, scrm_cohorts_minor_digits, scrm_cohorts, minor_digits, 2)

SCRM__GETTER(const uint64_t *, scrm_cohorts_sizes, scrm_cohorts, sizes, NULL)

SCRM__GETTER(const uint64_t *, scrm_cohorts_active, scrm_cohorts, active, NULL)

SCRM__GETTER(const uint64_t *, scrm_cohorts_orders, scrm_cohorts, orders, NULL)

SCRM__GETTER(const int64_t *, scrm_cohorts_revenue, scrm_cohorts, revenue, NULL)

SCRM__GETTER(const double *, scrm_cohorts_retention, scrm_cohorts, retention, NULL)

SCRM__GETTER(const double *, scrm_cohorts_ltv, scrm_cohorts, ltv, NULL)

SCRM__GETTER(const double *, scrm_cohorts_cum_orders, scrm_cohorts, cum_orders, NULL)

SCRM_EXPORT int scrm_cohorts_label(char *buf, uint32_t cap, const scrm_cohorts *r,
                                   uint32_t cohort)
{
    if (!buf || !r)
        return scrm__error(SCRM_EINVAL, -1, "scrm_cohorts_label: NULL argument");
    if (cohort >= r->C)
        return scrm__error(SCRM_ENOTFOUND, -1,
                           "scrm_cohorts_label: cohort %u is not below the %u cohorts", cohort,
                           r->C);
    return scrm_period_label(buf, cap, r->first + cohort, r->unit);
}

/* ---- long-form CSV (shopcrm cohorts --out, docs/cohorts.md) ----
 * The result does not know its currency (a merged result has no dataset),
 * so the caller gives the minor digits: scrm_dataset_minor_digits(). */

SCRM_EXPORT int scrm_cohorts_write_csv(const scrm_cohorts *r, const char *path,
                                       uint32_t minor_digits)
{
    static const char fn[] = "scrm_cohorts_write_csv";
    scrm__csvout w;
    int err = scrm__csvout_begin(&w, r, path, minor_digits, fn);
    if (err < 0)
        return err;
    static const char head[] = "cohort,period,cohort_size,active_customers,orders,revenue,"
                               "retention,partial\n";
    const uint32_t partial = scrm_cohorts_partial_periods(r);
    scrm__csvout_put(&w, head, sizeof head - 1);
    for (uint32_t c = 0; c < r->C && !err; c++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        if ((err = scrm_period_label(label, sizeof label, r->first + c, r->unit)) < 0)
            break;
        /* Cell (c, k) is observable while c + k < K (cohorts.h). */
        for (uint32_t k = 0; (uint64_t)c + k < r->K; k++) {
            uint64_t i = (uint64_t)c * r->K + k;
            scrm__csvout_text(&w, label, strlen(label));
            scrm__csvout_ch(&w, ',');
            scrm__csvout_u64(&w, k);
            scrm__csvout_ch(&w, ',');
            scrm__csvout_u64(&w, r->sizes[c]);
            scrm__csvout_ch(&w, ',');
            scrm__csvout_u64(&w, r->active[i]);
            scrm__csvout_ch(&w, ',');
            scrm__csvout_u64(&w, r->orders[i]);
            scrm__csvout_ch(&w, ',');
            if (!r->no_amounts) /* count-only: revenue absent, not 0 */
                scrm__csvout_money(&w, r->revenue[i], minor_digits);
            scrm__csvout_ch(&w, ',');
            if (isfinite(r->retention[i]))
                scrm__csvout_double(&w, r->retention[i]);
            /* the cells of the periods the data does not cover to their end */
            scrm__csvout_ch(&w, ',');
            scrm__csvout_ch(&w, (uint64_t)c + k + partial >= r->K ? '1' : '0');
            scrm__csvout_ch(&w, '\n');
        }
    }
    return scrm__csvout_close(&w, path, err, fn);
}
