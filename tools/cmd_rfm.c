/* shopcrm rfm: RFM scores of every customer and a segment summary
 * (include/shopcrm/rfm.h, docs/rfm.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: shopcrm rfm FILE.csv [OPTIONS]\n"
    "\n"
    "Score every customer by recency (days since the last order), frequency and\n"
    "monetary value on 1..N (N = most recent / most frequent / highest), assign\n"
    "segments and print a segment summary (segment, customers, share, revenue,\n"
    "mean R, F and M scores). Customers without an order (refunds only) are not\n"
    "scored and are reported apart; a dimension where one value is held by more\n"
    "than half of the customers gets a warning. With --amount-col none (no\n"
    "amounts) there is no M: segments come from R and F (default rf10).\n"
    "\n"
    "RFM options:\n"
    "  --as-of DATE          analysis date (default: the day after the last order);\n"
    "                        an earlier date scores the snapshot of the orders\n"
    "                        before it (later rows are left out and counted)\n"
    "  --bins N              number of scores, 2..10 (default 5)\n"
    "  --method M            quantile|ntile|fixed (default quantile; ties share a\n"
    "                        score; ntile = SQL NTILE, ties broken by customer key)\n"
    "  --edges-r a,b,...     fixed recency_days edges (N-1 ascending numbers)\n"
    "  --edges-f a,b,...     fixed frequency edges\n"
    "  --edges-m a,b,...     fixed monetary edges, major units (giving edges implies\n"
    "                        --method fixed; all three are then required)\n"
    "  --frequency F         orders|days: count orders or distinct days (default orders)\n"
    "  --monetary M          sum|mean: total or mean per order (default sum)\n"
    "  --segments S          rfm11|rfm11-v1|rf10|none (default rfm11 with 5 bins, rf10\n"
    "                        without amounts, else none); rfm11 = preset rfm11-v2,\n"
    "                        every score cell named\n"
    "  --out F.csv           write customer,recency_days,frequency,monetary,r,f,m,segment\n"
    "                        for every scored customer in customer key order\n"
    "                        (monetary in major units, --minor-digits decimals; no\n"
    "                        monetary and m columns without amounts); '-' =\n"
    "                        stdout, the summary then goes to stderr\n"
    "\n";

enum { O_AS_OF, O_BINS, O_METHOD, O_EDGES_R, O_EDGES_F, O_EDGES_M, O_FREQUENCY, O_MONETARY,
       O_SEGMENTS, O_OUT };

static const struct cli_option options[] = {
    {"--as-of", O_AS_OF, 1},         {"--bins", O_BINS, 1},
    {"--method", O_METHOD, 1},       {"--edges-r", O_EDGES_R, 1},
    {"--edges-f", O_EDGES_F, 1},     {"--edges-m", O_EDGES_M, 1},
    {"--frequency", O_FREQUENCY, 1}, {"--monetary", O_MONETARY, 1},
    {"--segments", O_SEGMENTS, 1},   {"--out", O_OUT, 1},
};

static struct {
    struct cli_date as_of;
    uint32_t bins;
    int method; /* -1 = not given */
    double edges[3][SCRM_RFM_MAX_BINS]; /* as given; monetary: minor units after check */
    int n_edges[3];                     /* -1 = not given */
    int frequency_mode, monetary_mode;
    const char *segments; /* NULL = default */
    const char *out;
} a = {{NULL, 0}, 5, -1, {{0}}, {-1, -1, -1}, SCRM_RFM_FREQUENCY_ORDERS, SCRM_RFM_MONETARY_SUM,
       NULL, NULL};

