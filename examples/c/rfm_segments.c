/* RFM segments of the bundled CDNOW orders, and an audience to win back.
 *
 * Loads examples/data/cdnow_orders.csv, scores every customer by recency,
 * frequency and monetary value (5 quantile bins, the "rfm11-v2" segments),
 * prints the segment summary and writes the customers of "At Risk" and
 * "Can't Lose Them" (good customers who stopped buying) to a CSV file for an
 * e-mail campaign. The Python and Node examples do the same.
 *
 * Usage: rfm_segments AUDIENCE.csv [ORDERS.csv]
 * Build: cc rfm_segments.c $(pkg-config --cflags --libs shopcrm)
 */
#include <shopcrm.h>
#include <stdio.h>
#include <string.h>

#ifndef EXAMPLES_DATA
#define EXAMPLES_DATA "examples/data"
#endif

/* Exact major units from integer minor units: 123456 -> "1,234.56". */
static void money(char *out, size_t cap, int64_t cents)
{
    char digits[32];
    uint64_t v = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)(v / 100));
    size_t o = 0;
    if (cents < 0)
        out[o++] = '-';
    for (int i = 0; i < n && o + 2 < cap; i++) {
        out[o++] = digits[i];
        if ((n - 1 - i) % 3 == 0 && i != n - 1)
            out[o++] = ',';
    }
    snprintf(out + o, cap - o, ".%02u", (unsigned)(v % 100));
}

static int fail(const char *what, int err)
{
    fprintf(stderr, "rfm_segments: %s: %s (%s)\n", what, scrm_last_error(), scrm_strerror(err));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: rfm_segments AUDIENCE.csv [ORDERS.csv]\n");
        return 2;
    }
    const char *audience = argv[1];
    const char *data = argc == 3 ? argv[2] : EXAMPLES_DATA "/cdnow_orders.csv";
    scrm_dataset *ds = NULL;
    scrm_rfm *rfm = NULL;
    int rc = 1, err;

    scrm_csv_options csv = SCRM_CSV_OPTIONS_INIT;
    csv.customer_column = "customer_id";
    csv.time_column = "date";
    csv.amount_column = "amount";
    if ((err = scrm_dataset_new(&ds, NULL)) < 0) {
        rc = fail("dataset", err);
        goto done;
    }
    if ((err = scrm_csv_load_file(NULL, ds, data, &csv)) < 0) {
        rc = fail(data, err);
        goto done;
    }
    printf("%llu orders, %llu customers\n", (unsigned long long)scrm_dataset_order_count(ds),
           (unsigned long long)scrm_dataset_customer_count(ds));

    scrm_rfm_options opts = SCRM_RFM_OPTIONS_INIT; /* 5 quantile bins, "rfm11-v2" */
    if ((err = scrm_rfm_compute(&rfm, ds, &opts)) < 0) {
        rc = fail("rfm", err);
        goto done;
    }
    const scrm_segment_map *map = scrm_rfm_segment_map(rfm);
    uint32_t n_seg = scrm_segment_map_count(map);
    const uint64_t *customers = scrm_rfm_segment_customers(rfm);
    const int64_t *revenue = scrm_rfm_segment_revenue(rfm);
    const double *share = scrm_rfm_segment_stat(rfm, SCRM_RFM_STAT_SHARE);
    const double *mr = scrm_rfm_segment_stat(rfm, SCRM_RFM_STAT_MEAN_R);
    const double *mf = scrm_rfm_segment_stat(rfm, SCRM_RFM_STAT_MEAN_F);
    const double *mm = scrm_rfm_segment_stat(rfm, SCRM_RFM_STAT_MEAN_M);
    printf("%-20s %9s %6s %14s %4s %4s %4s\n", "segment", "customers", "share", "revenue $", "R",
           "F", "M");
    for (uint32_t s = 0; s <= n_seg; s++) { /* the last entry: unassigned customers */
        if (customers[s] == 0)
            continue;
        char rev[40];
        money(rev, sizeof rev, revenue[s]);
        printf("%-20s %9llu %5.1f%% %14s %4.1f %4.1f %4.1f\n",
               s < n_seg ? scrm_segment_map_name(map, s) : "(unassigned)",
               (unsigned long long)customers[s], 100.0 * share[s], rev, mr[s], mf[s], mm[s]);
    }

    uint32_t at_risk, cant_lose;
    if ((err = scrm_segment_map_find(&at_risk, map, "At Risk")) < 0 ||
        (err = scrm_segment_map_find(&cant_lose, map, "Can't Lose Them")) < 0) {
        rc = fail("segment", err);
        goto done;
    }
    const int32_t win_back[2] = {(int32_t)at_risk, (int32_t)cant_lose};
    uint64_t count = 0;
    if ((err = scrm_rfm_audience(NULL, 0, &count, rfm, win_back, 2)) < 0 ||
        (err = scrm_rfm_audience_write_csv(rfm, ds, win_back, 2, audience)) < 0) {
        rc = fail(audience, err);
        goto done;
    }
    printf("wrote %llu customers (At Risk, Can't Lose Them) to %s\n", (unsigned long long)count,
           audience);
    rc = 0;
done:
    scrm_rfm_free(rfm);
    scrm_dataset_free(ds);
    return rc;
}
