/* The input side of every command: the CSV loading options, the load
 * itself (with a progress line for large files) and the load report, on
 * stderr and as JSON. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Files at least this large get a progress line (when stderr is a terminal). */
#define PROGRESS_MIN_BYTES (32u << 20)

enum {
    O_CUSTOMER, O_TIME, O_AMOUNT, O_ORDER, O_QUANTITY, O_PRICE, O_TIME_FORMAT, O_DECIMAL_COMMA,
    O_DELIMITER, O_MINOR_DIGITS, O_UTC_OFFSET, O_SKIP_BAD, O_THREADS, O_JSON, O_HELP,
    O_NA_CUSTOMER, O_NO_NA_DEFAULTS, O_EXCLUDE
};

const struct cli_option input_options[] = {
    {"--customer-col", O_CUSTOMER, 1},
    {"--time-col", O_TIME, 1},
    {"--amount-col", O_AMOUNT, 1},
    {"--order-col", O_ORDER, 1},
    {"--quantity-col", O_QUANTITY, 1},
    {"--price-col", O_PRICE, 1},
    {"--time-format", O_TIME_FORMAT, 1},
    {"--decimal-comma", O_DECIMAL_COMMA, 0},
    {"--delimiter", O_DELIMITER, 1},
    {"--minor-digits", O_MINOR_DIGITS, 1},
    {"--utc-offset", O_UTC_OFFSET, 1},
    {"--skip-bad-rows", O_SKIP_BAD, 0},
    {"--na-customer", O_NA_CUSTOMER, 1},
    {"--no-default-na", O_NO_NA_DEFAULTS, 0},
    {"--exclude", O_EXCLUDE, 1},
    {"--threads", O_THREADS, 1},
    {"--json", O_JSON, 0},
    {"--help", O_HELP, 0},
    {"-h", O_HELP, 0},
};
const size_t n_input_options = sizeof input_options / sizeof input_options[0];

const char input_help[] =
    "Input options (defaults fit examples/data/cdnow_orders.csv):\n"
    "  --customer-col NAME   customer key column (default customer_id)\n"
    "  --time-col NAME       order time column (default date)\n"
    "  --amount-col NAME     order amount column, major units (default amount);\n"
    "                        none: the file has no amounts (an event log): orders\n"
    "                        are counted, money is absent\n"
    "  --order-col NAME      order id column: rows with the same id are the lines of\n"
    "                        one order (amounts summed, earliest time); without it\n"
    "                        each row is an order\n"
    "  --quantity-col NAME   with --price-col: amount = quantity x unit price\n"
    "  --price-col NAME      unit price column (with --quantity-col)\n"
    "  --time-format F       auto|iso|yyyymmdd|dmy|mdy|epoch (default auto: decided\n"
    "                        from the whole column; dmy is 8/12/2011 = 8 December,\n"
    "                        mdy is 12/8/2011 = 8 December)\n"
    "  --decimal-comma       amounts use ',' as decimal separator (1.234,56)\n"
    "  --delimiter D         field delimiter: ',' ';' 'tab' or 'space' (runs of blanks,\n"
    "                        as in fixed-width exports) (default: detected)\n"
    "  --minor-digits N      digits of the currency's minor unit, 0..6 (default 2;\n"
    "                        0 for yen, 3 for dinars): amounts are read and money\n"
    "                        is written with N decimals\n"
    "  --utc-offset OFF      offset of local times from UTC: seconds or +HH:MM\n"
    "                        (e.g. -03:00); applies to the file's local times and\n"
    "                        to the DATE options (default 0)\n"
    "  --skip-bad-rows       reject bad rows (listed on stderr) instead of failing\n"
    "  --na-customer VALUE   a customer value meaning \"no customer\": such rows are\n"
    "                        skipped and counted (repeatable). Always skipped: empty,\n"
    "                        NA, N/A, n/a, #N/A, null, NULL, NaN, nan, None\n"
    "  --no-default-na       only empty and --na-customer values mean no customer\n"
    "  --exclude COL=V[,V..] skip and count the rows whose column COL holds one of\n"
    "                        the values (repeatable; e.g. order_status=canceled,unavailable)\n"
    "  --threads N           worker threads (default: one per core)\n"
    "\n"
    "Output options:\n"
    "  --json                print the summary as one JSON object instead of a table\n"
    "  -h, --help            show this help\n"
    "\n"
    "FILE may be gzip-compressed (orders.csv.gz). Amounts may carry a currency\n"
    "($12.50, 12,50 EUR) or be accounting negatives ((12.50)).\n"
    "DATE is YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDTHH:MM[:SS], in local time (see\n"
    "--utc-offset). A load report (rows, customers, skipped, rejected, time format)\n"
    "goes to stderr.\n";

