#!/usr/bin/python3
"""Real exports in their published formats, read by `shopcrm rfm`, against
pandas (issue 11, "Dates and numbers").

- tests/data/online_retail_us.csv: UCI Online Retail lines with US dates
  (`12/1/2010 8:26`, month first, one-digit hours, no seconds), empty
  customers; amount = quantity x unit price. The auto time format must be
  mdy, and every customer's recency, frequency and monetary value must be
  what pandas computes reading the dates as month/day/year. The same file
  gzip-compressed gives the same output.
- tests/data/CDNOW_master.txt.gz: the CDNOW master file as published
  (whitespace-separated, leading blanks, CRLF, gzip), read with just the
  column names: the space delimiter and gzip are detected.

Definitions (include/shopcrm/rfm.h): an order is a row with amount >= 0,
a refund one below; recency_days = day(as_of) - day(last order), as_of =
the day after the last row; frequency = orders; monetary = the sum of all
amounts. Refund-only customers (no order) are not scored: not in the output.

usage: check_formats_oracle.py SHOPCRM DATA_DIR
"""
import decimal
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        if len(failures) < 30:
            print("FAIL:", what)


def cents(x):
    return int(decimal.Decimal(x).scaleb(2).quantize(decimal.Decimal(1), decimal.ROUND_HALF_UP))


def expected_rfm(df):
    """df: customer (str), time (datetime64), amount (int cents)."""
    day = (df["time"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)
    df = df.assign(day=day, order=df["amount"] >= 0)
    as_of = int(day.max()) + 1
    out = {}
    for cust, g in df.groupby("customer", sort=False):
        orders = g[g["order"]]
        if not len(orders):
            continue
        last = int(orders["day"].max())
        out[cust] = (as_of - last, int(len(orders)), int(g["amount"].sum()))
    return out


def run_rfm(shopcrm, path, opts, tmp):
    out = os.path.join(tmp, "rfm.csv")
    r = subprocess.run([shopcrm, "rfm", path, *opts, "--out", out], capture_output=True,
                       text=True)
    check(r.returncode == 0, f"{path}: exit {r.returncode}: {r.stderr}")
    got = {}
    if r.returncode == 0:
        res = pd.read_csv(out, dtype=str, keep_default_na=False)
        for row in res.itertuples(index=False):
            got[row.customer] = (int(row.recency_days), int(row.frequency), cents(row.monetary))
    return got, r.stderr


def compare(name, got, want):
    check(len(got) == len(want), f"{name}: {len(got)} customers, pandas {len(want)}")
    bad = [k for k in want if got.get(k) != want[k]]
    check(not bad, f"{name}: {len(bad)} customers differ, e.g. "
                   + ", ".join(f"{k}: {got.get(k)} != {want[k]}" for k in bad[:3]))


def online_retail(shopcrm, data, tmp):
    path = os.path.join(data, "online_retail_us.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df[df["CustomerID"] != ""]
    amount = [cents(decimal.Decimal(q) * decimal.Decimal(p))
              for q, p in zip(df["Quantity"], df["UnitPrice"])]
    want = expected_rfm(pd.DataFrame({
        "customer": df["CustomerID"].to_numpy(),
        "time": pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M").to_numpy(),
        "amount": np.array(amount, dtype=np.int64)}))
    opts = ["--customer-col", "CustomerID", "--time-col", "InvoiceDate",
            "--quantity-col", "Quantity", "--price-col", "UnitPrice"]
    got, err = run_rfm(shopcrm, path, opts, tmp)
    check("time format mdy" in err, f"online retail: auto did not choose mdy: {err}")
    compare("online retail (US dates)", got, want)
    # month first for sure: December 2010 .. December 2011, 13 months
    months = pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.to_period("M")
    check(months.nunique() == 13, f"online retail: {months.nunique()} months")
    gz = os.path.join(tmp, "online_retail_us.csv.gz")
    with open(path, "rb") as f, gzip.open(gz, "wb") as g:
        shutil.copyfileobj(f, g)
    got_gz, _ = run_rfm(shopcrm, gz, opts, tmp)
    check(got_gz == got, "online retail: the .gz gives another result than the plain file")


def cdnow_master(shopcrm, data, tmp):
    path = os.path.join(data, "CDNOW_master.txt.gz")
    df = pd.read_csv(path, sep=r"\s+", dtype=str, compression="gzip")
    want = expected_rfm(pd.DataFrame({
        "customer": df["customer_id"].to_numpy(),
        "time": pd.to_datetime(df["date"], format="%Y%m%d").to_numpy(),
        "amount": np.array([cents(x) for x in df["dollar_value"]], dtype=np.int64)}))
    check(len(df) == 69659 and len(want) == 23570, f"CDNOW: {len(df)} rows, {len(want)} customers")
    got, err = run_rfm(shopcrm, path, ["--customer-col", "customer_id", "--time-col", "date",
                                       "--amount-col", "dollar_value"], tmp)
    check("69659 rows" in err and "delimiter space" in err and "time format yyyymmdd" in err,
          f"CDNOW: load report {err}")
    compare("CDNOW master", got, want)
    total = sum(v[2] for v in got.values())
    check(total == sum(v[2] for v in want.values()) == 250031563, f"CDNOW: total {total}")


def main():
    shopcrm, data = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        online_retail(shopcrm, data, tmp)
        cdnow_master(shopcrm, data, tmp)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("formats oracle: Online Retail (US dates, plain and gzip) and CDNOW master agree with pandas")


if __name__ == "__main__":
    main()