static int apply(const struct cli_command *c, const struct cli_option *o, const char *v)
{
    int64_t x;
    switch (o->id) {
    case O_AS_OF: return cli_date_set(c, &a.as_of, o->name, v);
    case O_BINS:
        if (parse_i64(v, 2, SCRM_RFM_MAX_BINS, &x))
            return usage_error(c, "--bins: '%s' is not a number 2..%d", v, SCRM_RFM_MAX_BINS);
        a.bins = (uint32_t)x;
        break;
    case O_METHOD: {
        static const char *const names[] = {"quantile", "ntile", "fixed"};
        static const int values[] = {SCRM_RFM_METHOD_QUANTILE, SCRM_RFM_METHOD_NTILE,
                                     SCRM_RFM_METHOD_FIXED};
        return cli_choice(c, &a.method, o->name, v, names, values, 3);
    }
    case O_EDGES_R:
    case O_EDGES_F:
    case O_EDGES_M: {
        int d = o->id - O_EDGES_R;
        switch (parse_list(v, a.edges[d], SCRM_RFM_MAX_BINS - 1, &a.n_edges[d])) {
        case 0: break;
        case LIST_NOT_FINITE:
            return usage_error(c, "%s: '%s' holds a value that is not a finite number (nan, inf "
                               "or out of range); edges are finite and strictly ascending",
                               o->name, v);
        case LIST_TOO_LONG:
            return usage_error(c, "%s: '%s' has more than %d edges (at most bins - 1)", o->name, v,
                               SCRM_RFM_MAX_BINS - 1);
        default:
            return usage_error(c, "%s: '%s' is not a comma-separated list of numbers (a,b,c)",
                               o->name, v);
        }
        break;
    }
    case O_FREQUENCY: {
        static const char *const names[] = {"orders", "days"};
        static const int values[] = {SCRM_RFM_FREQUENCY_ORDERS, SCRM_RFM_FREQUENCY_DAYS};
        return cli_choice(c, &a.frequency_mode, o->name, v, names, values, 2);
    }
    case O_MONETARY: {
        static const char *const names[] = {"sum", "mean"};
        static const int values[] = {SCRM_RFM_MONETARY_SUM, SCRM_RFM_MONETARY_MEAN};
        return cli_choice(c, &a.monetary_mode, o->name, v, names, values, 2);
    }
    case O_SEGMENTS: {
        static const char *const names[] = {"rfm11", "rfm11-v1", "rf10", "none"};
        int i;
        if (cli_choice(c, &i, o->name, v, names, NULL, 4))
            return EXIT_USAGE;
        a.segments = names[i];
        break;
    }
    case O_OUT: return cli_path_set(c, &a.out, o->name, v);
    }
    return 0;
}

static int check(const struct cli_command *c, const struct cli_input *in)
{
    int given = (a.n_edges[0] >= 0) + (a.n_edges[1] >= 0) + (a.n_edges[2] >= 0);
    if (given && a.method < 0)
        a.method = SCRM_RFM_METHOD_FIXED;
    /* a file without amounts (--amount-col none) has no M: no --edges-m to give */
    const int count_only = !in->csv.amount_column || strcmp(in->csv.amount_column, "none") == 0;
    const int need_m = !count_only || a.n_edges[2] >= 0;
    if (a.method == SCRM_RFM_METHOD_FIXED) {
        if (given != 2 + need_m)
            return usage_error(c, count_only ? "--method fixed needs --edges-r and --edges-f"
                                             : "--method fixed needs --edges-r, --edges-f and "
                                               "--edges-m");
        for (int d = 0; d < 2 + need_m; d++) {
            if (a.n_edges[d] != (int)a.bins - 1)
                return usage_error(c, "--edges-%c: %d edges given, %u bins need %u", "rfm"[d],
                                   a.n_edges[d], a.bins, a.bins - 1);
            for (int k = 0; d == 2 && k < a.n_edges[d]; k++) {
                /* major -> minor units of the file's currency, rounded to the unit */
                int64_t minor;
                if (scrm_money_from_major(&minor, a.edges[d][k], in->minor_digits) != SCRM_OK)
                    return usage_error(c, "--edges-m: %g is not an amount", a.edges[d][k]);
                a.edges[d][k] = (double)minor;
            }
            for (int k = 1; k < a.n_edges[d]; k++)
                if (!(a.edges[d][k] > a.edges[d][k - 1]))
                    return usage_error(c, "--edges-%c: edges must be strictly ascending",
                                       "rfm"[d]);
        }
    } else if (given) {
        return usage_error(c, "--edges-r/f/m need --method fixed");
    }
    if (a.method < 0)
        a.method = SCRM_RFM_METHOD_QUANTILE;
    if (a.segments && strcmp(a.segments, "none") != 0 && a.bins != 5)
        return usage_error(c, "--segments %s is defined for 5 bins, not %u", a.segments, a.bins);
    return cli_date_resolve(c, &a.as_of, "--as-of", in->utc_offset);
}

static const char *method_name(int m)
{
    return m == SCRM_RFM_METHOD_NTILE ? "ntile" : m == SCRM_RFM_METHOD_FIXED ? "fixed" : "quantile";
}

/* The segment summary of a result, as both writers read it. Segment n_seg
 * is the unassigned customers (shown only when there are some). */
struct summary {
    const scrm_segment_map *sm;
    uint32_t n_seg, n, bins, scored;
    int has_m;
    const uint64_t *cust;
    const int64_t *rev;
    const double *share, *mean[3];
    const char *seg_name, *as_of, *total; /* total NULL: the sum overflows */
};

