// Types of the idiomatic shopcrm API (index.js). The low-level layer, named as
// in C, is typed in lib/ffi.d.ts and available as `ffi`.
import * as ffi from './lib/ffi';

export { ffi };

/** The TypedArray a column getter of the low-level layer returns (generated in
 *  lib/ffi.d.ts from the header's @scrm_len declarations), without its null. */
export type Column<F extends (...args: never[]) => unknown> = NonNullable<ReturnType<F>>;

/** Thrown for every library failure (and by the low-level layer). */
export declare class ShopcrmError extends Error {
  constructor(message: string, code: number, codeName: string, index: number);
  /** The SCRM_E* code: -1 EINVAL, -2 ENOMEM, -3 EPARSE, -4 EIO, ... (docs/errors.md). */
  readonly code: number;
  /** The code's name, such as "SCRM_EPARSE". */
  readonly codeName: string;
  /** The row (0-based, appends), line (1-based, CSV) or answer index at fault, or -1. */
  readonly index: number;
}

/** A time: a Date, or seconds since the Unix epoch (UTC). */
export type Time = Date | number | bigint;
/** A customer key as returned: a number, a BigInt beyond 2^53, or a string. */
export type Key = number | bigint | string;
/**
 * Progress callback, run synchronously during the call: return false (or
 * throw) to cancel; undefined or true continues. Any other return value,
 * including the Promise of an async function, throws a TypeError.
 */
export type Progress = (done: number, total: number) => boolean | void;

/** The names of the built-in segment maps (docs/rfm.md). */
export type SegmentPreset = 'rfm11-v2' | 'rfm11-v1' | 'rf10-v1';

/** What writes a TypedArray in place: absent from a ReadonlyColumn. */
type Mutator = 'fill' | 'set' | 'sort' | 'reverse' | 'copyWithin';
/**
 * A result column: a TypedArray typed read-only (no index assignment, no
 * fill, set, sort, reverse, copyWithin). At run time it is a copy of the
 * library's memory made on first access, so even a write that bypasses the
 * types changes only that copy, never what the library computes or writes.
 */
export type ReadonlyColumn<T> =
  { readonly [i: number]: T extends { [i: number]: infer E } ? E : never } &
  Omit<T, Mutator | number>;
/** A column of the low-level layer's getter F, typed read-only. */
export type RColumn<F extends (...args: never[]) => unknown> = ReadonlyColumn<Column<F>>;

export interface CsvOptions {
  customer?: string;
  time?: string;
  amount?: string;
  orderId?: string | null;
  quantity?: string | null;
  unitPrice?: string | null;
  header?: boolean;
  /** ',', ';' or '\t'; detected when absent or null. */
  delimiter?: string | null;
  timeFormat?: 'auto' | 'iso8601' | 'yyyymmdd' | 'dmy' | 'mdy' | 'epoch';
  decimal?: '.' | ',';
  minorDigits?: number;
  /** Seconds; time_utc = local - utcOffset. */
  utcOffset?: number;
  onError?: 'strict' | 'skip';
  maxRejects?: number;
  /** A value, or values, meaning "no customer": such rows are skipped and counted. */
  naCustomer?: string | string[] | null;
  /** Also the library's default set (NA, N/A, null, NaN, None, ...); default true. */
  naDefaults?: boolean;
  /** Rows to leave out (skipped and counted): { column: value or [values] }. */
  exclude?: Record<string, string | string[]> | null;
  progress?: Progress | null;
  threads?: number;
  keyType?: 'auto' | 'u64' | 'string';
}

export interface CsvReport {
  rowsRead: number;
  rowsAdded: number;
  /** Rows whose order id an earlier load stored (re-deliveries). */
  duplicates: number;
  /** Rows merged into an order an earlier row of the load started. */
  linesMerged: number;
  /** Orders of the load made of several lines. */
  ordersMerged: number;
  emptyCustomer: number;
  /** Rows left out by the exclude filter. */
  excluded: number;
  rejected: number;
  timeFormat: 'auto' | 'iso8601' | 'yyyymmdd' | 'dmy' | 'mdy' | 'epoch';
  delimiter: string;
  keyType: 'auto' | 'u64' | 'string';
  rejects: { line: number; column: string; reason: string }[];
}

export interface RfmOptions {
  /** Number of scores N, 2..10 (default 5). */
  bins?: number;
  method?: 'quantile' | 'ntile' | 'fixed';
  /** Default: the start of the day after the last order's day. */
  asOf?: Time | null;
  utcOffset?: number;
  frequency?: 'orders' | 'days';
  monetary?: 'sum' | 'mean';
  /** method 'fixed': bins - 1 ascending edges per dimension. */
  edges?: { r?: ArrayLike<number>; f?: ArrayLike<number>; m?: ArrayLike<number> };
  /** A preset name, a SegmentMap, or null for no segments (default 'rfm11-v2' with 5 bins). */
  segments?: SegmentPreset | SegmentMap | null;
  threads?: number;
  progress?: Progress | null;
}

