'use strict';
// Calendar periods and cohort matrices through the Node API. Expected values
// are worked out by hand from the definitions of include/shopcrm/cohorts.h.
//
// The dataset (times at 12:00 UTC unless said; cents):
//   c1: 2024-01-05 1000, 2024-02-10 2000, 2024-03-15 500
//   c2: 2024-01-31 23:30 3000, 2024-03-01 1000
//   c3: 2024-02-03 4000, 2024-02-28 1000, 2024-03-31 2000, 2024-03-31 -500 (refund)
//   c4: 2024-02-14 1500
// Monthly, classic, refunds ignored, UTC: the last row is in 2024-03, so the
// observation end is 2024-03; cohorts 2024-01 {c1, c2}, 2024-02 {c3, c4}:
// C = 2, K = 3.
//   2024-01 k0: c1 c2, 2 orders, 4000 | k1: c1, 1, 2000 | k2: c1 c2, 2, 1500
//   2024-02 k0: c3 c4, 3 orders, 6500 | k1: c3, 1, 2000 | k2: not observable
// retention [1, .5, 1], [1, .5, NaN]; ltv (cumulative / 2) [2000, 3000, 3750],
// [3250, 4250, NaN]; cumOrders [1, 1.5, 2.5], [1.5, 2, NaN].
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const shopcrm = require('..');
const { Dataset, CohortResult, ShopcrmError, ffi } = shopcrm;

function gc() {
  if (typeof global.gc !== 'function') {
    require('node:v8').setFlagsFromString('--expose-gc');
    global.gc = require('node:vm').runInNewContext('gc');
  }
  global.gc();
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

const T = (iso) => Date.parse(iso) / 1000;
const ROWS = [
  [1, '2024-01-05T12:00Z', 1000], [1, '2024-02-10T12:00Z', 2000], [1, '2024-03-15T12:00Z', 500],
  [2, '2024-01-31T23:30Z', 3000], [2, '2024-03-01T12:00Z', 1000],
  [3, '2024-02-03T12:00Z', 4000], [3, '2024-02-28T12:00Z', 1000], [3, '2024-03-31T12:00Z', 2000],
  [3, '2024-03-31T12:00Z', -500],
  [4, '2024-02-14T12:00Z', 1500],
];

function dataset(rows = ROWS) {
  return Dataset.fromArrays(rows.map((r) => r[0]), rows.map((r) => T(r[1])), rows.map((r) => r[2]));
}

const nums = (a) => Array.from(a, Number);
function close(got, want) {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => {
    if (Number.isNaN(w)) assert.ok(Number.isNaN(got[i]), `cell ${i}: ${got[i]} is not NaN`);
    else assert.ok(Math.abs(got[i] - w) < 1e-12, `cell ${i}: ${got[i]} != ${w}`);
  });
}

test('period index, start and label', () => {
  // (2024 - 1970) * 12 = 648; 2024-01-01T00:00Z = 1704067200.
  assert.equal(shopcrm.periodIndex(new Date('2024-01-05T00:00Z')), 648);
  assert.equal(shopcrm.periodIndex(T('2024-01-05T00:00Z'), 'month'), 648);
  assert.equal(shopcrm.periodStart(648), 1704067200);
  assert.equal(shopcrm.periodLabel(648), '2024-01');
  assert.equal(shopcrm.periodLabel(-1), '1969-12');
  assert.equal(shopcrm.periodLabel(19723, 'day'), '2024-01-01');
  assert.equal(shopcrm.periodLabel(54 * 4, 'quarter'), '2024-Q1');
  assert.equal(shopcrm.periodLabel(54, 'year'), '2024');
  // ISO weeks: week 0 = 1970-W01, Monday 1969-12-29; 2020-12-31 and 2021-01-03 in 2020-W53.
  assert.equal(shopcrm.periodStart(0, 'week'), -3 * 86400);
  assert.equal(shopcrm.periodLabel(0, 'week'), '1970-W01');
  const w53 = shopcrm.periodIndex(T('2020-12-31T12:00Z'), 'week');
  assert.equal(shopcrm.periodIndex(T('2021-01-03T12:00Z'), 'week'), w53);
  assert.equal(shopcrm.periodLabel(w53, 'week'), '2020-W53');
  assert.equal(shopcrm.periodLabel(w53 + 1, 'week'), '2021-W01');
  // 2024-01-31 23:30Z is February at UTC+1; February starts at 2024-01-31 23:00Z there.
  assert.equal(shopcrm.periodIndex(T('2024-01-31T23:30Z'), 'month', 3600), 649);
  assert.equal(shopcrm.periodStart(649, 'month', 3600), T('2024-01-31T23:00Z'));
});

