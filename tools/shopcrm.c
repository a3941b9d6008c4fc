/* shopcrm: command-line reports over an orders CSV file (RFM segments, KPIs,
 * cohorts).
 *
 *   shopcrm rfm FILE.csv [options]      per-customer RFM scores + segment summary
 *   shopcrm kpi FILE.csv [options]      shop KPIs of a time window (retention too)
 *   shopcrm cohorts FILE.csv [options]  cohort matrix: table, JSON, long CSV, SVG heatmap
 *
 * Exit status: 0 success, 1 data error (file, parse, analysis), 2 usage error.
 * Diagnostics go to stderr as "shopcrm: <message>"; results to stdout.
 * With SHOPCRM_TIMING set in the environment, phase timings go to stderr. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <shopcrm.h>

#include "svg.h"

#define EXIT_DATA 1
#define EXIT_USAGE 2

/* Files at least this large get a progress line (when stderr is a terminal). */
#define PROGRESS_MIN_BYTES (32u << 20)

enum cmd { CMD_NONE, CMD_RFM, CMD_KPI, CMD_COHORTS };

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

static void msg(const char *fmt, ...)
{
    va_list ap;
    fputs("shopcrm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *cmd_name(enum cmd c)
{
    return c == CMD_RFM ? "rfm" : c == CMD_KPI ? "kpi" : c == CMD_COHORTS ? "cohorts" : NULL;
}

/* A usage error: message, hint, exit status 2. */
static int usage_error(enum cmd c, const char *fmt, ...)
{
    va_list ap;
    fputs("shopcrm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (c != CMD_NONE)
        fprintf(stderr, "\nTry 'shopcrm %s --help'.\n", cmd_name(c));
    else
        fputs("\nTry 'shopcrm --help'.\n", stderr);
    return EXIT_USAGE;
}

/* A library failure: its detailed message, exit status 1. */
static int lib_error(const char *what, int rc)
{
    const char *detail = scrm_last_error();
    if (detail && *detail)
        msg("%s: %s", what, detail);
    else
        msg("%s: %s", what, scrm_strerror(rc));
    return EXIT_DATA;
}

/* ------------------------------------------------------------------------ */
/* Help                                                                      */
/* ------------------------------------------------------------------------ */

static const char help_main[] =
    "Usage: shopcrm COMMAND FILE.csv [OPTIONS]\n"
    "\n"
    "Customer analytics reports over an orders CSV file (one row per order:\n"
    "customer, time, amount; negative amounts are refunds).\n"
    "\n"
    "Commands:\n"
    "  rfm      score customers by recency, frequency, monetary value; segment summary\n"
    "  kpi      shop KPIs (orders, revenue, AOV, repeat rate, new vs returning,\n"
    "           retention and churn, time between purchases) of a window\n"
    "  cohorts  cohort matrix (retention, customers, orders, revenue, LTV by\n"
    "           acquisition period): table, JSON, long-form CSV, SVG heatmap\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (or 'shopcrm COMMAND --help' for a command's)\n"
    "  -V, --version  show the version of shopcrm and of libshopcrm\n"
    "\n"
    "Example:\n"
    "  shopcrm rfm examples/data/cdnow_orders.csv --out rfm.csv\n"
    "  shopcrm cohorts examples/data/cdnow_orders.csv --svg cohorts.svg\n"
    "\n"
    "Exit status: 0 success, 1 data error, 2 usage error.\n";

static const char help_input[] =
    "Input options (defaults fit examples/data/cdnow_orders.csv):\n"
    "  --customer-col NAME   customer key column (default customer_id)\n"
    "  --time-col NAME       order time column (default date)\n"
    "  --amount-col NAME     order amount column, major units (default amount)\n"
    "  --order-col NAME      order id column: repeated ids are skipped as duplicates\n"
    "  --quantity-col NAME   with --price-col: amount = quantity x unit price\n"
    "  --price-col NAME      unit price column (with --quantity-col)\n"
    "  --time-format F       auto|iso|yyyymmdd|dmy|epoch (default auto)\n"
    "  --decimal-comma       amounts use ',' as decimal separator (1.234,56)\n"
    "  --delimiter D         field delimiter: ',' ';' 'tab' (default: detected)\n"
    "  --utc-offset OFF      offset of local times from UTC: seconds or +HH:MM\n"
    "                        (e.g. -03:00); applies to the file's local times and\n"
    "                        to the DATE options (default 0)\n"
    "  --skip-bad-rows       reject bad rows (listed on stderr) instead of failing\n"
    "  --threads N           worker threads (default: one per core)\n"
    "\n"
    "Output options:\n"
    "  --json                print the summary as one JSON object instead of a table\n"
    "  -h, --help            show this help\n"
    "\n"
    "DATE is YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDTHH:MM[:SS], in local time (see\n"
    "--utc-offset). A load report (rows, customers, skipped, rejected, time format)\n"
    "goes to stderr.\n";

static const char help_rfm[] =
    "Usage: shopcrm rfm FILE.csv [OPTIONS]\n"
    "\n"
    "Score every customer by recency (days since the last order), frequency and\n"
    "monetary value on 1..N (N = most recent / most frequent / highest), assign\n"
    "segments and print a segment summary (segment, customers, share, revenue,\n"
    "mean R, F and M scores).\n"
    "\n"
    "RFM options:\n"
    "  --as-of DATE          analysis date (default: the day after the last order)\n"
    "  --bins N              number of scores, 2..10 (default 5)\n"
    "  --method M            quantile|ntile|fixed (default quantile; ties share a\n"
    "                        score; ntile = SQL NTILE, ties broken by customer key)\n"
    "  --edges-r a,b,...     fixed recency_days edges (N-1 ascending numbers)\n"
    "  --edges-f a,b,...     fixed frequency edges\n"
    "  --edges-m a,b,...     fixed monetary edges, major units (giving edges implies\n"
    "                        --method fixed; all three are then required)\n"
    "  --frequency F         orders|days: count orders or distinct days (default orders)\n"
    "  --monetary M          sum|mean: total or mean per order (default sum)\n"
    "  --segments S          rfm11|rf10|none (default rfm11 with 5 bins, else none)\n"
    "  --out F.csv           write customer,recency_days,frequency,monetary,r,f,m,segment\n"
    "                        (monetary in major units, 2 decimals); '-' = stdout, the\n"
    "                        summary then goes to stderr\n"
    "\n";

static const char help_kpi[] =
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

static const char help_cohorts[] =
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

/* ------------------------------------------------------------------------ */
/* Parsing of option values                                                  */
/* ------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse (same source, civil_from_days). */
static void civil_from_days(int64_t z, int *y_out, int *m_out, int *d_out)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *y_out = (int)(yoe + era * 400 + (m <= 2));
    *m_out = (int)m;
    *d_out = (int)d;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static void format_date(char *buf, size_t size, int64_t local_seconds)
{
    int y, m, d;
    civil_from_days(floor_div(local_seconds, 86400), &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Parse DATE (YYYY-MM-DD, YYYYMMDD, YYYY-MM-DD[T ]HH:MM[:SS]) into seconds
 * of local wall-clock time counted as if it were UTC. */
static int parse_date(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    size_t n = strlen(s);
    const char *rest;
    if (n >= 10 && s[4] == '-' && s[7] == '-') {
        if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d))
            return -1;
        rest = s + 10;
    } else if (n == 8) {
        if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d))
            return -1;
        rest = s + 8;
    } else {
        return -1;
    }
    if (*rest == 'T' || *rest == ' ') {
        rest++;
        if (strlen(rest) < 5 || rest[2] != ':' || digits(rest, 2, &h) || digits(rest + 3, 2, &mi))
            return -1;
        rest += 5;
        if (*rest == ':') {
            if (strlen(rest) < 3 || digits(rest + 1, 2, &se))
                return -1;
            rest += 3;
        }
        if (h > 23 || mi > 59 || se > 59)
            return -1;
    }
    if (*rest)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap))
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Seconds ("-10800") or [+-]HH:MM ("-03:00"). */
static int parse_offset(const char *s, int64_t *out)
{
    int h, m;
    if ((s[0] == '+' || s[0] == '-') && strlen(s) == 6 && s[3] == ':' && !digits(s + 1, 2, &h) &&
        !digits(s + 4, 2, &m) && m < 60) {
        int64_t v = (int64_t)h * 3600 + m * 60;
        *out = s[0] == '-' ? -v : v;
        return *out >= -SCRM_MAX_UTC_OFFSET && *out <= SCRM_MAX_UTC_OFFSET ? 0 : -1;
    }
    return parse_i64(s, -SCRM_MAX_UTC_OFFSET, SCRM_MAX_UTC_OFFSET, out);
}

