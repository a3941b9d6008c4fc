'use strict';
// Tests of the idiomatic Node API. Expected values are worked out by hand from
// the documented definitions (include/shopcrm/rfm.h, kpi.h; docs/rfm.md) on
// the README's 8-order example, never copied from the library's output.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const shopcrm = require('..');
const { Dataset, SegmentMap, ShopcrmError, ffi } = shopcrm;

function gc() {
  if (typeof global.gc !== 'function') {
    require('node:v8').setFlagsFromString('--expose-gc');
    global.gc = require('node:vm').runInNewContext('gc');
  }
  global.gc();
}
// External-buffer finalizers run once the event loop turns.
const turn = () => new Promise((resolve) => setImmediate(resolve));

// README example: customer, ISO date (UTC midnight), cents.
const ORDERS = [
  [101, '2024-01-15', 2000], [101, '2024-02-20', 3000], [101, '2024-02-29', 4500],
  [102, '2024-01-20', 12000], [102, '2024-02-05', 800],
  [103, '2024-01-03', 1500],
  [104, '2024-02-25', 2500],
  [105, '2023-12-10', 600],
];
const dates = ORDERS.map((o) => new Date(o[1] + 'T00:00:00Z'));
const seconds = dates.map((d) => d.getTime() / 1000);

function sample(opts) {
  return Dataset.fromArrays(ORDERS.map((o) => o[0]), dates, ORDERS.map((o) => o[2]), opts);
}

// Hand-worked (rfm.h): last order day 2024-02-29, so as_of = 2024-03-01T00:00Z;
// recency = days between; n = 5, N = 5: quantile score = 1 + c, c = number of
// customers strictly worse.
const WANT = {
  101: { rec: 1, freq: 3, rev: 9500, r: 5, f: 5, m: 4, seg: 'Champions' },
  102: { rec: 25, freq: 2, rev: 12800, r: 3, f: 4, m: 5, seg: 'Loyal Customers' },
  103: { rec: 58, freq: 1, rev: 1500, r: 2, f: 1, m: 2, seg: 'About To Sleep' },
  104: { rec: 5, freq: 1, rev: 2500, r: 4, f: 1, m: 3, seg: 'Potential Loyalist' },
  105: { rec: 82, freq: 1, rev: 600, r: 1, f: 1, m: 1, seg: 'Lost' },
};

test('dataset counts, keys and time range', () => {
  const ds = sample();
  assert.equal(ds.customers, 5);
  assert.equal(ds.orders, 8);
  assert.equal(ds.duplicates, 0);
  assert.equal(ds.keyType, 'u64');
  assert.deepEqual(ds.timeRange.min, new Date('2023-12-10T00:00:00Z'));
  assert.deepEqual(ds.timeRange.max, new Date('2024-02-29T00:00:00Z'));
  const keys = [];
  for (let i = 0; i < ds.customers; i++) keys.push(ds.key(i));
  assert.deepEqual(keys.slice().sort(), [101, 102, 103, 104, 105]);
  for (let i = 0; i < ds.customers; i++) assert.equal(ds.index(ds.key(i)), i);
  assert.equal(ds.index(999), undefined);
  ds.close();
});

