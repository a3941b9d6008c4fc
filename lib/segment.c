/* Segment maps: ordered rule tables (name, R/F/M score ranges), first match
 * wins, and the named versioned presets (sources in include/shopcrm/rfm.h). */
#include "internal.h"

typedef struct rule {
    char *name;
    uint8_t lo[3], hi[3]; /* R, F, M */
} rule;

struct scrm_segment_map {
    uint32_t n, cap;
    rule *rules;
    uint32_t bins; /* bins the map was designed for; 0 = any */
};

SCRM_EXPORT int scrm_segment_map_new(scrm_segment_map **out)
{
    if (!out)
        return scrm__error(SCRM_EINVAL, -1, "scrm_segment_map_new: out is NULL");
    scrm_segment_map *m = scrm__calloc(1, sizeof *m);
    if (!m)
        return scrm__enomem("scrm_segment_map_new");
    *out = m;
    return SCRM_OK;
}

SCRM_EXPORT void scrm_segment_map_free(scrm_segment_map *map)
{
    if (!map)
        return;
    for (uint32_t i = 0; i < map->n; i++)
        scrm__free(map->rules[i].name);
    scrm__free(map->rules);
    scrm__free(map);
}

static int check_bound(uint32_t lo, uint32_t hi, char dim, const char *fn)
{
    if (lo < 1 || hi > SCRM_RFM_MAX_BINS || lo > hi)
        return scrm__error(SCRM_EINVAL, -1,
                           "%s: %c score range %u..%u is not within 1..%d with low <= high", fn,
                           dim, lo, hi, SCRM_RFM_MAX_BINS);
    return SCRM_OK;
}

SCRM_EXPORT int scrm_segment_map_add(scrm_segment_map *map, const char *name, uint32_t r_lo,
                                     uint32_t r_hi, uint32_t f_lo, uint32_t f_hi, uint32_t m_lo,
                                     uint32_t m_hi)
{
    static const char fn[] = "scrm_segment_map_add";
    int err;
    if (!map || !name)
        return scrm__error(SCRM_EINVAL, -1, "%s: NULL argument", fn);
    size_t len = strlen(name);
    if (len == 0 || len > SCRM_SEGMENT_NAME_MAX)
        return scrm__error(SCRM_EINVAL, -1, "%s: a segment name must have 1..%d bytes (got %zu)",
                           fn, SCRM_SEGMENT_NAME_MAX, len);
    if ((err = check_bound(r_lo, r_hi, 'R', fn)) < 0 ||
        (err = check_bound(f_lo, f_hi, 'F', fn)) < 0 ||
        (err = check_bound(m_lo, m_hi, 'M', fn)) < 0)
        return err;
    for (uint32_t i = 0; i < map->n; i++)
        if (strcmp(map->rules[i].name, name) == 0)
            return scrm__error(SCRM_EINVAL, -1, "%s: the map already has a segment '%s'", fn,
                               name);
    if (map->n >= INT32_MAX)
        return scrm__error(SCRM_EINVAL, -1, "%s: too many segments", fn);
    char *copy = scrm__strdup(name);
    if (!copy)
        return scrm__enomem(fn);
    if (map->n == map->cap) {
        uint32_t cap = map->cap ? map->cap * 2 : 16;
        rule *r = scrm__reallocarray(map->rules, cap, sizeof *r);
        if (!r) {
            scrm__free(copy);
            return scrm__enomem(fn);
        }
        map->rules = r;
        map->cap = cap;
    }
    rule *r = &map->rules[map->n++];
    r->name = copy;
    r->lo[0] = (uint8_t)r_lo;
    r->hi[0] = (uint8_t)r_hi;
    r->lo[1] = (uint8_t)f_lo;
    r->hi[1] = (uint8_t)f_hi;
    r->lo[2] = (uint8_t)m_lo;
    r->hi[2] = (uint8_t)m_hi;
    return SCRM_OK;
}

/* ---- presets ---- */

typedef struct preset_rule {
    const char *name;
    uint8_t b[6]; /* r_lo, r_hi, f_lo, f_hi, m_lo, m_hi */
} preset_rule;

/* "rfm11-v1": the boxes of the table in the R rfm package's vignette "RFM -
 * Transaction Level Data" (A. Hebbali, rsquaredacademy/rfm,
 * vignettes/rfm-transaction-level-data.Rmd), evaluated in an order that
 * makes every segment reachable; Lost narrowed to (1,1,1) because its
 * published box equals Hibernating's. See rfm.h for the cell counts. */
