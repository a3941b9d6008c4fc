"""RFM through the Python layer, on the hand-worked dataset of support.py.

Recency with the default as_of: the last row is on day 30, so as_of is the
start of day 31 and recency_days = 31 - last order day:
    c1 11, c2 16, c3 30, c4 1, c5 6.
Frequency (orders, amount >= 0): c1 4, c2 2, c3 1, c4 1, c5 4.
Revenue (refunds included): c1 6000, c2 1000, c3 10000, c4 3000, c5 1000.

Quantile scores, N = n = 5: score = 1 + floor(5 c / 5) = 1 + c, c = customers
strictly worse:
    R: c4 5, c5 4, c1 3, c2 2, c3 1
    F: c1 4 and c5 4 (3 smaller each), c2 3, c3 1, c4 1
    M: c3 5, c1 4, c4 3, c2 1 and c5 1 (tie at 1000)
"rfm11-v1" (first match in the preset's order): c1 R3 F4 M4 Loyal Customers;
c4 R5 F1 M3 Potential Loyalist (New Customers needs M1); c2 R2 F3 M1,
c3 R1 F1 M5 and c5 R4 F4 M1 match no box: unassigned.
"rfm11-v2" (the default) keeps those and names the rest: c2 and c3 (R <= 2)
Hibernating, c5 (R >= 3) Potential Loyalist.
"""

import csv
import ctypes
import datetime as dt
import gc
import math
import os
import tempfile
import unittest
import weakref

from support import by_key, columns, np, pd, shopcrm, small_dataset, D0

UTC = dt.timezone.utc


