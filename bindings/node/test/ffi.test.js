'use strict';
// Tests of the low-level layer (the addon's exports, named as in C).
const test = require('node:test');
const assert = require('node:assert/strict');
const { ffi, ShopcrmError } = require('..');

test('handles are type-checked and cannot be made with new', () => {
  const ds = ffi.scrm_dataset_new(null);
  assert.throws(() => ffi.scrm_rfm_bins(ds), TypeError);
  assert.throws(() => ffi.scrm_dataset_order_count({}), TypeError);
  assert.throws(() => new ds.constructor(), TypeError);
  ffi.scrm_dataset_free(ds);
  ffi.scrm_dataset_free(null); // like free(NULL)
});

test('csv from a buffer, with explicit and default lengths', () => {
  const ds = ffi.scrm_dataset_new(null);
  const text = Buffer.from('customer_id,date,amount\n7,2024-01-02,1.50\n8,2024-01-03,2\nxx');
  // only the first 2 lines: the trailing "xx" would be a bad row
  const len = text.indexOf('xx');
  const rep = ffi.scrm_csv_load_buffer(ds, text, len, null);
  assert.equal(ffi.scrm_csv_report_rows_added(rep), 2n);
  ffi.scrm_csv_report_free(rep);
  assert.throws(() => ffi.scrm_csv_load_buffer(ds, text, null, null),
                (e) => e instanceof ShopcrmError && e.code === ffi.SCRM_EPARSE && e.index === 4);
  assert.throws(() => ffi.scrm_csv_load_buffer(ds, text, text.length + 1, null), RangeError);
  assert.equal(ffi.scrm_dataset_order_count(ds), 2n);
  ffi.scrm_dataset_free(ds);
});

test('arrays are checked against their count', () => {
  const ds = ffi.scrm_dataset_new({ key_type: ffi.SCRM_KEY_U64 });
  const c = new BigUint64Array([1n, 2n]);
  const t = new BigInt64Array([1n, 2n]);
  assert.throws(() => ffi.scrm_dataset_append_u64(ds, 3, c, t, t, null), RangeError);
  assert.throws(() => ffi.scrm_dataset_append_u64(ds, 2, t, t, t, null), TypeError);
  assert.equal(ffi.scrm_dataset_append_u64(ds, 2, c, t, t, null), 2n);
  assert.throws(() => ffi.scrm_kpi_nps(new Int32Array([1]), 2), RangeError);
  ffi.scrm_dataset_free(ds);
});

test('options objects: defaults, versions, unknown fields', () => {
  const o = ffi.scrm_rfm_options_init(ffi.SCRM_RFM_OPTIONS_VERSION);
  assert.equal(o.bins, 5);
  assert.equal(o.as_of, BigInt(ffi.SCRM_RFM_AS_OF_DEFAULT));
  assert.throws(() => ffi.scrm_rfm_options_init(99), (e) => e.code === ffi.SCRM_EVERSION);
  const ds = ffi.scrm_dataset_new(null);
  assert.throws(() => ffi.scrm_kpi_compute(ds, { version: 99 }), (e) => e.code === ffi.SCRM_EVERSION);
  assert.throws(() => ffi.scrm_kpi_compute(ds, { start_time: 0 }), TypeError);
  ffi.scrm_dataset_free(ds);
});

test('strings: outputs with lengths, NUL bytes refused where C stops at them', () => {
  const ds = ffi.scrm_dataset_new(null);
  const keys = Buffer.from('a\0bc');
  ffi.scrm_dataset_append_str(ds, 2, keys, new Uint32Array([3, 1]), new BigInt64Array([1n, 2n]),
                              new BigInt64Array([1n, 2n]), null);
  const i = ffi.scrm_dataset_find_str(ds, 'a\0b');
  assert.equal(ffi.scrm_dataset_customer_key_str(ds, i), 'a\0b');
  assert.throws(() => ffi.scrm_segment_map_preset('rfm11\0-v1'), TypeError);
  assert.equal(ffi.scrm_dataset_order_key_from_string('abc'), ffi.scrm_dataset_order_key_from_string('abcdef', 3));
  ffi.scrm_dataset_free(ds);
});

test('set_allocator accepts only the default allocator', () => {
  ffi.scrm_set_allocator(null, null, null, null);
  assert.throws(() => ffi.scrm_set_allocator(() => 0, null, null, null), TypeError);
});