static const preset_rule rfm11_v1[] = {
    {"Champions", {4, 5, 4, 5, 4, 5}},
    {"Loyal Customers", {2, 5, 3, 5, 3, 5}},
    {"New Customers", {4, 5, 1, 1, 1, 1}},
    {"Promising", {3, 4, 1, 1, 1, 1}},
    {"Potential Loyalist", {3, 5, 1, 3, 1, 3}},
    {"Need Attention", {2, 3, 2, 3, 2, 3}},
    {"About To Sleep", {2, 3, 1, 2, 1, 2}},
    {"Can't Lose Them", {1, 1, 4, 5, 4, 5}},
    {"At Risk", {1, 2, 2, 5, 2, 5}},
    {"Lost", {1, 1, 1, 1, 1, 1}},
    {"Hibernating", {1, 2, 1, 2, 1, 2}},
};

/* "rfm11-v2": rfm11-v1 with two boxes widened so that every one of the 125
 * cells gets a segment: Potential Loyalist takes every cell with R >= 3
 * that no earlier rule took, Hibernating every cell with R <= 2 that no
 * earlier rule took. Each cell v1 assigns keeps its v1 segment (rfm.h). */
static const preset_rule rfm11_v2[] = {
    {"Champions", {4, 5, 4, 5, 4, 5}},
    {"Loyal Customers", {2, 5, 3, 5, 3, 5}},
    {"New Customers", {4, 5, 1, 1, 1, 1}},
    {"Promising", {3, 4, 1, 1, 1, 1}},
    {"Potential Loyalist", {3, 5, 1, 5, 1, 5}},
    {"Need Attention", {2, 3, 2, 3, 2, 3}},
    {"About To Sleep", {2, 3, 1, 2, 1, 2}},
    {"Can't Lose Them", {1, 1, 4, 5, 4, 5}},
    {"At Risk", {1, 2, 2, 5, 2, 5}},
    {"Lost", {1, 1, 1, 1, 1, 1}},
    {"Hibernating", {1, 2, 1, 5, 1, 5}},
};

/* "rf10-v1": the R x F grid of the widely circulated regular-expression
 * segment map (seg_map = {r'[1-2][1-2]': 'hibernating', ...}); M ignored. */
static const preset_rule rf10_v1[] = {
    {"Hibernating", {1, 2, 1, 2, 1, 10}},
    {"At Risk", {1, 2, 3, 4, 1, 10}},
    {"Can't Lose", {1, 2, 5, 5, 1, 10}},
    {"About To Sleep", {3, 3, 1, 2, 1, 10}},
    {"Need Attention", {3, 3, 3, 3, 1, 10}},
    {"Loyal Customers", {3, 4, 4, 5, 1, 10}},
    {"Promising", {4, 4, 1, 1, 1, 10}},
    {"New Customers", {5, 5, 1, 1, 1, 10}},
    {"Potential Loyalists", {4, 5, 2, 3, 1, 10}},
    {"Champions", {5, 5, 4, 5, 1, 10}},
};

static const struct {
    const char *name;
    const preset_rule *rules;
    uint32_t n;
} presets[] = {
    {"rfm11-v1", rfm11_v1, sizeof rfm11_v1 / sizeof rfm11_v1[0]},
    {"rf10-v1", rf10_v1, sizeof rf10_v1 / sizeof rf10_v1[0]},
    {"rfm11-v2", rfm11_v2, sizeof rfm11_v2 / sizeof rfm11_v2[0]},
};
#define N_PRESETS (sizeof presets / sizeof presets[0])

SCRM_EXPORT const char *scrm_segment_map_preset_name(uint32_t index)
{
    return index < N_PRESETS ? presets[index].name : NULL;
}

SCRM_EXPORT int scrm_segment_map_preset(scrm_segment_map **out, const char *name)
{
    if (!out || !name)
        return scrm__error(SCRM_EINVAL, -1, "scrm_segment_map_preset: NULL argument");
    for (uint32_t p = 0; p < N_PRESETS; p++) {
        if (strcmp(presets[p].name, name) != 0)
            continue;
        scrm_segment_map *m = NULL;
        int err = scrm_segment_map_new(&m);
        for (uint32_t i = 0; err == SCRM_OK && i < presets[p].n; i++) {
            const uint8_t *b = presets[p].rules[i].b;
            err = scrm_segment_map_add(m, presets[p].rules[i].name, b[0], b[1], b[2], b[3], b[4],
                                       b[5]);
        }
        if (err) {
            scrm_segment_map_free(m);
            return err;
        }
        m->bins = 5;
        *out = m;
        return SCRM_OK;
    }
    return scrm__error(SCRM_ENOTFOUND, -1,
                       "scrm_segment_map_preset: no preset '%s' (known: rfm11-v2, rfm11-v1, "
                       "rf10-v1)", name);
}