test('rfm values, scores and segments worked out by hand', () => {
  const ds = sample();
  const res = ds.rfm();
  assert.equal(res.customers, 5);
  assert.equal(res.bins, 5);
  assert.deepEqual(res.asOf, new Date('2024-03-01T00:00:00Z'));
  assert.ok(res.recencyDays instanceof Int32Array);
  assert.ok(res.frequency instanceof Uint32Array);
  assert.ok(res.monetary instanceof Float64Array);
  assert.ok(res.revenue instanceof BigInt64Array);
  assert.ok(res.r instanceof Uint8Array);
  assert.ok(res.segment instanceof Int32Array);
  for (const [key, w] of Object.entries(WANT)) {
    const i = ds.index(Number(key));
    assert.equal(res.recencyDays[i], w.rec, `recency of ${key}`);
    assert.equal(res.frequency[i], w.freq, `frequency of ${key}`);
    assert.equal(res.monetary[i], w.rev, `monetary of ${key}`);
    assert.equal(res.revenue[i], BigInt(w.rev), `revenue of ${key}`);
    assert.deepEqual([res.r[i], res.f[i], res.m[i]], [w.r, w.f, w.m], `scores of ${key}`);
    assert.equal(res.segmentName(i), w.seg, `segment of ${key}`);
  }
  // summary: one customer in each of 5 segments, 0 unassigned
  const summary = res.segments();
  assert.equal(summary.length, 12); // 11 segments of rfm11-v1 + unassigned
  const champions = summary.find((s) => s.name === 'Champions');
  assert.deepEqual([champions.customers, champions.revenue, champions.share], [1, 9500, 0.2]);
  assert.deepEqual([champions.meanR, champions.meanF, champions.meanM], [5, 5, 4]);
  assert.equal(summary.at(-1).name, null);
  assert.equal(summary.at(-1).customers, 0);
  assert.equal(summary.reduce((a, s) => a + s.customers, 0), 5);
  assert.deepEqual(res.audience(['Lost', 'Champions']).sort(), [101, 105]);
  assert.deepEqual(res.audience('At Risk'), []);
  res.close();
  ds.close();
});

test('rfm options: ntile, mean monetary, explicit as_of, fixed edges, custom map', () => {
  const ds = sample();
  // mean monetary: revenue / frequency
  const mean = ds.rfm({ monetary: 'mean', segments: null });
  assert.equal(mean.monetary[ds.index(101)], 9500 / 3);
  assert.equal(mean.segmentName(0), null); // empty map: all unassigned
  // as_of 10 days after the default: every recency + 10
  const later = ds.rfm({ asOf: new Date('2024-03-11T00:00:00Z') });
  assert.equal(later.recencyDays[ds.index(101)], 11);
  assert.equal(later.recencyDays[ds.index(105)], 92);
  // fixed edges, 3 bins: F >= 2 -> 2, >= 3 -> 3
  const map = new SegmentMap().add('frequent', { f: [3, 3] }).add('rest');
  const fixed = ds.rfm({ bins: 3, method: 'fixed', edges: { r: [10, 30], f: [2, 3], m: [1000, 10000] },
                         segments: map });
  assert.equal(fixed.f[ds.index(101)], 3);
  assert.equal(fixed.f[ds.index(102)], 2);
  assert.equal(fixed.f[ds.index(103)], 1);
  // R = N - #{edges <= recency}: 1 -> 3, 25 -> 2, 82 -> 1
  assert.equal(fixed.r[ds.index(101)], 3);
  assert.equal(fixed.r[ds.index(102)], 2);
  assert.equal(fixed.r[ds.index(105)], 1);
  assert.equal(fixed.m[ds.index(102)], 3); // 12800 >= 10000
  assert.equal(fixed.segmentName(ds.index(101)), 'frequent');
  assert.equal(fixed.segmentName(ds.index(102)), 'rest');
  assert.deepEqual(map.rule(0), { name: 'frequent', r: [1, 10], f: [3, 3], m: [1, 10] });
  assert.equal(map.find('nope'), -1);
  // too few fixed edges are refused before the library reads past them
  assert.throws(() => ds.rfm({ bins: 5, method: 'fixed', edges: { r: [1], f: [1], m: [1] },
                               segments: null }), RangeError);
  // ntile with 5 customers and 5 bins: one per bucket, ties by key: F of
  // 103, 104, 105 (all 1) get 1, 2, 3 in key order.
  const nt = ds.rfm({ method: 'ntile' });
  assert.deepEqual([103, 104, 105, 102, 101].map((k) => nt.f[ds.index(k)]), [1, 2, 3, 4, 5]);
  map.close();
  ds.close();
});

