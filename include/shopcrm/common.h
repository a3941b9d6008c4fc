/**
 * @file shopcrm/common.h
 * @brief Errors, versions, allocator, progress callbacks: what every area shares.
 *
 * @defgroup scrm_common Common
 * Conventions shared by the whole library.
 *
 * - Every fallible function returns `int`: ::SCRM_OK (0) or a negative
 *   `SCRM_E*` code. Outputs go through pointers and are written only on
 *   success; on failure no handle changes.
 * - scrm_strerror() names a code; scrm_last_error() gives a thread-local
 *   message with the detail of the last failure on the calling thread.
 * - Time is `int64_t` seconds since the Unix epoch, UTC, within
 *   ::SCRM_TIME_MIN .. ::SCRM_TIME_MAX. Local time is `t + utc_offset` with
 *   one fixed offset of at most ::SCRM_MAX_UTC_OFFSET (no time-zone
 *   database); scrm_time_parse() reads times, scrm_time_print() writes them.
 * - Money is `int64_t` in minor units (cents, centavos; yen have none). The
 *   number of minor digits is a property of the dataset
 *   (scrm_dataset_minor_digits()); scrm_money_print() and
 *   scrm_money_to_major() turn minor units into major units with it.
 *
 * ## Calendar periods
 * Civil-date arithmetic on the proleptic Gregorian calendar with a fixed UTC
 * offset (no time-zone database). A time `t` (seconds since the epoch, UTC)
 * has the local time `t + utc_offset`; its period is taken on the local
 * civil date. Periods are numbered by a **period index**: the number of whole
 * periods between the period containing local 1970-01-01 and the period
 * containing the time, so index 0 is the period of the epoch and earlier
 * periods have negative indices:
 * - ::SCRM_PERIOD_DAY: days since 1970-01-01.
 * - ::SCRM_PERIOD_WEEK: ISO 8601 weeks (Monday to Sunday); index 0 is the
 *   week of 1970-01-01, which started on Monday 1969-12-29 (1970-W01). The
 *   label uses the ISO week-numbering year, the year of the week's Thursday
 *   (ISO 8601-1:2019, 3.1.1.23 and 5.2.3): 2020-12-31 and 2021-01-03 are in
 *   2020-W53, 2021-01-04 starts 2021-W01.
 * - ::SCRM_PERIOD_MONTH: (year − 1970)·12 + month − 1.
 * - ::SCRM_PERIOD_QUARTER: (year − 1970)·4 + (month − 1) / 3.
 * - ::SCRM_PERIOD_YEAR: year − 1970.
 *
 * Valid local times are those of years 1..9999, i.e. `t + utc_offset` in
 * ::SCRM_TIME_MIN .. ::SCRM_TIME_MAX; since 0001-01-01 is a Monday, every
 * period of every unit that meets this range lies inside it. |utc_offset| is
 * at most ::SCRM_MAX_UTC_OFFSET (18 hours, as ISO 8601 allows).
 * scrm_period_start() is the exact inverse of scrm_period_index():
 * `start(index(t)) <= t < start(index(t) + 1)`.
 *
 * @{
 */
#ifndef SHOPCRM_COMMON_H
#define SHOPCRM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of the public ABI (exported from the shared library). */
#if defined(_WIN32)
#define SCRM_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define SCRM_EXPORT __attribute__((visibility("default")))
#else
#define SCRM_EXPORT
#endif

/** Major version: changes on an incompatible ABI change (it is the SONAME's number). */
#define SCRM_VERSION_MAJOR 1
/** Minor version: changes when functions are added. */
#define SCRM_VERSION_MINOR 0
/** Patch version: changes on fixes only. */
#define SCRM_VERSION_PATCH 0
/** The version as one number, MAJOR*10000 + MINOR*100 + PATCH, for `#if`. */
#define SCRM_VERSION_NUMBER \
    (SCRM_VERSION_MAJOR * 10000 + SCRM_VERSION_MINOR * 100 + SCRM_VERSION_PATCH)
/** @cond INTERNAL */
#define SCRM_STR_(x) #x
#define SCRM_STR(x) SCRM_STR_(x)
/** @endcond */
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define SCRM_VERSION_STRING \
    SCRM_STR(SCRM_VERSION_MAJOR) "." SCRM_STR(SCRM_VERSION_MINOR) "." SCRM_STR(SCRM_VERSION_PATCH)

/**
 * Error codes. A code keeps its value and meaning forever.
 */
