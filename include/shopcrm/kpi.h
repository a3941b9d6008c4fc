/**
 * @file shopcrm/kpi.h
 * @brief Shop KPIs over a time window (orders, revenue, AOV, repeat rate, new vs
 *        returning customers) and survey KPIs (NPS, CSAT).
 *
 * @defgroup scrm_kpi Shop KPIs
 * Key performance indicators of a shop for a time window `[start, end)`
 * (start inclusive, end exclusive), computed in one pass over an orders
 * dataset, plus the two usual survey scores.
 *
 * Definitions used by every metric (see ::scrm_kpi_metric for the formulas):
 * - An **order** is a row with amount ≥ 0 (a zero amount is an order, as
 *   everywhere in libshopcrm). A **refund** is a row with amount < 0; refunds
 *   count in revenue but are not orders.
 * - A row is **in the window** when `start <= time + utc_offset < end`.
 * - The **customers** of the window are the distinct customers with at least
 *   one order in the window (a customer with only refunds there is not one).
 * - A customer of the window is **new** when their first order in the whole
 *   dataset is in the window (no order before `start`), **returning** when they
 *   had an order before `start`. Every customer of the window is exactly one of
 *   the two. Orders after `end` play no part.
 * - A customer **at** a time t (retention KPIs) is a customer with at least
 *   one order in the lookback window `[t - lookback, t)` (local times, like
 *   the window); the lookback is an option, by default the window's length
 *   (so the customers at the start are those of the window-length before it,
 *   the customers at the end those of the window).
 * - Money sums are exact `int64_t` minor units; a sum that does not fit is an
 *   error (::SCRM_EOVERFLOW), never a wrapped value.
 * - **Undefined ratios are NaN**: a ratio whose denominator is zero (no order,
 *   no customer or zero revenue in the window) is NaN, never 0, so "0 %" and
 *   "nothing to measure" stay distinct. Counts and sums of an empty window are 0.
 * @{
 */
#ifndef SHOPCRM_KPI_H
#define SHOPCRM_KPI_H

#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Window start meaning "no lower bound" (the whole dataset's past). */
#define SCRM_KPI_START_ALL INT64_MIN
/** Window end meaning "no upper bound". */
#define SCRM_KPI_END_ALL INT64_MAX
/**
 * The metrics of a ::scrm_kpi result. Passed as `int`; values never change.
 *
 * Notation for one window: O = orders, C = customers, R = revenue (all
 * amounts, refunds included), R⁺ = sum of the order amounts (amount ≥ 0).
 * Money is in minor units (cents) throughout.
 */
