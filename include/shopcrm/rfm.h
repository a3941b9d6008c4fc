/**
 * @file shopcrm/rfm.h
 * @brief RFM scoring (recency, frequency, monetary), segment maps, segment
 *        summaries and audiences.
 *
 * @defgroup scrm_rfm RFM analysis
 * Scores every customer of an orders dataset by recency (R), frequency (F)
 * and monetary value (M), each on 1..N (N = `bins`, 2..10, default 5; a
 * higher score is always better, so the most recent customers get R = N),
 * then names segments with an ordered rule table (a ::scrm_segment_map).
 *
 * ## Per-customer values (exact definitions)
 * Let `day(t) = floor((t + utc_offset) / 86400)` be the civil day of a time.
 * An **order** is a row with amount ≥ 0 (a zero amount is an order); a
 * **refund** is a row with amount < 0.
 * - **recency_days** = day(as_of) − day(t), t = the time of the customer's
 *   last order; for a customer with only refunds, of the last refund.
 * - **frequency** = the number of orders (::SCRM_RFM_FREQUENCY_ORDERS), or the
 *   number of distinct days with an order (::SCRM_RFM_FREQUENCY_DAYS).
 *   Refunds never count.
 * - **revenue** = the exact sum of all amounts, refunds included, in minor
 *   units (`int64_t`; a sum that does not fit is ::SCRM_EOVERFLOW).
 * - **monetary** = revenue (::SCRM_RFM_MONETARY_SUM) or revenue / frequency
 *   (::SCRM_RFM_MONETARY_MEAN; revenue when frequency is 0), as a double in
 *   minor units, computed as `(double)revenue / (double)frequency`.
 *
 * `as_of` defaults (::SCRM_RFM_AS_OF_DEFAULT) to the start of the day after
 * the day of the dataset's last row: `(day(t_max) + 1) * 86400 − utc_offset`
 * (with utc_offset 0, the start of the next UTC day), so the most recent
 * customers have recency 1. An explicit `as_of` scores the **snapshot at
 * as_of**: only rows with time < as_of count (a past date scores the
 * customers as they stood then); the rows at or after it are left out and
 * counted (scrm_rfm_rows_after_as_of()). An order earlier on the day of
 * as_of has recency 0.
 *
 * ## Who is scored
 * A customer is **scored** when they have at least one order (amount ≥ 0)
 * before as_of (scrm_rfm_scored_count()); ranks, scores, edges, segments and
 * the segment summary are over the scored customers only. The others have
 * scores 0 and segment ::SCRM_RFM_NOT_SCORED and are reported apart:
 * - **refund-only** customers (refunds but no order before as_of, such as a
 *   cancellation whose order is outside the data): scrm_rfm_refund_only_count()
 *   and the sum of their refunds, scrm_rfm_refund_only_revenue(); their
 *   per-customer values follow the definitions above (frequency 0);
 * - customers without any row before as_of (only with a past as_of): all
 *   their per-customer values are 0.
 *
 * ## Without amounts (count-only)
 * When the dataset has no amounts (scrm_dataset_has_amounts() is 0: an
 * event log), there is no monetary dimension (scrm_rfm_has_monetary() is
 * 0): monetary is NaN, revenue 0, M scores 0, M edges NaN, the mean M and
 * mean monetary statistics NaN; segments are matched on R and F alone (the
 * rules' M bounds are ignored), with the R×F grid "rf10-v1" as the default
 * map, and scrm_rfm_write_csv() leaves out the monetary and m columns.
 *
 * ## Degenerate dimensions
 * When one value is held by most customers (Olist: 9,735 of 9,812 have one
 * order), a dimension's scores say little: quantile scores lump everyone
 * into one score, NTILE splits the tie by customer key. scrm_rfm_degenerate()
 * flags, per dimension (over the scored customers):
 * ::SCRM_RFM_DEGENERATE_MAJORITY when one value is held by more than half
 * of the customers (scrm_rfm_majority_share() gives that share), and, for
 * QUANTILE and NTILE, ::SCRM_RFM_DEGENERATE_EDGES when its edges collapse
 * (an edge is NaN or equal to the one before it: a score nobody gets, or a
 * tie split across scores). Better choices then: frequency by distinct days
 * (::SCRM_RFM_FREQUENCY_DAYS), fixed edges, an R×F map ("rf10-v1") when M is
 * the informative one or F the degenerate one, or count-only data for logs
 * without money.
 *
 * ## Scores
 * n = number of scored customers, N = bins. "Better" means: larger frequency or
 * monetary, smaller recency_days.
 * - ::SCRM_RFM_METHOD_QUANTILE: score = 1 + floor(N·c / n), c = the number of
 *   customers strictly worse (F, M: strictly smaller value; R: strictly larger
 *   recency_days). Ties share a score; some scores may be empty (all ties: all
 *   score 1). In pandas: `1 + (N * (s.rank(method='min') - 1)) // n` for F and
 *   M, and the same on `-recency_days` for R.
 * - ::SCRM_RFM_METHOD_NTILE: SQL `NTILE(N) OVER (ORDER BY value ASC,
 *   customer_key ASC)` for F and M, `ORDER BY recency_days DESC, customer_key
 *   ASC` for R (so the most recent get N). With n rows, the first (n mod N)
 *   buckets have floor(n/N)+1 rows, the others floor(n/N); when N > n, only
 *   buckets 1..n are used. Keys compare numerically (uint64 keys) or bytewise
 *   (string keys, a prefix before its extensions).
 * - ::SCRM_RFM_METHOD_FIXED: user edges e_1 < ... < e_{N−1} (finite, strictly
 *   ascending) per dimension: F, M: score = 1 + #{k : value ≥ e_k};
 *   R: score = N − #{k : recency_days ≥ e_k}.
 *
 * scrm_rfm_edges() gives, for each dimension, the N−1 edges used: for FIXED the
 * given ones; for QUANTILE and NTILE e_k (k = 1..N−1) = the smallest value
 * (R: the largest recency_days) among the customers whose score is > k, or
 * NaN when no customer has a score > k. For QUANTILE this means: F or M score
 * > k exactly when value ≥ e_k, R score > k exactly when recency_days ≤ e_k.
 *
 * Ranking and binning are O(n): counting sort for small-range integer keys;
 * otherwise QUANTILE selects the N−1 edges (a histogram of the top bits, then
 * only the keys of the buckets holding an edge are sorted) and NTILE uses an
 * LSD radix sort (8-bit digits). The NTILE tie-break of a dataset with
 * string keys needs the keys in bytewise order: an MSD radix sort on 8-byte
 * chunks, O(total key bytes). Results are bit-identical whatever the thread
 * count.
 *
 * ## Segments
 * A ::scrm_segment_map is an ordered list of rules (name, R lo..hi, F lo..hi,
 * M lo..hi, inclusive); a customer gets the first rule that matches, or −1
 * (unassigned) when none does: unassigned customers are counted, never
 * dropped. Presets (scrm_segment_map_preset()) are named and versioned: a
 * preset's rules never change; a new version gets a new name.
 *
 * - **"rfm11-v1"**: the 11 segments of the R `rfm` package's vignette "RFM -
 *   Transaction Level Data" (Aravind Hebbali, package rfm, file
 *   vignettes/rfm-transaction-level-data.Rmd of github.com/rsquaredacademy/rfm),
 *   whose table gives (R; F; M): Champions 4-5; 4-5; 4-5 · Loyal Customers
 *   2-5; 3-5; 3-5 · Potential Loyalist 3-5; 1-3; 1-3 · New Customers 4-5; 1; 1
 *   · Promising 3-4; 1; 1 · Need Attention 2-3; 2-3; 2-3 · About To Sleep 2-3;
 *   1-2; 1-2 · At Risk 1-2; 2-5; 2-5 · Can't Lose Them 1; 4-5; 4-5 ·
 *   Hibernating 1-2; 1-2; 1-2 · Lost 1-2; 1-2; 1-2.
 *   In that table order, first match wins leaves New Customers and Promising
 *   inside Potential Loyalist, Can't Lose Them inside At Risk, and Lost has the
 *   same box as Hibernating, so three segments could never be reached. The
 *   preset therefore evaluates the rules in this order (its segment indices):
 *   0 Champions, 1 Loyal Customers, 2 New Customers, 3 Promising, 4 Potential
 *   Loyalist, 5 Need Attention, 6 About To Sleep, 7 Can't Lose Them, 8 At Risk,
 *   9 Lost, 10 Hibernating; and, since two identical boxes cannot both be
 *   reached in any order, Lost is narrowed to the vignette's description
 *   "lowest recency, frequency & monetary scores": R 1, F 1, M 1. All other
 *   boxes are the vignette's. Of the 125 cells (r,f,m) in 1..5³, the segments
 *   get: Champions 8, Loyal Customers 28, New Customers 2, Promising 1,
 *   Potential Loyalist 21, Need Attention 3, About To Sleep 3, Can't Lose Them 4,
 *   At Risk 16, Lost 1, Hibernating 2; 36 cells are unassigned (for example
 *   R 5, F 5, M 1: the vignette's boxes do not cover the whole cube).
 * - **"rfm11-v2"** (the default): "rfm11-v1" with two boxes widened so that
 *   every one of the 125 cells gets one of the 11 segments: Potential
 *   Loyalist becomes R 3-5, F 1-5, M 1-5 and Hibernating R 1-2, F 1-5, M 1-5.
 *   Same names, same evaluation order (same segment indices) as "rfm11-v1",
 *   and each cell "rfm11-v1" assigns keeps its segment; of the 36 cells
 *   "rfm11-v1" leaves unassigned, those with R ≥ 3 (recent buyers who are
 *   not yet loyal: high spend in one or two orders, or many small orders)
 *   go to Potential Loyalist and those with R ≤ 2 (lapsed buyers who are
 *   not frequent and valuable enough for At Risk) to Hibernating. Cells per
 *   segment: Champions 8, Loyal Customers 28, New Customers 2, Promising 1,
 *   Potential Loyalist 45, Need Attention 3, About To Sleep 3, Can't Lose
 *   Them 4, At Risk 16, Lost 1, Hibernating 14; none unassigned.
 * - **"rf10-v1"**: the common R×F grid (F and R scores only, M ignored), as
 *   circulated in the "CRM Analytics" course material and many public
 *   notebooks as the regular-expression map `seg_map = {r'[1-2][1-2]':
 *   'hibernating', r'[1-2][3-4]': 'at_risk', ...}`: 0 Hibernating R1-2 F1-2,
 *   1 At Risk R1-2 F3-4, 2 Can't Lose R1-2 F5, 3 About To Sleep R3 F1-2, 4 Need
 *   Attention R3 F3, 5 Loyal Customers R3-4 F4-5, 6 Promising R4 F1, 7 New
 *   Customers R5 F1, 8 Potential Loyalists R4-5 F2-3, 9 Champions R5 F4-5. The
 *   ten boxes partition the 25 (R, F) cells: nobody is unassigned.
 *
 * Presets assume N = 5: scoring with a preset and another N is ::SCRM_EINVAL.
 * @{
 */
