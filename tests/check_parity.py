#!/usr/bin/env python3
"""Cross-language parity: every symbol exported by libshopcrm (lib/shopcrm.map)
is reachable from Python and from Node.

- Python: declared in the generated ctypes layer (bindings/python/shopcrm/_ffi.py),
  i.e. bound from the library (``_lib.NAME``) and assigned to a module-level name
  NAME. Read with the ast module: the library need not be loadable.
- Node: exported by the addon's low-level layer. Statically, listed in an export
  table of bindings/node/src (``{"NAME", sn_...}`` in gen_functions.c or addon.c);
  and, with --node/--addon, at run time: a function NAME of require(addon).

There is no exceptions list: functions that cannot be used meaningfully from a
language (scrm_set_allocator) are still exposed in a restricted form, see
bindings/node/src/addon.c and the Python package.

Usage: check_parity.py --map lib/shopcrm.map --ffi .../_ffi.py
                       [--node-src bindings/node/src] [--node NODE --addon ADDON.node]
Exit 0 when nothing is missing; otherwise list what is missing and exit 1.
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys


def map_symbols(path):
    with open(path, encoding='utf-8') as f:
        text = re.sub(r'/\*.*?\*/', ' ', f.read(), flags=re.S)
    syms = []
    for block in re.findall(r'global:(.*?)(?:local:|\})', text, flags=re.S):
        syms += [s.strip() for s in block.split(';') if s.strip()]
    if not syms:
        raise SystemExit(f'{path}: no symbols found')
    return syms


def python_symbols(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    bound = set()     # _lib.NAME
    assigned = set()  # NAME = ... at module level
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == '_lib':
            bound.add(node.attr)
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    assigned.add(t.id)
    return bound & assigned


def node_table_symbols(src_dir):
    names = set()
    for fn in ('gen_functions.c', 'addon.c'):
        path = os.path.join(src_dir, fn)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        # entries of the sn_export tables: {"scrm_x", sn_scrm_x}
        names |= set(re.findall(r'\{\s*"(scrm_\w+)"\s*,\s*sn_\w+\s*\}', text))
    return names


def node_runtime_symbols(node, addon):
    script = ('const m = require(process.argv[1]);'
              'console.log(JSON.stringify(Object.keys(m).filter('
              'k => typeof m[k] === "function")));')
    res = subprocess.run([node, '-e', script, addon], capture_output=True, text=True,
                         env=os.environ.copy())
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f'could not load the Node addon {addon}')
    return set(json.loads(res.stdout))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--map', required=True)
    ap.add_argument('--ffi', required=True)
    ap.add_argument('--node-src', default=os.path.join(here, '..', 'bindings', 'node', 'src'))
    ap.add_argument('--node')
    ap.add_argument('--addon')
    args = ap.parse_args()

    syms = map_symbols(args.map)
    checks = [('python (_ffi.py)', python_symbols(args.ffi)),
              ('node (export tables)', node_table_symbols(args.node_src))]
    if args.node and args.addon:
        checks.append(('node (addon exports at run time)',
                       node_runtime_symbols(args.node, args.addon)))
    else:
        print('node at run time: skipped (no node or no addon)')
    failed = False
    for label, have in checks:
        missing = [s for s in syms if s not in have]
        if missing:
            failed = True
            print(f'{label}: {len(missing)} of {len(syms)} exported symbols missing:')
            for s in missing:
                print('  ' + s)
        else:
            print(f'{label}: all {len(syms)} exported symbols reachable')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
