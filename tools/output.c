/* Output helpers shared by the commands: JSON values, money and date cells
 * (through the library's scrm_money_print / scrm_time_print, with the
 * dataset's minor digits), --out paths and the SHOPCRM_TIMING line. The
 * CSV files are written by the library (scrm_rfm_write_csv,
 * scrm_cohorts_write_csv), the SVG heatmap by svg.c. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void timing(const struct cli_loaded *L, const char *fmt, ...)
{
    if (!getenv("SHOPCRM_TIMING"))
        return;
    va_list ap;
    fprintf(stderr, "shopcrm: timing: load %.3f s (%.1f MB/s), ", L->seconds,
            L->seconds > 0 ? (double)L->bytes / 1e6 / L->seconds : 0.0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void json_string(FILE *f, const char *s)
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

void json_number(FILE *f, double v)
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

void money_text(char *buf, size_t cap, int64_t minor, uint32_t minor_digits)
{
    uint32_t n = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
    if (scrm_money_print(buf, n, minor, minor_digits) != SCRM_OK)
        snprintf(buf, cap, "?");
}

void money_mean_text(char *buf, size_t cap, double minor, uint32_t minor_digits)
{
    snprintf(buf, cap, "%.*f", (int)minor_digits, scrm_money_to_major(minor, minor_digits));
}

static void styled_time(char *buf, size_t cap, int64_t t, int64_t utc_offset, int style)
{
    uint32_t n = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
    if (scrm_time_print(buf, n, t, utc_offset, style) != SCRM_OK)
        snprintf(buf, cap, "?");
}

void date_text(char *buf, size_t cap, int64_t t, int64_t utc_offset)
{
    styled_time(buf, cap, t, utc_offset, SCRM_TIME_STYLE_DATE);
}

void time_text(char *buf, size_t cap, int64_t t, int64_t utc_offset)
{
    styled_time(buf, cap, t, utc_offset, SCRM_TIME_STYLE_ISO8601);
}

int out_write(const char *out, FILE **table_out, int (*write)(const char *path, const void *ctx),
              const void *ctx)
{
    struct stat st;
    if (strcmp(out, "-") != 0)
        return write(out, ctx);
    *table_out = stderr;
    fflush(stdout);
    if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
        return write("/dev/stdout", ctx);
    const char *dir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/shopcrm-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        msg("cannot create a temporary file in %s: %s", dir && *dir ? dir : "/tmp",
            strerror(errno));
        return EXIT_DATA;
    }
    close(fd);
    int rc = write(tmp, ctx);
    FILE *f = rc == SCRM_OK ? fopen(tmp, "rb") : NULL;
    if (f) {
        char buf[1 << 16];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0 && fwrite(buf, 1, n, stdout) == n)
            ;
        int bad = ferror(f) || ferror(stdout) || fflush(stdout) != 0;
        fclose(f);
        if (bad) {
            msg("cannot write the output: %s", strerror(errno));
            rc = EXIT_DATA;
        }
    } else if (rc == SCRM_OK) {
        msg("cannot read '%s': %s", tmp, strerror(errno));
        rc = EXIT_DATA;
    }
    remove(tmp);
    return rc;
}
