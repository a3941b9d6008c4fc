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
    int64_t utc_offset, start, end, min_amount;
    int64_t first, obs_end;
    uint32_t C, K;
    uint64_t *sizes, *active, *orders;
    int64_t *revenue;
    double *retention, *ltv, *cum_orders;
};

static const scrm_cohorts_options options_default = SCRM_COHORTS_OPTIONS_INIT;
static const size_t options_sizes[] = {sizeof(scrm_cohorts_options)};
SCRM__CHECK_SIZES(options_sizes, SCRM_COHORTS_OPTIONS_VERSION);

SCRM_EXPORT int scrm_cohorts_options_init(scrm_cohorts_options *opts, unsigned version)
{
    return scrm__options_init(opts, &options_default, options_sizes,
                              SCRM_COHORTS_OPTIONS_VERSION, version, "scrm_cohorts_options_init");
}

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
    const scrm_dataset *ds;
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
    const int64_t *acq_time; /* given acquisition times or NULL */
    int64_t acq_lo, acq_hi;  /* given times inside the window: acq_lo <= x <= acq_hi */
    int64_t lut_day_lo, lut_days;
    scratch *scr;
    uint32_t n_parts;
    scrm_progress_fn progress;
    void *payload;
    atomic_uint done;
    atomic_int cancel;
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
static void do_part(const job *j, scratch *s, uint32_t p)
{
    scrm__part_view v;
    scrm__dataset_partition(j->ds, p, &v);
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

static int run_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    job *j = ctx;
    scratch *s = &j->scr[thread];
    for (uint32_t p = begin; p < end; p++) {
        if (atomic_load_explicit(&j->cancel, memory_order_relaxed))
            return SCRM_ECANCELLED;
        do_part(j, s, p);
        unsigned d = atomic_fetch_add_explicit(&j->done, 1, memory_order_relaxed) + 1;
        if (thread == 0 && j->progress && j->progress(d, j->n_parts, j->payload)) {
            atomic_store(&j->cancel, 1);
            return scrm__error(SCRM_ECANCELLED, -1,
                               "scrm_cohorts_compute: cancelled by the progress callback");
        }
    }
    return 0;
}

