/* Tests of errors, versions, the allocator hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <shopcrm.h>
#include "failalloc.h"

static void test_version_macros_match_runtime(void **state)
{
    (void)state;
    assert_string_equal(scrm_version(), SCRM_VERSION_STRING);
    assert_int_equal(scrm_version_number(), SCRM_VERSION_NUMBER);
    assert_int_equal(SCRM_VERSION_NUMBER,
                     SCRM_VERSION_MAJOR * 10000 + SCRM_VERSION_MINOR * 100 + SCRM_VERSION_PATCH);
    assert_string_equal(SCRM_VERSION_STRING, "1.0.0");
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    static const struct { int code; const char *want; } cases[] = {
        {SCRM_OK, "success"},          {SCRM_EINVAL, "invalid argument"},
        {SCRM_ENOMEM, "out of memory"}, {SCRM_EPARSE, "parse error"},
        {SCRM_EIO, "input/output error"}, {SCRM_EOVERFLOW, "value too large"},
        {SCRM_ENOTFOUND, "not found"}, {SCRM_EVERSION, "unsupported version"},
        {SCRM_ECANCELLED, "cancelled"}, {SCRM_ERANGE, "value out of range"},
        {SCRM_ESTATE, "invalid state"}, {-1000, "unknown error"}, {7, "unknown error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(scrm_strerror(cases[i].code), cases[i].want);
}

static void test_codes_keep_their_values(void **state)
{
    (void)state;
    /* ABI: these numbers never change. */
    assert_int_equal(SCRM_OK, 0);
    assert_int_equal(SCRM_EINVAL, -1);
    assert_int_equal(SCRM_ENOMEM, -2);
    assert_int_equal(SCRM_EPARSE, -3);
    assert_int_equal(SCRM_EIO, -4);
    assert_int_equal(SCRM_EOVERFLOW, -5);
    assert_int_equal(SCRM_ENOTFOUND, -6);
    assert_int_equal(SCRM_EVERSION, -7);
    assert_int_equal(SCRM_ECANCELLED, -8);
    assert_int_equal(SCRM_ERANGE, -9);
    assert_int_equal(SCRM_ESTATE, -10);
}

static void test_last_error_is_set_and_cleared(void **state)
{
    (void)state;
    scrm_clear_error();
    assert_string_equal(scrm_last_error(), "");
    assert_int_equal(scrm_last_error_index(), -1);
    assert_int_equal(scrm_dataset_new(NULL, NULL), SCRM_EINVAL);
    assert_non_null(strstr(scrm_last_error(), "out is NULL"));
    scrm_clear_error();
    assert_string_equal(scrm_last_error(), "");
}

static void test_allocator_must_be_complete(void **state)
{
    (void)state;
    assert_int_equal(scrm_set_allocator(failalloc_malloc, NULL, NULL, NULL), SCRM_EINVAL);
    assert_int_equal(scrm_set_allocator(NULL, NULL, NULL, NULL), SCRM_OK);
}

static void test_allocator_is_used_for_every_allocation(void **state)
{
    (void)state;
    failalloc_install(-1, 0);
    failalloc_live = 0;
    scrm_dataset *ds = NULL;
    assert_int_equal(scrm_dataset_new(&ds, NULL), SCRM_OK);
    assert_true(failalloc_live > 0);
    uint64_t c[] = {1, 2};
    int64_t t[] = {0, 1};
    int64_t a[] = {5, 6};
    assert_int_equal(scrm_dataset_append_u64(NULL, ds, 2, c, t, a, NULL, NULL), SCRM_OK);
    scrm_dataset_free(ds);
    assert_int_equal(failalloc_live, 0);
    failalloc_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_macros_match_runtime),
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_codes_keep_their_values),
        cmocka_unit_test(test_last_error_is_set_and_cleared),
        cmocka_unit_test(test_allocator_must_be_complete),
        cmocka_unit_test(test_allocator_is_used_for_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
