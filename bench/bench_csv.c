/* bench_csv: CSV loading speed and `shopcrm rfm` end to end on a generated file.
 *
 *   bench_csv [--file F.csv] [--threads 1,2] [--repeat R] [--cli PATH] [ORDERS]
 *
 * Without --file, writes ORDERS (default 10M) generated orders to
 * $TMPDIR/scrm_bench_<ORDERS>.csv (reused if it exists; the name is ORDERS as
 * written, e.g. scrm_bench_10M.csv, the file bench/run_duckdb_compare.sh uses). The file is read once first so every run finds it in the page
 * cache. Then:
 *   1. scrm_csv_load_file() into a new dataset: seconds and MB/s, per thread count;
 *   2. `shopcrm rfm FILE --time-col ts --out OUT.csv` (the CLI of this build,
 *      quantile scores): wall time and
 *      the CLI's peak RSS.
 * Prints numbers, asserts nothing. Target (issue 3): loading >= 400 MB/s.
 * The comparison with DuckDB is bench/run_duckdb_compare.sh. */
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shopcrm.h>

#ifndef BENCH_CLI_PATH
#define BENCH_CLI_PATH "tools/shopcrm"
#endif

#define TARGET_MBPS 400.0
/* Issue 9: the CLI on a streamed load, peak RSS per order (the dataset is ~32) */
#define TARGET_RSS_PER_ORDER 40.0

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Read the whole file once so that later runs read it from the page cache. */
static int warm(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    static char buf[1 << 20];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    return k < 0 ? -1 : 0;
}

/* Load the file into a fresh dataset; returns seconds, or -1 on error. */
static double load_once(const char *path, uint32_t threads, uint64_t *orders_out,
                        uint64_t *customers_out)
{
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    dopt.threads = threads;
    scrm_dataset *ds = NULL;
    double t0 = bench_now();
    int err = scrm_dataset_new(&ds, &dopt);
    if (err == SCRM_OK) {
        scrm_csv_options copt = SCRM_CSV_OPTIONS_INIT;
        copt.time_column = "ts";
        copt.threads = threads;
        err = scrm_csv_load_file(NULL, ds, path, &copt);
    }
    double dt = bench_now() - t0;
    if (err < 0) {
        fprintf(stderr, "bench_csv: loading %s: %s (%s)\n", path, scrm_strerror(err),
                scrm_last_error());
        scrm_dataset_free(ds);
        return -1;
    }
    *orders_out = scrm_dataset_order_count(ds);
    *customers_out = scrm_dataset_customer_count(ds);
    scrm_dataset_free(ds);
    return dt;
}

