#!/usr/bin/env python3
"""The examples in C, Python and Node do the same job on the bundled sample:
their audience files must be byte-identical, and the C and Python examples
print the same summary. Facts of the sample (examples/data/README.md): 69,659
orders, 23,570 customers.

usage: check_examples_agree.py C_EXAMPLE PY_EXAMPLE NODE_EXAMPLE|- NODE|- DATA.csv
(the Python and Node runs take their library and addon from the environment)
"""
import os
import sys
import tempfile

from example_run import run_example


def run(cmd, out_csv):
    return run_example(cmd, out_csv, 'customers', 'AUDIENCE')


def main():
    c_exe, py_example, node_example, node, data = sys.argv[1:6]
    tmp = tempfile.mkdtemp(prefix='scrm-examples-')
    c_out, c_csv = run([c_exe], os.path.join(tmp, 'c.csv'))
    if '69659 orders, 23570 customers' not in c_out:
        sys.exit(f'FAIL: the C example does not see the whole sample:\n{c_out}')
    py_out, py_csv = run(['/usr/bin/python3', py_example], os.path.join(tmp, 'py.csv'))
    if py_out != c_out:
        sys.exit(f'FAIL: C and Python summaries differ:\n--- C\n{c_out}--- Python\n{py_out}')
    if py_csv != c_csv:
        sys.exit('FAIL: C and Python audience files differ')
    checked = 'C, Python'
    if node_example != '-' and node != '-':
        _, node_csv = run([node, node_example], os.path.join(tmp, 'node.csv'))
        if node_csv != c_csv:
            sys.exit('FAIL: C and Node audience files differ')
        checked += ', Node'
    customers = c_csv.count(b'\n') - 1
    print(f'ok: {checked} examples agree ({customers} customers in the audience)')


if __name__ == '__main__':
    main()