static void summary_of(struct summary *S, const scrm_rfm *r)
{
    S->sm = scrm_rfm_segment_map(r);
    S->n_seg = scrm_segment_map_count(S->sm);
    S->n = scrm_rfm_customer_count(r);
    S->scored = scrm_rfm_scored_count(r);
    S->has_m = scrm_rfm_has_monetary(r);
    S->bins = scrm_rfm_bins(r);
    S->cust = scrm_rfm_segment_customers(r);
    S->rev = scrm_rfm_segment_revenue(r);
    S->share = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_SHARE);
    for (int d = 0; d < 3; d++)
        S->mean[d] = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_R + d);
}

static const char dim_names[3] = {'R', 'F', 'M'};

/* What to use instead when a dimension is degenerate (docs/rfm.md). */
static const char *const degenerate_hint[3] = {
    "fixed edges (--method fixed with --edges-r 30,90,180,365, --edges-f and --edges-m)",
    "--frequency days (same-day orders counted once), fixed edges (--method fixed with "
    "--edges-r, --edges-f 2,3,5,10 and --edges-m: one-time buyers all get F 1), or read R "
    "and M alone",
    "fixed edges (--method fixed with --edges-r, --edges-f and --edges-m), or --segments "
    "rf10 (the R x F map, M ignored)",
};

/* A warning on stderr for each degenerate dimension (scrm_rfm_degenerate()). */
static void warn_degenerate(const scrm_rfm *r, const struct summary *S, uint32_t digits)
{
    for (int d = 0; d < 3; d++) {
        int flags = scrm_rfm_degenerate(r, d);
        if (!flags)
            continue;
        char why[160] = "", edges[200] = "";
        if (flags & SCRM_RFM_DEGENERATE_MAJORITY)
            snprintf(why, sizeof why, "%.1f%% of the %u scored customers share one value",
                     100.0 * scrm_rfm_majority_share(r, d), S->scored);
        if (flags & SCRM_RFM_DEGENERATE_EDGES) {
            const double *e = scrm_rfm_edges(r, d);
            size_t at = 0;
            for (uint32_t k = 0; k + 1 < S->bins && at < sizeof edges; k++) {
                double x = d == 2 ? scrm_money_to_major(e[k], digits) : e[k];
                at += (size_t)snprintf(edges + at, sizeof edges - at, "%s%g", k ? ", " : "", x);
            }
        }
        msg("warning: %c is degenerate: %s%s%s%s%s; its scores say little about the customers; "
            "try %s (docs/rfm.md, \"Degenerate dimensions\")",
            dim_names[d], why, *why && *edges ? ", and " : "", *edges ? "its edges [" : "",
            edges, *edges ? "] collapse" : "", degenerate_hint[d]);
    }
}

static void print_json(FILE *out, const struct cli_input *in, const struct cli_loaded *L,
                       const scrm_rfm *r, const struct summary *S)
{
    char money[SCRM_MONEY_TEXT_MAX];
    const int dims = S->has_m ? 3 : 2;
    fputc('{', out);
    fputs("\"command\":\"rfm\",", out);
    input_json_report(out, in, L);
    fprintf(out, ",\"customers\":%u,\"scored\":%u,\"as_of\":\"%s\",\"bins\":%u,\"method\":\"%s\"",
            S->n, S->scored, S->as_of, S->bins, method_name(a.method));
    fprintf(out, ",\"frequency\":\"%s\",\"monetary\":\"%s\",\"segment_map\":",
            a.frequency_mode == SCRM_RFM_FREQUENCY_DAYS ? "days" : "orders",
            !S->has_m ? "absent" : a.monetary_mode == SCRM_RFM_MONETARY_MEAN ? "mean" : "sum");
    json_string(out, S->seg_name);
    money_text(money, sizeof money, scrm_rfm_refund_only_revenue(r), L->minor_digits);
    fprintf(out,
            ",\"refund_only\":{\"customers\":%" PRIu64 ",\"refunds\":%s},"
            "\"rows_after_as_of\":%" PRIu64 ",\"edges\":{",
            scrm_rfm_refund_only_count(r), S->has_m ? money : "null",
            scrm_rfm_rows_after_as_of(r));
    for (int d = 0; d < dims; d++) {
        const double *e = scrm_rfm_edges(r, d);
        fprintf(out, "%s\"%c\":[", d ? "," : "", "rfm"[d]);
        for (uint32_t k = 0; k + 1 < S->bins; k++) {
            if (k)
                fputc(',', out);
            json_number(out, d == 2 ? scrm_money_to_major(e[k], L->minor_digits) : e[k]);
        }
        fputc(']', out);
    }
    fputs("},\"degenerate\":{", out);
    for (int d = 0; d < dims; d++) {
        int flags = scrm_rfm_degenerate(r, d);
        fprintf(out, "%s\"%c\":{\"majority\":%s,\"edges_collapse\":%s,\"majority_share\":",
                d ? "," : "", "rfm"[d], flags & SCRM_RFM_DEGENERATE_MAJORITY ? "true" : "false",
                flags & SCRM_RFM_DEGENERATE_EDGES ? "true" : "false");
        json_number(out, scrm_rfm_majority_share(r, d));
        fputc('}', out);
    }
    fputc('}', out);
    if (S->has_m)
        fprintf(out, ",\"revenue\":%s", S->total ? S->total : "null");
    fputs(",\"segments\":[", out);
    for (uint32_t s = 0; s <= S->n_seg; s++) {
        if (s == S->n_seg && S->cust[s] == 0)
            break;
        if (s)
            fputc(',', out);
        fputs("{\"segment\":", out);
        if (s < S->n_seg)
            json_string(out, scrm_segment_map_name(S->sm, s));
        else
            fputs("null", out);
        fprintf(out, ",\"customers\":%" PRIu64 ",\"share\":", S->cust[s]);
        json_number(out, S->share[s]);
        if (S->has_m) {
            money_text(money, sizeof money, S->rev[s], L->minor_digits);
            fprintf(out, ",\"revenue\":%s", money);
        }
        for (int d = 0; d < dims; d++) {
            fprintf(out, ",\"mean_%c\":", "rfm"[d]);
            json_number(out, S->mean[d][s]);
        }
        fputc('}', out);
    }
    fprintf(out, "],\"unassigned\":%" PRIu64 "}\n", scrm_rfm_unassigned_count(r));
}