typedef enum scrm_kpi_metric {
    /** Orders in the window: rows with amount ≥ 0 (O). Count. */
    SCRM_KPI_ORDERS = 0,
    /** Refunds in the window: rows with amount < 0. Count. */
    SCRM_KPI_REFUNDS = 1,
    /** Distinct customers with at least one order in the window (C). Count. */
    SCRM_KPI_CUSTOMERS = 2,
    /** Customers of the window whose first order of the dataset is in the window. Count. */
    SCRM_KPI_NEW_CUSTOMERS = 3,
    /** Customers of the window with an order before the window's start. Count. */
    SCRM_KPI_RETURNING_CUSTOMERS = 4,
    /** Customers with at least 2 orders in the window. Count. */
    SCRM_KPI_REPEAT_CUSTOMERS = 5,
    /** Revenue R: sum of all amounts in the window, refunds included. Money (exact). */
    SCRM_KPI_REVENUE = 6,
    /** Order revenue R⁺: sum of the amounts ≥ 0 in the window. Money (exact). */
    SCRM_KPI_ORDER_REVENUE = 7,
    /** Sum of the refunds (amounts < 0) in the window; ≤ 0. Money (exact). */
    SCRM_KPI_REFUND_AMOUNT = 8,
    /** Sum of all amounts in the window of the new customers. Money (exact). */
    SCRM_KPI_NEW_REVENUE = 9,
    /** Sum of all amounts in the window of the returning customers. Money (exact).
     *  Refunds in the window of customers with no order in it belong to neither
     *  group: R − new revenue − returning revenue. */
    SCRM_KPI_RETURNING_REVENUE = 10,
    /** Average order value R⁺ / O: the mean ticket, refunds excluded (a refund is
     *  not an order, so it would bias the mean by an unrelated amount). Money, double. */
    SCRM_KPI_AVERAGE_ORDER_VALUE = 11,
    /** Purchase frequency O / C: orders per customer of the window. Double. */
    SCRM_KPI_PURCHASE_FREQUENCY = 12,
    /** Repeat customer rate: repeat customers / C, in 0..1. Double. */
    SCRM_KPI_REPEAT_RATE = 13,
    /** Average revenue per customer R / C (refunds included). Money, double. */
    SCRM_KPI_REVENUE_PER_CUSTOMER = 14,
    /** Share of new customers: new customers / C, in 0..1. Double. */
    SCRM_KPI_NEW_CUSTOMER_SHARE = 15,
    /** Revenue share of new customers: new revenue / R (NaN when R = 0; outside
     *  0..1 when refunds make a group's or the total revenue negative). Double. */
    SCRM_KPI_NEW_REVENUE_SHARE = 16,
    /** Revenue share of returning customers: returning revenue / R. Double.
     *  This is the retention KPI "share of revenue from returning customers". */
    SCRM_KPI_RETURNING_REVENUE_SHARE = 17,

    /* Retention KPIs (since 1.1). A customer **at** a time t is a customer with
     * at least one order (amount >= 0) in the lookback window [t - L, t), L =
     * ::scrm_kpi_options.lookback. S = customers at `start`, E = customers at
     * `end`, N = customers at `end` whose first order of the dataset is in
     * [start, end) (the new customers acquired in the window; with a window no
     * longer than L that is every new customer, ::SCRM_KPI_NEW_CUSTOMERS).
     * With an unbounded start or end, S or E is 0 and the rates are NaN.
     * E − N splits into |S ∩ E| (::SCRM_KPI_RETAINED_FROM_START) and the
     * reactivated customers (::SCRM_KPI_REACTIVATED_CUSTOMERS).
     * Repeat purchase rate and purchase frequency are ::SCRM_KPI_REPEAT_RATE
     * and ::SCRM_KPI_PURCHASE_FREQUENCY; the share of revenue from returning
     * customers is ::SCRM_KPI_RETURNING_REVENUE_SHARE. */

    /** S: customers at the window's start (an order in [start − L, start)). Count. @since 1.0 */
    SCRM_KPI_CUSTOMERS_AT_START = 18,
    /** E: customers at the window's end (an order in [end − L, end)). Count. @since 1.0 */
    SCRM_KPI_CUSTOMERS_AT_END = 19,
    /** E − N: customers at the end acquired before the window's start (first
     *  order before `start`); includes customers who had lapsed at the start
     *  and came back. Count. @since 1.0 */
    SCRM_KPI_RETAINED_CUSTOMERS = 20,
    /** Customer retention rate (E − N) / S, the usual CRR formula (Farris,
     *  Bendle, Pfeifer, Reibstein, "Marketing Metrics", 2010; see docs/kpi.md). Usually in 0..1; above 1 when lapsed
     *  customers came back. NaN when S = 0. Double. @since 1.0 */
    SCRM_KPI_RETENTION_RATE = 21,
    /** Churn rate 1 − retention rate. NaN when S = 0. Double. @since 1.0 */
    SCRM_KPI_CHURN_RATE = 22,
    /** Purchase intervals: pairs of consecutive orders (in time order, amount
     *  ≥ 0) of the same customer with both orders in the window. A customer
     *  with k orders in the window gives k − 1. Count. @since 1.0 */
    SCRM_KPI_PURCHASE_INTERVALS = 23,
    /** Mean time between purchases: the mean length of the purchase intervals,
     *  in days (seconds / 86400, not rounded). NaN when there is none.
     *  Duration, double. @since 1.0 */
    SCRM_KPI_MEAN_DAYS_BETWEEN_PURCHASES = 24,
    /** Median time between purchases, in days: the middle purchase interval
     *  (the mean of the two middle ones for an even count). NaN when there is
     *  none. Duration, double. @since 1.0 */
    SCRM_KPI_MEDIAN_DAYS_BETWEEN_PURCHASES = 25,
    /** |S ∩ E|: customers at the start who are customers at the end too
     *  (with the default lookback: customers of the window-length before
     *  the window who bought again in the window). Count. @since 1.0 */
    SCRM_KPI_RETAINED_FROM_START = 26,
    /** |S ∩ E| / |S|: the share of the customers at the start who are still
     *  customers at the end, in 0..1 (the retention rate of Farris et al.
     *  in its strict form, without reactivations). NaN when S = 0. Double.
     *  @since 1.0 */
    SCRM_KPI_RETAINED_FROM_START_SHARE = 27,
    /** Reactivated customers: customers at the end who are not new in the
     *  window (first order before `start`) and were not customers at the
     *  start, so (E − N) − |S ∩ E|. Count. @since 1.0 */
    SCRM_KPI_REACTIVATED_CUSTOMERS = 28
} scrm_kpi_metric;

