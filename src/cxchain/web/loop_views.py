"""View functions of links 3-5 (priorities, redesign, cycle): library calls turned into one context dict each.

Like :mod:`cxchain.web.views`, a view never decides how it is shown: the page, its JSON twin and the
CSV / Excel downloads of its ``tables`` all come from the dict returned here.  Every number a table shows
is a column of that table, so the JSON twin carries the same numbers as the page.
"""

from __future__ import annotations

import threading
from typing import Any

from ..code.review import reviews_of
from ..cycle.cycles import cycle_report, list_cycles
from ..errors import NotFoundError
from ..priorities.opportunities import opportunities
from ..priorities.plan import ACTIVE, HORIZONS, get_plan
from ..redesign.initiatives import STATUSES, TASK_STATUSES, TYPES, board, get_initiative
from ..redesign.store import reader
from ..workspace import Workspace
from .views import _col, _small, table

__all__ = ["priorities", "redesign", "initiative", "cycles", "cycle", "owns", "opportunity_rows"]

Published = tuple[list[dict[str, Any]], frozenset[str]]
_CACHE: dict[str, tuple[tuple[Any, ...], Published]] = {}  # workspace path -> (state key, value)
_COMPUTING: dict[str, threading.Lock] = {}


def _published(ws: Workspace) -> Published:
    """Ranked opportunities and the published finding ids, computed once per published generation, settings
    file and set of measurements.

    Opportunities read the whole published store (about a second on the 20,000-contact demo); they change
    only when a run publishes, the settings change or a cycle close adds measurements (outcomes feed the
    score).  One request computes; the others wait for it the first time, and afterwards keep getting the
    last computed value until the new one is ready (as the app keeps serving the last published run).
    """
    cur = ws.store.current() or {}
    toml = ws.path / "cxchain.toml"
    with reader(ws) as con:
        measured = con.execute("SELECT coalesce(max(id), 0) FROM measurements").fetchone()[0]
    key = (cur.get("generation"), toml.stat().st_mtime_ns if toml.exists() else 0, measured)
    path = str(ws.path)
    entry = _CACHE.get(path)
    if entry is not None and entry[0] == key:
        return entry[1]
    lock = _COMPUTING.setdefault(path, threading.Lock())
    if entry is not None and not lock.acquire(blocking=False):
        return entry[1]  # another request is computing the new state: the last one meanwhile
    if entry is None:
        lock.acquire()
    try:
        entry = _CACHE.get(path)
        if entry is not None and entry[0] == key:
            return entry[1]
        value: Published = (opportunities(ws), frozenset(f["id"] for f in ws.findings()))
        _CACHE[path] = (key, value)
        return value
    finally:
        lock.release()


def opportunity_rows(ws: Workspace) -> list[dict[str, Any]]:
    """Ranked opportunities of the published run (cached, see :func:`_published`)."""
    return _published(ws)[0]


def _money(cost: dict[str, Any] | None, end: str) -> float | None:
    return None if not cost else cost.get(end)


