"""CSV loading through Dataset.from_csv / load_csv, on tests/data/orders_small.csv.

The fixture (';' delimited, ',' decimals, header customer;ts;total;order):
  line 2 alice 2024-01-05T10:00:00Z 12,50 o1   -> 1250 at 1704448800 (Z: offset ignored)
  line 3 bob   2024-01-06 09:30:00 1.234,00 o2 -> 123400 at 09:30 local = 08:30Z with
                                                  utc_offset 3600: 1704529800
  line 4 alice 2024-01-07 7,25 o3              -> 725 at local midnight = 1704582000
  line 5 a second line of order o3              -> merged into o3 (7,25 + 7,25)
  line 6 NA (the na_customer value)             -> empty customer
  line 7 carol 12,5x                            -> bad amount: rejected / ParseError
  line 8 empty customer                         -> empty customer
"""

import os
import unittest

from support import DATA, shopcrm

FIXTURE = os.path.join(DATA, 'orders_small.csv')
OPTS = dict(customer='customer', time='ts', amount='total', order_id='order', delimiter=';',
            decimal=',', utc_offset=3600, na_customer='NA')


class Csv(unittest.TestCase):
    def test_skip_mode_report(self):
        ds = shopcrm.Dataset.from_csv(FIXTURE, on_error='skip', **OPTS)
        rep = ds.report
        self.assertEqual((rep.rows_read, rep.rows_added, rep.duplicates, rep.lines_merged,
                          rep.orders_merged, rep.empty_customer, rep.excluded, rep.rejected),
                         (7, 3, 0, 1, 1, 2, 0, 1))
        self.assertEqual(len(rep.rejects), 1)
        line, column, reason = rep.rejects[0]
        self.assertEqual((line, column), (7, 'total'))
        self.assertIn('12,5x', reason)
        self.assertEqual(rep.time_format, shopcrm.TimeFormat.ISO8601)
        self.assertEqual(rep.delimiter, ';')
        self.assertEqual(rep.key_type, shopcrm.KeyType.STRING)
        self.assertEqual((ds.customers, ds.orders, ds.duplicates, ds.merged), (2, 3, 0, 1))
        self.assertEqual(ds.time_range, (1704448800, 1704582000))
        r = ds.rfm(bins=2, segments=None)
        rev = dict(zip(r.keys(), r.revenue.tolist() if hasattr(r.revenue, 'tolist')
                       else r.revenue))
        self.assertEqual(rev, {'alice': 1250 + 725 + 725, 'bob': 123400})
        # loaded again: every row with an order id is a re-delivery
        ds.load_csv(FIXTURE, on_error='skip', **OPTS)
        self.assertEqual((ds.report.rows_added, ds.report.duplicates), (0, 4))

    def test_na_values_default_set_and_exclude(self):
        opts = dict(OPTS, on_error='skip')
        del opts['na_customer']
        # NA is in the default set
        self.assertEqual(shopcrm.Dataset.from_csv(FIXTURE, **opts).report.empty_customer, 2)
        rep = shopcrm.Dataset.from_csv(FIXTURE, na_defaults=False, **opts).report
        self.assertEqual((rep.empty_customer, rep.rows_added), (1, 4))
        rep = shopcrm.Dataset.from_csv(FIXTURE, na_defaults=False, na_customer=['NA', 'bob'],
                                       **opts).report
        self.assertEqual((rep.empty_customer, rep.rows_added), (3, 2))
        ds = shopcrm.Dataset.from_csv(FIXTURE, exclude={'order': ['o1', 'o3'], 'customer': 'bob'},
                                      **opts)
        self.assertEqual((ds.report.excluded, ds.orders), (4, 0))

    def test_strict_mode_error(self):
        with self.assertRaises(shopcrm.ParseError) as cm:
            shopcrm.Dataset.from_csv(FIXTURE, **OPTS)
        e = cm.exception
        self.assertEqual((e.code, e.index, e.strerror), (-3, 7, 'parse error'))
        self.assertIn('12,5x', e.message)
        # and on an existing dataset: nothing added
        ds = shopcrm.Dataset()
        with self.assertRaises(shopcrm.ParseError):
            ds.load_csv(FIXTURE, **OPTS)
        self.assertEqual(len(ds), 0)

    def test_bytes_source_and_defaults(self):
        text = b'customer_id,date,amount\n1,20240101,1.50\n2,20240102,2.00\n1,20240103,0.5\n'
        ds = shopcrm.Dataset.from_csv(text)
        self.assertEqual((ds.customers, ds.orders), (2, 3))
        self.assertEqual(ds.report.time_format, shopcrm.TimeFormat.YYYYMMDD)
        self.assertEqual(ds.report.key_type, shopcrm.KeyType.U64)
        r = ds.rfm(bins=2, segments=None)
        self.assertEqual(dict(zip((int(k) for k in r.keys()), list(r.revenue))),
                         {1: 200, 2: 200})

    def test_us_dates_space_delimiter_and_gzip(self):
        # month first (12/13/2010 shows it), blanks between fields, gzip:
        # 17850 has 15.30 on 2010-12-01 and 2.50 on 2010-12-13
        import gzip
        import tempfile
        text = (b'  customer  when   amount\r\n'
                b' 17850  12/1/2010  $15.30\r\n'
                b' 17850  12/13/2010  2.50\r\n')
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'orders.txt.gz')
            with gzip.open(path, 'wb') as f:
                f.write(text)
            for src in (path, gzip.compress(text)):
                ds = shopcrm.Dataset.from_csv(src, customer='customer', time='when')
                self.assertEqual(ds.report.time_format, shopcrm.TimeFormat.MDY)
                self.assertEqual(ds.report.delimiter, ' ')
                self.assertEqual(ds.time_range, (1291161600, 1292198400))
                r = ds.rfm(bins=2, segments=None)
                self.assertEqual(list(r.revenue), [1530 + 250])
        with self.assertRaises(shopcrm.ParseError) as cm:
            shopcrm.Dataset.from_csv(b'customer_id,date,amount\n1,5/6/2011,1\n')
        self.assertIn('reads as DD/MM/YYYY and as MM/DD/YYYY', cm.exception.message)
        ds = shopcrm.Dataset.from_csv(b'customer_id date amount\n1 5/6/2011 1\n',
                                      time_format='mdy', delimiter=' ')
        self.assertEqual(ds.time_range, (1304640000, 1304640000))  # 2011-05-06

    def test_errors(self):
        with self.assertRaises(shopcrm.IOError_) as cm:
            shopcrm.Dataset.from_csv(os.path.join(DATA, 'does-not-exist.csv'))
        self.assertIsInstance(cm.exception, OSError)
        self.assertEqual(cm.exception.code, -4)
        with self.assertRaises(shopcrm.InvalidArgument) as cm:  # no such column
            shopcrm.Dataset.from_csv(FIXTURE, customer='nope', delimiter=';')
        self.assertIn('nope', cm.exception.message)
        with self.assertRaises(ValueError):
            shopcrm.Dataset.from_csv(FIXTURE, time_format='weird')
        with self.assertRaises(ValueError):
            shopcrm.Dataset.from_csv(FIXTURE, decimal=':')

    def test_progress_cancel(self):
        class Stop(Exception):
            pass

        def stop(done, total):
            raise Stop()
        ds = shopcrm.Dataset()
        with self.assertRaises(Stop):
            ds.load_csv(FIXTURE, on_error='skip', progress=stop, **OPTS)
        self.assertEqual(len(ds), 0)  # a cancelled load adds nothing
        calls = []
        ds.load_csv(FIXTURE, on_error='skip', progress=lambda d, t: calls.append((d, t)), **OPTS)
        size = os.path.getsize(FIXTURE)
        self.assertEqual(calls[-1], (size, size))  # units are bytes
        self.assertEqual(len(ds), 3)


if __name__ == '__main__':
    unittest.main()
