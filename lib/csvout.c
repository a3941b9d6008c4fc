/* The buffered CSV writer shared by the library's CSV exports
 * (scrm_rfm_write_csv, scrm_rfm_audience_write_csv, scrm_cohorts_write_csv):
 * one place for the buffering, the escaping of text cells and the clean-up
 * of a failed write. Declarations and the contract: lib/internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "internal.h"

void scrm__csvout_flush(scrm__csvout *w)
{
    if (w->len && !w->failed && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->failed = 1;
    w->len = 0;
}

static inline void reserve(scrm__csvout *w, size_t k)
{
    if (w->len + k > w->cap)
        scrm__csvout_flush(w);
}

void scrm__csvout_put(scrm__csvout *w, const char *s, size_t k)
{
    if (k > w->cap) {
        scrm__csvout_flush(w);
        if (!w->failed && fwrite(s, 1, k, w->f) != k)
            w->failed = 1;
        return;
    }
    reserve(w, k);
    memcpy(w->buf + w->len, s, k);
    w->len += k;
}

void scrm__csvout_u64(scrm__csvout *w, uint64_t v)
{
    /* two digits per division (a 200-byte table of "00".."99"): exports
     * write several integers per customer */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char t[24];
    int k = 24;
    while (v >= 100) {
        const unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        t[--k] = pairs[d + 1];
        t[--k] = pairs[d];
    }
    if (v >= 10) {
        t[--k] = pairs[v * 2 + 1];
        t[--k] = pairs[v * 2];
    } else {
        t[--k] = (char)('0' + v);
    }
    scrm__csvout_put(w, t + k, (size_t)(24 - k));
}

void scrm__csvout_i64(scrm__csvout *w, int64_t v)
{
    if (v < 0) {
        scrm__csvout_ch(w, '-');
        scrm__csvout_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        scrm__csvout_u64(w, (uint64_t)v);
    }
}

void scrm__csvout_money(scrm__csvout *w, int64_t amount, uint32_t minor_digits)
{
    /* the library's one money formatter (scrm_money_print's); a digit count
     * out of range cannot come from a dataset or a checked argument */
    char t[SCRM_MONEY_TEXT_MAX];
    if (SCRM_NEVER(minor_digits > SCRM_MAX_MINOR_DIGITS)) {
        w->failed = 1;
        return;
    }
    scrm__csvout_put(w, t, scrm__money_text(t, amount, minor_digits));
}

void scrm__csvout_double(scrm__csvout *w, double v)
{
    char t[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    scrm__csvout_put(w, t, strlen(t));
}

/* A text cell: formula-looking cells (OWASP "CSV Injection": = + - @ TAB CR
 * first) are quoted and prefixed with a single quote; cells holding , " CR LF
 * are quoted (RFC 4180), quotes doubled. */
void scrm__csvout_text(scrm__csvout *w, const char *s, size_t k)
{
    int formula = k > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                            s[0] == '\t' || s[0] == '\r');
    int quote = formula;
    for (size_t i = 0; i < k && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        scrm__csvout_put(w, s, k);
        return;
    }
    scrm__csvout_ch(w, '"');
    if (formula)
        scrm__csvout_ch(w, '\'');
    size_t a = 0;
    for (size_t i = 0; i < k; i++)
        if (s[i] == '"') {
            scrm__csvout_put(w, s + a, i + 1 - a);
            scrm__csvout_ch(w, '"');
            a = i + 1;
        }
    scrm__csvout_put(w, s + a, k - a);
    scrm__csvout_ch(w, '"');
}

int scrm__csvout_key(scrm__csvout *w, const scrm_dataset *ds, int key_type, uint32_t i)
{
    if (key_type == SCRM_KEY_U64) {
        uint64_t k = 0;
        int err = scrm_dataset_customer_key_u64(&k, ds, i);
        if (err)
            return err;
        scrm__csvout_u64(w, k);
    } else {
        const char *s = NULL;
        uint32_t len = 0;
        int err = scrm_dataset_customer_key_str(&s, &len, ds, i);
        if (err)
            return err;
        scrm__csvout_text(w, s, len);
    }
    return SCRM_OK;
}

int scrm__csvout_open(scrm__csvout *w, const char *path, const char *fn)
{
    memset(w, 0, sizeof *w);
    w->cap = (size_t)1 << 20;
    w->buf = scrm__malloc(w->cap);
    if (!w->buf)
        return scrm__enomem(fn);
    w->f = fopen(path, "wb");
    if (!w->f) {
        int e = errno;
        scrm__free(w->buf);
        w->buf = NULL;
        return scrm__error(SCRM_EIO, -1, "%s: cannot create '%s': %s", fn, path, strerror(e));
    }
    /* Only a regular file is removed on failure: a path such as /dev/stdout
     * names a stream the caller owns. */
    struct stat st;
    w->regular = fstat(fileno(w->f), &st) == 0 && S_ISREG(st.st_mode);
    return SCRM_OK;
}

int scrm__csvout_begin(scrm__csvout *w, const void *r, const char *path, uint32_t minor_digits,
                       const char *fn)
{
    if (!r || !path)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "%s: minor_digits %u is not 0..%d", fn, minor_digits,
                           SCRM_MAX_MINOR_DIGITS);
    return scrm__csvout_open(w, path, fn);
}

int scrm__csvout_close(scrm__csvout *w, const char *path, int err, const char *fn)
{
    scrm__csvout_flush(w);
    int e = 0;
    if (w->failed)
        e = errno ? errno : EIO;
    if (fclose(w->f) != 0 && !e)
        e = errno ? errno : EIO;
    scrm__free(w->buf);
    w->buf = NULL;
    w->f = NULL;
    if (!err && e)
        err = scrm__error(SCRM_EIO, -1, "%s: cannot write '%s': %s", fn, path, strerror(e));
    if (err && w->regular)
        remove(path);
    return err;
}