/* Run the CLI; returns wall seconds (or -1) and its peak RSS. */
static double run_cli(const char *cli, const char *csv, const char *out, const char *err_path,
                      uint64_t *maxrss_out)
{
    fflush(NULL);
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (errfd >= 0)
            dup2(errfd, 2);
        execl(cli, cli, "rfm", csv, "--time-col", "ts", "--out", out, (char *)NULL);
        fprintf(stderr, "bench_csv: cannot run %s: %s\n", cli, strerror(errno));
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    double dt = bench_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_csv: %s rfm %s failed (status %d); its messages are in %s\n",
                cli, csv, status, err_path);
        return -1;
    }
    *maxrss_out = (uint64_t)ru.ru_maxrss * 1024u;
    return dt;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_csv [--file F.csv] [--threads LIST] [--repeat R] [--cli PATH] [ORDERS]\n"
            "  ORDERS   rows to generate when no --file is given (default 10M)\n"
            "  --threads LIST  thread counts for the loader (default 1,2)\n"
            "  --repeat R      runs per measurement; the fastest is reported (default 3)\n"
            "  --cli PATH      the shopcrm program (default: this build's tools/shopcrm)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    const char *cli = BENCH_CLI_PATH;
    uint64_t orders = 10000000;
    const char *orders_arg = "10M";
    uint32_t threads[8] = {1, 2};
    int n_threads = 2;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc) {
            cli = argv[++i];
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
            if (repeat < 1)
                return usage();
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n_threads = 0;
            char *s = argv[++i];
            while (*s && n_threads < 8) {
                char *end;
                unsigned long v = strtoul(s, &end, 10);
                if (end == s || v == 0 || v > 256)
                    return usage();
                threads[n_threads++] = (uint32_t)v;
                s = *end == ',' ? end + 1 : end;
            }
        } else if (argv[i][0] == '-') {
            return usage();
        } else {
            orders = bench_parse_count(argv[i]);
            orders_arg = argv[i];
            if (orders == 0 || strchr(orders_arg, '/'))
                return usage();
        }
    }
    const char *tmp = getenv("TMPDIR");
    char gen_path[4096], out_path[4096], err_path[4096];
    snprintf(out_path, sizeof out_path, "%s/scrm_bench_rfm_out.csv", tmp ? tmp : "/tmp");
    snprintf(err_path, sizeof err_path, "%s/scrm_bench_rfm_err.txt", tmp ? tmp : "/tmp");
    if (!file) {
        snprintf(gen_path, sizeof gen_path, "%s/scrm_bench_%s.csv", tmp ? tmp : "/tmp",
                 orders_arg);
        file = gen_path;
        if (file_size(file) == 0) {
            uint64_t customers = 0, bytes = 0;
            double t0 = bench_now();
            if (bench_gen_write_csv(file, orders, 42, &customers, &bytes) != 0) {
                fprintf(stderr, "bench_csv: writing %s: %s\n", file, strerror(errno));
                return 1;
            }
            printf("generated %s: %" PRIu64 " orders, %" PRIu64 " customers, %.1f MB (%.1f s)\n",
                   file, orders, customers, (double)bytes / 1e6, bench_now() - t0);
        }
    }
    uint64_t size = file_size(file);
    if (size == 0 || warm(file) != 0) {
        fprintf(stderr, "bench_csv: cannot read %s\n", file);
        return 1;
    }
    printf("bench_csv: libshopcrm %s, file %s (%.1f MB), best of %d, %ld cores, "
           "load average %.2f\n",
           scrm_version(), file, (double)size / 1e6, repeat, sysconf(_SC_NPROCESSORS_ONLN),
           bench_loadavg());
    fflush(stdout);

    uint64_t orders_seen = 0; /* orders of the file, from the loads */
    for (int k = 0; k < n_threads; k++) {
        double best = -1;
        uint64_t o = 0, c = 0;
        for (int rep = 0; rep < repeat; rep++) {
            double dt = load_once(file, threads[k], &o, &c);
            if (dt < 0)
                return 1;
            if (best < 0 || dt < best)
                best = dt;
        }
        double mbps = (double)size / 1e6 / best;
        printf("csv load, %u thread(s): %.3f s, %.0f MB/s, %.1f ns/row (%" PRIu64
               " orders, %" PRIu64 " customers); target >= %.0f MB/s: %s\n",
               threads[k], best, mbps, best * 1e9 / (double)(o ? o : 1), o, c, TARGET_MBPS,
               mbps >= TARGET_MBPS ? "met" : "MISSED");
        fflush(stdout);
        orders_seen = o;
    }

    if (access(cli, X_OK) != 0) {
        printf("shopcrm rfm: %s not found, skipped\n", cli);
        return 0;
    }
    double best = -1;
    uint64_t rss = 0;
    for (int rep = 0; rep < repeat; rep++) {
        uint64_t r = 0;
        double dt = run_cli(cli, file, out_path, err_path, &r);
        if (dt < 0)
            return 1;
        if (best < 0 || dt < best) {
            best = dt;
            rss = r;
        }
    }
    printf("shopcrm rfm %s --time-col ts --out %s: %.3f s end to end (%.0f MB/s of CSV), peak RSS "
           "%.0f MB",
           file, out_path, best, (double)size / 1e6 / best, (double)rss / 1e6);
    if (orders_seen)
        printf(" = %.1f B/order; target <= %.0f: %s", (double)rss / (double)orders_seen,
               TARGET_RSS_PER_ORDER,
               (double)rss / (double)orders_seen <= TARGET_RSS_PER_ORDER ? "met" : "MISSED");
    printf("\n");
    return 0;
}
