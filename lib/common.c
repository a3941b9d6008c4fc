/* Errors, version, allocator, options and threads shared by every area. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* ---- allocator ---- */

static void *default_malloc(size_t size, void *payload)
{
    (void)payload;
    return malloc(size);
}
static void *default_realloc(void *p, size_t size, void *payload)
{
    (void)payload;
    return realloc(p, size);
}
static void default_free(void *p, void *payload)
{
    (void)payload;
    free(p);
}

static struct {
    scrm_malloc_fn m;
    scrm_realloc_fn r;
    scrm_free_fn f;
    void *payload;
} alloc = {default_malloc, default_realloc, default_free, NULL};

SCRM_EXPORT int scrm_set_allocator(scrm_malloc_fn m, scrm_realloc_fn r, scrm_free_fn f,
                                   void *payload)
{
    if (!m && !r && !f) {
        alloc.m = default_malloc;
        alloc.r = default_realloc;
        alloc.f = default_free;
        alloc.payload = NULL;
        return SCRM_OK;
    }
    if (!m || !r || !f)
        return scrm__error(SCRM_EINVAL, -1,
                           "scrm_set_allocator: give all three functions or none");
    alloc.m = m;
    alloc.r = r;
    alloc.f = f;
    alloc.payload = payload;
    return SCRM_OK;
}

void *scrm__malloc(size_t size)
{
    return alloc.m(size ? size : 1, alloc.payload);
}

void *scrm__calloc(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    void *p = scrm__malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *scrm__realloc(void *p, size_t size)
{
    if (!p)
        return scrm__malloc(size);
    return alloc.r(p, size ? size : 1, alloc.payload);
}

void *scrm__reallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    return scrm__realloc(p, bytes);
}

void *scrm__big_alloc(size_t size)
{
    void *p = scrm__malloc(size);
#ifdef MADV_HUGEPAGE
    /* Advice only, on the 2 MiB-aligned interior: harmless whatever
     * allocator the memory came from. */
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (p && size >= 2 * huge) {
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)p + size) & ~(huge - 1);
        if (hi > lo)
            madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return p;
}

void scrm__free(void *p)
{
    if (p)
        alloc.f(p, alloc.payload);
}

char *scrm__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = scrm__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- errors ---- */

static _Thread_local char last_msg[512];
static _Thread_local int64_t last_index = -1;

SCRM_EXPORT const char *scrm_strerror(int code)
{
    switch (code) {
    case SCRM_OK: return "success";
    case SCRM_EINVAL: return "invalid argument";
    case SCRM_ENOMEM: return "out of memory";
    case SCRM_EPARSE: return "parse error";
    case SCRM_EIO: return "input/output error";
    case SCRM_EOVERFLOW: return "value too large";
    case SCRM_ENOTFOUND: return "not found";
    case SCRM_EVERSION: return "unsupported version";
    case SCRM_ECANCELLED: return "cancelled";
    case SCRM_ERANGE: return "value out of range";
    case SCRM_ESTATE: return "invalid state";
    default: return "unknown error";
    }
}

SCRM_EXPORT const char *scrm_last_error(void) { return last_msg; }

SCRM_EXPORT int64_t scrm_last_error_index(void) { return last_index; }

SCRM_EXPORT void scrm_clear_error(void)
{
    last_msg[0] = '\0';
    last_index = -1;
}

int scrm__error(int code, int64_t index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    last_index = index;
    return code;
}

int scrm__enomem(const char *what)
{
    return scrm__error(SCRM_ENOMEM, -1, "%s: out of memory", what);
}

void scrm__error_save(scrm__saved_error *s)
{
    s->index = last_index;
    memcpy(s->msg, last_msg, sizeof s->msg);
}

void scrm__error_restore(const scrm__saved_error *s)
{
    last_index = s->index;
    memcpy(last_msg, s->msg, sizeof last_msg);
}

/* ---- version ---- */

SCRM_EXPORT const char *scrm_version(void) { return SCRM_VERSION_STRING; }

SCRM_EXPORT int scrm_version_number(void) { return SCRM_VERSION_NUMBER; }

/* ---- options ---- */

int scrm__options_load(void *dst, const void *defaults, size_t full_size, const void *src,
                       const size_t *sizes, unsigned n_versions, const char *what)
{
    memcpy(dst, defaults, full_size);
    if (!src)
        return SCRM_OK;
    unsigned v = *(const unsigned *)src;
    if (v < 1 || v > n_versions)
        return scrm__error(SCRM_EVERSION, -1, "%s: options version %u is not known (1..%u)",
                           what, v, n_versions);
    memcpy(dst, src, sizes[v - 1]);
    *(unsigned *)dst = n_versions;
    return SCRM_OK;
}

