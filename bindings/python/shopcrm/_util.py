"""Helpers shared by the idiomatic modules: numpy detection, handle ownership,
time conversion, progress callbacks, zero-copy columns."""

import ctypes
import datetime as _dt
import inspect
import operator
import os
import threading
import weakref

from . import _conv, _ffi
from .errors import Error, StateError

# numpy and pandas are optional. SHOPCRM_NO_NUMPY=1 behaves as if neither
# were installed (the tests use it to check the plain-list paths).
np = None
pd = None
if os.environ.get('SHOPCRM_NO_NUMPY', '') not in ('1', 'true', 'yes'):
    try:
        import numpy as np  # noqa: F811
    except ImportError:  # pragma: no cover - depends on the system
        np = None
    if np is not None:
        try:
            import pandas as pd  # noqa: F811
        except ImportError:  # pragma: no cover
            pd = None

UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = _dt.timedelta(seconds=1)


def have_numpy():
    return np is not None


def closed_error(what):
    return StateError(_ffi.SCRM_ESTATE, f'the {what} is closed')


class Resource:
    """Owns one C handle and guards its use.

    Lifetime (pinning): the C handle is freed by ``free`` when the last
    reference to this object goes away. Every call into the library holds a
    reference for its whole length (a :class:`Use` guard), zero-copy arrays
    hold one through their base chain, and results that read the handle later
    (an Rfm reads its dataset's keys) hold one too; so ``close()`` of the
    Python object during a call, from a progress callback or from another
    thread, only *defers* the free until the call returns.

    Concurrency (reader/writer guard): analyses and anything else that reads
    the handle are readers and may run together; ``append`` / ``load_csv``
    (and ``SegmentMap.add``) are writers and run alone. A second caller on
    another thread *waits*; a caller on a thread that already uses the handle
    (a progress callback) would deadlock by waiting, so it gets a
    :class:`shopcrm.StateError` instead."""

    __slots__ = ('ptr', '_fin', '_cond', '_readers', '_writer', 'what', '__weakref__')

    def __init__(self, ptr, free, what='handle'):
        self.ptr = ptr
        self.what = what
        self._fin = weakref.finalize(self, free, ptr)
        # Process exit frees memory anyway; never run C frees while the
        # interpreter tears modules down.
        self._fin.atexit = False
        self._cond = threading.Condition(threading.Lock())
        self._readers = {}      # thread ident -> nesting depth
        self._writer = None     # thread ident of the writer, or None

    @property
    def alive(self):
        return self._fin.alive

    @property
    def in_use(self):
        """Number of threads reading or writing the handle now."""
        with self._cond:
            return len(self._readers) + (self._writer is not None)

    def acquire(self, write):
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                raise StateError(_ffi.SCRM_ESTATE, f'the {self.what} is being modified by an '
                                 'operation of this thread (called from its progress '
                                 'callback?); wait until it returns')
            if write:
                if me in self._readers:
                    raise StateError(_ffi.SCRM_ESTATE, f'cannot modify the {self.what} while '
                                     'an operation of this thread reads it (called from its '
                                     'progress callback?)')
                while self._writer is not None or self._readers:
                    self._cond.wait()
                self._writer = me
            elif me in self._readers:
                self._readers[me] += 1
            else:
                while self._writer is not None:
                    self._cond.wait()
                self._readers[me] = 1

    def release(self, write):
        me = threading.get_ident()
        with self._cond:
            if write:
                self._writer = None
            else:
                d = self._readers[me] - 1
                if d:
                    self._readers[me] = d
                else:
                    del self._readers[me]
            self._cond.notify_all()

    def read(self):
        return Use(self, False)

    def write(self):
        return Use(self, True)


class Use:
    """``with res.read() as ptr:`` / ``with res.write() as ptr:``: pins the
    Resource (this object references it) and holds its reader/writer guard
    for the length of the block."""

    __slots__ = ('res', 'write', 'ptr')

    def __init__(self, res, write, ptr=None):
        self.res, self.write, self.ptr = res, write, ptr

    def __enter__(self):
        self.res.acquire(self.write)
        return self.res.ptr if self.ptr is None else self.ptr

    def __exit__(self, *exc):
        self.res.release(self.write)
        return False


