/* The orders dataset: customer interning and partitioned row storage.
 *
 * Layout (docs/architecture.md): customers are spread over PARTS partitions
 * by the top bits of a 64-bit hash of their key. Each partition has its own
 * open-addressing table (key hash -> local id), its customers' global
 * indices, and its rows in append order (local id, time, amount). A
 * partition's table and per-customer arrays are small enough to stay in the
 * L2 cache while one partition is processed, which is why appends and
 * analyses work partition by partition (DESIGN.md, "Performance
 * architecture": 3.9x over one global table, 4.4x over row-order scatter).
 *
 * Appends are atomic without copying the dataset: plan (intern into the
 * tables, remembering what was inserted), reserve (every allocation), then
 * commit (writes only). A failure before commit deletes the inserted keys
 * again, so the dataset is as it was.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define PART_BITS 10
#define PARTS (1u << PART_BITS)
#define PART_OF(h) ((uint32_t)((h) >> (64 - PART_BITS)))
#define MIN_TABLE 16u
/* a table of cap slots holds at most n keys: load <= 3/4 */
#define TABLE_FULL(n, cap) ((uint64_t)(n)*4 > (uint64_t)(cap)*3)
#define PLAN_AHEAD 16 /* rows to prefetch ahead in plan_partition */

typedef struct part {
    /* customers of the partition */
    uint32_t n_cust, cap_cust;
    uint32_t *gid;
    /* key hash -> local id + 1 (0 = empty slot); linear probing, load <= 3/4 */
    uint64_t *thash;
    uint32_t *tval;
    uint32_t tcap;
    /* rows, in append order: the concatenation of n_seg segments, each a
     * region of one slab with room up to its cap; only the last has room */
    uint64_t n_rows;
    uint32_t n_seg, cap_seg;
    scrm__row_seg *seg;
} part;

/* One allocation of row storage: the regions of the partitions that needed
 * room in one append, time and amount columns first, then cust. */
typedef struct slab {
    struct slab *next;
} slab;

/* Order-key set of one partition: mixed keys, 0 = empty slot. */
typedef struct oset {
    uint64_t *slot;
    uint64_t n;
    uint64_t cap;
    uint64_t *prev;    /* grown by the running append: the slots before it */
    uint64_t prev_cap; /* (oset_settle frees them, or puts them back) */
    int grown;
} oset;

typedef struct arena_chunk {
    struct arena_chunk *next;
    char data[];
} arena_chunk;

/* Whether a dataset's orders carry amounts (scrm_dataset_has_amounts()). */
enum { AMOUNTS_UNKNOWN = 0, AMOUNTS_GIVEN = 1, AMOUNTS_NONE = 2 };

struct scrm_dataset {
    int key_type;
    int amounts_mode; /* AMOUNTS_*: decided by the first append with rows */
    uint32_t threads;
    uint32_t minor_digits;
    part *parts;
    oset *osets;     /* NULL until the first append with order keys */
    int ozero;       /* the one order key whose mixed value is 0 was seen */
    uint32_t n_cust, cap_cust;
    uint64_t *keys;  /* u64 keys by global index */
    const char **skeys; /* string keys by global index (NUL-terminated, in the arena) */
    uint32_t *slens;
    arena_chunk *arena;
    uint64_t n_orders, n_dups;
    uint64_t n_merged; /* rows merged into an order as its later lines */
    int64_t tmin, tmax;
    /* Per-customer summaries (lib/summary.c), one per UTC offset, built by
     * the first analysis that needs one and dropped by the next append.
     * Analyses may run on one dataset from several threads at once, so the
     * list is pushed onto atomically (the dataset is const to them). */
    _Atomic(scrm__summary *) summaries;
    /* Row storage: the slabs, newest first. An append that does not fit in
     * the partitions' last segments gets one new slab for all partitions
     * that need room, so large datasets get huge pages (page faults on fresh
     * memory dominate ingest otherwise) and rows are never copied. */
    slab *slabs;
    /* The open multi-batch transaction (scrm__dataset_begin), or NULL. */
    scrm__dataset_mark *txn;
    /* Bumped by every change of the contents (dataset_changed). */
    uint64_t version;
    /* Rows the dataset is expected to hold after the appends to come (a
     * hint for sizing segments; 0 = unknown). */
    uint64_t expect_rows;
};

/* ---- cached per-customer summaries ---- */

/* The dataset changed: its summaries no longer describe it. */
static void drop_summaries(scrm_dataset *ds)
{
    scrm__summary *s = atomic_exchange(&ds->summaries, NULL);
    while (s) {
        scrm__summary *next = s->next;
        scrm__summary_free(s);
        s = next;
    }
}

const scrm__summary *scrm__dataset_summary(const scrm_dataset *ds, int64_t utc_offset)
{
    for (const scrm__summary *s = atomic_load(&((scrm_dataset *)ds)->summaries); s; s = s->next)
        if (s->utc_offset == utc_offset)
            return s;
    return NULL;
}

const scrm__summary *scrm__dataset_cache_summary(const scrm_dataset *cds, scrm__summary *s)
{
    /* the cache is not part of the dataset's value: a const dataset may fill it */
    scrm_dataset *ds = (scrm_dataset *)cds;
    scrm__summary *head = atomic_load(&ds->summaries);
    for (;;) {
        for (scrm__summary *o = head; o; o = o->next)
            if (o->utc_offset == s->utc_offset) { /* another thread was first */
                scrm__summary_free(s);
                return o;
            }
        s->next = head;
        if (atomic_compare_exchange_weak(&ds->summaries, &head, s))
            return s;
    }
}

/* Per partition, what a transaction restores. */
typedef struct part_mark {
    uint64_t n_rows;
    uint64_t last_n;  /* rows of the last segment */
    uint32_t n_cust;
    uint32_t n_seg;
} part_mark;

struct scrm__dataset_mark {
    scrm_dataset *ds;
    part_mark part[PARTS];
    uint32_t n_cust;
    uint64_t n_orders, n_dups, n_merged;
    int64_t tmin, tmax;
    int ozero, key_type, had_osets, amounts_mode;
    slab *slabs;          /* the newest slab and arena chunk at begin */
    arena_chunk *arena;
    /* The orders the transaction's appends stored, for the rollback (their
     * mixed order keys; 0 is the ozero key, which no set holds) and for
     * merging later lines into them (where each is stored: TXN_LOC). */
    uint64_t *okeys, *oloc;
    uint64_t n_okeys, cap_okeys;
    /* mixed key -> log index + 1 (0 = empty); linear probing, load <= 1/2 */
    uint32_t *oidx;
    uint64_t oidx_cap;
};

/* Where a stored order is: its partition and row index there, and whether
 * it has more than one line already. */
#define LOC_ROW_BITS 53
#define LOC_MULTI (UINT64_C(1) << 63)
#define LOC(p, r) (((uint64_t)(p) << LOC_ROW_BITS) | (r))
#define LOC_PART(l) ((uint32_t)((l) >> LOC_ROW_BITS) & (PARTS - 1))
#define LOC_ROW(l) ((l) & ((UINT64_C(1) << LOC_ROW_BITS) - 1))

/* Every change of the dataset's contents goes through here: appends when
 * they commit, transactions when they roll back. Anything derived from the
 * contents and kept with the dataset (a cache) is dropped here. */
static void dataset_changed(scrm_dataset *ds)
{
    ds->version++;
    drop_summaries(ds);
}

/* ---- options ---- */

static const scrm_dataset_options dataset_defaults = SCRM_DATASET_OPTIONS_INIT;
static const size_t dataset_option_sizes[] = {sizeof(scrm_dataset_options)};

static const scrm_dataset_append_options append_defaults = SCRM_DATASET_APPEND_OPTIONS_INIT;
static const size_t append_option_sizes[] = {sizeof(scrm_dataset_append_options)};
SCRM__OPTIONS_INIT_FN(scrm_dataset_append_options_init, scrm_dataset_append_options,
                      append_defaults, append_option_sizes, SCRM_DATASET_APPEND_OPTIONS_VERSION)

SCRM__OPTIONS_INIT_FN(scrm_dataset_options_init, scrm_dataset_options,
                      dataset_defaults, dataset_option_sizes, SCRM_DATASET_OPTIONS_VERSION)

SCRM_EXPORT int scrm_dataset_new(scrm_dataset **out, const scrm_dataset_options *opts)
{
    scrm_dataset_options o;
    int err;
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_new: out is NULL");
    if ((err = scrm__options_load(&o, &dataset_defaults, sizeof o, opts, dataset_option_sizes,
                                  SCRM_DATASET_OPTIONS_VERSION, "scrm_dataset_new")) < 0)
        return err;
    if (o.minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_new: minor_digits %u is not 0..%d",
                           o.minor_digits, SCRM_MAX_MINOR_DIGITS);
    if (o.key_type < SCRM_KEY_AUTO || o.key_type > SCRM_KEY_STRING)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_new: key_type %d is not a scrm_key_type",
                           o.key_type);
    scrm_dataset *ds = scrm__calloc(1, sizeof *ds);
    if (!ds)
        return scrm__enomem("scrm_dataset_new");
    ds->parts = scrm__calloc(PARTS, sizeof *ds->parts);
    if (!ds->parts) {
        scrm__free(ds);
        return scrm__enomem("scrm_dataset_new");
    }
    ds->key_type = o.key_type;
    ds->threads = o.threads ? o.threads : scrm__default_threads();
    ds->minor_digits = o.minor_digits;
    ds->tmin = INT64_MAX;
    ds->tmax = INT64_MIN;
    *out = ds;
    return SCRM_OK;
}

SCRM_EXPORT void scrm_dataset_free(scrm_dataset *ds)
{
    if (!ds)
        return;
    for (uint32_t p = 0; p < PARTS; p++) {
        part *pt = &ds->parts[p];
        scrm__free(pt->gid);
        scrm__free(pt->thash);
        scrm__free(pt->tval);
        scrm__free(pt->seg);
    }
    if (ds->osets)
        for (uint32_t p = 0; p < PARTS; p++)
            scrm__free(ds->osets[p].slot);
    scrm__free(ds->osets);
    scrm__free(ds->parts);
    while (ds->slabs) {
        slab *sl = ds->slabs;
        ds->slabs = sl->next;
        scrm__free(sl);
    }
    scrm__free(ds->keys);
    scrm__free(ds->skeys);
    scrm__free(ds->slens);
    while (ds->arena) {
        arena_chunk *c = ds->arena;
        ds->arena = c->next;
        scrm__free(c);
    }
    drop_summaries(ds);
    scrm__free(ds);
}

/* ---- hashing of keys ---- */

#define STR_SEED UINT64_C(0x5c0f3a1e2d4b6987)
#define ORDER_SEED UINT64_C(0x0d3e7f1a9b2c4e65)

SCRM_EXPORT uint64_t scrm_dataset_order_key_from_string(const char *s, uint64_t len)
{
    if (!s)
        len = 0;
    return scrm__hash_bytes(s ? s : "", (size_t)len, ORDER_SEED);
}

/* ---- one append batch ---- */

