/* The CSV tokenizer: one RFC 4180 field scanner (scan_field) for the
 * header and the body, and the chunk parser that splits a chunk of the
 * window into records, with an SSE2 fast path for records without quotes.
 *
 * Chunks of a window are parsed in parallel. A chunk's start may fall
 * inside a quoted field holding a line break; we do not try to guess the
 * quote state. Instead every chunk parses records that START before its end
 * bound (a record crossing the bound is finished by the chunk that began
 * it), and afterwards chunk t-1 must have stopped exactly where chunk t
 * started (csv.c checks, and parses a chunk again from where its
 * predecessor really ended if not). */
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "csv_internal.h"

/* Number of bytes equal to ch in [p, e): SWAR, 8 bytes per step. A byte of
 * w is zero iff the high bit of ((w & 0x7f..) + 0x7f..) | w is clear. */
uint64_t scrm__csv_count_byte(const char *p, const char *e, unsigned char ch)
{
#ifdef __SSE2__
    uint64_t total = 0;
    const __m128i pat16 = _mm_set1_epi8((char)ch);
    while (e - p >= 16) {
        /* up to 255 blocks per byte-wise accumulator, then a horizontal sum */
        __m128i acc = _mm_setzero_si128();
        int k = 0;
        while (k < 255 && e - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, pat16));
            p += 16;
            k++;
        }
        __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
        total += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
    while (p < e)
        total += (unsigned char)*p++ == ch;
    return total;
#endif
    const uint64_t lo7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    const uint64_t hi = UINT64_C(0x8080808080808080);
    const uint64_t pat = UINT64_C(0x0101010101010101) * ch;
    uint64_t n = 0;
    while (e - p >= 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            w ^= pat;
            uint64_t t = ((w & lo7) + lo7) | w;
            /* one bit per matching byte at bit 0 of the byte; the multiply
             * sums the bytes into the top byte (no popcount instruction
             * needed) */
            n += (((~t & hi) >> 7) * UINT64_C(0x0101010101010101)) >> 56;
        }
        p += 32;
    }
    while (p < e)
        n += (unsigned char)*p++ == ch;
    return n;
}

/* Collapse "" to " in a quoted field's content; dst holds n bytes. */
size_t scrm__csv_unescape(char *dst, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        dst[j++] = s[i];
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
            i++;
    }
    return j;
}

/* The field at p, quoted or not: its content in *f, and 1 in *malformed
 * for an unterminated quote (the field then runs to the end of input), 2
 * for text after a closing quote (skipped up to the delimiter). Counts the
 * line breaks inside quotes. Returns where the field ends: at the
 * delimiter, the '\n' (or the '\r' of "\r\n" after a quote), or E. */
static const char *scan_field(const char *p, const char *E, char delim, span *f,
                              int *malformed, uint64_t *newlines)
{
    f->esc = 0;
    if (p < E && *p == '"') {
        f->s = ++p;
        for (;;) {
            const char *q = memchr(p, '"', (size_t)(E - p));
            if (!q) {
                *newlines += scrm__csv_count_byte(p, E, '\n');
                *malformed = 1;
                f->len = (size_t)(E - f->s);
                return E;
            }
            *newlines += scrm__csv_count_byte(p, q, '\n');
            if (q + 1 < E && q[1] == '"') {
                f->esc = 1;
                p = q + 2;
                continue;
            }
            f->len = (size_t)(q - f->s);
            p = q + 1;
            break;
        }
        if (p < E && *p != delim && *p != '\n' && !(*p == '\r' && (p + 1 == E || p[1] == '\n'))) {
            *malformed = 2;
            while (p < E && *p != delim && *p != '\n')
                p++;
        }
        return p;
    }
    f->s = p;
    while (p < E && *p != delim && *p != '\n')
        p++;
    f->len = (size_t)(p - f->s);
    if (f->len && f->s[f->len - 1] == '\r' && (p == E || *p == '\n'))
        f->len--;
    return p;
}

/* After a field that ended at p: past the delimiter (1), or past the
 * record's line break (0). */
static int next_field(const char **pp, const char *E, char delim, uint64_t *newlines)
{
    const char *p = *pp;
    if (p < E && *p == delim) {
        *pp = p + 1;
        return 1;
    }
    if (p < E && *p == '\r')
        p++;
    if (p < E) { /* '\n' */
        p++;
        (*newlines)++;
    }
    *pp = p;
    return 0;
}

