"""The generator's front end (bindings/gen/api.py): the model of the real
headers, and loud failures on constructs it cannot map."""

import os
import shutil
import sys
import tempfile
import textwrap
import unittest

from support import REPO, shopcrm

sys.path.insert(0, os.path.join(REPO, 'bindings', 'gen'))
import api  # noqa: E402

HAVE_DOXYGEN = shutil.which('doxygen') is not None
# The generator does not use numpy: run these once, not again in the
# SHOPCRM_NO_NUMPY=1 pass of the suite.
SECOND_PASS = os.environ.get('SHOPCRM_NO_NUMPY') == '1'


@unittest.skipUnless(HAVE_DOXYGEN, 'doxygen not installed')
@unittest.skipIf(SECOND_PASS, 'run in the numpy pass')
class Model(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = api.load_api(os.path.join(REPO, 'include'))

    def test_functions(self):
        f = self.api.function('scrm_dataset_new')
        self.assertEqual(f.ret, 'int')
        self.assertEqual(f.params, [('out', 'scrm_dataset **', 'out'),
                                    ('opts', 'const scrm_dataset_options *', 'in')])
        self.assertTrue(f.fallible)
        self.assertEqual(f.header, 'shopcrm/dataset.h')
        f = self.api.function('scrm_dataset_append_str')
        self.assertEqual([p.ctype for p in f.params][3], 'const char *const *')
        self.assertFalse(self.api.function('scrm_version_number').fallible)
        self.assertFalse(self.api.function('scrm_kpi_metric_type').fallible)
        self.assertEqual(self.api.function('scrm_csv_report_reject').params[1],
                         ('column_out', 'const char **', 'out'))

    def test_types(self):
        self.assertEqual([h.name for h in self.api.handles],
                         ['scrm_cohorts', 'scrm_dataset', 'scrm_csv_report', 'scrm_kpi',
                          'scrm_kpi_periods', 'scrm_rfm', 'scrm_segment_map'])
        co = next(s for s in self.api.structs if s.name == 'scrm_cohorts_options')
        acq = next(f for f in co.fields if f.name == 'acquisition')
        self.assertEqual(acq.ctype, 'const int64_t *')  # SN_F_I64_ARRAY in gen_node.py
        rfm = next(s for s in self.api.structs if s.name == 'scrm_rfm_options')
        self.assertEqual([f.name for f in rfm.fields][:4], ['version', 'as_of', 'utc_offset',
                                                            'bins'])
        self.assertEqual(rfm.fields[-2], ('progress', 'scrm_progress_fn', rfm.fields[-2].brief))
        cb = next(c for c in self.api.callbacks if c.name == 'scrm_progress_fn')
        self.assertEqual((cb.ret, [p.ctype for p in cb.params]),
                         ('int', ['uint64_t', 'uint64_t', 'void *']))
        err = next(e for e in self.api.enums if e.name == 'scrm_error')
        self.assertEqual(err.values[-1][:2], ('SCRM_ESTATE', -10))

    def test_defines(self):
        d = {x.name: x for x in self.api.defines}
        self.assertEqual((d['SCRM_TIME_MIN'].value, d['SCRM_TIME_MIN'].ctype),
                         (-62135596800, 'int64_t'))
        self.assertEqual(d['SCRM_RFM_AS_OF_DEFAULT'].value, -2**63)
        self.assertEqual(d['SCRM_VERSION_STRING'].value, shopcrm.version())
        self.assertEqual(d['SCRM_VERSION_NUMBER'].value, shopcrm.version_number())
        self.assertNotIn('SCRM_EXPORT', d)
        self.assertNotIn('SCRM_RFM_OPTIONS_INIT', d)

    def test_ctype_roundtrip(self):
        for s in ('int', 'const char *const *', 'scrm_dataset **', 'const uint8_t *'):
            self.assertEqual(api.format_ctype(api.parse_ctype(s)), s)
        self.assertEqual(api.format_ctype(api.parse_ctype('unsigned int')), 'unsigned')
        self.assertEqual(api.format_ctype(api.parse_ctype('char const*')), 'const char *')

    def test_json_dump(self):
        import json
        data = json.loads(self.api.to_json())
        self.assertEqual(data['functions'][0]['params'][0]['name'],
                         self.api.functions[0].params[0].name)


HEADER = '''\
/**
 * @file shopcrm/t.h
 * @brief A test header.
 */
#ifndef T_H
#define T_H
#include <stdint.h>
{body}
#endif
'''


@unittest.skipUnless(HAVE_DOXYGEN, 'doxygen not installed')
@unittest.skipIf(SECOND_PASS, 'run in the numpy pass')
class FailsLoudly(unittest.TestCase):
    def model(self, body):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, 'shopcrm'))
            with open(os.path.join(tmp, 'shopcrm', 't.h'), 'w') as f:
                f.write(HEADER.format(body=textwrap.dedent(body)))
            return api.load_api(tmp)

    def fails(self, body, *words):
        with self.assertRaises(api.ApiError) as cm:
            self.model(body)
        for w in words:
            self.assertIn(w, str(cm.exception))

    def test_good_header(self):
        m = self.model('''
            /** A handle. */
            typedef struct scrm_thing scrm_thing;
            /** Five. */
            #define SCRM_FIVE (2 + 3)
            /** Make one.
             * @param[out] out  the thing.
             * @return SCRM_OK. */
            int scrm_thing_new(scrm_thing **out);
        ''')
        self.assertEqual(m.function('scrm_thing_new').params, [('out', 'scrm_thing **', 'out')])
        self.assertEqual(m.define('SCRM_FIVE').value, 5)

    def test_unknown_type(self):
        self.fails('/** F. @param x x. @return 0. */\nint scrm_f(float x);', 'scrm_f', 'float')

    def test_array_parameter(self):
        self.fails('/** G. @param a a. @return 0. */\nint scrm_g(int a[4]);', 'scrm_g')

    def test_variadic(self):
        self.fails('/** H. @param n n. @return 0. */\nint scrm_h(int n, ...);', 'scrm_h')

    def test_function_like_macro(self):
        self.fails('/** M. */\n#define SCRM_M(x) ((x) + 1)', 'SCRM_M')

    def test_non_constant_macro(self):
        self.fails('/** B. */\n#define SCRM_BAD some_function()', 'SCRM_BAD')

    def test_union(self):
        self.fails('/** U. */\ntypedef union scrm_u { int a; double b; } scrm_u;', 'scrm_u')