typedef struct batch {
    scrm_dataset *ds;
    uint32_t n;
    int is_str;
    const uint64_t *ukeys;
    const char *const *skeys;
    const uint32_t *lens;      /* NULL: strlen */
    const int64_t *times;
    const int64_t *amounts;
    const uint64_t *okeys;
    scrm_progress_fn progress; /* from scrm_dataset_append_options; NULL = none */
    void *payload;
    const char *fn;            /* the public function, for messages */
    uint8_t *dup;              /* per row: SCRM__ROW_* (0 = stored; else skipped) */
    uint32_t *order;           /* dedup scratch: row indices by order-key partition */
    /* order keys: times and amounts with the lines of each order merged
     * into its first row (b->times and b->amounts then point here) */
    int64_t *mtime, *mamount;
    /* per row: MERGED/CONFLICT/OVERFLOW: the anchor row (UINT64_MAX: an
     * order stored by an earlier batch, gid in the low bits with
     * LINK_STORED); UPDATE: its log index; NEW: 1 if it got more lines */
    uint64_t *link;
    uint64_t *loc;             /* per row (in a transaction): where it is stored */
    struct mslot *mtab;        /* per thread: this batch's orders of a partition */
    uint64_t mcap;             /* slots per thread (a power of 2) */
    uint64_t *pcnt;            /* per partition: PC_* counters */
    int ozero_new;             /* the ozero key's first row in this batch was new */
    scrm__append_ext *ext;
    uint64_t *rhash;           /* per row: string key hash (string keys only) */
    /* Partition-major scratch, one slot per added row. Before planning slot
     * i holds the key (u64 keys) or its hash (string keys) of the i-th row of
     * the partition region; planning then reuses the region's first k slots
     * for its k new customers: their key (u64) or input row (strings). */
    uint64_t *pbuf;
    uint32_t *slen;            /* per row string length (string keys only) */
    uint64_t *pstart;          /* PARTS + 1: region of each partition in order[] */
    uint32_t *active;          /* the partitions with rows in this batch, ascending */
    uint32_t n_active;         /* stages after the scatter visit only these */
    uint32_t *pnew;            /* new customers per partition */
    uint64_t *pbytes;          /* string bytes of new customers per partition */
    uint64_t *tcount;          /* threads * PARTS counters for the scatter */
    uint64_t *room;            /* per partition: room of its new segment (0: none) */
    slab *new_slab;            /* the slab reserve_rows added, if any */
    /* where each partition's rows of this batch go (its last segment) */
    uint32_t **wcust;
    int64_t **wtime, **wamount;
    uint32_t threads;
    int planned;               /* the active partitions were planned (for rollback) */
    uint64_t str_base;         /* offset of this batch's bytes in the new arena chunk */
    arena_chunk *chunk;
} batch;

static inline uint32_t row_len(const batch *b, uint32_t row) { return b->slen[row]; }

/* Does table entry of local id l in partition pt (planning state of b) have
 * the string key of input row `row`? */
static int str_equal(const batch *b, const part *pt, uint32_t l, uint32_t row, uint32_t pbase)
{
    const scrm_dataset *ds = b->ds;
    const char *s;
    uint32_t len;
    if (l < pt->n_cust) {
        uint32_t g = pt->gid[l];
        s = ds->skeys[g];
        len = ds->slens[g];
    } else {
        uint32_t r = (uint32_t)b->pbuf[pbase + (l - pt->n_cust)];
        s = b->skeys[r];
        len = row_len(b, r);
    }
    return len == row_len(b, row) && memcmp(s, b->skeys[row], len) == 0;
}

static int table_grow(part *pt, uint32_t need)
{
    uint32_t cap = pt->tcap ? pt->tcap : MIN_TABLE;
    while (TABLE_FULL(need, cap)) {
        if (cap > UINT32_MAX / 2)
            return SCRM_EOVERFLOW;
        cap *= 2;
    }
    if (cap == pt->tcap)
        return SCRM_OK;
    uint64_t *h = scrm__malloc((size_t)cap * sizeof *h);
    uint32_t *v = scrm__calloc(cap, sizeof *v);
    if (!h || !v) {
        scrm__free(h);
        scrm__free(v);
        return SCRM_ENOMEM;
    }
    uint32_t mask = cap - 1;
    for (uint32_t i = 0; i < pt->tcap; i++) {
        if (!pt->tval[i])
            continue;
        uint32_t j = (uint32_t)pt->thash[i] & mask;
        while (v[j])
            j = (j + 1) & mask;
        h[j] = pt->thash[i];
        v[j] = pt->tval[i];
    }
    scrm__free(pt->thash);
    scrm__free(pt->tval);
    pt->thash = h;
    pt->tval = v;
    pt->tcap = cap;
    return SCRM_OK;
}

/* Remove the entry at slot i by backward shifting (Knuth, TAOCP vol. 3,
 * 6.4 Algorithm R), so no tombstones are left and probe chains stay intact. */
static void table_delete_slot(part *pt, uint32_t i)
{
    uint32_t mask = pt->tcap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!pt->tval[j])
            break;
        uint32_t k = (uint32_t)pt->thash[j] & mask;
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            pt->thash[i] = pt->thash[j];
            pt->tval[i] = pt->tval[j];
            i = j;
        }
    }
    pt->tval[i] = 0;
}

/* Plan partition p: give every row a local id, inserting new customers into
 * the table. The rows' time and amount are already in place after n_rows;
 * their cust slot receives the local id (string keys: it held the input
 * row). Returns an error with pnew[p] = customers inserted so far. */
static int plan_partition(batch *b, uint32_t p)
{
    part *pt = &b->ds->parts[p];
    uint64_t lo = b->pstart[p], cnt = b->pstart[p + 1] - lo;
    uint32_t k = 0, *cust = b->wcust[p];
    b->pnew[p] = 0;
    b->pbytes[p] = 0;
    if (!cnt)
        return SCRM_OK;
    if (!pt->tcap) {
        int err = table_grow(pt, MIN_TABLE / 2);
        if (err)
            return err;
    }
    for (uint64_t j = 0; j < cnt; j++) {
        /* The table of a partition is cold when a batch reaches it (an
         * append of 1M rows brings ~1000 rows to each table of ~4000
         * slots): fetch the slots of later rows while this one probes. */
        if (j + PLAN_AHEAD < cnt) {
            uint64_t y = b->pbuf[lo + j + PLAN_AHEAD];
            uint32_t t = (uint32_t)(b->is_str ? y : scrm__mix64(y)) & (pt->tcap - 1);
            __builtin_prefetch(&pt->tval[t]);
            __builtin_prefetch(&pt->thash[t]);
        }
        uint64_t x = b->pbuf[lo + j], h;
        uint32_t row = 0;
        if (b->is_str) {
            h = x;
            row = cust[j];
        } else {
            h = scrm__mix64(x);
        }
        uint32_t mask = pt->tcap - 1, s = (uint32_t)h & mask, l;
        for (;;) {
            uint32_t v = pt->tval[s];
            if (!v) {
                l = UINT32_MAX;
                break;
            }
            if (pt->thash[s] == h && (!b->is_str || str_equal(b, pt, v - 1, row, (uint32_t)lo))) {
                l = v - 1;
                break;
            }
            s = (s + 1) & mask;
        }
        if (l == UINT32_MAX) {
            if ((uint64_t)pt->n_cust + k + 1 > UINT32_MAX - 1) {
                b->pnew[p] = k;
                return SCRM_EOVERFLOW;
            }
            if (TABLE_FULL((uint64_t)pt->n_cust + k + 1, pt->tcap)) {
                int err = table_grow(pt, pt->n_cust + k + 1);
                if (err) {
                    b->pnew[p] = k;
                    return err;
                }
                mask = pt->tcap - 1;
                s = (uint32_t)h & mask;
                while (pt->tval[s])
                    s = (s + 1) & mask;
            }
            l = pt->n_cust + k;
            pt->thash[s] = h;
            pt->tval[s] = l + 1;
            /* k <= j: slot lo + k has been read already. */
            b->pbuf[lo + k] = b->is_str ? row : x;
            if (b->is_str)
                b->pbytes[p] += (uint64_t)row_len(b, row) + 1;
            k++;
            b->pnew[p] = k;
        }
        cust[j] = l;
    }
    return SCRM_OK;
}

static uint64_t new_customer_hash(const batch *b, uint64_t slot)
{
    uint64_t x = b->pbuf[slot];
    return b->is_str ? b->rhash[x] : scrm__mix64(x);
}

/* Undo plan_partition: delete the keys of the customers it inserted. */
static void unplan_partition(batch *b, uint32_t p)
{
    part *pt = &b->ds->parts[p];
    uint64_t lo = b->pstart[p];
    for (uint32_t k = b->pnew[p]; k-- > 0;) {
        uint32_t want = pt->n_cust + k + 1, mask = pt->tcap - 1;
        uint32_t s = (uint32_t)new_customer_hash(b, lo + k) & mask;
        while (pt->tval[s] != want)
            s = (s + 1) & mask;
        table_delete_slot(pt, s);
    }
    b->pnew[p] = 0;
}

static int reserve_u32(uint32_t **a, uint64_t *cap, uint64_t need)
{
    if (need <= *cap)
        return SCRM_OK;
    uint64_t c = *cap + *cap / 2;
    if (c < need)
        c = need;
    if (c < 4)
        c = 4;
    uint32_t *p = scrm__reallocarray(*a, (size_t)c, sizeof **a);
    if (!p)
        return SCRM_ENOMEM;
    *a = p;
    *cap = c;
    return SCRM_OK;
}

static int reserve_partition(batch *b, uint32_t p)
{
    part *pt = &b->ds->parts[p];
    if (!b->pnew[p])
        return SCRM_OK;
    uint64_t cap = pt->cap_cust;
    int err = reserve_u32(&pt->gid, &cap, (uint64_t)pt->n_cust + b->pnew[p]);
    if (err)
        return err;
    pt->cap_cust = (uint32_t)cap;
    return SCRM_OK;
}

/* Room beyond the batch for a partition's new segment, which will hold
 * `after` rows once the batch (of `added` rows in all) is in. Without a
 * hint: half of `after` (none for the first batch, the common bulk load),
 * so room grows geometrically. With scrm__dataset_expect_rows(): the
 * partition's share of the expected total, estimated from its share so
 * far, plus 1/32: a load streamed in many batches then gets one segment
 * per partition, or two where the estimate fell short, instead of slabs
 * with up to half their rows unused (and faulted in all the same: a
 * partition's slack lies between its neighbours' rows). */
static uint64_t segment_slack(const scrm_dataset *ds, uint64_t after, uint64_t added)
{
    uint64_t now = ds->n_orders + added;
    if (ds->expect_rows > now) {
        __extension__ typedef unsigned __int128 u128;
        uint64_t want = (uint64_t)((u128)after * ds->expect_rows / now);
        want += want / 32 + 16;
        return want - after;
    }
    return ds->n_orders ? after / 2 : 0;
}

