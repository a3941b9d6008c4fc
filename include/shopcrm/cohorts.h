/**
 * @file shopcrm/cohorts.h
 * @brief Cohort retention matrices (calendar periods: shopcrm/common.h).
 *
 * @defgroup scrm_cohorts Cohorts
 * ## Cohort matrices
 * A customer's **acquisition time** is the time of their first *counted
 * order* (below), or a time given per customer (::scrm_cohorts_options.acquisition).
 * Their **cohort** is the period of that time. Cell (c, k) of a matrix is
 * about cohort c (period `first_period + c`) and its k-th period since
 * acquisition (period `first_period + c + k`; k = 0 is the acquisition
 * period itself).
 *
 * Rows of the dataset are filtered by the window [start, end) of the options
 * (UTC instants compared with the order time; use scrm_period_start() to get
 * local period boundaries). In the window:
 * - a **counted order** is a row with amount ≥ `min_amount` (≥ 0, default 0,
 *   so refunds, the rows with amount < 0, are never orders);
 * - a **refund** (amount < 0) counts in revenue only when `refunds` is 1;
 * - rows with 0 ≤ amount < `min_amount` and rows outside the window are ignored;
 * - rows in a period before the customer's cohort (refunds, or any row
 *   with given acquisition times) are ignored.
 *
 * A customer is **acquired** when they have a counted order in the window
 * (default) or a given acquisition time inside the window (given; a time
 * outside the window, or INT64_MIN, excludes the customer). Only acquired
 * customers are counted anywhere.
 *
 * The **observation end** E is the last period that is observed: the period
 * of `end − 1` when the window end is given; otherwise the latest of the
 * period of the dataset's last row (any row) and the periods of the given
 * acquisition times in the window. Cohorts run from the first acquired
 * period to the last (C = last − first + 1 rows, empty cohorts included, so
 * rows are calendar-regular); columns k = 0 .. K − 1 with K = E − first + 1.
 * Cell (c, k) is **observable** when c + k ≤ K − 1.
 *
 * Cells (row-major, C × K, index c·K + k):
 * - **active**: ::SCRM_COHORTS_CLASSIC: distinct customers of cohort c with a
 *   counted order in period k; ::SCRM_COHORTS_ROLLING: with a counted order in
 *   period k or later (up to E).
 * - **orders**: counted orders in period k.
 * - **revenue**: exact sum of their amounts (and of refunds when `refunds` is
 *   1), minor units; a sum that does not fit int64 is ::SCRM_EOVERFLOW. A
 *   count-only dataset (scrm_dataset_has_amounts() 0) has no revenue: its
 *   revenue and ltv matrices are 0 and scrm_cohorts_write_csv() leaves the
 *   revenue cells empty.
 * - **retention** = active / size; **ltv** = (revenue of periods 0..k) / size
 *   (the historical LTV curve, minor units per acquired customer);
 *   **cum_orders** = (orders of periods 0..k) / size. These three are NaN
 *   for cells that are not observable and for empty cohorts (size 0).
 * Counts of unobservable cells are 0.
 *
 * ## Merge
 * Matrices computed with the same options (unit, utc_offset, window,
 * min_amount, refunds, mode) on datasets with disjoint customers add up:
 * scrm_cohorts_merge() aligns them by period index, adds sizes and cells,
 * takes the later observation end and recomputes the ratios. Because the
 * observation end of the union is the later of the two (the last row of the
 * union is the later last row), the merge equals the matrix of the union
 * exactly, also when the window end is not given.
 *
 * ## Cost
 * One pass over each dataset partition (all orders of a customer are in one
 * partition) when the acquisition is known up front: given times, or, with no
 * window start and `min_amount` 0 (the defaults), each customer's first order
 * from the dataset's shared per-customer summary (built by the first analysis
 * that needs it). Otherwise one pass when every customer's first counted row
 * is also their earliest (a time-ordered order log) and refunds are ignored,
 * two passes if not. Periods come from a day → period
 * lookup table built once for the data's day range; distinct active
 * customers from a per-customer bitmap of periods, so no sort is needed.
 * Per-thread matrices hold integers and are added in a fixed order: results
 * are bit-identical whatever the thread count. Memory beyond the dataset:
 * the result, per thread an integer matrix of the observed periods (NP·(NP+1)/2
 * cells of 32 bytes, NP = observed periods), 4 bytes per row and 4 + NP/8
 * bytes per customer of the largest partition, and the lookup table (4 bytes
 * per day).
 * @{
 */
#ifndef SHOPCRM_COHORTS_H
#define SHOPCRM_COHORTS_H

