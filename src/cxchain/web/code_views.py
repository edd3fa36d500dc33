"""View functions of the CX Code pages: the published code, one principle's versions, design reviews, and the
interaction QA sample.  Each returns one context dict, rendered as HTML or as its JSON twin alike."""

from __future__ import annotations

from typing import Any

from ..code.health import code_health
from ..code.principles import diff, get, history, list_principles
from ..code.review import ANSWERS, checklist, list_reviews
from ..code.story import code_section
from ..errors import CxchainError
from ..workspace import Workspace
from .users import User
from .views import _col, _small, table

__all__ = ["code_home", "principle", "reviews", "qa", "qa_sample", "may_review", "may_qa"]


def _published(ws: Workspace) -> bool:
    return any(p.status == "published" for p in list_principles(ws))


def code_home(ws: Workspace) -> dict[str, Any]:
    """The code: each principle with its status, evidence (linked findings), measures and adherence."""
    sec = code_section(ws)
    rows = [{"id": p["id"], "title": p["title"], "status": p["status"], "evidence": len(p["evidence"]),
             "measures": len(p["measures"]), "adherence": p["adherence"], "contacts": p["contacts"],
             "lower": p["limits"]["lower"], "upper": p["limits"]["upper"]} for p in sec["principles"]]
    cols = [_col("id", "Principle"), _col("title", "Title"), _col("status", "Status"),
            _col("evidence", "Findings cited"), _col("measures", "Measures"),
            _col("adherence", "Adherence", unit="share"), _col("contacts", "Contacts scored", count=True),
            _col("lower", "Lower limit", unit="share"), _col("upper", "Upper limit", unit="share")]
    return {"code": sec, "health": code_health(ws),
            "tables": [table("principles", "Principles", cols, rows, _small(ws))]}


def principle(ws: Workspace, principle_id: str) -> dict[str, Any]:
    """One principle: its current text, every version with who and when, readable diffs between consecutive
    versions, its evidence and its weekly adherence with process limits."""
    p = get(ws, principle_id)
    hist = history(ws, principle_id)
    versions = [{"version": h["version"], "actor": h["actor"], "at": h["at"], "note": h["note"],
                 "status": h["principle"].status} for h in hist]
    diffs = [{"from": a["version"], "to": b["version"], "at": b["at"], "actor": b["actor"],
              "changes": diff(a["principle"], b["principle"])} for a, b in zip(hist, hist[1:], strict=False)]
    diffs.reverse()  # newest change first
    sec = next((x for x in code_section(ws)["principles"] if x["id"] == principle_id), None)
    weeks: list[dict[str, Any]] = []
    chart_spec: dict[str, Any] = {}
    adh: dict[str, Any] = {}
    if p.status == "published":
        from ..code.adherence import adherence

        adh = adherence(ws, [p])[0]
        weeks = adh["weeks"]
        pts = [(w["week"], w["value"]) for w in weeks if w["value"] is not None]
        ch = adh["chart"]
        chart_spec = {"type": "line", "points": pts, "unit": "%", "title": f"Weekly adherence: {p.title}",
                      "limits": {k: ch[k] for k in ("centre", "lower", "upper")} if ch["centre"] is not None else None}
    small = _small(ws)
    return {
        "principle": p.summary(), "entry": sec, "versions": versions, "diffs": diffs, "adherence_chart": chart_spec,
        "adherence": {k: adh.get(k) for k in ("value", "contacts", "passed", "chart", "failing_checks")} if adh else None,
        "tables": [table("weeks", "Adherence by week",
                         [_col("week", "Week"), _col("n", "Contacts", count=True), _col("passed", "Kept it", count=True),
                          _col("value", "Adherence", unit="share")], weeks, small)],
    }


def may_review(user: User, initiative: dict[str, Any] | None) -> bool:
    """Analysts and admins review anything; an owner reviews the initiatives of their own business area."""
    if user.role in ("analyst", "admin"):
        return True
    if user.role == "owner" and initiative is not None and user.area:
        return any(a.get("area") == user.area for a in initiative.get("areas") or [])
    return False


def may_qa(user: User) -> bool:
    """Who confirms or corrects QA verdicts: analysts and admins."""
    return user.role in ("analyst", "admin")


def reviews(ws: Workspace, user: User) -> dict[str, Any]:
    """The design-review checklist, the initiatives (reviewed or not, and whether this user may review them) and
    the stored reviews."""
    from ..redesign.initiatives import list_initiatives

    try:
        questions = checklist(ws)
    except CxchainError as e:  # no published code yet: the page says so
        questions, note = [], str(e)
    else:
        note = ""
    stored = list_reviews(ws)
    reviewed = {r["initiative_id"] for r in stored if r["initiative_id"]}
    inis = [{"id": d["id"], "title": d["title"], "status": d["status"], "go_live": d["go_live"],
             "areas": ", ".join(a["area"] for a in d["areas"]), "reviewed": d["id"] in reviewed,
             "may_review": may_review(user, d)} for d in list_initiatives(ws)]
    rows = [{"id": r["id"], "initiative_id": r["initiative_id"] or "", "subject": r["subject"], "verdict": r["verdict"],
             "score": r["score"], "actor": r["actor"], "at": r["at"]} for r in stored]
    return {
        "checklist": questions, "answers": list(ANSWERS), "note": note, "initiatives": inis, "reviews": stored,
        "may_review_text": user.role in ("analyst", "admin"),
        "tables": [table("reviews", "Design reviews",
                         [_col("id", "Review"), _col("initiative_id", "Initiative"), _col("subject", "Change"),
                          _col("verdict", "Verdict"), _col("score", "Score"), _col("actor", "By"), _col("at", "When")],
                         rows, _small(ws))],
    }


def qa_sample(ws: Workspace, *, n: int = 20, seed: int = 0) -> dict[str, Any]:
    """The QA sample with the automatic verdicts and the agreement rate, the same for every reader (scoring a
    million contacts takes minutes: the web app keeps this per published state); :func:`qa` adds the reader."""
    from ..code.qa import agreement, sample

    if not _published(ws):
        return {"items": [], "agreement": agreement(ws), "scored": {"verdicts": 0, "failing": 0}, "seed": seed,
                "note": "There is no published CX Code to score contacts against yet.", "tables": []}
    s = sample(ws, n, seed=seed)
    by = [{"principle_id": k, **v} for k, v in s["agreement"]["by_principle"].items()]
    return {**s, "note": "",
            "tables": [table("agreement", "Agreement with people, by principle",
                             [_col("principle_id", "Principle"), _col("reviewed", "Reviewed"),
                              _col("agreed", "Agreed"), _col("rate", "Agreement", unit="share"),
                              _col("auto_fail_human_pass", "Auto fail, person pass"),
                              _col("auto_pass_human_fail", "Auto pass, person fail")], by, _small(ws))]}


def qa(ws: Workspace, user: User, *, n: int = 20, seed: int = 0,
       sampled: dict[str, Any] | None = None) -> dict[str, Any]:
    """The QA sample (``sampled``, else :func:`qa_sample`) as ``user`` sees it: whether they may confirm, and
    without the customers' and agents' words when the workspace keeps unredacted text and their role may not
    read it."""
    base = sampled if sampled is not None else qa_sample(ws, n=n, seed=seed)
    if not base["items"] and base.get("note"):
        return {**base, "may_qa": may_qa(user)}
    hide = not ws.settings["privacy.redact_text"] and user.role not in ("admin", "analyst")
    items = [{**it, "text": None, "agent_text": None} for it in base["items"]] if hide else base["items"]
    return {**base, "items": items, "may_qa": may_qa(user), "text_hidden": hide}
