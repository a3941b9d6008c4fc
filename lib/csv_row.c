/* One record's fields -> one typed row of the window's columns: customer
 * key, time, amount, order key. Values are parsed by lib/csv_number.c and
 * lib/timeparse.c; bad values become rejects (lib/csv_report.c). */
#include <stdio.h>

#include "csv_internal.h"

#define NUM_OK SCRM__NUM_OK
#define NUM_BAD SCRM__NUM_BAD
#define NUM_RANGE SCRM__NUM_RANGE

void *scrm__csv_locked_malloc(struct ctx *c, size_t n)
{
    pthread_mutex_lock(&c->lock);
    void *p = scrm__malloc(n);
    pthread_mutex_unlock(&c->lock);
    return p;
}

void *scrm__csv_locked_realloc(struct ctx *c, void *p, size_t n)
{
    pthread_mutex_lock(&c->lock);
    void *q = scrm__realloc(p, n);
    pthread_mutex_unlock(&c->lock);
    return q;
}

void scrm__csv_locked_free(struct ctx *c, void *p)
{
    pthread_mutex_lock(&c->lock);
    scrm__free(p);
    pthread_mutex_unlock(&c->lock);
}

static inline void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Collapse "" to " in a quoted field's content; dst holds n bytes. */
/* A field value quoted for a message: at most 60 bytes, then "...". */
static void show(char *buf, size_t cap, const char *s, size_t n)
{
    if (n > 60)
        snprintf(buf, cap, "%.60s...", s);
    else
        snprintf(buf, cap, "%.*s", (int)n, s);
}

/* ROW_STOP if the reject says the chunk must stop, else ROW_SKIP. */
#define REJECT(...) (scrm__csv_reject(__VA_ARGS__) ? ROW_STOP : ROW_SKIP)

/* An escaped field's content, unescaped into the chunk's scratch. */
static int unescaped_text(struct ctx *c, struct chunk *ch, const span *f, const char **s,
                          size_t *n)
{
    if (ch->scratch_cap < f->len) {
        char *b = scrm__csv_locked_realloc(c, ch->scratch, f->len);
        if (!b) {
            ch->rc = scrm__enomem("CSV field");
            return -1;
        }
        ch->scratch = b;
        ch->scratch_cap = f->len;
    }
    *n = scrm__csv_unescape(ch->scratch, f->s, f->len);
    *s = ch->scratch;
    return 0;
}

/* Field content without quotes/escapes (in scratch if it had escapes). */
static inline int field_text(struct ctx *c, struct chunk *ch, const span *f, const char **s,
                             size_t *n)
{
    if (SCRM_UNLIKELY(f->esc))
        return unescaped_text(c, ch, f, s, n);
    *s = f->s;
    *n = f->len;
    return 0;
}

/* The field trimmed, or ROW_STOP (out of memory). */
static int trimmed(struct ctx *c, struct chunk *ch, const span *f, const char **s, size_t *n)
{
    if (field_text(c, ch, f, s, n))
        return ROW_STOP;
    trim(s, n);
    return ROW_OK;
}

/* Empty customers (and the "no customer" values) are skipped, not rejected. */
static int empty_customer(const struct ctx *c, const span *cf)
{
    /* "" escapes only lengthen, so len 0 is empty */
    if (cf->len == 0)
        return 1;
    if (cf->esc || cf->len > c->na_maxlen)
        return 0;
    for (uint32_t i = 0; i < c->n_na; i++)
        if (cf->len == c->na[i].len && memcmp(cf->s, c->na[i].s, cf->len) == 0)
            return 1;
    return 0;
}

/* Does the exclude filter match the row? 0 no, 1 yes, -1 out of memory. */
static int excluded(struct ctx *c, struct chunk *ch, const span *f, unsigned have)
{
    for (uint32_t i = 0; i < c->n_excl; i++) {
        int r = c->excl_role[i];
        const char *s;
        size_t n;
        if (!(have & (1u << r)))
            continue;
        if (trimmed(c, ch, &f[r], &s, &n))
            return -1;
        if (n == c->excl[i].len && memcmp(s, c->excl[i].s, n) == 0)
            return 1;
    }
    return 0;
}

