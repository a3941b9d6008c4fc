#!/usr/bin/env python3
"""Check the SVG heatmap of `shopcrm cohorts --svg` (tests/meson.build, "cli").

Usage: check_svg.py SHOPCRM_EXE FIXTURE.csv

For each metric, draws the heatmap of FIXTURE (tests/data/cli_cohorts.csv)
and checks that the file is well-formed XML (xml.etree), that it has exactly
one cell <rect class="cell"> per observed matrix value (the rows of the
long-form CSV of the same run), at the right row and column, with the value
caption the table prints, and that the labels are there: title, metric,
cohort labels, period numbers, legend. Then, when /usr/bin/chromium exists
(Debian package `chromium`, installed by .ci/install-deps), renders the SVG
headless to a PNG and checks its size and that it is not blank: it must show
many colours, among them the darkest colour of the scale (the 100 % cells)
and white text on it. Without chromium that part is skipped with a note.
The PNG is decoded with zlib only (no PIL).
"""
import csv
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG_NS = "{http://www.w3.org/2000/svg}"
CHROMIUM = "/usr/bin/chromium"
DARKEST = (0x0C, 0x2C, 0x84)  # last colour of the scale (tools/svg.c)


def fail(message):
    print("check_svg: FAIL: " + message)
    sys.exit(1)


def run(exe, *args):
    r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or "Sanitizer" in r.stderr or "runtime error:" in r.stderr:
        fail(f"{args}: exit {r.returncode}\n{r.stderr}")
    return r


def table_cells(stdout):
    """{(row, col): text} of the printed table (rows after the header)."""
    lines = stdout.splitlines()
    cells = {}
    for r, line in enumerate(lines[3:]):
        parts = line.split()
        if not parts or parts[0] == "*":  # the note on a partial period
            continue
        for c, text in enumerate(parts[2:]):
            cells[(r, c)] = text.rstrip("*")  # '*' marks a partial cell
    return cells


def check_svg(path, csv_rows, table, metric):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail(f"{path} is not well-formed XML: {e}")
    if root.tag != SVG_NS + "svg":
        fail(f"root element is {root.tag}")
    width, height = int(root.get("width")), int(root.get("height"))
    rects = [e for e in root.iter(SVG_NS + "rect") if "cell" in (e.get("class") or "").split()]
    if len(rects) != len(csv_rows):
        fail(f"{metric}: {len(rects)} cell rects for {len(csv_rows)} matrix values")
    labels = sorted({row[0] for row in csv_rows})
    positions = sorted((int(e.get("data-row")), int(e.get("data-col"))) for e in rects)
    want = sorted((labels.index(row[0]), int(row[1])) for row in csv_rows)
    if positions != want:
        fail(f"{metric}: cells at {positions}, want {want}")
    texts = [(e.get("class") or "", "".join(e.itertext())) for e in root.iter(SVG_NS + "text")]
    all_text = "\n".join(t for _, t in texts)
    for label in labels:
        if not any(cls == "row-label" and t == label for cls, t in texts):
            fail(f"{metric}: no row label {label}")
    n_cols = max(int(row[1]) for row in csv_rows) + 1
    cols = [t for cls, t in texts if cls == "col-label"]
    if cols != [str(k) for k in range(n_cols)]:
        fail(f"{metric}: column labels {cols}")
    values = [t for cls, t in texts if cls == "value"]
    if sorted(values) != sorted(table.values()):
        fail(f"{metric}: cell captions {sorted(values)} differ from the table's "
             f"{sorted(table.values())}")
    for needle in ("cohort", "since acquisition", "colour scale", "metric " + metric):
        if needle not in all_text:
            fail(f"{metric}: no text {needle!r}")
    # Cells of a partial last period (the CSV's partial column) are hatched,
    # and the legend says so; no other cell is.
    want_partial = sorted((labels.index(row[0]), int(row[1])) for row in csv_rows
                          if row[7] == "1")
    got_partial = sorted((int(e.get("data-row")), int(e.get("data-col"))) for e in rects
                         if "partial" in e.get("class").split())
    marks = [e for e in root.iter(SVG_NS + "rect") if e.get("class") == "partial-mark"]
    if got_partial != want_partial or len(marks) != len(want_partial):
        fail(f"{metric}: partial cells {got_partial} ({len(marks)} marks), want {want_partial}")
    if want_partial and "is partial" not in all_text:
        fail(f"{metric}: no legend for the partial period")
    return width, height