/* Make room for the batch's rows of every partition: in its last segment
 * when they fit, else in a new segment, in one new slab shared by all the
 * partitions that need room. A new segment has room for the batch's rows
 * plus half the partition's rows after the batch (no more for the first
 * batch, the common bulk load), so a partition of n rows has O(log n)
 * segments and no row is ever copied. Points b->w* at where each
 * partition's rows go. Undone by unreserve_rows. */
static int reserve_rows(batch *b)
{
    scrm_dataset *ds = b->ds;
    uint64_t total = 0;
    for (uint32_t a = 0; a < b->n_active; a++) {
        uint32_t p = b->active[a];
        part *pt = &ds->parts[p];
        uint64_t need = b->pstart[p + 1] - b->pstart[p];
        const scrm__row_seg *last = pt->n_seg ? &pt->seg[pt->n_seg - 1] : NULL;
        b->room[p] = 0;
        if (last && last->cap - last->n >= need)
            continue;
        if (pt->n_seg == pt->cap_seg) {
            uint32_t c = pt->cap_seg ? pt->cap_seg * 2 : 4;
            scrm__row_seg *sg = scrm__reallocarray(pt->seg, c, sizeof *sg);
            if (!sg)
                return SCRM_ENOMEM;
            pt->seg = sg;
            pt->cap_seg = c;
        }
        b->room[p] = need + segment_slack(ds, pt->n_rows + need, b->pstart[PARTS]);
        total += b->room[p];
    }
    if (total) {
        const size_t row_bytes = 2 * sizeof(int64_t) + sizeof(uint32_t);
        if (total > (SIZE_MAX - sizeof(slab)) / row_bytes)
            return SCRM_ENOMEM;
        slab *sl = scrm__big_alloc(sizeof(slab) + (size_t)total * row_bytes);
        if (!sl)
            return SCRM_ENOMEM;
        int64_t *time = (int64_t *)(void *)(sl + 1), *amount = time + total;
        uint32_t *cust = (uint32_t *)(void *)(amount + total);
        uint64_t off = 0;
        for (uint32_t a = 0; a < b->n_active; a++) {
            uint32_t p = b->active[a];
            if (!b->room[p])
                continue;
            part *pt = &ds->parts[p];
            pt->seg[pt->n_seg++] = (scrm__row_seg){.cust = cust + off, .time = time + off,
                                                   .amount = amount + off, .cap = b->room[p]};
            off += b->room[p];
        }
        sl->next = ds->slabs;
        ds->slabs = sl;
        b->new_slab = sl;
    }
    for (uint32_t a = 0; a < b->n_active; a++) {
        uint32_t p = b->active[a];
        part *pt = &ds->parts[p];
        scrm__row_seg *last = &pt->seg[pt->n_seg - 1];
        b->wcust[p] = last->cust + last->n;
        b->wtime[p] = last->time + last->n;
        b->wamount[p] = last->amount + last->n;
    }
    return SCRM_OK;
}

/* Drop the segments and slab reserve_rows added (their rows were never
 * counted). */
static void unreserve_rows(batch *b)
{
    scrm_dataset *ds = b->ds;
    if (!b->new_slab)
        return;
    for (uint32_t a = 0; a < b->n_active; a++)
        if (b->room[b->active[a]])
            ds->parts[b->active[a]].n_seg--;
    ds->slabs = b->new_slab->next;
    scrm__free(b->new_slab);
    b->new_slab = NULL;
}

/* Progress from the calling thread (thread 0), which plans the active
 * partitions [begin, end) and has planned [begin, a]: the share of its rows
 * planned, applied to the batch. */
static int plan_progress(const batch *b, uint32_t begin, uint32_t end, uint32_t a)
{
    uint32_t step = (end - begin) / 64 ? (end - begin) / 64 : 1;
    if ((a + 1 - begin) % step != 0 || a + 1 == end)
        return SCRM_OK;
    uint64_t first = b->pstart[b->active[begin]];
    uint64_t range = b->pstart[b->active[end - 1] + 1] - first;
    uint64_t done = b->pstart[b->active[a] + 1] - first;
    uint64_t est = range ? (uint64_t)((double)b->n * (double)done / (double)range) : 0;
    if (b->progress(est, b->n, b->payload))
        return scrm__error(SCRM_ECANCELLED, -1, "%s: cancelled by the progress callback", b->fn);
    return SCRM_OK;
}

static int plan_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    batch *b = ctx;
    /* Hash partitions are statistically alike, so the share of new customers
     * among the rows of the partitions planned so far predicts the next
     * partition's: size its table once instead of doubling it ~8 times. */
    uint64_t rows_seen = 0, new_seen = 0;
    for (uint32_t a = begin; a < end; a++) {
        uint32_t p = b->active[a];
        part *pt = &b->ds->parts[p];
        uint64_t rows = b->pstart[p + 1] - b->pstart[p];
        if (rows_seen >= 4096 && rows) {
            uint64_t est = rows * new_seen / rows_seen;
            est += est / 8 + 8;
            if (est > rows)
                est = rows;
            if (TABLE_FULL(pt->n_cust + est, pt->tcap) && pt->n_cust + est < UINT32_MAX / 2 &&
                table_grow(pt, (uint32_t)(pt->n_cust + est)) < 0)
                return SCRM_ENOMEM;
        }
        int err = plan_partition(b, p);
        if (err)
            return err;
        rows_seen += rows;
        new_seen += b->pnew[p];
        if (thread == 0 && b->progress && (err = plan_progress(b, begin, end, a)) < 0)
            return err;
    }
    return SCRM_OK;
}

static int reserve_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    (void)thread;
    batch *b = ctx;
    for (uint32_t a = begin; a < end; a++) {
        int err = reserve_partition(b, b->active[a]);
        if (err)
            return err;
    }
    return SCRM_OK;
}

/* Commit partition p: only writes into reserved memory. */
static int commit_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    (void)thread;
    batch *b = ctx;
    scrm_dataset *ds = b->ds;
    uint32_t gbase = ds->n_cust;
    uint64_t sbase = 0;
    for (uint32_t a = 0; a < begin; a++) {
        gbase += b->pnew[b->active[a]];
        sbase += b->pbytes[b->active[a]];
    }
    for (uint32_t a = begin; a < end; a++) {
        uint32_t p = b->active[a];
        part *pt = &ds->parts[p];
        uint64_t lo = b->pstart[p], hi = b->pstart[p + 1];
        for (uint32_t k = 0; k < b->pnew[p]; k++) {
            uint64_t x = b->pbuf[lo + k];
            uint32_t row = (uint32_t)x, g = gbase + k;
            pt->gid[pt->n_cust + k] = g;
            if (b->is_str) {
                char *dst = b->chunk->data + sbase;
                uint32_t len = row_len(b, row);
                memcpy(dst, b->skeys[row], len);
                dst[len] = '\0';
                ds->skeys[g] = dst;
                ds->slens[g] = len;
                sbase += (uint64_t)len + 1;
            } else {
                ds->keys[g] = x;
            }
        }
        gbase += b->pnew[p];
        pt->n_cust += b->pnew[p];
        pt->n_rows += hi - lo;
        pt->seg[pt->n_seg - 1].n += hi - lo; /* active: it has rows, so a segment */
    }
    return SCRM_OK;
}

/* ---- order-key de-duplication ---- */

static int oset_reserve(oset *o, uint64_t need)
{
    uint64_t cap = o->cap ? o->cap : 16;
    while (need * 2 > cap)
        cap *= 2;
    if (cap == o->cap)
        return SCRM_OK;
    uint64_t *s = scrm__calloc((size_t)cap, sizeof *s);
    if (!s)
        return SCRM_ENOMEM;
    for (uint64_t i = 0; i < o->cap; i++) {
        uint64_t v = o->slot[i];
        if (!v)
            continue;
        uint64_t j = v & (cap - 1);
        while (s[j])
            j = (j + 1) & (cap - 1);
        s[j] = v;
    }
    /* The old slots stay until the append ends: a failed append puts them
     * back (oset_settle), so it keeps no memory it reserved. */
    if (!o->grown) {
        o->prev = o->slot;
        o->prev_cap = o->cap;
        o->grown = 1;
    } else {
        scrm__free(o->slot); /* grown twice in one append: keep the first */
    }
    o->slot = s;
    o->cap = cap;
    return SCRM_OK;
}

/* At the end of an append: keep the grown slots (ok) or go back to those
 * before it (failure; the keys it inserted are deleted already). */
static void oset_settle(oset *o, int ok)
{
    if (!o->grown)
        return;
    if (ok) {
        scrm__free(o->prev);
    } else {
        scrm__free(o->slot);
        o->slot = o->prev;
        o->cap = o->prev_cap;
    }
    o->prev = NULL;
    o->prev_cap = 0;
    o->grown = 0;
}

/* Settle every partition's order-key set after an append; a failed append
 * that created the sets (the dataset had none) frees them. */
static void osets_settle(scrm_dataset *ds, int ok, int created)
{
    if (!ds->osets)
        return;
    for (uint32_t p = 0; p < PARTS; p++)
        oset_settle(&ds->osets[p], ok);
    if (!ok && created) {
        scrm__free(ds->osets);
        ds->osets = NULL;
    }
}

/* Insert; returns 1 if it was already there. Capacity is reserved. */
static int oset_insert(oset *o, uint64_t v)
{
    uint64_t mask = o->cap - 1, j = v & mask;
    while (o->slot[j]) {
        if (o->slot[j] == v)
            return 1;
        j = (j + 1) & mask;
    }
    o->slot[j] = v;
    o->n++;
    return 0;
}

static void oset_delete(oset *o, uint64_t v)
{
    uint64_t mask = o->cap - 1, i = v & mask;
    while (o->slot[i] != v)
        i = (i + 1) & mask;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!o->slot[j])
            break;
        uint64_t k = o->slot[j] & mask;
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            o->slot[i] = o->slot[j];
            i = j;
        }
    }
    o->slot[i] = 0;
    o->n--;
}

/* A batch's orders in one partition of order keys: order key -> the row of
 * its first line. `tag` is (partition + 1) << 1 | more-lines: a slot whose
 * partition is not the one being processed is empty, so the table of a
 * thread needs no clearing between partitions. */
struct mslot {
    uint64_t key;
    uint32_t row;
    uint32_t tag;
};

#define LINK_STORED (UINT64_C(1) << 63)
enum { PC_MERGED = 0, PC_MULTI, PC_DUP, PC_BAD, PC_COUNT };

static int same_customer(const batch *b, uint32_t r1, uint32_t r2)
{
    if (!b->is_str)
        return b->ukeys[r1] == b->ukeys[r2];
    return b->slen[r1] == b->slen[r2] && memcmp(b->skeys[r1], b->skeys[r2], b->slen[r1]) == 0;
}

/* The stored row at loc: its segment and index there. */
static scrm__row_seg *stored_row(const scrm_dataset *ds, uint64_t loc, uint64_t *i_out)
{
    part *pt = &ds->parts[LOC_PART(loc)];
    uint64_t r = LOC_ROW(loc);
    uint32_t k = 0;
    while (r >= pt->seg[k].n)
        r -= pt->seg[k++].n;
    *i_out = r;
    return &pt->seg[k];
}

