"""Every symbol exported by the library (lib/shopcrm.map) is declared in
shopcrm._ffi with argtypes and restype, and nothing else is."""

import os
import re
import unittest

from support import REPO
from shopcrm import _ffi


def map_symbols(path):
    with open(path, encoding='utf-8') as f:
        text = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
    syms = []
    for block in re.finditer(r'global:(.*?)(?:local:|\})', text, re.S):
        syms += re.findall(r'\b([A-Za-z_]\w*)\s*;', block.group(1))
    return syms


class Parity(unittest.TestCase):
    def test_map_equals_ffi(self):
        syms = map_symbols(os.path.join(REPO, 'lib', 'shopcrm.map'))
        self.assertGreater(len(syms), 50)
        self.assertEqual(sorted(syms), sorted(_ffi.FUNCTIONS))
        for name in syms:
            fn = getattr(_ffi, name)
            self.assertIsNotNone(fn.argtypes, name)
            self.assertTrue(hasattr(fn, 'restype'), name)
            if name in _ffi.FALLIBLE:
                self.assertIsNotNone(fn.errcheck, name)


if __name__ == '__main__':
    unittest.main()