#ifndef SHOPCRM_RFM_H
#define SHOPCRM_RFM_H

#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An RFM result (opaque): per-customer columns, scores, segments and summary. */
typedef struct scrm_rfm scrm_rfm;

/** An ordered segment rule table (opaque). */
typedef struct scrm_segment_map scrm_segment_map;

/* ------------------------------------------------------------------------ */
/* Segment maps                                                              */
/* ------------------------------------------------------------------------ */

/** Largest score bound a rule may use (the largest number of bins). */
#define SCRM_RFM_MAX_BINS 10
/** Longest segment name, in bytes (without the terminating NUL). */
#define SCRM_SEGMENT_NAME_MAX 255

/**
 * Create an empty segment map (no rule: every customer is unassigned).
 *
 * @param[out] out  receives the map; the caller owns it, free with scrm_segment_map_free().
 * @return SCRM_OK, SCRM_EINVAL (NULL @p out), SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_segment_map_new(scrm_segment_map **out);

/**
 * Free a segment map. Accepts NULL.
 *
 * @param map  the map, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_segment_map_free(scrm_segment_map *map);

/**
 * Append a rule; rules are tried in the order they were added, first match wins.
 *
 * A customer matches when `r_lo <= R <= r_hi`, `f_lo <= F <= f_hi` and
 * `m_lo <= M <= m_hi`. To ignore a dimension give 1..::SCRM_RFM_MAX_BINS.
 *
 * @param map   the map.
 * @param name  the segment's name: non-empty, at most ::SCRM_SEGMENT_NAME_MAX
 *              bytes, not already in the map; copied.
 * @param r_lo  lowest recency score, 1..10.
 * @param r_hi  highest recency score, r_lo..10.
 * @param f_lo  lowest frequency score, 1..10.
 * @param f_hi  highest frequency score, f_lo..10.
 * @param m_lo  lowest monetary score, 1..10.
 * @param m_hi  highest monetary score, m_lo..10.
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad bound or name), SCRM_ENOMEM (map unchanged).
 * @since 1.0
 */