int scrm__options_init(void *opts, const void *defaults, const size_t *sizes,
                       unsigned n_versions, unsigned version, const char *fn)
{
    if (!opts)
        return scrm__error(SCRM_EINVAL, -1, "%s: opts is NULL", fn);
    if (version < 1 || version > n_versions)
        return scrm__error(SCRM_EVERSION, -1, "%s: options version %u is not known (1..%u)", fn,
                           version, n_versions);
    memcpy(opts, defaults, sizes[version - 1]);
    *(unsigned *)opts = version;
    return SCRM_OK;
}

/* ---- threads ---- */

uint32_t scrm__default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    return (uint32_t)n;
}

struct range_job {
    scrm__range_fn fn;
    void *ctx;
    uint32_t begin, end, thread;
    int rc;
    scrm__saved_error err; /* a worker's message, handed back to the caller's thread */
};

static void *range_main(void *arg)
{
    struct range_job *j = arg;
    j->rc = j->fn(j->ctx, j->begin, j->end, j->thread);
    if (j->rc)
        scrm__error_save(&j->err);
    return NULL;
}

int scrm__parallel_for(uint32_t threads, uint32_t n, scrm__range_fn fn, void *ctx)
{
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (threads > n)
        threads = n ? n : 1;
    if (threads == 1)
        return fn(ctx, 0, n, 0);

    struct range_job jobs[64];
    pthread_t tids[64];
    int started[64] = {0};
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t].fn = fn;
        jobs[t].ctx = ctx;
        jobs[t].begin = (uint32_t)((uint64_t)n * t / threads);
        jobs[t].end = (uint32_t)((uint64_t)n * (t + 1) / threads);
        jobs[t].thread = t;
        jobs[t].rc = 0;
    }
    for (uint32_t t = 1; t < threads; t++)
        started[t] = pthread_create(&tids[t], NULL, range_main, &jobs[t]) == 0;
    /* A thread that could not start runs here, after our own range: the
     * ranges stay the same, so results do too. */
    range_main(&jobs[0]);
    for (uint32_t t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            range_main(&jobs[t]);
    }
    for (uint32_t t = 0; t < threads; t++)
        if (jobs[t].rc) {
            scrm__error_restore(&jobs[t].err);
            return jobs[t].rc;
        }
    return 0;
}

/* ---- sorting ---- */

/* Bucket counts -> each bucket's first position (exclusive prefix sums). */
static void digit_offsets(uint32_t cnt[256])
{
    uint32_t acc = 0;
    for (int d = 0; d < 256; d++) {
        uint32_t t = cnt[d];
        cnt[d] = acc;
        acc += t;
    }
}

void scrm__radix_sort_u32(uint32_t *a, uint32_t *tmp, uint32_t n)
{
    uint32_t all_or = 0, all_and = UINT32_MAX, *src = a, *dst = tmp;
    for (uint32_t j = 0; j < n; j++) {
        all_or |= a[j];
        all_and &= a[j];
    }
    for (int sh = 0; sh < 32; sh += 8) {
        if ((((all_or ^ all_and) >> sh) & 0xff) == 0)
            continue;
        uint32_t cnt[256] = {0};
        for (uint32_t j = 0; j < n; j++)
            cnt[(src[j] >> sh) & 0xff]++;
        digit_offsets(cnt);
        for (uint32_t j = 0; j < n; j++)
            dst[cnt[(src[j] >> sh) & 0xff]++] = src[j];
        uint32_t *sw = src;
        src = dst;
        dst = sw;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof *a);
}

void scrm__radix_sort_pairs(uint64_t *ka, uint32_t *ia, uint64_t *kb, uint32_t *ib, uint32_t n,
                            uint64_t diff, uint64_t **k_out, uint32_t **i_out)
{
    for (int sh = 0; sh < 64; sh += 8) {
        if (((diff >> sh) & 0xff) == 0)
            continue;
        uint32_t cnt[256] = {0};
        for (uint32_t j = 0; j < n; j++)
            cnt[(ka[j] >> sh) & 0xff]++;
        digit_offsets(cnt);
        for (uint32_t j = 0; j < n; j++) {
            uint32_t pos = cnt[(ka[j] >> sh) & 0xff]++;
            kb[pos] = ka[j];
            ib[pos] = ia[j];
        }
        uint64_t *ks = ka;
        ka = kb;
        kb = ks;
        uint32_t *is = ia;
        ia = ib;
        ib = is;
    }
    *k_out = ka;
    *i_out = ia;
}

/* ---- hashing ----
 * A simple multiply-mix hash over 8-byte words; quality comes from the
 * SplitMix64 finaliser applied per word and at the end. */
uint64_t scrm__hash_bytes(const void *p, size_t len, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ (UINT64_C(0x9e3779b97f4a7c15) * (len + 1));
    while (len >= 8) {
        uint64_t w = 0;
        for (int i = 0; i < 8; i++) /* little-endian: same keys on every platform */
            w |= (uint64_t)s[i] << (8 * i);
        h = scrm__mix64(h ^ w) + UINT64_C(0x9e3779b97f4a7c15);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)s[i] << (8 * i);
    return scrm__mix64(h ^ w ^ ((uint64_t)len << 59));
}
