/* CSV loading into an orders dataset (shopcrm/io.h).
 *
 * Plan of a load:
 *  1. Read the header (or the first line without header): detect the
 *     delimiter, map the named columns to field indices.
 *  2. Split the data region into one chunk per thread at line starts (the
 *     first '\n' after an even split point). A split point may fall inside a
 *     quoted field holding a line break; we do not try to guess the quote
 *     state. Instead every chunk parses records that START before its end
 *     bound (a record crossing the bound is finished by the chunk that began
 *     it), and afterwards chunk t-1 must have stopped exactly where chunk t
 *     started. Chunk 0 starts at a true record boundary, so by induction a
 *     chunk whose start matches is right; one that does not is parsed again,
 *     sequentially, from where its predecessor really ended.
 *  3. Count '\n' per chunk (SWAR) first: records of a chunk <= newlines + 1,
 *     so one set of column arrays is allocated up front and every chunk
 *     writes its own slice; slices are compacted afterwards (no-op unless
 *     rows were skipped).
 *  4. Decisions that depend on the whole column (customer key type with
 *     SCRM_KEY_AUTO, time format with SCRM_TIME_AUTO) are made after the
 *     parallel pass; in the rare case where a guess made during the pass was
 *     wrong (mixed time kinds, a string key after numeric ones) the pass is
 *     run again with the decision fixed.
 *  5. One call to scrm_dataset_append_u64/_str adds everything atomically.
 *
 * Dates use the civil-date helpers of lib/calendar.c (Howard Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"). Numbers and times are
 * parsed by hand (no strtod/strptime/sscanf). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "internal.h"

/* Smallest data size per parsing thread. Tests lower it to exercise chunk
 * boundaries on small inputs (declared extern in tests/test_csv.c). */
uint64_t scrm__csv_min_chunk_bytes = UINT64_C(1) << 20;

#define MAX_CHUNKS 64
#define PROGRESS_STEP (UINT64_C(1) << 20)

enum role { R_CUST = 0, R_TIME, R_AMOUNT, R_ORDER, R_QTY, R_PRICE, R_COUNT };

enum key_mode { KEY_U64_CANON = 0, KEY_U64_LENIENT = 1, KEY_STRING = 2 };

#define TC_ISO SCRM__TC_ISO
#define TC_DMY SCRM__TC_DMY
#define TC_DIGITS SCRM__TC_DIGITS

#define NUM_OK SCRM__NUM_OK
#define NUM_BAD SCRM__NUM_BAD
#define NUM_RANGE SCRM__NUM_RANGE

typedef struct span {
    const char *s;
    size_t len;
    int esc;     /* quoted with "" escapes inside */
} span;

struct reject {
    uint64_t line;
    const char *column;
    char *reason;
};

struct keyblk {
    struct keyblk *next;
    char data[];
};

struct chunk {
    const char *start, *end;   /* parse records starting in [start, end) */
    const char *final;         /* where parsing stopped: the next record start */
    uint64_t base, cap;        /* slice of the global arrays */
    uint64_t n;                /* rows stored */
    uint64_t newlines;         /* '\n' consumed from start to final */
    uint64_t rows_read, empty_cust, rejected;
    struct reject *rej;
    uint32_t n_rej, cap_rej;
    int stopped;     /* stopped early because of another chunk: re-parse */
    int failed;      /* strict mode: a bad row; detail below */
    uint64_t err_line;         /* relative to the chunk */
    const char *err_column;
    char err_reason[400];
    int need_string; /* KEY_U64_CANON met a non-canonical key */
    unsigned tmask;  /* time classes seen (auto) */
    int first_class; /* class of the first time value (auto) */
    int all_ymd8;    /* every all-digit time is a valid 8-digit date */
    scrm__date_cache dc; /* last date converted */
    struct keyblk *keys; /* unescaped string keys */
    char *scratch;
    size_t scratch_cap;
    int rc;          /* hard error: SCRM_ENOMEM, SCRM_ECANCELLED */
};

struct ctx {
    const char *data, *E; /* data region after the header, end of input */
    uint64_t total;       /* input size (progress) */
    const char *input;
    /* options */
    char delim;
    char dec, thou;
    int minor;
    int64_t offset;
    int on_error;
    uint32_t max_rejects;
    const char *na;
    size_t na_len;
    scrm_progress_fn progress;
    void *progress_payload;
    uint64_t reported;    /* last "done" given to the progress callback */
    int key_mode;
    int tfmt;             /* explicit format, or SCRM_TIME_AUTO */
    int qty_price;        /* amount = quantity x unit price */
    int has_order;
    /* columns */
    uint32_t ncols;       /* header columns */
    char **names;         /* header names (owned until handed to the report) */
    uint8_t *rolemask;    /* per header column, bit r = role r */
    uint32_t need_cols;   /* 1 + largest column index used */
    const char *rolename[R_COUNT];
    uint64_t nl_before;   /* newlines before the data region */
    /* output columns (global; chunk t writes [base, base+cap)) */
    uint64_t *cu;
    const char **cs;
    uint32_t *cl;
    int64_t *tm, *am;
    uint64_t *ok;
    /* chunks */
    uint32_t nchunks;
    struct chunk ch[MAX_CHUNKS];
    _Atomic uint64_t done[MAX_CHUNKS];
    atomic_int cancel;
    atomic_int stop_all;        /* a chunk needs string keys: the pass will be redone */
    atomic_uint err_chunk;      /* smallest chunk index with a strict error */
    pthread_mutex_t lock;       /* allocations from worker threads */
    int sequential;             /* re-parse: ignore signals from other chunks */
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static void *locked_malloc(struct ctx *c, size_t n)
{
    pthread_mutex_lock(&c->lock);
    void *p = scrm__malloc(n);
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void *locked_realloc(struct ctx *c, void *p, size_t n)
{
    pthread_mutex_lock(&c->lock);
    void *q = scrm__realloc(p, n);
    pthread_mutex_unlock(&c->lock);
    return q;
}

static void locked_free(struct ctx *c, void *p)
{
    pthread_mutex_lock(&c->lock);
    scrm__free(p);
    pthread_mutex_unlock(&c->lock);
}

/* Number of bytes equal to ch in [p, e): SWAR, 8 bytes per step. A byte of
 * w is zero iff the high bit of ((w & 0x7f..) + 0x7f..) | w is clear. */
static uint64_t count_byte(const char *p, const char *e, unsigned char ch)
{
#ifdef __SSE2__
    uint64_t total = 0;
    const __m128i pat16 = _mm_set1_epi8((char)ch);
    while (e - p >= 16) {
        /* up to 255 blocks per byte-wise accumulator, then a horizontal sum */
        __m128i acc = _mm_setzero_si128();
        int k = 0;
        while (k < 255 && e - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, pat16));
            p += 16;
            k++;
        }
        __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
        total += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
    while (p < e)
        total += (unsigned char)*p++ == ch;
    return total;
#endif
    const uint64_t lo7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    const uint64_t hi = UINT64_C(0x8080808080808080);
    const uint64_t pat = UINT64_C(0x0101010101010101) * ch;
    uint64_t n = 0;
    while (e - p >= 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            w ^= pat;
            uint64_t t = ((w & lo7) + lo7) | w;
            /* one bit per matching byte at bit 0 of the byte; the multiply
             * sums the bytes into the top byte (no popcount instruction
             * needed) */
            n += (((~t & hi) >> 7) * UINT64_C(0x0101010101010101)) >> 56;
        }
        p += 32;
    }
    while (p < e)
        n += (unsigned char)*p++ == ch;
    return n;
}

