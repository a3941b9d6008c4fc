/* bench_sequence: RFM, then the shop KPIs, then monthly cohorts on one
 * dataset, as a report that shows all three does; and each analysis alone on
 * a fresh dataset.
 *
 *   bench_sequence [--threads T] [--repeat R] [--seed S] [SIZES...]
 *
 * SIZES are order counts (default 10M; bench/gen.h data, about SIZE / 8
 * customers over 3 years). For each repetition (default 3) a dataset is
 * generated and appended in 1M-row chunks (not timed), then the three
 * analyses run on it one after the other with default options (T threads,
 * default 2); then each analysis runs alone on a dataset of its own. The
 * fastest time of each step is printed, and the sums.
 *
 * Since the analyses share the per-customer summary that the first of them
 * builds (lib/summary.c), the sequence should cost less than the three
 * analyses alone (issue 9: "running RFM, then KPIs, then cohorts on one
 * dataset must cost less than today's sum"). The same source builds against
 * the library before that change (the append signature is the only
 * difference), so "today's sum" is measured by the same program in the same
 * run (bench/README.md). Asserts nothing. */
#include "gen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shopcrm.h>

static uint64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end == 'k' || *end == 'K')
        v *= 1e3;
    else if (*end == 'M' || *end == 'm')
        v *= 1e6;
    return (uint64_t)v;
}

static scrm_dataset *make(uint64_t orders, uint64_t seed)
{
    bench_gen g;
    scrm_dataset *ds = NULL;
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    dopt.key_type = SCRM_KEY_U64;
    if (bench_gen_init(&g, orders, seed, BENCH_GEN_CHUNK) != 0 ||
        scrm_dataset_new(&ds, &dopt) != SCRM_OK)
        exit(1);
    const uint64_t *c;
    const int64_t *t, *a;
    uint32_t n;
    while ((n = bench_gen_next(&g, &c, &t, &a)) > 0) {
#ifdef SCRM_DATASET_APPEND_OPTIONS_VERSION
        int rc = scrm_dataset_append_u64(NULL, ds, n, c, t, a, NULL, NULL);
#else
        int rc = scrm_dataset_append_u64(ds, n, c, t, a, NULL, NULL);
#endif
        if (rc != SCRM_OK) {
            fprintf(stderr, "append: %s\n", scrm_last_error());
            exit(1);
        }
    }
    bench_gen_free(&g);
    return ds;
}

enum { RFM, KPI, COHORTS, STEPS };
static const char *const step_name[STEPS] = {"rfm", "kpi", "cohorts"};

static double run(int step, scrm_dataset *ds, uint32_t threads)
{
    double t0 = bench_now();
    int rc;
    if (step == RFM) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        o.threads = threads;
        scrm_rfm *r = NULL;
        rc = scrm_rfm_compute(&r, ds, &o);
        scrm_rfm_free(r);
    } else if (step == KPI) {
        scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
        o.threads = threads;
        scrm_kpi *k = NULL;
        rc = scrm_kpi_compute(&k, ds, &o);
        scrm_kpi_free(k);
    } else {
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        o.threads = threads;
        scrm_cohorts *r = NULL;
        rc = scrm_cohorts_compute(&r, ds, &o);
        scrm_cohorts_free(r);
    }
    if (rc != SCRM_OK) {
        fprintf(stderr, "%s: %s\n", step_name[step], scrm_last_error());
        exit(1);
    }
    return bench_now() - t0;
}

static double best(const double *v, uint32_t n)
{
    double b = v[0];
    for (uint32_t i = 1; i < n; i++)
        b = v[i] < b ? v[i] : b;
    return b;
}

int main(int argc, char **argv)
{
    uint32_t threads = 2, repeat = 3;
    uint64_t seed = 42, sizes[16];
    int n_sizes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (n_sizes < 16)
            sizes[n_sizes++] = parse_size(argv[i]);
    }
    if (!n_sizes)
        sizes[n_sizes++] = 10000000;
    if (repeat < 1 || repeat > 20)
        repeat = 3;
    printf("library %s, %u threads\n", scrm_version(), threads);
    for (int si = 0; si < n_sizes; si++) {
        double seq[STEPS][20], alone[STEPS][20];
        for (uint32_t rep = 0; rep < repeat; rep++) {
            scrm_dataset *ds = make(sizes[si], seed);
            for (int s = 0; s < STEPS; s++)
                seq[s][rep] = run(s, ds, threads);
            scrm_dataset_free(ds);
            for (int s = 0; s < STEPS; s++) {
                ds = make(sizes[si], seed);
                alone[s][rep] = run(s, ds, threads);
                scrm_dataset_free(ds);
            }
        }
        double seq_sum = 0, alone_sum = 0;
        for (int s = 0; s < STEPS; s++) {
            seq_sum += best(seq[s], repeat);
            alone_sum += best(alone[s], repeat);
            printf("orders %" PRIu64 " %-8s in sequence %.4f s, alone %.4f s (best of %u)\n",
                   sizes[si], step_name[s], best(seq[s], repeat), best(alone[s], repeat),
                   repeat);
        }
        printf("orders %" PRIu64 " sum: rfm+kpi+cohorts in sequence %.4f s, each alone %.4f s\n",
               sizes[si], seq_sum, alone_sum);
    }
    return 0;
}
