/* Internal helpers shared by the library's areas. Not installed. */
#ifndef SCRM_INTERNAL_H
#define SCRM_INTERNAL_H

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <string.h>

#include "shopcrm.h"

/* "Cannot happen" checks (SQLite's ALWAYS/NEVER): assert in debug builds,
 * pass the value through in release builds. */
#ifndef NDEBUG
#define SCRM_ALWAYS(x) (assert(x), 1)
#define SCRM_NEVER(x) (assert(!(x)), 0)
#else
#define SCRM_ALWAYS(x) (x)
#define SCRM_NEVER(x) (x)
#endif

#if defined(__GNUC__)
#define SCRM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SCRM_LIKELY(x) __builtin_expect(!!(x), 1)
#define SCRM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SCRM_PRINTF(a, b)
#define SCRM_LIKELY(x) (x)
#define SCRM_UNLIKELY(x) (x)
#endif

/* A public getter of one field of a result handle: `dflt` for NULL. */
#define SCRM__GETTER(ret, name, type, field, dflt)                                            \
    SCRM_EXPORT ret name(const type *h) { return h ? (ret)h->field : (dflt); }

/* ---- allocation: every allocation of the library goes through these ---- */
void *scrm__malloc(size_t size);
void *scrm__calloc(size_t n, size_t size);           /* zeroed, n*size overflow-checked */
void *scrm__realloc(void *p, size_t size);
void *scrm__reallocarray(void *p, size_t n, size_t size); /* overflow-checked */
void scrm__free(void *p);
/* scrm__malloc for large arrays: asks the kernel for transparent huge pages
 * (page faults on fresh memory are a large share of ingest time otherwise). */
void *scrm__big_alloc(size_t size);
char *scrm__strdup(const char *s);

/* ---- errors ---- */
/* Set the thread-local message and the row index (-1 for none); returns code. */
int scrm__error(int code, int64_t index, const char *fmt, ...) SCRM_PRINTF(3, 4);
/* Like scrm__error with the message "<what>: out of memory". */
int scrm__enomem(const char *what);
/* Save / restore the thread-local error around cleanup that may overwrite it. */
typedef struct scrm__saved_error {
    int64_t index;
    char msg[512];
} scrm__saved_error;
void scrm__error_save(scrm__saved_error *s);
void scrm__error_restore(const scrm__saved_error *s);

/* ---- versioned options ----
 * Copy the caller's options over the defaults: only the size of the caller's
 * version, so callers built against an older header keep working.
 * sizes[v-1] is the struct size of version v. */
int scrm__options_load(void *dst, const void *defaults, size_t full_size, const void *src,
                       const size_t *sizes, unsigned n_versions, const char *what);
/* The body of every scrm_x_options_init(): fill the caller's struct of
 * `version` (1..n_versions) with the defaults of that version. */
int scrm__options_init(void *opts, const void *defaults, const size_t *sizes,
                       unsigned n_versions, unsigned version, const char *fn);
/* The body of every public scrm_x_options_init(): defaults of the asked
 * version, with the size table tied to the version macro. */