static int row_string_key(struct ctx *c, struct chunk *ch, const span *cf, uint64_t line,
                          uint64_t slot)
{
    const char *ks = cf->s;
    size_t kn = cf->len;
    if (cf->esc) {
        struct keyblk *b = scrm__csv_locked_malloc(c, sizeof *b + cf->len);
        if (!b) {
            ch->rc = scrm__enomem("CSV customer keys");
            return ROW_STOP;
        }
        b->next = ch->keys;
        ch->keys = b;
        kn = scrm__csv_unescape(b->data, cf->s, cf->len);
        ks = b->data;
    }
    if (kn > UINT32_MAX)
        return REJECT(c, ch, line, c->rolename[R_CUST], "customer key longer than 4 GiB");
    c->cs[slot] = ks;
    c->cl[slot] = (uint32_t)kn;
    return ROW_OK;
}

static int row_u64_key(struct ctx *c, struct chunk *ch, const span *cf, uint64_t line,
                       uint64_t slot)
{
    const char *s;
    size_t n;
    uint64_t k;
    if (field_text(c, ch, cf, &s, &n))
        return ROW_STOP;
    if (c->key_mode == KEY_U64_CANON) {
        if (scrm__parse_u64(s, n, 0, &k) != NUM_OK) {
            ch->need_string = 1; /* the whole load goes again with string keys */
            return ROW_STOP;
        }
    } else {
        trim(&s, &n);
        int rc = scrm__parse_u64(s, n, 1, &k);
        if (rc != NUM_OK) {
            char v[80];
            show(v, sizeof v, s, n);
            return REJECT(c, ch, line, c->rolename[R_CUST],
                          rc == NUM_RANGE ? "'%s' is out of range for an unsigned 64-bit integer"
                                          : "'%s' is not an unsigned integer",
                          v);
        }
    }
    c->cu[slot] = k;
    return ROW_OK;
}

/* Auto format: parse by the value's own kind, noting the kinds seen; an
 * all-digit value stays raw until the column's format is known, a D/M/Y
 * value is read day first until a value shows the month comes first
 * (csv.c then reads the column again as MDY). */
static int time_auto(struct chunk *ch, const struct ctx *c, const char *s, size_t n,
                     int64_t *t, int *fmt)
{
    int cls = scrm__time_class(s, n), nd = 0, rc = NUM_BAD;
    if (cls) {
        if (!ch->tmask)
            ch->first_class = cls;
        ch->tmask |= (unsigned)cls;
    }
    if (cls == SCRM__TC_ISO) {
        *fmt = SCRM_TIME_ISO8601;
        return scrm__time_iso(&ch->dc, s, n, c->offset, t);
    }
    if (cls == SCRM__TC_DM) {
        int a, b;
        if (scrm__time_dm_fields(s, n, &a, &b) && (a > 12) != (b > 12)) {
            int k = a > 12 ? 0 : 1; /* 0: day first, 1: month first */
            if (!(ch->dm_seen & (1u << k)))
                snprintf(ch->dm_example[k], sizeof ch->dm_example[k], "%.*s",
                         (int)(n < sizeof ch->dm_example[k] ? n : sizeof ch->dm_example[k] - 1), s);
            ch->dm_seen |= 1u << k;
        }
        *fmt = SCRM_TIME_DMY;
        return scrm__time_dm(&ch->dc, SCRM_TIME_DMY, s, n, c->offset, t);
    }
    if (cls == SCRM__TC_DIGITS && (rc = scrm__time_digits(s, n, t, &nd)) == NUM_OK) {
        int v8 = scrm__time_is_ymd8(s, *t, nd);
        ch->n_digits++;
        ch->n_ymd8 += (uint64_t)v8;
        ch->all_ymd8 &= v8;
        if (!ch->all_ymd8 && (*t < SCRM_TIME_MIN || *t > SCRM_TIME_MAX))
            rc = NUM_RANGE;
    }
    return rc;
}

