"""Shop KPIs over a time window, NPS and CSAT (shopcrm/kpi.h)."""

import datetime
import math
from collections.abc import Mapping
from ctypes import byref, c_double, c_int32, c_int64

from . import _ffi
from ._util import Progress, init_options, int_array, np, to_bound


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
    for an unbounded side; ``types`` maps each name to its KpiType."""

    def __init__(self, values, types, window):
        self._values = values
        self.types = types
        self.window = window

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


def compute(ds, start=None, end=None, utc_offset=0, threads=0, progress=None, lookback=None):
    """The KPIs of ``ds`` for the window [start, end) (None: unbounded); start
    and end are epoch seconds or aware datetimes, compared with each order's
    time + utc_offset (so a window of local midnights works). ``lookback``
    (seconds or a datetime.timedelta; None = 365 days) defines a customer *at*
    a time t for the retention KPIs: an order in [t - lookback, t)."""
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
    k = _ffi._KpiP()
    with ds._read() as dsp:  # pinned; appends wait until the call returns
        prog.call(_ffi.scrm_kpi_compute, byref(k), dsp, byref(opts))
    try:
        values, types = {}, {}
        for i, name in enumerate(metric_names()):
            t = _ffi.KpiType(_ffi.scrm_kpi_metric_type(i))
            if t in (_ffi.KpiType.COUNT, _ffi.KpiType.MONEY):
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
    return Kpi(values, types, window)


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


__all__ = ['Kpi', 'compute', 'metric_names', 'nps', 'csat']