export interface SegmentSummary {
  /** null for the unassigned customers (always the last entry). */
  name: string | null;
  index: number;
  customers: number;
  share: number;
  /** Exact sum in minor units (BigInt beyond 2^53). */
  revenue: number | bigint | null;
  meanR: number;
  meanF: number;
  meanM: number;
  meanRecencyDays: number;
  meanFrequency: number;
  meanMonetary: number;
}

export interface KpiOptions {
  start?: Time | null;
  end?: Time | null;
  utcOffset?: number;
  threads?: number;
  progress?: Progress | null;
  /** Seconds (default: the window's length; with kpiPeriods, the period before each row): a customer "at" t has an order in [t - lookback, t). */
  lookback?: number;
}

/** kpiPeriods(): one row per calendar period; copies, nothing to close. */
export interface KpiPeriods {
  unit: PeriodUnit;
  /** Period index of row 0. */
  firstPeriod: number | bigint;
  /** Period labels: '2017-03', '2017-W09', ... */
  labels: string[];
  /** Start of each row, epoch seconds (local midnight with utcOffset). */
  starts: (number | bigint)[];
  /** SCRM_KPI_FLAG_* bits of each row. */
  flags: Uint32Array;
  /** The row's lookback reaches before the data: its customers at the start are incomplete. */
  /** A count-only dataset: money columns are NaN (absent), their exact sums 0. */
  noAmounts: boolean;
  lookbackIncomplete: boolean[];
  /** The row's period reaches outside the data. */
  partial: boolean[];
  /** Every metric (camelCase) for every row, as doubles (NaN when undefined). */
  columns: { [metric: string]: Float64Array };
  /** Counts and money sums (minor units), exact. */
  exact: { [metric: string]: BigInt64Array };
}

/** Counts are numbers (exact: they are far below 2^53); money sums (minor units) numbers, BigInt beyond 2^53, null for a count-only dataset (noAmounts; money means and shares are then NaN); ratios NaN when undefined. */
export interface Kpi {
  orders: number;
  refunds: number;
  customers: number;
  newCustomers: number;
  returningCustomers: number;
  repeatCustomers: number;
  revenue: number | bigint;
  orderRevenue: number | bigint | null;
  refundAmount: number | bigint | null;
  newRevenue: number | bigint | null;
  returningRevenue: number | bigint | null;
  averageOrderValue: number;
  purchaseFrequency: number;
  repeatRate: number;
  revenuePerCustomer: number;
  newCustomerShare: number;
  newRevenueShare: number;
  returningRevenueShare: number;
  customersAtStart: number;
  customersAtEnd: number;
  retainedCustomers: number;
  retentionRate: number;
  churnRate: number;
  purchaseIntervals: number;
  meanDaysBetweenPurchases: number;
  medianDaysBetweenPurchases: number;
  retainedFromStart: number;
  retainedFromStartShare: number;
  reactivatedCustomers: number;
  /** SCRM_KPI_FLAG_* bits. */
  flags: number;
  /** The lookback reaches before the data: the customers at the start are incomplete. */
  lookbackIncomplete: boolean;
  /** The window reaches outside the data. */
  partial: boolean;
  /** A count-only dataset: the money metrics are absent (null or NaN). */
  noAmounts: boolean;
  [metric: string]: number | bigint | boolean | null;
}

export interface SegmentRule {
  name: string;
  r: [number, number];
  f: [number, number];
  m: [number, number];
}

export declare class SegmentMap {
  constructor();
  static preset(name: SegmentPreset): SegmentMap;
  static presets(): SegmentPreset[];
  /** Append a rule (first match wins): [lo, hi] score bounds, or one score
   *  (lo == hi); a missing dimension matches any score. */
  add(name: string, bounds?: { r?: [number, number] | number; f?: [number, number] | number;
                               m?: [number, number] | number }): this;
  readonly size: number;
  readonly bins: number;
  name(i: number): string | null;
  names(): string[];
  rule(i: number): SegmentRule;
  find(name: string): number;
  match(r: number, f: number, m: number): number;
  close(): void;
}

