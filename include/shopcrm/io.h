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
 * - Times: ISO 8601, `YYYYMMDD`, `DD/MM/YYYY`, `MM/DD/YYYY` or epoch
 *   seconds, or ::SCRM_TIME_AUTO which decides from the column's values
 *   (see ::scrm_time_format) and reports its choice.
 * - Amounts: decimal numbers with `.` or `,` as decimal separator and
 *   optional thousands separators, converted to integer minor units; a
 *   currency sign or code before or after the number (`$12.50`,
 *   `R$ 12,50`, `12.50 EUR`) and accounting negatives (`(12.50)`) are
 *   accepted; a value with one thousands separator and no decimals
 *   (`2,085`) is a bad value, as it could be either.
 * - Input may be gzip-compressed (recognised by its first bytes, not by a
 *   file name) and is then decompressed as the load goes; binary input
 *   (zip, an `.xlsx` workbook, NUL bytes) is refused.
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
     * Decide from the values of the whole column (the default), by the kind
     * of its first non-empty value: ISO 8601 if it starts like `YYYY-MM-DD`
     * (or `YYYY/MM/DD`, `YYYY.MM.DD`); a day-and-month-first date
     * (`D/M/YYYY`, `D.M.YYYY`, `D-M-YYYY`) is ::SCRM_TIME_DMY if some value
     * of the column has a first field above 12, ::SCRM_TIME_MDY if some value
     * has a second field above 12 (UCI Online Retail's `12/13/2010 8:26`),
     * and an error (::SCRM_EPARSE, naming both choices) if every value fits
     * both orders or the column has values of both kinds. All-digit values
     * (optionally with a leading `-`): ::SCRM_TIME_YYYYMMDD if at least half
     * of them are valid 8-digit dates (CDNOW's `19970101`; the others are
     * then bad rows, with the reason), otherwise ::SCRM_TIME_EPOCH
     * (`1700000000`). Values of another kind are bad rows. The format never
     * changes silently within a load: the decision is checked against every
     * value of the column. The choice is reported by
     * scrm_csv_report_time_format().
     */
    SCRM_TIME_AUTO = 0,
    /**
     * ISO 8601: `YYYY-MM-DD` (also `YYYY/MM/DD` and `YYYY.MM.DD`; month and
     * day may have one digit), optionally followed by `T` or a space and
     * `H:MM`, `H:MM:SS` or `H:MM:SS.fff` (the hour of one or two digits;
     * fractional seconds are dropped; a leap second `:60` is a bad value),
     * optionally followed by `Z`, ` UTC`, `+hh`, `+hh:mm` or `+hhmm` (or `-`).
     * A value with an explicit offset ignores the `utc_offset` option.
     */
    SCRM_TIME_ISO8601 = 1,
    /** `YYYYMMDD` dates (midnight local time). */
    SCRM_TIME_YYYYMMDD = 2,
    /**
     * `DD/MM/YYYY`, `DD.MM.YYYY` or `DD-MM-YYYY` (day and month may have one
     * digit), optionally followed by a space (or `T`) and `H:MM` or
     * `H:MM:SS` (the hour of one or two digits).
     */
    SCRM_TIME_DMY = 3,
    /** Seconds since the Unix epoch, UTC (an optional `-`, then digits); `utc_offset` does not apply. */
    SCRM_TIME_EPOCH = 4,
    /**
     * `MM/DD/YYYY` (the US order; also with a dot or a hyphen between the
     * fields), like ::SCRM_TIME_DMY
     * with month and day swapped: `12/5/2011 17:17` is 5 December 2011.
     */
    SCRM_TIME_MDY = 5
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

/** Current version of ::scrm_csv_options; version 2 added the fields from `na_customers` on. */
#define SCRM_CSV_OPTIONS_VERSION 2

/** Most distinct columns the exclude filter (::scrm_csv_options.exclude_columns) may name. */
#define SCRM_CSV_MAX_EXCLUDE_COLUMNS 8

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
     * Name of an order id column, or NULL (default): then each row is an
     * order. Each id is hashed with scrm_dataset_order_key_from_string().
     * Rows of the load with the same order id are the lines of one order
     * (an invoice number in a file of invoice lines, Olist's `order_id` in
     * its items): amounts summed (refund lines included, so the order is the
     * net), time the earliest line's; a line of another customer than the
     * order's first line is a bad row. An order id stored by an earlier
     * append or load is a re-delivery: the row is skipped and counted
     * (scrm_csv_report_duplicates()). An empty order id is a bad row.
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
    /**
     * Field delimiter: ',', ';' or '\\t'; ' ' for whitespace-separated files
     * (fields apart by runs of spaces and tabs, blanks at the start and end
     * of a line ignored, as CDNOW_master.txt and fixed-width exports); or 0
     * (default) to detect it from the first line: the most frequent of ',',
     * ';' and '\\t' outside quotes (',' on a tie), ' ' when none of them occurs
     * but blanks separate words, ',' otherwise.
     */
    int32_t delimiter;
    /** A ::scrm_time_format; default ::SCRM_TIME_AUTO. */
    int time_format;
    /**
     * Decimal separator of amounts: '.' (default; ',' is then a thousands
     * separator, `1,234.56`) or ',' ('.' is then the thousands separator,
     * `1.234,56`). Thousands separators are accepted only between proper
     * groups of three digits, and not as the only separator of a number
     * without decimals (`2,085` is a bad value: 2085, or 2.085 written with
     * the other separator).
     */
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
     * A customer value that means "no customer", or NULL (default). Rows
     * whose customer field is empty, or equal to this string, to one of
     * `na_customers` or (with `na_defaults`) to one of the default set, are
     * skipped and counted by scrm_csv_report_empty_customer(). Compared
     * after unquoting, exactly.
     */
    const char *na_customer;
    /** Called from time to time with bytes parsed and the input size in bytes, or NULL. Non-zero return cancels: ::SCRM_ECANCELLED, nothing added. Called on the calling thread only. */
    scrm_progress_fn progress;
    /** Passed to `progress`. */
    void *progress_payload;
    /** Parsing threads; 0 (default) = one per core. Results do not depend on it. */
    uint32_t threads;
    /**
     * More customer values that mean "no customer" (see `na_customer`):
     * `na_customer_count` strings, or NULL (default). Borrowed.
     * @scrm_len{na_customer_count}
     */
    const char *const *na_customers;
    /** Number of strings in `na_customers`; default 0. */
    uint32_t na_customer_count;
    /**
     * Non-zero (default 1): the default set of "no customer" values applies
     * too: `NA`, `N/A`, `n/a`, `#N/A`, `null`, `NULL`, `NaN`, `nan`, `None`
     * (what R, pandas, spreadsheets and databases write for a missing
     * value). Zero: only the empty value and the ones given.
     */
    int32_t na_defaults;
    /**
     * The exclude filter: a row whose field in column `exclude_columns[i]`
     * equals `exclude_values[i]` (after unquoting and trimming blanks,
     * exactly) for some i is excluded: skipped before any other check and
     * counted by scrm_csv_report_excluded(). Give a column once per value
     * (`order_status` = `canceled`, `order_status` = `unavailable`); at most
     * ::SCRM_CSV_MAX_EXCLUDE_COLUMNS distinct columns; a named column
     * missing from the header is ::SCRM_EINVAL. `exclude_count` names each,
     * or NULL (default). Borrowed. @scrm_len{exclude_count}
     */
    const char *const *exclude_columns;
    /** The values of the exclude filter, one per `exclude_columns` entry, or NULL (default). Borrowed. @scrm_len{exclude_count} */
    const char *const *exclude_values;
    /** Number of entries of `exclude_columns` and `exclude_values`; default 0. */
    uint32_t exclude_count;
} scrm_csv_options;

