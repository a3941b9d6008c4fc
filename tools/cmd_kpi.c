/* shopcrm kpi: the KPIs of a time window, retention included, or of every
 * calendar period with --by (include/shopcrm/kpi.h, docs/kpi.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: shopcrm kpi FILE.csv [OPTIONS]\n"
    "\n"
    "Shop KPIs of the window [FROM, TO): orders (amount >= 0), refunds, customers,\n"
    "new and returning customers, repeat customers, revenue (refunds included),\n"
    "average order value, purchase frequency, repeat rate, revenue per customer,\n"
    "revenue shares of new and returning customers; retention KPIs: customers at\n"
    "the start S (an order in the LOOKBACK before FROM) and at the end E (an order\n"
    "in the LOOKBACK before TO), retention rate (E - N) / S and churn rate\n"
    "1 - retention (N = new customers of the window among E), the customers of S\n"
    "also in E and their share of S, reactivated customers (in E, not new, not in\n"
    "S), mean and median days between consecutive orders of a customer within\n"
    "the window. The lookback defaults to the window's length: S = customers of\n"
    "the same length of time before FROM, E = customers of the window. A warning\n"
    "says when the lookback reaches before the data (S is then incomplete) or the\n"
    "window past it. Undefined ratios print n/a (null in JSON); retention needs\n"
    "both --from and --to. Definitions: docs/kpi.md.\n"
    "\n"
    "KPI options:\n"
    "  --from DATE           window start, inclusive (default: no lower bound)\n"
    "  --to DATE             window end, exclusive (default: no upper bound)\n"
    "  --lookback DAYS       lookback defining a customer at a date, 1..36600\n"
    "                        (default: the window's length; with --by, the period\n"
    "                        before each row)\n"
    "  --by UNIT             one row per day|week|month|quarter|year (weeks are ISO\n"
    "                        8601 weeks); --from and --to must then start a period\n"
    "  --out F.csv           with --by: every KPI of every row as CSV ('-' = stdout,\n"
    "                        the table then goes to stderr)\n"
    "\n";

enum { O_FROM, O_TO, O_LOOKBACK, O_BY, O_OUT };

static const struct cli_option options[] = {
    {"--from", O_FROM, 1}, {"--to", O_TO, 1}, {"--lookback", O_LOOKBACK, 1},
    {"--by", O_BY, 1},     {"--out", O_OUT, 1},
};

static const char *const unit_names[] = {"day", "week", "month", "quarter", "year"};

static struct {
    struct cli_date from, to;
    int64_t lookback_days; /* 0 = the library's default (the window's length) */
    int by;                /* a scrm_period_unit, or -1 */
    const char *out;
} a = {{NULL, 0}, {NULL, 0}, 0, -1, NULL};

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
    case O_BY: {
        static const int units[] = {SCRM_PERIOD_DAY, SCRM_PERIOD_WEEK, SCRM_PERIOD_MONTH,
                                    SCRM_PERIOD_QUARTER, SCRM_PERIOD_YEAR};
        return cli_choice(c, &a.by, o->name, v, unit_names, units, 5);
    }
    case O_OUT: return cli_path_set(c, &a.out, o->name, v);
    }
    return 0;
}

/* With --by, --from and --to must each be the first instant of a period. */
static int check_period_bound(const struct cli_command *c, const struct cli_date *d,
                              const char *opt, int64_t utc_offset)
{
    int64_t p = 0, t0 = 0;
    if (!d->text || scrm_period_index(&p, d->t, a.by, utc_offset) != SCRM_OK ||
        scrm_period_start(&t0, p, a.by, utc_offset) != SCRM_OK || t0 == d->t)
        return 0;
    char label[SCRM_PERIOD_LABEL_MAX] = "?", start[SCRM_TIME_TEXT_MAX] = "?";
    scrm_period_label(label, sizeof label, p, a.by);
    date_text(start, sizeof start, t0, utc_offset);
    return usage_error(c, "%s %s is inside %s: with --by %s it must start a period (%s)", opt,
                       d->text, label, unit_names[a.by], start);
}

