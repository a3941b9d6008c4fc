/* Error paths that no other test reached (found with the coverage report of
 * ./run-tests, build-cov/coverage-lib.txt): each one's code, message, and
 * that outputs, handles and files are left as the documentation says. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <shopcrm.h>
#include "failalloc.h"

#define DAY INT64_C(86400)
#define T0 INT64_C(852076800) /* 1997-01-01 */

static char tmpdir[64];

static void tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* 300 customers 1000..1299, keys as strings when str, one order each plus
 * a second one for every third. */
static scrm_dataset *make_ds(int str)
{
    enum { N = 400 };
    static uint64_t k[N];
    static char kb[N][16];
    static const char *ks[N];
    static int64_t t[N], a[N];
    for (int i = 0; i < N; i++) {
        int c = i < 300 ? i : (i - 300) * 3;
        k[i] = 1000 + (uint64_t)c;
        snprintf(kb[i], sizeof kb[i], "c%d", c);
        ks[i] = kb[i];
        t[i] = T0 + (int64_t)(i % 97) * DAY;
        a[i] = 100 + i * 7;
    }
    scrm_dataset_options o = SCRM_DATASET_OPTIONS_INIT;
    o.key_type = str ? SCRM_KEY_STRING : SCRM_KEY_U64;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, &o), SCRM_OK);
    int rc = str ? scrm_dataset_append_str(NULL, ds, N, ks, NULL, t, a, NULL, NULL)
                 : scrm_dataset_append_u64(NULL, ds, N, k, t, a, NULL, NULL);
    assert_int_equal(rc, SCRM_OK);
    return ds;
}

static void assert_error_says(const char *what)
{
    if (!strstr(scrm_last_error(), what))
        fail_msg("last error '%s' does not say '%s'", scrm_last_error(), what);
}

/* ---- CSV ---- */

static void test_csv_header_with_unterminated_quote_is_a_parse_error(void **state)
{
    (void)state;
    const char *text = "\"customer_id,date,amount\n1,20240301,1\n2,20240302,2\n";
    char path[128];
    tmp_path(path, sizeof path, "unterminated.csv");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    for (int from_file = 0; from_file <= 1; from_file++) {
        scrm_dataset *ds = make_ds(0);
        uint64_t orders = scrm_dataset_order_count(ds), customers = scrm_dataset_customer_count(ds);
        scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
        int rc = from_file ? scrm_csv_load_file(&rep, ds, path, NULL)
                           : scrm_csv_load_buffer(&rep, ds, text, strlen(text), NULL);
        assert_int_equal(rc, SCRM_EPARSE);
        assert_error_says("unterminated quoted field in the header");
        assert_int_equal(scrm_last_error_index(), 1);
        assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
        assert_int_equal(scrm_dataset_order_count(ds), orders);
        assert_int_equal(scrm_dataset_customer_count(ds), customers);
        scrm_dataset_free(ds);
    }
    remove(path);
}

static void test_csv_options_without_required_columns_are_invalid(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n1,20240301,1\n";
    static const struct {
        const char *name;
        const char *customer, *time, *amount;
        const char *why;
    } cases[] = {
        {"no customer column", NULL, "date", "amount", "customer_column and time_column are required"},
        {"no time column", "customer_id", NULL, "amount", "customer_column and time_column are required"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        print_message("%s\n", cases[i].name);
        scrm_dataset *ds = NULL;
        assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.customer_column = cases[i].customer;
        o.time_column = cases[i].time;
        o.amount_column = cases[i].amount;
        scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, strlen(text), &o), SCRM_EINVAL);
        assert_error_says(cases[i].why);
        assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
        assert_int_equal(scrm_dataset_order_count(ds), 0);
        assert_int_equal(scrm_dataset_key_type(ds), SCRM_KEY_AUTO);
        scrm_dataset_free(ds);
    }
}