#define SCRM__OPTIONS_INIT_FN(fn, type, defaults, sizes, version_macro)                      \
    SCRM__CHECK_SIZES(sizes, version_macro);                                                  \
    SCRM_EXPORT int fn(type *opts, unsigned version)                                          \
    {                                                                                          \
        return scrm__options_init(opts, &(defaults), sizes, version_macro, version, #fn);    \
    }

/* Ties an options size table to its version macro: one size per version. */
#define SCRM__CHECK_SIZES(sizes, version)                                                     \
    _Static_assert(sizeof(sizes) / sizeof((sizes)[0]) == (version),                          \
                   #sizes " must list one struct size per version up to " #version)

/* ---- threads ----
 * Run fn over [0, n) split in `threads` contiguous ranges, one per thread
 * (the calling thread runs the first). Ranges depend only on n and threads,
 * so results that are merged in range order are deterministic. Returns the
 * first non-zero value returned by fn (in range order). */
typedef int (*scrm__range_fn)(void *ctx, uint32_t begin, uint32_t end, uint32_t thread);
int scrm__parallel_for(uint32_t threads, uint32_t n, scrm__range_fn fn, void *ctx);
uint32_t scrm__default_threads(void);

/* ---- arithmetic ---- */
static inline int64_t scrm__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}
/* Civil day number (days since 1970-01-01) of time t with a UTC offset. */
static inline int64_t scrm__day(int64_t t, int64_t utc_offset)
{
    return scrm__floor_div(t + utc_offset, 86400);
}
static inline int scrm__add_overflow_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out);
}
/* scrm__day for a time within SCRM_TIME_MIN..MAX and |utc_offset| within
 * SCRM_MAX_UTC_OFFSET (every stored order time): with a bias that makes the
 * dividend non-negative, the division by the constant 86400 is unsigned, so
 * the compiler turns it into a multiplication (hot loops). */
#define SCRM__DAY_BIAS INT64_C(800000) /* days: more than 0001-01-01 before the epoch */
static inline int64_t scrm__day_in_range(int64_t t, int64_t utc_offset)
{
    return (int64_t)((uint64_t)(t + utc_offset + SCRM__DAY_BIAS * 86400) / 86400u) -
           SCRM__DAY_BIAS;
}
/* 64-bit mixer (a bijection) used for hashing integer keys: the finaliser
 * of SplitMix64 (Steele, Lea, Flood 2014, "Fast splittable PRNGs"). */
static inline uint64_t scrm__mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}
uint64_t scrm__hash_bytes(const void *p, size_t len, uint64_t seed);

/* Stable LSD radix sort of n (key, index) pairs by key, 8-bit digits,
 * skipping digits that are equal in every key (`diff` = OR over keys of
 * key XOR any one key, or simply OR of the keys when they are offsets from
 * the minimum). (ka, ia) hold the input; (kb, ib) are scratch of n entries.
 * On return *k_out / *i_out point at whichever pair of buffers holds the
 * sorted result. O(n) per non-constant digit. */
/* Sort a[0..n) ascending (LSD radix, 8-bit digits, constant digits
 * skipped); tmp holds n values of scratch. */
void scrm__radix_sort_u32(uint32_t *a, uint32_t *tmp, uint32_t n);
void scrm__radix_sort_pairs(uint64_t *ka, uint32_t *ia, uint64_t *kb, uint32_t *ib, uint32_t n,
                            uint64_t diff, uint64_t **k_out, uint32_t **i_out);

/* ---- dataset internals for analyses ----
 * Orders are stored in partitions by a hash of the customer key. All orders
 * of a customer are in one partition; inside a partition customers have
 * local ids 0..n_cust-1 and rows are in append order, as a few segments
 * (appends add rows without moving earlier ones). Analyses aggregate
 * partition by partition (cache-resident) and write per-customer results
 * at the global index gid[local]. */
typedef struct scrm__row_seg {
    uint32_t *cust;         /* local customer id of each row */
    int64_t *time;          /* order time of each row */
    int64_t *amount;        /* amount (minor units) of each row */
    uint64_t n;             /* rows in the segment */
    uint64_t cap;           /* room (dataset internal) */
} scrm__row_seg;

typedef struct scrm__part_view {
    uint32_t n_cust;        /* customers of this partition */
    const uint32_t *gid;    /* local id -> global customer index */
    uint64_t n_rows;        /* orders of this partition: the sum of the segments' n */
    uint32_t n_seg;         /* row segments, in append order */
    const scrm__row_seg *seg;
} scrm__part_view;

/* Every row of a view: for (SCRM__EACH_SEG(v, g)) for (i = 0; i < g->n; i++) g->time[i]... */
#define SCRM__EACH_SEG(v, g) const scrm__row_seg *g = (v).seg; g < (v).seg + (v).n_seg; g++

