"""Render the insight story (built by :func:`cxchain.insight.story.build_story`) as HTML, Markdown or PDF.

Self-contained: CSS inline, charts as server-drawn SVG, no script and nothing fetched.  Customer
text is escaped by the template engine (autoescape), so a hostile verbatim renders inert.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .charts import render_chart

FORMATS = ("html", "md", "pdf")


def _env() -> Environment:
    return Environment(loader=PackageLoader("cxchain.report", "templates"), autoescape=select_autoescape(["html"]))


def _with_charts(story: dict[str, Any]) -> dict[str, Any]:
    out = dict(story)
    out["sections"] = [{**s, "findings": [{**f, "chart_svg": render_chart(f.get("chart") or {})} for f in s["findings"]]}
                       for s in story["sections"]]
    return out


def story_html(story: dict[str, Any]) -> str:
    """The story as one self-contained HTML document."""
    return _env().get_template("story.html").render(story=_with_charts(story))


def story_markdown(story: dict[str, Any]) -> str:
    """The story as Markdown (charts as small tables of their numbers)."""
    lines = [f"# {story['organisation']}: what our customers are telling us", "",
             f"_{story['sector_name']} · contacts from {story['period']['start']} to {story['period']['end']} · "
             f"as of {story['as_of']} · run {story['run']}_", "", f"**{story['headline']}**", ""]
    lines += [f"- {n['label']}: **{n['value']}**" for n in story["numbers"]] + [""]
    for s in story["sections"]:
        lines += [f"## {s['title']}", ""]
        if s.get("intro"):
            lines += [s["intro"], ""]
        for f in s["findings"]:
            lines += [f"### {f['title']}", "", f["statement"], ""]
            chart = f.get("chart") or {}
            if chart.get("type") == "bar":
                lines += ["| | |", "|---|---|"] + [f"| {a} | {b:.3g} |" for a, b in chart.get("items", [])[:8]] + [""]
            lines += [f"> “{v['text']}”" for v in f.get("verbatims", [])]
            lines += ["", f"<sub>Finding {f['id']} · metric {f['metric'].get('id')} v{f['metric'].get('version')}</sub>", ""]
        if not s["findings"]:
            lines += ["Nothing to report here for this period.", ""]
    code = (story.get("code") or {}).get("principles") or []
    if code:
        lines += ["## Our CX Code, and the evidence behind it", ""]
        for p in code:
            ev = "; ".join(f"{e['title']} ({e['id']})" for e in p["evidence"]) or p["note"]
            adh = (f" · adherence {p['adherence']:.0%} of {p['contacts']} contacts"
                   if p.get("adherence") is not None else "")
            lines += [f"- **{p['title']}** ({p['status']}): {p['statement']}  ", f"  <sub>Evidence: {ev}{adh}</sub>"]
        lines += [""]
    lines += ["## What we do not know yet", ""] + [f"- {u}" for u in story["unknowns"]]
    return "\n".join(lines) + "\n"


def write_story(story: dict[str, Any], fmt: str, out: Path) -> Path:
    """Write the story to ``out`` as html, md or pdf."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        out.write_text(story_markdown(story), encoding="utf-8")
    elif fmt == "html":
        out.write_text(story_html(story), encoding="utf-8")
    else:
        from weasyprint import HTML

        HTML(string=story_html(story)).write_pdf(str(out))
    return out