class RfmScores(unittest.TestCase):
    def setUp(self):
        self.ds = small_dataset()

    def tearDown(self):
        self.ds.close()

    def test_quantile_default(self):
        with self.ds.rfm() as r:
            self.assertEqual(len(r), 5)
            self.assertEqual(r.bins, 5)
            self.assertEqual(r.as_of, (D0 + 31) * 86400)
            self.assertEqual(by_key(r, r.recency_days), {1: 11, 2: 16, 3: 30, 4: 1, 5: 6})
            self.assertEqual(by_key(r, r.frequency), {1: 4, 2: 2, 3: 1, 4: 1, 5: 4})
            self.assertEqual(by_key(r, r.revenue), {1: 6000, 2: 1000, 3: 10000, 4: 3000,
                                                    5: 1000})
            self.assertEqual(by_key(r, r.monetary), {1: 6000.0, 2: 1000.0, 3: 10000.0,
                                                     4: 3000.0, 5: 1000.0})
            self.assertEqual(by_key(r, r.r), {1: 3, 2: 2, 3: 1, 4: 5, 5: 4})
            self.assertEqual(by_key(r, r.f), {1: 4, 2: 3, 3: 1, 4: 1, 5: 4})
            self.assertEqual(by_key(r, r.m), {1: 4, 2: 1, 3: 5, 4: 3, 5: 1})
            labels = dict(zip((int(k) for k in r.keys()), r.segment_labels()))
            self.assertEqual(labels, {1: 'Loyal Customers', 2: 'Hibernating', 3: 'Hibernating',
                                      4: 'Potential Loyalist', 5: 'Potential Loyalist'})
            self.assertEqual(r.unassigned, 0)
            self.assertEqual(r.scored, 5)
            self.assertEqual(r.refund_only, {'customers': 0, 'revenue': 0})
            self.assertEqual(r.rows_after_as_of, 0)
            self.assertTrue(r.has_monetary)
            self.assertEqual(r.segment_names[:2], ['Champions', 'Loyal Customers'])
            self.assertEqual(len(r.segment_names), 11)

    def test_quantile_edges(self):
        # F edges: e_k = smallest frequency among customers with F > k:
        # k=1 {c1,c5,c2} -> 2; k=2 same -> 2; k=3 {c1,c5} -> 4; k=4 nobody -> NaN.
        # R edges: largest recency among customers with R > k: 16, 11, 6, 1.
        r = self.ds.rfm()
        e = r.edges
        self.assertEqual(list(e['r']), [16.0, 11.0, 6.0, 1.0])
        self.assertEqual(list(e['f'])[:3], [2.0, 2.0, 4.0])
        self.assertTrue(math.isnan(list(e['f'])[3]))
        # M: scores c3 5, c1 4, c4 3, c2/c5 1 -> k=1 {c3,c1,c4} min 3000; k=2 3000; k=3 6000; k=4 10000
        self.assertEqual(list(e['m']), [3000.0, 3000.0, 6000.0, 10000.0])

    def test_ntile(self):
        # NTILE(5) over 5 customers: one per bucket, ties broken by key.
        # F by (frequency, key): c3, c4, c2, c1, c5.  M by (revenue, key): c2, c5, c4, c1, c3.
        # R by (recency desc, key): c3, c2, c1, c5, c4.
        r = self.ds.rfm(method='ntile')
        self.assertEqual(by_key(r, r.f), {3: 1, 4: 2, 2: 3, 1: 4, 5: 5})
        self.assertEqual(by_key(r, r.m), {2: 1, 5: 2, 4: 3, 1: 4, 3: 5})
        self.assertEqual(by_key(r, r.r), {3: 1, 2: 2, 1: 3, 5: 4, 4: 5})

    def test_frequency_days_and_monetary_mean(self):
        # Days: c1 has two orders on day 20 -> 3 days; F quantile: c5 (4) 5, c1 (3) 4.
        r = self.ds.rfm(frequency='days')
        self.assertEqual(by_key(r, r.frequency), {1: 3, 2: 2, 3: 1, 4: 1, 5: 4})
        self.assertEqual(by_key(r, r.f), {1: 4, 2: 3, 3: 1, 4: 1, 5: 5})
        # Mean over orders: c1 6000/4, c2 1000/2, c3 10000, c4 3000/1, c5 1000/4.
        r = self.ds.rfm(monetary='mean')
        self.assertEqual(by_key(r, r.monetary), {1: 1500.0, 2: 500.0, 3: 10000.0, 4: 3000.0,
                                                 5: 250.0})
        self.assertEqual(by_key(r, r.m), {1: 3, 2: 2, 3: 5, 4: 4, 5: 1})

    def test_as_of_datetime(self):
        # 2024-02-10 00:00 UTC is day D0 + 40: recency = 40 - last day.
        want = {1: 20, 2: 25, 3: 39, 4: 10, 5: 15}
        for as_of in (dt.datetime(2024, 2, 10, tzinfo=UTC),
                      dt.datetime(2024, 2, 10, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                      (D0 + 40) * 86400):
            r = self.ds.rfm(as_of=as_of)
            self.assertEqual(r.as_of, (D0 + 40) * 86400)
            self.assertEqual(by_key(r, r.recency_days), want)
        if np is not None:
            r = self.ds.rfm(as_of=np.datetime64('2024-02-10T00:00:00'))
            self.assertEqual(by_key(r, r.recency_days), want)
        # A past as_of scores the snapshot before it: the start of day 30
        # leaves out the rows of day 30 (c4's only order) ...
        r = self.ds.rfm(as_of=dt.datetime(2024, 1, 31, tzinfo=UTC))
        self.assertGreater(r.rows_after_as_of, 0)
        self.assertEqual(r.scored, 4)
        self.assertEqual(by_key(r, r.segment)[4], -2)  # not scored
        self.assertEqual(by_key(r, r.r)[4], 0)
        self.assertIsNone(dict(zip((int(k) for k in r.keys()), r.segment_labels()))[4])
        # A naive as_of is UTC (as pandas and the CLI take it).
        self.assertEqual(self.ds.rfm(as_of=dt.datetime(2024, 2, 10)).as_of,
                         self.ds.rfm(as_of=dt.datetime(2024, 2, 10, tzinfo=UTC)).as_of)

    def test_fixed_edges(self):
        # bins 3. R = 3 - #{recency >= e}: e = 5, 15 -> c1 11: 2, c2 16: 1, c3 30: 1, c4 1: 3, c5 6: 2
        # F = 1 + #{frequency >= e}: e = 2, 4 -> c1 4: 3, c2 2: 2, c3 1: 1, c4 1: 1, c5 4: 3
        # M: e = 1500, 5000 -> c1 6000: 3, c2 1000: 1, c3 10000: 3, c4 3000: 2, c5 1000: 1
        r = self.ds.rfm(bins=3, method='fixed',
                        edges={'r': [5, 15], 'f': [2, 4], 'm': [1500, 5000]})
        self.assertEqual(by_key(r, r.r), {1: 2, 2: 1, 3: 1, 4: 3, 5: 2})
        self.assertEqual(by_key(r, r.f), {1: 3, 2: 2, 3: 1, 4: 1, 5: 3})
        self.assertEqual(by_key(r, r.m), {1: 3, 2: 1, 3: 3, 4: 2, 5: 1})
        self.assertEqual(list(r.edges['m']), [1500.0, 5000.0])
        # bins != 5 and the default segments: no segments, everybody unassigned.
        self.assertEqual(r.segment_names, [])
        self.assertEqual(list(r.segment), [-1] * 5)
        with self.assertRaises(ValueError):
            self.ds.rfm(bins=3, method='fixed', edges={'r': [5], 'f': [2, 4], 'm': [1, 2]})
        with self.assertRaises(shopcrm.InvalidArgument):  # not ascending
            self.ds.rfm(bins=3, method='fixed', edges={'r': [15, 5], 'f': [2, 4], 'm': [1, 2]})

    def test_rf10_preset_and_audience(self):
        # rf10-v1 on (R, F): c1 R3 F4 Loyal Customers, c2 R2 F3 At Risk, c3 R1 F1
        # Hibernating, c4 R5 F1 New Customers, c5 R4 F4 Loyal Customers.
        r = self.ds.rfm(segments='rf10-v1')
        labels = dict(zip((int(k) for k in r.keys()), r.segment_labels()))
        self.assertEqual(labels, {1: 'Loyal Customers', 2: 'At Risk', 3: 'Hibernating',
                                  4: 'New Customers', 5: 'Loyal Customers'})
        self.assertEqual(r.unassigned, 0)
        self.assertEqual(sorted(int(k) for k in r.audience('Loyal Customers')), [1, 5])
        self.assertEqual(sorted(int(k) for k in r.audience(['At Risk', 'New Customers'])),
                         [2, 4])
        idx = list(r.audience_indices(['Loyal Customers']))
        self.assertEqual(idx, sorted(idx))
        self.assertEqual(sorted(int(self.ds.key(i)) for i in idx), [1, 5])
        with self.assertRaises(shopcrm.NotFound):
            r.audience(['No Such Segment'])
        with self.assertRaises(shopcrm.InvalidArgument):
            self.ds.rfm(bins=4, segments='rf10-v1')  # presets assume 5 bins
        with self.assertRaises(shopcrm.NotFound):
            self.ds.rfm(segments='rfm99-v9')

    def test_custom_segment_map(self):
        sm = shopcrm.SegmentMap()
        sm.add('Top', r=(4, 5)).add('Rest')
        self.assertEqual(len(sm), 2)
        self.assertEqual(sm.names, ['Top', 'Rest'])
        self.assertEqual(sm.rule(0), ((4, 5), (1, 10), (1, 10)))
        self.assertEqual(sm.find('Rest'), 1)
        self.assertEqual(sm.match(5, 1, 1), 'Top')
        self.assertEqual(sm.match(1, 1, 1), 'Rest')
        self.assertEqual(sm.bins, 0)
        with self.assertRaises(shopcrm.InvalidArgument):
            sm.add('Top')  # duplicate name
        r = self.ds.rfm(segments=sm)
        sm.close()  # the result holds its own copy
        labels = dict(zip((int(k) for k in r.keys()), r.segment_labels()))
        self.assertEqual(labels, {1: 'Rest', 2: 'Rest', 3: 'Rest', 4: 'Top', 5: 'Top'})
        # No segments at all.
        r = self.ds.rfm(segments=None)
        self.assertEqual(r.unassigned, 5)
        self.assertIn('rfm11-v1', shopcrm.SegmentMap.preset_names())
        self.assertIn('rf10-v1', shopcrm.SegmentMap.preset_names())
        p = shopcrm.SegmentMap.preset('rfm11-v1')
        self.assertEqual((len(p), p.bins, p.names[7]), (11, 5, "Can't Lose Them"))
        self.assertEqual(p.copy().names, p.names)

    def test_segment_summary(self):
        r = self.ds.rfm(segments='rfm11-v1')
        rows = r.segments()
        self.assertEqual(len(rows), 12)  # 11 segments + unassigned
        by_name = {row['name']: row for row in rows}
        loyal = by_name['Loyal Customers']
        self.assertEqual((loyal['customers'], loyal['revenue'], loyal['share']), (1, 6000, 0.2))
        self.assertEqual((loyal['mean_r'], loyal['mean_f'], loyal['mean_m']), (3.0, 4.0, 4.0))
        un = by_name[None]
        # c2, c3, c5: revenue 1000 + 10000 + 1000; R 2, 1, 4; recency 16, 30, 6.
        self.assertEqual((un['customers'], un['revenue']), (3, 12000))
        self.assertAlmostEqual(un['share'], 0.6)
        self.assertAlmostEqual(un['mean_r'], 7 / 3)
        self.assertAlmostEqual(un['mean_recency_days'], 52 / 3)
        self.assertAlmostEqual(un['mean_monetary'], 4000.0)
        champions = by_name['Champions']
        self.assertEqual((champions['customers'], champions['revenue']), (0, 0))
        self.assertTrue(math.isnan(champions['mean_r']))

    def test_write_csv(self):
        r = self.ds.rfm(segments='rf10-v1')
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'rfm.csv')
            r.write_csv(path)
            with open(path, newline='') as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(len(rows), 5)
            row1 = next(x for x in rows if x['customer'] == '1')
            # monetary in major units with 2 decimals: 6000 cents -> 60.00
            self.assertEqual(row1, {'customer': '1', 'recency_days': '11', 'frequency': '4',
                                    'monetary': '60.00', 'r': '3', 'f': '4', 'm': '4',
                                    'segment': 'Loyal Customers'})
            path = os.path.join(tmp, 'aud.csv')
            r.write_audience_csv(path, ['Loyal Customers', 'At Risk'])
            with open(path, newline='') as f:
                rows = list(csv.reader(f))
            self.assertEqual(rows[0], ['customer', 'segment'])
            self.assertEqual(sorted(rows[1:]), [['1', 'Loyal Customers'], ['2', 'At Risk'],
                                                ['5', 'Loyal Customers']])
            with self.assertRaises(shopcrm.IOError_) as cm:
                r.write_csv(os.path.join(tmp, 'no', 'such', 'dir.csv'))
            self.assertEqual(cm.exception.code, -4)

    def test_string_keys(self):
        cust, times, amounts = columns()
        names = {1: 'ann', 2: 'ben', 3: '=cmd', 4: 'dee', 5: 'éva'}
        with shopcrm.Dataset.from_arrays([names[c] for c in cust], times, amounts) as ds:
            r = ds.rfm(segments='rfm11-v1')
            self.assertEqual(by_key(r, r.r), {'ann': 3, 'ben': 2, '=cmd': 1, 'dee': 5, 'éva': 4})
            self.assertEqual(sorted(r.audience('Loyal Customers')), ['ann'])
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, 'aud.csv')
                r.write_audience_csv(path, [None])  # the unassigned: ben, =cmd, éva
                with open(path, newline='', encoding='utf-8') as f:
                    got = sorted(row[0] for row in list(csv.reader(f))[1:])
                # '=cmd' is escaped against formula injection as '\'=cmd'
                self.assertEqual(got, ["'=cmd", 'ben', 'éva'])

    def test_empty_dataset(self):
        with shopcrm.Dataset() as ds:
            r = ds.rfm()
            self.assertEqual(len(r), 0)
            self.assertEqual(len(r.r), 0)
            self.assertEqual(r.segments()[-1]['customers'], 0)

    def test_progress_cancel(self):
        class Stop(Exception):
            pass
        calls = []

        def stop(done, total):
            calls.append((done, total))
            raise Stop('enough')
        with self.assertRaises(Stop):
            self.ds.rfm(progress=stop)
        self.assertEqual(len(calls), 1)  # the first call cancelled the computation
        with self.assertRaises(shopcrm.Cancelled) as cm:
            self.ds.rfm(progress=lambda d, t: False)
        self.assertEqual(cm.exception.code, -8)
        seen = []
        r = self.ds.rfm(progress=lambda d, t: seen.append((d, t)))
        self.assertEqual(seen[-1][0], seen[-1][1])  # ends with done == total
        self.assertEqual(len(r), 5)

    def test_closed(self):
        r = self.ds.rfm()
        r.close()
        r.close()  # idempotent
        with self.assertRaises(shopcrm.StateError) as cm:
            r.r
        self.assertEqual(cm.exception.code, -10)
        self.ds.close()
        with self.assertRaises(shopcrm.Error):
            self.ds.rfm()
        with self.assertRaises(shopcrm.StateError):
            len(self.ds)


