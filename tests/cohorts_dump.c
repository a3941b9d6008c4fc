/* Test driver for tests/oracle_cohorts.py: loads orders from a CSV with the
 * columns customer_id,date,quantity,unit_price (amount = quantity x unit
 * price), runs scrm_cohorts_compute() with the options given on the command
 * line and prints the shape, then one line per cell:
 *   label,k,size,active,orders,revenue,retention,ltv,cum_orders
 *
 * usage: cohorts_dump FILE UNIT MODE REFUNDS MIN_AMOUNT UTC_OFFSET START|all END|all THREADS
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shopcrm.h>

static void die(const char *what, int err)
{
    fprintf(stderr, "cohorts_dump: %s: %s (%s)\n", what, scrm_strerror(err), scrm_last_error());
    exit(1);
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
    if (argc != 10) {
        fprintf(stderr, "usage: cohorts_dump FILE UNIT MODE REFUNDS MIN_AMOUNT UTC_OFFSET "
                        "START|all END|all THREADS\n");
        return 2;
    }
    scrm_dataset *ds = NULL;
    int err = scrm_dataset_new(&ds, NULL);
    if (err)
        die("dataset", err);
    scrm_csv_options co = SCRM_CSV_OPTIONS_INIT;
    co.quantity_column = "quantity";
    co.unit_price_column = "unit_price";
    scrm_csv_report *rep = NULL;
    if ((err = scrm_csv_load_file(&rep, ds, argv[1], &co)))
        die("load", err);
    scrm_csv_report_free(rep);

    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.unit = atoi(argv[2]);
    o.mode = atoi(argv[3]);
    o.refunds = atoi(argv[4]);
    o.min_amount = strtoll(argv[5], NULL, 10);
    o.utc_offset = strtoll(argv[6], NULL, 10);
    if (strcmp(argv[7], "all") != 0)
        o.start = strtoll(argv[7], NULL, 10);
    if (strcmp(argv[8], "all") != 0)
        o.end = strtoll(argv[8], NULL, 10);
    o.threads = (uint32_t)atoi(argv[9]);
    scrm_cohorts *r = NULL;
    if ((err = scrm_cohorts_compute(&r, ds, &o)))
        die("compute", err);
    const uint32_t C = scrm_cohorts_count(r), K = scrm_cohorts_periods(r);
    printf("shape,%u,%u\n", C, K);
    for (uint32_t c = 0; c < C; c++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        if ((err = scrm_cohorts_label(label, sizeof label, r, c)))
            die("label", err);
        for (uint32_t k = 0; k < K; k++) {
            const size_t i = (size_t)c * K + k;
            printf("%s,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",", label, k,
                   scrm_cohorts_sizes(r)[c], scrm_cohorts_active(r)[i],
                   scrm_cohorts_orders(r)[i], scrm_cohorts_revenue(r)[i]);
            print_double(scrm_cohorts_retention(r)[i]);
            putchar(',');
            print_double(scrm_cohorts_ltv(r)[i]);
            putchar(',');
            print_double(scrm_cohorts_cum_orders(r)[i]);
            putchar('\n');
        }
    }
    scrm_cohorts_free(r);
    scrm_dataset_free(ds);
    return 0;
}
