#!/usr/bin/env python3
"""Write tests/data/online_retail_us.csv: Online Retail lines as UCI's own
CSV export writes them (InvoiceDate `12/1/2010 8:26`: month first, day and
hour without a leading zero, no seconds), from the R-style random sample
of the shared data folder.

    /usr/bin/python3 tests/data/make_online_retail_us.py \
        ../shared/data/orders/online_retail_random_sample.csv.gz > tests/data/online_retail_us.csv

Keeps the first 3,000 lines in the sample's order, every column; CustomerID
`NA` becomes empty (UCI's file leaves it blank), numbers are unchanged.
See online_retail_us.csv.README.md."""
import csv
import datetime
import gzip
import sys

ROWS = 3000


def us_time(iso):
    t = datetime.datetime.strptime(iso, '%Y-%m-%d %H:%M:%S')
    return f'{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}'


def main(path):
    with gzip.open(path, 'rt', newline='') as f:
        rows = csv.reader(f)
        header = next(rows)
        w = csv.writer(sys.stdout, lineterminator='\r\n')
        w.writerow(header)
        ti = header.index('InvoiceDate')
        ci = header.index('CustomerID')
        for n, r in enumerate(rows):
            if n == ROWS:
                break
            r[ti] = us_time(r[ti])
            if r[ci] == 'NA':
                r[ci] = ''
            w.writerow(r)


if __name__ == '__main__':
    main(sys.argv[1])