@unittest.skipIf(np is None, 'numpy not available (or SHOPCRM_NO_NUMPY=1)')
class ZeroCopy(unittest.TestCase):
    def test_arrays_are_views_of_library_memory(self):
        ds = small_dataset()
        r = ds.rfm()
        a = r.r
        self.assertIsInstance(a, np.ndarray)
        self.assertEqual(a.dtype, np.uint8)
        self.assertFalse(a.flags.writeable)
        from shopcrm import _ffi
        c_ptr = ctypes.cast(_ffi.scrm_rfm_scores(r._p(), _ffi.RfmDim.R), ctypes.c_void_p).value
        self.assertEqual(a.ctypes.data, c_ptr)  # no copy: the array is the C column
        self.assertTrue(np.shares_memory(a, r.r))
        for col, dtype in (('recency_days', np.int32), ('frequency', np.uint32),
                           ('monetary', np.float64), ('revenue', np.int64),
                           ('segment', np.int32)):
            self.assertEqual(getattr(r, col).dtype, dtype)

    def test_array_keeps_result_alive(self):
        ds = small_dataset()
        r = ds.rfm()
        rev = r.revenue
        res = weakref.ref(r._res)
        expected = sorted(rev.tolist())
        del r
        gc.collect()
        self.assertIsNotNone(res())  # the array's base chain holds the C result
        junk = [bytearray(1000) for _ in range(1000)]  # churn the heap a little
        del junk
        self.assertEqual(sorted(rev.tolist()), [1000, 1000, 3000, 6000, 10000])
        self.assertEqual(sorted(rev.tolist()), expected)
        del rev
        gc.collect()
        self.assertIsNone(res())  # ... and only it: the result is freed with the last array

    def test_close_with_live_array(self):
        ds = small_dataset()
        r = ds.rfm()
        f = r.frequency
        res = weakref.ref(r._res)
        r.close()
        self.assertIsNotNone(res())
        self.assertEqual(sorted(f.tolist()), [1, 1, 2, 4, 4])
        del f
        gc.collect()
        self.assertIsNone(res())


