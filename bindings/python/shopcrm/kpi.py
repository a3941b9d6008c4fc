"""Shop KPIs over a time window, NPS and CSAT (shopcrm/kpi.h)."""

import ctypes
import datetime
import math
from collections.abc import Mapping
from ctypes import byref, c_double, c_int32, c_int64

from . import _ffi
from ._columns import KpiPeriodsColumns
from ._util import Handle, Progress, fspath, init_options, int_array, np, pd, to_bound


def metric_names():
    """The metric names this library knows, in metric order."""
    out, i = [], 0
    while True:
        n = _ffi.scrm_kpi_metric_name(i)
        if n is None:
            return out
        out.append(n.decode())
        i += 1


class Kpi(Mapping):
    """The KPIs of one window: a read-only mapping from metric name
    ("orders", "average_order_value", ... see kpi.h) to its value: an exact
    int for counts and money sums (minor units), a float for means and ratios
    (NaN when undefined: zero denominator).

    The values are copied out of the C result, which is freed at once, so a
    Kpi needs no closing. ``window`` is (start, end) in epoch seconds, None
    for an unbounded side; ``types`` maps each name to its KpiType.
    ``flags`` holds the KpiFlag bits, also as ``lookback_incomplete`` (the
    lookback before the start reaches before the data: the customers at the
    start are incomplete), ``partial`` (the window reaches past the data) and
    ``no_amounts`` (a count-only dataset: money metrics are None or NaN)."""

    def __init__(self, values, types, window, flags=0):
        self._values = values
        self.types = types
        self.window = window
        self.flags = flags
        self.lookback_incomplete = bool(flags & _ffi.KpiFlag.LOOKBACK_INCOMPLETE)
        self.partial = bool(flags & _ffi.KpiFlag.PARTIAL)
        self.no_amounts = bool(flags & _ffi.KpiFlag.NO_AMOUNTS)

    def __getitem__(self, name):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, name):
        try:
            return self.__dict__['_values'][name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self):
        return dict(self._values)

    def __repr__(self):
        return f'Kpi({self._values!r})'


def _options(ds, start, end, utc_offset, threads, progress, lookback):
    ds._p()
    opts = init_options(_ffi.KpiOptions, _ffi.scrm_kpi_options_init)
    if lookback is not None:
        if isinstance(lookback, datetime.timedelta):
            if lookback % datetime.timedelta(seconds=1):
                raise ValueError('lookback: a whole number of seconds')
            lookback = lookback // datetime.timedelta(seconds=1)
        if isinstance(lookback, bool) or not isinstance(lookback, int):
            raise TypeError('lookback: expected int seconds or a datetime.timedelta')
        opts.lookback = lookback
    opts.start = _ffi.SCRM_KPI_START_ALL if start is None else to_bound(start, 'start')
    opts.end = _ffi.SCRM_KPI_END_ALL if end is None else to_bound(end, 'end')
    opts.utc_offset = utc_offset
    opts.threads = threads
    prog = Progress(progress)
    prog.install(opts)
    return opts, prog


def compute(ds, start=None, end=None, utc_offset=0, threads=0, progress=None, lookback=None):
    """The KPIs of ``ds`` for the window [start, end) (None: unbounded); start
    and end are epoch seconds or aware datetimes, compared with each order's
    time + utc_offset (so a window of local midnights works). ``lookback``
    (seconds or a datetime.timedelta; None = the window's length) defines a
    customer *at* a time t for the retention KPIs: an order in [t - lookback, t)."""
    opts, prog = _options(ds, start, end, utc_offset, threads, progress, lookback)
    k = _ffi._KpiP()
    with ds._read() as dsp:  # pinned; appends wait until the call returns
        prog.call(_ffi.scrm_kpi_compute, byref(k), dsp, byref(opts))
    try:
        values, types = {}, {}
        flags = _ffi.scrm_kpi_flags(k)
        for i, name in enumerate(metric_names()):
            t = _ffi.KpiType(_ffi.scrm_kpi_metric_type(i))
            if t == _ffi.KpiType.MONEY and flags & _ffi.KpiFlag.NO_AMOUNTS:
                values[name] = None  # a count-only dataset: money is absent, not 0
            elif t in (_ffi.KpiType.COUNT, _ffi.KpiType.MONEY):
                v = c_int64()
                _ffi.scrm_kpi_count(byref(v), k, i)
                values[name] = v.value
            else:
                values[name] = _ffi.scrm_kpi_value(k, i)
            types[name] = t
        lo, hi = c_int64(), c_int64()
        _ffi.scrm_kpi_window(byref(lo), byref(hi), k)
        window = (None if lo.value == _ffi.SCRM_KPI_START_ALL else lo.value,
                  None if hi.value == _ffi.SCRM_KPI_END_ALL else hi.value)
    finally:
        _ffi.scrm_kpi_free(k)
    return Kpi(values, types, window, flags)


_UNITS = {'day': _ffi.PeriodUnit.DAY, 'week': _ffi.PeriodUnit.WEEK,
          'month': _ffi.PeriodUnit.MONTH, 'quarter': _ffi.PeriodUnit.QUARTER,
          'year': _ffi.PeriodUnit.YEAR}


