/**
 * @file shopcrm/io.h
 * @brief Loading orders from CSV files and memory buffers into a dataset.
 *
 * @defgroup scrm_io Input (CSV)
 * Load orders from CSV text (RFC 4180) into an existing ::scrm_dataset.
 *
 * - Columns are found by name in the header row (or by position, named
 *   "1", "2", ..., when there is no header). The options name the customer,
 *   time and amount columns, optionally an order id column (for
 *   de-duplication) and a quantity and a unit price column (amount =
 *   quantity × unit price).
 * - Fields may be quoted (`"a, ""b"""`), quoted fields may hold delimiters
 *   and line breaks; lines end with LF or CRLF; a UTF-8 byte order mark is
 *   skipped; the last line need not end with a line break; empty lines are
 *   ignored. Columns beyond the ones used may be ragged.
 * - Times: ISO 8601, `YYYYMMDD`, `DD/MM/YYYY` or epoch seconds, or
 *   ::SCRM_TIME_AUTO which decides from the column's values (see
 *   ::scrm_time_format) and reports its choice.
 * - Amounts: decimal numbers with `.` or `,` as decimal separator and
 *   optional thousands separators, converted to integer minor units.
 * - Rows with an empty customer are skipped and counted. Bad rows either
 *   fail the whole load (::SCRM_CSV_STRICT, the default) or are rejected and
 *   reported (::SCRM_CSV_SKIP).
 * - A load streams the input in bounded windows and is atomic: on any
 *   failure nothing is added to the dataset.
 * @{
 */
#ifndef SHOPCRM_IO_H
#define SHOPCRM_IO_H

#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Format of a time column. Passed as `int`.
 *
 * Local times (those without an explicit offset, and dates) are converted to
 * UTC with the `utc_offset` option: time_utc = local − utc_offset.
 */
typedef enum scrm_time_format {
    /**
     * Decide from the column's values (the default). The format is the one of
     * the first non-empty value: ISO 8601 if it looks like `YYYY-MM-DD...`,
     * DD/MM/YYYY if it looks like `D/M/YYYY...`, and for all-digit values
     * (optionally with a leading `-`): ::SCRM_TIME_YYYYMMDD if every all-digit
     * value of the column has exactly 8 digits and is a valid date (CDNOW's
     * `19970101`), otherwise ::SCRM_TIME_EPOCH (`1700000000`). Values of
     * another kind are then bad rows. The choice is reported by
     * scrm_csv_report_time_format().
     */
    SCRM_TIME_AUTO = 0,
    /**
     * ISO 8601: `YYYY-MM-DD`, optionally followed by `T` or a space and
     * `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff` (fractional seconds are dropped),
     * optionally followed by `Z`, ` UTC`, `+hh`, `+hh:mm` or `+hhmm` (or `-`).
     * A value with an explicit offset ignores the `utc_offset` option.
     */
    SCRM_TIME_ISO8601 = 1,
    /** `YYYYMMDD` dates (midnight local time). */
    SCRM_TIME_YYYYMMDD = 2,
    /** `DD/MM/YYYY` (day and month may have one digit), optionally followed by a space and `HH:MM` or `HH:MM:SS`. */
    SCRM_TIME_DMY = 3,
    /** Seconds since the Unix epoch, UTC (an optional `-`, then digits); `utc_offset` does not apply. */
    SCRM_TIME_EPOCH = 4
} scrm_time_format;

/** What a CSV load does with a bad row. Passed as `int`. */
typedef enum scrm_csv_on_error {
    /**
     * The first bad row (in file order) fails the whole load with
     * ::SCRM_EPARSE; scrm_last_error() says "line 17, column amount: '12,5x'
     * is not a number" and scrm_last_error_index() gives the line. Nothing is
     * added. The default.
     */
    SCRM_CSV_STRICT = 0,
    /** Bad rows are rejected, counted and listed in the report; the other rows are added. */
    SCRM_CSV_SKIP = 1
} scrm_csv_on_error;

/** Current version of ::scrm_csv_options. */
#define SCRM_CSV_OPTIONS_VERSION 1

/**
 * Options of scrm_csv_load_file() and scrm_csv_load_buffer().
 * Initialise with ::SCRM_CSV_OPTIONS_INIT or scrm_csv_options_init().
 * String options are borrowed for the duration of the call.
 */