@unittest.skipIf(np is not None, 'numpy available: the list path is tested without it')
class WithoutNumpy(unittest.TestCase):
    def test_lists(self):
        r = small_dataset().rfm()
        self.assertIsInstance(r.r, list)
        self.assertIsInstance(r.keys(), list)
        self.assertEqual(by_key(r, r.r), {1: 3, 2: 2, 3: 1, 4: 5, 5: 4})
        self.assertIsInstance(r.audience_indices('Loyal Customers'), list)
        with self.assertRaises(ImportError):
            r.to_pandas()


@unittest.skipIf(pd is None, 'pandas not available')
class Pandas(unittest.TestCase):
    def test_to_pandas(self):
        r = small_dataset().rfm()
        df = r.to_pandas()
        self.assertEqual(list(df.columns), ['customer', 'recency_days', 'frequency', 'monetary',
                                            'r', 'f', 'm', 'segment'])
        df = df.set_index('customer')
        self.assertEqual(df.loc[1, 'segment'], 'Loyal Customers')
        self.assertEqual(df.loc[4, 'segment'], 'Potential Loyalist')
        self.assertEqual(df.loc[2, 'segment'], 'Hibernating')
        self.assertTrue(pd.isna(small_dataset().rfm(segments='rfm11-v1').to_pandas()
                                .set_index('customer').loc[2, 'segment']))
        self.assertEqual(df.loc[3, 'monetary'], 100.0)   # major units by default
        self.assertEqual(r.to_pandas(money='minor', index=True).loc[3, 'monetary'], 10000.0)
        self.assertEqual(r.to_pandas(index=True).index.name, 'customer')
        self.assertEqual(int(df.loc[4, 'recency_days']), 1)
        self.assertEqual({int(k): int(v) for k, v in df['r'].to_dict().items()},
                         {1: 3, 2: 2, 3: 1, 4: 5, 5: 4})
        summary = r.segments(as_frame=True)
        self.assertEqual(len(summary), 12)
        self.assertEqual(int(summary.loc[summary['name'] == 'Loyal Customers',
                                          'revenue'].iloc[0]), 6000)