static uint32_t stored_gid(const scrm_dataset *ds, uint64_t loc)
{
    uint64_t i;
    const scrm__row_seg *g = stored_row(ds, loc, &i);
    return ds->parts[LOC_PART(loc)].gid[g->cust[i]];
}

static int same_stored_customer(const batch *b, uint32_t row, uint32_t gid)
{
    const scrm_dataset *ds = b->ds;
    if (!b->is_str)
        return ds->keys[gid] == b->ukeys[row];
    return ds->slens[gid] == b->slen[row] && memcmp(ds->skeys[gid], b->skeys[row], b->slen[row]) == 0;
}

/* The transaction's log index of mixed key v, or UINT64_MAX. */
static uint64_t txn_find(const scrm__dataset_mark *m, uint64_t v)
{
    if (!m || !m->oidx_cap)
        return UINT64_MAX;
    uint64_t mask = m->oidx_cap - 1;
    for (uint64_t j = v & mask; m->oidx[j]; j = (j + 1) & mask)
        if (m->okeys[m->oidx[j] - 1] == v)
            return m->oidx[j] - 1;
    return UINT64_MAX;
}

/* Line `row` joins the order whose first line in the batch is anchor a. */
static void merge_line(batch *b, uint32_t row, uint32_t a, struct mslot *e, uint64_t *cnt)
{
    b->link[row] = a;
    if (b->dup[a] == SCRM__ROW_DUP) { /* a re-delivered order: all its lines */
        b->dup[row] = SCRM__ROW_DUP;
        cnt[PC_DUP]++;
        return;
    }
    if (!same_customer(b, row, a)) {
        b->dup[row] = SCRM__ROW_CONFLICT;
        cnt[PC_BAD]++;
        return;
    }
    int64_t sum;
    if (__builtin_add_overflow(b->mamount[a], b->amounts ? b->amounts[row] : 0, &sum)) {
        b->dup[row] = SCRM__ROW_OVERFLOW;
        cnt[PC_BAD]++;
        return;
    }
    b->mamount[a] = sum;
    if (b->times[row] < b->mtime[a])
        b->mtime[a] = b->times[row];
    b->dup[row] = SCRM__ROW_MERGED;
    cnt[PC_MERGED]++;
    if (!(e->tag & 1)) {
        e->tag |= 1;
        if (b->dup[a] == SCRM__ROW_NEW) {
            b->link[a] = 1;
            cnt[PC_MULTI]++;
        }
    }
}

/* The first line in this batch of an order key an earlier batch of the
 * transaction stored: it becomes the update of that order. Returns 0 if
 * the row is bad (then it anchors nothing). */
static int update_line(batch *b, uint32_t row, uint64_t idx, uint64_t *cnt)
{
    const scrm__dataset_mark *m = b->ds->txn;
    uint64_t loc = m->oloc[idx], i;
    uint32_t gid = stored_gid(b->ds, loc);
    const scrm__row_seg *g = stored_row(b->ds, loc, &i);
    int64_t sum;
    b->link[row] = LINK_STORED | gid;
    if (!same_stored_customer(b, row, gid)) {
        b->dup[row] = SCRM__ROW_CONFLICT;
        cnt[PC_BAD]++;
        return 0;
    }
    if (__builtin_add_overflow(g->amount[i], b->amounts ? b->amounts[row] : 0, &sum)) {
        b->dup[row] = SCRM__ROW_OVERFLOW;
        cnt[PC_BAD]++;
        return 0;
    }
    b->mamount[row] = sum;
    b->mtime[row] = g->time[i] < b->times[row] ? g->time[i] : b->times[row];
    b->dup[row] = SCRM__ROW_UPDATE;
    b->link[row] = idx;
    cnt[PC_MERGED]++;
    if (!(loc & LOC_MULTI))
        cnt[PC_MULTI]++;
    return 1;
}

/* The rows of order-key partitions [begin, end), each in row order. */
static int dedup_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    batch *b = ctx;
    struct mslot *tab = b->mtab + (size_t)thread * b->mcap;
    uint64_t mask = b->mcap - 1;
    for (uint32_t p = begin; p < end; p++) {
        oset *o = &b->ds->osets[p];
        uint64_t *cnt = b->pcnt + (size_t)p * PC_COUNT;
        uint32_t tag = (p + 1) << 1;
        for (uint64_t i = b->pstart[p]; i < b->pstart[p + 1]; i++) {
            uint32_t row = b->order[i];
            uint64_t key = b->okeys[row], v = scrm__mix64(key), j = v & mask;
            while ((tab[j].tag & ~1u) == tag && tab[j].key != key)
                j = (j + 1) & mask;
            if ((tab[j].tag & ~1u) == tag) {
                merge_line(b, row, tab[j].row, &tab[j], cnt);
                continue;
            }
            int seen;
            if (v) {
                seen = oset_insert(o, v);
            } else { /* the one key that mixes to the empty marker */
                seen = b->ds->ozero;
                b->ozero_new = !seen;
            }
            uint32_t t = tag;
            if (seen) {
                uint64_t idx = txn_find(b->ds->txn, v);
                if (idx == UINT64_MAX) {
                    b->dup[row] = SCRM__ROW_DUP;
                    cnt[PC_DUP]++;
                } else if (!update_line(b, row, idx, cnt)) {
                    continue;
                } else {
                    t |= 1; /* its later lines count no new multi-line order */
                }
            }
            tab[j] = (struct mslot){.key = key, .row = row, .tag = t};
        }
    }
    return SCRM_OK;
}

/* Undo dedup: delete the keys the batch inserted (its new orders). */
static void undedup(batch *b)
{
    scrm_dataset *ds = b->ds;
    for (uint32_t row = 0; row < b->n; row++) {
        if (b->dup[row] != SCRM__ROW_NEW)
            continue;
        uint64_t v = scrm__mix64(b->okeys[row]);
        if (v)
            oset_delete(&ds->osets[PART_OF(v)], v);
    }
}

/* Group the rows by order key (see SCRM__ROW_* in internal.h): by order-key
 * partition, each partition in row order on one thread. Uses b->order as
 * scratch. */
static int dedup(batch *b)
{
    scrm_dataset *ds = b->ds;
    uint64_t *cnt = b->tcount;
    memset(cnt, 0, PARTS * sizeof *cnt);
    for (uint32_t row = 0; row < b->n; row++)
        cnt[PART_OF(scrm__mix64(b->okeys[row]))]++;
    if (!ds->osets) {
        ds->osets = scrm__calloc(PARTS, sizeof *ds->osets);
        if (!ds->osets)
            return SCRM_ENOMEM;
    }
    uint64_t most = 0;
    for (uint32_t p = 0; p < PARTS; p++) {
        if (cnt[p] && oset_reserve(&ds->osets[p], ds->osets[p].n + cnt[p]))
            return SCRM_ENOMEM;
        most = cnt[p] > most ? cnt[p] : most;
    }
    b->mcap = 16;
    while (b->mcap < 2 * most)
        b->mcap *= 2;
    b->mtab = scrm__calloc((size_t)b->threads * b->mcap, sizeof *b->mtab);
    b->pcnt = scrm__calloc(PARTS * PC_COUNT, sizeof *b->pcnt);
    if (!b->mtab || !b->pcnt)
        return SCRM_ENOMEM;
    uint64_t acc = 0;
    for (uint32_t p = 0; p < PARTS; p++) {
        b->pstart[p] = acc;
        acc += cnt[p];
        cnt[p] = b->pstart[p];
    }
    b->pstart[PARTS] = acc;
    for (uint32_t row = 0; row < b->n; row++)
        b->order[cnt[PART_OF(scrm__mix64(b->okeys[row]))]++] = row;
    memcpy(b->mtime, b->times, (size_t)b->n * sizeof *b->mtime);
    if (b->amounts)
        memcpy(b->mamount, b->amounts, (size_t)b->n * sizeof *b->mamount);
    else /* count-only: the lines' amounts are all 0 */
        memset(b->mamount, 0, (size_t)b->n * sizeof *b->mamount);
    scrm__parallel_for(b->threads, PARTS, dedup_range, b);
    return SCRM_OK;
}

/* ---- scatter rows by customer partition ---- */

static int hash_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    batch *b = ctx;
    uint64_t *cnt = b->tcount + (size_t)thread * PARTS;
    memset(cnt, 0, PARTS * sizeof *cnt);
    for (uint32_t row = begin; row < end; row++) {
        if (b->dup && b->dup[row])
            continue;
        uint64_t h;
        if (b->is_str)
            h = b->rhash[row] = scrm__hash_bytes(b->skeys[row], row_len(b, row), STR_SEED);
        else
            h = scrm__mix64(b->ukeys[row]);
        cnt[PART_OF(h)]++;
    }
    return SCRM_OK;
}

/* Prefetch for writing the cache line after p's. Computed on the address
 * as an integer: past the end of an array it is only a hint. */
static inline void prefetch_next_line(const void *p)
{
    __builtin_prefetch((const void *)((uintptr_t)p + 64), 1);
}

/* Write each row's time and amount straight into its partition's reserved
 * space, and its key (or hash and row) into the partition-major scratch. */
static int scatter_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    batch *b = ctx;
    uint64_t *pos = b->tcount + (size_t)thread * PARTS;
    const uint64_t *pstart = b->pstart;
    for (uint32_t row = begin; row < end; row++) {
        if (b->dup && b->dup[row])
            continue;
        uint64_t x = b->is_str ? b->rhash[row] : b->ukeys[row];
        uint32_t p = PART_OF(b->is_str ? x : scrm__mix64(x));
        uint64_t i = pos[p]++, d = i - pstart[p];
        /* 3 x 1024 write streams are too many for the hardware prefetcher:
         * on the first row of a cache line, ask for the stream's next line */
        if ((d & 7) == 0) {
            prefetch_next_line(&b->pbuf[i]);
            prefetch_next_line(&b->wtime[p][d]);
            prefetch_next_line(&b->wamount[p][d]);
        }
        b->pbuf[i] = x;
        b->wtime[p][d] = b->times[row];
        b->wamount[p][d] = b->amounts ? b->amounts[row] : 0;
        if (b->is_str)
            b->wcust[p][d] = row;
        if (b->loc)
            b->loc[row] = LOC(p, b->ds->parts[p].n_rows + d);
    }
    return SCRM_OK;
}

static void batch_free(batch *b)
{
    scrm__free(b->dup);
    scrm__free(b->order);
    scrm__free(b->mtime);
    scrm__free(b->mamount);
    scrm__free(b->link);
    scrm__free(b->loc);
    scrm__free(b->mtab);
    scrm__free(b->pcnt);
    scrm__free(b->rhash);
    scrm__free(b->pbuf);
    scrm__free(b->slen);
    scrm__free(b->pstart);
    scrm__free(b->active);
    scrm__free(b->pnew);
    scrm__free(b->pbytes);
    scrm__free(b->tcount);
    scrm__free(b->room);
    scrm__free(b->wcust);
    scrm__free(b->wtime);
    scrm__free(b->wamount);
    scrm__free(b->chunk);
}