static void test_csv_buffer_longer_than_ptrdiff_max_is_invalid(void **state)
{
    (void)state;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
    /* never read: the length is refused first */
    assert_int_equal(scrm_csv_load_buffer(&rep, ds, "x", (uint64_t)PTRDIFF_MAX + 1, NULL),
                     SCRM_EINVAL);
    assert_error_says("len is too large");
    assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
    scrm_dataset_free(ds);
}

static void test_csv_file_that_is_not_regular_is_an_io_error(void **state)
{
    (void)state;
    const char *paths[] = {tmpdir, "/dev/null"};
    for (int i = 0; i < 2; i++) {
        scrm_dataset *ds = NULL;
        assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
        scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
        assert_int_equal(scrm_csv_load_file(&rep, ds, paths[i], NULL), SCRM_EIO);
        assert_error_says("not a regular file");
        assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
        scrm_dataset_free(ds);
    }
}

static void test_csv_more_threads_than_chunks_gives_the_same_rows(void **state)
{
    (void)state;
    const char *text = "customer_id,date,amount\n1,20240301,1\n2,20240302,2.5\n1,20240303,3\n";
    uint64_t got[2][3];
    for (int k = 0; k < 2; k++) {
        scrm_dataset *ds = NULL;
        assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.threads = k ? 100000 : 1; /* clamped to the most chunks a window has */
        scrm_csv_report *rep = NULL;
        assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, strlen(text), &o), SCRM_OK);
        got[k][0] = scrm_csv_report_rows_added(rep);
        got[k][1] = scrm_dataset_customer_count(ds);
        int64_t lo, hi;
        assert_int_equal(scrm_dataset_time_range(&lo, &hi, ds), SCRM_OK);
        got[k][2] = (uint64_t)(hi - lo);
        scrm_csv_report_free(rep);
        scrm_dataset_free(ds);
    }
    assert_memory_equal(got[0], got[1], sizeof got[0]);
    assert_int_equal(got[0][0], 3);
}

static void test_csv_quantity_times_price_out_of_range_is_a_bad_row(void **state)
{
    (void)state;
    /* 10^12 x 10^11 = 10^23 major units: far beyond int64 minor units */
    const char *text = "customer_id,date,qty,price\n1,20240301,2,1.5\n"
                       "2,20240301,1000000000000,100000000000\n";
    for (int strict = 0; strict <= 1; strict++) {
        scrm_dataset *ds = NULL;
        assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
        scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
        o.amount_column = NULL;
        o.quantity_column = "qty";
        o.unit_price_column = "price";
        o.on_error = strict ? SCRM_CSV_STRICT : SCRM_CSV_SKIP;
        scrm_csv_report *rep = strict ? FAILALLOC_SENTINEL(scrm_csv_report) : NULL;
        int rc = scrm_csv_load_buffer(&rep, ds, text, strlen(text), &o);
        if (strict) {
            assert_int_equal(rc, SCRM_EPARSE);
            assert_error_says("out of range");
            assert_int_equal(scrm_last_error_index(), 3);
            assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
            assert_int_equal(scrm_dataset_order_count(ds), 0);
        } else {
            assert_int_equal(rc, SCRM_OK);
            assert_int_equal(scrm_csv_report_rows_added(rep), 1);
            assert_int_equal(scrm_csv_report_rejected(rep), 1);
            uint64_t line;
            const char *col, *why;
            assert_int_equal(scrm_csv_report_reject(&line, &col, &why, rep, 0), SCRM_OK);
            assert_int_equal(line, 3);
            assert_string_equal(col, "price");
            assert_non_null(strstr(why, "out of range"));
            scrm_csv_report_free(rep);
        }
        scrm_dataset_free(ds);
    }
}

/* ---- CSV writers ---- */

enum { W_RFM, W_AUDIENCE, W_COHORTS, N_WRITERS };
static const char *const writer_name[] = {"scrm_rfm_write_csv", "scrm_rfm_audience_write_csv",
                                          "scrm_cohorts_write_csv"};