/* A comma-separated list of finite numbers. */
static int parse_list(const char *s, double *out, int max, int *n_out)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || n == max)
            return -1;
        out[n++] = v;
        if (*end == '\0')
            break;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
    *n_out = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

struct args {
    enum cmd cmd;
    const char *file;
    /* input */
    scrm_csv_options csv;
    int64_t utc_offset;
    uint32_t threads;
    int json;
    /* rfm */
    int have_as_of;
    int64_t as_of_local;
    uint32_t bins;
    int method; /* -1 = not given */
    double edges[3][SCRM_RFM_MAX_BINS];
    int n_edges[3]; /* -1 = not given */
    int frequency_mode, monetary_mode;
    const char *segments; /* NULL = default */
    const char *out;
    /* kpi */
    int have_from, have_to;
    int64_t from_local, to_local;
    int64_t lookback_days; /* 0 = the library's default */
    /* cohorts */
    int period, metric, mode;
    const char *svg;
};

enum metric { M_RETENTION, M_CUSTOMERS, M_ORDERS, M_REVENUE, M_LTV };
static const char *const metric_names[] = {"retention", "customers", "orders", "revenue", "ltv"};
static const char *const period_names[] = {"day", "week", "month", "quarter", "year"};

enum opt_id {
    O_CUSTOMER, O_TIME, O_AMOUNT, O_ORDER, O_QUANTITY, O_PRICE, O_TIME_FORMAT, O_DECIMAL_COMMA,
    O_DELIMITER, O_UTC_OFFSET, O_SKIP_BAD, O_THREADS, O_JSON, O_HELP,
    O_AS_OF, O_BINS, O_METHOD, O_EDGES_R, O_EDGES_F, O_EDGES_M, O_FREQUENCY, O_MONETARY,
    O_SEGMENTS, O_OUT, O_FROM, O_TO, O_LOOKBACK, O_PERIOD, O_METRIC, O_MODE, O_SVG
};

/* Commands an option is for: a bit mask, 0 = every command. */
#define FOR(c) (1u << (c))

static const struct option_def {
    const char *name;
    enum opt_id id;
    int takes_value;
    unsigned only; /* FOR(cmd) | ...; 0: every command */
} options[] = {
    {"--customer-col", O_CUSTOMER, 1, 0},
    {"--time-col", O_TIME, 1, 0},
    {"--amount-col", O_AMOUNT, 1, 0},
    {"--order-col", O_ORDER, 1, 0},
    {"--quantity-col", O_QUANTITY, 1, 0},
    {"--price-col", O_PRICE, 1, 0},
    {"--time-format", O_TIME_FORMAT, 1, 0},
    {"--decimal-comma", O_DECIMAL_COMMA, 0, 0},
    {"--delimiter", O_DELIMITER, 1, 0},
    {"--utc-offset", O_UTC_OFFSET, 1, 0},
    {"--skip-bad-rows", O_SKIP_BAD, 0, 0},
    {"--threads", O_THREADS, 1, 0},
    {"--json", O_JSON, 0, 0},
    {"--help", O_HELP, 0, 0},
    {"-h", O_HELP, 0, 0},
    {"--as-of", O_AS_OF, 1, FOR(CMD_RFM)},
    {"--bins", O_BINS, 1, FOR(CMD_RFM)},
    {"--method", O_METHOD, 1, FOR(CMD_RFM)},
    {"--edges-r", O_EDGES_R, 1, FOR(CMD_RFM)},
    {"--edges-f", O_EDGES_F, 1, FOR(CMD_RFM)},
    {"--edges-m", O_EDGES_M, 1, FOR(CMD_RFM)},
    {"--frequency", O_FREQUENCY, 1, FOR(CMD_RFM)},
    {"--monetary", O_MONETARY, 1, FOR(CMD_RFM)},
    {"--segments", O_SEGMENTS, 1, FOR(CMD_RFM)},
    {"--out", O_OUT, 1, FOR(CMD_RFM) | FOR(CMD_COHORTS)},
    {"--from", O_FROM, 1, FOR(CMD_KPI) | FOR(CMD_COHORTS)},
    {"--to", O_TO, 1, FOR(CMD_KPI) | FOR(CMD_COHORTS)},
    {"--lookback", O_LOOKBACK, 1, FOR(CMD_KPI)},
    {"--period", O_PERIOD, 1, FOR(CMD_COHORTS)},
    {"--metric", O_METRIC, 1, FOR(CMD_COHORTS)},
    {"--mode", O_MODE, 1, FOR(CMD_COHORTS)},
    {"--svg", O_SVG, 1, FOR(CMD_COHORTS)},
};

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static void print_help(enum cmd c)
{
    if (c == CMD_RFM)
        fputs(help_rfm, stdout);
    else if (c == CMD_KPI)
        fputs(help_kpi, stdout);
    else if (c == CMD_COHORTS)
        fputs(help_cohorts, stdout);
    else {
        fputs(help_main, stdout);
        return;
    }
    fputs(help_input, stdout);
}

