/* gen_csv: write a synthetic order log as CSV (customer_id,ts,amount) for the
 * CSV and DuckDB benchmarks, or print statistics of the generated data.
 *
 *   gen_csv [--seed S] [--stats] ORDERS [OUT.csv]
 *
 * ORDERS accepts suffixes: 1M, 10M, 50M, 500k. */
#include "gen.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: gen_csv [--seed S] ORDERS OUT.csv\n"
            "       gen_csv [--seed S] --stats ORDERS\n"
            "Writes ORDERS synthetic orders (customers ~ ORDERS/8) as CSV with the header\n"
            "customer_id,ts,amount (epoch seconds, amounts with 2 decimals).\n");
    return 2;
}

static int print_stats(uint64_t orders, uint64_t seed)
{
    bench_gen g;
    if (bench_gen_init(&g, orders, seed, 0) != 0) {
        fprintf(stderr, "gen_csv: out of memory\n");
        return 1;
    }
    const uint64_t *c;
    const int64_t *t, *a;
    uint32_t n;
    uint64_t rows = 0, chunks = 0, high = 0;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN, amin = INT64_MAX, amax = INT64_MIN;
    double asum = 0;
    uint64_t unsorted = 0;
    double t0 = bench_now();
    while ((n = bench_gen_next(&g, &c, &t, &a)) > 0) {
        chunks++;
        for (uint32_t i = 0; i < n; i++) {
            if (t[i] < tmin) tmin = t[i];
            if (t[i] > tmax) tmax = t[i];
            if (a[i] < amin) amin = a[i];
            if (a[i] > amax) amax = a[i];
            if (i && t[i] < t[i - 1]) unsorted++;
            if (c[i] >> 63) high++;
            asum += (double)a[i];
        }
        rows += n;
    }
    double dt = bench_now() - t0;
    printf("orders          %" PRIu64 " in %" PRIu64 " chunks (%.2f s, %.1f ns/row)\n", rows,
           chunks, dt, dt * 1e9 / (double)(rows ? rows : 1));
    printf("customers       %" PRIu64 " (%.3f orders/customer, target 8)\n", g.customers,
           (double)rows / (double)(g.customers ? g.customers : 1));
    printf("time            %" PRId64 " .. %" PRId64 " (%.1f days)\n", tmin, tmax,
           (double)(tmax - tmin) / 86400.0);
    printf("amount (cents)  min %" PRId64 " max %" PRId64 " mean %.1f\n", amin, amax,
           asum / (double)(rows ? rows : 1));
    printf("ids >= 2^63     %.2f%% of rows\n", 100.0 * (double)high / (double)(rows ? rows : 1));
    printf("time inversions inside chunks: %" PRIu64 "\n", unsorted);
    bench_gen_free(&g);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = 42;
    int stats = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--stats") == 0)
            stats = 1;
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    uint64_t orders = bench_parse_count(argv[i++]);
    if (orders == 0)
        return usage();
    if (stats)
        return i == argc ? print_stats(orders, seed) : usage();
    if (i + 1 != argc)
        return usage();
    const char *path = argv[i];
    uint64_t customers = 0, bytes = 0;
    double t0 = bench_now();
    if (bench_gen_write_csv(path, orders, seed, &customers, &bytes) != 0) {
        fprintf(stderr, "gen_csv: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr, "gen_csv: wrote %s: %" PRIu64 " orders, %" PRIu64
            " customers, %.1f MB in %.2f s\n",
            path, orders, customers, (double)bytes / 1e6, bench_now() - t0);
    return 0;
}
