#!/usr/bin/env python3
"""Monthly cohorts of the bundled CDNOW orders: retention and LTV curves.

Loads examples/data/cdnow_orders.csv, groups customers by the month of their
first order, prints the retention matrix (share of each cohort buying again
k months later) of the first 3 cohorts over their first 6 months and the
historical LTV curve (cumulative revenue per acquired customer) of the first
cohort over 12 months, and writes every observable cell as CSV
(cohort,period,cohort_size,active_customers,orders,revenue,retention,partial; the
format of `shopcrm cohorts --out`, docs/cohorts.md). The C and Node examples
do the same and must write the same bytes.

Usage:  cohorts.py OUT.csv [ORDERS.csv]
Run from the source tree with an uninstalled build:
  SHOPCRM_LIBRARY=build/libshopcrm.so PYTHONPATH=bindings/python \\
      /usr/bin/python3 examples/python/cohorts.py /tmp/cohorts.csv
"""

import math
import os
import sys

import shopcrm

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, '..', 'data', 'cdnow_orders.csv')


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    out_path = argv[1]
    data = argv[2] if len(argv) == 3 else DEFAULT_DATA

    try:
        with shopcrm.Dataset.from_csv(data, customer='customer_id', time='date',
                                      amount='amount') as ds:
            print(f'{ds.orders} orders, {ds.customers} customers')
            with ds.cohorts(period='month') as co:   # classic retention, UTC
                if co.rows == 0:
                    print('no cohorts')
                    return 0
                print(f'monthly cohorts {co.labels[0]} .. {co.labels[-1]}: '
                      f'{co.rows} cohorts x {co.cols} periods')
                periods = range(min(6, co.cols))
                print(f'{"cohort":<8} {"size":>6}' + ''.join(f' {"k=":>6}{k}' for k in periods))
                for c in range(min(3, co.rows)):
                    cells = ''.join(f' {"-":>7}' if math.isnan(r) else f' {100 * r:6.1f}%'
                                    for r in co.retention[c][:len(periods)])
                    print(f'{co.labels[c]:<8} {int(co.sizes[c]):>6}{cells}')
                curve = ' '.join(f'{x / 100:.2f}' for x in co.ltv[0][:12])
                print(f'LTV of {co.labels[0]} ($ per customer): {curve}')
                co.write_csv(out_path)
                rows = len(co.to_long(as_frame=False))
                print(f'wrote {rows} cells to {out_path}')
    except shopcrm.Error as e:
        print(f'cohorts: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
