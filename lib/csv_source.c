/* Where the CSV loader's bytes come from, when they are not all in memory
 * at once: gzip input (a .csv.gz file, or a gzip buffer), decompressed with
 * zlib through a bounded buffer as the windows go. Plain files are mapped
 * and buffers read in place (csv.c); both kinds of input are checked here
 * for being text.
 *
 * The buffer holds the decompressed bytes [base, base + len). Before each
 * window the loader asks for at least need = window + slack bytes from
 * where it is (scrm__csv_source_fill): what it has parsed is dropped, the
 * rest moved to the front, and the buffer filled up (its capacity is 2 x
 * need, so each byte is moved about once; it starts at the size the gzip
 * trailer gives, and grows only if the input is longer). A record must end within the
 * slack past its window: a longer one (a quoted field holding megabytes
 * of line breaks) is an error rather than a silent cut. A new pass (the
 * loader reads the input again when a decision changes) decompresses
 * again from the start, unless the buffer still holds it.
 *
 * Concatenated gzip members (as `cat a.gz b.gz`) are one input. A corrupt
 * or truncated stream is an error (SCRM_EIO); the load then adds
 * nothing, as for any error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "csv_internal.h"

#define ZIN_BYTES ((size_t)256 << 10)  /* compressed bytes read at a time */
#define MIN_SLACK (UINT64_C(1) << 20) /* a record may run this far past its window */

struct scrm__csv_source {
    int fd;                       /* compressed file, or -1 for memory */
    const unsigned char *mem;     /* compressed memory (fd < 0) */
    uint64_t mem_len, mem_at;     /* its size, and bytes given to zlib */
    unsigned char *zin;           /* read buffer (fd >= 0) */
    int in_eof;                   /* no compressed bytes left to give */
    z_stream z;
    int z_ready;                  /* inflateInit2 done */
    int eof;                      /* every byte decompressed into buf */
    char *buf;
    size_t cap, len;
    size_t target;                /* the capacity to grow to: 2 x need */
    uint64_t base;                /* decompressed offset of buf[0] */
    uint64_t data_off;            /* offset of the data after the header */
    uint64_t isize;               /* uncompressed size from the trailer (mod 2^32) */
    char name[200];               /* for messages */
};

int scrm__csv_is_gzip(const void *p, uint64_t n)
{
    const unsigned char *b = p;
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

/* zlib allocates through ours, so allocation failure tests reach it. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return scrm__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    scrm__free(p);
}

static int corrupt(const struct scrm__csv_source *s, const char *why)
{
    return scrm__error(SCRM_EIO, -1, "cannot read %s: %s", s->name, why);
}

/* Give zlib compressed bytes when it has none. */
static int feed(struct scrm__csv_source *s)
{
    if (s->z.avail_in || s->in_eof)
        return SCRM_OK;
    if (s->fd < 0) {
        uint64_t left = s->mem_len - s->mem_at;
        uInt n = left > (UINT_MAX >> 1) ? (UINT_MAX >> 1) : (uInt)left;
        s->z.next_in = (Bytef *)(uintptr_t)(s->mem + s->mem_at);
        s->z.avail_in = n;
        s->mem_at += n;
        s->in_eof = s->mem_at == s->mem_len && n == 0;
        return SCRM_OK;
    }
    ssize_t n;
    do
        n = read(s->fd, s->zin, ZIN_BYTES);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return scrm__error(SCRM_EIO, -1, "cannot read %s: %s", s->name, strerror(errno));
    s->z.next_in = s->zin;
    s->z.avail_in = (uInt)n;
    s->in_eof = n == 0;
    return SCRM_OK;
}

/* Decompress into buf[len..cap) until it is full or the input ends; the
 * buffer grows (to its target) only while the input goes on, so a small
 * file takes a small buffer. */
static int inflate_more(struct scrm__csv_source *s)
{
    while (!s->eof) {
        if (s->len == s->cap) {
            if (s->cap >= s->target)
                break;
            size_t nc = s->cap > s->target / 2 ? s->target : 2 * s->cap;
            char *nb = scrm__realloc(s->buf, nc);
            if (!nb)
                return scrm__enomem("gzip input");
            s->buf = nb;
            s->cap = nc;
        }
        int err = feed(s);
        if (err)
            return err;
        if (s->in_eof && !s->z.avail_in) {
            if (s->z_ready == 2) { /* between members: the end */
                s->eof = 1;
                break;
            }
            return corrupt(s, "the gzip data ends early (a truncated file?)");
        }
        if (s->z_ready == 2) { /* another member follows */
            if (inflateReset(&s->z) != Z_OK)
                return corrupt(s, "gzip reset failed");
            s->z_ready = 1;
        }
        s->z.next_out = (Bytef *)(s->buf + s->len);
        size_t room = s->cap - s->len;
        s->z.avail_out = room > (UINT_MAX >> 1) ? (UINT_MAX >> 1) : (uInt)room;
        uInt before = s->z.avail_out;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        s->len += before - s->z.avail_out;
        if (rc == Z_STREAM_END)
            s->z_ready = 2;
        else if (rc == Z_MEM_ERROR)
            return scrm__enomem("gzip input");
        else if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR) {
            char why[160];
            snprintf(why, sizeof why, "the gzip data is corrupt (%s)",
                     s->z.msg ? s->z.msg : "inflate failed");
            return corrupt(s, why);
        }
    }
    return SCRM_OK;
}

