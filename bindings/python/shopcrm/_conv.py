"""Checked conversions of Python values to C scalars (used by the generated _ffi).

ctypes converts a Python int to a C integer type by truncation: 2**32 + 5
passed as a ``uint32_t`` arrives as 5, -1 as 4294967295; and a ``bytes``
holding a NUL passed as ``const char *`` arrives cut at the NUL. Both silently
change what the caller asked for. The generated layer (bindings/gen/gen_python.py)
therefore passes every by-value integer parameter and every NUL-terminated
string parameter of every function, and every integer or string field of
every options struct, through the checks below, so no call site can forget.

- integers: ``OverflowError`` outside the C type's range (including a
  negative value for an unsigned type), ``TypeError`` for a non-integer
  (float, str, ...; bool is an int, as in Python);
- NUL-terminated strings: ``ValueError`` for an embedded NUL.
"""

import operator
from ctypes import Structure

__all__ = []


class IntType:
    """The range of one C integer type; calling it checks a value."""

    __slots__ = ('lo', 'hi', 'cname')

    def __init__(self, cname, lo, hi):
        self.cname, self.lo, self.hi = cname, lo, hi

    def __call__(self, v, what):
        # The wording is the Node addon's too (sn_get_integer in
        # bindings/node/src/addon.c): "what: expected an integer, got V",
        # "what: V is outside LO..HI".
        if type(v) is not int:
            if isinstance(v, float):
                raise TypeError(f'{what}: expected an integer, got {_shown(v)}')
            try:
                v = operator.index(v)
            except TypeError:
                raise TypeError(f'{what}: expected an integer, got {_shown(v)}') from None
        if not self.lo <= v <= self.hi:
            raise OverflowError(f'{what}: {v} is outside {self.lo}..{self.hi}')
        return v


def _shown(v):
    r = repr(v)
    return r if len(r) <= 42 else r[:40] + '...'


INT_TYPES = {
    'int': IntType('int', -2**31, 2**31 - 1),
    'unsigned': IntType('unsigned int', 0, 2**32 - 1),
    'uint8_t': IntType('uint8_t', 0, 2**8 - 1),
    'int32_t': IntType('int32_t', -2**31, 2**31 - 1),
    'uint32_t': IntType('uint32_t', 0, 2**32 - 1),
    'int64_t': IntType('int64_t', -2**63, 2**63 - 1),
    'uint64_t': IntType('uint64_t', 0, 2**64 - 1),
    'size_t': IntType('size_t', 0, 2**64 - 1),
}
c_int_ = INT_TYPES['int']
c_uint_ = INT_TYPES['unsigned']
c_uint8_ = INT_TYPES['uint8_t']
c_int32_ = INT_TYPES['int32_t']
c_uint32_ = INT_TYPES['uint32_t']
c_int64_ = INT_TYPES['int64_t']
c_uint64_ = INT_TYPES['uint64_t']
c_size_t_ = INT_TYPES['size_t']


def cstr(v, what):
    """A NUL-terminated string argument: bytes without NUL, None, or a ctypes
    buffer (passed through: the caller built it)."""
    if isinstance(v, bytes) and b'\0' in v:
        raise ValueError(f'{what}: embedded NUL character in {v!r} (C would stop there)')
    return v


class CheckedStructure(Structure):
    """An options struct whose integer and string fields are range-checked
    on assignment (``_checks_``: field -> checker, set by the generator)."""

    _checks_ = {}

    def __setattr__(self, name, value):
        chk = self._checks_.get(name)
        if chk is not None:
            value = chk(value, name)
        super().__setattr__(name, value)