typedef enum scrm_error {
    SCRM_OK = 0,            /**< Success. */
    SCRM_EINVAL = -1,       /**< An argument or option is invalid (NULL pointer, out of range). */
    SCRM_ENOMEM = -2,       /**< An allocation failed. */
    SCRM_EPARSE = -3,       /**< Input text could not be parsed (detail gives line and column). */
    SCRM_EIO = -4,          /**< A file could not be opened, read or written. */
    SCRM_EOVERFLOW = -5,    /**< A sum or count does not fit its type. */
    SCRM_ENOTFOUND = -6,    /**< The key or name looked up does not exist. */
    SCRM_EVERSION = -7,     /**< An options struct or file has a version this library does not know. */
    SCRM_ECANCELLED = -8,   /**< The progress callback asked to stop. */
    SCRM_ERANGE = -9,       /**< A value (time, amount) is outside the range the library handles. */
    SCRM_ESTATE = -10       /**< The call is not allowed in the handle's current state. */
} scrm_error;

/**
 * Name and describe an error code.
 *
 * @param code  a value returned by a libshopcrm function.
 * @return a static string ("invalid argument", ...); never NULL, also for unknown codes.
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT const char *scrm_strerror(int code);

/**
 * The message of the last failure on the calling thread.
 *
 * @return a thread-local string with detail ("line 17, column amount: ...");
 *         empty if no call on this thread has failed. Valid until the next
 *         libshopcrm call on the same thread.
 * @note Thread safety: each thread has its own message.
 * @since 1.0
 */
SCRM_EXPORT const char *scrm_last_error(void);

/**
 * Index of the row, line or item the last failure on this thread is about.
 *
 * @return a 0-based row index for scrm_dataset_append_u64() /
 *         scrm_dataset_append_str(), a 1-based line number for the CSV
 *         loader, or -1 when the last error is not about a row.
 * @since 1.0
 */
SCRM_EXPORT int64_t scrm_last_error_index(void);

/**
 * Clear the calling thread's last error message.
 * @since 1.0
 */
SCRM_EXPORT void scrm_clear_error(void);

/**
 * The version of the library at run time.
 *
 * @return "MAJOR.MINOR.PATCH" (static string).
 * @since 1.0
 */
SCRM_EXPORT const char *scrm_version(void);

/**
 * The version of the library at run time as SCRM_VERSION_NUMBER.
 *
 * @return MAJOR*10000 + MINOR*100 + PATCH.
 * @since 1.0
 */
SCRM_EXPORT int scrm_version_number(void);

/** An allocation function: like malloc(), with the user data given to scrm_set_allocator(). */
typedef void *(*scrm_malloc_fn)(size_t size, void *payload);
/** A reallocation function: like realloc(). */
typedef void *(*scrm_realloc_fn)(void *ptr, size_t size, void *payload);
/** A deallocation function: like free(); must accept NULL. */
typedef void (*scrm_free_fn)(void *ptr, void *payload);

/**
 * Replace the allocator used by every allocation of the library.
 *
 * Set it before creating any handle (memory allocated by one allocator is
 * freed by the allocator in force when it is freed). Passing three NULLs
 * restores the C library's malloc/realloc/free.
 *
 * @param m        allocation function, or NULL.
 * @param r        reallocation function, or NULL.
 * @param f        deallocation function, or NULL.
 * @param payload  passed to each function untouched.
 * @return SCRM_OK, or SCRM_EINVAL if some but not all functions are NULL.
 * @note Thread safety: not safe; call it while no other thread uses the library.
 * @since 1.0
 */
SCRM_EXPORT int scrm_set_allocator(scrm_malloc_fn m, scrm_realloc_fn r, scrm_free_fn f,
                                   void *payload);

/* ------------------------------------------------------------------------ */
/* Time, calendar periods and money                                          */
/* ------------------------------------------------------------------------ */

/** Earliest time a dataset accepts: 0001-01-01T00:00:00Z. */
#define SCRM_TIME_MIN INT64_C(-62135596800)
/** Latest time a dataset accepts: 9999-12-31T23:59:59Z. */
#define SCRM_TIME_MAX INT64_C(253402300799)
/** Largest accepted |utc_offset| everywhere (CSV loading, RFM, KPIs, cohorts, periods), in seconds: 18 hours, as ISO 8601 allows. */
#define SCRM_MAX_UTC_OFFSET 64800

/** Largest number of minor-unit digits of a currency (datasets, CSV amounts, money output). */
#define SCRM_MAX_MINOR_DIGITS 6

