/* bench_rfm: ingest from arrays + RFM (quantile scores) on synthetic orders.
 *
 *   bench_rfm [--threads 1,2] [--chunk ROWS] [--repeat R] [--seed S] [SIZES...]
 *
 * SIZES are order counts (default: 1M 10M; 50M needs about 3 GB). Customers
 * are about SIZE / 8. Each (size, threads) measurement runs in a fresh child
 * process (fork), so peak memory figures do not mix: the peak is the child's
 * ru_maxrss minus its resident size after the generator's buffers were
 * allocated, i.e. what the dataset and the analysis cost. Generating the
 * orders is not timed. With --chunk 0 all orders are generated first and
 * appended in one call; otherwise they are appended in chunks of ROWS
 * (default 1M) as they are generated.
 *
 * Prints one line per measurement and a final table; asserts nothing.
 * Targets (issue 3, 2-core machine): 10M orders / 1.25M customers,
 * ingest + RFM quantile <= 0.3 s, peak <= 48 bytes per order. */
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shopcrm.h>

#define TARGET_ORDERS UINT64_C(10000000)
#define TARGET_SECONDS 0.3
#define TARGET_BYTES_PER_ORDER 48.0

typedef struct result {
    uint64_t orders;
    uint64_t customers;     /* dataset's customer count */
    uint32_t threads;
    double ingest_s;        /* dataset_new + all appends */
    double rfm_s;           /* scrm_rfm_compute */
    uint64_t base_rss;      /* bytes resident before the dataset */
    uint64_t peak_ingest;   /* ru_maxrss after the ingest */
    uint64_t peak_all;      /* ru_maxrss at the end */
    double cpu_user_s;      /* user CPU of ingest + RFM (all threads) */
    double cpu_sys_s;       /* system CPU of ingest + RFM (page faults mostly) */
    uint64_t minflt;        /* minor page faults during ingest + RFM */
    int ok;
    char msg[256];
} result;

static uint64_t g_seed = 42;
/* perf record --control: write "enable"/"disable" around the timed parts. */
static int g_perf_ctl = -1, g_perf_ack = -1;
static int g_perf_skip; /* nonzero in --warmup rounds: not profiled */
static uint32_t g_chunk = BENCH_GEN_CHUNK;
static int g_warmup = 0;

typedef struct usage {
    double user, sys;
    uint64_t minflt;
} usage;

static usage usage_now(void)
{
    struct rusage ru;
    usage u = {0, 0, 0};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        u.user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
        u.sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
        u.minflt = (uint64_t)ru.ru_minflt;
    }
    return u;
}

/* Add the usage between snapshots a and b: only the timed parts are counted. */
static void usage_add(result *r, usage a, usage b)
{
    r->cpu_user_s += b.user - a.user;
    r->cpu_sys_s += b.sys - a.sys;
    r->minflt += b.minflt - a.minflt;
}

static void perf_cmd(const char *cmd)
{
    if (g_perf_ctl < 0 || g_perf_skip)
        return;
    ssize_t w = write(g_perf_ctl, cmd, strlen(cmd));
    (void)w;
    if (g_perf_ack >= 0) {
        char buf[16];
        ssize_t k = read(g_perf_ack, buf, sizeof buf);
        (void)k;
    }
}

/* Start / stop a timed part: perf (if asked), resource usage, clock. */
static usage timed_begin(double *t0)
{
    perf_cmd("enable\n");
    usage u = usage_now();
    *t0 = bench_now();
    return u;
}

static double timed_end(result *r, usage u0, double t0)
{
    double dt = bench_now() - t0;
    usage_add(r, u0, usage_now());
    perf_cmd("disable\n");
    return dt;
}

static void fail(result *r, const char *what, int err)
{
    r->ok = 0;
    snprintf(r->msg, sizeof r->msg, "%s: %s (%s)", what, scrm_strerror(err), scrm_last_error());
}