/* Apply one option. Returns 0 or an exit status. */
static int apply(struct args *a, const struct option_def *o, const char *v)
{
    enum cmd c = a->cmd;
    int64_t x;
    switch (o->id) {
    case O_CUSTOMER: a->csv.customer_column = v; break;
    case O_TIME: a->csv.time_column = v; break;
    case O_AMOUNT: a->csv.amount_column = v; break;
    case O_ORDER: a->csv.order_id_column = v; break;
    case O_QUANTITY: a->csv.quantity_column = v; break;
    case O_PRICE: a->csv.unit_price_column = v; break;
    case O_TIME_FORMAT: {
        static const char *const names[] = {"auto", "iso", "yyyymmdd", "dmy", "epoch"};
        static const int values[] = {SCRM_TIME_AUTO, SCRM_TIME_ISO8601, SCRM_TIME_YYYYMMDD,
                                     SCRM_TIME_DMY, SCRM_TIME_EPOCH};
        int i = pick(v, names, 5);
        if (i < 0)
            return usage_error(c, "--time-format: '%s' is not one of auto, iso, yyyymmdd, dmy, epoch", v);
        a->csv.time_format = values[i];
        break;
    }
    case O_DECIMAL_COMMA: a->csv.decimal_separator = ','; break;
    case O_DELIMITER:
        if (strcmp(v, ",") == 0 || strcmp(v, "comma") == 0)
            a->csv.delimiter = ',';
        else if (strcmp(v, ";") == 0 || strcmp(v, "semicolon") == 0)
            a->csv.delimiter = ';';
        else if (strcmp(v, "\t") == 0 || strcmp(v, "\\t") == 0 || strcmp(v, "tab") == 0)
            a->csv.delimiter = '\t';
        else
            return usage_error(c, "--delimiter: '%s' is not one of ',', ';', 'tab'", v);
        break;
    case O_UTC_OFFSET:
        if (parse_offset(v, &a->utc_offset))
            return usage_error(c, "--utc-offset: '%s' is not an offset within +-18:00 "
                                  "(seconds or +HH:MM)", v);
        break;
    case O_SKIP_BAD: a->csv.on_error = SCRM_CSV_SKIP; break;
    case O_THREADS:
        if (parse_i64(v, 0, 64, &x))
            return usage_error(c, "--threads: '%s' is not a number 0..64", v);
        a->threads = (uint32_t)x;
        break;
    case O_JSON: a->json = 1; break;
    case O_HELP: break; /* handled by the caller */
    case O_AS_OF:
        if (parse_date(v, &a->as_of_local))
            return usage_error(c, "--as-of: '%s' is not a date (YYYY-MM-DD)", v);
        a->have_as_of = 1;
        break;
    case O_BINS:
        if (parse_i64(v, 2, SCRM_RFM_MAX_BINS, &x))
            return usage_error(c, "--bins: '%s' is not a number 2..%d", v, SCRM_RFM_MAX_BINS);
        a->bins = (uint32_t)x;
        break;
    case O_METHOD: {
        static const char *const names[] = {"quantile", "ntile", "fixed"};
        static const int values[] = {SCRM_RFM_METHOD_QUANTILE, SCRM_RFM_METHOD_NTILE,
                                     SCRM_RFM_METHOD_FIXED};
        int i = pick(v, names, 3);
        if (i < 0)
            return usage_error(c, "--method: '%s' is not one of quantile, ntile, fixed", v);
        a->method = values[i];
        break;
    }
    case O_EDGES_R:
    case O_EDGES_F:
    case O_EDGES_M: {
        int d = o->id - O_EDGES_R;
        if (parse_list(v, a->edges[d], SCRM_RFM_MAX_BINS - 1, &a->n_edges[d]))
            return usage_error(c, "%s: '%s' is not a list of at most %d numbers (a,b,c)", o->name,
                               v, SCRM_RFM_MAX_BINS - 1);
        break;
    }
    case O_FREQUENCY: {
        static const char *const names[] = {"orders", "days"};
        int i = pick(v, names, 2);
        if (i < 0)
            return usage_error(c, "--frequency: '%s' is not one of orders, days", v);
        a->frequency_mode = i == 0 ? SCRM_RFM_FREQUENCY_ORDERS : SCRM_RFM_FREQUENCY_DAYS;
        break;
    }
    case O_MONETARY: {
        static const char *const names[] = {"sum", "mean"};
        int i = pick(v, names, 2);
        if (i < 0)
            return usage_error(c, "--monetary: '%s' is not one of sum, mean", v);
        a->monetary_mode = i == 0 ? SCRM_RFM_MONETARY_SUM : SCRM_RFM_MONETARY_MEAN;
        break;
    }
    case O_SEGMENTS: {
        static const char *const names[] = {"rfm11", "rf10", "none"};
        if (pick(v, names, 3) < 0)
            return usage_error(c, "--segments: '%s' is not one of rfm11, rf10, none", v);
        a->segments = v;
        break;
    }
    case O_OUT:
        if (!*v)
            return usage_error(c, "--out: empty file name");
        a->out = v;
        break;
    case O_FROM:
    case O_TO: {
        int64_t t;
        if (parse_date(v, &t))
            return usage_error(c, "%s: '%s' is not a date (YYYY-MM-DD)", o->name, v);
        if (o->id == O_FROM) {
            a->from_local = t;
            a->have_from = 1;
        } else {
            a->to_local = t;
            a->have_to = 1;
        }
        break;
    }
    case O_LOOKBACK:
        if (parse_i64(v, 1, SCRM_KPI_MAX_LOOKBACK / 86400, &x))
            return usage_error(c, "--lookback: '%s' is not a number of days 1..%lld", v,
                               (long long)(SCRM_KPI_MAX_LOOKBACK / 86400));
        a->lookback_days = x;
        break;
    case O_PERIOD: {
        int i = pick(v, period_names, 5);
        if (i < 0)
            return usage_error(c, "--period: '%s' is not one of day, week, month, quarter, year",
                               v);
        static const int units[] = {SCRM_PERIOD_DAY, SCRM_PERIOD_WEEK, SCRM_PERIOD_MONTH,
                                    SCRM_PERIOD_QUARTER, SCRM_PERIOD_YEAR};
        a->period = units[i];
        break;
    }
    case O_METRIC: {
        int i = pick(v, metric_names, 5);
        if (i < 0)
            return usage_error(c, "--metric: '%s' is not one of retention, customers, orders, "
                                  "revenue, ltv", v);
        a->metric = i;
        break;
    }
    case O_MODE: {
        static const char *const names[] = {"classic", "rolling"};
        int i = pick(v, names, 2);
        if (i < 0)
            return usage_error(c, "--mode: '%s' is not one of classic, rolling", v);
        a->mode = i == 0 ? SCRM_COHORTS_CLASSIC : SCRM_COHORTS_ROLLING;
        break;
    }
    case O_SVG:
        if (!*v)
            return usage_error(c, "--svg: empty file name");
        a->svg = v;
        break;
    }
    return 0;
}

