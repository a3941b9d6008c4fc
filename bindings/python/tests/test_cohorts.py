"""Calendar periods and cohort matrices through the Python layer.

The hand-worked dataset (times at 12:00 UTC unless said; cents):
    c1: 2024-01-05 1000, 2024-02-10 2000, 2024-03-15 500
    c2: 2024-01-31 23:30 3000, 2024-03-01 1000
    c3: 2024-02-03 4000, 2024-02-28 1000, 2024-03-31 2000, 2024-03-31 -500 (refund)
    c4: 2024-02-14 1500
Monthly cohorts, defaults (classic, refunds ignored, UTC): the last row is
in 2024-03, so the observation end E = 2024-03; cohorts 2024-01 {c1, c2} and
2024-02 {c3, c4}: C = 2, K = E - 2024-01 + 1 = 3. Cells (k = months since
acquisition):
    2024-01  k0: c1, c2 active, 2 orders, 4000   k1: c1, 1 order, 2000
             k2: c1, c2, 2 orders, 1500
    2024-02  k0: c3, c4, 3 orders, 6500          k1: c3, 1 order, 2000
             (the refund is not an order and, refunds off, not revenue)
             k2: not observable (2024-04 > E): counts 0, ratios NaN
retention = active / 2: [1, .5, 1], [1, .5, NaN]
ltv = cumulative revenue / 2: [2000, 3000, 3750], [3250, 4250, NaN]
cum_orders = cumulative orders / 2: [1, 1.5, 2.5], [1.5, 2, NaN]
Other options are worked out next to their tests.
"""

import calendar
import csv
import datetime as dt
import gc
import math
import os
import tempfile
import unittest

from support import np, pd, shopcrm

UTC = dt.timezone.utc
NAN = float('nan')


def t(y, m, d, hh=12, mm=0):
    return calendar.timegm((y, m, d, hh, mm, 0))


ROWS = [
    (1, t(2024, 1, 5), 1000), (1, t(2024, 2, 10), 2000), (1, t(2024, 3, 15), 500),
    (2, t(2024, 1, 31, 23, 30), 3000), (2, t(2024, 3, 1), 1000),
    (3, t(2024, 2, 3), 4000), (3, t(2024, 2, 28), 1000), (3, t(2024, 3, 31), 2000),
    (3, t(2024, 3, 31), -500),
    (4, t(2024, 2, 14), 1500),
]


def dataset(rows=ROWS):
    return shopcrm.Dataset.from_arrays([r[0] for r in rows], [r[1] for r in rows],
                                       [r[2] for r in rows])


def as_lists(m):
    """A matrix as nested lists of Python numbers (numpy or plain)."""
    return [[x.item() if hasattr(x, 'item') else x for x in row] for row in m]


class Close(unittest.TestCase):
    def assertMatrix(self, got, want):
        got = as_lists(got)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(len(g), len(w))
            for a, b in zip(g, w):
                if isinstance(b, float) and math.isnan(b):
                    self.assertTrue(math.isnan(a), f'{got} != {want}')
                else:
                    self.assertAlmostEqual(a, b, places=12, msg=f'{got} != {want}')


