"""RFM scoring, segment maps, summaries and audiences (shopcrm/rfm.h)."""

import ctypes
from ctypes import POINTER, byref, c_double, c_int32, c_uint32, c_uint64

from . import _ffi
from ._columns import RfmColumns
from ._util import (Handle, Progress, Use, bounds_arg, closed_error, decode, encode, fspath,
                    init_options, np, pd, real_arg, to_bound)
from .errors import InvalidArgument, StateError

_METHODS = {'quantile': _ffi.RfmMethod.QUANTILE, 'ntile': _ffi.RfmMethod.NTILE,
            'fixed': _ffi.RfmMethod.FIXED}
_FREQ = {'orders': _ffi.RfmFrequencyMode.ORDERS, 'days': _ffi.RfmFrequencyMode.DAYS}
_MONEY = {'sum': _ffi.RfmMonetaryMode.SUM, 'mean': _ffi.RfmMonetaryMode.MEAN}
_DIMS = (('r', _ffi.RfmDim.R), ('f', _ffi.RfmDim.F), ('m', _ffi.RfmDim.M))


def _pick(table, value, what):
    try:
        return int(table[value])
    except (KeyError, TypeError):
        raise ValueError(f'{what}: expected one of {sorted(table)}, got {value!r}') from None


class SegmentMap(Handle):
    """An ordered list of segment rules, first match wins (C: scrm_segment_map).

    ``SegmentMap()`` is empty; ``SegmentMap.preset('rfm11-v1')`` holds a
    named, versioned preset (``SegmentMap.preset_names()`` lists them)."""

    _what = 'segment map'

    def __init__(self, _ptr=None, _owner=None):
        if _ptr is None:
            p = _ffi._SegmentMapP()
            _ffi.scrm_segment_map_new(byref(p))
            super().__init__(p, _ffi.scrm_segment_map_free)
        else:
            # A map borrowed from an Rfm result: keeps the result alive, never freed here.
            self._res = _owner
            self._borrowed = _ptr

    def _p(self):
        if self._res is None:
            raise closed_error(self._what)
        return getattr(self, '_borrowed', None) or self._res.ptr

    def _read(self):
        res = self._resource()
        return Use(res, False, getattr(self, '_borrowed', None))

    def _write(self):
        if getattr(self, '_borrowed', None) is not None:
            raise StateError(_ffi.SCRM_ESTATE, 'this segment map belongs to an RFM result '
                             'and is read-only; add to a copy()')
        return self._resource().write()

    @classmethod
    def preset(cls, name):
        """A new map holding the preset ``name`` (NotFound if there is none)."""
        p = _ffi._SegmentMapP()
        _ffi.scrm_segment_map_preset(byref(p), encode(name, 'name'))
        m = cls.__new__(cls)
        Handle.__init__(m, p, _ffi.scrm_segment_map_free)
        return m

    @staticmethod
    def preset_names():
        """The names of the presets this library knows."""
        out, i = [], 0
        while True:
            n = _ffi.scrm_segment_map_preset_name(i)
            if n is None:
                return out
            out.append(decode(n))
            i += 1

    def add(self, name, r=(1, 10), f=(1, 10), m=(1, 10)):
        """Append a rule: customers with r[0] <= R <= r[1], same for F and M.
        A bare int means lo == hi. Returns self."""
        b = []
        for what, v in (('r', r), ('f', f), ('m', m)):
            lo, hi = bounds_arg(v, what)
            if isinstance(lo, int) and isinstance(hi, int) and (lo < 0 or hi < 0):
                raise InvalidArgument(_ffi.SCRM_EINVAL, f'{what}: bounds must be 1..10')
            b += [lo, hi]
        name = encode(name, 'name')
        with self._write() as p:  # no analysis may read the map meanwhile
            _ffi.scrm_segment_map_add(p, name, *b)
        return self

    def copy(self):
        """An independent copy of this map."""
        p = _ffi._SegmentMapP()
        with self._read() as src:
            _ffi.scrm_segment_map_copy(byref(p), src)
        m = SegmentMap.__new__(SegmentMap)
        Handle.__init__(m, p, _ffi.scrm_segment_map_free)
        return m

    def __len__(self):
        with self._read() as p:
            return _ffi.scrm_segment_map_count(p)

    @property
    def names(self):
        """Segment names in rule order."""
        with self._read() as p:
            return [decode(_ffi.scrm_segment_map_name(p, i))
                    for i in range(_ffi.scrm_segment_map_count(p))]

    def rule(self, index):
        """((r_lo, r_hi), (f_lo, f_hi), (m_lo, m_hi)) of segment ``index``."""
        b = (c_uint32 * 6)()
        with self._read() as p:
            _ffi.scrm_segment_map_rule(b, p, index)
        return ((b[0], b[1]), (b[2], b[3]), (b[4], b[5]))

    def find(self, name):
        """Index of the segment called ``name`` (NotFound if absent)."""
        i = c_uint32()
        name = encode(name, 'name')
        with self._read() as p:
            _ffi.scrm_segment_map_find(byref(i), p, name)
        return i.value

    @property
    def bins(self):
        """The number of bins the map was designed for (0 = any)."""
        with self._read() as p:
            return _ffi.scrm_segment_map_bins(p)

    def match(self, r, f, m):
        """Name of the first rule matching the scores, or None."""
        with self._read() as p:
            i = _ffi.scrm_segment_map_match(p, r, f, m)
            return None if i < 0 else decode(_ffi.scrm_segment_map_name(p, i))

    def __repr__(self):
        if self.closed:
            return '<shopcrm.SegmentMap closed>'
        return f'<shopcrm.SegmentMap {self.names!r}>'


