"""Calendar periods and cohort retention matrices (shopcrm/cohorts.h).

Definitions (cohort, classic and rolling retention, historical LTV, the
observation end, merge) are those of include/shopcrm/cohorts.h; the guide is
docs/cohorts.md.
"""

import ctypes
import math
from collections.abc import Mapping
from ctypes import byref, c_int64

from . import _ffi
from ._columns import CohortsColumns
from ._util import (Handle, Progress, flag, fspath, index_arg, init_options, np, pd, seq_len,
                    to_bound, to_epoch)

_UNITS = {'day': _ffi.PeriodUnit.DAY, 'week': _ffi.PeriodUnit.WEEK,
          'month': _ffi.PeriodUnit.MONTH, 'quarter': _ffi.PeriodUnit.QUARTER,
          'year': _ffi.PeriodUnit.YEAR}
_MODES = {'classic': _ffi.CohortsMode.CLASSIC, 'rolling': _ffi.CohortsMode.ROLLING}

#: The metrics of a Cohorts result (to_pandas(metric=...)).
METRICS = ('active', 'orders', 'revenue', 'retention', 'ltv', 'cum_orders')

#: The columns of the long form (to_long(), write_csv(), `shopcrm cohorts --out`).
LONG_COLUMNS = ('cohort', 'period', 'cohort_size', 'active_customers', 'orders', 'revenue',
                'retention', 'partial')


def _unit(unit):
    """A PeriodUnit from 'day' | 'week' | 'month' | 'quarter' | 'year' or the enum."""
    if isinstance(unit, int) and not isinstance(unit, bool):
        return int(_ffi.PeriodUnit(unit))
    try:
        return int(_UNITS[unit.lower()])
    except (KeyError, AttributeError):
        raise ValueError(f'unit: expected one of {list(_UNITS)}, got {unit!r}') from None


def _mode(mode):
    if isinstance(mode, int) and not isinstance(mode, bool):
        return int(_ffi.CohortsMode(mode))
    try:
        return int(_MODES[mode.lower()])
    except (KeyError, AttributeError):
        raise ValueError(f'mode: expected one of {list(_MODES)}, got {mode!r}') from None


def _unit_name(unit):
    for k, v in _UNITS.items():
        if v == unit:
            return k
    return unit


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------

def period_index(t, unit='month', utc_offset=0):
    """The period index of time ``t`` (epoch seconds or an aware datetime):
    whole periods between the period of local 1970-01-01 and the period of
    ``t + utc_offset`` (negative before it). Units: 'day', 'week' (ISO 8601,
    Monday start), 'month', 'quarter', 'year'. RangeError outside years
    1..9999; InvalidArgument for |utc_offset| > 18 h."""
    out = c_int64()
    _ffi.scrm_period_index(byref(out), to_epoch(t, 't'), _unit(unit), utc_offset)
    return out.value


def period_start(index, unit='month', utc_offset=0):
    """The time (epoch seconds, UTC) at which period ``index`` starts: local
    midnight of its first day minus ``utc_offset``. The exact inverse of
    period_index: period_start(i) <= t < period_start(i + 1) for i =
    period_index(t)."""
    out = c_int64()
    _ffi.scrm_period_start(byref(out), index, _unit(unit), utc_offset)
    return out.value


def period_label(index, unit='month'):
    """The label of period ``index``: '2017-03-14', '2017-W09' (ISO year),
    '2017-03', '2017-Q1' or '2017'."""
    buf = ctypes.create_string_buffer(_ffi.SCRM_PERIOD_LABEL_MAX)
    _ffi.scrm_period_label(buf, len(buf), index, _unit(unit))
    return buf.value.decode('ascii')


# ---------------------------------------------------------------------------
# Formatting shared with the C and Node examples and `shopcrm cohorts --out`
# ---------------------------------------------------------------------------

def format_money(minor, minor_digits=2):
    """Exact major units of integer minor units, with the currency's minor
    digits (scrm_money_print): -1234 -> '-12.34'; with 0 digits 1500 ->
    '1500', with 3 digits 1500 -> '1.500'."""
    buf = ctypes.create_string_buffer(_ffi.SCRM_MONEY_TEXT_MAX)
    _ffi.scrm_money_print(buf, len(buf), int(minor), minor_digits)
    return buf.value.decode('ascii')


def format_rate(x):
    """The shortest of printf's %.15g, %.16g, %.17g that reads back as the
    same double (0.5 -> '0.5', 1.0 -> '1'), as `shopcrm cohorts --out`
    writes rates; '' for NaN (an empty cohort). Python's % formatting rounds
    exactly as C's printf does."""
    if math.isnan(x):
        return ''
    for p in (15, 16, 17):
        s = '%.*g' % (p, x)
        if float(s) == x:
            break
    return s


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