/* Parse argv. Returns -1 to go on, or an exit status (help, version, usage error). */
static int parse_args(struct args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    scrm_csv_options_init(&a->csv, SCRM_CSV_OPTIONS_VERSION);
    a->bins = 5;
    a->method = -1;
    a->n_edges[0] = a->n_edges[1] = a->n_edges[2] = -1;
    a->period = SCRM_PERIOD_MONTH;
    a->metric = M_RETENTION;
    a->mode = SCRM_COHORTS_CLASSIC;

    if (argc < 2) {
        fputs(help_main, stderr);
        return EXIT_USAGE;
    }
    const char *c0 = argv[1];
    if (strcmp(c0, "--help") == 0 || strcmp(c0, "-h") == 0 || strcmp(c0, "help") == 0) {
        if (argc > 2 && strcmp(c0, "help") == 0) {
            if (strcmp(argv[2], "rfm") == 0)
                print_help(CMD_RFM);
            else if (strcmp(argv[2], "kpi") == 0)
                print_help(CMD_KPI);
            else if (strcmp(argv[2], "cohorts") == 0)
                print_help(CMD_COHORTS);
            else
                return usage_error(CMD_NONE, "unknown command '%s'", argv[2]);
            return 0;
        }
        print_help(CMD_NONE);
        return 0;
    }
    if (strcmp(c0, "--version") == 0 || strcmp(c0, "-V") == 0) {
        printf("shopcrm %s (libshopcrm %s)\n", SCRM_VERSION_STRING, scrm_version());
        return 0;
    }
    if (strcmp(c0, "rfm") == 0)
        a->cmd = CMD_RFM;
    else if (strcmp(c0, "kpi") == 0)
        a->cmd = CMD_KPI;
    else if (strcmp(c0, "cohorts") == 0)
        a->cmd = CMD_COHORTS;
    else if (c0[0] == '-')
        return usage_error(CMD_NONE,
                           "unknown option '%s' (a command comes first: rfm, kpi or cohorts)", c0);
    else
        return usage_error(CMD_NONE, "unknown command '%s' (rfm, kpi or cohorts)", c0);

    /* --help anywhere wins over every other error. */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(a->cmd);
            return 0;
        }
    }

    int only_files = 0;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (only_files || s[0] != '-' || strcmp(s, "-") == 0) {
            if (a->file)
                return usage_error(a->cmd, "more than one input file ('%s' and '%s')", a->file, s);
            a->file = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_files = 1;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        const struct option_def *o = NULL;
        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
            if (strlen(options[k].name) == len && strncmp(options[k].name, s, len) == 0) {
                o = &options[k];
                break;
            }
        if (!o)
            return usage_error(a->cmd, "unknown option '%.*s'", (int)len, s);
        if (o->only && !(o->only & FOR(a->cmd))) {
            const char *for_cmd = "";
            for (int k = CMD_RFM; k <= CMD_COHORTS; k++)
                if (o->only & FOR(k)) {
                    for_cmd = cmd_name((enum cmd)k);
                    break;
                }
            return usage_error(a->cmd, "option %s is for 'shopcrm %s', not 'shopcrm %s'", o->name,
                               for_cmd, cmd_name(a->cmd));
        }
        const char *v = NULL;
        if (o->takes_value) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return usage_error(a->cmd, "option %s needs a value", o->name);
        } else if (eq) {
            return usage_error(a->cmd, "option %s takes no value", o->name);
        }
        int rc = apply(a, o, v);
        if (rc)
            return rc;
    }

    if (!a->file)
        return usage_error(a->cmd, "no input file (shopcrm %s FILE.csv)", cmd_name(a->cmd));
    if ((a->csv.quantity_column != NULL) != (a->csv.unit_price_column != NULL))
        return usage_error(a->cmd, "--quantity-col and --price-col go together");
    if (a->cmd == CMD_RFM) {
        int given = (a->n_edges[0] >= 0) + (a->n_edges[1] >= 0) + (a->n_edges[2] >= 0);
        if (given && a->method < 0)
            a->method = SCRM_RFM_METHOD_FIXED;
        if (a->method == SCRM_RFM_METHOD_FIXED) {
            if (given != 3)
                return usage_error(a->cmd, "--method fixed needs --edges-r, --edges-f and --edges-m");
            for (int d = 0; d < 3; d++) {
                if (a->n_edges[d] != (int)a->bins - 1)
                    return usage_error(a->cmd, "--edges-%c: %d edges given, %u bins need %u",
                                       "rfm"[d], a->n_edges[d], a->bins, a->bins - 1);
                for (int k = 1; k < a->n_edges[d]; k++)
                    if (!(a->edges[d][k] > a->edges[d][k - 1]))
                        return usage_error(a->cmd, "--edges-%c: edges must be strictly ascending",
                                           "rfm"[d]);
            }
        } else if (given) {
            return usage_error(a->cmd, "--edges-r/f/m need --method fixed");
        }
        if (a->method < 0)
            a->method = SCRM_RFM_METHOD_QUANTILE;
        if (a->segments && strcmp(a->segments, "none") != 0 && a->bins != 5)
            return usage_error(a->cmd, "--segments %s is defined for 5 bins, not %u", a->segments,
                               a->bins);
    }
    if (a->cmd == CMD_KPI && a->have_from && a->have_to && a->to_local < a->from_local)
        return usage_error(a->cmd, "--to is before --from");
    if (a->cmd == CMD_COHORTS && a->have_from && a->have_to && a->to_local <= a->from_local)
        return usage_error(a->cmd, "--to is not after --from");
    if (a->out && a->svg && strcmp(a->out, a->svg) == 0 && strcmp(a->out, "-") != 0)
        return usage_error(a->cmd, "--out and --svg name the same file");
    a->csv.utc_offset = a->utc_offset;
    a->csv.threads = a->threads;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

struct progress {
    int shown;
    int last_pct;
    const char *what;
};

static int on_progress(uint64_t done, uint64_t total, void *payload)
{
    struct progress *p = payload;
    if (total == 0)
        return 0;
    int pct = (int)(done * 100 / total);
    if (pct != p->last_pct) {
        fprintf(stderr, "\rshopcrm: %s %3d%%", p->what, pct);
        fflush(stderr);
        p->last_pct = pct;
        p->shown = 1;
    }
    return 0;
}

static const char *time_format_name(int f)
{
    switch (f) {
    case SCRM_TIME_ISO8601: return "iso";
    case SCRM_TIME_YYYYMMDD: return "yyyymmdd";
    case SCRM_TIME_DMY: return "dmy";
    case SCRM_TIME_EPOCH: return "epoch";
    default: return "auto (no time value)";
    }
}

