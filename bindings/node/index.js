'use strict';
/*
 * shopcrm: e-commerce customer analytics (RFM, KPIs, cohorts) for Node, over libshopcrm.
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
const I32_MIN = -(1n << 31n);
const I32_MAX = (1n << 31n) - 1n;

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

/** A BigInt as a Number when exact, else the BigInt ("BigInt where needed"). */
function num(b) {
  return b <= SAFE && b >= -SAFE ? Number(b) : b;
}

/** A count (customers, orders, rows) as a Number: a count is bounded by
 *  memory, far below 2^53, so it is always exact (and `a / b` type-checks). */
function count(b) {
  return Number(b);
}

/* A yes/no option: true or false only, as in Python ('no' would mean yes). */
function flag(v, what) {
  if (typeof v !== 'boolean') throw new TypeError(`${what}: expected true or false, got ${shown(v)}`);
  return v;
}

/* A score range of SegmentMap.add: one integer (lo == hi) or [lo, hi]. */
function bounds(v, what) {
  if (Number.isInteger(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2) return v;
  throw new TypeError(`${what}: expected a score or [lo, hi], got ${shown(v)}`);
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

/* How a wrong value is named in a message, as Python's repr() names it in
 * the Python binding's ("got 1.5", "got 'a'", "got null"). */
function shown(v) {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (v === null || v === undefined || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an Array' : `a ${v.constructor ? v.constructor.name : 'object'}`;
}

/* The messages shared with the Python binding (bindings/python/shopcrm/_util.py;
 * tests/data/binding_messages.json holds cases both suites check): TypeError
 * "what: expected an integer, got V" (a number or a BigInt), RangeError
 * "what: V is outside LO..HI". */
function toBigInt(v, what, lo, hi) {
  let b;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else throw new TypeError(`${what}: expected an integer, got ${shown(v)}`);
  if (b < lo || b > hi) throw new RangeError(`${what}: ${b} is outside ${lo}..${hi}`);
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
  for (let i = 0; i < n; i++) {
    const v = amounts[i];
    if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) {
      throw new TypeError(`amounts[${i}]: expected an integer, got ${shown(v)} ` +
                          '(amounts are integer minor units, e.g. cents)');
    }
    out[i] = toBigInt(v, `amounts[${i}]`, I64_MIN, I64_MAX);
  }
  return out;
}

function orderKeysArray(keys, n) {
  if (keys == null) return null;
  if (keys instanceof BigUint64Array) return checkLen(keys, n, 'orderKeys');
  checkLen(keys, n, 'orderKeys');
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    // string ids are hashed as the CSV loader does (scrm_dataset_order_key_from_string)
    out[i] = typeof k === 'string' ? ffi.scrm_dataset_order_key_from_string(k)
                                   : toBigInt(k, `orderKeys[${i}]`, 0n, U64_MAX);
  }
  return out;
}

/* An array or array-like; a string is not one (its characters would be taken
 * as the values). */
function isArrayLike(a) {
  return a != null && typeof a !== 'string' && typeof a.length === 'number';
}

function checkLen(a, n, what) {
  if (!isArrayLike(a)) throw new TypeError(`${what}: expected an array, got ${shown(a)}`);
  if (a.length !== n) {
    throw new RangeError(`${what}: ${a.length} values for ${n} customers`);
  }
  return a;
}

const KEY_TYPES = { auto: ffi.SCRM_KEY_AUTO, u64: ffi.SCRM_KEY_U64, string: ffi.SCRM_KEY_STRING };
const TIME_FORMATS = {
  auto: ffi.SCRM_TIME_AUTO, iso8601: ffi.SCRM_TIME_ISO8601, yyyymmdd: ffi.SCRM_TIME_YYYYMMDD,
  dmy: ffi.SCRM_TIME_DMY, mdy: ffi.SCRM_TIME_MDY, epoch: ffi.SCRM_TIME_EPOCH,
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

/* The scrm_kpi_options of kpi() and kpiPeriods(). */
function kpiOptions(opts, where) {
  checkKeys(opts, ['start', 'end', 'utcOffset', 'threads', 'progress', 'lookback'], where);
  const o = {};
  if (opts.start != null) o.start = toSeconds(opts.start, 'start');
  if (opts.end != null) o.end = toSeconds(opts.end, 'end');
  if (opts.utcOffset !== undefined) o.utc_offset = opts.utcOffset;
  if (opts.threads !== undefined) o.threads = opts.threads;
  if (opts.progress !== undefined) o.progress = opts.progress;
  if (opts.lookback !== undefined) o.lookback = opts.lookback;
  return o;
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

  /** A named, versioned preset: 'rfm11-v2', 'rfm11-v1' or 'rf10-v1' (see docs/rfm.md). */
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
   * inclusive score bounds (a single score means lo == hi, as in Python); a
   * missing dimension matches any score. Returns this.
   */
  add(name, rule = {}) {
    // an unknown key ({R: ...}) would leave that dimension matching anything
    const { r = [1, 10], f = [1, 10], m = [1, 10] } = checkKeys(rule, ['r', 'f', 'm'], 'add');
    const [rl, rh] = bounds(r, 'r'), [fl, fh] = bounds(f, 'f'), [ml, mh] = bounds(m, 'm');
    ffi.scrm_segment_map_add(this[HANDLE], name, rl, rh, fl, fh, ml, mh);
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

const COLUMNS = [
  ['recencyDays', (h) => ffi.scrm_rfm_recency_days(h)],
  ['frequency', (h) => ffi.scrm_rfm_frequency(h)],
  ['monetary', (h) => ffi.scrm_rfm_monetary(h)],
  ['revenue', (h) => ffi.scrm_rfm_revenue(h)],
  ['r', (h) => ffi.scrm_rfm_scores(h, ffi.SCRM_RFM_R)],
  ['f', (h) => ffi.scrm_rfm_scores(h, ffi.SCRM_RFM_F)],
  ['m', (h) => ffi.scrm_rfm_scores(h, ffi.SCRM_RFM_M)],
  ['segment', (h) => ffi.scrm_rfm_segments(h)],
];

/** The key of customer index i of dataset handle h (Dataset.key). */
function customerKey(h, i) {
  if (ffi.scrm_dataset_key_type(h) === ffi.SCRM_KEY_STRING) {
    return ffi.scrm_dataset_customer_key_str(h, i);
  }
  return num(ffi.scrm_dataset_customer_key_u64(h, i));
}

class RfmResult {
  // dsRef: the result's own reference to its dataset's native object
  // (ffi.retainHandle, read-only): it stays alive after ds.close() until this
  // result is closed or collected, so key(), audience() and the CSV exports
  // keep working.
  constructor(handle, dsRef) {
    this[HANDLE] = handle;
    Object.defineProperty(this, '_ds', { value: dsRef });
    const map = ffi.scrm_rfm_segment_map(handle);
    Object.defineProperty(this, '_map', { value: new SegmentMap(map) });
    /** Number of customers (length of every column). */
    this.customers = ffi.scrm_rfm_customer_count(handle);
    this.bins = ffi.scrm_rfm_bins(handle);
    const asOf = ffi.scrm_rfm_as_of(handle);
    /** The as-of time used, as a Date and in seconds. */
    this.asOf = new Date(Number(asOf) * 1000);
    this.asOfSeconds = num(asOf);
    /** Customers scored (an order before asOf); the others have segment -2 and scores 0. */
    this.scored = ffi.scrm_rfm_scored_count(handle);
    /** Customers with refunds but no order before asOf (not scored), and their refunds (minor units). */
    this.refundOnly = {
      customers: count(ffi.scrm_rfm_refund_only_count(handle)),
      revenue: num(ffi.scrm_rfm_refund_only_revenue(handle)),
    };
    /** Rows at or after an explicit asOf, left out of the snapshot. */
    this.rowsAfterAsOf = count(ffi.scrm_rfm_rows_after_as_of(handle));
    /** False for a dataset without amounts: no M dimension (monetary NaN, m 0). */
    this.hasMonetary = ffi.scrm_rfm_has_monetary(handle) === 1;
    /**
     * Per dimension: flags (1: one value held by more than half of the scored
     * customers, 2: the edges collapse) and that majority share (0 if none).
     */
    this.degenerate = {};
    for (const [d, dim] of [['r', ffi.SCRM_RFM_R], ['f', ffi.SCRM_RFM_F], ['m', ffi.SCRM_RFM_M]]) {
      this.degenerate[d] = {
        flags: ffi.scrm_rfm_degenerate(handle, dim),
        majorityShare: ffi.scrm_rfm_majority_share(handle, dim),
      };
    }
    // Columns (indexed by customer index) are copies of the library's memory,
    // made on first access and cached: a TypedArray cannot be read-only, and
    // a write to a view of the C column would change what audience() and
    // writeCsv() compute. Writing to a column changes only that copy.
    for (const [name, get] of COLUMNS) {
      Object.defineProperty(this, name, {
        configurable: true, enumerable: true,
        get() {
          const v = get(this[HANDLE]);
          Object.defineProperty(this, name, { value: v, enumerable: true, writable: false });
          return v;
        },
      });
    }
    this.edges = {
      r: ffi.scrm_rfm_edges(handle, ffi.SCRM_RFM_R),
      f: ffi.scrm_rfm_edges(handle, ffi.SCRM_RFM_F),
      m: ffi.scrm_rfm_edges(handle, ffi.SCRM_RFM_M),
    };
    /** Segment names by segment index (frozen: segmentName() reads them). */
    this.segmentNames = Object.freeze(this._map.names());
  }

  /** The segment name of customer i, or null when unassigned or not scored. */
  segmentName(i) {
    // from a private copy: a write to this.segment must not relabel anyone
    if (this._segment === undefined) {
      Object.defineProperty(this, '_segment', { value: ffi.scrm_rfm_segments(this[HANDLE]) });
    }
    const s = this._segment[i];
    if (s === undefined) throw new RangeError(`segmentName: no customer ${i}`);
    return s >= 0 ? this.segmentNames[s] : null;
  }

  /** Customer key of customer index i (from the dataset). */
  key(i) { return customerKey(this._ds, i); }

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
        customers: count(counts[s]),
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
    return Array.from(this.audienceIndices(names), (i) => customerKey(this._ds, i));
  }

  /**
   * Write every scored customer as CSV (customer,recency_days,frequency,monetary,r,f,m,segment;
   * without amounts customer,recency_days,frequency,r,f,segment), in customer key order.
   */
  writeCsv(file) {
    ffi.scrm_rfm_write_csv(this[HANDLE], this._ds, file);
  }

  /** Write the audience of segments `names` as CSV (customer,segment). */
  writeAudienceCsv(file, names) {
    const segs = this.segmentIndices(names);
    ffi.scrm_rfm_audience_write_csv(this[HANDLE], this._ds, segs, segs.length, file);
  }

  /** Release the result (and its reference to the dataset); columns already
   *  taken stay valid (they are copies). */
  close() {
    this._map.close();
    ffi.scrm_rfm_free(this[HANDLE]);
    ffi.scrm_dataset_free(this._ds);
  }
}
addDispose(RfmResult);

// ---------------------------------------------------------------------------
// Calendar periods and cohorts (shopcrm/cohorts.h, docs/cohorts.md)
// ---------------------------------------------------------------------------

const UNITS = {
  day: ffi.SCRM_PERIOD_DAY, week: ffi.SCRM_PERIOD_WEEK, month: ffi.SCRM_PERIOD_MONTH,
  quarter: ffi.SCRM_PERIOD_QUARTER, year: ffi.SCRM_PERIOD_YEAR,
};
const MODES = { classic: ffi.SCRM_COHORTS_CLASSIC, rolling: ffi.SCRM_COHORTS_ROLLING };
/** The columns of the long form (toLong(), writeCsv(), `shopcrm cohorts --out`). */
const LONG_COLUMNS = ['cohort', 'period', 'cohort_size', 'active_customers', 'orders', 'revenue',
                      'retention', 'partial'];
const NOT_ACQUIRED = -(1n << 63n); // SCRM_COHORTS_ALL, INT64_MIN

/**
 * The period index of time t (Date or epoch seconds): whole periods between
 * the period of local 1970-01-01 and that of t + utcOffset. unit: 'day',
 * 'week' (ISO 8601), 'month' (default), 'quarter', 'year'.
 */
function periodIndex(t, unit = 'month', utcOffset = 0) {
  return num(ffi.scrm_period_index(toSeconds(t, 't'), pick(UNITS, unit, 'unit'), utcOffset));
}

/** Epoch seconds (UTC) at which period `index` starts: local midnight of its first day. */
function periodStart(index, unit = 'month', utcOffset = 0) {
  return num(ffi.scrm_period_start(index, pick(UNITS, unit, 'unit'), utcOffset));
}

/** The label of a period: '2017-03-14', '2017-W09' (ISO year), '2017-03', '2017-Q1', '2017'. */
function periodLabel(index, unit = 'month') {
  return ffi.scrm_period_label(index, pick(UNITS, unit, 'unit'));
}

/**
 * Exact major units of integer minor units with the currency's minor digits
 * (scrm_money_print): -1234n -> '-12.34'; 1500 with 0 digits -> '1500', with 3 -> '1.500'.
 */
function formatMoney(minor, minorDigits = 2) {
  return ffi.scrm_money_print(BigInt(minor), minorDigits);
}

/* The decomposition x = mant * 2^e2 of a finite double (sign dropped). */
function binaryParts(x) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return exp === 0 ? { mant: frac, e2: -1074 } : { mant: frac | (1n << 52n), e2: exp - 1075 };
}

/* round(|x| * 10^s) to an integer, ties to even, from the exact binary value. */
function scaledInteger(x, s) {
  const { mant, e2 } = binaryParts(x);
  let num = mant * (e2 > 0 ? 1n << BigInt(e2) : 1n);
  let den = e2 < 0 ? 1n << BigInt(-e2) : 1n;
  if (s >= 0) num *= 10n ** BigInt(s);
  else den *= 10n ** BigInt(-s);
  let q = num / den;
  const twice = (num % den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return q;
}

/**
 * A finite double with `digits` decimals, rounded from its exact binary value
 * to nearest, ties to even: what C's printf("%.*f") and Python's format give
 * (Number.prototype.toFixed rounds ties up: 0.0078125 -> '0.007813'). '' for NaN.
 */
function formatFixed(x, digits = 6) {
  if (Number.isNaN(x)) return '';
  if (!Number.isFinite(x)) throw new RangeError(`formatFixed: ${x}`);
  const neg = x < 0 || Object.is(x, -0);
  const s = scaledInteger(x, digits).toString().padStart(digits + 1, '0');
  const body = digits ? `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}` : s;
  return (neg ? '-' : '') + body; // as printf: -0.0000001 -> '-0.000000'
}

/** C's printf("%.*g", p, x) for a finite double (exact, ties to even). */
function formatG(x, p) {
  if (!Number.isFinite(x)) throw new RangeError(`formatG: ${x}`);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (p === 0) p = 1;
  let digits;
  let X; // decimal exponent of the rounded value
  if (x === 0) {
    digits = '0'.repeat(p);
    X = 0;
  } else {
    // The exact decimal exponent E of |x| (10^E <= |x| < 10^(E+1)); log10 may be off by one.
    const { mant, e2 } = binaryParts(x);
    const atLeastPow10 = (E) => mant * (1n << BigInt(Math.max(e2, 0))) * 10n ** BigInt(Math.max(-E, 0)) >=
                                10n ** BigInt(Math.max(E, 0)) * (1n << BigInt(Math.max(-e2, 0)));
    X = Math.floor(Math.log10(Math.abs(x)));
    while (!atLeastPow10(X)) X -= 1;
    while (atLeastPow10(X + 1)) X += 1;
    const q = scaledInteger(x, p - 1 - X); // p significant digits
    if (q === 10n ** BigInt(p)) { // rounding carried: 9.99.. -> 10.0..
      X += 1;
      digits = (q / 10n).toString();
    } else {
      digits = q.toString();
    }
  }
  const trim = (t) => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (X < -4 || X >= p) {
    const m = trim(`${digits[0]}.${digits.slice(1)}`);
    const e = Math.abs(X) < 10 ? `0${Math.abs(X)}` : String(Math.abs(X));
    return `${sign}${m}e${X < 0 ? '-' : '+'}${e}`;
  }
  let t;
  if (X >= 0) t = `${digits.slice(0, X + 1)}.${digits.slice(X + 1)}`;
  else t = `0.${'0'.repeat(-X - 1)}${digits}`;
  return sign + trim(t);
}

/**
 * The shortest of printf's %.15g, %.16g, %.17g that reads back as the same
 * double: how `shopcrm cohorts --out` and the C and Python examples write
 * rates (0.5 -> '0.5', 1 -> '1'). '' for NaN (an empty cohort).
 */
function formatRate(x) {
  if (Number.isNaN(x)) return '';
  let s;
  for (let p = 15; p <= 17; p++) {
    s = formatG(x, p);
    if (Number(s) === x) break;
  }
  return s;
}

/**
 * Cohort matrices: `rows` cohorts (C) x `cols` periods since acquisition (K).
 * Matrices are row-major TypedArrays over the library's memory (no copy;
 * read-only by contract), cell (c, k) at index c * cols + k: active, orders
 * (BigUint64Array), revenue (BigInt64Array, minor units), retention, ltv,
 * cumOrders (Float64Array, NaN where not observable); sizes (BigUint64Array of
 * C). They stay valid after close().
 */
class CohortResult {
  constructor(handle, minorDigits = 2) {
    this[HANDLE] = handle;
    /** The dataset's currency minor digits (writeCsv's major units). */
    this.minorDigits = minorDigits;
    this.rows = ffi.scrm_cohorts_count(handle);
    this.cols = ffi.scrm_cohorts_periods(handle);
    this.unit = nameOf(UNITS, ffi.scrm_cohorts_unit(handle));
    /** Period index of cohort 0. */
    this.firstPeriod = num(ffi.scrm_cohorts_first_period(handle));
    const end = ffi.scrm_cohorts_observation_end(handle);
    /** Period index of the last observed period, or null. */
    this.observationEnd = end === NOT_ACQUIRED ? null : num(end);
    /** True when the data stops before the last observed period ends: its cells (c + k = cols - 1) are partial. */
    this.lastPartial = ffi.scrm_cohorts_last_partial(handle) === 1;
    /** Periods at the end not observed to their end: cells with c + k >= cols - n are partial. */
    this.partialPeriods = ffi.scrm_cohorts_partial_periods(handle);
    this.labels = [];
    for (let c = 0; c < this.rows; c++) this.labels.push(ffi.scrm_cohorts_label(handle, c));
    // Private copies for toLong() and row(); the public matrices are further
    // copies made on first access, so a write to them changes nothing here.
    const empty = (T) => new T(0);
    const m = {
      sizes: ffi.scrm_cohorts_sizes(handle) || empty(BigUint64Array),
      active: ffi.scrm_cohorts_active(handle) || empty(BigUint64Array),
      orders: ffi.scrm_cohorts_orders(handle) || empty(BigUint64Array),
      revenue: ffi.scrm_cohorts_revenue(handle) || empty(BigInt64Array),
      retention: ffi.scrm_cohorts_retention(handle) || empty(Float64Array),
      ltv: ffi.scrm_cohorts_ltv(handle) || empty(Float64Array),
      cumOrders: ffi.scrm_cohorts_cum_orders(handle) || empty(Float64Array),
    };
    Object.defineProperty(this, '_m', { value: m });
    for (const name of Object.keys(m)) {
      Object.defineProperty(this, name, {
        configurable: true, enumerable: true,
        get() {
          const v = m[name].slice();
          Object.defineProperty(this, name, { value: v, enumerable: true, writable: false });
          return v;
        },
      });
    }
  }

  /** Row c of a matrix (a copy). metric: 'retention', 'ltv', ... */
  row(metric, c) {
    if (metric === 'sizes' || !Object.prototype.hasOwnProperty.call(this._m, metric)) {
      throw new RangeError(`row: unknown metric '${metric}'`);
    }
    if (!Number.isInteger(c)) throw new TypeError(`row: expected an integer cohort, got ${shown(c)}`);
    if (!(c >= 0 && c < this.rows)) throw new RangeError(`row: no cohort ${c}`);
    return this._m[metric].slice(c * this.cols, (c + 1) * this.cols);
  }

  /** True when cell (c, k) lies at or before the observation end. */
  observable(c, k) {
    if (!Number.isInteger(c) || !Number.isInteger(k)) {
      throw new TypeError(`observable: expected integers, got ${shown(c)}, ${shown(k)}`);
    }
    return c >= 0 && c < this.rows && k >= 0 && c + k <= this.cols - 1;
  }

  /**
   * The observable cells in long form, cohort by cohort then period: objects
   * with the CSV columns cohort, period, cohort_size, active_customers, orders,
   * revenue (minor units), retention (NaN for an empty cohort), partial (true
   * for the cells of a partial last period); counts and
   * revenue are numbers (BigInt beyond 2^53).
   */
  toLong() {
    const out = [];
    for (let c = 0; c < this.rows; c++) {
      for (let k = 0; k < this.cols - c; k++) {
        const i = c * this.cols + k;
        out.push({
          cohort: this.labels[c], period: k, cohort_size: count(this._m.sizes[c]),
          active_customers: count(this._m.active[i]), orders: count(this._m.orders[i]),
          revenue: num(this._m.revenue[i]), retention: this._m.retention[i],
          partial: c + k + this.partialPeriods >= this.cols,
        });
      }
    }
    return out;
  }

  /**
   * Write the long form as CSV (cohort,period,cohort_size,active_customers,
   * orders,revenue,retention): revenue in major units with minorDigits
   * decimals (exact; by default the dataset's minor digits, 2 for cents),
   * retention as the shortest of %.15g / %.16g / %.17g that reads back
   * exactly (empty for an empty cohort); the format of `shopcrm cohorts
   * --out` and of the C and Python examples, written by
   * scrm_cohorts_write_csv().
   */
  writeCsv(file, minorDigits = this.minorDigits) {
    ffi.scrm_cohorts_write_csv(this[HANDLE], file, minorDigits);
  }

  /** The result of the union of two datasets with disjoint customers (same options). */
  merge(other) {
    if (!(other instanceof CohortResult)) throw new TypeError('merge: expected a CohortResult');
    return new CohortResult(ffi.scrm_cohorts_merge(this[HANDLE], other[HANDLE]), this.minorDigits);
  }

  /** Release the result; matrices already taken stay valid until collected. */
  close() { ffi.scrm_cohorts_free(this[HANDLE]); }
}
addDispose(CohortResult);

function acquisitionArray(ds, acq) {
  const n = Number(ffi.scrm_dataset_customer_count(ds[HANDLE]));
  if (acq instanceof BigInt64Array) return checkLen(acq, n, 'acquisition');
  const out = new BigInt64Array(n).fill(NOT_ACQUIRED);
  if (acq instanceof Map || (acq !== null && typeof acq === 'object' && typeof acq.length !== 'number')) {
    const entries = acq instanceof Map ? acq.entries() : Object.entries(acq);
    for (const [key, t] of entries) {
      // Object keys are strings: numeric ones name u64 customers.
      const k = typeof key === 'string' && ds.keyType === 'u64' ? BigInt(key) : key;
      const i = ds.index(k);
      if (i === undefined) throw new RangeError(`acquisition: no customer ${String(key)}`);
      out[i] = t == null ? NOT_ACQUIRED : toSeconds(t, `acquisition[${String(key)}]`);
    }
    return out;
  }
  checkLen(acq, n, 'acquisition');
  for (let i = 0; i < n; i++) {
    out[i] = acq[i] == null ? NOT_ACQUIRED : toSeconds(acq[i], `acquisition[${i}]`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Dataset
// ---------------------------------------------------------------------------

const CSV_OPTIONS = {
  customer: 'customer_column', time: 'time_column', amount: 'amount_column',
  orderId: 'order_id_column', quantity: 'quantity_column', unitPrice: 'unit_price_column',
  header: null, delimiter: null, timeFormat: null, decimal: null, minorDigits: 'minor_digits',
  utcOffset: 'utc_offset', onError: null, maxRejects: 'max_rejects', naCustomer: null,
  naDefaults: null, exclude: null, progress: 'progress', threads: 'threads',
};

function csvOptions(opts) {
  checkKeys(opts, Object.keys(CSV_OPTIONS), 'fromCsv');
  const o = {};
  for (const [k, c] of Object.entries(CSV_OPTIONS)) {
    if (opts[k] === undefined || c === null) continue;
    o[c] = opts[k];
  }
  if (opts.header !== undefined) o.has_header = flag(opts.header, 'header') ? 1 : 0;
  // checked here, as in Python (the library's message names the byte: 'delimiter 124')
  if (opts.delimiter !== undefined && opts.delimiter !== null && ![',', ';', '\t', ' '].includes(opts.delimiter)) {
    throw new RangeError(`delimiter: expected ',', ';', '\\t', ' ' or null, got ${shown(opts.delimiter)}`);
  }
  if (opts.decimal !== undefined && !['.', ','].includes(opts.decimal)) {
    throw new RangeError(`decimal: expected '.' or ',', got ${shown(opts.decimal)}`);
  }
  if (opts.delimiter !== undefined) o.delimiter = opts.delimiter === null ? 0 : charCode(opts.delimiter, 'delimiter');
  if (opts.timeFormat !== undefined) o.time_format = pick(TIME_FORMATS, opts.timeFormat, 'timeFormat');
  if (opts.decimal !== undefined) o.decimal_separator = charCode(opts.decimal, 'decimal');
  if (opts.onError !== undefined) o.on_error = pick(ON_ERROR, opts.onError, 'onError');
  // naCustomer: one value or an Array of values meaning "no customer"
  if (Array.isArray(opts.naCustomer)) {
    o.na_customers = opts.naCustomer;
    o.na_customer_count = opts.naCustomer.length;
  } else if (opts.naCustomer !== undefined) {
    o.na_customer = opts.naCustomer;
  }
  if (opts.naDefaults !== undefined) o.na_defaults = opts.naDefaults ? 1 : 0;
  // exclude: { column: value or [values] }, one filter entry per value
  if (opts.exclude !== undefined && opts.exclude !== null) {
    if (typeof opts.exclude !== 'object' || Array.isArray(opts.exclude))
      throw new TypeError('exclude: expected an object { column: value | [values] }');
    const cols = [], vals = [];
    for (const [col, v] of Object.entries(opts.exclude))
      for (const x of Array.isArray(v) ? v : [v]) {
        cols.push(col);
        vals.push(x);
      }
    o.exclude_columns = cols;
    o.exclude_values = vals;
    o.exclude_count = cols.length;
  }
  return o;
}

function readReport(rep) {
  const rejects = [];
  const n = Number(ffi.scrm_csv_report_reject_count(rep));
  for (let i = 0; i < n; i++) {
    const r = ffi.scrm_csv_report_reject(rep, i);
    rejects.push({ line: count(r.line), column: r.column, reason: r.reason });
  }
  return {
    rowsRead: count(ffi.scrm_csv_report_rows_read(rep)),
    rowsAdded: count(ffi.scrm_csv_report_rows_added(rep)),
    duplicates: count(ffi.scrm_csv_report_duplicates(rep)),
    linesMerged: count(ffi.scrm_csv_report_lines_merged(rep)),
    ordersMerged: count(ffi.scrm_csv_report_orders_merged(rep)),
    emptyCustomer: count(ffi.scrm_csv_report_empty_customer(rep)),
    excluded: count(ffi.scrm_csv_report_excluded(rep)),
    rejected: count(ffi.scrm_csv_report_rejected(rep)),
    timeFormat: nameOf(TIME_FORMATS, ffi.scrm_csv_report_time_format(rep)),
    delimiter: String.fromCharCode(ffi.scrm_csv_report_delimiter(rep)),
    keyType: nameOf(KEY_TYPES, ffi.scrm_csv_report_key_type(rep)),
    rejects,
  };
}

class Dataset {
  /**
   * An empty dataset. keyType: 'auto' (default), 'u64' or 'string';
   * minorDigits: the currency's minor unit digits (default 2; 0 for yen, 3 for dinars).
   */
  constructor(opts = {}) {
    // an unknown key ({minor_digits: 3}) would be dropped for the default
    const { keyType = 'auto', threads = 0, minorDigits } = checkKeys(
      opts, ['keyType', 'threads', 'minorDigits'], 'Dataset');
    const o = { key_type: pick(KEY_TYPES, keyType, 'keyType'), threads };
    if (minorDigits !== undefined) o.minor_digits = minorDigits;
    this[HANDLE] = ffi.scrm_dataset_new(o);
    /** The report of the last CSV load (fromCsv / loadCsv), or null. */
    this.report = null;
  }

  /**
   * A dataset loaded from a CSV file. Options (all optional): customer
   * ('customer_id'), time ('date'), amount ('amount'), orderId, quantity,
   * unitPrice, header (true), delimiter (detected), timeFormat ('auto' |
   * 'iso8601' | 'yyyymmdd' | 'dmy' | 'mdy' | 'epoch'), decimal ('.'), minorDigits (2),
   * utcOffset (0 s), onError ('strict' | 'skip'), maxRejects (100),
   * naCustomer, progress((done, total) => false to cancel), threads, keyType.
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
    const { orderKeys, keyType, threads, progress, minorDigits } = checkKeys(
      opts, ['orderKeys', 'keyType', 'threads', 'progress', 'minorDigits'], 'fromArrays');
    const ds = new Dataset({ keyType: keyType || 'auto', threads: threads || 0, minorDigits });
    try {
      ds.append(customers, times, amounts, { orderKeys, progress });
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
   * BigUint64Array, for de-duplication; progress (optional): (done, total)
   * in rows, return false to cancel (nothing is added, ShopcrmError with code
   * 'ECANCELLED'). Returns the number of rows added.
   */
  append(customers, times, amounts, opts = {}) {
    const { orderKeys, progress } = checkKeys(opts, ['orderKeys', 'progress'], 'append');
    const o = progress !== undefined ? { progress } : null;
    if (!isArrayLike(customers)) {
      throw new TypeError(`customers: expected an array, got ${shown(customers)}`);
    }
    const n = customers.length;
    const t = timesArray(times, n);
    const a = amountsArray(amounts, n);
    const k = orderKeysArray(orderKeys, n);
    let added;
    if (n > 0 && typeof customers[0] === 'string') {
      added = ffi.scrm_dataset_append_str(this[HANDLE], n, customers, null, t, a, k, o);
    } else {
      let c = customers;
      if (!(c instanceof BigUint64Array)) {
        c = new BigUint64Array(n);
        for (let i = 0; i < n; i++) c[i] = toBigInt(customers[i], `customers[${i}]`, 0n, U64_MAX);
      }
      added = ffi.scrm_dataset_append_u64(this[HANDLE], n, c, t, a, k, o);
    }
    return count(added);
  }

  /** Number of distinct customers. */
  get customers() { return count(ffi.scrm_dataset_customer_count(this[HANDLE])); }
  /** Number of orders stored (duplicates excluded). */
  get orders() { return count(ffi.scrm_dataset_order_count(this[HANDLE])); }
  /** Rows skipped as duplicate order keys. */
  get duplicates() { return count(ffi.scrm_dataset_duplicate_count(this[HANDLE])); }

  /** Rows merged so far into an order as its later lines (rows of one append or load sharing an order key). */
  get merged() { return count(ffi.scrm_dataset_merged_count(this[HANDLE])); }
  /** 'auto' (nothing appended yet), 'u64' or 'string'. */
  get keyType() { return nameOf(KEY_TYPES, ffi.scrm_dataset_key_type(this[HANDLE])); }

  /** False for a count-only dataset (loaded with amount: 'none': an event log). */
  get hasAmounts() { return ffi.scrm_dataset_has_amounts(this[HANDLE]) === 1; }
  /** Digits of the currency's minor unit (2 for cents, 0 for yen, 3 for dinars). */
  get minorDigits() { return ffi.scrm_dataset_minor_digits(this[HANDLE]); }

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
  key(i) { return customerKey(this[HANDLE], i); }

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
   * segments ('rfm11-v2' | 'rfm11-v1' | 'rf10-v1' | a SegmentMap | null for none; default
   * 'rfm11-v2' with 5 bins), threads, progress((done, total) => false to cancel).
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
      for (const d of ['r', 'f', 'm']) {
        if (!opts.edges[d]) continue;
        const e = Array.from(checkLen(opts.edges[d], opts.edges[d].length, `edges.${d}`));
        e.forEach((x, i) => {
          if (typeof x !== 'number') {
            throw new TypeError(`edges.${d}[${i}]: expected a number, got ${shown(x)}`);
          }
        });
        o[`${d}_edges`] = e;
      }
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
    // taken before the call: a progress callback may close this dataset
    const dsRef = ffi.retainHandle(this[HANDLE]);
    let h = null;
    try {
      h = ffi.scrm_rfm_compute(this[HANDLE], o);
      return new RfmResult(h, dsRef);
    } catch (e) {
      if (h) ffi.scrm_rfm_free(h);
      ffi.scrm_dataset_free(dsRef);
      throw e;
    } finally {
      if (temp) temp.close(); // the result holds its own copy
    }
  }

  /**
   * Shop KPIs for the window [start, end) (docs/kpi.md): a plain object of
   * metrics in camelCase (orders, customers, revenue, averageOrderValue, ...).
   * Counts and money sums (minor units) are numbers (BigInt beyond 2^53);
   * ratios are numbers, NaN when undefined. Options: start, end (Date or epoch
   * seconds; default unbounded), utcOffset, threads, progress, lookback
   * (seconds; default the window's length: a customer "at" t has an order in
   * [t - lookback, t)). `flags` holds the SCRM_KPI_FLAG_* bits, also as
   * lookbackIncomplete (the lookback reaches before the data) and partial
   * (the window reaches past it).
   */
  kpi(opts = {}) {
    const k = ffi.scrm_kpi_compute(this[HANDLE], kpiOptions(opts, 'kpi'));
    try {
      const out = {};
      const flags = ffi.scrm_kpi_flags(k);
      const noAmounts = (flags & ffi.SCRM_KPI_FLAG_NO_AMOUNTS) !== 0;
      for (let metric = 0; ; metric++) {
        const name = ffi.scrm_kpi_metric_name(metric);
        if (name === null) break;
        const type = ffi.scrm_kpi_metric_type(metric);
        out[camel(name)] = type === ffi.SCRM_KPI_TYPE_COUNT ? count(ffi.scrm_kpi_count(k, metric))
          : type === ffi.SCRM_KPI_TYPE_MONEY
            ? (noAmounts ? null : num(ffi.scrm_kpi_count(k, metric))) // count-only: absent
            : ffi.scrm_kpi_value(k, metric);
      }
      out.flags = flags;
      out.noAmounts = noAmounts;
      out.lookbackIncomplete = (out.flags & ffi.SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE) !== 0;
      out.partial = (out.flags & ffi.SCRM_KPI_FLAG_PARTIAL) !== 0;
      return out;
    } finally {
      ffi.scrm_kpi_free(k);
    }
  }

  /**
   * Every KPI of each calendar period, in one pass (docs/kpi.md): unit 'day',
   * 'week' (ISO), 'month', 'quarter' or 'year'; options as for kpi(), start
   * and end at the first instant of a period; lookback by default the period
   * before each row. Returns { unit, firstPeriod, labels, starts (epoch
   * seconds), flags (Uint32Array), lookbackIncomplete, partial (booleans per
   * row), columns: { camelCaseMetric: Float64Array } (every metric as a
   * double), exact: { camelCaseMetric: BigInt64Array } (counts and money) }:
   * copies, nothing to close.
   */
  kpiPeriods(unit = 'month', opts = {}) {
    const u = pick(UNITS, unit, 'unit');
    const utcOffset = opts.utcOffset === undefined ? 0 : opts.utcOffset;
    const r = ffi.scrm_kpi_periods_compute(this[HANDLE], u, kpiOptions(opts, 'kpiPeriods'));
    try {
      const n = ffi.scrm_kpi_periods_count(r);
      const first = ffi.scrm_kpi_periods_first(r);
      const out = { unit, firstPeriod: num(first), labels: [], starts: [], columns: {}, exact: {} };
      for (let i = 0; i < n; i++) {
        const p = BigInt(first) + BigInt(i);
        out.labels.push(ffi.scrm_period_label(p, u));
        out.starts.push(num(ffi.scrm_period_start(p, u, utcOffset)));
      }
      out.flags = n ? ffi.scrm_kpi_periods_flags(r).slice() : new Uint32Array(0);
      out.lookbackIncomplete = Array.from(out.flags,
        (f) => (f & ffi.SCRM_KPI_FLAG_LOOKBACK_INCOMPLETE) !== 0);
      out.partial = Array.from(out.flags, (f) => (f & ffi.SCRM_KPI_FLAG_PARTIAL) !== 0);
      // a count-only dataset: money columns are NaN (absent), exact sums 0
      out.noAmounts = n > 0 && (out.flags[0] & ffi.SCRM_KPI_FLAG_NO_AMOUNTS) !== 0;
      for (let metric = 0; ; metric++) {
        const name = ffi.scrm_kpi_metric_name(metric);
        if (name === null) break;
        out.columns[camel(name)] = n ? ffi.scrm_kpi_periods_values(r, metric).slice()
          : new Float64Array(0);
        const type = ffi.scrm_kpi_metric_type(metric);
        if (type === ffi.SCRM_KPI_TYPE_COUNT || type === ffi.SCRM_KPI_TYPE_MONEY) {
          out.exact[camel(name)] = n ? ffi.scrm_kpi_periods_exact(r, metric).slice()
            : new BigInt64Array(0);
        }
      }
      return out;
    } finally {
      ffi.scrm_kpi_periods_free(r);
    }
  }

  /**
   * Cohort retention matrices (docs/cohorts.md). Options: period ('day' |
   * 'week' | 'month' (default) | 'quarter' | 'year'), mode ('classic' |
   * 'rolling'), start, end (Date or epoch seconds; the window [start, end)),
   * utcOffset (s), minAmount (minor units), refunds (false), acquisition (one
   * time per customer: an array in customer index order, a BigInt64Array, or a
   * Map / object keyed by customer key; null = not acquired), threads, progress.
   */
  cohorts(opts = {}) {
    checkKeys(opts, ['period', 'mode', 'start', 'end', 'utcOffset', 'minAmount', 'refunds',
                     'acquisition', 'threads', 'progress'], 'cohorts');
    const o = {};
    if (opts.period !== undefined) o.unit = pick(UNITS, opts.period, 'period');
    if (opts.mode !== undefined) o.mode = pick(MODES, opts.mode, 'mode');
    if (opts.start != null) o.start = toSeconds(opts.start, 'start');
    if (opts.end != null) o.end = toSeconds(opts.end, 'end');
    if (opts.utcOffset !== undefined) o.utc_offset = opts.utcOffset;
    if (opts.minAmount !== undefined) o.min_amount = opts.minAmount;
    if (opts.refunds !== undefined) o.refunds = flag(opts.refunds, 'refunds') ? 1 : 0;
    if (opts.acquisition != null) {
      o.acquisition = acquisitionArray(this, opts.acquisition);
      o.acquisition_count = o.acquisition.length;
    }
    if (opts.threads !== undefined) o.threads = opts.threads;
    if (opts.progress !== undefined) o.progress = opts.progress;
    const digits = this.minorDigits; // before: a progress callback may close this
    return new CohortResult(ffi.scrm_cohorts_compute(this[HANDLE], o), digits);
  }

  /** Free the dataset now (results computed from it stay valid); later use throws. */
  close() { ffi.scrm_dataset_free(this[HANDLE]); }
}
addDispose(Dataset);

// ---------------------------------------------------------------------------
// Surveys, version
// ---------------------------------------------------------------------------

/* Survey answers as an Int32Array, named 'scores' in messages as in Python;
 * an empty array goes to the library, which names the function: "scrm_kpi_nps:
 * no answers (n = 0)" (ShopcrmError SCRM_EINVAL), the same message as Python's. */
function surveyArray(scores) {
  if (scores instanceof Int32Array) return scores;
  if (!isArrayLike(scores)) {
    throw new TypeError(`scores: expected an array of integers, got ${shown(scores)}`);
  }
  const out = new Int32Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    out[i] = Number(toBigInt(scores[i], `scores[${i}]`, I32_MIN, I32_MAX));
  }
  return out;
}

/** Net Promoter Score of 0..10 answers: % promoters (9-10) - % detractors (0-6). */
function nps(scores) {
  const a = surveyArray(scores);
  return ffi.scrm_kpi_nps(a, a.length);
}

/** CSAT of 1..5 answers: % of answers 4 or 5. */
function csat(scores) {
  const a = surveyArray(scores);
  return ffi.scrm_kpi_csat(a, a.length);
}

/** The library's version, "MAJOR.MINOR.PATCH". */
function version() {
  return ffi.scrm_version();
}

module.exports = {
  Dataset, RfmResult, SegmentMap, CohortResult, ShopcrmError, nps, csat, version, ffi,
  periodIndex, periodStart, periodLabel, formatMoney, formatFixed, formatG, formatRate,
  LONG_COLUMNS,
};