test('Date and number times give the same dataset', () => {
  const a = sample();
  const b = Dataset.fromArrays(ORDERS.map((o) => o[0]), seconds, ORDERS.map((o) => o[2]));
  const c = Dataset.fromArrays(ORDERS.map((o) => BigInt(o[0])),
                               BigInt64Array.from(seconds, BigInt),
                               BigInt64Array.from(ORDERS, (o) => BigInt(o[2])));
  const ra = a.rfm(), rb = b.rfm(), rc = c.rfm();
  for (let i = 0; i < 5; i++) {
    assert.equal(a.key(i), b.key(i));
    assert.equal(ra.recencyDays[i], rb.recencyDays[i]);
    assert.equal(ra.recencyDays[i], rc.recencyDays[i]);
    assert.equal(ra.revenue[i], rc.revenue[i]);
  }
  assert.throws(() => Dataset.fromArrays([1], [1.5], [1]), TypeError);
});

test('kpi over the whole dataset and over a window', () => {
  const ds = sample();
  const all = ds.kpi();
  assert.equal(all.orders, 8);
  assert.equal(all.refunds, 0);
  assert.equal(all.customers, 5);
  assert.equal(all.newCustomers, 5);
  assert.equal(all.repeatCustomers, 2); // 101 and 102
  assert.equal(all.revenue, 26900);
  assert.equal(all.averageOrderValue, 26900 / 8);
  assert.equal(all.purchaseFrequency, 8 / 5);
  assert.equal(all.repeatRate, 2 / 5);
  // February 2024: 101 (2 orders), 102 (1), 104 (1, first order: new)
  const feb = ds.kpi({ start: new Date('2024-02-01T00:00:00Z'), end: Date.UTC(2024, 2, 1) / 1000 });
  assert.equal(feb.orders, 4);
  assert.equal(feb.customers, 3);
  assert.equal(feb.newCustomers, 1);
  assert.equal(feb.returningCustomers, 2);
  assert.equal(feb.repeatCustomers, 1);
  assert.equal(feb.revenue, 10800);
  assert.equal(feb.newRevenue, 2500);
  assert.equal(feb.returningRevenue, 8300);
  assert.equal(feb.averageOrderValue, 2700);
  // retention in February with a 31-day lookback: at the start (an order in
  // January) 101, 102, 103; at the end (since 2024-01-29) 101, 102, 104, of
  // which 104 is new: (3 - 1) / 3. Intervals: 101 02-20 -> 02-29, 9 days.
  const ret = ds.kpi({ start: Date.UTC(2024, 1, 1) / 1000, end: Date.UTC(2024, 2, 1) / 1000,
    lookback: 31 * 86400 });
  assert.equal(ret.customersAtStart, 3);
  assert.equal(ret.customersAtEnd, 3);
  assert.equal(ret.retainedCustomers, 2);
  assert.equal(ret.retentionRate, 2 / 3);
  assert.equal(ret.churnRate, 1 - 2 / 3);
  assert.equal(ret.purchaseIntervals, 1);
  assert.equal(ret.medianDaysBetweenPurchases, 9);
  assert.equal(ret.meanDaysBetweenPurchases, 9);
  assert.throws(() => ds.kpi({ lookback: -1 }), (e) => e.code === ffi.SCRM_EINVAL);
  // default lookback, the window's length (29 days): S = an order in
  // [01-03, 02-01) = 101, 102, 103; E = February's 101, 102, 104 (new): the
  // same counts; the S window starts after the data's first day (12-10).
  const def = ds.kpi({ start: Date.UTC(2024, 1, 1) / 1000, end: Date.UTC(2024, 2, 1) / 1000 });
  assert.equal(def.retainedFromStart, 2);
  assert.equal(def.retainedFromStartShare, 2 / 3);
  assert.equal(def.reactivatedCustomers, 0);
  assert.equal(def.flags, 0);
  assert.equal(def.lookbackIncomplete, false);
  // 60 days back from 2024-02-01 is before 2023-12-10
  const early = ds.kpi({ start: Date.UTC(2024, 1, 1) / 1000, end: Date.UTC(2024, 3, 1) / 1000 });
  assert.equal(early.lookbackIncomplete, true);
  assert.equal(early.partial, true); // and April is after the data
  assert.equal(early.flags, ffi.SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE | ffi.SCRM_KPI_FLAG_PARTIAL);
  // an empty window: counts 0, ratios NaN
  const none = ds.kpi({ start: 0, end: 1 });
  assert.equal(none.orders, 0);
  assert.ok(Number.isNaN(none.averageOrderValue));
});

