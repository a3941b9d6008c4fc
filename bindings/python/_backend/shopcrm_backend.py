"""A PEP 517 build backend for the shopcrm package, in the source tree.

`pip install ./bindings/python` must work offline, and pip's default build
isolation would first download setuptools and wheel from an index. The
package is pure Python (it loads libshopcrm with ctypes), so a wheel is just
a zip of the package plus its metadata (PEP 427, the wheel format; PEP 566 /
core metadata 2.1; PEP 376 RECORD), which the standard library can write.
Nothing here is needed at run time.
"""
import base64
import hashlib
import os
import zipfile

NAME = 'shopcrm'
VERSION = '1.0.0'
SUMMARY = 'E-commerce customer analytics (RFM, KPIs) over libshopcrm, via ctypes'
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)                 # bindings/python
PACKAGE = os.path.join(ROOT, NAME)
TAG = 'py3-none-any'
DIST_INFO = f'{NAME}-{VERSION}.dist-info'


def _metadata():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    return (f'Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n'
            f'Summary: {SUMMARY}\nLicense: MIT\nRequires-Python: >=3.9\n'
            'Provides-Extra: numpy\nRequires-Dist: numpy; extra == "numpy"\n'
            'Provides-Extra: pandas\nRequires-Dist: numpy; extra == "pandas"\n'
            'Requires-Dist: pandas; extra == "pandas"\n'
            'Classifier: License :: OSI Approved :: MIT License\n'
            'Classifier: Programming Language :: Python :: 3\n'
            'Classifier: Operating System :: POSIX :: Linux\n'
            'Description-Content-Type: text/markdown\n\n' + readme)


def _wheel_file():
    return (f'Wheel-Version: 1.0\nGenerator: {NAME}_backend\nRoot-Is-Purelib: true\n'
            f'Tag: {TAG}\n')


def _package_files():
    """The package's files: its modules and, if present, a bundled libshopcrm.so.1."""
    for name in sorted(os.listdir(PACKAGE)):
        path = os.path.join(PACKAGE, name)
        if os.path.isfile(path) and (name.endswith('.py') or name == 'libshopcrm.so.1'):
            yield f'{NAME}/{name}', path


def _digest(data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    return f'sha256={h}'


def _write_wheel(wheel_directory):
    filename = f'{NAME}-{VERSION}-{TAG}.whl'
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), 'w',
                         zipfile.ZIP_DEFLATED) as z:
        def add(arcname, data):
            z.writestr(arcname, data)
            record.append(f'{arcname},{_digest(data)},{len(data)}')
        for arcname, path in _package_files():
            with open(path, 'rb') as f:
                add(arcname, f.read())
        add(f'{DIST_INFO}/METADATA', _metadata().encode())
        add(f'{DIST_INFO}/WHEEL', _wheel_file().encode())
        record.append(f'{DIST_INFO}/RECORD,,')
        z.writestr(f'{DIST_INFO}/RECORD', '\n'.join(record) + '\n')
    return filename


# ---- PEP 517 hooks ----

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'METADATA'), 'w', encoding='utf-8') as f:
        f.write(_metadata())
    with open(os.path.join(d, 'WHEEL'), 'w', encoding='utf-8') as f:
        f.write(_wheel_file())
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory)
