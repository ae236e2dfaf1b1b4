"""A picture of one ad network: ads on an outer ring, the identifiers they share on an inner
ring joined to the ads carrying them, and near-duplicate texts as dashed ad-to-ad lines.
Plain SVG made here (no script, no external assets), so the console's strict
Content-Security-Policy holds; the lists beside the picture carry the same facts as text."""

from __future__ import annotations

import math
from html import escape

from safeguard.ads.exports import NetworkRow

WIDTH, HEIGHT = 760, 580
OUTER, INNER = 230, 110
MAX_ADS = 60  # beyond this the picture is unreadable; the lists below are complete
_COLOURS = {"phone": "#0b5cad", "email": "#7a3e9d", "handle": "#1f7a4d", "payment": "#9c5400",
            "crypto": "#9c5400", "image": "#5c5c66"}


def svg(network: NetworkRow) -> str:
    ads = list(network.ads[:MAX_ADS])
    shown = set(ads)
    cx, cy = WIDTH / 2, HEIGHT / 2
    place: dict[str, tuple[float, float]] = {}
    for n, ad in enumerate(ads):
        angle = 2 * math.pi * n / max(1, len(ads)) - math.pi / 2
        place[ad] = (cx + OUTER * math.cos(angle), cy + OUTER * math.sin(angle))
    shared = [e for e in network.evidence if e.kind != "text"]
    texts = [e for e in network.evidence if e.kind == "text"
             and len(e.ads) == 2 and set(e.ads) <= shown]
    kinds = sorted({e.kind for e in network.evidence})
    hidden = len(network.ads) - len(ads)
    desc = (f"{len(network.ads)} ads linked by {', '.join(kinds) or 'nothing'}: "
            f"{len(shared)} shared identifier(s), {len(texts)} near-duplicate text pair(s)."
            + (f" {hidden} ads not drawn." if hidden else ""))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="graph-title graph-desc" class="link-graph">',
             f'<title id="graph-title">Ad network {escape(network.id)}</title>',
             f'<desc id="graph-desc">{escape(desc)}</desc>']
    for e in texts:
        (x1, y1), (x2, y2) = place[e.ads[0]], place[e.ads[1]]
        parts.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                     f'stroke="#8a8a95" stroke-dasharray="4 3" stroke-width="1"/>')
    for n, e in enumerate(shared):
        angle = 2 * math.pi * n / max(1, len(shared)) - math.pi / 2
        radius = INNER if len(shared) > 1 else 0
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        colour = _COLOURS.get(e.kind, "#1b1b1f")
        for ad in e.ads:
            if ad in place:
                ax, ay = place[ad]
                parts.append(f'<line x1="{x:.0f}" y1="{y:.0f}" x2="{ax:.0f}" y2="{ay:.0f}" '
                             f'stroke="{colour}" stroke-width="1.5"/>')
        label = escape(_short(f"{e.kind}: {e.value}", 28))
        parts.append(f'<g><rect x="{x - 85:.0f}" y="{y - 12:.0f}" width="170" height="24" '
                     f'rx="12" fill="#ffffff" stroke="{colour}"/>'
                     f'<text x="{x:.0f}" y="{y + 4:.0f}" font-size="11" text-anchor="middle" '
                     f'fill="#1b1b1f">{label}</text></g>')
    for ad in ads:
        x, y = place[ad]
        label_y = y - 11 if y <= cy else y + 20  # labels outside the ring, clear of the lines
        parts.append(f'<g><circle cx="{x:.0f}" cy="{y:.0f}" r="7" fill="#e8f0fa" '
                     f'stroke="#0b5cad"/><text x="{x:.0f}" y="{label_y:.0f}" font-size="10" '
                     f'text-anchor="middle" fill="#1b1b1f">{escape(_short(ad, 22))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1] + "…"