typedef struct validate_job {
    batch *b;
    const char *fn;
    int64_t tmin[64], tmax[64]; /* per thread */
} validate_job;

/* Check rows [begin, end) and note their time range (all rows, duplicates
 * included: exact when the batch has no order keys). */
static int validate_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    validate_job *j = ctx;
    batch *b = j->b;
    const char *fn = j->fn;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint32_t row = begin; row < end; row++) {
        int64_t t = b->times[row];
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
        if (t < SCRM_TIME_MIN || t > SCRM_TIME_MAX)
            return scrm__error(SCRM_ERANGE, row,
                               "%s: row %u: time %lld is outside years 1..9999", fn, row,
                               (long long)t);
        if (b->is_str) {
            const char *s = b->skeys[row];
            if (!s)
                return scrm__error(SCRM_EINVAL, row, "%s: row %u: customer key is NULL", fn,
                                   row);
            size_t len = b->lens ? b->lens[row] : strlen(s);
            if (len == 0)
                return scrm__error(SCRM_EINVAL, row, "%s: row %u: customer key is empty", fn,
                                   row);
            if (len >= UINT32_MAX)
                return scrm__error(SCRM_EINVAL, row, "%s: row %u: customer key is too long",
                                   fn, row);
            b->slen[row] = (uint32_t)len;
        }
    }
    j->tmin[thread] = lo;
    j->tmax[thread] = hi;
    return SCRM_OK;
}

static int validate_rows(batch *b, const char *fn, int64_t *tmin, int64_t *tmax)
{
    validate_job j = {.b = b, .fn = fn};
    uint32_t threads = b->n < 8192 ? 1 : b->ds->threads;
    if (threads > 64)
        threads = 64;
    for (uint32_t t = 0; t < 64; t++) {
        j.tmin[t] = INT64_MAX;
        j.tmax[t] = INT64_MIN;
    }
    int err = scrm__parallel_for(threads, b->n, validate_range, &j);
    if (err)
        return err;
    for (uint32_t t = 0; t < 64; t++) {
        *tmin = j.tmin[t] < *tmin ? j.tmin[t] : *tmin;
        *tmax = j.tmax[t] > *tmax ? j.tmax[t] : *tmax;
    }
    return SCRM_OK;
}

/* ---- multi-batch transactions ----
 * A transaction records the state of every partition and of the totals at
 * begin; the appends inside it commit as usual (each batch is atomic on its
 * own) and also log the order keys they insert, so that a rollback can take
 * the customers out of the tables, the keys out of the order-key sets, and
 * drop the slabs and arena chunks added since begin. */

/* Room in the log and its index for a batch's n orders (before its commit). */
static int txn_reserve_keys(scrm__dataset_mark *m, uint64_t n)
{
    if (m->n_okeys + n > UINT32_MAX - 1)
        return SCRM_EOVERFLOW;
    if (m->n_okeys + n > m->cap_okeys) {
        uint64_t c = m->cap_okeys + m->cap_okeys / 2;
        if (c < m->n_okeys + n)
            c = m->n_okeys + n;
        uint64_t *k = scrm__reallocarray(m->okeys, (size_t)c, sizeof *k);
        if (!k)
            return SCRM_ENOMEM;
        m->okeys = k;
        uint64_t *l = scrm__reallocarray(m->oloc, (size_t)c, sizeof *l);
        if (!l)
            return SCRM_ENOMEM;
        m->oloc = l;
        m->cap_okeys = c;
    }
    /* sized once for the orders the load is expected to add (the CSV
     * loader's hint), rather than doubled and rehashed along the way */
    uint64_t want = m->n_okeys + n, cap = m->oidx_cap ? m->oidx_cap : 64;
    if (!m->oidx_cap && m->ds->expect_rows > m->n_orders + want &&
        m->ds->expect_rows - m->n_orders < UINT32_MAX)
        want = m->ds->expect_rows - m->n_orders;
    while (cap < 2 * want)
        cap *= 2;
    if (cap == m->oidx_cap)
        return SCRM_OK;
    uint32_t *x = scrm__calloc((size_t)cap, sizeof *x);
    if (!x)
        return SCRM_ENOMEM;
    for (uint64_t i = 0; i < m->n_okeys; i++) {
        uint64_t j = m->okeys[i] & (cap - 1);
        while (x[j])
            j = (j + 1) & (cap - 1);
        x[j] = (uint32_t)(i + 1);
    }
    scrm__free(m->oidx);
    m->oidx = x;
    m->oidx_cap = cap;
    return SCRM_OK;
}

/* The orders a committed batch stored (its new rows), and the later lines
 * it merged into orders of earlier batches. */
static void txn_log_keys(scrm__dataset_mark *m, const batch *b)
{
    uint64_t mask = m->oidx_cap - 1;
    for (uint32_t row = 0; row < b->n; row++) {
        /* the index is large and cold: fetch later rows' slots meanwhile */
        if (row + PLAN_AHEAD < b->n)
            __builtin_prefetch(&m->oidx[scrm__mix64(b->okeys[row + PLAN_AHEAD]) & mask], 1);
        if (b->dup[row] == SCRM__ROW_UPDATE) {
            m->oloc[b->link[row]] |= LOC_MULTI;
            continue;
        }
        if (b->dup[row] != SCRM__ROW_NEW)
            continue;
        uint64_t v = scrm__mix64(b->okeys[row]), j = v & mask;
        m->okeys[m->n_okeys] = v;
        m->oloc[m->n_okeys] = b->loc[row] | (b->link[row] ? LOC_MULTI : 0);
        while (m->oidx[j])
            j = (j + 1) & mask;
        m->oidx[j] = (uint32_t)++m->n_okeys;
    }
}

int scrm__dataset_begin(scrm_dataset *ds, scrm__dataset_mark **mark_out)
{
    if (SCRM_NEVER(ds->txn))
        return scrm__error(SCRM_EINVAL, -1, "dataset: a transaction is already open");
    scrm__dataset_mark *m = scrm__calloc(1, sizeof *m);
    if (!m)
        return scrm__enomem("dataset transaction");
    for (uint32_t p = 0; p < PARTS; p++) {
        const part *pt = &ds->parts[p];
        m->part[p] = (part_mark){.n_rows = pt->n_rows, .n_cust = pt->n_cust, .n_seg = pt->n_seg,
                                 .last_n = pt->n_seg ? pt->seg[pt->n_seg - 1].n : 0};
    }
    m->ds = ds;
    m->n_cust = ds->n_cust;
    m->n_orders = ds->n_orders;
    m->n_dups = ds->n_dups;
    m->n_merged = ds->n_merged;
    m->tmin = ds->tmin;
    m->tmax = ds->tmax;
    m->ozero = ds->ozero;
    m->key_type = ds->key_type;
    m->amounts_mode = ds->amounts_mode;
    m->had_osets = ds->osets != NULL;
    m->slabs = ds->slabs;
    m->arena = ds->arena;
    ds->txn = m;
    *mark_out = m;
    return SCRM_OK;
}

static uint64_t customer_hash(const scrm_dataset *ds, uint32_t g)
{
    if (ds->key_type == SCRM_KEY_STRING)
        return scrm__hash_bytes(ds->skeys[g], ds->slens[g], STR_SEED);
    return scrm__mix64(ds->keys[g]);
}

/* Take partition p back to its state at begin: the new customers out of
 * its table (backward-shift deletion, as unplan_partition), its rows and
 * segments cut back. */
static void rollback_partition(scrm_dataset *ds, uint32_t p, const part_mark *pm)
{
    part *pt = &ds->parts[p];
    for (uint32_t l = pt->n_cust; l-- > pm->n_cust;) {
        uint32_t mask = pt->tcap - 1, s = (uint32_t)customer_hash(ds, pt->gid[l]) & mask;
        while (pt->tval[s] != l + 1)
            s = (s + 1) & mask;
        table_delete_slot(pt, s);
    }
    pt->n_cust = pm->n_cust;
    pt->n_rows = pm->n_rows;
    pt->n_seg = pm->n_seg;
    if (pt->n_seg)
        pt->seg[pt->n_seg - 1].n = pm->last_n;
}

static void mark_free(scrm__dataset_mark *m)
{
    m->ds->txn = NULL;
    scrm__free(m->okeys);
    scrm__free(m->oloc);
    scrm__free(m->oidx);
    scrm__free(m);
}

void scrm__dataset_rollback(scrm__dataset_mark *m)
{
    if (!m)
        return;
    scrm_dataset *ds = m->ds;
    for (uint64_t i = 0; i < m->n_okeys; i++)
        if (m->okeys[i]) /* 0: the ozero key, restored with the flag */
            oset_delete(&ds->osets[PART_OF(m->okeys[i])], m->okeys[i]);
    if (!m->had_osets && ds->osets) {
        for (uint32_t p = 0; p < PARTS; p++)
            scrm__free(ds->osets[p].slot);
        scrm__free(ds->osets);
        ds->osets = NULL;
    }
    if (ds->n_cust != m->n_cust || ds->n_orders != m->n_orders)
        for (uint32_t p = 0; p < PARTS; p++)
            rollback_partition(ds, p, &m->part[p]);
    /* after the tables: their string keys live in the arena */
    while (ds->slabs != m->slabs) {
        slab *sl = ds->slabs;
        ds->slabs = sl->next;
        scrm__free(sl);
    }
    while (ds->arena != m->arena) {
        arena_chunk *c = ds->arena;
        ds->arena = c->next;
        scrm__free(c);
    }
    ds->n_cust = m->n_cust;
    ds->n_orders = m->n_orders;
    ds->n_dups = m->n_dups;
    ds->n_merged = m->n_merged;
    ds->tmin = m->tmin;
    ds->tmax = m->tmax;
    ds->ozero = m->ozero;
    if (m->key_type == SCRM_KEY_AUTO && ds->key_type != SCRM_KEY_AUTO) {
        /* no customer is left; the arrays of the other key type may come */
        scrm__free(ds->keys);
        scrm__free(ds->skeys);
        scrm__free(ds->slens);
        ds->keys = NULL;
        ds->skeys = NULL;
        ds->slens = NULL;
        ds->cap_cust = 0;
    }
    ds->key_type = m->key_type;
    ds->amounts_mode = m->amounts_mode;
    dataset_changed(ds);
    mark_free(m);
}

void scrm__dataset_expect_rows(scrm_dataset *ds, uint64_t total)
{
    ds->expect_rows = total;
}

void scrm__dataset_commit(scrm__dataset_mark *m)
{
    if (m)
        mark_free(m);
}

/* The bad rows of a batch (SCRM__ROW_CONFLICT, _OVERFLOW), in row order:
 * skipped through the caller's callback, or the append's error. */
