/* CSV loading into an orders dataset (shopcrm/io.h): the orchestration.
 *
 * Plan of a load:
 *  1. Read the header (or the first line without header): detect the
 *     delimiter, map the named columns to field indices.
 *  2. Stream the data region in windows of about scrm__csv_window_bytes,
 *     each cut just after a line break. A window is split into one chunk
 *     per thread, parsed in parallel (csv_token.c) into column buffers that
 *     are reused from window to window, and appended to the dataset. A
 *     record that starts in a window is finished there even when a quoted
 *     line break carries it past the window's end; the next window starts
 *     where the last chunk really stopped.
 *  3. The appends of one load are one dataset transaction
 *     (scrm__dataset_begin): any failure (a bad row in strict mode, a
 *     cancel, an allocation failure) rolls every window back, so the
 *     dataset is as before and the load still adds all or nothing.
 *  4. Decisions that depend on the whole column (customer key type with
 *     SCRM_KEY_AUTO, time format with SCRM_TIME_AUTO) are taken from the
 *     windows seen so far. When a later window contradicts one (a string
 *     key after numeric ones, mixed time kinds, an epoch value in a column
 *     taken as YYYYMMDD) the pass goes on without appending to see the whole
 *     column (as one pass over all rows would), then the load is rolled
 *     back and run again with the decision fixed: at most MAX_PASSES
 *     passes, as each decision can only move one way.
 *
 * Number parsing: csv_number.c; times: timeparse.c; one record's fields
 * to a row: csv_row.c; rejects and the report: csv_report.c; a window's
 * rows to the dataset (order lines): csv_orders.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv_internal.h"

/* Smallest data size per parsing thread. Tests lower it to exercise chunk
 * boundaries on small inputs (declared extern in tests/test_csv.c). */
uint64_t scrm__csv_min_chunk_bytes = UINT64_C(1) << 20;
/* Input bytes parsed and appended at a time: bounds the column buffers
 * (about 36 bytes per row) and, for files, the resident part of the
 * mapping. Tests lower it to stream small inputs in many windows. */
uint64_t scrm__csv_window_bytes = UINT64_C(16) << 20;

/* One pass, plus one per decision that can be revised: string keys, and
 * for the time format at most two (auto -> auto knowing that the digits
 * are epoch seconds -> fixed, to report a value out of range by line). */
#define MAX_PASSES 5

/* Auto time format: what the windows of this pass showed so far. */
struct time_seen {
    unsigned mask;       /* SCRM__TC_* seen */
    int first;           /* class of the first time value, 0 = none yet */
    int ymd8;            /* every all-digit value is a valid YYYYMMDD date */
    int converted_ymd8;  /* windows were appended with YYYYMMDD times */
    uint64_t n_digits, n_ymd8; /* all-digit values, and those that are dates */
    unsigned dm_seen;    /* D/M/Y values: bit 0 day first, bit 1 month first */
    char dm_example[2][24];
    int digits_epoch;    /* an earlier pass found the digits are epoch seconds */
};

/* State of one pass over the data. */
struct pass {
    struct load_totals tot;
    struct time_seen ts;
    uint64_t line_base;  /* newlines of the data before the window */
    uint64_t orders0;    /* orders of the dataset before the load */
    int scan;            /* the time format must change: parse on without
                          * appending, to decide as from the whole column */
    int again;           /* a decision changed: roll back, run again */
    uint32_t bad_chunk;  /* strict: 1 + the chunk of the window's first bad row */
};

/* ------------------------------------------------------------------ */
/* options                                                             */

static const scrm_csv_options csv_defaults = SCRM_CSV_OPTIONS_INIT;
/* Struct size of each options version: version 1 ends at threads. */
static const size_t csv_sizes[] = {offsetof(scrm_csv_options, na_customers),
                                   sizeof(scrm_csv_options)};

SCRM__OPTIONS_INIT_FN(scrm_csv_options_init, scrm_csv_options,
                      csv_defaults, csv_sizes, SCRM_CSV_OPTIONS_VERSION)

