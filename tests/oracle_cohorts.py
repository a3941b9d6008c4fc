#!/usr/bin/python3
"""Oracle test of scrm_cohorts_compute() against pandas.

Computes the cohort matrices (sizes, distinct active customers, orders,
revenue, retention, cumulative revenue and orders per customer) with pandas,
from the definitions in include/shopcrm/cohorts.h, and compares them cell by
cell with what tests/cohorts_dump prints for the same data and options.
pandas does the calendar too (Period with freq D, W-SUN (Monday-start weeks),
M, Q, A; ISO week labels from Timestamp.isocalendar()), so no code is shared
with the library.

Data: tests/data/cohort_online_retail.csv (a slice of the UCI "Online
Retail" data set: real invoice lines with cancellations; see
cohort_online_retail.README.md). amount = quantity x unit price in pence,
computed exactly with decimal and rounded half away from zero.

usage: oracle_cohorts.py COHORT_DUMP CSV
"""
import decimal
import subprocess
import sys

import numpy as np
import pandas as pd

FREQ = {0: 'D', 1: 'W-SUN', 2: 'M', 3: 'Q', 4: 'A'}


def label(ordinal, unit):
    p = pd.Period(ordinal=int(ordinal), freq=FREQ[unit])
    if unit == 0:
        return p.strftime('%Y-%m-%d')
    if unit == 1:
        iy, iw, _ = p.start_time.isocalendar()
        return f'{iy:04d}-W{iw:02d}'
    if unit == 2:
        return p.strftime('%Y-%m')
    if unit == 3:
        return f'{p.year:04d}-Q{p.quarter}'
    return f'{p.year:04d}'


def ordinals(seconds, unit, off):
    local = pd.to_datetime(pd.Series(seconds, dtype='int64') + off, unit='s')
    return local.dt.to_period(FREQ[unit]).array.asi8


def load(path):
    df = pd.read_csv(path, dtype={'customer_id': str, 'quantity': str, 'unit_price': str})
    cents = []
    for q, p in zip(df['quantity'], df['unit_price']):
        v = (decimal.Decimal(q) * decimal.Decimal(p) * 100).quantize(
            decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)
        cents.append(int(v))
    df['amount'] = np.array(cents, dtype=np.int64)
    df['t'] = pd.to_datetime(df['date']).astype('int64') // 10**9
    return df[['customer_id', 't', 'amount']]


def oracle(df, unit, mode, refunds, min_amount, off, start, end):
    """{(label, k): (size, active, orders, revenue, retention, ltv, cum)}, (C, K)"""
    w = df
    if start is not None:
        w = w[w['t'] >= start]
    if end is not None:
        w = w[w['t'] < end]
    w = w.copy()
    w['p'] = ordinals(w['t'].to_numpy(), unit, off) if len(w) else np.array([], dtype=np.int64)
    counted = w[w['amount'] >= min_amount]
    if end is not None:
        E = ordinals(np.array([end - 1]), unit, off)[0]
    else:
        E = ordinals(np.array([df['t'].max()]), unit, off)[0]
    if counted.empty:
        return {}, (0, 0)
    cohort = counted.groupby('customer_id')['p'].min().rename('cohort')
    first, last = cohort.min(), cohort.max()
    C, K = int(last - first + 1), int(E - first + 1)
    sizes = cohort.value_counts()
    rows = counted.join(cohort, on='customer_id')
    rows['k'] = rows['p'] - rows['cohort']
    orders = rows.groupby(['cohort', 'k']).size()
    revenue = rows.groupby(['cohort', 'k'])['amount'].sum()
    if refunds:
        ref = w[w['amount'] < 0].join(cohort, on='customer_id', how='inner')
        ref['k'] = ref['p'] - ref['cohort']
        ref = ref[ref['k'] >= 0]
        revenue = revenue.add(ref.groupby(['cohort', 'k'])['amount'].sum(), fill_value=0)
    if mode == 0:
        active = rows.groupby(['cohort', 'k'])['customer_id'].nunique()
    else:
        lastk = rows.groupby('customer_id').agg(cohort=('cohort', 'first'), k=('k', 'max'))
        active = {}
        for (c, kmax), n in lastk.groupby(['cohort', 'k']).size().items():
            for k in range(int(kmax) + 1):
                active[(c, k)] = active.get((c, k), 0) + n
        active = pd.Series(active, dtype='int64')
    out = {}
    for ci in range(C):
        c = first + ci
        size = int(sizes.get(c, 0))
        cum_rev, cum_ord = 0, 0
        for k in range(K):
            a = int(active.get((c, k), 0))
            o = int(orders.get((c, k), 0))
            r = int(revenue.get((c, k), 0))
            cum_rev += r
            cum_ord += o
            if ci + k >= K or size == 0:
                ratios = (float('nan'),) * 3
            else:
                ratios = (a / size, cum_rev / size, cum_ord / size)
            out[(label(c, unit), k)] = (size, a, o, r) + ratios
    return out, (C, K)


def run_dump(dump, csv, unit, mode, refunds, min_amount, off, start, end, threads):
    args = [dump, csv, str(unit), str(mode), str(refunds), str(min_amount), str(off),
            'all' if start is None else str(start), 'all' if end is None else str(end),
            str(threads)]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    lines = text.strip().split('\n')
    _, C, K = lines[0].split(',')
    cells = {}
    for line in lines[1:]:
        f = line.split(',')
        cells[(f[0], int(f[1]))] = tuple(int(x) for x in f[2:6]) + tuple(float(x) for x in f[6:9])
    return cells, (int(C), int(K))


def same(x, y):
    if np.isnan(y):
        return np.isnan(x)
    return abs(x - y) <= 1e-12 * max(1.0, abs(y))


def main():
    dump, csv = sys.argv[1], sys.argv[2]
    df = load(csv)
    t0311 = 1298937600  # 2011-03-01T00:00Z
    t0901 = 1314835200  # 2011-09-01T00:00Z
    t0501 = 1304208000  # 2011-05-01T00:00Z
    variants = [
        # unit, mode, refunds, min_amount, offset, start, end
        (2, 0, 0, 0, 0, None, None),
        (2, 1, 1, 0, 0, None, None),
        (1, 0, 1, 0, 0, None, None),
        (1, 1, 0, 500, 3600, None, None),
        (3, 0, 1, 1000, -18000, t0311, t0901),
        (4, 0, 1, 0, 0, None, None),
        (0, 0, 1, 0, 19800, t0311, t0501),
        (2, 0, 1, 0, -7200, t0311, None),
    ]
    failures = 0
    for v in variants:
        want, wshape = oracle(df, *v)
        for threads in (1, 2):
            got, gshape = run_dump(dump, csv, *v, threads)
            if gshape != wshape:
                print(f'variant {v} threads {threads}: shape {gshape}, want {wshape}')
                failures += 1
                continue
            if set(got) != set(want):
                print(f'variant {v}: cells differ: {sorted(set(got) ^ set(want))[:5]}')
                failures += 1
                continue
            bad = [key for key in want
                   if got[key][:4] != want[key][:4]
                   or not all(same(a, b) for a, b in zip(got[key][4:], want[key][4:]))]
            for key in bad[:5]:
                print(f'variant {v} cell {key}: got {got[key]}, want {want[key]}')
            failures += len(bad)
        print(f'variant {v}: shape {wshape}, {len(want)} cells compared')
    if failures:
        print(f'{failures} mismatches')
        return 1
    print('all cells agree')
    return 0


if __name__ == '__main__':
    sys.exit(main())