static int bad_rows(batch *b)
{
    for (uint32_t row = 0; row < b->n; row++) {
        int st = b->dup[row];
        if (st != SCRM__ROW_CONFLICT && st != SCRM__ROW_OVERFLOW)
            continue;
        uint64_t l = b->link[row];
        uint32_t anchor = l & LINK_STORED ? UINT32_MAX : (uint32_t)l;
        uint32_t gid = l & LINK_STORED ? (uint32_t)l : 0;
        if (b->ext && b->ext->bad_row) {
            int err = b->ext->bad_row(b->ext->payload, row, st, anchor, gid);
            if (err < 0)
                return err;
            continue;
        }
        char where[48];
        if (anchor == UINT32_MAX)
            snprintf(where, sizeof where, "an earlier batch of this load");
        else
            snprintf(where, sizeof where, "row %u", (unsigned)anchor);
        if (st == SCRM__ROW_CONFLICT)
            return scrm__error(SCRM_EINVAL, row,
                               "%s: row %u: order key %llu is an order of another customer "
                               "(its first line: %s)",
                               b->fn, (unsigned)row, (unsigned long long)b->okeys[row], where);
        return scrm__error(SCRM_ERANGE, row,
                           "%s: row %u: order key %llu: the order's total amount is out of "
                           "range (its first line: %s)",
                           b->fn, (unsigned)row, (unsigned long long)b->okeys[row], where);
    }
    return SCRM_OK;
}

/* The latest order time, by a walk over every row. */
static int64_t rows_tmax(const scrm_dataset *ds)
{
    int64_t hi = INT64_MIN;
    for (uint32_t p = 0; p < PARTS; p++)
        for (uint32_t k = 0; k < ds->parts[p].n_seg; k++) {
            const scrm__row_seg *g = &ds->parts[p].seg[k];
            for (uint64_t i = 0; i < g->n; i++)
                hi = g->time[i] > hi ? g->time[i] : hi;
        }
    return hi;
}

/* Commit the later lines of orders stored by earlier batches of the
 * transaction. Returns the earliest new time. An order whose time moved
 * earlier may have been the latest: then the latest is found again. */
static int64_t update_orders(batch *b)
{
    scrm_dataset *ds = b->ds;
    int64_t lo = INT64_MAX;
    int lowered_max = 0;
    for (uint32_t row = 0; row < b->n; row++) {
        if (b->dup[row] != SCRM__ROW_UPDATE)
            continue;
        uint64_t i;
        scrm__row_seg *g = stored_row(ds, ds->txn->oloc[b->link[row]], &i);
        if (b->mtime[row] < g->time[i] && g->time[i] == ds->tmax)
            lowered_max = 1;
        g->time[i] = b->mtime[row];
        g->amount[i] = b->mamount[row];
        lo = b->mtime[row] < lo ? b->mtime[row] : lo;
    }
    if (lowered_max)
        ds->tmax = rows_tmax(ds);
    return lo;
}

static int append(batch *b, uint64_t *added_out, const char *fn)
{
    scrm_dataset *ds = b->ds;
    int err = SCRM_OK, ozero = ds->ozero, deduped = 0;
    uint64_t pc[PC_COUNT] = {0};
    const int had_osets = ds->osets != NULL;
    uint32_t n = b->n;

    if (b->is_str && !(b->slen = scrm__malloc((size_t)n * sizeof *b->slen)))
        return scrm__enomem(fn);
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    if ((err = validate_rows(b, fn, &tmin, &tmax)) < 0)
        goto done;
    if (b->progress && b->progress(0, n, b->payload)) {
        err = scrm__error(SCRM_ECANCELLED, -1, "%s: cancelled by the progress callback", fn);
        goto done;
    }

    b->threads = ds->threads;
    if (n < 8192)
        b->threads = 1; /* not worth starting a thread */
    b->pbuf = scrm__big_alloc((size_t)n * sizeof *b->pbuf);
    if (b->is_str)
        b->rhash = scrm__malloc((size_t)n * sizeof *b->rhash);
    /* Per-partition arrays: written for the active partitions before they
     * are read (no zeroing: small batches touch few partitions). */
    b->pstart = scrm__malloc((PARTS + 1) * sizeof *b->pstart);
    b->active = scrm__malloc(PARTS * sizeof *b->active);
    b->pnew = scrm__malloc(PARTS * sizeof *b->pnew);
    b->pbytes = scrm__malloc(PARTS * sizeof *b->pbytes);
    b->tcount = scrm__malloc((size_t)b->threads * PARTS * sizeof *b->tcount);
    b->room = scrm__malloc(PARTS * sizeof *b->room);
    b->wcust = scrm__malloc(PARTS * sizeof *b->wcust);
    b->wtime = scrm__malloc(PARTS * sizeof *b->wtime);
    b->wamount = scrm__malloc(PARTS * sizeof *b->wamount);
    if (b->okeys) {
        b->dup = scrm__calloc(n, 1);
        b->order = scrm__malloc((size_t)n * sizeof *b->order);
        b->mtime = scrm__malloc((size_t)n * sizeof *b->mtime);
        b->mamount = scrm__malloc((size_t)n * sizeof *b->mamount);
        b->link = scrm__calloc(n, sizeof *b->link);
        if (ds->txn)
            b->loc = scrm__malloc((size_t)n * sizeof *b->loc);
    }
    if (!b->pbuf || (b->is_str && !b->rhash) || !b->pstart || !b->pnew || !b->pbytes ||
        !b->tcount || !b->room || !b->wcust || !b->wtime || !b->wamount || !b->active ||
        (b->okeys && (!b->dup || !b->order || !b->mtime || !b->mamount || !b->link ||
                      (ds->txn && !b->loc)))) {
        err = scrm__enomem(fn);
        goto done;
    }

    if (b->okeys) {
        if ((err = dedup(b)) < 0) {
            err = scrm__enomem(fn);
            goto done;
        }
        deduped = 1;
        ozero = ds->ozero || b->ozero_new;
        for (uint32_t p = 0; p < PARTS; p++)
            for (int k = 0; k < PC_COUNT; k++)
                pc[k] += b->pcnt[(size_t)p * PC_COUNT + k];
        if (pc[PC_BAD] && (err = bad_rows(b)) < 0)
            goto done;
        b->times = b->mtime;
        if (b->amounts) /* a count-only batch stays without amounts */
            b->amounts = b->mamount;
    }

    /* Partition the rows: per-thread counts, then a stable scatter. */
    scrm__parallel_for(b->threads, n, hash_range, b);
    uint64_t acc = 0;
    for (uint32_t p = 0; p < PARTS; p++) {
        b->pstart[p] = acc;
        for (uint32_t t = 0; t < b->threads; t++) {
            uint64_t c = b->tcount[(size_t)t * PARTS + p];
            b->tcount[(size_t)t * PARTS + p] = acc;
            acc += c;
        }
    }
    b->pstart[PARTS] = acc;
    uint64_t added = acc;
    b->n_active = 0;
    for (uint32_t p = 0; p < PARTS; p++)
        if (b->pstart[p + 1] > b->pstart[p]) {
            b->active[b->n_active++] = p;
            b->pnew[p] = 0;
            b->pbytes[p] = 0;
        }
    /* Room for the rows first (undone on failure). */
    if ((err = reserve_rows(b)) < 0) {
        err = scrm__enomem(fn);
        goto done;
    }
    scrm__parallel_for(b->threads, n, scatter_range, b);

    /* Plan: intern customers (inserts into the tables; undone on failure). */
    b->planned = 1;
    err = scrm__parallel_for(b->threads, b->n_active, plan_range, b);
    if (err < 0) {
        if (err == SCRM_EOVERFLOW)
            err = scrm__error(err, -1, "%s: too many customers in one partition", fn);
        else if (err != SCRM_ECANCELLED) /* cancelled: plan_progress said so */
            err = scrm__enomem(fn);
        goto done;
    }

    /* Reserve: every allocation the commit needs. */
    uint64_t new_cust = 0, new_bytes = 0;
    for (uint32_t a = 0; a < b->n_active; a++) {
        new_cust += b->pnew[b->active[a]];
        new_bytes += b->pbytes[b->active[a]];
    }
    if ((uint64_t)ds->n_cust + new_cust > UINT32_MAX - 1) {
        err = scrm__error(SCRM_EOVERFLOW, -1, "%s: more than %u customers", fn,
                          (unsigned)(UINT32_MAX - 1));
        goto done;
    }
    if (new_cust > 0 && (uint64_t)ds->n_cust + new_cust > ds->cap_cust) {
        uint64_t c = ds->cap_cust + ds->cap_cust / 2;
        if (c < ds->n_cust + new_cust)
            c = ds->n_cust + new_cust;
        if (c > UINT32_MAX)
            c = UINT32_MAX;
        if (b->is_str) {
            const char **sk = scrm__reallocarray((void *)ds->skeys, (size_t)c, sizeof *sk);
            if (sk)
                ds->skeys = sk;
            uint32_t *sl = sk ? scrm__reallocarray(ds->slens, (size_t)c, sizeof *sl) : NULL;
            if (sl)
                ds->slens = sl;
            if (!sk || !sl) {
                err = scrm__enomem(fn);
                goto done;
            }
        } else {
            uint64_t *k = scrm__reallocarray(ds->keys, (size_t)c, sizeof *k);
            if (!k) {
                err = scrm__enomem(fn);
                goto done;
            }
            ds->keys = k;
        }
        ds->cap_cust = (uint32_t)c;
    }
    if (new_bytes > 0 && !(b->chunk = scrm__malloc(sizeof(arena_chunk) + (size_t)new_bytes))) {
        err = scrm__enomem(fn);
        goto done;
    }
    if ((err = scrm__parallel_for(b->threads, b->n_active, reserve_range, b)) < 0) {
        err = scrm__enomem(fn);
        goto done;
    }

    if (b->okeys && ds->txn && (err = txn_reserve_keys(ds->txn, n)) < 0) {
        err = err == SCRM_EOVERFLOW
                  ? scrm__error(err, -1, "%s: more than %u orders in one load", fn,
                                (unsigned)(UINT32_MAX - 1))
                  : scrm__enomem(fn);
        goto done;
    }

    if (b->progress && b->progress(n, n, b->payload)) {
        err = scrm__error(SCRM_ECANCELLED, -1, "%s: cancelled by the progress callback", fn);
        goto done;
    }

    /* Commit: nothing below can fail. */
    scrm__parallel_for(b->threads, b->n_active, commit_range, b);
    if (b->okeys && ds->txn)
        txn_log_keys(ds->txn, b);
    int64_t utmin = INT64_MAX;
    if (b->okeys && ds->txn && pc[PC_MERGED])
        utmin = update_orders(b);
    if (b->chunk) {
        b->chunk->next = ds->arena;
        ds->arena = b->chunk;
        b->chunk = NULL;
    }
    if (b->dup) { /* duplicates add no order: their times do not count */
        tmin = INT64_MAX;
        tmax = INT64_MIN;
        for (uint32_t row = 0; row < n; row++) {
            if (b->dup[row])
                continue;
            int64_t t = b->times[row];
            tmin = t < tmin ? t : tmin;
            tmax = t > tmax ? t : tmax;
        }
    }
    if (added) {
        ds->tmin = tmin < ds->tmin ? tmin : ds->tmin;
        ds->tmax = tmax > ds->tmax ? tmax : ds->tmax;
    }
    ds->tmin = utmin < ds->tmin ? utmin : ds->tmin;
    ds->n_cust += (uint32_t)new_cust;
    ds->n_orders += added;
    ds->n_dups += b->okeys ? pc[PC_DUP] : n - added;
    ds->n_merged += pc[PC_MERGED];
    if (b->ext) {
        b->ext->merged_lines = pc[PC_MERGED];
        b->ext->merged_orders = pc[PC_MULTI];
        b->ext->bad_rows = pc[PC_BAD];
    }
    ds->ozero = ozero;
    if (ds->key_type == SCRM_KEY_AUTO)
        ds->key_type = b->is_str ? SCRM_KEY_STRING : SCRM_KEY_U64;
    if (ds->amounts_mode == AMOUNTS_UNKNOWN)
        ds->amounts_mode = b->amounts ? AMOUNTS_GIVEN : AMOUNTS_NONE;
    b->planned = 0;
    b->new_slab = NULL;
    deduped = 0;
    osets_settle(ds, 1, 0);
    dataset_changed(ds);
    if (added_out)
        *added_out = added;

done:
    unreserve_rows(b);
    if (b->planned)
        for (uint32_t a = 0; a < b->n_active; a++)
            unplan_partition(b, b->active[a]);
    if (deduped)
        undedup(b);
    if (err < 0)
        osets_settle(ds, 0, !had_osets); /* release what dedup reserved */
    batch_free(b);
    return err;
}