class Cohorts(CohortsColumns, Handle):
    """Cohort matrices (C: scrm_cohorts): ``rows`` cohorts (C) × ``cols``
    periods since acquisition (K).

    With numpy, the matrices ``active``, ``orders`` (uint64), ``revenue``
    (int64, minor units), ``retention``, ``ltv`` (minor units per acquired
    customer), ``cum_orders`` (float64, NaN where not observable) are
    read-only 2-D arrays of shape (C, K) over the library's memory (no copy)
    and ``sizes`` a 1-D uint64 array of C; each keeps the C result alive, so
    it stays valid after close(). Without numpy they are lists of rows. The
    accessors come from shopcrm._columns (generated from the @scrm_shape
    declarations of cohorts.h)."""

    _what = 'cohort result'

    def __init__(self, ptr, minor_digits=2):
        super().__init__(ptr, _ffi.scrm_cohorts_free)
        self._cache = {}
        #: The dataset's currency minor digits (write_csv's major units).
        self.minor_digits = minor_digits
        self.rows = _ffi.scrm_cohorts_count(ptr)
        self.cols = _ffi.scrm_cohorts_periods(ptr)
        self.unit = _unit_name(_ffi.scrm_cohorts_unit(ptr))
        #: Period index of cohort 0.
        self.first_period = _ffi.scrm_cohorts_first_period(ptr)
        end = _ffi.scrm_cohorts_observation_end(ptr)
        #: Period index of the last observed period, or None.
        self.observation_end = None if end == -2**63 else end
        #: True when the data stops before the last observed period ends
        #: (scrm_cohorts_last_partial): its cells, c + k = K - 1, are partial.
        self.last_partial = bool(_ffi.scrm_cohorts_last_partial(ptr))
        #: How many periods at the end are not observed to their end
        #: (scrm_cohorts_partial_periods): cells with c + k >= cols - n.
        self.partial_periods = _ffi.scrm_cohorts_partial_periods(ptr)
        self.labels = [self._label(c) for c in range(self.rows)]

    def _label(self, c):
        buf = ctypes.create_string_buffer(_ffi.SCRM_PERIOD_LABEL_MAX)
        with self._read() as p:
            _ffi.scrm_cohorts_label(buf, len(buf), p, c)
        return buf.value.decode('ascii')

    @property
    def shape(self):
        """(C, K)."""
        return (self.rows, self.cols)

    def __len__(self):
        return self.rows

    def close(self):
        self._cache = {}
        super().close()

    def observable(self, cohort, period):
        """True when cell (cohort, period) lies at or before the observation end."""
        cohort, period = index_arg(cohort, 'cohort'), index_arg(period, 'period')
        return 0 <= cohort < self.rows and 0 <= period and cohort + period <= self.cols - 1

    # -- conversions ---------------------------------------------------------

    def to_pandas(self, metric='retention'):
        """One metric as a DataFrame: index = cohort labels ('cohort'),
        columns = periods since acquisition 0..K-1 ('period').

        Option (default shown): metric='retention' (share 0..1); also
        'active' (customers), 'orders', 'revenue' (minor money units), 'ltv'
        (minor units per customer), 'cum_orders' (orders per customer)."""
        if pd is None:
            raise ImportError('to_pandas() needs pandas')
        if metric not in METRICS:
            raise ValueError(f'metric: expected one of {list(METRICS)}, got {metric!r}')
        data = np.asarray(getattr(self, metric))
        df = pd.DataFrame(data.reshape(self.rows, self.cols),
                          index=pd.Index(self.labels, name='cohort'),
                          columns=pd.RangeIndex(self.cols, name='period'))
        return df

    def to_long(self, as_frame=None):
        """The observable cells in long form, cohort by cohort then period:
        dicts with LONG_COLUMNS (revenue in minor units, retention NaN for an
        empty cohort, partial True for the cells of a partial last period). A DataFrame when pandas is available (or as_frame=True),
        a list of dicts otherwise (or as_frame=False)."""
        if as_frame is None:
            as_frame = pd is not None
        sizes = [int(s) for s in self.sizes]
        act, ords, rev, ret = self.active, self.orders, self.revenue, self.retention
        rows = []
        for c in range(self.rows):
            for k in range(self.cols - c):
                rows.append({'cohort': self.labels[c], 'period': k, 'cohort_size': sizes[c],
                             'active_customers': int(act[c][k]), 'orders': int(ords[c][k]),
                             'revenue': int(rev[c][k]), 'retention': float(ret[c][k]),
                             'partial': c + k + self.partial_periods >= self.cols})
        if as_frame:
            if pd is None:
                raise ImportError('to_long(as_frame=True) needs pandas')
            return pd.DataFrame(rows, columns=list(LONG_COLUMNS))
        return rows

    def write_csv(self, path, minor_digits=None):
        """Write the long form as CSV: ``cohort,period,cohort_size,
        active_customers,orders,revenue,retention,partial``, revenue in major units
        (exact, with ``minor_digits`` decimals: by default the dataset's,
        2 for cents), retention as format_rate() writes it (empty for an
        empty cohort), partial 1 for the cells of a partial last period; the format of `shopcrm cohorts --out`
        (docs/cohorts.md), written by scrm_cohorts_write_csv()."""
        digits = self.minor_digits if minor_digits is None else minor_digits
        path = fspath(path)
        with self._read() as p:
            _ffi.scrm_cohorts_write_csv(p, path, digits)

    def merge(self, other):
        """The result of the union of two datasets with disjoint customers,
        computed with the same options (InvalidArgument otherwise)."""
        if not isinstance(other, Cohorts):
            raise TypeError('merge: expected a Cohorts result')
        out = _ffi._CohortsP()
        with self._read() as a, other._read() as b:
            _ffi.scrm_cohorts_merge(byref(out), a, b)
        return Cohorts(out, self.minor_digits)

    def __repr__(self):
        if self.closed:
            return '<shopcrm.Cohorts closed>'
        return (f'<shopcrm.Cohorts {self.rows} {self.unit} cohorts x {self.cols} periods, '
                f'first {self.labels[0] if self.labels else None}>')