#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Cohorts                                                                   */
/* ------------------------------------------------------------------------ */

/** A cohort result (opaque, immutable): matrices, sizes, labels. */
typedef struct scrm_cohorts scrm_cohorts;

/** Retention mode. Passed as `int`. */
typedef enum scrm_cohorts_mode {
    SCRM_COHORTS_CLASSIC = 0, /**< Active in period k: a counted order in that period (the default). */
    SCRM_COHORTS_ROLLING = 1  /**< Active in period k or any later observed period. */
} scrm_cohorts_mode;

/** Window bound of ::scrm_cohorts_options meaning "unbounded" (start and end). */
#define SCRM_COHORTS_ALL INT64_MIN

/** Largest number of cells C × K of a result; a larger matrix is ::SCRM_ERANGE. */
#define SCRM_COHORTS_MAX_CELLS 67108864

/** Current version of ::scrm_cohorts_options. */
#define SCRM_COHORTS_OPTIONS_VERSION 1

/** Options of scrm_cohorts_compute(). Initialise with ::SCRM_COHORTS_OPTIONS_INIT or scrm_cohorts_options_init(). */
typedef struct scrm_cohorts_options {
    unsigned version;        /**< ::SCRM_COHORTS_OPTIONS_VERSION. */
    int unit;                /**< A ::scrm_period_unit; default ::SCRM_PERIOD_MONTH. */
    int64_t utc_offset;      /**< Seconds added to times before taking periods; |x| ≤ ::SCRM_MAX_UTC_OFFSET. Default 0. */
    int64_t start;           /**< Window start, inclusive (UTC seconds), or ::SCRM_COHORTS_ALL (default). */
    int64_t end;             /**< Window end, exclusive (UTC seconds), or ::SCRM_COHORTS_ALL (default); must be > `start`. */
    int64_t min_amount;      /**< Smallest amount (minor units, ≥ 0) of a counted order. Default 0. */
    int refunds;             /**< 1: refunds (amount < 0) count in revenue; 0: ignored (default). */
    int mode;                /**< A ::scrm_cohorts_mode; default ::SCRM_COHORTS_CLASSIC. */
    const int64_t *acquisition; /**< NULL (default): acquisition = first counted order; else one time per
                                     customer index of the dataset (INT64_MIN: not acquired); borrowed during the call.
                                     @scrm_len{acquisition_count} */
    uint32_t acquisition_count; /**< Length of `acquisition`: must equal scrm_dataset_customer_count() when it is not NULL. */
    uint32_t threads;        /**< Worker threads; 0 = the dataset's. Results do not depend on it. */
    scrm_progress_fn progress; /**< Progress callback or NULL; units: dataset partitions. Called on the calling thread only. */
    void *progress_payload;  /**< Passed to @p progress. */
} scrm_cohorts_options;

/** Default ::scrm_cohorts_options: monthly, UTC, all orders, classic retention. */
#define SCRM_COHORTS_OPTIONS_INIT                                                              \
    { SCRM_COHORTS_OPTIONS_VERSION, SCRM_PERIOD_MONTH, 0, SCRM_COHORTS_ALL, SCRM_COHORTS_ALL, 0, \
      0, SCRM_COHORTS_CLASSIC, NULL, 0, 0, NULL, NULL }