SCRM_EXPORT int scrm_segment_map_add(scrm_segment_map *map, const char *name, uint32_t r_lo,
                                     uint32_t r_hi, uint32_t f_lo, uint32_t f_hi, uint32_t m_lo,
                                     uint32_t m_hi);

/**
 * Create a map holding a named, versioned preset ("rfm11-v2", "rfm11-v1",
 * "rf10-v1"; see
 * the group description for their rules and sources).
 *
 * @param[out] out  receives the map; the caller owns it.
 * @param name      the preset's name.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_ENOTFOUND (no such preset), SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_segment_map_preset(scrm_segment_map **out, const char *name);

/**
 * The name of the @p index-th preset, to list them.
 *
 * @param index  0, 1, ...
 * @return a static string, or NULL when @p index is past the last preset.
 * @since 1.0
 */
SCRM_EXPORT const char *scrm_segment_map_preset_name(uint32_t index);

/**
 * Copy a segment map.
 *
 * @param[out] out  receives the copy; the caller owns it.
 * @param map       the map to copy; borrowed.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_segment_map_copy(scrm_segment_map **out, const scrm_segment_map *map);

/**
 * Number of rules (segments) of a map.
 *
 * @param map  the map (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_segment_map_count(const scrm_segment_map *map);

/**
 * The name of segment @p index.
 *
 * @param map    the map.
 * @param index  a segment index, below scrm_segment_map_count().
 * @return the NUL-terminated name, owned by the map (valid until it is freed),
 *         or NULL for a NULL map or an index out of range.
 * @since 1.0
 */
