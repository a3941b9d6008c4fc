/* Reading a whole file in the tests (include after <cmocka.h>). */
#ifndef SCRM_TEST_SLURP_H
#define SCRM_TEST_SLURP_H
#include <stdio.h>
#include <stdlib.h>

/* The bytes of path, NUL-terminated (a malloc'd copy), their number in
 * *len_out when not NULL; NULL when the file cannot be opened. */
static inline char *slurp_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *s = malloc(cap);
    assert_non_null(s);
    while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n == cap - 1) {
            s = realloc(s, cap *= 2);
            assert_non_null(s);
        }
    }
    fclose(f);
    s[n] = '\0';
    if (len_out)
        *len_out = n;
    return s;
}

/* The same for a file that must exist. */
static inline char *slurp(const char *path)
{
    char *s = slurp_file(path, NULL);
    assert_non_null(s);
    return s;
}
#endif