uint32_t scrm__dataset_partition_count(const scrm_dataset *ds);
void scrm__dataset_partition(const scrm_dataset *ds, uint32_t p, scrm__part_view *out);
uint32_t scrm__dataset_threads(const scrm_dataset *ds);
/* The currency's minor digits of a load: they may differ from the dataset's
 * only while it has no order (SCRM_EINVAL naming fn otherwise); the load
 * sets them when it commits. */
int scrm__dataset_check_minor_digits(const scrm_dataset *ds, uint32_t minor_digits,
                                     const char *fn);
void scrm__dataset_set_minor_digits(scrm_dataset *ds, uint32_t minor_digits);
/* Rank of each customer's key in key order (numeric for u64 keys, bytewise
 * for strings, shorter prefix first): rank[gid] in 0..n-1, on up to
 * `threads` threads (u64 keys). Caller frees with scrm__free(). */
int scrm__dataset_key_ranks(uint32_t **rank_out, const scrm_dataset *ds, uint32_t threads);
/* A hint that customer i's key (and a string key's bytes' place) is read
 * soon: for exports that visit customers in key order, not index order. */
void scrm__dataset_prefetch_key(const scrm_dataset *ds, uint32_t i);
/* Fewer u64 keys than this are ranked on one thread (the threads would cost
 * more than they save); a test hook, default 65536. */
extern uint32_t scrm__key_sort_parallel_min;

/* The first rule of map matching R and F, whatever its M bounds (RFM
 * without a monetary dimension; lib/segment.c); -1 if none. */
int32_t scrm__segment_map_match_rf(const scrm_segment_map *map, uint32_t r, uint32_t f);

/* ---- per-customer summary (lib/summary.c) ----
 * Computed once per dataset version and UTC offset, during the first
 * analysis pass that needs it (scrm__run with want_summary), cached on the
 * dataset and dropped by the next append. Arrays by global customer index. */
typedef struct scrm__summary {
    struct scrm__summary *next; /* dataset cache: one per UTC offset */
    int64_t utc_offset;         /* purchase days are local days with this offset */
    uint32_t n;                 /* customers */
    int64_t *first;             /* earliest order time (amount >= 0); INT64_MIN if none */
    int64_t *last;              /* latest order time (amount >= 0); for a customer
                                 * without an order, the latest refund time */
    uint32_t *orders;           /* orders (rows with amount >= 0) */
    uint32_t *days;             /* distinct local days with an order */
    int64_t *order_revenue;     /* exact sum of the amounts >= 0 */
    int64_t *refunds;           /* exact sum of the amounts < 0 */
    _Atomic int64_t overflow;   /* smallest index of a customer whose sums overflow int64, or -1 */
} scrm__summary;

/* The summary cached on ds for utc_offset, or NULL. */
const scrm__summary *scrm__dataset_summary(const scrm_dataset *ds, int64_t utc_offset);
/* Cache s on ds (which takes ownership) unless another thread did first; returns the one cached. */
const scrm__summary *scrm__dataset_cache_summary(const scrm_dataset *ds, scrm__summary *s);
/* Allocation of an empty summary for n customers, and its release. */
scrm__summary *scrm__summary_new(uint32_t n, int64_t utc_offset);
void scrm__summary_free(scrm__summary *s);
/* Per-thread scratch for building summaries of partitions up to these sizes. */
typedef struct scrm__summary_acc scrm__summary_acc; /* one customer's running values */
typedef struct scrm__summary_scratch {
    scrm__summary_acc *acc; /* per local customer: one record, one cache line */
    uint32_t *off;          /* unsorted partitions: n_cust + 1 offsets */
    int32_t *day;           /* unsorted partitions: order days grouped by customer */
    uint32_t *tmp;          /* radix temporary for them */
} scrm__summary_scratch;
int scrm__summary_scratch_new(scrm__summary_scratch *s, uint32_t max_cust, uint64_t max_rows);
void scrm__summary_scratch_free(scrm__summary_scratch *s);
/* Fill the summary entries of the customers of one partition. */
void scrm__summary_part(scrm__summary *s, scrm__summary_scratch *scr, const scrm__part_view *v);
/* The same over the rows with time < cut only (a snapshot at cut; such a
 * summary is never cached); returns the number of rows left out. A
 * customer without a row before cut gets orders 0 and last INT64_MIN. */
