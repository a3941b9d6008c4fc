/* Deterministic synthetic order generator (see gen.h for the model). */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- model parameters (tuned for a mean of ~8 orders per customer) ---- */
/* Purchase rate lambda ~ Gamma(shape R, rate ALPHA), per day. */
#define GEN_R 1.2
#define GEN_ALPHA 31.2
/* Drop-out probability after each purchase p ~ Beta(A, B). */
#define GEN_A 1.5
#define GEN_B 12.0
/* Amounts: log(cents) = MU + SD_CUST * z_customer + SD_ORDER * z_order. */
#define GEN_MU 8.2          /* exp(8.2) ~ 3640 cents, median ~ 36 */
#define GEN_SD_CUST 0.5
#define GEN_SD_ORDER 0.6

/* ---- PRNG ------------------------------------------------------------ */

/* SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
 * generators", OOPSLA), used to expand a seed into the xoshiro state, as
 * Blackman & Vigna recommend. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void bench_rng_seed(bench_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman & Vigna, ACM TOMS 47(4), 2021, section 4):
 * output = rotl(s1 * 5, 7) * 9; linear engine xoshiro256 with shift 17
 * and rotation 45. */
uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t out = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Top 53 bits as a double in [0, 1). */
double bench_rng_uniform(bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) * 0x1.0p-53;
}

