#!/usr/bin/env node
// RFM segments of the CDNOW sample, and an audience to win back.
//
//   node examples/node/rfm_segments.js AUDIENCE.csv [ORDERS.csv]
//
// Loads the orders (default: examples/data/cdnow_orders.csv), scores every
// customer by recency, frequency and monetary value (5 quantile bins, the
// "rfm11-v2" segments), prints the segment summary and writes the customers of
// "At Risk" and "Can't Lose Them" to AUDIENCE.csv (customer,segment).
'use strict';
const path = require('node:path');
// From a source tree; an installed package is require('shopcrm').
const shopcrm = require('../../bindings/node');

const [audiencePath, ordersPath = path.join(__dirname, '..', 'data', 'cdnow_orders.csv')] =
  process.argv.slice(2);
if (!audiencePath) {
  console.error('usage: rfm_segments.js AUDIENCE.csv [ORDERS.csv]');
  process.exit(2);
}

const ds = shopcrm.Dataset.fromCsv(ordersPath, { customer: 'customer_id', time: 'date', amount: 'amount' });
const { min, max } = ds.timeRange;
const day = (d) => d.toISOString().slice(0, 10);
console.log(`${ds.orders} orders of ${ds.customers} customers, ${day(min)} .. ${day(max)}`);

const rfm = ds.rfm({ bins: 5, method: 'quantile', segments: 'rfm11-v2' });
console.log(`RFM as of ${day(rfm.asOf)}`);
console.log('segment             customers   share        revenue   R    F    M');
for (const s of rfm.segments()) {
  const dollars = (Number(s.revenue) / 100).toFixed(2);
  const mean = (x) => (Number.isNaN(x) ? '-' : x.toFixed(2)).padStart(4);
  console.log(`${(s.name ?? '(unassigned)').padEnd(18)}  ${String(s.customers).padStart(9)}` +
              `  ${(100 * s.share).toFixed(1).padStart(5)}%  ${dollars.padStart(13)}` +
              `  ${mean(s.meanR)} ${mean(s.meanF)} ${mean(s.meanM)}`);
}

const winBack = ['At Risk', "Can't Lose Them"];
rfm.writeAudienceCsv(audiencePath, winBack);
console.log(`wrote ${rfm.audienceIndices(winBack).length} customers (${winBack.join(', ')}) to ${audiencePath}`);
rfm.close();
ds.close();
