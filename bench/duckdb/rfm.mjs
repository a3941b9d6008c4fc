// DuckDB peer of `shopcrm rfm FILE.csv --method ntile --out OUT.csv`, for
// bench/run_duckdb_compare.sh. Needs `npm install` in this directory.
//
//   node rfm.mjs FILE.csv OUT.csv [one|two]
//
// Input: CSV with header customer_id,ts,amount (epoch seconds, amounts with
// 2 decimals), as written by bench/gen_csv. Output: the columns of
// `shopcrm rfm`: customer,recency_days,frequency,monetary,r,f,m,segment.
// Definitions (include/shopcrm/rfm.h):
//   as_of        = start of the UTC day after the day of the last order
//   recency_days = day(as_of) - day(last order)   (date_diff counts day boundaries)
//   frequency    = orders with amount >= 0; monetary = sum of all amounts
//   scores       = NTILE(5), tie-break by customer key: R ORDER BY recency_days
//                  DESC, customer_id; F and M ORDER BY value, customer_id
//   segment      = the "rfm11-v2" preset of libshopcrm (the default): rfm11-v1,
//                  first match wins, then Potential Loyalist for R >= 3 and
//                  Hibernating for the rest
// Mode "two" (default): CREATE TABLE from read_csv, then COPY the RFM query
// (load and RFM timed separately). Mode "one": one COPY over read_csv.
// Prints one JSON line with the phase times in seconds.
import { DuckDBInstance } from '@duckdb/node-api';

const [csv, out, mode = 'two'] = process.argv.slice(2);
if (!csv || !out || !['one', 'two'].includes(mode)) {
  console.error('usage: node rfm.mjs FILE.csv OUT.csv [one|two]');
  process.exit(2);
}
const q = (s) => "'" + s.replaceAll("'", "''") + "'";

const readCsv = `read_csv(${q(csv)}, header = true, delim = ',',
  columns = {'customer_id': 'UBIGINT', 'ts': 'BIGINT', 'amount': 'DECIMAL(18,2)'})`;

const rfmQuery = (src) => `
WITH o AS (
  SELECT customer_id, make_timestamp(ts * 1000000) AS t, amount FROM ${src}
),
c AS (
  SELECT customer_id,
         coalesce(max(t) FILTER (WHERE amount >= 0), max(t)) AS last_t,
         count(*) FILTER (WHERE amount >= 0) AS frequency,
         sum(amount) AS monetary
  FROM o GROUP BY customer_id
),
a AS (SELECT date_trunc('day', max(last_t)) + INTERVAL 1 DAY AS as_of FROM c),
v AS (
  SELECT customer_id, date_diff('day', last_t, as_of) AS recency_days, frequency, monetary
  FROM c, a
),
s AS (
  SELECT *,
    NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS r,
    NTILE(5) OVER (ORDER BY frequency, customer_id) AS f,
    NTILE(5) OVER (ORDER BY monetary, customer_id) AS m
  FROM v
)
SELECT customer_id AS customer, recency_days, frequency, monetary, r, f, m,
  CASE
    WHEN r BETWEEN 4 AND 5 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Champions'
    WHEN r BETWEEN 2 AND 5 AND f BETWEEN 3 AND 5 AND m BETWEEN 3 AND 5 THEN 'Loyal Customers'
    WHEN r BETWEEN 4 AND 5 AND f = 1 AND m = 1 THEN 'New Customers'
    WHEN r BETWEEN 3 AND 4 AND f = 1 AND m = 1 THEN 'Promising'
    WHEN r BETWEEN 3 AND 5 AND f BETWEEN 1 AND 3 AND m BETWEEN 1 AND 3 THEN 'Potential Loyalist'
    WHEN r BETWEEN 2 AND 3 AND f BETWEEN 2 AND 3 AND m BETWEEN 2 AND 3 THEN 'Need Attention'
    WHEN r BETWEEN 2 AND 3 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'About To Sleep'
    WHEN r = 1 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Can''t Lose Them'
    WHEN r BETWEEN 1 AND 2 AND f BETWEEN 2 AND 5 AND m BETWEEN 2 AND 5 THEN 'At Risk'
    WHEN r = 1 AND f = 1 AND m = 1 THEN 'Lost'
    WHEN r BETWEEN 1 AND 2 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'Hibernating'
    -- rfm11-v2: the cells rfm11-v1 leaves out (docs/rfm.md)
    WHEN r >= 3 THEN 'Potential Loyalist'
    ELSE 'Hibernating'
  END AS segment
FROM s`;

const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run("SET TimeZone = 'UTC'");
const t1 = performance.now();
let tLoad = t1;
if (mode === 'two') {
  await conn.run(`CREATE TABLE orders AS SELECT * FROM ${readCsv}`);
  tLoad = performance.now();
  await conn.run(`COPY (${rfmQuery('orders')}) TO ${q(out)} (HEADER, DELIMITER ',')`);
} else {
  await conn.run(`COPY (${rfmQuery(readCsv)}) TO ${q(out)} (HEADER, DELIMITER ',')`);
}
const t2 = performance.now();
const version = (await (await conn.runAndReadAll('SELECT version()')).getRows())[0][0];
conn.closeSync();
instance.closeSync();
console.log(JSON.stringify({
  duckdb: version,
  mode,
  setup_s: (t1 - t0) / 1000,
  load_s: mode === 'two' ? (tLoad - t1) / 1000 : null,
  rfm_copy_s: mode === 'two' ? (t2 - tLoad) / 1000 : null,
  total_s: (t2 - t1) / 1000,
}));
