/* shopcrm cohorts: the cohort matrix as a table, JSON, long-form CSV
 * (scrm_cohorts_write_csv) or an SVG heatmap (include/shopcrm/cohorts.h,
 * docs/cli.md, docs/cohorts.md). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "svg.h"

static const char help[] =
    "Usage: shopcrm cohorts FILE.csv [OPTIONS]\n"
    "\n"
    "Group customers by the period of their first order (their cohort) and print\n"
    "one row per cohort and one column per period since acquisition (0 = the\n"
    "acquisition period): the share of the cohort active in that period\n"
    "(retention), active customers, orders, revenue, or the cumulative revenue\n"
    "per acquired customer (ltv). Cells after the last observed period are left\n"
    "empty. Refunds (negative amounts) are not counted. Definitions:\n"
    "include/shopcrm/cohorts.h and docs/cli.md.\n"
    "\n"
    "Cohort options:\n"
    "  --period P            day|week|month|quarter|year (default month; weeks are\n"
    "                        ISO 8601 weeks, Monday to Sunday)\n"
    "  --metric M            retention|customers|orders|revenue|ltv (default\n"
    "                        retention); revenue and ltv in major units\n"
    "  --mode M              classic|rolling (default classic; rolling: active in\n"
    "                        the period or any later one)\n"
    "  --from DATE           only orders from DATE on (inclusive)\n"
    "  --to DATE             only orders before DATE; also the observation end\n"
    "  --out F.csv           write every observed cell in long form:\n"
    "                        cohort,period,cohort_size,active_customers,orders,\n"
    "                        revenue,retention ('-' = stdout, the table then goes\n"
    "                        to stderr)\n"
    "  --svg F.svg           draw the chosen metric as an SVG heatmap\n"
    "\n";

enum { O_FROM, O_TO, O_OUT, O_PERIOD, O_METRIC, O_MODE, O_SVG };

static const struct cli_option options[] = {
    {"--out", O_OUT, 1},       {"--from", O_FROM, 1},     {"--to", O_TO, 1},
    {"--period", O_PERIOD, 1}, {"--metric", O_METRIC, 1}, {"--mode", O_MODE, 1},
    {"--svg", O_SVG, 1},
};

enum metric { M_RETENTION, M_CUSTOMERS, M_ORDERS, M_REVENUE, M_LTV };
static const char *const metric_names[] = {"retention", "customers", "orders", "revenue", "ltv"};
static const char *const period_names[] = {"day", "week", "month", "quarter", "year"};

static struct {
    struct cli_date from, to;
    int period, metric, mode;
    const char *out, *svg;
} a = {{NULL, 0}, {NULL, 0}, SCRM_PERIOD_MONTH, M_RETENTION, SCRM_COHORTS_CLASSIC, NULL, NULL};

static int apply(const struct cli_command *c, const struct cli_option *o, const char *v)
{
    switch (o->id) {
    case O_FROM: return cli_date_set(c, &a.from, o->name, v);
    case O_TO: return cli_date_set(c, &a.to, o->name, v);
    case O_OUT: return cli_path_set(c, &a.out, o->name, v);
    case O_PERIOD: {
        static const int units[] = {SCRM_PERIOD_DAY, SCRM_PERIOD_WEEK, SCRM_PERIOD_MONTH,
                                    SCRM_PERIOD_QUARTER, SCRM_PERIOD_YEAR};
        return cli_choice(c, &a.period, o->name, v, period_names, units, 5);
    }
    case O_METRIC: return cli_choice(c, &a.metric, o->name, v, metric_names, NULL, 5);
    case O_MODE: {
        static const char *const names[] = {"classic", "rolling"};
        static const int values[] = {SCRM_COHORTS_CLASSIC, SCRM_COHORTS_ROLLING};
        return cli_choice(c, &a.mode, o->name, v, names, values, 2);
    }
    case O_SVG: return cli_path_set(c, &a.svg, o->name, v);
    }
    return 0;
}

static int check(const struct cli_command *c, const struct cli_input *in)
{
    int rc = cli_window_resolve(c, &a.from, &a.to, in->utc_offset, 0);
    if (rc)
        return rc;
    if (a.out && a.svg && strcmp(a.out, a.svg) == 0 && strcmp(a.out, "-") != 0)
        return usage_error(c, "--out and --svg name the same file");
    return 0;
}

struct cohort_view {
    uint32_t C, K;
    uint32_t digits; /* minor digits of the dataset's currency */
    const uint64_t *size, *active, *orders;
    const int64_t *revenue;
    const double *retention, *ltv;
    char (*label)[SCRM_PERIOD_LABEL_MAX];
    uint32_t partial;      /* periods at the end not observed to their end (0: none) */
    char partial_note[96]; /* what to say about it, "" if not */
};