static int time_fixed(struct chunk *ch, const struct ctx *c, const char *s, size_t n,
                      int64_t *t)
{
    int nd = 0, rc;
    switch (c->tfmt) {
    case SCRM_TIME_ISO8601: return scrm__time_iso(&ch->dc, s, n, c->offset, t);
    case SCRM_TIME_DMY:
    case SCRM_TIME_MDY: return scrm__time_dm(&ch->dc, c->tfmt, s, n, c->offset, t);
    case SCRM_TIME_YYYYMMDD:
        if (scrm__time_digits(s, n, t, &nd) != NUM_OK)
            return NUM_BAD;
        return nd == 8 && s[0] != '-' ? scrm__time_ymd8(&ch->dc, *t, c->offset, t) : NUM_BAD;
    default: /* epoch */
        if ((rc = scrm__time_digits(s, n, t, &nd)) == NUM_OK &&
            (*t < SCRM_TIME_MIN || *t > SCRM_TIME_MAX))
            rc = NUM_RANGE;
        return rc;
    }
}

static int row_time(struct ctx *c, struct chunk *ch, const span *f, uint64_t line,
                    uint64_t slot)
{
    const char *s;
    size_t n;
    if (trimmed(c, ch, f, &s, &n))
        return ROW_STOP;
    int64_t t = 0;
    int fmt = c->tfmt;
    int rc = fmt == SCRM_TIME_AUTO ? time_auto(ch, c, s, n, &t, &fmt) : time_fixed(ch, c, s, n, &t);
    if (rc != NUM_OK) {
        char why[300];
        scrm__time_why(why, sizeof why, rc, fmt, s, n);
        return REJECT(c, ch, line, c->rolename[R_TIME], "%s", why);
    }
    c->tm[slot] = t;
    return ROW_OK;
}

static int number_reject(struct ctx *c, struct chunk *ch, uint64_t line, int role, int rc,
                         const char *s, size_t n)
{
    char v[80];
    int64_t other;
    const char *col = c->rolename[role];
    show(v, sizeof v, s, n);
    if (n == 0)
        return REJECT(c, ch, line, col, "empty value");
    if (rc == NUM_RANGE)
        return REJECT(c, ch, line, col, "'%s' is out of range", v);
    /* the hint that helps: the file's decimal separator is the other one */
    const char *hint = c->dec == '.' ? "a decimal comma (decimal_separator ','; shopcrm --decimal-comma)"
                                     : "a decimal point (decimal_separator '.'; shopcrm without --decimal-comma)";
    if (rc == SCRM__NUM_AMBIGUOUS)
        return REJECT(c, ch, line, col,
                      "'%s' is ambiguous: '%c' is a thousands separator here, but the value "
                      "may have %s; write it without the separator, or with decimals",
                      v, c->thou, hint);
    const char *sep = memchr(s, c->thou, n);
    if (sep && sep > s && (unsigned)(unsigned char)sep[-1] - '0' <= 9 &&
        (scrm__parse_decimal_slow(s, n, c->thou, c->dec, c->minor, &other) == NUM_OK ||
         scrm__parse_money(s, n, c->thou, c->dec, c->minor, &other) == NUM_OK))
        return REJECT(c, ch, line, col, "'%s' is not a number with '%c' as decimal separator; it "
                      "reads as one with %s", v, c->dec, hint);
    return REJECT(c, ch, line, col, "'%s' is not a number", v);
}

/* A decimal field scaled by 10^scale, or a reject. Amounts and prices may
 * carry a currency or be accounting negatives; quantities may not. */
static int row_decimal(struct ctx *c, struct chunk *ch, const span *f, int role, int scale,
                       uint64_t line, int64_t *out)
{
    const char *s;
    size_t n;
    if (trimmed(c, ch, f, &s, &n))
        return ROW_STOP;
    int rc = scrm__parse_decimal(s, n, c->dec, c->thou, scale, out);
    if (rc == NUM_BAD && role != R_QTY && n &&
        scrm__parse_money(s, n, c->dec, c->thou, scale, out) == NUM_OK)
        rc = NUM_OK;
    return rc == NUM_OK ? ROW_OK : number_reject(c, ch, line, role, rc, s, n);
}