SCRM_EXPORT const char *scrm_segment_map_name(const scrm_segment_map *map, uint32_t index);

/**
 * The score bounds of segment @p index.
 *
 * @param[out] bounds_out  receives r_lo, r_hi, f_lo, f_hi, m_lo, m_hi. @scrm_len{6}
 * @param map              the map.
 * @param index            a segment index.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_ENOTFOUND (index out of range).
 * @since 1.0
 */
SCRM_EXPORT int scrm_segment_map_rule(uint32_t *bounds_out, const scrm_segment_map *map,
                                      uint32_t index);

/**
 * Find a segment by name.
 *
 * @param[out] index_out  receives the segment index.
 * @param map             the map.
 * @param name            the name (compared bytewise).
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_ENOTFOUND.
 * @since 1.0
 */
SCRM_EXPORT int scrm_segment_map_find(uint32_t *index_out, const scrm_segment_map *map,
                                      const char *name);

/**
 * The number of bins a map was designed for.
 *
 * @param map  the map.
 * @return 5 for the presets; 0 (any number of bins) for maps built with
 *         scrm_segment_map_new() or a NULL map.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_segment_map_bins(const scrm_segment_map *map);

/**
 * The segment of one score triple (first matching rule).
 *
 * @param map  the map.
 * @param r    recency score.
 * @param f    frequency score.
 * @param m    monetary score.
 * @return the segment index, or -1 when no rule matches or @p map is NULL.
 * @since 1.0
 */
SCRM_EXPORT int32_t scrm_segment_map_match(const scrm_segment_map *map, uint32_t r, uint32_t f,
                                           uint32_t m);

/* ------------------------------------------------------------------------ */
/* Scoring                                                                   */
/* ------------------------------------------------------------------------ */

/** Segment of a customer who is not scored (no order before as_of; see "Who is scored"). */
#define SCRM_RFM_NOT_SCORED (-2)

/** Flags of scrm_rfm_degenerate(). Values never change. */
typedef enum scrm_rfm_degenerate_flag {
    SCRM_RFM_DEGENERATE_MAJORITY = 1, /**< One value is held by more than half of the scored customers. */
    SCRM_RFM_DEGENERATE_EDGES = 2     /**< QUANTILE or NTILE edges collapse (an edge NaN or equal to the previous one). */
} scrm_rfm_degenerate_flag;

