#!/usr/bin/env node
// Monthly cohorts of the CDNOW sample: retention and LTV curves.
//
//   node examples/node/cohorts.js OUT.csv [ORDERS.csv]
//
// Loads the orders (default: examples/data/cdnow_orders.csv), groups customers
// by the month of their first order, prints the retention matrix of the first
// 3 cohorts over their first 6 months and the historical LTV curve
// (cumulative revenue per acquired customer) of the first cohort over 12
// months, and writes every observable cell to OUT.csv (cohort,period,
// cohort_size,active_customers,orders,revenue,retention,partial; the format of
// `shopcrm cohorts --out`, docs/cohorts.md). The C and Python examples do the
// same and must write the same bytes.
'use strict';
const path = require('node:path');
// From a source tree; an installed package is require('shopcrm').
const shopcrm = require('../../bindings/node');

const [outPath, ordersPath = path.join(__dirname, '..', 'data', 'cdnow_orders.csv')] =
  process.argv.slice(2);
if (!outPath) {
  console.error('usage: cohorts.js OUT.csv [ORDERS.csv]');
  process.exit(2);
}
// Numbers as C's printf("%.Nf") prints them (toFixed rounds exact ties up).
const fixed = shopcrm.formatFixed;

const ds = shopcrm.Dataset.fromCsv(ordersPath, { customer: 'customer_id', time: 'date', amount: 'amount' });
console.log(`${ds.orders} orders, ${ds.customers} customers`);
const co = ds.cohorts({ period: 'month' }); // classic retention, UTC
if (co.rows === 0) {
  console.log('no cohorts');
} else {
  const { labels } = co;
  console.log(`monthly cohorts ${labels[0]} .. ${labels[labels.length - 1]}: ` +
              `${co.rows} cohorts x ${co.cols} periods`);
  const periods = Math.min(6, co.cols);
  let head = `${'cohort'.padEnd(8)} ${'size'.padStart(6)}`;
  for (let k = 0; k < periods; k++) head += ` ${'k='.padStart(6)}${k}`;
  console.log(head);
  for (let c = 0; c < Math.min(3, co.rows); c++) {
    let line = `${labels[c].padEnd(8)} ${String(co.sizes[c]).padStart(6)}`;
    for (const r of co.row('retention', c).subarray(0, periods)) {
      line += Number.isNaN(r) ? ` ${'-'.padStart(7)}` : ` ${fixed(100 * r, 1).padStart(6)}%`;
    }
    console.log(line);
  }
  const curve = Array.from(co.row('ltv', 0).subarray(0, 12), (x) => fixed(x / 100, 2));
  console.log(`LTV of ${labels[0]} ($ per customer): ${curve.join(' ')}`);
  co.writeCsv(outPath);
  console.log(`wrote ${co.toLong().length} cells to ${outPath}`);
}
co.close();
ds.close();