static int check_options(const scrm_csv_options *o)
{
    if (!o->customer_column || !o->time_column)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: customer_column and time_column are required");
    if (!o->quantity_column != !o->unit_price_column)
        return scrm__error(SCRM_EINVAL, -1,
                           "CSV options: quantity_column and unit_price_column go together");
    if (o->delimiter != 0 && o->delimiter != ',' && o->delimiter != ';' && o->delimiter != '\t' &&
        o->delimiter != ' ')
        return scrm__error(SCRM_EINVAL, -1,
                           "CSV options: delimiter %d is not ',', ';', '\\t', ' ' or 0 (detect)",
                           (int)o->delimiter);
    if (o->decimal_separator != '.' && o->decimal_separator != ',')
        return scrm__error(SCRM_EINVAL, -1, "CSV options: decimal_separator %d is not '.' or ','",
                           (int)o->decimal_separator);
    if (o->minor_digits < 0 || o->minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: minor_digits %d is not 0..%d",
                           (int)o->minor_digits, SCRM_MAX_MINOR_DIGITS);
    int err = scrm__utc_offset_check("CSV options", o->utc_offset);
    if (err < 0)
        return err;
    if (o->time_format < SCRM_TIME_AUTO || o->time_format > SCRM_TIME_MDY)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: time_format %d is unknown", o->time_format);
    if (o->on_error != SCRM_CSV_STRICT && o->on_error != SCRM_CSV_SKIP)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: on_error %d is unknown", o->on_error);
    return scrm__csv_check_filters(o);
}

/* ------------------------------------------------------------------ */
/* setup: context, header, columns                                     */

static void ctx_init(struct ctx *c, const scrm_csv_options *o, const char *input, uint64_t len,
                     int ds_key)
{
    c->input = input;
    c->E = input + len;
    c->total = len;
    c->dec = (char)o->decimal_separator;
    c->thou = c->dec == '.' ? ',' : '.';
    c->minor = o->minor_digits;
    c->offset = o->utc_offset;
    c->on_error = o->on_error;
    c->max_rejects = o->max_rejects;
    c->progress = o->progress;
    c->progress_payload = o->progress_payload;
    c->tfmt = o->time_format;
    c->qty_price = o->quantity_column != NULL;
    /* count-only: orders without amounts (event logs) */
    c->no_amount = !c->qty_price && (!o->amount_column || strcmp(o->amount_column, "none") == 0);
    c->has_order = o->order_id_column != NULL;
    c->key_mode = ds_key == SCRM_KEY_STRING ? KEY_STRING
                  : ds_key == SCRM_KEY_U64  ? KEY_U64_LENIENT
                                            : KEY_U64_CANON;
    c->threads = o->threads ? o->threads : scrm__default_threads();
    if (c->threads > MAX_CHUNKS)
        c->threads = MAX_CHUNKS;
    c->col_mode = -1;
}

/* Columns named by position: "1", "2", ... */
static int positional_names(struct ctx *c, uint32_t n)
{
    c->names = n ? scrm__calloc(n, sizeof *c->names) : NULL;
    if (n && !c->names)
        return scrm__enomem("CSV header");
    c->ncols = n;
    for (uint32_t i = 0; i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", (unsigned)(i + 1));
        if (!(c->names[i] = scrm__strdup(buf)))
            return scrm__enomem("CSV header");
    }
    return SCRM_OK;
}