static int check_append(scrm_dataset *ds, uint64_t n, const void *customers, const int64_t *times,
                        const int64_t *amounts, int type, const char *fn)
{
    if (!ds)
        return scrm__error(SCRM_EINVAL, -1, "%s: dataset is NULL", fn);
    if (n > UINT32_MAX)
        return scrm__error(SCRM_EINVAL, -1, "%s: %llu rows in one call; at most %u", fn,
                           (unsigned long long)n, (unsigned)UINT32_MAX);
    if (n > 0 && (!customers || !times))
        return scrm__error(SCRM_EINVAL, -1, "%s: customers and times must not be NULL", fn);
    if (n > 0 && ds->amounts_mode == (amounts ? AMOUNTS_NONE : AMOUNTS_GIVEN))
        return scrm__error(SCRM_EINVAL, -1,
                           amounts ? "%s: the dataset holds orders without amounts (count-only); "
                                     "append these to another dataset, or without amounts"
                                   : "%s: amounts is NULL, but the dataset holds orders with "
                                     "amounts",
                           fn);
    if (ds->key_type != SCRM_KEY_AUTO && ds->key_type != type)
        return scrm__error(SCRM_EINVAL, -1, "%s: the dataset has %s customer keys", fn,
                           ds->key_type == SCRM_KEY_U64 ? "uint64" : "string");
    return SCRM_OK;
}

/* The public appends: check the arguments and options, run the batch. */
static int append_call(batch *b, uint64_t n, const void *customers, int type,
                       uint64_t *added_out, const scrm_dataset_append_options *opts, const char *fn)
{
    scrm_dataset_append_options o;
    int err = check_append(b->ds, n, customers, b->times, b->amounts, type, fn);
    if (err)
        return err;
    if ((err = scrm__options_load(&o, &append_defaults, sizeof o, opts, append_option_sizes,
                                  SCRM_DATASET_APPEND_OPTIONS_VERSION,
                                  fn)) < 0)
        return err;
    if (n == 0) {
        if (added_out)
            *added_out = 0;
        return SCRM_OK;
    }
    b->n = (uint32_t)n;
    b->progress = o.progress;
    b->payload = o.progress_payload;
    b->fn = fn;
    return append(b, added_out, fn);
}

static int append_u64(scrm_dataset *ds, uint64_t n, const uint64_t *customers,
                      const int64_t *times, const int64_t *amounts, const uint64_t *order_keys,
                      uint64_t *added_out, const scrm_dataset_append_options *opts, const char *fn)
{
    batch b = {.ds = ds, .ukeys = customers, .times = times, .amounts = amounts,
               .okeys = order_keys};
    return append_call(&b, n, customers, SCRM_KEY_U64, added_out, opts, fn);
}

static int append_str(scrm_dataset *ds, uint64_t n, const char *const *customers,
                      const uint32_t *lengths, const int64_t *times, const int64_t *amounts,
                      const uint64_t *order_keys, uint64_t *added_out,
                      const scrm_dataset_append_options *opts, const char *fn)
{
    batch b = {.ds = ds, .is_str = 1, .skeys = customers, .lens = lengths, .times = times,
               .amounts = amounts, .okeys = order_keys};
    return append_call(&b, n, customers, SCRM_KEY_STRING, added_out, opts, fn);
}

int scrm__dataset_append_ext(uint64_t *added_out, scrm_dataset *ds, uint64_t n,
                             const uint64_t *u64_customers, const char *const *str_customers,
                             const uint32_t *lengths, const int64_t *times,
                             const int64_t *amounts, const uint64_t *order_keys,
                             scrm__append_ext *ext)
{
    batch b = {.ds = ds, .ukeys = u64_customers, .skeys = str_customers, .lens = lengths,
               .is_str = str_customers != NULL, .times = times, .amounts = amounts,
               .okeys = order_keys, .ext = ext};
    if (ext)
        ext->merged_lines = ext->merged_orders = ext->bad_rows = 0;
    if (b.is_str)
        return append_call(&b, n, str_customers, SCRM_KEY_STRING, added_out, NULL,
                           "scrm_dataset_append_str");
    return append_call(&b, n, u64_customers, SCRM_KEY_U64, added_out, NULL,
                       "scrm_dataset_append_u64");
}

SCRM_EXPORT int scrm_dataset_append_u64(uint64_t *added_out, scrm_dataset *ds, uint64_t n,
                                        const uint64_t *customers, const int64_t *times,
                                        const int64_t *amounts, const uint64_t *order_keys,
                                        const scrm_dataset_append_options *opts)
{
    return append_u64(ds, n, customers, times, amounts, order_keys, added_out, opts,
                      "scrm_dataset_append_u64");
}

SCRM_EXPORT int scrm_dataset_append_str(uint64_t *added_out, scrm_dataset *ds, uint64_t n,
                                        const char *const *customers, const uint32_t *lengths,
                                        const int64_t *times, const int64_t *amounts,
                                        const uint64_t *order_keys,
                                        const scrm_dataset_append_options *opts)
{
    return append_str(ds, n, customers, lengths, times, amounts, order_keys, added_out, opts,
                      "scrm_dataset_append_str");
}

/* ---- getters ---- */

SCRM__GETTER(uint64_t, scrm_dataset_customer_count, scrm_dataset, n_cust, 0)

SCRM__GETTER(uint64_t, scrm_dataset_order_count, scrm_dataset, n_orders, 0)

SCRM__GETTER(uint64_t, scrm_dataset_duplicate_count, scrm_dataset, n_dups, 0)

SCRM__GETTER(uint64_t, scrm_dataset_merged_count, scrm_dataset, n_merged, 0)

SCRM__GETTER(uint32_t, scrm_dataset_minor_digits, scrm_dataset, minor_digits, 2)

int scrm__dataset_check_minor_digits(const scrm_dataset *ds, uint32_t minor_digits,
                                     const char *fn)
{
    if (minor_digits > SCRM_MAX_MINOR_DIGITS)
        return scrm__error(SCRM_EINVAL, -1, "%s: minor_digits %u is not 0..%d", fn, minor_digits,
                           SCRM_MAX_MINOR_DIGITS);
    if (minor_digits != ds->minor_digits && ds->n_orders)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: the dataset holds amounts with %u minor digits; these have %u "
                           "(load them into a new dataset, or give minor_digits %u)",
                           fn, ds->minor_digits, minor_digits, ds->minor_digits);
    return SCRM_OK;
}

void scrm__dataset_set_minor_digits(scrm_dataset *ds, uint32_t minor_digits)
{
    ds->minor_digits = minor_digits;
}

SCRM__GETTER(int, scrm_dataset_key_type, scrm_dataset, key_type, SCRM_KEY_AUTO)

SCRM_EXPORT int scrm_dataset_has_amounts(const scrm_dataset *ds)
{
    return !ds || ds->amounts_mode != AMOUNTS_NONE;
}

SCRM_EXPORT int scrm_dataset_time_range(int64_t *min_out, int64_t *max_out,
                                        const scrm_dataset *ds)
{
    if (!ds)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_time_range: dataset is NULL");
    if (!ds->n_orders)
        return scrm__error(SCRM_ENOTFOUND, -1, "scrm_dataset_time_range: the dataset is empty");
    if (min_out)
        *min_out = ds->tmin;
    if (max_out)
        *max_out = ds->tmax;
    return SCRM_OK;
}

static int check_index(const scrm_dataset *ds, const void *out, uint32_t index, int type,
                       const char *fn)
{
    if (!ds || !out)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    if (ds->key_type != type)
        return scrm__error(SCRM_EINVAL, -1, "%s: the dataset does not have %s keys", fn,
                           type == SCRM_KEY_U64 ? "uint64" : "string");
    if (index >= ds->n_cust)
        return scrm__error(SCRM_ENOTFOUND, -1, "%s: index %u is not below the %u customers",
                           fn, index, ds->n_cust);
    return SCRM_OK;
}

void scrm__dataset_prefetch_key(const scrm_dataset *ds, uint32_t i)
{
    if (ds->key_type == SCRM_KEY_U64 && i < ds->n_cust)
        __builtin_prefetch(&ds->keys[i]);
}

SCRM_EXPORT int scrm_dataset_customer_key_u64(uint64_t *key_out, const scrm_dataset *ds,
                                              uint32_t index)
{
    int err = check_index(ds, key_out, index, SCRM_KEY_U64, "scrm_dataset_customer_key_u64");
    if (err)
        return err;
    *key_out = ds->keys[index];
    return SCRM_OK;
}

SCRM_EXPORT int scrm_dataset_customer_key_str(const char **key_out, uint32_t *len_out,
                                              const scrm_dataset *ds, uint32_t index)
{
    int err = check_index(ds, key_out, index, SCRM_KEY_STRING, "scrm_dataset_customer_key_str");
    if (err)
        return err;
    *key_out = ds->skeys[index];
    if (len_out)
        *len_out = ds->slens[index];
    return SCRM_OK;
}

/* Look up a hashed key; eq decides string equality (NULL for u64 keys,
 * whose hash is a bijection of the key). */
static int find(uint32_t *index_out, const scrm_dataset *ds, uint64_t h, const char *s,
                uint32_t len)
{
    const part *pt = &ds->parts[PART_OF(h)];
    if (!pt->tcap)
        return SCRM_ENOTFOUND;
    uint32_t mask = pt->tcap - 1, i = (uint32_t)h & mask;
    while (pt->tval[i]) {
        if (pt->thash[i] == h) {
            uint32_t g = pt->gid[pt->tval[i] - 1];
            if (!s || (ds->slens[g] == len && memcmp(ds->skeys[g], s, len) == 0)) {
                *index_out = g;
                return SCRM_OK;
            }
        }
        i = (i + 1) & mask;
    }
    return SCRM_ENOTFOUND;
}