static int check(const struct cli_command *c, const struct cli_input *in)
{
    if (a.out && a.by < 0)
        return usage_error(c, "--out writes one row per period: give --by too");
    int rc = cli_window_resolve(c, &a.from, &a.to, in->utc_offset, 1);
    if (!rc && a.by >= 0)
        rc = check_period_bound(c, &a.from, "--from", in->utc_offset);
    if (!rc && a.by >= 0)
        rc = check_period_bound(c, &a.to, "--to", in->utc_offset);
    return rc;
}

/* A metric made of money: absent when the file has no amounts (--amount-col none). */
static int money_metric(int m)
{
    int type = scrm_kpi_metric_type(m);
    return type == SCRM_KPI_TYPE_MONEY || type == SCRM_KPI_TYPE_MONEY_MEAN ||
           m == SCRM_KPI_NEW_REVENUE_SHARE || m == SCRM_KPI_RETURNING_REVENUE_SHARE;
}

/* A metric's value as a JSON value: counts as integers, money exact, money
 * of a dataset without amounts null. */
static void json_value(FILE *out, int m, int64_t exact, double v, const struct cli_loaded *L)
{
    int type = scrm_kpi_metric_type(m);
    uint32_t digits = L->minor_digits;
    char money[SCRM_MONEY_TEXT_MAX];
    if (!scrm_dataset_has_amounts(L->ds) && money_metric(m)) {
        fputs("null", out);
    } else if (type == SCRM_KPI_TYPE_COUNT) {
        fprintf(out, "%" PRId64, exact);
    } else if (type == SCRM_KPI_TYPE_MONEY) {
        money_text(money, sizeof money, exact, digits);
        fputs(money, out);
    } else if (type == SCRM_KPI_TYPE_MONEY_MEAN) {
        json_number(out, scrm_money_to_major(v, digits));
    } else {
        json_number(out, v);
    }
}

/* A metric's value as a table cell ("absent": money without amounts). */
static void cell_value(char *cell, size_t cap, int m, int64_t exact, double v, const struct cli_loaded *L)
{
    int type = scrm_kpi_metric_type(m);
    uint32_t digits = L->minor_digits;
    if (!scrm_dataset_has_amounts(L->ds) && money_metric(m))
        snprintf(cell, cap, "absent");
    else if (type == SCRM_KPI_TYPE_MONEY)
        money_text(cell, cap, exact, digits);
    else if (type == SCRM_KPI_TYPE_COUNT)
        snprintf(cell, cap, "%" PRId64, exact);
    else if (!isfinite(v))
        snprintf(cell, cap, "n/a");
    else if (type == SCRM_KPI_TYPE_MONEY_MEAN)
        money_mean_text(cell, cap, v, digits);
    else if (type == SCRM_KPI_TYPE_DAYS)
        snprintf(cell, cap, "%.2f days", v);
    else if (m == SCRM_KPI_PURCHASE_FREQUENCY)
        snprintf(cell, cap, "%.3f", v);
    else
        snprintf(cell, cap, "%.2f%%", 100.0 * v);
}

/* The exact value of metric m of k (0 for a non-integer metric). */
static int64_t exact_of(const scrm_kpi *k, int m)
{
    int64_t x = 0;
    int type = scrm_kpi_metric_type(m);
    if (type == SCRM_KPI_TYPE_COUNT || type == SCRM_KPI_TYPE_MONEY)
        scrm_kpi_count(&x, k, m);
    return x;
}

static void json_time(FILE *out, const struct cli_date *d, int64_t utc_offset)
{
    char t[SCRM_TIME_TEXT_MAX];
    if (!d->text) {
        fputs("null", out);
        return;
    }
    time_text(t, sizeof t, d->t, utc_offset);
    json_string(out, t);
}

/* The lookback in days as JSON: given, the window's length, or null. */
static void json_lookback(FILE *out)
{
    if (a.lookback_days)
        fprintf(out, "%lld", (long long)a.lookback_days);
    else if (a.by < 0 && a.from.text && a.to.text)
        json_number(out, (double)(a.to.t - a.from.t) / 86400.0);
    else
        fputs("null", out); /* the window's length: unbounded, or one per row */
}

