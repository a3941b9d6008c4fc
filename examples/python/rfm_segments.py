#!/usr/bin/env python3
"""RFM segments of the bundled CDNOW orders, and an audience to win back.

Loads examples/data/cdnow_orders.csv, scores every customer by recency,
frequency and monetary value (5 quantile bins, the "rfm11-v2" segments),
prints the segment summary and writes the customers of "At Risk" and
"Can't Lose Them" (good customers who stopped buying) to a CSV file for an
e-mail campaign.

Usage:  rfm_segments.py AUDIENCE.csv [ORDERS.csv]
Run from the source tree with an uninstalled build:
  SHOPCRM_LIBRARY=build/libshopcrm.so PYTHONPATH=bindings/python \\
      /usr/bin/python3 examples/python/rfm_segments.py /tmp/win-back.csv
"""

import os
import sys

import shopcrm

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, '..', 'data', 'cdnow_orders.csv')
WIN_BACK = ['At Risk', "Can't Lose Them"]


def money(cents):
    """Exact major units from integer minor units: 123456 -> '1,234.56'."""
    sign = '-' if cents < 0 else ''
    units, rest = divmod(abs(cents), 100)
    return f'{sign}{units:,}.{rest:02d}'


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    audience_path = argv[1]
    data = argv[2] if len(argv) == 3 else DEFAULT_DATA

    try:
        with shopcrm.Dataset.from_csv(data, customer='customer_id', time='date',
                                      amount='amount') as ds:
            print(f'{ds.orders} orders, {ds.customers} customers')
            with ds.rfm(bins=5, method='quantile', segments='rfm11-v2') as rfm:
                print(f'{"segment":<20} {"customers":>9} {"share":>6} {"revenue $":>14} '
                      f'{"R":>4} {"F":>4} {"M":>4}')
                for row in rfm.segments():
                    if row['customers'] == 0:
                        continue
                    name = row['name'] if row['name'] is not None else '(unassigned)'
                    print(f'{name:<20} {row["customers"]:>9} {row["share"]:>6.1%} '
                          f'{money(row["revenue"]):>14} {row["mean_r"]:>4.1f} '
                          f'{row["mean_f"]:>4.1f} {row["mean_m"]:>4.1f}')
                rfm.write_audience_csv(audience_path, WIN_BACK)
                n = len(rfm.audience_indices(WIN_BACK))
                print(f'wrote {n} customers ({", ".join(WIN_BACK)}) to {audience_path}')
    except shopcrm.Error as e:
        # e.code: the negative SCRM_E* code; e.message: where and why; e.index: the line.
        print(f'rfm_segments: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