// Monthly rows: 2023-12, 2024-01, 2024-02 (the data spans 2023-12-10 ..
// 2024-02-29). Customers at a row's start: those of the month before.
// Dec: 105 (new); S = {} (retention NaN); November and early December are
//      before the data: lookback incomplete and partial.
// Jan: 101, 102, 103, all new; S = {105}, E none retained: retention 0.
// Feb: 101 x2, 102, 104 (new): 4 orders, 10800; S = {101, 102, 103}, E =
//      {101, 102, 104}: retained 2, retention 2/3, none reactivated.
test('kpiPeriods: one row per month', () => {
  const ds = sample();
  const r = ds.kpiPeriods('month');
  assert.deepEqual(r.labels, ['2023-12', '2024-01', '2024-02']);
  assert.equal(r.starts[1], Date.UTC(2024, 0, 1) / 1000);
  assert.deepEqual(Array.from(r.columns.orders), [1, 3, 4]);
  assert.deepEqual(Array.from(r.exact.revenue), [600n, 15500n, 10800n]);
  assert.deepEqual(Array.from(r.exact.newCustomers), [1n, 3n, 1n]);
  assert.ok(Number.isNaN(r.columns.retentionRate[0]));
  assert.equal(r.columns.retentionRate[1], 0);
  assert.equal(r.columns.retentionRate[2], 2 / 3);
  assert.deepEqual(Array.from(r.exact.retainedFromStart), [0n, 0n, 2n]);
  assert.deepEqual(Array.from(r.flags), [3, 1, 0]);
  assert.deepEqual(r.lookbackIncomplete, [true, true, false]);
  assert.deepEqual(r.partial, [true, false, false]);
  assert.equal(r.exact.retentionRate, undefined); // not an integer metric
  assert.throws(() => ds.kpiPeriods('fortnight'), RangeError);
  assert.throws(() => ds.kpiPeriods('month', { start: Date.UTC(2024, 0, 2) / 1000 }),
                (e) => e.code === ffi.SCRM_EINVAL);
  const none = ds.kpiPeriods('day', { start: 0, end: 0 });
  assert.deepEqual(none.labels, []);
  assert.equal(none.columns.orders.length, 0);
});

test('nps, csat and version', () => {
  assert.equal(shopcrm.nps([10, 9, 0, 7]), 25); // 50 % promoters - 25 % detractors
  assert.equal(shopcrm.csat([5, 4, 3, 1]), 50);
  assert.equal(shopcrm.version(), `${ffi.SCRM_VERSION_MAJOR}.${ffi.SCRM_VERSION_MINOR}.${ffi.SCRM_VERSION_PATCH}`);
  assert.throws(() => shopcrm.nps([10, 11]), (e) => e instanceof ShopcrmError &&
                e.code === ffi.SCRM_ERANGE && e.codeName === 'SCRM_ERANGE' && e.index === 1);
  assert.throws(() => shopcrm.csat([]), (e) => e.code === ffi.SCRM_EINVAL);
});