/** ::scrm_rfm_options.as_of value meaning "the start of the day after the last order's day". */
#define SCRM_RFM_AS_OF_DEFAULT INT64_MIN
/** Scoring method. Passed as `int`; values never change. */
typedef enum scrm_rfm_method {
    SCRM_RFM_METHOD_QUANTILE = 0, /**< Rank quantiles; ties share a score (the default). */
    SCRM_RFM_METHOD_NTILE = 1,    /**< SQL NTILE(N), ties broken by customer key. */
    SCRM_RFM_METHOD_FIXED = 2     /**< User-given edges (::scrm_rfm_options.r_edges, ...). */
} scrm_rfm_method;

/** What frequency counts. Passed as `int`. */
typedef enum scrm_rfm_frequency_mode {
    SCRM_RFM_FREQUENCY_ORDERS = 0, /**< Orders (amount ≥ 0) (the default). */
    SCRM_RFM_FREQUENCY_DAYS = 1    /**< Distinct civil days with an order. */
} scrm_rfm_frequency_mode;

/** What monetary measures. Passed as `int`. */
typedef enum scrm_rfm_monetary_mode {
    SCRM_RFM_MONETARY_SUM = 0, /**< Sum of all amounts, refunds included (the default). */
    SCRM_RFM_MONETARY_MEAN = 1 /**< That sum divided by frequency (the sum if frequency is 0). */
} scrm_rfm_monetary_mode;

/** A dimension, to pick a score column or edges. Passed as `int`. */
typedef enum scrm_rfm_dim {
    SCRM_RFM_R = 0, /**< Recency. */
    SCRM_RFM_F = 1, /**< Frequency. */
    SCRM_RFM_M = 2  /**< Monetary. */
} scrm_rfm_dim;

/** Current version of ::scrm_rfm_options. */
#define SCRM_RFM_OPTIONS_VERSION 1

/** Options of scrm_rfm_compute(). Initialise with ::SCRM_RFM_OPTIONS_INIT. */
typedef struct scrm_rfm_options {
    unsigned version;        /**< ::SCRM_RFM_OPTIONS_VERSION. */
    int64_t as_of;           /**< Analysis time (seconds since the epoch), or ::SCRM_RFM_AS_OF_DEFAULT. */
    int64_t utc_offset;      /**< Seconds added to times before taking civil days; |x| ≤ ::SCRM_MAX_UTC_OFFSET. Default 0. */
    uint32_t bins;           /**< Number of scores N, 2..10. Default 5. */
    int method;              /**< A ::scrm_rfm_method. Default quantile. */
    int frequency_mode;      /**< A ::scrm_rfm_frequency_mode. Default orders. */
    int monetary_mode;       /**< A ::scrm_rfm_monetary_mode. Default sum. */
    const double *r_edges;   /**< FIXED only: N−1 strictly ascending recency_days edges; borrowed during the call. @scrm_len{bins - 1} */
    const double *f_edges;   /**< FIXED only: N−1 strictly ascending frequency edges. @scrm_len{bins - 1} */
    const double *m_edges;   /**< FIXED only: N−1 strictly ascending monetary edges (minor units, as ::scrm_rfm_monetary_mode says); not read (may be NULL) for a dataset without amounts. @scrm_len{bins - 1} */
    const scrm_segment_map *segments; /**< Segment map, copied into the result; NULL = the "rfm11-v2" preset when bins is 5, no segments otherwise. */
    uint32_t threads;        /**< Worker threads; 0 = the dataset's. Results do not depend on it. */
    scrm_progress_fn progress; /**< Progress callback or NULL; units: dataset partitions aggregated. Called on the calling thread only. */
    void *progress_payload;  /**< Passed to @p progress. */
} scrm_rfm_options;

/** Default ::scrm_rfm_options. */
#define SCRM_RFM_OPTIONS_INIT                                                                  \
    { SCRM_RFM_OPTIONS_VERSION, SCRM_RFM_AS_OF_DEFAULT, 0, 5, SCRM_RFM_METHOD_QUANTILE,       \
      SCRM_RFM_FREQUENCY_ORDERS, SCRM_RFM_MONETARY_SUM, NULL, NULL, NULL, NULL, 0, NULL, NULL }