class Calendar(unittest.TestCase):
    def test_month_index_start_label(self):
        # (2024 - 1970) * 12 + 0 = 648; 2024-01-01 is day 19723 = 1704067200 s.
        self.assertEqual(shopcrm.period_index(t(2024, 1, 5)), 648)
        self.assertEqual(shopcrm.period_start(648), 1704067200)
        self.assertEqual(shopcrm.period_label(648), '2024-01')
        self.assertEqual(shopcrm.period_label(649, 'month'), '2024-02')
        # Before the epoch: 1969-12 is -1.
        self.assertEqual(shopcrm.period_index(-1, 'month'), -1)
        self.assertEqual(shopcrm.period_label(-1, 'month'), '1969-12')

    def test_other_units(self):
        d = t(2024, 2, 14)
        self.assertEqual(shopcrm.period_index(d, 'day'), 19723 + 31 + 13)
        self.assertEqual(shopcrm.period_label(19723, 'day'), '2024-01-01')
        self.assertEqual(shopcrm.period_index(d, 'quarter'), 54 * 4)  # 2024-Q1
        self.assertEqual(shopcrm.period_label(54 * 4 + 3, 'quarter'), '2024-Q4')
        self.assertEqual(shopcrm.period_index(d, 'year'), 54)
        self.assertEqual(shopcrm.period_label(54, shopcrm.PeriodUnit.YEAR), '2024')

    def test_iso_weeks(self):
        # Week 0 is the week of 1970-01-01, Monday 1969-12-29 .. Sunday 1970-01-04 (1970-W01).
        self.assertEqual(shopcrm.period_index(0, 'week'), 0)
        self.assertEqual(shopcrm.period_start(0, 'week'), -3 * 86400)
        self.assertEqual(shopcrm.period_label(0, 'week'), '1970-W01')
        self.assertEqual(shopcrm.period_index(t(1970, 1, 5), 'week'), 1)  # a Monday
        self.assertEqual(shopcrm.period_index(t(1969, 12, 28), 'week'), -1)  # a Sunday
        # 2020-12-31 (Thursday) and 2021-01-03 (Sunday) are in 2020-W53; 2021-01-04 starts 2021-W01.
        w53 = shopcrm.period_index(t(2020, 12, 31), 'week')
        self.assertEqual(shopcrm.period_index(t(2021, 1, 3), 'week'), w53)
        self.assertEqual(shopcrm.period_label(w53, 'week'), '2020-W53')
        self.assertEqual(shopcrm.period_label(w53 + 1, 'week'), '2021-W01')
        self.assertEqual(shopcrm.period_start(w53 + 1, 'week'), t(2021, 1, 4, 0))

    def test_utc_offset(self):
        # 2024-01-31 23:30 UTC is 2024-02-01 00:30 at UTC+1: February there.
        late = t(2024, 1, 31, 23, 30)
        self.assertEqual(shopcrm.period_index(late, 'month'), 648)
        self.assertEqual(shopcrm.period_index(late, 'month', utc_offset=3600), 649)
        # February starts at local midnight: 2024-02-01 00:00 local = 01-31 23:00 UTC.
        self.assertEqual(shopcrm.period_start(649, 'month', utc_offset=3600),
                         t(2024, 1, 31, 23))
        self.assertEqual(shopcrm.period_index(dt.datetime(2024, 3, 1, tzinfo=UTC)), 650)

    def test_errors(self):
        with self.assertRaises(ValueError):
            shopcrm.period_index(0, 'fortnight')
        with self.assertRaises(shopcrm.InvalidArgument):
            shopcrm.period_index(0, 'day', utc_offset=18 * 3600 + 1)
        with self.assertRaises(shopcrm.RangeError):  # year 10000
            shopcrm.period_index(t(9999, 12, 31, 23) + 7200, 'day')
        with self.assertRaises(shopcrm.RangeError):
            shopcrm.period_label(10**9, 'year')


