"""Draft a CX Code from insight: five to eight principles, each citing the findings that evidence it.

How a finding becomes evidence: each finding is read as one or more *themes* (customer promises):

==================  ===========================================================================================
theme               evidenced by
==================  ===========================================================================================
fix_causes          the failure-demand share finding; a reason whose failure demand rose (``failure_shift`` up)
chase               failure demand mostly of type ``chasing_progress`` (>= 10% of failure contacts), or a
                    repeat hotspot / failure rise on a chasing reason
right_first_time    failure type ``not_done_right`` (same rule)
first_time          failure type ``repeat_unresolved``; every ``repeat_hotspot`` (customers contact us again)
plain               failure type ``did_not_understand``
put_right           failure type ``complaint``
self_serve          the top contact reasons are mostly self-serviceable value demand (``top_reasons``)
easy                a reason that pulls satisfaction down (``csat_driver``)
==================  ===========================================================================================

The sector pack's principles (:mod:`cxchain.code.packs`) come first when findings evidence them; themes no pack
principle covers get a principle in generic customer wording; unevidenced pack principles stay as
``assumption`` and fill the code up to five.  Measures come from the current values (a repeat rate below
today's, or below the rest of the organisation's for a hotspot) next to the pack's published standards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import CxchainError
from .packs import PACK_SECTORS, pack_principles
from .principles import ASSUMPTION_NOTE, Measure, Principle, list_principles, save_all

__all__ = [
    "THEMES",
    "MIN_MIX",
    "MIN_PRINCIPLES",
    "MAX_PRINCIPLES",
    "draft_code",
    "save_drafts",
    "finding_themes",
    "evidence_for",
    "judge",
    "failure_mix",
]

MIN_PRINCIPLES, MAX_PRINCIPLES = 5, 8
#: A failure type evidences its theme from the failure-share finding when it is at least this share of failure demand.
MIN_MIX = 0.10

FAILURE_THEME = {
    "chasing_progress": "chase",
    "not_done_right": "right_first_time",
    "repeat_unresolved": "first_time",
    "did_not_understand": "plain",
    "complaint": "put_right",
}

#: Generic wording of each theme: (id, title in the customer's words, statement, what it means for staff).
THEMES: dict[str, tuple[str, str, str, str]] = {
    "chase": (
        "dont-make-me-chase",
        "Don't make me chase",
        "Tell me what happens next and by when, and keep me updated, so I never have to contact you to find out.",
        "End every contact by saying what happens next, who does it and by when; update the customer before "
        "they have to ask.",
    ),
    "right_first_time": (
        "get-it-right-first-time",
        "Get it right first time",
        "Do what I asked properly the first time, so I don't have to come back because it went wrong.",
        "Check the job is really done before you close it; if it isn't done, it isn't closed.",
    ),
    "first_time": (
        "sort-it-first-time",
        "Sort it the first time I ask",
        "Deal with my request fully the first time I contact you, so I don't have to contact you again.",
        "Own the request to the end; if you can't finish it now, say exactly what happens next and when.",
    ),
    "plain": (
        "say-it-plainly",
        "Tell me clearly, in words I understand",
        "Write and speak plainly, so I understand what you mean and what I need to do.",
        "If someone contacts us to ask what we meant, log it: the letter, page or message needs rewriting.",
    ),
    "put_right": (
        "put-it-right",
        "Put it right when it goes wrong",
        "If something goes wrong, own it, put it right quickly and tell me what you changed.",
        "Log every complaint; acknowledge within 5 working days and answer within 10 (stage 1) or 20 (stage 2).",
    ),
    "fix_causes": (
        "dont-give-me-a-reason-to-call",
        "Don't give me a reason to contact you",
        "Fix the causes of the contacts I should never have had to make.",
        "When a customer contacts us because something went wrong, record why: that cause is ours to fix.",
    ),
    "self_serve": (
        "let-me-do-it-myself",
        "Let me sort simple things myself",
        "Let me do the simple things myself, online, first time, whenever it suits me.",
        "Show customers the online route that works, and report the ones that don't so they get fixed.",
    ),
    "easy": (
        "make-it-easy",
        "Make it easy for me",
        "Make dealing with you easy and pleasant, especially for the things that matter most to me.",
        "Listen first, use the customer's words back, and take one step out of their way each time.",
    ),
}


# --- reading findings ---------------------------------------------------------------------------------


def _taxonomy(ws: Any) -> Any:
    from ..insight.taxonomy import load_taxonomy, starter_taxonomy

    path = ws.path / "taxonomy.yaml"
    if path.exists():
        return load_taxonomy(path)
    sector = ws.settings["sector"]
    return starter_taxonomy(sector if sector in PACK_SECTORS else "council")


def _reason(tax: Any, rid: str) -> Any:
    try:
        return tax.get(rid) if rid in tax else None
    except Exception:  # a retired or unknown reason: no failure type to read
        return None


def failure_mix(ws: Any) -> dict[str, float]:
    """Share of failure-demand contacts by failure type (empty when it cannot be computed)."""
    try:
        rows = ws.metric("volume", by=["failure_type"], filters={"demand": "failure", "is_first_leg": True})
    except (ValueError, CxchainError):
        return {}
    total = sum(r["n"] or 0 for r in rows) or 0
    return {str(r["failure_type"]): (r["n"] or 0) / total for r in rows if total and r.get("failure_type")}


def finding_themes(f: dict[str, Any], tax: Any, mix: dict[str, float]) -> set[str]:
    """The themes one finding evidences (see the module docstring)."""
    kind, subject = f.get("kind"), str(f.get("subject") or "")
    reason = _reason(tax, subject) if subject and subject != "all" else None
    own = (
        {FAILURE_THEME[reason.failure_type]}
        if reason is not None and reason.failure_type in FAILURE_THEME
        else set()
    )
    if kind == "failure_share":
        return {"fix_causes"} | {
            FAILURE_THEME[t] for t, s in mix.items() if t in FAILURE_THEME and s >= MIN_MIX
        }
    if kind == "failure_shift":
        return ({"fix_causes"} | own) if f.get("direction") != "down" else set()
    if kind == "repeat_hotspot":
        return {"first_time"} | own
    if kind == "csat_driver":
        return {"easy"} | own
    if kind == "top_reasons":
        names = [str(x[0]) for x in (f.get("chart") or {}).get("items", [])[:5]]
        by_name = {r.name: r for r in getattr(tax, "reasons", [])}
        top = [by_name[n] for n in names if n in by_name]
        easy = [r for r in top if r.self_serviceable and r.demand == "value"]
        return {"self_serve"} if top and len(easy) * 2 >= len(top) else set()
    return set()


def evidence_for(
    rule: dict[str, list[str]], findings: list[dict[str, Any]], themes: dict[str, set[str]]
) -> list[str]:
    """Ids of the findings (rank order) that satisfy an evidence rule: a finding counts when one of its themes,
    its kind or its metric id is named in the rule (and, when the rule names ``subjects``, it is about one)."""
    out = []
    for f in findings:
        if rule.get("subjects") and str(f.get("subject")) not in rule["subjects"]:
            continue
        if (
            themes.get(f["id"], set()) & set(rule.get("themes", []))
            or f.get("kind") in rule.get("kinds", [])
            or (f.get("metric") or {}).get("id") in rule.get("metric_ids", [])
        ):
            out.append(str(f["id"]))
    return out


# --- measures -------------------------------------------------------------------------------------------


def _value(ws: Any, metric_id: str, filters: dict[str, Any]) -> dict[str, Any] | None:
    try:
        rows = ws.metric(metric_id, filters=filters or None)
    except (ValueError, KeyError, CxchainError):
        return None
    return rows[0] if rows and rows[0].get("value") is not None else None


def _target(row: dict[str, Any], improve: float = 0.2) -> tuple[float, str]:
    v = float(row["value"])
    if row.get("higher_is_better") is False:
        return round(v * (1 - improve), 4), "below"
    return round(
        min(v * (1 + improve / 2), 1.0) if row.get("unit") == "share" else v * (1 + improve / 2), 4
    ), "above"


def _measure(
    ws: Any, metric_id: str, filters: dict[str, Any], label: str, *, target: float | None = None
) -> Measure | None:
    row = _value(ws, metric_id, filters)
    if row is None:
        return None
    thr, direction = _target(row)
    if target is not None:
        thr = round(target, 4)
    return Measure(
        metric_id=metric_id,
        filters=dict(filters),
        threshold=thr,
        direction=direction,
        baseline=round(float(row["value"]), 4),
        label=label,
    )


def _theme_measures(ws: Any, theme: str, ev: list[dict[str, Any]], tax: Any) -> list[Measure]:
    out: list[Measure | None] = []
    for f in ev:
        rid = str(f.get("subject") or "")
        name = getattr(_reason(tax, rid), "name", rid)
        if f["kind"] == "repeat_hotspot" and theme in ("first_time", "chase", "right_first_time", "plain"):
            out.append(
                _measure(
                    ws,
                    "repeat_rate",
                    {"reason_id": rid},
                    f"Repeat contacts about {name} (no worse than other reasons)",
                    target=f.get("comparison"),
                )
            )
        elif f["kind"] == "csat_driver":
            out.append(
                _measure(
                    ws,
                    "csat_top2",
                    {"reason_id": rid},
                    f"Satisfied customers, {name} (as for other reasons)",
                    target=f.get("comparison"),
                )
            )
        elif f["kind"] == "failure_shift":
            out.append(
                _measure(
                    ws,
                    "failure_demand_share",
                    {"reason_id": rid},
                    f"Failure demand about {name} (back to before the rise)",
                    target=f.get("comparison"),
                )
            )
    ft = {v: k for k, v in FAILURE_THEME.items()}.get(theme)
    if ft:
        out.append(
            _measure(
                ws,
                "repeat_rate",
                {"failure_type": ft},
                f"Repeat contacts after {ft.replace('_', ' ')} contacts",
            )
        )
    if theme == "fix_causes":
        out.append(_measure(ws, "failure_demand_share", {}, "Share of contacts that are failure demand"))
    if theme == "chase":
        out.append(_measure(ws, "time_to_resolve_median", {}, "Median hours to resolve"))
    if theme == "put_right":
        out.append(
            _measure(
                ws,
                "complaint_response_in_time",
                {},
                "Complaints answered within Code timescales",
                target=0.95,
            )
        )
    if theme in ("self_serve", "easy"):
        out.append(_measure(ws, "channel_switch_rate", {}, "Customers who had to switch channel"))
        out.append(_measure(ws, "ces_mean", {}, "Customer effort score"))
    seen: set[str] = set()
    uniq = []
    for m in out:
        if m is None:
            continue
        key = f"{m.metric_id}|{sorted(m.filters.items())}"
        if key not in seen:
            seen.add(key)
            uniq.append(m)
    return uniq[:4]


def judge(ws: Any, p: Principle) -> bool:
    """True when the data contradicts the principle: every measure that can be judged is already kept,
    overall and in every channel (the promise needs no work, so the evidence does not support it)."""
    judged = 0
    for m in p.measures:
        if m.threshold is None:
            continue
        rows: list[dict[str, Any]] = []
        for by in ((), ("channel",)):
            try:
                rows += [
                    r
                    for r in ws.metric(m.metric_id, by=list(by), filters=m.filters or None)
                    if r.get("value") is not None and not r.get("suppressed")
                ]
            except (ValueError, KeyError, CxchainError):
                continue
        if not rows:
            continue
        judged += 1
        if not all(m.kept(float(r["value"])) for r in rows):
            return False
    return judged > 0


# --- drafting -------------------------------------------------------------------------------------------


def _focus(ev: list[dict[str, Any]], tax: Any) -> str:
    names = []
    for f in ev:
        r = _reason(tax, str(f.get("subject") or ""))
        if r is not None and r.name not in names:
            names.append(r.name)
    return f" Start with: {', '.join(names[:3])}." if names else ""


def draft_code(
    ws: Any,
    *,
    sector: str | None = None,
    previous: list[Principle] | None = None,
    themes_of: Callable[[dict[str, Any], Any, dict[str, float]], set[str]] = finding_themes,
) -> list[Principle]:
    """Propose the workspace's CX Code: five to eight principles, evidenced ones first (strongest evidence first).

    ``previous`` (default: the stored principles) are re-judged against today's findings, so a principle whose
    evidence disappeared comes back as an ``assumption``.  Nothing is stored: see :func:`save_drafts`.
    """
    sector = sector or str(ws.settings["sector"])
    if previous is None:
        try:
            previous = list_principles(ws)
        except Exception:  # no ops store yet
            previous = []
    findings = ws.findings()
    rank = {f["id"]: i for i, f in enumerate(findings)}
    by_id = {f["id"]: f for f in findings}
    tax = _taxonomy(ws)
    mix = failure_mix(ws)
    themes = {f["id"]: themes_of(f, tax, mix) for f in findings}

    def finish(p: Principle, theme: str | None) -> Principle:
        p.evidence = evidence_for(p.evidence_rule, findings, themes)
        ev = [by_id[i] for i in p.evidence]
        p.strength = round(sum(1.0 / (1 + rank[i]) for i in p.evidence), 4)
        if theme:
            extra: list[Measure] = []
            for t in p.evidence_rule.get("themes", []):
                ev_t = [f for f in ev if t in themes[f["id"]]]
                extra += _theme_measures(ws, t, ev_t, tax) if ev_t else []
            have = {(m.metric_id, str(sorted(m.filters.items()))) for m in p.measures}
            for m in extra:
                key = (m.metric_id, str(sorted(m.filters.items())))
                if key not in have and len(p.measures) < 5:
                    have.add(key)
                    p.measures.append(m)
            if ev and "Start with:" not in p.for_staff:
                p.for_staff += _focus(ev, tax)
        for m in p.measures:
            if m.baseline is None:
                row = _value(ws, m.metric_id, m.filters)
                m.baseline = None if row is None else round(float(row["value"]), 4)
        p.sector = sector
        if p.evidence:
            p.status, p.note = "draft", f"evidenced by {len(p.evidence)} finding(s)"
        else:
            p.status, p.note = "assumption", ASSUMPTION_NOTE
        p.contradicted = judge(ws, p) if p.measures else False
        return p

    out: list[Principle] = []
    covered: set[str] = set()
    for p in pack_principles(sector) if sector in PACK_SECTORS else []:
        theme = p.evidence_rule.get("themes", [None])[0]
        out.append(finish(p, theme))
        covered.update(p.evidence_rule.get("themes", []))
    for theme, (pid, title, statement, staff) in THEMES.items():
        if theme in covered or any(p.id == pid for p in out):
            continue
        p = Principle(
            id=pid,
            title=title,
            statement=statement,
            for_staff=staff,
            evidence_rule={"themes": [theme]},
            source="insight",
        )
        p = finish(p, theme)
        if p.evidence:
            out.append(p)
    ids = {p.id for p in out}
    for old in previous:
        if old.id not in ids:
            old.measures = list(old.measures)
            out.append(finish(old, None))
    for p in out:
        prev = next((q for q in previous if q.id == p.id), None)
        if (
            prev is not None
            and prev.status == "published"
            and p.status == "draft"
            and (prev.title, prev.statement, sorted(prev.evidence))
            == (p.title, p.statement, sorted(p.evidence))
        ):
            p.status, p.note = "published", prev.note
    evidenced = sorted(
        (p for p in out if p.evidence), key=lambda p: (p.contradicted, -p.strength, p.source != "pack")
    )
    rest = [p for p in out if not p.evidence]
    code = evidenced[:MAX_PRINCIPLES]
    code += rest[: max(0, MIN_PRINCIPLES - len(code))]
    return code


def save_drafts(ws: Any, principles: list[Principle], *, actor: str = "cli") -> list[Principle]:
    """Store the drafted code (a new version of each principle that changed).  Stored principles left out of the
    draft are re-judged: when their evidence is gone they are saved as assumptions, after the drafted ones."""
    drafted = {p.id for p in principles}
    stale = [p for p in list_principles(ws) if p.id not in drafted]
    rest = []
    if stale:
        findings = ws.findings()
        tax = _taxonomy(ws)
        mix = failure_mix(ws)
        themes = {f["id"]: finding_themes(f, tax, mix) for f in findings}
        for p in stale:
            p.evidence = evidence_for(p.evidence_rule, findings, themes)
            if not p.evidence:
                p.status, p.note = "assumption", ASSUMPTION_NOTE
            rest.append(p)
    saved = save_all(ws, principles + rest, actor=actor, note="drafted from insight")
    ws.store.audit(actor, "code.draft", "", {"principles": [p.id for p in principles]})
    return saved[: len(principles)]