class Issue11(unittest.TestCase):
    """Who is scored, a past as_of, degenerate flags, count-only data."""

    def test_refund_only_not_scored(self):
        cust, times, amounts = columns()
        cust, times, amounts = list(cust) + [9], list(times) + [times[0]], list(amounts) + [-1250]
        with shopcrm.Dataset.from_arrays(cust, times, amounts) as ds, \
                small_dataset() as base:
            r, b = ds.rfm(), base.rfm()
            self.assertEqual((len(r), r.scored), (6, 5))
            self.assertEqual(r.refund_only, {'customers': 1, 'revenue': -1250})
            self.assertEqual(by_key(r, r.segment)[9], -2)
            self.assertEqual(by_key(r, r.f)[9], 0)
            # the others score exactly as without customer 9
            for col in ('r', 'f', 'm', 'segment'):
                got = by_key(r, getattr(r, col))
                del got[9]
                self.assertEqual(got, by_key(b, getattr(b, col)), col)
            if pd is not None:
                df = r.to_pandas().set_index('customer')
                self.assertTrue(pd.isna(df.loc[9, 'segment']))

    def test_degenerate_flags(self):
        with small_dataset().rfm() as r:
            # F: 4, 2, 1, 1, 4: no value held by more than half
            self.assertEqual(r.degenerate['f'][1], 0.0)
            self.assertEqual(r.degenerate['f'][0] & 1, 0)
            # F edges [2, 2, 4, NaN] collapse
            self.assertEqual(r.degenerate['f'][0] & 2, 2)

    def test_count_only_csv(self):
        text = b'cust,date\n1,2024-01-01\n1,2024-01-05\n2,2024-01-03\n3,2024-01-04\n'
        with shopcrm.Dataset() as ds:
            ds.load_csv(text, customer='cust', amount=None)
            self.assertFalse(ds.has_amounts)
            with ds.rfm() as r:
                self.assertFalse(r.has_monetary)
                self.assertTrue(all(math.isnan(x) for x in r.monetary))
                self.assertEqual(list(r.m), [0, 0, 0])
                self.assertEqual(r.segment_map.names[0], 'Hibernating')  # rf10-v1
            # fixed edges need no 'm' without amounts; as of 2024-01-06,
            # customers 1, 2, 3: recency 1, 3, 2 -> R = 5 - #{edges <= it}
            # = 5, 3, 4; frequency 2, 1, 1 -> F = 1 + #{edges <= it} = 2, 1, 1
            with ds.rfm(method='fixed', edges={'r': [2, 3, 4, 5], 'f': [2, 3, 4, 5]}) as r:
                by_key = {k: (int(r.r[ds.index(k)]), int(r.f[ds.index(k)])) for k in (1, 2, 3)}
                self.assertEqual(by_key, {1: (5, 2), 2: (3, 1), 3: (4, 1)})
            # KPIs: counts as usual, money absent (None / NaN), never 0
            k = ds.kpi()
            self.assertTrue(k.no_amounts)
            self.assertEqual((k['orders'], k['customers']), (4, 3))
            self.assertIsNone(k['revenue'])
            self.assertTrue(math.isnan(k['average_order_value']))
            with ds.kpi_periods('month') as kp:
                self.assertTrue(kp.no_amounts)
                self.assertEqual(list(kp.column('orders')), [4])
                self.assertTrue(all(math.isnan(x) for x in kp.column('revenue')))
            # a dataset without amounts refuses rows with amounts
            with self.assertRaises(shopcrm.InvalidArgument):
                ds.load_csv(b'cust,date,amount\n4,2024-01-02,1.00\n', customer='cust')
        with small_dataset() as ds:
            self.assertTrue(ds.has_amounts)


if __name__ == '__main__':
    unittest.main()