def read_png(path):
    """(width, height, rows of RGB(A) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail(f"unexpected PNG format: depth {depth}, colour type {ctype}, interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # PNG spec, 9.2 "Filter types"
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, [[tuple(r[x * bpp:x * bpp + 3]) for x in range(w)] for r in rows]


def render(svg, width, height, workdir):
    png = os.path.join(workdir, "out.png")
    profile = tempfile.mkdtemp(dir=workdir)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
           f"--screenshot={png}", f"--window-size={width},{height}",
           "file://" + os.path.abspath(svg)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not os.path.exists(png):
        fail(f"chromium failed ({r.returncode}):\n{r.stderr}")
    return png


def check_png(png, width, height):
    w, h, px = read_png(png)
    if (w, h) != (width, height):
        fail(f"PNG is {w}x{h}, want {width}x{height}")
    colours = {}
    for row in px:
        for p in row:
            colours[p] = colours.get(p, 0) + 1
    if len(colours) < 20:
        fail(f"PNG looks blank: {len(colours)} distinct colours")
    darkest = sum(n for p, n in colours.items()
                  if all(abs(p[k] - DARKEST[k]) <= 3 for k in range(3)))
    if darkest < 500:  # four 100 % cells of ~60 x 26 px, minus their captions
        fail(f"the 100 % cells are not drawn: {darkest} pixels of the darkest colour")
    white = colours.get((255, 255, 255), 0)
    if white > 0.95 * w * h:
        fail("PNG is almost all white")
    return len(colours), darkest


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, fixture = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        sizes = None
        for metric in ("retention", "customers", "orders", "revenue", "ltv"):
            svg, out = os.path.join(d, metric + ".svg"), os.path.join(d, metric + ".csv")
            r = run(exe, "cohorts", fixture, "--metric", metric, "--svg", svg, "--out", out)
            with open(out, newline="") as f:
                rows = list(csv.reader(f))[1:]
            w, h = check_svg(svg, rows, table_cells(r.stdout), metric)
            if metric == "retention":
                sizes = (svg, w, h)
            print(f"check_svg: {metric}: well-formed, {len(rows)} cells, {w}x{h}")
        # By quarter the fixture ends inside 2024-Q2 (2024-04-30): partial cells.
        svg, out = os.path.join(d, "quarter.svg"), os.path.join(d, "quarter.csv")
        r = run(exe, "cohorts", fixture, "--period", "quarter", "--svg", svg, "--out", out)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))[1:]
        if sum(row[7] == "1" for row in rows) != 2:
            fail(f"quarter: expected 2 partial cells, CSV has {rows}")
        check_svg(svg, rows, table_cells(r.stdout), "retention")
        print("check_svg: quarter: the 2 cells of 2024-Q2 are hatched")
        if os.path.exists(CHROMIUM):
            svg, w, h = sizes
            png = render(svg, w, h, d)
            n, dark = check_png(png, w, h)
            keep = os.environ.get("SHOPCRM_KEEP_PNG")
            if keep:
                shutil.copy(png, keep)
            print(f"check_svg: chromium rendered {w}x{h}: {n} colours, "
                  f"{dark} pixels of the darkest cell colour")
        else:
            print(f"check_svg: SKIP browser rendering: {CHROMIUM} not installed "
                  "(apt-get install --no-install-recommends chromium)")
    print("check_svg: ok")


if __name__ == "__main__":
    main()
