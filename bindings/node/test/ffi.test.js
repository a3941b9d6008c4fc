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