static const char *delimiter_name(int32_t d)
{
    return d == ',' ? "','" : d == ';' ? "';'" : d == '\t' ? "tab" : "?";
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct loaded {
    scrm_dataset *ds;
    scrm_csv_report *report;
    uint64_t bytes;
    double seconds;
};

static int load(struct loaded *L, struct args *a)
{
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    struct progress prog = {0, -1, "loading"};
    struct stat st;
    int rc;

    memset(L, 0, sizeof *L);
    if (stat(a->file, &st) != 0) {
        msg("cannot open '%s': %s", a->file, strerror(errno));
        return EXIT_DATA;
    }
    if (S_ISDIR(st.st_mode)) {
        msg("cannot read '%s': it is a directory", a->file);
        return EXIT_DATA;
    }
    L->bytes = (uint64_t)st.st_size;
    if (L->bytes >= PROGRESS_MIN_BYTES && isatty(STDERR_FILENO)) {
        a->csv.progress = on_progress;
        a->csv.progress_payload = &prog;
    }
    dopt.threads = a->threads;
    if ((rc = scrm_dataset_new(&L->ds, &dopt)) != SCRM_OK)
        return lib_error("cannot create the dataset", rc);
    double t0 = now_seconds();
    rc = scrm_csv_load_file(&L->report, L->ds, a->file, &a->csv);
    L->seconds = now_seconds() - t0;
    if (prog.shown)
        fputs("\r\033[K", stderr);
    if (rc != SCRM_OK) {
        lib_error(a->file, rc);
        scrm_dataset_free(L->ds);
        L->ds = NULL;
        return EXIT_DATA;
    }

    const scrm_csv_report *r = L->report;
    uint64_t n_rej = scrm_csv_report_reject_count(r);
    for (uint64_t i = 0; i < n_rej; i++) {
        uint64_t line = 0;
        const char *col = "", *why = "";
        if (scrm_csv_report_reject(&line, &col, &why, r, i) == SCRM_OK)
            msg("%s: line %" PRIu64 ", column %s: %s (row rejected)", a->file, line,
                col ? col : "?", why ? why : "?");
    }
    if (scrm_csv_report_rejected(r) > n_rej)
        msg("%s: ... %" PRIu64 " more rejected rows not listed", a->file,
            scrm_csv_report_rejected(r) - n_rej);
    msg("loaded %s: %" PRIu64 " rows, %" PRIu64 " customers, %" PRIu64
        " skipped (empty customer), %" PRIu64 " duplicates, %" PRIu64
        " rejected; time format %s, delimiter %s",
        a->file, scrm_csv_report_rows_read(r), scrm_dataset_customer_count(L->ds),
        scrm_csv_report_empty_customer(r), scrm_csv_report_duplicates(r),
        scrm_csv_report_rejected(r), time_format_name(scrm_csv_report_time_format(r)),
        delimiter_name(scrm_csv_report_delimiter(r)));
    return 0;
}

static void unload(struct loaded *L)
{
    scrm_csv_report_free(L->report);
    scrm_dataset_free(L->ds);
}

/* ------------------------------------------------------------------------ */
/* Output helpers                                                            */
/* ------------------------------------------------------------------------ */

/* Exact major units of a minor-unit amount (2 decimals). */
static void format_money(char *buf, size_t size, int64_t minor)
{
    uint64_t u = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    snprintf(buf, size, "%s%" PRIu64 ".%02u", minor < 0 ? "-" : "", u / 100, (unsigned)(u % 100));
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* A double as JSON: null when not finite; shortest exact form otherwise. */
static void json_number(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

static void json_load(FILE *f, const struct args *a, const struct loaded *L)
{
    const scrm_csv_report *r = L->report;
    fputs("\"input\":", f);
    json_string(f, a->file);
    fprintf(f,
            ",\"load\":{\"rows\":%" PRIu64 ",\"added\":%" PRIu64 ",\"customers\":%" PRIu64
            ",\"skipped_empty_customer\":%" PRIu64 ",\"duplicates\":%" PRIu64
            ",\"rejected\":%" PRIu64 ",\"time_format\":",
            scrm_csv_report_rows_read(r), scrm_csv_report_rows_added(r),
            scrm_dataset_customer_count(L->ds), scrm_csv_report_empty_customer(r),
            scrm_csv_report_duplicates(r), scrm_csv_report_rejected(r));
    json_string(f, time_format_name(scrm_csv_report_time_format(r)));
    fputs("}", f);
}

/* ------------------------------------------------------------------------ */
/* rfm                                                                       */
/* ------------------------------------------------------------------------ */

static const char *method_name(int m)
{
    return m == SCRM_RFM_METHOD_NTILE ? "ntile" : m == SCRM_RFM_METHOD_FIXED ? "fixed" : "quantile";
}

static int run_rfm(struct args *a)
{
    struct loaded L;
    scrm_segment_map *map = NULL;
    scrm_rfm *r = NULL;
    int status = load(&L, a);
    if (status)
        return status;

    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    double edges[3][SCRM_RFM_MAX_BINS];
    o.utc_offset = a->utc_offset;
    o.bins = a->bins;
    o.method = a->method;
    o.frequency_mode = a->frequency_mode;
    o.monetary_mode = a->monetary_mode;
    o.threads = a->threads;
    if (a->have_as_of)
        o.as_of = a->as_of_local - a->utc_offset;
    if (a->method == SCRM_RFM_METHOD_FIXED) {
        for (int d = 0; d < 3; d++)
            for (int k = 0; k < a->n_edges[d]; k++)
                edges[d][k] = d == 2 ? a->edges[d][k] * 100.0 : a->edges[d][k]; /* major -> minor */
        o.r_edges = edges[0];
        o.f_edges = edges[1];
        o.m_edges = edges[2];
    }
    const char *preset = NULL;
    if (a->segments && strcmp(a->segments, "rfm11") == 0)
        preset = "rfm11-v1";
    else if (a->segments && strcmp(a->segments, "rf10") == 0)
        preset = "rf10-v1";
    int rc;
    if (preset) {
        if ((rc = scrm_segment_map_preset(&map, preset)) != SCRM_OK) {
            status = lib_error("segments", rc);
            goto done;
        }
    } else if (a->segments) { /* "none" */
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
    if (a->out) {
        const char *path = strcmp(a->out, "-") == 0 ? "/dev/stdout" : a->out;
        fflush(stdout);
        t0 = now_seconds();
        if ((rc = scrm_rfm_write_csv(r, L.ds, path)) != SCRM_OK) {
            status = lib_error(a->out, rc);
            goto done;
        }
        t_write = now_seconds() - t0;
        if (strcmp(a->out, "-") == 0)
            out = stderr;
    }
    if (getenv("SHOPCRM_TIMING"))
        msg("timing: load %.3f s (%.1f MB/s), rfm %.3f s, write %.3f s", L.seconds,
            L.seconds > 0 ? (double)L.bytes / 1e6 / L.seconds : 0.0, t_rfm, t_write);

    const scrm_segment_map *sm = scrm_rfm_segment_map(r);
    uint32_t n_seg = scrm_segment_map_count(sm);
    uint32_t n = scrm_rfm_customer_count(r);
    const uint64_t *cust = scrm_rfm_segment_customers(r);
    const int64_t *rev = scrm_rfm_segment_revenue(r);
    const double *share = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_SHARE);
    const double *mr = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_R);
    const double *mf = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_F);
    const double *mm = scrm_rfm_segment_stat(r, SCRM_RFM_STAT_MEAN_M);
    int64_t total_rev = 0;
    int total_overflow = 0;
    for (uint32_t s = 0; s <= n_seg; s++)
        total_overflow |= __builtin_add_overflow(total_rev, rev[s], &total_rev);
    char as_of[16], money[32];
    format_date(as_of, sizeof as_of, scrm_rfm_as_of(r) + a->utc_offset);
    uint32_t bins = scrm_rfm_bins(r);
    const char *seg_name = preset ? preset : a->segments ? "none" : n_seg ? "rfm11-v1" : "none";

    if (a->json) {
        fputc('{', out);
        fputs("\"command\":\"rfm\",", out);
        json_load(out, a, &L);
        fprintf(out, ",\"customers\":%u,\"as_of\":\"%s\",\"bins\":%u,\"method\":\"%s\"", n, as_of,
                bins, method_name(a->method));
        fprintf(out, ",\"frequency\":\"%s\",\"monetary\":\"%s\",\"segment_map\":",
                a->frequency_mode == SCRM_RFM_FREQUENCY_DAYS ? "days" : "orders",
                a->monetary_mode == SCRM_RFM_MONETARY_MEAN ? "mean" : "sum");
        json_string(out, seg_name);
        fputs(",\"edges\":{", out);
        for (int d = 0; d < 3; d++) {
            const double *e = scrm_rfm_edges(r, d);
            fprintf(out, "%s\"%c\":[", d ? "," : "", "rfm"[d]);
            for (uint32_t k = 0; k + 1 < bins; k++) {
                if (k)
                    fputc(',', out);
                json_number(out, d == 2 ? e[k] / 100.0 : e[k]);
            }
            fputc(']', out);
        }
        format_money(money, sizeof money, total_rev);
        fprintf(out, "},\"revenue\":%s,\"segments\":[", total_overflow ? "null" : money);
        for (uint32_t s = 0; s <= n_seg; s++) {
            if (s == n_seg && cust[s] == 0)
                break;
            if (s)
                fputc(',', out);
            fputs("{\"segment\":", out);
            if (s < n_seg)
                json_string(out, scrm_segment_map_name(sm, s));
            else
                fputs("null", out);
            format_money(money, sizeof money, rev[s]);
            fprintf(out, ",\"customers\":%" PRIu64 ",\"share\":", cust[s]);
            json_number(out, share[s]);
            fprintf(out, ",\"revenue\":%s,\"mean_r\":", money);
            json_number(out, mr[s]);
            fputs(",\"mean_f\":", out);
            json_number(out, mf[s]);
            fputs(",\"mean_m\":", out);
            json_number(out, mm[s]);
            fputc('}', out);
        }
        fprintf(out, "],\"unassigned\":%" PRIu64 "}\n", scrm_rfm_unassigned_count(r));
    } else {
        fprintf(out, "RFM of %s: %u customers, as of %s, %u bins (%s), segments %s\n\n", a->file,
                n, as_of, bins, method_name(a->method), seg_name);
        fprintf(out, "%-22s %10s %7s %16s %6s %6s %6s\n", "segment", "customers", "share",
                "revenue", "R", "F", "M");
        for (uint32_t s = 0; s <= n_seg; s++) {
            if (s == n_seg && cust[s] == 0)
                break;
            char cells[3][16];
            const double *means[3] = {mr, mf, mm};
            for (int d = 0; d < 3; d++) {
                if (isfinite(means[d][s]))
                    snprintf(cells[d], sizeof cells[d], "%.2f", means[d][s]);
                else
                    snprintf(cells[d], sizeof cells[d], "-");
            }
            format_money(money, sizeof money, rev[s]);
            fprintf(out, "%-22s %10" PRIu64 " %6.1f%% %16s %6s %6s %6s\n",
                    s < n_seg ? scrm_segment_map_name(sm, s) : "(unassigned)", cust[s],
                    100.0 * share[s], money, cells[0], cells[1], cells[2]);
        }
        format_money(money, sizeof money, total_rev);
        fprintf(out, "%-22s %10u %6.1f%% %16s\n", "total", n, n ? 100.0 : 0.0,
                total_overflow ? "overflow" : money);
    }
    status = 0;
done:
    scrm_rfm_free(r);
    scrm_segment_map_free(map);
    unload(&L);
    return status;
}

/* ------------------------------------------------------------------------ */
/* kpi                                                                       */
/* ------------------------------------------------------------------------ */

static int run_kpi(struct args *a)
{
    struct loaded L;
    scrm_kpi *k = NULL;
    int status = load(&L, a);
    if (status)
        return status;

    scrm_kpi_options o = SCRM_KPI_OPTIONS_INIT;
    o.utc_offset = a->utc_offset; /* the window is in local time, as the dates were given */
    o.threads = a->threads;
    if (a->have_from)
        o.start = a->from_local;
    if (a->have_to)
        o.end = a->to_local;
    if (a->lookback_days)
        o.lookback = a->lookback_days * 86400;
    double t0 = now_seconds();
    int rc = scrm_kpi_compute(&k, L.ds, &o);
    if (rc != SCRM_OK) {
        status = lib_error("kpi", rc);
        goto done;
    }
    if (getenv("SHOPCRM_TIMING"))
        msg("timing: load %.3f s (%.1f MB/s), kpi %.3f s", L.seconds,
            L.seconds > 0 ? (double)L.bytes / 1e6 / L.seconds : 0.0, now_seconds() - t0);

    char from[16] = "", to[16] = "";
    if (a->have_from)
        format_date(from, sizeof from, a->from_local);
    if (a->have_to)
        format_date(to, sizeof to, a->to_local);

    if (a->json) {
        fputs("{\"command\":\"kpi\",", stdout);
        json_load(stdout, a, &L);
        fputs(",\"from\":", stdout);
        if (a->have_from)
            json_string(stdout, from);
        else
            fputs("null", stdout);
        fputs(",\"to\":", stdout);
        if (a->have_to)
            json_string(stdout, to);
        else
            fputs("null", stdout);
        printf(",\"lookback_days\":%lld", (long long)(a->lookback_days ? a->lookback_days : 365));
        for (int m = 0; scrm_kpi_metric_name(m); m++) {
            int type = scrm_kpi_metric_type(m);
            printf(",\"%s\":", scrm_kpi_metric_name(m));
            int64_t x;
            char money[32];
            if (type == SCRM_KPI_TYPE_COUNT && scrm_kpi_count(&x, k, m) == SCRM_OK) {
                printf("%" PRId64, x);
            } else if (type == SCRM_KPI_TYPE_MONEY && scrm_kpi_count(&x, k, m) == SCRM_OK) {
                format_money(money, sizeof money, x);
                fputs(money, stdout);
            } else if (type == SCRM_KPI_TYPE_MONEY_MEAN) {
                json_number(stdout, scrm_kpi_value(k, m) / 100.0);
            } else {
                json_number(stdout, scrm_kpi_value(k, m));
            }
        }
        fputs("}\n", stdout);
    } else {
        printf("KPIs of %s, window [%s, %s), lookback %lld days\n\n", a->file,
               a->have_from ? from : "start", a->have_to ? to : "end",
               (long long)(a->lookback_days ? a->lookback_days : 365));
        for (int m = 0; scrm_kpi_metric_name(m); m++) {
            int type = scrm_kpi_metric_type(m);
            double v = scrm_kpi_value(k, m);
            int64_t x;
            char cell[48];
            if ((type == SCRM_KPI_TYPE_COUNT || type == SCRM_KPI_TYPE_MONEY) &&
                scrm_kpi_count(&x, k, m) == SCRM_OK) {
                if (type == SCRM_KPI_TYPE_MONEY)
                    format_money(cell, sizeof cell, x);
                else
                    snprintf(cell, sizeof cell, "%" PRId64, x);
            } else if (!isfinite(v)) {
                snprintf(cell, sizeof cell, "n/a");
            } else if (type == SCRM_KPI_TYPE_MONEY_MEAN) {
                snprintf(cell, sizeof cell, "%.2f", v / 100.0);
            } else if (type == SCRM_KPI_TYPE_DAYS) {
                snprintf(cell, sizeof cell, "%.2f days", v);
            } else if (m == SCRM_KPI_PURCHASE_FREQUENCY) {
                snprintf(cell, sizeof cell, "%.3f", v);
            } else {
                snprintf(cell, sizeof cell, "%.2f%%", 100.0 * v);
            }
            printf("%-26s %16s\n", scrm_kpi_metric_name(m), cell);
        }
    }
    status = 0;
done:
    scrm_kpi_free(k);
    unload(&L);
    return status;
}

/* ------------------------------------------------------------------------ */
/* cohorts                                                                   */
/* ------------------------------------------------------------------------ */

/* Shortest text of a double that reads back exactly ("%.17g" at worst). */
static void format_double(char *buf, size_t size, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
}

struct cohort_view {
    const scrm_cohorts *r;
    uint32_t C, K;
    const uint64_t *size, *active, *orders;
    const int64_t *revenue;
    const double *retention, *ltv;
    char (*label)[SCRM_PERIOD_LABEL_MAX];
};

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
    case M_REVENUE: return (double)v->revenue[i] / 100.0;
    default: return v->ltv[i] / 100.0;
    }
}

