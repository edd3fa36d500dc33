"""Link 5, the continuous cycle: open and close cycles; measure every go-live at close; report.

:func:`open_cycle` starts a cycle of ``cycle.length_weeks`` (a start date may be back-dated).  At
:func:`close_cycle` every initiative with a go-live date (not stopped) is measured on its target metric
without anyone asking (:func:`measure_initiative`): the weekly series is built from the fact tables
(:func:`cxchain.redesign.initiatives.target_series`), a control series of the same metric over untouched
reasons (reasons with no initiative and no known shift in failure demand) is added for
difference-in-differences when the target is a reason, and :func:`cxchain.cycle.impact.measure_change`
gives the verdict (``too early`` under six weekly points since go-live), effect, interval and a plain-words
summary; the measurement is stored.  :func:`outcomes` feeds those results to the next cycle's
opportunities; :func:`cycle_report` says what we changed and what it did.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Literal

from ..errors import CxchainError, NotFoundError
from ..metrics import get_spec
from ..redesign.initiatives import series_kind, target_series
from ..redesign.store import dumps, loads, now, reader, transaction
from ..workspace import Workspace
from .impact import MIN_POST_WEEKS, measure_change

__all__ = [
    "open_cycle",
    "close_cycle",
    "current_cycle",
    "list_cycles",
    "measure_initiative",
    "outcomes",
    "cycle_report",
]


def _d(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def _cycle(row: Any) -> dict[str, Any]:
    d = dict(row)
    d["report"] = loads(d.get("report"), None)
    return d


def current_cycle(ws: Workspace) -> dict[str, Any] | None:
    """The open cycle, or None."""
    with reader(ws) as con:
        r = con.execute("SELECT * FROM cycles WHERE status = 'open' ORDER BY number DESC LIMIT 1").fetchone()
    return _cycle(r) if r else None


def list_cycles(ws: Workspace) -> list[dict[str, Any]]:
    """Every cycle, oldest first (reports left out)."""
    with reader(ws) as con:
        return [
            dict(r)
            for r in con.execute(
                'SELECT id, number, start, "end", status, opened_at, opened_by, '
                "closed_at, closed_by FROM cycles ORDER BY number"
            )
        ]


def open_cycle(
    ws: Workspace, *, start: date | str | None = None, length_weeks: int | None = None, actor: str = "cli"
) -> dict[str, Any]:
    """Open the next cycle from ``start`` (default: the workspace ``as_of``) for ``cycle.length_weeks``.

    Refused while another cycle is open (close it first).
    """
    s = _d(start) if start else ws.settings.as_of
    weeks = int(length_weeks or ws.settings["cycle.length_weeks"])
    if weeks <= 0:
        raise CxchainError("A cycle lasts at least one week.")
    with transaction(ws) as con:
        cur = con.execute("SELECT id FROM cycles WHERE status = 'open'").fetchone()
        if cur:
            raise CxchainError(f"Cycle {cur['id']} is still open: close it with `cxchain cycle close` first.")
        n = int(con.execute("SELECT coalesce(max(number), 0) + 1 FROM cycles").fetchone()[0])
        cid = f"C{n}"
        con.execute(
            'INSERT INTO cycles (id, number, start, "end", status, opened_at, opened_by) VALUES '
            "(?, ?, ?, ?, 'open', ?, ?)",
            (cid, n, s.isoformat(), (s + timedelta(weeks=weeks)).isoformat(), now(), actor),
        )
    ws.store.audit(actor, "cycle.open", cid, {"start": s.isoformat(), "weeks": weeks})
    c = current_cycle(ws)
    assert c is not None
    return c


def _control_reasons(ws: Workspace, con_ops: Any, exclude: set[str]) -> list[str]:
    touched = {
        loads(r[0], {}).get("reason_id") for r in con_ops.execute("SELECT metric_filters FROM initiatives")
    }
    shifted = {f.get("subject") for f in ws.findings() if f.get("kind") == "failure_shift"}
    with ws.store.read() as con:
        reasons = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT reason_id FROM contact_fact WHERE reason_id IS NOT NULL "
                "AND reason_id <> 'unclassified' ORDER BY 1"
            ).fetchall()
        ]
    return [r for r in reasons if r not in touched and r not in shifted and r not in exclude]


def _num(x: Any) -> float | None:
    return float(x) if x is not None and isinstance(x, (int, float)) and math.isfinite(x) else None


def measure_initiative(
    ws: Workspace, initiative_id: str, *, cycle_id: str | None = None, store: bool = True
) -> dict[str, Any]:
    """Measure one initiative's target metric around its go-live; store the measurement (unless ``store=False``)."""
    from ..redesign.initiatives import get_initiative

    ini = get_initiative(ws, initiative_id)
    if not ini["go_live"]:
        raise CxchainError(f"Initiative {initiative_id} has no go-live date: nothing to measure yet.")
    if not ini["metric_id"]:
        raise CxchainError(
            f"Initiative {initiative_id} has no target metric: set one with `cxchain initiative update`."
        )
    go = _d(ini["go_live"])
    spec = get_spec(ini["metric_id"])
    kind: Literal["count", "rate"] = "count" if series_kind(ini["metric_id"]) == "count" else "rate"
    filters = dict(ini["metric_filters"] or {})
    hib = spec.is_higher_better(ws.settings.values)
    hib = bool(hib) if hib is not None else False
    with reader(ws) as ops:
        controls = (
            _control_reasons(ws, ops, {str(filters.get("reason_id"))}) if "reason_id" in filters else []
        )
    with ws.store.read() as con:
        weekly = target_series(con, ws.settings, ini["metric_id"], filters)
        control = None
        if controls:
            control = target_series(con, ws.settings, ini["metric_id"], {**filters, "reason_id": controls})
    data_to = str(weekly["week"].iloc[-1]) if len(weekly) else None
    res: dict[str, Any] = {
        "initiative_id": initiative_id,
        "cycle_id": cycle_id,
        "measured_at": now(),
        "data_to": data_to,
        "metric_id": ini["metric_id"],
        "filters": filters,
        "kind": kind,
        "go_live": go.isoformat(),
    }
    n_post = int((weekly["week"] >= go).sum()) if len(weekly) else 0
    try:
        m = measure_change(
            weekly,
            go,
            kind=kind,
            control=control if control is not None and len(control) else None,
            higher_is_better=hib,
        )
        its = m.details.get("its") or {}
        details = dict(m.details)
        details["control_reasons"] = controls
        details["series"] = [
            {"week": str(w), "value": float(v)} for w, v in zip(weekly["week"], weekly["value"], strict=True)
        ]
        res.update(
            verdict=m.verdict,
            effect=_num(m.effect),
            ci_low=_num(m.ci_low),
            ci_high=_num(m.ci_high),
            relative_effect=_num(m.relative_effect),
            relative_ci_low=_num(its.get("relative_ci_low")),
            relative_ci_high=_num(its.get("relative_ci_high")),
            method=m.method,
            summary=m.summary,
            details=details,
        )
    except CxchainError as e:
        verdict = "too early" if n_post < MIN_POST_WEEKS else "not measurable"
        res.update(
            verdict=verdict,
            effect=None,
            ci_low=None,
            ci_high=None,
            relative_effect=None,
            relative_ci_low=None,
            relative_ci_high=None,
            method=None,
            summary=f"Not measured: {e}",
            details={"error": str(e), "n_post": n_post},
        )
    if store:
        with transaction(ws) as con:
            con.execute(
                "INSERT INTO measurements (initiative_id, cycle_id, measured_at, data_to, verdict, effect, "
                "ci_low, ci_high, relative_effect, relative_ci_low, relative_ci_high, method, summary, details) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    initiative_id,
                    cycle_id,
                    res["measured_at"],
                    data_to,
                    res["verdict"],
                    res["effect"],
                    res["ci_low"],
                    res["ci_high"],
                    res["relative_effect"],
                    res["relative_ci_low"],
                    res["relative_ci_high"],
                    res["method"],
                    res["summary"],
                    dumps(res["details"]),
                ),
            )
    return res


