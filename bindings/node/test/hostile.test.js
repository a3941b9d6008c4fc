'use strict';
// The hostile caller: what a user may do by mistake (close a handle from a
// progress callback, detach an input, write to a result column, pass a lone
// surrogate or an integer out of range) must neither crash the process nor
// change a result silently (issue 10). Cases that crashed run in a child
// process, so a crash fails the test instead of killing the runner.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PKG = path.join(__dirname, '..');
const shopcrm = require(PKG);
const { Dataset, SegmentMap, ShopcrmError, ffi } = shopcrm;
const CSV = path.join(__dirname, '..', '..', '..', 'examples', 'data', 'cdnow_orders.csv');
const CSV_OPTS = { customer: 'customer_id', time: 'date', amount: 'amount' };

/* Run `body` in a fresh node; it prints one JSON line. A signal or a
 * non-zero exit (a segfault, an ASan report) fails the test. */
function child(body) {
  const script = `
    const shopcrm = require(${JSON.stringify(PKG)});
    const { Dataset, SegmentMap, ShopcrmError, ffi } = shopcrm;
    const CSV = ${JSON.stringify(CSV)};
    const CSV_OPTS = ${JSON.stringify(CSV_OPTS)};
    const H = (o) => o[Object.getOwnPropertySymbols(o)[0]];
    function code(f) { try { f(); return 'ok'; } catch (e) { return e.codeName || e.name; } }
    const out = (() => { ${body} })();
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script],
                      { encoding: 'utf8', env: process.env, timeout: 120000 });
  assert.equal(r.signal, null, `child killed by ${r.signal}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function small(n = 20000) {
  const c = new BigUint64Array(n);
  const t = new BigInt64Array(n);
  const a = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = BigInt(i % 3000 + 1);
    t[i] = BigInt(1700000000 + i * 600);
    a[i] = BigInt(100 + (i % 97) * 13);
  }
  return { c, t, a };
}

// ---------------------------------------------------------------------------
// Closing handles during a call: deferred until the call returns
// ---------------------------------------------------------------------------

test('closing the dataset from an rfm/kpi/cohorts progress callback is deferred', () => {
  const r = child(`
    const res = {};
    for (const op of ['rfm', 'kpi', 'cohorts']) {
      const ds = Dataset.fromCsv(CSV, CSV_OPTS);
      let calls = 0;
      const out = ds[op]({ progress: () => { calls++; ds.close(); } });
      res[op] = [calls > 0, code(() => ds.customers), op === 'kpi' ? out.orders : 'done'];
    }
    return res;`);
  assert.deepEqual(r.rfm, [true, 'SCRM_ESTATE', 'done']);
  assert.deepEqual(r.kpi, [true, 'SCRM_ESTATE', 69659]);
  assert.deepEqual(r.cohorts, [true, 'SCRM_ESTATE', 'done']);
});

test('closing the dataset from an append or CSV load progress callback is deferred', () => {
  const r = child(`
    const n = 50000;
    const c = new BigUint64Array(n), t = new BigInt64Array(n), a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) { c[i] = BigInt(i % 999 + 1); t[i] = BigInt(1e9 + i); a[i] = 5n; }
    const ds = new Dataset();
    const added = ds.append(c, t, a, { progress: () => { ds.close(); } });
    const strs = Array.from({ length: n }, (_, i) => 'k' + (i % 999));
    const ds2 = new Dataset();
    const added2 = ds2.append(strs, t, a, { progress: () => { ds2.close(); } });
    const ds3 = new Dataset();
    ds3.loadCsv(CSV, { ...CSV_OPTS, progress: () => { ds3.close(); } });
    return [added, code(() => ds.orders), added2, code(() => ds2.orders),
            ds3.report.rowsAdded, code(() => ds3.orders)];`);
  assert.deepEqual(r, [50000, 'SCRM_ESTATE', 50000, 'SCRM_ESTATE', 69659, 'SCRM_ESTATE']);
});