static void cell_text(char *buf, size_t size, const struct cohort_view *v, int metric, uint64_t i)
{
    double x = cell_value(v, metric, i);
    if (metric == M_REVENUE)
        format_money(buf, size, v->revenue[i]);
    else if (!isfinite(x))
        snprintf(buf, size, "-");
    else if (metric == M_RETENTION)
        snprintf(buf, size, "%.1f%%", 100.0 * x);
    else if (metric == M_LTV)
        snprintf(buf, size, "%.2f", x);
    else
        snprintf(buf, size, "%" PRIu64, metric == M_CUSTOMERS ? v->active[i] : v->orders[i]);
}

/* Long-form CSV of every observed cell (docs/cli.md). */
static int write_cohort_csv(FILE *f, const struct cohort_view *v)
{
    fputs("cohort,period,cohort_size,active_customers,orders,revenue,retention\n", f);
    for (uint32_t c = 0; c < v->C; c++)
        for (uint32_t k = 0; observed(v, c, k); k++) {
            uint64_t i = (uint64_t)c * v->K + k;
            char money[32], ret[40] = "";
            format_money(money, sizeof money, v->revenue[i]);
            if (isfinite(v->retention[i]))
                format_double(ret, sizeof ret, v->retention[i]);
            fprintf(f, "%s,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s\n", v->label[c], k,
                    v->size[c], v->active[i], v->orders[i], money, ret);
        }
    return ferror(f) ? -1 : 0;
}

