/* Internals of the CSV loader, shared by its files (never installed):
 *   csv.c         orchestration: options, header, windows, passes, the
 *                 dataset transaction, the public load functions
 *   csv_token.c   the RFC 4180 tokenizer (header and body) and the
 *                 parallel chunk parser
 *   csv_row.c     one record's fields -> one typed row
 *   csv_report.c  the reject list and the report
 *   csv_source.c  gzip input through a bounded buffer; the text check
 *   csv_orders.c  a window's rows -> the dataset, with order lines merged
 *                 and their bad rows (two customers) rejected by line
 *   csv_number.c, timeparse.c  value parsers (declared in internal.h) */
#ifndef SCRM_CSV_INTERNAL_H
#define SCRM_CSV_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

#define MAX_CHUNKS 64
#define PROGRESS_STEP (UINT64_C(1) << 20)

/* R_EXCL + k: the k-th column of the exclude filter (scrm_csv_options.exclude_*) */
enum role { R_CUST = 0, R_TIME, R_AMOUNT, R_ORDER, R_QTY, R_PRICE, R_EXCL,
            R_COUNT = R_EXCL + SCRM_CSV_MAX_EXCLUDE_COLUMNS };

/* A value to compare a field with. */
struct text {
    const char *s;
    size_t len;
};

enum key_mode { KEY_U64_CANON = 0, KEY_U64_LENIENT = 1, KEY_STRING = 2 };

/* One field of a record, as the tokenizer found it. */
typedef struct span {
    const char *s;
    size_t len;
    int esc;     /* quoted with "" escapes inside */
} span;

struct reject {
    uint64_t line;
    const char *column;
    char *reason;
};

/* Rejected rows kept for the report: at most max entries. */
struct reject_list {
    struct reject *r;
    uint32_t n, cap;
};

struct keyblk {
    struct keyblk *next;
    char data[];
};

/* The part of a window one thread parses. */
struct chunk {
    const char *start, *end;   /* parse records starting in [start, end) */
    const char *final;         /* where parsing stopped: the next record start */
    uint64_t base, cap;        /* slice of the window's columns */
    uint64_t n;                /* rows stored */
    uint64_t newlines;         /* '\n' consumed from start to final */
    uint64_t rows_read, empty_cust, rejected, excluded;
    struct reject_list rej;
    int stopped;     /* stopped early because of another chunk: re-parse */
    int failed;      /* strict mode: a bad row; detail below */
    uint64_t err_line;         /* relative to the chunk */
    const char *err_column;
    char err_reason[400];
    int need_string; /* KEY_U64_CANON met a non-canonical key */
    unsigned tmask;  /* time classes seen (auto) */
    int first_class; /* class of the first time value (auto) */
    int all_ymd8;    /* every all-digit time is a valid 8-digit date */
    uint64_t n_digits, n_ymd8; /* all-digit times, and those that are dates */
    unsigned dm_seen;          /* D/M/Y times: bit 0 a day > 12 first, bit 1 second */
    char dm_example[2][24];    /* the first value of each */
    scrm__date_cache dc;
    struct keyblk *keys; /* unescaped string keys */
    char *scratch;
    size_t scratch_cap;
    int rc;          /* hard error: SCRM_ENOMEM, SCRM_ECANCELLED */
};

struct scrm__csv_source;

struct ctx {
    const char *input, *E; /* the whole input and its end (gzip: what the
                            * source's buffer holds of it) */
    struct scrm__csv_source *src; /* gzip input, or NULL (all in memory) */
    uint64_t base;         /* offset of input[0] in the input (gzip) */
    uint64_t data_off;     /* offset of the data region in the input */
    const char *data;      /* the data region after the header */
    const char *wstart;    /* the window being parsed */
    uint64_t total;        /* input size (progress) */
    /* options */
    char delim;
    char dec, thou;
    int minor;
    int64_t offset;
    int on_error;
    uint32_t max_rejects;
    struct text *na;      /* customer values that mean "no customer" */
    uint32_t n_na;
    size_t na_maxlen;     /* the longest of them: a longer customer is no NA */
    struct text *excl;    /* the exclude filter's values; excl_role: their column's role */
    int *excl_role;
    uint32_t n_excl;
    scrm_progress_fn progress;
    void *progress_payload;
    uint64_t reported;    /* last "done" given to the progress callback */
    int key_mode;
    int tfmt;             /* explicit format, or SCRM_TIME_AUTO */
    int ymd8_broken;      /* the column has an all-digit value that is no date */
    int qty_price;        /* amount = quantity x unit price */
    int no_amount;        /* count-only: no amount column, amounts NULL */
    int has_order;
    uint32_t threads;
    int release;          /* the input is our file mapping: drop parsed pages */
    const char *released; /* pages before this were dropped */
    /* columns */
    uint32_t ncols;       /* header columns */
    char **names;         /* header names (owned until handed to the report) */
    uint16_t *rolemask;   /* per header column, bit r = role r */
    uint32_t need_cols;   /* 1 + largest column index used */
    const char *rolename[R_COUNT];
    uint64_t nl_before;   /* newlines before the data region */
    /* the window's columns (chunk t writes [base, base+cap)), reused */
    uint64_t col_cap;
    int col_mode;         /* key_mode the columns were allocated for */
    uint64_t *cu;
    const char **cs;
    uint32_t *cl;
    int64_t *tm, *am;
    uint64_t *ok;
    uint64_t *ln;         /* with order ids: the line of each row (relative to its chunk) */
    struct reject_list orej; /* the window's bad order lines (csv_orders.c) */
    /* chunks of the window */
    uint32_t nchunks;
    struct chunk ch[MAX_CHUNKS];
    _Atomic uint64_t done[MAX_CHUNKS];
    atomic_int cancel;
    atomic_int stop_all;        /* a chunk needs string keys: no use going on */
    atomic_uint err_chunk;      /* smallest chunk index with a strict error */
    pthread_mutex_t lock;       /* allocations from worker threads */
    int sequential;             /* re-parse: ignore signals from other chunks */
};

