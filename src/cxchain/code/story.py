"""The CX Code in the story: each principle next to the findings that evidence it and how well it is kept."""

from __future__ import annotations

from typing import Any

from .principles import list_principles

__all__ = ["code_section"]


def code_section(ws: Any, findings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"principles": [{"id", "title", "statement", "status", "note", "evidence": [{"id", "title"}],
    "missing_evidence": [ids], "measures": [...], "adherence": value or None, "contacts", "signals"}],
    "published": bool}``: empty ``principles`` when no code has been drafted."""
    ps = list_principles(ws)
    if not ps:
        return {"principles": [], "published": False}
    by_id = {str(f["id"]): f for f in (findings if findings is not None else ws.findings())}
    adh: dict[str, dict[str, Any]] = {}
    pub = [p for p in ps if p.status == "published"]
    if pub:
        from .adherence import adherence

        adh = {a["principle_id"]: a for a in adherence(ws, pub)}
    out = []
    for p in ps:
        a = adh.get(p.id) or {}
        out.append({
            "id": p.id, "title": p.title, "statement": p.statement, "for_staff": p.for_staff, "status": p.status,
            "note": p.note, "contradicted": p.contradicted, "version": p.version,
            "evidence": [{"id": i, "title": by_id[i].get("title", i)} for i in p.evidence if i in by_id],
            "missing_evidence": [i for i in p.evidence if i not in by_id],
            "measures": [{"metric_id": m.metric_id, "filters": m.filters, "threshold": m.threshold,
                          "direction": m.direction, "baseline": m.baseline, "label": m.label} for m in p.measures],
            "adherence": a.get("value"), "contacts": a.get("contacts", 0),
            "limits": {k: (a.get("chart") or {}).get(k) for k in ("lower", "centre", "upper")},
            "signals": (a.get("chart") or {}).get("signals", [])[-3:],
        })
    return {"principles": out, "published": bool(pub)}