/* Cell (c, k) lies in one of the last v->partial periods: c + k >= K - n
 * (scrm_cohorts_partial_periods()). */
static int partial_cell(const struct cohort_view *v, uint32_t c, uint32_t k)
{
    return (uint64_t)c + k + v->partial >= v->K;
}

/* Cell (c, k) is observed when c + k < K (cohorts.h: "observable"). */
static int observed(const struct cohort_view *v, uint32_t c, uint32_t k)
{
    return (uint64_t)c + k < v->K;
}

/* The chosen metric of one cell as a number (NaN: no value) and as display
 * text (table and SVG; "" for no value). */
static double cell_value(const struct cohort_view *v, int metric, uint64_t i)
{
    switch (metric) {
    case M_RETENTION: return v->retention[i];
    case M_CUSTOMERS: return (double)v->active[i];
    case M_ORDERS: return (double)v->orders[i];
    case M_REVENUE: return scrm_money_to_major((double)v->revenue[i], v->digits);
    default: return scrm_money_to_major(v->ltv[i], v->digits);
    }
}

static void cell_text(char *buf, size_t size, const struct cohort_view *v, int metric, uint64_t i)
{
    if (metric == M_REVENUE)
        money_text(buf, size, v->revenue[i], v->digits);
    else if (!isfinite(cell_value(v, metric, i)))
        snprintf(buf, size, "-");
    else if (metric == M_RETENTION)
        snprintf(buf, size, "%.1f%%", 100.0 * v->retention[i]);
    else if (metric == M_LTV)
        money_mean_text(buf, size, v->ltv[i], v->digits);
    else
        snprintf(buf, size, "%" PRIu64, metric == M_CUSTOMERS ? v->active[i] : v->orders[i]);
}