class Handle:
    """Base of the Python objects that wrap a C handle.

    ``close()`` drops this object's reference to the C handle: it is freed
    at once unless something still uses it (a call running now, zero-copy
    arrays, a result that reads it), then when the last of them is done.
    Later use of this object raises :class:`shopcrm.StateError`. Context
    managers close on exit; the garbage collector frees a forgotten handle."""

    _what = 'handle'

    def __init__(self, ptr, free):
        self._res = Resource(ptr, free, self._what)

    def _resource(self):
        res = self._res
        if res is None:
            raise closed_error(self._what)
        return res

    def _p(self):
        """The raw pointer, for checks only: a call into the library must
        use ``with self._read() as p`` (or _write) so a concurrent close
        cannot free the handle under it."""
        return self._resource().ptr

    def _read(self):
        return self._resource().read()

    def _write(self):
        return self._resource().write()

    @property
    def closed(self):
        return self._res is None

    def close(self):
        """Release the C handle (idempotent). During a call that uses the
        handle (from its progress callback or another thread) the release is
        deferred until the call returns; new calls raise StateError at once."""
        self._res = None

    def __enter__(self):
        self._p()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------

def to_epoch(value, what='time'):
    """Seconds since the epoch from an int, an aware datetime or a numpy
    datetime64 (UTC). A naive datetime is a ValueError: its offset is unknown."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f'{what}: naive datetime {value!r}; give a timezone-aware datetime '
                             '(e.g. datetime(..., tzinfo=timezone.utc)) or epoch seconds')
        return (value - _EPOCH) // _SECOND
    if isinstance(value, _dt.date):
        raise TypeError(f'{what}: a date has no time zone; give an aware datetime or epoch seconds')
    if np is not None and isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f'{what}: NaT is not a time (use None for "unbounded" / the '
                             'default)')
        return int(value.astype('datetime64[s]').astype(np.int64))
    if isinstance(value, float) and value != value:
        raise ValueError(f'{what}: NaN is not a time (use None for "unbounded" / the default)')
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f'{what}: expected epoch seconds (int) or an aware datetime, '
                        f'got {type(value).__name__}')
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f'{what}: expected epoch seconds (int) or an aware datetime, '
                        f'got {type(value).__name__}') from None


def _is_nat(value):
    return pd is not None and value is pd.NaT


def to_bound(value, what):
    """Epoch seconds of a window bound or as_of given as epoch seconds, a
    datetime (naive = UTC, as pandas takes it), a date (its midnight, UTC),
    an ISO 8601 string ('1998-07-01', '1998-07-01T12:00:00+02:00'; no
    offset = UTC, as the CLI), a pd.Timestamp (naive = UTC) or a numpy
    datetime64. NaT and NaN are ValueErrors: None, not a missing value,
    means "unbounded"."""
    if _is_nat(value):
        raise ValueError(f'{what}: NaT is not a time (use None for "unbounded" / the default)')
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(('Z', 'z')):
            text = text[:-1] + '+00:00'
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f'{what}: {value!r} is not an ISO 8601 date or time '
                             "(e.g. '1998-07-01' or '1998-07-01T00:00:00Z')") from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=UTC)
        return to_epoch(value, what)
    if isinstance(value, _dt.date):
        return to_epoch(_dt.datetime(value.year, value.month, value.day, tzinfo=UTC), what)
    t = to_epoch(value, what)
    if t in (-2**63, 2**63 - 1):  # the C "unbounded"/"default" sentinels
        raise ValueError(f'{what}: {t} is the library\'s "unbounded" sentinel; pass None')
    return t


#: YYYYMMDD integers look like this: years 1000..2999 (a 1970-ish epoch
#: second count would have to hit valid months and days on every row).
_YMD_LO, _YMD_HI = 10000101, 29991231


def _refuse_yyyymmdd(arr, what='times'):
    """Raise ValueError when an integer array holds YYYYMMDD dates (as
    pd.read_csv reads CDNOW's 19970101 column), which would otherwise be
    taken as epoch seconds in 1970 without a word. Only arrays whose every
    value lies in 10000101..29991231 are examined further. The first value
    decides at no cost for real epoch seconds (far larger): one value out of
    that range means the array is not all dates, so the no-copy path of
    from_arrays makes no pass over the data; otherwise min() and max()
    passes, then the month/day test."""
    if arr.size == 0:
        return
    if not _YMD_LO <= int(arr[0]) <= _YMD_HI:
        return
    hi = int(arr.max())
    if hi > _YMD_HI:
        return
    lo = int(arr.min())
    if lo < _YMD_LO:
        return
    a = arr.astype(np.int64, copy=False)
    month, day = (a // 100) % 100, a % 100
    if ((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)).all():
        raise ValueError(
            f'{what}: the values ({lo} .. {hi}) look like YYYYMMDD dates, not epoch seconds '
            f'(they would all fall in 1970); convert them first, e.g. '
            f"pd.to_datetime(col.astype(str), format='%Y%m%d'), or load the CSV with "
            f"Dataset.from_csv(..., time_format='yyyymmdd'). Real epoch seconds this small "
            f'can be passed as datetime64[s].')


def times_array(times, n):
    """An int64 C array (and the object keeping it alive) from times."""
    if np is not None:
        arr = np.asarray(times)
        if arr.ndim != 1:
            raise ValueError('times: expected a one-dimensional sequence')
        if arr.dtype.kind == 'M':
            if arr.dtype != np.dtype('datetime64[s]'):
                arr = arr.astype('datetime64[s]')
            arr = arr.view(np.int64)  # no copy for datetime64[s]
            if arr.size and arr.min() == np.iinfo(np.int64).min:
                raise ValueError('times: NaT is not a time (drop or fill those rows)')
        elif arr.dtype.kind in 'iu':
            # int(): numpy compares uint64 with int64 as float64, so 2**63 passed
            if arr.dtype.kind == 'u' and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
                raise OverflowError('times: value does not fit int64')
            _refuse_yyyymmdd(arr)
            arr = arr.astype(np.int64, copy=False)
        elif arr.dtype.kind == 'O' or arr.size == 0:
            arr = np.array([to_epoch(t, f'times[{i}]') for i, t in enumerate(times)],
                           dtype=np.int64)
        else:
            raise TypeError(f'times: expected epoch seconds (integers), aware datetimes or '
                            f'datetime64, got dtype {arr.dtype}')
        return c_array(arr, ctypes.c_int64, np.int64)
    vals = [to_epoch(t, f'times[{i}]') for i, t in enumerate(times)]
    return (ctypes.c_int64 * len(vals))(*vals)


# The messages of wrong inputs, the same as the Node binding's (bindings/node/
# index.js: shown, toBigInt, checkLen; tests/data/binding_messages.json holds
# cases both suites check): TypeError "what: expected an array, got V" (a
# str or bytes is not one: its characters or bytes would be taken as the
# values), TypeError "what[i]: expected an integer, got V", OverflowError
# "what[i]: V is outside LO..HI". An empty input goes to the library, which
# says what is wrong with it ("scrm_kpi_nps: no answers (n = 0)").

shown = _conv._shown  # how a wrong value is named in a message (repr, shortened)


def int_array(values, ctype, np_dtype, what):
    """A C array of integers (ints only: no floats, no bools)."""
    if isinstance(values, (str, bytes, bytearray)) or not hasattr(values, '__len__'):
        raise TypeError(f'{what}: expected an array of integers, got {shown(values)}')
    lo, hi = _LIMITS[ctype]
    if np is not None:
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise ValueError(f'{what}: expected a one-dimensional sequence')
        if arr.size == 0:
            arr = arr.astype(np_dtype)
        elif arr.dtype.kind == 'O' or (arr.dtype.kind not in 'iu'
                                       and not isinstance(values, np.ndarray)):
            # a list or tuple: name the first element that is not an integer
            arr = np.array([_as_int(v, what, i) for i, v in enumerate(values)], dtype=object)
            arr = _checked_cast(arr, np_dtype, what, lo, hi)
        elif arr.dtype.kind in 'iu':
            arr = _checked_cast(arr, np_dtype, what, lo, hi)
        else:
            raise TypeError(f'{what}: expected integers, got dtype {arr.dtype}'
                            + (' (amounts are integer minor units, e.g. cents)'
                               if arr.dtype.kind == 'f' and what.startswith('amount') else ''))
        return c_array(arr, ctype, np_dtype)
    vals = [_as_int(v, what, i) for i, v in enumerate(values)]
    for i, v in enumerate(vals):
        if not lo <= v <= hi:
            raise OverflowError(f'{what}[{i}]: {v} is outside {lo}..{hi}')
    return (ctype * len(vals))(*vals)


_LIMITS = {
    ctypes.c_int64: (-2**63, 2**63 - 1), ctypes.c_uint64: (0, 2**64 - 1),
    ctypes.c_int32: (-2**31, 2**31 - 1), ctypes.c_uint32: (0, 2**32 - 1),
}


def flag(v, what):
    """A yes/no option: True or False only, as in Node ('no' or 0.5 would
    otherwise mean yes)."""
    if isinstance(v, bool) or (np is not None and isinstance(v, np.bool_)):
        return bool(v)
    raise TypeError(f'{what}: expected True or False, got {shown(v)}')


def real_arg(v, what):
    """A number option (float or int, not a str that float() would parse)."""
    import numbers
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f'{what}: expected a number, got {shown(v)}')
    return float(v)


def bounds_arg(v, what):
    """A score range of SegmentMap.add: one int (lo == hi) or (lo, hi)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v, v
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return v[0], v[1]
    raise TypeError(f'{what}: expected a score or [lo, hi], got {shown(v)}')


def index_arg(v, what):
    """An integer argument (an index, a count): TypeError for a float or bool,
    as in Node (1.5 would otherwise mean some nearby cell)."""
    if isinstance(v, (bool, float)) or (np is not None and isinstance(v, (np.bool_, np.floating))):
        raise TypeError(f'{what}: expected an integer, got {shown(v)}')
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f'{what}: expected an integer, got {shown(v)}') from None


