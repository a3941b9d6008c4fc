/* The buffered CSV writer shared by the library's CSV exports
 * (scrm_rfm_write_csv, scrm_rfm_audience_write_csv, scrm_cohorts_write_csv):
 * one place for the buffering, the escaping of text cells and the clean-up
 * of a failed write. Declarations and the contract: lib/internal.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "internal.h"

/* The shared state of scrm__csvout_rows: which block may write now. */
struct scrm__csvout_order {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t turn;            /* the block whose bytes go to the file now */
    _Atomic uint32_t next;    /* the next block to claim */
    _Atomic uint32_t stop_at; /* the first block where a row failed (none: UINT32_MAX) */
    atomic_int failed;        /* a write failed: drop the rest */
    atomic_int eno;
    uint32_t n, per, nblocks;
    scrm__csvout *bufs;       /* one per thread */
    scrm__csvout_row_fn row;
    const void *ctx;
};

uint32_t scrm__csvout_block_rows = 8192;

static void write_out(scrm__csvout *w, const char *s, size_t k)
{
    errno = 0;
    if (fwrite(s, 1, k, w->f) != k) {
        w->failed = 1;
        w->eno = errno ? errno : EIO;
    }
}

static void wait_turn(struct scrm__csvout_order *o, uint32_t block)
{
    pthread_mutex_lock(&o->mu);
    while (o->turn != block)
        pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

/* A worker's buffer is full or its block done: its bytes follow those of the
 * blocks before it, so wait for them (earlier blocks were claimed earlier, by
 * threads that are running: no deadlock). */
static void flush_ordered(scrm__csvout *w)
{
    struct scrm__csvout_order *o = w->order;
    wait_turn(o, w->block);
    if (!atomic_load(&o->failed) && w->block <= atomic_load(&o->stop_at)) {
        write_out(w, w->buf, w->len);
        if (w->failed) {
            atomic_store(&o->eno, w->eno);
            atomic_store(&o->failed, 1);
        }
    }
    w->len = 0;
}

void scrm__csvout_flush(scrm__csvout *w)
{
    if (w->order) {
        flush_ordered(w);
        return;
    }
    if (w->len && !w->failed)
        write_out(w, w->buf, w->len);
    w->len = 0;
}

static inline void reserve(scrm__csvout *w, size_t k)
{
    if (w->len + k > w->cap)
        scrm__csvout_flush(w);
}

void scrm__csvout_put(scrm__csvout *w, const char *s, size_t k)
{
    if (k > w->cap) { /* a cell longer than the buffer: in pieces */
        while (k) {
            size_t m = k < w->cap ? k : w->cap;
            reserve(w, m);
            memcpy(w->buf + w->len, s, m);
            w->len += m;
            s += m;
            k -= m;
        }
        return;
    }
    reserve(w, k);
    memcpy(w->buf + w->len, s, k);
    w->len += k;
}

void scrm__csvout_u64(scrm__csvout *w, uint64_t v)
{
    /* two digits per division (a 200-byte table of "00".."99"): exports
     * write several integers per customer */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char t[24];
    int k = 24;
    while (v >= 100) {
        const unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        t[--k] = pairs[d + 1];
        t[--k] = pairs[d];
    }
    if (v >= 10) {
        t[--k] = pairs[v * 2 + 1];
        t[--k] = pairs[v * 2];
    } else {
        t[--k] = (char)('0' + v);
    }
    scrm__csvout_put(w, t + k, (size_t)(24 - k));
}

void scrm__csvout_i64(scrm__csvout *w, int64_t v)
{
    if (v < 0) {
        scrm__csvout_ch(w, '-');
        scrm__csvout_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        scrm__csvout_u64(w, (uint64_t)v);
    }
}

void scrm__csvout_money(scrm__csvout *w, int64_t amount, uint32_t minor_digits)
{
    /* the library's one money formatter (scrm_money_print's); a digit count
     * out of range cannot come from a dataset or a checked argument */
    char t[SCRM_MONEY_TEXT_MAX];
    if (SCRM_NEVER(minor_digits > SCRM_MAX_MINOR_DIGITS)) {
        w->failed = 1;
        return;
    }
    scrm__csvout_put(w, t, scrm__money_text(t, amount, minor_digits));
}

void scrm__csvout_double(scrm__csvout *w, double v)
{
    char t[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    scrm__csvout_put(w, t, strlen(t));
}

/* A text cell: formula-looking cells (OWASP "CSV Injection": = + - @ TAB CR
 * first) are quoted and prefixed with a single quote; cells holding , " CR LF
 * are quoted (RFC 4180), quotes doubled. */
void scrm__csvout_text(scrm__csvout *w, const char *s, size_t k)
{
    int formula = k > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                            s[0] == '\t' || s[0] == '\r');
    int quote = formula;
    for (size_t i = 0; i < k && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        scrm__csvout_put(w, s, k);
        return;
    }
    scrm__csvout_ch(w, '"');
    if (formula)
        scrm__csvout_ch(w, '\'');
    size_t a = 0;
    for (size_t i = 0; i < k; i++)
        if (s[i] == '"') {
            scrm__csvout_put(w, s + a, i + 1 - a);
            scrm__csvout_ch(w, '"');
            a = i + 1;
        }
    scrm__csvout_put(w, s + a, k - a);
    scrm__csvout_ch(w, '"');
}

int scrm__csvout_key(scrm__csvout *w, const scrm_dataset *ds, int key_type, uint32_t i)
{
    if (key_type == SCRM_KEY_U64) {
        uint64_t k = 0;
        int err = scrm_dataset_customer_key_u64(&k, ds, i);
        if (err)
            return err;
        scrm__csvout_u64(w, k);
    } else {
        const char *s = NULL;
        uint32_t len = 0;
        int err = scrm_dataset_customer_key_str(&s, &len, ds, i);
        if (err)
            return err;
        scrm__csvout_text(w, s, len);
    }
    return SCRM_OK;
}

static void free_workers(scrm__csvout *w)
{
    for (uint32_t t = 0; w->workers && t < w->n_workers; t++)
        scrm__free(w->workers[t].buf);
    scrm__free(w->workers);
    w->workers = NULL;
    w->n_workers = 0;
}

int scrm__csvout_open(scrm__csvout *w, const char *path, uint32_t threads, const char *fn)
{
    memset(w, 0, sizeof *w);
    w->cap = (size_t)1 << 20;
    w->buf = scrm__malloc(w->cap);
    if (!w->buf)
        return scrm__enomem(fn);
    if (threads > SCRM__MAX_THREADS)
        threads = SCRM__MAX_THREADS;
    if (threads > 1) {
        /* on the calling thread: a user allocator (scrm_set_allocator) need
         * not be thread-safe */
        if (!(w->workers = scrm__calloc(threads, sizeof *w->workers))) {
            scrm__free(w->buf);
            return scrm__enomem(fn);
        }
        w->n_workers = threads;
        for (uint32_t t = 0; t < threads; t++)
            if (!(w->workers[t].buf = scrm__malloc(w->cap))) {
                free_workers(w);
                scrm__free(w->buf);
                return scrm__enomem(fn);
            }
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        int e = errno;
        free_workers(w);
        scrm__free(w->buf);
        w->buf = NULL;
        return scrm__error(SCRM_EIO, -1, "%s: cannot create '%s': %s", fn, path, strerror(e));
    }
    for (uint32_t t = 0; t < w->n_workers; t++) {
        w->workers[t].f = w->f;
        w->workers[t].cap = w->cap;
    }
    /* Only a regular file is removed on failure: a path such as /dev/stdout
     * names a stream the caller owns. */
    struct stat st;
    w->regular = fstat(fileno(w->f), &st) == 0 && S_ISREG(st.st_mode);
    return SCRM_OK;
}

int scrm__csvout_begin(scrm__csvout *w, const void *r, const char *path, uint32_t minor_digits,
                       const char *fn)
{
    if (!r || !path)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "%s: minor_digits %u is not 0..%d", fn, minor_digits,
                           SCRM_MAX_MINOR_DIGITS);
    return scrm__csvout_open(w, path, 1, fn);
}

