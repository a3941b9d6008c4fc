/* shopcrm kpi: the KPIs of a time window, retention included
 * (include/shopcrm/kpi.h, docs/kpi.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "cli.h"

static const char help[] =
    "Usage: shopcrm kpi FILE.csv [OPTIONS]\n"
    "\n"
    "Shop KPIs of the window [FROM, TO): orders (amount >= 0), refunds, customers,\n"
    "new and returning customers, repeat customers, revenue (refunds included),\n"
    "average order value, purchase frequency, repeat rate, revenue per customer,\n"
    "revenue shares of new and returning customers; retention KPIs: customers at\n"
    "the start and at the end (a customer at a date has an order in the LOOKBACK\n"
    "days before it), retention rate (E - N) / S and churn rate 1 - retention\n"
    "(S, E = customers at start and end, N = new customers of the window among\n"
    "E), mean and median days between consecutive orders of a customer within\n"
    "the window. Undefined ratios print n/a (null in JSON); retention needs both\n"
    "--from and --to. Definitions: docs/kpi.md.\n"
    "\n"
    "KPI options:\n"
    "  --from DATE           window start, inclusive (default: no lower bound)\n"
    "  --to DATE             window end, exclusive (default: no upper bound)\n"
    "  --lookback DAYS       lookback defining a customer at a date, 1..36600\n"
    "                        (default 365)\n"
    "\n";

enum { O_FROM, O_TO, O_LOOKBACK };

static const struct cli_option options[] = {
    {"--from", O_FROM, 1},
    {"--to", O_TO, 1},
    {"--lookback", O_LOOKBACK, 1},
};

static struct {
    struct cli_date from, to;
    int64_t lookback_days; /* 0 = the library's default */
} a;

static int apply(const struct cli_command *c, const struct cli_option *o, const char *v)
{
    int64_t x;
    switch (o->id) {
    case O_FROM: return cli_date_set(c, &a.from, o->name, v);
    case O_TO: return cli_date_set(c, &a.to, o->name, v);
    case O_LOOKBACK:
        if (parse_i64(v, 1, SCRM_KPI_MAX_LOOKBACK / 86400, &x))
            return usage_error(c, "--lookback: '%s' is not a number of days 1..%lld", v,
                               (long long)(SCRM_KPI_MAX_LOOKBACK / 86400));
        a.lookback_days = x;
        break;
    }
    return 0;
}

static int check(const struct cli_command *c, const struct cli_input *in)
{
    return cli_window_resolve(c, &a.from, &a.to, in->utc_offset, 1);
}

/* A metric made of money: absent when the file has no amounts (--amount-col none). */
static int money_metric(int m)
{
    int type = scrm_kpi_metric_type(m);
    return type == SCRM_KPI_TYPE_MONEY || type == SCRM_KPI_TYPE_MONEY_MEAN ||
           m == SCRM_KPI_NEW_REVENUE_SHARE || m == SCRM_KPI_RETURNING_REVENUE_SHARE;
}

/* A metric's value as a JSON value: counts as integers, money exact. */
static void json_metric(FILE *out, const scrm_kpi *k, int m, uint32_t digits, int has_amounts)
{
    int type = scrm_kpi_metric_type(m);
    int64_t x;
    char money[SCRM_MONEY_TEXT_MAX];
    if (!has_amounts && money_metric(m)) {
        fputs("null", out);
    } else if (type == SCRM_KPI_TYPE_COUNT && scrm_kpi_count(&x, k, m) == SCRM_OK) {
        fprintf(out, "%" PRId64, x);
    } else if (type == SCRM_KPI_TYPE_MONEY && scrm_kpi_count(&x, k, m) == SCRM_OK) {
        money_text(money, sizeof money, x, digits);
        fputs(money, out);
    } else if (type == SCRM_KPI_TYPE_MONEY_MEAN) {
        json_number(out, scrm_money_to_major(scrm_kpi_value(k, m), digits));
    } else {
        json_number(out, scrm_kpi_value(k, m));
    }
}