static inline void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Collapse "" to " in a quoted field's content; dst holds n bytes. */
static size_t unescape(char *dst, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        dst[j++] = s[i];
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
            i++;
    }
    return j;
}

/* A field value quoted for a message: at most 60 bytes, then "...". */
static void show(char *buf, size_t cap, const char *s, size_t n)
{
    if (n > 60)
        snprintf(buf, cap, "%.60s...", s);
    else
        snprintf(buf, cap, "%.*s", (int)n, s);
}

/* ------------------------------------------------------------------ */
/* rejects                                                             */

/* Record a bad row. Returns 1 if the chunk must stop (strict mode or a
 * hard error), 0 to go on. */
static int reject(struct ctx *c, struct chunk *ch, uint64_t line, const char *column,
                  const char *fmt, ...) SCRM_PRINTF(5, 6);
static int reject(struct ctx *c, struct chunk *ch, uint64_t line, const char *column,
                  const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ch->rejected++;
    if (c->on_error == SCRM_CSV_STRICT) {
        ch->failed = 1;
        ch->err_line = line;
        ch->err_column = column;
        memcpy(ch->err_reason, buf, sizeof buf);
        return 1;
    }
    if (ch->n_rej >= c->max_rejects)
        return 0;
    if (ch->n_rej == ch->cap_rej) {
        uint32_t nc = ch->cap_rej ? ch->cap_rej * 2 : 16;
        if (nc > c->max_rejects)
            nc = c->max_rejects;
        struct reject *r = locked_realloc(c, ch->rej, (size_t)nc * sizeof *r);
        if (!r) {
            ch->rc = scrm__enomem("CSV rejected rows");
            return 1;
        }
        ch->rej = r;
        ch->cap_rej = nc;
    }
    size_t len = strlen(buf) + 1;
    char *reason = locked_malloc(c, len);
    if (!reason) {
        ch->rc = scrm__enomem("CSV rejected rows");
        return 1;
    }
    memcpy(reason, buf, len);
    ch->rej[ch->n_rej].line = line;
    ch->rej[ch->n_rej].column = column;
    ch->rej[ch->n_rej].reason = reason;
    ch->n_rej++;
    return 0;
}

static void chunk_reset(struct ctx *c, struct chunk *ch)
{
    for (uint32_t i = 0; i < ch->n_rej; i++)
        locked_free(c, ch->rej[i].reason);
    locked_free(c, ch->rej);
    while (ch->keys) {
        struct keyblk *nx = ch->keys->next;
        locked_free(c, ch->keys);
        ch->keys = nx;
    }
    locked_free(c, ch->scratch);
    const char *start = ch->start, *end = ch->end;
    uint64_t base = ch->base, cap = ch->cap;
    memset(ch, 0, sizeof *ch);
    ch->start = start;
    ch->end = end;
    ch->base = base;
    ch->cap = cap;
    ch->all_ymd8 = 1;
    ch->dc.ymd = -1;
}

/* Field content without quotes/escapes, in scratch if it had escapes. */
static int field_text(struct ctx *c, struct chunk *ch, const span *f, const char **s, size_t *n)
{
    if (!f->esc) {
        *s = f->s;
        *n = f->len;
        return 0;
    }
    if (ch->scratch_cap < f->len) {
        char *b = locked_realloc(c, ch->scratch, f->len);
        if (!b) {
            ch->rc = scrm__enomem("CSV field");
            return -1;
        }
        ch->scratch = b;
        ch->scratch_cap = f->len;
    }
    *n = unescape(ch->scratch, f->s, f->len);
    *s = ch->scratch;
    return 0;
}

/* ------------------------------------------------------------------ */
/* one record's fields -> one row                                      */

enum row_rc { ROW_OK = 0, ROW_SKIP = 1, ROW_STOP = 2 };

static int amount_reason(struct ctx *c, struct chunk *ch, uint64_t line, int role, int rc,
                         const char *s, size_t n)
{
    char v[80];
    show(v, sizeof v, s, n);
    if (n == 0)
        return reject(c, ch, line, c->rolename[role], "empty value");
    if (rc == NUM_RANGE)
        return reject(c, ch, line, c->rolename[role], "'%s' is out of range", v);
    return reject(c, ch, line, c->rolename[role], "'%s' is not a number", v);
}