def close_cycle(ws: Workspace, *, actor: str = "cli") -> dict[str, Any]:
    """Close the open cycle: measure every initiative with a go-live date, store them, return the cycle report."""
    cur = current_cycle(ws)
    if cur is None:
        raise CxchainError("No open cycle to close: open one with `cxchain cycle open`.")
    with reader(ws) as con:
        ids = [
            r[0]
            for r in con.execute(
                "SELECT id FROM initiatives WHERE go_live IS NOT NULL AND status <> 'stopped' "
                "AND metric_id IS NOT NULL ORDER BY seq"
            )
        ]
    for i in ids:
        measure_initiative(ws, i, cycle_id=cur["id"])
    report = cycle_report(ws, cur["id"])
    report["cycle"]["status"] = "closed"
    with transaction(ws) as con:
        con.execute(
            "UPDATE cycles SET status = 'closed', closed_at = ?, closed_by = ?, report = ? WHERE id = ?",
            (now(), actor, dumps(report), cur["id"]),
        )
    ws.store.audit(actor, "cycle.close", cur["id"], {"measured": len(ids)})
    return report


def outcomes(ws: Workspace) -> list[dict[str, Any]]:
    """The latest measurement of every measured initiative, with the reason it targets (for opportunities)."""
    with reader(ws) as con:
        rows = con.execute("""SELECT i.id, i.metric_filters, i.go_live, i.title, m.verdict, m.relative_effect,
                                     m.relative_ci_low, m.relative_ci_high, m.measured_at
                              FROM initiatives i JOIN measurements m ON m.initiative_id = i.id
                              WHERE m.id = (SELECT max(id) FROM measurements WHERE initiative_id = i.id)
                              ORDER BY i.seq""").fetchall()
    return [
        {
            "initiative_id": r["id"],
            "reason_id": loads(r["metric_filters"], {}).get("reason_id"),
            "go_live": r["go_live"],
            "title": r["title"],
            "verdict": r["verdict"],
            "relative_effect": r["relative_effect"],
            "relative_ci_low": r["relative_ci_low"],
            "relative_ci_high": r["relative_ci_high"],
            "measured_at": r["measured_at"],
        }
        for r in rows
    ]


