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
 * - Time is `int64_t` seconds since the Unix epoch, UTC. Money is `int64_t`
 *   in minor units (cents).
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

/* ---- time parsing ---- */

/**
 * Parse one time value as the CSV loader parses a time column.
 *
 * Surrounding spaces and tabs are ignored. Local times (dates, and
 * date-times without an explicit offset) become UTC with @p utc_offset:
 * time_utc = local − utc_offset. With ::SCRM_TIME_AUTO the value is taken as
 * the loader takes a column holding only this value: ISO 8601 if it looks
 * like `YYYY-MM-DD...`, DD/MM/YYYY if it looks like `D/M/YYYY...`, and an
 * all-digit value as `YYYYMMDD` if it has 8 digits and is a valid date,
 * as epoch seconds otherwise.
 *
 * @param[out] out     receives the time in seconds since 1970-01-01 UTC;
 *                     written only on success.
 * @param s            the text; need not be NUL-terminated; borrowed.
 * @param len          its length in bytes.
 * @param format       a ::scrm_time_format (declared in shopcrm/io.h), passed as `int`.
 * @param utc_offset   seconds east of UTC of local times, -86400..86400.
 * @return SCRM_OK; SCRM_EINVAL if the text is not a time of the format
 *         (scrm_last_error() says why: `'2024-13-01' is not a date: month 13`)
 *         or an argument is invalid; SCRM_ERANGE if the time is outside
 *         years 1 to 9999 UTC.
 * @note Thread safety: safe.
 * @since 1.0
 */
SCRM_EXPORT int scrm_time_parse(int64_t *out, const char *s, uint64_t len, int format,
                                int64_t utc_offset);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SHOPCRM_COMMON_H */