static int process_row(struct ctx *c, struct chunk *ch, const span *f, unsigned have,
                       uint32_t nfields, uint64_t line, uint64_t slot)
{
    char v[80];
    const char *s;
    size_t n;

    /* customer */
    if (have & (1u << R_CUST)) {
        const span *cf = &f[R_CUST];
        size_t ln = cf->len; /* "" escapes only lengthen, so len 0 is empty */
        if (ln == 0) {
            ch->empty_cust++;
            return ROW_SKIP;
        }
        if (c->na && !cf->esc && ln == c->na_len && memcmp(cf->s, c->na, ln) == 0) {
            ch->empty_cust++;
            return ROW_SKIP;
        }
    }
    for (int r = 0; r < R_COUNT; r++) {
        if (!c->rolename[r])
            continue;
        if (!(have & (1u << r)))
            return reject(c, ch, line, c->rolename[r],
                          "missing field (the row has %u field%s)", (unsigned)nfields,
                          nfields == 1 ? "" : "s")
                       ? ROW_STOP
                       : ROW_SKIP;
    }

    /* customer key */
    if (c->key_mode == KEY_STRING) {
        const span *cf = &f[R_CUST];
        const char *ks = cf->s;
        size_t kn = cf->len;
        if (cf->esc) {
            struct keyblk *b = locked_malloc(c, sizeof *b + cf->len);
            if (!b) {
                ch->rc = scrm__enomem("CSV customer keys");
                return ROW_STOP;
            }
            b->next = ch->keys;
            ch->keys = b;
            kn = unescape(b->data, cf->s, cf->len);
            ks = b->data;
        }
        if (kn > UINT32_MAX)
            return reject(c, ch, line, c->rolename[R_CUST], "customer key longer than 4 GiB")
                       ? ROW_STOP
                       : ROW_SKIP;
        c->cs[slot] = ks;
        c->cl[slot] = (uint32_t)kn;
    } else {
        if (field_text(c, ch, &f[R_CUST], &s, &n))
            return ROW_STOP;
        uint64_t k;
        int rc;
        if (c->key_mode == KEY_U64_CANON) {
            if (scrm__parse_u64(s, n, 0, &k) != NUM_OK) {
                ch->need_string = 1;
                return ROW_STOP;
            }
        } else {
            trim(&s, &n);
            if ((rc = scrm__parse_u64(s, n, 1, &k)) != NUM_OK) {
                show(v, sizeof v, s, n);
                return reject(c, ch, line, c->rolename[R_CUST],
                              rc == NUM_RANGE ? "'%s' is out of range for an unsigned 64-bit integer"
                                              : "'%s' is not an unsigned integer",
                              v)
                           ? ROW_STOP
                           : ROW_SKIP;
            }
        }
        c->cu[slot] = k;
    }

    /* time */
    {
        if (field_text(c, ch, &f[R_TIME], &s, &n))
            return ROW_STOP;
        trim(&s, &n);
        int64_t t = 0;
        int rc = NUM_BAD, fmt = c->tfmt;
        if (fmt == SCRM_TIME_AUTO) {
            int cls = scrm__time_class(s, n);
            if (cls) {
                if (!ch->tmask)
                    ch->first_class = cls;
                ch->tmask |= (unsigned)cls;
            }
            if (cls == TC_ISO) {
                rc = scrm__time_iso(&ch->dc, s, n, c->offset, &t);
                fmt = SCRM_TIME_ISO8601;
            } else if (cls == TC_DMY) {
                rc = scrm__time_dmy(&ch->dc, s, n, c->offset, &t);
                fmt = SCRM_TIME_DMY;
            } else if (cls == TC_DIGITS) {
                int nd = 0;
                rc = scrm__time_digits(s, n, &t, &nd);
                if (rc == NUM_OK) {
                    /* raw value; converted once the column's format is known */
                    if (ch->all_ymd8)
                        ch->all_ymd8 = scrm__time_is_ymd8(s, t, nd);
                    if (!ch->all_ymd8 && (t < SCRM_TIME_MIN || t > SCRM_TIME_MAX))
                        rc = NUM_RANGE;
                }
            }
        } else if (fmt == SCRM_TIME_ISO8601) {
            rc = scrm__time_iso(&ch->dc, s, n, c->offset, &t);
        } else if (fmt == SCRM_TIME_DMY) {
            rc = scrm__time_dmy(&ch->dc, s, n, c->offset, &t);
        } else if (fmt == SCRM_TIME_YYYYMMDD) {
            int nd = 0;
            rc = scrm__time_digits(s, n, &t, &nd);
            if (rc == NUM_OK)
                rc = nd == 8 && s[0] != '-' ? scrm__time_ymd8(&ch->dc, t, c->offset, &t) : NUM_BAD;
            else
                rc = NUM_BAD;
        } else { /* epoch */
            int nd = 0;
            rc = scrm__time_digits(s, n, &t, &nd);
            if (rc == NUM_OK && (t < SCRM_TIME_MIN || t > SCRM_TIME_MAX))
                rc = NUM_RANGE;
        }
        if (rc != NUM_OK) {
            show(v, sizeof v, s, n);
            int stop;
            if (n == 0)
                stop = reject(c, ch, line, c->rolename[R_TIME], "empty value");
            else if (rc == NUM_RANGE)
                stop = reject(c, ch, line, c->rolename[R_TIME],
                              "'%s' is out of range (years 1 to 9999)", v);
            else
                stop = reject(c, ch, line, c->rolename[R_TIME], "'%s' is not %s", v,
                              scrm__time_format_name(fmt));
            return stop ? ROW_STOP : ROW_SKIP;
        }
        c->tm[slot] = t;
    }

    /* amount */
    if (!c->qty_price) {
        if (field_text(c, ch, &f[R_AMOUNT], &s, &n))
            return ROW_STOP;
        trim(&s, &n);
        int64_t a;
        int rc = scrm__parse_decimal(s, n, c->dec, c->thou, c->minor, &a);
        if (rc != NUM_OK)
            return amount_reason(c, ch, line, R_AMOUNT, rc, s, n) ? ROW_STOP : ROW_SKIP;
        c->am[slot] = a;
    } else {
        int64_t q, p;
        if (field_text(c, ch, &f[R_QTY], &s, &n))
            return ROW_STOP;
        trim(&s, &n);
        int rc = scrm__parse_decimal(s, n, c->dec, c->thou, 6, &q);
        if (rc != NUM_OK)
            return amount_reason(c, ch, line, R_QTY, rc, s, n) ? ROW_STOP : ROW_SKIP;
        if (field_text(c, ch, &f[R_PRICE], &s, &n))
            return ROW_STOP;
        trim(&s, &n);
        rc = scrm__parse_decimal(s, n, c->dec, c->thou, c->minor + 6, &p);
        if (rc != NUM_OK)
            return amount_reason(c, ch, line, R_PRICE, rc, s, n) ? ROW_STOP : ROW_SKIP;
        /* q * 10^6 times p * 10^(minor+6) = amount * 10^(minor+12) */
        __extension__ typedef __int128 i128;
        const i128 unit = (i128)1000000 * 1000000;
        i128 prod = (i128)q * p;
        i128 quo = prod / unit, rem = prod % unit;
        if (rem < 0)
            rem = -rem;
        if (2 * rem >= unit)
            quo += prod < 0 ? -1 : 1;
        if (quo > INT64_MAX || quo < -INT64_MAX) {
            show(v, sizeof v, s, n);
            return reject(c, ch, line, c->rolename[R_PRICE],
                          "quantity x '%s' is out of range", v)
                       ? ROW_STOP
                       : ROW_SKIP;
        }
        c->am[slot] = (int64_t)quo;
    }

    /* order id */
    if (c->has_order) {
        if (field_text(c, ch, &f[R_ORDER], &s, &n))
            return ROW_STOP;
        if (n == 0)
            return reject(c, ch, line, c->rolename[R_ORDER], "empty order id") ? ROW_STOP
                                                                                 : ROW_SKIP;
        c->ok[slot] = scrm_order_key_from_string(s, n);
    }
    return ROW_OK;
}