/* Read the uncompressed size of the last member from the trailer, for
 * progress (the input size the callback is given). */
static void read_isize(struct scrm__csv_source *s)
{
    unsigned char t[4];
    int ok = 0;
    if (s->fd < 0 && s->mem_len >= 18) {
        memcpy(t, s->mem + s->mem_len - 4, 4);
        ok = 1;
    } else if (s->fd >= 0) {
        off_t end = lseek(s->fd, 0, SEEK_END);
        ok = end >= 18 && pread(s->fd, t, 4, end - 4) == 4;
        if (lseek(s->fd, 0, SEEK_SET) != 0)
            ok = 0;
    }
    s->isize = ok ? (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 |
                        (uint64_t)t[3] << 24
                  : 0;
}

static uint64_t need_bytes(void)
{
    uint64_t w = scrm__csv_window_bytes ? scrm__csv_window_bytes : 1;
    return w + (w / 4 > MIN_SLACK ? w / 4 : MIN_SLACK);
}

/* Decompression from the start of the input into an empty buffer. */
static int start(struct scrm__csv_source *s)
{
    if (s->z_ready) {
        inflateEnd(&s->z);
        s->z_ready = 0;
    }
    memset(&s->z, 0, sizeof s->z);
    s->z.zalloc = z_alloc;
    s->z.zfree = z_free;
    int rc = inflateInit2(&s->z, 15 + 16); /* gzip wrapper only */
    if (rc == Z_MEM_ERROR)
        return scrm__enomem("gzip input");
    if (rc != Z_OK)
        return corrupt(s, "zlib initialisation failed");
    s->z_ready = 1;
    s->mem_at = 0;
    s->in_eof = 0;
    s->eof = 0;
    s->len = 0;
    s->base = 0;
    if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) != 0)
        return scrm__error(SCRM_EIO, -1, "cannot read %s: %s", s->name, strerror(errno));
    return inflate_more(s);
}

int scrm__csv_source_open(struct scrm__csv_source **out, int fd, const void *mem, uint64_t len,
                          const char *name)
{
    struct scrm__csv_source *s = scrm__calloc(1, sizeof *s);
    if (!s)
        return scrm__enomem("gzip input");
    s->fd = fd;
    s->mem = mem;
    s->mem_len = len;
    if (name)
        snprintf(s->name, sizeof s->name, "'%s'", name);
    else
        snprintf(s->name, sizeof s->name, "the gzip buffer");
    uint64_t need = need_bytes();
    int err = SCRM_OK;
    if (need > SIZE_MAX / 2)
        err = scrm__enomem("gzip input");
    if (!err) {
        read_isize(s);
        s->target = (size_t)(2 * need);
        /* the trailer's size (+1: room to see the end) is usually right */
        s->cap = s->isize + 1 < s->target ? (size_t)s->isize + 1 : s->target;
        if (s->cap < 4096)
            s->cap = 4096;
        if (!(s->buf = scrm__malloc(s->cap)))
            err = scrm__enomem("gzip input");
    }
    if (!err && fd >= 0 && !(s->zin = scrm__malloc(ZIN_BYTES)))
        err = scrm__enomem("gzip input");
    if (!err)
        err = start(s);
    if (err) {
        scrm__saved_error se;
        scrm__error_save(&se);
        scrm__csv_source_free(s);
        scrm__error_restore(&se);
        return err;
    }
    *out = s;
    return SCRM_OK;
}

