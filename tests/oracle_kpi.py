#!/usr/bin/python3
"""Oracle test of the KPIs of a window and per period (scrm_kpi_compute,
scrm_kpi_periods_compute, through `shopcrm kpi --json`, `--by`, `--out`)
and of the partial last cohort period, against pandas.

Every expected value is computed here with pandas from the definitions in
include/shopcrm/kpi.h and docs/kpi.md: customers at the start S (an order in
the lookback before the start; by default the window's length, for rows the
period before), at the end E (an order in the lookback before the end), N
(new customers among E), E - N, |S & E|, the reactivated customers (in E, not
new, not in S, counted directly), retention (E - N) / S, the share |S & E| / S,
the purchase intervals, and the flags. No code is shared with the library:
pandas does the calendar (Period) and the grouping.

Data, in their published formats (tests/data/*.README.md):
- Olist orders + customers + order items (olist_kpi_*.csv.gz), joined here:
  the customer is customer_unique_id, the time order_purchase_timestamp,
  the amount the sum of price + freight_value of the order's items (orders
  without items drop out of the join).
- Online Retail lines (cohort_online_retail.csv), amount = quantity x unit
  price; the data ends on 2011-12-09, inside its last month.

usage: oracle_kpi.py SHOPCRM_EXE DATA_DIR
"""
import csv
import decimal
import io
import json
import math
import os
import subprocess
import sys
import tempfile

import pandas as pd

EXE, DATA = sys.argv[1], sys.argv[2]
FAILS = []


def check(what, got, want):
    same = (got == want or (isinstance(got, float) and isinstance(want, float)
                            and (math.isnan(got) and math.isnan(want)
                                 or abs(got - want) <= 1e-12 * max(1.0, abs(want)))))
    if got is None and isinstance(want, float) and math.isnan(want):
        same = True
    if not same:
        FAILS.append(f'{what}: got {got!r}, want {want!r}')


def shopcrm(*args):
    r = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit(f'FAIL: shopcrm {" ".join(args)}: exit {r.returncode}\n{r.stderr}')
    return r


def cents(s):
    return int((decimal.Decimal(s) * 100).quantize(decimal.Decimal(1),
                                                   rounding=decimal.ROUND_HALF_UP))


def olist():
    o = pd.read_csv(os.path.join(DATA, 'olist_kpi_orders.csv.gz'))
    c = pd.read_csv(os.path.join(DATA, 'olist_kpi_customers.csv.gz'))
    it = pd.read_csv(os.path.join(DATA, 'olist_kpi_order_items.csv.gz'),
                     dtype={'price': str, 'freight_value': str})
    it['cents'] = [cents(p) + cents(f) for p, f in zip(it.price, it.freight_value)]
    value = it.groupby('order_id').cents.sum().rename('amount').reset_index()
    j = o.merge(c, on='customer_id').merge(value, on='order_id')
    return pd.DataFrame({'customer': j.customer_unique_id,
                         't': pd.to_datetime(j.order_purchase_timestamp),
                         'amount': j.amount.astype('int64')})


def online_retail():
    df = pd.read_csv(os.path.join(DATA, 'cohort_online_retail.csv'),
                     dtype={'customer_id': str, 'quantity': str, 'unit_price': str})
    amount = [int((decimal.Decimal(q) * decimal.Decimal(p) * 100).quantize(
        decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))
        for q, p in zip(df.quantity, df.unit_price)]
    return pd.DataFrame({'customer': df.customer_id, 't': pd.to_datetime(df.date),
                         'amount': amount})


