"""Dataset: appends from lists and numpy arrays, keys, times, errors, handles."""

import datetime as dt
import gc
import unittest
import weakref

from support import columns, np, shopcrm, small_dataset, t

UTC = dt.timezone.utc


class Appends(unittest.TestCase):
    def test_counts(self):
        with small_dataset() as ds:
            self.assertEqual(len(ds), 13)  # rows (orders and refunds) stored
            self.assertEqual(ds.orders, 13)
            self.assertEqual(ds.customers, 5)
            self.assertEqual(ds.duplicates, 0)
            self.assertEqual(ds.key_type, shopcrm.KeyType.U64)
            self.assertEqual(ds.time_range, (t(0), t(30, 11)))
            self.assertEqual(sorted(int(k) for k in ds.keys()), [1, 2, 3, 4, 5])
            for k in range(1, 6):
                self.assertEqual(ds.key(ds.index(k)), k)
            self.assertIn(3, ds)
            self.assertNotIn(6, ds)
            with self.assertRaises(shopcrm.NotFound) as cm:
                ds.index(6)
            self.assertIsInstance(cm.exception, LookupError)
            self.assertEqual(cm.exception.code, -6)

    def test_empty(self):
        ds = shopcrm.Dataset()
        self.assertEqual((len(ds), ds.customers), (0, 0))
        self.assertIsNone(ds.time_range)
        self.assertEqual(ds.key_type, shopcrm.KeyType.AUTO)
        self.assertEqual(ds.append([], [], []), 0)

    def test_append_returns_added_and_deduplicates(self):
        ds = shopcrm.Dataset()
        # order keys: the second row is a second line of order 10 -> merged
        self.assertEqual(ds.append([7, 7, 8], [t(0), t(1), t(2)], [100, 200, 300],
                                   order_keys=[10, 10, 11]), 2)
        # a later batch repeating order 11 -> a re-delivery, skipped
        self.assertEqual(ds.append([9, 9], [t(3), t(4)], [1, 2], order_keys=[11, 12]), 1)
        self.assertEqual((ds.orders, ds.duplicates, ds.merged, ds.customers),
                         (3, 1, 1, 3))  # 7, 8, 9
        r = ds.rfm(bins=2, segments=None)
        self.assertEqual(list(r.revenue)[ds.index(7)], 300)  # 100 + 200
        # an order's lines of two customers
        with self.assertRaises(shopcrm.InvalidArgument) as cm:
            ds.append([1, 2], [t(5), t(6)], [1, 1], order_keys=[20, 20])
        self.assertEqual(cm.exception.index, 1)
        # string order ids are hashed like the CSV loader's
        self.assertEqual(ds.append([1, 1], [t(5), t(6)], [1, 1], order_keys=['A-1', 'A-1']), 1)
        self.assertEqual(shopcrm.order_key('A-1'), shopcrm.order_key(b'A-1'))
        self.assertEqual(ds.append([3], [t(7)], [1], order_keys=[shopcrm.order_key('A-1')]), 0)

    def test_string_keys(self):
        ds = shopcrm.Dataset.from_arrays(['ann', b'bob', 'ann', 'zoë'], [t(0)] * 4, [1, 2, 3, 4])
        self.assertEqual(ds.key_type, shopcrm.KeyType.STRING)
        self.assertEqual(ds.customers, 3)
        self.assertEqual(sorted(ds.keys()), ['ann', 'bob', 'zoë'])
        self.assertEqual(ds.key(ds.index('zoë')), 'zoë')
        self.assertEqual(ds.index(b'bob'), ds.index('bob'))
        with self.assertRaises(shopcrm.InvalidArgument):  # wrong key type for this dataset
            ds.append([1], [t(0)], [1])

    def test_key_type_option(self):
        ds = shopcrm.Dataset(key_type='string')
        with self.assertRaises(shopcrm.InvalidArgument):
            ds.append([1], [t(0)], [1])
        with self.assertRaises(ValueError):
            shopcrm.Dataset(key_type='float')

    def test_times(self):
        aware = [dt.datetime(2024, 1, 1, 12, tzinfo=UTC),
                 dt.datetime(2024, 1, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                 t(0)]
        ds = shopcrm.Dataset.from_arrays([1, 2, 3], aware, [1, 1, 1])
        self.assertEqual(ds.time_range, (t(0), t(0)))  # 12:00Z, 14:00+02 = 12:00Z, 12:00Z
        with self.assertRaises(ValueError):
            ds.append([1], [dt.datetime(2024, 1, 1, 12)], [1])  # naive
        with self.assertRaises(TypeError):
            ds.append([1], [dt.date(2024, 1, 1)], [1])
        with self.assertRaises(TypeError):
            ds.append([1], [1.5e9], [1])
        self.assertEqual(ds.orders, 3)
        # Before the epoch: floor to whole seconds.
        ds.append([4], [dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)], [1])
        self.assertEqual(ds.time_range[0], -1)

    def test_amounts_are_integers(self):
        ds = shopcrm.Dataset()
        with self.assertRaises(TypeError):
            ds.append([1], [t(0)], [12.5])
        with self.assertRaises(TypeError):
            ds.append([1], [t(0)], [True])
        with self.assertRaises(OverflowError):
            ds.append([1], [t(0)], [2**63])
        with self.assertRaises(ValueError):
            ds.append([1, 2], [t(0)], [1, 2])  # lengths differ
        with self.assertRaises((OverflowError, ValueError)):
            ds.append([-1], [t(0)], [1])  # uint64 keys
        self.assertEqual(len(ds), 0)

    def test_bad_row_is_atomic(self):
        # A time after 9999-12-31T23:59:59Z in row 2: SCRM_ERANGE naming row 2, nothing added.
        ds = small_dataset()
        with self.assertRaises(shopcrm.RangeError) as cm:
            ds.append([1, 2, 3], [t(0), t(1), 253402300800], [1, 2, 3])
        e = cm.exception
        self.assertEqual((e.code, e.index, e.strerror), (-9, 2, 'value out of range'))
        self.assertTrue(e.message)
        self.assertIsInstance(e, ValueError)
        self.assertEqual((ds.orders, ds.customers), (13, 5))
        # An empty string key in row 1: SCRM_EINVAL with index 1.
        sd = shopcrm.Dataset()
        with self.assertRaises(shopcrm.InvalidArgument) as cm:
            sd.append(['a', '', 'c'], [t(0)] * 3, [1, 2, 3])
        self.assertEqual((cm.exception.code, cm.exception.index), (-1, 1))
        self.assertEqual(len(sd), 0)

    def test_append_progress_and_cancel(self):
        n = 20000
        keys = [i % 5000 + 1 for i in range(n)]
        times = [t(0) + i for i in range(n)]
        amounts = [250] * n
        for customers in (keys, [f'c{k}' for k in keys]):
            ds = shopcrm.Dataset(threads=2)
            calls = []
            self.assertEqual(ds.append(customers, times, amounts,
                                       progress=lambda d, tot: calls.append((d, tot))), n)
            self.assertGreaterEqual(len(calls), 3)
            self.assertEqual(calls[0], (0, n))
            self.assertEqual(calls[-1], (n, n))  # units are rows of the batch
            self.assertEqual([d for d, _ in calls], sorted(d for d, _ in calls))
            with self.assertRaises(shopcrm.Cancelled):
                ds.append(customers, times, amounts, progress=lambda d, tot: d < tot)

            class Stop(Exception):
                pass

            def stop(done, total):
                raise Stop()
            with self.assertRaises(Stop):
                ds.append(customers, times, amounts, progress=stop)
            self.assertEqual((ds.orders, ds.customers), (n, 5000))  # cancelled: nothing added
        ds = shopcrm.Dataset.from_arrays(keys, times, amounts, progress=lambda d, tot: None)
        self.assertEqual(ds.orders, n)

    def test_handles(self):
        ds = small_dataset()
        res = weakref.ref(ds._res)
        with ds as same:
            self.assertIs(same, ds)
        self.assertTrue(ds.closed)
        gc.collect()
        self.assertIsNone(res())  # freed by the context manager
        with self.assertRaises(shopcrm.StateError) as cm:
            ds.customers
        self.assertIn('closed', str(cm.exception))
        with self.assertRaises(shopcrm.StateError):
            with ds:
                pass
        self.assertIn('closed', repr(ds))
        # Garbage collection frees a forgotten dataset.
        ds2 = small_dataset()
        res2 = weakref.ref(ds2._res)
        del ds2
        gc.collect()
        self.assertIsNone(res2())

    def test_rfm_survives_dataset_close_for_columns(self):
        ds = small_dataset()
        r = ds.rfm()
        res = weakref.ref(ds._res)
        ds.close()
        self.assertEqual(sorted(list(r.frequency)), [1, 1, 2, 4, 4])  # owned by the result
        # The result pins the dataset it borrows: keys and CSV writers still
        # work after ds.close(), and the dataset is freed with the result.
        self.assertEqual(sorted(int(k) for k in r.keys()), [1, 2, 3, 4, 5])
        with self.assertRaises(shopcrm.StateError):
            len(ds)
        self.assertIsNotNone(res())
        r.close()
        gc.collect()
        self.assertIsNone(res())