test('errors carry code, name, message and the index of the bad row', () => {
  const ds = sample();
  const t = [...seconds.slice(0, 2), -1e14]; // year outside 1..9999 in row 2
  assert.throws(() => ds.append([1, 2, 3], t, [1, 2, 3]), (e) => {
    assert.ok(e instanceof ShopcrmError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'ShopcrmError');
    assert.equal(e.code, -9);
    assert.equal(e.codeName, 'SCRM_ERANGE');
    assert.equal(e.index, 2);
    assert.match(e.message, /row 2/);
    assert.match(e.stack, /ShopcrmError/);
    return true;
  });
  assert.equal(ds.orders, 8); // atomic: nothing added
  assert.throws(() => ds.rfm({ asOf: new Date('+010000-01-01T00:00:00Z') }),
                (e) => e.code === ffi.SCRM_ERANGE);
  assert.throws(() => ds.rfm({ bogus: 1 }), TypeError);
  assert.throws(() => ds.rfm({ method: 'magic' }), RangeError);
  assert.throws(() => ds.rfm().audience(['No Such Segment']), (e) => e.code === ffi.SCRM_ENOTFOUND);
  assert.throws(() => ds.append(['s'], [0], [1]), (e) => e.code === ffi.SCRM_EINVAL); // u64 dataset
  assert.throws(() => Dataset.fromCsv('/nonexistent/orders.csv'), (e) => e.code === ffi.SCRM_EIO);
});

test('string keys, order keys and duplicates', () => {
  const ds = Dataset.fromArrays(['anna', 'bob', 'anna', 'ünï'], [10, 20, 30, 40], [100, 200, 300, 400],
                                { orderKeys: ['o1', 'o2', 'o1', 7] });
  assert.equal(ds.keyType, 'string');
  assert.equal(ds.orders, 3);
  assert.equal(ds.duplicates, 0);
  assert.equal(ds.merged, 1); // o1's second line
  assert.equal(ds.customers, 3);
  assert.equal(ds.key(ds.index('ünï')), 'ünï');
  assert.equal(ds.index('nobody'), undefined);
  assert.equal(ds.append(['bob'], [50], [1], { orderKeys: ['o2'] }), 0); // seen before
  assert.equal(ds.duplicates, 1);
  assert.throws(() => ds.append(['bob', 'anna'], [1, 2], [1, 2], { orderKeys: ['o9', 'o9'] }),
                (e) => e.code === ffi.SCRM_EINVAL && e.index === 1);
  const res = ds.rfm({ segments: null });
  assert.equal(res.revenue[ds.index('anna')], 400n); // o1: 100 + 300
  assert.throws(() => ds.append(['', 'x'], [1, 2], [1, 2]), (e) => e.code === ffi.SCRM_EINVAL && e.index === 0);
});

test('BigInt keys above 2^53', () => {
  const big = 2n ** 63n + 5n, max = 2n ** 64n - 1n;
  const ds = Dataset.fromArrays([big, 1, max], [100, 200, 300], [1, 2, 3]);
  assert.equal(typeof ds.key(ds.index(big)), 'bigint');
  assert.equal(ds.key(ds.index(big)), big);
  assert.equal(ds.key(ds.index(max)), max);
  assert.equal(ds.key(ds.index(1n)), 1); // safe: a number
  const res = ds.rfm({ segments: null });
  assert.deepEqual(res.audience([null]).map(String).sort(), [big, max, 1].map(String).sort());
  assert.throws(() => ds.append([2 ** 60], [1], [1]), RangeError); // not exact as a number
  assert.throws(() => ds.append([2n ** 64n], [1], [1]), RangeError);
  assert.throws(() => ds.append([-1], [1], [1]), RangeError);
});

test('fromCsv: US dates, space delimiter and gzip are detected', () => {
  // 17850: 15.30 on 2010-12-01 and 2.50 on 2010-12-13 (month first)
  const text = '  customer  when   amount\r\n' +
               ' 17850  12/1/2010  $15.30\r\n' +
               ' 17850  12/13/2010  2.50\r\n';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopcrm-node-'));
  const file = path.join(dir, 'orders.txt.gz');
  fs.writeFileSync(file, require('node:zlib').gzipSync(text));
  const ds = Dataset.fromCsv(file, { customer: 'customer', time: 'when' });
  assert.equal(ds.report.timeFormat, 'mdy');
  assert.equal(ds.report.delimiter, ' ');
  assert.equal(ds.orders, 2);
  // the space delimiter can also be given (it was refused by the wrapper)
  const given = Dataset.fromCsv(file, { customer: 'customer', time: 'when', delimiter: ' ' });
  assert.equal(given.orders, 2);
  const res = ds.rfm({ segments: null });
  assert.equal(res.revenue[ds.index(17850)], 1780n);
  // every date fits both orders: refused, unless the format is given
  const amb = path.join(dir, 'dm.csv');
  fs.writeFileSync(amb, 'customer_id,date,amount\n1,5/6/2011,1\n');
  assert.throws(() => Dataset.fromCsv(amb), (e) => e.code === ffi.SCRM_EPARSE &&
                /reads as DD\/MM\/YYYY and as MM\/DD\/YYYY/.test(e.message));
  assert.equal(Dataset.fromCsv(amb, { timeFormat: 'mdy' }).report.timeFormat, 'mdy');
  fs.rmSync(dir, { recursive: true });
});