LEN_HEADER = '''
/** A handle. */
typedef struct scrm_thing scrm_thing;
/** Its size.
 * @param t  the thing.
 * @return the count. */
unsigned scrm_thing_count(const scrm_thing *t);
/** A column.
 * @param t  the thing.
 * @return an array. {decl} */
const double *scrm_thing_values(const scrm_thing *t);
'''


@unittest.skipUnless(HAVE_DOXYGEN, 'doxygen not installed')
@unittest.skipIf(SECOND_PASS, 'run in the numpy pass')
class LengthDeclarations(unittest.TestCase):
    """@scrm_len / @scrm_shape / @scrm_buffer (docs/Doxyfile.in ALIASES)."""

    model = FailsLoudly.model
    fails = FailsLoudly.fails

    def test_real_headers(self):
        m = api.load_api(os.path.join(REPO, 'include'))
        self.assertEqual(m.function('scrm_rfm_edges').ret_len, 'scrm_rfm_bins(r) - 1')
        self.assertEqual(m.function('scrm_cohorts_ltv').ret_shape,
                         ['scrm_cohorts_count(r)', 'scrm_cohorts_periods(r)'])
        self.assertEqual(m.function('scrm_rfm_audience').buffers,
                         {'indices_out': ('capacity', 'count_out')})
        rfm = next(s for s in m.structs if s.name == 'scrm_rfm_options')
        self.assertEqual(rfm.lengths, {'r_edges': 'bins - 1', 'f_edges': 'bins - 1',
                                       'm_edges': 'bins - 1'})

    def test_expression(self):
        t = api.parse_len('scrm_a(r) * scrm_b(scrm_c(r)) + 2 - n', 'x')
        self.assertEqual(t, ('-', ('+', ('*', ('call', 'scrm_a', [('name', 'r')]),
                                        ('call', 'scrm_b', [('call', 'scrm_c', [('name', 'r')])])),
                                   ('num', 2)), ('name', 'n')))
        for bad in ('r /', 'scrm_a(r', '(1', 'r / 2', '1 2'):
            with self.assertRaises(api.ApiError):
                api.parse_len(bad, 'x')

    def test_declared(self):
        m = self.model(LEN_HEADER.format(decl='@scrm_len{scrm_thing_count(t) + 1}'))
        self.assertEqual(m.function('scrm_thing_values').ret_len, 'scrm_thing_count(t) + 1')

    def test_unknown_parameter(self):
        self.fails(LEN_HEADER.format(decl='@scrm_len{scrm_thing_count(x)}'),
                   'scrm_thing_values', "'x'")

    def test_unknown_function(self):
        self.fails(LEN_HEADER.format(decl='@scrm_len{scrm_nothing(t)}'),
                   'scrm_thing_values', 'scrm_nothing')

    def test_wrong_arity(self):
        self.fails(LEN_HEADER.format(decl='@scrm_len{scrm_thing_count(t, t)}'),
                   'scrm_thing_values', 'takes 1')

    def test_undeclared_column_fails_in_the_node_generator(self):
        import gen_node
        m = self.model(LEN_HEADER.format(decl='') + '''
/** Free. @param t the thing. */
void scrm_thing_free(scrm_thing *t);
''')
        saved, gen_node.HAND_WRITTEN = gen_node.HAND_WRITTEN, {}  # names of the real API
        try:
            with self.assertRaises(api.ApiError) as cm:
                gen_node.generate(m, REPO)
        finally:
            gen_node.HAND_WRITTEN = saved
        self.assertIn('scrm_thing_values', str(cm.exception))
        self.assertIn('@scrm_len', str(cm.exception))


if __name__ == '__main__':
    unittest.main()