static void free_scratch(scratch *scr, uint32_t threads)
{
    if (!scr)
        return;
    for (uint32_t t = 0; t < threads; t++) {
        scrm__free(scr[t].rp);
        scrm__free(scr[t].acq);
        scrm__free(scr[t].bits);
        scrm__free(scr[t].orders);
        scrm__free(scr[t].act);
        scrm__free(scr[t].sizes);
        scrm__free(scr[t].rev);
        scrm__free(scr[t].rev64);
    }
    scrm__free(scr);
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

SCRM_EXPORT int scrm_cohorts_compute(scrm_cohorts **out, const scrm_dataset *ds,
                                     const scrm_cohorts_options *opts)
{
    static const char fn[] = "scrm_cohorts_compute";
    scrm_cohorts_options o;
    int err;
    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL %s", fn, !out ? "out" : "dataset");
    if ((err = scrm__options_load(&o, &options_default, sizeof o, opts, options_sizes,
                                  SCRM_COHORTS_OPTIONS_VERSION, fn)) < 0)
        return err;
    if ((err = scrm__period_check(fn, o.unit, o.utc_offset)) != SCRM_OK)
        return err;
    if (o.min_amount < 0)
        return scrm__error(SCRM_EINVAL, -1, "%s: min_amount %lld is negative", fn,
                           (long long)o.min_amount);
    if (o.refunds != 0 && o.refunds != 1)
        return scrm__error(SCRM_EINVAL, -1, "%s: refunds must be 0 or 1, not %d", fn, o.refunds);
    if (o.mode != SCRM_COHORTS_CLASSIC && o.mode != SCRM_COHORTS_ROLLING)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown mode %d", fn, o.mode);
    const int has_start = o.start != SCRM_COHORTS_ALL, has_end = o.end != SCRM_COHORTS_ALL;
    if (has_start && has_end && o.end <= o.start)
        return scrm__error(SCRM_EINVAL, -1, "%s: window end %lld is not after its start %lld", fn,
                           (long long)o.end, (long long)o.start);
    int64_t E = INT64_MIN, tmp = 0;
    if (has_start && (err = period_of(&tmp, o.start, o.unit, o.utc_offset, "window start")))
        return err;
    if (has_end && (err = period_of(&E, o.end - 1, o.unit, o.utc_offset, "window end - 1")))
        return err;
    const uint32_t n_cust = scrm_dataset_customer_count(ds);
    if (o.acquisition && o.acquisition_count != n_cust)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: acquisition_count %u is not the dataset's %u customers", fn,
                           o.acquisition_count, n_cust);
    /* window as lo <= t <= hi */
    const int64_t lo = has_start ? o.start : INT64_MIN, hi = has_end ? o.end - 1 : INT64_MAX;

    /* given acquisition times: range check, and the extreme ones in the window */
    int64_t acq_min = INT64_MAX, acq_max = INT64_MIN;
    if (o.acquisition) {
        for (uint32_t i = 0; i < n_cust; i++) {
            const int64_t x = o.acquisition[i];
            if (x == INT64_MIN)
                continue;
            int64_t local;
            if (scrm__add_overflow_i64(x, o.utc_offset, &local) || local < SCRM_TIME_MIN ||
                local > SCRM_TIME_MAX)
                return scrm__error(SCRM_ERANGE, i,
                                   "%s: acquisition time %lld of customer %u (with utc_offset "
                                   "%lld s) is outside years 1..9999",
                                   fn, (long long)x, i, (long long)o.utc_offset);
            if (x < lo || x > hi)
                continue;
            acq_min = x < acq_min ? x : acq_min;
            acq_max = x > acq_max ? x : acq_max;
        }
    }

    /* rows of the window: their time range */
    int64_t tmin = 0, tmax = 0, wmin = INT64_MAX, wmax = INT64_MIN;
    const int have_rows = scrm_dataset_order_count(ds) > 0 &&
                          scrm_dataset_time_range(&tmin, &tmax, ds) == SCRM_OK;
    if (have_rows) {
        wmin = tmin > lo ? tmin : lo;
        wmax = tmax < hi ? tmax : hi;
        if (!has_end && (err = period_of(&tmp, tmax, o.unit, o.utc_offset, "last order time")))
            return err;
        if (!has_end)
            E = tmp;
    }
    const int rows_in_window = wmin <= wmax;
    if (rows_in_window) {
        if ((err = period_of(&tmp, wmin, o.unit, o.utc_offset, "order time")) ||
            (err = period_of(&tmp, wmax, o.unit, o.utc_offset, "order time")))
            return err;
    }
    if (!has_end && acq_max != INT64_MIN) {
        period_of(&tmp, acq_max, o.unit, o.utc_offset, "acquisition");
        E = tmp > E ? tmp : E;
    }

    /* frame start P0 */
    int64_t P0 = INT64_MAX;
    if (rows_in_window)
        P0 = scrm__period_of_day(scrm__day(wmin, o.utc_offset), o.unit);
    if (acq_min != INT64_MAX) {
        period_of(&tmp, acq_min, o.unit, o.utc_offset, "acquisition");
        P0 = tmp < P0 ? tmp : P0;
    }
    const int anything = o.acquisition ? acq_min != INT64_MAX : rows_in_window;
    if (!anything || P0 > E) {
        scrm_cohorts *r = result_new(0, 0, fn);
        if (!r)
            return SCRM_ENOMEM;
        r->unit = o.unit;
        r->utc_offset = o.utc_offset;
        r->start = o.start;
        r->end = o.end;
        r->min_amount = o.min_amount;
        r->refunds = o.refunds;
        r->mode = o.mode;
        r->obs_end = E;
        *out = r;
        return SCRM_OK;
    }
    const uint64_t NP64 = (uint64_t)(E - P0) + 1;
    if (NP64 * NP64 > SCRM_COHORTS_MAX_CELLS)
        return scrm__error(SCRM_ERANGE, -1,
                           "%s: %llu periods observed: %llu cells is over the limit of %u", fn,
                           (unsigned long long)NP64, (unsigned long long)(NP64 * NP64),
                           (unsigned)SCRM_COHORTS_MAX_CELLS);
    const uint32_t NP = (uint32_t)NP64, W = (NP + 63) / 64;

    uint32_t threads = o.threads ? o.threads : scrm__dataset_threads(ds);
    if (threads == 0)
        threads = scrm__default_threads();
    if (threads > 64)
        threads = 64;
    const uint32_t n_parts = scrm__dataset_partition_count(ds);
    if (threads > n_parts)
        threads = n_parts ? n_parts : 1;

    uint64_t max_rows = 0;
    uint32_t max_cust = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        max_rows = v.n_rows > max_rows ? v.n_rows : max_rows;
        max_cust = v.n_cust > max_cust ? v.n_cust : max_cust;
    }

    int32_t *lut = NULL;
    uint64_t *rowoff = NULL;
    scratch *scr = NULL;
    scrm_cohorts *r = NULL;
    job j;
    memset(&j, 0, sizeof j);
    const uint64_t tri = NP64 * (NP64 + 1) / 2;

    rowoff = scrm__malloc((size_t)NP * sizeof *rowoff);
    scr = scrm__calloc(threads, sizeof *scr);
    if (!rowoff || !scr)
        goto nomem;
    /* row a holds NP - a cells: rowoff[a] = sum_{b<a} (NP - b) = a*NP - a(a-1)/2 */
    for (uint32_t a = 0; a < NP; a++)
        rowoff[a] = (uint64_t)a * NP - ((uint64_t)a * (a ? a - 1 : 0)) / 2;

    if (rows_in_window) {
        const int64_t d_lo = scrm__day(wmin, o.utc_offset), d_hi = scrm__day(wmax, o.utc_offset);
        const int64_t days = d_hi - d_lo + 1;
        lut = scrm__big_alloc((size_t)days * sizeof *lut);
        if (!lut)
            goto nomem;
        /* walk periods, not days: one civil computation per period */
        int64_t pidx = scrm__period_of_day(d_lo, o.unit);
        int64_t next = scrm__period_first_day(pidx + 1, o.unit);
        for (int64_t d = d_lo; d <= d_hi; d++) {
            if (d >= next) {
                pidx++;
                next = scrm__period_first_day(pidx + 1, o.unit);
            }
            lut[d - d_lo] = (int32_t)(pidx - P0);
        }
        j.t0 = d_lo * 86400 - o.utc_offset;
        j.lut_day_lo = d_lo;
        j.lut_days = days;
    }
    for (uint32_t t = 0; t < threads; t++) {
        scratch *s = &scr[t];
        s->rp = scrm__malloc((size_t)(max_rows ? max_rows : 1) * sizeof *s->rp);
        s->acq = scrm__malloc((size_t)(max_cust ? max_cust : 1) * sizeof *s->acq);
        s->bits = scrm__malloc((size_t)(max_cust ? max_cust : 1) * W * sizeof *s->bits);
        s->orders = zalloc_big((size_t)tri, sizeof *s->orders);
        s->act = zalloc_big((size_t)tri, sizeof *s->act);
        s->sizes = scrm__calloc(NP, sizeof *s->sizes);
        s->rev = zalloc_big((size_t)tri, sizeof *s->rev);
        s->rev64 = zalloc_big((size_t)tri, sizeof *s->rev64);
        if (!s->rp || !s->acq || !s->bits || !s->orders || !s->act || !s->sizes || !s->rev ||
            !s->rev64)
            goto nomem;
    }

    j.ds = ds;
    j.lut = lut;
    j.lo = lo;
    j.hi = hi;
    j.min_amount = o.min_amount;
    j.refunds = o.refunds;
    j.rolling = o.mode == SCRM_COHORTS_ROLLING;
    j.unit = o.unit;
    j.off = o.utc_offset;
    j.P0 = P0;
    j.NP = NP;
    j.W = W;
    j.rowoff = rowoff;
    j.tri = tri;
    j.acq_time = o.acquisition;
    j.acq_lo = lo;
    j.acq_hi = hi;
    j.scr = scr;
    j.n_parts = n_parts;
    j.progress = o.progress;
    j.payload = o.progress_payload;
    atomic_init(&j.done, 0);
    atomic_init(&j.cancel, 0);
    if (!rows_in_window) {
        /* only given acquisition times: no row to read; the lookup table is
         * empty, so acq_period computes periods directly */
        j.lo = 1;
        j.hi = 0;
    }
    err = scrm__parallel_for(threads, n_parts, run_range, &j);
    if (err)
        goto fail;

    /* add the per-thread matrices into thread 0's, in thread order */
    for (uint32_t t = 0; t < threads; t++)
        flush_rev64(&scr[t], tri);
    scratch *s0 = &scr[0];
    for (uint32_t t = 1; t < threads; t++) {
        for (uint64_t i = 0; i < tri; i++) {
            s0->orders[i] += scr[t].orders[i];
            s0->act[i] += scr[t].act[i];
            s0->rev[i] += scr[t].rev[i];
        }
        for (uint32_t a = 0; a < NP; a++)
            s0->sizes[a] += scr[t].sizes[a];
    }
    uint32_t c_first = NP, c_last = 0;
    for (uint32_t a = 0; a < NP; a++)
        if (s0->sizes[a]) {
            c_first = a < c_first ? a : c_first;
            c_last = a;
        }
    if (c_first == NP) { /* e.g. only given times, all outside the window */
        r = result_new(0, 0, fn);
        if (!r)
            goto nomem;
    } else {
        const uint32_t C = c_last - c_first + 1, K = NP - c_first;
        r = result_new(C, K, fn);
        if (!r)
            goto nomem;
        r->first = P0 + c_first;
        for (uint32_t c = 0; c < C; c++) {
            const uint32_t a = c_first + c, len = NP - a; /* observable cells of the row */
            const uint64_t ro = rowoff[a];
            r->sizes[c] = s0->sizes[a];
            if (j.rolling) { /* suffix sums of the last-active histogram */
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
                    if (scrm_period_label(lab, sizeof lab, P0 + a, o.unit) != SCRM_OK)
                        lab[0] = 0;
                    err = scrm__error(SCRM_EOVERFLOW, -1,
                                      "%s: the revenue of cohort %s, period %u does not fit "
                                      "int64",
                                      fn, lab, k);
                    goto fail;
                }
                r->revenue[(size_t)c * K + k] = (int64_t)v;
                r->orders[(size_t)c * K + k] = s0->orders[ro + k];
            }
        }
        result_ratios(r);
    }
    r->unit = o.unit;
    r->utc_offset = o.utc_offset;
    r->start = o.start;
    r->end = o.end;
    r->min_amount = o.min_amount;
    r->refunds = o.refunds;
    r->mode = o.mode;
    r->obs_end = E;
    scrm__free(lut);
    scrm__free(rowoff);
    free_scratch(scr, threads);
    *out = r;
    return SCRM_OK;