void input_init(struct cli_input *in)
{
    memset(in, 0, sizeof *in);
    scrm_csv_options_init(&in->csv, SCRM_CSV_OPTIONS_VERSION);
    in->minor_digits = (uint32_t)in->csv.minor_digits;
}

/* A copy of s[0..n) in the input's buffer, or NULL when it is full. */
static const char *keep(struct cli_input *in, const char *s, size_t n)
{
    if (n + 1 > sizeof in->excl_buf - in->excl_used)
        return NULL;
    char *d = in->excl_buf + in->excl_used;
    memcpy(d, s, n);
    d[n] = '\0';
    in->excl_used += n + 1;
    return d;
}

/* --exclude COLUMN=VALUE[,VALUE...]: one filter entry per value. */
static int add_exclude(const struct cli_command *c, struct cli_input *in, const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1])
        return usage_error(c, "--exclude: '%s' is not COLUMN=VALUE[,VALUE...]", v);
    /* distinct columns: at most SCRM_CSV_MAX_EXCLUDE_COLUMNS (a usage error
     * here, before the file is read, rather than a data error after) */
    uint32_t cols = 1;
    for (uint32_t i = 0; i < in->n_excl; i++) {
        uint32_t j = 0;
        while (j < i && strcmp(in->excl_col[j], in->excl_col[i]) != 0)
            j++;
        if (j == i && !(strlen(in->excl_col[i]) == (size_t)(eq - v) &&
                        memcmp(in->excl_col[i], v, (size_t)(eq - v)) == 0))
            cols++;
    }
    if (cols > SCRM_CSV_MAX_EXCLUDE_COLUMNS)
        return usage_error(c, "--exclude: more than %d columns", SCRM_CSV_MAX_EXCLUDE_COLUMNS);
    const char *col = keep(in, v, (size_t)(eq - v));
    for (const char *p = eq + 1;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *val = col ? keep(in, p, n) : NULL;
        if (!val || in->n_excl == CLI_MAX_LIST)
            return usage_error(c, "--exclude: too many values (at most %d)", CLI_MAX_LIST);
        in->excl_col[in->n_excl] = col;
        in->excl_val[in->n_excl++] = val;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int input_apply(const struct cli_command *c, struct cli_input *in, const struct cli_option *o,
                const char *v)
{
    int64_t x;
    switch (o->id) {
    case O_CUSTOMER: in->csv.customer_column = v; break;
    case O_TIME: in->csv.time_column = v; break;
    case O_AMOUNT: in->csv.amount_column = v; in->amount_given = 1; break;
    case O_ORDER: in->csv.order_id_column = v; break;
    case O_QUANTITY: in->csv.quantity_column = v; break;
    case O_PRICE: in->csv.unit_price_column = v; break;
    case O_TIME_FORMAT: {
        static const char *const names[] = {"auto", "iso", "yyyymmdd", "dmy", "mdy", "epoch"};
        static const int values[] = {SCRM_TIME_AUTO, SCRM_TIME_ISO8601, SCRM_TIME_YYYYMMDD,
                                     SCRM_TIME_DMY, SCRM_TIME_MDY, SCRM_TIME_EPOCH};
        return cli_choice(c, &in->csv.time_format, o->name, v, names, values, 6);
    }
    case O_DECIMAL_COMMA: in->csv.decimal_separator = ','; break;
    case O_DELIMITER:
        if (strcmp(v, ",") == 0 || strcmp(v, "comma") == 0)
            in->csv.delimiter = ',';
        else if (strcmp(v, ";") == 0 || strcmp(v, "semicolon") == 0)
            in->csv.delimiter = ';';
        else if (strcmp(v, "\t") == 0 || strcmp(v, "\\t") == 0 || strcmp(v, "tab") == 0)
            in->csv.delimiter = '\t';
        else if (strcmp(v, " ") == 0 || strcmp(v, "space") == 0)
            in->csv.delimiter = ' ';
        else
            return usage_error(c, "--delimiter: '%s' is not one of ',', ';', 'tab', 'space'", v);
        break;
    case O_MINOR_DIGITS:
        if (parse_i64(v, 0, SCRM_MAX_MINOR_DIGITS, &x))
            return usage_error(c, "--minor-digits: '%s' is not a number 0..%d", v,
                               SCRM_MAX_MINOR_DIGITS);
        in->minor_digits = (uint32_t)x;
        break;
    case O_UTC_OFFSET:
        if (parse_offset(v, &in->utc_offset))
            return usage_error(c, "--utc-offset: '%s' is not an offset within +-18:00 "
                                  "(seconds or +HH:MM)", v);
        break;
    case O_SKIP_BAD: in->csv.on_error = SCRM_CSV_SKIP; break;
    case O_THREADS:
        if (parse_i64(v, 0, 64, &x))
            return usage_error(c, "--threads: '%s' is not a number 0..64", v);
        in->threads = (uint32_t)x;
        break;
    case O_JSON: in->json = 1; break;
    case O_NA_CUSTOMER:
        if (in->n_na == CLI_MAX_LIST)
            return usage_error(c, "--na-customer: at most %d values", CLI_MAX_LIST);
        in->na[in->n_na++] = v;
        break;
    case O_NO_NA_DEFAULTS: in->csv.na_defaults = 0; break;
    case O_EXCLUDE: return add_exclude(c, in, v);
    case O_HELP: break; /* handled before the options are read */
    }
    return 0;
}

int input_check(const struct cli_command *c, struct cli_input *in)
{
    if (!in->file)
        return usage_error(c, "no input file (shopcrm %s FILE.csv)", c->name);
    if ((in->csv.quantity_column != NULL) != (in->csv.unit_price_column != NULL))
        return usage_error(c, "--quantity-col and --price-col go together");
    if (in->csv.quantity_column && in->amount_given)
        return usage_error(c, "--amount-col and --quantity-col/--price-col both give the amount: "
                              "choose one");
    in->csv.utc_offset = in->utc_offset;
    in->csv.threads = in->threads;
    in->csv.minor_digits = (int32_t)in->minor_digits;
    in->csv.na_customers = in->na;
    in->csv.na_customer_count = in->n_na;
    in->csv.exclude_columns = in->excl_col;
    in->csv.exclude_values = in->excl_val;
    in->csv.exclude_count = in->n_excl;
    return 0;
}

/* ---- the load ---- */

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
    case SCRM_TIME_MDY: return "mdy";
    case SCRM_TIME_EPOCH: return "epoch";
    default: return "auto (no time value)";
    }
}

