"""libshopcrm for Python: e-commerce customer analytics (RFM, KPIs, cohorts, ...).

    import shopcrm
    ds = shopcrm.Dataset.from_csv('orders.csv', customer='customer_id', time='ts',
                                  amount='amount')
    rfm = ds.rfm(bins=5, method='ntile')
    print(rfm.segments(as_frame=True))

Layers: this package is the idiomatic API; ``shopcrm._ffi`` holds the
generated ctypes declaration of every C function (bindings/gen/generate.py).
Guide: docs/python.md.

``scrm_set_allocator`` is not wrapped: routing the library's allocations
through Python callbacks would run Python code, with the GIL, from inside
C worker threads on every allocation, and freeing memory with a different
allocator from the one that allocated it is undefined. It stays reachable as
``shopcrm._ffi.scrm_set_allocator`` for C-implemented allocators only.
"""

from . import _ffi
from ._ffi import (CohortsMode, CsvOnError, ErrorCode, KeyType, KpiFlag, KpiMetric, KpiType,
                   PeriodUnit,
                   RfmDim, RfmFrequencyMode, RfmMethod, RfmMonetaryMode, RfmStat, TimeFormat)
from ._lib import path as library_path
from ._util import have_numpy
from .cohorts import Cohorts, period_index, period_label, period_start
from .dataset import CsvReport, Dataset, Reject
from .errors import (Cancelled, Error, InvalidArgument, IOError_, NotFound, OutOfMemory,
                     Overflow, ParseError, RangeError, StateError, VersionError)
from .kpi import Kpi, KpiPeriods, csat, metric_names, nps
from .rfm import Rfm, SegmentMap

__version__ = _ffi.SCRM_VERSION_STRING


def version():
    """The run-time library's version string, e.g. "1.0.0"."""
    return _ffi.scrm_version().decode()


def version_number():
    """The run-time library's version as MAJOR*10000 + MINOR*100 + PATCH."""
    return _ffi.scrm_version_number()


def strerror(code):
    """The library's description of an error code."""
    return _ffi.scrm_strerror(int(code)).decode()


def order_key(order_id):
    """The 64-bit order key of a string order id (as the CSV loader hashes it)."""
    b = order_id.encode('utf-8') if isinstance(order_id, str) else bytes(order_id)
    return _ffi.scrm_dataset_order_key_from_string(b, len(b))


__all__ = [
    'Dataset', 'CsvReport', 'Reject', 'Rfm', 'SegmentMap', 'Kpi', 'KpiPeriods', 'nps', 'csat',
    'Cohorts',
    'period_index', 'period_start', 'period_label', 'PeriodUnit', 'CohortsMode',
    'metric_names', 'version', 'version_number', 'strerror', 'order_key', 'have_numpy',
    'library_path',
    'Error', 'InvalidArgument', 'OutOfMemory', 'ParseError', 'IOError_', 'Overflow',
    'NotFound', 'VersionError', 'Cancelled', 'RangeError', 'StateError',
    'ErrorCode', 'KeyType', 'TimeFormat', 'CsvOnError', 'KpiMetric', 'KpiType', 'KpiFlag',
    'RfmMethod',
    'RfmFrequencyMode', 'RfmMonetaryMode', 'RfmDim', 'RfmStat',
]