def _as_int(v, what, i):
    if isinstance(v, (bool, float)) or (np is not None and isinstance(v, (np.bool_, np.floating))):
        raise TypeError(f'{what}[{i}]: expected an integer, got {shown(v)}'
                        + (' (amounts are integer minor units, e.g. cents)'
                           if isinstance(v, float) and what.startswith('amount') else ''))
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f'{what}[{i}]: expected an integer, got {shown(v)}') from None


def _checked_cast(arr, np_dtype, what, lo, hi):
    if arr.dtype == np_dtype:
        return arr  # already the C type: every value fits, no check, no copy
    if arr.size:
        if int(arr.min()) < lo or int(arr.max()) > hi:
            i = next(i for i, v in enumerate(arr.tolist()) if not lo <= v <= hi)
            raise OverflowError(f'{what}[{i}]: {arr[i]} is outside {lo}..{hi}')
    return arr.astype(np_dtype, copy=False)


def c_array(arr, ctype, np_dtype):
    """A ctypes view of a numpy array (made contiguous with the right dtype);
    the view keeps the array alive."""
    arr = np.ascontiguousarray(arr, dtype=np_dtype)
    if arr.size == 0:
        return (ctype * 0)()
    view = (ctype * arr.size).from_buffer(arr) if arr.flags.writeable else \
        (ctype * arr.size).from_address(arr.ctypes.data)
    view._keep = arr
    return view