/**
 * Initialise @p opts with the defaults of @p version.
 *
 * @param[out] opts  the options to fill.
 * @param version    ::SCRM_RFM_OPTIONS_VERSION.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_EVERSION (unknown version).
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_options_init(scrm_rfm_options *opts, unsigned version);

/**
 * Score every customer of @p ds by recency, frequency and monetary value and
 * assign segments (definitions: see the group description).
 *
 * An empty dataset gives an empty result (0 customers, NaN edges).
 *
 * @param[out] out  receives a new result; the caller owns it, free with scrm_rfm_free().
 * @param ds        the dataset; borrowed, not retained after return.
 * @param opts      options, or NULL for defaults (see ::SCRM_RFM_OPTIONS_INIT).
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad option or edges, preset with bins ≠ 5),
 *         SCRM_ERANGE (as_of outside the time range),
 *         SCRM_EOVERFLOW (a revenue sum does not fit int64), SCRM_EVERSION,
 *         SCRM_ECANCELLED, SCRM_ENOMEM; detail in scrm_last_error().
 * @note Thread safety: safe on distinct handles; @p ds must not be appended to meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_compute(scrm_rfm **out, const scrm_dataset *ds,
                                 const scrm_rfm_options *opts);

/**
 * Free a result. Accepts NULL.
 *
 * @param r  the result, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_rfm_free(scrm_rfm *r);

/**
 * Number of customers of the result (the dataset's customer count at compute time).
 *
 * Every per-customer array below has this length and is indexed by the
 * dataset's customer index.
 *
 * @param r  the result (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_rfm_customer_count(const scrm_rfm *r);

/**
 * Recency in days of each customer.
 * @param r  the result.
 * @return a read-only array owned by @p r (valid until scrm_rfm_free()), or NULL for NULL.
 *         @scrm_len{scrm_rfm_customer_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const int32_t *scrm_rfm_recency_days(const scrm_rfm *r);

/**
 * Frequency of each customer (orders or distinct days, as the options said).
 * @param r  the result.
 * @return a read-only array owned by @p r, or NULL for NULL.
 *         @scrm_len{scrm_rfm_customer_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const uint32_t *scrm_rfm_frequency(const scrm_rfm *r);

/**
 * Monetary value of each customer (minor units; sum or mean).
 * @param r  the result.
 * @return a read-only array owned by @p r, or NULL for NULL.
 *         @scrm_len{scrm_rfm_customer_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_rfm_monetary(const scrm_rfm *r);

/**
 * Exact revenue (sum of all amounts, refunds included) of each customer, in minor units.
 * @param r  the result.
 * @return a read-only array owned by @p r, or NULL for NULL.
 *         @scrm_len{scrm_rfm_customer_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const int64_t *scrm_rfm_revenue(const scrm_rfm *r);

/**
 * Scores 1..bins of one dimension.
 * @param r    the result.
 * @param dim  a ::scrm_rfm_dim.
 * @return a read-only array owned by @p r, or NULL for NULL or a bad @p dim.
 *         @scrm_len{scrm_rfm_customer_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const uint8_t *scrm_rfm_scores(const scrm_rfm *r, int dim);

/**
 * The bins−1 edges used for one dimension (see the group description; NaN
 * where no customer reaches the score).
 * @param r    the result.
 * @param dim  a ::scrm_rfm_dim.
 * @return a read-only array owned by @p r, or NULL.
 *         @scrm_len{scrm_rfm_bins(r) - 1}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_rfm_edges(const scrm_rfm *r, int dim);

/**
 * Segment of each customer: an index into scrm_rfm_segment_map(), −1
 * (unassigned: no rule matched), or ::SCRM_RFM_NOT_SCORED (−2: no order
 * before as_of).
 * @param r  the result.
 * @return a read-only array owned by @p r, or NULL for NULL.
 *         @scrm_len{scrm_rfm_customer_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const int32_t *scrm_rfm_segments(const scrm_rfm *r);

/**
 * The as_of time used (the default resolved; 0 for an empty dataset with the default).
 * @param r  the result (NULL gives 0).
 * @return seconds since the epoch.
 * @since 1.0
 */
SCRM_EXPORT int64_t scrm_rfm_as_of(const scrm_rfm *r);