/**
 * Initialise @p opts with the defaults of @p version.
 *
 * @param[out] opts  the options to fill.
 * @param version    ::SCRM_COHORTS_OPTIONS_VERSION.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_EVERSION (unknown version).
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_options_init(scrm_cohorts_options *opts, unsigned version);

/**
 * Compute the cohort matrices of a dataset (definitions: see the group description).
 *
 * A dataset or window without acquired customers gives an empty result (0
 * cohorts, 0 periods).
 *
 * @param[out] out  receives a new result; the caller owns it, free with scrm_cohorts_free().
 * @param ds        the dataset; borrowed, not retained after return.
 * @param opts      options, or NULL for defaults (see ::SCRM_COHORTS_OPTIONS_INIT).
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad option, acquisition_count mismatch),
 *         SCRM_ERANGE (a window bound or acquisition time outside years
 *         1..9999, more than ::SCRM_COHORTS_MAX_CELLS cells), SCRM_EOVERFLOW
 *         (a revenue cell does not fit int64), SCRM_EVERSION, SCRM_ECANCELLED,
 *         SCRM_ENOMEM; detail in scrm_last_error().
 * @note Thread safety: safe on distinct handles; @p ds must not be appended to meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_compute(scrm_cohorts **out, const scrm_dataset *ds,
                                     const scrm_cohorts_options *opts);

/**
 * Merge two results computed with the same options on datasets with disjoint
 * customers into the result of their union (see the group description).
 *
 * @param[out] out  receives a new result; the caller owns it.
 * @param a         a result; borrowed.
 * @param b         a result; borrowed.
 * @return SCRM_OK, SCRM_EINVAL (NULL, different unit, offset, window,
 *         min_amount, refunds or mode, or revenues in currencies of different
 *         minor digits: scrm_cohorts_minor_digits(), or one result of a
 *         count-only dataset and one with amounts), SCRM_ERANGE (too many cells),
 *         SCRM_EOVERFLOW (a cell sum does not fit), SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_merge(scrm_cohorts **out, const scrm_cohorts *a,
                                   const scrm_cohorts *b);

/**
 * Free a result. Accepts NULL.
 *
 * @param r  the result, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_cohorts_free(scrm_cohorts *r);

/**
 * Number of cohorts C (rows), consecutive periods from the first to the last cohort.
 * @param r  the result (NULL gives 0).
 * @return C.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_cohorts_count(const scrm_cohorts *r);

/**
 * Number of period columns K (k = 0 .. K − 1 periods since acquisition).
 * @param r  the result (NULL gives 0).
 * @return K = observation end − first period + 1, or 0 for an empty result.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_cohorts_periods(const scrm_cohorts *r);

/**
 * Period index of cohort 0 (cohort c is period `first + c`).
 * @param r  the result (NULL gives 0).
 * @return the period index (0 for an empty result).
 * @since 1.0
 */
SCRM_EXPORT int64_t scrm_cohorts_first_period(const scrm_cohorts *r);

/**
 * Period index of the observation end E (the last observed period).
 * @param r  the result (NULL gives INT64_MIN).
 * @return the period index, INT64_MIN when nothing was observed (empty dataset, no end given).
 * @since 1.0
 */
SCRM_EXPORT int64_t scrm_cohorts_observation_end(const scrm_cohorts *r);

/**
 * The currency's minor digits of the revenue matrices: the dataset's
 * (scrm_dataset_minor_digits()) at compute time; scrm_cohorts_merge()
 * refuses results of different digits. Pass it to scrm_cohorts_write_csv().
 * @param r  the result (NULL gives 2).
 * @return 0 .. ::SCRM_MAX_MINOR_DIGITS.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_cohorts_minor_digits(const scrm_cohorts *r);

/**
 * The period unit of the result.
 * @param r  the result (NULL gives −1).
 * @return a ::scrm_period_unit.
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_unit(const scrm_cohorts *r);

/**
 * Whether the last observed period (the observation end E) is partial: the
 * data stops before E ends. The data is observed up to local midnight after
 * the day of the dataset's last row, and no further than the window end
 * when one is given; E is partial when that is before the start of period
 * E + 1 (Online Retail ends on 2011-12-09: its December 2011 is partial).
 * Partial cells are those of period E: (c, k) with c + k = K − 1, and the
 * whole last cohort's acquisition. scrm_cohorts_merge() observes up to the
 * later of the two.
 * @param r  the result (NULL gives 0).
 * @return 1 when E is partial, 0 when it is complete or nothing was observed.
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_last_partial(const scrm_cohorts *r);

/**
 * How many periods at the end of the frame are not observed to their end:
 * E, E − 1, ... while the observed part (to local midnight after the day of
 * the dataset's last row, no further than the window end) stops before the
 * period ends. 1 when only E is partial (Online Retail, ending 2011-12-09,
 * with monthly cohorts); more when a window end given after the data makes
 * periods without any data observable (Online Retail with `end` 2012-03-01:
 * 2011-12, 2012-01 and 2012-02, so 3), whose cells would otherwise read as
 * 0% retention. Cell (c, k) is partial when c + k ≥ K − n. The CSV export's
 * `partial` column, the CLI's marks and both bindings use it.
 * @param r  the result (NULL gives 0).
 * @return n, 0 .. K; scrm_cohorts_last_partial() is n > 0.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_cohorts_partial_periods(const scrm_cohorts *r);

/**
 * Acquired customers per cohort.
 * @param r  the result.
 * @return a read-only array of counts owned by @p r (valid until
 *         scrm_cohorts_free()), or NULL for NULL or an empty result.
 *         @scrm_len{scrm_cohorts_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const uint64_t *scrm_cohorts_sizes(const scrm_cohorts *r);

/**
 * Active customers per cell (row-major C × K; classic or rolling as the options said).
 * @param r  the result.
 * @return a read-only array of counts owned by @p r, or NULL for NULL or an empty result.
 *         @scrm_shape{scrm_cohorts_count(r), scrm_cohorts_periods(r)}
 * @since 1.0
 */
