/* Number parsing for the CSV loader: unsigned keys, decimal amounts
 * converted exactly to integer minor units (no strtod: binary floating
 * point cannot hold 0.1). The fast paths (digits, keys, common decimals)
 * are inline in internal.h; this file has the general case of decimals. */
#include "internal.h"

/* Integer digits with optional thousands separators between groups of
 * exactly three (the first group 1-3 digits). Returns the index after
 * them, or SIZE_MAX on a misplaced separator. */
static size_t int_part(const char *s, size_t n, size_t i, char thou, uint64_t *v, int *over,
                       int *ndig, int *seps_out)
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
    *seps_out = seps;
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
    int over = 0, ndig = 0, fd = 0, round_up = 0, nfrac = 0, seps = 0;
    if ((i = int_part(s, n, i, thou, &v, &over, &ndig, &seps)) == SIZE_MAX)
        return SCRM__NUM_BAD;
    /* "2,085" (one separator, no decimals) is 2085 or, written with the
     * other decimal separator, 2.085: a guess would be a silent x1000 */
    if (seps == 1 && i == n)
        return SCRM__NUM_AMBIGUOUS;
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

/* Blanks around a currency: spaces, tabs and U+00A0 (no-break space, as
 * in "12,50 €" of French exports). */
static size_t blank_at(const char *s, size_t n, size_t i)
{
    if (i < n && (s[i] == ' ' || s[i] == '\t'))
        return 1;
    if (i + 1 < n && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0)
        return 2;
    return 0;
}

static void trim_blanks(const char *s, size_t *b, size_t *e)
{
    size_t k;
    while (*b < *e && (k = blank_at(s, *e, *b)))
        *b += k;
    for (;;) {
        if (*e > *b && (s[*e - 1] == ' ' || s[*e - 1] == '\t'))
            (*e)--;
        else if (*e >= *b + 2 && (unsigned char)s[*e - 2] == 0xC2 &&
                 (unsigned char)s[*e - 1] == 0xA0)
            *e -= 2;
        else
            break;
    }
}

/* Currency signs a price may carry; longer ones first where one is the
 * end of another ("R$" before "$"). */
static const char *const currency_signs[] = {
    "R$", "US$", "A$", "C$", "NZ$", "HK$", "S$", "$", "\xC2\xA3" /* £ */, "\xE2\x82\xAC" /* € */,
    "\xC2\xA5" /* ¥ */, "\xE2\x82\xB9" /* ₹ */, "\xE2\x82\xBD" /* ₽ */, "z\xC5\x82" /* zł */,
    "kr", "Fr.",
};

static int is_upper(char ch) { return ch >= 'A' && ch <= 'Z'; }

/* Length of a currency sign or ISO 4217-style code (three capitals) at
 * s[b..e) from the front (front != 0) or the back, or 0. */
static size_t currency_at(const char *s, size_t b, size_t e, int front)
{
    size_t len = e - b;
    for (size_t k = 0; k < sizeof currency_signs / sizeof *currency_signs; k++) {
        size_t l = strlen(currency_signs[k]);
        if (l <= len && memcmp(front ? s + b : s + e - l, currency_signs[k], l) == 0)
            return l;
    }
    if (len >= 3) {
        const char *c = front ? s + b : s + e - 3;
        if (is_upper(c[0]) && is_upper(c[1]) && is_upper(c[2]) &&
            (front ? len == 3 || !is_upper(c[3]) : len == 3 || !is_upper(c[-1])))
            return 3;
    }
    return 0;
}

int scrm__parse_money(const char *s, size_t n, char dec, char thou, int scale, int64_t *out)
{
    size_t b = 0, e = n;
    int neg = 0, signs = 0, cur = 0, paren = 0;
    trim_blanks(s, &b, &e);
    if (e - b >= 2 && s[b] == '(' && s[e - 1] == ')') { /* accounting negative */
        neg = 1;
        signs++;
        paren = 1;
        b++;
        e--;
        trim_blanks(s, &b, &e);
    }
    for (int round = 0; round < 2 && b < e; round++) {
        if (s[b] == '-' || s[b] == '+') { /* -$12.50 */
            neg ^= s[b] == '-';
            signs++;
            b++;
            trim_blanks(s, &b, &e);
        }
        size_t l;
        if (!cur && b < e && (l = currency_at(s, b, e, 1))) { /* $-12.50 */
            cur = 1;
            b += l;
            trim_blanks(s, &b, &e);
        }
    }
    size_t l;
    if (!cur && b < e && (l = currency_at(s, b, e, 0))) { /* 12.50 EUR */
        cur = 1;
        e -= l;
        trim_blanks(s, &b, &e);
    }
    if ((!cur && !paren) || signs > 1 || b == e || s[b] == '-' || s[b] == '+')
        return SCRM__NUM_BAD;
    int64_t v;
    int rc = scrm__parse_decimal_slow(s + b, e - b, dec, thou, scale, &v);
    if (rc == SCRM__NUM_OK)
        *out = neg ? -v : v;
    return rc;
}
