"""Health of the CX Code link: ``{"status": "holds" | "weak" | "broken", "reasons": [{"code", "text"}]}``.

Stable reason codes (:data:`REASONS`): ``no_code`` (broken), ``principle_without_evidence``,
``principle_without_measure``, ``principle_contradicted``, ``go_live_not_reviewed`` (an initiative went live
without a design review against the Code), ``adherence_falling`` (a published principle's weekly adherence
gave a downward XmR signal in the last :data:`RECENT_WEEKS` weeks); broken also when no principle is evidenced.  Evidence is checked against today's findings,
so a principle whose finding disappeared is reported even before the code is drafted again.
"""

from __future__ import annotations

from typing import Any

from .principles import list_principles

__all__ = ["REASONS", "RECENT_WEEKS", "code_health", "falling"]

REASONS: dict[str, str] = {
    "no_code": "No CX Code has been drafted (broken): run `cxchain code draft`.",
    "principle_without_evidence": "A principle cites no finding of this workspace (an assumption).",
    "principle_without_measure": "A principle has no measure with a threshold.",
    "principle_contradicted": "The data contradicts a principle: its measures are already kept everywhere.",
    "go_live_not_reviewed": "An initiative went live without a design review against the CX Code.",
    "adherence_falling": "Fewer contacts keep a published principle: a downward signal on its weekly adherence.",
}

#: How recent a downward adherence signal must be to be reported.
RECENT_WEEKS = 4


def _r(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def falling(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``adherence_falling`` reasons for adherence rows (:func:`cxchain.code.adherence.adherence`) whose chart has a
    downward signal in their last :data:`RECENT_WEEKS` charted weeks."""
    out = []
    for a in rows:
        weeks = [w["week"] for w in a["weeks"] if w["value"] is not None][-RECENT_WEEKS:]
        down = [x for x in a["chart"]["signals"] if x["direction"] == "down" and x["week"] in weeks]
        if down:
            out.append(_r("adherence_falling",
                          f"{a['title']}: adherence fell to {down[-1]['value']:.0%} in the week of {down[-1]['week']} "
                          f"({down[-1]['meaning']}); see `cxchain code adherence`."))
    return out


def code_health(ws: Any) -> dict[str, Any]:
    """Judge the stored code: drafted at all, every principle evidenced, measured and not contradicted."""
    ps = list_principles(ws)
    if not ps:
        return {"status": "broken", "reasons": [_r("no_code", REASONS["no_code"])]}
    try:
        present = {f["id"] for f in ws.findings()}
    except Exception:  # no published run: every cited finding is missing
        present = set()
    reasons: list[dict[str, str]] = []
    no_ev = [p.id for p in ps if not [i for i in p.evidence if i in present]]
    if no_ev:
        reasons.append(_r("principle_without_evidence",
                          f"Principles without evidence in today's findings: {', '.join(no_ev)}."))
    no_m = [p.id for p in ps if not [m for m in p.measures if m.threshold is not None]]
    if no_m:
        reasons.append(_r("principle_without_measure", f"Principles without a measure: {', '.join(no_m)}."))
    contra = [p.id for p in ps if p.contradicted]
    if contra:
        reasons.append(_r("principle_contradicted",
                          f"The data contradicts these principles (already kept everywhere): {', '.join(contra)}."))
    from .review import unreviewed_go_lives

    for i in unreviewed_go_lives(ws):
        reasons.append(_r("go_live_not_reviewed",
                          f"{i['id']} {i['title']} went live ({i['go_live'] or i['status']}) without a design review: "
                          f"`cxchain code review --initiative {i['id']}`."))
    pub = [p for p in ps if p.status == "published"]
    if pub:
        from .adherence import adherence

        reasons += falling(adherence(ws, pub))
    broken = len(no_ev) == len(ps)  # nothing in the code is evidenced: it is all assumption
    return {"status": "broken" if broken else ("weak" if reasons else "holds"), "reasons": reasons}