void scrm__csv_source_free(struct scrm__csv_source *s)
{
    if (!s)
        return;
    if (s->z_ready)
        inflateEnd(&s->z);
    scrm__free(s->zin);
    scrm__free(s->buf);
    scrm__free(s);
}

/* The context sees the buffer as its input. */
static void expose(struct ctx *c, const struct scrm__csv_source *s)
{
    c->input = s->buf;
    c->E = s->buf + s->len;
    c->base = s->base;
    if (s->eof)
        c->total = s->base + s->len;
    else if (c->total < s->base + s->len)
        c->total = s->base + s->len + 1; /* the trailer's size was short */
}

void scrm__csv_source_attach(struct ctx *c, struct scrm__csv_source *s)
{
    c->src = s;
    c->total = s->isize;
    expose(c, s);
}

void scrm__csv_source_mark_data(struct ctx *c)
{
    c->src->data_off = c->src->base + (uint64_t)(c->data - c->input);
}

int scrm__csv_source_restart(struct ctx *c, const char **p)
{
    struct scrm__csv_source *s = c->src;
    if (s->base != 0) {
        int err = start(s);
        if (err)
            return err;
    }
    expose(c, s);
    *p = s->buf + s->data_off;
    return SCRM_OK;
}

int scrm__csv_source_fill(struct ctx *c, const char **p)
{
    struct scrm__csv_source *s = c->src;
    size_t at = (size_t)(*p - s->buf), keep = s->len - at;
    if (s->eof || keep >= need_bytes())
        return SCRM_OK;
    memmove(s->buf, s->buf + at, keep);
    s->base += at;
    s->len = keep;
    int err = inflate_more(s);
    expose(c, s);
    *p = s->buf;
    return err;
}

int scrm__csv_source_check_window(const struct ctx *c, const char *final)
{
    const struct scrm__csv_source *s = c->src;
    if (s->eof || final < c->E)
        return SCRM_OK;
    return scrm__error(SCRM_EPARSE, -1,
                       "CSV: a record of %s runs on for more than %llu MiB (a quoted field "
                       "with line breaks?); decompress the file to load it",
                       s->name, (unsigned long long)((need_bytes() - scrm__csv_window_bytes) >> 20));
}

int scrm__csv_check_text(const char *p, uint64_t n, const char *name)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } kinds[] = {
        {"PK\x03\x04", 4, "a zip archive"},
        {"BZh", 3, "bzip2-compressed"},
        {"\xFD" "7zXZ", 5, "xz-compressed"},
        {"\x28\xB5\x2F\xFD", 4, "zstd-compressed"},
        {"\xD0\xCF\x11\xE0", 4, "an old Excel (OLE) file"},
        {"%PDF", 4, "a PDF file"},
    };
    char who[220];
    if (name)
        snprintf(who, sizeof who, "'%s'", name);
    else
        snprintf(who, sizeof who, "the input");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (n >= kinds[k].len && memcmp(p, kinds[k].magic, kinds[k].len) == 0)
            return scrm__error(SCRM_EPARSE, -1, "CSV: %s is %s, not CSV text%s", who,
                               kinds[k].what,
                               k == 0 ? " (an .xlsx workbook is one: export it as CSV)" : "");
    const char *nul = memchr(p, '\0', (size_t)(n < 4096 ? n : 4096));
    if (nul)
        return scrm__error(SCRM_EPARSE, -1,
                           "CSV: %s is binary, not CSV text (a NUL byte at offset %llu; UTF-16 "
                           "text must be converted to UTF-8)",
                           who, (unsigned long long)(nul - p));
    return SCRM_OK;
}