/* ------------------------------------------------------------------ */
/* the chunk parser                                                    */

static const char extra_column[] = "(extra field)";

static int progress_tick(struct ctx *c, struct chunk *ch, uint32_t t, const char *p)
{
    atomic_store_explicit(&c->done[t], (uint64_t)(p - ch->start), memory_order_relaxed);
    if (atomic_load_explicit(&c->cancel, memory_order_relaxed))
        return 1;
    if (!c->sequential) {
        if (atomic_load_explicit(&c->stop_all, memory_order_relaxed) ||
            atomic_load_explicit(&c->err_chunk, memory_order_relaxed) < t) {
            ch->stopped = 1;
            return 1;
        }
    }
    if (t == 0 && c->progress) {
        uint64_t done = (uint64_t)(c->data - c->input);
        for (uint32_t k = 0; k < c->nchunks; k++)
            done += atomic_load_explicit(&c->done[k], memory_order_relaxed);
        /* a second pass starts again from 0: never report going backwards */
        if (done < c->reported)
            done = c->reported;
        if (done > c->total)
            done = c->total;
        c->reported = done;
        if (c->progress(done, c->total, c->progress_payload)) {
            atomic_store(&c->cancel, 1);
            return 1;
        }
    }
    return 0;
}

/* Store field (fs, flen) of column col into the roles it has. */
#define STORE_FIELD(colx, sx, lx, ex)                      \
    do {                                                   \
        if ((colx) < ncols) {                              \
            unsigned m_ = rolemask[colx];                  \
            while (m_) {                                   \
                int r_ = __builtin_ctz(m_);                \
                m_ &= m_ - 1;                              \
                f[r_].s = (sx);                            \
                f[r_].len = (lx);                          \
                f[r_].esc = (ex);                          \
                have |= 1u << r_;                          \
            }                                              \
        }                                                  \
    } while (0)

static void parse_chunk(struct ctx *c, uint32_t t)
{
    struct chunk *ch = &c->ch[t];
    const char *p = ch->start, *const E = c->E, *const end = ch->end;
    const char delim = c->delim;
    const uint8_t *rolemask = c->rolemask;
    const uint32_t ncols = c->ncols, need = c->need_cols;
    uint64_t next_tick = PROGRESS_STEP;
    span f[R_COUNT];
#ifdef __SSE2__
    const __m128i v_delim = _mm_set1_epi8(delim);
    const __m128i v_nl = _mm_set1_epi8('\n');
    const __m128i v_quote = _mm_set1_epi8('"');
#endif

    while (p < end) {
        if (SCRM_UNLIKELY((uint64_t)(p - ch->start) >= next_tick)) {
            next_tick = (uint64_t)(p - ch->start) + PROGRESS_STEP;
            if (progress_tick(c, ch, t, p))
                goto out;
        }
        /* empty line */
        if (*p == '\n') {
            p++;
            ch->newlines++;
            continue;
        }
        if (*p == '\r' && p + 1 < E && p[1] == '\n') {
            p += 2;
            ch->newlines++;
            continue;
        }
        const uint64_t line = ch->newlines;
        uint32_t col = 0;
        unsigned have = 0;
        int malformed = 0; /* 1 unterminated quote, 2 text after closing quote */
        uint32_t bad_col = 0;

#ifdef __SSE2__
        /* Fast path: find delimiters and the line end 16 bytes at a time;
         * at the first quote, continue with the general loop from the
         * start of the current field. */
        {
            const char *fs = p, *q = p;
            while (E - q >= 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
                unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_delim)) |
                             (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_nl)) |
                             (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_quote));
                while (m) {
                    const char *x = q + __builtin_ctz(m);
                    m &= m - 1;
                    if (*x == '"') {
                        p = fs;
                        goto general;
                    }
                    size_t flen = (size_t)(x - fs);
                    if (*x == '\n') {
                        if (flen && x[-1] == '\r')
                            flen--;
                        STORE_FIELD(col, fs, flen, 0);
                        col++;
                        p = x + 1;
                        ch->newlines++;
                        goto record_done;
                    }
                    STORE_FIELD(col, fs, flen, 0);
                    col++;
                    p = fs = x + 1;
                    if (col >= need)
                        goto after_delimiter;
                }
                q += 16;
            }
            p = fs;
        }
    general:
#endif
        for (;;) {
            const char *fs;
            size_t flen;
            int esc = 0;
            if (p < E && *p == '"') {
                fs = ++p;
                for (;;) {
                    const char *q = memchr(p, '"', (size_t)(E - p));
                    if (!q) {
                        ch->newlines += count_byte(p, E, '\n');
                        if (!malformed) {
                            malformed = 1;
                            bad_col = col;
                        }
                        flen = (size_t)(E - fs);
                        p = E;
                        break;
                    }
                    ch->newlines += count_byte(p, q, '\n');
                    if (q + 1 < E && q[1] == '"') {
                        esc = 1;
                        p = q + 2;
                        continue;
                    }
                    flen = (size_t)(q - fs);
                    p = q + 1;
                    break;
                }
                if (p < E && *p != delim && *p != '\n' &&
                    !(*p == '\r' && (p + 1 == E || p[1] == '\n'))) {
                    if (!malformed) {
                        malformed = 2;
                        bad_col = col;
                    }
                    while (p < E && *p != delim && *p != '\n')
                        p++;
                }
            } else {
                fs = p;
                while (p < E && *p != delim && *p != '\n')
                    p++;
                flen = (size_t)(p - fs);
                if (flen && fs[flen - 1] == '\r' && (p == E || *p == '\n'))
                    flen--;
            }
            STORE_FIELD(col, fs, flen, esc);
            col++;
            if (p < E && *p == delim) {
                p++;
                if (col >= need) {
#ifdef __SSE2__
                after_delimiter:;
#endif
                    /* rest of the record holds no column we use: skip it
                     * quickly unless it has quotes */
                    const char *nl = memchr(p, '\n', (size_t)(E - p));
                    const char *lim = nl ? nl : E;
                    if (!memchr(p, '"', (size_t)(lim - p))) {
                        col++; /* at least one more field */
                        col += (uint32_t)count_byte(p, lim, (unsigned char)delim);
                        if (nl) {
                            p = nl + 1;
                            ch->newlines++;
                        } else {
                            p = E;
                        }
                        break;
                    }
                }
                continue;
            }
            if (p < E && *p == '\r')
                p++;
            if (p < E) { /* '\n' */
                p++;
                ch->newlines++;
            }
            break;
        }
#ifdef __SSE2__
    record_done:
#endif
        ch->rows_read++;
        int rc;
        if (SCRM_UNLIKELY(malformed)) {
            const char *cn = bad_col < ncols ? c->names[bad_col] : extra_column;
            rc = reject(c, ch, line, cn,
                        malformed == 1 ? "unterminated quoted field"
                                       : "unexpected text after a closing quote")
                     ? ROW_STOP
                     : ROW_SKIP;
        } else {
            rc = process_row(c, ch, f, have, col, line, ch->base + ch->n);
        }
        if (rc == ROW_OK) {
            ch->n++;
        } else if (rc == ROW_STOP) {
            if (ch->need_string)
                atomic_store(&c->stop_all, 1);
            if (ch->failed) {
                unsigned cur = atomic_load(&c->err_chunk);
                while (t < cur && !atomic_compare_exchange_weak(&c->err_chunk, &cur, t)) {
                }
            }
            goto out;
        }
    }
out:
    ch->final = p;
    atomic_store_explicit(&c->done[t], (uint64_t)(p - ch->start), memory_order_relaxed);
}

static int count_fn(void *vctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    struct ctx *c = vctx;
    (void)thread;
    for (uint32_t t = begin; t < end; t++)
        /* a chunk that is not the last ends just after a '\n' that belongs
         * to its last record, so records <= newlines; the last chunk may
         * lack a final line break */
        c->ch[t].cap = count_byte(c->ch[t].start, c->ch[t].end, '\n') + (t + 1 == c->nchunks);
    return 0;
}

static int parse_fn(void *vctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    struct ctx *c = vctx;
    (void)thread;
    int rc = 0;
    for (uint32_t t = begin; t < end; t++) {
        parse_chunk(c, t);
        if (!rc)
            rc = c->ch[t].rc; /* hands the worker's message to the caller */
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* header                                                              */

/* Parse one record at *pp into field strings (copies, unescaped). */
static int read_record(struct ctx *c, const char **pp, char ***names_out, uint32_t *n_out,
                       uint64_t *newlines)
{
    const char *p = *pp, *E = c->E;
    char **names = NULL;
    uint32_t n = 0, cap = 0;
    int err = SCRM_OK;
    for (;;) {
        const char *fs;
        size_t flen;
        int esc = 0;
        if (p < E && *p == '"') {
            fs = ++p;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(E - p));
                if (!q) {
                    err = scrm__error(SCRM_EPARSE, 1, "line 1: unterminated quoted field in the header");
                    goto fail;
                }
                *newlines += count_byte(p, q, '\n');
                if (q + 1 < E && q[1] == '"') {
                    esc = 1;
                    p = q + 2;
                    continue;
                }
                flen = (size_t)(q - fs);
                p = q + 1;
                break;
            }
            while (p < E && *p != c->delim && *p != '\n')
                p++;
        } else {
            fs = p;
            while (p < E && *p != c->delim && *p != '\n')
                p++;
            flen = (size_t)(p - fs);
            if (flen && fs[flen - 1] == '\r')
                flen--;
        }
        if (n == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            char **nn = scrm__reallocarray(names, nc, sizeof *nn);
            if (!nn) {
                err = scrm__enomem("CSV header");
                goto fail;
            }
            names = nn;
            cap = nc;
        }
        char *s = scrm__malloc(flen + 1);
        if (!s) {
            err = scrm__enomem("CSV header");
            goto fail;
        }
        flen = esc ? unescape(s, fs, flen) : (memcpy(s, fs, flen), flen);
        s[flen] = '\0';
        names[n++] = s;
        if (p < E && *p == c->delim) {
            p++;
            continue;
        }
        if (p < E) {
            p++;
            (*newlines)++;
        }
        break;
    }
    *pp = p;
    *names_out = names;
    *n_out = n;
    return SCRM_OK;
fail:
    for (uint32_t i = 0; i < n; i++)
        scrm__free(names[i]);
    scrm__free(names);
    return err;
}