uint64_t scrm__summary_part_before(scrm__summary *s, scrm__summary_scratch *scr,
                                   const scrm__part_view *v, int64_t cut);

/* ---- the analysis runner (lib/runner.c) ----
 * What every analysis does around its own arithmetic: the thread count,
 * per-thread scratch, the walk over the partitions (spread over threads in
 * contiguous ranges, so results merged in partition or thread order do not
 * depend on the thread count), progress and cancellation, the shared
 * per-customer summary, and the merge of per-thread results in thread order. */
#define SCRM__MAX_THREADS 64

/* The thread count of an analysis: requested, else the dataset's, else one
 * per core; at most SCRM__MAX_THREADS and at most one per partition. */
uint32_t scrm__threads(uint32_t requested, const scrm_dataset *ds);

/* Sizes every analysis allocates its scratch for. */
typedef struct scrm__shape {
    uint32_t n_parts, max_cust; /* partitions, most customers in one */
    uint64_t max_rows, rows;    /* most rows in one partition, all rows */
    uint64_t customers;
} scrm__shape;
void scrm__dataset_shape(const scrm_dataset *ds, scrm__shape *out);

typedef struct scrm__run {
    const char *fn;            /* the public function, for messages */
    const scrm_dataset *ds;
    uint32_t threads;          /* requested (0: the dataset's) */
    scrm_progress_fn progress; /* may be NULL */
    void *payload;
    int progress_rows;         /* units: 0 = partitions, 1 = rows */
    int want_summary;          /* build (or reuse) the per-customer summary */
    int64_t utc_offset;        /* of the summary */
    size_t scratch_size;       /* bytes of one thread's scratch (0: none) */
    /* allocate one thread's scratch (zeroed on entry); SCRM_ENOMEM or 0 */
    int (*scratch_new)(void *ctx, void *scratch, const scrm__shape *shape);
    void (*scratch_free)(void *ctx, void *scratch);
    /* once, on the calling thread, after the summary is known and before
     * any partition (may be NULL) */
    int (*begin)(void *ctx, const scrm__summary *summary);
    /* one partition: its rows in v; sum is the summary when wanted */
    int (*part)(void *ctx, void *scratch, uint32_t p, const scrm__part_view *v,
                const scrm__summary *sum);
    /* after every partition, in thread order: merge thread t's scratch (may be NULL) */
    int (*merge)(void *ctx, void *scratch, uint32_t thread);
    void *ctx;
    /* out: the threads used, the shape, and the summary (when wanted; valid
     * until the dataset changes) */
    uint32_t threads_used;
    scrm__shape shape;
    const scrm__summary *summary;
} scrm__run;
/* Run an analysis pass. Progress: thread 0 reports after each of its
 * partitions, the calling thread once more with (total, total) at the end;
 * a non-zero return cancels (SCRM_ECANCELLED, "<fn>: cancelled by the
 * progress callback"). Returns the first error in partition order. */
int scrm__run_partitions(scrm__run *r);

/* ---- time and money (lib/timemoney.c) ----
 * Proleptic Gregorian civil dates <-> days since 1970-01-01 (Howard Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"). m is 1..12, d is 1..31;
 * days_from_civil does not validate (see scrm__valid_date). */
