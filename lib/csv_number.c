/* Number parsing for the CSV loader: unsigned keys, decimal amounts
 * converted exactly to integer minor units (no strtod: binary floating
 * point cannot hold 0.1). The fast paths (digits, keys, common decimals)
 * are inline in internal.h; this file has the general case of decimals. */
#include "internal.h"

/* Integer digits with optional thousands separators between groups of
 * exactly three (the first group 1-3 digits). Returns the index after
 * them, or SIZE_MAX on a misplaced separator. */
static size_t int_part(const char *s, size_t n, size_t i, char thou, uint64_t *v, int *over,
                       int *ndig)
{
    int gl = 0, seps = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d <= 9) {
            if (*v > (UINT64_MAX - d) / 10)
                *over = 1;
            else
                *v = *v * 10 + d;
            gl++;
            (*ndig)++;
            continue;
        }
        if (s[i] != thou)
            break;
        if (seps == 0 ? (gl < 1 || gl > 3) : gl != 3)
            return SIZE_MAX;
        seps++;
        gl = 0;
    }
    return seps && gl != 3 ? SIZE_MAX : i;
}

/* Fractional digits: the first `scale` are kept, the next decides the
 * rounding (>= 5 rounds the magnitude up), the others are dropped. */
static size_t frac_part(const char *s, size_t n, size_t i, int scale, uint64_t *v, int *over,
                        int *fd, int *round_up, int *nfrac)
{
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            break;
        (*nfrac)++;
        if (*fd < scale) {
            if (*v > (UINT64_MAX - d) / 10)
                *over = 1;
            else
                *v = *v * 10 + d;
            (*fd)++;
        } else if (*fd == scale) {
            *round_up = d >= 5;
            (*fd)++;
        }
    }
    return i;
}

int scrm__parse_decimal_slow(const char *s, size_t n, char dec, char thou, int scale,
                             int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    uint64_t v = 0;
    int over = 0, ndig = 0, fd = 0, round_up = 0, nfrac = 0;
    if ((i = int_part(s, n, i, thou, &v, &over, &ndig)) == SIZE_MAX)
        return SCRM__NUM_BAD;
    if (i < n && s[i] == dec)
        i = frac_part(s, n, i + 1, scale, &v, &over, &fd, &round_up, &nfrac);
    if ((ndig == 0 && nfrac == 0) || i != n)
        return SCRM__NUM_BAD;
    for (; fd < scale; fd++) {
        if (v > UINT64_MAX / 10)
            over = 1;
        else
            v *= 10;
    }
    if (round_up)
        v++;
    if (over || v > (uint64_t)INT64_MAX)
        return SCRM__NUM_RANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return SCRM__NUM_OK;
}
