"""KPIs, NPS and CSAT, hand-worked on the dataset of support.py.

Whole dataset: 12 orders (c1 4, c2 2, c3 1, c4 1, c5 4), 1 refund (-1000),
5 customers, all new; repeat customers (>= 2 orders) c1, c2, c5; revenue
21000, order revenue 22000.
Window [day 10, day 26): c1 days 10, 20, 20 (2000 + 1500 + 1500), c2 day 15
(500), c5 day 25 (400): 5 orders, 3 customers, all returning (first orders on
days 0, 5, 2); repeat: c1 only; revenue 5900.
Window [day 30, day 31): c4's order 4000 and refund -1000: 1 order, 1 refund,
1 new customer, revenue 3000, AOV 4000.
"""

import datetime as dt
import math
import unittest

from support import D0, np, shopcrm, small_dataset

UTC = dt.timezone.utc


def day(k):
    return (D0 + k) * 86400


class Kpis(unittest.TestCase):
    def setUp(self):
        self.ds = small_dataset()

    def test_whole_dataset(self):
        k = self.ds.kpi()
        want = {'orders': 12, 'refunds': 1, 'customers': 5, 'new_customers': 5,
                'returning_customers': 0, 'repeat_customers': 3, 'revenue': 21000,
                'order_revenue': 22000, 'refund_amount': -1000, 'new_revenue': 21000,
                'returning_revenue': 0}
        for name, v in want.items():
            self.assertEqual(k[name], v, name)
            self.assertIsInstance(k[name], int, name)
        self.assertAlmostEqual(k['average_order_value'], 22000 / 12)
        self.assertAlmostEqual(k['purchase_frequency'], 12 / 5)
        self.assertAlmostEqual(k['repeat_rate'], 3 / 5)
        self.assertAlmostEqual(k['revenue_per_customer'], 21000 / 5)
        self.assertEqual((k['new_customer_share'], k['new_revenue_share'],
                          k['returning_revenue_share']), (1.0, 1.0, 0.0))
        self.assertEqual(len(k), 29)
        self.assertEqual(list(k), shopcrm.metric_names())
        self.assertEqual(k.to_dict()['orders'], 12)
        self.assertEqual(k.average_order_value, k['average_order_value'])
        self.assertEqual(k.window, (None, None))
        self.assertEqual(k.types['revenue'], shopcrm.KpiType.MONEY)
        self.assertEqual(k.types['repeat_rate'], shopcrm.KpiType.RATIO)

    def test_window(self):
        for start, end in ((day(10), day(26)),
                           (dt.datetime(2024, 1, 11, tzinfo=UTC),
                            dt.datetime(2024, 1, 27, tzinfo=UTC))):
            k = self.ds.kpi(start=start, end=end)
            self.assertEqual((k['orders'], k['refunds'], k['customers'], k['new_customers'],
                              k['returning_customers'], k['repeat_customers']),
                             (5, 0, 3, 0, 3, 1))
            self.assertEqual((k['revenue'], k['returning_revenue'], k['new_revenue']),
                             (5900, 5900, 0))
            self.assertAlmostEqual(k['average_order_value'], 1180.0)
            self.assertAlmostEqual(k['repeat_rate'], 1 / 3)
            self.assertEqual(k.window, (day(10), day(26)))
        k = self.ds.kpi(start=day(30), end=day(31))
        self.assertEqual((k['orders'], k['refunds'], k['new_customers'], k['revenue'],
                          k['order_revenue'], k['refund_amount']), (1, 1, 1, 3000, 4000, -1000))
        self.assertAlmostEqual(k['average_order_value'], 4000.0)

    def test_retention_kpis(self):
        # Window [day 10, day 26), lookback 10 days. At the start (an order in
        # [day 0, day 10)): c1, c2, c3, c5 = 4. At the end ([day 16, day 26)):
        # c1 (day 20), c5 (day 25) = 2, none new: retention 2/4. Intervals with
        # both orders in the window: c1 day 10 12:00 -> 20 09:00 -> 20 15:00,
        # 9.875 and 0.25 days: mean = median = 5.0625.
        for lookback in (10 * 86400, dt.timedelta(days=10)):
            k = self.ds.kpi(start=day(10), end=day(26), lookback=lookback)
            self.assertEqual((k['customers_at_start'], k['customers_at_end'],
                              k['retained_customers'], k['purchase_intervals']), (4, 2, 2, 2))
            self.assertEqual((k.retention_rate, k.churn_rate), (0.5, 0.5))
            self.assertAlmostEqual(k['mean_days_between_purchases'], 5.0625)
            self.assertAlmostEqual(k['median_days_between_purchases'], 5.0625)
            self.assertEqual(k.types['median_days_between_purchases'], shopcrm.KpiType.DAYS)
        # Default lookback: the window's length, 16 days. At the start (an
        # order in [day -6, day 10)): c1, c2, c3, c5 = 4; at the end (an order
        # in the window): c1, c2, c5 = 3, none new: retention 3/4, all three
        # in S (share 3/4), none reactivated. The S window starts before the
        # data's first day (day 0): lookback_incomplete.
        k = self.ds.kpi(start=day(10), end=day(26))
        self.assertEqual((k['customers_at_start'], k['customers_at_end'],
                          k['retained_customers'], k['retained_from_start'],
                          k['reactivated_customers']), (4, 3, 3, 3, 0))
        self.assertEqual((k['retention_rate'], k['retained_from_start_share']), (0.75, 0.75))
        self.assertTrue(k.lookback_incomplete)
        self.assertFalse(k.partial)
        self.assertEqual(k.flags, shopcrm.KpiFlag.LOOKBACK_INCOMPLETE)
        self.assertFalse(self.ds.kpi(start=day(10), end=day(26),
                                     lookback=10 * 86400).lookback_incomplete)
        self.assertTrue(math.isnan(self.ds.kpi()['retention_rate']))  # unbounded window
        with self.assertRaises(shopcrm.InvalidArgument):
            self.ds.kpi(start=day(10), end=day(26), lookback=-1)
        with self.assertRaises(TypeError):
            self.ds.kpi(lookback=1.5)

    def test_empty_window_and_utc_offset(self):
        k = self.ds.kpi(start=0, end=1000)
        self.assertEqual((k['orders'], k['revenue']), (0, 0))
        self.assertTrue(math.isnan(k['average_order_value']))  # undefined, not 0
        self.assertTrue(math.isnan(k['repeat_rate']))
        # c3's only order is day 1 at 12:00 UTC; with utc_offset +13 h it is day 2
        # 01:00 local, inside the local window [day 2, day 2 + 2 h).
        k = self.ds.kpi(start=day(2), end=day(2) + 7200, utc_offset=13 * 3600)
        self.assertEqual((k['orders'], k['revenue']), (1, 10000))

    def test_errors(self):
        with self.assertRaises(shopcrm.InvalidArgument):
            self.ds.kpi(start=day(5), end=day(1))
        # A naive bound is UTC (as pandas and the CLI take it), not an error.
        self.assertEqual(self.ds.kpi(start=dt.datetime(2024, 1, 1)).window[0], 1704067200)
        with self.assertRaises(shopcrm.Cancelled):
            self.ds.kpi(progress=lambda d, t: False)