/**
 * The number of bins N used.
 * @param r  the result (NULL gives 0).
 * @return 2..10.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_rfm_bins(const scrm_rfm *r);

/**
 * The segment map used: a copy owned by the result.
 * @param r  the result.
 * @return the map (valid until scrm_rfm_free(); do not free it), or NULL for NULL.
 * @since 1.0
 */
SCRM_EXPORT const scrm_segment_map *scrm_rfm_segment_map(const scrm_rfm *r);

/* ------------------------------------------------------------------------ */
/* Segment summary                                                           */
/* ------------------------------------------------------------------------ */

/**
 * The per-segment statistics of scrm_rfm_segment_stat(). Passed as `int`.
 * Means over a segment without customers are NaN.
 */
typedef enum scrm_rfm_stat {
    SCRM_RFM_STAT_SHARE = 0,          /**< Customers of the segment / all customers (0 when there are none). */
    SCRM_RFM_STAT_MEAN_R = 1,         /**< Mean recency score. */
    SCRM_RFM_STAT_MEAN_F = 2,         /**< Mean frequency score. */
    SCRM_RFM_STAT_MEAN_M = 3,         /**< Mean monetary score. */
    SCRM_RFM_STAT_MEAN_RECENCY = 4,   /**< Mean recency_days. */
    SCRM_RFM_STAT_MEAN_FREQUENCY = 5, /**< Mean frequency. */
    SCRM_RFM_STAT_MEAN_MONETARY = 6   /**< Mean monetary value (minor units). */
} scrm_rfm_stat;

/**
 * Number of customers scored: those with an order before as_of.
 * @param r  the result (NULL gives 0).
 * @return the count (the others have segment ::SCRM_RFM_NOT_SCORED).
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_rfm_scored_count(const scrm_rfm *r);

/**
 * Number of refund-only customers: refunds but no order before as_of; not scored.
 * @param r  the result (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_rfm_refund_only_count(const scrm_rfm *r);

/**
 * The sum of the refunds of the refund-only customers (exact, minor units, ≤ 0).
 * @param r  the result (NULL gives 0).
 * @return the sum; it is in no segment's revenue.
 * @since 1.0
 */
SCRM_EXPORT int64_t scrm_rfm_refund_only_revenue(const scrm_rfm *r);

/**
 * Number of rows (orders and refunds) at or after an explicit as_of, left
 * out of the snapshot.
 * @param r  the result (NULL gives 0).
 * @return the count; 0 with the default as_of.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_rfm_rows_after_as_of(const scrm_rfm *r);

/**
 * Whether the result has a monetary dimension (the dataset has amounts).
 * @param r  the result (NULL gives 0).
 * @return 1, or 0 for a count-only dataset (see "Without amounts").
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_has_monetary(const scrm_rfm *r);

/**
 * The share of the scored customers holding the majority value of a
 * dimension (R: recency_days, F: frequency, M: monetary).
 * @param r    the result.
 * @param dim  a ::scrm_rfm_dim.
 * @return the share, in (0.5, 1], when one value is held by more than half
 *         of the scored customers; 0 otherwise, for NULL, a bad @p dim or M
 *         without amounts.
 * @since 1.0
 */
SCRM_EXPORT double scrm_rfm_majority_share(const scrm_rfm *r, int dim);

/**
 * Whether a dimension is degenerate (see "Degenerate dimensions").
 * @param r    the result.
 * @param dim  a ::scrm_rfm_dim.
 * @return a combination of ::scrm_rfm_degenerate_flag values; 0 when the
 *         dimension is not degenerate, for NULL or a bad @p dim.
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_degenerate(const scrm_rfm *r, int dim);

/**
 * Customers per segment (scored customers only).
 * @param r  the result.
 * @return a read-only array of counts owned by @p r: entry s for segment s,
 *         the last entry for the unassigned; NULL for NULL.
 *         @scrm_len{scrm_segment_map_count(scrm_rfm_segment_map(r)) + 1}
 * @since 1.0
 */
SCRM_EXPORT const uint64_t *scrm_rfm_segment_customers(const scrm_rfm *r);

/**
 * Revenue per segment (exact sum of the customers' revenue, minor units).
 * @param r  the result.
 * @return a read-only array of sums (last: the unassigned) owned by @p r;
 *         NULL for NULL.
 *         @scrm_len{scrm_segment_map_count(scrm_rfm_segment_map(r)) + 1}
 * @since 1.0
 */