/** Number of metrics this version of the library knows (valid metrics are 0 .. SCRM_KPI_METRIC_COUNT-1). */
#define SCRM_KPI_METRIC_COUNT 29

/**
 * Flags of a KPI window (scrm_kpi_flags(), scrm_kpi_periods_flags()): bits
 * that say a number covers less than it seems to. Values never change.
 * "The data" spans from local midnight of the day of the dataset's first row
 * (any row) to local midnight after the day of its last row.
 */
typedef enum scrm_kpi_flag {
    /** The lookback window of S, `[start − L, start)`, begins before the
     *  data: customers at the start may be missing, so S, the retention and
     *  churn rates and the reactivated count are computed on an incomplete S. */
    SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE = 1,
    /** The window starts before the data or ends after it (a bounded side
     *  only): the KPIs describe the observed part of the window, such as a
     *  last month that the data ends in the middle of. */
    SCRM_KPI_FLAG_PARTIAL = 2,
    /** The dataset has no amounts (count-only, scrm_dataset_has_amounts()
     *  is 0): the money metrics (amounts, average order value, revenue per
     *  customer and the revenue shares) are absent: their values are NaN,
     *  their exact sums 0, and scrm_kpi_periods_write_csv() leaves them empty. */
    SCRM_KPI_FLAG_NO_AMOUNTS = 4
} scrm_kpi_flag;

/** What kind of number a metric is (see scrm_kpi_metric_type()). Passed as `int`. */
typedef enum scrm_kpi_type {
    SCRM_KPI_TYPE_COUNT = 1,      /**< An exact integer count; read it with scrm_kpi_count(). */
    SCRM_KPI_TYPE_MONEY = 2,      /**< An exact sum in minor units; read it with scrm_kpi_count(). */
    SCRM_KPI_TYPE_MONEY_MEAN = 3, /**< A mean amount in minor units (double). */
    SCRM_KPI_TYPE_RATIO = 4,      /**< A ratio (double): a rate or share in 0..1, or orders per customer. */
    SCRM_KPI_TYPE_DAYS = 5        /**< A duration in days (double). @since 1.0 */
} scrm_kpi_type;

/** A computed set of KPIs (opaque, immutable). Free with scrm_kpi_free(). */
typedef struct scrm_kpi scrm_kpi;

/** Current version of ::scrm_kpi_options (2 adds `lookback`, since 1.1). */
#define SCRM_KPI_OPTIONS_VERSION 2

/** Lookback meaning "the window's length": S = customers with an order in
 *  `[start − (end − start), start)`, E = customers with an order in the window;
 *  for the rows of scrm_kpi_periods_compute(), the period before and the period. */
#define SCRM_KPI_LOOKBACK_WINDOW 0
/** Default lookback of ::scrm_kpi_options: ::SCRM_KPI_LOOKBACK_WINDOW. */
#define SCRM_KPI_DEFAULT_LOOKBACK SCRM_KPI_LOOKBACK_WINDOW
/** Largest accepted lookback: 100 years of 366 days, in seconds. */
#define SCRM_KPI_MAX_LOOKBACK (100 * 366 * INT64_C(86400))

