/* Deterministic synthetic order generator for the libshopcrm benchmarks.
 *
 * Model (a buy-till-you-die process, as in Fader, Hardie & Lee 2005,
 * "Counting your customers the easy way: an alternative to the Pareto/NBD
 * model", Marketing Science 24(2)):
 *   - customer c is acquired at a time uniform over a 3-year window
 *     (2021-01-01 .. 2023-12-31 UTC) and buys at once;
 *   - while alive, the customer buys as a Poisson process: exponential
 *     inter-purchase times with a per-customer rate lambda ~ Gamma(r, alpha);
 *   - after each purchase the customer drops out with a per-customer
 *     probability p ~ Beta(a, b) (geometric drop-out);
 *   - order amounts are log-normal in cents: a per-customer log-mean, plus
 *     per-order log-normal noise;
 *   - customer ids are a bijective 64-bit mix of the customer number, so they
 *     spread over the whole uint64 range (about half are >= 2^63).
 *
 * Output: exactly `orders` rows, produced in chunks of about `chunk_rows`
 * rows (the customers simulated for a chunk are complete; only the last
 * customer of the whole run may be cut). Each chunk is sorted by time, so
 * a chunk reads like a slice of a real order log. The customer count comes
 * out close to orders / 8 (the parameters are tuned for a mean of 8 orders
 * per customer; bench_gen_customers() gives the exact count).
 *
 * Everything depends only on (orders, seed, chunk_rows): same arguments,
 * same rows, on every platform with IEEE doubles and a correct libm.
 */
#ifndef SCRM_BENCH_GEN_H
#define SCRM_BENCH_GEN_H

#include <stdint.h>

/* First second of the window: 2021-01-01T00:00:00Z. */
#define BENCH_GEN_T0 INT64_C(1609459200)
/* Length of the window: 1095 days (2021, 2022, 2023). */
#define BENCH_GEN_WINDOW (INT64_C(1095) * 86400)
/* Orders of one customer are capped (heavy buyers are truncated). */
#define BENCH_GEN_MAX_PER_CUSTOMER 4096u
/* Default chunk size. */
#define BENCH_GEN_CHUNK 1000000u

/* xoshiro256** state (Blackman & Vigna 2018/2021, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 47(4)). */
typedef struct bench_rng {
    uint64_t s[4];
    double spare;       /* second normal deviate of the polar method */
    int has_spare;
} bench_rng;

void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
double bench_rng_uniform(bench_rng *r);           /* in [0, 1) */
double bench_rng_uniform_pos(bench_rng *r);       /* in (0, 1) */
double bench_rng_exponential(bench_rng *r);       /* rate 1 */
double bench_rng_normal(bench_rng *r);            /* N(0, 1) */
double bench_rng_gamma(bench_rng *r, double shape);   /* scale 1 */
double bench_rng_beta(bench_rng *r, double a, double b);

/* Bijective mix of a customer number into a 64-bit id. */
uint64_t bench_customer_id(uint64_t number, uint64_t seed);

typedef struct bench_gen {
    uint64_t orders;        /* rows to produce in all */
    uint64_t emitted;       /* rows produced so far */
    uint64_t customers;     /* customers started so far */
    uint64_t seed;
    uint32_t chunk_rows;
    uint32_t cap;           /* buffer capacity: chunk_rows + BENCH_GEN_MAX_PER_CUSTOMER */
    bench_rng rng;
    /* chunk buffers (the rows returned by bench_gen_next) */
    uint64_t *cust;
    int64_t *time;
    int64_t *amount;
    /* scratch for sorting a chunk by time */
    uint64_t *keys;
    uint64_t *keys2;
    uint64_t *cust2;
    int64_t *time2;
    int64_t *amount2;
} bench_gen;

/* Prepare a generator; allocates and touches its buffers (about
 * 72 bytes * chunk_rows) so later chunks allocate nothing.
 * Returns 0, or -1 when out of memory. chunk_rows 0 means BENCH_GEN_CHUNK. */
int bench_gen_init(bench_gen *g, uint64_t orders, uint64_t seed, uint32_t chunk_rows);

/* Produce the next chunk. Returns its number of rows (0 when all `orders`
 * rows have been produced) and points the outputs at the generator's
 * buffers, valid until the next call. */
uint32_t bench_gen_next(bench_gen *g, const uint64_t **cust, const int64_t **time,
                        const int64_t **amount);

/* Customers started so far (after the last chunk: the dataset's customer count). */
uint64_t bench_gen_customers(const bench_gen *g);

void bench_gen_free(bench_gen *g);

/* Format helpers shared by gen_csv and the benchmarks: write the decimal
 * text of v at p, return the number of bytes written. */
int bench_fmt_u64(char *p, uint64_t v);
int bench_fmt_i64(char *p, int64_t v);
/* Amount in cents as "12.34" ("-0.05" for -5). */
int bench_fmt_cents(char *p, int64_t cents);

/* Write a CSV file `customer_id,ts,amount` (epoch seconds, amounts in major
 * units with 2 decimals) of `orders` generated rows. Returns 0, or -1 with
 * errno set. If customers_out is not NULL it receives the customer count,
 * bytes_out the file size. */
int bench_gen_write_csv(const char *path, uint64_t orders, uint64_t seed,
                        uint64_t *customers_out, uint64_t *bytes_out);

/* Monotonic clock in seconds. */
double bench_now(void);
/* Current resident set size in bytes (from /proc/self/statm), 0 if unknown. */
uint64_t bench_rss_now(void);
/* Peak resident set size of this process in bytes (getrusage ru_maxrss). */
uint64_t bench_rss_peak(void);
/* 1-minute load average (from /proc/loadavg), -1 if unknown: other work on
 * the machine makes timings noisy, so the benchmarks print it. */
double bench_loadavg(void);
/* Parse "10M", "1.25M", "500k", "1000000", "2G"; returns 0 on error. */
uint64_t bench_parse_count(const char *s);

#endif
