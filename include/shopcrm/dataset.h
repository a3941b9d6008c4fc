/**
 * @file shopcrm/dataset.h
 * @brief The orders dataset: an append-only, in-memory columnar store of orders.
 *
 * @defgroup scrm_dataset Orders dataset
 * Orders (customer, time, amount, optional order key) appended in bulk from C
 * arrays or loaded from CSV (see shopcrm/io.h). Customer keys are `uint64_t`
 * or strings; the dataset interns them to dense indices `0 .. customers-1`.
 *
 * - Refunds are negative amounts. A zero amount is an order.
 * - A dataset may hold orders without amounts (event logs): appends with
 *   `amounts` NULL make it **count-only**, as the first append with rows
 *   decides; its orders have amount 0, scrm_dataset_has_amounts() is 0, and
 *   an append of the other kind is ::SCRM_EINVAL. RFM then has no monetary
 *   dimension (shopcrm/rfm.h).
 * - Order keys identify orders. Rows of one append call (or of one CSV
 *   load) that share an order key are the lines of ONE order: its amount
 *   is the sum of theirs (refund lines included: the net), its time the
 *   earliest, and a line of another customer is an error. A row whose
 *   order key an earlier append (or load) stored is a re-delivery: skipped
 *   and counted (scrm_dataset_duplicate_count()). Without order keys each
 *   row is an order.
 * - Appends are atomic: a batch with a bad row adds nothing; the error message
 *   names the row and scrm_last_error_index() gives its index.
 * - Customer indices are assigned when a customer first appears and never
 *   change. Their order is deterministic (it depends only on the sequence of
 *   appends) but is not the order of first appearance: the dataset interns
 *   customers partition by partition (see docs/architecture.md).
 * @{
 */
#ifndef SHOPCRM_DATASET_H
#define SHOPCRM_DATASET_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An orders dataset (opaque). Create with scrm_dataset_new(), free with scrm_dataset_free(). */
typedef struct scrm_dataset scrm_dataset;

/** The kind of customer key a dataset holds. Passed as `int`. */
typedef enum scrm_key_type {
    SCRM_KEY_AUTO = 0,   /**< Decided by the first append (or CSV load). */
    SCRM_KEY_U64 = 1,    /**< Unsigned 64-bit integer keys. */
    SCRM_KEY_STRING = 2  /**< Byte-string keys (UTF-8 or any bytes; compared bytewise). */
} scrm_key_type;


/** Current version of ::scrm_dataset_options. */
#define SCRM_DATASET_OPTIONS_VERSION 1

/** Options of scrm_dataset_new(). Initialise with ::SCRM_DATASET_OPTIONS_INIT. */
typedef struct scrm_dataset_options {
    unsigned version;   /**< ::SCRM_DATASET_OPTIONS_VERSION. */
    int key_type;       /**< A ::scrm_key_type; default ::SCRM_KEY_AUTO. */
    uint32_t threads;   /**< Worker threads for appends and analyses; 0 = one per core. Results do not depend on it. */
    /**
     * Digits of the currency's minor unit, 0 .. ::SCRM_MAX_MINOR_DIGITS;
     * default 2 (cents). Amounts are always stored in minor units; every
     * writer of money in major units (CSV exports, the CLI, the bindings)
     * divides by 10^minor_digits: 0 for yen, 3 for Kuwaiti dinars. A CSV
     * load into an empty dataset may set it (::scrm_csv_options.minor_digits).
     */
    uint32_t minor_digits;
} scrm_dataset_options;

/** Default ::scrm_dataset_options. */
#define SCRM_DATASET_OPTIONS_INIT { SCRM_DATASET_OPTIONS_VERSION, SCRM_KEY_AUTO, 0, 2 }

/**
 * Initialise @p opts with the defaults of @p version.
 *
 * @param[out] opts  the options to fill.
 * @param version    ::SCRM_DATASET_OPTIONS_VERSION.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_EVERSION (unknown version).
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_options_init(scrm_dataset_options *opts, unsigned version);

/**
 * Create an empty dataset.
 *
 * @param[out] out  receives the dataset; the caller owns it, free with scrm_dataset_free().
 * @param opts      options, or NULL for defaults.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_EVERSION, SCRM_ENOMEM.
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_new(scrm_dataset **out, const scrm_dataset_options *opts);

/**
 * Free a dataset and everything it owns. Accepts NULL.
 *
 * @param ds  the dataset, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_dataset_free(scrm_dataset *ds);

/** Current version of ::scrm_dataset_append_options. */
#define SCRM_DATASET_APPEND_OPTIONS_VERSION 1