def cycle_report(ws: Workspace, cycle_id: str | None = None) -> dict[str, Any]:
    """What we changed and what it did, as data: the plan and its decisions, each initiative and its measurement."""
    from ..priorities.plan import get_plan
    from ..redesign.initiatives import get_initiative

    with reader(ws) as con:
        if cycle_id is None:
            r = con.execute("SELECT * FROM cycles ORDER BY number DESC LIMIT 1").fetchone()
        else:
            r = con.execute("SELECT * FROM cycles WHERE id = ?", (cycle_id,)).fetchone()
        if r is None:
            raise NotFoundError("No cycle yet." if cycle_id is None else f"No cycle {cycle_id}.")
        cyc = _cycle(r)
        ids = [
            x[0]
            for x in con.execute(
                "SELECT id FROM initiatives WHERE cycle_id = ? OR id IN (SELECT initiative_id "
                "FROM measurements WHERE cycle_id = ?) ORDER BY seq",
                (cyc["id"], cyc["id"]),
            )
        ]
    if cyc["status"] == "closed" and cyc["report"]:
        return dict(cyc["report"])
    plan = get_plan(ws, cycle_id=cyc["id"])
    items = []
    lines = []
    for i in ids:
        ini = get_initiative(ws, i)
        ms = [m for m in ini["measurements"] if m["cycle_id"] == cyc["id"]] or ini["measurements"]
        m = ms[-1] if ms else None
        items.append(
            {
                "id": ini["id"],
                "title": ini["title"],
                "priority_id": ini["priority_id"],
                "type": ini["type"],
                "areas": ini["areas"],
                "go_live": ini["go_live"],
                "metric_id": ini["metric_id"],
                "filters": ini["metric_filters"],
                "baseline": ini["baseline"],
                "target": ini["target"],
                "measurement": None
                if m is None
                else {
                    k: m[k]
                    for k in (
                        "verdict",
                        "effect",
                        "ci_low",
                        "ci_high",
                        "relative_effect",
                        "relative_ci_low",
                        "relative_ci_high",
                        "method",
                        "summary",
                        "data_to",
                        "measured_at",
                    )
                },
            }
        )
        lines.append(
            f"{ini['id']} {ini['title']} (go-live {ini['go_live'] or 'not set'}): "
            + (f"{m['verdict']}. {m['summary']}" if m else "not measured yet.")
        )
    decided = [p for p in plan["priorities"] if p["status"] != "proposed"]
    return {
        "cycle": {k: cyc[k] for k in ("id", "number", "start", "end", "status")},
        "priorities": [
            {
                "id": p["id"],
                "reason_id": p["reason_id"],
                "title": p["title"],
                "status": p["status"],
                "finding_ids": p["finding_ids"],
                "decision": p["decisions"][-1] if p["decisions"] else None,
            }
            for p in plan["priorities"]
        ],
        "initiatives": items,
        "counts": {
            "priorities": len(plan["priorities"]),
            "decided": len(decided),
            "initiatives": len(items),
            "improved": sum(
                1 for x in items if x["measurement"] and x["measurement"]["verdict"] == "improved"
            ),
            "no_detectable_change": sum(
                1 for x in items if x["measurement"] and x["measurement"]["verdict"] == "no detectable change"
            ),
        },
        "text": lines,
    }