double bench_rng_uniform_pos(bench_rng *r)
{
    return ((double)(bench_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Inversion: -log(U), U in (0, 1). */
double bench_rng_exponential(bench_rng *r)
{
    return -log(bench_rng_uniform_pos(r));
}

/* Marsaglia & Bray (1964), "A convenient method for generating normal
 * variables", SIAM Review 6(3): the polar form of Box-Muller. */
double bench_rng_normal(bench_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * bench_rng_uniform(r) - 1.0;
        v = 2.0 * bench_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

/* Marsaglia & Tsang (2000), "A simple method for generating gamma
 * variables", ACM TOMS 26(3). For shape < 1: Gamma(a) = Gamma(a+1) * U^(1/a)
 * (same paper, section 6). */
double bench_rng_gamma(bench_rng *r, double shape)
{
    if (shape < 1.0) {
        const double g = bench_rng_gamma(r, shape + 1.0);
        return g * pow(bench_rng_uniform_pos(r), 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = bench_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = bench_rng_uniform_pos(r);
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2)
            return d * v;
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v)))
            return d * v;
    }
}

/* Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
double bench_rng_beta(bench_rng *r, double a, double b)
{
    const double x = bench_rng_gamma(r, a);
    const double y = bench_rng_gamma(r, b);
    return x / (x + y);
}

/* MurmurHash3's 64-bit finaliser (Appleby), a bijection of uint64, applied
 * to the customer number xor a seed-derived constant: distinct numbers give
 * distinct ids spread over the whole range. */
uint64_t bench_customer_id(uint64_t number, uint64_t seed)
{
    uint64_t k = seed * UINT64_C(0x9e3779b97f4a7c15) + UINT64_C(0x632be59bd9b4e019);
    uint64_t x = number ^ k;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* ---- generator -------------------------------------------------------- */

int bench_gen_init(bench_gen *g, uint64_t orders, uint64_t seed, uint32_t chunk_rows)
{
    memset(g, 0, sizeof *g);
    if (chunk_rows == 0)
        chunk_rows = BENCH_GEN_CHUNK;
    g->orders = orders;
    g->seed = seed;
    g->chunk_rows = chunk_rows;
    g->cap = chunk_rows + BENCH_GEN_MAX_PER_CUSTOMER;
    bench_rng_seed(&g->rng, seed);
    size_t n = g->cap;
    g->cust = malloc(n * sizeof *g->cust);
    g->time = malloc(n * sizeof *g->time);
    g->amount = malloc(n * sizeof *g->amount);
    g->keys = malloc(n * sizeof *g->keys);
    g->keys2 = malloc(n * sizeof *g->keys2);
    g->cust2 = malloc(n * sizeof *g->cust2);
    g->time2 = malloc(n * sizeof *g->time2);
    g->amount2 = malloc(n * sizeof *g->amount2);
    if (!g->cust || !g->time || !g->amount || !g->keys || !g->keys2 || !g->cust2 ||
        !g->time2 || !g->amount2) {
        bench_gen_free(g);
        return -1;
    }
    /* Touch every page now, so that the memory of the generator is part of
     * the baseline RSS and later chunks do not fault. (A non-zero fill: the
     * compiler may turn malloc + memset(0) into calloc, which touches nothing.) */
    memset(g->cust, 1, n * sizeof *g->cust);
    memset(g->time, 1, n * sizeof *g->time);
    memset(g->amount, 1, n * sizeof *g->amount);
    memset(g->keys, 1, n * sizeof *g->keys);
    memset(g->keys2, 1, n * sizeof *g->keys2);
    memset(g->cust2, 1, n * sizeof *g->cust2);
    memset(g->time2, 1, n * sizeof *g->time2);
    memset(g->amount2, 1, n * sizeof *g->amount2);
    return 0;
}

void bench_gen_free(bench_gen *g)
{
    free(g->cust);
    free(g->time);
    free(g->amount);
    free(g->keys);
    free(g->keys2);
    free(g->cust2);
    free(g->time2);
    free(g->amount2);
    memset(g, 0, sizeof *g);
}

uint64_t bench_gen_customers(const bench_gen *g)
{
    return g->customers;
}

/* Simulate one customer into the buffers at row n; returns the new n. */
static uint32_t gen_customer(bench_gen *g, uint32_t n)
{
    bench_rng *r = &g->rng;
    const uint64_t id = bench_customer_id(g->customers++, g->seed);
    const double lambda = bench_rng_gamma(r, GEN_R) / GEN_ALPHA;         /* per day */
    const double p = bench_rng_beta(r, GEN_A, GEN_B);
    const double mu = GEN_MU + GEN_SD_CUST * bench_rng_normal(r);
    const double end = (double)BENCH_GEN_WINDOW;
    double t = bench_rng_uniform(r) * end;      /* seconds since T0 */
    uint32_t k = 0;
    for (;;) {
        double a = exp(mu + GEN_SD_ORDER * bench_rng_normal(r));
        int64_t cents = (int64_t)(a + 0.5);
        if (cents < 1)
            cents = 1;
        g->cust[n] = id;
        g->time[n] = BENCH_GEN_T0 + (int64_t)t;
        g->amount[n] = cents;
        n++;
        if (++k >= BENCH_GEN_MAX_PER_CUSTOMER)
            break;
        if (bench_rng_uniform(r) < p)
            break;                               /* dropped out */
        t += bench_rng_exponential(r) / lambda * 86400.0;
        if (!(t < end))
            break;                               /* end of the window */
    }
    return n;
}

/* Sort rows [0, n) by time: LSD radix sort (3 passes of 9 bits) on keys
 * (time - T0) << 32 | row; stable, so equal times keep their order. */
static void gen_sort_chunk(bench_gen *g, uint32_t n)
{
    uint64_t *a = g->keys, *b = g->keys2;
    for (uint32_t i = 0; i < n; i++)
        a[i] = ((uint64_t)(g->time[i] - BENCH_GEN_T0) << 32) | i;
    for (int pass = 0; pass < 3; pass++) {
        const int shift = 32 + 9 * pass;
        uint32_t count[512];
        memset(count, 0, sizeof count);
        for (uint32_t i = 0; i < n; i++)
            count[(a[i] >> shift) & 511]++;
        uint32_t sum = 0;
        for (int d = 0; d < 512; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++)
            b[count[(a[i] >> shift) & 511]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    /* after 3 passes the sorted keys are in a (== keys2) */
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t j = (uint32_t)a[i];
        g->cust2[i] = g->cust[j];
        g->time2[i] = g->time[j];
        g->amount2[i] = g->amount[j];
    }
    uint64_t *tc = g->cust;
    g->cust = g->cust2;
    g->cust2 = tc;
    int64_t *tt = g->time;
    g->time = g->time2;
    g->time2 = tt;
    int64_t *ta = g->amount;
    g->amount = g->amount2;
    g->amount2 = ta;
}

uint32_t bench_gen_next(bench_gen *g, const uint64_t **cust, const int64_t **time,
                        const int64_t **amount)
{
    uint64_t left = g->orders - g->emitted;
    uint32_t n = 0;
    while (n < g->chunk_rows && n < left)
        n = gen_customer(g, n);
    if (n > left)
        n = (uint32_t)left;                     /* cut the very last customer */
    gen_sort_chunk(g, n);
    g->emitted += n;
    *cust = g->cust;
    *time = g->time;
    *amount = g->amount;
    return n;
}

/* ---- formatting and CSV ----------------------------------------------- */

int bench_fmt_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

int bench_fmt_i64(char *p, int64_t v)
{
    if (v < 0) {
        p[0] = '-';
        return 1 + bench_fmt_u64(p + 1, (uint64_t)0 - (uint64_t)v);
    }
    return bench_fmt_u64(p, (uint64_t)v);
}

int bench_fmt_cents(char *p, int64_t cents)
{
    int n = 0;
    uint64_t u = (uint64_t)cents;
    if (cents < 0) {
        p[n++] = '-';
        u = (uint64_t)0 - u;
    }
    n += bench_fmt_u64(p + n, u / 100);
    p[n++] = '.';
    p[n++] = (char)('0' + (u % 100) / 10);
    p[n++] = (char)('0' + u % 10);
    return n;
}

int bench_gen_write_csv(const char *path, uint64_t orders, uint64_t seed,
                        uint64_t *customers_out, uint64_t *bytes_out)
{
    bench_gen g;
    if (bench_gen_init(&g, orders, seed, 0) != 0) {
        errno = ENOMEM;
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        bench_gen_free(&g);
        errno = e;
        return -1;
    }
    const size_t bufsize = 1u << 22;
    char *buf = malloc(bufsize + 128);
    if (!buf) {
        fclose(f);
        bench_gen_free(&g);
        errno = ENOMEM;
        return -1;
    }
    uint64_t bytes = 0;
    size_t len = 0;
    int err = 0;
    static const char header[] = "customer_id,ts,amount\n";
    memcpy(buf, header, sizeof header - 1);
    len = sizeof header - 1;
    const uint64_t *c;
    const int64_t *t, *a;
    uint32_t n;
    while (!err && (n = bench_gen_next(&g, &c, &t, &a)) > 0) {
        for (uint32_t i = 0; i < n; i++) {
            char *p = buf + len;
            p += bench_fmt_u64(p, c[i]);
            *p++ = ',';
            p += bench_fmt_i64(p, t[i]);
            *p++ = ',';
            p += bench_fmt_cents(p, a[i]);
            *p++ = '\n';
            len = (size_t)(p - buf);
            if (len >= bufsize) {
                if (fwrite(buf, 1, len, f) != len) {
                    err = errno ? errno : EIO;
                    break;
                }
                bytes += len;
                len = 0;
            }
        }
    }
    if (!err && len) {
        if (fwrite(buf, 1, len, f) != len)
            err = errno ? errno : EIO;
        bytes += len;
    }
    if (fclose(f) != 0 && !err)
        err = errno ? errno : EIO;
    free(buf);
    if (customers_out)
        *customers_out = g.customers;
    if (bytes_out)
        *bytes_out = bytes;
    bench_gen_free(&g);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* ---- clocks, memory, arguments ----------------------------------------- */

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t bench_rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
    fclose(f);
    if (!ok)
        return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t bench_rss_peak(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024u;     /* Linux reports kilobytes */
}

double bench_loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return -1;
    double l = -1;
    if (fscanf(f, "%lf", &l) != 1)
        l = -1;
    fclose(f);
    return l;
}

uint64_t bench_parse_count(const char *s)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0))
        return 0;
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1e6, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1e9, end++;
    if (*end != '\0')
        return 0;
    v *= mul;
    if (v >= 1.8e19)
        return 0;
    return (uint64_t)(v + 0.5);
}