/**
 * Options of scrm_dataset_append_u64() and scrm_dataset_append_str().
 * Initialise with ::SCRM_DATASET_APPEND_OPTIONS_INIT.
 *
 * The progress callback is called on the calling thread, with `total` = the
 * rows of the batch: first with done = 0 once the rows are validated, then
 * with the rows interned so far (estimated from the calling thread's share
 * of the partitions, at most 64 times), last with done = total just before
 * the rows are committed. Returning non-zero cancels the append:
 * ::SCRM_ECANCELLED, and the dataset is as before the call.
 */
typedef struct scrm_dataset_append_options {
    unsigned version;          /**< ::SCRM_DATASET_APPEND_OPTIONS_VERSION. */
    scrm_progress_fn progress; /**< Progress callback or NULL; units: rows of the batch. */
    void *progress_payload;    /**< Passed to @p progress. */
} scrm_dataset_append_options;

/** Default ::scrm_dataset_append_options: no progress callback. */
#define SCRM_DATASET_APPEND_OPTIONS_INIT { SCRM_DATASET_APPEND_OPTIONS_VERSION, NULL, NULL }

/**
 * Initialise @p opts with the defaults of @p version.
 *
 * @param[out] opts  the options to fill.
 * @param version    ::SCRM_DATASET_APPEND_OPTIONS_VERSION.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_EVERSION (unknown version).
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_append_options_init(scrm_dataset_append_options *opts,
                                                 unsigned version);

/**
 * Append @p n orders whose customers have `uint64_t` keys.
 *
 * The batch is atomic: if any row is bad (time outside ::SCRM_TIME_MIN ..
 * ::SCRM_TIME_MAX), an allocation fails or the progress callback cancels,
 * nothing is added.
 *
 * Rows with the same order key are the lines of one order (see the top of
 * this page): the first stores it, the later ones are merged into it
 * (scrm_dataset_merged_count()). A line whose customer differs from its
 * order's first line is an error (::SCRM_EINVAL naming the row), as is an
 * order total outside int64 (::SCRM_ERANGE). Merging keeps a copy of the
 * batch's times and amounts (16 bytes per row) while the call runs.
 *
 * @param[out] added_out  if not NULL, receives the number of orders added (@p n
 *                        minus re-delivered rows and lines merged into an order).
 * @param ds          the dataset; its key type must be ::SCRM_KEY_U64 or still ::SCRM_KEY_AUTO.
 * @param n           number of rows (at most UINT32_MAX per call).
 * @param customers   @p n customer keys.
 * @param times       @p n order times (seconds since the epoch, UTC).
 * @param amounts     @p n amounts in minor units (negative = refund), or NULL for
 *                    orders without amounts (a count-only dataset: see
 *                    scrm_dataset_has_amounts()).
 * @param order_keys  @p n order keys (lines of one order share it), or NULL: each row is an order.
 * @param opts        options (a progress callback), or NULL for defaults.
 * @return SCRM_OK, SCRM_EINVAL (NULL array, wrong key type, amounts given to a
 *         count-only dataset or NULL for one with amounts, an order's lines of
 *         two customers), SCRM_ERANGE (bad time, order total out of range),
 *         SCRM_ENOMEM, SCRM_EVERSION (unknown options version), SCRM_ECANCELLED (the
 *         callback asked to stop; nothing added).
 * @note Thread safety: no other call may use @p ds meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_append_u64(uint64_t *added_out, scrm_dataset *ds, uint64_t n,
                                        const uint64_t *customers, const int64_t *times,
                                        const int64_t *amounts, const uint64_t *order_keys,
                                        const scrm_dataset_append_options *opts);

/**
 * Append @p n orders whose customers have string keys.
 *
 * Same rules as scrm_dataset_append_u64(); an empty key is an error
 * (SCRM_EINVAL) naming the row.
 *
 * @param[out] added_out  if not NULL, receives the number of rows added.
 * @param ds          the dataset; its key type must be ::SCRM_KEY_STRING or still ::SCRM_KEY_AUTO.
 * @param n           number of rows (at most UINT32_MAX per call).
 * @param customers   @p n pointers to keys; borrowed, the dataset copies them.
 * @param lengths     @p n key lengths in bytes, or NULL when every key is NUL-terminated.
 * @param times       @p n order times.
 * @param amounts     @p n amounts in minor units, or NULL (count-only).
 * @param order_keys  @p n order keys, or NULL (see scrm_dataset_order_key_from_string()).
 * @param opts        options, or NULL for defaults.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_ERANGE, SCRM_ENOMEM, SCRM_EVERSION, SCRM_ECANCELLED.
 * @note Thread safety: no other call may use @p ds meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_append_str(uint64_t *added_out, scrm_dataset *ds, uint64_t n,
                                        const char *const *customers, const uint32_t *lengths,
                                        const int64_t *times, const int64_t *amounts,
                                        const uint64_t *order_keys,
                                        const scrm_dataset_append_options *opts);

/**
 * Whether the dataset's orders carry amounts.
 *
 * @param ds  the dataset (NULL gives 1).
 * @return 0 when its orders were appended without amounts (`amounts` NULL:
 *         a count-only dataset, such as an event log or a CSV file loaded
 *         with `amount_column` NULL or "none"), 1 otherwise (also for a
 *         dataset without orders yet).
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_has_amounts(const scrm_dataset *ds);

/**
 * The digits of the currency's minor unit (see ::scrm_dataset_options.minor_digits).
 *
 * @param ds  the dataset.
 * @return 0 .. ::SCRM_MAX_MINOR_DIGITS; 2 for NULL.
 * @since 1.0
 */
