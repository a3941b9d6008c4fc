/* Fuzz target for the CSV loader: parsing one input in one chunk, in
 * many chunks on several threads, and streamed in many small windows must
 * give the same result, whatever the bytes, and never crash or leak: the
 * same counts, rejects and messages, and the same rows, each owned by the
 * same customer, in the same order (customers compared in key order, each
 * one's (time, amount) rows in append order, read through the partition
 * view of lib/internal.h).
 *
 * Built two ways: with -Dfuzzing=true (clang, -fsanitize=fuzzer, defines
 * SCRM_LIBFUZZER) it is a libFuzzer target; otherwise main() is a
 * regression driver (zstd: tests/fuzz/regression_driver.c): it feeds each
 * file named on the command line, or found in a directory named there
 * (tests/fuzz/corpus/), to LLVMFuzzerTestOneInput, then a deterministic
 * stream of random CSV-like inputs, so plain `meson test` runs both. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "internal.h"

extern uint64_t scrm__csv_min_chunk_bytes; /* test hooks in lib/csv.c */
extern uint64_t scrm__csv_window_bytes;

typedef struct result {
    int rc;
    uint64_t read, added, empty, rejected, stored_rejects, orders;
    uint64_t digest; /* of the reject list */
    /* Every customer in key order: its key, its row count, then its rows'
     * (time, amount) in append order; compared byte for byte. */
    unsigned char *rows;
    size_t rows_len;
    int format, key_type;
    int64_t index;
    char msg[600];
} result;

static const scrm_dataset *sort_ds; /* for by_key: qsort has no payload */

static int by_key(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (scrm_dataset_key_type(sort_ds) == SCRM_KEY_U64) {
        uint64_t x = 0, y = 0;
        scrm_dataset_customer_key_u64(&x, sort_ds, a);
        scrm_dataset_customer_key_u64(&y, sort_ds, b);
        return x < y ? -1 : x > y;
    }
    const char *x = NULL, *y = NULL;
    uint32_t lx = 0, ly = 0;
    scrm_dataset_customer_key_str(&x, &lx, sort_ds, a);
    scrm_dataset_customer_key_str(&y, &ly, sort_ds, b);
    int c = memcmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static void put(result *r, size_t *cap, const void *p, size_t n)
{
    if (!r->rows)
        return;
    if (r->rows_len + n > *cap) {
        while (r->rows_len + n > *cap)
            *cap *= 2;
        unsigned char *q = realloc(r->rows, *cap);
        if (!q) {
            free(r->rows);
            r->rows = NULL;
            return;
        }
        r->rows = q;
    }
    memcpy(r->rows + r->rows_len, p, n);
    r->rows_len += n;
}

/* r->rows from the partition view: which customer owns each row, in what order. */
static int canonical_rows(result *r, const scrm_dataset *ds)
{
    uint64_t nc = scrm_dataset_customer_count(ds), nr = scrm_dataset_order_count(ds);
    uint32_t *order = malloc((nc + 1) * sizeof *order);
    uint64_t *off = calloc(nc + 2, sizeof *off);
    int64_t (*row)[2] = malloc((nr + 1) * sizeof *row);
    size_t cap = 256;
    r->rows = malloc(cap);
    r->rows_len = 0;
    int err = !order || !off || !row || !r->rows;
    for (uint32_t pass = 0; pass < 2 && !err; pass++) {
        for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
            scrm__part_view v;
            scrm__dataset_partition(ds, p, &v);
            /* not SCRM__EACH_SEG: an empty partition has seg == NULL, and
             * NULL + 0 is undefined (clang's UBSan reports it) */
            for (const scrm__row_seg *g = v.seg; g && g < v.seg + v.n_seg; g++)
                for (uint64_t i = 0; i < g->n; i++) {
                    uint32_t c = v.gid[g->cust[i]];
                    if (pass == 0) {
                        off[c + 1]++;
                    } else {
                        row[off[c]][0] = g->time[i];
                        row[off[c]++][1] = g->amount[i];
                    }
                }
        }
        if (pass == 0) /* counts to starts */
            for (uint64_t c = 0; c < nc; c++)
                off[c + 1] += off[c];
        else /* starts moved to ends: shift back */
            for (uint64_t c = nc; c > 0; c--)
                off[c] = off[c - 1];
        if (pass == 1)
            off[0] = 0;
    }
    if (!err) {
        err = off[nc] != nr; /* every row belongs to one known customer */
        for (uint32_t c = 0; c < nc; c++)
            order[c] = c;
        sort_ds = ds;
        qsort(order, nc, sizeof *order, by_key);
        for (uint64_t k = 0; k < nc && !err; k++) {
            uint32_t c = order[k];
            if (scrm_dataset_key_type(ds) == SCRM_KEY_U64) {
                uint64_t key = 0;
                scrm_dataset_customer_key_u64(&key, ds, c);
                put(r, &cap, &key, sizeof key);
            } else {
                const char *key = NULL;
                uint32_t len = 0;
                scrm_dataset_customer_key_str(&key, &len, ds, c);
                put(r, &cap, &len, sizeof len);
                put(r, &cap, key, len);
            }
            uint64_t n = off[c + 1] - off[c];
            put(r, &cap, &n, sizeof n);
            put(r, &cap, row[off[c]], n * sizeof *row);
        }
        err = err || !r->rows;
    }
    free(order);
    free(off);
    free(row);
    return err;
}