SCRM_EXPORT const uint64_t *scrm_cohorts_active(const scrm_cohorts *r);

/**
 * Counted orders per cell (row-major C × K).
 * @param r  the result.
 * @return a read-only array of counts owned by @p r, or NULL for NULL or an empty result.
 *         @scrm_shape{scrm_cohorts_count(r), scrm_cohorts_periods(r)}
 * @since 1.0
 */
SCRM_EXPORT const uint64_t *scrm_cohorts_orders(const scrm_cohorts *r);

/**
 * Revenue per cell (row-major C × K), exact, minor units.
 * @param r  the result.
 * @return a read-only array of sums owned by @p r, or NULL for NULL or an empty result.
 *         @scrm_shape{scrm_cohorts_count(r), scrm_cohorts_periods(r)}
 * @since 1.0
 */
SCRM_EXPORT const int64_t *scrm_cohorts_revenue(const scrm_cohorts *r);

/**
 * Retention rate per cell: active / cohort size (NaN when not observable or the cohort is empty).
 * @param r  the result.
 * @return a read-only array of values owned by @p r, or NULL for NULL or an empty result.
 *         @scrm_shape{scrm_cohorts_count(r), scrm_cohorts_periods(r)}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_cohorts_retention(const scrm_cohorts *r);

/**
 * Historical LTV per cell: revenue of periods 0..k / cohort size, minor units
 * (NaN when not observable or the cohort is empty).
 * @param r  the result.
 * @return a read-only array of values owned by @p r, or NULL for NULL or an empty result.
 *         @scrm_shape{scrm_cohorts_count(r), scrm_cohorts_periods(r)}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_cohorts_ltv(const scrm_cohorts *r);

/**
 * Cumulative orders per customer per cell: orders of periods 0..k / cohort
 * size (NaN when not observable or the cohort is empty).
 * @param r  the result.
 * @return a read-only array of values owned by @p r, or NULL for NULL or an empty result.
 *         @scrm_shape{scrm_cohorts_count(r), scrm_cohorts_periods(r)}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_cohorts_cum_orders(const scrm_cohorts *r);

/**
 * Write the label of a cohort (its period's label, as scrm_period_label()).
 *
 * @param[out] buf  receives the NUL-terminated label.
 * @param cap       size of @p buf (::SCRM_PERIOD_LABEL_MAX is always enough).
 * @param r         the result.
 * @param cohort    a cohort, below scrm_cohorts_count().
 * @return SCRM_OK, SCRM_EINVAL (NULL, @p cap too small), SCRM_ENOTFOUND (cohort out of range).
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_label(char *buf, uint32_t cap, const scrm_cohorts *r,
                                   uint32_t cohort);

/**
 * Write every observable cell as long-form CSV: a header
 * `cohort,period,cohort_size,active_customers,orders,revenue,retention,partial`, then
 * one line per observable cell, cohort by cohort, then period 0, 1, ...
 * (unobservable cells are not written). `cohort` is the cohort's label
 * (scrm_cohorts_label()), `period` counts periods since acquisition from 0,
 * `active_customers` follows the result's mode, `revenue` is exact, in major
 * units with @p minor_digits decimals (as scrm_money_print(); empty for a
 * result of a count-only dataset), and
 * `retention` is the shortest of `%.15g`, `%.16g`, `%.17g` that reads back as
 * the same double, empty for an empty cohort, and `partial` is 1 for the
 * cells of the periods not observed to their end (scrm_cohorts_partial_periods()), else 0. The bytes are those of
 * `shopcrm cohorts --out` (docs/cohorts.md). On failure the file is removed
 * if it is a regular file (a device such as /dev/stdout is left as it is).
 *
 * The result does not know its currency (a result of scrm_cohorts_merge() has
 * no dataset), so the caller passes the digits:
 * `scrm_dataset_minor_digits(ds)` of the dataset it was computed from.
 *
 * @param r             the result; borrowed.
 * @param path          the file to create or truncate.
 * @param minor_digits  digits of the currency's minor unit, 0 .. ::SCRM_MAX_MINOR_DIGITS.
 * @return SCRM_OK, SCRM_EINVAL (NULL, @p minor_digits out of range), SCRM_EIO
 *         (cannot create or write @p path), SCRM_ENOMEM; detail in scrm_last_error().
 * @note Thread safety: safe on distinct paths; @p r is only read.
 * @since 1.0
 */
SCRM_EXPORT int scrm_cohorts_write_csv(const scrm_cohorts *r, const char *path,
                                       uint32_t minor_digits);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_COHORTS_H */