def compute(ds, bins=5, method='quantile', as_of=None, utc_offset=0, frequency='orders',
            monetary='sum', edges=None, segments='default', threads=0, progress=None):
    """RFM scores and segments of every customer of ``ds`` (see rfm.h for the
    exact definitions).

    bins: N, 2..10. method: 'quantile', 'ntile' or 'fixed' (then ``edges`` =
    {'r': [...], 'f': [...], 'm': [...]}, N-1 ascending values each). as_of:
    None (the start of the day after the last order), epoch seconds or an
    aware datetime. frequency: 'orders' or 'days'; monetary: 'sum' or 'mean'.
    segments: 'default' ("rfm11-v2" when bins is 5, none otherwise), a preset
    name, a SegmentMap, or None (no segments: everyone unassigned).
    progress(done, total): called with partitions aggregated; raise to cancel
    (the exception is re-raised), or return False (shopcrm.Cancelled)."""
    ds._p()
    opts = init_options(_ffi.RfmOptions, _ffi.scrm_rfm_options_init)
    opts.bins = bins
    opts.method = _pick(_METHODS, method, 'method')
    opts.frequency_mode = _pick(_FREQ, frequency, 'frequency')
    opts.monetary_mode = _pick(_MONEY, monetary, 'monetary')
    opts.as_of = _ffi.SCRM_RFM_AS_OF_DEFAULT if as_of is None else to_bound(as_of, 'as_of')
    opts.utc_offset = utc_offset
    opts.threads = threads
    keep = []
    if edges is not None:
        if not isinstance(edges, dict) or set(edges) - {'r', 'f', 'm'}:
            raise ValueError("edges: expected a dict with keys 'r', 'f', 'm'")
        given = {}
        for k, v in edges.items():
            vals = [real_arg(x, f'edges.{k}[{i}]') for i, x in enumerate(v)]
            arr = (c_double * max(len(vals), 1))(*vals)
            keep.append(arr)
            setattr(opts, k + '_edges', ctypes.cast(arr, POINTER(c_double)))
            given[k + '_edges'] = len(vals)
        # the lengths the header declares (@scrm_len{bins - 1})
        _ffi.check_lengths(opts, given)
    smap = None
    if isinstance(segments, SegmentMap):
        smap = segments
    elif segments is None:
        smap = SegmentMap()
    elif segments != 'default':
        smap = SegmentMap.preset(segments)
    prog = Progress(progress)
    prog.install(opts)
    out = _ffi._RfmP()
    ds_use = ds._read()  # pins the dataset and keeps appends out until the call returns
    with ds_use as dsp, (smap._read() if smap is not None else _NO_USE) as smp:
        if smap is not None:
            opts.segments = smp
        prog.call(_ffi.scrm_rfm_compute, byref(out), dsp, byref(opts))
    return Rfm(out, ds, ds_use.res)


_STATS = (('share', _ffi.RfmStat.SHARE), ('mean_r', _ffi.RfmStat.MEAN_R),
          ('mean_f', _ffi.RfmStat.MEAN_F), ('mean_m', _ffi.RfmStat.MEAN_M),
          ('mean_recency_days', _ffi.RfmStat.MEAN_RECENCY),
          ('mean_frequency', _ffi.RfmStat.MEAN_FREQUENCY),
          ('mean_monetary', _ffi.RfmStat.MEAN_MONETARY))


class _NoUse:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NO_USE = _NoUse()