static int write_cohort_svg(const char *path, const struct cohort_view *v, const struct args *a,
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
    unsigned char *present = malloc(n ? n : 1);
    const char **labels = malloc((v->C ? v->C : 1) * sizeof *labels);
    const char **notes = malloc((v->C ? v->C : 1) * sizeof *notes);
    char *note_buf = malloc((v->C ? v->C : 1) * 32);
    int status = EXIT_DATA;
    FILE *f = NULL;
    if (!value || !text || !buf || !present || !labels || !notes || !note_buf) {
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
            value[i] = present[i] ? cell_value(v, a->metric, i) : NAN;
            if (present[i] && v->size[c] == 0)
                value[i] = NAN; /* an empty cohort has no value to colour */
            if (present[i] && isfinite(value[i])) {
                cell_text(text[i], 32, v, a->metric, i);
                if (value[i] < lo)
                    lo = value[i];
                if (value[i] > hi)
                    hi = value[i];
            } else {
                text[i][0] = '\0';
            }
        }
    }
    if (a->metric == M_RETENTION) {
        lo = 0;
        hi = 1;
    }
    if (!(hi > lo))
        hi = lo + 1;
    char lo_t[48], mid_t[48], hi_t[48], title[160], sub[512], colh[64];
    if (a->metric == M_RETENTION) {
        snprintf(lo_t, sizeof lo_t, "0%%");
        snprintf(mid_t, sizeof mid_t, "50%%");
        snprintf(hi_t, sizeof hi_t, "100%%");
    } else if (a->metric == M_CUSTOMERS || a->metric == M_ORDERS) {
        snprintf(lo_t, sizeof lo_t, "%.0f", lo);
        snprintf(mid_t, sizeof mid_t, "%.1f", (lo + hi) / 2);
        snprintf(hi_t, sizeof hi_t, "%.0f", hi);
    } else {
        snprintf(lo_t, sizeof lo_t, "%.2f", lo);
        snprintf(mid_t, sizeof mid_t, "%.2f", (lo + hi) / 2);
        snprintf(hi_t, sizeof hi_t, "%.2f", hi);
    }
    snprintf(title, sizeof title, "%s by %s cohort%s", what[a->metric], unit_adj[a->period],
             a->metric == M_RETENTION || a->metric == M_CUSTOMERS
                 ? (a->mode == SCRM_COHORTS_ROLLING ? " (rolling)" : " (classic)")
                 : "");
    snprintf(sub, sizeof sub, "%s: %u cohorts, observed through %s; metric %s%s", a->file, v->C,
             obs_end, metric_names[a->metric],
             a->metric == M_REVENUE || a->metric == M_LTV ? " (major units)" : "");
    snprintf(colh, sizeof colh, "%s since acquisition", unit_plural[a->period]);
    struct svg_heatmap h = {title, sub, "cohort", colh, v->C, v->K, labels, notes, value,
                            (const char *const *)text, present, lo, hi, lo_t, hi_t, mid_t};
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
    free(labels);
    free(notes);
    free(note_buf);
    return status;
}

