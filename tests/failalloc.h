/* A counting allocator for allocation-failure tests (SQLite's OOM tests,
 * libgit2's cl_alloc_limit): fails the Nth allocation from now, counts live
 * blocks so a test can assert that nothing leaked. Atomic counters: the
 * library allocates from its worker threads too. */
#ifndef SCRM_TEST_FAILALLOC_H
#define SCRM_TEST_FAILALLOC_H
#include <malloc.h> /* malloc_usable_size (glibc) */
#include <stdatomic.h>
#include <stdlib.h>
#include <shopcrm.h>

static _Atomic long failalloc_countdown = -1; /* -1: never fail; 0: fail this one */
static _Atomic int failalloc_always;           /* once failed, fail every later call too */
static _Atomic long failalloc_live;
static _Atomic long failalloc_bytes; /* usable bytes of the live blocks */
static _Atomic int failalloc_failed;

static int failalloc_should_fail(void)
{
    if (failalloc_failed && failalloc_always)
        return 1;
    long c = atomic_load(&failalloc_countdown);
    while (c >= 0) { /* take one step of the countdown, unless another thread did */
        if (atomic_compare_exchange_weak(&failalloc_countdown, &c, c - 1)) {
            if (c == 0) {
                failalloc_failed = 1;
                return 1;
            }
            return 0;
        }
    }
    return 0;
}
static void *failalloc_malloc(size_t n, void *u)
{
    (void)u;
    if (failalloc_should_fail())
        return NULL;
    void *p = malloc(n);
    if (p) {
        failalloc_live++;
        failalloc_bytes += (long)malloc_usable_size(p);
    }
    return p;
}
static void *failalloc_realloc(void *p, size_t n, void *u)
{
    (void)u;
    if (failalloc_should_fail())
        return NULL;
    long was = p ? (long)malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q && !p)
        failalloc_live++;
    if (q)
        failalloc_bytes += (long)malloc_usable_size(q) - was;
    return q;
}
static void failalloc_free(void *p, void *u)
{
    (void)u;
    if (p) {
        failalloc_live--;
        failalloc_bytes -= (long)malloc_usable_size(p);
    }
    free(p);
}
/* Install, failing the nth allocation from now (n < 0: never). */
static inline void failalloc_install(long n, int always)
{
    failalloc_countdown = n;
    failalloc_always = always;
    failalloc_failed = 0;
    scrm_set_allocator(failalloc_malloc, failalloc_realloc, failalloc_free, NULL);
}
static inline void failalloc_disarm(void)
{
    failalloc_countdown = -1;
    failalloc_failed = 0;
    failalloc_always = 0;
}
/* A non-NULL address no library call returns: an output starts at it in an
 * "unchanged on error" check, so asserting that it is still there can fail
 * (starting at NULL, assert_null passes whether or not the call wrote). */
static char failalloc_sentinel_storage __attribute__((unused));
#define FAILALLOC_SENTINEL(type) ((type *)(void *)&failalloc_sentinel_storage)

static inline void failalloc_uninstall(void)
{
    failalloc_disarm();
    scrm_set_allocator(NULL, NULL, NULL, NULL);
}
#endif