test('closing a result or segment map used by the running call is deferred', () => {
  const r = child(`
    const ds = Dataset.fromCsv(CSV, CSV_OPTS);
    const map = SegmentMap.preset('rfm11-v1');
    const res = ds.rfm({ segments: map, progress: () => { map.close(); global.gc(); } });
    const champions = res.segments()[0].customers;
    // a result whose handle is closed by the callback of a call that reads it
    const a = ds.cohorts({ period: 'year' });
    const merged = code(() => ffi.scrm_cohorts_merge(H(a), H(a)));
    // close the options' segment map through the low-level layer, mid-call
    const m2 = ffi.scrm_segment_map_preset('rf10-v1');
    const r2 = ffi.scrm_rfm_compute(H(ds), { segments: m2, progress: () => { ffi.scrm_segment_map_free(m2); } });
    return [champions > 0, code(() => map.size), merged, ffi.scrm_segment_map_count(ffi.scrm_rfm_segment_map(r2)),
            code(() => ffi.scrm_segment_map_count(m2))];`);
  assert.equal(r[0], true);
  assert.equal(r[1], 'SCRM_ESTATE');
  assert.equal(r[3], 10);
  assert.equal(r[4], 'SCRM_ESTATE');
});

test('a progress callback cannot append to a dataset being read, nor read one being appended', () => {
  const r = child(`
    const ds = Dataset.fromCsv(CSV, CSV_OPTS);
    const before = ds.orders;
    let inner = null;
    ds.rfm({ progress: () => { if (!inner) inner = code(() => ds.append([1], [1e9], [1])); } });
    const n = 20000;
    const c = Array.from({ length: n }, (_, i) => i + 1), t = c.map((i) => 1e9 + i), a = c.map(() => 1);
    const ds2 = new Dataset();
    let inner2 = null;
    ds2.append(c, t, a, { progress: () => { if (!inner2) inner2 = code(() => ds2.rfm()); } });
    let inner3 = null;
    ds.kpi({ progress: () => { if (!inner3) inner3 = code(() => ds.kpi()); } });
    return [inner, ds.orders === before, inner2, ds2.orders, inner3];`);
  assert.deepEqual(r, ['SCRM_ESTATE', true, 'SCRM_ESTATE', 20000, 'ok']);
});

test('an RFM result exports the same after ds.close() and after the dataset is collected', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopcrm-close-'));
  const r = child(`
    const fs = require('node:fs');
    const dir = ${JSON.stringify(dir)};
    const read = (f) => fs.readFileSync(dir + '/' + f, 'utf8');
    let ds = Dataset.fromCsv(CSV, CSV_OPTS);
    const res = ds.rfm();
    res.writeCsv(dir + '/open.csv');
    res.writeAudienceCsv(dir + '/open-aud.csv', ['Champions', null]);
    const aud = res.audience(['Champions']), k0 = res.key(0), k9 = res.key(res.customers - 1);
    ds.close();
    const closed = code(() => ds.customers);
    ds = null;
    gc(); gc();
    res.writeCsv(dir + '/closed.csv');
    res.writeAudienceCsv(dir + '/closed-aud.csv', ['Champions', null]);
    const same = [read('open.csv') === read('closed.csv'),
                  read('open-aud.csv') === read('closed-aud.csv'),
                  JSON.stringify(res.audience(['Champions'])) === JSON.stringify(aud),
                  res.key(0) === k0, res.key(res.customers - 1) === k9,
                  read('open.csv').split('\\n').length];
    // the result's reference is read-only: no append through it
    const ro = code(() => ffi.scrm_dataset_append_u64(res._ds, 1, new BigUint64Array([1n]),
                                                      new BigInt64Array([1n]), new BigInt64Array([1n]),
                                                      null, null));
    res.close();
    return [closed, ...same, ro, code(() => res.writeCsv(dir + '/after.csv')),
            code(() => res.key(0)), fs.existsSync(dir + '/after.csv')];`);
  fs.rmSync(dir, { recursive: true, force: true });
  // cdnow_orders.csv: 23,570 customers, a header and a final newline
  assert.deepEqual(r, ['SCRM_ESTATE', true, true, true, true, true, 23572, 'SCRM_ESTATE',
                       'SCRM_ESTATE', 'SCRM_ESTATE', false]);
});

test('a result cannot read its dataset from an append progress callback', () => {
  const r = child(`
    const ds = Dataset.fromCsv(CSV, CSV_OPTS);
    const res = ds.rfm();
    const n = 20000;
    const c = Array.from({ length: n }, (_, i) => i + 1), t = c.map((i) => 9e8 + i), a = c.map(() => 1);
    let inner = null;
    ds.append(c, t, a, { progress: () => { if (!inner) inner = code(() => res.key(0)); } });
    return [inner, ds.orders, res.key(0) === ds.key(0)];`);
  assert.deepEqual(r, ['SCRM_ESTATE', 69659 + 20000, true]);
});