/* Most frequent of , ; \t outside quotes in the first record. */
static char detect_delimiter(const char *p, const char *E)
{
    uint64_t comma = 0, semi = 0, tab = 0;
    int inq = 0;
    for (; p < E; p++) {
        char ch = *p;
        if (ch == '"')
            inq = !inq;
        else if (!inq) {
            if (ch == '\n')
                break;
            comma += ch == ',';
            semi += ch == ';';
            tab += ch == '\t';
        }
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    return ',';
}

/* ------------------------------------------------------------------ */
/* report                                                              */

struct scrm_csv_report {
    uint64_t rows_read, rows_added, duplicates, empty_customer, rejected;
    int time_format;
    int32_t delimiter;
    int key_type;
    uint64_t n_rejects;
    struct reject *rejects;
    char **names;
    uint32_t n_names;
};

SCRM_EXPORT void scrm_csv_report_free(scrm_csv_report *r)
{
    if (!r)
        return;
    for (uint64_t i = 0; i < r->n_rejects; i++)
        scrm__free(r->rejects[i].reason);
    scrm__free(r->rejects);
    for (uint32_t i = 0; i < r->n_names; i++)
        scrm__free(r->names[i]);
    scrm__free(r->names);
    scrm__free(r);
}

SCRM_EXPORT uint64_t scrm_csv_report_rows_read(const scrm_csv_report *r) { return r ? r->rows_read : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_rows_added(const scrm_csv_report *r) { return r ? r->rows_added : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_duplicates(const scrm_csv_report *r) { return r ? r->duplicates : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_empty_customer(const scrm_csv_report *r)
{
    return r ? r->empty_customer : 0;
}
SCRM_EXPORT uint64_t scrm_csv_report_rejected(const scrm_csv_report *r) { return r ? r->rejected : 0; }
SCRM_EXPORT int scrm_csv_report_time_format(const scrm_csv_report *r)
{
    return r ? r->time_format : SCRM_TIME_AUTO;
}
SCRM_EXPORT int32_t scrm_csv_report_delimiter(const scrm_csv_report *r) { return r ? r->delimiter : 0; }
SCRM_EXPORT int scrm_csv_report_key_type(const scrm_csv_report *r) { return r ? r->key_type : SCRM_KEY_AUTO; }
SCRM_EXPORT uint64_t scrm_csv_report_reject_count(const scrm_csv_report *r) { return r ? r->n_rejects : 0; }

SCRM_EXPORT int scrm_csv_report_reject(uint64_t *line_out, const char **column_out,
                                       const char **reason_out, const scrm_csv_report *r,
                                       uint64_t i)
{
    if (!r)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_report_reject: report is NULL");
    if (i >= r->n_rejects)
        return scrm__error(SCRM_ENOTFOUND, -1,
                           "scrm_csv_report_reject: index %llu, the report lists %llu rows",
                           (unsigned long long)i, (unsigned long long)r->n_rejects);
    if (line_out)
        *line_out = r->rejects[i].line;
    if (column_out)
        *column_out = r->rejects[i].column;
    if (reason_out)
        *reason_out = r->rejects[i].reason;
    return SCRM_OK;
}

/* ------------------------------------------------------------------ */
/* options                                                             */

static const scrm_csv_options csv_defaults = SCRM_CSV_OPTIONS_INIT;
static const size_t csv_sizes[] = {sizeof(scrm_csv_options)};

SCRM_EXPORT int scrm_csv_options_init(scrm_csv_options *opts, unsigned version)
{
    return scrm__options_init(opts, &csv_defaults, csv_sizes,
                              SCRM_CSV_OPTIONS_VERSION, version, "scrm_csv_options_init");
}

static int check_options(const scrm_csv_options *o)
{
    if (!o->customer_column || !o->time_column)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: customer_column and time_column are required");
    if (!o->quantity_column != !o->unit_price_column)
        return scrm__error(SCRM_EINVAL, -1,
                           "CSV options: quantity_column and unit_price_column go together");
    if (!o->quantity_column && !o->amount_column)
        return scrm__error(SCRM_EINVAL, -1,
                           "CSV options: amount_column (or quantity_column and unit_price_column) is required");
    if (o->delimiter != 0 && o->delimiter != ',' && o->delimiter != ';' && o->delimiter != '\t')
        return scrm__error(SCRM_EINVAL, -1,
                           "CSV options: delimiter %d is not ',', ';', '\\t' or 0 (detect)",
                           (int)o->delimiter);
    if (o->decimal_separator != '.' && o->decimal_separator != ',')
        return scrm__error(SCRM_EINVAL, -1, "CSV options: decimal_separator %d is not '.' or ','",
                           (int)o->decimal_separator);
    if (o->minor_digits < 0 || o->minor_digits > 6)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: minor_digits %d is not 0..6",
                           (int)o->minor_digits);
    if (o->utc_offset < -86400 || o->utc_offset > 86400)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: utc_offset %lld is not -86400..86400",
                           (long long)o->utc_offset);
    if (o->time_format < SCRM_TIME_AUTO || o->time_format > SCRM_TIME_EPOCH)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: time_format %d is unknown", o->time_format);
    if (o->on_error != SCRM_CSV_STRICT && o->on_error != SCRM_CSV_SKIP)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: on_error %d is unknown", o->on_error);
    return SCRM_OK;
}

/* ------------------------------------------------------------------ */
/* the load                                                            */

static void free_columns(struct ctx *c)
{
    scrm__free(c->cu);
    scrm__free(c->cs);
    scrm__free(c->cl);
    scrm__free(c->tm);
    scrm__free(c->am);
    scrm__free(c->ok);
    c->cu = NULL;
    c->cs = NULL;
    c->cl = NULL;
    c->tm = c->am = NULL;
    c->ok = NULL;
}

/* Ask for transparent huge pages on a large array: first touches of fresh
 * memory are expensive on this kind of machine (a fault per 4 KiB page), a
 * 2 MiB page takes one fault. Only the 2 MiB-aligned interior is advised. */
static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || bytes < 2 * huge)
        return;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > b)
        madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

static int alloc_columns(struct ctx *c, uint64_t cap)
{
    free_columns(c);
    if (cap > SIZE_MAX / 8)
        return scrm__enomem("CSV columns");
    size_t n = (size_t)cap;
    if (c->key_mode == KEY_STRING) {
        c->cs = scrm__malloc(n * sizeof *c->cs);
        c->cl = scrm__malloc(n * sizeof *c->cl);
        if (!c->cs || !c->cl)
            return scrm__enomem("CSV columns");
    } else if (!(c->cu = scrm__malloc(n * sizeof *c->cu))) {
        return scrm__enomem("CSV columns");
    }
    c->tm = scrm__malloc(n * sizeof *c->tm);
    c->am = scrm__malloc(n * sizeof *c->am);
    if (!c->tm || !c->am)
        return scrm__enomem("CSV columns");
    if (c->has_order && !(c->ok = scrm__malloc(n * sizeof *c->ok)))
        return scrm__enomem("CSV columns");
    advise_huge(c->cu, n * sizeof *c->cu);
    advise_huge(c->cs, n * sizeof *c->cs);
    advise_huge(c->cl, n * sizeof *c->cl);
    advise_huge(c->tm, n * sizeof *c->tm);
    advise_huge(c->am, n * sizeof *c->am);
    advise_huge(c->ok, n * sizeof *c->ok);
    return SCRM_OK;
}

/* Outcome of one pass. */
enum pass_rc { PASS_DONE = 0, PASS_STRING = 1 };

static int run_pass(struct ctx *c, const char **starts, uint32_t threads, int *outcome)
{
    for (uint32_t t = 0; t < c->nchunks; t++) {
        c->ch[t].start = starts[t];
        c->ch[t].end = t + 1 < c->nchunks ? starts[t + 1] : c->E;
        chunk_reset(c, &c->ch[t]);
        atomic_store(&c->done[t], 0);
    }
    atomic_store(&c->stop_all, 0);
    atomic_store(&c->err_chunk, UINT32_MAX);
    c->sequential = 0;
    int prc = scrm__parallel_for(threads, c->nchunks, parse_fn, c);
    if (prc)
        return prc;

    /* validate boundaries in order; re-parse where needed */
    c->sequential = 1;
    for (uint32_t t = 0; t < c->nchunks; t++) {
        struct chunk *ch = &c->ch[t];
        if (atomic_load(&c->cancel))
            return scrm__error(SCRM_ECANCELLED, -1, "CSV load cancelled by the progress callback");
        if (ch->rc)
            return ch->rc;
        if ((t > 0 && ch->start != c->ch[t - 1].final) || ch->stopped) {
            if (t > 0)
                ch->start = c->ch[t - 1].final;
            chunk_reset(c, ch);
            parse_chunk(c, t);
            if (atomic_load(&c->cancel))
                return scrm__error(SCRM_ECANCELLED, -1, "CSV load cancelled by the progress callback");
            if (ch->rc)
                return ch->rc;
        }
        if (ch->need_string) {
            *outcome = PASS_STRING;
            return SCRM_OK;
        }
        if (ch->failed) {
            uint64_t line = 1 + c->nl_before + ch->err_line;
            for (uint32_t k = 0; k < t; k++)
                line += c->ch[k].newlines;
            return scrm__error(SCRM_EPARSE, (int64_t)line, "line %llu, column %s: %s",
                               (unsigned long long)line, ch->err_column, ch->err_reason);
        }
    }
    *outcome = PASS_DONE;
    return SCRM_OK;
}