class Matrices(Close):
    def setUp(self):
        self.ds = dataset()

    def tearDown(self):
        self.ds.close()

    def test_defaults(self):
        with self.ds.cohorts() as co:
            self.assertEqual(co.shape, (2, 3))
            self.assertEqual((co.rows, co.cols, len(co)), (2, 3, 2))
            self.assertEqual(co.labels, ['2024-01', '2024-02'])
            self.assertEqual(co.unit, 'month')
            self.assertEqual(co.first_period, 648)
            self.assertEqual(co.observation_end, 650)
            self.assertEqual([int(x) for x in co.sizes], [2, 2])
            self.assertMatrix(co.active, [[2, 1, 2], [2, 1, 0]])
            self.assertMatrix(co.orders, [[2, 1, 2], [3, 1, 0]])
            self.assertMatrix(co.revenue, [[4000, 2000, 1500], [6500, 2000, 0]])
            self.assertMatrix(co.retention, [[1, .5, 1], [1, .5, NAN]])
            self.assertMatrix(co.ltv, [[2000, 3000, 3750], [3250, 4250, NAN]])
            self.assertMatrix(co.cum_orders, [[1, 1.5, 2.5], [1.5, 2, NAN]])
            self.assertTrue(co.observable(1, 1))
            self.assertFalse(co.observable(1, 2))

    def test_rolling(self):
        # Active in period k or later: 2024-01 k1: c1 (Feb) and c2 (Mar) -> 2;
        # 2024-02 k1: c3 -> 1.
        with self.ds.cohorts(mode='rolling') as co:
            self.assertMatrix(co.active, [[2, 2, 2], [2, 1, 0]])
            self.assertMatrix(co.retention, [[1, 1, 1], [1, .5, NAN]])
            self.assertMatrix(co.orders, [[2, 1, 2], [3, 1, 0]])  # orders do not roll

    def test_refunds(self):
        # The -500 refund of c3 on 2024-03-31 goes to 2024-02 k1: 2000 - 500.
        with self.ds.cohorts(refunds=True) as co:
            self.assertMatrix(co.revenue, [[4000, 2000, 1500], [6500, 1500, 0]])
            self.assertMatrix(co.ltv, [[2000, 3000, 3750], [3250, 4000, NAN]])
            self.assertMatrix(co.orders, [[2, 1, 2], [3, 1, 0]])

    def test_min_amount(self):
        # Counted orders >= 1500: c1 2000 (Feb); c2 3000 (Jan); c3 4000 (Feb), 2000 (Mar);
        # c4 1500 (Feb). Cohorts 2024-01 {c2}, 2024-02 {c1, c3, c4}; E still 2024-03
        # (the last row of any amount).
        with self.ds.cohorts(min_amount=1500) as co:
            self.assertEqual([int(x) for x in co.sizes], [1, 3])
            self.assertMatrix(co.active, [[1, 0, 0], [3, 1, 0]])
            self.assertMatrix(co.revenue, [[3000, 0, 0], [7500, 2000, 0]])
            self.assertMatrix(co.retention, [[1, 0, 0], [1, 1 / 3, NAN]])

    def test_utc_offset_moves_a_customer(self):
        # At UTC+1 c2's first order is 2024-02-01 00:30: cohorts {c1} and {c2, c3, c4};
        # 2024-02 k0: 3000 + 4000 + 1000 + 1500 = 9500 (4 orders); k1: 1000 + 2000.
        with self.ds.cohorts(utc_offset=3600) as co:
            self.assertEqual([int(x) for x in co.sizes], [1, 3])
            self.assertMatrix(co.active, [[1, 1, 1], [3, 2, 0]])
            self.assertMatrix(co.orders, [[1, 1, 1], [4, 2, 0]])
            self.assertMatrix(co.revenue, [[1000, 2000, 500], [9500, 3000, 0]])
            self.assertMatrix(co.retention, [[1, 1, 1], [1, 2 / 3, NAN]])

    def test_window(self):
        # [2024-02-01, 2024-04-01): c1 first counted order 2024-02-10, c2 2024-03-01,
        # c3 and c4 in February. E = period of end - 1 = 2024-03: C = 2, K = 2.
        start = dt.datetime(2024, 2, 1, tzinfo=UTC)
        with self.ds.cohorts(start=start, end=t(2024, 4, 1, 0)) as co:
            self.assertEqual(co.labels, ['2024-02', '2024-03'])
            self.assertEqual([int(x) for x in co.sizes], [3, 1])
            self.assertMatrix(co.active, [[3, 2], [1, 0]])
            self.assertMatrix(co.orders, [[4, 2], [1, 0]])
            self.assertMatrix(co.revenue, [[8500, 2500], [1000, 0]])
            self.assertMatrix(co.retention, [[1, 2 / 3], [1, NAN]])

    def test_given_acquisition(self):
        # c1 2024-01-01, c2 not acquired, c3 2024-01-20 (before its first order), c4 2024-02-14.
        # 2024-01 {c1, c3}: k0 c1 1000; k1 c1 2000 + c3 4000 + 1000; k2 c1 500 + c3 2000.
        # 2024-02 {c4}: k0 1500; k1 nothing.
        acq = {1: t(2024, 1, 1), 2: None, 3: dt.datetime(2024, 1, 20, tzinfo=UTC),
               4: t(2024, 2, 14)}
        want_active = [[1, 2, 2], [1, 0, 0]]
        want_revenue = [[1000, 7000, 2500], [1500, 0, 0]]
        with self.ds.cohorts(acquisition=acq) as co:
            self.assertEqual([int(x) for x in co.sizes], [2, 1])
            self.assertMatrix(co.active, want_active)
            self.assertMatrix(co.revenue, want_revenue)
            self.assertMatrix(co.retention, [[.5, 1, 1], [1, 0, NAN]])
        # The same as a sequence in customer index order (None: not acquired).
        seq = [acq[k] for k in self.ds.keys()]
        with self.ds.cohorts(acquisition=seq) as co:
            self.assertMatrix(co.active, want_active)
            self.assertMatrix(co.revenue, want_revenue)
        with self.assertRaises(ValueError):
            self.ds.cohorts(acquisition=seq[:3])
        if np is not None:  # datetime64 in customer index order; NaT: not acquired
            d64 = np.array([None if x is None else int(shopcrm.cohorts.to_epoch(x))
                            for x in seq], dtype='datetime64[s]')
            with self.ds.cohorts(acquisition=d64) as co:
                self.assertMatrix(co.revenue, want_revenue)

    def test_weekly_labels(self):
        with self.ds.cohorts(period='week') as co:
            # c1 2024-01-05 is in 2024-W01 (Mon 01-01 .. Sun 01-07); c4 2024-02-14 in W07.
            self.assertEqual(co.labels[0], '2024-W01')
            self.assertEqual(co.unit, 'week')
            self.assertEqual(int(co.sizes[0]), 1)

    def test_empty_window(self):
        with self.ds.cohorts(start=t(2030, 1, 1), end=t(2031, 1, 1)) as co:
            self.assertEqual(co.shape, (0, 0))
            self.assertEqual(co.labels, [])
            self.assertEqual(len(co.to_long(as_frame=False)), 0)

    def test_bad_options(self):
        with self.assertRaises(ValueError):
            self.ds.cohorts(period='decade')
        with self.assertRaises(ValueError):
            self.ds.cohorts(mode='sometimes')
        with self.assertRaises(shopcrm.InvalidArgument):
            self.ds.cohorts(start=t(2024, 2, 1), end=t(2024, 1, 1))
        with self.assertRaises(shopcrm.InvalidArgument):
            self.ds.cohorts(min_amount=-1)

    def test_progress_cancel(self):
        calls = []
        co = self.ds.cohorts(progress=lambda d, n: calls.append((d, n)))
        co.close()
        self.assertTrue(calls)
        # Called on the calling thread only: done counts partitions, at most total.
        self.assertTrue(all(0 < d <= n for d, n in calls), calls)
        with self.assertRaises(shopcrm.Cancelled):
            self.ds.cohorts(progress=lambda d, n: False)

        class Stop(Exception):
            pass

        def boom(d, n):
            raise Stop()
        with self.assertRaises(Stop):
            self.ds.cohorts(progress=boom)


