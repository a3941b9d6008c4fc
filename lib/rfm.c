/* RFM scoring: per-customer recency, frequency and monetary value, scores by
 * rank quantiles, SQL NTILE or fixed edges, segments, summary, CSV export.
 * Definitions: include/shopcrm/rfm.h.
 *
 * Phases:
 * 1. Aggregate partition by partition (DESIGN.md "Performance architecture":
 *    rows of a partition are contiguous, its customers' accumulators stay in
 *    cache), into partition-local arrays, then write the per-customer values
 *    at their global index. Partitions are spread over threads with
 *    scrm__parallel_for; each partition's result depends on that partition
 *    alone, so the output is the same for any thread count.
 * 2. Rank each dimension in O(n): a stable counting sort when the key range
 *    is small (recency days, order counts), otherwise a stable LSD radix sort
 *    on 64-bit keys (8-bit digits, digits equal in every key skipped). The
 *    input sequence is the customers in key order for NTILE (so equal values
 *    keep key order: the tie-break) and index order otherwise.
 * 3. Scores from the sorted order, segments from a lookup table of the N^3
 *    score cells, then the segment summary in customer index order.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>

#include "internal.h"

#define N_STATS 7

struct scrm_rfm {
    uint32_t n, bins;
    int method, frequency_mode, monetary_mode;
    int64_t as_of, utc_offset;
    int32_t *recency;
    uint32_t *frequency;
    double *monetary;
    int64_t *revenue;
    uint8_t *score[3];
    int32_t *segment;
    double edges[3][SCRM_RFM_MAX_BINS];
    scrm_segment_map *map;
    uint32_t n_seg;
    uint64_t *seg_count;
    int64_t *seg_revenue;
    double *seg_stat[N_STATS];
    uint64_t unassigned;
    uint32_t scored;             /* customers with an order before as_of */
    uint64_t refund_only;        /* customers with refunds but no order before as_of */
    int64_t refund_only_revenue; /* their refunds */
    uint64_t rows_after;         /* rows at or after an explicit as_of, left out */
    int has_monetary;            /* the dataset has amounts */
    double majority[3];          /* share of the majority value, 0 if none */
    int degenerate[3];           /* SCRM_RFM_DEGENERATE_* flags */
};

/* r->recency of a customer without any row before as_of, until phase 1
 * ends (it then gets recency 0) */
#define NO_ROW INT32_MIN

static const size_t options_sizes[] = {sizeof(scrm_rfm_options)};
static const scrm_rfm_options options_default = SCRM_RFM_OPTIONS_INIT;

SCRM__OPTIONS_INIT_FN(scrm_rfm_options_init, scrm_rfm_options,
                      options_default, options_sizes, SCRM_RFM_OPTIONS_VERSION)

SCRM_EXPORT void scrm_rfm_free(scrm_rfm *r)
{
    if (!r)
        return;
    scrm__free(r->recency);
    scrm__free(r->frequency);
    scrm__free(r->monetary);
    scrm__free(r->revenue);
    for (int d = 0; d < 3; d++)
        scrm__free(r->score[d]);
    scrm__free(r->segment);
    scrm_segment_map_free(r->map);
    scrm__free(r->seg_count);
    scrm__free(r->seg_revenue);
    for (int s = 0; s < N_STATS; s++)
        scrm__free(r->seg_stat[s]);
    scrm__free(r);
}

/* ---- phase 1: per-customer values from the shared summary ---- */

typedef struct agg_ctx {
    int days_mode, mean_mode;
    int64_t off;
    scrm_rfm *r;
    /* a past as_of: the snapshot of the rows before cut, built here (the
     * shared summary covers every row) */
    int64_t cut;
    scrm__summary *snap;
} agg_ctx;

/* Per-thread scratch of a snapshot pass. */
typedef struct snap_scratch {
    scrm__summary_scratch s;
    uint64_t skipped; /* rows at or after the cut */
} snap_scratch;

static int snap_scratch_new(void *ctx, void *scratch, const scrm__shape *shape)
{
    (void)ctx;
    return scrm__summary_scratch_new(&((snap_scratch *)scratch)->s, shape->max_cust,
                                     shape->max_rows);
}

static void snap_scratch_free(void *ctx, void *scratch)
{
    (void)ctx;
    scrm__summary_scratch_free(&((snap_scratch *)scratch)->s);
}

static int snap_merge(void *ctx, void *scratch, uint32_t thread)
{
    (void)thread;
    ((agg_ctx *)ctx)->r->rows_after += ((snap_scratch *)scratch)->skipped;
    return SCRM_OK;
}

/* The customers of one partition: the day of their last order (or of their
 * last refund when they have no order), frequency, revenue, monetary; a
 * customer without an order is marked not scored. */
static int agg_part(void *ctx, void *scratch, uint32_t p, const scrm__part_view *v,
                    const scrm__summary *s)
{
    const agg_ctx *c = ctx;
    scrm_rfm *r = c->r;
    (void)p;
    if (c->snap) {
        snap_scratch *x = scratch;
        x->skipped += scrm__summary_part_before(c->snap, &x->s, v, c->cut);
        s = c->snap;
    }
    for (uint32_t i = 0; i < v->n_cust; i++) {
        const uint32_t g = v->gid[i];
        const int64_t t = s->last[g];
        const uint32_t f = c->days_mode ? s->days[g] : s->orders[g];
        /* orders >= 0 and refunds <= 0 each fit, so their sum does */
        const int64_t sum = s->order_revenue[g] + s->refunds[g];
        r->recency[g] = t == INT64_MIN ? NO_ROW : (int32_t)scrm__day(t, c->off);
        r->frequency[g] = f;
        r->revenue[g] = sum;
        r->monetary[g] = !r->has_monetary          ? NAN
                         : c->mean_mode && f ? (double)sum / (double)f
                                             : (double)sum;
        r->segment[g] = s->orders[g] ? 0 : SCRM_RFM_NOT_SCORED;
    }
    return SCRM_OK;
}

/* ---- phase 2: ranking ---- */