/* The first day of the data, for the warnings. */
/* The first (last != 0: last) day of the data, or "?". */
static void data_day(char *buf, size_t cap, const struct cli_loaded *L, int64_t off, int last)
{
    int64_t lo = 0, hi = 0;
    if (scrm_dataset_time_range(&lo, &hi, L->ds) == SCRM_OK)
        date_text(buf, cap, last ? hi : lo, off);
    else
        snprintf(buf, cap, "?");
}

static int run_window(const struct cli_input *in, const struct cli_loaded *L,
                      const scrm_kpi_options *o)
{
    scrm_kpi *k = NULL;
    double t0 = now_seconds();
    int rc = scrm_kpi_compute(&k, L->ds, o);
    if (rc != SCRM_OK)
        return lib_error("kpi", rc);
    timing(L, "kpi %.3f s", now_seconds() - t0);

    const uint32_t flags = scrm_kpi_flags(k);
    char first[SCRM_TIME_TEXT_MAX], last[SCRM_TIME_TEXT_MAX];
    data_day(first, sizeof first, L, in->utc_offset, 0);
    data_day(last, sizeof last, L, in->utc_offset, 1);
    if (flags & SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE)
        msg("warning: the lookback before --from reaches before the first order of the data "
            "(%s): the customers at the start are incomplete, so retention and churn are "
            "computed on a partial S; give a shorter --lookback or a later --from",
            first);
    if (flags & SCRM_KPI_FLAG_PARTIAL)
        msg("warning: the window reaches outside the data (%s to %s): its KPIs cover "
            "only the part with data",
            first, last);

    char from[SCRM_TIME_TEXT_MAX] = "start", to[SCRM_TIME_TEXT_MAX] = "end";
    if (a.from.text)
        time_text(from, sizeof from, a.from.t, in->utc_offset);
    if (a.to.text)
        time_text(to, sizeof to, a.to.t, in->utc_offset);
    if (in->json) {
        fputs("{\"command\":\"kpi\",", stdout);
        input_json_report(stdout, in, L);
        fputs(",\"from\":", stdout);
        json_time(stdout, &a.from, in->utc_offset);
        fputs(",\"to\":", stdout);
        json_time(stdout, &a.to, in->utc_offset);
        fputs(",\"lookback_days\":", stdout);
        json_lookback(stdout);
        printf(",\"lookback_incomplete\":%s,\"partial\":%s",
               flags & SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE ? "true" : "false",
               flags & SCRM_KPI_FLAG_PARTIAL ? "true" : "false");
        for (int m = 0; scrm_kpi_metric_name(m); m++) {
            printf(",\"%s\":", scrm_kpi_metric_name(m));
            json_value(stdout, m, exact_of(k, m), scrm_kpi_value(k, m), L);
        }
        fputs("}\n", stdout);
    } else {
        char lb[48];
        if (a.lookback_days)
            snprintf(lb, sizeof lb, "%lld days", (long long)a.lookback_days);
        else if (a.from.text && a.to.text)
            snprintf(lb, sizeof lb, "%g days (the window's length)",
                     (double)(a.to.t - a.from.t) / 86400.0);
        else
            snprintf(lb, sizeof lb, "the window's length");
        printf("KPIs of %s, window [%s, %s), lookback %s\n\n", in->file, from, to, lb);
        for (int m = 0; scrm_kpi_metric_name(m); m++) {
            char cell[48];
            cell_value(cell, sizeof cell, m, exact_of(k, m), scrm_kpi_value(k, m), L);
            printf("%-26s %16s\n", scrm_kpi_metric_name(m), cell);
        }
    }
    scrm_kpi_free(k);
    return 0;
}

struct csv_job {
    const scrm_kpi_periods *r;
    uint32_t minor_digits;
};

static int write_csv(const char *path, const void *ctx)
{
    const struct csv_job *job = ctx;
    return scrm_kpi_periods_write_csv(job->r, path, job->minor_digits);
}