class Rfm(RfmColumns, Handle):
    """An RFM result (C: scrm_rfm). Columns are indexed by customer index.

    With numpy, the columns are read-only numpy arrays over the library's
    memory (no copy); each keeps the C result alive through its ``base``
    chain, so it stays valid after this object is closed or collected.
    Without numpy they are lists (copies). The columns ``recency_days``,
    ``frequency``, ``monetary``, ``revenue``, ``scores(dim)``,
    ``segment_customers``, ``segment_revenue``, ``segment_stat(stat)`` come
    from shopcrm._columns (generated from the header declarations)."""

    _what = 'RFM result'

    def __init__(self, ptr, dataset, dataset_res=None):
        super().__init__(ptr, _ffi.scrm_rfm_free)
        #: The Dataset scored (its keys name the customers).
        self.dataset = dataset
        # The result borrows the dataset (keys, CSV writers): it holds the
        # dataset's C handle itself, so closing the Dataset meanwhile only
        # defers its free until this result is closed or collected.
        self._ds_res = dataset_res if dataset_res is not None else dataset._resource()
        self._cache = {}

    def close(self):
        self._cache = {}
        self._ds_res = None
        super().close()

    def _dataset_read(self):
        res = self._ds_res
        if res is None:
            raise closed_error(self._what)
        return res

    def __len__(self):
        with self._read() as p:
            return _ffi.scrm_rfm_customer_count(p)

    @property
    def customers(self):
        """Number of customers (the length of every column)."""
        return len(self)

    @property
    def scored(self):
        """Number of customers scored: those with an order before as_of. The
        others have scores 0 and segment -2 (not scored)."""
        with self._read() as p:
            return _ffi.scrm_rfm_scored_count(p)

    @property
    def refund_only(self):
        """{'customers': n, 'revenue': sum}: the customers with refunds but no
        order before as_of (not scored) and their refunds (exact minor units)."""
        with self._read() as p:
            return {'customers': _ffi.scrm_rfm_refund_only_count(p),
                    'revenue': _ffi.scrm_rfm_refund_only_revenue(p)}

    @property
    def rows_after_as_of(self):
        """Rows at or after an explicit as_of, left out of the snapshot."""
        with self._read() as p:
            return _ffi.scrm_rfm_rows_after_as_of(p)

    @property
    def has_monetary(self):
        """False for a dataset without amounts: no M dimension (monetary NaN,
        M scores 0)."""
        with self._read() as p:
            return bool(_ffi.scrm_rfm_has_monetary(p))

    @property
    def degenerate(self):
        """{'r': (flags, majority_share), 'f': ..., 'm': ...}: flags 1 = one
        value held by more than half of the scored customers (its share is
        majority_share, else 0), 2 = the edges collapse (docs/rfm.md)."""
        with self._read() as p:
            return {k: (_ffi.scrm_rfm_degenerate(p, d), _ffi.scrm_rfm_majority_share(p, d))
                    for k, d in _DIMS}

    @property
    def bins(self):
        with self._read() as p:
            return _ffi.scrm_rfm_bins(p)

    @property
    def as_of(self):
        """The as_of time used, epoch seconds."""
        with self._read() as p:
            return _ffi.scrm_rfm_as_of(p)

    @property
    def r(self):
        """The R (recency) score of each customer. Unit: score, 1..bins (uint8)."""
        return self._c_scores(_ffi.RfmDim.R)

    @property
    def f(self):
        """The F (frequency) score of each customer. Unit: score, 1..bins (uint8)."""
        return self._c_scores(_ffi.RfmDim.F)

    @property
    def m(self):
        """The M (monetary) score of each customer. Unit: score, 1..bins (uint8)."""
        return self._c_scores(_ffi.RfmDim.M)

    @property
    def segment(self):
        """Segment of each customer. Unit: segment index into segment_names
        (-1: unassigned, -2: not scored)."""
        return self._c_segments()

    @property
    def edges(self):
        """{'r': ..., 'f': ..., 'm': ...}: the bins-1 edges used per dimension."""
        return {k: self._c_edges(d) for k, d in _DIMS}

    @property
    def segment_map(self):
        """The segment map used (borrowed from the result)."""
        use = self._read()
        with use as p:
            return SegmentMap(_ffi.scrm_rfm_segment_map(p), use.res)

    @property
    def segment_names(self):
        return self.segment_map.names

    @property
    def unassigned(self):
        """Number of customers no rule matched."""
        with self._read() as p:
            return _ffi.scrm_rfm_unassigned_count(p)

    def segment_labels(self):
        """The segment name of each customer (None when unassigned or not
        scored), as a list."""
        names = self.segment_names
        return [names[s] if s >= 0 else None for s in self.segment]

    def keys(self):
        """The customer keys, in customer index order (see Dataset.keys)."""
        from .dataset import keys_of
        return keys_of(self._dataset_read(), self.dataset._keys, len(self))

    # -- summaries -----------------------------------------------------------

    def segments(self, as_frame=False):
        """Per-segment summary, one entry per segment in map order then one for
        the unassigned (name None): name, customers, share, revenue (exact
        minor units), mean_r, mean_f, mean_m, mean_recency_days,
        mean_frequency, mean_monetary (NaN for an empty segment). A list of
        dicts, or a pandas DataFrame with as_frame=True."""
        names = self.segment_names + [None]
        cust = self._c_segment_customers()
        rev = self._c_segment_revenue()
        stats = {n: self._c_segment_stat(s) for n, s in _STATS}
        rows = []
        for i in range(len(names)):
            row = {'name': names[i], 'customers': int(cust[i]),
                   'share': float(stats['share'][i]), 'revenue': int(rev[i])}
            for n, _ in _STATS[1:]:
                row[n] = float(stats[n][i])
            rows.append(row)
        if as_frame:
            if pd is None:
                raise ImportError('segments(as_frame=True) needs pandas')
            return pd.DataFrame(rows, columns=list(rows[0]))
        return rows

    def to_pandas(self, money='major', index=False):
        """A DataFrame, one row per customer in customer index order.

        Options (defaults shown): money='major' ('minor'), index=False.

        Columns and their units: customer (key), recency_days (days: whole
        days before as_of), frequency (orders, or days with an order with
        frequency='days'), monetary (money: major units, e.g. dollars, by
        default; minor units with money='minor'; the sum or the mean per
        the monetary mode), r, f, m (scores 1..bins), segment (categorical
        of the segment names; NaN when unassigned or not scored: those have
        scores 0).

        money: 'major' (default: monetary in major units, e.g. dollars, with
        the dataset's minor digits, as the CLI and the CSV export write it,
        float64) or 'minor' (the C column: minor units, e.g. cents).
        index: True to index the frame by customer (lifetimes-style) instead
        of a customer column."""
        if pd is None:
            raise ImportError('to_pandas() needs pandas')
        if money not in ('major', 'minor'):
            raise ValueError(f"money: expected 'major' or 'minor', got {money!r}")
        names = self.segment_names
        codes = np.maximum(np.asarray(self.segment, dtype=np.int64), -1)  # -2: not scored
        seg = pd.Categorical.from_codes(codes, categories=names) if names else \
            pd.Categorical([None] * len(self))
        monetary = np.asarray(self.monetary, dtype=np.float64)
        if money == 'major':
            with self._dataset_read().read() as dsp:
                digits = _ffi.scrm_dataset_minor_digits(dsp)
            monetary = monetary / 10 ** digits
        df = pd.DataFrame({
            'customer': self.keys(),
            'recency_days': self.recency_days,
            'frequency': self.frequency,
            'monetary': monetary,
            'r': self.r, 'f': self.f, 'm': self.m,
            'segment': seg,
        })
        return df.set_index('customer') if index else df

    # -- audiences -----------------------------------------------------------

    def _segment_ids(self, segments):
        if isinstance(segments, (str, bytes)) or segments is None:
            segments = [segments]
        smap = self.segment_map
        ids = [-1 if s is None else smap.find(s) for s in segments]
        return (c_int32 * max(len(ids), 1))(*ids), len(ids)

    def audience_indices(self, segments):
        """Customer indices (ascending) of the named segments; None names the
        unassigned. NotFound for an unknown name."""
        ids, n = self._segment_ids(segments)
        count = c_uint64()
        with self._read() as p:
            _ffi.scrm_rfm_audience(None, 0, byref(count), p, ids, n)
            buf = (c_uint32 * max(count.value, 1))()
            _ffi.scrm_rfm_audience(buf, count.value, byref(count), p, ids, n)
        if np is not None:
            return np.frombuffer(buf, dtype=np.uint32, count=count.value).copy()
        return list(buf[:count.value])

    def audience(self, segments):
        """The keys of the customers of the named segments (ascending index)."""
        idx = self.audience_indices(segments)
        keys = self.keys()
        if np is not None and isinstance(keys, np.ndarray):
            return keys[idx]
        return [keys[i] for i in idx]

    def write_csv(self, path):
        """Write every customer as CSV (see scrm_rfm_write_csv)."""
        path = fspath(path)
        with self._read() as p, self._dataset_read().read() as dsp:
            _ffi.scrm_rfm_write_csv(p, dsp, path)

    def write_audience_csv(self, path, segments):
        """Write the customers of the named segments as CSV `customer,segment`."""
        ids, n = self._segment_ids(segments)
        path = fspath(path)
        with self._read() as p, self._dataset_read().read() as dsp:
            _ffi.scrm_rfm_audience_write_csv(p, dsp, ids, n, path)

    def __repr__(self):
        if self.closed:
            return '<shopcrm.Rfm closed>'
        return f'<shopcrm.Rfm {len(self)} customers, {self.bins} bins>'


__all__ = ['Rfm', 'SegmentMap', 'compute']