class Merge(Close):
    def test_disjoint_customers_add_up(self):
        # {c1, c2} alone: one cohort 2024-01, E = 2024-03 (c1's 03-15); {c3, c4}: one
        # cohort 2024-02, E = 2024-03. The merge aligns them into the full 2 x 3 result.
        a = dataset([r for r in ROWS if r[0] in (1, 2)])
        b = dataset([r for r in ROWS if r[0] in (3, 4)])
        full = dataset()
        with a.cohorts() as ca, b.cohorts() as cb, full.cohorts() as cf:
            self.assertEqual((ca.shape, cb.shape), ((1, 3), (1, 2)))
            with ca.merge(cb) as m:
                self.assertEqual(m.shape, cf.shape)
                self.assertEqual(m.labels, cf.labels)
                self.assertEqual([int(x) for x in m.sizes], [int(x) for x in cf.sizes])
                for name in ('active', 'orders', 'revenue'):
                    self.assertEqual(as_lists(getattr(m, name)), as_lists(getattr(cf, name)),
                                     name)
                for name in ('retention', 'ltv', 'cum_orders'):
                    self.assertMatrix(getattr(m, name), as_lists(getattr(cf, name)))
        for d in (a, b, full):
            d.close()

    def test_different_options_refused(self):
        with dataset() as ds, ds.cohorts() as x, ds.cohorts(mode='rolling') as y:
            with self.assertRaises(shopcrm.InvalidArgument):
                x.merge(y)
            with self.assertRaises(TypeError):
                x.merge(ds)