extern uint64_t scrm__csv_window_bytes;

/* csv_source.c */
int scrm__csv_is_gzip(const void *p, uint64_t n);
/* A gzip source reading fd (>= 0) or the memory [mem, mem+len); name (the
 * path, or NULL for a buffer) for messages. */
int scrm__csv_source_open(struct scrm__csv_source **out, int fd, const void *mem, uint64_t len,
                          const char *name);
void scrm__csv_source_free(struct scrm__csv_source *s);
/* c reads from s: input, E, base and total follow its buffer. */
void scrm__csv_source_attach(struct ctx *c, struct scrm__csv_source *s);
/* The header was read: c->data is where every pass starts. */
void scrm__csv_source_mark_data(struct ctx *c);
/* A new pass: *p = the data start (decompressing again if needed). */
int scrm__csv_source_restart(struct ctx *c, const char **p);
/* Before a window at *p: a window and its slack in the buffer (*p moves). */
int scrm__csv_source_fill(struct ctx *c, const char **p);
/* After a window whose last record ended at final: an error if that
 * record ran to the end of the buffer before the end of input. */
int scrm__csv_source_check_window(const struct ctx *c, const char *final);
/* SCRM_EPARSE if the input starts like a binary file (a NUL byte in the
 * first 4 KiB, a zip, bzip2, xz, zstd, OLE or PDF signature). */
int scrm__csv_check_text(const char *p, uint64_t n, const char *name);

/* csv_token.c */
uint64_t scrm__csv_count_byte(const char *p, const char *e, unsigned char ch);
char scrm__csv_detect_delimiter(const char *p, const char *E);
/* Collapse "" to " in a quoted field's content; dst holds n bytes. Returns the length. */
size_t scrm__csv_unescape(char *dst, const char *s, size_t n);
/* The record at *pp as NUL-terminated, unescaped copies (the header). */
int scrm__csv_read_record(struct ctx *c, const char **pp, char ***names_out, uint32_t *n_out,
                          uint64_t *newlines);
/* Parse chunk t of the window (parallel-safe). */
void scrm__csv_parse_chunk(struct ctx *c, uint32_t t);

/* csv_row.c */
/* The "no customer" values and the exclude filter of the options: checked,
 * then set up in c (the filter's columns as rolename[R_EXCL + k], for
 * map_columns to find). */
int scrm__csv_check_filters(const scrm_csv_options *o);
int scrm__csv_filters_init(struct ctx *c, const scrm_csv_options *o);
void scrm__csv_filters_free(struct ctx *c);
enum row_rc { ROW_OK = 0, ROW_SKIP = 1, ROW_STOP = 2 };
int scrm__csv_row(struct ctx *c, struct chunk *ch, const span *f, unsigned have,
                  uint32_t nfields, uint64_t line, uint64_t slot);
void *scrm__csv_locked_malloc(struct ctx *c, size_t n);
void *scrm__csv_locked_realloc(struct ctx *c, void *p, size_t n);
void scrm__csv_locked_free(struct ctx *c, void *p);

/* csv_report.c */
/* Record a bad row of chunk ch. Returns 1 if the chunk must stop (strict
 * mode or a hard error), 0 to go on. */
int scrm__csv_reject(struct ctx *c, struct chunk *ch, uint64_t line, const char *column,
                     const char *fmt, ...) SCRM_PRINTF(5, 6);
/* Move the entries of src (lines relative, + line0) to dst, up to max in
 * dst; the rest are freed. */
int scrm__csv_rejects_take(struct reject_list *dst, struct reject_list *src, uint64_t line0,
                           uint32_t max);
/* Append a reject to l (at most max entries); SCRM_ENOMEM with its message. */
int scrm__csv_rejects_add(struct ctx *c, struct reject_list *l, uint32_t max, uint64_t line,
                          const char *column, const char *reason);
/* Merge src (absolute lines, sorted) into dst (sorted) by line, keeping the
 * first max; src is emptied. */
int scrm__csv_rejects_merge(struct reject_list *dst, struct reject_list *src, uint32_t max);
void scrm__csv_rejects_free(struct reject_list *l, struct ctx *c);

/* Totals of a load, for the report. */
struct load_totals {
    uint64_t rows_read, rows_added, duplicates, empty_customer, rejected;
    uint64_t merged_lines, merged_orders, excluded;
    struct reject_list rej;
};
/* A new report holding the totals (their rejects moved into it) and the
 * header names (moved too). */
int scrm__csv_report_new(scrm_csv_report **out, struct load_totals *tot, struct ctx *c,
                         int key_type);

/* csv_orders.c */
/* The window's nrows compacted rows into the dataset, counted in tot: with
 * order ids, the lines of an order merged, its bad lines rejected into
 * c->orej (skip mode) or the load's error (strict). */
int scrm__csv_append_rows(struct ctx *c, scrm_dataset *ds, uint64_t nrows,
                          struct load_totals *tot);
/* Make c->ln absolute (before compaction); line0: the first chunk's first line. */
void scrm__csv_row_lines(struct ctx *c, uint64_t line0);

#endif