/* The space delimiter (whitespace-separated files such as CDNOW_master.txt,
 * fixed-width exports): fields are separated by runs of spaces and tabs,
 * blanks at the start and the end of a line are ignored. */
static inline int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Skip the blanks at *pp; if the record ends there, move past its line
 * break (if any) and return 1. */
static int space_line_end(const char **pp, const char *E, uint64_t *newlines)
{
    const char *p = *pp;
    while (p < E && is_blank(*p))
        p++;
    *pp = p;
    if (p < E && *p == '\r' && (p + 1 == E || p[1] == '\n'))
        p++;
    if (p == E) {
        *pp = p;
        return 1;
    }
    if (*p != '\n')
        return 0;
    (*newlines)++;
    *pp = p + 1;
    return 1;
}

/* A field of a space-delimited record at p (not a blank): quoted as in
 * scan_field, or up to the next blank or line end. */
static const char *scan_field_space(const char *p, const char *E, span *f, int *malformed,
                                    uint64_t *newlines)
{
    if (*p == '"') {
        p = scan_field(p, E, ' ', f, malformed, newlines);
        if (*malformed == 2) /* text after the quote runs to a space; tabs too */
            while (p < E && !is_blank(*p) && *p != '\n')
                p++;
        return p;
    }
    f->esc = 0;
    f->s = p;
    while (p < E && !is_blank(*p) && *p != '\n' && !(*p == '\r' && (p + 1 == E || p[1] == '\n')))
        p++;
    f->len = (size_t)(p - f->s);
    return p;
}

/* ------------------------------------------------------------------ */
/* header                                                              */

static void free_names(char **names, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        scrm__free(names[i]);
    scrm__free(names);
}

int scrm__csv_read_record(struct ctx *c, const char **pp, char ***names_out, uint32_t *n_out,
                          uint64_t *newlines)
{
    const char *p = *pp;
    char **names = NULL;
    uint32_t n = 0, cap = 0;
    int more = 1;
    while (more) {
        span f;
        int malformed = 0;
        if (c->delim == ' ' && space_line_end(&p, c->E, newlines))
            break;
        p = c->delim == ' ' ? scan_field_space(p, c->E, &f, &malformed, newlines)
                            : scan_field(p, c->E, c->delim, &f, &malformed, newlines);
        if (malformed == 1) {
            free_names(names, n);
            return scrm__error(SCRM_EPARSE, 1, "line 1: unterminated quoted field in the header");
        }
        if (n == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            char **nn = scrm__reallocarray(names, nc, sizeof *nn);
            if (!nn) {
                free_names(names, n);
                return scrm__enomem("CSV header");
            }
            names = nn;
            cap = nc;
        }
        char *s = scrm__malloc(f.len + 1);
        if (!s) {
            free_names(names, n);
            return scrm__enomem("CSV header");
        }
        size_t len = f.esc ? scrm__csv_unescape(s, f.s, f.len) : (memcpy(s, f.s, f.len), f.len);
        s[len] = '\0';
        names[n++] = s;
        more = c->delim == ' ' || next_field(&p, c->E, c->delim, newlines);
    }
    *pp = p;
    *names_out = names;
    *n_out = n;
    return SCRM_OK;
}

