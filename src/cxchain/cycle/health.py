"""Chain health of links 3-5 (``priorities``, ``redesign``, ``cycle``), judged against ``settings.as_of``.

Each function returns ``{"status": "holds" | "weak" | "broken", "reasons": [{"code", "text"}]}`` with the
stable codes of :data:`REASONS`; :func:`chain_health` returns the three links together (merge it into
``Workspace.health()["links"]``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..redesign.store import loads, reader
from ..workspace import Workspace
from .impact import MIN_POST_WEEKS

__all__ = ["REASONS", "priorities_health", "redesign_health", "cycle_health", "chain_health"]

#: Stable reason codes and what they mean (``broken`` ones marked).
REASONS: dict[str, str] = {
    "no_open_cycle": "No cycle is open (broken for priorities and cycle).",
    "cycle_overdue": "The open cycle ended before as_of and was not closed.",
    "no_priorities_for_horizon": "The open cycle has no accepted priorities (broken).",
    "priorities_undecided": "Proposed priorities wait for a decision.",
    "priority_without_evidence": "An accepted priority links to no finding.",
    "no_initiatives": "Accepted priorities have no initiative at all (broken).",
    "priority_without_initiative": "An accepted priority has no initiative.",
    "initiative_without_owner": "An initiative has a business area without an owner, or no area at all.",
    "initiative_without_target": "An initiative has no target metric or no target value.",
    "initiative_without_go_live": "An initiative in progress has no go-live date.",
    "go_live_not_measured": "An initiative went live long enough ago to be measured, but has no measurement.",
    "no_closed_cycle": "No cycle has been closed yet: the loop has not come round once.",
}


def _result(reasons: list[dict[str, str]], broken: bool) -> dict[str, Any]:
    return {"status": "broken" if broken else ("weak" if reasons else "holds"), "reasons": reasons}


def _r(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def _open(con: Any, as_of: date) -> Any:
    return con.execute(
        "SELECT * FROM cycles WHERE status = 'open' AND start <= ? ORDER BY number DESC LIMIT 1",
        (as_of.isoformat(),),
    ).fetchone()


def priorities_health(ws: Workspace) -> dict[str, Any]:
    """``priorities``: an open cycle with accepted priorities, each linked to findings, none left undecided."""
    as_of = ws.settings.as_of
    with reader(ws) as con:
        cyc = _open(con, as_of)
        if cyc is None:
            return _result(
                [
                    _r(
                        "no_open_cycle",
                        "No cycle is open on "
                        + as_of.isoformat()
                        + ": open one with `cxchain cycle open`, then `cxchain priorities`.",
                    )
                ],
                True,
            )
        pri = [dict(r) for r in con.execute("SELECT * FROM priorities WHERE cycle_id = ?", (cyc["id"],))]
    reasons: list[dict[str, str]] = []
    active = [p for p in pri if p["status"] in ("accepted", "overridden")]
    broken = not active
    if not active:
        reasons.append(
            _r(
                "no_priorities_for_horizon",
                f"Cycle {cyc['id']} has no accepted priorities: run "
                "`cxchain priorities` and accept, override or reject each proposal.",
            )
        )
    undecided = [p["id"] for p in pri if p["status"] == "proposed"]
    if undecided:
        reasons.append(
            _r(
                "priorities_undecided",
                f"{len(undecided)} proposed priorities wait for a decision: {', '.join(undecided)}.",
            )
        )
    no_ev = [p["id"] for p in active if not loads(p["finding_ids"], [])]
    if no_ev:
        reasons.append(
            _r(
                "priority_without_evidence",
                f"Accepted priorities without a linked finding: {', '.join(no_ev)}.",
            )
        )
    return _result(reasons, broken)


def redesign_health(ws: Workspace) -> dict[str, Any]:
    """``redesign``: accepted priorities have initiatives, each owned, with a target and (when under way) a go-live."""
    as_of = ws.settings.as_of
    with reader(ws) as con:
        cyc = _open(con, as_of)
        active = [
            dict(r)
            for r in con.execute(
                "SELECT id FROM priorities WHERE status IN ('accepted', 'overridden') AND cycle_id = ?",
                (cyc["id"] if cyc else "",),
            )
        ]
        inis = [
            dict(r) for r in con.execute("SELECT * FROM initiatives WHERE status <> 'stopped' ORDER BY seq")
        ]
    reasons: list[dict[str, str]] = []
    with_ini = {i["priority_id"] for i in inis}
    broken = False
    if active and not any(p["id"] in with_ini for p in active):
        broken = True
        reasons.append(
            _r(
                "no_initiatives",
                "The accepted priorities have no initiatives: add them with "
                "`cxchain initiative add PRIORITY_ID ...`.",
            )
        )
    elif not active and not inis:
        broken = True
        reasons.append(
            _r("no_initiatives", "There are no initiatives (and no accepted priorities to start one from).")
        )
    else:
        missing = [p["id"] for p in active if p["id"] not in with_ini]
        if missing:
            reasons.append(
                _r(
                    "priority_without_initiative",
                    f"Accepted priorities without an initiative: {', '.join(missing)}.",
                )
            )
    for i in inis:
        if i["status"] == "done":
            continue
        areas = loads(i["areas"], [])
        if not areas or any(not a.get("owner") for a in areas):
            reasons.append(
                _r("initiative_without_owner", f"{i['id']} {i['title']}: every business area needs an owner.")
            )
        if not i["metric_id"] or i["target"] is None:
            reasons.append(
                _r("initiative_without_target", f"{i['id']} {i['title']}: set a target metric and value.")
            )
        if i["status"] in ("in_progress", "live") and not i["go_live"]:
            reasons.append(
                _r(
                    "initiative_without_go_live",
                    f"{i['id']} {i['title']} is {i['status']} with no go-live date.",
                )
            )
    return _result(reasons, broken)


def cycle_health(ws: Workspace) -> dict[str, Any]:
    """``cycle``: a cycle is open and current, the loop has closed once, every mature go-live is measured."""
    as_of = ws.settings.as_of
    reasons: list[dict[str, str]] = []
    broken = False
    with reader(ws) as con:
        cyc = _open(con, as_of)
        closed = con.execute("SELECT count(*) FROM cycles WHERE status = 'closed'").fetchone()[0]
        inis = [
            dict(r)
            for r in con.execute(
                "SELECT i.id, i.title, i.go_live, (SELECT count(*) FROM measurements m WHERE m.initiative_id = i.id "
                "AND m.verdict NOT IN ('too early', 'not measurable') AND m.data_to IS NOT NULL) AS measured "
                "FROM initiatives i WHERE i.go_live IS NOT NULL AND i.status <> 'stopped'"
            )
        ]
    if cyc is None:
        broken = True
        reasons.append(_r("no_open_cycle", f"No cycle is open on {as_of}: `cxchain cycle open` starts one."))
    elif date.fromisoformat(cyc["end"]) < as_of:
        reasons.append(
            _r(
                "cycle_overdue",
                f"Cycle {cyc['id']} ended on {cyc['end']}: close it with `cxchain cycle close`.",
            )
        )
    if not closed:
        reasons.append(_r("no_closed_cycle", "No cycle has been closed yet, so no change has been measured."))
    due = [
        i
        for i in inis
        if date.fromisoformat(i["go_live"]) + timedelta(weeks=MIN_POST_WEEKS) <= as_of and not i["measured"]
    ]
    for i in due:
        reasons.append(
            _r(
                "go_live_not_measured",
                f"{i['id']} {i['title']} went live {i['go_live']} and is not measured: "
                "close the cycle (`cxchain cycle close`) to measure it.",
            )
        )
    return _result(reasons, broken)


def chain_health(ws: Workspace) -> dict[str, dict[str, Any]]:
    """The three links: ``{"priorities": ..., "redesign": ..., "cycle": ...}``."""
    return {"priorities": priorities_health(ws), "redesign": redesign_health(ws), "cycle": cycle_health(ws)}