def seq_len(x, what):
    if isinstance(x, (str, bytes, bytearray)):
        raise TypeError(f'{what}: expected an array, got {shown(x)}')
    try:
        return len(x)
    except TypeError:
        raise TypeError(f'{what}: expected an array, got {shown(x)}') from None


# ---------------------------------------------------------------------------
# Progress callbacks
# ---------------------------------------------------------------------------

class Progress:
    """Adapts a Python callable ``progress(done, total)`` to ProgressFn.

    The convention, shared with the Node binding: return ``None`` (nothing)
    or ``True`` to continue, ``False`` to cancel (shopcrm.Cancelled). Any
    other return value is a TypeError (a truthy 1 or a string means nothing
    definite), and so is an awaitable: an ``async def`` callback returns a
    coroutine that would never run, a mistake rather than a cancel. An
    exception raised by the callable (or such a TypeError) cancels the
    operation and is re-raised by ``call()`` once the C function has
    returned."""

    def __init__(self, fn):
        self.fn = fn
        self.exc = None
        self.cfn = _ffi.ProgressFn(self._call) if fn is not None else None
        if fn is not None and not callable(fn):
            raise TypeError('progress must be callable')

    def _call(self, done, total, _payload):
        try:
            r = self.fn(done, total)
            if r is None or r is True:
                return 0
            if r is False:
                return 1
            if inspect.isawaitable(r):
                if inspect.iscoroutine(r):
                    r.close()  # no "never awaited" warning: the TypeError says it
                raise TypeError('progress callback returned an awaitable: it must be a plain '
                                'function returning None/True (continue) or False (cancel), '
                                'not async')
            raise TypeError(f'progress callback returned {r!r}: return None or True to '
                            'continue, False to cancel')
        except BaseException as e:  # noqa: B902 - re-raised after the C call
            self.exc = e
            return 1

    def install(self, opts):
        if self.cfn is not None:
            opts.progress = self.cfn

    def call(self, fn, *args):
        try:
            return fn(*args)
        except Error:
            if self.exc is not None:
                exc, self.exc = self.exc, None
                raise exc from None
            raise