test('segment names cannot be relabelled; a fractional cohort index is refused', () => {
  const ds = Dataset.fromCsv(CSV, CSV_OPTS);
  const res = ds.rfm();
  const i = res.audienceIndices('Champions')[0];
  assert.equal(res.segmentName(i), 'Champions');
  assert.throws(() => { 'use strict'; res.segmentNames[0] = 'Everyone'; }, TypeError);
  assert.equal(res.segmentName(i), 'Champions');
  assert.equal(res.segmentNames[0], 'Champions');
  const c = ds.cohorts();
  assert.equal(c.row('retention', 1)[0], 1);
  assert.throws(() => c.row('retention', 1.5), TypeError); // was row 1, silently
  assert.throws(() => c.observable(0.5, 0), TypeError);
  assert.equal(c.observable(0, 0), true);
  c.close();
  res.close();
  ds.close();
});

test('unknown option names are refused, not dropped for the defaults', () => {
  assert.throws(() => new Dataset({ minor_digits: 3 }), /Dataset: unknown option 'minor_digits'/);
  assert.equal(new Dataset({ minorDigits: 3 }).minorDigits, 3);
  const map = new SegmentMap();
  assert.throws(() => map.add('Top', { R: [5, 5] }), /add: unknown option 'R'/);
  assert.equal(map.size, 0);
  map.add('Top', { r: [5, 5] });
  assert.equal(map.size, 1);
  map.close();
});

test('wrong inputs give the same errors and messages as in Python', () => {
  // tests/data/binding_messages.json, checked by the Python suite too
  const file = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'binding_messages.json');
  // (2^64, the one integer above 2^53 there, is exact as a double)
  const { cases } = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(cases.length > 10);
  const camel = (o) => Object.fromEntries(Object.entries(o).map(
    ([k, v]) => [k.replace(/_(.)/g, (m, ch) => ch.toUpperCase()), v]));
  for (const c of cases) {
    const ds = ['append', 'rfm', 'cohorts'].includes(c.call) ? new Dataset() : null;
    if (ds && c.call !== 'append') ds.append([1], [1e9], [100]);
    const fn = c.call === 'append' ? (...a) => ds.append(...a)
      : c.call === 'rfm' || c.call === 'cohorts' ? (o) => ds[c.call](camel(o))
        : c.call === 'segment_add' ? (o) => new SegmentMap().add('x', o)
          : c.call === 'from_csv' ? (o) => Dataset.fromCsv(CSV, { ...CSV_OPTS, ...o })
            : c.call === 'new' ? (o) => new Dataset(camel(o)) : shopcrm[c.call];
    let err = null;
    try { fn(...c.args); } catch (e) { err = e; }
    const where = `${c.call}(${JSON.stringify(c.args)})`;
    assert.ok(err, `${where} did not throw`);
    if (c.kind === 'type' || c.kind === 'string') assert.ok(err instanceof TypeError, `${where}: ${err}`);
    else if (c.kind === 'range' || c.kind === 'value') assert.ok(err instanceof RangeError, `${where}: ${err}`);
    else assert.equal(err instanceof ShopcrmError && err.codeName, c.kind, `${where}: ${err}`);
    assert.equal(err.message, c.message, where);
    if (ds) {
      assert.equal(ds.orders, c.call === 'append' ? 0 : 1);
      ds.close();
    }
  }
});

test('a segment map borrowed from a result cannot be changed', () => {
  const ds = Dataset.fromCsv(CSV, CSV_OPTS);
  const res = ds.rfm();
  const h = res[Object.getOwnPropertySymbols(res)[0]];
  const map = ffi.scrm_rfm_segment_map(h);
  assert.throws(() => ffi.scrm_segment_map_add(map, 'Everyone', 1, 5, 1, 5, 1, 5),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ESTATE);
  assert.equal(ffi.scrm_segment_map_count(map), 11);
  res.close();
  ds.close();
});

// ---------------------------------------------------------------------------
// Detached inputs
// ---------------------------------------------------------------------------