/* Most frequent of , ; \t outside quotes in the first record. */
char scrm__csv_detect_delimiter(const char *p, const char *E)
{
    uint64_t comma = 0, semi = 0, tab = 0;
    int inq = 0, spaced = 0, text = 0, gap = 0;
    for (; p < E; p++) {
        char ch = *p;
        if (ch == '"')
            inq = !inq;
        else if (!inq) {
            if (ch == '\n')
                break;
            comma += ch == ',';
            semi += ch == ';';
            tab += ch == '\t';
            if (ch == ' ')
                gap = text; /* a blank after some text */
            else if (ch != '\r') {
                spaced |= gap;
                text = 1;
                gap = 0;
            }
        }
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    if (!comma && !semi && !tab && spaced)
        return ' '; /* none of the three, fields apart by blanks */
    return ',';
}

/* ------------------------------------------------------------------ */
/* the chunk parser                                                    */

static const char extra_column[] = "(extra field)";

static int progress_tick(struct ctx *c, struct chunk *ch, uint32_t t, const char *p)
{
    atomic_store_explicit(&c->done[t], (uint64_t)(p - ch->start), memory_order_relaxed);
    if (atomic_load_explicit(&c->cancel, memory_order_relaxed))
        return 1;
    if (!c->sequential) {
        if (atomic_load_explicit(&c->stop_all, memory_order_relaxed) ||
            atomic_load_explicit(&c->err_chunk, memory_order_relaxed) < t) {
            ch->stopped = 1;
            return 1;
        }
    }
    if (t == 0 && c->progress) {
        uint64_t done = c->base + (uint64_t)(c->wstart - c->input);
        for (uint32_t k = 0; k < c->nchunks; k++)
            done += atomic_load_explicit(&c->done[k], memory_order_relaxed);
        /* a second pass starts again from 0: never report going backwards */
        if (done < c->reported)
            done = c->reported;
        if (done > c->total)
            done = c->total;
        c->reported = done;
        if (c->progress(done, c->total, c->progress_payload)) {
            atomic_store(&c->cancel, 1);
            return 1;
        }
    }
    return 0;
}

/* One record being tokenized: the fields of the columns used, by role. */
struct rec {
    span f[R_COUNT];
    unsigned have;       /* bit r: role r has a field */
    uint32_t col;        /* fields so far */
    int malformed;       /* 1 unterminated quote, 2 text after a closing quote */
    uint32_t bad_col;    /* the field that was malformed first */
};

/* The next field of the record: into the roles its column has. */
static inline void store_field(const struct ctx *c, struct rec *r, const char *s, size_t len,
                               int esc)
{
    if (r->col < c->ncols) {
        unsigned m = c->rolemask[r->col];
        while (m) {
            int role = __builtin_ctz(m);
            m &= m - 1;
            r->f[role] = (span){.s = s, .len = len, .esc = esc};
            r->have |= 1u << role;
        }
    }
    r->col++;
}

/* The rest of the record at *pp holds no column we use: if it has no
 * quote, count its fields, move past it and return 1; else return 0. */
static inline int skip_rest(const struct ctx *c, struct rec *r, const char **pp,
                            uint64_t *newlines)
{
    const char *p = *pp, *E = c->E;
    const char *nl = memchr(p, '\n', (size_t)(E - p));
    const char *lim = nl ? nl : E;
    if (memchr(p, '"', (size_t)(lim - p)))
        return 0;
    r->col += 1 + (uint32_t)scrm__csv_count_byte(p, lim, (unsigned char)c->delim);
    if (nl)
        (*newlines)++;
    *pp = nl ? nl + 1 : E;
    return 1;
}

/* Field by field from p (a field start) to the end of the record; returns
 * the next record's start. */
static const char *record_general(const struct ctx *c, struct rec *r, const char *p,
                                  uint64_t *newlines)
{
    for (;;) {
        span fl;
        int mal = 0;
        p = scan_field(p, c->E, c->delim, &fl, &mal, newlines);
        if (SCRM_UNLIKELY(mal) && !r->malformed) {
            r->malformed = mal;
            r->bad_col = r->col;
        }
        store_field(c, r, fl.s, fl.len, fl.esc);
        if (p < c->E && *p == c->delim) {
            p++;
            if (r->col >= c->need_cols && skip_rest(c, r, &p, newlines))
                return p;
            continue;
        }
        next_field(&p, c->E, c->delim, newlines);
        return p;
    }
}

#ifdef __SSE2__
/* Fast path for the record at p: delimiters and the line end 16 bytes at a
 * time; at the first quote, the general path from that field's start. */
static inline const char *record_fast(const struct ctx *c, struct rec *r, const char *p,
                                      uint64_t *newlines)
{
    const __m128i v_delim = _mm_set1_epi8(c->delim);
    const __m128i v_nl = _mm_set1_epi8('\n');
    const __m128i v_quote = _mm_set1_epi8('"');
    const char *fs = p, *q = p, *E = c->E;
    while (E - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_delim)) |
                     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_nl)) |
                     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, v_quote));
        while (m) {
            const char *x = q + __builtin_ctz(m);
            m &= m - 1;
            if (*x == '"')
                return record_general(c, r, fs, newlines);
            size_t flen = (size_t)(x - fs);
            if (*x == '\n') {
                if (flen && x[-1] == '\r')
                    flen--;
                store_field(c, r, fs, flen, 0);
                (*newlines)++;
                return x + 1;
            }
            store_field(c, r, fs, flen, 0);
            fs = x + 1;
            if (r->col >= c->need_cols) {
                const char *after = fs;
                return skip_rest(c, r, &after, newlines) ? after
                                                          : record_general(c, r, fs, newlines);
            }
        }
        q += 16;
    }
    return record_general(c, r, fs, newlines);
}
#endif