/** RFM result: columns are read-only TypedArrays (copies made on first access, cached), indexed by customer index. */
export declare class RfmResult {
  readonly customers: number;
  readonly bins: number;
  readonly asOf: Date;
  readonly asOfSeconds: number | bigint;
  /** Customers with an order before asOf; the others have segment -2 and scores 0. */
  readonly scored: number;
  /** Customers with refunds but no order before asOf, and their refunds (minor units). */
  readonly refundOnly: { customers: number; revenue: number | bigint };
  /** Rows at or after an explicit asOf, left out. */
  readonly rowsAfterAsOf: number;
  /** False without amounts (count-only): no M dimension. */
  readonly hasMonetary: boolean;
  /** Per dimension: flags (1 majority value, 2 collapsed edges) and the majority share. */
  readonly degenerate: Record<'r' | 'f' | 'm', { flags: number; majorityShare: number }>;
  readonly recencyDays: RColumn<typeof ffi.scrm_rfm_recency_days>;
  readonly frequency: RColumn<typeof ffi.scrm_rfm_frequency>;
  /** Minor units (sum or mean). */
  readonly monetary: RColumn<typeof ffi.scrm_rfm_monetary>;
  /** Exact revenue in minor units. */
  readonly revenue: RColumn<typeof ffi.scrm_rfm_revenue>;
  readonly r: RColumn<typeof ffi.scrm_rfm_scores>;
  readonly f: RColumn<typeof ffi.scrm_rfm_scores>;
  readonly m: RColumn<typeof ffi.scrm_rfm_scores>;
  /** Segment index, -1 when unassigned, -2 when not scored. */
  readonly segment: RColumn<typeof ffi.scrm_rfm_segments>;
  readonly edges: { r: RColumn<typeof ffi.scrm_rfm_edges>; f: RColumn<typeof ffi.scrm_rfm_edges>;
                    m: RColumn<typeof ffi.scrm_rfm_edges> };
  readonly segmentNames: string[];
  segmentName(i: number): string | null;
  key(i: number): Key;
  segments(): SegmentSummary[];
  audienceIndices(names: string | null | (string | null)[]): ReturnType<typeof ffi.scrm_rfm_audience>;
  audience(names: string | null | (string | null)[]): Key[];
  writeCsv(path: string): void;
  writeAudienceCsv(path: string, names: string | null | (string | null)[]): void;
  close(): void;
}

/** Calendar period units (docs/cohorts.md); weeks are ISO 8601 weeks (Monday start, ISO year). */
export type PeriodUnit = 'day' | 'week' | 'month' | 'quarter' | 'year';

export interface CohortOptions {
  /** Default 'month'. */
  period?: PeriodUnit;
  /** 'classic' (active in period k, default) or 'rolling' (in period k or later). */
  mode?: 'classic' | 'rolling';
  /** Window [start, end) of UTC instants; default unbounded. With end, the observation end is the period of end - 1. */
  start?: Time | null;
  end?: Time | null;
  /** Seconds added to times before taking periods (|x| <= 18 h). */
  utcOffset?: number;
  /** Smallest amount (minor units, >= 0) of a counted order; default 0. */
  minAmount?: number | bigint;
  /** Whether refunds (amount < 0) count in revenue; default false. */
  refunds?: boolean;
  /**
   * One acquisition time per customer instead of the first counted order: an
   * array in customer index order, a BigInt64Array (seconds; INT64_MIN = not
   * acquired), or a Map / object keyed by customer key; null = not acquired.
   */
  acquisition?: ArrayLike<Time | null> | BigInt64Array | Map<Key, Time | null> |
                Record<string, Time | null> | null;
  threads?: number;
  progress?: Progress | null;
}

/** One observable cell in long form: the columns of the CSV (revenue in minor units here). */
export interface CohortCell {
  cohort: string;
  period: number;
  cohort_size: number;
  active_customers: number;
  orders: number;
  revenue: number | bigint;
  /** NaN for an empty cohort. */
  retention: number;
  /** True for the cells of a partial last period (Cohorts.lastPartial). */
  partial: boolean;
}

/**
 * Cohort matrices: rows cohorts x cols periods since acquisition, row-major
 * read-only TypedArrays (copies; cell (c, k) at c * cols + k; valid after
 * close()). Ratios are NaN where not observable.
 */