static void load(result *r, const char *buf, size_t len, uint64_t window, uint64_t min_chunk,
                 uint32_t threads, int on_error, int key_type)
{
    scrm__csv_window_bytes = window;
    scrm__csv_min_chunk_bytes = min_chunk;
    scrm_dataset_options dopt = SCRM_DATASET_OPTIONS_INIT;
    dopt.key_type = key_type;
    scrm_dataset *ds = NULL;
    memset(r, 0, sizeof *r);
    if (scrm_dataset_new(&ds, &dopt) != SCRM_OK) {
        r->rc = 1;
        return;
    }
    scrm_csv_options o = SCRM_CSV_OPTIONS_INIT;
    o.threads = threads;
    o.on_error = on_error;
    o.customer_column = "c";
    o.time_column = "t";
    o.amount_column = "a";
    o.max_rejects = 5;
    scrm_csv_report *rep = NULL;
    r->rc = scrm_csv_load_buffer(&rep, ds, buf, len, &o);
    if (r->rc == SCRM_OK) {
        r->read = scrm_csv_report_rows_read(rep);
        r->added = scrm_csv_report_rows_added(rep);
        r->empty = scrm_csv_report_empty_customer(rep);
        r->rejected = scrm_csv_report_rejected(rep);
        r->stored_rejects = scrm_csv_report_reject_count(rep);
        r->format = scrm_csv_report_time_format(rep);
        r->key_type = scrm_csv_report_key_type(rep);
        r->orders = scrm_dataset_order_count(ds);
        if (canonical_rows(r, ds) != 0)
            r->rc = 1;
        for (uint64_t i = 0; i < r->stored_rejects; i++) {
            uint64_t line;
            const char *col, *why;
            scrm_csv_report_reject(&line, &col, &why, rep, i);
            r->digest += line * 31 + strlen(why) * 7 + strlen(col);
        }
    } else {
        snprintf(r->msg, sizeof r->msg, "%s", scrm_last_error());
        r->index = scrm_last_error_index();
    }
    scrm_csv_report_free(rep);
    scrm_dataset_free(ds);
}

static int same(const result *a, const result *b)
{
    return a->rc == b->rc && a->read == b->read && a->added == b->added && a->empty == b->empty &&
           a->rejected == b->rejected && a->stored_rejects == b->stored_rejects &&
           a->orders == b->orders && a->digest == b->digest && a->format == b->format &&
           a->key_type == b->key_type && a->index == b->index && strcmp(a->msg, b->msg) == 0 &&
           a->rows_len == b->rows_len && (!a->rows_len || memcmp(a->rows, b->rows, a->rows_len) == 0);
}

static void drop(result *r)
{
    free(r->rows);
    r->rows = NULL;
}

static void report(const char *what, int on_error, int kt, const result *a, const result *b)
{
    fprintf(stderr,
            "csv_parse: %s disagree (on_error %d, key type %d): rc %d/%d, rows %llu/%llu, "
            "added %llu/%llu, row bytes %zu/%zu%s, '%s' / '%s'\n",
            what, on_error, kt, a->rc, b->rc, (unsigned long long)a->read,
            (unsigned long long)b->read, (unsigned long long)a->added,
            (unsigned long long)b->added, a->rows_len, b->rows_len,
            a->rows_len == b->rows_len && a->rows_len && memcmp(a->rows, b->rows, a->rows_len)
                ? " (same size, other rows, owners or order)"
                : "",
            a->msg, b->msg);
}

