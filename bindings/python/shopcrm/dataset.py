"""The orders dataset (shopcrm/dataset.h) and CSV loading (shopcrm/io.h)."""

import ctypes
import operator
from ctypes import byref, c_char_p, c_int64, c_uint32, c_uint64
from typing import NamedTuple

from . import _ffi
from ._util import (Handle, Progress, pd, decode, encode, flag, fspath, init_options, int_array,
                    np, seq_len, times_array, to_epoch)
from .errors import NotFound

_KEY_TYPES = {'auto': _ffi.KeyType.AUTO, 'u64': _ffi.KeyType.U64, 'int': _ffi.KeyType.U64,
              'string': _ffi.KeyType.STRING, 'str': _ffi.KeyType.STRING}
_TIME_FORMATS = {'auto': _ffi.TimeFormat.AUTO, 'iso8601': _ffi.TimeFormat.ISO8601,
                 'yyyymmdd': _ffi.TimeFormat.YYYYMMDD, 'dmy': _ffi.TimeFormat.DMY,
                 'mdy': _ffi.TimeFormat.MDY, 'epoch': _ffi.TimeFormat.EPOCH}
_ON_ERROR = {'strict': _ffi.CsvOnError.STRICT, 'skip': _ffi.CsvOnError.SKIP}
_DELIMITERS = {None: 0, ',': ord(','), ';': ord(';'), '\t': ord('\t'), ' ': ord(' ')}


def _choice(table, value, what):
    if isinstance(value, int) and not isinstance(value, bool) and value in table.values():
        return int(value)
    try:
        return int(table[value.lower() if isinstance(value, str) else value])
    except (KeyError, AttributeError):
        raise ValueError(f'{what}: expected one of {sorted(k for k in table if k)}, '
                         f'got {value!r}') from None


class Reject(NamedTuple):
    """A rejected CSV row: 1-based line, column name, reason."""
    line: int
    column: str
    reason: str


class CsvReport:
    """What a CSV load did (copied from the C report, which is freed at once).

    Attributes: rows_read, rows_added (orders), duplicates (re-delivered
    rows), lines_merged (rows merged into an order an earlier row of the
    load started), orders_merged (orders of several lines), empty_customer,
    excluded (by the exclude filter), rejected (all counted), rejects (the listed ones: Reject(line, column, reason)),
    time_format (a TimeFormat: the one given, or what 'auto' chose),
    delimiter (',', ';', '\\t' or ' '), key_type (a KeyType)."""

    def __init__(self, rp):
        f = _ffi
        self.rows_read = f.scrm_csv_report_rows_read(rp)
        self.rows_added = f.scrm_csv_report_rows_added(rp)
        self.duplicates = f.scrm_csv_report_duplicates(rp)
        self.lines_merged = f.scrm_csv_report_lines_merged(rp)
        self.orders_merged = f.scrm_csv_report_orders_merged(rp)
        self.empty_customer = f.scrm_csv_report_empty_customer(rp)
        self.excluded = f.scrm_csv_report_excluded(rp)
        self.rejected = f.scrm_csv_report_rejected(rp)
        self.time_format = f.TimeFormat(f.scrm_csv_report_time_format(rp))
        d = f.scrm_csv_report_delimiter(rp)
        self.delimiter = chr(d) if d else None
        self.key_type = f.KeyType(f.scrm_csv_report_key_type(rp))
        rejects = []
        for i in range(f.scrm_csv_report_reject_count(rp)):
            line, col, why = c_uint64(), c_char_p(), c_char_p()
            f.scrm_csv_report_reject(byref(line), byref(col), byref(why), rp, i)
            rejects.append(Reject(line.value, decode(col.value), decode(why.value)))
        self.rejects = rejects

    def __repr__(self):
        return (f'CsvReport(rows_read={self.rows_read}, rows_added={self.rows_added}, '
                f'duplicates={self.duplicates}, lines_merged={self.lines_merged}, '
                f'orders_merged={self.orders_merged}, empty_customer={self.empty_customer}, '
                f'excluded={self.excluded}, rejected={self.rejected}, time_format={self.time_format.name}, '
                f'delimiter={self.delimiter!r})')