static int write_svg(const char *path, const struct cohort_view *v, const struct cli_input *in,
                     const char *obs_end)
{
    static const char *const unit_adj[] = {"daily", "weekly", "monthly", "quarterly", "yearly"};
    static const char *const unit_plural[] = {"days", "weeks", "months", "quarters", "years"};
    static const char *const what[] = {"Retention", "Active customers", "Orders", "Revenue",
                                       "Cumulative revenue per customer (LTV)"};
    uint64_t n = (uint64_t)v->C * v->K;
    double *value = malloc((n ? n : 1) * sizeof *value);
    char **text = malloc((n ? n : 1) * sizeof *text);
    char *buf = malloc((n ? n : 1) * 32);
    unsigned char *present = malloc(n ? n : 1), *part = malloc(n ? n : 1);
    const char **labels = malloc((v->C ? v->C : 1) * sizeof *labels);
    const char **notes = malloc((v->C ? v->C : 1) * sizeof *notes);
    char *note_buf = malloc((v->C ? v->C : 1) * 32);
    int status = EXIT_DATA;
    FILE *f = NULL;
    if (!value || !text || !buf || !present || !part || !labels || !notes || !note_buf) {
        msg("%s: out of memory", path);
        goto done;
    }
    double lo = 0, hi = 0;
    for (uint32_t c = 0; c < v->C; c++) {
        labels[c] = v->label[c];
        snprintf(note_buf + 32 * (size_t)c, 32, "n=%" PRIu64, v->size[c]);
        notes[c] = note_buf + 32 * (size_t)c;
        for (uint32_t k = 0; k < v->K; k++) {
            uint64_t i = (uint64_t)c * v->K + k;
            text[i] = buf + 32 * i;
            present[i] = (unsigned char)observed(v, c, k);
            part[i] = (unsigned char)partial_cell(v, c, k);
            value[i] = present[i] ? cell_value(v, a.metric, i) : NAN;
            if (present[i] && v->size[c] == 0)
                value[i] = NAN; /* an empty cohort has no value to colour */
            if (present[i] && isfinite(value[i])) {
                cell_text(text[i], 32, v, a.metric, i);
                if (value[i] < lo)
                    lo = value[i];
                if (value[i] > hi)
                    hi = value[i];
            } else {
                text[i][0] = '\0';
            }
        }
    }
    if (a.metric == M_RETENTION) {
        lo = 0;
        hi = 1;
    }
    if (!(hi > lo))
        hi = lo + 1;
    char lo_t[48], mid_t[48], hi_t[48], title[160], sub[512], colh[64];
    if (a.metric == M_RETENTION) {
        snprintf(lo_t, sizeof lo_t, "0%%");
        snprintf(mid_t, sizeof mid_t, "50%%");
        snprintf(hi_t, sizeof hi_t, "100%%");
    } else if (a.metric == M_CUSTOMERS || a.metric == M_ORDERS) {
        snprintf(lo_t, sizeof lo_t, "%.0f", lo);
        snprintf(mid_t, sizeof mid_t, "%.1f", (lo + hi) / 2);
        snprintf(hi_t, sizeof hi_t, "%.0f", hi);
    } else { /* major units, with the currency's decimals */
        int d = (int)v->digits;
        snprintf(lo_t, sizeof lo_t, "%.*f", d, lo);
        snprintf(mid_t, sizeof mid_t, "%.*f", d, (lo + hi) / 2);
        snprintf(hi_t, sizeof hi_t, "%.*f", d, hi);
    }
    snprintf(title, sizeof title, "%s by %s cohort%s", what[a.metric], unit_adj[a.period],
             a.metric == M_RETENTION || a.metric == M_CUSTOMERS
                 ? (a.mode == SCRM_COHORTS_ROLLING ? " (rolling)" : " (classic)")
                 : "");
    snprintf(sub, sizeof sub, "%s: %u cohorts, observed through %s; metric %s%s", in->file, v->C,
             obs_end, metric_names[a.metric],
             a.metric == M_REVENUE || a.metric == M_LTV ? " (major units)" : "");
    snprintf(colh, sizeof colh, "%s since acquisition", unit_plural[a.period]);
    struct svg_heatmap h = {title, sub, "cohort", colh, v->C, v->K, labels, notes, value,
                            (const char *const *)text, present, lo, hi, lo_t, hi_t, mid_t,
                            v->partial ? part : NULL, v->partial ? v->partial_note : NULL};
    if (!(f = fopen(path, "w"))) {
        msg("cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    int werr = svg_heatmap_write(f, &h, NULL, NULL);
    if (fclose(f) != 0 || werr) {
        f = NULL;
        msg("cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    f = NULL;
    status = 0;
done:
    free(value);
    free(text);
    free(buf);
    free(present);
    free(part);
    free(labels);
    free(notes);
    free(note_buf);
    return status;
}

static void print_json(FILE *out, const struct cli_input *in, const struct cli_loaded *L,
                       const struct cohort_view *v, const char *obs_end, const char *mode)
{
    fputs("{\"command\":\"cohorts\",", out);
    input_json_report(out, in, L);
    fprintf(out, ",\"period\":\"%s\",\"mode\":\"%s\",\"metric\":\"%s\",\"observation_end\":",
            period_names[a.period], mode, metric_names[a.metric]);
    if (obs_end)
        json_string(out, obs_end);
    else
        fputs("null", out);
    fprintf(out, ",\"last_period_partial\":%s,\"partial_periods\":%u,\"periods\":%u,\"cohorts\":[",
            v->partial ? "true" : "false", v->partial, v->K);
    for (uint32_t c = 0; c < v->C; c++) {
        fprintf(out, "%s{\"cohort\":", c ? "," : "");
        json_string(out, v->label[c]);
        fprintf(out, ",\"size\":%" PRIu64 ",\"values\":[", v->size[c]);
        for (uint32_t k = 0; k < v->K; k++) {
            uint64_t i = (uint64_t)c * v->K + k;
            if (k)
                fputc(',', out);
            if (!observed(v, c, k)) {
                fputs("null", out);
            } else if (a.metric == M_REVENUE) {
                char money[SCRM_MONEY_TEXT_MAX];
                money_text(money, sizeof money, v->revenue[i], v->digits);
                fputs(money, out);
            } else if (a.metric == M_CUSTOMERS || a.metric == M_ORDERS) {
                fprintf(out, "%" PRIu64, a.metric == M_CUSTOMERS ? v->active[i] : v->orders[i]);
            } else {
                json_number(out, cell_value(v, a.metric, i));
            }
        }
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

/* Aligned table: one width per column, from its longest cell. */
static int print_table(FILE *out, const struct cli_input *in, const struct cohort_view *v,
                       const char *obs_end, const char *mode)
{
    uint64_t n = (uint64_t)v->C * v->K;
    char (*cells)[32] = malloc((n ? n : 1) * sizeof *cells);
    int *w = malloc((v->K ? v->K : 1) * sizeof *w);
    if (!cells || !w) {
        free(cells);
        free(w);
        msg("out of memory");
        return EXIT_DATA;
    }
    int wl = 6, ws = 4;
    for (uint32_t c = 0; c < v->C; c++) {
        int l = (int)strlen(v->label[c]);
        char sz[24];
        if (l > wl)
            wl = l;
        l = snprintf(sz, sizeof sz, "%" PRIu64, v->size[c]);
        if (l > ws)
            ws = l;
    }
    for (uint32_t k = 0; k < v->K; k++) {
        char hdr[16];
        w[k] = snprintf(hdr, sizeof hdr, "%u", k);
        for (uint32_t c = 0; c < v->C; c++) {
            uint64_t i = (uint64_t)c * v->K + k;
            cells[i][0] = '\0';
            if (observed(v, c, k))
                cell_text(cells[i], sizeof cells[i], v, a.metric, i);
            if (partial_cell(v, c, k)) /* marked, explained below the table */
                strncat(cells[i], "*", sizeof cells[i] - strlen(cells[i]) - 1);
            int l = (int)strlen(cells[i]);
            if (l > w[k])
                w[k] = l;
        }
    }
    fprintf(out, "Cohorts of %s: %u %s cohorts, observed through %s; %s%s (%s)\n\n", in->file,
            v->C, period_names[a.period], obs_end, metric_names[a.metric],
            a.metric == M_REVENUE || a.metric == M_LTV ? " in major units" : "", mode);
    fprintf(out, "%-*s %*s", wl, "cohort", ws, "size");
    for (uint32_t k = 0; k < v->K; k++)
        fprintf(out, "  %*u", w[k], k);
    fputc('\n', out);
    for (uint32_t c = 0; c < v->C; c++) {
        /* Trailing unobserved cells are left out, not padded. */
        fprintf(out, "%-*s %*" PRIu64, wl, v->label[c], ws, v->size[c]);
        for (uint32_t k = 0; observed(v, c, k); k++)
            fprintf(out, "  %*s", w[k], cells[(uint64_t)c * v->K + k]);
        fputc('\n', out);
    }
    if (v->C == 0)
        fputs("(no customers)\n", out);
    if (v->partial)
        fprintf(out, "\n* %s\n", v->partial_note);
    free(cells);
    free(w);
    return 0;
}

struct csv_job {
    const scrm_cohorts *r;
    uint32_t minor_digits;
};

static int write_csv(const char *path, const void *ctx)
{
    const struct csv_job *job = ctx;
    return scrm_cohorts_write_csv(job->r, path, job->minor_digits);
}

static int run(const struct cli_input *in)
{
    struct cli_loaded L;
    scrm_cohorts *r = NULL;
    struct cohort_view v;
    int status = input_load(&L, in);
    if (status)
        return status;
    memset(&v, 0, sizeof v);
    if (!scrm_dataset_has_amounts(L.ds) && (a.metric == M_REVENUE || a.metric == M_LTV)) {
        msg("%s: the file has no amounts (--amount-col none): --metric %s is absent; use "
            "retention, customers or orders",
            in->file, metric_names[a.metric]);
        input_unload(&L);
        return EXIT_DATA;
    }

    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.unit = a.period;
    o.mode = a.mode;
    o.utc_offset = in->utc_offset;
    o.threads = in->threads;
    if (a.from.text)
        o.start = a.from.t;
    if (a.to.text)
        o.end = a.to.t;
    double t0 = now_seconds();
    int rc = scrm_cohorts_compute(&r, L.ds, &o);
    if (rc != SCRM_OK) {
        status = lib_error("cohorts", rc);
        goto done;
    }
    double t_cohorts = now_seconds() - t0;

    v.C = scrm_cohorts_count(r);
    v.K = scrm_cohorts_periods(r);
    v.digits = L.minor_digits;
    v.size = scrm_cohorts_sizes(r);
    v.active = scrm_cohorts_active(r);
    v.orders = scrm_cohorts_orders(r);
    v.revenue = scrm_cohorts_revenue(r);
    v.retention = scrm_cohorts_retention(r);
    v.ltv = scrm_cohorts_ltv(r);
    if (v.C) {
        if (!(v.label = malloc((size_t)v.C * sizeof *v.label))) {
            msg("out of memory");
            status = EXIT_DATA;
            goto done;
        }
        for (uint32_t c = 0; c < v.C; c++)
            if ((rc = scrm_cohorts_label(v.label[c], SCRM_PERIOD_LABEL_MAX, r, c)) != SCRM_OK) {
                status = lib_error("cohorts", rc);
                goto done;
            }
    }
    char obs_end[SCRM_PERIOD_LABEL_MAX] = "-";
    int64_t e = scrm_cohorts_observation_end(r);
    if (e != INT64_MIN && scrm_period_label(obs_end, sizeof obs_end, e, a.period) != SCRM_OK)
        snprintf(obs_end, sizeof obs_end, "?");
    if ((v.partial = scrm_cohorts_partial_periods(r))) {
        int64_t lo = 0, hi = 0;
        char last[SCRM_TIME_TEXT_MAX] = "?", from[SCRM_PERIOD_LABEL_MAX] = "?";
        if (scrm_dataset_time_range(&lo, &hi, L.ds) == SCRM_OK)
            date_text(last, sizeof last, hi, in->utc_offset);
        if (v.partial == 1) {
            snprintf(v.partial_note, sizeof v.partial_note, "%s is partial: %s%s", obs_end,
                     a.to.text ? "--to or the data (to " : "the data ends on ", last);
            if (a.to.text)
                strncat(v.partial_note, ") ends inside it",
                        sizeof v.partial_note - strlen(v.partial_note) - 1);
        } else {
            /* --to after the data: periods without data are not 0% months */
            scrm_period_label(from, sizeof from, e - (int64_t)v.partial + 1, a.period);
            snprintf(v.partial_note, sizeof v.partial_note,
                     "%s to %s are not observed to their end: the data ends on %s", from,
                     obs_end, last);
            msg("warning: %s (--to is after it)", v.partial_note);
        }
    }

    FILE *out = stdout;
    struct csv_job job = {r, L.minor_digits};
    if (a.out && (rc = out_write(a.out, &out, write_csv, &job)) != 0) {
        if (rc < 0)
            msg("cannot write '%s': %s", a.out, scrm_last_error());
        status = EXIT_DATA;
        goto done;
    }
    if (a.svg && (status = write_svg(a.svg, &v, in, obs_end)) != 0)
        goto done;
    timing(&L, "cohorts %.3f s", t_cohorts);

    const char *mode = a.mode == SCRM_COHORTS_ROLLING ? "rolling" : "classic";
    if (in->json)
        print_json(out, in, &L, &v, e != INT64_MIN ? obs_end : NULL, mode);
    else
        status = print_table(out, in, &v, obs_end, mode);
done:
    free(v.label);
    scrm_cohorts_free(r);
    input_unload(&L);
    return status;
}

/* Listed in cli_commands[] (shopcrm.c). */
const struct cli_command cmd_cohorts = {
    "cohorts",
    "cohort matrix (retention, customers, orders, revenue, LTV by\n"
    "acquisition period): table, JSON, long-form CSV, SVG heatmap",
    help,
    options,
    sizeof options / sizeof options[0],
    apply,
    check,
    run,
};