/** Options of scrm_kpi_compute(). Initialise with ::SCRM_KPI_OPTIONS_INIT or scrm_kpi_options_init(). */
typedef struct scrm_kpi_options {
    unsigned version;          /**< ::SCRM_KPI_OPTIONS_VERSION. */
    int64_t start;             /**< Window start, inclusive (seconds); default ::SCRM_KPI_START_ALL. */
    int64_t end;               /**< Window end, exclusive; default ::SCRM_KPI_END_ALL. Must be ≥ `start`. */
    int64_t utc_offset;        /**< Offset in seconds added to each order time before it is compared with
                                    `start` and `end`, so the window can be given in a shop's local
                                    time (e.g. local midnights); default 0, at most ::SCRM_MAX_UTC_OFFSET
                                    in absolute value. The sentinel bounds stay unbounded. */
    uint32_t threads;          /**< Worker threads; 0 = the dataset's setting. Results do not depend on it. */
    scrm_progress_fn progress; /**< Called with (rows done, rows in all); non-zero cancels. May be NULL. */
    void *progress_payload;    /**< Passed to `progress`. */
    int64_t lookback;          /**< (Version 2.) Length L in seconds of the lookback window that
                                    defines a customer *at* a time t: a customer with an order in
                                    [t − L, t). Used by the retention KPIs; 1 s ..
                                    ::SCRM_KPI_MAX_LOOKBACK, or ::SCRM_KPI_LOOKBACK_WINDOW
                                    (0, the default: the window's length; with a bounded
                                    start and no end, every order before `start`;
                                    version-1 callers get the default). */
} scrm_kpi_options;

/** Default ::scrm_kpi_options: the whole dataset, UTC, default threads, no progress, lookback = window length. */
#define SCRM_KPI_OPTIONS_INIT \
    { SCRM_KPI_OPTIONS_VERSION, SCRM_KPI_START_ALL, SCRM_KPI_END_ALL, 0, 0, NULL, NULL, \
      SCRM_KPI_DEFAULT_LOOKBACK }

/**
 * Initialise @p opts with the defaults of @p version.
 *
 * @param[out] opts  the options to fill.
 * @param version    ::SCRM_KPI_OPTIONS_VERSION.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_EVERSION (unknown version).
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_options_init(scrm_kpi_options *opts, unsigned version);

/**
 * Compute every KPI of ::scrm_kpi_metric for one time window of @p ds.
 *
 * One pass over the dataset, partition by partition, with integer
 * accumulators: the result is bit-identical whatever the thread count.
 *
 * @param[out] out  receives a new result; the caller owns it, free with scrm_kpi_free().
 *                  Written only on success.
 * @param ds        the dataset; borrowed, not retained after return.
 * @param opts      options, or NULL for defaults (the whole dataset).
 * @return SCRM_OK; SCRM_EINVAL (NULL argument, start > end, utc_offset too large,
 *         lookback outside 0 .. ::SCRM_KPI_MAX_LOOKBACK);
 *         SCRM_EVERSION; SCRM_EOVERFLOW (a money sum does not fit int64);
 *         SCRM_ECANCELLED; SCRM_ENOMEM. Detail in scrm_last_error().
 * @note Thread safety: safe on distinct results; @p ds must not be appended to meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_compute(scrm_kpi **out, const scrm_dataset *ds,
                                 const scrm_kpi_options *opts);

/**
 * Free a KPI result. Accepts NULL.
 *
 * @param k  the result, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_kpi_free(scrm_kpi *k);

/**
 * The value of one metric as a double.
 *
 * Counts and money sums are converted (exact up to 2^53); use
 * scrm_kpi_count() for their exact value.
 *
 * @param k       the result.
 * @param metric  a ::scrm_kpi_metric.
 * @return the value; NaN for an undefined ratio (zero denominator), and NaN
 *         if @p k is NULL or @p metric unknown.
 * @note Thread safety: a result may be read from many threads at once.
 * @since 1.0
 */
SCRM_EXPORT double scrm_kpi_value(const scrm_kpi *k, int metric);

/**
 * The exact value of a count or money metric (::SCRM_KPI_TYPE_COUNT or
 * ::SCRM_KPI_TYPE_MONEY).
 *
 * @param[out] out  receives the value; written only on success.
 * @param k         the result.
 * @param metric    a ::scrm_kpi_metric of type count or money.
 * @return SCRM_OK; SCRM_EINVAL (NULL argument, unknown metric, or a metric that
 *         is not an integer, such as ::SCRM_KPI_AVERAGE_ORDER_VALUE).
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_count(int64_t *out, const scrm_kpi *k, int metric);

/**
 * The window a result was computed for, in the time base of its options
 * (sentinels ::SCRM_KPI_START_ALL / ::SCRM_KPI_END_ALL kept as given).
 *
 * @param[out] start_out  receives the start (may be NULL).
 * @param[out] end_out    receives the end (may be NULL).
 * @param k               the result.
 * @return SCRM_OK, SCRM_EINVAL (NULL @p k).
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_window(int64_t *start_out, int64_t *end_out, const scrm_kpi *k);

/**
 * The flags of a result: which parts of the window the data does not cover.
 *
 * @param k  the result (NULL gives 0).
 * @return a bit set of ::scrm_kpi_flag values.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_kpi_flags(const scrm_kpi *k);

/** KPIs of consecutive calendar periods (opaque, immutable). Free with scrm_kpi_periods_free(). */
typedef struct scrm_kpi_periods scrm_kpi_periods;

