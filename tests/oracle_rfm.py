#!/usr/bin/python3
"""Oracle test of scrm_rfm_compute() against pandas.

Computes recency, frequency, monetary, the three scoring methods, edges,
rfm11-v2 segments, the segment summary, who is scored (refund-only
customers and, with a past as_of, the snapshot of the rows before it) and the
degenerate-dimension flags with pandas, from the definitions
in include/shopcrm/rfm.h, and compares them with what tests/rfm_dump prints
for the same data and options.

Data: tests/data/rfm_cdnow_sample.csv (the CDNOW 1/10 sample, real orders;
see rfm_cdnow_sample.README.md) with u64 keys, and a deterministic synthetic
set with string keys, refunds, zero amounts, refund-only customers,
sub-day times and a UTC-3 offset.

usage: oracle_rfm.py RFM_DUMP CDNOW_CSV
"""
import calendar
import decimal
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

QUANTILE, NTILE, FIXED = 0, 1, 2

# rfm11-v2 in evaluation order (include/shopcrm/rfm.h): rfm11-v1 with
# Potential Loyalist and Hibernating widened to every F and M
RFM11 = [
    ("Champions", 4, 5, 4, 5, 4, 5),
    ("Loyal Customers", 2, 5, 3, 5, 3, 5),
    ("New Customers", 4, 5, 1, 1, 1, 1),
    ("Promising", 3, 4, 1, 1, 1, 1),
    ("Potential Loyalist", 3, 5, 1, 5, 1, 5),
    ("Need Attention", 2, 3, 2, 3, 2, 3),
    ("About To Sleep", 2, 3, 1, 2, 1, 2),
    ("Can't Lose Them", 1, 1, 4, 5, 4, 5),
    ("At Risk", 1, 2, 2, 5, 2, 5),
    ("Lost", 1, 1, 1, 1, 1, 1),
    ("Hibernating", 1, 2, 1, 5, 1, 5),
]
NOT_SCORED = -2

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        if len(failures) < 30:
            print("FAIL:", what)


