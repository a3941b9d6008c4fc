#!/usr/bin/env python3
"""Check that the exported ABI is exactly what the headers and the map declare.

After xkbcommon's test/symbols-leak-test.py. Fails when:

1. the names in lib/shopcrm.map differ from the functions declared with
   SCRM_EXPORT in include/**/*.h (a function missing from the map is hidden
   by `local: *`; a name missing from the headers is an undocumented export);
2. the shared library's dynamic symbol table (readelf --dyn-syms -W) defines
   anything but those names, or defines one with a version other than the
   map node that lists it (`name@@SCRM_1.0`), or misses one;
3. the SONAME is not libshopcrm.so.<major>;
4. (with --static) the static library defines a global symbol outside the
   library's namespaces (scrm_* public, scrm__* internal): with static
   linking there is no version script to hide it, and it could clash with
   the application's own names.

Usage: check_symbols.py --map lib/shopcrm.map --include-dir include
                        --shared libshopcrm.so [--static libshopcrm.a] [--soname libshopcrm.so.1]
"""

import argparse
import os
import re
import subprocess
import sys


def strip_c_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def map_symbols(path):
    """{name: version node} from a GNU ld version script."""
    text = strip_c_comments(open(path, encoding='utf-8').read())
    text = re.sub(r'#[^\n]*', ' ', text)
    out = {}
    nodes = []
    for m in re.finditer(r'([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*([A-Za-z_][\w.]*)?\s*;', text, re.S):
        node, body = m.group(1), m.group(2)
        nodes.append(node)
        scope = 'global'
        for item in re.split(r';', body):
            item = item.strip()
            if not item:
                continue
            sm = re.match(r'(global|local)\s*:\s*(.*)$', item, re.S)
            if sm:
                scope, item = sm.group(1), sm.group(2).strip()
                if not item:
                    continue
            if scope == 'global':
                if item in out:
                    raise SystemExit(f'{path}: {item} listed twice ({out[item]} and {node})')
                out[item] = node
    return out, nodes


def header_exports(include_dir):
    """{name: header} of functions declared with SCRM_EXPORT."""
    out = {}
    for root, _, names in os.walk(include_dir):
        for n in sorted(names):
            if not n.endswith('.h'):
                continue
            path = os.path.join(root, n)
            text = strip_c_comments(open(path, encoding='utf-8').read())
            # drop preprocessor lines (the #define of SCRM_EXPORT itself),
            # joining continuation lines first
            text = re.sub(r'\\\n', ' ', text)
            text = re.sub(r'^\s*#[^\n]*', ' ', text, flags=re.M)
            for m in re.finditer(r'\bSCRM_EXPORT\b([^;{]*?)\b([A-Za-z_]\w*)\s*\(', text):
                name = m.group(2)
                rel = os.path.relpath(path, include_dir)
                if name in out:
                    raise SystemExit(f'{rel}: {name} declared twice with SCRM_EXPORT')
                out[name] = rel
    return out


def dynamic_symbols(lib, nodes):
    """{name: (version, default?)} of the defined global/weak dynamic symbols."""
    res = subprocess.run(['readelf', '--dyn-syms', '-W', lib], check=True,
                         capture_output=True, text=True).stdout
    out = {}
    for line in res.splitlines():
        f = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(f) < 8 or not f[0].endswith(':') or not f[0][:-1].isdigit():
            continue
        typ, bind, ndx, name = f[3], f[4], f[6], f[7]
        if bind not in ('GLOBAL', 'WEAK', 'UNIQUE') or ndx == 'UND':
            continue
        if '@@' in name:
            base, ver, default = *name.split('@@', 1), True
        elif '@' in name:
            base, ver, default = *name.split('@', 1), False
        else:
            base, ver, default = name, None, False
        # version definitions show up as ABS OBJECT symbols named after the
        # node: "SCRM_1.0" (binutils 2.40), "SCRM_1.0@@SCRM_1.0" (older ld)
        if ndx == 'ABS' and typ == 'OBJECT' and base in nodes and ver in (None, base):
            continue
        out[base] = (ver, default)
    return out


def soname(lib):
    res = subprocess.run(['readelf', '-d', '-W', lib], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r'\(SONAME\)\s+Library soname: \[([^\]]+)\]', res)
    return m.group(1) if m else None


# Symbols added by compiler instrumentation (-fsanitize, --coverage), not by us.
INSTRUMENTATION_PREFIXES = ('__odr_asan', '__asan_', '__ubsan_', '__tsan_', '__sanitizer',
                            '__gcov', '__llvm_')


def static_globals(lib):
    res = subprocess.run(['nm', '-g', '--defined-only', '-P', lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in res.splitlines():
        f = line.split()
        # "archive[member]:" headers have one field; symbol lines: name type [value size]
        if len(f) >= 2 and not f[0].endswith(':') and not f[0].startswith(INSTRUMENTATION_PREFIXES):
            names.add(f[0])
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--map', required=True)
    ap.add_argument('--include-dir', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--static')
    ap.add_argument('--soname', default='libshopcrm.so.1')
    a = ap.parse_args()

    errors = []
    mapped, nodes = map_symbols(a.map)
    declared = header_exports(a.include_dir)
    if not nodes:
        errors.append(f'{a.map}: no version node found')

    for name in sorted(set(declared) - set(mapped)):
        errors.append(f'{declared[name]}: {name} is SCRM_EXPORT but not in {os.path.basename(a.map)} '
                      '(it would be hidden by local: *)')
    for name in sorted(set(mapped) - set(declared)):
        errors.append(f'{os.path.basename(a.map)}: {name} ({mapped[name]}) is not declared '
                      'with SCRM_EXPORT in any public header')

    dyn = dynamic_symbols(a.shared, nodes)
    for name in sorted(set(dyn) - set(mapped)):
        errors.append(f'{os.path.basename(a.shared)} exports {name}, which is not in the map')
    for name in sorted(set(mapped) - set(dyn)):
        errors.append(f'{os.path.basename(a.shared)} does not export {name} '
                      f'(in the map under {mapped[name]}: not defined, or defined without SCRM_EXPORT?)')
    for name in sorted(set(mapped) & set(dyn)):
        ver, default = dyn[name]
        if ver != mapped[name] or not default:
            shown = f'{name}@@{ver}' if default else (f'{name}@{ver}' if ver else name)
            errors.append(f'{os.path.basename(a.shared)} exports {shown}; expected '
                          f'{name}@@{mapped[name]}')

    so = soname(a.shared)
    if so != a.soname:
        errors.append(f'SONAME is {so!r}, expected {a.soname!r}')

    if a.static:
        for name in sorted(static_globals(a.static)):
            if not name.startswith('scrm_'):
                errors.append(f'{os.path.basename(a.static)} defines global symbol {name} '
                              'outside the scrm_ / scrm__ namespaces (make it static)')
            elif not name.startswith('scrm__') and name not in mapped:
                errors.append(f'{os.path.basename(a.static)} defines public-looking {name}, '
                              'which is not in the map (rename it scrm__... if internal)')

    for e in errors:
        print('error:', e)
    print(f'{len(declared)} declared, {len(mapped)} mapped in {len(nodes)} node(s) '
          f'({", ".join(nodes)}), {len(dyn)} exported, SONAME {so}: '
          f'{len(errors)} problem(s)')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