class Conversions(unittest.TestCase):
    def setUp(self):
        self.ds = dataset()
        self.co = self.ds.cohorts()

    def tearDown(self):
        self.co.close()
        self.ds.close()

    def test_to_long_rows(self):
        rows = self.co.to_long(as_frame=False)
        # Observable cells only: 3 of 2024-01, 2 of 2024-02.
        self.assertEqual([(r['cohort'], r['period']) for r in rows],
                         [('2024-01', 0), ('2024-01', 1), ('2024-01', 2),
                          ('2024-02', 0), ('2024-02', 1)])
        self.assertEqual(rows[1], {'cohort': '2024-01', 'period': 1, 'cohort_size': 2,
                                   'active_customers': 1, 'orders': 1, 'revenue': 2000,
                                   'retention': 0.5, 'partial': False})
        self.assertEqual(list(rows[0]), list(shopcrm.cohorts.LONG_COLUMNS))

    def test_write_csv(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'c.csv')
            self.co.write_csv(path)
            with open(path, newline='') as f:
                text = f.read()
        self.assertEqual(text,
                         'cohort,period,cohort_size,active_customers,orders,revenue,retention,'
                         'partial\n'
                         '2024-01,0,2,2,2,40.00,1,0\n'
                         '2024-01,1,2,1,1,20.00,0.5,0\n'
                         '2024-01,2,2,2,2,15.00,1,0\n'
                         '2024-02,0,2,2,3,65.00,1,0\n'
                         '2024-02,1,2,1,1,20.00,0.5,0\n')
        self.assertFalse(self.co.last_partial)  # the data ends on 2024-03-31
        self.assertEqual(self.co.partial_periods, 0)
        # an end two months after the data: April and May have no data, so
        # their cells are partial (not 0% months)
        with self.ds.cohorts(end='2024-06-01') as co:
            self.assertEqual(co.partial_periods, 2)
            long = co.to_long(as_frame=False)
            self.assertTrue(all(r['partial'] == (int(r['cohort'][5:7]) + r['period'] >= 4)
                                for r in long))
            self.assertTrue(any(r['partial'] for r in long))

    def test_write_csv_uses_the_datasets_minor_digits(self):
        # Same amounts, read as yen (0 digits) and as dinars (3 digits): the CSV's
        # major units follow the dataset, never a fixed 100.
        cases = (('yen', 0, ['4000', '2000', '1500', '6500', '2000']),
                 ('dinar', 3, ['4.000', '2.000', '1.500', '6.500', '2.000']),
                 ('cent', 2, ['40.00', '20.00', '15.00', '65.00', '20.00']))
        for name, digits, want in cases:
            with self.subTest(name):
                ds = shopcrm.Dataset.from_arrays([r[0] for r in ROWS], [r[1] for r in ROWS],
                                                 [r[2] for r in ROWS], minor_digits=digits)
                self.assertEqual(ds.minor_digits, digits)
                with ds.cohorts() as co, tempfile.TemporaryDirectory() as d:
                    self.assertEqual(co.minor_digits, digits)
                    path = os.path.join(d, 'c.csv')
                    co.write_csv(path)
                    with open(path, newline='') as f:
                        got = [line.split(',')[5] for line in f.read().splitlines()[1:]]
                    self.assertEqual(got, want)
                    with co.merge(co) as m:  # a merge keeps the currency
                        self.assertEqual(m.minor_digits, digits)
                ds.close()
        self.assertEqual(shopcrm.Dataset().minor_digits, 2)

    def test_formatting(self):
        f = shopcrm.cohorts.format_money
        self.assertEqual([f(1500, 0), f(-1500, 3), f(5, 3), f(-7, 0)],
                         ['1500', '-1.500', '0.005', '-7'])
        self.assertEqual([f(0), f(5), f(-5), f(123456), f(-100)],
                         ['0.00', '0.05', '-0.05', '1234.56', '-1.00'])
        r = shopcrm.cohorts.format_rate
        # Shortest of %.15g/%.16g/%.17g that reads back: 1/3 needs 16 digits, 0.1 + 0.2 17;
        # %g switches to exponents below 1e-4.
        self.assertEqual([r(1 / 3), r(0.1 + 0.2), r(1 / 128), r(NAN), r(1.0), r(5e-5), r(0.0)],
                         ['0.3333333333333333', '0.30000000000000004', '0.0078125', '', '1',
                          '5e-05', '0'])

    @unittest.skipIf(pd is None, 'needs pandas')
    def test_to_pandas(self):
        df = self.co.to_pandas()
        self.assertEqual(list(df.index), ['2024-01', '2024-02'])
        self.assertEqual(df.index.name, 'cohort')
        self.assertEqual(list(df.columns), [0, 1, 2])
        self.assertEqual(df.loc['2024-02', 1], 0.5)
        self.assertTrue(math.isnan(df.loc['2024-02', 2]))
        self.assertEqual(self.co.to_pandas('revenue').loc['2024-01', 0], 4000)
        with self.assertRaises(ValueError):
            self.co.to_pandas('happiness')
        long = self.co.to_long()
        self.assertEqual(list(long.columns), list(shopcrm.cohorts.LONG_COLUMNS))
        self.assertEqual(len(long), 5)
        self.assertEqual(long['revenue'].sum(), 4000 + 2000 + 1500 + 6500 + 2000)

    @unittest.skipIf(np is None, 'needs numpy')
    def test_zero_copy_and_lifetime(self):
        ret = self.co.retention
        self.assertEqual(ret.shape, (2, 3))
        self.assertEqual(ret.dtype, np.float64)
        self.assertFalse(ret.flags.writeable)
        self.assertIs(self.co.retention, ret)  # cached, not recomputed
        act = self.co.active
        self.assertEqual(act.dtype, np.uint64)
        self.assertEqual(self.co.revenue.dtype, np.int64)
        self.assertEqual(self.co.sizes.shape, (2,))
        # The matrices view the library's memory: same address on every read.
        self.assertEqual(ret.__array_interface__['data'][0],
                         self.co.retention.__array_interface__['data'][0])
        self.co.close()
        gc.collect()
        # Still valid after close(): the arrays keep the C result alive.
        self.assertEqual(ret[0, 1], 0.5)
        self.assertEqual(int(act[1, 0]), 2)
        with self.assertRaises(shopcrm.StateError):
            self.co.retention

    @unittest.skipIf(np is not None, 'the plain-list path')
    def test_lists_without_numpy(self):
        self.assertEqual(self.co.active, [[2, 1, 2], [2, 1, 0]])
        self.assertEqual(self.co.sizes, [2, 2])


class Sample(unittest.TestCase):
    """The bundled CDNOW sample: every customer's first purchase is in Q1 1997
    (examples/data/README.md), so monthly cohorts are 1997-01 .. 1997-03,
    the sizes add up to the 23,570 customers and period 0 retention is 1."""

    def test_cdnow_monthly(self):
        from support import REPO
        path = os.path.join(REPO, 'examples', 'data', 'cdnow_orders.csv')
        with shopcrm.Dataset.from_csv(path, customer='customer_id', time='date',
                                      amount='amount') as ds, ds.cohorts() as co:
            self.assertEqual(co.labels, ['1997-01', '1997-02', '1997-03'])
            self.assertEqual(sum(int(x) for x in co.sizes), 23570)
            self.assertEqual([row[0] for row in as_lists(co.retention)], [1.0, 1.0, 1.0])
            self.assertEqual(sum(sum(r) for r in as_lists(co.orders)), ds.orders)


if __name__ == '__main__':
    unittest.main()
