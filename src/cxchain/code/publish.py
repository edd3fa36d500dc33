"""Publish the CX Code: one page any member of staff reads in two minutes, with an evidence appendix.

HTML (inline A4 print CSS, no script, nothing fetched; Jinja2 autoescape so any text renders inert),
Markdown, or PDF (WeasyPrint from the same HTML).  Publishing marks the evidenced principles ``published``
(a new stored version of each) and records it in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..errors import CxchainError
from .draft import MAX_PRINCIPLES, draft_code, save_drafts
from .principles import Principle, list_principles, save

__all__ = ["FORMATS", "code_document", "code_html", "code_markdown", "publish"]

FORMATS = ("html", "md", "pdf")


def _num(v: float | None, unit_hint: str) -> str:
    if v is None:
        return "-"
    if unit_hint in ("share",) or (0 <= v <= 1 and unit_hint != "raw"):
        return f"{v:.0%}"
    return f"{v:,.1f}"


def _unit(metric_id: str) -> str:
    try:
        from ..metrics.registry import get_spec

        return "share" if get_spec(metric_id).unit == "share" else "raw"
    except Exception:  # an unknown metric id: show the number as it is
        return "raw"


def code_document(ws: Any, principles: list[Principle] | None = None) -> dict[str, Any]:
    """The code as data for rendering: organisation, principles (evidenced, rank order, at most eight) with
    their findings' statements, and the assumptions not yet evidenced."""
    from ..settings import SECTORS

    ps = principles if principles is not None else list_principles(ws)
    findings = {f["id"]: f for f in ws.findings()}
    code = [p for p in ps if p.evidence][:MAX_PRINCIPLES]
    out = []
    for p in code:
        d = p.summary()
        d["findings"] = [
            {"id": i, "statement": findings[i]["statement"] if i in findings else "(no longer in the published findings)"}
            for i in p.evidence
        ]
        ms: list[dict[str, Any]] = []
        for m in p.measures:
            u = _unit(m.metric_id)
            sign = "≤" if m.direction == "below" else "≥"
            ms.append({**d["measures"][len(ms)], "baseline_text": _num(m.baseline, u),
                       "threshold_text": f"{sign} {_num(m.threshold, u)}"})
        d["measures"] = ms
        out.append(d)
    sector = str(ws.settings["sector"])
    return {
        "organisation": ws.settings["organisation"] or "Our organisation",
        "sector": sector,
        "sector_name": {"council": "Local council", "housing": "Social housing", "utility": "Utility", "bank": "Bank",
                        "telecom": "Telecoms", "retail": "Retail"}.get(sector, sector) if sector in SECTORS else sector,
        "published_at": datetime.now().strftime("%d %B %Y"),
        "principles": out,
        "assumptions": [p.summary() for p in ps if not p.evidence],
        "version_note": ", ".join(f"{p.id} v{p.version}" for p in code),
    }


def _env() -> Environment:
    return Environment(loader=PackageLoader("cxchain.code", "templates"), autoescape=select_autoescape(["html"]))


def code_html(doc: dict[str, Any]) -> str:
    """The code as one self-contained, printable HTML page."""
    return _env().get_template("code.html").render(doc=doc)


def code_markdown(doc: dict[str, Any]) -> str:
    """The code as Markdown."""
    lines = [f"# {doc['organisation']}: our customer experience code", "",
             f"_{doc['sector_name']} · published {doc['published_at']}_", ""]
    for i, p in enumerate(doc["principles"], 1):
        lines += [f"{i}. **{p['title']}** {p['statement']}  ", f"   _What it means for you:_ {p['for_staff']}", ""]
    if not doc["principles"]:
        lines += ["No principle is evidenced yet: run `cxchain code draft` first.", ""]
    lines += ["---", "", "## Evidence appendix", ""]
    for i, p in enumerate(doc["principles"], 1):
        lines += [f"### {i}. {p['title']}", ""]
        if p["refs"]:
            lines += [f"Sector references: {'; '.join(p['refs'])}", ""]
        lines += [f"- {f['statement']} (finding {f['id']})" for f in p["findings"]] + [""]
        if p["measures"]:
            lines += ["| Measure | Metric | Now | Promise |", "|---|---|---|---|"]
            lines += [f"| {m['label']} | {m['metric_id']} {' '.join(f'{k}={v}' for k, v in m['filters'].items())} | "
                      f"{m['baseline_text']} | {m['threshold_text']} |" for m in p["measures"]] + [""]
    if doc["assumptions"]:
        lines += ["### Assumptions not yet evidenced", ""] + [f"- {p['title']}: {p['note']}" for p in doc["assumptions"]]
    return "\n".join(lines) + "\n"


def publish(ws: Any, fmt: str, out: str | Path, *, actor: str = "cli") -> Path:
    """Write the published code to ``out`` as ``html``, ``md`` or ``pdf`` and mark its principles published.

    When nothing has been drafted yet, the code is drafted (and saved) first.
    """
    if fmt not in FORMATS:
        raise CxchainError(f"Format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    ps = list_principles(ws)
    if not ps:
        ps = save_drafts(ws, draft_code(ws), actor=actor)
    ps = [save(ws, p, actor=actor, note="published", rank=i) if _publishable(p) else p for i, p in enumerate(ps)]
    doc = code_document(ws, ps)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        path.write_text(code_markdown(doc), encoding="utf-8")
    elif fmt == "html":
        path.write_text(code_html(doc), encoding="utf-8")
    else:
        from weasyprint import HTML

        HTML(string=code_html(doc)).write_pdf(str(path))
    ws.store.audit(actor, "code.publish", str(path), {"format": fmt, "principles": [p["id"] for p in doc["principles"]]})
    return path


def _publishable(p: Principle) -> bool:
    if p.evidence and p.status == "draft":
        p.status = "published"
        return True
    return False