int64_t scrm__days_from_civil(int64_t y, unsigned m, unsigned d);
void scrm__civil_from_days(int64_t days, int64_t *y_out, unsigned *m_out, unsigned *d_out);
int scrm__is_leap_year(int64_t y);
unsigned scrm__days_in_month(int64_t y, unsigned m); /* 0 if m is not 1..12 */
int scrm__valid_date(int64_t y, unsigned m, unsigned d);
/* Periods (include/shopcrm/common.h): the period index of a civil day, the
 * first day of a period, and the shared argument check (sets the error). */
int64_t scrm__period_of_day(int64_t day, int unit);
int64_t scrm__period_first_day(int64_t index, int unit);
int scrm__period_check(const char *fn, int unit, int64_t utc_offset);
/* |utc_offset| <= SCRM_MAX_UTC_OFFSET, or SCRM_EINVAL with "fn: ..." set. */
int scrm__utc_offset_check(const char *fn, int64_t utc_offset);
/* Money in major units as text (scrm_money_print without the checks):
 * minor_digits <= SCRM_MAX_MINOR_DIGITS; returns the length, NUL-terminated. */
size_t scrm__money_text(char out[SCRM_MONEY_TEXT_MAX], int64_t amount, uint32_t minor_digits);


/* ---- buffered CSV writer (lib/csvout.c) ----
 * The one writer of the library's CSV exports (RFM scores, audiences, cohort
 * cells): a 1 MiB buffer over a FILE, sticky write errors, text cells escaped
 * against spreadsheet formula injection, money through scrm_money_print().
 * open, put..., then close with the first error: close removes the file on
 * any failure when it is a regular file (a device such as /dev/stdout is left
 * alone), so a failed export leaves no partial file behind. */
#include <stdio.h>

struct scrm__csvout_order;

typedef struct scrm__csvout {
    FILE *f;
    char *buf;
    size_t len, cap;
    int failed;  /* a write failed: later output is dropped */
    int eno;     /* errno of the failed write (it may fail on another thread) */
    int regular; /* path is a regular file: removed on failure */
    /* a buffer of scrm__csvout_rows' workers: flushes wait for the turn of block */
    struct scrm__csvout_order *order;
    uint32_t block;
    struct scrm__csvout *workers; /* threads > 1: one buffer per thread */
    uint32_t n_workers;
} scrm__csvout;

/* threads: the most threads scrm__csvout_rows will use (their buffers are
 * allocated here, before the file is truncated, so running out of memory
 * leaves the file as it was). */
int scrm__csvout_open(scrm__csvout *w, const char *path, uint32_t threads, const char *fn);
/* The checks and the open of an export of result r with money in
 * minor_digits: SCRM_EINVAL for a NULL r or path or digits above
 * SCRM_MAX_MINOR_DIGITS, then scrm__csvout_open on one thread. */
int scrm__csvout_begin(scrm__csvout *w, const void *r, const char *path, uint32_t minor_digits,
                       const char *fn);
/* Flush and close; returns err, or SCRM_EIO if a write or the close failed. */
int scrm__csvout_close(scrm__csvout *w, const char *path, int err, const char *fn);
void scrm__csvout_flush(scrm__csvout *w);
void scrm__csvout_put(scrm__csvout *w, const char *s, size_t k);
void scrm__csvout_u64(scrm__csvout *w, uint64_t v);
void scrm__csvout_i64(scrm__csvout *w, int64_t v);
/* Minor units in major units with minor_digits decimals (0..SCRM_MAX_MINOR_DIGITS). */
void scrm__csvout_money(scrm__csvout *w, int64_t amount, uint32_t minor_digits);
/* The shortest text that reads back as the same double ("%.17g" at worst). */
void scrm__csvout_double(scrm__csvout *w, double v);
/* A text cell, quoted and escaped as needed (RFC 4180, OWASP "CSV Injection"). */
void scrm__csvout_text(scrm__csvout *w, const char *s, size_t k);
/* The key of customer i of ds (key_type: scrm_dataset_key_type(ds)). */
int scrm__csvout_key(scrm__csvout *w, const scrm_dataset *ds, int key_type, uint32_t i);
/* Rows [0, n) of an export, each formatted by row(w, ctx, i) (which may
 * write nothing), on the threads given to scrm__csvout_open: blocks of
 * scrm__csvout_block_rows rows go to per-thread buffers and are written to w
 * in block order, so the bytes do not depend on the thread count. Returns
 * the first error of row() (rows of later blocks are then not written);
 * write errors stay sticky in w for scrm__csvout_close(). */