static int write_with(int w, const scrm_dataset *ds, const char *path)
{
    int rc = SCRM_OK;
    if (w == W_COHORTS) {
        scrm_cohorts *c = NULL;
        scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
        o.unit = SCRM_PERIOD_DAY;
        if ((rc = scrm_cohorts_compute(&c, ds, &o)) == SCRM_OK)
            rc = scrm_cohorts_write_csv(c, path, 2);
        scrm_cohorts_free(c);
        return rc;
    }
    scrm_rfm *r = NULL;
    if ((rc = scrm_rfm_compute(&r, ds, NULL)) != SCRM_OK)
        return rc;
    static const int32_t segs[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    rc = w == W_RFM ? scrm_rfm_write_csv(r, ds, path)
                    : scrm_rfm_audience_write_csv(r, ds, segs, 12, path);
    scrm_rfm_free(r);
    return rc;
}

static void test_writers_report_eio_on_a_full_device(void **state)
{
    (void)state;
    if (!exists("/dev/full"))
        skip();
    scrm_dataset *ds = make_ds(1);
    for (int w = 0; w < N_WRITERS; w++) {
        print_message("%s\n", writer_name[w]);
        assert_int_equal(write_with(w, ds, "/dev/full"), SCRM_EIO);
        assert_error_says("cannot write '/dev/full'");
        assert_true(exists("/dev/full")); /* a device is not removed */
    }
    scrm_dataset_free(ds);
}

/* A regular file that cannot be written to the end (RLIMIT_FSIZE: write()
 * fails with EFBIG once the file reaches 1 KiB): SCRM_EIO and no partial
 * file. In a child process, so the limit stays there. */
static void test_writer_failure_on_a_regular_file_leaves_no_file(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(1);
    for (int w = 0; w < N_WRITERS; w++) {
        char path[128];
        tmp_path(path, sizeof path, "limited.csv");
        /* the same output without a limit is larger than the limit */
        assert_int_equal(write_with(w, ds, path), SCRM_OK);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 1024);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl;
            getrlimit(RLIMIT_FSIZE, &rl);
            rl.rlim_cur = 1024;
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(3);
            int rc = write_with(w, ds, path);
            if (rc != SCRM_EIO)
                _exit(4);
            if (!strstr(scrm_last_error(), "cannot write"))
                _exit(5);
            _exit(exists(path) ? 6 : 0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("%s: child status %d (3 setrlimit, 4 not SCRM_EIO, 5 message, 6 file left)",
                     writer_name[w], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        assert_false(exists(path));
    }
    scrm_dataset_free(ds);
}

/* A key longer than the writer's 1 MiB buffer goes to the file directly. */
static void test_writer_puts_a_key_longer_than_its_buffer(void **state)
{
    (void)state;
    size_t n = (size_t)3 << 19; /* 1.5 MiB */
    char *key = malloc(n + 1);
    assert_non_null(key);
    memset(key, 'k', n);
    key[n] = 0;
    const char *keys[] = {key, "short"};
    int64_t t[] = {T0, T0 + DAY}, a[] = {100, 200};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_str(NULL, ds, 2, keys, NULL, t, a, NULL, NULL), SCRM_OK);
    char path[128];
    tmp_path(path, sizeof path, "long_key.csv");
    for (int w = W_RFM; w <= W_AUDIENCE; w++) {
        assert_int_equal(write_with(w, ds, path), SCRM_OK);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *got = malloc(n + 4096);
        assert_non_null(got);
        size_t len = fread(got, 1, n + 4096, f);
        fclose(f);
        assert_true(len > n);
        /* the long key's line (customers come in index order, not append order) */
        const char *line = memchr(got, '\n', len);
        while (line && line + 1 < got + len && line[1] != 'k')
            line = memchr(line + 1, '\n', (size_t)(got + len - line - 1));
        assert_non_null(line);
        assert_true((size_t)(got + len - line) > n + 1);
        assert_memory_equal(line + 1, key, n);
        assert_int_equal(line[1 + n], ',');
        free(got);
        if (exists("/dev/full")) {
            assert_int_equal(write_with(w, ds, "/dev/full"), SCRM_EIO);
            assert_error_says("cannot write");
        }
    }
    remove(path);
    scrm_dataset_free(ds);
    free(key);
}

static void test_audience_write_with_a_bad_segment_writes_nothing(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(0);
    scrm_rfm *r = NULL;
    assert_int_equal(scrm_rfm_compute(&r, ds, NULL), SCRM_OK);
    char path[128];
    tmp_path(path, sizeof path, "audience.csv");
    const int32_t bad[] = {0, 11};
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, bad, 2, path), SCRM_EINVAL);
    assert_false(exists(path));
    const int32_t worse[] = {-2};
    assert_int_equal(scrm_rfm_audience_write_csv(r, ds, worse, 1, path), SCRM_EINVAL);
    assert_false(exists(path));
    scrm_rfm_free(r);
    scrm_dataset_free(ds);
}