/** How scrm_time_print() writes a time. Passed as `int`; values never change. */
typedef enum scrm_time_style {
    SCRM_TIME_STYLE_DATE = 0,     /**< The local civil date: `2024-01-15`. */
    SCRM_TIME_STYLE_DATETIME = 1, /**< Local date and time: `2024-01-15 13:45:00`. */
    SCRM_TIME_STYLE_ISO8601 = 2   /**< ISO 8601 with the offset: `2024-01-15T13:45:00-03:00`, or `...Z` for offset 0. */
} scrm_time_style;

/** Buffer size that holds any text of scrm_time_print() with its NUL. */
#define SCRM_TIME_TEXT_MAX 32

/**
 * Write a time as text in local time (`t + utc_offset`).
 *
 * @param[out] buf    receives the NUL-terminated text.
 * @param cap         size of @p buf in bytes (::SCRM_TIME_TEXT_MAX is always enough).
 * @param t           seconds since the epoch, UTC, within ::SCRM_TIME_MIN .. ::SCRM_TIME_MAX
 *                    once the offset is added.
 * @param utc_offset  seconds added to @p t; |x| ≤ ::SCRM_MAX_UTC_OFFSET.
 * @param style       a ::scrm_time_style.
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad style or offset, @p cap too small:
 *         @p buf unchanged), SCRM_ERANGE (local time outside years 1..9999).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_time_print(char *buf, uint32_t cap, int64_t t, int64_t utc_offset,
                                int style);

/**
 * Read one time value as the CSV loader reads a time column (the same
 * parser): ISO 8601 (`2024-01-15`, `2024-01-15 9:45`,
 * `2024-01-15T13:45:00Z`, `...-03:00`, `2024/01/15`), `YYYYMMDD`,
 * `DD/MM/YYYY[ H:MM[:SS]]`, `MM/DD/YYYY[ H:MM[:SS]]` or epoch seconds
 * (::scrm_time_format, shopcrm/io.h).
 *
 * Surrounding spaces and tabs are ignored. Local times (dates, and
 * date-times without an explicit offset) become UTC with @p utc_offset:
 * time_utc = local − utc_offset. With ::SCRM_TIME_AUTO the value is taken as
 * the loader takes a column holding only this value: ISO 8601 if it looks
 * like `YYYY-MM-DD...`; `D/M/YYYY...` as DD/MM/YYYY if its first field is
 * above 12, as MM/DD/YYYY if its second is, and an error (::SCRM_EPARSE)
 * if both are at most 12 (`5/6/2011` reads both ways); an all-digit value
 * as `YYYYMMDD` if it has 8 digits and is a valid date, as epoch seconds
 * otherwise.
 *
 * @param[out] out     receives the time in seconds since 1970-01-01 UTC;
 *                     written only on success.
 * @param s            the text; need not be NUL-terminated; borrowed.
 * @param len          its length in bytes.
 * @param format       a ::scrm_time_format (declared in shopcrm/io.h), passed as `int`.
 * @param utc_offset   seconds east of UTC of local times; |x| ≤ ::SCRM_MAX_UTC_OFFSET.
 * @return SCRM_OK; SCRM_EPARSE if the text is not a time of the format
 *         (scrm_last_error() says why: `'2024-13-01' is not an ISO 8601
 *         time: month 13`);
 *         SCRM_EINVAL for an invalid argument (NULL, unknown format, offset);
 *         SCRM_ERANGE if the time is outside years 1 to 9999 UTC.
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_time_parse(int64_t *out, const char *s, uint64_t len, int format,
                                int64_t utc_offset);

/**
 * Read a UTC offset: seconds (`-10800`), `±HH:MM`, `±HHMM`, `±HH`, or `Z`.
 *
 * @param[out] out  receives the offset in seconds (local = UTC + offset).
 * @param s         the text; need not be NUL-terminated.
 * @param len       its length in bytes.
 * @return SCRM_OK, SCRM_EINVAL (NULL, not an offset, beyond ::SCRM_MAX_UTC_OFFSET).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_time_parse_offset(int64_t *out, const char *s, uint64_t len);

/** Buffer size that holds any text of scrm_money_print() with its NUL. */
#define SCRM_MONEY_TEXT_MAX 32