/* Run one measurement in the current (child) process. */
static void measure(result *r, uint64_t orders, uint32_t threads)
{
    memset(r, 0, sizeof *r);
    r->orders = orders;
    r->threads = threads;
    r->ok = 1;

    bench_gen g;
    scrm_dataset *ds = NULL;
    const int whole = (g_chunk == 0);
    if (bench_gen_init(&g, orders, g_seed, whole ? 0 : g_chunk) != 0) {
        r->ok = 0;
        snprintf(r->msg, sizeof r->msg, "generator: out of memory");
        return;
    }
    uint64_t *all_c = NULL;
    int64_t *all_t = NULL, *all_a = NULL;
    const uint64_t *c;
    const int64_t *t, *a;
    uint32_t n;
    if (whole) {
        /* Generate everything first; the arrays are part of the baseline. */
        all_c = malloc(orders * sizeof *all_c);
        all_t = malloc(orders * sizeof *all_t);
        all_a = malloc(orders * sizeof *all_a);
        if (!all_c || !all_t || !all_a) {
            r->ok = 0;
            snprintf(r->msg, sizeof r->msg, "arrays: out of memory");
            goto done;
        }
        uint64_t at = 0;
        while ((n = bench_gen_next(&g, &c, &t, &a)) > 0) {
            memcpy(all_c + at, c, n * sizeof *c);
            memcpy(all_t + at, t, n * sizeof *t);
            memcpy(all_a + at, a, n * sizeof *a);
            at += n;
        }
    }
    r->base_rss = bench_rss_now();

    /* --warmup W (one append only): W untimed rounds of the same work first,
     * everything freed after each, so the timed round's fresh memory comes
     * back from the kernel as warm as bench_python.py's does. */
    for (int round = 0; round <= (whole ? g_warmup : 0); round++) {
        if (round > 0) {
            scrm_dataset_free(ds);
            ds = NULL;
            r->ingest_s = r->rfm_s = r->cpu_user_s = r->cpu_sys_s = 0;
            r->minflt = 0;
        }
        g_perf_skip = round < (whole ? g_warmup : 0);
        scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
        dopt.key_type = SCRM_KEY_U64;
        dopt.threads = threads;
        double t0;
        usage u0 = timed_begin(&t0);
        int err = scrm_dataset_new(&ds, &dopt);
        double ingest = timed_end(r, u0, t0);
        if (err < 0) {
            fail(r, "scrm_dataset_new", err);
            goto done;
        }
        if (whole) {
            u0 = timed_begin(&t0);
            err = scrm_dataset_append_u64(NULL, ds, orders, all_c, all_t, all_a, NULL, NULL);
            ingest += timed_end(r, u0, t0);
        } else {
            while (err == SCRM_OK && (n = bench_gen_next(&g, &c, &t, &a)) > 0) {
                u0 = timed_begin(&t0);
                err = scrm_dataset_append_u64(NULL, ds, n, c, t, a, NULL, NULL);
                ingest += timed_end(r, u0, t0);
            }
        }
        if (err < 0) {
            fail(r, "scrm_dataset_append_u64", err);
            goto done;
        }
        r->ingest_s = ingest;
        r->peak_ingest = bench_rss_peak();
        r->customers = scrm_dataset_customer_count(ds);
        if (scrm_dataset_order_count(ds) != orders) {
            r->ok = 0;
            snprintf(r->msg, sizeof r->msg, "dataset holds %" PRIu64 " orders, expected %" PRIu64,
                     scrm_dataset_order_count(ds), orders);
            goto done;
        }

        {
            scrm_rfm_options ropt = SCRM_RFM_OPTIONS_INIT;
            ropt.method = SCRM_RFM_METHOD_QUANTILE;
            ropt.threads = threads;
            scrm_rfm *rfm = NULL;
            u0 = timed_begin(&t0);
            err = scrm_rfm_compute(&rfm, ds, &ropt);
            r->rfm_s = timed_end(r, u0, t0);
            if (err < 0) {
                fail(r, "scrm_rfm_compute", err);
                goto done;
            }
            scrm_rfm_free(rfm);
        }
    }
    r->peak_all = bench_rss_peak();

done:
    scrm_dataset_free(ds);
    free(all_c);
    free(all_t);
    free(all_a);
    bench_gen_free(&g);
}

