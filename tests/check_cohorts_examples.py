#!/usr/bin/env python3
"""The cohort examples in C, Python and Node do the same job on the bundled
sample: they must print the same report and write byte-identical long-form
CSV files (cohort,period,cohort_size,active_customers,orders,revenue,
retention; docs/cohorts.md). Facts of the sample (examples/data/README.md):
69,659 orders, 23,570 customers, all first purchases in 1997-01 .. 1997-03,
observed to 1998-06, so 3 monthly cohorts x 18 periods and 18 + 17 + 16 = 51
observable cells.

With SHOPCRM (the command line), `shopcrm cohorts DATA.csv --out F.csv` must
write the same bytes too: the examples and the CLI share the format.

usage: check_cohorts_examples.py C_EXAMPLE PY_EXAMPLE NODE_EXAMPLE|- NODE|- DATA.csv [SHOPCRM]
(the Python and Node runs take their library and addon from the environment)
"""
import csv
import io
import os
import re
import subprocess
import sys
import tempfile

from example_run import run_example

HEADER = 'cohort,period,cohort_size,active_customers,orders,revenue,retention,partial'


def run(cmd, out_csv, data):
    return run_example(cmd, out_csv, 'cells', 'OUT', (data,))


def check_csv(body):
    """Facts that do not depend on the code under test."""
    text = body.decode('ascii')
    if not text.startswith(HEADER + '\n'):
        sys.exit(f'FAIL: the CSV header is not {HEADER!r}')
    rows = list(csv.DictReader(io.StringIO(text)))
    cohorts = sorted({r['cohort'] for r in rows})
    if cohorts != ['1997-01', '1997-02', '1997-03'] or len(rows) != 51:
        sys.exit(f'FAIL: expected 3 cohorts, 51 cells; got {cohorts}, {len(rows)}')
    sizes = {r['cohort']: int(r['cohort_size']) for r in rows}
    if sum(sizes.values()) != 23570:
        sys.exit(f'FAIL: cohort sizes {sizes} do not add up to the 23,570 customers')
    for r in rows:
        if r['period'] == '0' and (r['active_customers'] != r['cohort_size']
                                   or r['retention'] != '1'):
            sys.exit(f'FAIL: period 0 must hold the whole cohort: {r}')
        if not re.fullmatch(r'-?\d+\.\d\d', r['revenue']):
            sys.exit(f'FAIL: revenue is not in major units with 2 decimals: {r}')
    if sum(int(r['orders']) for r in rows) != 69659:  # CDNOW has no refunds
        sys.exit('FAIL: the cells do not hold every order')


def main():
    c_exe, py_example, node_example, node, data = sys.argv[1:6]
    shopcrm = sys.argv[6] if len(sys.argv) > 6 else None
    tmp = tempfile.mkdtemp(prefix='scrm-cohort-examples-')
    c_out, c_csv = run([c_exe], os.path.join(tmp, 'c.csv'), data)
    if '69659 orders, 23570 customers' not in c_out:
        sys.exit(f'FAIL: the C example does not see the whole sample:\n{c_out}')
    check_csv(c_csv)
    py_out, py_csv = run(['/usr/bin/python3', py_example], os.path.join(tmp, 'py.csv'), data)
    if py_out != c_out:
        sys.exit(f'FAIL: C and Python reports differ:\n--- C\n{c_out}--- Python\n{py_out}')
    if py_csv != c_csv:
        sys.exit('FAIL: C and Python cohort files differ')
    checked = 'C, Python'
    if node_example != '-' and node != '-':
        node_out, node_csv = run([node, node_example], os.path.join(tmp, 'node.csv'), data)
        if node_out != c_out:
            sys.exit(f'FAIL: C and Node reports differ:\n--- C\n{c_out}--- Node\n{node_out}')
        if node_csv != c_csv:
            sys.exit('FAIL: C and Node cohort files differ')
        checked += ', Node'
    if shopcrm:
        cli_csv = os.path.join(tmp, 'cli.csv')
        p = subprocess.run([shopcrm, 'cohorts', data, '--out', cli_csv], capture_output=True,
                           text=True, timeout=300)
        if p.returncode != 0:
            sys.exit(f'FAIL: shopcrm cohorts exited {p.returncode}\n{p.stdout}\n{p.stderr}')
        with open(cli_csv, 'rb') as f:
            if f.read() != c_csv:
                sys.exit('FAIL: `shopcrm cohorts --out` and the C example write different files')
        checked += ', shopcrm cohorts --out'
    cells = c_csv.count(b'\n') - 1
    print(f'ok: {checked} cohort examples agree ({cells} cells)')


if __name__ == '__main__':
    main()