/** Default ::scrm_csv_options. */
#define SCRM_CSV_OPTIONS_INIT                                                              \
    { SCRM_CSV_OPTIONS_VERSION, "customer_id", "date", "amount", NULL, NULL, NULL, 1, 0, \
      SCRM_TIME_AUTO, '.', 2, 0, SCRM_CSV_STRICT, 100, NULL, NULL, NULL, 0,              \
      NULL, 0, 1, NULL, NULL, 0 }

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
 * memory beyond the dataset stays bounded. A gzip file (first bytes
 * `1f 8b`, such as `orders.csv.gz`) is decompressed with zlib through a
 * buffer of about two windows instead, never whole. The load is still
 * atomic: on any error (even in the last window) @p ds is left exactly as
 * it was.
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
 *         missing from the header), SCRM_EIO (cannot open or read; corrupt
 *         or truncated gzip data), SCRM_EPARSE (a bad row with
 *         ::SCRM_CSV_STRICT, binary input, a time column whose day/month
 *         order is undecided), SCRM_ECANCELLED, SCRM_ENOMEM; detail in
 *         scrm_last_error().
 * @note Thread safety: no other call may use @p ds meanwhile.
 * @since 1.0
 */
SCRM_EXPORT int scrm_csv_load_file(scrm_csv_report **report_out, scrm_dataset *ds,
                                   const char *path, const scrm_csv_options *opts);

/**
 * Load orders from CSV text in memory into @p ds.
 *
 * Same rules as scrm_csv_load_file(), gzip data included (decompressed
 * through a bounded buffer).
 *
 * @param[out] report_out  if not NULL, receives a new report on success (free with scrm_csv_report_free()).
 * @param ds               the dataset to append to.
 * @param data             the CSV text (need not be NUL-terminated); borrowed.
 * @param len              its length in bytes.
 * @param opts             options, or NULL for defaults.
 * @return SCRM_OK, SCRM_EINVAL, SCRM_EIO (corrupt or truncated gzip data), SCRM_EPARSE,
 *         SCRM_ECANCELLED, SCRM_ENOMEM; detail in scrm_last_error().
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
 * duplicates + lines merged + empty customers + excluded + rejected.
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_rows_read(const scrm_csv_report *report);

/**
 * Rows added to the dataset: orders (an order of several lines is one row).
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_rows_added(const scrm_csv_report *report);

/**
 * Rows skipped because their order id was stored by an earlier append or
 * load (re-deliveries).
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_duplicates(const scrm_csv_report *report);

/**
 * Lines merged into an order: rows whose order id an earlier row of the
 * same load had (see ::scrm_csv_options.order_id_column). Each adds its
 * amount to the order instead of being an order.
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_lines_merged(const scrm_csv_report *report);

/**
 * Orders of the load made of more than one line: the lines merged
 * (scrm_csv_report_lines_merged()) went into this many orders.
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_orders_merged(const scrm_csv_report *report);

/**
 * Rows skipped by the exclude filter (::scrm_csv_options.exclude_columns).
 * @param report  the report (NULL gives 0).
 * @return the count.
 * @since 1.0
 */
SCRM_EXPORT uint64_t scrm_csv_report_excluded(const scrm_csv_report *report);

/**
 * Rows skipped because their customer was empty or a "no customer" value
 * (`na_customer`, `na_customers`, the default set).
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
 * The field delimiter used (given or detected): ',', ';', '\\t' or ' '.
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