/* Fork, measure in the child, send the result back through a pipe. */
static int run_child(result *r, uint64_t orders, uint32_t threads)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        result res;
        measure(&res, orders, threads);
        ssize_t w = write(fd[1], &res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t k = read(fd[0], (char *)r + got, sizeof *r - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        r->orders = orders;
        r->threads = threads;
        snprintf(r->msg, sizeof r->msg, "child died (status %d)", status);
        return -1;
    }
    return 0;
}

static double peak_bytes(const result *r)
{
    uint64_t p = r->peak_all > r->peak_ingest ? r->peak_all : r->peak_ingest;
    return p > r->base_rss ? (double)(p - r->base_rss) : 0.0;
}

static double peak_ingest_bytes(const result *r)
{
    return r->peak_ingest > r->base_rss ? (double)(r->peak_ingest - r->base_rss) : 0.0;
}

static void print_line(const result *r)
{
    if (!r->ok) {
        printf("orders=%" PRIu64 " threads=%u FAILED: %s\n", r->orders, r->threads, r->msg);
        return;
    }
    double total = r->ingest_s + r->rfm_s;
    printf("orders=%" PRIu64 " customers=%" PRIu64 " threads=%u ingest=%.3fs rfm=%.3fs "
           "total=%.3fs ns/order=%.1f peak=%.0fMB (%.1f B/order; after ingest %.1f B/order) "
           "cpu user=%.2fs sys=%.2fs minflt=%" PRIu64 "\n",
           r->orders, r->customers, r->threads, r->ingest_s, r->rfm_s, total,
           total * 1e9 / (double)r->orders, peak_bytes(r) / 1e6,
           peak_bytes(r) / (double)r->orders, peak_ingest_bytes(r) / (double)r->orders,
           r->cpu_user_s, r->cpu_sys_s, r->minflt);
    fflush(stdout);
}