/* Returns 0 when every way of loading `data` agrees. */
static int check_one(const uint8_t *data, size_t len, uint64_t salt)
{
    int bad = 0;
    for (int on_error = 0; on_error < 2 && !bad; on_error++)
        for (int kt = SCRM_KEY_AUTO; kt <= SCRM_KEY_STRING && !bad; kt++) {
            result one, many, streamed;
            const uint64_t all = UINT64_C(1) << 40;
            load(&one, (const char *)data, len, all, all, 1, on_error, kt);
            load(&many, (const char *)data, len, all, 1 + salt % 64, 2 + (uint32_t)(salt % 5),
                 on_error, kt);
            load(&streamed, (const char *)data, len, 1 + salt / 64 % 256, 1 + salt / 16384 % 32,
                 1 + (uint32_t)(salt / 8 % 2), on_error, kt);
            if (!same(&one, &streamed)) {
                report("one window and many windows", on_error, kt, &one, &streamed);
                bad = 1;
            } else if (!same(&one, &many)) {
                report("one chunk and many chunks", on_error, kt, &one, &many);
                bad = 1;
            }
            drop(&one);
            drop(&many);
            drop(&streamed);
        }
    return bad;
}

/* Three chunkings per input, from a hash of its bytes (FNV-1a). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * UINT64_C(1099511628211);
    for (int k = 0; k < 3; k++)
        if (check_one(data, size, k == 0 ? size : (h >> (k * 20)) % (UINT64_C(1) << 20)))
            abort();
    return 0;
}

#ifndef SCRM_LIBFUZZER
/* xorshift64 (Marsaglia 2003, "Xorshift RNGs"): a fixed, portable stream. */
static uint64_t rng = UINT64_C(88172645463325252);
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Feed one file to the target, as libFuzzer would (an exact-size copy, so
 * ASan sees any read past the end). */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "csv_parse: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) {
            uint8_t *q = realloc(buf, cap *= 2);
            if (!q) {
                free(buf);
                buf = NULL;
            }
            buf = q;
        }
    fclose(f);
    if (!buf)
        return -1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        free(buf);
        return -1;
    }
    memcpy(copy, buf, n);
    free(buf);
    fprintf(stderr, "csv_parse: %s\n", path); /* names the input if the target aborts */
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    return 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file of a directory (in name order). Returns
 * the inputs replayed, -1 on error. */
static int replay(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return replay_file(path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **q = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
            if (!q)
                break;
            names = q;
        }
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(l)))
            break;
        snprintf(names[n++], l, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        int r = count >= 0 ? replay_file(names[i]) : 0;
        count = r < 0 ? -1 : count + (count >= 0 ? r : 0);
        free(names[i]);
    }
    free(names);
    return count;
}

/* fuzz_csv_parse [--iters N] [FILE_OR_DIR ...]: replay the files, then N
 * (default 300) random inputs. */
int main(int argc, char **argv)
{
    static const char *pieces[] = {
        "1", "23", "007", "abc", "\"q\"", "\"a,b\"", "\"x\ny\"", "\"\"\"\"", "", ",", ",",
        "\n", "\n", "\r\n", "19970101", "2024-03-01T10:00:00Z", "1700000000", "12.50",
        "\"1,234.5\"", "-3", "NA", "\"", "x\"y", "01/02/2024", " ", "\t", ";", "\xef\xbb\xbf"};
    int iters = 300, replayed = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
            iters = atoi(argv[++i]);
            continue;
        }
        int r = replay(argv[i]);
        if (r < 0)
            return 1;
        replayed += r;
    }
    if (argc > 1)
        printf("csv_parse: %d corpus inputs agree\n", replayed);
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    if (!buf)
        return 1;
    for (int it = 0; it < iters; it++) {
        size_t len = (size_t)sprintf(buf, next() % 2 ? "c,t,a\n" : "\"c\",t,a,extra\r\n");
        int np = (int)(next() % 400);
        for (int k = 0; k < np && len + 128 < cap; k++) {
            if (next() % 4 == 0) {
                const char *pc = pieces[next() % (sizeof pieces / sizeof *pieces)];
                size_t l = strlen(pc);
                memcpy(buf + len, pc, l);
                len += l;
            } else {
                len += (size_t)sprintf(buf + len, "%llu,%s,%d.%02d\n",
                                       (unsigned long long)(next() % 50),
                                       next() % 3 ? "19970105" : "2024-03-01 10:00",
                                       (int)(next() % 100), (int)(next() % 100));
            }
        }
        /* an exact-size copy, so ASan sees any read past the end */
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            return 1;
        memcpy(copy, buf, len);
        int bad = check_one(copy, len, next());
        if (bad) {
            fprintf(stderr, "csv_parse: input %d (%zu bytes) follows:\n", it, len);
            fwrite(copy, 1, len, stderr);
        }
        free(copy);
        if (bad) {
            free(buf);
            return 1;
        }
    }
    free(buf);
    printf("csv_parse: %d inputs, one chunk, many chunks and many windows agree\n", iters);
    return 0;
}
#endif
