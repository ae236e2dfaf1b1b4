"""A picture of a case's links: the case in the middle, linked cases around it, each edge
labelled with what the two share. Plain SVG made here (no script, no external assets), so
the console's strict Content-Security-Policy holds."""

from __future__ import annotations

import math
from html import escape

from safeguard.cases.case_models import Case
from safeguard.cases.service import Link

WIDTH, HEIGHT, RADIUS = 720, 480, 180


def _kinds(keys: list[str]) -> str:
    return ", ".join(sorted({k.partition(":")[0] for k in keys}))


def svg(case: Case, links: list[Link]) -> str:
    cx, cy = WIDTH / 2, HEIGHT / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="graph-title graph-desc" class="link-graph">',
             '<title id="graph-title">Cases linked to ' + escape(case.reference) + "</title>",
             '<desc id="graph-desc">' + escape(
                 f"{len(links)} linked case(s): " + "; ".join(
                     f"{link.case.reference} shares {_kinds(link.shared)}" for link in links)
                 if links else "No linked cases.") + "</desc>"]
    for n, link in enumerate(links):
        angle = 2 * math.pi * n / max(1, len(links)) - math.pi / 2
        x, y = cx + RADIUS * math.cos(angle), cy + RADIUS * math.sin(angle)
        mx, my = (cx + x) / 2, (cy + y) / 2
        parts.append(f'<line x1="{cx:.0f}" y1="{cy:.0f}" x2="{x:.0f}" y2="{y:.0f}" '
                     f'stroke="#4a4a55" stroke-width="{1 + min(4, len(link.shared))}"/>')
        parts.append(f'<text x="{mx:.0f}" y="{my - 6:.0f}" font-size="12" fill="#1b1b1f" '
                     f'text-anchor="middle">{escape(_kinds(link.shared))}</text>')
        parts.append(_node(x, y, link.case, "#ffffff"))
    parts.append(_node(cx, cy, case, "#e8f0fa"))
    parts.append("</svg>")
    return "".join(parts)


def _node(x: float, y: float, case: Case, fill: str) -> str:
    # No links inside: the picture is one image for assistive technology (the list beside
    # it carries the links), and nested interactive elements would break that.
    return (f'<g><rect x="{x - 70:.0f}" y="{y - 22:.0f}" '
            f'width="140" height="44" rx="6" fill="{fill}" stroke="#0b5cad"/>'
            f'<text x="{x:.0f}" y="{y - 3:.0f}" font-size="12" text-anchor="middle" '
            f'fill="#1b1b1f">{escape(case.reference)}</text>'
            f'<text x="{x:.0f}" y="{y + 13:.0f}" font-size="11" text-anchor="middle" '
            f'fill="#4a4a55">{escape(case.status.replace("_", " "))}</text></g>')
