"""help() says the options, their defaults and each column's unit (issue 10:
"help(Dataset.rfm) shows the options and their defaults, each column says
its unit"). Checked in the docstring itself, not the signature line that
help() prints above it: the text must say each option and its default."""

import inspect
import pydoc
import unittest

from support import shopcrm


def helptext(obj):
    pydoc.render_doc(obj, renderer=pydoc.plaintext)  # help() works on it
    return inspect.getdoc(obj) or ''



class Docstrings(unittest.TestCase):
    def assertSays(self, obj, *texts):
        doc = helptext(obj)
        for t in texts:
            self.assertIn(t, doc, f'help({getattr(obj, "__qualname__", obj)}) lacks {t!r}')

    def test_rfm_options_and_defaults(self):
        self.assertSays(shopcrm.Dataset.rfm, 'bins=5', "method='quantile'", "'ntile'",
                        "'fixed'", 'as_of=None', 'utc_offset=0', "frequency='orders'",
                        "monetary='sum'", 'edges=None', "segments='default'", '"rfm11-v1"',
                        'threads=0', 'progress=None', 'recency_days (days)',
                        'minor money')

    def test_kpi_and_cohorts(self):
        self.assertSays(shopcrm.Dataset.kpi, 'start=None', 'end=None', 'lookback=None',
                        "the window's length", 'minor units', 'in days')
        self.assertSays(shopcrm.Dataset.cohorts, "period='month'", "mode='classic'",
                        'min_amount=0', 'refunds=False', 'acquisition=None', 'share 0..1')

    def test_loaders(self):
        for f in (shopcrm.Dataset.from_csv, shopcrm.Dataset.load_csv):
            self.assertSays(f, "customer='customer_id'", "time_format='auto'", "decimal='.'",
                            "on_error='strict'", 'minor_digits=2', 'max_rejects=100',
                            'major units')
        self.assertSays(shopcrm.Dataset.from_arrays, 'order_keys=None', "key_type='auto'",
                        'minor_digits=None', 'minor units', 'epoch seconds', 'without a copy')
        self.assertSays(shopcrm.Dataset.from_pandas, "customer='customer_id'", 'order=None',
                        'major units', 'halves to even')

    def test_to_pandas(self):
        self.assertSays(shopcrm.Rfm.to_pandas, "money='major'", 'index=False',
                        'recency_days (days', 'major units')
        self.assertSays(shopcrm.Cohorts.to_pandas, "metric='retention'", 'share 0..1')

    def test_every_column_says_its_unit(self):
        units = {'recency_days': 'Unit: days', 'frequency': 'Unit: orders',
                 'monetary': 'Unit: money, minor units', 'revenue': 'Unit: money',
                 'r': 'Unit: score', 'f': 'Unit: score', 'm': 'Unit: score',
                 'segment': 'Unit: segment index', 'segment_customers': 'Unit: customers',
                 'segment_revenue': 'Unit: money'}
        for name, text in units.items():
            self.assertIn(text, getattr(shopcrm.Rfm, name).__doc__, f'Rfm.{name}')
        self.assertIn('Unit: share', shopcrm.Cohorts.retention.__doc__)
        self.assertIn('Unit: money per customer', shopcrm.Cohorts.ltv.__doc__)
        # every generated column, whatever it is
        for cls in (shopcrm.Rfm, shopcrm.Cohorts):
            for name in dir(cls):
                if name.startswith('_c_'):
                    self.assertIn('Unit: ', getattr(cls, name).__doc__, f'{cls.__name__}.{name}')


if __name__ == '__main__':
    unittest.main()