static const char *delimiter_name(int32_t d)
{
    return d == ',' ? "','" : d == ';' ? "';'" : d == '\t' ? "tab" : d == ' ' ? "space" : "?";
}

int input_load(struct cli_loaded *L, const struct cli_input *in)
{
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    scrm_csv_options csv = in->csv;
    struct progress prog = {0, -1, "loading"};
    struct stat st;
    int rc;

    memset(L, 0, sizeof *L);
    if (stat(in->file, &st) != 0) {
        msg("cannot open '%s': %s", in->file, strerror(errno));
        return EXIT_DATA;
    }
    if (S_ISDIR(st.st_mode)) {
        msg("cannot read '%s': it is a directory", in->file);
        return EXIT_DATA;
    }
    L->bytes = (uint64_t)st.st_size;
    if (L->bytes >= PROGRESS_MIN_BYTES && isatty(STDERR_FILENO)) {
        csv.progress = on_progress;
        csv.progress_payload = &prog;
    }
    dopt.threads = in->threads;
    dopt.minor_digits = in->minor_digits; /* the currency of the file's amounts */
    if ((rc = scrm_dataset_new(&L->ds, &dopt)) != SCRM_OK)
        return lib_error("cannot create the dataset", rc);
    double t0 = now_seconds();
    rc = scrm_csv_load_file(&L->report, L->ds, in->file, &csv);
    L->seconds = now_seconds() - t0;
    if (prog.shown)
        fputs("\r\033[K", stderr);
    if (rc != SCRM_OK) {
        lib_error(in->file, rc);
        scrm_dataset_free(L->ds);
        L->ds = NULL;
        return EXIT_DATA;
    }
    L->minor_digits = scrm_dataset_minor_digits(L->ds);

    const scrm_csv_report *r = L->report;
    uint64_t n_rej = scrm_csv_report_reject_count(r);
    for (uint64_t i = 0; i < n_rej; i++) {
        uint64_t line = 0;
        const char *col = "", *why = "";
        if (scrm_csv_report_reject(&line, &col, &why, r, i) == SCRM_OK)
            msg("%s: line %" PRIu64 ", column %s: %s (row rejected)", in->file, line,
                col ? col : "?", why ? why : "?");
    }
    if (scrm_csv_report_rejected(r) > n_rej)
        msg("%s: ... %" PRIu64 " more rejected rows not listed", in->file,
            scrm_csv_report_rejected(r) - n_rej);
    msg("loaded %s: %" PRIu64 " rows, %" PRIu64 " customers, %" PRIu64
        " skipped (empty customer), %" PRIu64 " excluded, %" PRIu64 " duplicates, %" PRIu64
        " rejected; time format %s, delimiter %s%s",
        in->file, scrm_csv_report_rows_read(r), scrm_dataset_customer_count(L->ds),
        scrm_csv_report_empty_customer(r), scrm_csv_report_excluded(r),
        scrm_csv_report_duplicates(r), scrm_csv_report_rejected(r),
        time_format_name(scrm_csv_report_time_format(r)),
        delimiter_name(scrm_csv_report_delimiter(r)),
        scrm_dataset_has_amounts(L->ds) ? "" : "; no amounts (count-only)");
    if (scrm_dataset_order_count(L->ds) == 0)
        msg("warning: %s gave no orders (%" PRIu64 " rows read): there is nothing to analyse",
            in->file, scrm_csv_report_rows_read(r));
    if (in->csv.order_id_column)
        msg("orders: %" PRIu64 " orders; %" PRIu64 " lines merged into %" PRIu64
            " orders of several lines",
            scrm_csv_report_rows_added(r), scrm_csv_report_lines_merged(r),
            scrm_csv_report_orders_merged(r));
    return 0;
}

