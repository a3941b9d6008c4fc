/* Test driver for tests/oracle_rfm.py: loads orders from a simple CSV
 * (header, then `customer,time,amount` with time in epoch seconds and amount
 * in minor units), runs scrm_rfm_compute() with the options given on the
 * command line and prints every per-customer value, the edges and the
 * segment summary, for the pandas oracle to compare.
 *
 * usage: rfm_dump FILE u64|str METHOD BINS FREQ MON UTC_OFFSET AS_OF|default THREADS
 *                 [R_EDGES F_EDGES M_EDGES]   (edges: comma-separated, for FIXED)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shopcrm.h>

static void die(const char *what, int err)
{
    fprintf(stderr, "rfm_dump: %s: %s (%s)\n", what, scrm_strerror(err), scrm_last_error());
    exit(1);
}

static double *parse_edges(const char *s, uint32_t n)
{
    double *e = malloc(n * sizeof *e);
    char *end;
    for (uint32_t k = 0; k < n; k++) {
        e[k] = strtod(s, &end);
        s = *end == ',' ? end + 1 : end;
    }
    return e;
}

static void print_double(double x)
{
    if (x != x)
        printf("nan");
    else
        printf("%.17g", x);
}

int main(int argc, char **argv)
{
    if (argc != 10 && argc != 13) {
        fprintf(stderr, "usage: rfm_dump FILE u64|str METHOD BINS FREQ MON OFFSET AS_OF THREADS "
                        "[R F M edges]\n");
        return 2;
    }
    int strings = strcmp(argv[2], "str") == 0;
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1024, n = 0;
    char **skeys = malloc(cap * sizeof *skeys);
    uint64_t *ukeys = malloc(cap * sizeof *ukeys);
    int64_t *times = malloc(cap * sizeof *times), *amounts = malloc(cap * sizeof *amounts);
    char line[1024];
    if (!fgets(line, sizeof line, f)) /* header */
        return 1;
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2)
            continue;
        *c1 = '\0';
        if (n == cap) {
            cap *= 2;
            skeys = realloc(skeys, cap * sizeof *skeys);
            ukeys = realloc(ukeys, cap * sizeof *ukeys);
            times = realloc(times, cap * sizeof *times);
            amounts = realloc(amounts, cap * sizeof *amounts);
        }
        skeys[n] = strdup(line);
        ukeys[n] = strtoull(line, NULL, 10);
        times[n] = strtoll(c1 + 1, NULL, 10);
        amounts[n] = strtoll(c2 + 1, NULL, 10);
        n++;
    }
    fclose(f);

    scrm_dataset *ds = NULL;
    int err = scrm_dataset_new(&ds, NULL);
    if (err)
        die("dataset", err);
    if (strings)
        err = scrm_dataset_append_str(NULL, ds, n, (const char *const *)skeys, NULL, times, amounts, NULL, NULL);
    else
        err = scrm_dataset_append_u64(NULL, ds, n, ukeys, times, amounts, NULL, NULL);
    if (err)
        die("append", err);

    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.method = atoi(argv[3]);
    o.bins = (uint32_t)atoi(argv[4]);
    o.frequency_mode = atoi(argv[5]);
    o.monetary_mode = atoi(argv[6]);
    o.utc_offset = strtoll(argv[7], NULL, 10);
    if (strcmp(argv[8], "default") != 0)
        o.as_of = strtoll(argv[8], NULL, 10);
    o.threads = (uint32_t)atoi(argv[9]);
    double *edges[3] = {NULL, NULL, NULL};
    if (argc == 13) {
        for (int d = 0; d < 3; d++)
            edges[d] = parse_edges(argv[10 + d], o.bins - 1);
        o.r_edges = edges[0];
        o.f_edges = edges[1];
        o.m_edges = edges[2];
    }
    scrm_rfm *r = NULL;
    if ((err = scrm_rfm_compute(&r, ds, &o)) != SCRM_OK)
        die("compute", err);

    printf("as_of %" PRId64 "\n", scrm_rfm_as_of(r));
    printf("scored %" PRIu32 " %" PRIu64 " %" PRId64 " %" PRIu64 "\n", scrm_rfm_scored_count(r),
           scrm_rfm_refund_only_count(r), scrm_rfm_refund_only_revenue(r),
           scrm_rfm_rows_after_as_of(r));
    printf("degenerate");
    for (int d = 0; d < 3; d++) {
        printf(" %d ", scrm_rfm_degenerate(r, d));
        print_double(scrm_rfm_majority_share(r, d));
    }
    putchar('\n');
    static const char dims[3] = {'R', 'F', 'M'};
    for (int d = 0; d < 3; d++) {
        printf("edges %c", dims[d]);
        for (uint32_t k = 0; k + 1 < o.bins; k++) {
            putchar(' ');
            print_double(scrm_rfm_edges(r, d)[k]);
        }
        putchar('\n');
    }
    uint32_t nc = scrm_rfm_customer_count(r);
    for (uint32_t i = 0; i < nc; i++) {
        if (strings) {
            const char *k;
            scrm_dataset_customer_key_str(&k, NULL, ds, i);
            printf("cust %s", k);
        } else {
            uint64_t k;
            scrm_dataset_customer_key_u64(&k, ds, i);
            printf("cust %" PRIu64, k);
        }
        printf(" %" PRId32 " %" PRIu32 " ", scrm_rfm_recency_days(r)[i],
               scrm_rfm_frequency(r)[i]);
        print_double(scrm_rfm_monetary(r)[i]);
        printf(" %" PRId64 " %u %u %u %" PRId32 "\n", scrm_rfm_revenue(r)[i],
               scrm_rfm_scores(r, SCRM_RFM_R)[i], scrm_rfm_scores(r, SCRM_RFM_F)[i],
               scrm_rfm_scores(r, SCRM_RFM_M)[i], scrm_rfm_segments(r)[i]);
    }
    uint32_t S = scrm_segment_map_count(scrm_rfm_segment_map(r));
    for (uint32_t s = 0; s <= S; s++) {
        printf("seg %d %" PRIu64 " %" PRId64, s == S ? -1 : (int)s,
               scrm_rfm_segment_customers(r)[s], scrm_rfm_segment_revenue(r)[s]);
        for (int st = 0; st < 7; st++) {
            putchar(' ');
            print_double(scrm_rfm_segment_stat(r, st)[s]);
        }
        putchar('\n');
    }
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
    for (size_t i = 0; i < n; i++)
        free(skeys[i]);
    free(skeys);
    free(ukeys);
    free(times);
    free(amounts);
    for (int d = 0; d < 3; d++)
        free(edges[d]);
    return 0;
}