/* A space-delimited record from p (blanks allowed first); r->col stays 0
 * for a line of blanks. Returns the next record's start. */
static const char *record_space(const struct ctx *c, struct rec *r, const char *p,
                                uint64_t *newlines)
{
    while (!space_line_end(&p, c->E, newlines)) {
        span fl;
        int mal = 0;
        p = scan_field_space(p, c->E, &fl, &mal, newlines);
        if (SCRM_UNLIKELY(mal) && !r->malformed) {
            r->malformed = mal;
            r->bad_col = r->col;
        }
        store_field(c, r, fl.s, fl.len, fl.esc);
    }
    return p;
}

/* A tokenized record: its row stored, or rejected. ROW_STOP tells the
 * other chunks why (string keys needed, or a strict failure here). */
static int finish_record(struct ctx *c, struct chunk *ch, uint32_t t, const struct rec *r,
                         uint64_t line)
{
    int rc;
    ch->rows_read++;
    if (SCRM_UNLIKELY(r->malformed)) {
        const char *cn = r->bad_col < c->ncols ? c->names[r->bad_col] : extra_column;
        rc = scrm__csv_reject(c, ch, line, cn,
                              r->malformed == 1 ? "unterminated quoted field"
                                                : "unexpected text after a closing quote")
                 ? ROW_STOP
                 : ROW_SKIP;
    } else {
        rc = scrm__csv_row(c, ch, r->f, r->have, r->col, line, ch->base + ch->n);
    }
    if (rc == ROW_OK)
        ch->n++;
    if (rc != ROW_STOP)
        return rc;
    if (ch->need_string)
        atomic_store(&c->stop_all, 1);
    if (ch->failed) {
        unsigned cur = atomic_load(&c->err_chunk);
        while (t < cur && !atomic_compare_exchange_weak(&c->err_chunk, &cur, t)) {
        }
    }
    return rc;
}

/* Length of the empty line at p (LF or CRLF), or 0. */
static inline int blank_line(const char *p, const char *E)
{
    if (*p == '\n')
        return 1;
    return *p == '\r' && p + 1 < E && p[1] == '\n' ? 2 : 0;
}

void scrm__csv_parse_chunk(struct ctx *c, uint32_t t)
{
    struct chunk *ch = &c->ch[t];
    const char *p = ch->start;
    uint64_t next_tick = PROGRESS_STEP, newlines = ch->newlines;
    while (p < ch->end) {
        if (SCRM_UNLIKELY((uint64_t)(p - ch->start) >= next_tick)) {
            next_tick = (uint64_t)(p - ch->start) + PROGRESS_STEP;
            if (progress_tick(c, ch, t, p))
                break;
        }
        int blank = blank_line(p, c->E);
        if (blank) {
            p += blank;
            newlines++;
            continue;
        }
        struct rec r; /* only the roles in r.have are read */
        r.have = 0;
        r.col = 0;
        r.malformed = 0;
        r.bad_col = 0;
        const uint64_t line = newlines;
        if (SCRM_UNLIKELY(c->delim == ' ')) {
            p = record_space(c, &r, p, &newlines);
            if (r.col == 0)
                continue; /* a line of blanks */
        } else {
#ifdef __SSE2__
            p = record_fast(c, &r, p, &newlines);
#else
            p = record_general(c, &r, p, &newlines);
#endif
        }
        if (finish_record(c, ch, t, &r, line) == ROW_STOP)
            break;
    }
    ch->newlines = newlines;
    ch->final = p;
    atomic_store_explicit(&c->done[t], (uint64_t)(p - ch->start), memory_order_relaxed);
}

