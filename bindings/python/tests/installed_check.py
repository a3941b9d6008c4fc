#!/usr/bin/env python3
"""The Python package against an INSTALLED libshopcrm, as a user would have it.

1. `meson install --destdir STAGE` (like tests/install_consumer.sh), then the
   library directory from `pkg-config --variable=libdir shopcrm` with the
   staged .pc (PKG_CONFIG_SYSROOT_DIR = STAGE, TOOLCHAIN.md).
2. The package is installed into STAGE/site with
   `python3 -m pip install --no-deps --no-index --target` from a copy of
   bindings/python (so the build leaves nothing in the source tree), with
   pip's build isolation ON: the in-tree backend (_backend/) needs nothing
   from an index, which is what makes `pip install ./bindings/python` work
   offline. When pip is not installed, the package directory is copied
   instead (said in the output).
3. A small program runs in a fresh interpreter, outside the source tree, with
   the library found in each of the three ways of shopcrm/_lib.py:
   SHOPCRM_LIBRARY, libshopcrm.so.1 next to the package, the system search
   (LD_LIBRARY_PATH = the staged libdir); and without any library: a clear
   ImportError.

Usage: installed_check.py MESON BUILD_ROOT SOURCE_ROOT
"""

import os
import shutil
import subprocess
import sys
import tempfile

from install_rfm_check import RFM_CHECK

PROGRAM = r'''
import os, sys, shopcrm
''' + RFM_CHECK + r'''assert shopcrm.__file__.startswith(os.environ['EXPECT_PACKAGE']), shopcrm.__file__
maps = open('/proc/self/maps').read()
assert os.environ['EXPECT_LIBRARY'] in maps, 'library not loaded from ' + os.environ['EXPECT_LIBRARY']
print('ok', shopcrm.version(), shopcrm.library_path)
'''


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        fail(f'{" ".join(cmd)} exited with {res.returncode}:\n{res.stdout}{res.stderr}')
    return res.stdout


def install_package(src, site, work):
    copy = os.path.join(work, 'pkgsrc')
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns('__pycache__', 'build',
                                                             '*.egg-info', 'tests'))
    import importlib.util
    if importlib.util.find_spec('pip'):
        cmd = [sys.executable, '-m', 'pip', 'install', '--quiet',
               '--no-deps', '--no-index', '--no-cache-dir', '--disable-pip-version-check',
               '--target', site, copy]
        env = dict(os.environ, PIP_ROOT_USER_ACTION='ignore')
        env.pop('LD_PRELOAD', None)  # pip itself need not run under ASan
        run(cmd, env=env, cwd=work)
        print('package installed with: python3 -m pip install '
              '--no-deps --no-index --target SITE bindings/python')
    else:
        shutil.copytree(os.path.join(copy, 'shopcrm'), os.path.join(site, 'shopcrm'))
        print('pip not installed: package directory copied instead')


def main():
    meson, build, src = sys.argv[1:4]
    stage = tempfile.mkdtemp(prefix='shopcrm-pyinstall.')
    try:
        run([meson, 'install', '-C', build, '--destdir', stage, '--no-rebuild', '--quiet'])
        pc = None
        for root, _dirs, files in os.walk(stage):
            if 'shopcrm.pc' in files:
                pc = os.path.join(root, 'shopcrm.pc')
                break
        if pc is None:
            fail('no shopcrm.pc installed')
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pc),
                   PKG_CONFIG_LIBDIR=os.path.dirname(pc), PKG_CONFIG_SYSROOT_DIR=stage)
        libdir = run(['pkg-config', '--variable=libdir', 'shopcrm'], env=env).strip()
        if not libdir.startswith(stage):
            libdir = stage + libdir
        lib = os.path.join(libdir, 'libshopcrm.so.1')
        if not os.path.exists(lib):
            fail(f'{lib} not installed')
        print(f'staged library: {lib}')

        site = os.path.join(stage, 'site')
        os.makedirs(site)
        install_package(os.path.join(src, 'bindings', 'python'), site, stage)
        pkg = os.path.join(site, 'shopcrm')
        prog = os.path.join(stage, 'prog.py')
        with open(prog, 'w', encoding='utf-8') as f:
            f.write(PROGRAM)

        base = {k: v for k, v in os.environ.items()
                if k not in ('SHOPCRM_LIBRARY', 'PYTHONPATH', 'LD_LIBRARY_PATH')}
        base.update(PYTHONPATH=site, PYTHONDONTWRITEBYTECODE='1', EXPECT_PACKAGE=pkg)

        def check(how, extra):
            env = dict(base, **extra)
            out = run([sys.executable, prog], env=env, cwd=stage)
            print(f'{how}: {out.strip()}')

        # 1. SHOPCRM_LIBRARY
        check('SHOPCRM_LIBRARY', {'SHOPCRM_LIBRARY': lib, 'EXPECT_LIBRARY': libdir})
        # 2. next to the package
        shutil.copy2(lib, os.path.join(pkg, 'libshopcrm.so.1'))
        check('next to the package', {'EXPECT_LIBRARY': pkg})
        os.remove(os.path.join(pkg, 'libshopcrm.so.1'))
        # 3. the system search, pointed at the staged libdir
        check('system search', {'LD_LIBRARY_PATH': libdir, 'EXPECT_LIBRARY': libdir})
        # 4. nowhere: a clear ImportError (unless a libshopcrm is installed system-wide)
        res = subprocess.run([sys.executable, '-c', 'import shopcrm'], capture_output=True,
                             text=True, env=base, cwd=stage)
        if res.returncode == 0:
            print('no library: skipped (a libshopcrm is installed on this system)')
        elif 'ImportError' not in res.stderr or 'SHOPCRM_LIBRARY' not in res.stderr:
            fail(f'without a library: unexpected failure:\n{res.stderr}')
        else:
            print('no library: ' + next(x for x in res.stderr.splitlines() if x.startswith('ImportError'))[:100])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print('installed package test passed')


if __name__ == '__main__':
    main()