/** Most rows a scrm_kpi_periods_compute() result may have (more is ::SCRM_ERANGE). */
#define SCRM_KPI_MAX_PERIODS 100000

/**
 * Compute every KPI of ::scrm_kpi_metric for each calendar period of @p unit:
 * one row per period, in one pass over the dataset.
 *
 * Row i is period `scrm_kpi_periods_first(r) + i` (see scrm_period_label()),
 * its window the whole period in local time (time + utc_offset, as for
 * scrm_kpi_compute()), and its values exactly those scrm_kpi_compute() gives
 * for that window with the same lookback. Rows run from the period of
 * `start` (or, unbounded, of the dataset's first row) to the period before
 * `end` (or, unbounded, that of the dataset's last row); periods without
 * orders are rows too. With the default lookback (::SCRM_KPI_LOOKBACK_WINDOW)
 * the customers at the start of a row are those of the period before it and
 * the customers at its end those of the period (for days and weeks that is
 * the window's length; for months, quarters and years the calendar period
 * before); a lookback L > 0 gives `[t − L, t)` as for one window. Each row has
 * its ::scrm_kpi_flag bits (scrm_kpi_periods_flags()): typically the last row
 * is ::SCRM_KPI_FLAG_PARTIAL when the data ends mid-period.
 *
 * @param[out] out  receives a new result; the caller owns it, free with
 *                  scrm_kpi_periods_free(). Written only on success.
 * @param ds        the dataset; borrowed, not retained after return.
 * @param unit      a ::scrm_period_unit.
 * @param opts      options, or NULL for defaults; a bounded `start` or `end`
 *                  must be a period's first instant (local midnight).
 * @return SCRM_OK; SCRM_EINVAL (NULL argument, unknown unit, start > end,
 *         start or end not at a period boundary, utc_offset too large, lookback
 *         outside 0 .. ::SCRM_KPI_MAX_LOOKBACK); SCRM_ERANGE (more than
 *         ::SCRM_KPI_MAX_PERIODS rows, or a bound outside years 1..9999);
 *         SCRM_EVERSION; SCRM_EOVERFLOW; SCRM_ECANCELLED; SCRM_ENOMEM.
 * @note Thread safety: safe on distinct results; @p ds must not be appended to meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_periods_compute(scrm_kpi_periods **out, const scrm_dataset *ds,
                                         int unit, const scrm_kpi_options *opts);

/**
 * Free a per-period result. Accepts NULL.
 *
 * @param r  the result, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_kpi_periods_free(scrm_kpi_periods *r);

/**
 * Number of rows (periods).
 * @param r  the result (NULL gives 0).
 * @return the row count, 0 for a dataset without rows in the window.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_kpi_periods_count(const scrm_kpi_periods *r);

/**
 * The period unit of the rows.
 * @param r  the result (NULL gives −1).
 * @return a ::scrm_period_unit.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_periods_unit(const scrm_kpi_periods *r);

/**
 * Period index of row 0 (row i is period `first + i`; scrm_period_label()
 * names it, scrm_period_start() gives its start).
 * @param r  the result (NULL gives 0).
 * @return the period index (0 for an empty result).
 * @since 1.0
 */
SCRM_EXPORT int64_t scrm_kpi_periods_first(const scrm_kpi_periods *r);

