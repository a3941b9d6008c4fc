#!/usr/bin/env python3
"""Run examples/python/rfm_segments.py on the CDNOW sample and check its output
against facts documented independently in examples/data/README.md: 69,659
orders, 23,570 customers, US$ 2,500,315.63 in all. The segment table must
cover every customer and every cent, and the audience CSV must hold exactly
the customers of the two printed win-back segments.

Usage: run_example.py EXAMPLE.py   (SHOPCRM_LIBRARY / PYTHONPATH from the environment)
"""

import csv
import os
import re
import subprocess
import sys
import tempfile


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def main():
    example = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'win back.csv')
        res = subprocess.run([sys.executable, example, out], capture_output=True, text=True,
                             cwd=tmp)
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        if res.returncode != 0:
            fail(f'example exited with {res.returncode}')
        lines = res.stdout.splitlines()
        if lines[0] != '69659 orders, 23570 customers':
            fail(f'first line {lines[0]!r}')
        if not lines[1].startswith('segment'):
            fail('no table header')
        rows = {}
        for line in lines[2:-1]:
            m = re.match(r"^(.+?)\s+(\d+)\s+([\d.]+)%\s+([\d,]+\.\d\d)\s+([\d.]+)\s+([\d.]+)"
                         r"\s+([\d.]+)$", line)
            if not m:
                fail(f'cannot parse table line {line!r}')
            rows[m.group(1)] = (int(m.group(2)), int(m.group(4).replace(',', '').replace('.', '')))
        if sum(c for c, _ in rows.values()) != 23570:
            fail('segment sizes do not add up to 23570 customers')
        if sum(r for _, r in rows.values()) != 250031563:
            fail('segment revenues do not add up to US$ 2,500,315.63')
        for name in ('Champions', 'At Risk', "Can't Lose Them", 'Hibernating'):
            if name not in rows:
                fail(f'segment {name!r} missing from the table')
        if '(unassigned)' in rows:  # rfm11-v2 names every score cell
            fail('customers unassigned with rfm11-v2')
        want = rows['At Risk'][0] + rows["Can't Lose Them"][0]
        if lines[-1] != (f"wrote {want} customers (At Risk, Can't Lose Them) to {out}"):
            fail(f'last line {lines[-1]!r}')
        with open(out, newline='') as f:
            table = list(csv.reader(f))
        if table[0] != ['customer', 'segment']:
            fail(f'audience header {table[0]}')
        body = table[1:]
        if len(body) != want or len({r[0] for r in body}) != want:
            fail(f'audience has {len(body)} rows, expected {want} distinct customers')
        if {r[1] for r in body} != {'At Risk', "Can't Lose Them"}:
            fail('audience holds other segments')
        if not all(r[0].isdigit() and 1 <= int(r[0]) <= 23570 for r in body):
            fail('audience customer ids are not CDNOW ids 1..23570')
        for seg in ('At Risk', "Can't Lose Them"):
            if sum(1 for r in body if r[1] == seg) != rows[seg][0]:
                fail(f'audience rows of {seg!r} differ from the table')
    print('example output checked')


if __name__ == '__main__':
    main()
