/* The `shopcrm` command line: what its files share.
 *
 *   shopcrm.c     main and the table of commands
 *   args.c        argument parsing, option values, messages
 *   input.c       input options, the CSV load and its report
 *   output.c      JSON, money and date cells, --out paths, timing
 *   svg.c         the SVG heatmap writer
 *   cmd_*.c       one command each: its options, their checks, its run
 *
 * A command is a `struct cli_command` (below) listed in cli_commands[]
 * (shopcrm.c); docs/cli.md "Adding a command" says what else it takes. */
#ifndef SHOPCRM_CLI_H
#define SHOPCRM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <shopcrm.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* ---- commands ---- */

/* One option of a command: its id is the command's own, passed back to apply. */
struct cli_option {
    const char *name;
    int id;
    int takes_value;
};

/* The options every command takes (input.c): the input file, the CSV
 * loading options, --threads, --json. */
/* Most values of the repeatable --na-customer and --exclude options. */
#define CLI_MAX_LIST 64

struct cli_input {
    const char *file;
    scrm_csv_options csv;
    const char *na[CLI_MAX_LIST];         /* --na-customer values */
    const char *excl_col[CLI_MAX_LIST];   /* --exclude COLUMN=VALUE,... entries */
    const char *excl_val[CLI_MAX_LIST];
    uint32_t n_na, n_excl;
    char excl_buf[4096];                  /* the split copies of --exclude */
    size_t excl_used;
    int64_t utc_offset;
    uint32_t threads;
    uint32_t minor_digits;
    int amount_given;                     /* --amount-col was on the command line */
    int json;
};

struct cli_command {
    const char *name;
    const char *summary; /* 'shopcrm --help': lines after the first are indented */
    const char *help;    /* 'shopcrm NAME --help', before the input options */
    const struct cli_option *options;
    size_t n_options;
    /* One option of the command's table, in argv order: 0 or an exit status.
     * self is this command (for usage_error). */
    int (*apply)(const struct cli_command *self, const struct cli_option *o, const char *value);
    /* After the whole command line: checks across options (0 or an exit status). */
    int (*check)(const struct cli_command *self, const struct cli_input *in);
    /* Load, compute, write: an exit status. */
    int (*run)(const struct cli_input *in);
};

/* The table of commands (shopcrm.c). */
extern const struct cli_command *const cli_commands[];
extern const size_t cli_n_commands;

/* ---- messages (args.c) ---- */

/* "shopcrm: <message>" on stderr. */
void msg(const char *fmt, ...) CLI_PRINTF(1, 2);
/* A usage error: message, "Try 'shopcrm [CMD] --help'.", returns EXIT_USAGE. c may be NULL. */
int usage_error(const struct cli_command *c, const char *fmt, ...) CLI_PRINTF(2, 3);
/* A library failure: "what: <scrm_last_error()>", returns EXIT_DATA. */
int lib_error(const char *what, int rc);

/* ---- command line (args.c) ---- */

/* Parse argv into *in and the command's options. Returns -1 to run *cmd_out,
 * or an exit status (help, version, usage error). */
int cli_parse(const struct cli_command **cmd_out, struct cli_input *in, int argc, char **argv);
/* Help of a command (NULL: the program's) on stdout. */
void cli_help(FILE *f, const struct cli_command *c);
/* "rfm, kpi or cohorts". */
void cli_command_list(char *buf, size_t cap);

/* ---- option values (args.c); each returns 0 or -1 ---- */

int pick(const char *v, const char *const *names, int n);
int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
/* A comma-separated list of at most max finite numbers: 0, or why not
 * (nothing written to *n_out then). */
enum { LIST_NOT_NUMBER = -1, LIST_NOT_FINITE = -2, LIST_TOO_LONG = -3 };
int parse_list(const char *s, double *out, int max, int *n_out);
int parse_offset(const char *s, int64_t *out);

/* A DATE option: YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDTHH:MM[:SS], local time.
 * cli_date_set checks the text when the option is read (a usage error
 * names the option); cli_date_resolve makes it a UTC time once
 * --utc-offset is known. */
struct cli_date {
    const char *text; /* NULL: not given */
    int64_t t;        /* UTC seconds, after cli_date_resolve */
};
int cli_date_set(const struct cli_command *c, struct cli_date *d, const char *opt, const char *v);
int cli_date_resolve(const struct cli_command *c, struct cli_date *d, const char *opt,
                     int64_t utc_offset);
/* --from and --to resolved together (either may be absent) and checked:
 * --to must be after --from, or not before it when empty_ok. */
int cli_window_resolve(const struct cli_command *c, struct cli_date *from, struct cli_date *to,
                       int64_t utc_offset, int empty_ok);
/* A value among names: *dst = values[i] (i itself if values is NULL), or
 * the usage error "OPT: 'v' is not one of a, b, c". */
int cli_choice(const struct cli_command *c, int *dst, const char *opt, const char *v,
               const char *const *names, const int *values, int n);
/* A file name option (--out, --svg): must not be empty. */
int cli_path_set(const struct cli_command *c, const char **dst, const char *opt, const char *v);

/* ---- input (input.c) ---- */

extern const struct cli_option input_options[];
extern const size_t n_input_options;
extern const char input_help[];
void input_init(struct cli_input *in);
int input_apply(const struct cli_command *c, struct cli_input *in, const struct cli_option *o,
                const char *v);
/* After the command line: checks and the options derived from others. */
int input_check(const struct cli_command *c, struct cli_input *in);

struct cli_loaded {
    scrm_dataset *ds;
    scrm_csv_report *report;
    uint64_t bytes;
    double seconds;
    uint32_t minor_digits; /* scrm_dataset_minor_digits(ds) */
};
/* Load the file, print the load report on stderr: 0 or EXIT_DATA. */
int input_load(struct cli_loaded *L, const struct cli_input *in);
void input_unload(struct cli_loaded *L);
/* The load report as JSON members: "input":...,"load":{...}. */
void input_json_report(FILE *f, const struct cli_input *in, const struct cli_loaded *L);

/* ---- output (output.c) ---- */

double now_seconds(void);
/* With SHOPCRM_TIMING set: "timing: load ... s (... MB/s), <rest>" on stderr. */
void timing(const struct cli_loaded *L, const char *fmt, ...) CLI_PRINTF(2, 3);

void json_string(FILE *f, const char *s);
/* A double: null when not finite; the shortest text that reads back exactly. */
void json_number(FILE *f, double v);
/* Exact major units of minor units, as text ("12.50"; "1250" for 0 digits). */
void money_text(char *buf, size_t cap, int64_t minor, uint32_t minor_digits);
/* A mean of minor units in major units, rounded to minor_digits decimals. */
void money_mean_text(char *buf, size_t cap, double minor, uint32_t minor_digits);
/* The local date of UTC time t ("?" if out of range). */
void date_text(char *buf, size_t cap, int64_t t, int64_t utc_offset);
/* The full local time of UTC time t in ISO 8601 with its offset
 * ("2017-06-01T00:00:00-03:00", "...Z" at offset 0; "?" if out of range). */
void time_text(char *buf, size_t cap, int64_t t, int64_t utc_offset);

/* --out PATH through a library CSV writer, write(path, ctx). "-" is stdout
 * (*table_out then becomes stderr: the table moves there): a pipe or a
 * terminal is written as /dev/stdout; a regular file, which reopening would
 * truncate, through a temporary file copied to stdout. Returns 0; the
 * writer's SCRM_E* code (the caller reports it); or EXIT_DATA, reported. */
int out_write(const char *out, FILE **table_out, int (*write)(const char *path, const void *ctx),
              const void *ctx);

#endif