@unittest.skipIf(np is None, 'numpy not available (or SHOPCRM_NO_NUMPY=1)')
class NumpyInput(unittest.TestCase):
    def test_arrays(self):
        cust, times, amounts = columns()
        ds = shopcrm.Dataset.from_arrays(np.array(cust, dtype=np.uint64),
                                         np.array(times, dtype=np.int64),
                                         np.array(amounts, dtype=np.int64))
        self.assertEqual((ds.orders, ds.customers), (13, 5))
        self.assertIsInstance(ds.keys(), np.ndarray)
        self.assertEqual(ds.keys().dtype, np.uint64)
        # other integer dtypes, datetime64 times, string arrays
        ds2 = shopcrm.Dataset.from_arrays(np.array(cust, dtype=np.int32),
                                          np.array(times, dtype='datetime64[s]'),
                                          np.array(amounts, dtype=np.int32))
        self.assertEqual(ds2.time_range, ds.time_range)
        ds3 = shopcrm.Dataset.from_arrays(np.array(['a', 'b', 'a']),
                                          np.array(['2024-01-01T12:00'] * 3, dtype='datetime64[m]'),
                                          np.array([1, 2, 3]))
        self.assertEqual((ds3.customers, ds3.time_range), (2, (t(0), t(0))))
        with self.assertRaises(TypeError):
            ds.append(np.array([1]), np.array([t(0)]), np.array([1.5]))
        with self.assertRaises(OverflowError):
            ds.append(np.array([-1]), np.array([t(0)]), np.array([1]))
        # big uint64 keys survive exactly
        big = 2**64 - 1
        ds4 = shopcrm.Dataset.from_arrays(np.array([big], dtype=np.uint64), [t(0)], [1])
        self.assertEqual(ds4.key(0), big)
        self.assertEqual(ds4.index(big), 0)

    def test_large_batch_threads(self):
        # 20000 rows (more than one thread's minimum): results do not depend on threads.
        n = 20000
        cust = np.arange(n, dtype=np.uint64) % 997
        times = t(0) + np.arange(n, dtype=np.int64) * 60
        amounts = np.arange(n, dtype=np.int64) % 5000
        a = shopcrm.Dataset.from_arrays(cust, times, amounts, threads=1)
        b = shopcrm.Dataset.from_arrays(cust, times, amounts, threads=4)
        self.assertEqual((a.customers, a.orders), (997, n))
        ra, rb = a.rfm(threads=1), b.rfm(threads=3)
        self.assertTrue(np.array_equal(ra.segment, rb.segment))
        self.assertTrue(np.array_equal(ra.monetary, rb.monetary))
        self.assertTrue(np.array_equal(a.keys(), b.keys()))
        # revenue of customer 0: rows 0, 997, 1994, ... amounts (i % 5000)
        rows = np.arange(0, n, 997)
        self.assertEqual(int(ra.revenue[a.index(0)]), int((rows % 5000).sum()))


if __name__ == '__main__':
    unittest.main()