/* ---- analyses ---- */

struct cancel_at_end {
    int calls, saw_total;
};
static int cancel_when_done(uint64_t done, uint64_t total, void *payload)
{
    struct cancel_at_end *c = payload;
    c->calls++;
    if (done == total) {
        c->saw_total = 1;
        return 1;
    }
    return 0;
}

static void test_analysis_cancelled_at_its_last_progress_call_returns_nothing(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(0);
    struct cancel_at_end c = {0, 0};
    scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
    o.progress = cancel_when_done;
    o.progress_payload = &c;
    scrm_rfm *r = FAILALLOC_SENTINEL(scrm_rfm);
    assert_int_equal(scrm_rfm_compute(&r, ds, &o), SCRM_ECANCELLED);
    assert_true(c.saw_total);
    assert_ptr_equal(r, FAILALLOC_SENTINEL(scrm_rfm));
    scrm_dataset_free(ds);
}

static void test_analysis_threads_above_the_partitions_give_the_same_result(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(0);
    scrm_rfm *r[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        scrm_rfm_options o = SCRM_RFM_OPTIONS_INIT;
        o.threads = k ? 100000 : 1;
        assert_int_equal(scrm_rfm_compute(&r[k], ds, &o), SCRM_OK);
    }
    uint32_t n = scrm_rfm_customer_count(r[0]);
    assert_int_equal(n, 300);
    assert_int_equal(scrm_rfm_customer_count(r[1]), n);
    assert_memory_equal(scrm_rfm_segments(r[0]), scrm_rfm_segments(r[1]), n * sizeof(int32_t));
    assert_memory_equal(scrm_rfm_revenue(r[0]), scrm_rfm_revenue(r[1]), n * sizeof(int64_t));
    scrm_rfm_free(r[0]);
    scrm_rfm_free(r[1]);
    scrm_dataset_free(ds);
}

/* Two customers acquired 9000 days apart, by day: 9001 x 9001 cells, over
 * SCRM_COHORTS_MAX_CELLS (2^26); refused before anything is allocated. */
static void test_cohorts_over_the_cell_limit_is_a_range_error(void **state)
{
    (void)state;
    uint64_t k[] = {1, 2};
    int64_t t[] = {T0, T0 + 9000 * DAY}, a[] = {100, 100};
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, k, t, a, NULL, NULL), SCRM_OK);
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.unit = SCRM_PERIOD_DAY;
    scrm_cohorts *c = FAILALLOC_SENTINEL(scrm_cohorts);
    assert_int_equal(scrm_cohorts_compute(&c, ds, &o), SCRM_ERANGE);
    assert_error_says("cells");
    assert_ptr_equal(c, FAILALLOC_SENTINEL(scrm_cohorts));
    o.unit = SCRM_PERIOD_MONTH; /* 296 x 296: fine */
    assert_int_equal(scrm_cohorts_compute(&c, ds, &o), SCRM_OK);
    assert_int_equal(scrm_cohorts_count(c), 296);
    scrm_cohorts_free(c);
    scrm_dataset_free(ds);
}

