#!/usr/bin/env python3
"""Run PROGRAM and compare its output lines, in any order, with the expected
lines given as arguments (customer indices follow the dataset's partitions,
not the input order, so examples print customers in an order that is
deterministic but not obvious).

Usage: check_output.py PROGRAM LINE...
"""
import subprocess
import sys

prog, want = sys.argv[1], sorted(sys.argv[2:])
res = subprocess.run([prog], capture_output=True, text=True)
sys.stderr.write(res.stderr)
got = sorted(res.stdout.splitlines())
if res.returncode != 0:
    print(f'{prog} exited with {res.returncode}')
    sys.exit(1)
if got != want:
    print('expected (sorted):', *want, 'got (sorted):', *got, sep='\n  ')
    sys.exit(1)
print('\n'.join(got))