static int csv_load(scrm_csv_report **report_out, scrm_dataset *ds, const char *input,
                    uint64_t len, const scrm_csv_options *user_opts)
{
    scrm_csv_options o;
    scrm_csv_report *rep = NULL;
    struct ctx *c = NULL;
    int err = scrm__options_load(&o, &csv_defaults, sizeof o, user_opts, csv_sizes,
                                 SCRM_CSV_OPTIONS_VERSION, "scrm_csv_load");
    if (err)
        return err;
    if ((err = check_options(&o)))
        return err;
    int ds_key = scrm_dataset_key_type(ds);

    c = scrm__calloc(1, sizeof *c);
    if (!c)
        return scrm__enomem("CSV load");
    pthread_mutex_init(&c->lock, NULL);
    c->input = input;
    c->E = input + len;
    c->total = len;
    c->dec = (char)o.decimal_separator;
    c->thou = c->dec == '.' ? ',' : '.';
    c->minor = o.minor_digits;
    c->offset = o.utc_offset;
    c->on_error = o.on_error;
    c->max_rejects = o.max_rejects;
    c->na = o.na_customer;
    c->na_len = o.na_customer ? strlen(o.na_customer) : 0;
    c->progress = o.progress;
    c->progress_payload = o.progress_payload;
    c->tfmt = o.time_format;
    c->qty_price = o.quantity_column != NULL;
    c->has_order = o.order_id_column != NULL;
    c->key_mode = ds_key == SCRM_KEY_STRING ? KEY_STRING
                  : ds_key == SCRM_KEY_U64  ? KEY_U64_LENIENT
                                            : KEY_U64_CANON;

    if (c->progress && c->progress(0, len, c->progress_payload)) {
        err = scrm__error(SCRM_ECANCELLED, -1, "CSV load cancelled by the progress callback");
        goto done;
    }

    /* header */
    const char *p = input;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    c->delim = o.delimiter ? (char)o.delimiter : detect_delimiter(p, c->E);
    {
        char **names = NULL;
        uint32_t n = 0;
        const char *q = p;
        uint64_t nl = 0;
        if (p < c->E && (err = read_record(c, &q, &names, &n, &nl)))
            goto done;
        if (o.has_header) {
            c->names = names;
            c->ncols = n;
            c->nl_before = nl;
            p = q;
        } else {
            for (uint32_t i = 0; i < n; i++)
                scrm__free(names[i]);
            scrm__free(names);
            c->names = n ? scrm__calloc(n, sizeof *c->names) : NULL;
            if (n && !c->names) {
                err = scrm__enomem("CSV header");
                goto done;
            }
            c->ncols = n;
            for (uint32_t i = 0; i < n; i++) {
                char buf[16];
                snprintf(buf, sizeof buf, "%u", (unsigned)(i + 1));
                if (!(c->names[i] = scrm__strdup(buf))) {
                    err = scrm__enomem("CSV header");
                    goto done;
                }
            }
        }
    }
    c->data = p;

    /* columns */
    {
        const char *want[R_COUNT] = {o.customer_column, o.time_column,
                                     c->qty_price ? NULL : o.amount_column,
                                     o.order_id_column, o.quantity_column, o.unit_price_column};
        c->rolemask = c->ncols ? scrm__calloc(c->ncols, 1) : NULL;
        if (c->ncols && !c->rolemask) {
            err = scrm__enomem("CSV columns");
            goto done;
        }
        for (int r = 0; r < R_COUNT; r++) {
            if (!want[r])
                continue;
            uint32_t i = 0;
            while (i < c->ncols && strcmp(c->names[i], want[r]) != 0)
                i++;
            if (i == c->ncols) {
                char list[400];
                size_t at = 0;
                list[0] = '\0';
                for (uint32_t k = 0; k < c->ncols && at < sizeof list - 1; k++)
                    at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "",
                                           c->names[k]);
                err = scrm__error(SCRM_EINVAL, -1,
                                  "CSV: column '%s' not found; the %s has: %s", want[r],
                                  o.has_header ? "header" : "first line",
                                  c->ncols ? list : "(no columns)");
                goto done;
            }
            c->rolemask[i] |= (uint8_t)(1u << r);
            c->rolename[r] = c->names[i];
            if (i + 1 > c->need_cols)
                c->need_cols = i + 1;
        }
    }

    /* chunks */
    uint64_t data_len = (uint64_t)(c->E - c->data);
    uint32_t threads = o.threads ? o.threads : scrm__default_threads();
    if (threads > MAX_CHUNKS)
        threads = MAX_CHUNKS;
    uint64_t min_chunk = scrm__csv_min_chunk_bytes ? scrm__csv_min_chunk_bytes : 1;
    uint32_t nch = threads;
    if (data_len / min_chunk < nch)
        nch = (uint32_t)(data_len / min_chunk) ? (uint32_t)(data_len / min_chunk) : 1;
    c->nchunks = nch;
    const char *starts[MAX_CHUNKS];
    starts[0] = c->data;
    for (uint32_t t = 1; t < nch; t++) {
        const char *b = c->data + data_len * t / nch;
        const char *nl = memchr(b - 1, '\n', (size_t)(c->E - (b - 1)));
        starts[t] = nl ? nl + 1 : c->E;
        if (starts[t] < starts[t - 1])
            starts[t] = starts[t - 1];
    }
    for (uint32_t t = 0; t < nch; t++) {
        c->ch[t].start = starts[t];
        c->ch[t].end = t + 1 < nch ? starts[t + 1] : c->E;
    }
    scrm__parallel_for(threads, nch, count_fn, c);
    uint64_t cap = 0;
    for (uint32_t t = 0; t < nch; t++) {
        c->ch[t].base = cap;
        cap += c->ch[t].cap;
    }

    /* passes: at most one more for string keys and one more for the time format */
    int outcome = PASS_DONE;
    for (int pass = 0;; pass++) {
        if ((err = alloc_columns(c, cap)))
            goto done;
        if ((err = run_pass(c, starts, threads, &outcome)))
            goto done;
        if (outcome == PASS_STRING) {
            assert(c->key_mode == KEY_U64_CANON);
            c->key_mode = KEY_STRING;
            continue;
        }
        if (c->tfmt != SCRM_TIME_AUTO)
            break;
        /* auto time: decide from the classes seen */
        unsigned mask = 0;
        int first = 0, ymd8 = 1;
        for (uint32_t t = 0; t < nch; t++) {
            if (!first && c->ch[t].tmask)
                first = c->ch[t].first_class;
            mask |= c->ch[t].tmask;
            ymd8 &= c->ch[t].all_ymd8;
        }
        if (!first)
            break; /* no time value at all */
        int fmt = first == TC_ISO ? SCRM_TIME_ISO8601
                  : first == TC_DMY ? SCRM_TIME_DMY
                  : ymd8 ? SCRM_TIME_YYYYMMDD
                         : SCRM_TIME_EPOCH;
        if (mask != (unsigned)first) {
            c->tfmt = fmt; /* mixed kinds: parse again with the format fixed */
            continue;
        }
        if (first == TC_DIGITS) {
            int bad = 0;
            for (uint32_t t = 0; t < nch && !bad; t++) {
                struct chunk *ch = &c->ch[t];
                int64_t *tm = c->tm + ch->base;
                if (fmt == SCRM_TIME_YYYYMMDD) {
                    for (uint64_t i = 0; i < ch->n; i++)
                        if (scrm__time_ymd8(&ch->dc, tm[i], c->offset, &tm[i]) != NUM_OK) {
                            bad = 1;
                            break;
                        }
                } else {
                    for (uint64_t i = 0; i < ch->n; i++)
                        if (tm[i] < SCRM_TIME_MIN || tm[i] > SCRM_TIME_MAX) {
                            bad = 1;
                            break;
                        }
                }
            }
            c->tfmt = fmt;
            if (bad)
                continue; /* a value out of range: parse again to report it by line */
            break;
        }
        c->tfmt = fmt;
        break;
    }

    /* compact the chunks' slices */
    uint64_t nrows = 0;
    for (uint32_t t = 0; t < nch; t++) {
        struct chunk *ch = &c->ch[t];
        if (ch->base != nrows && ch->n) {
#define MOVE(a) \
    if (a)      \
    memmove(a + nrows, a + ch->base, (size_t)ch->n * sizeof *a)
            MOVE(c->cu);
            MOVE(c->cs);
            MOVE(c->cl);
            MOVE(c->tm);
            MOVE(c->am);
            MOVE(c->ok);
#undef MOVE
        }
        nrows += ch->n;
    }

    /* report (built before the append so that nothing can fail after it) */
    rep = scrm__calloc(1, sizeof *rep);
    if (!rep) {
        err = scrm__enomem("CSV report");
        goto done;
    }
    uint64_t nrej = 0;
    for (uint32_t t = 0; t < nch; t++) {
        rep->rows_read += c->ch[t].rows_read;
        rep->empty_customer += c->ch[t].empty_cust;
        rep->rejected += c->ch[t].rejected;
        nrej += c->ch[t].n_rej;
    }
    if (nrej > o.max_rejects)
        nrej = o.max_rejects;
    if (nrej && !(rep->rejects = scrm__calloc((size_t)nrej, sizeof *rep->rejects))) {
        err = scrm__enomem("CSV report");
        goto done;
    }
    {
        uint64_t line0 = 1 + c->nl_before;
        for (uint32_t t = 0; t < nch; t++) {
            struct chunk *ch = &c->ch[t];
            for (uint32_t i = 0; i < ch->n_rej; i++) {
                if (rep->n_rejects < nrej) {
                    rep->rejects[rep->n_rejects] = ch->rej[i];
                    rep->rejects[rep->n_rejects].line += line0;
                    rep->n_rejects++;
                } else {
                    scrm__free(ch->rej[i].reason);
                }
            }
            ch->n_rej = 0;
            line0 += ch->newlines;
        }
    }
    rep->names = c->names;
    rep->n_names = c->ncols;
    c->names = NULL;
    c->ncols = 0;
    rep->delimiter = c->delim;
    rep->time_format = c->tfmt;

    if (c->progress && c->progress(len, len, c->progress_payload)) {
        err = scrm__error(SCRM_ECANCELLED, -1, "CSV load cancelled by the progress callback");
        goto done;
    }

    uint64_t added = 0;
    if (nrows > UINT32_MAX) {
        err = scrm__error(SCRM_EOVERFLOW, -1, "CSV: %llu rows, more than one load can add (2^32-1)",
                          (unsigned long long)nrows);
        goto done;
    }
    if (nrows) {
        if (c->key_mode == KEY_STRING)
            err = scrm_dataset_append_str(ds, nrows, c->cs, c->cl, c->tm, c->am, c->ok, &added);
        else
            err = scrm_dataset_append_u64(ds, nrows, c->cu, c->tm, c->am, c->ok, &added);
        if (err)
            goto done;
    }
    rep->rows_added = added;
    rep->duplicates = nrows - added;
    rep->key_type = scrm_dataset_key_type(ds);
    if (report_out) {
        *report_out = rep;
        rep = NULL;
    }
    err = SCRM_OK;