typedef int (*scrm__csvout_row_fn)(scrm__csvout *w, const void *ctx, uint32_t i);
int scrm__csvout_rows(scrm__csvout *w, uint32_t n, scrm__csvout_row_fn row, const void *ctx);
/* Rows per block of scrm__csvout_rows (a test hook; default 8192). */
extern uint32_t scrm__csvout_block_rows;

static inline void scrm__csvout_ch(scrm__csvout *w, char c)
{
    if (w->len + 1 > w->cap)
        scrm__csvout_flush(w);
    w->buf[w->len++] = c;
}

/* ---- number parsing (lib/csv_number.c) ----
 * Results of the parsers of numbers and times: ok, not a value of the
 * kind, or a value out of range. */
enum { SCRM__NUM_OK = 0, SCRM__NUM_BAD = 1, SCRM__NUM_RANGE = 2, SCRM__NUM_AMBIGUOUS = 3 };
/* Eight ASCII digits at s -> their value, or -1 if one is not a digit.
 * SWAR: subtract '0' from every byte, then combine neighbours pairwise
 * (x10), pairs of pairs (x100) and halves (x10000) with multiplies; the
 * digit test adds 0x46 (so bytes above '9' set bit 7) and subtracts 0x30
 * (so bytes below '0' borrow into bit 7). Same idea as D. Lemire, "Quickly
 * parsing eight digits" (2022). Inline, as the two below: they run for
 * every key and time of a CSV file. */
static inline int64_t scrm__parse8(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8); /* little-endian: s[0] is the low byte */
    if (((w + UINT64_C(0x4646464646464646)) | (w - UINT64_C(0x3030303030303030))) &
        UINT64_C(0x8080808080808080))
        return -1;
    w -= UINT64_C(0x3030303030303030);
    w = (w * 10 + (w >> 8)) & UINT64_C(0x00ff00ff00ff00ff);      /* 4 x 2 digits */
    w = (w * 100 + (w >> 16)) & UINT64_C(0x0000ffff0000ffff);    /* 2 x 4 digits */
    w = (w * 10000 + (w >> 32)) & UINT64_C(0x00000000ffffffff);  /* 8 digits */
    return (int64_t)w;
}

/* Digits s[0..n) -> value with overflow detection (SCRM__NUM_*). */
static inline int scrm__parse_uint(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    int over = 0;
    for (; n - i >= 8; i += 8) {
        int64_t e = scrm__parse8(s + i);
        if (e < 0)
            return SCRM__NUM_BAD;
        over |= __builtin_mul_overflow(v, (uint64_t)100000000, &v);
        over |= __builtin_add_overflow(v, (uint64_t)e, &v);
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return SCRM__NUM_BAD;
        over |= __builtin_mul_overflow(v, (uint64_t)10, &v);
        over |= __builtin_add_overflow(v, (uint64_t)d, &v);
    }
    if (over)
        return SCRM__NUM_RANGE;
    *out = v;
    return SCRM__NUM_OK;
}

/* Unsigned decimal; without lenient, canonical (no leading zero but "0"). */
static inline int scrm__parse_u64(const char *s, size_t n, int lenient, uint64_t *out)
{
    if (n == 0 || (!lenient && n > 1 && s[0] == '0'))
        return SCRM__NUM_BAD;
    return scrm__parse_uint(s, n, out);
}
/* Decimal number -> integer scaled by 10^scale (rounded half away from
 * zero), with decimal separator dec and thousands separator thou (accepted
 * only between groups of three digits, and not as the only separator of a
 * number without decimals: "2,085" is SCRM__NUM_AMBIGUOUS). */