SCRM_EXPORT int scrm_segment_map_copy(scrm_segment_map **out, const scrm_segment_map *map)
{
    if (!out || !map)
        return scrm__error(SCRM_EINVAL, -1, "scrm_segment_map_copy: NULL argument");
    scrm_segment_map *m = scrm__calloc(1, sizeof *m);
    if (!m)
        return scrm__enomem("scrm_segment_map_copy");
    if (map->n) {
        m->rules = scrm__calloc(map->n, sizeof *m->rules);
        if (!m->rules) {
            scrm__free(m);
            return scrm__enomem("scrm_segment_map_copy");
        }
        m->cap = map->n;
        for (uint32_t i = 0; i < map->n; i++) {
            m->rules[i] = map->rules[i];
            m->rules[i].name = scrm__strdup(map->rules[i].name);
            if (!m->rules[i].name) {
                scrm_segment_map_free(m);
                return scrm__enomem("scrm_segment_map_copy");
            }
            m->n = i + 1;
        }
    }
    m->bins = map->bins;
    *out = m;
    return SCRM_OK;
}

SCRM_EXPORT uint32_t scrm_segment_map_count(const scrm_segment_map *map)
{
    return map ? map->n : 0;
}

SCRM_EXPORT const char *scrm_segment_map_name(const scrm_segment_map *map, uint32_t index)
{
    return map && index < map->n ? map->rules[index].name : NULL;
}

SCRM_EXPORT int scrm_segment_map_rule(uint32_t *bounds_out, const scrm_segment_map *map,
                                      uint32_t index)
{
    if (!bounds_out || !map)
        return scrm__error(SCRM_EINVAL, -1, "scrm_segment_map_rule: NULL argument");
    if (index >= map->n)
        return scrm__error(SCRM_ENOTFOUND, -1,
                           "scrm_segment_map_rule: index %u is not below the %u segments", index,
                           map->n);
    const rule *r = &map->rules[index];
    for (int d = 0; d < 3; d++) {
        bounds_out[2 * d] = r->lo[d];
        bounds_out[2 * d + 1] = r->hi[d];
    }
    return SCRM_OK;
}

SCRM_EXPORT int scrm_segment_map_find(uint32_t *index_out, const scrm_segment_map *map,
                                      const char *name)
{
    if (!index_out || !map || !name)
        return scrm__error(SCRM_EINVAL, -1, "scrm_segment_map_find: NULL argument");
    for (uint32_t i = 0; i < map->n; i++)
        if (strcmp(map->rules[i].name, name) == 0) {
            *index_out = i;
            return SCRM_OK;
        }
    return scrm__error(SCRM_ENOTFOUND, -1, "scrm_segment_map_find: no segment '%s'", name);
}

SCRM_EXPORT uint32_t scrm_segment_map_bins(const scrm_segment_map *map)
{
    return map ? map->bins : 0;
}

/* The first rule matching (r, f, m); M is not looked at when use_m is 0. */
static int32_t match(const scrm_segment_map *map, uint32_t r, uint32_t f, uint32_t m, int use_m)
{
    if (!map)
        return -1;
    for (uint32_t i = 0; i < map->n; i++) {
        const rule *u = &map->rules[i];
        if (r >= u->lo[0] && r <= u->hi[0] && f >= u->lo[1] && f <= u->hi[1] &&
            (!use_m || (m >= u->lo[2] && m <= u->hi[2])))
            return (int32_t)i;
    }
    return -1;
}

SCRM_EXPORT int32_t scrm_segment_map_match(const scrm_segment_map *map, uint32_t r, uint32_t f,
                                           uint32_t m)
{
    return match(map, r, f, m, 1);
}

int32_t scrm__segment_map_match_rf(const scrm_segment_map *map, uint32_t r, uint32_t f)
{
    return match(map, r, f, 0, 0);
}
