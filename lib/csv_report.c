/* The CSV loader's reject list and its report (scrm_csv_report_*). */
#include <stdio.h>

#include "csv_internal.h"

struct scrm_csv_report {
    uint64_t rows_read, rows_added, duplicates, empty_customer, rejected;
    uint64_t lines_merged, orders_merged, excluded;
    int time_format;
    int32_t delimiter;
    int key_type;
    uint64_t n_rejects;
    struct reject *rejects;
    char **names;
    uint32_t n_names;
};

/* Append to l (capacity doubling up to max); 1 on allocation failure. */
static int list_add(struct ctx *c, struct reject_list *l, uint32_t max, uint64_t line,
                    const char *column, const char *reason)
{
    if (l->n == l->cap) {
        uint32_t nc = l->cap ? l->cap * 2 : 16;
        if (nc > max)
            nc = max;
        struct reject *r = scrm__csv_locked_realloc(c, l->r, (size_t)nc * sizeof *r);
        if (!r)
            return 1;
        l->r = r;
        l->cap = nc;
    }
    size_t len = strlen(reason) + 1;
    char *copy = scrm__csv_locked_malloc(c, len);
    if (!copy)
        return 1;
    memcpy(copy, reason, len);
    l->r[l->n++] = (struct reject){.line = line, .column = column, .reason = copy};
    return 0;
}

int scrm__csv_rejects_add(struct ctx *c, struct reject_list *l, uint32_t max, uint64_t line,
                          const char *column, const char *reason)
{
    return list_add(c, l, max, line, column, reason) ? scrm__enomem("CSV rejected rows") : 0;
}

int scrm__csv_reject(struct ctx *c, struct chunk *ch, uint64_t line, const char *column,
                     const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ch->rejected++;
    if (c->on_error == SCRM_CSV_STRICT) {
        ch->failed = 1;
        ch->err_line = line;
        ch->err_column = column;
        memcpy(ch->err_reason, buf, sizeof buf);
        return 1;
    }
    if (ch->rej.n >= c->max_rejects)
        return 0;
    if (list_add(c, &ch->rej, c->max_rejects, line, column, buf)) {
        ch->rc = scrm__enomem("CSV rejected rows");
        return 1;
    }
    return 0;
}

void scrm__csv_rejects_free(struct reject_list *l, struct ctx *c)
{
    for (uint32_t i = 0; i < l->n; i++)
        scrm__csv_locked_free(c, l->r[i].reason);
    scrm__csv_locked_free(c, l->r);
    *l = (struct reject_list){0};
}

int scrm__csv_rejects_take(struct reject_list *dst, struct reject_list *src, uint64_t line0,
                           uint32_t max)
{
    uint32_t want = dst->n + src->n < max ? dst->n + src->n : max;
    if (want > dst->cap) {
        struct reject *r = scrm__reallocarray(dst->r, want, sizeof *r);
        if (!r)
            return scrm__enomem("CSV rejected rows");
        dst->r = r;
        dst->cap = want;
    }
    for (uint32_t i = 0; i < src->n; i++) {
        if (dst->n < max) {
            dst->r[dst->n] = src->r[i];
            dst->r[dst->n++].line += line0;
        } else {
            scrm__free(src->r[i].reason);
        }
    }
    src->n = 0;
    return SCRM_OK;
}

int scrm__csv_rejects_merge(struct reject_list *dst, struct reject_list *src, uint32_t max)
{
    if (!src->n)
        return SCRM_OK;
    uint32_t want = dst->n + src->n < max ? dst->n + src->n : max;
    struct reject *r = want ? scrm__calloc(want, sizeof *r) : NULL;
    if (want && !r)
        return scrm__enomem("CSV rejected rows");
    uint32_t i = 0, j = 0, k = 0;
    while (i < dst->n || j < src->n) {
        int from_src = i == dst->n || (j < src->n && src->r[j].line < dst->r[i].line);
        struct reject e = from_src ? src->r[j++] : dst->r[i++];
        if (k < want)
            r[k++] = e;
        else
            scrm__free(e.reason);
    }
    scrm__free(dst->r);
    dst->r = r;
    dst->n = k;
    dst->cap = want;
    src->n = 0;
    return SCRM_OK;
}

