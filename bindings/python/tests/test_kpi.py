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
        self.assertEqual(len(k), 26)
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
        # default lookback 365 days: every customer ordered before day 10 except c4
        k = self.ds.kpi(start=day(10), end=day(26))
        self.assertEqual(k['customers_at_start'], 4)
        self.assertEqual(k['customers_at_end'], 4)  # c1, c2, c3, c5: none new
        self.assertEqual(k['retention_rate'], 1.0)
        self.assertTrue(math.isnan(self.ds.kpi()['retention_rate']))  # unbounded window
        with self.assertRaises(shopcrm.InvalidArgument):
            self.ds.kpi(start=day(10), end=day(26), lookback=0)
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