/* Order-preserving map of a double to uint64 (-0.0 as +0.0; no NaN here). */
static inline uint64_t dbl_key(double x)
{
    uint64_t u;
    if (x == 0)
        x = 0; /* -0.0 -> +0.0 */
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/* The double of a dbl_key() key. */
static inline double dbl_of_key(uint64_t u)
{
    u = (u >> 63) ? u & ~(UINT64_C(1) << 63) : ~u;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

typedef struct rank_ctx {
    uint32_t n;
    const int32_t *rec;
    const uint32_t *freq;
    const double *mon;
    int32_t max_rec;
    uint64_t *ka, *kb;  /* radix key buffers, n each */
    uint32_t *ord;      /* n: the sorted order */
    uint32_t *aux;      /* n + 256: radix index temp or counting-sort counters */
} rank_ctx;

/* Ascending sort key of customer i in dimension dim ("better" = larger key). */
static inline uint64_t dim_key(const rank_ctx *c, int dim, uint32_t i)
{
    switch (dim) {
    case SCRM_RFM_R: return (uint64_t)(uint32_t)(c->max_rec - c->rec[i]);
    case SCRM_RFM_F: return c->freq[i];
    default: return dbl_key(c->mon[i]);
    }
}

/* The value whose dim_key() is key. */
static inline double key_value(const rank_ctx *c, int dim, uint64_t key)
{
    switch (dim) {
    case SCRM_RFM_R: return (double)(c->max_rec - (int64_t)key);
    case SCRM_RFM_F: return (double)key;
    default: return dbl_of_key(key);
    }
}

static inline double dim_value(const rank_ctx *c, int dim, uint32_t i)
{
    switch (dim) {
    case SCRM_RFM_R: return c->rec[i];
    case SCRM_RFM_F: return c->freq[i];
    default: return c->mon[i];
    }
}

static inline uint8_t ntile_bucket(uint32_t j, uint32_t q, uint32_t r, uint64_t big)
{
    /* the first r = n % N buckets have q + 1 = n / N + 1 rows */
    return (uint8_t)(1 + (j < big ? j / (q + 1) : r + (uint32_t)((j - big) / q)));
}

/* Edges from the scores: e_k = the smallest value (R: the largest recency)
 * among the customers whose score is > k, NaN if none; one sequential pass. */
static void edges_from_scores(const rank_ctx *c, int dim, uint32_t N, const uint8_t *score,
                              double *edges)
{
    double best[SCRM_RFM_MAX_BINS + 2] = {0};
    int seen[SCRM_RFM_MAX_BINS + 2] = {0};
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t s = score[i];
        double v = dim_value(c, dim, i);
        if (!seen[s] || (dim == SCRM_RFM_R ? v > best[s] : v < best[s])) {
            best[s] = v;
            seen[s] = 1;
        }
    }
    int have = 0;
    double acc = NAN;
    for (uint32_t k = N; k >= 1; k--) { /* acc = extreme over scores > k - 1 */
        if (k < N) /* edge k covers scores k+1..N */
            edges[k - 1] = have ? acc : NAN;
        if (seen[k]) {
            if (!have || (dim == SCRM_RFM_R ? best[k] > acc : best[k] < acc))
                acc = best[k];
            have = 1;
        }
    }
}

/* QUANTILE scores by selection instead of a full sort. A customer's score
 * depends only on c, the number of customers with a smaller key: score =
 * 1 + floor(N c / n), so score > k exactly when key >= e_k, e_k = the
 * smallest key with c >= t_k = ceil(k n / N). With w = the t_k-th smallest
 * key (from 0), e_k = w when exactly t_k keys are below w, else the next
 * larger key. One histogram pass over the top bits of the keys finds the
 * bucket holding each t_k-th key; only the keys of those (at most N - 1)
 * buckets are sorted ("quantile edges need only selection of N-1
 * boundaries", DESIGN.md). Returns -1, having written nothing, when those
 * buckets hold more than half of the keys (very skewed keys): the caller
 * then sorts them all. */
static int quantile_select(rank_ctx *c, int dim, uint32_t N, uint64_t kmin, uint64_t range,
                           uint8_t *score, double *edges)
{
    const uint32_t n = c->n;
    /* histogram of the top w bits of key - kmin, in aux (n + 256 entries);
     * 12 bits keep it in the L1 cache and the buckets to sort small */
    int w = 12;
    while ((UINT64_C(1) << w) > (uint64_t)n + 256)
        w--;
    const int bits = 64 - __builtin_clzll(range); /* range > 0 here */
    const int sh = bits > w ? bits - w : 0;
    const uint32_t nb = (uint32_t)(range >> sh) + 1;
    uint32_t *h = c->aux;
    memset(h, 0, (size_t)nb * sizeof *h);
    for (uint32_t i = 0; i < n; i++)
        h[(dim_key(c, dim, i) - kmin) >> sh]++;

    /* t_k (ascending in k) for the k whose t_k < n; ne of them */
    uint64_t t[SCRM_RFM_MAX_BINS], before[SCRM_RFM_MAX_BINS];
    uint32_t tb[SCRM_RFM_MAX_BINS], ne = 0;
    for (uint32_t k = 1; k < N; k++) {
        uint64_t tk = ((uint64_t)k * n + N - 1) / N;
        if (tk >= n)
            break;
        t[ne++] = tk;
    }
    /* the bucket of each t_k-th key, the keys in earlier buckets, and the
     * distinct target buckets with their place among the candidates */
    uint32_t db[SCRM_RFM_MAX_BINS], dcount[SCRM_RFM_MAX_BINS], nd = 0;
    uint64_t doff[SCRM_RFM_MAX_BINS], m = 0, acc = 0;
    uint32_t b = 0;
    for (uint32_t k = 0; k < ne; k++) {
        while (acc + h[b] <= t[k])
            acc += h[b++];
        tb[k] = b;
        before[k] = acc;
        if (nd == 0 || db[nd - 1] != b) {
            db[nd] = b;
            dcount[nd] = h[b];
            doff[nd] = m;
            m += h[b];
            nd++;
        }
    }
    if (m > n / 2 && m > 4096)
        return -1;
    /* gather the candidates bucket by bucket (aux now marks target buckets) */
    uint64_t pos[SCRM_RFM_MAX_BINS];
    memset(h, 0, (size_t)nb * sizeof *h);
    for (uint32_t d = 0; d < nd; d++) {
        h[db[d]] = d + 1;
        pos[d] = doff[d];
    }
    uint64_t *ka = c->ka, diff = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t key = dim_key(c, dim, i) - kmin;
        uint32_t d = h[key >> sh];
        if (d) {
            ka[pos[d - 1]++] = key;
            diff |= key;
        }
    }
    for (uint64_t j = 0; j < m; j++)
        c->ord[j] = (uint32_t)j;
    uint32_t *ia = c->ord;
    scrm__radix_sort_pairs(ka, ia, c->kb, c->aux, (uint32_t)m, diff, &ka, &ia);

    /* the edges, as keys relative to kmin */
    uint64_t ek[SCRM_RFM_MAX_BINS];
    uint32_t nek = 0;
    for (uint32_t k = 0; k < ne; k++) {
        uint32_t d = 0;
        while (db[d] != tb[k])
            d++;
        uint64_t lo = doff[d], hi = doff[d] + dcount[d], p = lo + (t[k] - before[k]);
        uint64_t wk = ka[p], q = p;
        while (q > lo && ka[q - 1] == wk)
            q--;
        if (before[k] + (q - lo) == t[k]) {
            ek[nek++] = wk;
            continue;
        }
        q = p + 1;
        while (q < hi && ka[q] == wk)
            q++;
        if (q < hi) {
            ek[nek++] = ka[q];
            continue;
        }
        /* the next larger key is in a later bucket: one more pass */
        uint64_t next = UINT64_MAX;
        int found = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t key = dim_key(c, dim, i) - kmin;
            if (key > wk && key <= next) {
                next = key;
                found = 1;
            }
        }
        if (!found)
            break; /* no customer scores above k, nor above any later k */
        ek[nek++] = next;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t key = dim_key(c, dim, i) - kmin;
        uint32_t sc = 1;
        for (uint32_t k = 0; k < nek; k++)
            sc += key >= ek[k];
        score[i] = (uint8_t)sc;
    }
    /* e_k is the key of a customer, the smallest of those scoring above k */
    for (uint32_t k = 0; k + 1 < N; k++)
        edges[k] = k < nek ? key_value(c, dim, ek[k] + kmin) : NAN;
    return 0;
}

