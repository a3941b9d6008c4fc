'use strict';
/*
 * shopcrm: e-commerce customer analytics (RFM, KPIs) for Node, over libshopcrm.
 *
 * The idiomatic layer. The low-level layer is the N-API addon (C names,
 * lib/ffi.d.ts), available as `shopcrm.ffi`. Definitions of every number are
 * in the C headers and docs/ (rfm.md, kpi.md, csv.md); docs/node.md is the
 * getting-started page of this package.
 */
const fs = require('node:fs');
const path = require('node:path');

// ---------------------------------------------------------------------------
// Loading the addon: $SHOPCRM_NODE_ADDON, next to the package, ./build, or
// the meson build of a source tree (build/bindings/shopcrm_node.node).
// ---------------------------------------------------------------------------

function loadAddon() {
  const env = process.env.SHOPCRM_NODE_ADDON;
  if (env) return require(path.resolve(env)); // an explicit choice: no fallback
  const candidates = [
    path.join(__dirname, 'shopcrm_node.node'),
    path.join(__dirname, 'build', 'shopcrm_node.node'),
    path.join(__dirname, '..', '..', 'build', 'bindings', 'shopcrm_node.node'),
  ];
  for (const c of candidates) {
    if (fs.existsSync(c)) return require(c);
  }
  throw new Error('shopcrm: cannot find the addon shopcrm_node.node (looked in ' +
                  candidates.join(', ') + '); build it with meson or set SHOPCRM_NODE_ADDON');
}

const ffi = loadAddon();
const { ShopcrmError } = ffi;

const HANDLE = Symbol('shopcrm.handle');
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

/** A BigInt as a Number when exact, else the BigInt ("BigInt where needed"). */
function num(b) {
  return b <= SAFE && b >= -SAFE ? Number(b) : b;
}

function checkKeys(opts, allowed, where) {
  if (opts == null) return {};
  if (typeof opts !== 'object') throw new TypeError(`${where}: options must be an object`);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new TypeError(`${where}: unknown option '${k}' (known: ${allowed.join(', ')})`);
    }
  }
  return opts;
}

function toBigInt(v, what, lo, hi) {
  let b;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else throw new TypeError(`${what}: expected an integer (number or BigInt), got ${String(v)}`);
  if (b < lo || b > hi) throw new RangeError(`${what}: ${b} is out of range`);
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    throw new RangeError(`${what}: ${v} is not exact as a number; pass a BigInt`);
  }
  return b;
}

/** Seconds since the epoch (UTC) of a Date, a number of seconds or a BigInt. */
function toSeconds(t, what) {
  if (t instanceof Date) {
    const ms = t.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`${what}: invalid Date`);
    return BigInt(Math.floor(ms / 1000));
  }
  return toBigInt(t, what, I64_MIN, I64_MAX);
}

function timesArray(times, n) {
  if (times instanceof BigInt64Array) return checkLen(times, n, 'times');
  checkLen(times, n, 'times');
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = toSeconds(times[i], `times[${i}]`);
  return out;
}

function amountsArray(amounts, n) {
  if (amounts instanceof BigInt64Array) return checkLen(amounts, n, 'amounts');
  checkLen(amounts, n, 'amounts');
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = toBigInt(amounts[i], `amounts[${i}]`, I64_MIN, I64_MAX);
  return out;
}

function orderKeysArray(keys, n) {
  if (keys == null) return null;
  if (keys instanceof BigUint64Array) return checkLen(keys, n, 'orderKeys');
  checkLen(keys, n, 'orderKeys');
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    // string ids are hashed as the CSV loader does (scrm_order_key_from_string)
    out[i] = typeof k === 'string' ? ffi.scrm_order_key_from_string(k)
                                   : toBigInt(k, `orderKeys[${i}]`, 0n, U64_MAX);
  }
  return out;
}