def init_options(cls, init_fn):
    opts = cls()
    init_fn(ctypes.byref(opts), cls._version_)
    return opts


def column(owner, ptr, ctype, n, np_dtype):
    """A read-only, zero-copy numpy array (or a list without numpy) over n
    values at ptr, owned by the Resource ``owner`` (kept alive by the array)."""
    if n == 0 or not ptr:
        return np.empty(0, dtype=np_dtype) if np is not None else []
    addr = ctypes.cast(ptr, ctypes.c_void_p).value
    buf = (ctype * n).from_address(addr)
    buf._owner = owner
    if np is None:
        return list(buf)
    # Over a read-only memoryview (which keeps buf, so the owner, alive):
    # clearing the WRITEABLE flag alone can be undone (arr.setflags(write=True)
    # succeeds on a writable base), and a write would change what the library
    # computes and writes (audiences, CSV exports).
    arr = np.frombuffer(memoryview(buf).toreadonly(), dtype=np_dtype)
    arr.flags.writeable = False
    return arr


def matrix(owner, ptr, ctype, rows, cols, np_dtype):
    """A row-major rows x cols matrix over ptr as column() gives it: a
    read-only 2-D numpy view (still zero-copy), or a list of rows."""
    rows, cols = max(rows, 0), max(cols, 0)
    flat = column(owner, ptr, ctype, rows * cols, np_dtype)
    if np is not None:
        return flat.reshape(rows, cols)
    return [flat[i * cols:(i + 1) * cols] for i in range(rows)]


def decode(b):
    if b is None:
        return None
    try:
        return b.decode('utf-8')
    except UnicodeDecodeError:
        return b


def encode(s, what):
    if isinstance(s, str):
        try:
            return s.encode('utf-8')
        except UnicodeEncodeError as e:  # a lone surrogate: worded as in Node
            raise ValueError(f'{what}: lone surrogate U+{ord(s[e.start]):04X} at string index '
                             f'{e.start} (not valid Unicode; it would become U+FFFD and merge '
                             f'with other strings)') from None
    if isinstance(s, (bytes, bytearray, memoryview)):
        return bytes(s)
    raise TypeError(f'{what}: expected str or bytes, got {type(s).__name__}')


def fspath(path):
    return os.fsencode(os.fspath(path))