test('fromCsv on a tiny fixture: options and report', () => {
  const file = path.join(__dirname, 'fixtures', 'tiny.csv');
  const opts = { customer: 'client', time: 'when', amount: 'total', orderId: 'order', decimal: ',',
                 naCustomer: 'NA' };
  const ds = Dataset.fromCsv(file, { ...opts, onError: 'skip' });
  const rep = ds.report;
  assert.equal(rep.rowsRead, 6);
  assert.equal(rep.rowsAdded, 3);
  assert.equal(rep.duplicates, 0);
  assert.equal(rep.linesMerged, 1); // A2's second line
  assert.equal(rep.ordersMerged, 1);
  assert.equal(rep.excluded, 0);
  assert.equal(rep.emptyCustomer, 1);
  assert.equal(rep.rejected, 1);
  assert.equal(rep.delimiter, ';');
  assert.equal(rep.timeFormat, 'iso8601');
  assert.equal(rep.keyType, 'string');
  assert.equal(rep.rejects.length, 1);
  assert.equal(rep.rejects[0].line, 6);
  assert.equal(rep.rejects[0].column, 'total');
  assert.equal(ds.customers, 2);
  const res = ds.rfm({ segments: null });
  assert.equal(res.revenue[ds.index('c1')], 8000n); // 20 + A2 = 30 + 30
  assert.equal(ds.merged, 1);
  assert.equal(ds.duplicates, 0);
  assert.equal(res.revenue[ds.index('c2')], 123450n); // 1.234,50
  // strict: the bad row fails the load, its line is the index
  assert.throws(() => Dataset.fromCsv(file, opts), (e) => e.code === ffi.SCRM_EPARSE &&
                e.index === 6 && /total/.test(e.message));
  assert.throws(() => Dataset.fromCsv(file, { ...opts, colour: 'x' }), TypeError);
  // writeCsv: header and one line per customer
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopcrm-node-'));
  const out = path.join(dir, 'rfm.csv');
  res.writeCsv(out);
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'customer,recency_days,frequency,monetary,r,f,m,segment');
  assert.equal(lines.length, 3);
  fs.rmSync(dir, { recursive: true });
});

test('fromCsv: no-customer values, the default set, the exclude filter', () => {
  const file = path.join(__dirname, 'fixtures', 'tiny.csv');
  const base = { customer: 'client', time: 'when', amount: 'total', orderId: 'order', decimal: ',',
                 onError: 'skip' };
  // NA is in the default set
  assert.equal(Dataset.fromCsv(file, base).report.emptyCustomer, 1);
  let rep = Dataset.fromCsv(file, { ...base, naDefaults: false }).report;
  assert.equal(rep.emptyCustomer, 0);
  rep = Dataset.fromCsv(file, { ...base, naDefaults: false, naCustomer: ['NA', 'c2'] }).report;
  assert.equal(rep.emptyCustomer, 3);
  const ds = Dataset.fromCsv(file, { ...base, exclude: { order: ['A1', 'A5'], client: 'zz' } });
  assert.equal(ds.report.excluded, 2);
  assert.equal(ds.orders, 1); // A2 (A3: NA, A4: bad)
  assert.throws(() => Dataset.fromCsv(file, { ...base, exclude: ['order'] }), TypeError);
  assert.throws(() => Dataset.fromCsv(file, { ...base, exclude: { order: [1] } }), TypeError);
});