def priorities(ws: Workspace, *, cycle_id: str | None = None, horizon: str | None = None) -> dict[str, Any]:
    """A cycle's plan (default: the open one): each priority with its score terms, rationale, findings and
    decisions; and the ranked opportunities it was drawn from."""
    small = _small(ws)
    try:
        plan = get_plan(ws, cycle_id=cycle_id, horizon=horizon or None)
    except NotFoundError:
        if cycle_id is not None:
            raise
        plan = {"cycle": None, "horizon": horizon, "priorities": []}
    published = ws.store.current() is not None
    known_findings = _published(ws)[1] if published else frozenset()
    cards, plan_rows, term_rows, decision_rows = [], [], [], []
    for p in plan["priorities"]:
        o = p["opportunity"] or {}
        terms = o.get("terms") or {}
        cards.append({
            "id": p["id"], "title": p["title"], "rank": p["rank"], "horizon": p["horizon"],
            "reason_id": p["reason_id"], "reason_name": o.get("reason_name") or p["reason_id"],
            "status": p["status"], "rationale": p["rationale"], "score": o.get("score"),
            "findings": [{"id": f, "published": f in known_findings} for f in p["finding_ids"]],
            "decisions": p["decisions"], "decidable": plan["cycle"] is not None and plan["cycle"]["status"] == "open",
            "active": p["status"] in ACTIVE,
            "terms": [{"term": k.replace("_", " "), "points": t.get("points")}
                      for k, t in sorted(terms.items(), key=lambda kv: -(kv[1].get("points") or 0))],
        })
        plan_rows.append({
            "id": p["id"], "horizon": p["horizon"], "rank": p["rank"], "title": p["title"],
            "reason_id": p["reason_id"], "status": p["status"], "score": o.get("score"),
            "avoidable_contacts": o.get("avoidable_contacts"), "cost_low": _money(o.get("cost"), "low"),
            "cost_high": _money(o.get("cost"), "high"), "findings": " ".join(p["finding_ids"]),
        })
        for name, t in terms.items():
            term_rows.append({"priority": p["id"], "term": name.replace("_", " "), "meaning": t.get("meaning"),
                              "value": t.get("value"), "weight": t.get("weight"), "points": t.get("points")})
        for d in p["decisions"]:
            decision_rows.append({"priority": p["id"], "decision": d["decision"], "reason": d["reason"],
                                  "by": d["actor"], "at": d["at"]})
    opp_rows = [{
        "rank": o.get("rank"), "reason": o.get("reason_name"), "reason_id": o.get("reason_id"),
        "score": o.get("score"), "volume": o.get("volume"), "failure_share": o.get("failure_share"),
        "avoidable_contacts": o.get("avoidable_contacts"), "cost_low": _money(o.get("cost"), "low"),
        "cost_high": _money(o.get("cost"), "high"), "repeat_share": (o.get("repeat") or {}).get("share"),
        "trend": (o.get("trend") or {}).get("xmr_signal"),
        "outcome": (o.get("outcome") or {}).get("text"),
    } for o in opportunity_rows(ws)] if published else []
    cyc = plan["cycle"]
    return {
        "cycle": cyc, "horizon": horizon or None, "horizons": list(HORIZONS),
        "cycles": [c["id"] for c in list_cycles(ws)], "priorities": cards,
        "undecided": sum(1 for c in cards if c["status"] == "proposed"),
        "tables": [
            table("plan", f"Plan of cycle {cyc['id']}" if cyc else "Plan", [
                _col("id", "Priority"), _col("horizon", "Horizon"), _col("rank", "Rank"), _col("title", "Title"),
                _col("reason_id", "Reason"), _col("status", "Status"), _col("score", "Score (of 100)"),
                _col("avoidable_contacts", "Avoidable contacts a year"), _col("cost_low", "Cost a year, low (GBP)"),
                _col("cost_high", "Cost a year, high (GBP)"), _col("findings", "Findings")], plan_rows, small),
            table("score_terms", "Score terms of each priority", [
                _col("priority", "Priority"), _col("term", "Term"), _col("meaning", "Meaning"),
                _col("value", "Value"), _col("weight", "Weight"), _col("points", "Points")], term_rows, small),
            table("decisions", "Decisions", [
                _col("priority", "Priority"), _col("decision", "Decision"), _col("reason", "Why"),
                _col("by", "By"), _col("at", "When")], decision_rows, small),
            table("opportunities", "Opportunities, ranked", [
                _col("rank", "Rank"), _col("reason", "Reason"), _col("reason_id", "Reason id"),
                _col("score", "Score (of 100)"), _col("volume", "Contacts", count=True),
                _col("failure_share", "Failure demand", unit="%"),
                _col("avoidable_contacts", "Avoidable contacts a year"), _col("cost_low", "Cost a year, low (GBP)"),
                _col("cost_high", "Cost a year, high (GBP)"), _col("repeat_share", "Repeated", unit="%"),
                _col("trend", "XmR signal"), _col("outcome", "Earlier outcome")], opp_rows, small),
        ],
    }


def owns(user_area: str | None, areas: list[dict[str, Any]]) -> bool:
    """Whether an owner of ``user_area`` owns an initiative with these business areas."""
    return bool(user_area) and any(a.get("area") == user_area for a in areas)


