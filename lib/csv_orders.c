/* A window's rows into the dataset. With an order id column the rows are
 * order lines: the dataset merges the lines of an order within the load's
 * transaction (lib/dataset.c, scrm__dataset_append_ext), so lines of one
 * order in different windows still make one order; a line of another
 * customer than its order's first line, or one that takes the order's
 * total out of range, is a bad row of its line, rejected here. */
#include <inttypes.h>
#include <stdio.h>

#include "csv_internal.h"

void scrm__csv_row_lines(struct ctx *c, uint64_t line0)
{
    for (uint32_t t = 0; t < c->nchunks; t++) {
        const struct chunk *ch = &c->ch[t];
        for (uint64_t i = ch->base; i < ch->base + ch->n; i++)
            c->ln[i] += line0;
        line0 += ch->newlines;
    }
}

struct bad_ctx {
    struct ctx *c;
    const scrm_dataset *ds;
    struct load_totals *tot;
};

/* Customer of window row `row` (anchor UINT32_MAX: of dataset customer
 * gid), quoted for a message. */
static void customer_text(char *buf, size_t cap, const struct bad_ctx *b, uint32_t row,
                          uint32_t gid)
{
    const struct ctx *c = b->c;
    const char *s = NULL;
    uint32_t n = 0;
    uint64_t k = 0;
    if (row != UINT32_MAX) {
        if (c->key_mode == KEY_STRING) {
            s = c->cs[row];
            n = c->cl[row];
        } else {
            k = c->cu[row];
        }
    } else if (scrm_dataset_key_type(b->ds) == SCRM_KEY_STRING) {
        scrm_dataset_customer_key_str(&s, &n, b->ds, gid);
    } else {
        scrm_dataset_customer_key_u64(&k, b->ds, gid);
    }
    if (s)
        snprintf(buf, cap, "'%.*s%s'", n > 60 ? 60 : (int)n, s, n > 60 ? "..." : "");
    else
        snprintf(buf, cap, "'%" PRIu64 "'", k);
}

static int bad_row(void *payload, uint32_t row, int state, uint32_t anchor, uint32_t gid)
{
    struct bad_ctx *b = payload;
    struct ctx *c = b->c;
    char reason[400], mine[80], theirs[80];
    /* the same words whichever window the first line was in */
    if (state == SCRM__ROW_CONFLICT) {
        customer_text(mine, sizeof mine, b, row, 0);
        customer_text(theirs, sizeof theirs, b, anchor, gid);
        snprintf(reason, sizeof reason,
                 "the order's first line has customer %s, this line %s: an order has one "
                 "customer",
                 theirs, mine);
    } else {
        snprintf(reason, sizeof reason, "the order's total amount is out of range");
    }
    const char *col = c->rolename[R_ORDER];
    uint64_t line = c->ln[row];
    if (c->on_error == SCRM_CSV_STRICT)
        return scrm__error(SCRM_EPARSE, (int64_t)line, "line %" PRIu64 ", column %s: %s", line,
                           col, reason);
    b->tot->rejected++;
    if (c->orej.n >= c->max_rejects)
        return SCRM_OK;
    return scrm__csv_rejects_add(c, &c->orej, c->max_rejects, line, col, reason);
}

int scrm__csv_append_rows(struct ctx *c, scrm_dataset *ds, uint64_t nrows,
                          struct load_totals *tot)
{
    uint64_t added = 0;
    int err = SCRM_OK;
    const int64_t *am = c->no_amount ? NULL : c->am; /* count-only: no amounts */
    scrm__csv_rejects_free(&c->orej, c);
    if (!nrows)
        return SCRM_OK;
    if (!c->has_order) {
        err = c->key_mode == KEY_STRING
                  ? scrm_dataset_append_str(&added, ds, nrows, c->cs, c->cl, c->tm, am, NULL, NULL)
                  : scrm_dataset_append_u64(&added, ds, nrows, c->cu, c->tm, am, NULL, NULL);
        if (!err)
            tot->rows_added += added;
        return err;
    }
    struct bad_ctx b = {.c = c, .ds = ds, .tot = tot};
    uint64_t rejected0 = tot->rejected;
    scrm__append_ext x = {.bad_row = bad_row, .payload = &b};
    err = scrm__dataset_append_ext(&added, ds, nrows, c->key_mode == KEY_STRING ? NULL : c->cu,
                                   c->key_mode == KEY_STRING ? c->cs : NULL, c->cl, c->tm, am,
                                   c->ok, &x);
    if (err) {
        tot->rejected = rejected0;
        return err;
    }
    tot->rows_added += added;
    tot->merged_lines += x.merged_lines;
    tot->merged_orders += x.merged_orders;
    tot->duplicates += nrows - added - x.merged_lines - x.bad_rows;
    return SCRM_OK;
}