export declare class CohortResult {
  readonly rows: number;
  /** The dataset's currency minor digits (writeCsv's major units). */
  readonly minorDigits: number;
  readonly cols: number;
  readonly unit: PeriodUnit;
  /** Cohort labels: '2017-03', '2017-W09', '2017-Q1', ... */
  readonly labels: string[];
  /** Period index of cohort 0. */
  readonly firstPeriod: number | bigint;
  /** Period index of the last observed period, or null. */
  readonly observationEnd: number | bigint | null;
  /** True when the data stops before the last observed period ends (its cells are partial). */
  readonly lastPartial: boolean;
  /** Periods at the end not observed to their end (a --to after the data makes several): cells with c + k >= cols - n are partial. */
  readonly partialPeriods: number;
  /** Acquired customers per cohort (rows values). */
  readonly sizes: RColumn<typeof ffi.scrm_cohorts_sizes>;
  readonly active: RColumn<typeof ffi.scrm_cohorts_active>;
  readonly orders: RColumn<typeof ffi.scrm_cohorts_orders>;
  /** Exact, minor units. */
  readonly revenue: RColumn<typeof ffi.scrm_cohorts_revenue>;
  readonly retention: RColumn<typeof ffi.scrm_cohorts_retention>;
  /** Cumulative revenue per acquired customer, minor units. */
  readonly ltv: RColumn<typeof ffi.scrm_cohorts_ltv>;
  /** Cumulative orders per acquired customer. */
  readonly cumOrders: RColumn<typeof ffi.scrm_cohorts_cum_orders>;
  /** Row c of a matrix, as a copy. */
  row(metric: 'active' | 'orders', c: number): BigUint64Array;
  row(metric: 'revenue', c: number): BigInt64Array;
  row(metric: 'retention' | 'ltv' | 'cumOrders', c: number): Float64Array;
  observable(c: number, k: number): boolean;
  toLong(): CohortCell[];
  /** Long-form CSV, the format of `shopcrm cohorts --out` (docs/cohorts.md); revenue with minorDigits decimals (default 2). */
  writeCsv(path: string, minorDigits?: number): void;
  /** The result of the union of two datasets with disjoint customers (same options). */
  merge(other: CohortResult): CohortResult;
  close(): void;
}

export declare class Dataset {
  constructor(opts?: { keyType?: 'auto' | 'u64' | 'string'; threads?: number;
                       minorDigits?: number });
  static fromCsv(path: string, opts?: CsvOptions): Dataset;
  static fromArrays(customers: ArrayLike<number | bigint | string> | BigUint64Array,
                    times: ArrayLike<Time> | BigInt64Array,
                    amounts: ArrayLike<number | bigint> | BigInt64Array,
                    opts?: { orderKeys?: ArrayLike<number | bigint | string> | BigUint64Array | null;
                             keyType?: 'auto' | 'u64' | 'string'; threads?: number;
                             progress?: Progress | null; minorDigits?: number }): Dataset;
  /** Digits of the currency's minor unit (2 for cents, 0 for yen, 3 for dinars). */
  readonly minorDigits: number;
  /** The report of the last CSV load, or null. */
  report: CsvReport | null;
  loadCsv(path: string, opts?: CsvOptions): CsvReport;
  append(customers: ArrayLike<number | bigint | string> | BigUint64Array,
         times: ArrayLike<Time> | BigInt64Array,
         amounts: ArrayLike<number | bigint> | BigInt64Array,
         opts?: { orderKeys?: ArrayLike<number | bigint | string> | BigUint64Array | null;
                  progress?: Progress | null }): number;
  readonly customers: number;
  readonly orders: number;
  readonly duplicates: number;
  readonly merged: number;
  readonly keyType: 'auto' | 'u64' | 'string';
  /** False for a count-only dataset (no amounts). */
  readonly hasAmounts: boolean;
  readonly timeRange: { min: Date; max: Date; minSeconds: number; maxSeconds: number } | null;
  key(i: number): Key;
  index(key: Key): number | undefined;
  rfm(opts?: RfmOptions): RfmResult;
  kpi(opts?: KpiOptions): Kpi;
  kpiPeriods(unit?: PeriodUnit, opts?: KpiOptions): KpiPeriods;
  cohorts(opts?: CohortOptions): CohortResult;
  close(): void;
}

/** Net Promoter Score of answers 0..10, in -100..100. */
export declare function nps(scores: ArrayLike<number> | Int32Array): number;
/** CSAT of answers 1..5: % of 4 and 5. */
export declare function csat(scores: ArrayLike<number> | Int32Array): number;
/** The library's version, "MAJOR.MINOR.PATCH". */
export declare function version(): string;
/** Period index of a time: whole periods from the period of local 1970-01-01 (default unit 'month'). */
export declare function periodIndex(t: Time, unit?: PeriodUnit, utcOffset?: number): number | bigint;
/** Epoch seconds (UTC) at which a period starts: its local midnight. */
export declare function periodStart(index: number | bigint, unit?: PeriodUnit, utcOffset?: number): number | bigint;
/** '2017-03-14', '2017-W09', '2017-03', '2017-Q1' or '2017'. */
export declare function periodLabel(index: number | bigint, unit?: PeriodUnit): string;
/** Exact major units of minor units with minorDigits (default 2): -1234 -> '-12.34'. */
export declare function formatMoney(minor: number | bigint, minorDigits?: number): string;
/** printf("%.*f"): exact, ties to even; '' for NaN. */
export declare function formatFixed(x: number, digits?: number): string;
/** printf("%.*g"): exact, ties to even. */
export declare function formatG(x: number, precision: number): string;
/** Shortest of %.15g / %.16g / %.17g that reads back; '' for NaN (the CSV's retention). */
export declare function formatRate(x: number): string;
/** The CSV columns of the long form. */
export declare const LONG_COLUMNS: string[];