/**
 * Write an amount of minor units in major units with exactly @p minor_digits
 * decimals and a point as the separator: 123456 with 2 digits is "1234.56",
 * minus 5 is "-0.05", 1500 yen with 0 digits is "1500". Exact (no floating
 * point).
 *
 * @param[out] buf       receives the NUL-terminated text.
 * @param cap            size of @p buf (::SCRM_MONEY_TEXT_MAX is always enough).
 * @param amount         minor units.
 * @param minor_digits   0 .. ::SCRM_MAX_MINOR_DIGITS.
 * @return SCRM_OK, SCRM_EINVAL (NULL, @p minor_digits out of range, @p cap too small: @p buf unchanged).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_money_print(char *buf, uint32_t cap, int64_t amount, uint32_t minor_digits);

/**
 * An amount of minor units (or a mean of them) in major units:
 * `minor / 10^minor_digits`, as a double.
 *
 * @param minor          minor units (a double: means are not integers).
 * @param minor_digits   0 .. ::SCRM_MAX_MINOR_DIGITS; larger values count as ::SCRM_MAX_MINOR_DIGITS.
 * @return the amount in major units.
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT double scrm_money_to_major(double minor, uint32_t minor_digits);

/**
 * An amount in major units as minor units, rounded half away from zero.
 *
 * @param[out] out       receives the minor units.
 * @param major          the amount in major units (finite).
 * @param minor_digits   0 .. ::SCRM_MAX_MINOR_DIGITS.
 * @return SCRM_OK, SCRM_EINVAL (NULL, not finite, bad @p minor_digits),
 *         SCRM_ERANGE (does not fit in int64 minor units).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_money_from_major(int64_t *out, double major, uint32_t minor_digits);


/** Calendar period units. Passed as `int`; values never change. */
typedef enum scrm_period_unit {
    SCRM_PERIOD_DAY = 0,     /**< Civil day. */
    SCRM_PERIOD_WEEK = 1,    /**< ISO 8601 week: Monday start, ISO week-numbering year. */
    SCRM_PERIOD_MONTH = 2,   /**< Calendar month. */
    SCRM_PERIOD_QUARTER = 3, /**< Calendar quarter (Jan–Mar is Q1). */
    SCRM_PERIOD_YEAR = 4     /**< Calendar year. */
} scrm_period_unit;

/** Buffer size that holds any period label with its NUL ("2017-03-14" plus room). */
#define SCRM_PERIOD_LABEL_MAX 16

/**
 * The period index of a time (see the group description).
 *
 * @param[out] index_out  receives the index.
 * @param t               seconds since the epoch, UTC.
 * @param unit            a ::scrm_period_unit.
 * @param utc_offset      seconds added to @p t to get local time; |x| ≤ ::SCRM_MAX_UTC_OFFSET.
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad unit or offset), SCRM_ERANGE
 *         (`t + utc_offset` outside years 1..9999).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_period_index(int64_t *index_out, int64_t t, int unit, int64_t utc_offset);

/**
 * The time (UTC) at which a period starts: local midnight of its first day
 * minus @p utc_offset.
 *
 * @param[out] t_out  receives the time.
 * @param index       a period index.
 * @param unit        a ::scrm_period_unit.
 * @param utc_offset  as for scrm_period_index().
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad unit or offset), SCRM_ERANGE (the
 *         period is not within years 1..9999).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_period_start(int64_t *t_out, int64_t index, int unit, int64_t utc_offset);

/**
 * Write the label of a period: `2017-03-14` (day), `2017-W09` (ISO week,
 * ISO year), `2017-03` (month), `2017-Q1` (quarter), `2017` (year); years
 * with 4 digits (`0001`).
 *
 * @param[out] buf  receives the NUL-terminated label.
 * @param cap       size of @p buf in bytes (::SCRM_PERIOD_LABEL_MAX is always enough).
 * @param index     a period index.
 * @param unit      a ::scrm_period_unit.
 * @return SCRM_OK, SCRM_EINVAL (NULL, bad unit, @p cap too small: @p buf
 *         unchanged), SCRM_ERANGE (period outside years 1..9999).
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_period_label(char *buf, uint32_t cap, int64_t index, int unit);

/**
 * A progress callback, given in the options of every long operation.
 *
 * @param done     units of work done so far (bytes, rows, customers: stated by each operation).
 * @param total    units of work in all (0 if unknown).
 * @param payload  the `progress_payload` of the options.
 * @return 0 to continue; non-zero to cancel: the operation then returns
 *         ::SCRM_ECANCELLED and leaves every handle as it was.
 */
typedef int (*scrm_progress_fn)(uint64_t done, uint64_t total, void *payload);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_COMMON_H */
