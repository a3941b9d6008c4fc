/* The analysis runner (lib/internal.h): what every analysis does around its
 * own arithmetic, written once. See scrm__run in lib/internal.h. */
#include "internal.h"

uint32_t scrm__threads(uint32_t requested, const scrm_dataset *ds)
{
    uint32_t t = requested ? requested : scrm__dataset_threads(ds);
    if (t == 0)
        t = scrm__default_threads();
    if (t > SCRM__MAX_THREADS)
        t = SCRM__MAX_THREADS;
    uint32_t parts = scrm__dataset_partition_count(ds);
    if (t > parts)
        t = parts ? parts : 1;
    return t;
}

void scrm__dataset_shape(const scrm_dataset *ds, scrm__shape *out)
{
    memset(out, 0, sizeof *out);
    out->n_parts = scrm__dataset_partition_count(ds);
    out->customers = scrm_dataset_customer_count(ds);
    for (uint32_t p = 0; p < out->n_parts; p++) {
        scrm__part_view v;
        scrm__dataset_partition(ds, p, &v);
        out->max_cust = v.n_cust > out->max_cust ? v.n_cust : out->max_cust;
        out->max_rows = v.n_rows > out->max_rows ? v.n_rows : out->max_rows;
        out->rows += v.n_rows;
    }
}

typedef struct pass {
    scrm__run *r;
    unsigned char *scratch;          /* threads x r->scratch_size */
    scrm__summary_scratch *sscr;     /* per thread, when the summary is built */
    scrm__summary *build;            /* the summary being built, or NULL */
    const scrm__summary *summary;    /* the one the analysis reads */
    uint64_t total;                  /* progress units in all */
    _Atomic uint64_t done;
    uint64_t reported;               /* last value given to the callback */
    atomic_int cancel;
} pass;

static int cancelled(const scrm__run *r)
{
    return scrm__error(SCRM_ECANCELLED, -1, "%s: cancelled by the progress callback", r->fn);
}

static int pass_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    pass *ps = ctx;
    scrm__run *r = ps->r;
    void *scratch = r->scratch_size ? ps->scratch + (size_t)thread * r->scratch_size : NULL;
    for (uint32_t p = begin; p < end; p++) {
        if (atomic_load_explicit(&ps->cancel, memory_order_relaxed))
            return SCRM_ECANCELLED;
        scrm__part_view v;
        scrm__dataset_partition(r->ds, p, &v);
        if (ps->build)
            scrm__summary_part(ps->build, &ps->sscr[thread], &v);
        int err = r->part(r->ctx, scratch, p, &v, ps->summary);
        if (err) {
            atomic_store(&ps->cancel, 1);
            return err;
        }
        uint64_t d = atomic_fetch_add_explicit(&ps->done, r->progress_rows ? v.n_rows : 1,
                                               memory_order_relaxed) +
                     (r->progress_rows ? v.n_rows : 1);
        /* the callback runs on the calling thread only (thread 0) */
        if (thread == 0 && r->progress) {
            ps->reported = d;
            if (r->progress(d, ps->total, r->payload)) {
                atomic_store(&ps->cancel, 1);
                return cancelled(r);
            }
        }
    }
    return 0;
}

int scrm__run_partitions(scrm__run *r)
{
    pass ps;
    memset(&ps, 0, sizeof ps);
    ps.r = r;
    atomic_init(&ps.done, 0);
    atomic_init(&ps.cancel, 0);
    scrm__dataset_shape(r->ds, &r->shape);
    const uint32_t threads = scrm__threads(r->threads, r->ds);
    r->threads_used = threads;
    ps.total = r->progress_rows ? r->shape.rows : r->shape.n_parts;
    int err = SCRM_OK;
    uint32_t made = 0; /* threads whose scratch was made */

    if (r->want_summary) {
        if (r->shape.customers > UINT32_MAX)
            return scrm__error(SCRM_EINVAL, -1, "%s: too many customers", r->fn);
        ps.summary = scrm__dataset_summary(r->ds, r->utc_offset);
        if (!ps.summary) {
            ps.build = scrm__summary_new((uint32_t)r->shape.customers, r->utc_offset);
            ps.sscr = scrm__calloc(threads, sizeof *ps.sscr);
            if (!ps.build || !ps.sscr) {
                err = scrm__enomem(r->fn);
                goto done;
            }
            for (uint32_t t = 0; t < threads; t++)
                if ((err = scrm__summary_scratch_new(&ps.sscr[t], r->shape.max_cust,
                                                     r->shape.max_rows)) < 0)
                    goto done;
            ps.summary = ps.build;
        }
    }
    if (r->scratch_size) {
        ps.scratch = scrm__calloc(threads, r->scratch_size);
        if (!ps.scratch) {
            err = scrm__enomem(r->fn);
            goto done;
        }
        for (; made < threads; made++)
            if ((err = r->scratch_new(r->ctx, ps.scratch + (size_t)made * r->scratch_size,
                                      &r->shape)) < 0) {
                made++; /* a partly made scratch is freed too */
                goto done;
            }
    }
    if (r->begin && (err = r->begin(r->ctx, ps.summary)) < 0)
        goto done;
    if ((err = scrm__parallel_for(threads, r->shape.n_parts, pass_range, &ps)) < 0)
        goto done;
    if (r->merge)
        for (uint32_t t = 0; t < threads; t++)
            if ((err = r->merge(r->ctx,
                                r->scratch_size ? ps.scratch + (size_t)t * r->scratch_size : NULL,
                                t)) < 0)
                goto done;
    if (ps.build) { /* complete: share it (the cache owns it from now on) */
        ps.summary = scrm__dataset_cache_summary(r->ds, ps.build);
        ps.build = NULL;
    }
    r->summary = ps.summary;
    if (r->progress && ps.reported < ps.total && r->progress(ps.total, ps.total, r->payload))
        err = cancelled(r);
done:
    if (ps.sscr)
        for (uint32_t t = 0; t < threads; t++)
            scrm__summary_scratch_free(&ps.sscr[t]);
    scrm__free(ps.sscr);
    scrm__summary_free(ps.build);
    if (ps.scratch) {
        for (uint32_t t = 0; t < made; t++)
            r->scratch_free(r->ctx, ps.scratch + (size_t)t * r->scratch_size);
        scrm__free(ps.scratch);
    }
    return err;
}