/* Scores 1..N of one dimension by rank quantiles or NTILE, and the edges.
 * Customers are ordered by dim_key ascending; for NTILE equal keys keep the
 * order of seq (customers in key order), which is the tie-break. */
static void rank_dim(rank_ctx *c, int dim, int method, uint32_t N, const uint32_t *seq,
                     uint8_t *score, double *edges)
{
    uint32_t n = c->n;
    if (n == 0) {
        for (uint32_t k = 0; k + 1 < N; k++)
            edges[k] = NAN;
        return;
    }
    uint64_t kmin = UINT64_MAX, kmax = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t k = dim_key(c, dim, i);
        kmin = k < kmin ? k : kmin;
        kmax = k > kmax ? k : kmax;
    }
    uint32_t q = n / N, r = n % N;
    uint64_t big = (uint64_t)r * (q + 1);
    if (kmax - kmin < (uint64_t)n + 256) {
        /* counting sort; the counters live in aux (n + 256 entries) */
        uint32_t range = (uint32_t)(kmax - kmin) + 1, *cnt = c->aux;
        memset(cnt, 0, (size_t)range * sizeof *cnt);
        for (uint32_t i = 0; i < n; i++)
            cnt[dim_key(c, dim, i) - kmin]++;
        uint32_t acc = 0;
        if (method == SCRM_RFM_METHOD_QUANTILE) {
            /* a value's score depends only on how many customers are below it */
            for (uint32_t v = 0; v < range; v++) {
                uint32_t t = cnt[v];
                cnt[v] = 1 + (uint32_t)((uint64_t)N * acc / n);
                acc += t;
            }
            for (uint32_t i = 0; i < n; i++)
                score[i] = (uint8_t)cnt[dim_key(c, dim, i) - kmin];
        } else {
            for (uint32_t v = 0; v < range; v++) {
                uint32_t t = cnt[v];
                cnt[v] = acc;
                acc += t;
            }
            for (uint32_t j = 0; j < n; j++) {
                uint32_t i = seq ? seq[j] : j;
                c->ord[cnt[dim_key(c, dim, i) - kmin]++] = i;
            }
            for (uint32_t j = 0; j < n; j++)
                score[c->ord[j]] = ntile_bucket(j, q, r, big);
        }
        edges_from_scores(c, dim, N, score, edges);
        return;
    }
    if (method == SCRM_RFM_METHOD_QUANTILE &&
        quantile_select(c, dim, N, kmin, kmax - kmin, score, edges) == 0)
        return;
    /* LSD radix sort of (key - kmin, index) pairs, 8-bit digits, skipping
     * the digits that are equal in every key */
    uint64_t *ka = c->ka, *kb = c->kb, diff = 0;
    uint32_t *ia = c->ord, *ib = c->aux;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = seq ? seq[j] : j;
        ia[j] = i;
        ka[j] = dim_key(c, dim, i) - kmin;
        diff |= ka[j];
    }
    scrm__radix_sort_pairs(ka, ia, kb, ib, n, diff, &ka, &ia);
    if (method == SCRM_RFM_METHOD_QUANTILE) {
        uint8_t sc = 1;
        for (uint32_t j = 0; j < n; j++) {
            if (j == 0 || ka[j] != ka[j - 1])
                sc = (uint8_t)(1 + (uint64_t)N * j / n);
            score[ia[j]] = sc;
        }
    } else {
        for (uint32_t j = 0; j < n; j++)
            score[ia[j]] = ntile_bucket(j, q, r, big);
    }
    edges_from_scores(c, dim, N, score, edges);
}

static void score_fixed(const rank_ctx *c, int dim, uint32_t N, const double *e, uint8_t *score)
{
    for (uint32_t i = 0; i < c->n; i++) {
        double v = dim_value(c, dim, i);
        uint32_t k = 0;
        while (k < N - 1 && v >= e[k])
            k++;
        score[i] = (uint8_t)(dim == SCRM_RFM_R ? N - k : 1 + k);
    }
}

static int check_edges(const double *e, uint32_t N, char dim)
{
    if (!e)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_rfm_compute: method FIXED needs %c edges (%u values)", dim,
                           N - 1);
    for (uint32_t k = 0; k + 1 < N; k++) {
        if (!isfinite(e[k]))
            return scrm__error(SCRM_EINVAL, -1, "scrm_rfm_compute: %c edge %u is not finite",
                               dim, k + 1);
        if (k > 0 && !(e[k] > e[k - 1]))
            return scrm__error(SCRM_EINVAL, -1,
                               "scrm_rfm_compute: %c edges must be strictly ascending "
                               "(edge %u = %g after %g)",
                               dim, k + 1, e[k], e[k - 1]);
    }
    return SCRM_OK;
}

/* ---- summary ---- */