int scrm__csv_report_new(scrm_csv_report **out, struct load_totals *tot, struct ctx *c,
                         int key_type)
{
    scrm_csv_report *rep = scrm__calloc(1, sizeof *rep);
    if (!rep)
        return scrm__enomem("CSV report");
    rep->rows_read = tot->rows_read;
    rep->rows_added = tot->rows_added;
    rep->duplicates = tot->duplicates;
    rep->empty_customer = tot->empty_customer;
    rep->rejected = tot->rejected;
    rep->lines_merged = tot->merged_lines;
    rep->orders_merged = tot->merged_orders;
    rep->excluded = tot->excluded;
    rep->rejects = tot->rej.r;
    rep->n_rejects = tot->rej.n;
    tot->rej = (struct reject_list){0};
    rep->names = c->names;
    rep->n_names = c->ncols;
    c->names = NULL;
    c->ncols = 0;
    rep->delimiter = c->delim;
    rep->time_format = c->tfmt;
    rep->key_type = key_type;
    *out = rep;
    return SCRM_OK;
}

SCRM_EXPORT void scrm_csv_report_free(scrm_csv_report *r)
{
    if (!r)
        return;
    for (uint64_t i = 0; i < r->n_rejects; i++)
        scrm__free(r->rejects[i].reason);
    scrm__free(r->rejects);
    for (uint32_t i = 0; i < r->n_names; i++)
        scrm__free(r->names[i]);
    scrm__free(r->names);
    scrm__free(r);
}

SCRM_EXPORT uint64_t scrm_csv_report_rows_read(const scrm_csv_report *r) { return r ? r->rows_read : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_rows_added(const scrm_csv_report *r) { return r ? r->rows_added : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_duplicates(const scrm_csv_report *r) { return r ? r->duplicates : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_empty_customer(const scrm_csv_report *r)
{
    return r ? r->empty_customer : 0;
}
SCRM_EXPORT uint64_t scrm_csv_report_lines_merged(const scrm_csv_report *r)
{
    return r ? r->lines_merged : 0;
}
SCRM_EXPORT uint64_t scrm_csv_report_orders_merged(const scrm_csv_report *r)
{
    return r ? r->orders_merged : 0;
}
SCRM_EXPORT uint64_t scrm_csv_report_excluded(const scrm_csv_report *r) { return r ? r->excluded : 0; }
SCRM_EXPORT uint64_t scrm_csv_report_rejected(const scrm_csv_report *r) { return r ? r->rejected : 0; }
SCRM_EXPORT int scrm_csv_report_time_format(const scrm_csv_report *r)
{
    return r ? r->time_format : SCRM_TIME_AUTO;
}
SCRM_EXPORT int32_t scrm_csv_report_delimiter(const scrm_csv_report *r) { return r ? r->delimiter : 0; }
SCRM_EXPORT int scrm_csv_report_key_type(const scrm_csv_report *r) { return r ? r->key_type : SCRM_KEY_AUTO; }
SCRM_EXPORT uint64_t scrm_csv_report_reject_count(const scrm_csv_report *r) { return r ? r->n_rejects : 0; }

SCRM_EXPORT int scrm_csv_report_reject(uint64_t *line_out, const char **column_out,
                                       const char **reason_out, const scrm_csv_report *r,
                                       uint64_t i)
{
    if (!r)
        return scrm__error(SCRM_EINVAL, -1, "scrm_csv_report_reject: report is NULL");
    if (i >= r->n_rejects)
        return scrm__error(SCRM_ENOTFOUND, -1,
                           "scrm_csv_report_reject: index %llu, the report lists %llu rows",
                           (unsigned long long)i, (unsigned long long)r->n_rejects);
    if (line_out)
        *line_out = r->rejects[i].line;
    if (column_out)
        *column_out = r->rejects[i].column;
    if (reason_out)
        *reason_out = r->rejects[i].reason;
    return SCRM_OK;
}