test('detaching an input array in an append progress callback does not crash', () => {
  const r = child(`
    const n = 100000;
    const c = new BigUint64Array(n), t = new BigInt64Array(n), a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) { c[i] = BigInt(i % 5000 + 1); t[i] = BigInt(1e9 + i * 60); a[i] = 250n; }
    const ds = new Dataset();
    let detached = false;
    ds.append(c, t, a, { progress: () => {
      if (!detached) {
        for (const x of [c, t, a]) structuredClone(x.buffer, { transfer: [x.buffer] });
        detached = c.length === 0 && t.length === 0;
        global.gc();
        new Uint8Array(64 << 20).fill(7); // reuse the freed memory
      }
    } });
    const k = ds.kpi();
    // strings, and a CSV loaded from a Buffer
    const strs = Array.from({ length: n }, (_, i) => 's' + (i % 5000));
    const t2 = new BigInt64Array(n).fill(1000000000n), a2 = new BigInt64Array(n).fill(3n);
    const ds2 = new Dataset();
    ds2.append(strs, t2, a2, { progress: () => {
      if (t2.length) structuredClone(t2.buffer, { transfer: [t2.buffer, a2.buffer] });
    } });
    const buf = require('node:fs').readFileSync(CSV);
    const ds3 = new Dataset();
    const rep = ffi.scrm_csv_load_buffer(H(ds3), buf, undefined,
      { customer_column: 'customer_id', time_column: 'date', amount_column: 'amount',
        progress: () => { if (buf.length) structuredClone(buf.buffer, { transfer: [buf.buffer] }); } });
    return [detached, k.orders, k.revenue, ds2.orders, Number(ds2.kpi().revenue),
            Number(ffi.scrm_csv_report_rows_added(rep))];`);
  assert.deepEqual(r, [true, 100000, 25000000, 100000, 300000, 69659]);
});

test('an input detached while the options are read is refused', () => {
  const r = child(`
    const n = 10;
    const c = new BigUint64Array(n).fill(1n), t = new BigInt64Array(n).fill(1000000000n);
    const a = new BigInt64Array(n).fill(1n);
    const ds = new Dataset();
    const opts = { get progress() { structuredClone(t.buffer, { transfer: [t.buffer] }); return null; } };
    let err = null;
    try { ffi.scrm_dataset_append_u64(H(ds), n, c, t, a, null, opts); } catch (e) { err = e.name + ': ' + e.message; }
    return [err, Number(ffi.scrm_dataset_order_count(H(ds)))];`);
  assert.match(r[0], /^TypeError: times: the array was detached/);
  assert.equal(r[1], 0);
});

// ---------------------------------------------------------------------------
// Writes to result columns change nothing the library computes or writes
// ---------------------------------------------------------------------------

test('writing to RFM columns does not change audiences, labels or the CSV', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrm-hostile-'));
  const ds = Dataset.fromCsv(CSV, CSV_OPTS);
  const res = ds.rfm();
  const champions = res.audience(['Champions']);
  const label0 = res.segmentName(0);
  res.writeCsv(path.join(dir, 'before.csv'));
  const h = res[Object.getOwnPropertySymbols(res)[0]];
  const monetary = Array.from(ffi.scrm_rfm_monetary(h));
  res.segment.fill(0);
  res.monetary.sort();
  res.r.fill(5);
  assert.equal(res.segment[1], 0); // the caller's copy did change
  assert.deepEqual(res.audience(['Champions']), champions);
  assert.ok(champions.length < ds.customers);
  assert.equal(res.segmentName(0), label0);
  res.writeCsv(path.join(dir, 'after.csv'));
  assert.equal(fs.readFileSync(path.join(dir, 'after.csv'), 'utf8'),
               fs.readFileSync(path.join(dir, 'before.csv'), 'utf8'));
  assert.deepEqual(Array.from(ffi.scrm_rfm_monetary(h)), monetary);
  assert.equal(res.segments()[0].customers, champions.length);
  res.close();
  ds.close();
  fs.rmSync(dir, { recursive: true });
});

test('writing to cohort matrices does not change toLong() or the CSV', () => {
  const ds = Dataset.fromCsv(CSV, CSV_OPTS);
  const coh = ds.cohorts();
  const long = coh.toLong();
  const row = Array.from(coh.row('retention', 0));
  coh.retention.fill(0);
  coh.sizes.fill(0n);
  coh.orders.fill(0n);
  assert.deepEqual(coh.toLong(), long);
  assert.deepEqual(Array.from(coh.row('retention', 0)), row);
  coh.close();
  ds.close();
});

// ---------------------------------------------------------------------------
// Lone surrogates
// ---------------------------------------------------------------------------