test('progress callbacks: called, cancel by return value or by throwing', () => {
  const file = path.join(__dirname, 'fixtures', 'tiny.csv');
  const opts = { customer: 'client', time: 'when', amount: 'total', decimal: ',', naCustomer: 'NA',
                 onError: 'skip' };
  const ds = new Dataset();
  let calls = 0;
  ds.loadCsv(file, { ...opts, progress: () => { calls++; } });
  assert.ok(calls > 0);
  const before = ds.orders;
  assert.throws(() => ds.loadCsv(file, { ...opts, progress: () => false }),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ECANCELLED);
  assert.equal(ds.orders, before); // nothing added
  const boom = new Error('stop here');
  assert.throws(() => ds.rfm({ progress: () => { throw boom; } }), (e) => e === boom);
  assert.throws(() => ds.kpi({ progress: () => 1 }), TypeError); // not a boolean
  let seen = null;
  ds.rfm({ progress: (done, total) => { seen = [done, total]; return true; } });
  assert.equal(seen[0], seen[1]);
});

test('append progress: (0, n) first, (n, n) last; cancelling adds nothing', () => {
  const n = 20000;
  const keys = Array.from({ length: n }, (_, i) => i % 5000 + 1);
  const names = keys.map((k) => `c${k}`);
  const times = Array.from({ length: n }, (_, i) => 1700000000 + i);
  const amounts = Array.from({ length: n }, () => 250);
  for (const customers of [keys, names]) {
    const ds = new Dataset({ threads: 2 });
    const seen = [];
    assert.equal(ds.append(customers, times, amounts,
                           { progress: (done, total) => { seen.push([done, total]); } }), n);
    assert.ok(seen.length >= 3);
    assert.deepEqual(seen[0], [0, n]);
    assert.deepEqual(seen[seen.length - 1], [n, n]);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0]);
    assert.throws(() => ds.append(customers, times, amounts, { progress: (d) => d !== n }),
                  (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ECANCELLED);
    const boom = new Error('stop appending');
    assert.throws(() => ds.append(customers, times, amounts, { progress: () => { throw boom; } }),
                  (e) => e === boom);
    assert.equal(ds.orders, n); // the cancelled appends added nothing
    assert.equal(ds.customers, 5000);
    ds.close();
  }
  const ds = Dataset.fromArrays(keys, times, amounts, { progress: () => true });
  assert.equal(ds.orders, n);
  ds.close();
});

test('columns are copies and outlive their result', async () => {
  const ds = sample();
  let res = ds.rfm();
  const rec = res.recencyDays;
  const rev = res.revenue;
  const i101 = ds.index(101);
  assert.equal(res.recencyDays, rec); // cached: the same copy each time
  // a copy: a write does not reach the library's column
  const again = ffi.scrm_rfm_recency_days(res[Object.getOwnPropertySymbols(res)[0]]);
  const was = again[i101];
  rec[i101] = 1234;
  assert.equal(ffi.scrm_rfm_recency_days(res[Object.getOwnPropertySymbols(res)[0]])[i101], was);
  rec[i101] = 1;
  res = null;
  for (let k = 0; k < 3; k++) {
    gc();
    await turn();
  }
  assert.equal(rec[i101], 1);
  assert.equal(rec[ds.index(105)], 82);
  assert.equal(rev[ds.index(102)], 12800n);
  // explicit close: columns taken stay valid, the result does not
  const res2 = ds.rfm();
  const seg = res2.segment;
  res2.close();
  assert.equal(res2.segmentNames[seg[i101]], 'Champions');
  assert.throws(() => res2.segments(), (e) => e.code === ffi.SCRM_ESTATE);
});