/* The customers left out of the scores, one line each (after the table). */
static void print_unscored(FILE *out, const scrm_rfm *r, const struct summary *S,
                           uint32_t digits)
{
    char money[SCRM_MONEY_TEXT_MAX];
    uint64_t ronly = scrm_rfm_refund_only_count(r), after = scrm_rfm_rows_after_as_of(r);
    uint64_t absent = (uint64_t)S->n - S->scored - ronly;
    if (after)
        fprintf(out, "as of %s: %" PRIu64 " rows at or after it left out (the snapshot before it)\n",
                S->as_of, after);
    if (absent)
        fprintf(out, "not scored: %" PRIu64 " customers without an order before %s\n", absent,
                S->as_of);
    if (ronly) {
        money_text(money, sizeof money, scrm_rfm_refund_only_revenue(r), digits);
        fprintf(out, "not scored: %" PRIu64 " refund-only customers (refunds, no order), "
                     "refunds %s (in no segment)\n",
                ronly, money);
    }
}

static void print_table(FILE *out, const struct cli_input *in, const struct cli_loaded *L,
                        const scrm_rfm *r, const struct summary *S)
{
    char money[SCRM_MONEY_TEXT_MAX];
    fprintf(out, "RFM of %s: %u customers, as of %s, %u bins (%s), segments %s%s\n\n", in->file,
            S->scored, S->as_of, S->bins, method_name(a.method), S->seg_name,
            S->has_m ? "" : ", no amounts (R and F only)");
    if (S->has_m)
        fprintf(out, "%-22s %10s %7s %16s %6s %6s %6s\n", "segment", "customers", "share",
                "revenue", "R", "F", "M");
    else
        fprintf(out, "%-22s %10s %7s %6s %6s\n", "segment", "customers", "share", "R", "F");
    for (uint32_t s = 0; s <= S->n_seg; s++) {
        if (s == S->n_seg && S->cust[s] == 0)
            break;
        char cells[3][16];
        for (int d = 0; d < 3; d++) {
            if (isfinite(S->mean[d][s]))
                snprintf(cells[d], sizeof cells[d], "%.2f", S->mean[d][s]);
            else
                snprintf(cells[d], sizeof cells[d], "-");
        }
        const char *name = s < S->n_seg ? scrm_segment_map_name(S->sm, s) : "(unassigned)";
        if (S->has_m) {
            money_text(money, sizeof money, S->rev[s], L->minor_digits);
            fprintf(out, "%-22s %10" PRIu64 " %6.1f%% %16s %6s %6s %6s\n", name, S->cust[s],
                    100.0 * S->share[s], money, cells[0], cells[1], cells[2]);
        } else {
            fprintf(out, "%-22s %10" PRIu64 " %6.1f%% %6s %6s\n", name, S->cust[s],
                    100.0 * S->share[s], cells[0], cells[1]);
        }
    }
    if (S->has_m)
        fprintf(out, "%-22s %10u %6.1f%% %16s\n", "total", S->scored, S->scored ? 100.0 : 0.0,
                S->total ? S->total : "overflow");
    else
        fprintf(out, "%-22s %10u %6.1f%%\n", "total", S->scored, S->scored ? 100.0 : 0.0);
    print_unscored(out, r, S, L->minor_digits);
}