int scrm__parse_decimal_slow(const char *s, size_t n, char dec, char thou, int scale,
                             int64_t *out);
/* An amount with a currency sign or code before or after it ("$12.50",
 * "R$ 12,50", "12.50 EUR", "-£3"), or an accounting negative "(12.50)",
 * optionally with both; SCRM__NUM_BAD without one of them. */
int scrm__parse_money(const char *s, size_t n, char dec, char thou, int scale, int64_t *out);
/* The common "[-]digits[.digits]" inline (at most 18 digits kept: no
 * overflow possible); anything else goes to scrm__parse_decimal_slow. */
static inline int scrm__parse_decimal(const char *s, size_t n, char dec, char thou, int scale,
                                      int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    uint64_t v = 0;
    size_t ni = 0;
    while (i < n && (unsigned)(unsigned char)s[i] - '0' <= 9) {
        v = v * 10 + (unsigned)(s[i] - '0');
        i++;
        ni++;
    }
    int fd = 0;
    if (i < n && s[i] == dec) {
        i++;
        while (i < n && fd < scale && (unsigned)(unsigned char)s[i] - '0' <= 9) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            fd++;
        }
    }
    if (i != n || ni + (size_t)scale > 18 || (ni == 0 && fd == 0))
        return scrm__parse_decimal_slow(s, n, dec, thou, scale, out);
    for (; fd < scale; fd++)
        v *= 10;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return SCRM__NUM_OK;
}

/* ---- time parsing (lib/timeparse.c) ----
 * The formats of scrm_time_format (io.h); the CSV loader and
 * scrm_time_parse() share these. Results are SCRM__NUM_*; RANGE means
 * outside SCRM_TIME_MIN .. SCRM_TIME_MAX. */
/* Kinds of time text, as the auto format tells them apart. */
/* TC_ISO: year first (YYYY-MM-DD, YYYY/MM/DD); TC_DM: day and month first
 * in either order (D/M/YYYY, M/D/YYYY, D.M.YYYY). */
enum { SCRM__TC_ISO = 1, SCRM__TC_DM = 2, SCRM__TC_DIGITS = 4 };
/* The last date converted: consecutive rows often share their date. */
typedef struct scrm__date_cache {
    int64_t ymd;  /* y*10000 + m*100 + d, or -1 */
    int64_t days;
} scrm__date_cache;
#define SCRM__DATE_CACHE_INIT {-1, 0}
/* SCRM__TC_* of a (trimmed) value by its shape, or 0 if none. */
int scrm__time_class(const char *s, size_t n);
int scrm__time_iso(scrm__date_cache *dc, const char *s, size_t n, int64_t offset, int64_t *out);
/* fmt SCRM_TIME_DMY or SCRM_TIME_MDY */
int scrm__time_dm(scrm__date_cache *dc, int fmt, const char *s, size_t n, int64_t offset,
                  int64_t *out);
/* The first two fields of a D/M/YYYY-shaped value (1), or 0. */
int scrm__time_dm_fields(const char *s, size_t n, int *first, int *second);
/* An optional '-' and digits -> value (not range-checked); *ndig_out gets
 * the number of characters without the sign. Inline: once per CSV row. */
static inline int scrm__time_digits(const char *s, size_t n, int64_t *out, int *ndig_out)
{
    size_t i = n && s[0] == '-';
    if (i == n)
        return SCRM__NUM_BAD;
    uint64_t v = 0;
    int rc = scrm__parse_uint(s + i, n - i, &v);
    if (rc != SCRM__NUM_OK)
        return rc;
    if (v > (uint64_t)INT64_MAX)
        return SCRM__NUM_RANGE;
    *out = i ? -(int64_t)v : (int64_t)v;
    *ndig_out = (int)(n - i);
    return SCRM__NUM_OK;
}
/* A YYYYMMDD value (from scrm__time_digits) -> time; BAD if not a date. */
int scrm__time_ymd8(scrm__date_cache *dc, int64_t v, int64_t offset, int64_t *out);
/* Would the auto format count this all-digit value as a YYYYMMDD date? */
int scrm__time_is_ymd8(const char *s, int64_t v, int ndig);
/* "an ISO 8601 time", ... for messages (SCRM_TIME_AUTO: the list). */
const char *scrm__time_format_name(int fmt);
/* The message for a value of format fmt that failed with rc (SCRM__NUM_*):
 * "'2011-12-08 25:00' is not an ISO 8601 time: hour 25". */