def redesign(ws: Workspace) -> dict[str, Any]:
    """The redesign board: initiatives grouped by business area (one under each of its areas), and the
    accepted priorities of the open cycle that an initiative can be started from."""
    b = board(ws)
    rows = [{"area": area, **card} for area, cards in b.items() for card in cards]
    startable = []
    try:
        plan = get_plan(ws)
        if plan["cycle"]["status"] == "open":
            startable = [{"id": p["id"], "title": p["title"]} for p in plan["priorities"] if p["status"] in ACTIVE]
    except NotFoundError:
        pass
    return {
        "areas": [{"area": a, "cards": cards} for a, cards in b.items()],
        "types": list(TYPES), "startable": startable,
        "tables": [table("board", "Initiatives by business area", [
            _col("area", "Business area"), _col("owner", "Owner"), _col("id", "Initiative"), _col("title", "Title"),
            _col("type", "Type"), _col("status", "Status"), _col("go_live", "Go-live"),
            _col("metric_id", "Target metric"), _col("target", "Target"), _col("open_tasks", "Open tasks"),
            _col("verdict", "Verdict"), _col("version", "Version")], rows, _small(ws))],
    }


def _series_chart(m: dict[str, Any], title: str, unit: str) -> dict[str, Any] | None:
    series = (m.get("details") or {}).get("series") or []
    if len(series) < 2:
        return None
    return {"type": "line", "title": title, "unit": unit, "marker": m.get("go_live"),
            "points": [[s["week"], s["value"]] for s in series]}


def _measurement_row(m: dict[str, Any]) -> dict[str, Any]:
    return {k: m.get(k) for k in ("measured_at", "cycle_id", "data_to", "verdict", "effect", "ci_low", "ci_high",
                                  "relative_effect", "relative_ci_low", "relative_ci_high", "method", "summary")}


_MEASUREMENT_COLS = [
    _col("verdict", "Verdict"), _col("effect", "Effect at go-live"), _col("ci_low", "95% interval, low"),
    _col("ci_high", "95% interval, high"), _col("relative_effect", "Relative effect", unit="%"),
    _col("relative_ci_low", "Relative interval, low", unit="%"),
    _col("relative_ci_high", "Relative interval, high", unit="%"), _col("method", "Method"),
    _col("summary", "In plain words")]


def initiative(ws: Workspace, initiative_id: str) -> dict[str, Any]:
    """One initiative: tasks, dates, target metric with baseline and target, status, change log, measurements."""
    d = get_initiative(ws, initiative_id)
    small = _small(ws)
    baseline = d["baseline"] or {}
    unit = baseline.get("unit") or ""
    ms = d["measurements"]
    latest = ms[-1] if ms else None
    chart = None
    if latest:
        chart = _series_chart({**latest, "go_live": d["go_live"]},
                              f"Weekly {d['metric_id']} ({unit or 'value'}); go-live marked", unit if unit != "a week" else "")
    target_row = {"metric_id": d["metric_id"], "filters": ", ".join(f"{k}={v}" for k, v in d["metric_filters"].items()),
                  "baseline": baseline.get("value"), "baseline_weeks": baseline.get("weeks"),
                  "baseline_from": baseline.get("from"), "baseline_to": baseline.get("to"), "target": d["target"],
                  "unit": unit}
    return {
        "initiative": {k: d[k] for k in ("id", "title", "type", "status", "priority_id", "cycle_id", "areas", "start",
                                         "go_live", "metric_id", "metric_filters", "baseline", "target", "version",
                                         "created_at", "created_by", "updated_at", "updated_by")},
        "latest_measurement": _measurement_row(latest) if latest else None,
        "series_chart": chart, "statuses": list(STATUSES), "task_statuses": list(TASK_STATUSES), "types": list(TYPES),
        "tables": [
            table("target", "Target metric", [
                _col("metric_id", "Metric"), _col("filters", "Filters"), _col("baseline", "Baseline"),
                _col("baseline_weeks", "Baseline weeks"), _col("baseline_from", "Baseline from"),
                _col("baseline_to", "Baseline to"), _col("target", "Target"), _col("unit", "Unit")], [target_row], 0),
            table("tasks", "Tasks", [
                _col("id", "Task"), _col("title", "Title"), _col("owner", "Owner"), _col("due", "Due"),
                _col("status", "Status"), _col("created_by", "Added by")], d["tasks"], small),
            table("measurements", "Measurements", [_col("measured_at", "Measured"), _col("cycle_id", "Cycle"),
                                                   _col("data_to", "Data to"), *_MEASUREMENT_COLS],
                  [_measurement_row(m) for m in ms], small),
            table("reviews", "Design reviews against the CX Code", [
                _col("id", "Review"), _col("subject", "Change"), _col("verdict", "Verdict"), _col("score", "Score"),
                _col("summary", "Summary"), _col("actor", "By"), _col("at", "When")],
                [{k: r[k] for k in ("id", "subject", "verdict", "score", "summary", "actor", "at")}
                 for r in reviews_of(ws, initiative_id)], 0),
            table("changes", "Change log", [
                _col("at", "When"), _col("actor", "Who"), _col("field", "What"), _col("old", "Was"),
                _col("new", "Now"), _col("version", "Version")], d["changes"], 0),
        ],
    }


