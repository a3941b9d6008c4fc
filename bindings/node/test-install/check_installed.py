#!/usr/bin/env python3
"""The Node package as docs/node.md says to install it, checked as written.

1. `meson install --destdir STAGE`: a fresh prefix, holding
   PREFIX/LIBDIR/node_modules/shopcrm (index.js, index.d.ts, package.json,
   lib/ffi.d.ts, shopcrm_node.node) next to PREFIX/LIBDIR/libshopcrm.so.1.
2. A fresh npm project in a temporary directory: `npm init -y`, then
   `npm install PREFIX/LIBDIR/node_modules/shopcrm` (offline: the package has
   no dependencies, nothing is downloaded), and `require('shopcrm')` from
   a program there, with no SHOPCRM_NODE_ADDON, LD_LIBRARY_PATH or NODE_PATH:
   the addon must come from the installed package and libshopcrm.so.1 from
   the installed prefix.
3. `NODE_PATH=PREFIX/LIBDIR/node_modules node prog.js`, without npm.
4. `npm pack` of the installed package: the tarball holds the addon, and an
   `npm install` of it works where libshopcrm.so.1 is on the library path.

Usage: check_installed.py MESON BUILD_ROOT NODE NPM
"""
import json
import os
import subprocess
import sys
import tempfile

PROGRAM = r'''
const shopcrm = require('shopcrm');
const fs = require('node:fs');
const d = 19723 * 86400;
const ds = shopcrm.Dataset.fromArrays([1, 1, 2], [d, d + 2 * 86400, d + 86400], [100, 200, 50]);
const r = ds.rfm({ bins: 2, segments: null });
const got = [1, 2].map((k) => { const i = ds.index(k); return [r.recencyDays[i], r.r[i]]; });
if (JSON.stringify(got) !== '[[1,2],[2,1]]') throw new Error('wrong rfm ' + JSON.stringify(got));
const maps = fs.readFileSync('/proc/self/maps', 'utf8');
for (const want of [process.env.EXPECT_ADDON, process.env.EXPECT_LIBRARY]) {
  if (!maps.includes(want)) throw new Error('not loaded: ' + want);
}
console.log('ok', shopcrm.version(), require.resolve('shopcrm'));
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
    meson, build, node, npm = sys.argv[1:5]
    opts = {o['name']: o['value'] for o in
            json.loads(run([meson, 'introspect', build, '--buildoptions']))}
    prefix, libdir = opts['prefix'], opts['libdir']
    with tempfile.TemporaryDirectory(prefix='scrm-node-inst-') as tmp:
        stage = os.path.join(tmp, 'stage')
        run([meson, 'install', '-C', build, '--no-rebuild', '--quiet', '--destdir', stage])
        lib = stage + (libdir if os.path.isabs(libdir) else os.path.join(prefix, libdir))
        pkg = os.path.join(lib, 'node_modules', 'shopcrm')
        for f in ('index.js', 'index.d.ts', 'package.json', 'lib/ffi.d.ts', 'shopcrm_node.node'):
            if not os.path.exists(os.path.join(pkg, f)):
                fail(f'not installed: {pkg}/{f}')
        env = {k: v for k, v in os.environ.items()
               if k not in ('SHOPCRM_NODE_ADDON', 'LD_LIBRARY_PATH', 'NODE_PATH')}
        env.update({'npm_config_cache': os.path.join(tmp, 'npm-cache'),
                    'npm_config_update_notifier': 'false', 'npm_config_fund': 'false',
                    'npm_config_audit': 'false',
                    'EXPECT_ADDON': os.path.join(pkg, 'shopcrm_node.node'),
                    'EXPECT_LIBRARY': os.path.join(lib, 'libshopcrm.so.1')})

        # 2. a fresh npm project
        app = os.path.join(tmp, 'app')
        os.makedirs(app)
        run([npm, 'init', '-y'], cwd=app, env=env)
        run([npm, 'install', '--offline', pkg], cwd=app, env=env)
        with open(os.path.join(app, 'prog.js'), 'w') as f:
            f.write(PROGRAM)
        print('npm install DIR:', run([node, 'prog.js'], cwd=app, env=env).strip())

        # 3. NODE_PATH, no npm
        bare = os.path.join(tmp, 'bare')
        os.makedirs(bare)
        with open(os.path.join(bare, 'prog.js'), 'w') as f:
            f.write(PROGRAM)
        out = run([node, 'prog.js'], cwd=bare,
                  env={**env, 'NODE_PATH': os.path.join(lib, 'node_modules')})
        print('NODE_PATH:', out.strip())

        # 4. a packed tarball holds the addon
        packs = os.path.join(tmp, 'packs')
        os.makedirs(packs)
        info = json.loads(run([npm, 'pack', '--json', '--pack-destination', packs, pkg],
                              cwd=tmp, env=env))
        files = {f['path'] for f in info[0]['files']}
        if 'shopcrm_node.node' not in files or 'lib/ffi.d.ts' not in files:
            fail(f'npm pack lacks the addon or the types: {sorted(files)}')
        app2 = os.path.join(tmp, 'app2')
        os.makedirs(app2)
        run([npm, 'init', '-y'], cwd=app2, env=env)
        run([npm, 'install', '--offline', os.path.join(packs, info[0]['filename'])],
            cwd=app2, env=env)
        with open(os.path.join(app2, 'prog.js'), 'w') as f:
            f.write(PROGRAM)
        env2 = {**env, 'LD_LIBRARY_PATH': lib,
                'EXPECT_ADDON': os.path.join(app2, 'node_modules', 'shopcrm', 'shopcrm_node.node')}
        print('npm install TARBALL:', run([node, 'prog.js'], cwd=app2, env=env2).strip())
    return 0


if __name__ == '__main__':
    sys.exit(main())
