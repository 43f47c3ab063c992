#!/usr/bin/env python3
"""The SocketSet table of bench/run.sh as a log-log SVG: µs per round against
N for select, poll, epoll_wait + adds, and sockset_select linked and
preloaded. Plain SVG, no plotting library:

    python3 bench/plot.py BENCH_OUTPUT OUT.svg
"""

import math
import re
import sys
from xml.sax.saxutils import escape

SERIES = [  # (name, colour, dash)
    ("select(2)", "#d62728", ""),
    ("poll(2)", "#ff7f0e", ""),
    ("epoll_wait + adds (linked)", "#7f7f7f", "6,4"),
    ("SocketSet, linked", "#1f77b4", ""),
    ("SocketSet, preloaded", "#2ca02c", "2,3"),
]


def parse(text: str) -> dict[str, list[tuple[float, float]]]:
    points: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in SERIES}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4 or not re.fullmatch(r"\d+", cells[0]):
            continue
        n = float(cells[0])
        sel, poll = (cells[1].split() + ["", ""])[:2]
        linked = cells[2].split()
        pre = cells[3].split()
        if len(linked) < 3 or len(pre) < 3:
            continue

        def add(name: str, value: str) -> None:
            try:
                points[name].append((n, float(value)))
            except ValueError:  # "—": not measured
                pass

        add("select(2)", sel)
        add("poll(2)", poll)
        try:
            points["epoll_wait + adds (linked)"].append((n, float(linked[0]) + float(linked[1])))
        except ValueError:
            pass
        add("SocketSet, linked", linked[2])
        add("SocketSet, preloaded", pre[2])
    return points


def svg(points: dict[str, list[tuple[float, float]]], title: str) -> str:
    w, h, left, right, top, bottom = 720, 450, 70, 230, 50, 50
    xs = [x for p in points.values() for x, _ in p]
    ys = [y for p in points.values() for _, y in p]
    if not xs:
        raise SystemExit("plot: no rows of the SocketSet table found")
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    pw, ph = w - left - right, h - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - (math.log10(y) - y0) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
    ]
    for k, part in enumerate(title.split("\n")):
        size = 14 if k == 0 else 11
        out.append(f'<text x="{left}" y="{18 + 15 * k}" font-size="{size}">{escape(part)}</text>')
    for e in range(x0, x1 + 1):
        x = px(10**e)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{10**e:g}</text>')
    for e in range(y0, y1 + 1):
        y = py(10**e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{10**e:g}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">'
               "N (idle descriptors watched, one active)</text>")
    out.append(f'<text transform="translate(16,{top + ph / 2}) rotate(-90)" '
               'text-anchor="middle">µs per round</text>')
    for i, (name, colour, dash) in enumerate(SERIES):
        p = points[name]
        dashattr = f' stroke-dasharray="{dash}"' if dash else ""
        if p:
            coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in p)
            out.append(f'<polyline class="series" data-series="{escape(name)}" points="{coords}" '
                       f'fill="none" stroke="{colour}" stroke-width="2"{dashattr}/>')
            for x, y in p:
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        ly = top + 10 + i * 20
        lx = left + pw + 15
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 25}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2"{dashattr}/>')
        out.append(f'<text x="{lx + 32}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8").read()
    m = re.search(r"^machine: (.*)$", text, re.M)
    title = "One wait round with N idle descriptors: SocketSet vs select, poll, epoll (log-log)"
    if m:
        title += "\nbench/run.sh, " + m.group(1)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(svg(parse(text), title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
