#!/usr/bin/env python3
"""Regenerate every generated binding file from the public headers.

    /usr/bin/python3 bindings/gen/generate.py            (re)write the files
    /usr/bin/python3 bindings/gen/generate.py --check    write nothing; exit 1 and
                                                          list the files that differ
                                                          (77, "skipped", without doxygen)

Reads the API with api.load_api() (Doxygen XML of include/), then asks each
generator module of this directory for its files: gen_python.generate() and,
when it exists, gen_node.generate(). Each returns {path relative to the
repository root: content}. Run from anywhere; paths are resolved from this
file's location unless --repo-root is given.
"""

import argparse
import importlib.util
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean when run by meson
sys.path.insert(0, HERE)

import api as api_mod  # noqa: E402

# Generator modules, in order; a missing optional one is skipped.
GENERATORS = [('gen_python', True), ('gen_node', False)]


def load_generator(name):
    path = os.path.join(HERE, name + '.py')
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def generate_all(repo_root, doxygen='doxygen'):
    api = api_mod.load_api(os.path.join(repo_root, 'include'), doxygen)
    files = {}
    for name, required in GENERATORS:
        mod = load_generator(name)
        if mod is None:
            if required:
                raise SystemExit(f'generate.py: {name}.py is missing')
            continue
        for path, content in mod.generate(api, repo_root).items():
            if os.path.isabs(path):
                path = os.path.relpath(path, repo_root)
            if path in files:
                raise SystemExit(f'generate.py: {path} generated twice ({name})')
            files[path] = content
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description='Regenerate the binding files from the headers.')
    ap.add_argument('--check', action='store_true',
                    help='write nothing; exit 1 listing the files that differ')
    ap.add_argument('--repo-root', default=os.path.normpath(os.path.join(HERE, '..', '..')))
    ap.add_argument('--doxygen', default='doxygen')
    args = ap.parse_args(argv)
    if args.check and not shutil.which(args.doxygen):
        print(f'generate.py: {args.doxygen} not found: check skipped')
        return 77  # meson's "skipped"
    try:
        files = generate_all(args.repo_root, args.doxygen)
    except api_mod.ApiError as e:
        print(f'generate.py: {e}', file=sys.stderr)
        return 2
    differ = []
    for path, content in sorted(files.items()):
        full = os.path.join(args.repo_root, path)
        try:
            with open(full, encoding='utf-8', newline='') as f:
                old = f.read()
        except FileNotFoundError:
            old = None
        if old == content:
            continue
        differ.append(path)
        if not args.check:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w', encoding='utf-8', newline='') as f:
                f.write(content)
    if args.check:
        if differ:
            print('generated files out of date (run /usr/bin/python3 bindings/gen/generate.py):')
            for p in differ:
                print('  ' + p)
            return 1
        print(f'{len(files)} generated files up to date')
        return 0
    for p in differ:
        print('wrote ' + p)
    return 0


if __name__ == '__main__':
    sys.exit(main())