test('calendar errors', () => {
  assert.throws(() => shopcrm.periodIndex(0, 'fortnight'), RangeError);
  assert.throws(() => shopcrm.periodIndex(0, 'day', 18 * 3600 + 1),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_EINVAL);
  assert.throws(() => shopcrm.periodLabel(1e9, 'year'),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ERANGE);
});

test('monthly cohorts, classic', () => {
  const ds = dataset();
  const co = ds.cohorts();
  assert.ok(co instanceof CohortResult);
  assert.equal(co.rows, 2);
  assert.equal(co.cols, 3);
  assert.deepEqual(co.labels, ['2024-01', '2024-02']);
  assert.equal(co.unit, 'month');
  assert.equal(co.firstPeriod, 648);
  assert.equal(co.observationEnd, 650);
  assert.ok(co.sizes instanceof BigUint64Array);
  assert.deepEqual(nums(co.sizes), [2, 2]);
  assert.ok(co.active instanceof BigUint64Array);
  assert.deepEqual(nums(co.active), [2, 1, 2, 2, 1, 0]);
  assert.deepEqual(nums(co.orders), [2, 1, 2, 3, 1, 0]);
  assert.ok(co.revenue instanceof BigInt64Array);
  assert.deepEqual(nums(co.revenue), [4000, 2000, 1500, 6500, 2000, 0]);
  assert.ok(co.retention instanceof Float64Array);
  close(co.retention, [1, 0.5, 1, 1, 0.5, NaN]);
  close(co.ltv, [2000, 3000, 3750, 3250, 4250, NaN]);
  close(co.cumOrders, [1, 1.5, 2.5, 1.5, 2, NaN]);
  close(co.row('retention', 1), [1, 0.5, NaN]);
  assert.ok(co.observable(1, 1));
  assert.ok(!co.observable(1, 2));
  assert.throws(() => co.row('sizes', 0), RangeError);
  assert.throws(() => co.row('retention', 2), RangeError);
  co.close();
  ds.close();
});

test('rolling retention, refunds, minimum amount, UTC offset, window', () => {
  const ds = dataset();
  // Rolling: 2024-01 k1 holds c1 (Feb) and c2 (Mar).
  let co = ds.cohorts({ mode: 'rolling' });
  assert.deepEqual(nums(co.active), [2, 2, 2, 2, 1, 0]);
  co.close();
  // Refunds: c3's -500 of 2024-03-31 lands in 2024-02 k1.
  co = ds.cohorts({ refunds: true });
  assert.deepEqual(nums(co.revenue), [4000, 2000, 1500, 6500, 1500, 0]);
  close(co.ltv, [2000, 3000, 3750, 3250, 4000, NaN]);
  co.close();
  // minAmount 1500: cohorts 2024-01 {c2}, 2024-02 {c1 (2000), c3, c4}.
  co = ds.cohorts({ minAmount: 1500 });
  assert.deepEqual(nums(co.sizes), [1, 3]);
  assert.deepEqual(nums(co.revenue), [3000, 0, 0, 7500, 2000, 0]);
  co.close();
  // UTC+1: c2's first order is 2024-02-01 00:30 local.
  co = ds.cohorts({ utcOffset: 3600 });
  assert.deepEqual(nums(co.sizes), [1, 3]);
  assert.deepEqual(nums(co.orders), [1, 1, 1, 4, 2, 0]);
  assert.deepEqual(nums(co.revenue), [1000, 2000, 500, 9500, 3000, 0]);
  co.close();
  // Window [2024-02-01, 2024-04-01): cohorts 2024-02 {c1, c3, c4}, 2024-03 {c2}; K = 2.
  co = ds.cohorts({ start: new Date('2024-02-01T00:00Z'), end: T('2024-04-01T00:00Z') });
  assert.deepEqual(co.labels, ['2024-02', '2024-03']);
  assert.deepEqual(nums(co.sizes), [3, 1]);
  assert.deepEqual(nums(co.active), [3, 2, 1, 0]);
  assert.deepEqual(nums(co.revenue), [8500, 2500, 1000, 0]);
  co.close();
  // Weekly: c1's 2024-01-05 is in 2024-W01.
  co = ds.cohorts({ period: 'week' });
  assert.equal(co.labels[0], '2024-W01');
  co.close();
  // An empty window: no cohorts, empty arrays.
  co = ds.cohorts({ start: T('2030-01-01T00:00Z'), end: T('2031-01-01T00:00Z') });
  assert.equal(co.rows, 0);
  assert.equal(co.cols, 0);
  assert.equal(co.retention.length, 0);
  assert.deepEqual(co.toLong(), []);
  co.close();
  ds.close();
});