int scrm__csvout_close(scrm__csvout *w, const char *path, int err, const char *fn)
{
    scrm__csvout_flush(w);
    int e = 0;
    if (w->failed)
        e = w->eno ? w->eno : EIO;
    if (fclose(w->f) != 0 && !e)
        e = errno ? errno : EIO;
    free_workers(w);
    scrm__free(w->buf);
    w->buf = NULL;
    w->f = NULL;
    if (!err && e)
        err = scrm__error(SCRM_EIO, -1, "%s: cannot write '%s': %s", fn, path, strerror(e));
    if (err && w->regular)
        remove(path);
    return err;
}

static int rows_worker(void *vctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    (void)begin;
    (void)end;
    struct scrm__csvout_order *o = vctx;
    scrm__csvout *w = &o->bufs[thread];
    int err = 0;
    for (;;) {
        uint32_t b = atomic_fetch_add(&o->next, 1);
        if (b >= o->nblocks)
            break;
        if (b > atomic_load(&o->stop_at)) {
            /* claimed, so a later block may wait for it: pass the turn on */
            wait_turn(o, b);
        } else {
            w->block = b;
            uint64_t lo = (uint64_t)b * o->per;
            uint64_t hi = lo + o->per < o->n ? lo + o->per : o->n;
            for (uint64_t i = lo; i < hi && !err; i++)
                err = o->row(w, o->ctx, (uint32_t)i);
            if (err) { /* later blocks are not written (see flush_ordered) */
                uint32_t cur = atomic_load(&o->stop_at);
                while (b < cur && !atomic_compare_exchange_weak(&o->stop_at, &cur, b))
                    ;
            }
            flush_ordered(w);
        }
        pthread_mutex_lock(&o->mu);
        o->turn = b + 1;
        pthread_cond_broadcast(&o->cv);
        pthread_mutex_unlock(&o->mu);
        if (err)
            return err;
    }
    return 0;
}

