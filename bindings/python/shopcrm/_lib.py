"""Finding and loading libshopcrm.so.

Search order:
1. the environment variable ``SHOPCRM_LIBRARY``: a path to the shared library
   (tests and uninstalled builds use it);
2. ``libshopcrm.so.1`` next to this package (a wheel or directory that bundles
   the library);
3. the library directory of the ``meson install`` that installed this
   package: ``_install.LIBDIR``, written by bindings/meson.build at configure
   time (absent from the source tree and from a pip install);
4. the system: ``ctypes.util.find_library('shopcrm')`` (ldconfig's cache,
   LD_LIBRARY_PATH), then the SONAME ``libshopcrm.so.1`` through the dynamic
   loader's own search.
An ImportError saying what was tried is raised when none works.
"""

import ctypes
import ctypes.util
import os

SONAME = 'libshopcrm.so.1'


def _load():
    tried = []
    env = os.environ.get('SHOPCRM_LIBRARY')
    if env:
        try:
            return ctypes.CDLL(env), env
        except OSError as e:
            raise ImportError(f'shopcrm: cannot load SHOPCRM_LIBRARY={env!r}: {e}') from e
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)
    if os.path.exists(here):
        try:
            return ctypes.CDLL(here), here
        except OSError as e:
            tried.append(f'{here}: {e}')
    else:
        tried.append(f'{here}: not found')
    try:
        from . import _install
    except ImportError:
        _install = None
    if _install is not None:
        inst = os.path.join(_install.LIBDIR, _install.SONAME)
        if os.path.exists(inst):
            try:
                return ctypes.CDLL(inst), inst
            except OSError as e:
                tried.append(f'{inst} (meson install): {e}')
        else:
            tried.append(f'{inst} (meson install): not found')
    found = ctypes.util.find_library('shopcrm')
    for cand in ([found] if found else []) + [SONAME]:
        try:
            return ctypes.CDLL(cand), cand
        except OSError as e:
            tried.append(f'{cand}: {e}')
    if not found:
        tried.append("ctypes.util.find_library('shopcrm'): not found")
    raise ImportError('shopcrm: cannot find the libshopcrm shared library; install it, or set '
                      'SHOPCRM_LIBRARY to the path of libshopcrm.so.1. Tried:\n  '
                      + '\n  '.join(tried))


lib, path = _load()