/**
 * One metric for every row, as doubles (as scrm_kpi_value() gives them; NaN
 * for an undefined ratio).
 * @param r       the result.
 * @param metric  a ::scrm_kpi_metric.
 * @return a read-only array owned by @p r, or NULL (NULL @p r, unknown
 *         metric, empty result). @scrm_len{scrm_kpi_periods_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const double *scrm_kpi_periods_values(const scrm_kpi_periods *r, int metric);

/**
 * One count or money metric for every row, exact (as scrm_kpi_count()).
 * @param r       the result.
 * @param metric  a ::scrm_kpi_metric of type count or money.
 * @return a read-only array owned by @p r, or NULL (NULL @p r, unknown or
 *         non-integer metric, empty result). @scrm_len{scrm_kpi_periods_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const int64_t *scrm_kpi_periods_exact(const scrm_kpi_periods *r, int metric);

/**
 * The ::scrm_kpi_flag bits of every row.
 * @param r  the result.
 * @return a read-only array owned by @p r, or NULL (NULL @p r, empty result).
 *         @scrm_len{scrm_kpi_periods_count(r)}
 * @since 1.0
 */
SCRM_EXPORT const uint32_t *scrm_kpi_periods_flags(const scrm_kpi_periods *r);

/**
 * Write the rows as CSV: a header `period,start,end,lookback_incomplete,partial`
 * followed by every metric name (scrm_kpi_metric_name(), in metric order),
 * then one line per row. `period` is the label (scrm_period_label()),
 * `start` and `end` the row's bounds in ISO 8601 with the result's UTC
 * offset (`2017-06-01T00:00:00-03:00`), the two flags 0 or 1; counts are
 * integers, money sums exact in major units with @p minor_digits decimals,
 * mean amounts in major units and ratios and days as the shortest text
 * that reads back as the same double; an undefined value (NaN) is an empty
 * cell. These are the bytes of `shopcrm kpi --by UNIT --out` (docs/cli.md).
 * On failure the file is removed if it is a regular file.
 *
 * @param r             the result; borrowed.
 * @param path          the file to create or truncate.
 * @param minor_digits  digits of the currency's minor unit (scrm_dataset_minor_digits()
 *                      of the dataset), 0 .. ::SCRM_MAX_MINOR_DIGITS.
 * @return SCRM_OK, SCRM_EINVAL (NULL, @p minor_digits out of range), SCRM_EIO
 *         (cannot create or write @p path), SCRM_ENOMEM; detail in scrm_last_error().
 * @note Thread safety: safe on distinct paths; @p r is only read.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_periods_write_csv(const scrm_kpi_periods *r, const char *path,
                                           uint32_t minor_digits);

/**
 * The name of a metric: a stable snake_case identifier such as
 * "average_order_value", usable as a column or JSON key.
 *
 * @param metric  a ::scrm_kpi_metric.
 * @return a static string, or NULL for an unknown metric (so callers can loop
 *         from 0 until NULL).
 * @since 1.0
 */
SCRM_EXPORT const char *scrm_kpi_metric_name(int metric);

/**
 * The kind of number a metric is.
 *
 * @param metric  a ::scrm_kpi_metric.
 * @return a ::scrm_kpi_type, or SCRM_EINVAL for an unknown metric.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_metric_type(int metric);

/**
 * Net Promoter Score of survey answers on the 0–10 "how likely are you to
 * recommend us" scale (Reichheld, F. F. 2003, "The One Number You Need to
 * Grow", Harvard Business Review 81(12)): the percentage of promoters
 * (answers 9–10) minus the percentage of detractors (0–6); passives (7–8)
 * count only in the total.
 *
 * @param[out] out  receives the score in −100 .. 100; written only on success.
 * @param scores    @p n answers, each an integer 0..10.
 * @param n         number of answers, at least 1.
 * @return SCRM_OK; SCRM_EINVAL (NULL pointer, @p n = 0); SCRM_ERANGE (an answer
 *         outside 0..10; scrm_last_error_index() gives its 0-based index).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_nps(double *out, const int32_t *scores, uint64_t n);

/**
 * Customer satisfaction score: the percentage of answers 4 ("satisfied") or 5
 * ("very satisfied") on a 1–5 scale.
 *
 * @param[out] out  receives the score in 0 .. 100; written only on success.
 * @param scores    @p n answers, each an integer 1..5.
 * @param n         number of answers, at least 1.
 * @return SCRM_OK; SCRM_EINVAL (NULL pointer, @p n = 0); SCRM_ERANGE (an answer
 *         outside 1..5; scrm_last_error_index() gives its 0-based index).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_kpi_csat(double *out, const int32_t *scores, uint64_t n);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_KPI_H */