/* Each half's revenue cell fits int64, their sum does not. */
static void test_cohorts_merge_overflowing_a_revenue_cell_is_an_error(void **state)
{
    (void)state;
    scrm_cohorts *half[2] = {NULL, NULL};
    scrm_dataset *ds[2];
    for (int h = 0; h < 2; h++) {
        uint64_t k = 1 + (uint64_t)h;
        int64_t t = T0 + h * 3600, a = INT64_MAX / 2 + 1;
        assert_int_equal(scrm_dataset_new(&ds[h], NULL), SCRM_OK);
        assert_int_equal(scrm_dataset_append_u64(NULL, ds[h], 1, &k, &t, &a, NULL, NULL), SCRM_OK);
        assert_int_equal(scrm_cohorts_compute(&half[h], ds[h], NULL), SCRM_OK);
        assert_int_equal(scrm_cohorts_revenue(half[h])[0], INT64_MAX / 2 + 1);
    }
    scrm_cohorts *m = FAILALLOC_SENTINEL(scrm_cohorts);
    assert_int_equal(scrm_cohorts_merge(&m, half[0], half[1]), SCRM_EOVERFLOW);
    assert_ptr_equal(m, FAILALLOC_SENTINEL(scrm_cohorts));
    for (int h = 0; h < 2; h++) {
        assert_int_equal(scrm_cohorts_revenue(half[h])[0], INT64_MAX / 2 + 1); /* inputs kept */
        scrm_cohorts_free(half[h]);
        scrm_dataset_free(ds[h]);
    }
}

/* ---- NULL arguments of the small functions ---- */

static void test_lookups_with_null_arguments_are_invalid(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(0);
    int64_t lo = 7, hi = 7;
    uint32_t idx = 7;
    uint64_t key = 7;
    assert_int_equal(scrm_dataset_time_range(&lo, &hi, NULL), SCRM_EINVAL);
    assert_int_equal(lo + hi, 14);
    assert_int_equal(scrm_dataset_customer_key_u64(NULL, ds, 0), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_customer_key_u64(&key, NULL, 0), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_find_u64(NULL, ds, 1000), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_find_u64(&idx, NULL, 1000), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_find_str(&idx, ds, NULL, 0), SCRM_EINVAL);
    assert_int_equal(scrm_dataset_find_str(NULL, ds, "c1", 2), SCRM_EINVAL);
    assert_int_equal(idx + key, 14);
    const char *s = "unchanged";
    uint32_t len = 7;
    assert_int_equal(scrm_dataset_customer_key_str(&s, &len, NULL, 0), SCRM_EINVAL);
    assert_string_equal(s, "unchanged");
    assert_int_equal(len, 7);
    int64_t off = 7;
    assert_int_equal(scrm_time_parse_offset(&off, NULL, 3), SCRM_EINVAL);
    assert_int_equal(scrm_time_parse_offset(NULL, "+01:00", 6), SCRM_EINVAL);
    assert_int_equal(off, 7);
    assert_int_equal(scrm_money_print(NULL, 16, 100, 2), SCRM_EINVAL);
    scrm_dataset_free(ds);
}

