/* Argument parsing shared by every command: the command line loop, option
 * values, messages. Dates and UTC offsets are read by the library
 * (scrm_time_parse, scrm_time_parse_offset): the CLI has no calendar code. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- messages ---- */

static void vmsg(const char *fmt, va_list ap)
{
    fputs("shopcrm: ", stderr);
    vfprintf(stderr, fmt, ap);
}

void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int usage_error(const struct cli_command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    if (c)
        fprintf(stderr, "\nTry 'shopcrm %s --help'.\n", c->name);
    else
        fputs("\nTry 'shopcrm --help'.\n", stderr);
    return EXIT_USAGE;
}

int lib_error(const char *what, int rc)
{
    const char *detail = scrm_last_error();
    if (detail && *detail)
        msg("%s: %s", what, detail);
    else
        msg("%s: %s", what, scrm_strerror(rc));
    return EXIT_DATA;
}

/* ---- option values ---- */

int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A comma-separated list of finite numbers. */
int parse_list(const char *s, double *out, int max, int *n_out)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (n == max)
            return LIST_TOO_LONG;
        if (end == p || (*end != '\0' && *end != ','))
            return LIST_NOT_NUMBER;
        /* strtod reads "nan", "inf" and overflows to HUGE_VAL: numbers, not finite ones */
        if (errno || !isfinite(v))
            return LIST_NOT_FINITE;
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

int parse_offset(const char *s, int64_t *out)
{
    return scrm_time_parse_offset(out, s, strlen(s)) == SCRM_OK ? 0 : -1;
}

/* YYYYMMDD has no '-'; everything else is read as ISO 8601 (not AUTO: a
 * DATE option is never DD/MM/YYYY or epoch seconds). */
static int parse_date(const char *s, int64_t utc_offset, int64_t *out)
{
    size_t n = strlen(s);
    int format = n == 8 && !strchr(s, '-') ? SCRM_TIME_YYYYMMDD : SCRM_TIME_ISO8601;
    return scrm_time_parse(out, s, n, format, utc_offset) == SCRM_OK ? 0 : -1;
}

static int date_error(const struct cli_command *c, const char *opt, const char *v)
{
    return usage_error(c, "%s: '%s' is not a date (YYYY-MM-DD)", opt, v);
}

int cli_date_set(const struct cli_command *c, struct cli_date *d, const char *opt, const char *v)
{
    int64_t t;
    if (parse_date(v, 0, &t))
        return date_error(c, opt, v);
    d->text = v;
    return 0;
}

int cli_date_resolve(const struct cli_command *c, struct cli_date *d, const char *opt,
                     int64_t utc_offset)
{
    if (d->text && parse_date(d->text, utc_offset, &d->t))
        return date_error(c, opt, d->text);
    return 0;
}

int cli_window_resolve(const struct cli_command *c, struct cli_date *from, struct cli_date *to,
                       int64_t utc_offset, int empty_ok)
{
    int rc = cli_date_resolve(c, from, "--from", utc_offset);
    if (rc || (rc = cli_date_resolve(c, to, "--to", utc_offset)))
        return rc;
    if (from->text && to->text && (to->t < from->t || (!empty_ok && to->t == from->t)))
        return usage_error(c, empty_ok ? "--to is before --from" : "--to is not after --from");
    return 0;
}

int cli_choice(const struct cli_command *c, int *dst, const char *opt, const char *v,
               const char *const *names, const int *values, int n)
{
    int i = pick(v, names, n);
    if (i >= 0) {
        *dst = values ? values[i] : i;
        return 0;
    }
    char list[256];
    size_t len = 0;
    for (int k = 0; k < n && len < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", names[k]);
    return usage_error(c, "%s: '%s' is not one of %s", opt, v, list);
}

int cli_path_set(const struct cli_command *c, const char **dst, const char *opt, const char *v)
{
    if (!*v)
        return usage_error(c, "%s: empty file name", opt);
    *dst = v;
    return 0;
}

/* ---- the command line ---- */

void cli_command_list(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cli_n_commands && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s",
                              i == 0                  ? ""
                              : i + 1 < cli_n_commands ? ", "
                                                       : " or ",
                              cli_commands[i]->name);
}