static int summarize(scrm_rfm *r)
{
    uint32_t S = r->n_seg + 1;
    /* per segment: R, F, M score sums, frequency sum, recency sum (exact
     * integers) and monetary sum (in customer index order: deterministic) */
    uint64_t *sums = scrm__calloc((size_t)S * 4, sizeof *sums);
    int64_t *rec_sum = scrm__calloc(S, sizeof *rec_sum);
    double *mon_sum = scrm__calloc(S, sizeof *mon_sum);
    int err = SCRM_OK;
    if (!sums || !rec_sum || !mon_sum) {
        err = scrm__enomem("scrm_rfm_compute");
        goto done;
    }
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->segment[i] == SCRM_RFM_NOT_SCORED)
            continue;
        uint32_t s = r->segment[i] < 0 ? r->n_seg : (uint32_t)r->segment[i];
        r->seg_count[s]++;
        if (scrm__add_overflow_i64(r->seg_revenue[s], r->revenue[i], &r->seg_revenue[s])) {
            err = scrm__error(SCRM_EOVERFLOW, -1,
                              "scrm_rfm_compute: the revenue of segment %u does not fit in "
                              "int64 minor units",
                              s);
            goto done;
        }
        sums[4 * s + 0] += r->score[0][i];
        sums[4 * s + 1] += r->score[1][i];
        sums[4 * s + 2] += r->score[2][i];
        sums[4 * s + 3] += r->frequency[i];
        rec_sum[s] += r->recency[i];
        mon_sum[s] += r->monetary[i];
    }
    for (uint32_t s = 0; s < S; s++) {
        double cnt = (double)r->seg_count[s];
        int empty = r->seg_count[s] == 0;
        r->seg_stat[SCRM_RFM_STAT_SHARE][s] = r->scored ? cnt / (double)r->scored : 0.0;
        r->seg_stat[SCRM_RFM_STAT_MEAN_R][s] = empty ? NAN : (double)sums[4 * s + 0] / cnt;
        r->seg_stat[SCRM_RFM_STAT_MEAN_F][s] = empty ? NAN : (double)sums[4 * s + 1] / cnt;
        r->seg_stat[SCRM_RFM_STAT_MEAN_M][s] =
            empty || !r->has_monetary ? NAN : (double)sums[4 * s + 2] / cnt;
        r->seg_stat[SCRM_RFM_STAT_MEAN_FREQUENCY][s] =
            empty ? NAN : (double)sums[4 * s + 3] / cnt;
        r->seg_stat[SCRM_RFM_STAT_MEAN_RECENCY][s] = empty ? NAN : (double)rec_sum[s] / cnt;
        r->seg_stat[SCRM_RFM_STAT_MEAN_MONETARY][s] = empty ? NAN : mon_sum[s] / cnt;
    }
    r->unassigned = r->seg_count[r->n_seg];
done:
    scrm__free(sums);
    scrm__free(rec_sum);
    scrm__free(mon_sum);
    return err;
}

/* ---- compute ---- */

/* The three dimensions ranked on up to three threads, each thread with its
 * own scratch set (sets = threads), one after the other on one thread.
 * Ranks do not depend on the order. M first: it costs about R and F
 * together, so two threads (M | R, F) split the work evenly, with two
 * scratch sets rather than three. */
typedef struct rank_job {
    rank_ctx *rc;
    uint32_t sets;
    int has_m; /* rank M too */
    int method;
    uint32_t N;
    const uint32_t *seq;
    uint8_t *score[3]; /* by scored customer */
    scrm_rfm *r;
} rank_job;

static int rank_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    static const int order[3] = {SCRM_RFM_M, SCRM_RFM_R, SCRM_RFM_F};
    rank_job *j = ctx;
    for (uint32_t k = begin; k < end; k++) {
        int d = order[k];
        if (d != SCRM_RFM_M || j->has_m)
            rank_dim(&j->rc[thread], d, j->method, j->N, j->seq, j->score[d], j->r->edges[d]);
    }
    return SCRM_OK;
}

/* Every option check, before any work (the compute below assumes them). */
/* has_m: the dataset has amounts (without them FIXED needs no M edges). */
static int check_options(const scrm_rfm_options *o, int has_m, const char *fn)
{
    int err;
    uint32_t N = o->bins;
    if (N < 2 || N > SCRM_RFM_MAX_BINS)
        return scrm__error(SCRM_EINVAL, -1, "%s: bins must be 2..%d (got %u)", fn,
                           SCRM_RFM_MAX_BINS, N);
    if (o->method < SCRM_RFM_METHOD_QUANTILE || o->method > SCRM_RFM_METHOD_FIXED)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown method %d", fn, o->method);
    if (o->frequency_mode != SCRM_RFM_FREQUENCY_ORDERS &&
        o->frequency_mode != SCRM_RFM_FREQUENCY_DAYS)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown frequency mode %d", fn,
                           o->frequency_mode);
    if (o->monetary_mode != SCRM_RFM_MONETARY_SUM && o->monetary_mode != SCRM_RFM_MONETARY_MEAN)
        return scrm__error(SCRM_EINVAL, -1, "%s: unknown monetary mode %d", fn,
                           o->monetary_mode);
    if ((err = scrm__utc_offset_check(fn, o->utc_offset)) < 0)
        return err;
    if (o->as_of != SCRM_RFM_AS_OF_DEFAULT && (o->as_of < SCRM_TIME_MIN || o->as_of > SCRM_TIME_MAX))
        return scrm__error(SCRM_ERANGE, -1,
                           "%s: as_of %lld is outside 0001-01-01 .. 9999-12-31", fn,
                           (long long)o->as_of);
    if (o->method == SCRM_RFM_METHOD_FIXED &&
        ((err = check_edges(o->r_edges, N, 'R')) < 0 ||
         (err = check_edges(o->f_edges, N, 'F')) < 0 ||
         (has_m && (err = check_edges(o->m_edges, N, 'M')) < 0)))
        return err;
    if (o->segments && scrm_segment_map_bins(o->segments) &&
        scrm_segment_map_bins(o->segments) != N)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: the segment map is made for %u bins, but bins is %u (give "
                           "another map, or an empty one from scrm_segment_map_new())",
                           fn, scrm_segment_map_bins(o->segments), N);
    return SCRM_OK;
}

/* A result for n customers with every array allocated (values unset). */
static int result_new(scrm_rfm **out, uint32_t n, const scrm_rfm_options *o, int has_m,
                      const char *fn)
{
    scrm_rfm *r = scrm__calloc(1, sizeof *r);
    if (!r)
        return scrm__enomem(fn);
    r->n = n;
    r->has_monetary = has_m;
    r->bins = o->bins;
    r->method = o->method;
    r->frequency_mode = o->frequency_mode;
    r->monetary_mode = o->monetary_mode;
    r->utc_offset = o->utc_offset;
    int err;
    if (o->segments)
        err = scrm_segment_map_copy(&r->map, o->segments);
    else if (o->bins == 5) /* without amounts, the R x F grid */
        err = scrm_segment_map_preset(&r->map, has_m ? "rfm11-v2" : "rf10-v1");
    else
        err = scrm_segment_map_new(&r->map);
    if (err) {
        scrm_rfm_free(r);
        return err;
    }
    r->n_seg = scrm_segment_map_count(r->map);
    r->recency = scrm__big_alloc((size_t)n * sizeof *r->recency);
    r->frequency = scrm__big_alloc((size_t)n * sizeof *r->frequency);
    r->monetary = scrm__big_alloc((size_t)n * sizeof *r->monetary);
    r->revenue = scrm__big_alloc((size_t)n * sizeof *r->revenue);
    for (int d = 0; d < 3; d++)
        r->score[d] = scrm__big_alloc((size_t)n);
    r->segment = scrm__big_alloc((size_t)n * sizeof *r->segment);
    r->seg_count = scrm__calloc((size_t)r->n_seg + 1, sizeof *r->seg_count);
    r->seg_revenue = scrm__calloc((size_t)r->n_seg + 1, sizeof *r->seg_revenue);
    int missing = !r->recency || !r->frequency || !r->monetary || !r->revenue || !r->score[0] ||
                  !r->score[1] || !r->score[2] || !r->segment || !r->seg_count ||
                  !r->seg_revenue;
    for (int k = 0; k < N_STATS; k++) {
        r->seg_stat[k] = scrm__calloc((size_t)r->n_seg + 1, sizeof(double));
        missing |= !r->seg_stat[k];
    }
    if (missing) {
        scrm_rfm_free(r);
        return scrm__enomem(fn);
    }
    *out = r;
    return SCRM_OK;
}