struct csv_job {
    const scrm_rfm *r;
    const scrm_dataset *ds;
};

static int write_csv(const char *path, const void *ctx)
{
    const struct csv_job *job = ctx;
    return scrm_rfm_write_csv(job->r, job->ds, path);
}

static int run(const struct cli_input *in)
{
    struct cli_loaded L;
    scrm_segment_map *map = NULL;
    scrm_rfm *r = NULL;
    int status = input_load(&L, in);
    if (status)
        return status;

    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.utc_offset = in->utc_offset;
    o.bins = a.bins;
    o.method = a.method;
    o.frequency_mode = a.frequency_mode;
    o.monetary_mode = a.monetary_mode;
    o.threads = in->threads;
    if (a.as_of.text)
        o.as_of = a.as_of.t;
    if (a.method == SCRM_RFM_METHOD_FIXED) {
        o.r_edges = a.edges[0];
        o.f_edges = a.edges[1];
        o.m_edges = a.n_edges[2] >= 0 ? a.edges[2] : NULL; /* none for a count-only file */
    }
    const char *preset = NULL;
    if (a.segments && strcmp(a.segments, "rfm11") == 0)
        preset = "rfm11-v2";
    else if (a.segments && strcmp(a.segments, "rfm11-v1") == 0)
        preset = "rfm11-v1";
    else if (a.segments && strcmp(a.segments, "rf10") == 0)
        preset = "rf10-v1";
    int rc;
    if (preset) {
        if ((rc = scrm_segment_map_preset(&map, preset)) != SCRM_OK) {
            status = lib_error("segments", rc);
            goto done;
        }
    } else if (a.segments) { /* "none" */
        if ((rc = scrm_segment_map_new(&map)) != SCRM_OK) {
            status = lib_error("segments", rc);
            goto done;
        }
    }
    o.segments = map;

    double t0 = now_seconds();
    if ((rc = scrm_rfm_compute(&r, L.ds, &o)) != SCRM_OK) {
        status = lib_error("rfm", rc);
        goto done;
    }
    double t_rfm = now_seconds() - t0;

    FILE *out = stdout;
    double t_write = 0;
    if (a.out) {
        t0 = now_seconds();
        struct csv_job job = {r, L.ds};
        if ((rc = out_write(a.out, &out, write_csv, &job)) != 0) {
            status = rc < 0 ? lib_error(a.out, rc) : rc;
            goto done;
        }
        t_write = now_seconds() - t0;
    }
    timing(&L, "rfm %.3f s, write %.3f s", t_rfm, t_write);

    struct summary S;
    summary_of(&S, r);
    int64_t total_rev = 0;
    int total_overflow = 0;
    for (uint32_t s = 0; s <= S.n_seg; s++)
        total_overflow |= __builtin_add_overflow(total_rev, S.rev[s], &total_rev);
    char as_of[SCRM_TIME_TEXT_MAX], total[SCRM_MONEY_TEXT_MAX];
    /* a date when as_of is a local midnight (the default), else the full time */
    const int64_t t_as_of = scrm_rfm_as_of(r);
    if ((((t_as_of + in->utc_offset) % 86400) + 86400) % 86400 == 0)
        date_text(as_of, sizeof as_of, t_as_of, in->utc_offset);
    else
        time_text(as_of, sizeof as_of, t_as_of, in->utc_offset);
    money_text(total, sizeof total, total_rev, L.minor_digits);
    S.as_of = as_of;
    S.total = total_overflow ? NULL : total;
    S.seg_name = preset      ? preset
                 : a.segments ? "none"
                 : S.n_seg    ? (S.has_m ? "rfm11-v2" : "rf10-v1")
                              : "none";
    warn_degenerate(r, &S, L.minor_digits);
    if (in->json)
        print_json(out, in, &L, r, &S);
    else
        print_table(out, in, &L, r, &S);
    status = 0;
done:
    scrm_rfm_free(r);
    scrm_segment_map_free(map);
    input_unload(&L);
    return status;
}

/* Listed in cli_commands[] (shopcrm.c). */
const struct cli_command cmd_rfm = {
    "rfm",
    "score customers by recency, frequency, monetary value; segment summary",
    help,
    options,
    sizeof options / sizeof options[0],
    apply,
    check,
    run,
};
