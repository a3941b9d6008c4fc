/* Fuzz target for the CSV loader: parsing one input in one chunk, in
 * many chunks on several threads, and streamed in many small windows must
 * give the same result (rows, rejects, messages, sums), whatever the
 * bytes, and never crash or leak.
 *
 * Built two ways: with -fsanitize=fuzzer (define SCRM_LIBFUZZER) it is a
 * libFuzzer target; otherwise main() replays a deterministic stream of
 * random CSV-like inputs, so plain `meson test` runs it (zstd's
 * regression_driver idea). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern uint64_t scrm__csv_min_chunk_bytes; /* test hooks in lib/csv.c */
extern uint64_t scrm__csv_window_bytes;

typedef struct result {
    int rc;
    uint64_t read, added, empty, rejected, stored_rejects, orders;
    uint64_t digest; /* of the stored rows and of the reject list */
    int format, key_type;
    int64_t index;
    char msg[600];
} result;

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
        for (uint32_t p = 0; p < scrm__dataset_partition_count(ds); p++) {
            scrm__part_view v;
            scrm__dataset_partition(ds, p, &v);
            for (uint32_t k = 0; k < v.n_seg; k++)
                for (uint64_t i = 0; i < v.seg[k].n; i++)
                    r->digest += (uint64_t)(v.seg[k].amount[i] ^ v.seg[k].time[i]);
        }
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
           a->key_type == b->key_type && a->index == b->index && strcmp(a->msg, b->msg) == 0;
}

/* Returns 0 when every way of loading `data` agrees. */
static int check_one(const uint8_t *data, size_t len, uint64_t salt)
{
    for (int on_error = 0; on_error < 2; on_error++)
        for (int kt = SCRM_KEY_AUTO; kt <= SCRM_KEY_STRING; kt++) {
            result one, many, streamed;
            const uint64_t all = UINT64_C(1) << 40;
            load(&one, (const char *)data, len, all, all, 1, on_error, kt);
            load(&many, (const char *)data, len, all, 1 + salt % 64, 2 + (uint32_t)(salt % 5),
                 on_error, kt);
            load(&streamed, (const char *)data, len, 1 + salt / 64 % 256, 1 + salt / 16384 % 32,
                 1 + (uint32_t)(salt / 8 % 2), on_error, kt);
            if (!same(&one, &streamed)) {
                fprintf(stderr,
                        "csv_parse: one window and many windows disagree (on_error %d, key "
                        "type %d): rc %d/%d, rows %llu/%llu, added %llu/%llu, '%s' / '%s'\n",
                        on_error, kt, one.rc, streamed.rc, (unsigned long long)one.read,
                        (unsigned long long)streamed.read, (unsigned long long)one.added,
                        (unsigned long long)streamed.added, one.msg, streamed.msg);
                return 1;
            }
            if (!same(&one, &many)) {
                fprintf(stderr,
                        "csv_parse: one chunk and many chunks disagree (on_error %d, key type "
                        "%d): rc %d/%d, rows %llu/%llu, added %llu/%llu, '%s' / '%s'\n",
                        on_error, kt, one.rc, many.rc, (unsigned long long)one.read,
                        (unsigned long long)many.read, (unsigned long long)one.added,
                        (unsigned long long)many.added, one.msg, many.msg);
                return 1;
            }
        }
    return 0;
}

#ifdef SCRM_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (check_one(data, size, size))
        abort();
    return 0;
}
#else
/* xorshift64 (Marsaglia 2003, "Xorshift RNGs"): a fixed, portable stream. */
static uint64_t rng = UINT64_C(88172645463325252);
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    static const char *pieces[] = {
        "1", "23", "007", "abc", "\"q\"", "\"a,b\"", "\"x\ny\"", "\"\"\"\"", "", ",", ",",
        "\n", "\n", "\r\n", "19970101", "2024-03-01T10:00:00Z", "1700000000", "12.50",
        "\"1,234.5\"", "-3", "NA", "\"", "x\"y", "01/02/2024", " ", "\t", ";", "\xef\xbb\xbf"};
    int iters = argc > 1 ? atoi(argv[1]) : 300;
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