static int print_usage(void)
{
    fprintf(stderr,
            "usage: bench_rfm [--threads LIST] [--chunk ROWS] [--repeat R] [--seed S] [SIZES...]\n"
            "  SIZES    order counts such as 1M 10M 50M (default: 1M 10M)\n"
            "  --threads LIST  comma-separated thread counts (default: 1,2)\n"
            "  --chunk ROWS    rows per append (default 1M; 0 = generate all, append once)\n"
            "  --repeat R      run each measurement R times, report the fastest (default 1)\n"
            "  --warmup W      with --chunk 0: W untimed rounds (ingest + RFM, all freed) in\n"
            "                  the same child before the timed one (default 0)\n"
            "  --perf-ctl CTL[,ACK]  FIFOs of `perf record -D -1 --control fifo:CTL,ACK`:\n"
            "                  profile only the timed parts (ingest + RFM)\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint32_t threads[8] = {1, 2};
    int n_threads = 2;
    int repeat = 1;
    uint64_t sizes[16];
    int n_sizes = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n_threads = 0;
            char *s = argv[++i];
            while (*s && n_threads < 8) {
                char *end;
                unsigned long v = strtoul(s, &end, 10);
                if (end == s || v == 0 || v > 256)
                    return print_usage();
                threads[n_threads++] = (uint32_t)v;
                s = *end == ',' ? end + 1 : end;
            }
        } else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            uint64_t v = strcmp(s, "0") == 0 ? 0 : bench_parse_count(s);
            if ((v == 0 && strcmp(s, "0") != 0) || v > UINT32_MAX - BENCH_GEN_MAX_PER_CUSTOMER)
                return print_usage();
            g_chunk = (uint32_t)v;
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
            if (repeat < 1)
                return print_usage();
        } else if (strcmp(argv[i], "--perf-ctl") == 0 && i + 1 < argc) {
            char *spec = argv[++i];
            char *comma = strchr(spec, ',');
            if (comma)
                *comma = '\0';
            g_perf_ctl = open(spec, O_WRONLY);
            if (g_perf_ctl < 0 || (comma && (g_perf_ack = open(comma + 1, O_RDONLY)) < 0)) {
                fprintf(stderr, "bench_rfm: --perf-ctl %s: %s\n", spec, strerror(errno));
                return 1;
            }
        } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            g_warmup = atoi(argv[++i]);
            if (g_warmup < 0)
                return print_usage();
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            g_seed = strtoull(argv[++i], NULL, 0);
        } else if (argv[i][0] == '-') {
            return print_usage();
        } else {
            uint64_t v = bench_parse_count(argv[i]);
            if (v == 0 || n_sizes >= 16)
                return print_usage();
            sizes[n_sizes++] = v;
        }
    }
    if (n_sizes == 0) {
        sizes[0] = 1000000;
        sizes[1] = 10000000;
        n_sizes = 2;
    }

    printf("bench_rfm: libshopcrm %s, seed %" PRIu64 ", %s, RFM with quantile scores, "
           "best of %d\n",
           scrm_version(), g_seed, g_chunk ? "chunked appends" : "one append", repeat);
    printf("machine: %ld cores, load average %.2f at start", sysconf(_SC_NPROCESSORS_ONLN),
           bench_loadavg());
    if (g_chunk)
        printf(", chunk = %u rows", g_chunk);
    printf("\n");
    fflush(stdout);

    result table[16 * 8];
    int n_rows = 0;
    for (int s = 0; s < n_sizes; s++) {
        for (int k = 0; k < n_threads; k++) {
            result best;
            int have = 0;
            for (int rep = 0; rep < repeat; rep++) {
                result r;
                run_child(&r, sizes[s], threads[k]);
                print_line(&r);
                if (!r.ok) {
                    best = r;
                    have = 1;
                    break;
                }
                if (!have || r.ingest_s + r.rfm_s < best.ingest_s + best.rfm_s) {
                    best = r;
                    have = 1;
                }
            }
            table[n_rows++] = best;
        }
    }

    printf("\nload average %.2f at end; user_s/sys_s: CPU time of the timed parts, all threads\n",
           bench_loadavg());
    printf("%12s %10s %3s %9s %9s %9s %9s %9s %9s %7s %7s\n", "orders", "customers", "thr",
           "ingest_s", "rfm_s", "total_s", "ns/order", "peak_MB", "B/order", "user_s", "sys_s");
    for (int i = 0; i < n_rows; i++) {
        const result *r = &table[i];
        if (!r->ok) {
            printf("%12" PRIu64 " %10s %3u  failed: %s\n", r->orders, "-", r->threads, r->msg);
            continue;
        }
        double total = r->ingest_s + r->rfm_s;
        printf("%12" PRIu64 " %10" PRIu64 " %3u %9.3f %9.3f %9.3f %9.1f %9.0f %9.1f %7.2f %7.2f\n",
               r->orders, r->customers, r->threads, r->ingest_s, r->rfm_s, total,
               total * 1e9 / (double)r->orders, peak_bytes(r) / 1e6,
               peak_bytes(r) / (double)r->orders, r->cpu_user_s, r->cpu_sys_s);
    }
    /* The target is for the machine's cores (2 here): other thread counts
     * are printed for reference, without a verdict. */
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 0; i < n_rows; i++) {
        const result *r = &table[i];
        if (!r->ok || r->orders != TARGET_ORDERS)
            continue;
        double total = r->ingest_s + r->rfm_s;
        double bpo = peak_bytes(r) / (double)r->orders;
        if ((long)r->threads != cores) {
            printf("reference, 10M orders, %u thread(s): ingest+RFM %.3f s, peak %.1f B/order "
                   "(the target is for all %ld cores)\n",
                   r->threads, total, bpo, cores);
            continue;
        }
        printf("target, 10M orders, %u thread(s): ingest+RFM %.3f s vs <= %.1f s (%s, %+.0f%%); "
               "peak %.1f B/order vs <= %.0f (%s, %+.0f%%)\n",
               r->threads, total, TARGET_SECONDS, total <= TARGET_SECONDS ? "met" : "MISSED",
               100.0 * (total / TARGET_SECONDS - 1.0), bpo, TARGET_BYTES_PER_ORDER,
               bpo <= TARGET_BYTES_PER_ORDER ? "met" : "MISSED",
               100.0 * (bpo / TARGET_BYTES_PER_ORDER - 1.0));
    }
    return 0;
}