/* A metric's value as a table cell. */
static void cell_metric(char *cell, size_t cap, const scrm_kpi *k, int m, uint32_t digits,
                        int has_amounts)
{
    int type = scrm_kpi_metric_type(m);
    double v = scrm_kpi_value(k, m);
    int64_t x;
    if (!has_amounts && money_metric(m)) {
        snprintf(cell, cap, "absent");
    } else if ((type == SCRM_KPI_TYPE_COUNT || type == SCRM_KPI_TYPE_MONEY) &&
        scrm_kpi_count(&x, k, m) == SCRM_OK) {
        if (type == SCRM_KPI_TYPE_MONEY)
            money_text(cell, cap, x, digits);
        else
            snprintf(cell, cap, "%" PRId64, x);
    } else if (!isfinite(v)) {
        snprintf(cell, cap, "n/a");
    } else if (type == SCRM_KPI_TYPE_MONEY_MEAN) {
        money_mean_text(cell, cap, v, digits);
    } else if (type == SCRM_KPI_TYPE_DAYS) {
        snprintf(cell, cap, "%.2f days", v);
    } else if (m == SCRM_KPI_PURCHASE_FREQUENCY) {
        snprintf(cell, cap, "%.3f", v);
    } else {
        snprintf(cell, cap, "%.2f%%", 100.0 * v);
    }
}

static int run(const struct cli_input *in)
{
    struct cli_loaded L;
    scrm_kpi *k = NULL;
    int status = input_load(&L, in);
    if (status)
        return status;

    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    /* The window is in local time (kpi.h: time + utc_offset), as the dates were given. */
    o.utc_offset = in->utc_offset;
    o.threads = in->threads;
    if (a.from.text)
        o.start = a.from.t + in->utc_offset;
    if (a.to.text)
        o.end = a.to.t + in->utc_offset;
    if (a.lookback_days)
        o.lookback = a.lookback_days * 86400;
    double t0 = now_seconds();
    int rc = scrm_kpi_compute(&k, L.ds, &o);
    if (rc != SCRM_OK) {
        status = lib_error("kpi", rc);
        goto done;
    }
    timing(&L, "kpi %.3f s", now_seconds() - t0);

    char from[SCRM_TIME_TEXT_MAX] = "", to[SCRM_TIME_TEXT_MAX] = "";
    if (a.from.text)
        date_text(from, sizeof from, a.from.t, in->utc_offset);
    if (a.to.text)
        date_text(to, sizeof to, a.to.t, in->utc_offset);
    long long lookback = (long long)(a.lookback_days ? a.lookback_days : 365);

    if (in->json) {
        fputs("{\"command\":\"kpi\",", stdout);
        input_json_report(stdout, in, &L);
        fputs(",\"from\":", stdout);
        if (a.from.text)
            json_string(stdout, from);
        else
            fputs("null", stdout);
        fputs(",\"to\":", stdout);
        if (a.to.text)
            json_string(stdout, to);
        else
            fputs("null", stdout);
        printf(",\"lookback_days\":%lld", lookback);
        for (int m = 0; scrm_kpi_metric_name(m); m++) {
            printf(",\"%s\":", scrm_kpi_metric_name(m));
            json_metric(stdout, k, m, L.minor_digits, scrm_dataset_has_amounts(L.ds));
        }
        fputs("}\n", stdout);
    } else {
        printf("KPIs of %s, window [%s, %s), lookback %lld days\n\n", in->file,
               a.from.text ? from : "start", a.to.text ? to : "end", lookback);
        for (int m = 0; scrm_kpi_metric_name(m); m++) {
            char cell[48];
            cell_metric(cell, sizeof cell, k, m, L.minor_digits, scrm_dataset_has_amounts(L.ds));
            printf("%-26s %16s\n", scrm_kpi_metric_name(m), cell);
        }
    }
    status = 0;
done:
    scrm_kpi_free(k);
    input_unload(&L);
    return status;
}

/* Listed in cli_commands[] (shopcrm.c). */
const struct cli_command cmd_kpi = {
    "kpi",
    "shop KPIs (orders, revenue, AOV, repeat rate, new vs returning,\n"
    "retention and churn, time between purchases) of a window",
    help,
    options,
    sizeof options / sizeof options[0],
    apply,
    check,
    run,
};
