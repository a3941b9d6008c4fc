// Type test of index.d.ts and lib/ffi.d.ts: tests/check_node_types.py
// compiles this file with `tsc --strict` (so the declarations must accept
// every call below, and reject the ones marked @ts-expect-error), then runs
// the JavaScript it produced against the real addon, so the declarations
// are checked against what the module really exports and returns.
import shopcrm = require('shopcrm');
import { Dataset, SegmentMap, ShopcrmError, ffi } from 'shopcrm';

declare const console: { log(message: string): void }; // no @types/node needed

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`type usage test: ${what}`);
}

const day = 86400;
const t0 = 1700000000;
const customers: number[] = [1, 2, 2, 3, 3, 3];
const times: number[] = [t0, t0 + day, t0 + 5 * day, t0, t0 + 2 * day, t0 + 9 * day];
const amounts: number[] = [1000, 2500, 500, 700, 800, 900];

let progressCalls = 0;
const ds: Dataset = Dataset.fromArrays(customers, times, amounts, {
  threads: 1,
  progress: (done: number, total: number) => { progressCalls++; return done <= total; },
});
check(progressCalls >= 2, 'append progress called');
check(ds.orders === 6 && ds.customers === 3, 'counts');
const perCustomer: number = ds.orders / ds.customers; // counts are numbers
check(perCustomer === 2, 'counts divide');
check(ds.keyType === 'u64', 'key type');
const added: number = ds.append([4], [new Date((t0 + day) * 1000)], [BigInt(300)],
                                         { orderKeys: [77] });
check(added === 1, 'append returns rows added');
const range = ds.timeRange;
check(range !== null && range.max instanceof Date, 'time range');
const idx: number | undefined = ds.index(3);
check(idx !== undefined && ds.key(idx) === 3, 'index and key');

/** Calls the declarations must reject (compiled, never run). */
export function rejected(d: Dataset): void {
  // @ts-expect-error: threads is a number
  Dataset.fromArrays([1], [t0], [1], { threads: 'two' });
  // @ts-expect-error: an unknown option
  d.rfm({ binz: 5 });
  // @ts-expect-error: a period unit that does not exist
  d.cohorts({ period: 'fortnight' });
  // @ts-expect-error: columns are read-only
  d.rfm().r = new Uint8Array(1);
  const res = d.rfm();
  // @ts-expect-error: a column's elements are read-only
  res.segment[0] = 3;
  // @ts-expect-error: no fill on a column
  res.segment.fill(0);
  // @ts-expect-error: no in-place sort on a column
  res.monetary.sort();
  // @ts-expect-error: no set on a column
  res.r.set([1]);
  // @ts-expect-error: a read-only column is not a mutable Uint8Array
  const mutable: Uint8Array = res.r;
  mutable.fill(0);
  // @ts-expect-error: no such preset
  d.rfm({ segments: 'rfm11-v3' });
  // @ts-expect-error: no such preset
  SegmentMap.preset('rfm11-v3');
  // @ts-expect-error: an async callback returns a Promise, not boolean | void
  d.rfm({ progress: async () => { /* ... */ } });
  // @ts-expect-error: a progress callback returns boolean | void
  d.kpi({ progress: () => 1 });
}

const map: SegmentMap = SegmentMap.preset('rfm11-v1');
check(map.size === 11 && map.names().includes('Champions'), 'preset map');
const own = new SegmentMap().add('Top', { r: [4, 5], f: [4, 5] }).add('Rest');
check(own.size === 2 && own.match(5, 5, 1) === 0, 'custom map');

const res = ds.rfm({ bins: 3, method: 'ntile', segments: own });
const r: shopcrm.ReadonlyColumn<Uint8Array> = res.r;
const rev: shopcrm.ReadonlyColumn<BigInt64Array> = res.revenue;
const edges: shopcrm.ReadonlyColumn<Float64Array> = res.edges.m;
const r0: number = r[0];
const total: bigint = rev.reduce((a, b) => a + b, 0n);
const copied: Uint8Array = res.r.slice(); // a mutable copy
check(r0 >= 1 && total > 0n && copied.length === 4 && Array.from(r).length === 4, 'read-only columns');
let presetNames: shopcrm.SegmentPreset[] = SegmentMap.presets();
presetNames = presetNames.filter((n) => n !== 'rf10-v1');
check(presetNames.includes('rfm11-v1'), 'preset names');
check(r.length === 4 && rev.length === 4 && edges.length === 2, 'rfm columns');
const summary = res.segments();
check(summary.length >= 2 && typeof summary[0].share === 'number', 'segment summary');
const audience: shopcrm.Key[] = res.audience('Top');
check(Array.isArray(audience), 'audience');
// Column types come from the generated ffi.d.ts (the headers' @scrm_len getters).
const freq: shopcrm.ReadonlyColumn<Uint32Array> = res.frequency;
const scores: shopcrm.ReadonlyColumn<Uint8Array> = res.r;
const topIdx: Uint32Array = res.audienceIndices('Top');
// @ts-expect-error a Uint32Array column is not a Float64Array
const wrongColumn: shopcrm.ReadonlyColumn<Float64Array> = res.frequency;
check(freq.length === res.customers && scores.length === res.customers && topIdx.length >= 0 &&
      wrongColumn.length === res.customers, 'column types');
res.close();
own.close();
map.close();

const kpi: shopcrm.Kpi = ds.kpi({ lookback: 30 * day });
check(kpi.orders === 7 && kpi.averageOrderValue > 0, 'kpi');
const ordersPerCustomer: number = kpi.orders / kpi.customers;
check(ordersPerCustomer > 1, 'kpi counts divide');

const coh = ds.cohorts({ period: 'week', mode: 'classic' });
const ret: shopcrm.ReadonlyColumn<Float64Array> = coh.retention;
const cells: shopcrm.CohortCell[] = coh.toLong();
check(ret.length === coh.rows * coh.cols && cells.length > 0, 'cohorts');
check(typeof coh.labels[0] === 'string', 'cohort labels');
coh.close();
const yen = new shopcrm.Dataset({ minorDigits: 0 });
const digits: number = yen.minorDigits;
check(digits === 0 && shopcrm.formatMoney(1500, digits) === '1500', 'minor digits');
yen.close();

try {
  ds.append([5], [-1e15], [1]);
  check(false, 'a bad time throws');
} catch (e) {
  check(e instanceof ShopcrmError, 'ShopcrmError');
  if (e instanceof ShopcrmError) {
    const code: number = e.code;
    check(code === ffi.SCRM_ERANGE && e.index === 0, 'error code and row');
  }
}

check(shopcrm.nps([10, 9, 0]) > 0 && shopcrm.csat([5, 4, 1]) > 66, 'nps, csat');
check(/^\d+\.\d+\.\d+$/.test(shopcrm.version()), 'version');
check(shopcrm.periodLabel(shopcrm.periodIndex(t0, 'quarter'), 'quarter') === '2023-Q4',
      'period helpers');
check(shopcrm.formatMoney(-1234) === '-12.34', 'money');
ds.close();
console.log('types ok');
