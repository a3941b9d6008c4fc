#!/usr/bin/env python3
"""Check the TypeScript declarations of the Node binding.

Compiles bindings/node/test/types/usage.ts with `tsc --strict` against the
package (index.d.ts, lib/ffi.d.ts) as an installed module would be seen,
then runs the JavaScript tsc produced against the real addon: the
declarations must accept what the usage does, reject what it marks
@ts-expect-error, and describe what the module really returns.

usage: check_node_types.py SOURCE_ROOT TSC NODE   (SHOPCRM_NODE_ADDON in the environment)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    root, tsc, node = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix='scrm-ts-') as d:
        os.makedirs(os.path.join(d, 'node_modules'))
        os.symlink(os.path.join(root, 'bindings', 'node'),
                   os.path.join(d, 'node_modules', 'shopcrm'))
        shutil.copy(os.path.join(root, 'bindings', 'node', 'test', 'types', 'usage.ts'), d)
        with open(os.path.join(d, 'tsconfig.json'), 'w') as f:
            json.dump({'compilerOptions': {
                'strict': True, 'module': 'commonjs', 'target': 'es2020', 'lib': ['es2020'],
                'types': [], 'outDir': 'out', 'rootDir': '.', 'noUnusedLocals': True},
                'files': ['usage.ts']}, f)
        tc = subprocess.run([tsc, '-p', d], capture_output=True, text=True)
        if tc.returncode != 0:
            print('tsc failed:\n' + tc.stdout + tc.stderr)
            return 1
        run = subprocess.run([node, os.path.join(d, 'out', 'usage.js')], capture_output=True,
                             text=True, cwd=d)
        sys.stdout.write(run.stdout + run.stderr)
        if run.returncode != 0 or 'types ok' not in run.stdout:
            print('the compiled usage failed')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