test('error codes and messages', () => {
  assert.equal(ffi.scrm_strerror(ffi.SCRM_EPARSE), 'parse error');
  ffi.scrm_clear_error();
  assert.equal(ffi.scrm_last_error(), '');
  assert.equal(ffi.scrm_last_error_index(), -1n);
  assert.equal(ffi.scrm_kpi_metric_name(ffi.SCRM_KPI_METRIC_COUNT), null);
});

// The generated wrappers that follow the headers' length declarations
// (@scrm_len, @scrm_shape, @scrm_buffer).
function scored(bins = 3, extra = {}) {
  const ds = ffi.scrm_dataset_new({ key_type: ffi.SCRM_KEY_U64 });
  const c = new BigUint64Array([1n, 2n, 3n, 4n]);
  const t = new BigInt64Array([86400n, 2n * 86400n, 3n * 86400n, 9n * 86400n]);
  const a = new BigInt64Array([100n, 200n, 300n, 400n]);
  ffi.scrm_dataset_append_u64(ds, 4, c, t, a, null);
  return { ds, r: ffi.scrm_rfm_compute(ds, { bins, ...extra }) };
}

test('columns have their declared lengths', () => {
  const { ds, r } = scored(3);
  assert.equal(ffi.scrm_rfm_recency_days(r).length, 4);          // customer_count(r)
  assert.ok(ffi.scrm_rfm_scores(r, ffi.SCRM_RFM_M) instanceof Uint8Array);
  assert.equal(ffi.scrm_rfm_scores(r, 7), null);                  // bad dim: NULL
  assert.equal(ffi.scrm_rfm_edges(r, ffi.SCRM_RFM_R).length, 2);  // bins(r) - 1
  const map = ffi.scrm_rfm_segment_map(r);                        // borrowed, pins r
  assert.equal(ffi.scrm_rfm_segment_customers(r).length, ffi.scrm_segment_map_count(map) + 1);
  ffi.scrm_rfm_free(r);
  assert.equal(ffi.scrm_segment_map_count(map), 0);               // still usable
  const co = ffi.scrm_cohorts_compute(ds, null);                  // count(r) x periods(r)
  assert.equal(ffi.scrm_cohorts_ltv(co).length,
               ffi.scrm_cohorts_count(co) * ffi.scrm_cohorts_periods(co));
  assert.equal(ffi.scrm_cohorts_sizes(co).length, ffi.scrm_cohorts_count(co));
  ffi.scrm_cohorts_free(co);
  ffi.scrm_dataset_free(ds);
});

test('options arrays are checked against their declared lengths', () => {
  const fixed = { method: ffi.SCRM_RFM_METHOD_FIXED, r_edges: [5, 15], f_edges: [2, 4],
                  m_edges: new Float64Array([150, 250]) };
  const { ds, r } = scored(3, fixed);                             // bins - 1 = 2: fine
  assert.deepEqual(Array.from(ffi.scrm_rfm_edges(r, ffi.SCRM_RFM_M)), [150, 250]);
  ffi.scrm_rfm_free(r);
  for (const k of ['r_edges', 'f_edges', 'm_edges']) {
    assert.throws(() => ffi.scrm_rfm_compute(ds, { bins: 4, ...fixed }),
                  (e) => e instanceof RangeError && /edges: holds fewer than bins - 1/.test(e.message), k);
    assert.throws(() => ffi.scrm_rfm_compute(ds, { bins: 3, ...fixed, [k]: [1] }), RangeError, k);
  }
  assert.throws(() => ffi.scrm_cohorts_compute(ds, { acquisition: [0, 0, 0], acquisition_count: 4 }),
                /acquisition: holds fewer than acquisition_count values/);
  ffi.scrm_dataset_free(ds);
});

test('output arrays: fixed length and sized by a first call', () => {
  const { ds, r } = scored(5);
  const map = ffi.scrm_rfm_segment_map(r);
  const b = ffi.scrm_segment_map_rule(map, 0);                    // @scrm_len{6}
  assert.ok(b instanceof Uint32Array && b.length === 6);
  assert.throws(() => ffi.scrm_segment_map_rule(map, 99), (e) => e.code === ffi.SCRM_ENOTFOUND);
  const all = [];
  for (let s = -1; s < ffi.scrm_segment_map_count(map); s++) all.push(s);
  const every = ffi.scrm_rfm_audience(r, new Int32Array(all), all.length);  // @scrm_buffer
  assert.deepEqual(Array.from(every), [0, 1, 2, 3]);
  assert.equal(ffi.scrm_rfm_audience(r, new Int32Array(0), 0).length, 0);
  ffi.scrm_rfm_free(r);
  ffi.scrm_dataset_free(ds);
});