nomem:
    err = scrm__enomem(fn);
fail:
    scrm_cohorts_free(r);
    scrm__free(lut);
    scrm__free(rowoff);
    free_scratch(scr, threads);
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
    r->obs_end = E;
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

SCRM_EXPORT uint32_t scrm_cohorts_count(const scrm_cohorts *r)
{
    return r ? r->C : 0;
}

SCRM_EXPORT uint32_t scrm_cohorts_periods(const scrm_cohorts *r)
{
    return r ? r->K : 0;
}

SCRM_EXPORT int64_t scrm_cohorts_first_period(const scrm_cohorts *r)
{
    return r ? r->first : 0;
}

SCRM_EXPORT int64_t scrm_cohorts_observation_end(const scrm_cohorts *r)
{
    return r ? r->obs_end : INT64_MIN;
}

SCRM_EXPORT int scrm_cohorts_unit(const scrm_cohorts *r)
{
    return r ? r->unit : -1;
}

SCRM_EXPORT const uint64_t *scrm_cohorts_sizes(const scrm_cohorts *r)
{
    return r ? r->sizes : NULL;
}

SCRM_EXPORT const uint64_t *scrm_cohorts_active(const scrm_cohorts *r)
{
    return r ? r->active : NULL;
}

SCRM_EXPORT const uint64_t *scrm_cohorts_orders(const scrm_cohorts *r)
{
    return r ? r->orders : NULL;
}

