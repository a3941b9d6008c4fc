'use strict';
// Runs examples/node/rfm_segments.js on the CDNOW sample and checks what it
// prints and writes against an independent computation in plain JavaScript
// of the documented definitions (include/shopcrm/rfm.h: recency from the day
// after the last order, quantile score 1 + floor(N*c/n) with c = customers
// strictly worse, the rfm11-v2 rules in their evaluation order), plus the
// totals stated in examples/data/README.md.
//
//   node check_rfm_segments.js EXAMPLE.js ORDERS.csv
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const [example, orders] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopcrm-node-example-'));
const audiencePath = path.join(dir, 'win_back.csv');
const run = spawnSync(process.execPath, [example, audiencePath, orders], { encoding: 'utf8' });
process.stdout.write(run.stdout);
process.stderr.write(run.stderr);
assert.equal(run.status, 0, 'the example failed');

// ---- oracle ----
const lines = fs.readFileSync(orders, 'utf8').trim().split('\n');
const header = lines[0].split(',');
const [ci, ti, ai] = ['customer_id', 'date', 'amount'].map((c) => header.indexOf(c));
const cust = new Map(); // id -> {last, freq, cents}
let totalCents = 0;
for (const line of lines.slice(1)) {
  const f = line.split(',');
  const d = f[ti];
  const day = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8)) / 86400000;
  const cents = Math.round(parseFloat(f[ai]) * 100);
  totalCents += cents;
  const c = cust.get(f[ci]) || { last: -Infinity, freq: 0, cents: 0 };
  if (cents >= 0) { c.freq++; c.last = Math.max(c.last, day); } // no refunds in CDNOW
  c.cents += cents;
  cust.set(f[ci], c);
}
assert.equal(lines.length - 1, 69659);
assert.equal(cust.size, 23570);
assert.equal(totalCents, 250031563); // US$ 2,500,315.63
const asOfDay = Math.max(...[...cust.values()].map((c) => c.last)) + 1;
const ids = [...cust.keys()];
const n = ids.length, N = 5;
function scores(values, betterIsLarger) {
  const sorted = Float64Array.from(values).sort();
  const below = (v) => { let lo = 0, hi = n; while (lo < hi) { const m = (lo + hi) >> 1; if (sorted[m] < v) lo = m + 1; else hi = m; } return lo; };
  const above = (v) => { let lo = 0, hi = n; while (lo < hi) { const m = (lo + hi) >> 1; if (sorted[m] <= v) lo = m + 1; else hi = m; } return n - lo; };
  return values.map((v) => 1 + Math.floor((N * (betterIsLarger ? below(v) : above(v))) / n));
}
const R = scores(ids.map((id) => asOfDay - cust.get(id).last), false);
const F = scores(ids.map((id) => cust.get(id).freq), true);
const M = scores(ids.map((id) => cust.get(id).cents), true);
const RULES = [ // rfm11-v2 in evaluation order: name, r, f, m (inclusive)
  ['Champions', [4, 5], [4, 5], [4, 5]], ['Loyal Customers', [2, 5], [3, 5], [3, 5]],
  ['New Customers', [4, 5], [1, 1], [1, 1]], ['Promising', [3, 4], [1, 1], [1, 1]],
  ['Potential Loyalist', [3, 5], [1, 5], [1, 5]], ['Need Attention', [2, 3], [2, 3], [2, 3]],
  ['About To Sleep', [2, 3], [1, 2], [1, 2]], ["Can't Lose Them", [1, 1], [4, 5], [4, 5]],
  ['At Risk', [1, 2], [2, 5], [2, 5]], ['Lost', [1, 1], [1, 1], [1, 1]],
  ['Hibernating', [1, 2], [1, 5], [1, 5]],
];
const inb = (x, [lo, hi]) => x >= lo && x <= hi;
const want = new Map(RULES.map((r) => [r[0], 0]).concat([['(unassigned)', 0]]));
const segOf = new Map();
ids.forEach((id, i) => {
  const rule = RULES.find(([, r, f, m]) => inb(R[i], r) && inb(F[i], f) && inb(M[i], m));
  const name = rule ? rule[0] : '(unassigned)';
  want.set(name, want.get(name) + 1);
  segOf.set(id, name);
});

// ---- what the example printed ----
const out = run.stdout.split('\n');
assert.match(out[0], /^69659 orders of 23570 customers, 1997-01-01 \.\. 1998-06-30$/);
assert.equal(out[1], 'RFM as of 1998-07-01');
const got = new Map();
for (const line of out) {
  const m = /^(\S.*?)\s{2,}(\d+)\s+\d+\.\d%\s+\d+\.\d\d/.exec(line);
  if (m) got.set(m[1], Number(m[2]));
}
assert.deepEqual(got, want, 'segment counts');

// ---- the audience file ----
const aud = fs.readFileSync(audiencePath, 'utf8').trim().split('\n');
assert.equal(aud[0], 'customer,segment');
const wantIds = ids.filter((id) => ["At Risk", "Can't Lose Them"].includes(segOf.get(id))).sort();
const gotRows = aud.slice(1).map((l) => l.split(','));
assert.deepEqual(gotRows.map((r) => r[0]).sort(), wantIds);
for (const [id, seg] of gotRows) assert.equal(seg, segOf.get(id), `segment of ${id}`);
assert.ok(out.some((l) => l.startsWith(`wrote ${wantIds.length} customers`)));
fs.rmSync(dir, { recursive: true });
console.log(`ok: ${RULES.length} segments and ${wantIds.length} audience rows match the independent computation`);
