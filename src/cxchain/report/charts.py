"""Charts as inline SVG, drawn on the server: no JavaScript, no network, identical in HTML and PDF.

Every label is escaped: chart labels can carry customer-derived text (reason names, verbatims).
"""

from __future__ import annotations

from html import escape
from typing import Any

INK, MUTED, ACCENT, WARN, GRID = "#1d2b36", "#5f6b73", "#1f6f8b", "#b54a00", "#d9dee2"


def _fmt(v: float, unit: str = "") -> str:
    if unit == "%":
        return f"{v:.0%}" if abs(v) >= 0.1 else f"{v:.1%}"
    if abs(v) >= 1000:
        return f"{v:,.0f}{unit}"
    return f"{v:.3g}{unit}"


def bar_chart(items: list[tuple[str, float]], *, unit: str = "", width: int = 560, title: str = "",
              highlight: str | None = None) -> str:
    """Horizontal bars, largest first as given; ``highlight`` names a bar drawn in the warning colour."""
    if not items:
        return ""
    row, left, pad = 22, 210, 8
    height = pad * 2 + row * len(items) + (20 if title else 0)
    top = pad + (20 if title else 0)
    vmax = max((v for _, v in items), default=1) or 1
    span = width - left - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title or "bar chart")}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold" fill="{INK}">{escape(title)}</text>')
    for i, (label, v) in enumerate(items):
        y = top + i * row
        w = max(1.0, span * (v / vmax)) if v > 0 else 1.0
        colour = WARN if highlight is not None and label == highlight else ACCENT
        short = label if len(label) <= 32 else label[:31] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="{INK}">{escape(short)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 5:.1f}" y="{y + 15}" font-size="11" fill="{MUTED}">{escape(_fmt(v, unit))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(points: list[tuple[str, float]], *, unit: str = "", width: int = 560, height: int = 200, title: str = "",
               limits: dict[str, Any] | None = None, marker: str | None = None) -> str:
    """A weekly line with optional process limits (centre, lower, upper) and a dated marker."""
    if len(points) < 2:
        return ""
    left, right, top, bottom = 46, 10, 26 if title else 10, 26
    vals = [v for _, v in points]
    lo, hi = min(vals), max(vals)
    if limits:
        lower, upper = limits.get("lower"), limits.get("upper")
        lo = min(lo, float(lower)) if lower is not None else lo
        hi = max(hi, float(upper)) if upper is not None else hi
    if hi == lo:
        hi = lo + 1
    pw, ph = width - left - right, height - top - bottom

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + pw * i / (len(points) - 1), top + ph * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title or "line chart")}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold" fill="{INK}">{escape(title)}</text>')
    for frac in (0, 0.5, 1):
        v = lo + (hi - lo) * frac
        _, y = xy(0, v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="{MUTED}">{escape(_fmt(v, unit))}</text>')
    if limits:
        for key, dash in (("centre", ""), ("lower", "4 3"), ("upper", "4 3")):
            level = limits.get(key)
            if level is None:
                continue
            _, y = xy(0, float(level))
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{MUTED}" '
                         f'stroke-dasharray="{dash}"/>')
    if marker:
        idx = next((i for i, (d, _) in enumerate(points) if d >= marker), None)
        if idx is not None:
            x, _ = xy(idx, lo)
            parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="{WARN}" stroke-dasharray="2 2"/>')
            parts.append(f'<text x="{x + 3:.1f}" y="{top + 10}" font-size="10" fill="{WARN}">{escape(marker)}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy(i, v) for i, (_, v) in enumerate(points)))
    parts.append(f'<path d="{path}" fill="none" stroke="{ACCENT}" stroke-width="1.8"/>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="10" fill="{MUTED}">{escape(points[0][0])}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 6}" font-size="10" text-anchor="end" fill="{MUTED}">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_chart(spec: dict[str, Any]) -> str:
    """Render a finding's chart spec: ``{"type": "bar"|"line", ...}``."""
    if not spec:
        return ""
    if spec.get("type") == "bar":
        return bar_chart([(str(a), float(b)) for a, b in spec.get("items", [])], unit=spec.get("unit", ""),
                         title=spec.get("title", ""), highlight=spec.get("highlight"))
    if spec.get("type") == "line":
        return line_chart([(str(a), float(b)) for a, b in spec.get("points", [])], unit=spec.get("unit", ""),
                          title=spec.get("title", ""), limits=spec.get("limits"), marker=spec.get("marker"))
    return ""