/* The columns of the --by table (every metric is in JSON and CSV). */
static const int table_metrics[] = {
    SCRM_KPI_ORDERS,          SCRM_KPI_CUSTOMERS,           SCRM_KPI_NEW_CUSTOMERS,
    SCRM_KPI_REVENUE,         SCRM_KPI_AVERAGE_ORDER_VALUE, SCRM_KPI_REPEAT_RATE,
    SCRM_KPI_RETENTION_RATE,  SCRM_KPI_CHURN_RATE,          SCRM_KPI_RETAINED_FROM_START_SHARE,
    SCRM_KPI_REACTIVATED_CUSTOMERS,
};
static const char *const table_heads[] = {"orders",    "customers", "new",    "revenue",
                                          "aov",       "repeat",    "retention", "churn",
                                          "kept_of_S", "reactivated"};
#define N_TABLE (sizeof table_metrics / sizeof table_metrics[0])

static int run_periods(const struct cli_input *in, const struct cli_loaded *L,
                       const scrm_kpi_options *o)
{
    scrm_kpi_periods *r = NULL;
    double t0 = now_seconds();
    int rc = scrm_kpi_periods_compute(&r, L->ds, a.by, o), status = 0;
    if (rc != SCRM_OK)
        return lib_error("kpi", rc);
    timing(L, "kpi %.3f s", now_seconds() - t0);

    const uint32_t n = scrm_kpi_periods_count(r);
    const int64_t first = scrm_kpi_periods_first(r);
    const uint32_t *flags = scrm_kpi_periods_flags(r);
    const double *val[SCRM_KPI_METRIC_COUNT];
    const int64_t *ex[SCRM_KPI_METRIC_COUNT];
    for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++) {
        val[m] = scrm_kpi_periods_values(r, m);
        ex[m] = scrm_kpi_periods_exact(r, m);
    }
    uint32_t incomplete = 0, partial = 0;
    char last_incomplete[SCRM_PERIOD_LABEL_MAX] = "", partial_list[64] = "";
    for (uint32_t i = 0; i < n; i++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        scrm_period_label(label, sizeof label, first + i, a.by);
        if (flags[i] & SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE) {
            incomplete++;
            snprintf(last_incomplete, sizeof last_incomplete, "%s", label);
        }
        if (flags[i] & SCRM_KPI_FLAG_PARTIAL) {
            size_t len = strlen(partial_list);
            if (partial++ < 2)
                snprintf(partial_list + len, sizeof partial_list - len, "%s%s",
                         len ? " and " : "", label);
        }
    }
    char first_day[SCRM_TIME_TEXT_MAX];
    data_day(first_day, sizeof first_day, L, in->utc_offset, 0);
    if (incomplete)
        msg("warning: the lookback of %u row%s (through %s) reaches before the first order of "
            "the data (%s): their customers at the start are incomplete, so their retention "
            "and churn are computed on a partial S",
            incomplete, incomplete == 1 ? "" : "s", last_incomplete, first_day);
    if (partial)
        msg("warning: %s %s only partly covered by the data: %s KPIs cover the part with data",
            partial_list, partial == 1 ? "is" : "are", partial == 1 ? "its" : "their");

    FILE *out = stdout;
    struct csv_job job = {r, L->minor_digits};
    if (a.out && (rc = out_write(a.out, &out, write_csv, &job)) != 0) {
        if (rc < 0)
            msg("cannot write '%s': %s", a.out, scrm_last_error());
        status = EXIT_DATA;
        goto done;
    }
    if (in->json) {
        fputs("{\"command\":\"kpi\",", out);
        input_json_report(out, in, L);
        fprintf(out, ",\"by\":\"%s\",\"from\":", unit_names[a.by]);
        json_time(out, &a.from, in->utc_offset);
        fputs(",\"to\":", out);
        json_time(out, &a.to, in->utc_offset);
        fputs(",\"lookback_days\":", out);
        json_lookback(out);
        fputs(",\"rows\":[", out);
        for (uint32_t i = 0; i < n; i++) {
            char label[SCRM_PERIOD_LABEL_MAX], t[SCRM_TIME_TEXT_MAX];
            int64_t s = 0, e = 0;
            scrm_period_label(label, sizeof label, first + i, a.by);
            scrm_period_start(&s, first + i, a.by, in->utc_offset);
            scrm_period_start(&e, first + i + 1, a.by, in->utc_offset);
            fprintf(out, "%s{\"period\":", i ? "," : "");
            json_string(out, label);
            time_text(t, sizeof t, s, in->utc_offset);
            fputs(",\"start\":", out);
            json_string(out, t);
            time_text(t, sizeof t, e, in->utc_offset);
            fputs(",\"end\":", out);
            json_string(out, t);
            fprintf(out, ",\"lookback_incomplete\":%s,\"partial\":%s",
                    flags[i] & SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE ? "true" : "false",
                    flags[i] & SCRM_KPI_FLAG_PARTIAL ? "true" : "false");
            for (int m = 0; m < SCRM_KPI_METRIC_COUNT; m++) {
                fprintf(out, ",\"%s\":", scrm_kpi_metric_name(m));
                json_value(out, m, ex[m] ? ex[m][i] : 0, val[m][i], L);
            }
            fputc('}', out);
        }
        fputs("]}\n", out);
        goto done;
    }
    /* the table: a width per column, from its longest cell */
    int w[N_TABLE], wl = 6;
    for (size_t c = 0; c < N_TABLE; c++)
        w[c] = (int)strlen(table_heads[c]);
    for (uint32_t i = 0; i < n; i++)
        for (size_t c = 0; c < N_TABLE; c++) {
            char cell[48];
            const int m = table_metrics[c];
            cell_value(cell, sizeof cell, m, ex[m] ? ex[m][i] : 0, val[m][i], L);
            int l = (int)strlen(cell);
            w[c] = l > w[c] ? l : w[c];
        }
    char lb[48];
    if (a.lookback_days)
        snprintf(lb, sizeof lb, "%lld days", (long long)a.lookback_days);
    else
        snprintf(lb, sizeof lb, "the %s before", unit_names[a.by]);
    fprintf(out, "KPIs of %s by %s: %u rows, lookback %s (every KPI: --json, --out)\n\n",
            in->file, unit_names[a.by], n, lb);
    fprintf(out, "%-*s", wl + 2, "period");
    for (size_t c = 0; c < N_TABLE; c++)
        fprintf(out, " %*s", w[c], table_heads[c]);
    fputs("  note\n", out);
    for (uint32_t i = 0; i < n; i++) {
        char label[SCRM_PERIOD_LABEL_MAX];
        scrm_period_label(label, sizeof label, first + i, a.by);
        fprintf(out, "%-*s", wl + 2, label);
        for (size_t c = 0; c < N_TABLE; c++) {
            char cell[48];
            const int m = table_metrics[c];
            cell_value(cell, sizeof cell, m, ex[m] ? ex[m][i] : 0, val[m][i], L);
            fprintf(out, " %*s", w[c], cell);
        }
        const int pi = !!(flags[i] & SCRM_KPI_FLAG_PARTIAL),
                  li = !!(flags[i] & SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE);
        fprintf(out, "  %s%s%s\n", pi ? "partial" : "", pi && li ? ", " : "",
                li ? "S incomplete" : "");
    }
    if (n == 0)
        fputs("(no periods)\n", out);
done:
    scrm_kpi_periods_free(r);
    return status;
}

static int run(const struct cli_input *in)
{
    struct cli_loaded L;
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
    status = a.by >= 0 ? run_periods(in, &L, &o) : run_window(in, &L, &o);
    input_unload(&L);
    return status;
}

/* Listed in cli_commands[] (shopcrm.c). */
const struct cli_command cmd_kpi = {
    "kpi",
    "shop KPIs (orders, revenue, AOV, repeat rate, new vs returning,\n"
    "retention and churn, time between purchases) of a window or per period",
    help,
    options,
    sizeof options / sizeof options[0],
    apply,
    check,
    run,
};