class KpiPeriodsTest(unittest.TestCase):
    """Weekly rows of the dataset of support.py (2024-01-01 is a Monday; the
    data spans days 0 .. 30). Customers at a row's start: those of the week
    before; at its end: those of the week.

    W01 (days 0-6): 6 orders of c1, c2, c3, c5 (all new), repeat c5, revenue
      12100; S = {} (retention NaN); the week before is before the data.
    W02: c1 (2000): S = {c1, c2, c3, c5}, E = {c1}: retention 1/4.
    W03: c2 (500), c1 twice on day 20 (6 h apart): S = {c1}, E = {c1, c2},
      both returning: retention 2/1, |S & E| = 1, c2 reactivated.
    W04: c5 (400): S = {c1, c2}, E = {c5}: retention 1/2, c5 reactivated.
    W05 (day 28 .. Feb 4): c4's order 4000 and refund -1000, new: retention
      0 / 1; the week ends after the data (day 30): partial."""

    def setUp(self):
        self.r = small_dataset().kpi_periods('week')

    def test_rows_hand_worked(self):
        r = self.r
        self.assertEqual((len(r), r.unit), (5, 'week'))
        self.assertEqual(r.labels, ['2024-W01', '2024-W02', '2024-W03', '2024-W04', '2024-W05'])
        self.assertEqual(r.starts[1], day(7))
        self.assertEqual(list(r.column('orders')), [6, 1, 3, 1, 1])
        self.assertEqual(list(r.column('revenue')), [12100, 2000, 3500, 400, 3000])
        self.assertEqual(list(r.column('new_customers')), [4, 0, 0, 0, 1])
        self.assertEqual(list(r.column('reactivated_customers')), [0, 0, 1, 1, 0])
        ret = list(r.column('retention_rate'))
        self.assertTrue(math.isnan(ret[0]))
        self.assertEqual(ret[1:], [0.25, 2.0, 0.5, 0.0])
        self.assertAlmostEqual(r.column('median_days_between_purchases')[2], 0.25)
        self.assertEqual([int(f) for f in r.flags],
                         [shopcrm.KpiFlag.LOOKBACK_INCOMPLETE, 0, 0, 0, shopcrm.KpiFlag.PARTIAL])
        with self.assertRaises(KeyError):
            r.column('nope')

    def test_to_dict_and_pandas(self):
        d = self.r.to_dict()
        self.assertEqual(list(d)[:4], ['period', 'start', 'lookback_incomplete', 'partial'])
        self.assertEqual(list(d)[4:], shopcrm.metric_names())
        self.assertEqual(d['partial'], [False, False, False, False, True])
        if shopcrm._util.pd is not None:
            df = self.r.to_pandas()
            self.assertEqual(df.loc['2024-W03', 'orders'], 3)
            self.assertEqual(df.index.name, 'period')

    def test_write_csv(self):
        import os
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'k.csv')
            self.r.write_csv(path)
            with open(path) as f:
                lines = f.read().splitlines()
        head = lines[0].split(',')
        self.assertEqual(head[:5], ['period', 'start', 'end', 'lookback_incomplete', 'partial'])
        row = dict(zip(head, lines[1].split(',')))
        self.assertEqual((row['period'], row['start'], row['end'], row['lookback_incomplete'],
                          row['orders'], row['revenue'], row['retention_rate']),
                         ('2024-W01', '2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z', '1', '6',
                          '121.00', ''))

    def test_errors(self):
        ds = small_dataset()
        with self.assertRaises(ValueError):
            ds.kpi_periods('fortnight')
        with self.assertRaises(shopcrm.InvalidArgument):
            ds.kpi_periods('month', start=day(3))  # not the first day of a month