def cycles(ws: Workspace) -> dict[str, Any]:
    """Every cycle with what it held: priorities, initiatives and their verdicts."""
    rows = []
    for c in list_cycles(ws):
        r = cycle_report(ws, c["id"])
        rows.append({**c, **{k: r["counts"].get(k) for k in ("priorities", "decided", "initiatives", "improved",
                                                              "no_detectable_change")}})
    open_ = next((r for r in rows if r["status"] == "open"), None)
    return {
        "open_cycle": open_["id"] if open_ else None,
        "length_weeks": int(ws.settings["cycle.length_weeks"]),
        "tables": [table("cycles", "Cycles", [
            _col("id", "Cycle"), _col("start", "Start"), _col("end", "End"), _col("status", "Status"),
            _col("priorities", "Priorities"), _col("decided", "Decided"), _col("initiatives", "Initiatives"),
            _col("improved", "Improved"), _col("no_detectable_change", "No detectable change"),
            _col("closed_at", "Closed"), _col("closed_by", "Closed by")], rows, 0)],
    }


def cycle(ws: Workspace, cycle_id: str) -> dict[str, Any]:
    """The cycle report: what we changed (decided priorities, initiatives) and what it did (verdict, effect,
    interval, in plain words), with each measured series as a chart."""
    r = cycle_report(ws, cycle_id)
    small = _small(ws)
    items = []
    for ini in r["initiatives"]:
        m = ini["measurement"]
        chart = None
        if m:
            full = next((x for x in reversed(get_initiative(ws, ini["id"])["measurements"])
                         if x["measured_at"] == m["measured_at"]), None)
            unit = (ini["baseline"] or {}).get("unit") or ""
            if full:
                chart = _series_chart({**full, "go_live": ini["go_live"]},
                                      f"{ini['id']}: weekly {ini['metric_id']} ({unit or 'value'}); go-live marked",
                                      unit if unit != "a week" else "")
        items.append({**ini, "chart": chart})
    ini_rows = [{"id": x["id"], "title": x["title"], "priority_id": x["priority_id"], "go_live": x["go_live"],
                 "metric_id": x["metric_id"], "baseline": (x["baseline"] or {}).get("value"), "target": x["target"],
                 **(_measurement_row(x["measurement"]) if x["measurement"] else {})} for x in r["initiatives"]]
    pri_rows = [{"id": p["id"], "title": p["title"], "reason_id": p["reason_id"], "status": p["status"],
                 "why": (p["decision"] or {}).get("reason"), "by": (p["decision"] or {}).get("actor")}
                for p in r["priorities"]]
    return {
        "cycle": r["cycle"], "counts": r["counts"], "text": r["text"], "initiatives": items,
        "tables": [
            table("initiatives", "What we changed and what it did", [
                _col("id", "Initiative"), _col("title", "Title"), _col("priority_id", "Priority"),
                _col("go_live", "Go-live"), _col("metric_id", "Metric"), _col("baseline", "Baseline"),
                _col("target", "Target"), *_MEASUREMENT_COLS], ini_rows, small),
            table("priorities", "The plan and its decisions", [
                _col("id", "Priority"), _col("title", "Title"), _col("reason_id", "Reason"), _col("status", "Status"),
                _col("why", "Why"), _col("by", "Decided by")], pri_rows, small),
        ],
    }

