/* Number parsing for the CSV loader: unsigned keys, decimal amounts
 * converted exactly to integer minor units (no strtod: binary floating
 * point cannot hold 0.1). The fast path of decimals is inline in
 * internal.h (scrm__parse_decimal); this file has the general cases. */
#include "internal.h"

/* SWAR: subtract '0' from every byte, then combine neighbours pairwise
 * (x10), pairs of pairs (x100) and halves (x10000) with multiplies; the
 * digit test adds 0x46 (so bytes above '9' set bit 7) and subtracts 0x30
 * (so bytes below '0' borrow into bit 7). Same idea as D. Lemire, "Quickly
 * parsing eight digits" (2022). */
int64_t scrm__parse8(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8); /* little-endian: s[0] is the low byte */
    if (((w + UINT64_C(0x4646464646464646)) | (w - UINT64_C(0x3030303030303030))) &
        UINT64_C(0x8080808080808080))
        return -1;
    w -= UINT64_C(0x3030303030303030);
    w = (w * 10 + (w >> 8)) & UINT64_C(0x00ff00ff00ff00ff);      /* 4 x 2 digits */
    w = (w * 100 + (w >> 16)) & UINT64_C(0x0000ffff0000ffff);    /* 2 x 4 digits */
    w = (w * 10000 + (w >> 32)) & UINT64_C(0x00000000ffffffff);  /* 8 digits */
    return (int64_t)w;
}

int scrm__parse_uint(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    int over = 0;
    for (; n - i >= 8; i += 8) {
        int64_t e = scrm__parse8(s + i);
        if (e < 0)
            return SCRM__NUM_BAD;
        over |= __builtin_mul_overflow(v, (uint64_t)100000000, &v);
        over |= __builtin_add_overflow(v, (uint64_t)e, &v);
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return SCRM__NUM_BAD;
        over |= __builtin_mul_overflow(v, (uint64_t)10, &v);
        over |= __builtin_add_overflow(v, (uint64_t)d, &v);
    }
    if (over)
        return SCRM__NUM_RANGE;
    *out = v;
    return SCRM__NUM_OK;
}

int scrm__parse_u64(const char *s, size_t n, int lenient, uint64_t *out)
{
    if (n == 0 || (!lenient && n > 1 && s[0] == '0'))
        return SCRM__NUM_BAD;
    return scrm__parse_uint(s, n, out);
}

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