static int run_cohorts(struct args *a)
{
    struct loaded L;
    scrm_cohorts *r = NULL;
    struct cohort_view v;
    int status = load(&L, a);
    if (status)
        return status;
    memset(&v, 0, sizeof v);

    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.unit = a->period;
    o.mode = a->mode;
    o.utc_offset = a->utc_offset;
    o.threads = a->threads;
    /* --from / --to are local dates; the cohort window is in UTC instants. */
    if (a->have_from)
        o.start = a->from_local - a->utc_offset;
    if (a->have_to)
        o.end = a->to_local - a->utc_offset;
    double t0 = now_seconds();
    int rc = scrm_cohorts_compute(&r, L.ds, &o);
    if (rc != SCRM_OK) {
        status = lib_error("cohorts", rc);
        goto done;
    }
    double t_cohorts = now_seconds() - t0;

    v.r = r;
    v.C = scrm_cohorts_count(r);
    v.K = scrm_cohorts_periods(r);
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
    if (e != INT64_MIN && scrm_period_label(obs_end, sizeof obs_end, e, a->period) != SCRM_OK)
        snprintf(obs_end, sizeof obs_end, "?");

    FILE *out = stdout;
    if (a->out) {
        int to_stdout = strcmp(a->out, "-") == 0;
        FILE *f = to_stdout ? stdout : fopen(a->out, "w");
        if (!f) {
            msg("cannot write '%s': %s", a->out, strerror(errno));
            status = EXIT_DATA;
            goto done;
        }
        int werr = write_cohort_csv(f, &v);
        if (to_stdout) {
            werr |= fflush(f) != 0;
            out = stderr;
        } else {
            werr |= fclose(f) != 0;
        }
        if (werr) {
            msg("cannot write '%s': %s", a->out, strerror(errno));
            status = EXIT_DATA;
            goto done;
        }
    }
    if (a->svg && (status = write_cohort_svg(a->svg, &v, a, obs_end)) != 0)
        goto done;
    if (getenv("SHOPCRM_TIMING"))
        msg("timing: load %.3f s (%.1f MB/s), cohorts %.3f s", L.seconds,
            L.seconds > 0 ? (double)L.bytes / 1e6 / L.seconds : 0.0, t_cohorts);

    const char *mode = a->mode == SCRM_COHORTS_ROLLING ? "rolling" : "classic";
    if (a->json) {
        fputs("{\"command\":\"cohorts\",", out);
        json_load(out, a, &L);
        fprintf(out, ",\"period\":\"%s\",\"mode\":\"%s\",\"metric\":\"%s\",\"observation_end\":",
                period_names[a->period], mode, metric_names[a->metric]);
        if (e != INT64_MIN)
            json_string(out, obs_end);
        else
            fputs("null", out);
        fprintf(out, ",\"periods\":%u,\"cohorts\":[", v.K);
        for (uint32_t c = 0; c < v.C; c++) {
            fprintf(out, "%s{\"cohort\":", c ? "," : "");
            json_string(out, v.label[c]);
            fprintf(out, ",\"size\":%" PRIu64 ",\"values\":[", v.size[c]);
            for (uint32_t k = 0; k < v.K; k++) {
                uint64_t i = (uint64_t)c * v.K + k;
                if (k)
                    fputc(',', out);
                if (!observed(&v, c, k)) {
                    fputs("null", out);
                } else if (a->metric == M_REVENUE) {
                    char money[32];
                    format_money(money, sizeof money, v.revenue[i]);
                    fputs(money, out);
                } else if (a->metric == M_CUSTOMERS || a->metric == M_ORDERS) {
                    fprintf(out, "%" PRIu64, a->metric == M_CUSTOMERS ? v.active[i] : v.orders[i]);
                } else {
                    json_number(out, cell_value(&v, a->metric, i));
                }
            }
            fputs("]}", out);
        }
        fputs("]}\n", out);
    } else {
        /* Aligned table: one width per column, from its longest cell. */
        uint64_t n = (uint64_t)v.C * v.K;
        char (*cells)[32] = malloc((n ? n : 1) * sizeof *cells);
        int *w = malloc((v.K ? v.K : 1) * sizeof *w);
        if (!cells || !w) {
            free(cells);
            free(w);
            msg("out of memory");
            status = EXIT_DATA;
            goto done;
        }
        int wl = 6, ws = 4;
        for (uint32_t c = 0; c < v.C; c++) {
            int l = (int)strlen(v.label[c]);
            char sz[24];
            if (l > wl)
                wl = l;
            l = snprintf(sz, sizeof sz, "%" PRIu64, v.size[c]);
            if (l > ws)
                ws = l;
        }
        for (uint32_t k = 0; k < v.K; k++) {
            char hdr[16];
            w[k] = snprintf(hdr, sizeof hdr, "%u", k);
            for (uint32_t c = 0; c < v.C; c++) {
                uint64_t i = (uint64_t)c * v.K + k;
                cells[i][0] = '\0';
                if (observed(&v, c, k))
                    cell_text(cells[i], sizeof cells[i], &v, a->metric, i);
                int l = (int)strlen(cells[i]);
                if (l > w[k])
                    w[k] = l;
            }
        }
        fprintf(out, "Cohorts of %s: %u %s cohorts, observed through %s; %s%s (%s)\n\n", a->file,
                v.C, period_names[a->period], obs_end, metric_names[a->metric],
                a->metric == M_REVENUE || a->metric == M_LTV ? " in major units" : "", mode);
        fprintf(out, "%-*s %*s", wl, "cohort", ws, "size");
        for (uint32_t k = 0; k < v.K; k++)
            fprintf(out, "  %*u", w[k], k);
        fputc('\n', out);
        for (uint32_t c = 0; c < v.C; c++) {
            /* Trailing unobserved cells are left out, not padded. */
            fprintf(out, "%-*s %*" PRIu64, wl, v.label[c], ws, v.size[c]);
            for (uint32_t k = 0; observed(&v, c, k); k++)
                fprintf(out, "  %*s", w[k], cells[(uint64_t)c * v.K + k]);
            fputc('\n', out);
        }
        if (v.C == 0)
            fputs("(no customers)\n", out);
        free(cells);
        free(w);
    }
    status = 0;
done:
    free(v.label);
    scrm_cohorts_free(r);
    unload(&L);
    return status;
}

int main(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(&a, argc, argv);
    if (rc >= 0)
        return rc;
    rc = a.cmd == CMD_RFM ? run_rfm(&a) : a.cmd == CMD_KPI ? run_kpi(&a) : run_cohorts(&a);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        msg("cannot write the output: %s", strerror(errno));
        return EXIT_DATA;
    }
    return rc;
}