/* as_of: the default, or the given one; *cut_out receives as_of when rows
 * at or after it must be left out (a snapshot at a past date), else
 * INT64_MAX. */
static void resolve_as_of(scrm_rfm *r, const scrm_dataset *ds, int64_t as_of, int64_t off,
                          int64_t *cut_out)
{
    int64_t tmin, tmax;
    *cut_out = INT64_MAX;
    if (scrm_dataset_order_count(ds) == 0 || scrm_dataset_time_range(&tmin, &tmax, ds) < 0) {
        scrm_clear_error();
        r->as_of = as_of == SCRM_RFM_AS_OF_DEFAULT ? 0 : as_of;
    } else if (as_of == SCRM_RFM_AS_OF_DEFAULT) {
        r->as_of = (scrm__day(tmax, off) + 1) * 86400 - off;
    } else {
        r->as_of = as_of;
        if (as_of <= tmax)
            *cut_out = as_of;
    }
}

/* Recency in days from as_of (r->recency holds last-order days on entry),
 * and the counts of scored and refund-only customers. */
static int finish_recency(scrm_rfm *r, int32_t *max_rec_out, const char *fn)
{
    int64_t as_of_day = scrm__day(r->as_of, r->utc_offset);
    int32_t max_rec = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->recency[i] == NO_ROW) { /* not a customer yet at as_of */
            r->recency[i] = 0;
            continue;
        }
        int32_t d = (int32_t)(as_of_day - r->recency[i]);
        r->recency[i] = d;
        max_rec = d > max_rec ? d : max_rec;
        if (r->segment[i] != SCRM_RFM_NOT_SCORED) {
            r->scored++;
        } else {
            r->refund_only++;
            if (scrm__add_overflow_i64(r->refund_only_revenue, r->revenue[i],
                                       &r->refund_only_revenue))
                return scrm__error(SCRM_EOVERFLOW, -1,
                                   "%s: the refunds of the customers without an order do not "
                                   "fit in int64 minor units",
                                   fn);
        }
    }
    *max_rec_out = max_rec;
    return SCRM_OK;
}

/* The share of the m customers whose value of dim is the majority value
 * (held by more than half of them), or 0 when no value is: the majority
 * vote of Boyer & Moore (1991, "MJRTY - A Fast Majority Vote Algorithm"),
 * then a count of its candidate. */
static double majority_share(const rank_ctx *c, int dim)
{
    if (c->n == 0)
        return 0.0;
    uint64_t cand = 0, votes = 0, count = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        uint64_t k = dim_key(c, dim, i);
        if (votes == 0) {
            cand = k;
            votes = 1;
        } else {
            votes += k == cand ? 1 : (uint64_t)-1;
        }
    }
    for (uint32_t i = 0; i < c->n; i++)
        count += dim_key(c, dim, i) == cand;
    return 2 * count > c->n ? (double)count / (double)c->n : 0.0;
}

/* Degenerate dimensions: a majority value, or (ranked methods) edges that
 * collapse: an edge equal to the one before it or NaN, i.e. a score that
 * no customer gets or that splits one value. */
static void flag_degenerate(scrm_rfm *r, const rank_ctx *c, int has_m)
{
    for (int d = 0; d < 3; d++) {
        r->majority[d] = 0.0;
        r->degenerate[d] = 0;
        if ((d == SCRM_RFM_M && !has_m) || c->n == 0)
            continue;
        r->majority[d] = majority_share(c, d);
        if (r->majority[d] > 0)
            r->degenerate[d] |= SCRM_RFM_DEGENERATE_MAJORITY;
        if (r->method == SCRM_RFM_METHOD_FIXED)
            continue;
        for (uint32_t k = 0; k + 1 < r->bins; k++)
            if (isnan(r->edges[d][k]) || (k > 0 && r->edges[d][k] == r->edges[d][k - 1]))
                r->degenerate[d] |= SCRM_RFM_DEGENERATE_EDGES;
    }
}

/* Phase 2: the three scores (and edges) of every scored customer (0 for
 * the others; M is 0 for all without amounts). The customers not scored
 * are left out of the ranking: when there are some, the scored ones are
 * first gathered into dense arrays, ranked there, and the scores scattered
 * back. */