/* amount = quantity x unit price, rounded half away from zero: q * 10^6
 * times p * 10^(minor+6) is amount * 10^(minor+12). */
static int row_qty_price(struct ctx *c, struct chunk *ch, const span *f, uint64_t line,
                         uint64_t slot)
{
    int64_t q, p;
    int rc;
    if ((rc = row_decimal(c, ch, &f[R_QTY], R_QTY, 6, line, &q)) != ROW_OK ||
        (rc = row_decimal(c, ch, &f[R_PRICE], R_PRICE, c->minor + 6, line, &p)) != ROW_OK)
        return rc;
    __extension__ typedef __int128 i128;
    const i128 unit = (i128)1000000 * 1000000;
    i128 prod = (i128)q * p;
    i128 quo = prod / unit, rem = prod % unit;
    if (rem < 0)
        rem = -rem;
    if (2 * rem >= unit)
        quo += prod < 0 ? -1 : 1;
    if (quo > INT64_MAX || quo < -INT64_MAX) {
        const char *s;
        size_t n;
        char v[80];
        if (trimmed(c, ch, &f[R_PRICE], &s, &n))
            return ROW_STOP;
        show(v, sizeof v, s, n);
        return REJECT(c, ch, line, c->rolename[R_PRICE], "quantity x '%s' is out of range", v);
    }
    c->am[slot] = (int64_t)quo;
    return ROW_OK;
}

static int row_order(struct ctx *c, struct chunk *ch, const span *f, uint64_t line,
                     uint64_t slot)
{
    const char *s;
    size_t n;
    if (field_text(c, ch, f, &s, &n))
        return ROW_STOP;
    if (n == 0)
        return REJECT(c, ch, line, c->rolename[R_ORDER], "empty order id");
    c->ok[slot] = scrm_dataset_order_key_from_string(s, n);
    c->ln[slot] = line;
    return ROW_OK;
}

int scrm__csv_row(struct ctx *c, struct chunk *ch, const span *f, unsigned have,
                  uint32_t nfields, uint64_t line, uint64_t slot)
{
    int rc;
    if (c->n_excl && (rc = excluded(c, ch, f, have)) != 0) {
        if (rc < 0)
            return ROW_STOP;
        ch->excluded++;
        return ROW_SKIP;
    }
    if ((have & (1u << R_CUST)) && empty_customer(c, &f[R_CUST])) {
        ch->empty_cust++;
        return ROW_SKIP;
    }
    for (int r = 0; r < R_COUNT; r++)
        if (c->rolename[r] && !(have & (1u << r)))
            return REJECT(c, ch, line, c->rolename[r], "missing field (the row has %u field%s)",
                          (unsigned)nfields, nfields == 1 ? "" : "s");
    rc = c->key_mode == KEY_STRING ? row_string_key(c, ch, &f[R_CUST], line, slot)
                                   : row_u64_key(c, ch, &f[R_CUST], line, slot);
    if (rc != ROW_OK || (rc = row_time(c, ch, &f[R_TIME], line, slot)) != ROW_OK)
        return rc;
    if (c->qty_price)
        rc = row_qty_price(c, ch, f, line, slot);
    else if (c->no_amount)
        rc = ROW_OK;
    else
        rc = row_decimal(c, ch, &f[R_AMOUNT], R_AMOUNT, c->minor, line, &c->am[slot]);
    if (rc != ROW_OK || !c->has_order)
        return rc;
    return row_order(c, ch, &f[R_ORDER], line, slot);
}

/* ------------------------------------------------------------------ */
/* the "no customer" values and the exclude filter                     */

/* What R, pandas, spreadsheets and databases write for a missing value
 * (io.h, scrm_csv_options.na_defaults). */