def _pandas_customers(col, what='customer'):
    if col.isna().any():
        raise ValueError(f'{what}: missing values (NaN/None) in column {col.name!r}')
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(col.cat.categories.dtype)
    if col.dtype.kind in 'iu':
        return col.to_numpy()
    if col.dtype.kind in 'OSU' or str(col.dtype) == 'string':
        return [v if isinstance(v, (str, bytes)) else str(v) for v in col.tolist()]
    raise TypeError(f'{what}: expected integer, string or category keys, got {col.dtype}')


def _pandas_times(col):
    dtype = col.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_convert('UTC').dt.tz_localize(None)  # vectorised, no per-object path
        dtype = col.dtype
    if dtype.kind == 'M':
        if col.isna().any():
            raise ValueError(f'time: NaT in column {col.name!r} (drop or fill those rows)')
        return col.to_numpy()
    if dtype.kind in 'iu':
        return col.to_numpy()
    return col.tolist()


def _pandas_amounts(col, digits):
    import decimal
    if col.isna().any():
        raise ValueError(f'amount: missing values (NaN/None) in column {col.name!r}')
    if col.dtype.kind in 'iu':
        return col.to_numpy()
    scale = 10 ** digits
    if col.dtype.kind == 'f':
        y = np.rint(col.to_numpy(dtype=np.float64) * scale)   # halves to even
        if not np.isfinite(y).all() or np.abs(y).max(initial=0) >= 2.0**63:
            raise OverflowError('amount: values do not fit int64 minor units')
        return y.astype(np.int64)
    if col.dtype.kind == 'O':
        out = []
        q = decimal.Decimal(1)
        for i, v in enumerate(col.tolist()):
            if isinstance(v, decimal.Decimal):
                out.append(int((v * scale).quantize(q, rounding=decimal.ROUND_HALF_EVEN)))
            elif isinstance(v, int) and not isinstance(v, bool):
                out.append(v)
            else:
                raise TypeError(f'amount[{i}]: expected Decimal or int, got {type(v).__name__}')
        return out
    raise TypeError(f'amount: expected integer (minor units), float or Decimal (major units), '
                    f'got {col.dtype}')


def keys_of(res, cache, count=None):
    """The keys of customers 0 .. count-1 (default: all) of the dataset held
    by the Resource ``res`` (pinned and read-guarded meanwhile), extending the
    list ``cache`` of keys by index (keys never change)."""
    with res.read() as p:
        total = _ffi.scrm_dataset_customer_count(p) if count is None else count
        string = _ffi.scrm_dataset_key_type(p) == _ffi.KeyType.STRING
        if len(cache) < total:
            if string:
                s, n = c_char_p(), c_uint32()
                fn = _ffi.scrm_dataset_customer_key_str.raw  # index checked by range()
                for i in range(len(cache), total):
                    fn(byref(s), byref(n), p, i)
                    cache.append(decode(ctypes.string_at(s, n.value)))
            else:
                k = c_uint64()
                fn = _ffi.scrm_dataset_customer_key_u64.raw
                for i in range(len(cache), total):
                    fn(byref(k), p, i)
                    cache.append(k.value)
    out = cache[:total]
    if np is not None and not string:
        return np.array(out, dtype=np.uint64)
    return out


