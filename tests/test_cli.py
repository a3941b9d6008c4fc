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
#   cust last order  recency  freq  monetary   R F M  rfm11-v1 segment
#   1    2024-03-01    31       3     40.50     4 5 4  Champions
#   2    2024-01-20    72       1     30.00     1 1 3  (unassigned)   (refund 03-15 is not an order)
#   3    2024-02-28    33       2     12.25     2 4 2  At Risk
#   4    2024-02-15    46       2     38.00     2 4 4  Loyal Customers
#   5    2024-03-30     2       1    100.00     4 1 5  (unassigned)
#   6    2024-01-01    91       1      7.77     1 1 1  Lost
#   7    2024-02-29    32       1     15.00     3 1 2  Potential Loyalist
#   8    2024-03-31     1       1      3.33     5 1 1  New Customers
SMALL_RFM = {
    "1": (31, 3, "40.50", 4, 5, 4, "Champions"),
    "2": (72, 1, "30.00", 1, 1, 3, ""),
    "3": (33, 2, "12.25", 2, 4, 2, "At Risk"),
    "4": (46, 2, "38.00", 2, 4, 4, "Loyal Customers"),
    "5": (2, 1, "100.00", 4, 1, 5, ""),
    "6": (91, 1, "7.77", 1, 1, 1, "Lost"),
    "7": (32, 1, "15.00", 3, 1, 2, "Potential Loyalist"),
    "8": (1, 1, "3.33", 5, 1, 1, "New Customers"),
}
HEADER = ["customer", "recency_days", "frequency", "monetary", "r", "f", "m", "segment"]


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
        for cmd in ("rfm", "kpi"):
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

    def test_as_of_before_last_order_is_a_data_error(self):
        self.fails(1, "rfm", SMALL, "--as-of", "2024-03-01")

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
        self.assertIn("(unassigned)", r.stdout)
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
        # the same day as the last order is allowed: recency 0 for customer 8
        self.ok("rfm", SMALL, "--as-of", "20240331", "--out", out)
        _, rows = read_rows(out)
        self.assertEqual({row[0]: int(row[1]) for row in rows}["8"], 0)

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

    def test_order_col_deduplicates(self):
        p = self.write("dup.csv", "customer_id,date,amount,order\n"
                                  "1,2024-01-01,5.00,A\n"
                                  "1,2024-01-01,5.00,A\n"
                                  "2,2024-01-02,7.00,B\n")
        r = self.ok("kpi", p, "--order-col", "order", "--json")
        out = json.loads(r.stdout)
        self.assertEqual(out["orders"], 2)
        self.assertEqual(out["load"]["duplicates"], 1)
        self.assertIn("1 duplicates", r.stderr)

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
                "from": "2024-02-01", "to": "2024-03-01"}
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
