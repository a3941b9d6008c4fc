/* bench_cohort: monthly cohort matrices (or, with --kpi, the shop KPIs) on
 * an ingested synthetic dataset.
 *
 *   bench_cohort [--threads 1,2] [--repeat R] [--unit U] [--kpi] [--kpi-by] [--seed S] [SIZES...]
 *
 * SIZES are order counts (default: 10M 50M; about SIZE / 8 customers over
 * 3 years, bench/gen.h, so monthly cohorts make a 36 x 36 matrix). The
 * orders are generated and appended in chunks (not timed); then, for each
 * thread count, scrm_cohorts_compute() runs R times (default 5) and the
 * fastest and median times are printed. Memory: every allocation of the
 * library goes through a counting allocator (scrm_set_allocator), so the
 * figure "extra" is the peak of the bytes the library held during the
 * cohort computation minus the bytes held by the dataset before it (the
 * dataset's own bytes are printed too), exactly, without page-size noise.
 * Prints one line per measurement; asserts nothing.
 * Target (issue 5, 2-core machine): 10M orders / 1.25M customers, monthly
 * cohorts over 3 years, 2 threads: <= 0.05 s; 50M: <= 0.2 s; memory <= the
 * dataset's plus the matrix. --kpi times scrm_kpi_compute() with default
 * options (the whole dataset, the window's length as lookback) the same way
 * (no target); --kpi-by times scrm_kpi_periods_compute() with the --unit
 * periods (default monthly). */
#include "gen.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shopcrm.h>

/* ---- counting allocator: a 16-byte header holds each block's size ---- */
static atomic_llong g_live, g_peak;

static void note(long long delta)
{
    long long now = atomic_fetch_add(&g_live, delta) + delta;
    long long p = atomic_load(&g_peak);
    while (now > p && !atomic_compare_exchange_weak(&g_peak, &p, now))
        ;
}
static void *c_malloc(size_t size, void *payload)
{
    (void)payload;
    unsigned char *p = malloc(size + 16);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    note((long long)size);
    return p + 16;
}
static void c_free(void *ptr, void *payload)
{
    (void)payload;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - 16;
    size_t size;
    memcpy(&size, p, sizeof size);
    note(-(long long)size);
    free(p);
}
static void *c_realloc(void *ptr, size_t size, void *payload)
{
    if (!ptr)
        return c_malloc(size, payload);
    unsigned char *p = (unsigned char *)ptr - 16;
    size_t old;
    memcpy(&old, p, sizeof old);
    unsigned char *q = realloc(p, size + 16);
    if (!q)
        return NULL;
    memcpy(q, &size, sizeof size);
    note((long long)size - (long long)old);
    return q + 16;
}