static int score_all(scrm_rfm *r, const scrm_dataset *ds, const scrm_rfm_options *o,
                     int32_t max_rec, uint32_t threads, const char *fn)
{
    const uint32_t n = r->n, m = r->scored, N = r->bins;
    const int has_m = r->has_monetary, dense = m == n;
    rank_ctx rc[3] = {{0}};
    uint32_t *rank = NULL, *seq = NULL, *ids = NULL;
    int32_t *crec = r->recency;
    uint32_t *cfreq = r->frequency;
    double *cmon = r->monetary;
    uint8_t *csc[3] = {r->score[0], r->score[1], r->score[2]};
    int err = SCRM_OK;
    if (!dense) {
        ids = scrm__big_alloc(((size_t)m + 1) * sizeof *ids);
        crec = scrm__big_alloc(((size_t)m + 1) * sizeof *crec);
        cfreq = scrm__big_alloc(((size_t)m + 1) * sizeof *cfreq);
        cmon = scrm__big_alloc(((size_t)m + 1) * sizeof *cmon);
        for (int d = 0; d < 3; d++)
            csc[d] = scrm__big_alloc((size_t)m + 1);
        if (!ids || !crec || !cfreq || !cmon || !csc[0] || !csc[1] || !csc[2]) {
            err = scrm__enomem(fn);
            goto done;
        }
        for (uint32_t i = 0, j = 0; i < n; i++)
            if (r->segment[i] != SCRM_RFM_NOT_SCORED) {
                ids[j] = i;
                crec[j] = r->recency[i];
                cfreq[j] = r->frequency[i];
                cmon[j] = r->monetary[i];
                j++;
            }
    }
    for (int d = 0; d < 3; d++)
        rc[d] = (rank_ctx){.n = m, .rec = crec, .freq = cfreq, .mon = cmon, .max_rec = max_rec};
    if (o->method == SCRM_RFM_METHOD_FIXED) {
        const double *e[3] = {o->r_edges, o->f_edges, o->m_edges};
        for (int d = 0; d < 3; d++) {
            if (d == SCRM_RFM_M && !has_m)
                continue;
            score_fixed(&rc[0], d, N, e[d], csc[d]);
            memcpy(r->edges[d], e[d], (size_t)(N - 1) * sizeof(double));
        }
    } else {
        /* One scratch set per dimension when they are ranked in parallel
         * (memory is touched only as far as a method needs it). */
        rank_job rj = {.rc = rc,
                       .sets = threads > 1 && m >= 8192 ? (threads < 3 ? threads : 3) : 1,
                       .has_m = has_m, .method = o->method, .N = N, .r = r,
                       .score = {csc[0], csc[1], csc[2]}};
        if (o->method == SCRM_RFM_METHOD_NTILE && m > 0) {
            /* scored customers in key order: the NTILE tie-break (before the
             * ranking scratch: the key sort's own scratch is freed by then,
             * so the two are never held at once) */
            if ((err = scrm__dataset_key_ranks(&rank, ds, threads)) < 0)
                goto done;
            seq = scrm__big_alloc((size_t)n * sizeof *seq);
            if (!seq) {
                err = scrm__enomem(fn);
                goto done;
            }
            for (uint32_t i = 0; i < n; i++)
                seq[rank[i]] = i;
            if (!dense) { /* keep the scored, as dense indices (rank: customer -> dense) */
                for (uint32_t j = 0; j < m; j++)
                    rank[ids[j]] = j;
                uint32_t k = 0;
                for (uint32_t j = 0; j < n; j++)
                    if (r->segment[seq[j]] != SCRM_RFM_NOT_SCORED)
                        seq[k++] = rank[seq[j]];
            }
            scrm__free(rank);
            rank = NULL;
        }
        for (uint32_t k = 0; k < rj.sets; k++) {
            rc[k].ka = scrm__big_alloc((size_t)m * sizeof *rc[k].ka);
            rc[k].kb = scrm__big_alloc((size_t)m * sizeof *rc[k].kb);
            rc[k].ord = scrm__big_alloc((size_t)m * sizeof *rc[k].ord);
            rc[k].aux = scrm__big_alloc(((size_t)m + 256) * sizeof *rc[k].aux);
            if (!rc[k].ka || !rc[k].kb || !rc[k].ord || !rc[k].aux) {
                err = scrm__enomem(fn);
                goto done;
            }
        }
        rj.seq = seq;
        scrm__parallel_for(rj.sets, 3, rank_range, &rj);
    }
    if (!has_m) {
        memset(r->score[SCRM_RFM_M], 0, n);
        for (uint32_t k = 0; k + 1 < N; k++)
            r->edges[SCRM_RFM_M][k] = NAN;
    }
    flag_degenerate(r, &rc[0], has_m);
    if (!dense) {
        for (int d = 0; d < 3; d++) {
            memset(r->score[d], 0, n);
            if (d == SCRM_RFM_M && !has_m)
                continue;
            for (uint32_t j = 0; j < m; j++)
                r->score[d][ids[j]] = csc[d][j];
        }
    }
done:
    scrm__free(rank);
    scrm__free(seq);
    for (int k = 0; k < 3; k++) {
        scrm__free(rc[k].ka);
        scrm__free(rc[k].kb);
        scrm__free(rc[k].ord);
        scrm__free(rc[k].aux);
    }
    if (!dense) {
        scrm__free(ids);
        scrm__free(crec);
        scrm__free(cfreq);
        scrm__free(cmon);
        for (int d = 0; d < 3; d++)
            scrm__free(csc[d]);
    }
    return err;
}

/* Phase 3: segments from a lookup table of the N^3 score cells (N^2 cells
 * of R and F, the rules' M bounds ignored, without a monetary dimension),
 * then the segment summary. */
static int segment_all(scrm_rfm *r, const char *fn)
{
    const uint32_t N = r->bins, cells = N * N * N;
    int32_t *lut = scrm__malloc((size_t)cells * sizeof *lut);
    if (!lut)
        return scrm__enomem(fn);
    for (uint32_t a = 1; a <= N; a++)
        for (uint32_t b = 1; b <= N; b++)
            for (uint32_t c = 1; c <= N; c++)
                lut[((a - 1) * N + (b - 1)) * N + (c - 1)] =
                    r->has_monetary ? scrm_segment_map_match(r->map, a, b, c)
                                    : scrm__segment_map_match_rf(r->map, a, b);
    const uint32_t mm = r->has_monetary; /* M scores are 0 without amounts */
    for (uint32_t i = 0; i < r->n; i++)
        if (r->segment[i] != SCRM_RFM_NOT_SCORED)
            r->segment[i] =
                lut[((uint32_t)(r->score[0][i] - 1) * N + (r->score[1][i] - 1)) * N +
                    (mm ? r->score[2][i] - 1 : 0)];
    scrm__free(lut);
    return summarize(r);
}

SCRM_EXPORT int scrm_rfm_compute(scrm_rfm **out, const scrm_dataset *ds,
                                 const scrm_rfm_options *opts)
{
    static const char fn[] = "scrm_rfm_compute";
    scrm_rfm_options o;
    scrm_rfm *r = NULL;
    scrm__summary *snap = NULL;
    int err;

    if (!out || !ds)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    if ((err = scrm__options_load(&o, &options_default, sizeof o, opts, options_sizes,
                                  SCRM_RFM_OPTIONS_VERSION, fn)) < 0 ||
        (err = check_options(&o, scrm_dataset_has_amounts(ds), fn)) < 0)
        return err;
    uint64_t n64 = scrm_dataset_customer_count(ds);
    if (n64 > UINT32_MAX)
        return scrm__error(SCRM_EINVAL, -1, "%s: too many customers", fn);
    if ((err = result_new(&r, (uint32_t)n64, &o, scrm_dataset_has_amounts(ds), fn)) < 0)
        return err;
    int64_t cut;
    resolve_as_of(r, ds, o.as_of, o.utc_offset, &cut);

    /* phase 1: per-customer values, partition by partition; from the
     * shared summary, or from a snapshot of the rows before a past as_of */
    agg_ctx ac = {.days_mode = o.frequency_mode == SCRM_RFM_FREQUENCY_DAYS,
                  .mean_mode = o.monetary_mode == SCRM_RFM_MONETARY_MEAN,
                  .off = o.utc_offset,
                  .r = r,
                  .cut = cut};
    scrm__run run = {.fn = fn, .ds = ds, .threads = o.threads, .progress = o.progress,
                     .payload = o.progress_payload, .want_summary = cut == INT64_MAX,
                     .utc_offset = o.utc_offset, .part = agg_part, .ctx = &ac};
    if (cut != INT64_MAX) {
        if (!(snap = scrm__summary_new(r->n, o.utc_offset))) {
            err = scrm__enomem(fn);
            goto done;
        }
        ac.snap = snap;
        run.scratch_size = sizeof(snap_scratch);
        run.scratch_new = snap_scratch_new;
        run.scratch_free = snap_scratch_free;
        run.merge = snap_merge;
    }
    if ((err = scrm__run_partitions(&run)) < 0)
        goto done;
    int64_t bad = atomic_load(snap ? &snap->overflow : &run.summary->overflow);
    if (bad >= 0) {
        err = scrm__error(SCRM_EOVERFLOW, -1,
                          "%s: the revenue of customer index %lld does not fit in int64 minor "
                          "units",
                          fn, (long long)bad);
        goto done;
    }
    int32_t max_rec = 0;
    if ((err = finish_recency(r, &max_rec, fn)) < 0 ||
        (err = score_all(r, ds, &o, max_rec, run.threads_used, fn)) < 0 ||
        (err = segment_all(r, fn)) < 0)
        goto done;
    *out = r;
    r = NULL;
done:
    scrm__summary_free(snap);
    scrm_rfm_free(r);
    return err;
}