static const char help_head[] =
    "Usage: shopcrm COMMAND FILE.csv [OPTIONS]\n"
    "\n"
    "Customer analytics reports over an orders CSV file (one row per order:\n"
    "customer, time, amount; negative amounts are refunds).\n"
    "\n"
    "Commands:\n";

static const char help_tail[] =
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

void cli_help(FILE *f, const struct cli_command *c)
{
    if (c) {
        fputs(c->help, f);
        fputs(input_help, f);
        return;
    }
    fputs(help_head, f);
    for (size_t i = 0; i < cli_n_commands; i++) {
        fprintf(f, "  %-8s ", cli_commands[i]->name);
        for (const char *s = cli_commands[i]->summary; *s; s++) {
            fputc(*s, f);
            if (*s == '\n')
                fputs("           ", f);
        }
        fputc('\n', f);
    }
    fputs(help_tail, f);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < cli_n_commands; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
    return NULL;
}

static const struct cli_option *find_option(const struct cli_option *t, size_t n, const char *s,
                                            size_t len)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(t[k].name) == len && strncmp(t[k].name, s, len) == 0)
            return &t[k];
    return NULL;
}

int cli_parse(const struct cli_command **cmd_out, struct cli_input *in, int argc, char **argv)
{
    char names[128];
    input_init(in);
    if (argc < 2) {
        cli_help(stderr, NULL);
        return EXIT_USAGE;
    }
    const char *c0 = argv[1];
    if (strcmp(c0, "--help") == 0 || strcmp(c0, "-h") == 0 || strcmp(c0, "help") == 0) {
        if (argc > 2 && strcmp(c0, "help") == 0) {
            const struct cli_command *c = find_command(argv[2]);
            if (!c)
                return usage_error(NULL, "unknown command '%s'", argv[2]);
            cli_help(stdout, c);
            return 0;
        }
        cli_help(stdout, NULL);
        return 0;
    }
    if (strcmp(c0, "--version") == 0 || strcmp(c0, "-V") == 0) {
        printf("shopcrm %s (libshopcrm %s)\n", SCRM_VERSION_STRING, scrm_version());
        return 0;
    }
    const struct cli_command *cmd = find_command(c0);
    if (!cmd) {
        cli_command_list(names, sizeof names);
        if (c0[0] == '-')
            return usage_error(NULL, "unknown option '%s' (a command comes first: %s)", c0,
                               names);
        return usage_error(NULL, "unknown command '%s' (%s)", c0, names);
    }

    /* --help anywhere wins over every other error. */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_help(stdout, cmd);
            return 0;
        }
    }

    int only_files = 0;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (only_files || s[0] != '-' || strcmp(s, "-") == 0) {
            if (in->file)
                return usage_error(cmd, "more than one input file ('%s' and '%s')", in->file, s);
            in->file = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_files = 1;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        const struct cli_option *o = find_option(cmd->options, cmd->n_options, s, len);
        int is_input = 0;
        if (!o && (o = find_option(input_options, n_input_options, s, len)) != NULL)
            is_input = 1;
        if (!o) {
            for (size_t k = 0; k < cli_n_commands; k++) {
                const struct cli_command *other = cli_commands[k];
                if (find_option(other->options, other->n_options, s, len))
                    return usage_error(cmd, "option %.*s is for 'shopcrm %s', not 'shopcrm %s'",
                                       (int)len, s, other->name, cmd->name);
            }
            return usage_error(cmd, "unknown option '%.*s'", (int)len, s);
        }
        const char *v = NULL;
        if (o->takes_value) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return usage_error(cmd, "option %s needs a value", o->name);
        } else if (eq) {
            return usage_error(cmd, "option %s takes no value", o->name);
        }
        int rc = is_input ? input_apply(cmd, in, o, v) : cmd->apply(cmd, o, v);
        if (rc)
            return rc;
    }
    int rc = input_check(cmd, in);
    if (!rc && cmd->check)
        rc = cmd->check(cmd, in);
    if (rc)
        return rc;
    *cmd_out = cmd;
    return -1;
}
