/* A program outside the source tree, built against the installed library with
 * `pkg-config --cflags --libs shopcrm` by tests/install_consumer.sh. */
#include <shopcrm.h>
#include <stdio.h>

int main(void)
{
    const uint64_t customers[] = {7, 7, 9, 11, 9, 7};
    const int64_t times[] = {1700000000, 1700086400, 1700000000, 1700172800, 1700259200, 1700086400};
    const int64_t amounts[] = {1999, 500, 0, -250, 12000, 500};
    const uint64_t order_keys[] = {1, 2, 3, 4, 5, 2}; /* the last row: a second line of order 2 */
    scrm_dataset *ds = NULL;
    uint64_t added = 0;

    if (scrm_dataset_new(&ds, NULL) != SCRM_OK ||
        scrm_dataset_append_u64(&added, ds, 6, customers, times, amounts, order_keys, NULL) != SCRM_OK) {
        fprintf(stderr, "error: %s\n", scrm_last_error());
        return 1;
    }
    printf("shopcrm %s: %llu added, %llu customers, %llu orders, %llu duplicates, %llu merged\n",
           scrm_version(), (unsigned long long)added,
           (unsigned long long)scrm_dataset_customer_count(ds),
           (unsigned long long)scrm_dataset_order_count(ds),
           (unsigned long long)scrm_dataset_duplicate_count(ds),
           (unsigned long long)scrm_dataset_merged_count(ds));
    scrm_dataset_free(ds);
    return 0;
}