/* ---- getters ---- */

SCRM__GETTER(uint32_t, scrm_rfm_customer_count, scrm_rfm, n, 0)
SCRM__GETTER(const int32_t *, scrm_rfm_recency_days, scrm_rfm, recency, NULL)
SCRM__GETTER(const uint32_t *, scrm_rfm_frequency, scrm_rfm, frequency, NULL)
SCRM__GETTER(const double *, scrm_rfm_monetary, scrm_rfm, monetary, NULL)
SCRM__GETTER(const int64_t *, scrm_rfm_revenue, scrm_rfm, revenue, NULL)
SCRM_EXPORT const uint8_t *scrm_rfm_scores(const scrm_rfm *r, int dim)
{
    return r && dim >= 0 && dim < 3 ? r->score[dim] : NULL;
}
SCRM_EXPORT const double *scrm_rfm_edges(const scrm_rfm *r, int dim)
{
    return r && dim >= 0 && dim < 3 ? r->edges[dim] : NULL;
}
SCRM__GETTER(const int32_t *, scrm_rfm_segments, scrm_rfm, segment, NULL)
SCRM__GETTER(int64_t, scrm_rfm_as_of, scrm_rfm, as_of, 0)
SCRM__GETTER(uint32_t, scrm_rfm_bins, scrm_rfm, bins, 0)
SCRM__GETTER(const scrm_segment_map *, scrm_rfm_segment_map, scrm_rfm, map, NULL)
SCRM__GETTER(const uint64_t *, scrm_rfm_segment_customers, scrm_rfm, seg_count, NULL)
SCRM__GETTER(const int64_t *, scrm_rfm_segment_revenue, scrm_rfm, seg_revenue, NULL)
SCRM_EXPORT const double *scrm_rfm_segment_stat(const scrm_rfm *r, int stat)
{
    return r && stat >= 0 && stat < N_STATS ? r->seg_stat[stat] : NULL;
}
SCRM__GETTER(uint64_t, scrm_rfm_unassigned_count, scrm_rfm, unassigned, 0)
SCRM__GETTER(uint32_t, scrm_rfm_scored_count, scrm_rfm, scored, 0)
SCRM__GETTER(uint64_t, scrm_rfm_refund_only_count, scrm_rfm, refund_only, 0)
SCRM__GETTER(int64_t, scrm_rfm_refund_only_revenue, scrm_rfm, refund_only_revenue, 0)
SCRM__GETTER(uint64_t, scrm_rfm_rows_after_as_of, scrm_rfm, rows_after, 0)
SCRM__GETTER(int, scrm_rfm_has_monetary, scrm_rfm, has_monetary, 0)
SCRM_EXPORT double scrm_rfm_majority_share(const scrm_rfm *r, int dim)
{
    return r && dim >= 0 && dim < 3 ? r->majority[dim] : 0.0;
}
SCRM_EXPORT int scrm_rfm_degenerate(const scrm_rfm *r, int dim)
{
    return r && dim >= 0 && dim < 3 ? r->degenerate[dim] : 0;
}

/* ---- audiences ---- */

/* Fill sel[0..n_seg] (last: unassigned) from the chosen segments. */
static int select_segments(uint8_t *sel, const scrm_rfm *r, const int32_t *segments,
                           uint32_t n_segments, const char *fn)
{
    memset(sel, 0, (size_t)r->n_seg + 1);
    for (uint32_t k = 0; k < n_segments; k++) {
        int32_t s = segments[k];
        if (s < -1 || (s >= 0 && (uint32_t)s >= r->n_seg))
            return scrm__error(SCRM_EINVAL, k,
                               "%s: segment %d (item %u) is not -1 or below the %u segments", fn,
                               s, k, r->n_seg);
        sel[s < 0 ? r->n_seg : (uint32_t)s] = 1;
    }
    return SCRM_OK;
}

SCRM_EXPORT int scrm_rfm_audience(uint32_t *indices_out, uint64_t capacity, uint64_t *count_out,
                                  const scrm_rfm *r, const int32_t *segments,
                                  uint32_t n_segments)
{
    static const char fn[] = "scrm_rfm_audience";
    if (!count_out || !r || (n_segments && !segments))
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    uint8_t *sel = scrm__malloc((size_t)r->n_seg + 1);
    if (!sel)
        return scrm__enomem(fn);
    int err = select_segments(sel, r, segments, n_segments, fn);
    if (err) {
        scrm__free(sel);
        return err;
    }
    uint64_t c = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        int32_t s = r->segment[i];
        if (s != SCRM_RFM_NOT_SCORED && sel[s < 0 ? r->n_seg : (uint32_t)s]) {
            if (indices_out && c < capacity)
                indices_out[c] = i;
            c++;
        }
    }
    scrm__free(sel);
    *count_out = c;
    return SCRM_OK;
}

/* ---- CSV ---- */

/* The writer helpers are shared with the cohort export: lib/csvout.c. */

/* The order of the rows of both RFM CSV exports, decided here only: the
 * customers of the dataset in key order (numeric for uint64 keys, bytewise
 * for strings, a prefix first), the same for any load or thread count.
 * order_out[0..*count_out) are customer indices (of ds, which may have
 * gained customers since the result: the writers skip those). */
static int csv_row_order(uint32_t **order_out, uint32_t *count_out, const scrm_dataset *ds,
                         const char *fn)
{
    uint32_t *rank = NULL, n = (uint32_t)scrm_dataset_customer_count(ds);
    int err = scrm__dataset_key_ranks(&rank, ds, scrm__threads(0, ds));
    if (err)
        return err;
    uint32_t *order = scrm__big_alloc(((size_t)n + 1) * sizeof *order);
    if (!order) {
        scrm__free(rank);
        return scrm__enomem(fn);
    }
    for (uint32_t i = 0; i < n; i++)
        order[rank[i]] = i;
    scrm__free(rank);
    *order_out = order;
    *count_out = n;
    return SCRM_OK;
}

