#!/usr/bin/env python3
"""Checks that keep the public headers visible to Doxygen and the guides linked.

Doxygen silently ignores every declaration of a header that has no
``/** @file */`` block (it exits 0), so the ``doxygen`` test alone would pass
with an undocumented header. This script fails when:

* a public header does not open with a ``/** ... */`` block holding ``@file``
  (naming this header) and ``@brief``; area headers (``include/shopcrm/*.h``)
  must also open a group (``@defgroup`` + ``@{``) and close it (``@}``);
* a header under include/ is not in the installed list meson passes, or an
  area header is not included by the umbrella ``shopcrm.h``;
* README.md or a guide in docs/ links to a file or heading that does not
  exist, or a guide in docs/ is not linked from README.md.

Usage (from docs/meson.build):
  check_docs_files.py --include-dir DIR --readme README.md --docs-dir DIR -- HEADER...
"""

import argparse
import os
import re
import sys


def leading_doc_block(text):
    """The first comment of the file if it is a /** ... */ block, else None."""
    stripped = text.lstrip()
    if not stripped.startswith('/**'):
        return None
    end = stripped.find('*/')
    return stripped[:end + 2] if end >= 0 else None


def check_header(path, rel, errors):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    block = leading_doc_block(text)
    if block is None:
        errors.append(f'{rel}: does not start with a /** @file ... */ block '
                      '(doxygen would silently skip the whole header)')
        return
    m = re.search(r'[@\\]file[ \t]+(\S+)', block)
    if not m:
        errors.append(f'{rel}: the leading doc block has no @file '
                      '(doxygen would silently skip the whole header)')
    elif m.group(1) not in (rel, os.path.basename(rel)):
        errors.append(f'{rel}: @file names "{m.group(1)}", not this header')
    if not re.search(r'[@\\]brief\s+\S', block):
        errors.append(f'{rel}: the leading doc block has no @brief')
    if '/' in rel:  # an area header: it must define a group and close it
        if not re.search(r'[@\\]defgroup\s+\w+', block):
            errors.append(f'{rel}: the leading doc block has no @defgroup')
        if not re.search(r'[@\\]\{', block):
            errors.append(f'{rel}: the leading doc block does not open the group with @{{')
        if not re.search(r'/\*\*\s*[@\\]\}\s*\*/', text):
            errors.append(f'{rel}: the group is never closed with /** @}} */')


def github_anchors(path):
    """The anchors GitHub generates for the headings of a Markdown file."""
    anchors = set()
    in_code = False
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('```'):
                in_code = not in_code
            m = None if in_code else re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
            if m:
                slug = re.sub(r'[^\w\- ]', '', m.group(1).strip().lower()).replace(' ', '-')
                anchors.add(slug)
    return anchors


def check_md_links(md, root, errors):
    """Relative links of a Markdown file point to existing files and headings."""
    with open(md, encoding='utf-8') as f:
        text = re.sub(r'```.*?```', '', f.read(), flags=re.S)
    rel_md = os.path.relpath(md, root)
    linked = set()
    for target, anchor in re.findall(r'\]\(([^)#\s]*)(?:#([^)\s]*))?\)', text):
        if re.match(r'^[a-z]+:', target):
            continue  # absolute URL
        dest = os.path.normpath(os.path.join(os.path.dirname(md), target)) if target else md
        linked.add(os.path.relpath(dest, root))
        if not os.path.exists(dest):
            errors.append(f'{rel_md}: links to {target}, which does not exist')
        elif anchor and dest.endswith('.md') and anchor not in github_anchors(dest):
            errors.append(f'{rel_md}: links to {target}#{anchor}, which has no such heading')
    return linked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--include-dir', required=True)
    ap.add_argument('--readme', required=True)
    ap.add_argument('--docs-dir', required=True)
    ap.add_argument('headers', nargs='+')
    a = ap.parse_args()

    errors = []
    inc = os.path.realpath(a.include_dir)
    listed = set()
    for h in a.headers:
        rel = os.path.relpath(os.path.realpath(h), inc)
        listed.add(rel)
        check_header(h, rel, errors)

    on_disk = set()
    for root, _, names in os.walk(inc):
        for n in names:
            if n.endswith('.h'):
                on_disk.add(os.path.relpath(os.path.join(root, n), inc))
    for rel in sorted(on_disk - listed):
        errors.append(f'{rel}: under include/ but not in public_headers of '
                      'meson.build (it would not be installed)')

    umbrella = os.path.join(inc, 'shopcrm.h')
    if os.path.exists(umbrella):
        with open(umbrella, encoding='utf-8') as f:
            included = set(re.findall(r'^\s*#\s*include\s+["<]([^">]+)[">]', f.read(), re.M))
        for rel in sorted(listed):
            if rel != 'shopcrm.h' and rel not in included:
                errors.append(f'{rel}: not included by shopcrm.h')
    else:
        errors.append('shopcrm.h: missing')

    # README <-> docs/*.md
    if not os.path.exists(a.readme):
        errors.append('README.md: missing')
    else:
        root = os.path.dirname(os.path.realpath(a.readme))
        linked = check_md_links(os.path.realpath(a.readme), root, errors)
        # The README's C example is examples/readme_example.c (built and run
        # by the readme-example test): the two must not drift apart.
        example = os.path.join(root, 'examples', 'readme_example.c')
        with open(a.readme, encoding='utf-8') as f:
            blocks = re.findall(r'```c\n(.*?)```', f.read(), re.S)
        if not os.path.exists(example):
            errors.append('examples/readme_example.c: missing')
        else:
            with open(example, encoding='utf-8') as f:
                code = f.read()
            if not any(b.strip() and b in code for b in blocks):
                errors.append('README.md: its C example is not a verbatim part of '
                              'examples/readme_example.c')
        docs_dir = os.path.realpath(a.docs_dir)
        docs_rel = os.path.relpath(docs_dir, root)
        for n in sorted(os.listdir(docs_dir)):
            if not n.endswith('.md'):
                continue
            check_md_links(os.path.join(docs_dir, n), root, errors)
            if os.path.join(docs_rel, n) not in linked:
                errors.append(f'{docs_rel}/{n}: not linked from README.md')

    for e in errors:
        print('error:', e)
    print(f'{len(a.headers)} headers checked, {len(errors)} problem(s)')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