test('strings with lone surrogates are refused, naming the index', () => {
  const t = [1e9, 1e9], a = [1, 1];
  assert.throws(() => Dataset.fromArrays(['ok', '\uD800'], t, a),
                (e) => e instanceof TypeError && /customers\[1\].*lone surrogate U\+D800/.test(e.message));
  assert.throws(() => Dataset.fromArrays(['\uDC00x', 'y'], t, a),
                (e) => e instanceof TypeError && /customers\[0\]/.test(e.message));
  // a real U+FFFD and a surrogate pair are fine, and stay distinct
  const ds = Dataset.fromArrays(['\uFFFD', '\uD83D\uDE00'], t, a);
  assert.equal(ds.customers, 2);
  assert.equal(ds.key(ds.index('\uD83D\uDE00')), '\uD83D\uDE00');
  assert.throws(() => ds.index('\uD800'), TypeError);
  assert.throws(() => new SegmentMap().add('\uDFFF'), TypeError);
  assert.throws(() => ds.rfm().writeCsv('/tmp/\uD800.csv'), TypeError);
  assert.throws(() => Dataset.fromCsv(CSV, { ...CSV_OPTS, customer: 'customer\uD800' }), TypeError);
  assert.throws(() => ds.append(['z'], [1e9], [1], { orderKeys: ['\uDBFF'] }), TypeError);
  assert.equal(ds.orders, 2);
  ds.close();
});

// ---------------------------------------------------------------------------
// One cancel convention (shared with Python)
// ---------------------------------------------------------------------------

test('progress: false cancels, undefined or true continue, anything else is a TypeError', async () => {
  const ds = Dataset.fromCsv(CSV, CSV_OPTS);
  assert.ok(ds.rfm({ progress: () => undefined }));
  assert.ok(ds.rfm({ progress: () => true }));
  assert.throws(() => ds.rfm({ progress: () => false }),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_ECANCELLED);
  for (const v of [1, 0, 'yes', null, {}, Promise.resolve()]) {
    assert.throws(() => ds.kpi({ progress: () => v }), TypeError, String(v));
  }
  assert.throws(() => ds.rfm({ progress: async () => {} }),
                (e) => e instanceof TypeError && /Promise/.test(e.message));
  const { c, t, a } = small();
  const before = ds.orders;
  assert.throws(() => ds.append(c, t, a, { progress: async () => true }), TypeError);
  assert.equal(ds.orders, before); // cancelled: nothing added
  ds.close();
});

// ---------------------------------------------------------------------------
// Integers never wrap
// ---------------------------------------------------------------------------

test('integers out of the C type range throw, never wrap', () => {
  const ds = Dataset.fromCsv(CSV, CSV_OPTS);
  const h = ds[Object.getOwnPropertySymbols(ds)[0]];
  const bad = [
    () => ds.rfm({ bins: 2 ** 32 + 5 }),
    () => ds.rfm({ bins: -1 }),
    () => ds.rfm({ bins: 5.5 }),
    () => ds.rfm({ bins: NaN }),
    () => ds.rfm({ bins: 5n + (1n << 64n) }),
    () => ds.rfm({ utcOffset: 2 ** 64 + 3600 }),
    () => ds.kpi({ lookback: 2n ** 63n }),
    () => ds.kpi({ start: 2n ** 63n }),
    () => ds.cohorts({ minAmount: -(2n ** 63n) - 1n }),
    () => ds.rfm({ threads: 2 ** 32 }),
    () => new SegmentMap().add('y', { r: [2 ** 32 + 1, 2 ** 32 + 5] }),
    () => new SegmentMap().add('y', { r: [-1, 5] }),
    () => ds.append([2n ** 64n], [1e9], [1]),
    () => ds.append([-1], [1e9], [1]),
    () => ds.append([1], [1e9], [2n ** 63n]),
    () => ds.append([1], [1e9], [2 ** 53 + 2]),
    () => ds.key(2 ** 32),
    () => ds.key(-1),
    () => ffi.scrm_rfm_compute(h, { bins: Infinity }),
    () => ffi.scrm_dataset_customer_key_u64(h, 2n ** 64n),
    () => ffi.scrm_kpi_nps(new Int32Array(1), 2 ** 64),
    () => shopcrm.formatMoney(1, 2 ** 32),
  ];
  bad.forEach((f, i) => {
    assert.throws(f, (e) => e instanceof RangeError || e instanceof TypeError, `case ${i}`);
  });
  assert.equal(ds.orders, 69659);
  ds.close();
});