/* CPU time of the process (all threads), seconds: less sensitive than the
 * wall clock to other load on the machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end == 'k' || *end == 'K')
        v *= 1e3;
    else if (*end == 'm' || *end == 'M')
        v *= 1e6;
    else if (*end == 'g' || *end == 'G')
        v *= 1e9;
    return (uint64_t)v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint32_t threads_list[8] = {1, 2}, n_threads = 2, repeat = 5;
    int unit = SCRM_PERIOD_MONTH, kpi = 0;
    uint64_t seed = 42, sizes[16];
    int n_sizes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            n_threads = 0;
            for (char *s = argv[++i]; *s && n_threads < 8;) {
                threads_list[n_threads++] = (uint32_t)strtoul(s, &s, 10);
                if (*s == ',')
                    s++;
            }
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = (uint32_t)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--unit") && i + 1 < argc) {
            unit = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--kpi")) {
            kpi = 1;
        } else if (!strcmp(argv[i], "--kpi-by")) {
            kpi = 2;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (n_sizes < 16) {
            sizes[n_sizes++] = parse_size(argv[i]);
        }
    }
    if (!n_sizes) {
        sizes[0] = 10000000;
        sizes[1] = 50000000;
        n_sizes = 2;
    }
    if (repeat < 1 || repeat > 100)
        repeat = 5;
    if (scrm_set_allocator(c_malloc, c_realloc, c_free, NULL) != SCRM_OK)
        return 1;

    for (int si = 0; si < n_sizes; si++) {
        const uint64_t orders = sizes[si];
        bench_gen g;
        if (bench_gen_init(&g, orders, seed, BENCH_GEN_CHUNK) != 0) {
            fprintf(stderr, "generator: out of memory\n");
            return 1;
        }
        scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
        dopt.key_type = SCRM_KEY_U64;
        scrm_dataset *ds = NULL;
        if (scrm_dataset_new(&ds, &dopt) != SCRM_OK)
            return 1;
        const uint64_t *c;
        const int64_t *t, *a;
        uint32_t n;
        while ((n = bench_gen_next(&g, &c, &t, &a)) > 0)
            if (scrm_dataset_append_u64(NULL, ds, n, c, t, a, NULL, NULL) != SCRM_OK) {
                fprintf(stderr, "append: %s\n", scrm_last_error());
                return 1;
            }
        bench_gen_free(&g);
        const long long ds_bytes = atomic_load(&g_live);
        for (uint32_t ti = 0; ti < n_threads; ti++) {
            double times[100], cpu[100];
            long long extra = 0;
            uint32_t C = 0, K = 0;
            for (uint32_t rep = 0; rep < repeat; rep++) {
                scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
                o.unit = unit;
                o.threads = threads_list[ti];
                scrm_kpi_options ko = SCRM_KPI_OPTIONS_INIT;
                ko.threads = threads_list[ti];
                scrm_cohorts *r = NULL;
                scrm_kpi *k = NULL;
                scrm_kpi_periods *kp = NULL;
                const long long before = atomic_load(&g_live);
                atomic_store(&g_peak, before);
                const double c0 = cpu_now(), t0 = bench_now();
                int err = kpi == 2 ? scrm_kpi_periods_compute(&kp, ds, unit, &ko)
                          : kpi    ? scrm_kpi_compute(&k, ds, &ko)
                                   : scrm_cohorts_compute(&r, ds, &o);
                times[rep] = bench_now() - t0;
                cpu[rep] = cpu_now() - c0;
                if (err != SCRM_OK) {
                    fprintf(stderr, "%s: %s (%s)\n", kpi ? "kpi" : "cohorts", scrm_strerror(err),
                            scrm_last_error());
                    return 1;
                }
                extra = atomic_load(&g_peak) - before;
                C = r ? scrm_cohorts_count(r) : 0;
                K = r ? scrm_cohorts_periods(r) : 0;
                scrm_cohorts_free(r);
                scrm_kpi_free(k);
                K = kp ? scrm_kpi_periods_count(kp) : K;
                scrm_kpi_periods_free(kp);
            }
            qsort(times, repeat, sizeof times[0], cmp_double);
            qsort(cpu, repeat, sizeof cpu[0], cmp_double);
            char what[64];
            if (kpi == 2)
                snprintf(what, sizeof what, "kpi by unit %d: %u rows", unit, K);
            else if (kpi)
                snprintf(what, sizeof what, "kpi");
            else
                snprintf(what, sizeof what, "unit %d: %u x %u cells", unit, C, K);
            printf("orders %" PRIu64 " customers %" PRIu64 " threads %u %s, "
                   "best %.4f s, median %.4f s, cpu %.4f s; dataset %.1f MB, extra %.2f MB "
                   "(%.2f B/order)\n",
                   orders, (uint64_t)scrm_dataset_customer_count(ds), threads_list[ti], what,
                   times[0], times[repeat / 2], cpu[0], (double)ds_bytes / 1e6, (double)extra / 1e6,
                   (double)extra / (double)orders);
            fflush(stdout);
        }
        scrm_dataset_free(ds);
    }
    return 0;
}