class Dataset(Handle):
    """An append-only, in-memory store of orders (C: scrm_dataset).

    ``Dataset(key_type='auto', threads=0)`` creates an empty one; use
    :meth:`from_csv` / :meth:`from_arrays` to create and fill one.
    ``len(ds)`` is the number of orders stored."""

    _what = 'dataset'

    def __init__(self, key_type='auto', threads=0, minor_digits=None):
        opts = init_options(_ffi.DatasetOptions, _ffi.scrm_dataset_options_init)
        opts.key_type = _choice(_KEY_TYPES, key_type, 'key_type')
        opts.threads = threads
        if minor_digits is not None:  # else the default (2), or what a CSV load sets
            opts.minor_digits = minor_digits
        p = _ffi._DatasetP()
        _ffi.scrm_dataset_new(byref(p), byref(opts))
        super().__init__(p, _ffi.scrm_dataset_free)
        self.report = None
        self._keys = []  # cache of customer keys by index (keys never change)

    # -- construction -------------------------------------------------------

    @classmethod
    def from_csv(cls, source, customer='customer_id', time='date', amount='amount', **kw):
        """A new dataset loaded from a CSV file (a path) or CSV text (bytes).

        Options (keywords; defaults shown), the same as :meth:`load_csv`:

        - customer='customer_id', time='date', amount='amount': column names
          (amounts in the file are major units, e.g. dollars: '12.50').
        - order_id=None, quantity=None, unit_price=None: optional columns
          (amount = quantity x unit_price when both are given).
        - delimiter=None (guessed; or ',', ';', '\\t', ' ' for runs of blanks),
          decimal='.' (or ',').
        - time_format='auto' ('iso8601', 'yyyymmdd', 'dmy', 'mdy', 'epoch').
        - utc_offset=0: seconds of local time ahead of UTC.
        - on_error='strict' (first bad row raises ParseError) or 'skip'.
        - na_customer=None (a value or a list of values meaning "no
          customer", besides the default set unless na_defaults=False),
          exclude=None ({column: value or [values]}: rows to leave out),
          has_header=True, minor_digits=2 (digits of the
          minor unit: 0 yen, 3 dinars), max_rejects=100, threads=0 (0 = all
          cores), progress=None (progress(done_bytes, total_bytes)).
        - key_type='auto' ('u64', 'string'): goes to the constructor.

        The report (rows read / added, rejects) is kept in ``ds.report``."""
        ds = cls(key_type=kw.pop('key_type', 'auto'), threads=kw.get('threads', 0))
        try:
            ds.load_csv(source, customer=customer, time=time, amount=amount, **kw)
        except BaseException:
            ds.close()
            raise
        return ds

    @classmethod
    def from_arrays(cls, customers, times, amounts, order_keys=None, key_type='auto', threads=0,
                    progress=None, minor_digits=None):
        """A new dataset holding one batch of orders (see :meth:`append`).

        Options (defaults shown):

        - customers: ints (uint64 keys) or str/bytes (string keys).
        - times: epoch seconds (int), timezone-aware datetimes or numpy
          datetime64 (UTC); YYYYMMDD integers and NaT are refused.
        - amounts: integers in minor units (e.g. cents; negative = refund).
        - order_keys=None: ints or str/bytes order ids, for de-duplication.
        - key_type='auto' ('u64', 'string'), threads=0 (0 = all cores),
          progress=None (progress(done_rows, total_rows); False cancels).
        - minor_digits=None: digits of the currency's minor unit (None = 2;
          0 for yen, 3 for dinars).

        numpy arrays already of the C types (uint64 keys, int64 or
        datetime64[s] times, int64 amounts) are passed without a copy."""
        ds = cls(key_type=key_type, threads=threads, minor_digits=minor_digits)
        try:
            ds.append(customers, times, amounts, order_keys, progress=progress)
        except BaseException:
            ds.close()
            raise
        return ds

    @classmethod
    def from_pandas(cls, df, customer='customer_id', time='date', amount='amount', order=None,
                    minor_digits=None, key_type='auto', threads=0, progress=None):
        """A new dataset from the columns of a pandas DataFrame (vectorised).

        Options (defaults shown): customer='customer_id', time='date',
        amount='amount', order=None (column names), minor_digits=None
        (None = 2), key_type='auto', threads=0 (0 = all cores),
        progress=None.

        customer: integer (uint64 keys), string/object or category column.
        time: datetime64 (naive = UTC), tz-aware datetime64 (converted to
        UTC), or epoch seconds as integers (YYYYMMDD integers are refused:
        convert with pd.to_datetime(col.astype(str), format='%Y%m%d')).
        amount: integers = minor units (cents) as they are; floats or
        Decimals = major units (dollars), converted to minor units with the
        dataset's ``minor_digits`` (default 2) and rounded to the nearest
        minor unit, halves to even (Decimal: exactly; float: the double
        product x * 10**minor_digits rounded half to even, so 2.675 gives
        268, and any amount written with at most minor_digits decimals is
        exact); NaN/None is a ValueError. order: optional
        order id column (ints or strings) for de-duplication."""
        if pd is None:
            raise ImportError('from_pandas() needs pandas')
        digits = 2 if minor_digits is None else minor_digits
        cust = _pandas_customers(df[customer])
        times = _pandas_times(df[time])
        amounts = _pandas_amounts(df[amount], digits)
        orders = None if order is None else _pandas_customers(df[order], 'order')
        return cls.from_arrays(cust, times, amounts, order_keys=orders, key_type=key_type,
                               threads=threads, progress=progress, minor_digits=minor_digits)

    # -- appends ------------------------------------------------------------

    def append(self, customers, times, amounts, order_keys=None, progress=None):
        """Append one atomic batch of orders; return the number of rows added
        (rows minus duplicate order keys).

        customers: ints (uint64 keys) or str/bytes (string keys), a list or a
        numpy array. times: epoch seconds (ints), timezone-aware datetimes or
        numpy datetime64 (UTC); a naive datetime is a ValueError. amounts:
        integers in minor units (cents; negative = refund). order_keys: None,
        uint64 ints, or str/bytes order ids (hashed with
        scrm_dataset_order_key_from_string, as the CSV loader does). Numpy arrays of
        the C type (uint64 / int64) are passed without a copy.
        progress(done, total): called with rows of the batch, (0, n) first and
        (n, n) last; returning False or raising cancels the append (nothing
        is added; shopcrm.Cancelled, or the exception raised).

        On error nothing is added: shopcrm.RangeError (bad time) or
        InvalidArgument (empty key) with ``index`` = the 0-based row."""
        self._p()
        n = seq_len(customers, 'customers')
        if seq_len(times, 'times') != n or seq_len(amounts, 'amounts') != n:
            raise ValueError(f'customers, times and amounts differ in length '
                             f'({n}, {len(times)}, {len(amounts)})')
        t = times_array(times, n)
        a = int_array(amounts, c_int64, np.int64 if np is not None else None, 'amounts')
        ok = None
        if order_keys is not None:
            if seq_len(order_keys, 'order_keys') != n:
                raise ValueError('order_keys and customers differ in length')
            ok = self._order_keys(order_keys)
        added = c_uint64()
        opts = init_options(_ffi.DatasetAppendOptions, _ffi.scrm_dataset_append_options_init)
        prog = Progress(progress)
        prog.install(opts)
        if self._string_keys(customers):
            keys = [encode(c, f'customers[{i}]') for i, c in enumerate(customers)]
            arr = (c_char_p * n)(*keys)
            lens = (c_uint32 * n)(*[len(k) for k in keys])
            with self._write() as p:  # pinned; appends exclude every reader
                prog.call(_ffi.scrm_dataset_append_str, byref(added), p, n, arr, lens, t, a,
                          ok, byref(opts))
        else:
            c = int_array(customers, c_uint64, np.uint64 if np is not None else None,
                          'customers')
            with self._write() as p:
                prog.call(_ffi.scrm_dataset_append_u64, byref(added), p, n, c, t, a, ok,
                          byref(opts))
        return added.value

    @staticmethod
    def _string_keys(values):
        if np is not None and isinstance(values, np.ndarray):
            if values.dtype.kind in 'iu':
                return False
            if values.dtype.kind in 'SU':
                return True
        for v in values:
            return isinstance(v, (str, bytes, bytearray, memoryview))
        return False

    def _order_keys(self, order_keys):
        if self._string_keys(order_keys):
            out = []
            for i, s in enumerate(order_keys):
                b = encode(s, f'order_keys[{i}]')
                out.append(_ffi.scrm_dataset_order_key_from_string(b, len(b)))
            return (c_uint64 * len(out))(*out)
        return int_array(order_keys, c_uint64, np.uint64 if np is not None else None,
                         'order_keys')

    def load_csv(self, source, customer='customer_id', time='date', amount='amount',
                 order_id=None, quantity=None, unit_price=None, delimiter=None,
                 time_format='auto', decimal='.', utc_offset=0, on_error='strict',
                 na_customer=None, has_header=True, minor_digits=2, max_rejects=100,
                 threads=0, progress=None, na_defaults=True, exclude=None):
        """Append the orders of a CSV file (path) or CSV text (bytes) atomically.

        Options (defaults in the signature): customer='customer_id',
        time='date', amount='amount' (amounts in major units, e.g. '12.50';
        None or 'none': the file has no amounts, a count-only load),
        order_id=None, quantity=None, unit_price=None, delimiter=None
        (guessed), time_format='auto', decimal='.', utc_offset=0 (seconds),
        on_error='strict', na_customer=None, has_header=True,
        minor_digits=2, max_rejects=100, threads=0 (0 = all cores),
        progress=None.

        Columns are named by the header (or "1", "2", ... with
        has_header=False). time_format: 'auto', 'iso8601', 'yyyymmdd', 'dmy', 'mdy'
        or 'epoch'; decimal: '.' or ','; utc_offset: seconds of local time
        ahead of UTC; on_error: 'strict' (first bad row raises ParseError with
        ``index`` = its line) or 'skip' (bad rows listed in the report).
        With order_id, rows sharing an order id are the lines of one order
        (amounts summed, earliest time; a line of another customer is a bad
        row); an order id of an earlier load is a re-delivery (skipped).
        na_customer: a value or a list of values meaning "no customer"
        (rows skipped and counted); na_defaults=True adds the library's
        default set (NA, N/A, null, NaN, None, ...). exclude: {column: value
        or list of values}: matching rows are skipped and counted;
        progress(done_bytes, total_bytes): see shopcrm.Dataset.rfm. Returns
        the CsvReport, also kept in ``self.report``."""
        self._p()
        opts = init_options(_ffi.CsvOptions, _ffi.scrm_csv_options_init)
        keep = []

        def s(v, what):
            if v is None:
                return None
            b = encode(v, what)
            keep.append(b)
            return b
        opts.customer_column = s(customer, 'customer')
        opts.time_column = s(time, 'time')
        opts.amount_column = s(amount, 'amount')
        opts.order_id_column = s(order_id, 'order_id')
        opts.quantity_column = s(quantity, 'quantity')
        opts.unit_price_column = s(unit_price, 'unit_price')
        if isinstance(na_customer, (list, tuple)):
            nas = [s(v, f'na_customer[{i}]') for i, v in enumerate(na_customer)]
            opts.na_customers = (c_char_p * max(len(nas), 1))(*nas)
            opts.na_customer_count = len(nas)
            keep.append(opts.na_customers)
        else:
            opts.na_customer = s(na_customer, 'na_customer')
        opts.na_defaults = 1 if flag(na_defaults, 'na_defaults') else 0
        if exclude:
            pairs = []
            for col, vals in dict(exclude).items():
                for v in ([vals] if isinstance(vals, (str, bytes)) else list(vals)):
                    pairs.append((s(col, 'exclude'), s(v, f'exclude[{col!r}]')))
            cols = (c_char_p * len(pairs))(*(c for c, _ in pairs))
            vals_ = (c_char_p * len(pairs))(*(v for _, v in pairs))
            keep.extend((cols, vals_))
            opts.exclude_columns = cols
            opts.exclude_values = vals_
            opts.exclude_count = len(pairs)
        opts.has_header = 1 if flag(has_header, 'has_header') else 0
        if delimiter not in _DELIMITERS:
            raise ValueError(f"delimiter: expected ',', ';', '\\t', ' ' or None, got {delimiter!r}")
        opts.delimiter = _DELIMITERS[delimiter]
        opts.time_format = _choice(_TIME_FORMATS, time_format, 'time_format')
        if decimal not in ('.', ','):
            raise ValueError(f"decimal: expected '.' or ',', got {decimal!r}")
        opts.decimal_separator = ord(decimal)
        opts.minor_digits = minor_digits
        opts.utc_offset = utc_offset
        opts.on_error = _choice(_ON_ERROR, on_error, 'on_error')
        opts.max_rejects = max_rejects
        opts.threads = threads
        prog = Progress(progress)
        prog.install(opts)
        rp = _ffi._CsvReportP()
        with self._write() as p:  # pinned; a load excludes every reader
            if isinstance(source, (bytes, bytearray, memoryview)):
                data = bytes(source)
                prog.call(_ffi.scrm_csv_load_buffer, byref(rp), p, data, len(data),
                          byref(opts))
            else:
                prog.call(_ffi.scrm_csv_load_file, byref(rp), p, fspath(source), byref(opts))
        try:
            report = CsvReport(rp)
        finally:
            _ffi.scrm_csv_report_free(rp)
        self.report = report
        return report

    # -- queries ------------------------------------------------------------

    def __len__(self):
        with self._read() as p:
            return _ffi.scrm_dataset_order_count(p)

    @property
    def customers(self):
        """Number of distinct customers."""
        with self._read() as p:
            return _ffi.scrm_dataset_customer_count(p)

    @property
    def minor_digits(self):
        """Digits of the currency's minor unit: amounts / 10**minor_digits are
        major units (2 for cents, 0 for yen, 3 for dinars)."""
        with self._read() as p:
            return _ffi.scrm_dataset_minor_digits(p)

    @property
    def orders(self):
        """Number of orders stored (duplicates excluded)."""
        with self._read() as p:
            return _ffi.scrm_dataset_order_count(p)

    @property
    def duplicates(self):
        """Rows skipped so far because an earlier append or load stored their
        order key (re-deliveries)."""
        with self._read() as p:
            return _ffi.scrm_dataset_duplicate_count(p)

    @property
    def has_amounts(self):
        """False for a count-only dataset (loaded with amount=None: an event
        log); RFM then has no monetary dimension."""
        with self._read() as p:
            return bool(_ffi.scrm_dataset_has_amounts(p))

    @property
    def merged(self):
        """Rows merged so far into an order as its later lines (rows of one
        append or load sharing an order key)."""
        with self._read() as p:
            return _ffi.scrm_dataset_merged_count(p)

    @property
    def key_type(self):
        """A KeyType: AUTO until the first non-empty append, then U64 or STRING."""
        with self._read() as p:
            return _ffi.KeyType(_ffi.scrm_dataset_key_type(p))

    @property
    def time_range(self):
        """(earliest, latest) order time in epoch seconds, or None when empty."""
        lo, hi = c_int64(), c_int64()
        try:
            with self._read() as p:
                _ffi.scrm_dataset_time_range(byref(lo), byref(hi), p)
        except NotFound:
            return None
        return (lo.value, hi.value)

    def key(self, index):
        """The key of customer ``index``: an int, or a str (bytes if not UTF-8)."""
        index = operator.index(index)
        with self._read() as p:
            if index < 0:
                index += _ffi.scrm_dataset_customer_count(p)
            if not 0 <= index < 2**32:
                raise IndexError(f'customer index {index} out of range')
            if _ffi.scrm_dataset_key_type(p) == _ffi.KeyType.STRING:
                s, n = c_char_p(), c_uint32()
                _ffi.scrm_dataset_customer_key_str(byref(s), byref(n), p, index)
                return decode(ctypes.string_at(s, n.value))
            k = c_uint64()
            _ffi.scrm_dataset_customer_key_u64(byref(k), p, index)
            return k.value

    def keys(self, count=None):
        """The keys of customers 0 .. count-1 (default: all), in index order:
        a numpy uint64 array for integer keys (a list without numpy), a list
        of str for string keys."""
        return keys_of(self._resource(), self._keys, count)

    def index(self, key):
        """The customer index of ``key``; shopcrm.NotFound when absent."""
        i = c_uint32()
        if isinstance(key, (str, bytes, bytearray, memoryview)):
            b = encode(key, 'key')
            with self._read() as p:
                _ffi.scrm_dataset_find_str(byref(i), p, b, len(b))
        else:
            key = operator.index(key)  # no float keys; range checked by _ffi (uint64)
            with self._read() as p:
                _ffi.scrm_dataset_find_u64(byref(i), p, key)
        return i.value

    def __contains__(self, key):
        try:
            self.index(key)
        except (NotFound, OverflowError, TypeError):  # -1, 2**64, 1.5: not a key
            return False
        return True

    def __repr__(self):
        if self.closed:
            return '<shopcrm.Dataset closed>'
        return (f'<shopcrm.Dataset {self.orders} orders, {self.customers} customers, '
                f'key_type={self.key_type.name}>')

    # -- analyses -----------------------------------------------------------

    def rfm(self, bins=5, method='quantile', as_of=None, utc_offset=0, frequency='orders',
            monetary='sum', edges=None, segments='default', threads=0, progress=None):
        """RFM scores and segments of every customer (a shopcrm.Rfm).

        Options (defaults shown; definitions in docs/rfm.md):

        - bins=5: scores 1..bins, 2..10.
        - method='quantile' (ties share a score), 'ntile' (SQL NTILE, ties by
          key) or 'fixed' (then edges=).
        - as_of=None: the start of the day after the last order; or epoch
          seconds, a datetime (naive = UTC), date, ISO string,
          pd.Timestamp or np.datetime64.
        - utc_offset=0: seconds added to times before taking civil days.
        - frequency='orders' or 'days' (distinct days with an order).
        - monetary='sum' or 'mean' (per frequency unit).
        - edges=None: with 'fixed', {'r': [...], 'f': [...], 'm': [...]},
          bins-1 ascending values each (days, orders/days, minor units).
        - segments='default' ("rfm11-v2" when bins is 5, none otherwise), a
          preset name ("rfm11-v2", "rfm11-v1", "rf10-v1"), a SegmentMap, or None.
        - threads=0: worker threads (0 = the dataset's); results never
          depend on it.
        - progress=None: progress(done, total) in partitions; False cancels.

        Result columns, one value per customer index: recency_days (days),
        frequency (orders, or days), monetary and revenue (minor money
        units, e.g. cents), r, f, m (scores 1..bins), segment (index, -1 =
        unassigned). Rfm.to_pandas() gives money in major units."""
        from .rfm import compute
        return compute(self, bins=bins, method=method, as_of=as_of, utc_offset=utc_offset,
                       frequency=frequency, monetary=monetary, edges=edges,
                       segments=segments, threads=threads, progress=progress)

    def kpi(self, start=None, end=None, utc_offset=0, threads=0, progress=None, lookback=None):
        """Shop KPIs of the window [start, end) (a shopcrm.Kpi mapping).

        Options (defaults shown; definitions in docs/kpi.md):

        - start=None, end=None: the window, None = unbounded; epoch seconds,
          a datetime (naive = UTC), date, ISO string, pd.Timestamp or
          np.datetime64.
        - utc_offset=0: seconds added to order times before comparing.
        - threads=0 (0 = the dataset's), progress=None (rows; False cancels).
        - lookback=None: seconds or a timedelta, None = the window's length:
          who is a customer at a time t (an order in [t - lookback, t)), for
          the retention KPIs.

        The result's ``flags`` (``lookback_incomplete``, ``partial``) say
        when the lookback reaches before the data or the window past it.

        Values: counts (orders, customers) as ints; money (revenue,
        average_order_value) in minor units (e.g. cents); repeat_rate,
        retention_rate, churn_rate and the *_share values as ratios (0..1 as
        a rule; not percent); median_days_between_purchases in days; NaN
        when undefined."""
        from .kpi import compute
        return compute(self, start=start, end=end, utc_offset=utc_offset, threads=threads,
                       progress=progress, lookback=lookback)

    def kpi_periods(self, unit='month', start=None, end=None, utc_offset=0, threads=0,
                    progress=None, lookback=None):
        """Every KPI of each calendar period, in one pass (a shopcrm.KpiPeriods;
        to_pandas() gives a DataFrame indexed by period).

        Options as for kpi(), plus unit='month' ('day', 'week' (ISO),
        'quarter', 'year'); start and end must then be the first instant of a
        period. lookback=None: a row's customers at the start are those of
        the period before it, at the end those of the period."""
        from .kpi import compute_periods
        return compute_periods(self, unit=unit, start=start, end=end, utc_offset=utc_offset,
                               threads=threads, progress=progress, lookback=lookback)

    def cohorts(self, period='month', mode='classic', start=None, end=None, utc_offset=0,
                min_amount=0, refunds=False, acquisition=None, threads=0, progress=None):
        """Cohort retention matrices (a shopcrm.Cohorts).

        Options (defaults shown; definitions in docs/cohorts.md):

        - period='month' ('day', 'week' (ISO), 'quarter', 'year').
        - mode='classic' (active in period k) or 'rolling' (k or later).
        - start=None, end=None: the window [start, end), None = unbounded.
        - utc_offset=0: seconds added to times before taking periods.
        - min_amount=0: smallest amount (minor units) of a counted order.
        - refunds=False: whether refunds count in revenue.
        - acquisition=None: the first counted order; or one time per
          customer (a sequence in customer index order, or {key: time}).
        - threads=0 (0 = the dataset's), progress=None (False cancels).

        Matrices (cohort x period): sizes, active (customers), orders,
        revenue (minor money units), retention (share 0..1), ltv (minor
        units per customer), cum_orders (orders per customer)."""
        from .cohorts import compute
        return compute(self, period=period, mode=mode, start=start, end=end,
                       utc_offset=utc_offset, min_amount=min_amount, refunds=refunds,
                       acquisition=acquisition, threads=threads, progress=progress)


__all__ = ['Dataset', 'CsvReport', 'Reject', 'to_epoch']