function checkLen(a, n, what) {
  if (a == null || typeof a.length !== 'number') {
    throw new TypeError(`${what}: expected an array`);
  }
  if (a.length !== n) {
    throw new RangeError(`${what}: ${a.length} values for ${n} customers`);
  }
  return a;
}

const KEY_TYPES = { auto: ffi.SCRM_KEY_AUTO, u64: ffi.SCRM_KEY_U64, string: ffi.SCRM_KEY_STRING };
const TIME_FORMATS = {
  auto: ffi.SCRM_TIME_AUTO, iso8601: ffi.SCRM_TIME_ISO8601, yyyymmdd: ffi.SCRM_TIME_YYYYMMDD,
  dmy: ffi.SCRM_TIME_DMY, epoch: ffi.SCRM_TIME_EPOCH,
};
const ON_ERROR = { strict: ffi.SCRM_CSV_STRICT, skip: ffi.SCRM_CSV_SKIP };
const METHODS = {
  quantile: ffi.SCRM_RFM_METHOD_QUANTILE, ntile: ffi.SCRM_RFM_METHOD_NTILE,
  fixed: ffi.SCRM_RFM_METHOD_FIXED,
};
const FREQUENCY = { orders: ffi.SCRM_RFM_FREQUENCY_ORDERS, days: ffi.SCRM_RFM_FREQUENCY_DAYS };
const MONETARY = { sum: ffi.SCRM_RFM_MONETARY_SUM, mean: ffi.SCRM_RFM_MONETARY_MEAN };

function pick(table, value, what) {
  if (!Object.prototype.hasOwnProperty.call(table, value)) {
    throw new RangeError(`${what}: '${value}' is not one of ${Object.keys(table).join(', ')}`);
  }
  return table[value];
}

function nameOf(table, value) {
  for (const [k, v] of Object.entries(table)) if (v === value) return k;
  return value;
}

function charCode(s, what) {
  if (typeof s !== 'string' || s.length !== 1) {
    throw new TypeError(`${what}: expected one character`);
  }
  return s.charCodeAt(0);
}