static void test_time_parse_error_shows_a_long_value_cut(void **state)
{
    (void)state;
    char s[200];
    memset(s, 'x', sizeof s);
    int64_t t = 7;
    assert_int_equal(scrm_time_parse(&t, s, sizeof s, SCRM_TIME_ISO8601, 0), SCRM_EPARSE);
    assert_int_equal(t, 7);
    const char *e = scrm_last_error();
    assert_non_null(strstr(e, "..."));
    assert_null(strstr(e, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
    /* NULL text of length 0 is the empty text: not a time either */
    assert_int_equal(scrm_time_parse(&t, NULL, 0, SCRM_TIME_AUTO, 0), SCRM_EPARSE);
    assert_int_equal(t, 7);
}


/* More than the writer's 1 MiB buffer in small pieces: flushed as it
 * fills; on /dev/full the first flush fails and the rest is skipped. */
static void test_writer_output_larger_than_its_buffer(void **state)
{
    (void)state;
    enum { N = 40000 };
    uint64_t *k = malloc(N * sizeof *k);
    int64_t *t = malloc(N * sizeof *t), *a = malloc(N * sizeof *a);
    assert_true(k && t && a);
    for (uint32_t i = 0; i < N; i++) {
        k[i] = UINT64_C(10000000000000) + i;
        t[i] = T0 + (int64_t)(i % 300) * DAY;
        a[i] = 123456 + i;
    }
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, N, k, t, a, NULL, NULL), SCRM_OK);
    char path[128];
    tmp_path(path, sizeof path, "big.csv");
    assert_int_equal(write_with(W_RFM, ds, path), SCRM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > (1 << 20));
    /* line count: header + one per customer */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    long lines = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        lines += ch == '\n';
    fclose(f);
    assert_int_equal(lines, N + 1);
    remove(path);
    if (exists("/dev/full"))
        assert_int_equal(write_with(W_RFM, ds, "/dev/full"), SCRM_EIO);
    scrm_dataset_free(ds);
    free(k);
    free(t);
    free(a);
}

/* Results of one day each, 9000 days apart: their union is 9001 x 9001
 * cells, over the limit, although neither half is. */
static void test_cohorts_merge_over_the_cell_limit_is_a_range_error(void **state)
{
    (void)state;
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.unit = SCRM_PERIOD_DAY;
    scrm_cohorts *half[2] = {NULL, NULL};
    scrm_dataset *ds[2];
    for (int h = 0; h < 2; h++) {
        uint64_t key = 1 + (uint64_t)h;
        int64_t t = T0 + h * 9000 * DAY, a = 100;
        assert_int_equal(scrm_dataset_new(&ds[h], NULL), SCRM_OK);
        assert_int_equal(scrm_dataset_append_u64(NULL, ds[h], 1, &key, &t, &a, NULL, NULL), SCRM_OK);
        assert_int_equal(scrm_cohorts_compute(&half[h], ds[h], &o), SCRM_OK);
        assert_int_equal(scrm_cohorts_count(half[h]), 1);
    }
    scrm_cohorts *m = FAILALLOC_SENTINEL(scrm_cohorts);
    assert_int_equal(scrm_cohorts_merge(&m, half[0], half[1]), SCRM_ERANGE);
    assert_error_says("over the limit");
    assert_ptr_equal(m, FAILALLOC_SENTINEL(scrm_cohorts));
    for (int h = 0; h < 2; h++) {
        scrm_cohorts_free(half[h]);
        scrm_dataset_free(ds[h]);
    }
}

/* Given acquisition times and a window without any order: the cohorts
 * have their sizes and no activity. */
static void test_cohorts_with_acquisitions_and_no_order_in_the_window(void **state)
{
    (void)state;
    scrm_dataset *ds = make_ds(0);
    uint32_t n = (uint32_t)scrm_dataset_customer_count(ds);
    int64_t *acq = malloc(n * sizeof *acq);
    assert_non_null(acq);
    for (uint32_t i = 0; i < n; i++)
        acq[i] = i % 2 ? INT64_MIN : T0 + 400 * DAY + (int64_t)(i % 3) * 31 * DAY;
    scrm_cohorts_options o = SCRM_COHORTS_OPTIONS_INIT;
    o.acquisition = acq;
    o.acquisition_count = n;
    o.start = T0 + 365 * DAY; /* after every order */
    o.end = T0 + 500 * DAY;
    scrm_cohorts *c = NULL;
    assert_int_equal(scrm_cohorts_compute(&c, ds, &o), SCRM_OK);
    assert_int_equal(scrm_cohorts_count(c), 3);
    uint64_t sizes = 0, orders = 0;
    for (uint32_t i = 0; i < scrm_cohorts_count(c); i++)
        sizes += scrm_cohorts_sizes(c)[i];
    for (uint64_t i = 0; i < (uint64_t)scrm_cohorts_count(c) * scrm_cohorts_periods(c); i++)
        orders += scrm_cohorts_orders(c)[i];
    assert_int_equal(sizes, n / 2);
    assert_int_equal(orders, 0);
    scrm_cohorts_free(c);
    free(acq);
    scrm_dataset_free(ds);
}