test('given acquisition times', () => {
  // c1 2024-01-01, c2 not acquired, c3 2024-01-20, c4 2024-02-14:
  // 2024-01 {c1, c3}: k0 1000; k1 2000 + 4000 + 1000; k2 500 + 2000. 2024-02 {c4}: 1500.
  const ds = dataset();
  const acq = new Map([[1, new Date('2024-01-01T00:00Z')], [2, null],
                       [3, T('2024-01-20T12:00Z')], [4, T('2024-02-14T12:00Z')]]);
  let co = ds.cohorts({ acquisition: acq });
  assert.deepEqual(nums(co.sizes), [2, 1]);
  assert.deepEqual(nums(co.active), [1, 2, 2, 1, 0, 0]);
  assert.deepEqual(nums(co.revenue), [1000, 7000, 2500, 1500, 0, 0]);
  co.close();
  const seq = [];
  for (let i = 0; i < ds.customers; i++) seq.push(acq.get(ds.key(i)));
  co = ds.cohorts({ acquisition: seq });
  assert.deepEqual(nums(co.revenue), [1000, 7000, 2500, 1500, 0, 0]);
  co.close();
  // An object keyed by customer key (missing customers are not acquired).
  co = ds.cohorts({ acquisition: { 1: T('2024-01-01T00:00Z'), 3: T('2024-01-20T12:00Z'),
                                   4: T('2024-02-14T12:00Z') } });
  assert.deepEqual(nums(co.sizes), [2, 1]);
  assert.deepEqual(nums(co.revenue), [1000, 7000, 2500, 1500, 0, 0]);
  co.close();
  assert.throws(() => ds.cohorts({ acquisition: { 99: 0 } }), RangeError);
  assert.throws(() => ds.cohorts({ acquisition: seq.slice(0, 3) }), RangeError);
  // The low-level layer checks the array against acquisition_count.
  assert.throws(() => ffi.scrm_cohorts_compute(ds[Object.getOwnPropertySymbols(ds)[0]],
                                               { acquisition: new BigInt64Array(2), acquisition_count: 4 }),
                RangeError);
  ds.close();
});

test('options are checked', () => {
  const ds = dataset();
  assert.throws(() => ds.cohorts({ period: 'decade' }), RangeError);
  assert.throws(() => ds.cohorts({ mode: 'sometimes' }), RangeError);
  assert.throws(() => ds.cohorts({ bins: 3 }), TypeError);
  assert.throws(() => ds.cohorts({ start: T('2024-02-01T00:00Z'), end: T('2024-01-01T00:00Z') }),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_EINVAL);
  const calls = [];
  ds.cohorts({ progress: (d, n) => { calls.push([d, n]); } }).close();
  assert.ok(calls.length > 0);
  assert.throws(() => ds.cohorts({ progress: () => false }),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ECANCELLED);
  assert.throws(() => ds.cohorts({ progress: () => { throw new Error('stop'); } }), /stop/);
  ds.close();
});