SCRM_EXPORT const int64_t *scrm_cohorts_revenue(const scrm_cohorts *r)
{
    return r ? r->revenue : NULL;
}

SCRM_EXPORT const double *scrm_cohorts_retention(const scrm_cohorts *r)
{
    return r ? r->retention : NULL;
}

SCRM_EXPORT const double *scrm_cohorts_ltv(const scrm_cohorts *r)
{
    return r ? r->ltv : NULL;
}

SCRM_EXPORT const double *scrm_cohorts_cum_orders(const scrm_cohorts *r)
{
    return r ? r->cum_orders : NULL;
}

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
    if (!r || !path)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "%s: minor_digits %u is not 0..%d", fn, minor_digits,
                           SCRM_MAX_MINOR_DIGITS);
    scrm__csvout w;
    int err = scrm__csvout_open(&w, path, fn);
    if (err < 0)
        return err;
    static const char head[] = "cohort,period,cohort_size,active_customers,orders,revenue,"
                               "retention\n";
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
            scrm__csvout_money(&w, r->revenue[i], minor_digits);
            scrm__csvout_ch(&w, ',');
            if (isfinite(r->retention[i]))
                scrm__csvout_double(&w, r->retention[i]);
            scrm__csvout_ch(&w, '\n');
        }
    }
    return scrm__csvout_close(&w, path, err, fn);
}