static void test_small_argument_errors(void **state)
{
    (void)state;
    /* a u64 lookup in a string dataset */
    scrm_dataset *ds = make_ds(1);
    uint32_t idx = 7;
    assert_int_equal(scrm_dataset_find_u64(&idx, ds, 1000), SCRM_EINVAL);
    assert_error_says("string keys");
    assert_int_equal(idx, 7);
    /* CSV minor digits beyond the maximum */
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.minor_digits = SCRM_MAX_MINOR_DIGITS + 1;
    const char *text = "customer_id,date,amount\nx,20240301,1\n";
    scrm_csv_report *rep = FAILALLOC_SENTINEL(scrm_csv_report);
    uint64_t orders = scrm_dataset_order_count(ds);
    assert_int_equal(scrm_csv_load_buffer(&rep, ds, text, strlen(text), &o), SCRM_EINVAL);
    assert_error_says("minor_digits");
    assert_ptr_equal(rep, FAILALLOC_SENTINEL(scrm_csv_report));
    assert_int_equal(scrm_dataset_order_count(ds), orders);
    scrm_dataset_free(ds);
    /* dates: year 0 (a range error, as documented), a two-digit year */
    int64_t t = 7;
    assert_int_equal(scrm_time_parse(&t, "0000-03-01", 10, SCRM_TIME_ISO8601, 0), SCRM_ERANGE);
    assert_error_says("years 1 to 9999");
    assert_int_equal(scrm_time_parse(&t, "01/02/24", 8, SCRM_TIME_DMY, 0), SCRM_EPARSE);
    assert_int_equal(t, 7);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/scrm_errors_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_header_with_unterminated_quote_is_a_parse_error),
        cmocka_unit_test(test_csv_options_without_required_columns_are_invalid),
        cmocka_unit_test(test_csv_buffer_longer_than_ptrdiff_max_is_invalid),
        cmocka_unit_test(test_csv_file_that_is_not_regular_is_an_io_error),
        cmocka_unit_test(test_csv_more_threads_than_chunks_gives_the_same_rows),
        cmocka_unit_test(test_csv_quantity_times_price_out_of_range_is_a_bad_row),
        cmocka_unit_test(test_writers_report_eio_on_a_full_device),
        cmocka_unit_test(test_writer_failure_on_a_regular_file_leaves_no_file),
        cmocka_unit_test(test_writer_puts_a_key_longer_than_its_buffer),
        cmocka_unit_test(test_audience_write_with_a_bad_segment_writes_nothing),
        cmocka_unit_test(test_analysis_cancelled_at_its_last_progress_call_returns_nothing),
        cmocka_unit_test(test_analysis_threads_above_the_partitions_give_the_same_result),
        cmocka_unit_test(test_cohorts_over_the_cell_limit_is_a_range_error),
        cmocka_unit_test(test_cohorts_merge_overflowing_a_revenue_cell_is_an_error),
        cmocka_unit_test(test_lookups_with_null_arguments_are_invalid),
        cmocka_unit_test(test_time_parse_error_shows_a_long_value_cut),
        cmocka_unit_test(test_writer_output_larger_than_its_buffer),
        cmocka_unit_test(test_cohorts_merge_over_the_cell_limit_is_a_range_error),
        cmocka_unit_test(test_cohorts_with_acquisitions_and_no_order_in_the_window),
        cmocka_unit_test(test_small_argument_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