done:
    if (c) {
        scrm__saved_error se;
        scrm__error_save(&se);
        for (uint32_t t = 0; t < c->nchunks; t++)
            chunk_reset(c, &c->ch[t]);
        free_columns(c);
        for (uint32_t i = 0; i < c->ncols; i++)
            scrm__free(c->names[i]);
        scrm__free(c->names);
        scrm__free(c->rolemask);
        pthread_mutex_destroy(&c->lock);
        scrm__free(c);
        scrm__error_restore(&se);
    }
    scrm_csv_report_free(rep);
    return err;
}

SCRM_EXPORT int scrm_csv_load_buffer(scrm_csv_report **report_out, scrm_dataset *ds,
                                     const char *data, uint64_t len,
                                     const scrm_csv_options *opts)
{
    if (!ds)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_load_buffer: ds is NULL");
    if (!data && len)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_load_buffer: data is NULL");
    if (len > (uint64_t)PTRDIFF_MAX)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_load_buffer: len is too large");
    return csv_load(report_out, ds, data ? data : "", len, opts);
}

SCRM_EXPORT int scrm_csv_load_file(scrm_csv_report **report_out, scrm_dataset *ds,
                                   const char *path, const scrm_csv_options *opts)
{
    if (!ds)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_load_file: ds is NULL");
    if (!path)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_load_file: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return scrm__error(SCRM_EIO, -1, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return scrm__error(SCRM_EIO, -1, "cannot read '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return scrm__error(SCRM_EIO, -1, "cannot read '%s': not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return csv_load(report_out, ds, "", 0, opts);
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return scrm__error(SCRM_EIO, -1, "cannot map '%s': %s", path, strerror(e));
    madvise(map, size, MADV_SEQUENTIAL);
    int err = csv_load(report_out, ds, map, (uint64_t)size, opts);
    munmap(map, size);
    return err;
}
