#!/usr/bin/env python3
"""The documented install (docs/python.md section 1, README), run as written.

1. A real install into a fresh prefix, as a user does it: `meson setup` of
   this source tree in a temporary build directory with `--prefix TMP/prefix`
   (-Dtests=false -Dbench=false -Ddocs=false only to build less), `ninja`,
   `meson install`. Not `--destdir`: the generated shopcrm/_install.py holds
   the final PREFIX/LIBDIR, which a staged install would not have yet.
2. The Python directory is read from what `meson setup` printed (the
   "Python path (sys.path)" line of its Install summary), as the docs say.
3. A fresh venv, `/usr/bin/python3 -m venv --system-site-packages` (numpy and
   pandas from Debian, nothing from an index), a `shopcrm.pth` naming that
   directory in the venv's site-packages, then `import shopcrm` and a tiny
   RFM from outside the source tree, with no SHOPCRM_LIBRARY, PYTHONPATH or
   LD_LIBRARY_PATH (and no ldconfig): the library must be the installed
   PREFIX/LIBDIR/libshopcrm.so.1.
4. Without a venv: `PYTHONPATH=DIR /usr/bin/python3 prog.py`, the same checks.

Usage: install_prefix_check.py MESON NINJA SOURCE_ROOT
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from install_rfm_check import RFM_CHECK

PROGRAM = r'''
import os, shopcrm
''' + RFM_CHECK + r'''assert shopcrm.__file__ == os.path.join(os.environ['EXPECT_PACKAGE'], '__init__.py'), shopcrm.__file__
assert shopcrm.library_path == os.environ['EXPECT_LIBRARY'], shopcrm.library_path
maps = open('/proc/self/maps').read()
assert os.environ['EXPECT_LIBRARY'] in maps or \
    os.path.realpath(os.environ['EXPECT_LIBRARY']) in maps, 'installed library not mapped'
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


def main():
    meson, ninja, src = sys.argv[1:4]
    # What a user's shell has: none of the test harness's library or path
    # variables (nor the ASan preload of a sanitized build).
    env = {k: v for k, v in os.environ.items()
           if k not in ('SHOPCRM_LIBRARY', 'PYTHONPATH', 'LD_LIBRARY_PATH', 'LD_PRELOAD',
                        'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'PYTHONHOME', 'VIRTUAL_ENV')}
    with tempfile.TemporaryDirectory(prefix='scrm-py-prefix-') as tmp:
        prefix, build = os.path.join(tmp, 'prefix'), os.path.join(tmp, 'build')
        out = run([meson, 'setup', build, src, '--prefix', prefix,
                   '-Dtests=false', '-Dbench=false', '-Ddocs=false'], env=env, cwd=tmp)
        m = re.search(r'Python path \(sys\.path\)\s*:\s*(\S+)', out)
        if not m:
            fail('meson setup did not print "Python path (sys.path)":\n' + out)
        pydir = m.group(1).rstrip('/')
        if not pydir.startswith(prefix + os.sep):
            fail(f'Python directory {pydir} is not under the prefix {prefix}')
        run([ninja, '-C', build], env=env, cwd=tmp)
        run([meson, 'install', '-C', build, '--quiet'], env=env, cwd=tmp)
        print(f'meson install: package in {pydir}/shopcrm')

        libs = [os.path.join(r, f) for r, _d, fs in os.walk(prefix) for f in fs
                if f == 'libshopcrm.so.1']
        if len(libs) != 1:
            fail(f'expected one installed libshopcrm.so.1, found {libs}')
        pkg = os.path.join(pydir, 'shopcrm')
        for f in ('__init__.py', '_ffi.py', '_columns.py', '_lib.py', '_install.py'):
            if not os.path.isfile(os.path.join(pkg, f)):
                fail(f'{f} not installed in {pkg}')
        if os.path.exists(os.path.join(pkg, '__pycache__')):
            fail(f'{pkg}/__pycache__ installed')

        prog = os.path.join(tmp, 'prog.py')
        with open(prog, 'w', encoding='utf-8') as f:
            f.write(PROGRAM)
        check_env = dict(env, EXPECT_PACKAGE=pkg, EXPECT_LIBRARY=libs[0],
                         PYTHONDONTWRITEBYTECODE='1')

        # 3. the venv, as docs/python.md writes it
        venv = os.path.join(tmp, 'venv')
        run(['/usr/bin/python3', '-m', 'venv', '--system-site-packages', venv], env=env, cwd=tmp)
        vpy = os.path.join(venv, 'bin', 'python')
        site = run([vpy, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'],
                   env=env, cwd=tmp).strip()
        with open(os.path.join(site, 'shopcrm.pth'), 'w', encoding='utf-8') as f:
            f.write(pydir + '\n')
        print('venv: ' + run([vpy, prog], env=check_env, cwd=tmp).strip())

        # 4. no venv: PYTHONPATH
        print('PYTHONPATH: ' + run(['/usr/bin/python3', prog], cwd=tmp,
                                   env=dict(check_env, PYTHONPATH=pydir)).strip())
    print('installed prefix test passed')


if __name__ == '__main__':
    if not shutil.which('/usr/bin/python3'):
        print('no /usr/bin/python3: skipped')
        sys.exit(77)
    main()