static int check_ds(const scrm_rfm *r, const scrm_dataset *ds, const char *fn)
{
    if (scrm_dataset_customer_count(ds) < r->n ||
        (r->n && scrm_dataset_key_type(ds) == SCRM_KEY_AUTO))
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: the dataset is not the one the result was computed from", fn);
    return SCRM_OK;
}

/* ---- CSV exports: one row per customer, formatted in parallel ---- */

/* Row j of an export is customer order[j] (csv_row_order); customers the
 * dataset gained after the result, and customers not scored, are skipped. */
typedef struct export_rows {
    const scrm_rfm *r;
    const scrm_dataset *ds;
    const uint32_t *order;
    uint32_t n_order;
    int key_type;
    uint32_t digits;
    const uint8_t *sel; /* audience: selected segments, n_seg = unassigned */
} export_rows;

static void segment_cell(scrm__csvout *w, const scrm_rfm *r, int32_t s)
{
    if (s >= 0) {
        const char *name = scrm_segment_map_name(r->map, (uint32_t)s);
        scrm__csvout_text(w, name, strlen(name));
    }
    scrm__csvout_ch(w, '\n');
}

/* Rows ahead whose customer's cells are prefetched: key order visits the
 * result's arrays at random, and without it every row waits for several
 * cache misses in turn (the export of 2.5M customers took 1.1 s, not 0.2). */
#define EXPORT_PREFETCH 16

/* The customer of row j, or UINT32_MAX when the row is skipped. */
static uint32_t export_customer(const export_rows *x, uint32_t j)
{
    if (j + EXPORT_PREFETCH < x->n_order) {
        const uint32_t p = x->order[j + EXPORT_PREFETCH];
        const scrm_rfm *r = x->r;
        if (p < r->n) {
            __builtin_prefetch(&r->segment[p]);
            __builtin_prefetch(&r->recency[p]);
            __builtin_prefetch(&r->frequency[p]);
            if (r->revenue)
                __builtin_prefetch(&r->revenue[p]);
            for (int d = 0; d < 3; d++)
                if (r->score[d])
                    __builtin_prefetch(&r->score[d][p]);
            scrm__dataset_prefetch_key(x->ds, p);
        }
    }
    uint32_t i = x->order[j];
    if (i >= x->r->n || x->r->segment[i] == SCRM_RFM_NOT_SCORED)
        return UINT32_MAX;
    return i;
}

static int audience_row(scrm__csvout *w, const void *vx, uint32_t j)
{
    const export_rows *x = vx;
    uint32_t i = export_customer(x, j);
    if (i == UINT32_MAX)
        return SCRM_OK;
    int32_t s = x->r->segment[i];
    if (!x->sel[s < 0 ? x->r->n_seg : (uint32_t)s])
        return SCRM_OK;
    int err = scrm__csvout_key(w, x->ds, x->key_type, i);
    scrm__csvout_ch(w, ',');
    segment_cell(w, x->r, s);
    return err;
}

/* The monetary cell of customer i: revenue, or its mean rounded exactly to
 * the minor unit, halves away from zero. */
static void put_monetary(scrm__csvout *w, const scrm_rfm *r, uint32_t i, uint32_t digits)
{
    int64_t cents = r->revenue[i];
    uint32_t f = r->frequency[i];
    if (r->monetary_mode == SCRM_RFM_MONETARY_MEAN && f > 1) {
        int64_t q = cents / (int64_t)f, rem = cents % (int64_t)f;
        uint64_t arem = rem < 0 ? (uint64_t)-rem : (uint64_t)rem;
        if (2 * arem >= f)
            q += cents < 0 ? -1 : 1;
        cents = q;
    }
    scrm__csvout_money(w, cents, digits);
}

static int score_row(scrm__csvout *w, const void *vx, uint32_t j)
{
    const export_rows *x = vx;
    const scrm_rfm *r = x->r;
    uint32_t i = export_customer(x, j);
    if (i == UINT32_MAX)
        return SCRM_OK;
    /* without amounts there is no monetary dimension: no columns for it */
    const int has_m = r->has_monetary;
    int err = scrm__csvout_key(w, x->ds, x->key_type, i);
    scrm__csvout_ch(w, ',');
    scrm__csvout_i64(w, r->recency[i]);
    scrm__csvout_ch(w, ',');
    scrm__csvout_u64(w, r->frequency[i]);
    if (has_m) {
        scrm__csvout_ch(w, ',');
        put_monetary(w, r, i, x->digits);
    }
    for (int d = 0; d < (has_m ? 3 : 2); d++) {
        scrm__csvout_ch(w, ',');
        scrm__csvout_u64(w, r->score[d][i]);
    }
    scrm__csvout_ch(w, ',');
    segment_cell(w, r, r->segment[i]);
    return err;
}

/* Open path, write head, then the rows of the export in csv_row_order. */
static int write_export(const scrm_rfm *r, const scrm_dataset *ds, const char *path,
                        const char *head, scrm__csvout_row_fn row, const uint8_t *sel,
                        const char *fn)
{
    uint32_t *order = NULL, n_order = 0;
    int err = csv_row_order(&order, &n_order, ds, fn);
    if (err < 0)
        return err;
    scrm__csvout w;
    if ((err = scrm__csvout_open(&w, path, scrm__threads(0, ds), fn)) < 0) {
        scrm__free(order);
        return err;
    }
    scrm__csvout_put(&w, head, strlen(head));
    const export_rows x = {r, ds, order, n_order, scrm_dataset_key_type(ds),
                           scrm_dataset_minor_digits(ds), sel};
    err = scrm__csvout_rows(&w, n_order, row, &x);
    scrm__free(order);
    return scrm__csvout_close(&w, path, err, fn);
}

SCRM_EXPORT int scrm_rfm_audience_write_csv(const scrm_rfm *r, const scrm_dataset *ds,
                                            const int32_t *segments, uint32_t n_segments,
                                            const char *path)
{
    static const char fn[] = "scrm_rfm_audience_write_csv";
    if (!r || !ds || !path || (n_segments && !segments))
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    int err = check_ds(r, ds, fn);
    if (err)
        return err;
    uint8_t *sel = scrm__malloc((size_t)r->n_seg + 1);
    if (!sel)
        return scrm__enomem(fn);
    if ((err = select_segments(sel, r, segments, n_segments, fn)) == 0)
        err = write_export(r, ds, path, "customer,segment\n", audience_row, sel, fn);
    scrm__free(sel);
    return err;
}

SCRM_EXPORT int scrm_rfm_write_csv(const scrm_rfm *r, const scrm_dataset *ds, const char *path)
{
    static const char fn[] = "scrm_rfm_write_csv";
    if (!r || !ds || !path)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    int err = check_ds(r, ds, fn);
    if (err)
        return err;
    return write_export(r, ds, path,
                        r->has_monetary ? "customer,recency_days,frequency,monetary,r,f,m,segment\n"
                                        : "customer,recency_days,frequency,r,f,segment\n",
                        score_row, NULL, fn);
}