void input_unload(struct cli_loaded *L)
{
    scrm_csv_report_free(L->report);
    scrm_dataset_free(L->ds);
}

void input_json_report(FILE *f, const struct cli_input *in, const struct cli_loaded *L)
{
    const scrm_csv_report *r = L->report;
    fputs("\"input\":", f);
    json_string(f, in->file);
    fprintf(f,
            ",\"load\":{\"rows\":%" PRIu64 ",\"added\":%" PRIu64 ",\"customers\":%" PRIu64
            ",\"skipped_empty_customer\":%" PRIu64 ",\"excluded\":%" PRIu64
            ",\"duplicates\":%" PRIu64 ",\"lines_merged\":%" PRIu64
            ",\"orders_merged\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"time_format\":",
            scrm_csv_report_rows_read(r), scrm_csv_report_rows_added(r),
            scrm_dataset_customer_count(L->ds), scrm_csv_report_empty_customer(r),
            scrm_csv_report_excluded(r), scrm_csv_report_duplicates(r),
            scrm_csv_report_lines_merged(r), scrm_csv_report_orders_merged(r),
            scrm_csv_report_rejected(r));
    json_string(f, time_format_name(scrm_csv_report_time_format(r)));
    fprintf(f, ",\"amounts\":%s}", scrm_dataset_has_amounts(L->ds) ? "true" : "false");
}