typedef struct scrm_csv_options {
    unsigned version;              /**< ::SCRM_CSV_OPTIONS_VERSION. */
    const char *customer_column;   /**< Name of the customer key column; default "customer_id". */
    const char *time_column;       /**< Name of the order time column; default "date". */
    /** Name of the amount column; default "amount". Ignored when both `quantity_column` and `unit_price_column` are set. NULL or "none": the file has no amounts (an event log): the orders are loaded without amounts into a count-only dataset (scrm_dataset_has_amounts() is 0), which must have no orders with amounts. */
    const char *amount_column;
    /**
     * Name of an order id column, or NULL (default) for none. Each id is
     * hashed with scrm_dataset_order_key_from_string(); a row whose order id was seen
     * before (in this file or an earlier append) is skipped as a duplicate.
     * An empty order id is a bad row. Do not name a column that repeats per
     * line item (such as an invoice number in a file of invoice lines).
     */
    const char *order_id_column;
    /** Name of a quantity column, or NULL (default). Used together with `unit_price_column`. */
    const char *quantity_column;
    /**
     * Name of a unit price column, or NULL (default). With
     * `quantity_column`, the amount is quantity × unit price, computed exactly
     * from the decimal texts (up to 6 decimals more than `minor_digits`
     * are kept) and rounded to minor units half away from zero.
     */
    const char *unit_price_column;
    /** Non-zero (default 1): the first line names the columns. Zero: columns are named "1", "2", ... by position. */
    int32_t has_header;
    /** Field delimiter: ',', ';' or '\\t', or 0 (default) to detect it from the first line (the most frequent of the three outside quotes; ',' on a tie or when none occurs). */
    int32_t delimiter;
    /** A ::scrm_time_format; default ::SCRM_TIME_AUTO. */
    int time_format;
    /** Decimal separator of amounts: '.' (default; ',' is then a thousands separator, `1,234.56`) or ',' ('.' is then the thousands separator, `1.234,56`). Thousands separators are accepted only between proper groups of three digits. */
    int32_t decimal_separator;
    /**
     * Digits of the minor unit, 0 .. ::SCRM_MAX_MINOR_DIGITS; default 2
     * (`12.5` gives 1250). Amounts with more fractional digits are rounded
     * half away from zero (`0.125` gives 13, `-0.125` gives -13). The load
     * records them as the dataset's currency digits
     * (scrm_dataset_minor_digits()), which writers of money use: loading
     * into a dataset that already holds orders with other digits is an
     * error (::SCRM_EINVAL) that adds nothing.
     */
    int32_t minor_digits;
    /** Offset of local times from UTC in seconds, at most ::SCRM_MAX_UTC_OFFSET either way (São Paulo: −10800); default 0. time_utc = local − utc_offset. */
    int64_t utc_offset;
    /** A ::scrm_csv_on_error; default ::SCRM_CSV_STRICT. */
    int on_error;
    /** Most rejected rows listed in the report (all are counted); default 100. */
    uint32_t max_rejects;
    /**
     * A customer value that means "no customer", such as "NA" (R's
     * `write.csv`, UCI Online Retail), or NULL (default). Rows whose customer
     * field is empty, or equal to this string, are skipped and counted by
     * scrm_csv_report_empty_customer(). Compared after unquoting, exactly.
     */
    const char *na_customer;
    /** Called from time to time with bytes parsed and the input size in bytes, or NULL. Non-zero return cancels: ::SCRM_ECANCELLED, nothing added. Called on the calling thread only. */
    scrm_progress_fn progress;
    /** Passed to `progress`. */
    void *progress_payload;
    /** Parsing threads; 0 (default) = one per core. Results do not depend on it. */
    uint32_t threads;
} scrm_csv_options;

/** Default ::scrm_csv_options. */
#define SCRM_CSV_OPTIONS_INIT                                                              \
    { SCRM_CSV_OPTIONS_VERSION, "customer_id", "date", "amount", NULL, NULL, NULL, 1, 0, \
      SCRM_TIME_AUTO, '.', 2, 0, SCRM_CSV_STRICT, 100, NULL, NULL, NULL, 0 }

/**
 * Initialise @p opts with the defaults of @p version.
 *
 * @param[out] opts  the options to fill.
 * @param version    ::SCRM_CSV_OPTIONS_VERSION.
 * @return SCRM_OK, SCRM_EINVAL (NULL), SCRM_EVERSION (unknown version).
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_options_init(scrm_csv_options *opts, unsigned version);

/** What a CSV load did (opaque). Free with scrm_csv_report_free(). */
typedef struct scrm_csv_report scrm_csv_report;