int scrm__csvout_rows(scrm__csvout *w, uint32_t n, scrm__csvout_row_fn row, const void *ctx)
{
    const uint32_t per = scrm__csvout_block_rows ? scrm__csvout_block_rows : 1;
    const uint32_t nblocks = (uint32_t)(((uint64_t)n + per - 1) / per);
    uint32_t threads = w->n_workers < nblocks ? w->n_workers : nblocks;
    if (threads <= 1) { /* one thread: straight into w */
        int err = 0;
        for (uint32_t i = 0; i < n && !err; i++)
            err = row(w, ctx, i);
        return err;
    }
    scrm__csvout_flush(w);
    struct scrm__csvout_order o = {.mu = PTHREAD_MUTEX_INITIALIZER,
                                   .cv = PTHREAD_COND_INITIALIZER,
                                   .n = n,
                                   .per = per,
                                   .nblocks = nblocks,
                                   .bufs = w->workers,
                                   .row = row,
                                   .ctx = ctx};
    atomic_init(&o.next, 0);
    atomic_init(&o.stop_at, UINT32_MAX);
    atomic_init(&o.failed, w->failed);
    atomic_init(&o.eno, w->eno);
    for (uint32_t t = 0; t < threads; t++)
        w->workers[t].order = &o;
    int err = scrm__parallel_for(threads, threads, rows_worker, &o);
    for (uint32_t t = 0; t < threads; t++)
        w->workers[t].order = NULL;
    if (atomic_load(&o.failed) && !w->failed) {
        w->failed = 1;
        w->eno = atomic_load(&o.eno);
    }
    pthread_cond_destroy(&o.cv);
    pthread_mutex_destroy(&o.mu);
    return err;
}
