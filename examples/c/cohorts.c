/* Monthly cohorts of the bundled CDNOW orders: retention and LTV curves.
 *
 * Loads examples/data/cdnow_orders.csv, groups customers by the month of their
 * first order, prints the retention matrix (share of each cohort buying again
 * k months later) of the first 3 cohorts over their first 6 months and the
 * historical LTV curve (cumulative revenue per acquired customer) of the first
 * cohort over 12 months, and writes every observable cell as CSV
 * (cohort,period,cohort_size,active_customers,orders,revenue,retention; the
 * format of `shopcrm cohorts --out`, docs/cohorts.md). The Python and Node
 * examples do the same and must write the same bytes.
 *
 * Usage: cohorts OUT.csv [ORDERS.csv]
 * Build: cc cohorts.c $(pkg-config --cflags --libs shopcrm)
 */
#include <math.h>
#include <shopcrm.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef EXAMPLES_DATA
#define EXAMPLES_DATA "examples/data"
#endif

static int fail(const char *what, int err)
{
    fprintf(stderr, "cohorts: %s: %s (%s)\n", what, scrm_last_error(), scrm_strerror(err));
    return 1;
}

/* Exact major units of integer minor units: -1234 -> "-12.34". */
static void money(char *out, size_t cap, int64_t cents)
{
    uint64_t v = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    snprintf(out, cap, "%s%llu.%02u", cents < 0 ? "-" : "", (unsigned long long)(v / 100),
             (unsigned)(v % 100));
}

/* A rate as the shortest of %.15g, %.16g, %.17g that reads back as the same
 * double (0.5 -> "0.5", 1 -> "1"): how `shopcrm cohorts --out` writes it. */
static void rate(char *out, size_t cap, double x)
{
    for (int p = 15; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, x);
        if (strtod(out, NULL) == x)
            break;
    }
}

/* The long form, one row per observable cell (period k <= K - 1 - cohort). */
static int write_long_csv(const scrm_cohorts *co, const char *path, uint64_t *rows_out)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const uint32_t C = scrm_cohorts_count(co), K = scrm_cohorts_periods(co);
    const uint64_t *size = scrm_cohorts_sizes(co), *active = scrm_cohorts_active(co),
                   *orders = scrm_cohorts_orders(co);
    const int64_t *revenue = scrm_cohorts_revenue(co);
    const double *retention = scrm_cohorts_retention(co);
    uint64_t rows = 0;
    fprintf(f, "cohort,period,cohort_size,active_customers,orders,revenue,retention\n");
    for (uint32_t c = 0; c < C; c++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        scrm_cohorts_label(label, sizeof label, co, c);
        for (uint32_t k = 0; k + c < K; k++) {
            const size_t i = (size_t)c * K + k;
            char rev[32];
            money(rev, sizeof rev, revenue[i]);
            fprintf(f, "%s,%u,%llu,%llu,%llu,%s,", label, k, (unsigned long long)size[c],
                    (unsigned long long)active[i], (unsigned long long)orders[i], rev);
            char ret[40] = ""; /* NaN: an empty cohort, written as an empty field */
            if (!isnan(retention[i]))
                rate(ret, sizeof ret, retention[i]);
            fprintf(f, "%s\n", ret);
            rows++;
        }
    }
    *rows_out = rows;
    return fclose(f) == 0 ? 0 : -1;
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
    printf("LTV of %s ($ per customer):", first);
    for (uint32_t k = 0; k < 12 && k < K; k++)
        printf(" %.2f", ltv[k] / 100.0);
    printf("\n");

    uint64_t rows = 0;
    if (write_long_csv(co, out, &rows) < 0) {
        fprintf(stderr, "cohorts: cannot write %s\n", out);
        goto done;
    }
    printf("wrote %llu cells to %s\n", (unsigned long long)rows, out);
    rc = 0;
done:
    scrm_cohorts_free(co);
    scrm_dataset_free(ds);
    return rc;
}