SCRM_EXPORT uint32_t scrm_dataset_minor_digits(const scrm_dataset *ds);

/**
 * Hash a string order id (such as Olist's 32-hex ids) to a 64-bit order key.
 *
 * The CSV loader uses this function for order id columns. Two different ids
 * collide with probability about 2^-64 per pair (for 10 million orders, about
 * 3 in a million that any collision exists).
 *
 * @param s    the bytes of the id.
 * @param len  their number.
 * @return the order key (stable across versions and platforms).
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_dataset_order_key_from_string(const char *s, uint64_t len);

/**
 * Number of distinct customers.
 * @param ds  the dataset (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_dataset_customer_count(const scrm_dataset *ds);

/**
 * Number of orders stored (duplicates excluded).
 * @param ds  the dataset (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_dataset_order_count(const scrm_dataset *ds);

/**
 * Number of rows skipped so far because their order key had been stored by
 * an earlier append or load (re-deliveries).
 * @param ds  the dataset (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_dataset_duplicate_count(const scrm_dataset *ds);

/**
 * Number of rows merged so far into an order as its later lines: rows of
 * one append call (or CSV load) whose order key an earlier row of the same
 * call stored. Rows appended = orders + duplicates + merged lines.
 * @param ds  the dataset (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_dataset_merged_count(const scrm_dataset *ds);

/**
 * The dataset's key type (::SCRM_KEY_AUTO until the first non-empty append).
 * @param ds  the dataset (NULL gives ::SCRM_KEY_AUTO).
 * @return a ::scrm_key_type.
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_key_type(const scrm_dataset *ds);

/**
 * Earliest and latest order time.
 *
 * @param[out] min_out  receives the earliest time (may be NULL).
 * @param[out] max_out  receives the latest time (may be NULL).
 * @param ds            the dataset.
 * @return SCRM_OK, SCRM_EINVAL (NULL ds), SCRM_ENOTFOUND (no orders).
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_time_range(int64_t *min_out, int64_t *max_out,
                                        const scrm_dataset *ds);

/**
 * The key of customer @p index in a ::SCRM_KEY_U64 dataset.
 *
 * @param[out] key_out  receives the key.
 * @param ds            the dataset.
 * @param index         a customer index, below scrm_dataset_customer_count().
 * @return SCRM_OK, SCRM_EINVAL (NULL, wrong key type), SCRM_ENOTFOUND (index out of range).
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_customer_key_u64(uint64_t *key_out, const scrm_dataset *ds,
                                              uint32_t index);

/**
 * The key of customer @p index in a ::SCRM_KEY_STRING dataset.
 *
 * @param[out] key_out  receives a pointer to the key's bytes, NUL-terminated,
 *                      owned by the dataset and valid until it is freed.
 * @param[out] len_out  receives the key's length in bytes (may be NULL).
 * @param ds            the dataset.
 * @param index         a customer index.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_ENOTFOUND.
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_customer_key_str(const char **key_out, uint32_t *len_out,
                                              const scrm_dataset *ds, uint32_t index);

/**
 * Find the index of the customer with `uint64_t` key @p key.
 *
 * @param[out] index_out  receives the index.
 * @param ds              the dataset.
 * @param key             the key.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_ENOTFOUND (no such customer).
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_find_u64(uint32_t *index_out, const scrm_dataset *ds, uint64_t key);

/**
 * Find the index of the customer with string key @p key.
 *
 * @param[out] index_out  receives the index.
 * @param ds              the dataset.
 * @param key             the key's bytes.
 * @param len             its length, or a negative value if @p key is NUL-terminated.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_ENOTFOUND.
 * @since 1.0
 */
SCRM_EXPORT int scrm_dataset_find_str(uint32_t *index_out, const scrm_dataset *ds,
                                      const char *key, int64_t len);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_DATASET_H */
