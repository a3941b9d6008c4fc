"""The hand-worked RFM that both install checks run in a fresh interpreter
(installed_check.py, install_prefix_check.py): the first lines of their
programs, after `import shopcrm`."""

RFM_CHECK = r'''
# Hand-worked: customer 1 orders on days 0 and 2, customer 2 on day 1 (days
# from 2024-01-01). as_of = day 3: recency 1 and 2; bins 2 quantile: R 2 / 1,
# F (2 orders vs 1) 2 / 1, M (300 vs 50) 2 / 1.
d = 19723 * 86400
with shopcrm.Dataset.from_arrays([1, 1, 2], [d, d + 2 * 86400, d + 86400], [100, 200, 50]) as ds:
    r = ds.rfm(bins=2, segments=None)
    got = {int(k): (int(a), int(b), int(c), int(e)) for k, a, b, c, e in
           zip(r.keys(), r.recency_days, r.r, r.f, r.m)}
    assert got == {1: (1, 2, 2, 2), 2: (2, 1, 1, 1)}, got
'''
