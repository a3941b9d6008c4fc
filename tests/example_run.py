"""Shared by the example tests (check_examples_agree.py, check_cohorts_examples.py)."""
import re
import subprocess
import sys


def run_example(cmd, out_csv, what, placeholder, extra_args=()):
    """Run an example writing out_csv; it must exit 0 and print
    'wrote N <what> ... to <out_csv>' with N = the data rows of the file.
    Returns (stdout with out_csv replaced by placeholder, file bytes)."""
    p = subprocess.run(list(cmd) + [out_csv] + list(extra_args), capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        sys.exit(f'FAIL: {cmd} exited {p.returncode}\n{p.stdout}\n{p.stderr}')
    m = re.search(rf'^wrote (\d+) {what}\b.* to (.*)$', p.stdout, re.M)
    if not m or m.group(2) != out_csv:
        sys.exit(f'FAIL: {cmd} did not report the file it wrote:\n{p.stdout}')
    with open(out_csv, 'rb') as f:
        body = f.read()
    rows = body.count(b'\n') - 1  # minus the header
    if rows != int(m.group(1)):
        sys.exit(f'FAIL: {cmd} says {m.group(1)} {what} but wrote {rows} rows')
    return p.stdout.replace(out_csv, placeholder), body