def _acquisition(ds, acquisition):
    """An int64 array of one acquisition time per customer index."""
    n = ds.customers
    missing = _ffi.SCRM_COHORTS_ALL  # INT64_MIN: not acquired
    if isinstance(acquisition, Mapping):
        vals = [missing] * n
        for key, t in acquisition.items():
            vals[ds.index(key)] = missing if t is None else to_epoch(t, f'acquisition[{key!r}]')
    else:
        if seq_len(acquisition, 'acquisition') != n:
            raise ValueError(f'acquisition: {len(acquisition)} times for {n} customers')
        if np is not None and isinstance(acquisition, np.ndarray) and \
                acquisition.dtype.kind in 'iuM':
            arr = acquisition
            if arr.dtype.kind == 'M':
                arr = arr.astype('datetime64[s]').astype(np.int64)
            arr = np.ascontiguousarray(arr, dtype=np.int64)
            return arr.ctypes.data_as(ctypes.POINTER(c_int64)), arr
        vals = [missing if t is None else to_epoch(t, f'acquisition[{i}]')
                for i, t in enumerate(acquisition)]
    buf = (c_int64 * max(n, 1))(*vals)
    return ctypes.cast(buf, ctypes.POINTER(c_int64)), buf


def compute(ds, period='month', mode='classic', start=None, end=None, utc_offset=0,
            min_amount=0, refunds=False, acquisition=None, threads=0, progress=None):
    """Cohort matrices of ``ds`` (definitions: include/shopcrm/cohorts.h).

    period: 'day', 'week' (ISO), 'month', 'quarter' or 'year'. mode:
    'classic' (active in period k) or 'rolling' (in period k or later).
    start, end: the window [start, end) (epoch seconds or aware datetimes;
    None: unbounded). utc_offset: seconds added to times before taking
    periods. min_amount: smallest amount (minor units) of a counted order.
    refunds: whether refunds count in revenue. acquisition: None (the first
    counted order) or one time per customer: a sequence in customer index
    order or a mapping {customer key: time}; None / missing = not acquired.
    progress(done, total): see Dataset.rfm."""
    ds._p()
    opts = init_options(_ffi.CohortsOptions, _ffi.scrm_cohorts_options_init)
    opts.unit = _unit(period)
    opts.mode = _mode(mode)
    opts.start = _ffi.SCRM_COHORTS_ALL if start is None else to_bound(start, 'start')
    opts.end = _ffi.SCRM_COHORTS_ALL if end is None else to_bound(end, 'end')
    opts.utc_offset = utc_offset
    opts.min_amount = min_amount
    opts.refunds = 1 if flag(refunds, 'refunds') else 0
    opts.threads = threads
    keep = None
    if acquisition is not None:
        opts.acquisition, keep = _acquisition(ds, acquisition)
        opts.acquisition_count = ds.customers
        _ffi.check_lengths(opts, {'acquisition': len(keep)})  # @scrm_len{acquisition_count}
    prog = Progress(progress)
    prog.install(opts)
    out = _ffi._CohortsP()
    with ds._read() as dsp:  # pinned; appends wait until the call returns
        prog.call(_ffi.scrm_cohorts_compute, byref(out), dsp, byref(opts))
        digits = _ffi.scrm_dataset_minor_digits(dsp)
    del keep
    return Cohorts(out, digits)


__all__ = ['Cohorts', 'compute', 'period_index', 'period_start', 'period_label', 'METRICS',
           'LONG_COLUMNS', 'format_money', 'format_rate']
