"""Exceptions raised by shopcrm.

Every negative code returned by the C library becomes an exception of the
subclass of :class:`Error` for that code (docs/errors.md lists them):

=====================  =================  ========================================
C code                 Python class       also a subclass of
=====================  =================  ========================================
SCRM_EINVAL (-1)       InvalidArgument    ValueError
SCRM_ENOMEM (-2)       OutOfMemory        MemoryError
SCRM_EPARSE (-3)       ParseError         ValueError
SCRM_EIO (-4)          IOError_           OSError (the trailing _ avoids the builtin)
SCRM_EOVERFLOW (-5)    Overflow           OverflowError
SCRM_ENOTFOUND (-6)    NotFound           LookupError
SCRM_EVERSION (-7)     VersionError
SCRM_ECANCELLED (-8)   Cancelled
SCRM_ERANGE (-9)       RangeError         ValueError
SCRM_ESTATE (-10)      StateError
=====================  =================  ========================================

An unknown code gives a plain :class:`Error`. Each exception carries
``code`` (the negative int), ``strerror`` (scrm_strerror(code)), ``message``
(scrm_last_error(), read on the calling thread right after the failing call)
and ``index`` (scrm_last_error_index(): the 0-based row of an append, the
1-based line of a CSV load, or None).
"""


class Error(Exception):
    """A libshopcrm failure: ``code``, ``strerror``, ``message``, ``index``."""

    def __init__(self, code, message='', strerror=None, index=None):
        code = int(code)
        strerror = strerror if strerror is not None else _strerror(code)
        message = message or ''
        super().__init__(f'{strerror}: {message}' if message else strerror)
        # Set after the base __init__: OSError's own strerror slot is reset by it.
        self.code = code
        self.strerror = strerror
        self.message = message
        self.index = index

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.strerror, self.index))


class InvalidArgument(Error, ValueError):
    """SCRM_EINVAL: an argument or option is invalid."""


class OutOfMemory(Error, MemoryError):
    """SCRM_ENOMEM: an allocation failed."""


class ParseError(Error, ValueError):
    """SCRM_EPARSE: input text could not be parsed (``index`` is the CSV line)."""


class IOError_(Error, OSError):  # noqa: N801 (the name IOError is a builtin alias of OSError)
    """SCRM_EIO: a file could not be opened, read or written."""


class Overflow(Error, OverflowError):
    """SCRM_EOVERFLOW: an exact sum or count does not fit its type."""


class NotFound(Error, LookupError):
    """SCRM_ENOTFOUND: the key, name, index or preset does not exist."""


class VersionError(Error):
    """SCRM_EVERSION: an options struct version this library does not know."""


class Cancelled(Error):
    """SCRM_ECANCELLED: the progress callback asked to stop."""


class RangeError(Error, ValueError):
    """SCRM_ERANGE: a value is outside the range the library handles."""


class StateError(Error):
    """SCRM_ESTATE: the call is not allowed in the handle's current state."""


_BY_CODE = {
    -1: InvalidArgument, -2: OutOfMemory, -3: ParseError, -4: IOError_, -5: Overflow,
    -6: NotFound, -7: VersionError, -8: Cancelled, -9: RangeError, -10: StateError,
}


def _strerror(code):
    from . import _ffi
    return _ffi.scrm_strerror(int(code)).decode('utf-8', 'replace')


def error_from_code(code, message=None, index=None):
    """The exception for a negative code; message and index default to the
    calling thread's scrm_last_error() / scrm_last_error_index()."""
    from . import _ffi
    if message is None:
        raw = _ffi.scrm_last_error()
        message = raw.decode('utf-8', 'replace') if raw else ''
        idx = _ffi.scrm_last_error_index()
        index = None if idx < 0 else idx
    cls = _BY_CODE.get(int(code), Error)
    return cls(code, message, _strerror(code), index)


def _check(result, func, args):
    """ctypes errcheck of the fallible functions: raise on a negative result."""
    if result < 0:
        raise error_from_code(result)
    return result