/**
 * Load orders from the CSV file at @p path into @p ds.
 *
 * The file is memory-mapped and streamed: parsed by several threads in
 * windows of a few MiB, each appended to @p ds before the next is parsed, so
 * memory beyond the dataset stays bounded. The load is still atomic: on any
 * error (even in the last window) @p ds is left exactly as it was.
 *
 * The customer key type follows the dataset's; if it is still
 * ::SCRM_KEY_AUTO, it is ::SCRM_KEY_U64 when every customer value of the file
 * is a canonical unsigned decimal integer (digits only, no leading zero
 * except "0" itself, at most 2^64−1), and ::SCRM_KEY_STRING otherwise. In a
 * ::SCRM_KEY_U64 dataset leading zeros are accepted (`007` is 7) and any
 * other non-integer customer is a bad row.
 *
 * @param[out] report_out  if not NULL, receives a new report on success; the
 *                         caller owns it, free with scrm_csv_report_free().
 * @param ds               the dataset to append to.
 * @param path             the file's path.
 * @param opts             options, or NULL for defaults (see ::SCRM_CSV_OPTIONS_INIT).
 * @return SCRM_OK; SCRM_EINVAL (NULL argument, bad option, a named column
 *         missing from the header), SCRM_EIO (cannot open or read),
 *         SCRM_EPARSE (a bad row with ::SCRM_CSV_STRICT), SCRM_ECANCELLED,
 *         SCRM_ENOMEM; detail in scrm_last_error().
 * @note Thread safety: no other call may use @p ds meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_load_file(scrm_csv_report **report_out, scrm_dataset *ds,
                                   const char *path, const scrm_csv_options *opts);

/**
 * Load orders from CSV text in memory into @p ds.
 *
 * Same rules as scrm_csv_load_file().
 *
 * @param[out] report_out  if not NULL, receives a new report on success (free with scrm_csv_report_free()).
 * @param ds               the dataset to append to.
 * @param data             the CSV text (need not be NUL-terminated); borrowed.
 * @param len              its length in bytes.
 * @param opts             options, or NULL for defaults.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_EPARSE, SCRM_ECANCELLED, SCRM_ENOMEM; detail in scrm_last_error().
 * @note Thread safety: no other call may use @p ds meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_load_buffer(scrm_csv_report **report_out, scrm_dataset *ds,
                                     const char *data, uint64_t len,
                                     const scrm_csv_options *opts);

/**
 * Free a report. Accepts NULL.
 * @param report  the report, or NULL.
 * @since 1.0
 */
SCRM_EXPORT void scrm_csv_report_free(scrm_csv_report *report);

/**
 * Data rows read (empty lines and the header excluded). Equals rows added +
 * duplicates + empty customers + rejected.
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_rows_read(const scrm_csv_report *report);

/**
 * Rows added to the dataset.
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_rows_added(const scrm_csv_report *report);

/**
 * Rows skipped because their order id had been seen before.
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_duplicates(const scrm_csv_report *report);

/**
 * Rows skipped because their customer was empty (or the `na_customer` value).
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_empty_customer(const scrm_csv_report *report);

/**
 * Rows rejected as bad (with ::SCRM_CSV_SKIP; always 0 after a successful strict load).
 * All are counted, at most `max_rejects` are listed (see scrm_csv_report_reject()).
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_rejected(const scrm_csv_report *report);

/**
 * The time format used for the time column: the option's, or what
 * ::SCRM_TIME_AUTO chose (::SCRM_TIME_AUTO only if the file had no time value).
 * @param report  the report (NULL gives ::SCRM_TIME_AUTO).
 * @return a ::scrm_time_format.
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_report_time_format(const scrm_csv_report *report);

/**
 * The field delimiter used (given or detected): ',', ';' or '\\t'.
 * @param report  the report (NULL gives 0).
 * @return the delimiter's character code.
 * @since 1.0
 */
SCRM_EXPORT int32_t scrm_csv_report_delimiter(const scrm_csv_report *report);

/**
 * The customer key type of the dataset after the load.
 * @param report  the report (NULL gives ::SCRM_KEY_AUTO).
 * @return a ::scrm_key_type.
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_report_key_type(const scrm_csv_report *report);

/**
 * Number of rejected rows listed in the report: min(rejected, max_rejects).
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_reject_count(const scrm_csv_report *report);

/**
 * The @p i-th listed rejected row (in file order).
 *
 * @param[out] line_out    receives the 1-based physical line where the row starts (may be NULL).
 * @param[out] column_out  receives the name of the column at fault (may be NULL); owned by the report.
 * @param[out] reason_out  receives why it was rejected, such as "'12,5x' is not a number"
 *                         (may be NULL); owned by the report.
 * @param report           the report.
 * @param i                index, below scrm_csv_report_reject_count().
 * @return SCRM_OK, SCRM_EINVAL (NULL report), SCRM_ENOTFOUND (@p i out of range).
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_report_reject(uint64_t *line_out, const char **column_out,
                                       const char **reason_out,
                                       const scrm_csv_report *report, uint64_t i);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_IO_H */