function camel(snake) {
  return snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

function addDispose(cls) {
  if (typeof Symbol.dispose === 'symbol') cls.prototype[Symbol.dispose] = cls.prototype.close;
}

// ---------------------------------------------------------------------------
// SegmentMap
// ---------------------------------------------------------------------------

class SegmentMap {
  /** An empty map; add rules with add(). */
  constructor(handle) {
    this[HANDLE] = handle === undefined ? ffi.scrm_segment_map_new() : handle;
  }

  /** A named, versioned preset: 'rfm11-v1' or 'rf10-v1' (see docs/rfm.md). */
  static preset(name) {
    return new SegmentMap(ffi.scrm_segment_map_preset(name));
  }

  /** The names of the presets. */
  static presets() {
    const out = [];
    for (let i = 0; ; i++) {
      const n = ffi.scrm_segment_map_preset_name(i);
      if (n === null) return out;
      out.push(n);
    }
  }

  /**
   * Append a rule (first match wins): `{r: [lo, hi], f: [lo, hi], m: [lo, hi]}`,
   * inclusive score bounds; a missing dimension matches any score. Returns this.
   */
  add(name, { r = [1, 10], f = [1, 10], m = [1, 10] } = {}) {
    ffi.scrm_segment_map_add(this[HANDLE], name, r[0], r[1], f[0], f[1], m[0], m[1]);
    return this;
  }

  get size() { return ffi.scrm_segment_map_count(this[HANDLE]); }
  /** The number of bins the map was designed for (5 for presets; 0: any). */
  get bins() { return ffi.scrm_segment_map_bins(this[HANDLE]); }
  name(i) { return ffi.scrm_segment_map_name(this[HANDLE], i); }

  names() {
    const out = [];
    for (let i = 0; i < this.size; i++) out.push(this.name(i));
    return out;
  }

  /** The rule of segment i: {name, r: [lo, hi], f: [lo, hi], m: [lo, hi]}. */
  rule(i) {
    const b = ffi.scrm_segment_map_rule(this[HANDLE], i);
    return { name: this.name(i), r: [b[0], b[1]], f: [b[2], b[3]], m: [b[4], b[5]] };
  }

  /** The index of segment `name`, or -1. */
  find(name) {
    try {
      return ffi.scrm_segment_map_find(this[HANDLE], name);
    } catch (e) {
      if (e instanceof ShopcrmError && e.code === ffi.SCRM_ENOTFOUND) return -1;
      throw e;
    }
  }

  /** The segment index of a score triple (first matching rule), or -1. */
  match(r, f, m) { return ffi.scrm_segment_map_match(this[HANDLE], r, f, m); }

  close() { ffi.scrm_segment_map_free(this[HANDLE]); }
}
addDispose(SegmentMap);

// ---------------------------------------------------------------------------
// RFM result
// ---------------------------------------------------------------------------

const STATS = [
  ['share', 'SCRM_RFM_STAT_SHARE'], ['meanR', 'SCRM_RFM_STAT_MEAN_R'],
  ['meanF', 'SCRM_RFM_STAT_MEAN_F'], ['meanM', 'SCRM_RFM_STAT_MEAN_M'],
  ['meanRecencyDays', 'SCRM_RFM_STAT_MEAN_RECENCY'],
  ['meanFrequency', 'SCRM_RFM_STAT_MEAN_FREQUENCY'],
  ['meanMonetary', 'SCRM_RFM_STAT_MEAN_MONETARY'],
];

class RfmResult {
  constructor(handle, dataset) {
    this[HANDLE] = handle;
    Object.defineProperty(this, '_dataset', { value: dataset });
    const map = ffi.scrm_rfm_segment_map(handle);
    Object.defineProperty(this, '_map', { value: new SegmentMap(map) });
    /** Number of customers (length of every column). */
    this.customers = ffi.scrm_rfm_customer_count(handle);
    this.bins = ffi.scrm_rfm_bins(handle);
    const asOf = ffi.scrm_rfm_as_of(handle);
    /** The as-of time used, as a Date and in seconds. */
    this.asOf = new Date(Number(asOf) * 1000);
    this.asOfSeconds = num(asOf);
    // Columns: TypedArrays over the library's memory (no copy), indexed by
    // customer index; read-only by contract. They stay valid after close().
    this.recencyDays = ffi.scrm_rfm_recency_days(handle);
    this.frequency = ffi.scrm_rfm_frequency(handle);
    this.monetary = ffi.scrm_rfm_monetary(handle);
    this.revenue = ffi.scrm_rfm_revenue(handle);
    this.r = ffi.scrm_rfm_scores(handle, ffi.SCRM_RFM_R);
    this.f = ffi.scrm_rfm_scores(handle, ffi.SCRM_RFM_F);
    this.m = ffi.scrm_rfm_scores(handle, ffi.SCRM_RFM_M);
    this.segment = ffi.scrm_rfm_segments(handle);
    this.edges = {
      r: ffi.scrm_rfm_edges(handle, ffi.SCRM_RFM_R),
      f: ffi.scrm_rfm_edges(handle, ffi.SCRM_RFM_F),
      m: ffi.scrm_rfm_edges(handle, ffi.SCRM_RFM_M),
    };
    /** Segment names by segment index. */
    this.segmentNames = this._map.names();
  }

  /** The segment name of customer i, or null when unassigned. */
  segmentName(i) {
    const s = this.segment[i];
    if (s === undefined) throw new RangeError(`segmentName: no customer ${i}`);
    return s >= 0 ? this.segmentNames[s] : null;
  }

  /** Customer key of customer index i (from the dataset). */
  key(i) { return this._dataset.key(i); }

  /**
   * The segment summary: one object per segment in map order, then one for
   * the unassigned customers (name null): name, index, customers, share,
   * revenue (minor units), meanR, meanF, meanM, meanRecencyDays,
   * meanFrequency, meanMonetary (NaN for an empty segment).
   */
  segments() {
    const h = this[HANDLE];
    const counts = ffi.scrm_rfm_segment_customers(h);
    const revenue = ffi.scrm_rfm_segment_revenue(h);
    const stats = STATS.map(([k, c]) => [k, ffi.scrm_rfm_segment_stat(h, ffi[c])]);
    const out = [];
    for (let s = 0; s < counts.length; s++) {
      const unassigned = s === counts.length - 1;
      const row = {
        name: unassigned ? null : this.segmentNames[s],
        index: unassigned ? -1 : s,
        customers: num(counts[s]),
        revenue: num(revenue[s]),
      };
      for (const [k, col] of stats) row[k] = col[s];
      out.push(row);
    }
    return out;
  }

  segmentIndices(names) {
    if (!Array.isArray(names)) names = [names];
    return Int32Array.from(names, (n) => (n === null ? -1
                                                       : ffi.scrm_segment_map_find(this._map[HANDLE], n)));
  }

  /** Customer indices of the segments `names` (null: the unassigned), ascending. */
  audienceIndices(names) {
    const segs = this.segmentIndices(names);
    return ffi.scrm_rfm_audience(this[HANDLE], segs, segs.length);
  }

  /** Customer keys of the segments `names` (null: the unassigned), by customer index. */
  audience(names) {
    return Array.from(this.audienceIndices(names), (i) => this._dataset.key(i));
  }

  /** Write every customer as CSV (customer,recency_days,frequency,monetary,r,f,m,segment). */
  writeCsv(file) {
    ffi.scrm_rfm_write_csv(this[HANDLE], this._dataset[HANDLE], file);
  }

  /** Write the audience of segments `names` as CSV (customer,segment). */
  writeAudienceCsv(file, names) {
    const segs = this.segmentIndices(names);
    ffi.scrm_rfm_audience_write_csv(this[HANDLE], this._dataset[HANDLE], segs, segs.length, file);
  }

  /** Release the result; columns already taken stay valid until collected. */
  close() {
    this._map.close();
    ffi.scrm_rfm_free(this[HANDLE]);
  }
}
addDispose(RfmResult);

// ---------------------------------------------------------------------------
// Dataset
// ---------------------------------------------------------------------------

const CSV_OPTIONS = {
  customer: 'customer_column', time: 'time_column', amount: 'amount_column',
  orderId: 'order_id_column', quantity: 'quantity_column', unitPrice: 'unit_price_column',
  header: null, delimiter: null, timeFormat: null, decimal: null, minorDigits: 'minor_digits',
  utcOffset: 'utc_offset', onError: null, maxRejects: 'max_rejects', naCustomer: 'na_customer',
  progress: 'progress', threads: 'threads',
};

function csvOptions(opts) {
  checkKeys(opts, Object.keys(CSV_OPTIONS), 'fromCsv');
  const o = {};
  for (const [k, c] of Object.entries(CSV_OPTIONS)) {
    if (opts[k] === undefined || c === null) continue;
    o[c] = opts[k];
  }
  if (opts.header !== undefined) o.has_header = opts.header ? 1 : 0;
  if (opts.delimiter !== undefined) o.delimiter = opts.delimiter === null ? 0 : charCode(opts.delimiter, 'delimiter');
  if (opts.timeFormat !== undefined) o.time_format = pick(TIME_FORMATS, opts.timeFormat, 'timeFormat');
  if (opts.decimal !== undefined) o.decimal_separator = charCode(opts.decimal, 'decimal');
  if (opts.onError !== undefined) o.on_error = pick(ON_ERROR, opts.onError, 'onError');
  return o;
}

function readReport(rep) {
  const rejects = [];
  const n = Number(ffi.scrm_csv_report_reject_count(rep));
  for (let i = 0; i < n; i++) {
    const r = ffi.scrm_csv_report_reject(rep, i);
    rejects.push({ line: num(r.line), column: r.column, reason: r.reason });
  }
  return {
    rowsRead: num(ffi.scrm_csv_report_rows_read(rep)),
    rowsAdded: num(ffi.scrm_csv_report_rows_added(rep)),
    duplicates: num(ffi.scrm_csv_report_duplicates(rep)),
    emptyCustomer: num(ffi.scrm_csv_report_empty_customer(rep)),
    rejected: num(ffi.scrm_csv_report_rejected(rep)),
    timeFormat: nameOf(TIME_FORMATS, ffi.scrm_csv_report_time_format(rep)),
    delimiter: String.fromCharCode(ffi.scrm_csv_report_delimiter(rep)),
    keyType: nameOf(KEY_TYPES, ffi.scrm_csv_report_key_type(rep)),
    rejects,
  };
}

class Dataset {
  /** An empty dataset. keyType: 'auto' (default), 'u64' or 'string'. */
  constructor({ keyType = 'auto', threads = 0 } = {}) {
    this[HANDLE] = ffi.scrm_dataset_new({ key_type: pick(KEY_TYPES, keyType, 'keyType'), threads });
    /** The report of the last CSV load (fromCsv / loadCsv), or null. */
    this.report = null;
  }

  /**
   * A dataset loaded from a CSV file. Options (all optional): customer
   * ('customer_id'), time ('date'), amount ('amount'), orderId, quantity,
   * unitPrice, header (true), delimiter (detected), timeFormat ('auto' |
   * 'iso8601' | 'yyyymmdd' | 'dmy' | 'epoch'), decimal ('.'), minorDigits (2),
   * utcOffset (0 s), onError ('strict' | 'skip'), maxRejects (100),
   * naCustomer, progress((done, total) => cancel?), threads, keyType.
   * The load report is `ds.report`.
   */
  static fromCsv(file, opts = {}) {
    const { keyType, ...rest } = opts || {};
    const ds = new Dataset({ keyType: keyType || 'auto', threads: rest.threads || 0 });
    try {
      ds.loadCsv(file, rest);
    } catch (e) {
      ds.close();
      throw e;
    }
    return ds;
  }

  /** A dataset from arrays (see append()). */
  static fromArrays(customers, times, amounts, opts = {}) {
    const { orderKeys, keyType, threads } = checkKeys(opts, ['orderKeys', 'keyType', 'threads'],
                                                      'fromArrays');
    const ds = new Dataset({ keyType: keyType || 'auto', threads: threads || 0 });
    try {
      ds.append(customers, times, amounts, { orderKeys });
    } catch (e) {
      ds.close();
      throw e;
    }
    return ds;
  }

  /** Append the orders of a CSV file (atomic); returns and stores the report. */
  loadCsv(file, opts = {}) {
    const rep = ffi.scrm_csv_load_file(this[HANDLE], file, csvOptions(opts || {}));
    try {
      this.report = readReport(rep);
    } finally {
      ffi.scrm_csv_report_free(rep);
    }
    return this.report;
  }

  /**
   * Append orders (atomic: a bad row adds nothing and throws ShopcrmError with
   * its 0-based index). customers: numbers/BigInts or a BigUint64Array
   * (uint64 keys), or strings; times: Dates, epoch seconds or a
   * BigInt64Array; amounts: integers in minor units (cents) or a
   * BigInt64Array; orderKeys (optional): integers, strings or a
   * BigUint64Array, for de-duplication. Returns the number of rows added.
   */
  append(customers, times, amounts, opts = {}) {
    const { orderKeys } = checkKeys(opts, ['orderKeys'], 'append');
    if (customers == null || typeof customers.length !== 'number') {
      throw new TypeError('customers: expected an array');
    }
    const n = customers.length;
    const t = timesArray(times, n);
    const a = amountsArray(amounts, n);
    const k = orderKeysArray(orderKeys, n);
    let added;
    if (n > 0 && typeof customers[0] === 'string') {
      added = ffi.scrm_dataset_append_str(this[HANDLE], n, customers, null, t, a, k);
    } else {
      let c = customers;
      if (!(c instanceof BigUint64Array)) {
        c = new BigUint64Array(n);
        for (let i = 0; i < n; i++) c[i] = toBigInt(customers[i], `customers[${i}]`, 0n, U64_MAX);
      }
      added = ffi.scrm_dataset_append_u64(this[HANDLE], n, c, t, a, k);
    }
    return num(added);
  }

  /** Number of distinct customers. */
  get customers() { return num(ffi.scrm_dataset_customer_count(this[HANDLE])); }
  /** Number of orders stored (duplicates excluded). */
  get orders() { return num(ffi.scrm_dataset_order_count(this[HANDLE])); }
  /** Rows skipped as duplicate order keys. */
  get duplicates() { return num(ffi.scrm_dataset_duplicate_count(this[HANDLE])); }
  /** 'auto' (nothing appended yet), 'u64' or 'string'. */
  get keyType() { return nameOf(KEY_TYPES, ffi.scrm_dataset_key_type(this[HANDLE])); }

  /** {min, max} order times as Dates (and minSeconds, maxSeconds), or null when empty. */
  get timeRange() {
    let r;
    try {
      r = ffi.scrm_dataset_time_range(this[HANDLE]);
    } catch (e) {
      if (e instanceof ShopcrmError && e.code === ffi.SCRM_ENOTFOUND) return null;
      throw e;
    }
    return {
      min: new Date(Number(r.min) * 1000), max: new Date(Number(r.max) * 1000),
      minSeconds: Number(r.min), maxSeconds: Number(r.max),
    };
  }

  /** The key of customer index i: a string, a number, or a BigInt above 2^53. */
  key(i) {
    if (ffi.scrm_dataset_key_type(this[HANDLE]) === ffi.SCRM_KEY_STRING) {
      return ffi.scrm_dataset_customer_key_str(this[HANDLE], i);
    }
    return num(ffi.scrm_dataset_customer_key_u64(this[HANDLE], i));
  }

  /** The customer index of a key, or undefined when there is no such customer. */
  index(key) {
    try {
      if (typeof key === 'string') return ffi.scrm_dataset_find_str(this[HANDLE], key);
      return ffi.scrm_dataset_find_u64(this[HANDLE], toBigInt(key, 'key', 0n, U64_MAX));
    } catch (e) {
      if (e instanceof ShopcrmError && e.code === ffi.SCRM_ENOTFOUND) return undefined;
      throw e;
    }
  }

  /**
   * RFM scores and segments (docs/rfm.md). Options: bins (5), method
   * ('quantile' | 'ntile' | 'fixed'), asOf (Date or epoch seconds; default the
   * start of the day after the last order), utcOffset (s), frequency
   * ('orders' | 'days'), monetary ('sum' | 'mean'), edges {r, f, m} (fixed),
   * segments ('rfm11-v1' | 'rf10-v1' | a SegmentMap | null for none; default
   * 'rfm11-v1' with 5 bins), threads, progress((done, total) => cancel?).
   */
  rfm(opts = {}) {
    checkKeys(opts, ['bins', 'method', 'asOf', 'utcOffset', 'frequency', 'monetary', 'edges',
                     'segments', 'threads', 'progress'], 'rfm');
    const o = {};
    if (opts.bins !== undefined) o.bins = opts.bins;
    if (opts.method !== undefined) o.method = pick(METHODS, opts.method, 'method');
    if (opts.asOf !== undefined && opts.asOf !== null) o.as_of = toSeconds(opts.asOf, 'asOf');
    if (opts.utcOffset !== undefined) o.utc_offset = opts.utcOffset;
    if (opts.frequency !== undefined) o.frequency_mode = pick(FREQUENCY, opts.frequency, 'frequency');
    if (opts.monetary !== undefined) o.monetary_mode = pick(MONETARY, opts.monetary, 'monetary');
    if (opts.edges) {
      checkKeys(opts.edges, ['r', 'f', 'm'], 'rfm edges');
      for (const d of ['r', 'f', 'm']) if (opts.edges[d]) o[`${d}_edges`] = Array.from(opts.edges[d]);
    }
    if (opts.threads !== undefined) o.threads = opts.threads;
    if (opts.progress !== undefined) o.progress = opts.progress;
    let temp = null;
    if (typeof opts.segments === 'string') {
      temp = SegmentMap.preset(opts.segments);
      o.segments = temp[HANDLE];
    } else if (opts.segments === null) {
      temp = new SegmentMap(); // no rules: every customer unassigned
      o.segments = temp[HANDLE];
    } else if (opts.segments !== undefined) {
      if (!(opts.segments instanceof SegmentMap)) {
        throw new TypeError('segments: expected a preset name, a SegmentMap or null');
      }
      o.segments = opts.segments[HANDLE];
    }
    try {
      return new RfmResult(ffi.scrm_rfm_compute(this[HANDLE], o), this);
    } finally {
      if (temp) temp.close(); // the result holds its own copy
    }
  }

  /**
   * Shop KPIs for the window [start, end) (docs/kpi.md): a plain object of
   * metrics in camelCase (orders, customers, revenue, averageOrderValue, ...).
   * Counts and money sums (minor units) are numbers (BigInt beyond 2^53);
   * ratios are numbers, NaN when undefined. Options: start, end (Date or epoch
   * seconds; default unbounded), utcOffset, threads, progress.
   */
  kpi(opts = {}) {
    checkKeys(opts, ['start', 'end', 'utcOffset', 'threads', 'progress'], 'kpi');
    const o = {};
    if (opts.start != null) o.start = toSeconds(opts.start, 'start');
    if (opts.end != null) o.end = toSeconds(opts.end, 'end');
    if (opts.utcOffset !== undefined) o.utc_offset = opts.utcOffset;
    if (opts.threads !== undefined) o.threads = opts.threads;
    if (opts.progress !== undefined) o.progress = opts.progress;
    const k = ffi.scrm_kpi_compute(this[HANDLE], o);
    try {
      const out = {};
      for (let metric = 0; ; metric++) {
        const name = ffi.scrm_kpi_metric_name(metric);
        if (name === null) break;
        const type = ffi.scrm_kpi_metric_type(metric);
        out[camel(name)] = type === ffi.SCRM_KPI_TYPE_COUNT || type === ffi.SCRM_KPI_TYPE_MONEY
          ? num(ffi.scrm_kpi_count(k, metric))
          : ffi.scrm_kpi_value(k, metric);
      }
      return out;
    } finally {
      ffi.scrm_kpi_free(k);
    }
  }

  /** Free the dataset now (results computed from it stay valid); later use throws. */
  close() { ffi.scrm_dataset_free(this[HANDLE]); }
}
addDispose(Dataset);

// ---------------------------------------------------------------------------
// Surveys, version
// ---------------------------------------------------------------------------

function surveyArray(scores, what) {
  if (scores instanceof Int32Array) return scores;
  if (scores == null || typeof scores.length !== 'number') {
    throw new TypeError(`${what}: expected an array of integers`);
  }
  const out = new Int32Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new TypeError(`${what}[${i}]: expected an integer, got ${String(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** Net Promoter Score of 0..10 answers: % promoters (9-10) - % detractors (0-6). */
function nps(scores) {
  const a = surveyArray(scores, 'nps');
  return ffi.scrm_nps(a, a.length);
}

/** CSAT of 1..5 answers: % of answers 4 or 5. */
function csat(scores) {
  const a = surveyArray(scores, 'csat');
  return ffi.scrm_csat(a, a.length);
}

/** The library's version, "MAJOR.MINOR.PATCH". */
function version() {
  return ffi.scrm_version();
}

module.exports = {
  Dataset, RfmResult, SegmentMap, ShopcrmError, nps, csat, version, ffi,
};
