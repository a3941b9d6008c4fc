"""Shared fixtures of the Python binding tests.

The hand-worked dataset: five customers (keys 1..5), times at given hours
of days counted from D0 = 2024-01-01 (UTC). Expected values in the tests are
worked out by hand from the definitions in include/shopcrm/rfm.h and kpi.h,
in the comments next to them.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # bindings/python, if PYTHONPATH lacks it

import shopcrm  # noqa: E402
from shopcrm import _util  # noqa: E402

np = _util.np
pd = _util.pd

DATA = os.path.join(HERE, 'data')
REPO = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
D0 = 19723  # days from 1970-01-01 to 2024-01-01 (1704067200 / 86400)


def t(day, hour=12):
    """Epoch seconds of D0 + day at hour:00 UTC."""
    return (D0 + day) * 86400 + hour * 3600


# (customer, time, amount in cents)
ROWS = [
    (1, t(0), 1000), (5, t(2), 200), (3, t(1), 10000), (2, t(5), 500),
    (1, t(10), 2000), (5, t(3), 300), (5, t(4), 100), (2, t(15), 500),
    (1, t(20, 9), 1500), (1, t(20, 15), 1500), (5, t(25), 400),
    (4, t(30, 10), 4000), (4, t(30, 11), -1000),
]
#   c1: 4 orders on days 0, 10, 20, 20: revenue 6000, last day 20
#   c2: 2 orders on days 5, 15:         revenue 1000, last day 15
#   c3: 1 order on day 1:               revenue 10000
#   c4: 1 order + 1 refund on day 30:   revenue 3000 (frequency 1)
#   c5: 4 orders on days 2, 3, 4, 25:   revenue 1000


def columns(rows=ROWS):
    return ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def small_dataset():
    return shopcrm.Dataset.from_arrays(*columns())


def by_key(rfm, values):
    """{key: value} of a per-customer column."""
    keys = list(rfm.keys())
    return {int(k) if not isinstance(k, str) else k: (v.item() if hasattr(v, 'item') else v)
            for k, v in zip(keys, list(values))}