test('close() then use throws ShopcrmError SCRM_ESTATE', () => {
  const ds = sample();
  const res = ds.rfm();
  ds.close();
  ds.close(); // twice is harmless
  assert.throws(() => ds.customers, (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ESTATE &&
                e.codeName === 'SCRM_ESTATE' && /closed/.test(e.message));
  assert.throws(() => ds.rfm(), (e) => e.code === ffi.SCRM_ESTATE);
  // the result keeps what it needs of its dataset alive (keys included)
  assert.equal(res.segmentName(0) !== undefined, true);
  assert.deepEqual(res.audience('Champions'), [101]);
  res.close();
  assert.throws(() => res.audience('Champions'), (e) => e.code === ffi.SCRM_ESTATE);
  const map = SegmentMap.preset('rf10-v1');
  assert.equal(map.size, 10);
  map.close();
  assert.throws(() => map.names(), (e) => e.code === ffi.SCRM_ESTATE);
});

// Issue 11: who is scored, a past asOf, degenerate flags, count-only data.
test('rfm: refund-only customers not scored; past asOf is a snapshot', () => {
  // 106: one refund of -12.50 and no order (as Online Retail's 15864)
  const rows = ORDERS.concat([[106, '2024-02-10', -1250]]);
  const ds = Dataset.fromArrays(rows.map((o) => o[0]), rows.map((o) => new Date(o[1] + 'T00:00:00Z')),
                                rows.map((o) => o[2]));
  const r = ds.rfm();
  assert.equal(r.customers, 6);
  assert.equal(r.scored, 5);
  assert.deepEqual(r.refundOnly, { customers: 1, revenue: -1250 });
  assert.equal(r.rowsAfterAsOf, 0);
  assert.equal(r.hasMonetary, true);
  const i = ds.index(106);
  assert.equal(r.segment[i], -2);
  assert.equal(r.segmentName(i), null);
  assert.equal(r.r[i], 0);
  // the five others score as without 106 (WANT)
  for (const [k, w] of Object.entries(WANT)) assert.equal(r.segmentName(ds.index(Number(k))), w.seg);
  // F: 1, 1, 1 of 5 customers share one value
  assert.equal(r.degenerate.f.flags & 1, 1);
  assert.equal(r.degenerate.f.majorityShare, 3 / 5);
  assert.equal(r.degenerate.m.flags & 1, 0);
  r.close();
  // as of 2024-02-21: 101's 02-29, 104's 02-25 orders left out (and 106 is refund-only)
  const p = ds.rfm({ asOf: new Date('2024-02-21T00:00:00Z') });
  assert.equal(p.rowsAfterAsOf, 2);
  assert.equal(p.scored, 4);
  assert.equal(p.recencyDays[ds.index(101)], 1);
  assert.equal(p.frequency[ds.index(101)], 2);
  assert.equal(p.segment[ds.index(104)], -2);
  p.close();
  ds.close();
});

test('rfm: a file without amounts is count-only (no M)', () => {
  const file = path.join(os.tmpdir(), `shopcrm-node-elog-${process.pid}.csv`);
  fs.writeFileSync(file, 'cust,date\n1,2024-01-01\n1,2024-01-05\n2,2024-01-03\n3,2024-01-04\n');
  try {
    const ds = Dataset.fromCsv(file, { customer: 'cust', amount: 'none' });
    assert.equal(ds.hasAmounts, false);
    const r = ds.rfm();
    assert.equal(r.hasMonetary, false);
    assert.ok(Number.isNaN(r.monetary[0]));
    assert.equal(r.m[0], 0);
    assert.equal(r.segmentNames[0], 'Hibernating'); // rf10-v1, the R x F grid
    // KPIs: counts as usual, money absent (null / NaN), never 0
    const k = ds.kpi();
    assert.equal(k.noAmounts, true);
    assert.equal(k.orders, 4);
    assert.equal(k.revenue, null);
    assert.ok(Number.isNaN(k.averageOrderValue));
    const kp = ds.kpiPeriods('month');
    assert.equal(kp.noAmounts, true);
    assert.equal(kp.columns.orders[0], 4);
    assert.ok(Number.isNaN(kp.columns.revenue[0]));
    r.close();
    ds.close();
    assert.equal(sample().hasAmounts, true);
  } finally {
    fs.unlinkSync(file);
  }
});
