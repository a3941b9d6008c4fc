#!/usr/bin/env python3
"""Tests of the `shopcrm` command line.

Run by meson (tests/meson.build, section "cli") with SHOPCRM_EXE = the built
executable and SHOPCRM_SOURCE_ROOT = the source tree. Expected values for the
fixture tests/data/cli_small.csv (8 customers, hand-made synthetic data) are
worked out by hand in the comments; where pandas is available the same values
are also recomputed from the documented definitions as an independent oracle.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from datetime import date

EXE = os.environ.get("SHOPCRM_EXE")
ROOT = os.environ.get("SHOPCRM_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = os.path.join(ROOT, "tests", "data", "cli_small.csv")
SAMPLE = os.path.join(ROOT, "examples", "data", "cdnow_orders.csv")
DATA = os.path.join(ROOT, "tests", "data")
COHORTS = os.path.join(ROOT, "tests", "data", "cli_cohorts.csv")
DATA = os.path.join(ROOT, "tests", "data")

try:
    import pandas as pd
except ImportError:  # the Debian interpreter has it; others may not
    pd = None


def run(*args, **kw):
    r = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, **kw)
    # Under -Db_sanitize=address,undefined a leak or UB report may come with an
    # exit status the test expects anyway (1): fail on the report itself.
    if "Sanitizer" in r.stderr or "runtime error:" in r.stderr:
        raise AssertionError(f"sanitizer report for {args}:\n{r.stderr}")
    return r


# Hand-worked RFM of cli_small.csv with the defaults (as of 2024-04-01, the day
# after the last order 2024-03-31; quantile scores 1 + floor(5 c / 8), c = the
# number of customers strictly worse):
#   cust last order  recency  freq  monetary   R F M  rfm11-v2 segment (rfm11-v1)
#   1    2024-03-01    31       3     40.50     4 5 4  Champions
#   2    2024-01-20    72       1     30.00     1 1 3  Hibernating  (unassigned; refund 03-15 is not an order)
#   3    2024-02-28    33       2     12.25     2 4 2  At Risk
#   4    2024-02-15    46       2     38.00     2 4 4  Loyal Customers
#   5    2024-03-30     2       1    100.00     4 1 5  Potential Loyalist (unassigned)
#   6    2024-01-01    91       1      7.77     1 1 1  Lost
#   7    2024-02-29    32       1     15.00     3 1 2  Potential Loyalist
#   8    2024-03-31     1       1      3.33     5 1 1  New Customers
SMALL_RFM = {
    "1": (31, 3, "40.50", 4, 5, 4, "Champions"),
    "2": (72, 1, "30.00", 1, 1, 3, "Hibernating"),
    "3": (33, 2, "12.25", 2, 4, 2, "At Risk"),
    "4": (46, 2, "38.00", 2, 4, 4, "Loyal Customers"),
    "5": (2, 1, "100.00", 4, 1, 5, "Potential Loyalist"),
    "6": (91, 1, "7.77", 1, 1, 1, "Lost"),
    "7": (32, 1, "15.00", 3, 1, 2, "Potential Loyalist"),
    "8": (1, 1, "3.33", 5, 1, 1, "New Customers"),
}
HEADER = ["customer", "recency_days", "frequency", "monetary", "r", "f", "m", "segment"]


def pandas_cohorts(df, orders, period, mode):
    """The long-form cohort CSV rows recomputed with pandas from the
    definitions (cohorts.h, docs/cli.md): cohort = period of the first order
    (amount >= 0), k = periods since, observation end = period of the last
    row, one row per cell with cohort + k <= end."""
    epoch, monday0 = pd.Timestamp("1970-01-01"), pd.Timestamp("1969-12-29")

    def index(d):
        if period == "day":
            return (d - epoch).dt.days
        if period == "week":  # ISO weeks: Mondays since the Monday 1969-12-29
            return (d - monday0).dt.days // 7
        if period == "month":
            return (d.dt.year - 1970) * 12 + d.dt.month - 1
        return (d.dt.year - 1970) * 4 + (d.dt.month - 1) // 3

    def label(i):
        if period == "day":
            return (epoch + pd.Timedelta(days=i)).strftime("%Y-%m-%d")
        if period == "week":
            y, w, _ = (monday0 + pd.Timedelta(days=7 * i)).isocalendar()
            return f"{y}-W{w:02d}"
        if period == "month":
            return f"{1970 + i // 12}-{i % 12 + 1:02d}"
        return f"{1970 + i // 4}-Q{i % 4 + 1}"

    o = orders.assign(p=index(orders.date))
    first = o.groupby("customer_id").p.min().rename("c")
    o = o.join(first, on="customer_id")
    o["k"] = o.p - o.c
    end = int(index(df.date).max())
    # the last period is partial when the day after the last row starts
    # before the next period does
    day_after = df.date.max().normalize() + pd.Timedelta(days=1)
    partial = int(index(pd.Series([day_after]))[0]) == end
    sizes = first.value_counts()
    cells = o.groupby(["c", "k"]).agg(active=("customer_id", "nunique"),
                                      orders=("amount", "size"), revenue=("amount", "sum"))
    last_k = o.groupby("customer_id").k.max()
    rows = []
    for c in range(int(first.min()), int(first.max()) + 1):
        size = int(sizes.get(c, 0))
        for k in range(0, end - c + 1):
            if (c, k) in cells.index:
                active, n, rev = cells.loc[(c, k)]
            else:
                active, n, rev = 0, 0, 0.0
            if mode == "rolling":
                active = int((last_k[first == c] >= k).sum())
            cents = int(round(rev * 100))
            ret = "" if size == 0 else repr(int(active) / size)
            if ret.endswith(".0"):
                ret = ret[:-2]
            rows.append([label(c), str(k), str(size), str(int(active)), str(int(n)),
                         f"{cents // 100}.{cents % 100:02d}", ret,
                         "1" if partial and c + k == end else "0"])
    return rows


def read_rows(path_or_text, is_text=False):
    f = io.StringIO(path_or_text) if is_text else open(path_or_text, newline="")
    with f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p, "w", newline="") as f:
            f.write(text)
        return p

    def ok(self, *args):
        r = run(*args)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r

    def fails(self, code, *args):
        r = run(*args)
        self.assertEqual(r.returncode, code, f"{args}: exit {r.returncode}, stderr {r.stderr!r}")
        self.assertTrue(r.stderr.startswith("shopcrm: "), r.stderr)
        return r

    # ---- help, version, usage errors ----

    def test_version_names_program_and_library(self):
        r = self.ok("--version")
        self.assertRegex(r.stdout, r"^shopcrm \d+\.\d+\.\d+ \(libshopcrm \d+\.\d+\.\d+\)\n$")

    def test_help_for_program_and_each_command(self):
        r = self.ok("--help")
        self.assertIn("Usage: shopcrm COMMAND", r.stdout)
        self.assertIn("rfm", r.stdout)
        self.assertIn("kpi", r.stdout)
        r = self.ok("rfm", "--help")
        for opt in ("--as-of", "--bins", "--method", "--edges-r", "--frequency", "--monetary",
                    "--segments", "--out", "--customer-col", "--time-format", "--json"):
            self.assertIn(opt, r.stdout)
        r = self.ok("kpi", "--help")
        for opt in ("--from", "--to", "--decimal-comma", "--delimiter", "--utc-offset"):
            self.assertIn(opt, r.stdout)
        self.assertNotIn("--bins", r.stdout)
        self.assertIn("--lookback", r.stdout)
        self.assertIn("cohorts", self.ok("--help").stdout)
        r = self.ok("cohorts", "--help")
        for opt in ("--period", "--metric", "--mode", "--out", "--svg", "--from", "--to",
                    "--utc-offset", "--json", "--customer-col"):
            self.assertIn(opt, r.stdout)
        self.assertNotIn("--lookback", r.stdout)
        self.assertEqual(self.ok("help", "cohorts").stdout, r.stdout)
        # help wins even after a bad option, and needs no file
        self.ok("kpi", "--bogus", "-h")
        self.assertEqual(self.ok("help", "rfm").stdout, run("rfm", "--help").stdout)

    def test_usage_errors_exit_2(self):
        cases = [
            (),                                   # no command
            ("frobnicate", SMALL),                # unknown command
            ("rfm",),                             # no file
            ("rfm", SMALL, "--bogus"),            # unknown option
            ("rfm", SMALL, "--bins"),             # missing value
            ("rfm", SMALL, "--bins", "1"),        # out of range
            ("rfm", SMALL, "--bins", "11"),
            ("rfm", SMALL, "--bins", "5x"),
            ("rfm", SMALL, "--method", "median"),
            ("rfm", SMALL, "--as-of", "2024-02-30"),
            ("rfm", SMALL, "--as-of", "yesterday"),
            ("rfm", SMALL, "--from", "2024-01-01"),   # kpi option given to rfm
            ("kpi", SMALL, "--bins", "3"),            # rfm option given to kpi
            ("kpi", SMALL, "--from", "2024-03-01", "--to", "2024-02-01"),
            ("rfm", SMALL, "--method", "fixed"),      # no edges
            ("rfm", SMALL, "--edges-r", "10,20,30", "--edges-f", "1,2,3,4",
             "--edges-m", "1,2,3,4"),                 # 3 edges for 5 bins
            ("rfm", SMALL, "--edges-r", "30,20,10,5", "--edges-f", "1,2,3,4",
             "--edges-m", "1,2,3,4"),                 # not ascending
            ("rfm", SMALL, "--segments", "rfm11", "--bins", "4"),
            ("rfm", SMALL, "--time-format", "american"),
            ("rfm", SMALL, "--delimiter", "|"),
            ("rfm", SMALL, "--utc-offset", "+25:00"),
            ("rfm", SMALL, "--quantity-col", "cds"),  # without --price-col
            ("rfm", SMALL, SMALL),                    # two files
            ("rfm", SMALL, "--json=yes"),
            ("kpi", SMALL, "--lookback", "0"),
            ("kpi", SMALL, "--lookback", "36601"),
            ("kpi", SMALL, "--lookback", "7d"),
            ("rfm", SMALL, "--lookback", "30"),
            ("cohorts",),
            ("cohorts", COHORTS, "--period", "fortnight"),
            ("cohorts", COHORTS, "--metric", "churn"),
            ("cohorts", COHORTS, "--mode", "cumulative"),
            ("cohorts", COHORTS, "--bins", "3"),             # rfm option
            ("cohorts", COHORTS, "--lookback", "30"),        # kpi option
            ("cohorts", COHORTS, "--from", "2024-03-01", "--to", "2024-03-01"),
            ("cohorts", COHORTS, "--from", "2024-03-01", "--to", "2024-02-01"),
            ("cohorts", COHORTS, "--svg", ""),
            ("cohorts", COHORTS, "--out", "x.csv", "--svg", "x.csv"),
            ("rfm", SMALL, "--svg", "x.svg"),
            ("kpi", SMALL, "--period", "week"),
        ]
        for args in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
                if args:
                    self.assertTrue(r.stderr.startswith("shopcrm: "), r.stderr)
                self.assertEqual(r.stdout, "")

    def test_missing_file_exits_1_naming_it(self):
        missing = os.path.join(self.dir, "nope.csv")
        for cmd in ("rfm", "kpi", "cohorts"):
            r = self.fails(1, cmd, missing)
            self.assertIn("nope.csv", r.stderr)
            self.assertEqual(r.stdout, "")

    def test_bad_row_exits_1_with_line_or_is_skipped_on_request(self):
        p = self.write("bad.csv", "customer_id,date,cds,amount\n"
                                  "1,2024-01-01,1,10.00\n"
                                  "2,2024-01-02,1,12.5x\n"
                                  "3,2024-01-03,1,7.00\n")
        r = self.fails(1, "kpi", p)
        self.assertIn("line 3", r.stderr)
        r = self.ok("kpi", p, "--skip-bad-rows", "--json")
        self.assertIn("rejected", r.stderr)
        self.assertIn("line 3", r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["load"]["rejected"], 1)
        self.assertEqual(out["orders"], 2)
        self.assertEqual(out["revenue"], 17.0)

    def test_missing_column_is_a_data_error(self):
        r = self.fails(1, "rfm", SMALL, "--amount-col", "sales")
        self.assertIn("sales", r.stderr)
        self.fails(1, "kpi", self.write("empty.csv", ""))

    def test_header_only_file_gives_empty_reports(self):
        p = self.write("h.csv", "customer_id,date,amount\n")
        out = json.loads(self.ok("kpi", p, "--json").stdout)
        self.assertEqual((out["orders"], out["customers"], out["revenue"]), (0, 0, 0))
        self.assertIsNone(out["average_order_value"])
        out = json.loads(self.ok("rfm", p, "--json").stdout)
        self.assertEqual(out["customers"], 0)
        self.assertEqual(out["unassigned"], 0)

    def test_as_of_before_last_order_scores_the_snapshot(self):
        # the snapshot of the whole file at 2024-03-01 is the RFM of the rows
        # dated before it (filtered here with the csv module), as of that date
        with open(SMALL, newline="") as f:
            rows = list(csv.reader(f))
        kept = [rows[0]] + [r for r in rows[1:] if r[1] < "2024-03-01"]
        early = self.write("early.csv", "".join(",".join(r) + "\n" for r in kept))
        a, b = os.path.join(self.dir, "a.csv"), os.path.join(self.dir, "b.csv")
        r = self.ok("rfm", SMALL, "--as-of", "2024-03-01", "--out", a)
        self.ok("rfm", early, "--as-of", "2024-03-01", "--out", b)
        with open(a) as fa, open(b) as fb:
            self.assertEqual(fa.read(), fb.read())
        left = len(rows) - len(kept)
        self.assertIn(f"as of 2024-03-01: {left} rows at or after it left out", r.stdout)
        self.assertEqual(len(read_rows(a)[1]), 6)
        self.assertIn("not scored: 2 customers without an order before 2024-03-01", r.stdout)
        out = json.loads(self.ok("rfm", SMALL, "--as-of", "2024-03-01", "--json").stdout)
        self.assertEqual((out["customers"], out["scored"], out["rows_after_as_of"]),
                         (8, 6, left))

    # ---- rfm on real data (issue 11) ----

    OLIST = ("--customer-col", "cliente", "--time-col", "data_compra", "--amount-col", "valor",
             "--decimal-comma")
    CDNOW = ("--customer-col", "customer", "--amount-col", "dollars")

    def test_rfm_default_segments_name_every_customer_on_olist_and_cdnow(self):
        for path, opts in ((os.path.join(DATA, "olist_orders_br.csv"), self.OLIST),
                           (os.path.join(DATA, "rfm_cdnow_sample.csv"), self.CDNOW)):
            with self.subTest(path=path):
                r = self.ok("rfm", path, *opts)
                self.assertIn("segments rfm11-v2", r.stdout)
                self.assertNotIn("(unassigned)", r.stdout)
                out = json.loads(self.ok("rfm", path, *opts, "--json").stdout)
                self.assertEqual(out["unassigned"], 0)
                self.assertEqual(sum(s["customers"] for s in out["segments"]), out["scored"])
                # the published rfm11-v1 leaves customers out on the same data
                r = self.ok("rfm", path, *opts, "--segments", "rfm11-v1")
                self.assertIn("(unassigned)", r.stdout)

    @unittest.skipIf(pd is None, "pandas not available")
    def test_rfm_refund_only_customers_reported_apart_online_retail(self):
        path = os.path.join(DATA, "online_retail_rows11001_12000.csv")
        opts = ("--customer-col", "CustomerID", "--time-col", "InvoiceDate",
                "--quantity-col", "Quantity", "--price-col", "UnitPrice")
        out_csv = os.path.join(self.dir, "rfm.csv")
        r = self.ok("rfm", path, *opts, "--out", out_csv)
        df = pd.read_csv(path, dtype={"CustomerID": str}, keep_default_na=False)
        df = df[df.CustomerID != "NA"]  # no customer: skipped by the default set (docs/csv.md)
        cents = (df.Quantity * (df.UnitPrice * 100).round().astype(int)).astype(int)
        g = pd.DataFrame({"c": df.CustomerID, "a": cents}).groupby("c").a
        ronly = g.max()[g.max() < 0].index  # no line with amount >= 0: no order
        self.assertIn("15864", ronly)       # its one line is a cancellation
        refunds = int(g.sum()[ronly].sum())
        money = "%s%d.%02d" % ("-" if refunds < 0 else "", abs(refunds) // 100, abs(refunds) % 100)
        self.assertIn(f"not scored: {len(ronly)} refund-only customers (refunds, no order), "
                      f"refunds {money} (in no segment)", r.stdout)
        _, rows = read_rows(out_csv)
        keys = {row[0] for row in rows}
        self.assertNotIn("15864", keys)
        self.assertEqual(keys, set(g.max().index) - set(ronly))
        out = json.loads(self.ok("rfm", path, *opts, "--json").stdout)
        self.assertEqual(out["refund_only"]["customers"], len(ronly))
        self.assertAlmostEqual(out["refund_only"]["refunds"], refunds / 100)
        self.assertEqual(out["scored"], len(keys))
        # no segment holds their refunds: the segments add up to the scored revenue
        scored = int(g.sum().drop(ronly).sum())
        self.assertAlmostEqual(sum(s["revenue"] for s in out["segments"]), scored / 100)

    @unittest.skipIf(pd is None, "pandas not available")
    def test_rfm_degenerate_frequency_warned_on_olist(self):
        path = os.path.join(DATA, "olist_orders_br.csv")
        r = self.ok("rfm", path, *self.OLIST)
        df = pd.read_csv(path, sep=";")
        counts = df.groupby("cliente").size()
        share = counts.value_counts().max() / len(counts)
        self.assertGreater(share, 0.5)
        self.assertIn("warning: F is degenerate: %.1f%% of the %d scored customers share one "
                      "value" % (100 * share, len(counts)), r.stderr)
        self.assertIn("--frequency days", r.stderr)
        out = json.loads(self.ok("rfm", path, *self.OLIST, "--json").stdout)
        self.assertTrue(out["degenerate"]["f"]["majority"])
        self.assertAlmostEqual(out["degenerate"]["f"]["majority_share"], share)
        self.assertFalse(out["degenerate"]["m"]["majority"])

    @unittest.skipIf(pd is None, "pandas not available")
    def test_review_messages_say_what_happened(self):
        # a window past the data: the warning names both ends of the data
        r = self.ok("kpi", SMALL, "--from", "2024-03-15", "--to", "2024-05-01")
        self.assertIn("the window reaches outside the data (2023-12-31 to 2024-03-31)", r.stderr)
        # a file without orders says so
        empty = os.path.join(self.dir, "empty.csv")
        with open(empty, "w") as f:
            f.write("customer_id,date,amount\nNA,2024-01-01,1.00\n")
        r = self.ok("kpi", empty)
        self.assertIn("gave no orders (1 rows read): there is nothing to analyse", r.stderr)
        # count-only: fixed edges need no --edges-m (there is no M)
        elog = os.path.join(self.dir, "elog.csv")
        with open(elog, "w") as f:
            f.write("cust,date\n1,2024-01-01\n1,2024-03-01\n2,2024-02-01\n3,2024-03-10\n")
        out = os.path.join(self.dir, "rf.csv")
        self.ok("rfm", elog, "--customer-col", "cust", "--amount-col", "none",
                "--edges-r", "10,20,30,40", "--edges-f", "2,3,4,5", "--out", out)
        # as of 2024-03-11 (the day after the last row), by hand: recency 10
        # (in [10, 20): R 4), 39 (Feb 1 to Mar 11 in a leap year; [30, 40): R 2)
        # and 1 (below 10: R 5); F 2 in [2, 3): F 2, one order: F 1; no M column
        head, rows = read_rows(out)
        self.assertEqual(head, ["customer", "recency_days", "frequency", "r", "f", "segment"])
        self.assertEqual([row[:5] for row in rows],
                         [["1", "10", "2", "4", "2"], ["2", "39", "1", "2", "1"],
                          ["3", "1", "1", "5", "1"]])
        r = self.fails(2, "rfm", SMALL, "--edges-f", "2,3,5,10")
        self.assertIn("--method fixed needs --edges-r, --edges-f and --edges-m", r.stderr)
        # more than 8 --exclude columns: a usage error before the file is read
        args = [a for i in range(9) for a in ("--exclude", f"c{i}=x")]
        r = self.fails(2, "kpi", SMALL, *args)
        self.assertIn("--exclude: more than 8 columns", r.stderr)
        self.assertNotIn("loaded", r.stderr)

    def test_rfm_count_only_grocery_matches_pandas(self):
        path = os.path.join(DATA, "grocery_elog.csv")
        opts = ("--customer-col", "cust", "--amount-col", "none")
        out_csv = os.path.join(self.dir, "rfm.csv")
        r = self.ok("rfm", path, *opts, "--out", out_csv)
        self.assertIn("no amounts (count-only)", r.stderr)
        self.assertIn("segments rf10-v1, no amounts (R and F only)", r.stdout)
        self.assertNotIn("revenue", r.stdout)
        header, rows = read_rows(out_csv)
        self.assertEqual(header, ["customer", "recency_days", "frequency", "r", "f", "segment"])
        df = pd.read_csv(path, parse_dates=["date"])
        as_of = df.date.max() + pd.Timedelta(days=1)
        g = df.groupby("cust").date
        want = pd.DataFrame({"recency_days": (as_of - g.max()).dt.days, "frequency": g.size()})
        n = len(want)

        def score(s):  # rfm.h quantile: 1 + (N * (rank_min - 1)) // n
            return (1 + (5 * (s.rank(method="min") - 1)) // n).astype(int)

        want["r"], want["f"] = score(-want.recency_days), score(want.frequency)
        rf10 = [("Hibernating", 1, 2, 1, 2), ("At Risk", 1, 2, 3, 4), ("Can't Lose", 1, 2, 5, 5),
                ("About To Sleep", 3, 3, 1, 2), ("Need Attention", 3, 3, 3, 3),
                ("Loyal Customers", 3, 4, 4, 5), ("Promising", 4, 4, 1, 1),
                ("New Customers", 5, 5, 1, 1), ("Potential Loyalists", 4, 5, 2, 3),
                ("Champions", 5, 5, 4, 5)]
        want["segment"] = [next(nm for nm, a, b, c, d in rf10 if a <= R <= b and c <= F <= d)
                           for R, F in zip(want.r, want.f)]
        got = pd.DataFrame(rows, columns=header).astype(
            {"customer": int, "recency_days": int, "frequency": int, "r": int, "f": int})
        got = got.set_index("customer")
        self.assertEqual(list(got.index), sorted(want.index))  # customer key order
        for col in ("recency_days", "frequency", "r", "f", "segment"):
            self.assertEqual(list(got[col]), list(want.sort_index()[col]), col)
        out = json.loads(self.ok("rfm", path, *opts, "--json").stdout)
        self.assertEqual(out["monetary"], "absent")
        self.assertFalse(out["load"]["amounts"])
        self.assertNotIn("revenue", out)
        self.assertNotIn("m", out["edges"])
        # KPIs and cohorts: money is absent, not 0
        k = self.ok("kpi", path, *opts)
        self.assertRegex(k.stdout, r"\nrevenue +absent\n")
        self.assertRegex(k.stdout, r"\norders +10483\n")
        kj = json.loads(self.ok("kpi", path, *opts, "--json").stdout)
        self.assertIsNone(kj["revenue"])
        self.assertEqual(kj["orders"], 10483)
        c = self.fails(1, "cohorts", path, *opts, "--metric", "revenue")
        self.assertIn("no amounts", c.stderr)

    def test_rfm_out_rows_in_customer_key_order(self):
        for path, opts, conv in ((os.path.join(DATA, "rfm_cdnow_sample.csv"), self.CDNOW, int),
                                 (os.path.join(DATA, "olist_orders_br.csv"), self.OLIST,
                                  lambda k: k.encode())):
            with self.subTest(path=path):
                out = os.path.join(self.dir, "o.csv")
                self.ok("rfm", path, *opts, "--out", out)
                keys = [conv(row[0]) for row in read_rows(out)[1]]
                self.assertEqual(keys, sorted(keys))  # numeric / bytewise
                self.ok("rfm", path, *opts, "--out", out, "--threads", "1")
                self.assertEqual([conv(row[0]) for row in read_rows(out)[1]], keys)

    def test_rfm_edges_not_finite_say_so(self):
        for v in ("nan", "1,2,inf,4", "1,nan"):
            with self.subTest(edges=v):
                r = self.fails(2, "rfm", SMALL, "--edges-r", "1,2,3,4", "--edges-f", "1,2,3,4",
                               "--edges-m", v)
                self.assertIn("is not a finite number", r.stderr)
        r = self.fails(2, "rfm", SMALL, "--edges-m", "1,2,3,4,5,6,7,8,9,10")
        self.assertIn("more than 9 edges", r.stderr)
        r = self.fails(2, "rfm", SMALL, "--edges-m", "1,x")
        self.assertIn("not a comma-separated list of numbers", r.stderr)

    # ---- rfm ----

    def test_rfm_small_matches_hand_worked_scores(self):
        out = os.path.join(self.dir, "rfm.csv")
        r = self.ok("rfm", SMALL, "--out", out)
        header, rows = read_rows(out)
        self.assertEqual(header, HEADER)
        got = {row[0]: (int(row[1]), int(row[2]), row[3], int(row[4]), int(row[5]),
                        int(row[6]), row[7]) for row in rows}
        self.assertEqual(len(rows), 8)
        self.assertEqual(got, SMALL_RFM)
        # the summary table and the load report
        self.assertIn("as of 2024-04-01", r.stdout)
        self.assertIn("Champions", r.stdout)
        self.assertNotIn("(unassigned)", r.stdout)  # rfm11-v2 names every cell
        self.assertRegex(r.stderr, r"loaded .*cli_small\.csv: 13 rows, 8 customers, 0 skipped"
                                   r".*0 rejected; time format iso")

    @unittest.skipIf(pd is None, "pandas not available")
    def test_rfm_small_matches_pandas_oracle(self):
        out = os.path.join(self.dir, "rfm.csv")
        self.ok("rfm", SMALL, "--out", out)
        got = pd.read_csv(out, dtype={"customer": str}).set_index("customer").sort_index()
        df = pd.read_csv(SMALL, dtype={"customer_id": str}, parse_dates=["date"])
        orders = df[df.amount >= 0]
        as_of = df.date.max().normalize() + pd.Timedelta(days=1)
        g = df.groupby("customer_id")
        want = pd.DataFrame({
            "recency_days": (as_of - orders.groupby("customer_id").date.max()).dt.days,
            "frequency": orders.groupby("customer_id").size(),
            "monetary": g.amount.sum().round(2),
        }).sort_index()
        n = len(want)

        def score(s):  # rfm.h: 1 + (N * (rank_min - 1)) // n
            return (1 + (5 * (s.rank(method="min") - 1)) // n).astype(int)

        want["r"] = score(-want.recency_days)
        want["f"] = score(want.frequency)
        want["m"] = score(want.monetary)
        for col in ("recency_days", "frequency", "r", "f", "m"):
            self.assertEqual(list(got[col]), list(want[col]), col)
        self.assertEqual([round(x, 2) for x in got.monetary], list(want.monetary))

    def test_rfm_json_summary(self):
        r = self.ok("rfm", SMALL, "--json")
        out = json.loads(r.stdout)
        self.assertEqual(out["segment_map"], "rfm11-v2")
        self.assertEqual((out["unassigned"], out["scored"]), (0, 8))
        self.assertEqual(out["refund_only"], {"customers": 0, "refunds": 0.0})
        self.assertEqual(out["rows_after_as_of"], 0)
        self.assertEqual(out["degenerate"]["f"], {"majority": True, "edges_collapse": True,
                                                  "majority_share": 0.625})
        r = self.ok("rfm", SMALL, "--json", "--segments", "rfm11-v1")
        out = json.loads(r.stdout)  # exactly one JSON object on stdout
        self.assertEqual(r.stdout.count("\n"), 1)
        self.assertEqual(out["command"], "rfm")
        self.assertEqual(out["customers"], 8)
        self.assertEqual(out["as_of"], "2024-04-01")
        self.assertEqual(out["bins"], 5)
        self.assertEqual(out["method"], "quantile")
        self.assertEqual(out["segment_map"], "rfm11-v1")
        self.assertEqual(out["load"]["rows"], 13)
        self.assertEqual(out["load"]["time_format"], "iso")
        # total revenue: 256.85 of orders - 10.00 refund
        self.assertAlmostEqual(out["revenue"], 246.85, places=9)
        seg = {s["segment"]: s for s in out["segments"]}
        # unassigned: customers 2 and 5 (revenue 30 + 100, R 1,4  F 1,1  M 3,5)
        self.assertEqual(out["unassigned"], 2)
        self.assertEqual(seg[None]["customers"], 2)
        self.assertAlmostEqual(seg[None]["revenue"], 130.0)
        self.assertAlmostEqual(seg[None]["mean_r"], 2.5)
        self.assertAlmostEqual(seg[None]["mean_m"], 4.0)
        self.assertAlmostEqual(seg[None]["share"], 0.25)
        for name, cust, rev, mr, mf, mm in [
                ("Champions", 1, 40.50, 4, 5, 4), ("At Risk", 1, 12.25, 2, 4, 2),
                ("Loyal Customers", 1, 38.00, 2, 4, 4), ("Lost", 1, 7.77, 1, 1, 1),
                ("Potential Loyalist", 1, 15.00, 3, 1, 2), ("New Customers", 1, 3.33, 5, 1, 1)]:
            with self.subTest(segment=name):
                self.assertEqual(seg[name]["customers"], cust)
                self.assertAlmostEqual(seg[name]["revenue"], rev)
                self.assertAlmostEqual(seg[name]["share"], 0.125)
                self.assertEqual((seg[name]["mean_r"], seg[name]["mean_f"],
                                  seg[name]["mean_m"]), (mr, mf, mm))
        # empty segments have null means
        self.assertEqual(seg["Promising"]["customers"], 0)
        self.assertIsNone(seg["Promising"]["mean_r"])
        self.assertEqual(len(out["edges"]["r"]), 4)

    def test_rfm_as_of_shifts_recency(self):
        out = os.path.join(self.dir, "a.csv")
        self.ok("rfm", SMALL, "--as-of", "2024-04-11", "--out", out)
        _, rows = read_rows(out)
        got = {row[0]: int(row[1]) for row in rows}
        self.assertEqual(got, {k: v[0] + 10 for k, v in SMALL_RFM.items()})
        # later on the day of the last order: recency 0 for customer 8; at the
        # start of that day its order is not yet in the snapshot: not scored
        self.ok("rfm", SMALL, "--as-of", "2024-03-31T23:59", "--out", out)
        _, rows = read_rows(out)
        self.assertEqual({row[0]: int(row[1]) for row in rows}["8"], 0)
        self.ok("rfm", SMALL, "--as-of", "20240331", "--out", out)
        _, rows = read_rows(out)
        self.assertNotIn("8", {row[0] for row in rows})

    def test_rfm_bins_change_scores_and_drop_default_segments(self):
        out = os.path.join(self.dir, "b.csv")
        r = self.ok("rfm", SMALL, "--bins", "3", "--out", out, "--json")
        _, rows = read_rows(out)
        # 3 bins: F = 1 + floor(3 c / 8): F=1 c=0 -> 1, F=2 c=5 -> 2, F=3 c=7 -> 3
        f = {row[0]: int(row[5]) for row in rows}
        self.assertEqual(f, {"1": 3, "2": 1, "3": 2, "4": 2, "5": 1, "6": 1, "7": 1, "8": 1})
        self.assertTrue(all(1 <= int(row[c]) <= 3 for row in rows for c in (4, 5, 6)))
        self.assertTrue(all(row[7] == "" for row in rows))  # no preset for 3 bins
        self.assertEqual(json.loads(r.stdout)["segment_map"], "none")

    def test_rfm_ntile_fills_buckets_in_sql_order(self):
        out = os.path.join(self.dir, "n.csv")
        self.ok("rfm", SMALL, "--method", "ntile", "--out", out)
        _, rows = read_rows(out)
        # NTILE(5) over 8 rows: bucket sizes 2,2,2,1,1 in every dimension.
        for col in (4, 5, 6):
            sizes = [sum(1 for row in rows if int(row[col]) == s) for s in range(1, 6)]
            self.assertEqual(sizes, [2, 2, 2, 1, 1], HEADER[col])
        # F ordered by (frequency, key): 2,5,6,7,8 (F=1), 3,4 (F=2), 1 (F=3)
        f = {row[0]: int(row[5]) for row in rows}
        self.assertEqual(f, {"2": 1, "5": 1, "6": 2, "7": 2, "8": 3, "3": 3, "4": 4, "1": 5})

    def test_rfm_fixed_edges(self):
        out = os.path.join(self.dir, "f.csv")
        self.ok("rfm", SMALL, "--edges-r", "7,30,45,80", "--edges-f", "2,3,4,5",
                "--edges-m", "10,20,40,90", "--out", out)
        _, rows = read_rows(out)
        got = {row[0]: (int(row[4]), int(row[5]), int(row[6])) for row in rows}
        # R = 5 - #{edges <= recency}; F, M = 1 + #{edges <= value} (M edges in major units)
        want = {"1": (3, 3, 4), "2": (2, 1, 3), "3": (3, 2, 2), "4": (2, 2, 3),
                "5": (5, 1, 5), "6": (1, 1, 1), "7": (3, 1, 2), "8": (5, 1, 1)}
        self.assertEqual(got, want)

    def test_rfm_frequency_days_and_monetary_mean(self):
        out = os.path.join(self.dir, "m.csv")
        self.ok("rfm", SMALL, "--monetary", "mean", "--frequency", "days", "--out", out)
        _, rows = read_rows(out)
        got = {row[0]: (int(row[2]), row[3]) for row in rows}
        # customer 1: 3 days, 40.50 / 3 = 13.50; 3: 12.25 / 2 = 6.125 -> 6.13 (half away)
        self.assertEqual(got["1"], (3, "13.50"))
        self.assertEqual(got["3"], (2, "6.13"))
        self.assertEqual(got["2"], (1, "30.00"))

    def test_rfm_rf10_segments(self):
        out = os.path.join(self.dir, "s.csv")
        self.ok("rfm", SMALL, "--segments", "rf10", "--out", out)
        _, rows = read_rows(out)
        got = {row[0]: row[7] for row in rows}
        self.assertEqual(got, {"1": "Loyal Customers", "2": "Hibernating", "3": "At Risk",
                               "4": "At Risk", "5": "Promising", "6": "Hibernating",
                               "7": "About To Sleep", "8": "New Customers"})

    def test_rfm_out_dash_writes_csv_to_stdout(self):
        r = self.ok("rfm", SMALL, "--out", "-")
        header, rows = read_rows(r.stdout, is_text=True)
        self.assertEqual(header, HEADER)
        self.assertEqual(len(rows), 8)
        self.assertIn("Champions", r.stderr)  # the summary went to stderr

    def test_column_and_format_options(self):
        # Same orders as cli_small.csv, with other column names, ';' delimiter,
        # decimal commas, DD/MM/YYYY dates and a UTF-8 BOM.
        lines = ["\ufeffwho;when;amt"]
        with open(SMALL) as f:
            next(f)
            for line in f:
                c, d, _, a = line.strip().split(",")
                y, m, dd = d.split("-")
                lines.append(f"{c};{dd}/{m}/{y};{a.replace('.', ',')}")
        p = self.write("eu.csv", "\n".join(lines) + "\n")
        out = os.path.join(self.dir, "eu_rfm.csv")
        r = self.ok("rfm", p, "--customer-col", "who", "--time-col", "when", "--amount-col",
                    "amt", "--delimiter", ";", "--decimal-comma", "--time-format", "dmy",
                    "--out", out)
        self.assertIn("time format dmy", r.stderr)
        _, rows = read_rows(out)
        got = {row[0]: (int(row[1]), int(row[2]), row[3], int(row[4]), int(row[5]),
                        int(row[6]), row[7]) for row in rows}
        self.assertEqual(got, SMALL_RFM)

    def test_quantity_times_price(self):
        p = self.write("qp.csv", "customer_id,date,qty,price\n"
                                 "a,2024-01-01,3,2.50\n"
                                 "b,2024-01-02,1,10\n")
        r = self.ok("kpi", p, "--quantity-col", "qty", "--price-col", "price", "--json")
        out = json.loads(r.stdout)
        self.assertEqual(out["revenue"], 17.5)
        self.assertEqual(out["customers"], 2)

    def test_order_col_merges_the_lines_of_an_order(self):
        p = self.write("lines.csv", "customer_id,date,amount,order\n"
                                    "1,2024-01-02,5.00,A\n"
                                    "1,2024-01-01,5.00,A\n"
                                    "2,2024-01-02,7.00,B\n")
        r = self.ok("kpi", p, "--order-col", "order", "--json")
        out = json.loads(r.stdout)
        self.assertEqual(out["orders"], 2)
        self.assertEqual(out["revenue"], 17.0)  # A = 5 + 5, B = 7
        self.assertEqual(out["load"]["duplicates"], 0)
        self.assertEqual(out["load"]["lines_merged"], 1)
        self.assertEqual(out["load"]["orders_merged"], 1)
        self.assertIn("orders: 2 orders; 1 lines merged into 1 orders of several lines", r.stderr)
        # without --order-col each row is an order
        out = json.loads(self.ok("kpi", p, "--json").stdout)
        self.assertEqual(out["orders"], 3)
        # a line of another customer: a bad row
        p = self.write("bad.csv", "customer_id,date,amount,order\n"
                                  "1,2024-01-01,5.00,A\n"
                                  "2,2024-01-02,7.00,A\n")
        r = self.fails(1, "kpi", p, "--order-col", "order")
        self.assertIn("line 3, column order: the order's first line has customer '1', this "
                      "line '2': an order has one customer", r.stderr)
        r = self.ok("kpi", p, "--order-col", "order", "--skip-bad-rows", "--json")
        self.assertEqual(json.loads(r.stdout)["load"]["rejected"], 1)

    def test_exclude_and_na_customer_options(self):
        p = self.write("st.csv", "customer_id,date,amount,status\n"
                                 "1,2024-01-01,1.00,ok\n"
                                 "NA,2024-01-01,2.00,ok\n"
                                 "guest,2024-01-01,4.00,ok\n"
                                 "2,2024-01-01,8.00,canceled\n"
                                 "3,2024-01-01,16.00,void\n")
        out = json.loads(self.ok("kpi", p, "--json").stdout)
        self.assertEqual(out["load"]["skipped_empty_customer"], 1)
        self.assertEqual(out["revenue"], 29.0)
        out = json.loads(self.ok("kpi", p, "--json", "--na-customer", "guest",
                                 "--exclude", "status=canceled,void").stdout)
        self.assertEqual(out["load"]["skipped_empty_customer"], 2)
        self.assertEqual(out["load"]["excluded"], 2)
        self.assertEqual(out["revenue"], 1.0)
        out = json.loads(self.ok("kpi", p, "--json", "--no-default-na", "--exclude",
                                 "status=canceled", "--exclude", "status=void").stdout)
        self.assertEqual(out["load"]["skipped_empty_customer"], 0)
        self.assertEqual(out["load"]["excluded"], 2)
        self.assertEqual(out["revenue"], 7.0)
        r = self.fails(2, "kpi", p, "--exclude", "status")
        self.assertIn("--exclude: 'status' is not COLUMN=VALUE[,VALUE...]", r.stderr)
        r = self.fails(1, "kpi", p, "--exclude", "state=x")
        self.assertIn("column 'state' not found", r.stderr)

    def test_online_retail_invoice_lines_and_na_customers(self):
        # tests/data/online_retail_head2000.csv as R's write.csv wrote it:
        # CustomerID NA for unknown customers, one row per invoice line.
        path = os.path.join(ROOT, "tests", "data", "online_retail_head2000.csv")
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        known = [r for r in rows if r["CustomerID"] not in ("", "NA")]
        invoices = {r["InvoiceNo"] for r in known}
        customers = {r["CustomerID"] for r in known}
        args = ["kpi", path, "--customer-col", "CustomerID", "--time-col", "InvoiceDate",
                "--quantity-col", "Quantity", "--price-col", "UnitPrice", "--json"]
        out = json.loads(self.ok(*args, "--order-col", "InvoiceNo").stdout)
        self.assertEqual(out["load"]["skipped_empty_customer"], len(rows) - len(known))
        self.assertEqual(out["load"]["customers"], len(customers))
        self.assertEqual(out["load"]["added"], len(invoices))
        self.assertEqual(out["load"]["lines_merged"], len(known) - len(invoices))
        # without the default set, NA is one customer (a string key)
        out = json.loads(self.ok(*args, "--no-default-na").stdout)
        self.assertEqual(out["load"]["skipped_empty_customer"], 0)
        self.assertEqual(out["load"]["customers"], len(customers) + 1)
        out = json.loads(self.ok(*args, "--no-default-na", "--na-customer", "NA").stdout)
        self.assertEqual(out["load"]["customers"], len(customers))

    def test_olist_orders_from_joined_order_items(self):
        # The Olist orders, customers and items (tests/data/olist_2017/), joined
        # here into one line per item: order id, the person (customer_unique_id),
        # status, purchase time, price + freight_value. Expected orders and
        # totals by csv + decimal.
        import gzip
        from decimal import Decimal
        d = os.path.join(ROOT, "tests", "data", "olist_2017")

        def rows(name):
            with gzip.open(os.path.join(d, name + ".csv.gz"), "rt", newline="") as f:
                return list(csv.DictReader(f))
        orders = {r["order_id"]: r for r in rows("orders")}
        person = {r["customer_id"]: r["customer_unique_id"] for r in rows("customers")}
        lines = []
        for it in rows("order_items"):
            o = orders[it["order_id"]]
            lines.append((it["order_id"], person[o["customer_id"]], o["order_status"],
                          o["order_purchase_timestamp"],
                          Decimal(it["price"]) + Decimal(it["freight_value"])))
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["order_id", "customer_unique_id", "order_status",
                    "order_purchase_timestamp", "value"])
        w.writerows(lines)
        p = self.write("olist_lines.csv", buf.getvalue())
        args = ["kpi", p, "--customer-col", "customer_unique_id", "--time-col",
                "order_purchase_timestamp", "--amount-col", "value", "--order-col",
                "order_id", "--json"]
        for excluded in ((), ("canceled", "unavailable")):
            kept = [ln for ln in lines if ln[2] not in excluded]
            want_orders = {ln[0] for ln in kept}
            want_total = sum((ln[4] for ln in kept), Decimal(0))
            extra = ["--exclude", "order_status=" + ",".join(excluded)] if excluded else []
            out = json.loads(self.ok(*args, *extra).stdout)
            self.assertEqual(out["orders"], len(want_orders))
            self.assertEqual(Decimal(str(out["revenue"])), want_total)
            self.assertEqual(out["load"]["excluded"], len(lines) - len(kept))
            self.assertEqual(out["load"]["lines_merged"], len(kept) - len(want_orders))
            if not excluded:  # the published figure of the whole subset
                self.assertEqual((len(want_orders), want_total), (9889, Decimal("1599993.50")))
        # each order is at its purchase time: the first order of the year
        first = min(ln[3] for ln in lines)
        out = json.loads(self.ok(*args, "--to", first[:10]).stdout)
        self.assertEqual(out["orders"], 0)

    # ---- kpi ----

    def test_kpi_whole_file(self):
        r = self.ok("kpi", SMALL, "--json")
        out = json.loads(r.stdout)
        # 12 orders (13 rows, one refund), 8 customers, all new; repeat: 1, 3, 4.
        # order revenue 256.85, refunds -10.00, revenue 246.85.
        want = {"orders": 12, "refunds": 1, "customers": 8, "new_customers": 8,
                "returning_customers": 0, "repeat_customers": 3, "revenue": 246.85,
                "order_revenue": 256.85, "refund_amount": -10.0, "new_revenue": 246.85,
                "returning_revenue": 0.0, "from": None, "to": None}
        for k, v in want.items():
            self.assertEqual(out[k], v, k)
        self.assertAlmostEqual(out["average_order_value"], 256.85 / 12, places=12)
        self.assertAlmostEqual(out["purchase_frequency"], 1.5)
        self.assertAlmostEqual(out["repeat_rate"], 3 / 8)
        self.assertAlmostEqual(out["revenue_per_customer"], 246.85 / 8, places=12)
        self.assertAlmostEqual(out["new_revenue_share"], 1.0)
        self.assertEqual(out["returning_revenue_share"], 0.0)

    def test_kpi_window_from_inclusive_to_exclusive(self):
        r = self.ok("kpi", SMALL, "--from", "2024-02-01", "--to", "2024-03-01", "--json")
        out = json.loads(r.stdout)
        # February: 1@02-10 25.50, 3@02-01 0.00 (start, included), 3@02-28 12.25,
        # 4@02-15 8.00, 7@02-29 15.00; 1@03-01 excluded (end).
        # New: 3, 7 (first orders in Feb). Returning: 1, 4. Repeat: 3.
        want = {"orders": 5, "refunds": 0, "customers": 4, "new_customers": 2,
                "returning_customers": 2, "repeat_customers": 1, "revenue": 60.75,
                "order_revenue": 60.75, "new_revenue": 27.25, "returning_revenue": 33.5,
                "from": "2024-02-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}
        for k, v in want.items():
            self.assertEqual(out[k], v, k)
        self.assertAlmostEqual(out["average_order_value"], 12.15, places=12)
        self.assertAlmostEqual(out["purchase_frequency"], 1.25)
        self.assertAlmostEqual(out["repeat_rate"], 0.25)
        self.assertAlmostEqual(out["revenue_per_customer"], 15.1875)
        self.assertAlmostEqual(out["new_customer_share"], 0.5)
        self.assertAlmostEqual(out["new_revenue_share"], 27.25 / 60.75, places=12)
        self.assertAlmostEqual(out["returning_revenue_share"], 33.5 / 60.75, places=12)

    @unittest.skipIf(pd is None, "pandas not available")
    def test_kpi_window_matches_pandas(self):
        df = pd.read_csv(SMALL, parse_dates=["date"])
        for lo, hi in [("2024-01-01", "2024-02-01"), ("2024-03-01", "2024-04-01"),
                       ("2023-12-31", "2024-01-01")]:
            with self.subTest(window=(lo, hi)):
                out = json.loads(self.ok("kpi", SMALL, "--from", lo, "--to", hi,
                                         "--json").stdout)
                w = df[(df.date >= lo) & (df.date < hi)]
                o = w[w.amount >= 0]
                first = df[df.amount >= 0].groupby("customer_id").date.min()
                custs = set(o.customer_id)
                new = {c for c in custs if first[c] >= pd.Timestamp(lo)}
                self.assertEqual(out["orders"], len(o))
                self.assertEqual(out["customers"], len(custs))
                self.assertEqual(out["new_customers"], len(new))
                self.assertAlmostEqual(out["revenue"], w.amount.sum(), places=9)
                self.assertAlmostEqual(out["average_order_value"], o.amount.mean(), places=9)
                rep = (o.groupby("customer_id").size() >= 2).sum()
                self.assertAlmostEqual(out["repeat_rate"], rep / len(custs))

    def test_kpi_retention(self):
        # February with a 30-day lookback. Customers at 2024-02-01 (an order in
        # [01-02, 02-01)): 1 (01-05), 2 (01-20); 4's 12-31 and 6's 01-01 are
        # too early: S = 2. At 2024-03-01 ([01-31, 03-01)): 1, 3, 4, 7: E = 4,
        # of which 3 and 7 are new: E - N = 2 (1 and 4, who had lapsed):
        # retention 2 / 2 = 100 %. Intervals in the window: 3, 02-01 -> 02-28.
        out = json.loads(self.ok("kpi", SMALL, "--from", "2024-02-01", "--to", "2024-03-01",
                                 "--lookback", "30", "--json").stdout)
        # S and E share customer 1 (retained_from_start, half of S); 4 is
        # reactivated (not new, not in S, in E).
        want = {"customers_at_start": 2, "customers_at_end": 4, "retained_customers": 2,
                "retention_rate": 1.0, "churn_rate": 0.0, "purchase_intervals": 1,
                "mean_days_between_purchases": 27.0, "median_days_between_purchases": 27.0,
                "lookback_days": 30, "retained_from_start": 1, "retained_from_start_share": 0.5,
                "reactivated_customers": 1, "lookback_incomplete": False, "partial": False}
        for k, v in want.items():
            self.assertEqual(out[k], v, k)
        # Default lookback: the window's length, 29 days for February: S = an
        # order in [01-03, 02-01) = {1, 2}; E = the window's customers {1, 3,
        # 4, 7}, new 3, 7: the same counts as with 30 days.
        # Window [2024-03-01, 2024-03-31), 30 days: S = an order in [01-31,
        # 03-01) = {1, 3, 4, 7}; E = {1 (03-01), 5 (03-30)} (2's 03-15 is a
        # refund, 8's 03-31 is after the window), new: 5: E - N = {1},
        # retention 1 / 4, S & E = {1}, reactivated 0.
        out = json.loads(self.ok("kpi", SMALL, "--from", "2024-02-01", "--to", "2024-03-01",
                                 "--json").stdout)
        self.assertEqual((out["customers_at_start"], out["customers_at_end"],
                          out["retained_customers"], out["lookback_days"]), (2, 4, 2, 29))
        out = json.loads(self.ok("kpi", SMALL, "--from", "2024-03-01", "--to", "2024-03-31",
                                 "--json").stdout)
        self.assertEqual((out["customers_at_start"], out["customers_at_end"],
                          out["retained_customers"], out["retention_rate"],
                          out["retained_from_start"], out["reactivated_customers"]),
                         (4, 2, 1, 0.25, 1, 0))
        # A lookback reaching before the data's first day (2023-12-31) is
        # flagged and warned about: 60 days before 2024-02-01 is 2023-12-03.
        r = self.ok("kpi", SMALL, "--from", "2024-02-01", "--to", "2024-04-01", "--json")
        self.assertIs(json.loads(r.stdout)["lookback_incomplete"], True)
        self.assertIn("warning: the lookback before --from reaches before the first order "
                      "of the data (2023-12-31)", r.stderr)
        r = self.ok("kpi", SMALL, "--from", "2024-02-01", "--to", "2024-03-01")
        self.assertNotIn("warning", r.stderr)
        # Without --to nobody is a customer "at the end": retention is n/a
        r = self.ok("kpi", SMALL, "--from", "2024-02-01")
        self.assertRegex(r.stdout, r"(?m)^retention_rate\s+n/a$")
        self.assertRegex(r.stdout, r"(?m)^churn_rate\s+n/a$")
        r = self.ok("kpi", SMALL, "--from", "2024-02-01", "--to", "2024-03-01", "--lookback", "30")
        self.assertRegex(r.stdout, r"(?m)^retention_rate\s+100\.00%$")
        self.assertRegex(r.stdout, r"(?m)^median_days_between_purchases\s+27\.00 days$")

    def test_kpi_empty_window_prints_na_and_null(self):
        r = self.ok("kpi", SMALL, "--from", "2030-01-01")
        self.assertRegex(r.stdout, r"average_order_value\s+n/a")
        self.assertRegex(r.stdout, r"orders\s+0\n")
        out = json.loads(self.ok("kpi", SMALL, "--from", "2030-01-01", "--json").stdout)
        self.assertEqual(out["orders"], 0)
        self.assertIsNone(out["average_order_value"])
        self.assertIsNone(out["repeat_rate"])

    def test_kpi_utc_offset_moves_the_window(self):
        # Epoch times: 1704153600 = 2024-01-02T00:00Z. At -03:00 that is
        # 2024-01-01 21:00 local, so it falls in a local window of Jan 1.
        p = self.write("epoch.csv", "customer_id,date,amount\n"
                                    "1,1704153600,10.00\n"
                                    "2,1704164400,20.00\n")   # 2024-01-02T03:00Z = 00:00 local
        day1 = ("--from", "2024-01-01", "--to", "2024-01-02", "--json")
        out = json.loads(self.ok("kpi", p, *day1, "--utc-offset", "-03:00").stdout)
        self.assertEqual(out["orders"], 1)
        self.assertEqual(out["revenue"], 10.0)
        out = json.loads(self.ok("kpi", p, *day1, "--utc-offset", "-10800").stdout)
        self.assertEqual(out["orders"], 1)
        out = json.loads(self.ok("kpi", p, *day1).stdout)
        self.assertEqual(out["orders"], 0)

    def test_kpi_table_lists_every_metric(self):
        r = self.ok("kpi", SMALL)
        for name in ("orders", "customers", "revenue", "average_order_value",
                     "purchase_frequency", "repeat_rate", "new_customers",
                     "returning_customers", "new_revenue_share", "revenue_per_customer"):
            self.assertRegex(r.stdout, rf"(?m)^{name}\s")
        self.assertRegex(r.stdout, r"(?m)^revenue\s+246\.85$")
        self.assertRegex(r.stdout, r"(?m)^repeat_rate\s+37\.50%$")

    def test_kpi_by_month_table_json_and_csv(self):
        # Months of SMALL (the data spans 2023-12-31 .. 2024-03-31); a row's
        # customers at the start are those of the month before.
        # 2023-12: 4 (30.00), new; November is before the data (S
        #   incomplete) and December starts before it (partial).
        # 2024-01: 6, 1, 2, all new; S = {4}, none retained: retention 0.
        # 2024-02: 3 (twice), 1, 4, 7: 5 orders, 60.75; new 3, 7; S = {6, 1,
        #   2}, E - N = {1, 4}: retention 2/3, S & E = {1}, 4 reactivated.
        # 2024-03: 1, 5, 8 (2's refund is no order); S = {1, 3, 4, 7}, E - N =
        #   {1}: retention 1/4, nothing reactivated; March is whole.
        r = self.ok("kpi", SMALL, "--by", "month")
        self.assertIn("by month: 4 rows, lookback the month before", r.stdout)
        self.assertEqual(self.table_row(r.stdout, "2024-02"),
                         ["2024-02", "5", "4", "2", "60.75", "12.15", "25.00%", "66.67%",
                          "33.33%", "33.33%", "1"])
        self.assertEqual(self.table_row(r.stdout, "2023-12")[-3:],
                         ["partial,", "S", "incomplete"])
        self.assertEqual(self.table_row(r.stdout, "2024-01")[-2:], ["S", "incomplete"])
        self.assertEqual(self.table_row(r.stdout, "2024-03")[-1], "0")
        self.assertIn("warning: the lookback of 2 rows (through 2024-01)", r.stderr)
        self.assertIn("warning: 2023-12 is only partly covered", r.stderr)
        out = json.loads(self.ok("kpi", SMALL, "--by", "month", "--json").stdout)
        self.assertEqual((out["by"], out["lookback_days"]), ("month", None))
        rows = out["rows"]
        self.assertEqual([x["period"] for x in rows], ["2023-12", "2024-01", "2024-02", "2024-03"])
        self.assertEqual((rows[2]["start"], rows[2]["end"]),
                         ("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"))
        self.assertEqual([x["retention_rate"] for x in rows], [None, 0.0, 2 / 3, 0.25])
        self.assertEqual([x["reactivated_customers"] for x in rows], [0, 0, 1, 0])
        self.assertEqual([(x["lookback_incomplete"], x["partial"]) for x in rows],
                         [(True, True), (True, False), (False, False), (False, False)])
        self.assertEqual(rows[2]["revenue"], 60.75)
        # --out: every metric of every row; '-' puts the table on stderr
        r = self.ok("kpi", SMALL, "--by", "month", "--out", "-")
        header, csv_rows = read_rows(r.stdout, is_text=True)
        self.assertEqual(header[:6], ["period", "start", "end", "lookback_incomplete", "partial",
                                      "orders"])
        feb = dict(zip(header, csv_rows[2]))
        self.assertEqual((feb["period"], feb["orders"], feb["revenue"], feb["lookback_incomplete"],
                          feb["retained_from_start"]), ("2024-02", "5", "60.75", "0", "1"))
        self.assertEqual(dict(zip(header, csv_rows[0]))["retention_rate"], "")  # undefined
        self.assertIn("by month: 4 rows", r.stderr)
        # a lookback given in days, and weeks from a Monday
        out = json.loads(self.ok("kpi", SMALL, "--by", "month", "--lookback", "30",
                                 "--json").stdout)
        self.assertEqual(out["lookback_days"], 30)
        out = json.loads(self.ok("kpi", SMALL, "--by", "week", "--from", "2024-01-01",
                                 "--to", "2024-01-15", "--json").stdout)
        self.assertEqual([x["period"] for x in out["rows"]], ["2024-W01", "2024-W02"])

    def test_kpi_by_errors(self):
        r = self.fails(2, "kpi", SMALL, "--by", "fortnight")
        self.assertIn("--by: 'fortnight' is not one of day, week, month, quarter, year", r.stderr)
        r = self.fails(2, "kpi", SMALL, "--out", os.path.join(self.dir, "k.csv"))
        self.assertIn("--out writes one row per period: give --by too", r.stderr)
        # 2024-01-03 is a Wednesday, inside ISO week 2024-W01
        # a usage error before the file is read, naming the option and the start
        r = self.fails(2, "kpi", SMALL, "--by", "week", "--from", "2024-01-03")
        self.assertIn("--from 2024-01-03 is inside 2024-W01: with --by week it must start a "
                      "period (2024-01-01)", r.stderr)
        self.assertNotIn("loaded", r.stderr)
        r = self.fails(2, "kpi", SMALL, "--by", "month", "--to", "2024-02-15")
        self.assertIn("--to 2024-02-15 is inside 2024-02", r.stderr)
        # --amount-col and quantity x price both give the amount
        r = self.fails(2, "kpi", SMALL, "--quantity-col", "q", "--price-col", "p",
                       "--amount-col", "amount")
        self.assertIn("--amount-col and --quantity-col/--price-col both give the amount", r.stderr)

    def test_no_progress_for_small_files_even_on_a_terminal(self):
        import pty
        master, slave = pty.openpty()
        try:
            r = subprocess.run([EXE, "kpi", SMALL], stdout=subprocess.PIPE, stderr=slave,
                               timeout=60)
        finally:
            os.close(slave)
        err = b""
        try:
            while True:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                err += chunk
        except OSError:  # EIO once the terminal's other side is closed
            pass
        os.close(master)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"loaded", err)
        self.assertNotIn(b"loading", err)

    # ---- cohorts ----
    #
    # tests/data/cli_cohorts.csv, monthly cohorts (period of the first order;
    # refunds are not orders and count nowhere; observation end = April, the
    # month of the last row, so K = 4 columns):
    #   2024-01: c1, c2, c3, c8 (size 4)   2024-02: c4, c5 (2)
    #   2024-03: c6 (1)                    2024-04: c7 (1)
    # cell (cohort, k): active customers, orders, revenue, retention
    #   2024-01 k0: c1 10, c2 15 + 5 (2 orders), c3 8, c8 100   4 5 138.00 1
    #           k1: c1 20 (c3's refund is not activity)        1 1  20.00 0.25
    #           k2: c2 12                                      1 1  12.00 0.25
    #           k3: c1 5                                       1 1   5.00 0.25
    #   2024-02 k0: c4 30 + 10, c5 0.00 (a zero order counts)  2 3  40.00 1
    #           k1: c4 7.50                                    1 1   7.50 0.5
    #           k2: c5 50                                      1 1  50.00 0.5
    #   2024-03 k0: c6 9.99                                    1 1   9.99 1
    #           k1: nobody                                     0 0   0.00 0
    #   2024-04 k0: c7 1 + 2                                   1 2   3.00 1
    # Cells after April (e.g. 2024-02 k3) are not observed: not in the CSV.
    COHORT_ROWS = [
        ["2024-01", "0", "4", "4", "5", "138.00", "1", "0"],
        ["2024-01", "1", "4", "1", "1", "20.00", "0.25", "0"],
        ["2024-01", "2", "4", "1", "1", "12.00", "0.25", "0"],
        ["2024-01", "3", "4", "1", "1", "5.00", "0.25", "0"],
        ["2024-02", "0", "2", "2", "3", "40.00", "1", "0"],
        ["2024-02", "1", "2", "1", "1", "7.50", "0.5", "0"],
        ["2024-02", "2", "2", "1", "1", "50.00", "0.5", "0"],
        ["2024-03", "0", "1", "1", "1", "9.99", "1", "0"],
        ["2024-03", "1", "1", "0", "0", "0.00", "0", "0"],
        ["2024-04", "0", "1", "1", "2", "3.00", "1", "0"],
    ]
    COHORT_HEADER = ["cohort", "period", "cohort_size", "active_customers", "orders",
                     "revenue", "retention", "partial"]

    def test_cohorts_long_csv_matches_hand_worked_matrix(self):
        out = os.path.join(self.dir, "cohorts.csv")
        r = self.ok("cohorts", COHORTS, "--out", out)
        header, rows = read_rows(out)
        self.assertEqual(header, self.COHORT_HEADER)
        self.assertEqual(rows, self.COHORT_ROWS)
        self.assertIn("2024-01", r.stdout)  # the table still goes to stdout
        # '-' writes the CSV to stdout and the table to stderr
        r = self.ok("cohorts", COHORTS, "--out", "-")
        header, rows = read_rows(r.stdout, is_text=True)
        self.assertEqual(rows, self.COHORT_ROWS)
        self.assertIn("observed through 2024-04", r.stderr)

    def test_cohorts_table_is_aligned_with_percentages(self):
        r = self.ok("cohorts", COHORTS)
        lines = r.stdout.splitlines()
        self.assertIn("4 month cohorts, observed through 2024-04; retention (classic)", lines[0])
        self.assertEqual(lines[1], "")
        self.assertEqual(lines[2].split(), ["cohort", "size", "0", "1", "2", "3"])
        self.assertEqual(lines[3].split(), ["2024-01", "4", "100.0%", "25.0%", "25.0%", "25.0%"])
        self.assertEqual(lines[4].split(), ["2024-02", "2", "100.0%", "50.0%", "50.0%"])
        self.assertEqual(lines[5].split(), ["2024-03", "1", "100.0%", "0.0%"])
        self.assertEqual(lines[6].split(), ["2024-04", "1", "100.0%"])
        # aligned: every value ends where its column header ends
        ends = [lines[2].index(h) + len(h) for h in ("size", "0", "1", "2", "3")]
        for line in lines[3:7]:
            for i, cell in enumerate(line.split()[1:]):
                col_end = ends[i]
                self.assertEqual(line[col_end - len(cell):col_end], cell, line)
        r = self.ok("cohorts", COHORTS, "--metric", "revenue")
        self.assertEqual(r.stdout.splitlines()[3].split(),
                         ["2024-01", "4", "138.00", "20.00", "12.00", "5.00"])
        r = self.ok("cohorts", COHORTS, "--metric", "orders")
        self.assertEqual(r.stdout.splitlines()[4].split(), ["2024-02", "2", "3", "1", "1"])
        r = self.ok("cohorts", COHORTS, "--metric", "customers")
        self.assertEqual(r.stdout.splitlines()[3].split(), ["2024-01", "4", "4", "1", "1", "1"])
        # ltv: cumulative revenue per acquired customer: 138/4, 158/4, 170/4, 175/4
        r = self.ok("cohorts", COHORTS, "--metric", "ltv")
        self.assertEqual(r.stdout.splitlines()[3].split(),
                         ["2024-01", "4", "34.50", "39.50", "42.50", "43.75"])

    def test_cohorts_json(self):
        out = json.loads(self.ok("cohorts", COHORTS, "--json").stdout)
        self.assertEqual((out["command"], out["period"], out["mode"], out["metric"],
                          out["observation_end"], out["periods"]),
                         ("cohorts", "month", "classic", "retention", "2024-04", 4))
        self.assertEqual(out["load"]["customers"], 8)
        self.assertEqual([c["cohort"] for c in out["cohorts"]],
                         ["2024-01", "2024-02", "2024-03", "2024-04"])
        self.assertEqual([c["size"] for c in out["cohorts"]], [4, 2, 1, 1])
        self.assertEqual(out["cohorts"][0]["values"], [1, 0.25, 0.25, 0.25])
        self.assertEqual(out["cohorts"][1]["values"], [1, 0.5, 0.5, None])  # None: not observed
        self.assertEqual(out["cohorts"][3]["values"], [1, None, None, None])
        rev = json.loads(self.ok("cohorts", COHORTS, "--json", "--metric", "revenue").stdout)
        self.assertEqual(rev["cohorts"][2]["values"], [9.99, 0.0, None, None])
        ltv = json.loads(self.ok("cohorts", COHORTS, "--json", "--metric", "ltv").stdout)
        self.assertEqual(ltv["cohorts"][0]["values"], [34.5, 39.5, 42.5, 43.75])

    def test_cohorts_rolling_quarter_and_window(self):
        # Rolling: active in period k or later. 2024-01: k1 c1 (Feb, Apr), c2
        # (Mar) = 2/4; k2 c1, c2 = 2/4; k3 c1 = 1/4. 2024-02: k1 c4 (Mar), c5
        # (Apr) = 2/2; k2 c5 = 1/2.
        out = json.loads(self.ok("cohorts", COHORTS, "--json", "--mode", "rolling").stdout)
        self.assertEqual(out["mode"], "rolling")
        self.assertEqual(out["cohorts"][0]["values"], [1, 0.5, 0.5, 0.25])
        self.assertEqual(out["cohorts"][1]["values"], [1, 1, 0.5, None])
        # Quarters: Q1 = c1..c6, c8 (c6 on 03-31 is still Q1), Q2 = c7.
        # Q1 k0: 12 orders, 227.49; k1 (Q2): c1 (04-30), c5 (04-01): 2/7, 55.00.
        out = os.path.join(self.dir, "q.csv")
        self.ok("cohorts", COHORTS, "--period", "quarter", "--out", out)
        self.assertEqual(read_rows(out)[1], [
            ["2024-Q1", "0", "7", "7", "12", "227.49", "1", "0"],
            ["2024-Q1", "1", "7", "2", "2", "55.00", repr(2 / 7), "1"],
            ["2024-Q2", "0", "1", "1", "2", "3.00", "1", "1"]])  # the data ends on 04-30
        r = self.ok("cohorts", COHORTS, "--period", "quarter", "--json")
        self.assertIs(json.loads(r.stdout)["last_period_partial"], True)
        self.assertEqual(json.loads(r.stdout)["partial_periods"], 1)
        # --to two months after the data (it ends on 2024-04-30): April is
        # whole, May and June have no data: not shown as 0% months unmarked
        r = self.ok("cohorts", COHORTS, "--to", "2024-07-01", "--out", out)
        self.assertIn("2024-05 to 2024-06 are not observed to their end: the data ends on "
                      "2024-04-30", r.stderr)
        rows = read_rows(out)[1]
        cal = lambda row: int(row[0][5:7]) + int(row[1])  # calendar month of the cell
        self.assertTrue(rows and all(row[-1] == ("1" if cal(row) >= 5 else "0") for row in rows))
        self.assertEqual(json.loads(self.ok("cohorts", COHORTS, "--to", "2024-07-01",
                                            "--json").stdout)["partial_periods"], 2)
        # A window: only orders in [2024-02-01, 2024-04-01). Cohorts by first
        # order *in the window*: 2024-02: c1 (02-14), c4, c5 = 3; 2024-03: c2
        # (03-01), c6 = 2. Observation end: March (--to). Feb k1: c4 = 1/3.
        out = json.loads(self.ok("cohorts", COHORTS, "--json", "--from", "2024-02-01",
                                 "--to", "2024-04-01").stdout)
        self.assertEqual(out["observation_end"], "2024-03")
        self.assertEqual([(c["cohort"], c["size"]) for c in out["cohorts"]],
                         [("2024-02", 3), ("2024-03", 2)])
        self.assertEqual(out["cohorts"][0]["values"], [1, 1 / 3])
        # weeks: ISO labels; c1's 2024-01-03 is in 2024-W01
        out = json.loads(self.ok("cohorts", COHORTS, "--json", "--period", "week").stdout)
        self.assertEqual(out["cohorts"][0]["cohort"], "2024-W01")
        self.assertEqual(out["observation_end"], "2024-W18")  # 2024-04-30 is a Tuesday

    @unittest.skipIf(pd is None, "pandas not available")
    def test_cohorts_long_csv_matches_pandas(self):
        df = pd.read_csv(COHORTS, parse_dates=["date"])
        orders = df[df.amount >= 0].copy()
        for period in ("month", "week", "quarter", "day"):
            for mode in ("classic", "rolling"):
                with self.subTest(period=period, mode=mode):
                    out = os.path.join(self.dir, f"{period}-{mode}.csv")
                    self.ok("cohorts", COHORTS, "--period", period, "--mode", mode,
                            "--out", out)
                    got = read_rows(out)[1]
                    self.assertEqual(got, pandas_cohorts(df, orders, period, mode))

    def test_cohorts_empty_file(self):
        p = self.write("h.csv", "customer_id,date,amount\n")
        out = json.loads(self.ok("cohorts", p, "--json").stdout)
        self.assertEqual((out["cohorts"], out["periods"], out["observation_end"]),
                         ([], 0, None))
        r = self.ok("cohorts", p, "--out", os.path.join(self.dir, "e.csv"),
                    "--svg", os.path.join(self.dir, "e.svg"))
        self.assertIn("(no customers)", r.stdout)
        self.assertEqual(read_rows(os.path.join(self.dir, "e.csv")),
                         (self.COHORT_HEADER, []))

    def test_cohorts_unwritable_outputs_exit_1(self):
        bad = os.path.join(self.dir, "no", "such", "dir", "x")
        self.assertIn("cannot write", self.fails(1, "cohorts", COHORTS, "--out", bad).stderr)
        self.assertIn("cannot write", self.fails(1, "cohorts", COHORTS, "--svg", bad).stderr)

    # ---- currencies: --minor-digits ----

    # Yen have no minor unit (--minor-digits 0): amounts are whole yen.
    #   cust  orders (date: yen)                  total
    #   1     01-05: 1500, 02-10: 2500            4000
    #   2     01-20:  800                          800
    #   3     02-15: 12000                       12000
    # Revenue 16800, 4 orders: AOV 4200. Month cohorts: 2024-01 = {1, 2}
    # (k0: 2 orders, 2300; k1: customer 1's 2500), 2024-02 = {3} (12000);
    # LTV of 2024-01: 2300 / 2 = 1150, (2300 + 2500) / 2 = 2400.
    YEN = ("customer_id,date,amount\n1,2024-01-05,1500\n1,2024-02-10,2500\n"
           "2,2024-01-20,800\n3,2024-02-15,12000\n")
    # Kuwaiti dinars have 3 minor digits (fils): the same shape with
    # 1.250 + 2.5 = 3.750, 0.250 and 10.001; revenue 14.001 (14001 fils), AOV
    # 14001 / 4 = 3500.25 fils = 3.50025 dinars (3.500 in the table); cohort
    # 2024-01: k0 1.250 + 0.250 = 1.500, k1 2.500; LTV 0.750, 2.000.
    KWD = ("customer_id,date,amount\n1,2024-01-05,1.250\n1,2024-02-10,2.5\n"
           "2,2024-01-20,0.250\n3,2024-02-15,10.001\n")

    def table_row(self, stdout, first):
        return next(line.split() for line in stdout.splitlines()
                    if line.split()[:1] == [first])

    # The hand-worked values above, as each currency writes them.
    CURRENCIES = [
        # digits, file, per-customer monetary, total, AOV in the table and in
        # JSON, cohort 2024-01 revenue k0/k1, LTV k0/k1, cohort 2024-02 k0 revenue
        ("0", YEN, {"1": "4000", "2": "800", "3": "12000"}, "16800", "4200", 4200,
         ("2300", "2500"), ("1150", "2400"), "12000"),
        ("3", KWD, {"1": "3.750", "2": "0.250", "3": "10.001"}, "14.001", "3.500", 3.50025,
         ("1.500", "2.500"), ("0.750", "2.000"), "10.001"),
    ]

    def test_money_follows_minor_digits_in_tables_json_and_csv(self):
        for digits, text, monetary, total, aov, aov_json, rev, ltv, rev2 in self.CURRENCIES:
            with self.subTest(minor_digits=digits):
                p = self.write(f"orders{digits}.csv", text)
                md = ("--minor-digits", digits)
                out = os.path.join(self.dir, "rfm.csv")
                r = self.ok("rfm", p, *md, "--out", out)
                self.assertEqual({row[0]: row[3] for row in read_rows(out)[1]}, monetary)
                self.assertEqual(self.table_row(r.stdout, "total"), ["total", "3", "100.0%", total])
                r = self.ok("rfm", p, *md, "--json")
                self.assertIn(f'"revenue":{total},', r.stdout)

                r = self.ok("kpi", p, *md)
                self.assertEqual(self.table_row(r.stdout, "revenue"), ["revenue", total])
                self.assertEqual(self.table_row(r.stdout, "average_order_value"),
                                 ["average_order_value", aov])
                r = self.ok("kpi", p, *md, "--json")
                self.assertIn(f'"revenue":{total},', r.stdout)
                self.assertEqual(json.loads(r.stdout)["average_order_value"], aov_json)

                # to a file and to stdout: the same bytes
                # the data ends on 2024-02-15: February's cells are partial
                want = ("cohort,period,cohort_size,active_customers,orders,revenue,retention,"
                        f"partial\n2024-01,0,2,2,2,{rev[0]},1,0\n2024-01,1,2,1,1,{rev[1]},0.5,1\n"
                        f"2024-02,0,1,1,1,{rev2},1,1\n")
                out = os.path.join(self.dir, "cells.csv")
                self.ok("cohorts", p, *md, "--out", out)
                with open(out, newline="") as f:
                    self.assertEqual(f.read(), want)
                self.assertEqual(self.ok("cohorts", p, *md, "--out", "-").stdout, want)
                r = self.ok("cohorts", p, *md, "--metric", "revenue", "--json")
                self.assertIn(f'"values":[{rev[0]},{rev[1]}]', r.stdout)
                r = self.ok("cohorts", p, *md, "--metric", "ltv")
                # the data ends on 2024-02-15: February's cell is marked partial
                self.assertEqual(self.table_row(r.stdout, "2024-01"),
                                 ["2024-01", "2", ltv[0], ltv[1] + "*"])
                self.assertIn("* 2024-02 is partial: the data ends on 2024-02-15", r.stdout)

    def test_out_dash_appends_to_a_regular_file_on_stdout(self):
        # '--out -' with stdout a file opened for appending (a log, '>>'):
        # the CSV follows what the file held, nothing is truncated.
        log = os.path.join(self.dir, "log.txt")
        with open(log, "w") as f:
            f.write("earlier line\n")
        for cmd, fixture, header in (("cohorts", COHORTS, ",".join(self.COHORT_HEADER)),
                                     ("rfm", SMALL, ",".join(HEADER))):
            with self.subTest(cmd=cmd):
                with open(log, "a") as f:
                    r = subprocess.run([EXE, cmd, fixture, "--out", "-"], stdout=f,
                                       stderr=subprocess.PIPE, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(log, newline="") as f:
                    lines = f.read().splitlines()
                self.assertEqual(lines[0], "earlier line")
                self.assertIn(header, lines)
        with open(log, newline="") as f:
            text = f.read()
        self.assertEqual(text.count(",".join(self.COHORT_HEADER)), 1)
        self.assertEqual(text.count(",".join(HEADER)), 1)
        self.assertIn("\n2024-04,0,1,1,2,3.00,1,0\n", text)  # the cohort CSV is whole

    def test_fixed_monetary_edges_are_in_the_currency(self):
        # yen: M = 1 + #{edges <= total}: 4000 -> 4, 800 -> 1, 12000 -> 4
        p = self.write("yen.csv", self.YEN)
        out = os.path.join(self.dir, "rfm.csv")
        r = self.ok("rfm", p, "--minor-digits", "0", "--json", "--out", out,
                    "--edges-r", "10,20,30,40", "--edges-f", "1,2,3,4",
                    "--edges-m", "1000,2000,3000,13000")
        self.assertEqual(json.loads(r.stdout)["edges"]["m"], [1000, 2000, 3000, 13000])
        self.assertEqual({row[0]: row[6] for row in read_rows(out)[1]},
                         {"1": "4", "2": "1", "3": "4"})

    def test_minor_digits_out_of_range_is_a_usage_error(self):
        for v in ("7", "-1", "two"):
            r = self.fails(2, "rfm", SMALL, "--minor-digits", v)
            self.assertIn(f"--minor-digits: '{v}' is not a number 0..6", r.stderr)

    def test_bad_dates_name_the_option_and_exit_2(self):
        for cmd, opt, v in [("rfm", "--as-of", "2024-02-30"), ("rfm", "--as-of", "yesterday"),
                            ("rfm", "--as-of", "20240230"),   # 8 digits, not epoch seconds
                            ("rfm", "--as-of", "2024-13-01"), ("rfm", "--as-of", "2024-04-01x"),
                            ("kpi", "--from", "2024-1-1"), ("cohorts", "--to", "01/02/2024")]:
            with self.subTest(opt=opt, v=v):
                r = self.fails(2, cmd, SMALL, opt, v)
                self.assertEqual(r.stderr, f"shopcrm: {opt}: '{v}' is not a date (YYYY-MM-DD)\n"
                                           f"Try 'shopcrm {cmd} --help'.\n")
                self.assertEqual(r.stdout, "")
        # the forms of a date are the same day; a time of day is printed in
        # full (the snapshot is at that instant, not at the date's midnight)
        for v, want in (("2024-04-11", "2024-04-11"), ("20240411", "2024-04-11"),
                        ("2024-04-11T10:00", "2024-04-11T10:00:00Z"),
                        ("2024-04-11T10:00:30", "2024-04-11T10:00:30Z")):
            out = json.loads(self.ok("rfm", SMALL, "--json", "--as-of", v).stdout)
            self.assertEqual(out["as_of"], want, v)
        # DATE is local time: the day stays the day given whatever the offset
        out = json.loads(self.ok("rfm", SMALL, "--json", "--as-of", "2024-04-11",
                                 "--utc-offset", "-03:00").stdout)
        self.assertEqual(out["as_of"], "2024-04-11")

    # ---- dates and numbers of real exports (issue 11) ----

    US = ("InvoiceNo,InvoiceDate,Amount,CustomerID\r\n"
          "1,12/1/2010 8:26,$15.30,17850\r\n"
          "2,12/13/2010 9:02,(2.50),17850\r\n"
          "3,1/5/2011 10:00,\"\xa37.00\",13047\r\n")

    def test_us_dates_auto_mdy_and_money_signs(self):
        # 12/13/2010 shows the month comes first: every row is read so;
        # recency 17850: as of 2011-01-06, last order 2010-12-01 (the
        # 12-13 row is a refund) = 36 days; money signs and (2.50) read
        p = self.write("us.csv", self.US)
        opts = ["--customer-col", "CustomerID", "--time-col", "InvoiceDate",
                "--amount-col", "Amount", "--out", "-"]
        for fmt in ([], ["--time-format", "mdy"]):
            with self.subTest(fmt=fmt):
                r = self.ok("rfm", p, *opts, *fmt)
                self.assertIn("time format mdy", r.stderr)
                rows = {row[0]: row[1:4] for row in read_rows(r.stdout, is_text=True)[1]}
                self.assertEqual(rows, {"17850": ["36", "1", "12.80"],
                                        "13047": ["1", "1", "7.00"]})
        # read day first, 12/13/2010 is no date
        r = self.fails(1, "rfm", p, *opts, "--time-format", "dmy")
        self.assertIn("line 3, column InvoiceDate: '12/13/2010 9:02' is not a DD/MM/YYYY date: "
                      "month 13", r.stderr)

    def test_day_month_undecided_names_both_choices(self):
        p = self.write("dm.csv", "customer_id,date,amount\n1,5/6/2011,1\n2,7/6/2011,2\n")
        r = self.fails(1, "rfm", p)
        self.assertIn("reads as DD/MM/YYYY and as MM/DD/YYYY", r.stderr)
        self.assertIn("--time-format dmy|mdy", r.stderr)
        out = json.loads(self.ok("rfm", p, "--time-format", "dmy", "--json").stdout)
        self.assertEqual(out["as_of"], "2011-06-08")  # 7 June + 1
        out = json.loads(self.ok("rfm", p, "--time-format", "mdy", "--json").stdout)
        self.assertEqual(out["as_of"], "2011-07-07")  # 6 July + 1

    def test_decimal_comma_is_suggested(self):
        p = self.write("br.csv", "customer_id;date;amount\n1;2017-01-05;2,08\n")
        r = self.fails(1, "rfm", p)
        self.assertIn("line 2, column amount: '2,08' is not a number", r.stderr)
        self.assertIn("shopcrm --decimal-comma", r.stderr)
        r = self.ok("rfm", p, "--decimal-comma", "--out", "-")
        self.assertEqual(read_rows(r.stdout, is_text=True)[1][0][3], "2.08")

    def test_gzip_and_space_delimited_input(self):
        # CDNOW_master.txt.gz as published: gzip and the space delimiter
        # are detected; the figures of tests/data/CDNOW_master.txt.gz.README.md
        master = os.path.join(DATA, "CDNOW_master.txt.gz")
        out = json.loads(self.ok("kpi", master, "--customer-col", "customer_id",
                                 "--time-col", "date", "--amount-col", "dollar_value",
                                 "--json").stdout)
        self.assertEqual((out["load"]["rows"], out["load"]["customers"], out["revenue"]),
                         (69659, 23570, 2500315.63))
        r = self.ok("kpi", master, "--delimiter", "space", "--customer-col", "customer_id",
                    "--time-col", "date", "--amount-col", "dollar_value")
        self.assertIn("delimiter space", r.stderr)
        # a truncated .gz is an error that names the file
        with open(master, "rb") as f:
            head = f.read(100000)
        cut = os.path.join(self.dir, "cut.csv.gz")
        with open(cut, "wb") as f:
            f.write(head)
        r = self.fails(1, "kpi", cut, "--customer-col", "customer_id", "--time-col", "date",
                       "--amount-col", "dollar_value")
        self.assertIn("the gzip data ends early (a truncated file?)", r.stderr)
        # a workbook is not read as a header
        x = os.path.join(self.dir, "orders.xlsx")
        with open(x, "wb") as f:
            f.write(b"PK\x03\x04" + bytes(200))
        r = self.fails(1, "kpi", x)
        self.assertIn("is a zip archive, not CSV text", r.stderr)

    # ---- the bundled sample ----

    def test_sample_rfm_one_row_per_customer(self):
        out = os.path.join(self.dir, "cdnow_rfm.csv")
        r = self.ok("rfm", SAMPLE, "--out", out)
        header, rows = read_rows(out)
        self.assertEqual(header, HEADER)
        # examples/data/cdnow_orders.csv: the CDNOW master cohort, 23,570 customers
        # and 69,659 orders (see /work/shared/data/README.md, copied into examples/).
        self.assertEqual(len(rows), 23570)
        self.assertEqual(len({row[0] for row in rows}), 23570)
        self.assertIn("69659 rows, 23570 customers", r.stderr)
        self.assertIn("time format yyyymmdd", r.stderr)
        self.assertIn("as of 1998-07-01", r.stdout)
        self.assertTrue(all(1 <= int(row[c]) <= 5 for row in rows for c in (4, 5, 6)))
        total = sum(round(float(row[3]) * 100) for row in rows)
        self.assertEqual(total, 250031563)  # $2,500,315.63

    def test_sample_kpi_json(self):
        out = json.loads(self.ok("kpi", SAMPLE, "--json").stdout)
        self.assertEqual(out["orders"], 69659)
        self.assertEqual(out["customers"], 23570)
        self.assertAlmostEqual(out["revenue"], 2500315.63, places=6)
        # Jan-Mar 1997 is the acquisition period: every customer of Q1 is new
        q1 = json.loads(self.ok("kpi", SAMPLE, "--from", "1997-01-01", "--to", "1997-04-01",
                                "--json").stdout)
        self.assertEqual(q1["customers"], 23570)
        self.assertEqual(q1["new_customers"], 23570)
        later = json.loads(self.ok("kpi", SAMPLE, "--from", "1997-04-01", "--json").stdout)
        self.assertEqual(later["new_customers"], 0)
        self.assertEqual(later["returning_customers"], later["customers"])


if __name__ == "__main__":
    if not EXE:
        sys.exit("set SHOPCRM_EXE to the shopcrm executable")
    unittest.main(verbosity=2)