/* The first record: column names (or just their count, without header). */
static int read_header(struct ctx *c, const scrm_csv_options *o)
{
    const char *p = c->input;
    if (c->total >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    c->delim = o->delimiter ? (char)o->delimiter : scrm__csv_detect_delimiter(p, c->E);
    char **names = NULL;
    uint32_t n = 0;
    const char *q = p;
    uint64_t nl = 0;
    int err;
    if (p < c->E && (err = scrm__csv_read_record(c, &q, &names, &n, &nl)))
        return err;
    if (o->has_header) {
        c->names = names;
        c->ncols = n;
        c->nl_before = nl;
        c->data = q;
        return SCRM_OK;
    }
    for (uint32_t i = 0; i < n; i++)
        scrm__free(names[i]);
    scrm__free(names);
    c->data = p;
    return positional_names(c, n);
}

static int column_not_found(const struct ctx *c, const scrm_csv_options *o, const char *want)
{
    char list[400];
    size_t at = 0;
    list[0] = '\0';
    for (uint32_t k = 0; k < c->ncols && at < sizeof list - 1; k++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", c->names[k]);
    return scrm__error(SCRM_EINVAL, -1, "CSV: column '%s' not found; the %s has: %s", want,
                       o->has_header ? "header" : "first line", c->ncols ? list : "(no columns)");
}

/* Give every header column the roles (customer, time, ...) it has. */
static int map_columns(struct ctx *c, const scrm_csv_options *o)
{
    const char *want[R_COUNT] = {o->customer_column, o->time_column,
                                 c->qty_price || c->no_amount ? NULL : o->amount_column,
                                 o->order_id_column, o->quantity_column, o->unit_price_column};
    for (int r = R_EXCL; r < R_COUNT; r++)
        want[r] = c->rolename[r]; /* the exclude filter's columns (csv_row.c) */
    c->rolemask = c->ncols ? scrm__calloc(c->ncols, sizeof *c->rolemask) : NULL;
    if (c->ncols && !c->rolemask)
        return scrm__enomem("CSV columns");
    for (int r = 0; r < R_COUNT; r++) {
        if (!want[r])
            continue;
        uint32_t i = 0;
        while (i < c->ncols && strcmp(c->names[i], want[r]) != 0)
            i++;
        if (i == c->ncols)
            return column_not_found(c, o, want[r]);
        c->rolemask[i] |= (uint16_t)(1u << r);
        c->rolename[r] = c->names[i];
        if (i + 1 > c->need_cols)
            c->need_cols = i + 1;
    }
    return SCRM_OK;
}

/* ------------------------------------------------------------------ */
/* the window's column buffers, reused from window to window            */

static void free_columns(struct ctx *c)
{
    scrm__free(c->cu);
    scrm__free(c->cs);
    scrm__free(c->cl);
    scrm__free(c->tm);
    scrm__free(c->am);
    scrm__free(c->ok);
    scrm__free(c->ln);
    c->ln = NULL;
    c->cu = NULL;
    c->cs = NULL;
    c->cl = NULL;
    c->tm = c->am = NULL;
    c->ok = NULL;
    c->col_cap = 0;
    c->col_mode = -1;
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

/* Room for cap rows; kept if the buffers already hold that many. */
static int alloc_columns(struct ctx *c, uint64_t cap)
{
    if (c->col_mode == c->key_mode && cap <= c->col_cap)
        return SCRM_OK;
    free_columns(c);
    cap += cap / 8; /* windows differ a little in rows: grow once */
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
    if (c->has_order && (!(c->ok = scrm__malloc(n * sizeof *c->ok)) ||
                         !(c->ln = scrm__malloc(n * sizeof *c->ln))))
        return scrm__enomem("CSV columns");
    advise_huge(c->cu, n * sizeof *c->cu);
    advise_huge(c->cs, n * sizeof *c->cs);
    advise_huge(c->cl, n * sizeof *c->cl);
    advise_huge(c->tm, n * sizeof *c->tm);
    advise_huge(c->am, n * sizeof *c->am);
    advise_huge(c->ok, n * sizeof *c->ok);
    c->col_cap = cap;
    c->col_mode = c->key_mode;
    return SCRM_OK;
}

/* ------------------------------------------------------------------ */
/* one window: split, parse, check                                     */

static void chunk_reset(struct ctx *c, struct chunk *ch)
{
    scrm__csv_rejects_free(&ch->rej, c);
    while (ch->keys) {
        struct keyblk *nx = ch->keys->next;
        scrm__csv_locked_free(c, ch->keys);
        ch->keys = nx;
    }
    scrm__csv_locked_free(c, ch->scratch);
    const char *start = ch->start, *end = ch->end;
    uint64_t base = ch->base, cap = ch->cap;
    memset(ch, 0, sizeof *ch);
    ch->start = start;
    ch->end = end;
    ch->base = base;
    ch->cap = cap;
    ch->all_ymd8 = 1;
    ch->dc = (scrm__date_cache)SCRM__DATE_CACHE_INIT;
}

static void reset_chunks(struct ctx *c)
{
    for (uint32_t t = 0; t < c->nchunks; t++)
        chunk_reset(c, &c->ch[t]);
}

/* Where the window starting at p ends: scrm__csv_window_bytes on, just
 * after the next line break (or at the end of input). */
static const char *window_end(const struct ctx *c, const char *p)
{
    uint64_t w = scrm__csv_window_bytes ? scrm__csv_window_bytes : 1;
    if ((uint64_t)(c->E - p) <= w)
        return c->E;
    const char *nl = memchr(p + w - 1, '\n', (size_t)(c->E - (p + w - 1)));
    return nl ? nl + 1 : c->E;
}

static int count_fn(void *vctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    struct ctx *c = vctx;
    (void)thread;
    for (uint32_t t = begin; t < end; t++)
        /* a chunk that is not the last ends just after a '\n' that belongs
         * to its last record, so records <= newlines; the last one may
         * lack a final line break */
        c->ch[t].cap = scrm__csv_count_byte(c->ch[t].start, c->ch[t].end, '\n') +
                       (t + 1 == c->nchunks);
    return 0;
}

/* Just after the n-th line break from p (or wend). */
static const char *after_lines(const char *p, const char *wend, uint64_t n)
{
    for (; n && p < wend; n--) {
        const char *nl = memchr(p, '\n', (size_t)(wend - p));
        if (!nl)
            return wend;
        p = nl + 1;
    }
    return p;
}

/* Split [p, wend) into one chunk per thread at line starts and count each
 * chunk's lines: its records <= its newlines (+ 1 for the last). */
static void split_lines(struct ctx *c, const char *p, const char *wend)
{
    uint64_t len = (uint64_t)(wend - p);
    uint64_t min_chunk = scrm__csv_min_chunk_bytes ? scrm__csv_min_chunk_bytes : 1;
    uint32_t nch = c->threads;
    if (len / min_chunk < nch)
        nch = (uint32_t)(len / min_chunk) ? (uint32_t)(len / min_chunk) : 1;
    c->nchunks = nch;
    c->wstart = p;
    for (uint32_t t = 0; t < nch; t++) {
        const char *s = p;
        if (t > 0) {
            const char *b = p + len * t / nch;
            const char *nl = memchr(b - 1, '\n', (size_t)(wend - (b - 1)));
            s = nl ? nl + 1 : wend;
            if (s < c->ch[t - 1].start)
                s = c->ch[t - 1].start;
        }
        c->ch[t].start = s;
        if (t > 0)
            c->ch[t - 1].end = s;
        c->ch[t].end = wend;
        atomic_store(&c->done[t], 0);
    }
    scrm__parallel_for(c->threads, nch, count_fn, c);
    uint64_t cap = 0;
    for (uint32_t t = 0; t < nch; t++) {
        c->ch[t].base = cap;
        cap += c->ch[t].cap;
    }
}

/* The window [p, wend) in chunks, and column buffers for its rows. A
 * window of more lines than a sixteenth of its bytes (short rows, blank
 * lines) is cut after that many, so the buffers stay bounded whatever the
 * input. */
static int split_window(struct ctx *c, const char *p, const char *wend)
{
    uint64_t max_rows = scrm__csv_window_bytes / 16 + 1;
    split_lines(c, p, wend);
    if (c->ch[c->nchunks - 1].base + c->ch[c->nchunks - 1].cap > max_rows + c->nchunks)
        split_lines(c, p, after_lines(p, wend, max_rows));
    return alloc_columns(c, c->ch[c->nchunks - 1].base + c->ch[c->nchunks - 1].cap);
}

static int parse_fn(void *vctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    struct ctx *c = vctx;
    (void)thread;
    int rc = 0;
    for (uint32_t t = begin; t < end; t++) {
        scrm__csv_parse_chunk(c, t);
        if (!rc)
            rc = c->ch[t].rc; /* hands the worker's message to the caller */
    }
    return rc;
}

static int cancelled(void)
{
    return scrm__error(SCRM_ECANCELLED, -1, "CSV load cancelled by the progress callback");
}

/* A chunk's strict failure, as the message of the load. */
static int strict_error(const struct ctx *c, const struct pass *ps, uint32_t t)
{
    uint64_t line = 1 + c->nl_before + ps->line_base + c->ch[t].err_line;
    for (uint32_t k = 0; k < t; k++)
        line += c->ch[k].newlines;
    return scrm__error(SCRM_EPARSE, (int64_t)line, "line %llu, column %s: %s",
                       (unsigned long long)line, c->ch[t].err_column, c->ch[t].err_reason);
}

static void window_time(struct ctx *c, struct pass *ps, uint32_t nchunks);
static int settle_time(struct ctx *c, struct pass *ps);

/* Chunk t met a bad row in strict mode. With the auto time format, the
 * rows before it may already show that the format must change (mixed
 * kinds, a date out of range), and with it which row is the first bad
 * one: then a pass with the format settled finds it. So the error does not
 * depend on the window size. */
static int strict_failure(struct ctx *c, struct pass *ps, uint32_t t)
{
    if (c->tfmt == SCRM_TIME_AUTO) {
        window_time(c, ps, t + 1);
        if (ps->scan)
            return settle_time(c, ps);
    }
    ps->bad_chunk = t + 1;
    return strict_error(c, ps, t);
}

/* The chunks of a window were parsed in parallel: walk them in order,
 * parse a chunk again where its start was not its predecessor's end (or
 * it stopped for another chunk), and act on the first signal. */
static int check_chunks(struct ctx *c, struct pass *ps)
{
    c->sequential = 1;
    for (uint32_t t = 0; t < c->nchunks; t++) {
        struct chunk *ch = &c->ch[t];
        if (atomic_load(&c->cancel))
            return cancelled();
        if (ch->rc)
            return ch->rc;
        if ((t > 0 && ch->start != c->ch[t - 1].final) || ch->stopped) {
            if (t > 0)
                ch->start = c->ch[t - 1].final;
            chunk_reset(c, ch);
            scrm__csv_parse_chunk(c, t);
            if (atomic_load(&c->cancel))
                return cancelled();
            if (ch->rc)
                return ch->rc;
        }
        if (ch->need_string) {
            assert(c->key_mode == KEY_U64_CANON);
            c->key_mode = KEY_STRING;
            ps->again = 1;
            return SCRM_OK;
        }
        if (ch->failed)
            return strict_failure(c, ps, t);
    }
    return SCRM_OK;
}

static int parse_window(struct ctx *c, struct pass *ps)
{
    reset_chunks(c);
    atomic_store(&c->stop_all, 0);
    atomic_store(&c->err_chunk, UINT32_MAX);
    c->sequential = 0;
    int err = scrm__parallel_for(c->threads, c->nchunks, parse_fn, c);
    if (err)
        return atomic_load(&c->cancel) ? cancelled() : err;
    return check_chunks(c, ps);
}

/* ------------------------------------------------------------------ */
/* the auto time format                                                */

/* The window's all-digit values are raw numbers: make them times. Fails
 * (0) on a value out of range, to be reported by line in a fixed pass. */
static int convert_digits(struct ctx *c, int fmt, uint32_t nchunks)
{
    for (uint32_t t = 0; t < nchunks; t++) {
        struct chunk *ch = &c->ch[t];
        int64_t *tm = c->tm + ch->base;
        for (uint64_t i = 0; i < ch->n; i++) {
            if (fmt == SCRM_TIME_YYYYMMDD) {
                if (scrm__time_ymd8(&ch->dc, tm[i], c->offset, &tm[i]) != SCRM__NUM_OK)
                    return 0;
            } else if (tm[i] < SCRM_TIME_MIN || tm[i] > SCRM_TIME_MAX) {
                return 0;
            }
        }
    }
    return 1;
}

/* The format of the column from what was seen (the rule of SCRM_TIME_AUTO
 * in io.h); SCRM_TIME_AUTO for D/M/Y values whose order is not known. */
static int column_format(const struct time_seen *ts)
{
    if (ts->first == SCRM__TC_ISO)
        return SCRM_TIME_ISO8601;
    if (ts->first == SCRM__TC_DM)
        return ts->dm_seen == 1u ? SCRM_TIME_DMY : ts->dm_seen == 2u ? SCRM_TIME_MDY : SCRM_TIME_AUTO;
    return ts->ymd8 || (!ts->digits_epoch && 2 * ts->n_ymd8 >= ts->n_digits) ? SCRM_TIME_YYYYMMDD : SCRM_TIME_EPOCH;
}

/* D/M/Y values whose order the column does not tell: an error naming the
 * choices (never a guess that could swap day and month). */
static int dm_undecided(const struct ctx *c, const struct time_seen *ts)
{
    const char *col = c->rolename[R_TIME];
    if (ts->dm_seen == 3u)
        return scrm__error(SCRM_EPARSE, -1,
                           "CSV: column %s has dates with the day first ('%s') and with the "
                           "month first ('%s'): give the time format (SCRM_TIME_DMY or "
                           "SCRM_TIME_MDY; shopcrm --time-format dmy|mdy), the other values are "
                           "then bad rows", col, ts->dm_example[0], ts->dm_example[1]);
    return scrm__error(SCRM_EPARSE, -1,
                       "CSV: column %s: every date has day and month at most 12, so it reads as "
                       "DD/MM/YYYY and as MM/DD/YYYY: give the time format (SCRM_TIME_DMY or "
                       "SCRM_TIME_MDY; shopcrm --time-format dmy|mdy)", col);
}

/* After the first nchunks chunks of a window (auto format): note the time
 * kinds seen and convert the raw all-digit values. When the windows
 * contradict what earlier ones were appended with (mixed kinds, an epoch
 * value after dates, a value out of range, a month-first date after the
 * D/M/Y values were read day first) the pass goes on parsing without
 * appending (ps->scan), so that the new decision is taken on the whole
 * column, as one pass over all rows would. */
static void window_time(struct ctx *c, struct pass *ps, uint32_t nchunks)
{
    struct time_seen *ts = &ps->ts;
    for (uint32_t t = 0; t < nchunks; t++) {
        const struct chunk *ch = &c->ch[t];
        if (!ts->first && ch->tmask)
            ts->first = ch->first_class;
        ts->mask |= ch->tmask;
        ts->ymd8 &= ch->all_ymd8;
        ts->n_digits += ch->n_digits;
        ts->n_ymd8 += ch->n_ymd8;
        for (int k = 0; k < 2; k++)
            if ((ch->dm_seen & (1u << k)) && !(ts->dm_seen & (1u << k)))
                memcpy(ts->dm_example[k], ch->dm_example[k], sizeof ts->dm_example[k]);
        ts->dm_seen |= ch->dm_seen;
    }
    if (ps->scan || !ts->first)
        return;
    int fmt = column_format(ts);
    if (ts->mask != (unsigned)ts->first || (ts->dm_seen & 2u))
        ps->scan = 1;
    else if (ts->first == SCRM__TC_DIGITS) {
        if ((fmt == SCRM_TIME_EPOCH && ts->converted_ymd8) || !convert_digits(c, fmt, nchunks))
            ps->scan = 1;
        ts->converted_ymd8 |= fmt == SCRM_TIME_YYYYMMDD;
    }
}

/* End of a scanning pass: the decision for the next one. Mixed kinds fix
 * the format (the odd values are then bad rows), and so does a D/M/Y
 * column whose values show the order; all-digit values of which at least
 * half are dates are YYYYMMDD (the others bad rows), fewer are epoch
 * seconds (auto again, knowing it); otherwise a value is out of range,
 * reported by line by a pass with the format fixed. */
static int settle_time(struct ctx *c, struct pass *ps)
{
    const struct time_seen *ts = &ps->ts;
    int fmt = column_format(ts);
    if (fmt == SCRM_TIME_AUTO)
        return dm_undecided(c, ts);
    if (ts->mask == (unsigned)ts->first && fmt == SCRM_TIME_EPOCH && !c->ymd8_broken)
        c->ymd8_broken = 1;
    else
        c->tfmt = fmt;
    ps->again = 1;
    return SCRM_OK;
}

/* ------------------------------------------------------------------ */
/* one window: append, account                                         */

/* Move the chunks' rows together (no-op unless rows were skipped). */
static uint64_t compact_window(struct ctx *c)
{
    uint64_t nrows = 0;
    for (uint32_t t = 0; t < c->nchunks; t++) {
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
            MOVE(c->ln);
#undef MOVE
        }
        nrows += ch->n;
    }
    return nrows;
}

/* Tell the dataset how many rows the load will end with, from the rows
 * per byte so far, so it sizes its row segments once rather than growing
 * them by half window after window (internal.h). */
static void expect_rows(const struct ctx *c, scrm_dataset *ds, const struct pass *ps,
                        uint64_t nrows)
{
    __extension__ typedef unsigned __int128 u128;
    /* in offsets of the input (gzip: the buffer holds a part of it, and
     * the size is the trailer's, a hint) */
    uint64_t through = c->base + (uint64_t)(c->ch[c->nchunks - 1].final - c->input) - c->data_off;
    uint64_t all = c->total > c->data_off + through ? c->total - c->data_off : through;
    uint64_t rows = ps->tot.rows_added + ps->tot.duplicates + nrows;
    if (through)
        scrm__dataset_expect_rows(ds, ps->orders0 + (uint64_t)((u128)rows * all / through));
}

static int append_window(struct ctx *c, scrm_dataset *ds, struct pass *ps)
{
    if (c->has_order)
        scrm__csv_row_lines(c, 1 + c->nl_before + ps->line_base);
    uint64_t nrows = compact_window(c);
    if (nrows > UINT32_MAX) /* only with a window of more than 4 GiB */
        return scrm__error(SCRM_EOVERFLOW, -1, "CSV: %llu rows in one window",
                           (unsigned long long)nrows);
    expect_rows(c, ds, ps, nrows);
    return scrm__csv_append_rows(c, ds, nrows, &ps->tot);
}

/* Strict mode, a bad row in the window: an order line of another customer
 * before it, in the rows parsed up to it, is the first bad row instead (the
 * dataset finds those as it appends). The load fails either way. */
static int first_bad_row(struct ctx *c, scrm_dataset *ds, struct pass *ps, int err)
{
    if (!c->has_order || !ps->bad_chunk)
        return err;
    scrm__saved_error se;
    scrm__error_save(&se);
    c->nchunks = ps->bad_chunk;
    int e = append_window(c, ds, ps);
    if (e != SCRM_EPARSE) {
        scrm__error_restore(&se);
        return err;
    }
    return e;
}

/* Counts and rejects of the window into the pass totals. */
static int account_window(struct ctx *c, struct pass *ps)
{
    uint64_t line0 = 1 + c->nl_before + ps->line_base;
    for (uint32_t t = 0; t < c->nchunks; t++) {
        struct chunk *ch = &c->ch[t];
        ps->tot.rows_read += ch->rows_read;
        ps->tot.empty_customer += ch->empty_cust;
        ps->tot.excluded += ch->excluded;
        ps->tot.rejected += ch->rejected;
        int err = scrm__csv_rejects_take(&ps->tot.rej, &ch->rej, line0, c->max_rejects);
        if (err)
            return err;
        line0 += ch->newlines;
        ps->line_base += ch->newlines;
    }
    /* the window's bad order lines, in line order among its other rejects */
    return scrm__csv_rejects_merge(&ps->tot.rej, &c->orej, c->max_rejects);
}

/* A file's pages before p are done with: drop them from the process (they
 * stay in the page cache), so the mapping's resident part stays bounded. */
static void release_input(struct ctx *c, const char *p)
{
#ifdef MADV_DONTNEED
    if (!c->release)
        return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = ((uintptr_t)c->released + page - 1) & ~(page - 1);
    uintptr_t e = (uintptr_t)p & ~(page - 1);
    if (e > b) {
        madvise((void *)b, e - b, MADV_DONTNEED);
        c->released = (const char *)e;
    }
#else
    (void)c;
    (void)p;
#endif
}

/* ------------------------------------------------------------------ */
/* passes                                                              */

static void pass_init(struct pass *ps, const struct ctx *c)
{
    memset(ps, 0, sizeof *ps);
    ps->ts.ymd8 = !c->ymd8_broken;
    ps->ts.digits_epoch = c->ymd8_broken;
}

static void pass_free(struct pass *ps)
{
    for (uint32_t i = 0; i < ps->tot.rej.n; i++)
        scrm__free(ps->tot.rej.r[i].reason);
    scrm__free(ps->tot.rej.r);
    ps->tot.rej = (struct reject_list){0};
}

/* Progress after a window (the chunk parsers report within windows of
 * more than PROGRESS_STEP bytes); never going back after a new pass. */
static int window_progress(struct ctx *c, const char *p)
{
    uint64_t done = c->base + (uint64_t)(p - c->input);
    if (!c->progress || done <= c->reported)
        return SCRM_OK;
    c->reported = done;
    return c->progress(done, c->total, c->progress_payload) ? cancelled() : SCRM_OK;
}

/* Parse and append the data window by window. Stops early with
 * ps->again when a decision changed. */
static int run_pass(struct ctx *c, scrm_dataset *ds, struct pass *ps)
{
    const char *p = c->data;
    int err;
    if (c->src && (err = scrm__csv_source_restart(c, &p)))
        return err;
    c->released = c->input;
    while ((!c->src || !(err = scrm__csv_source_fill(c, &p))) && p < c->E) {
        err = split_window(c, p, window_end(c, p));
        if (!err)
            err = parse_window(c, ps);
        /* gzip: a record that ran to the end of the buffer was cut, and
         * that, not what the cut made of it, is the error */
        if (c->src && (!err || (err == SCRM_EPARSE &&
                                atomic_load(&c->err_chunk) == c->nchunks - 1))) {
            int cut = scrm__csv_source_check_window(c, c->ch[c->nchunks - 1].final);
            err = cut ? cut : err;
        }
        if (err == SCRM_EPARSE) /* an earlier bad order line wins */
            err = first_bad_row(c, ds, ps, err);
        if (err || ps->again)
            return err;
        if (c->tfmt == SCRM_TIME_AUTO)
            window_time(c, ps, c->nchunks);
        if (!ps->scan && ((err = append_window(c, ds, ps)) || (err = account_window(c, ps))))
            return err;
        p = c->ch[c->nchunks - 1].final;
        reset_chunks(c); /* string keys and scratch of the window */
        release_input(c, p);
        if (p < c->E && (err = window_progress(c, p)))
            return err;
    }
    if (err)
        return err;
    if (ps->scan)
        return settle_time(c, ps);
    if (c->tfmt == SCRM_TIME_AUTO && ps->ts.first == SCRM__TC_DM && ps->ts.dm_seen != 1u)
        return dm_undecided(c, &ps->ts);
    return SCRM_OK;
}

/* The format the report gives: the decided one (AUTO if no time at all). */
static int reported_format(const struct ctx *c, const struct pass *ps)
{
    if (c->tfmt != SCRM_TIME_AUTO || !ps->ts.first)
        return c->tfmt;
    return column_format(&ps->ts);
}

/* Run passes until one needs no new decision, each in a transaction of its
 * own; on success the last one is still open in *mark. */
static int run_passes(struct ctx *c, scrm_dataset *ds, struct pass *ps,
                      scrm__dataset_mark **mark)
{
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        int err = scrm__dataset_begin(ds, mark);
        if (err)
            return err;
        pass_init(ps, c);
        ps->orders0 = scrm_dataset_order_count(ds);
        err = run_pass(c, ds, ps);
        if (!err && !ps->again)
            return SCRM_OK;
        scrm__dataset_rollback(*mark);
        *mark = NULL;
        pass_free(ps);
        if (err)
            return err;
    }
    assert(!"a decision changed more often than it can");
    return scrm__error(SCRM_EPARSE, -1, "CSV: no consistent reading after %d passes",
                       MAX_PASSES);
}

static void ctx_free(struct ctx *c)
{
    if (!c)
        return;
    scrm__saved_error se;
    scrm__error_save(&se);
    reset_chunks(c);
    free_columns(c);
    for (uint32_t i = 0; i < c->ncols; i++)
        scrm__free(c->names[i]);
    scrm__free(c->names);
    scrm__free(c->rolemask);
    scrm__csv_rejects_free(&c->orej, c);
    scrm__csv_filters_free(c);
    pthread_mutex_destroy(&c->lock);
    scrm__free(c);
    scrm__error_restore(&se);
}

static int progress_call(struct ctx *c, uint64_t done)
{
    if (c->progress && c->progress(done, c->total, c->progress_payload))
        return cancelled();
    return SCRM_OK;
}

/* A load of input [input, input+len), or of src when not NULL; name (a
 * path or NULL) for messages. */
static int csv_load(scrm_csv_report **report_out, scrm_dataset *ds, const char *input,
                    uint64_t len, const scrm_csv_options *user_opts, int release,
                    struct scrm__csv_source *src, const char *name)
{
    scrm_csv_options o;
    scrm_csv_report *rep = NULL;
    scrm__dataset_mark *mark = NULL;
    struct pass ps;
    memset(&ps, 0, sizeof ps);
    int err = scrm__options_load(&o, &csv_defaults, sizeof o, user_opts, csv_sizes,
                                 SCRM_CSV_OPTIONS_VERSION, "scrm_csv_load");
    if (err || (err = check_options(&o)) ||
        (err = scrm__dataset_check_minor_digits(ds, (uint32_t)o.minor_digits, "CSV load")))
        return err;
    struct ctx *c = scrm__calloc(1, sizeof *c);
    if (!c)
        return scrm__enomem("CSV load");
    pthread_mutex_init(&c->lock, NULL);
    ctx_init(c, &o, input, len, scrm_dataset_key_type(ds));
    c->release = release;
    if (src)
        scrm__csv_source_attach(c, src);
    if ((err = progress_call(c, 0)) ||
        (err = scrm__csv_check_text(c->input, (uint64_t)(c->E - c->input), name)) ||
        (err = scrm__csv_filters_init(c, &o)) || (err = read_header(c, &o)) ||
        (err = map_columns(c, &o)))
        goto done;
    c->data_off = (uint64_t)(c->data - c->input);
    if (src)
        scrm__csv_source_mark_data(c);
    if ((err = run_passes(c, ds, &ps, &mark)))
        goto done;
    c->tfmt = reported_format(c, &ps);
    if ((err = scrm__csv_report_new(&rep, &ps.tot, c, scrm_dataset_key_type(ds))) ||
        (err = progress_call(c, src ? c->total : len)))
        goto done;
    scrm__dataset_commit(mark); /* cannot fail: nothing below can */
    mark = NULL;
    scrm__dataset_set_minor_digits(ds, (uint32_t)o.minor_digits); /* the file's currency */
    if (report_out) {
        *report_out = rep;
        rep = NULL;
    }
done:
    scrm__dataset_expect_rows(ds, 0);
    scrm__dataset_rollback(mark);
    pass_free(&ps);
    ctx_free(c);
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
    if (!scrm__csv_is_gzip(data, len))
        return csv_load(report_out, ds, data ? data : "", len, opts, 0, NULL, NULL);
    struct scrm__csv_source *src = NULL;
    int err = scrm__csv_source_open(&src, -1, data, len, NULL);
    if (!err)
        err = csv_load(report_out, ds, NULL, 0, opts, 0, src, NULL);
    scrm__csv_source_free(src);
    return err;
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
        return csv_load(report_out, ds, "", 0, opts, 0, NULL, path);
    }
    unsigned char magic[2];
    if (st.st_size >= 2 && pread(fd, magic, 2, 0) == 2 && scrm__csv_is_gzip(magic, 2)) {
        /* gzip: decompressed as the load goes, never all in memory */
        struct scrm__csv_source *src = NULL;
        int err = scrm__csv_source_open(&src, fd, NULL, 0, path);
        if (!err)
            err = csv_load(report_out, ds, NULL, 0, opts, 0, src, path);
        scrm__csv_source_free(src);
        close(fd);
        return err;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return scrm__error(SCRM_EIO, -1, "cannot map '%s': %s", path, strerror(e));
    madvise(map, size, MADV_SEQUENTIAL);
    int err = csv_load(report_out, ds, map, (uint64_t)size, opts, 1, NULL, path);
    munmap(map, size);
    return err;
}
