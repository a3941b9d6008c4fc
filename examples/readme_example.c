/* The C example of README.md (kept identical; built and run by meson test as
 * "readme-example"). Five customers, eight orders: score them and name segments. */
#include <shopcrm.h>
#include <stdio.h>

int main(void)
{
    uint64_t customer[] = {101, 101, 101, 102, 102, 103, 104, 105};
    int64_t time[] = {1705276800, 1708387200, 1709164800, 1705708800, /* 2024-01-15 ... */
                      1707091200, 1704240000, 1708819200, 1702166400}; /* UTC seconds */
    int64_t cents[] = {2000, 3000, 4500, 12000, 800, 1500, 2500, 600};  /* minor units */
    scrm_dataset *ds = NULL;
    scrm_rfm *rfm = NULL;
    if (scrm_dataset_new(&ds, NULL) != SCRM_OK ||
        scrm_dataset_append_u64(NULL, ds, 8, customer, time, cents, NULL, NULL) != SCRM_OK ||
        scrm_rfm_compute(&rfm, ds, NULL) != SCRM_OK) { /* NULL: 5 quantile bins, "rfm11-v2" */
        fprintf(stderr, "shopcrm: %s\n", scrm_last_error());
        return 1;
    }
    const uint8_t *r = scrm_rfm_scores(rfm, SCRM_RFM_R), *f = scrm_rfm_scores(rfm, SCRM_RFM_F),
                  *m = scrm_rfm_scores(rfm, SCRM_RFM_M);
    const int32_t *segment = scrm_rfm_segments(rfm);
    for (uint32_t i = 0; i < scrm_rfm_customer_count(rfm); i++) {
        uint64_t key;
        scrm_dataset_customer_key_u64(&key, ds, i);
        const char *name = scrm_segment_map_name(scrm_rfm_segment_map(rfm), (uint32_t)segment[i]);
        printf("customer %llu: R%u F%u M%u %s\n", (unsigned long long)key, r[i], f[i], m[i],
               segment[i] >= 0 ? name : "(unassigned)");
    }
    scrm_rfm_free(rfm);
    scrm_dataset_free(ds);
    return 0;
}