SCRM_EXPORT int scrm_dataset_find_u64(uint32_t *index_out, const scrm_dataset *ds, uint64_t key)
{
    if (!ds || !index_out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_find_u64: NULL argument");
    if (ds->key_type == SCRM_KEY_STRING)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_find_u64: the dataset has string keys");
    if (find(index_out, ds, scrm__mix64(key), NULL, 0) < 0)
        return scrm__error(SCRM_ENOTFOUND, -1, "scrm_dataset_find_u64: no customer %llu",
                           (unsigned long long)key);
    return SCRM_OK;
}

SCRM_EXPORT int scrm_dataset_find_str(uint32_t *index_out, const scrm_dataset *ds,
                                      const char *key, int64_t len)
{
    if (!ds || !index_out || !key)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_find_str: NULL argument");
    if (ds->key_type == SCRM_KEY_U64)
        return scrm__error(SCRM_EINVAL, -1, "scrm_dataset_find_str: the dataset has uint64 keys");
    size_t n = len < 0 ? strlen(key) : (size_t)len;
    if (n >= UINT32_MAX ||
        find(index_out, ds, scrm__hash_bytes(key, n, STR_SEED), key, (uint32_t)n) < 0)
        return scrm__error(SCRM_ENOTFOUND, -1, "scrm_dataset_find_str: no customer '%.*s'",
                           (int)(n > 64 ? 64 : n), key);
    return SCRM_OK;
}

/* ---- internals for analyses ---- */

uint32_t scrm__dataset_partition_count(const scrm_dataset *ds)
{
    (void)ds;
    return PARTS;
}

void scrm__dataset_partition(const scrm_dataset *ds, uint32_t p, scrm__part_view *out)
{
    const part *pt = &ds->parts[p];
    out->n_cust = pt->n_cust;
    out->gid = pt->gid;
    out->n_rows = pt->n_rows;
    out->n_seg = pt->n_seg;
    /* never NULL: SCRM__EACH_SEG computes seg + n_seg, and NULL + 0 is
     * undefined behaviour in C */
    static const scrm__row_seg none[1];
    out->seg = pt->seg ? pt->seg : none;
}

uint32_t scrm__dataset_threads(const scrm_dataset *ds) { return ds->threads; }

/* ---- string keys in bytewise order ----
 * MSD radix sort on 8-byte chunks: a range of keys equal in their first
 * `off` bytes is sorted by (next 8 bytes read big-endian and zero-padded,
 * then how many of those bytes exist), with the LSD radix sort of pairs;
 * keys that go on past the chunk and share it form a new range at off + 8.
 * Comparing padded chunks as integers compares the bytes as memcmp does,
 * and among equal chunks a key that ends in the chunk is a prefix of the
 * longer ones, so it comes first: the order of cmp_str (memcmp, then the
 * shorter first). O(total key bytes) and no comparison sort but for
 * ranges of fewer than 16 keys. */

/* memcmp order, a prefix before its extensions; both keys are equal in
 * their first off bytes. */
static int cmp_str(const scrm_dataset *ds, uint32_t x, uint32_t y, uint64_t off)
{
    uint64_t lx = ds->slens[x] - off, ly = ds->slens[y] - off;
    int c = memcmp(ds->skeys[x] + off, ds->skeys[y] + off, (size_t)(lx < ly ? lx : ly));
    if (c)
        return c;
    return lx < ly ? -1 : lx > ly;
}

static uint64_t str_chunk(const scrm_dataset *ds, uint32_t g, uint64_t off)
{
    const unsigned char *s = (const unsigned char *)ds->skeys[g];
    uint64_t len = ds->slens[g], v = 0;
    for (uint64_t k = off; k < off + 8; k++)
        v = v << 8 | (k < len ? s[k] : 0u);
    return v;
}

typedef struct str_range {
    uint32_t lo, hi; /* [lo, hi) of the order array */
    uint64_t off;    /* bytes all its keys share */
} str_range;

/* Sort the n customer indices in ord by key; ka, kb (n each), ib (n) and
 * stack (n / 2 + 1) are scratch. */
static void sort_str_keys(const scrm_dataset *ds, uint32_t *ord, uint32_t n, uint64_t *ka,
                          uint64_t *kb, uint32_t *ib, str_range *stack)
{
    size_t top = 0;
    if (n > 1)
        stack[top++] = (str_range){0, n, 0};
    while (top) {
        str_range r = stack[--top];
        uint32_t m = r.hi - r.lo, *o = ord + r.lo, *is;
        uint64_t *ks, diff = 0;
        if (m < 16) { /* insertion sort */
            for (uint32_t j = 1; j < m; j++) {
                uint32_t x = o[j], i = j;
                for (; i > 0 && cmp_str(ds, x, o[i - 1], r.off) < 0; i--)
                    o[i] = o[i - 1];
                o[i] = x;
            }
            continue;
        }
        /* by bytes left in the chunk (0..8, 9 = more), then by the chunk:
         * two stable passes, the less significant first */
        for (uint32_t j = 0; j < m; j++) {
            uint64_t left = ds->slens[o[j]] - r.off;
            ka[j] = left > 8 ? 9 : left;
            diff |= ka[j];
        }
        scrm__radix_sort_pairs(ka, o, kb, ib, m, diff, &ks, &is);
        if (is != o)
            memcpy(o, is, (size_t)m * sizeof *o);
        diff = 0;
        for (uint32_t j = 0; j < m; j++) {
            ka[j] = str_chunk(ds, o[j], r.off);
            diff |= ka[j] ^ ka[0];
        }
        scrm__radix_sort_pairs(ka, o, kb, ib, m, diff, &ks, &is);
        if (is != o)
            memcpy(o, is, (size_t)m * sizeof *o);
        /* runs of one chunk: the keys that go on (last in the run) recurse */
        for (uint32_t j = 0; j < m;) {
            uint32_t k = j + 1, c = j;
            while (k < m && ks[k] == ks[j])
                k++;
            while (c < k && ds->slens[o[c]] - r.off <= 8)
                c++;
            if (k - c >= 2)
                stack[top++] = (str_range){r.lo + c, r.lo + k, r.off + 8};
            j = k;
        }
    }
}

/* ---- integer keys in numeric order ----
 * The keys are distinct, so any correct sort gives the same ranks: one
 * counting pass on the highest byte that differs splits them into 256
 * buckets, and each bucket (about n / 256 keys: it stays in cache) is sorted
 * on the lower bytes by the LSD radix sort, the buckets shared among the
 * threads by their sizes. */
uint32_t scrm__key_sort_parallel_min = 65536;

typedef struct key_sort {
    uint64_t *ka, *kb;   /* keys: scratch, and by leading byte */
    uint32_t *ord, *ib;  /* customer indices: scratch, and by leading byte */
    uint32_t *rank;
    uint32_t off[257];   /* bucket starts in kb / ib */
    uint32_t n, threads;
} key_sort;

static int key_bucket_range(void *ctx, uint32_t begin, uint32_t end, uint32_t thread)
{
    (void)end;
    (void)thread;
    key_sort *k = ctx;
    /* thread t sorts the buckets that start in its share of the keys */
    uint32_t from = (uint32_t)((uint64_t)k->n * begin / k->threads);
    uint32_t to = (uint32_t)((uint64_t)k->n * (begin + 1) / k->threads);
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t lo = k->off[b], m = k->off[b + 1] - lo;
        if (!m || lo < from || lo >= to)
            continue;
        uint64_t diff = 0, *ks;
        uint32_t *is;
        for (uint32_t i = 0; i < m; i++) /* the leading byte and above are equal */
            diff |= k->kb[lo + i] ^ k->kb[lo];
        scrm__radix_sort_pairs(k->kb + lo, k->ib + lo, k->ka + lo, k->ord + lo, m, diff, &ks, &is);
        for (uint32_t i = 0; i < m; i++)
            k->rank[is[i]] = lo + i;
    }
    return 0;
}

static void sort_u64_keys(key_sort *k, uint64_t diff)
{
    const uint32_t n = k->n;
    const int sh = diff ? 8 * ((63 - __builtin_clzll(diff)) / 8) : 0;
    uint32_t *off = k->off;
    memset(off, 0, sizeof k->off);
    for (uint32_t i = 0; i < n; i++)
        off[((k->ka[i] >> sh) & 0xff) + 1]++;
    for (int d = 0; d < 256; d++)
        off[d + 1] += off[d];
    uint32_t pos[256];
    memcpy(pos, off, sizeof pos);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = pos[(k->ka[i] >> sh) & 0xff]++;
        k->kb[p] = k->ka[i];
        k->ib[p] = k->ord[i];
    }
    scrm__parallel_for(k->threads, k->threads, key_bucket_range, k);
}

int scrm__dataset_key_ranks(uint32_t **rank_out, const scrm_dataset *ds, uint32_t threads)
{
    uint32_t n = ds->n_cust, *rank = NULL, *ord = NULL, *ib = NULL, *sorted;
    uint64_t *ka = NULL, *kb = NULL;
    str_range *stack = NULL;
    int err = SCRM_OK;
    /* fresh memory, touched once: huge pages fault 512 times less often
     * (page faults were a quarter of all those of `shopcrm rfm --method
     * ntile` at 20M orders, bench/README.md) */
    rank = scrm__big_alloc((size_t)n * sizeof *rank);
    ord = scrm__big_alloc((size_t)n * sizeof *ord);
    if (!rank || !ord)
        goto nomem;
    for (uint32_t i = 0; i < n; i++)
        ord[i] = i;
    sorted = ord;
    if (n > 1) {
        ka = scrm__big_alloc((size_t)n * sizeof *ka);
        kb = scrm__big_alloc((size_t)n * sizeof *kb);
        ib = scrm__big_alloc((size_t)n * sizeof *ib);
        if (!ka || !kb || !ib)
            goto nomem;
        if (ds->key_type == SCRM_KEY_STRING) {
            /* pending ranges are disjoint, of 2 keys or more */
            if (!(stack = scrm__malloc(((size_t)n / 2 + 1) * sizeof *stack)))
                goto nomem;
            sort_str_keys(ds, ord, n, ka, kb, ib, stack);
        } else {
            uint64_t diff = 0;
            for (uint32_t i = 0; i < n; i++) {
                ka[i] = ds->keys[i];
                diff |= ka[i] ^ ds->keys[0];
            }
            if (threads < 1 || n < scrm__key_sort_parallel_min)
                threads = 1;
            key_sort k = {.ka = ka, .kb = kb, .ord = ord, .ib = ib, .rank = rank, .n = n,
                          .threads = threads < SCRM__MAX_THREADS ? threads : SCRM__MAX_THREADS};
            sort_u64_keys(&k, diff);
            sorted = NULL; /* the ranks are written */
        }
    }
    if (sorted)
        for (uint32_t i = 0; i < n; i++)
            rank[sorted[i]] = i;
    *rank_out = rank;
    rank = NULL;
    goto done;
nomem:
    err = scrm__enomem("key ranks");
done:
    scrm__free(rank);
    scrm__free(ord);
    scrm__free(ka);
    scrm__free(kb);
    scrm__free(ib);
    scrm__free(stack);
    return err;
}
