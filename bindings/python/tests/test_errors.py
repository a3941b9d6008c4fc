"""Error codes map to exception classes carrying code, strerror, message, index.

The strerror texts are those of the table in docs/errors.md."""

import threading
import unittest

from support import shopcrm
from shopcrm import _ffi, errors

TABLE = [  # code, class, builtin base, scrm_strerror() (docs/errors.md)
    (-1, shopcrm.InvalidArgument, ValueError, 'invalid argument'),
    (-2, shopcrm.OutOfMemory, MemoryError, 'out of memory'),
    (-3, shopcrm.ParseError, ValueError, 'parse error'),
    (-4, shopcrm.IOError_, OSError, 'input/output error'),
    (-5, shopcrm.Overflow, OverflowError, 'value too large'),
    (-6, shopcrm.NotFound, LookupError, 'not found'),
    (-7, shopcrm.VersionError, Exception, 'unsupported version'),
    (-8, shopcrm.Cancelled, Exception, 'cancelled'),
    (-9, shopcrm.RangeError, ValueError, 'value out of range'),
    (-10, shopcrm.StateError, Exception, 'invalid state'),
]


class Mapping(unittest.TestCase):
    def test_every_code(self):
        for code, cls, base, text in TABLE:
            e = errors.error_from_code(code, 'detail', 17)
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, shopcrm.Error)
            self.assertIsInstance(e, base)
            self.assertEqual((e.code, e.strerror, e.message, e.index), (code, text, 'detail', 17))
            self.assertEqual(str(e), f'{text}: detail')
            self.assertEqual(shopcrm.strerror(code), text)
            self.assertEqual(int(getattr(shopcrm.ErrorCode, _ffi.ErrorCode(code).name)), code)
        e = errors.error_from_code(-99, '')
        self.assertIs(type(e), shopcrm.Error)
        self.assertEqual(e.strerror, 'unknown error')

    def test_errcheck_reads_last_error(self):
        # The generated layer raises from the return code, with scrm_last_error().
        with self.assertRaises(shopcrm.InvalidArgument) as cm:
            _ffi.scrm_dataset_new(None, None)
        e = cm.exception
        self.assertEqual(e.code, _ffi.SCRM_EINVAL)
        self.assertTrue(e.message)
        self.assertIsNone(e.index)  # scrm_last_error_index() is -1: not about a row
        self.assertEqual(_ffi.scrm_last_error().decode(), e.message)
        _ffi.scrm_clear_error()
        self.assertEqual(_ffi.scrm_last_error(), b'')
        self.assertEqual(_ffi.scrm_last_error_index(), -1)

    def test_version_error(self):
        opts = _ffi.RfmOptions()
        with self.assertRaises(shopcrm.VersionError) as cm:
            _ffi.scrm_rfm_options_init(opts, 999)
        self.assertEqual(cm.exception.code, -7)

    def test_messages_are_per_thread(self):
        got = {}

        def worker():
            try:
                shopcrm.nps([42])
            except shopcrm.RangeError as e:
                got['worker'] = (e.code, e.index)
        _ffi.scrm_clear_error()
        th = threading.Thread(target=worker)
        th.start()
        th.join()
        self.assertEqual(got['worker'], (-9, 0))
        self.assertEqual(_ffi.scrm_last_error(), b'')  # this thread saw no failure

    def test_pickle(self):
        import pickle
        e = pickle.loads(pickle.dumps(shopcrm.ParseError(-3, 'line 2', 'parse error', 2)))
        self.assertEqual((type(e), e.code, e.message, e.index), (shopcrm.ParseError, -3,
                                                                 'line 2', 2))


class Versions(unittest.TestCase):
    def test_version(self):
        self.assertEqual(shopcrm.version(), _ffi.SCRM_VERSION_STRING)
        self.assertEqual(shopcrm.version_number(), _ffi.SCRM_VERSION_NUMBER)
        major, minor, patch = (int(x) for x in shopcrm.version().split('.'))
        self.assertEqual(shopcrm.version_number(), major * 10000 + minor * 100 + patch)


if __name__ == '__main__':
    unittest.main()