def window(df, start, end, s_lo, e_lo):
    """The KPIs of [start, end) with S = an order in [s_lo, start) and E = an
    order in [e_lo, end)."""
    orders = df[df.amount >= 0]
    first = orders.groupby('customer').t.min()
    w = df[(df.t >= start) & (df.t < end)]
    wo = w[w.amount >= 0]
    custs = set(wo.customer)
    new = {x for x in custs if first[x] >= start}
    S = set(orders.customer[(orders.t >= s_lo) & (orders.t < start)])
    E = set(orders.customer[(orders.t >= e_lo) & (orders.t < end)])
    N = {x for x in E if start <= first[x] < end}
    reactivated = {x for x in E if first[x] < start and x not in S}
    gaps = []
    for _, g in wo.sort_values('t').groupby('customer'):
        ts = g.t.tolist()
        gaps += [(b - a).total_seconds() / 86400 for a, b in zip(ts, ts[1:])]
    gaps.sort()
    n = len(gaps)
    median = (float('nan') if n == 0 else gaps[n // 2] if n % 2
              else (gaps[n // 2 - 1] + gaps[n // 2]) / 2)
    nan = float('nan')
    return {
        'orders': len(wo), 'customers': len(custs), 'new_customers': len(new),
        'returning_customers': len(custs) - len(new),
        'repeat_customers': int((wo.groupby('customer').size() >= 2).sum()),
        'revenue': int(w.amount.sum()), 'customers_at_start': len(S),
        'customers_at_end': len(E), 'retained_customers': len(E) - len(N),
        'retained_from_start': len(S & E), 'reactivated_customers': len(reactivated),
        'retention_rate': (len(E) - len(N)) / len(S) if S else nan,
        'churn_rate': 1 - (len(E) - len(N)) / len(S) if S else nan,
        'retained_from_start_share': len(S & E) / len(S) if S else nan,
        'purchase_intervals': n, 'median_days_between_purchases': median,
    }


def compare(where, got, want, money=('revenue',)):
    for k, v in want.items():
        g = got[k]
        if k in money:  # JSON money is in major units, exact decimals
            g = cents(repr(g))
        check(f'{where} {k}', g, v)


def joined_csv(df, path):
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['customer_id', 'date', 'amount'])
        for cu, t, a in zip(df.customer, df.t, df.amount):
            w.writerow([cu, t.strftime('%Y-%m-%d %H:%M:%S'), f'{a // 100}.{a % 100:02d}'])


def monthly(df, path, extra):
    """`kpi --by month` (JSON and --out CSV) against pandas, row by row."""
    months = pd.period_range(df.t.min().to_period('M'), df.t.max().to_period('M'), freq='M')
    data_lo = df.t.min().normalize()
    data_hi = df.t.max().normalize() + pd.Timedelta(days=1)
    out = json.loads(shopcrm('kpi', path, *extra, '--by', 'month', '--json').stdout)
    rows = out['rows']
    check('rows', [r['period'] for r in rows], [str(m) for m in months])
    for r, m in zip(rows, months):
        start, end = m.start_time, (m + 1).start_time
        prev = (m - 1).start_time
        compare(str(m), r, window(df, start, end, prev, start))
        check(f'{m} lookback_incomplete', r['lookback_incomplete'], prev < data_lo)
        check(f'{m} partial', r['partial'], start < data_lo or end > data_hi)
        check(f'{m} start', r['start'], start.strftime('%Y-%m-%dT%H:%M:%SZ'))
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'k.csv')
        shopcrm('kpi', path, *extra, '--by', 'month', '--out', p)
        with open(p, newline='') as f:
            csv_rows = list(csv.DictReader(f))
    for r, c in zip(rows, csv_rows):
        for k in ('orders', 'customers_at_start', 'reactivated_customers'):
            check(f'CSV {c["period"]} {k}', int(c[k]), r[k])
        check(f'CSV {c["period"]} partial', c['partial'], '1' if r['partial'] else '0')
    return rows


def main():
    with tempfile.TemporaryDirectory() as d:
        # ---- Olist: the window of the issue, then every month ----
        df = olist()
        path = os.path.join(d, 'olist.csv')
        joined_csv(df, path)
        start, end = pd.Timestamp('2017-06-01'), pd.Timestamp('2018-01-01')
        r = shopcrm('kpi', path, '--from', '2017-06-01', '--to', '2018-01-01', '--json')
        got = json.loads(r.stdout)
        L = end - start  # the default lookback: the window's length
        want = window(df, start, end, start - L, end - L)
        compare('olist window', got, want)
        check('olist lookback_days', got['lookback_days'], 214)
        # the lookback reaches 2016-10-30, before the first order (2017-01-05)
        check('olist lookback_incomplete', got['lookback_incomplete'], True)
        check('olist warning', 'warning: the lookback before --from' in r.stderr, True)
        check('olist from', got['from'], '2017-06-01T00:00:00Z')
        if not got['retention_rate'] < 0.5:  # was 100 % with the 365-day default
            FAILS.append(f'olist retention {got["retention_rate"]} is not below 50 %')
        # an explicit lookback still overrides, here 90 days
        got = json.loads(shopcrm('kpi', path, '--from', '2017-06-01', '--to', '2018-01-01',
                                 '--lookback', '90', '--json').stdout)
        L = pd.Timedelta(days=90)
        compare('olist 90 days', got, window(df, start, end, start - L, end - L))
        check('olist 90 days lookback_incomplete', got['lookback_incomplete'], False)
        rows = monthly(df, path, ())
        print(f'oracle_kpi: olist: {len(df)} orders, {df.customer.nunique()} customers, '
              f'2017-06..12 retention {want["retention_rate"]:.4f} (S {want["customers_at_start"]},'
              f' E - N {want["retained_customers"]}), {len(rows)} months')

        # ---- Online Retail: the last month is partial, in KPIs and cohorts ----
        df = online_retail()
        path = os.path.join(DATA, 'cohort_online_retail.csv')
        extra = ('--quantity-col', 'quantity', '--price-col', 'unit_price')
        rows = monthly(df, path, extra)
        check('retail last row', (rows[-1]['period'], rows[-1]['partial']), ('2011-12', True))
        check('retail other rows partial', [r['partial'] for r in rows[:-1]],
              [False] * (len(rows) - 1))
        co = json.loads(shopcrm('cohorts', path, *extra, '--json').stdout)
        check('retail cohorts last_period_partial', co['last_period_partial'], True)
        p = os.path.join(d, 'c.csv')
        shopcrm('cohorts', path, *extra, '--out', p)
        with open(p, newline='') as f:
            cells = list(csv.DictReader(f))
        K = co['periods']
        labels = [c['cohort'] for c in co['cohorts']]
        for c in cells:
            want_p = labels.index(c['cohort']) + int(c['period']) == K - 1
            check(f'retail cell {c["cohort"]}+{c["period"]} partial', c['partial'],
                  '1' if want_p else '0')
        # by day the last day (2011-12-09) is observed whole
        co = json.loads(shopcrm('cohorts', path, *extra, '--period', 'day', '--json').stdout)
        check('retail daily cohorts partial', co['last_period_partial'], False)
        print(f'oracle_kpi: online retail: {len(rows)} months, 2011-12 partial, '
              f'{sum(c["partial"] == "1" for c in cells)} partial cohort cells')
    if FAILS:
        print('\n'.join('FAIL: ' + f for f in FAILS[:40]))
        sys.exit(f'oracle_kpi: {len(FAILS)} mismatches')
    print('oracle_kpi: ok')


if __name__ == '__main__':
    main()