void scrm__time_why(char *buf, size_t cap, int rc, int fmt, const char *s, size_t n);

/* ---- multi-batch transactions (lib/dataset.c) ----
 * Several appends that succeed or fail together (the CSV loader appends a
 * file chunk by chunk). Between begin and commit/rollback every append
 * behaves as usual; rollback takes the dataset back to its state at begin
 * (customers, orders, duplicates, order keys seen, key type, time range),
 * commit keeps it. Neither can fail; both free the mark. One transaction at
 * a time per dataset; begin fails with SCRM_ENOMEM only. */
typedef struct scrm__dataset_mark scrm__dataset_mark;
int scrm__dataset_begin(scrm_dataset *ds, scrm__dataset_mark **mark_out);
void scrm__dataset_rollback(scrm__dataset_mark *mark);
void scrm__dataset_commit(scrm__dataset_mark *mark);
/* Sizing hint: the dataset will hold about `total` orders after the
 * appends to come (0: unknown, the default). New row segments are then
 * sized to the expected share of their partition instead of growing by
 * half; a wrong hint costs memory or segments, never correctness. */
void scrm__dataset_expect_rows(scrm_dataset *ds, uint64_t total);

/* ---- order lines (lib/dataset.c) ----
 * Rows with the same order key in one merge scope are the lines of ONE
 * order: the scope is the open transaction (a CSV load), else the append
 * call. The first line stores the order; later lines add their amount and
 * lower its time to the earliest; a line of another customer is bad. An
 * order key stored before the scope is a re-delivery (a duplicate). Each
 * row of a batch ends with one of these states: */
enum {
    SCRM__ROW_NEW = 0,      /* stored as a new order */
    SCRM__ROW_DUP = 1,      /* re-delivery of an order stored before the scope */
    SCRM__ROW_MERGED = 2,   /* a later line of an order of this batch */
    SCRM__ROW_UPDATE = 3,   /* a later line of an order an earlier batch of the scope stored */
    SCRM__ROW_CONFLICT = 4, /* bad: the order belongs to another customer */
    SCRM__ROW_OVERFLOW = 5  /* bad: the order's total amount overflows int64 */
};
/* Called for every bad row of a batch, in row order, before anything is
 * committed: `anchor` is the batch row holding the order's first line, or
 * UINT32_MAX when an earlier batch stored it (then `gid` is its customer's
 * index). Return 0 to skip the row, or an error code (with its message
 * set) to fail the append. */
typedef int (*scrm__bad_row_fn)(void *payload, uint32_t row, int state, uint32_t anchor,
                                uint32_t gid);
typedef struct scrm__append_ext {
    scrm__bad_row_fn bad_row; /* NULL: a bad row fails the append (SCRM_EINVAL) */
    void *payload;
    uint64_t merged_lines;    /* out: rows merged into an order (MERGED + UPDATE) */
    uint64_t merged_orders;   /* out: orders that got their second line in this batch */
    uint64_t bad_rows;        /* out: rows skipped as bad */
} scrm__append_ext;
int scrm__dataset_append_ext(uint64_t *added_out, scrm_dataset *ds, uint64_t n,
                             const uint64_t *u64_customers, const char *const *str_customers,
                             const uint32_t *lengths, const int64_t *times,
                             const int64_t *amounts, const uint64_t *order_keys,
                             scrm__append_ext *ext);

#endif
