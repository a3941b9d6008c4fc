/* Monthly cohorts of the bundled CDNOW orders: retention and LTV curves.
 *
 * Loads examples/data/cdnow_orders.csv, groups customers by the month of their
 * first order, prints the retention matrix (share of each cohort buying again
 * k months later) of the first 3 cohorts over their first 6 months and the
 * historical LTV curve (cumulative revenue per acquired customer) of the first
 * cohort over 12 months, and writes every observable cell as CSV
 * (cohort,period,cohort_size,active_customers,orders,revenue,retention,partial; the
 * format of `shopcrm cohorts --out`, docs/cohorts.md) with
 * scrm_cohorts_write_csv(). The Python and Node examples do the same and
 * must write the same bytes.
 *
 * Usage: cohorts OUT.csv [ORDERS.csv]
 * Build: cc cohorts.c $(pkg-config --cflags --libs shopcrm)
 */
#include <math.h>
#include <shopcrm.h>
#include <stdio.h>

#ifndef EXAMPLES_DATA
#define EXAMPLES_DATA "examples/data"
#endif

static int fail(const char *what, int err)
{
    fprintf(stderr, "cohorts: %s: %s (%s)\n", what, scrm_last_error(), scrm_strerror(err));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: cohorts OUT.csv [ORDERS.csv]\n");
        return 2;
    }
    const char *out = argv[1];
    const char *data = argc == 3 ? argv[2] : EXAMPLES_DATA "/cdnow_orders.csv";
    scrm_dataset *ds = NULL;
    scrm_cohorts *co = NULL;
    int rc = 1, err;

    scrm_csv_options csv = SCRM_CSV_OPTIONS_INIT;
    csv.customer_column = "customer_id";
    csv.time_column = "date";
    csv.amount_column = "amount";
    if ((err = scrm_dataset_new(&ds, NULL)) < 0 ||
        (err = scrm_csv_load_file(NULL, ds, data, &csv)) < 0) {
        rc = fail(data, err);
        goto done;
    }
    printf("%llu orders, %llu customers\n", (unsigned long long)scrm_dataset_order_count(ds),
           (unsigned long long)scrm_dataset_customer_count(ds));

    scrm_cohorts_options opts = SCRM_COHORTS_OPTIONS_INIT; /* monthly, classic, UTC */
    if ((err = scrm_cohorts_compute(&co, ds, &opts)) < 0) {
        rc = fail("cohorts", err);
        goto done;
    }
    const uint32_t C = scrm_cohorts_count(co), K = scrm_cohorts_periods(co);
    if (C == 0) {
        printf("no cohorts\n");
        rc = 0;
        goto done;
    }
    char first[SCRM_PERIOD_LABEL_MAX], last[SCRM_PERIOD_LABEL_MAX];
    scrm_cohorts_label(first, sizeof first, co, 0);
    scrm_cohorts_label(last, sizeof last, co, C - 1);
    printf("monthly cohorts %s .. %s: %u cohorts x %u periods\n", first, last, C, K);

    /* Retention (%) of the first 3 cohorts over their first 6 months. */
    const uint64_t *size = scrm_cohorts_sizes(co);
    const double *retention = scrm_cohorts_retention(co);
    printf("%-8s %6s", "cohort", "size");
    for (uint32_t k = 0; k < 6 && k < K; k++)
        printf(" %6s%u", "k=", k);
    printf("\n");
    for (uint32_t c = 0; c < 3 && c < C; c++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        scrm_cohorts_label(label, sizeof label, co, c);
        printf("%-8s %6llu", label, (unsigned long long)size[c]);
        for (uint32_t k = 0; k < 6 && k < K; k++) {
            const double r = retention[(size_t)c * K + k];
            if (isnan(r))
                printf(" %7s", "-");
            else
                printf(" %6.1f%%", 100.0 * r);
        }
        printf("\n");
    }

    /* Historical LTV curve of the first cohort: cumulative $ per acquired customer. */
    const double *ltv = scrm_cohorts_ltv(co);
    const uint32_t digits = scrm_dataset_minor_digits(ds);
    printf("LTV of %s ($ per customer):", first);
    for (uint32_t k = 0; k < 12 && k < K; k++)
        printf(" %.2f", scrm_money_to_major(ltv[k], digits));
    printf("\n");

    /* The long form: one row per observable cell (period k <= K - 1 - cohort). */
    if ((err = scrm_cohorts_write_csv(co, out, digits)) < 0) {
        rc = fail(out, err);
        goto done;
    }
    uint64_t rows = 0;
    for (uint32_t c = 0; c < C; c++)
        rows += K - c;
    printf("wrote %llu cells to %s\n", (unsigned long long)rows, out);
    rc = 0;
done:
    scrm_cohorts_free(co);
    scrm_dataset_free(ds);
    return rc;
}