test('merge of disjoint customers equals the whole', () => {
  const a = dataset(ROWS.filter((r) => r[0] <= 2));
  const b = dataset(ROWS.filter((r) => r[0] >= 3));
  const full = dataset();
  const ca = a.cohorts();
  const cb = b.cohorts();
  const cf = full.cohorts();
  assert.deepEqual([ca.rows, ca.cols, cb.rows, cb.cols], [1, 3, 1, 2]);
  const m = ca.merge(cb);
  assert.deepEqual([m.rows, m.cols], [cf.rows, cf.cols]);
  assert.deepEqual(m.labels, cf.labels);
  for (const k of ['sizes', 'active', 'orders', 'revenue']) assert.deepEqual(nums(m[k]), nums(cf[k]), k);
  for (const k of ['retention', 'ltv', 'cumOrders']) close(m[k], Array.from(cf[k]));
  const rolling = full.cohorts({ mode: 'rolling' });
  assert.throws(() => cf.merge(rolling), (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_EINVAL);
  assert.throws(() => cf.merge({}), TypeError);
  for (const x of [ca, cb, cf, m, rolling, a, b, full]) x.close();
});

test('long form and CSV', () => {
  const ds = dataset();
  const co = ds.cohorts();
  const long = co.toLong();
  assert.deepEqual(long.map((r) => [r.cohort, r.period]),
                   [['2024-01', 0], ['2024-01', 1], ['2024-01', 2], ['2024-02', 0], ['2024-02', 1]]);
  assert.deepEqual(long[1], { cohort: '2024-01', period: 1, cohort_size: 2, active_customers: 1,
                              orders: 1, revenue: 2000, retention: 0.5, partial: false });
  assert.deepEqual(Object.keys(long[0]), shopcrm.LONG_COLUMNS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrm-cohort-'));
  const file = path.join(dir, 'c.csv');
  co.writeCsv(file);
  assert.equal(fs.readFileSync(file, 'utf8'),
               'cohort,period,cohort_size,active_customers,orders,revenue,retention,partial\n' +
               '2024-01,0,2,2,2,40.00,1,0\n' +
               '2024-01,1,2,1,1,20.00,0.5,0\n' +
               '2024-01,2,2,2,2,15.00,1,0\n' +
               '2024-02,0,2,2,3,65.00,1,0\n' +
               '2024-02,1,2,1,1,20.00,0.5,0\n');
  assert.equal(co.lastPartial, false); // the data ends on 2024-03-31
  assert.equal(co.partialPeriods, 0);
  // an end two months after the data: April and May have no data: partial
  const co2 = ds.cohorts({ end: new Date('2024-06-01T00:00:00Z') });
  assert.equal(co2.partialPeriods, 2);
  const long2 = co2.toLong();
  assert.ok(long2.every((r) => r.partial === (Number(r.cohort.slice(5, 7)) + r.period >= 4)));
  assert.ok(long2.some((r) => r.partial));
  co2.close();
  fs.rmSync(dir, { recursive: true });
  co.close();
  ds.close();
});

test('writeCsv uses the dataset\'s minor digits', () => {
  // Same amounts as yen (0 digits) and as dinars (3 digits): major units follow
  // the dataset's currency, never a fixed 100.
  const cases = [['yen', 0, ['4000', '2000', '1500', '6500', '2000']],
                 ['dinar', 3, ['4.000', '2.000', '1.500', '6.500', '2.000']],
                 ['cent', 2, ['40.00', '20.00', '15.00', '65.00', '20.00']]];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrm-cohort-'));
  for (const [name, digits, want] of cases) {
    const ds = Dataset.fromArrays(ROWS.map((r) => r[0]), ROWS.map((r) => T(r[1])),
                                  ROWS.map((r) => r[2]), { minorDigits: digits });
    assert.equal(ds.minorDigits, digits, name);
    const co = ds.cohorts();
    assert.equal(co.minorDigits, digits, name);
    const file = path.join(dir, `${name}.csv`);
    co.writeCsv(file);
    const got = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[5]);
    assert.deepEqual(got, want, name);
    const m = co.merge(co);
    assert.equal(m.minorDigits, digits, name);
    m.close();
    co.close();
    ds.close();
  }
  fs.rmSync(dir, { recursive: true });
  assert.equal(new Dataset().minorDigits, 2);
  assert.deepEqual([shopcrm.formatMoney(1500, 0), shopcrm.formatMoney(-1500n, 3),
                    shopcrm.formatMoney(5, 3), shopcrm.formatMoney(-7, 0)],
                   ['1500', '-1.500', '0.005', '-7']);
});

test('number formatting matches printf', () => {
  const f = shopcrm.formatFixed;
  // 1/128 = 0.0078125 exactly: a tie, to even as printf("%.6f"); toFixed gives 0.007813.
  assert.deepEqual([f(1 / 3), f(1 / 128), f(NaN), f(1), f(0.125, 2), f(0.375, 2), f(-0.5, 0)],
                   ['0.333333', '0.007812', '', '1.000000', '0.12', '0.38', '-0']);
  assert.deepEqual([shopcrm.formatMoney(5), shopcrm.formatMoney(-1234n), shopcrm.formatMoney(0)],
                   ['0.05', '-12.34', '0.00']);
  // printf("%.*g"): exponent below 1e-4 or at >= precision, trailing zeros dropped,
  // rounding that carries into the next power of ten.
  const g = shopcrm.formatG;
  assert.deepEqual([g(5e-5, 6), g(1e-4, 6), g(123456789, 6), g(9.96, 1), g(0.5, 15),
                    g(99999999999999.99, 15), g(99999999999999.99, 16), g(0, 3), g(-2.5e20, 3)],
                   ['5e-05', '0.0001', '1.23457e+08', '1e+01', '0.5',
                    '100000000000000', '99999999999999.98', '0', '-2.5e+20']);
  const r = shopcrm.formatRate;
  assert.deepEqual([r(1 / 3), r(0.1 + 0.2), r(1 / 128), r(NaN), r(1), r(5e-5)],
                   ['0.3333333333333333', '0.30000000000000004', '0.0078125', '', '1', '5e-05']);
});

test('matrices are zero-copy and outlive close()', async () => {
  const ds = dataset();
  let co = ds.cohorts();
  const ret = co.retention;
  const act = co.active;
  assert.equal(ret.buffer, co.retention.buffer);
  co.close();
  assert.throws(() => ffi.scrm_cohorts_count(co[Object.getOwnPropertySymbols(co)[0]]),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ESTATE);
  co = null;
  gc();
  await turn();
  gc();
  assert.equal(ret[1], 0.5);
  assert.equal(act[3], 2n);
  ds.close();
});