SCRM_EXPORT const int64_t *scrm_rfm_segment_revenue(const scrm_rfm *r);

/**
 * A statistic per segment.
 * @param r     the result.
 * @param stat  a ::scrm_rfm_stat.
 * @return a read-only array of values (last: the unassigned) owned by @p r;
 *         NULL for NULL or a bad @p stat.
 *         @scrm_len{scrm_segment_map_count(scrm_rfm_segment_map(r)) + 1}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_rfm_segment_stat(const scrm_rfm *r, int stat);

/**
 * Number of customers no rule matched.
 * @param r  the result (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_rfm_unassigned_count(const scrm_rfm *r);

/* ------------------------------------------------------------------------ */
/* Audiences and CSV export                                                  */
/* ------------------------------------------------------------------------ */

/**
 * The customers of chosen segments (an audience), in ascending customer
 * index; customers not scored are in no audience.
 *
 * Call it once with @p indices_out NULL to get the count, then with an array
 * of that many entries.
 *
 * @param[out] indices_out  receives up to @p capacity customer indices, or NULL.
 *                          @scrm_buffer{capacity, count_out}
 * @param capacity          the length of @p indices_out (ignored when it is NULL).
 * @param[out] count_out    receives the audience's size (may be larger than
 *                          @p capacity: then only the first @p capacity are written).
 * @param r                 the result.
 * @param segments          segment indices; −1 selects the unassigned. @scrm_len{n_segments}
 * @param n_segments        their number (0: empty audience).
 * @return SCRM_OK, SCRM_EINVAL (NULL, segment index out of range), SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_audience(uint32_t *indices_out, uint64_t capacity, uint64_t *count_out,
                                  const scrm_rfm *r, const int32_t *segments,
                                  uint32_t n_segments);

/**
 * Write an audience as CSV: a header `customer,segment`, then one line per
 * customer of the chosen segments with its key and segment name ("" for the
 * unassigned), in customer key order (numeric for `uint64_t` keys, bytewise
 * for string keys, a prefix before its extensions), as scrm_rfm_write_csv().
 *
 * Text cells (keys, names) are escaped for spreadsheets: a cell starting with
 * `=`, `+`, `-`, `@`, TAB or CR is written as a quoted field prefixed with a
 * single quote (`'`) so it is not run as a formula (OWASP, "CSV Injection");
 * other cells are quoted as RFC 4180 says when they hold `,`, `"`, CR or LF.
 * LF line ends.
 *
 * The lines are formatted on the dataset's threads (scrm_dataset_options
 * `threads`) in blocks that are written in order: the bytes do not depend on
 * the thread count.
 *
 * @param r           the result.
 * @param ds          the dataset the result was computed from (for the keys).
 * @param segments    @p n_segments segment indices (−1: the unassigned).
 * @param n_segments  their number.
 * @param path        the file to create or truncate.
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad segment, @p ds does not match), SCRM_EIO, SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_audience_write_csv(const scrm_rfm *r, const scrm_dataset *ds,
                                            const int32_t *segments, uint32_t n_segments,
                                            const char *path);

/**
 * Write every scored customer as CSV: a header
 * `customer,recency_days,frequency,monetary,r,f,m,segment`
 * (`customer,recency_days,frequency,r,f,segment` without amounts), then one
 * line per scored customer in **customer key order**: numeric for `uint64_t`
 * keys, bytewise for string keys (a prefix before its extensions), so the
 * file is the same whatever the load order or thread count. monetary is in major units with the
 * dataset's minor digits as decimals (scrm_dataset_minor_digits(): 2 for
 * cents, as scrm_money_print() writes them; a mean is first rounded to the
 * nearest minor unit, halves away from zero); segment is the name or empty. Text cells are
 * escaped, and lines formatted in parallel, as in scrm_rfm_audience_write_csv().
 *
 * @param r     the result.
 * @param ds    the dataset the result was computed from.
 * @param path  the file to create or truncate.
 * @return SCRM_OK, SCRM_EINVAL (NULL, @p ds does not match), SCRM_EIO, SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_rfm_write_csv(const scrm_rfm *r, const scrm_dataset *ds, const char *path);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_RFM_H */