static const char *const na_default_set[] = {"NA",  "N/A", "n/a", "#N/A", "null",
                                             "NULL", "NaN", "nan", "None"};
#define N_NA_DEFAULTS (sizeof na_default_set / sizeof na_default_set[0])

int scrm__csv_check_filters(const scrm_csv_options *o)
{
    if (o->na_customer_count && !o->na_customers)
        return scrm__error(SCRM_EINVAL, -1, "CSV options: na_customers is NULL but na_customer_count is %u",
                           (unsigned)o->na_customer_count);
    for (uint32_t i = 0; i < o->na_customer_count; i++)
        if (!o->na_customers[i])
            return scrm__error(SCRM_EINVAL, -1, "CSV options: na_customers[%u] is NULL", (unsigned)i);
    if (o->exclude_count && (!o->exclude_columns || !o->exclude_values))
        return scrm__error(SCRM_EINVAL, -1,
                           "CSV options: exclude_columns and exclude_values must hold exclude_count (%u) entries",
                           (unsigned)o->exclude_count);
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < o->exclude_count; i++) {
        if (!o->exclude_columns[i] || !o->exclude_values[i])
            return scrm__error(SCRM_EINVAL, -1, "CSV options: exclude entry %u has a NULL %s",
                               (unsigned)i, o->exclude_columns[i] ? "value" : "column");
        uint32_t k = 0;
        while (k < i && strcmp(o->exclude_columns[k], o->exclude_columns[i]) != 0)
            k++;
        if (k == i && ++distinct > SCRM_CSV_MAX_EXCLUDE_COLUMNS)
            return scrm__error(SCRM_EINVAL, -1,
                               "CSV options: the exclude filter names more than %d columns",
                               SCRM_CSV_MAX_EXCLUDE_COLUMNS);
    }
    return SCRM_OK;
}

int scrm__csv_filters_init(struct ctx *c, const scrm_csv_options *o)
{
    uint32_t n = (o->na_customer ? 1 : 0) + o->na_customer_count +
                 (o->na_defaults ? (uint32_t)N_NA_DEFAULTS : 0);
    if (n && !(c->na = scrm__calloc(n, sizeof *c->na)))
        return scrm__enomem("CSV options");
    if (o->na_customer)
        c->na[c->n_na++] = (struct text){o->na_customer, strlen(o->na_customer)};
    for (uint32_t i = 0; i < o->na_customer_count; i++)
        c->na[c->n_na++] = (struct text){o->na_customers[i], strlen(o->na_customers[i])};
    for (uint32_t i = 0; o->na_defaults && i < N_NA_DEFAULTS; i++)
        c->na[c->n_na++] = (struct text){na_default_set[i], strlen(na_default_set[i])};
    for (uint32_t i = 0; i < c->n_na; i++)
        c->na_maxlen = c->na[i].len > c->na_maxlen ? c->na[i].len : c->na_maxlen;
    if (!o->exclude_count)
        return SCRM_OK;
    c->excl = scrm__calloc(o->exclude_count, sizeof *c->excl);
    c->excl_role = scrm__calloc(o->exclude_count, sizeof *c->excl_role);
    if (!c->excl || !c->excl_role)
        return scrm__enomem("CSV options");
    for (uint32_t i = 0; i < o->exclude_count; i++) {
        int r = R_EXCL;
        while (c->rolename[r] && strcmp(c->rolename[r], o->exclude_columns[i]) != 0)
            r++; /* a new column within the limit scrm__csv_check_filters checked */
        c->rolename[r] = o->exclude_columns[i];
        c->excl_role[i] = r;
        c->excl[i] = (struct text){o->exclude_values[i], strlen(o->exclude_values[i])};
    }
    c->n_excl = o->exclude_count;
    return SCRM_OK;
}

void scrm__csv_filters_free(struct ctx *c)
{
    scrm__free(c->na);
    scrm__free(c->excl);
    scrm__free(c->excl_role);
    c->na = c->excl = NULL;
    c->excl_role = NULL;
    c->n_na = c->n_excl = 0;
}