class KpiPeriods(KpiPeriodsColumns, Handle):
    """Every KPI of each calendar period (C: scrm_kpi_periods): ``rows``
    rows, row i being period ``first_period + i`` (``labels[i]``, starting
    at ``starts[i]`` epoch seconds).

    ``column(name)`` gives one metric for every row: exact int64 for counts
    and money (minor units), float64 otherwise (NaN when undefined), as a
    read-only numpy array over the library's memory (a list without numpy).
    ``flags`` holds each row's KpiFlag bits. ``to_dict()`` is DataFrame-able
    (period, start, lookback_incomplete, partial, then every metric);
    ``to_pandas()`` builds that DataFrame, indexed by period."""

    _what = 'KPI periods result'

    def __init__(self, ptr, minor_digits, utc_offset):
        super().__init__(ptr, _ffi.scrm_kpi_periods_free)
        self._cache = {}
        self.minor_digits = minor_digits
        self.rows = _ffi.scrm_kpi_periods_count(ptr)
        unit = _ffi.scrm_kpi_periods_unit(ptr)
        self.unit = next(k for k, v in _UNITS.items() if v == unit)
        self.first_period = _ffi.scrm_kpi_periods_first(ptr)
        #: A count-only dataset: the money columns are NaN (absent), not 0.
        self.no_amounts = self.rows > 0 and bool(
            int(self.flags[0]) & _ffi.KpiFlag.NO_AMOUNTS)
        self.labels, self.starts = [], []
        for i in range(self.rows):
            buf = ctypes.create_string_buffer(_ffi.SCRM_PERIOD_LABEL_MAX)
            _ffi.scrm_period_label(buf, len(buf), self.first_period + i, unit)
            self.labels.append(buf.value.decode('ascii'))
            t = c_int64()
            _ffi.scrm_period_start(byref(t), self.first_period + i, unit, utc_offset)
            self.starts.append(t.value)

    def __len__(self):
        return self.rows

    def close(self):
        self._cache = {}
        super().close()

    def column(self, name):
        """One metric (a name of metric_names()) for every row."""
        names = metric_names()
        if name not in names:
            raise KeyError(name)
        m = names.index(name)
        t = _ffi.KpiType(_ffi.scrm_kpi_metric_type(m))
        if t == _ffi.KpiType.MONEY and self.no_amounts:
            return self.values(m)  # NaN: no amounts, money is absent
        if t in (_ffi.KpiType.COUNT, _ffi.KpiType.MONEY):
            return self.exact(m)
        return self.values(m)

    def to_dict(self):
        """{column: list or array}: period, start, lookback_incomplete,
        partial, then every metric."""
        flags = [int(f) for f in self.flags]
        out = {'period': list(self.labels), 'start': list(self.starts),
               'lookback_incomplete': [bool(f & _ffi.KpiFlag.LOOKBACK_INCOMPLETE) for f in flags],
               'partial': [bool(f & _ffi.KpiFlag.PARTIAL) for f in flags]}
        for name in metric_names():
            out[name] = self.column(name)
        return out

    def to_pandas(self):
        """The rows as a DataFrame indexed by period label (money in minor units)."""
        if pd is None:
            raise ImportError('to_pandas() needs pandas')
        d = self.to_dict()
        return pd.DataFrame(d).set_index('period')

    def write_csv(self, path, minor_digits=None):
        """Every KPI of every row as CSV (scrm_kpi_periods_write_csv(): the
        bytes of `shopcrm kpi --by UNIT --out`; money in major units with
        ``minor_digits`` decimals, by default the dataset's)."""
        digits = self.minor_digits if minor_digits is None else minor_digits
        with self._read() as p:
            _ffi.scrm_kpi_periods_write_csv(p, fspath(path), digits)

    def __repr__(self):
        return f'KpiPeriods({self.unit}, {self.rows} rows)'


def compute_periods(ds, unit='month', start=None, end=None, utc_offset=0, threads=0,
                    progress=None, lookback=None):
    """The KPIs of every ``unit`` period of ``ds`` (a KpiPeriods), in one
    pass; start and end, if given, must be the first instant of a period
    (local time, as for compute()). ``lookback`` None: each row's customers
    at the start are those of the period before."""
    if unit not in _UNITS:
        raise ValueError(f'unit: expected one of {list(_UNITS)}, got {unit!r}')
    opts, prog = _options(ds, start, end, utc_offset, threads, progress, lookback)
    out = _ffi._KpiPeriodsP()
    with ds._read() as dsp:
        prog.call(_ffi.scrm_kpi_periods_compute, byref(out), dsp, _UNITS[unit], byref(opts))
        digits = _ffi.scrm_dataset_minor_digits(dsp)
    return KpiPeriods(out, digits, utc_offset)


def _scores(scores):
    arr = int_array(scores, c_int32, np.int32 if np is not None else None, 'scores')
    return arr, len(arr)


def nps(scores):
    """Net Promoter Score (-100..100) of answers 0..10: % promoters (9-10) minus
    % detractors (0-6). RangeError (index = the answer) outside 0..10;
    InvalidArgument for no answers."""
    arr, n = _scores(scores)
    out = c_double(math.nan)
    _ffi.scrm_kpi_nps(byref(out), arr, n)
    return out.value


def csat(scores):
    """Customer satisfaction (0..100): % of answers 4 or 5 on a 1..5 scale."""
    arr, n = _scores(scores)
    out = c_double(math.nan)
    _ffi.scrm_kpi_csat(byref(out), arr, n)
    return out.value


__all__ = ['Kpi', 'KpiPeriods', 'compute', 'compute_periods', 'metric_names', 'nps', 'csat']