def load_cdnow(path):
    df = pd.read_csv(path, dtype={"customer": np.uint64, "date": str, "dollars": str})
    days = pd.to_datetime(df["date"], format="%Y%m%d")
    t = (days - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    cents = [int(decimal.Decimal(x) * 100) for x in df["dollars"]]
    return pd.DataFrame({"customer": df["customer"].astype(np.uint64),
                         "time": t.astype(np.int64), "amount": np.array(cents, dtype=np.int64)})


def make_synthetic():
    rnd = random.Random(20240601)
    keys = []
    for i in range(1500):
        k = "%x" % rnd.getrandbits(rnd.choice([8, 16, 40]))
        keys.append(k)
    keys += ["ab", "abc", "a", "B", "b"]  # prefixes and case: bytewise order
    keys = sorted(set(keys))
    base = calendar.timegm((2017, 1, 1, 0, 0, 0))
    rows = []
    for k in keys:
        n = 1 + int(rnd.expovariate(0.4))
        for _ in range(n):
            t = base + rnd.randrange(0, 720 * 86400)
            u = rnd.random()
            if u < 0.05:
                a = -rnd.randrange(1, 20000)
            elif u < 0.08:
                a = 0
            else:
                a = int(rnd.lognormvariate(8, 1.2))
            rows.append((k, t, a))
    # refund-only customers and ties
    for j in range(20):
        rows.append(("refund%02d" % j, base + 86400 * (5 + j), -100 * (j + 1)))
    for j in range(30):
        rows.append(("tie%02d" % j, base + 86400 * 300 + 3600 * j, 5000))
    rnd.shuffle(rows)
    return pd.DataFrame({"customer": [r[0] for r in rows], "time": [r[1] for r in rows],
                         "amount": [r[2] for r in rows]})


def expected(df, method, N, freq_days, mean, off, as_of, edges):
    d = df.copy()
    d["day"] = (d["time"] + off) // 86400
    allc = pd.Index(sorted(d["customer"].unique()))
    if as_of is None:
        as_of = (int(d["day"].max()) + 1) * 86400 - off
    rows_after = int((d["time"] >= as_of).sum())
    d = d[d["time"] < as_of]  # the snapshot at as_of
    pos = d[d["amount"] >= 0]
    # scored: an order before as_of; refund-only: refunds only
    custs = pd.Index(sorted(pos["customer"].unique()))
    ronly = pd.Index(sorted(set(d["customer"].unique()) - set(custs)))
    ronly_rev = int(d[d["customer"].isin(ronly)]["amount"].sum())
    rev = d.groupby("customer")["amount"].sum().reindex(custs)
    if freq_days:
        freq = pos.groupby("customer")["day"].nunique()
    else:
        freq = pos.groupby("customer").size()
    freq = freq.reindex(custs, fill_value=0).astype(np.int64)
    last = pos.groupby("customer")["day"].max().reindex(custs)
    last = last.astype(np.int64)
    as_of_day = (as_of + off) // 86400
    rec = as_of_day - last
    revf = rev.astype(np.float64)
    if mean:
        mon = pd.Series(np.where(freq > 0, revf / freq.clip(lower=1).astype(np.float64), revf),
                        index=custs)
    else:
        mon = revf
    n = len(custs)
    vals = {"R": rec, "F": freq, "M": mon}
    scores, eds, deg, maj = {}, {}, {}, {}
    for dim in "RFM":
        v = vals[dim]
        top = v.value_counts().max() if n else 0
        maj[dim] = top / n if 2 * top > n else 0.0
        if method == QUANTILE:
            s = -v if dim == "R" else v
            sc = 1 + (N * (s.rank(method="min").astype(np.int64) - 1)) // n
        elif method == NTILE:
            # ORDER BY value ASC (R: recency DESC), customer_key ASC; keys bytewise
            keyord = np.array([str(c).encode() if isinstance(c, str) else int(c) for c in custs],
                              dtype=object)
            krank = pd.Series(range(n), index=custs)
            order_keys = sorted(range(n), key=lambda i: keyord[i])
            krank.iloc[order_keys] = np.arange(n)
            prim = (-v if dim == "R" else v).to_numpy()
            order = np.lexsort((krank.to_numpy(), prim))
            q, r = divmod(n, N)
            bucket = np.empty(n, dtype=np.int64)
            for j, i in enumerate(order):
                bucket[i] = j // (q + 1) if j < r * (q + 1) else r + (j - r * (q + 1)) // q
            sc = pd.Series(bucket + 1, index=custs)
        else:
            e = edges[dim]
            cnt = sum((v >= x).astype(np.int64) for x in e)
            sc = (N - cnt) if dim == "R" else (1 + cnt)
        scores[dim] = sc
        if method == FIXED:
            eds[dim] = list(edges[dim])
        else:
            row = []
            for k in range(1, N):
                sel = v[sc > k]
                row.append(np.nan if sel.empty else float(sel.max() if dim == "R" else sel.min()))
            eds[dim] = row
        flags = 1 if maj[dim] > 0 else 0
        e = eds[dim]
        if method != FIXED and n and any(np.isnan(e[k]) or (k and e[k] == e[k - 1])
                                         for k in range(N - 1)):
            flags |= 2
        deg[dim] = flags
    seg = pd.Series(-1, index=custs)
    if N == 5:
        R, F, M = scores["R"], scores["F"], scores["M"]
        for idx in range(len(RFM11) - 1, -1, -1):  # reversed: the first match wins
            _, a, b, c, e, g, h = RFM11[idx]
            m = (R >= a) & (R <= b) & (F >= c) & (F <= e) & (M >= g) & (M <= h)
            seg[m] = idx
    # the customers not scored: refund-only ones by the definitions (frequency
    # 0, recency from the last refund, monetary = revenue), the others 0
    rd = d[d["customer"].isin(ronly)]
    r_rev = rd.groupby("customer")["amount"].sum().reindex(ronly)
    r_rec = as_of_day - rd.groupby("customer")["day"].max().reindex(ronly)
    absent = allc.difference(custs).difference(ronly)
    z = pd.Series(0, index=absent, dtype=np.int64)
    rec = pd.concat([rec, r_rec, z])
    freq = pd.concat([freq, pd.Series(0, index=ronly, dtype=np.int64), z])
    rev = pd.concat([rev, r_rev, z])
    mon = pd.concat([mon, r_rev.astype(np.float64), z.astype(np.float64)])
    for dim in "RFM":
        scores[dim] = pd.concat([scores[dim], pd.Series(0, index=ronly.append(absent))])
    seg_all = pd.concat([seg, pd.Series(NOT_SCORED, index=ronly.append(absent))])
    return dict(as_of=as_of, rec=rec, freq=freq, mon=mon, rev=rev, scores=scores, edges=eds,
                seg=seg_all, n=n, all=len(allc), rows_after=rows_after, ronly=len(ronly),
                ronly_rev=ronly_rev, deg=deg, maj=maj)


def parse_dump(text, strings):
    out = {"cust": {}, "edges": {}, "seg": {}}
    for line in text.splitlines():
        f = line.split(" ")
        if f[0] == "as_of":
            out["as_of"] = int(f[1])
        elif f[0] == "scored":
            out["scored"] = tuple(int(x) for x in f[1:])
        elif f[0] == "degenerate":
            out["deg"] = {"RFM"[k]: (int(f[1 + 2 * k]), float(f[2 + 2 * k])) for k in range(3)}
        elif f[0] == "edges":
            out["edges"][f[1]] = [float(x) for x in f[2:]]
        elif f[0] == "cust":
            k = f[1] if strings else int(f[1])
            out["cust"][k] = (int(f[2]), int(f[3]), float(f[4]), int(f[5]), int(f[6]),
                              int(f[7]), int(f[8]), int(f[9]))
        elif f[0] == "seg":
            out["seg"][int(f[1])] = (int(f[2]), int(f[3])) + tuple(float(x) for x in f[4:])
    return out


def same_float(a, b, rel=0.0):
    if np.isnan(a) or np.isnan(b):
        return np.isnan(a) and np.isnan(b)
    return a == b if rel == 0 else abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def run_case(dump, csv_path, df, strings, method, N, fd, mean, off, as_of, threads, edges=None):
    label = "%s method=%d N=%d days=%d mean=%d off=%d as_of=%s" % (
        "str" if strings else "u64", method, N, fd, mean, off, as_of)
    args = [dump, csv_path, "str" if strings else "u64", str(method), str(N), str(fd),
            str(mean), str(off), "default" if as_of is None else str(as_of), str(threads)]
    if edges:
        args += [",".join(repr(float(x)) for x in edges[d]) for d in "RFM"]
    res = subprocess.run(args, capture_output=True, text=True)
    check(res.returncode == 0, label + ": rfm_dump failed: " + res.stderr)
    if res.returncode:
        return
    got = parse_dump(res.stdout, strings)
    exp = expected(df, method, N, fd, mean, off, as_of, edges)
    check(got["as_of"] == exp["as_of"], label + ": as_of %d != %d" % (got["as_of"], exp["as_of"]))
    check(len(got["cust"]) == exp["all"], label + ": customer count")
    want = (exp["n"], exp["ronly"], exp["ronly_rev"], exp["rows_after"])
    check(got["scored"] == want, "%s: scored, refund-only, their revenue, rows after as_of: "
          "got %s want %s" % (label, got["scored"], want))
    for d in "RFM":
        gd, gm = got["deg"][d]
        check(gd == exp["deg"][d] and same_float(gm, exp["maj"][d], 1e-15),
              "%s: degenerate %s: got %s want %s" % (label, d, got["deg"][d],
                                                    (exp["deg"][d], exp["maj"][d])))
    bad = 0
    for c in exp["rec"].index:
        g = got["cust"].get(c)
        want = (int(exp["rec"][c]), int(exp["freq"][c]), float(exp["mon"][c]),
                int(exp["rev"][c]), int(exp["scores"]["R"][c]), int(exp["scores"]["F"][c]),
                int(exp["scores"]["M"][c]), int(exp["seg"][c]))
        if g is None or g[:2] != want[:2] or not same_float(g[2], want[2]) or g[3:] != want[3:]:
            bad += 1
            if bad <= 3:
                check(False, "%s: customer %s: got %s want %s" % (label, c, g, want))
    check(bad == 0, label + ": %d customers differ" % bad)
    for d in "RFM":
        ge, we = got["edges"][d], exp["edges"][d]
        check(len(ge) == len(we) and all(same_float(a, b) for a, b in zip(ge, we)),
              "%s: edges %s: got %s want %s" % (label, d, ge, we))
    # summary
    seg = exp["seg"]
    n = exp["n"]
    for s, (cnt, rev, *stats) in got["seg"].items():
        m = seg == s
        check(s != NOT_SCORED, "a summary entry for the customers not scored")
        k = int(m.sum())
        check(cnt == k, "%s: segment %d count %d != %d" % (label, s, cnt, k))
        check(rev == int(exp["rev"][m].sum()), "%s: segment %d revenue" % (label, s))
        want = [k / n if n else 0.0]
        for ser in (exp["scores"]["R"], exp["scores"]["F"], exp["scores"]["M"], exp["rec"],
                    exp["freq"], exp["mon"]):
            want.append(float(ser[m].astype(np.float64).mean()) if k else np.nan)
        for i, (a, b) in enumerate(zip(stats, want)):
            check(same_float(a, b, 1e-12), "%s: segment %d stat %d: %r != %r" % (label, s, i, a, b))


def main():
    dump, cdnow = sys.argv[1], sys.argv[2]
    cd = load_cdnow(cdnow)
    check(len(cd) == 6919 and cd["customer"].nunique() == 2357, "CDNOW sample row/customer counts")
    syn = make_synthetic()
    with tempfile.TemporaryDirectory() as tmp:
        cpath, spath = os.path.join(tmp, "cdnow.csv"), os.path.join(tmp, "syn.csv")
        cd.to_csv(cpath, index=False)
        syn.to_csv(spath, index=False)
        fixed_cd = {"R": [30, 90, 180, 365], "F": [2, 3, 5, 8], "M": [2000, 5000, 10000, 30000]}
        fixed_syn = {"R": [10.5, 60, 200, 400], "F": [2, 3, 4, 6], "M": [0, 1500, 4000, 9000]}
        syn_as_of = int(syn["time"].max()) + 45 * 86400 + 777
        for method in (QUANTILE, NTILE):
            for fd in (0, 1):
                for mean in (0, 1):
                    run_case(dump, cpath, cd, False, method, 5, fd, mean, 0, None, 2)
                    run_case(dump, spath, syn, True, method, 5, fd, mean, -10800, None, 2)
            for N in (2, 3, 10):
                run_case(dump, cpath, cd, False, method, N, 0, 0, 0, None, 1)
                run_case(dump, spath, syn, True, method, N, 1, 1, 3600, syn_as_of, 2)
        run_case(dump, cpath, cd, False, QUANTILE, 5, 0, 0, 0,
                 calendar.timegm((1998, 12, 31, 12, 0, 0)), 1)
        # RFM at past dates: the snapshot of the rows before as_of (real
        # CDNOW orders; mid-day, a day boundary, and before most first orders)
        for as_of in (calendar.timegm((1997, 9, 30, 12, 0, 0)),
                      calendar.timegm((1998, 1, 1, 0, 0, 0)),
                      calendar.timegm((1997, 1, 20, 0, 0, 0))):
            for method in (QUANTILE, NTILE):
                run_case(dump, cpath, cd, False, method, 5, 1, 0, 0, as_of, 2)
        run_case(dump, spath, syn, True, NTILE, 5, 0, 1, -10800,
                 int(syn["time"].quantile(0.6)), 2)
        run_case(dump, spath, syn, True, FIXED, 5, 0, 0, 0, int(syn["time"].quantile(0.3)), 1,
                 fixed_syn)
        run_case(dump, cpath, cd, False, FIXED, 5, 0, 0, 0, None, 2, fixed_cd)
        run_case(dump, spath, syn, True, FIXED, 5, 1, 1, -10800, syn_as_of, 1, fixed_syn)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("oracle_rfm: all cases match pandas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