class Surveys(unittest.TestCase):
    def test_nps(self):
        # promoters 10, 9, 10; detractors 6, 0, 3; passives 8, 7 -> (3 - 3) / 8 = 0
        self.assertEqual(shopcrm.nps([10, 9, 8, 7, 6, 0, 10, 3]), 0.0)
        # 3 promoters of 4, no detractor -> 75
        self.assertEqual(shopcrm.nps([10, 10, 9, 7]), 75.0)
        self.assertEqual(shopcrm.nps([0]), -100.0)
        if np is not None:
            self.assertEqual(shopcrm.nps(np.array([9, 6], dtype=np.int64)), 0.0)

    def test_csat(self):
        self.assertEqual(shopcrm.csat([5, 4, 3, 1, 5]), 60.0)  # 3 of 5 are 4 or 5
        self.assertEqual(shopcrm.csat([1, 2]), 0.0)

    def test_errors(self):
        with self.assertRaises(shopcrm.RangeError) as cm:
            shopcrm.nps([5, 11, 3])
        self.assertEqual((cm.exception.code, cm.exception.index), (-9, 1))
        with self.assertRaises(shopcrm.RangeError) as cm:
            shopcrm.csat([1, 2, 3, 0])
        self.assertEqual(cm.exception.index, 3)
        with self.assertRaises(shopcrm.InvalidArgument):
            shopcrm.nps([])
        with self.assertRaises(TypeError):
            shopcrm.nps([9.5])


if __name__ == '__main__':
    unittest.main()
