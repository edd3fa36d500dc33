"""The improvement loop on the sample organisation: two cycles, from proposals to measured outcomes.

:func:`run_demo_loop` opens a first cycle back-dated so that the planted initiatives' go-live dates fall
inside it, proposes a six-month plan, and accepts the proposals whose reason is where the demo's planted
initiatives act - found from the data, not from a list: the generator's reason of each planted initiative
(``truth.json``) is mapped to the workspace reason most of its contacts were classified as
(``truth/contacts.parquet`` joined on source and source key).  The plan is proposed long enough to reach
those reasons wherever the opportunity ranking puts them (a team that already knows which changes it is
making reads further down the list, it does not re-rank it), so the loop does not depend on the planted
reasons being ranked first.  It creates the two initiatives with the planted go-live dates under those
accepted priorities, each targeting weekly failure contacts about its reason where there are enough to
measure (:func:`target_filters`), closes the cycle (which measures them), opens the next cycle and proposes
its plan, which now takes the outcomes into account.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

from ..errors import CxchainError
from ..priorities.opportunities import opportunities
from ..priorities.plan import accept, plan_size, propose_plan, reject
from ..redesign.initiatives import add_initiative, add_task
from ..workspace import Workspace
from .cycles import close_cycle, open_cycle

__all__ = ["run_demo_loop", "map_generator_reasons"]

#: The demo's target metric: weekly contacts about the reason (``volume``), failure contacts only
#: where there are enough of them to measure (see :func:`target_filters`).
DEMO_METRIC = "volume"

#: Weekly failure contacts (mean of the 13 weeks before go-live) below which an initiative targets all
#: contacts about its reason instead: an interrupted time series of counts near one a week has no power.
MIN_WEEKLY_FAILURE = 3.0


def target_filters(ws: Workspace, reason_id: str, go_live: date) -> dict[str, Any]:
    """The metric filters of an initiative that cuts avoidable contacts about ``reason_id``.

    What such a change should move is failure demand, so the target is weekly *failure* contacts about
    the reason when the 13 weeks before ``go_live`` (the go-live date, or the data's end for a change
    still to come) average at least :data:`MIN_WEEKLY_FAILURE` of them; otherwise weekly contacts about
    the reason (all demand), which a smaller organisation can measure.
    """
    from ..redesign.initiatives import target_series

    failure = {"reason_id": reason_id, "demand": "failure"}
    with ws.store.read() as con:
        weekly = target_series(con, ws.settings, DEMO_METRIC, failure, end=go_live)
    before = weekly["value"].tail(13)
    return failure if len(before) and float(before.mean()) >= MIN_WEEKLY_FAILURE else {"reason_id": reason_id}


def map_generator_reasons(ws: Workspace, truth_contacts: Any, reasons: list[str]) -> dict[str, str]:
    """Generator reason -> workspace reason by majority vote of the classified reason of its contacts.

    Distinct generator reasons get distinct workspace reasons: the largest votes are assigned first, and
    a generator reason whose first choice is taken gets its next (two planted initiatives on one
    workspace reason could not be measured apart)."""
    import polars as pl

    df = truth_contacts.filter(pl.col("entity") == "contact").filter(pl.col("reason_id").is_in(reasons))
    keys = {
        (s, k): r
        for s, k, r in zip(
            df["source"].to_list(), df["source_key"].to_list(), df["reason_id"].to_list(), strict=True
        )
    }
    with ws.store.read() as con:
        rows = con.execute(
            "SELECT source, source_key, reason_id FROM contact_fact WHERE reason_id IS NOT NULL "
            "AND reason_id <> 'unclassified'"
        ).fetchall()
    votes: dict[str, Counter[str]] = {r: Counter() for r in reasons}
    for s, k, rid in rows:
        g = keys.get((s, k))
        if g is not None:
            votes[g][rid] += 1
    for g, c in votes.items():
        if not c:
            raise CxchainError(f"No classified contact of generator reason {g} was found in the workspace.")
    out: dict[str, str] = {}
    for _, g, rid in sorted(((n, g, rid) for g, c in votes.items() for rid, n in c.items()),
                            key=lambda x: (-x[0], x[1], x[2])):
        if g not in out and rid not in out.values():
            out[g] = rid
    for g, c in votes.items():  # more generator reasons than workspace reasons voted for: share the best
        out.setdefault(g, c.most_common(1)[0][0])
    return {g: out[g] for g in votes}


def _areas(group: str | None) -> list[dict[str, str]]:
    g = (group or "service").replace("_", " ")
    return [
        {"area": g.title(), "owner": f"Head of {g.title()}"},
        {"area": "Contact centre", "owner": "Contact centre manager"},
    ]


def _evidence(priority: dict[str, Any]) -> bool:
    """Whether a proposed priority links to at least one finding."""
    ids = priority.get("finding_ids")
    if isinstance(ids, str):
        ids = json.loads(ids or "[]")
    return bool(ids)


def _plan_reaching(ws: Workspace, reasons: set[str]) -> int:
    """The plan size that reaches every reason in ``reasons`` the opportunity ranking proposes at all."""
    ranked = [o["reason_id"] for o in opportunities(ws) if o["score"] > 0]
    deepest = max((ranked.index(r) + 1 for r in reasons if r in ranked), default=0)
    return max(plan_size("6m", int(ws.settings["cycle.length_weeks"])), deepest)


def run_demo_loop(ws: Workspace, truth: dict[str, Any], *, actor: str = "demo") -> dict[str, Any]:
    """Run two cycles on the demo workspace (see the module notes); returns both cycle reports and the plans."""
    import polars as pl

    planted = [t for t in truth["truths"] if t.get("kind") == "initiative"]
    if not planted:
        raise CxchainError("truth.json has no planted initiatives.")
    contacts = pl.read_parquet(ws.path / truth["truth_files"]["contacts"])
    mapping = map_generator_reasons(ws, contacts, [t["filters"]["reason_id"] for t in planted])
    go_lives = [date.fromisoformat(t["go_live"]) for t in planted]
    start = min(go_lives) - timedelta(weeks=2)
    end = max(go_lives) + timedelta(weeks=2)
    weeks = -(-(end - start).days // 7)
    open_cycle(ws, start=start, length_weeks=weeks, actor=actor)
    wanted = {mapping[t["filters"]["reason_id"]]: t for t in planted}
    plan = propose_plan(ws, horizon="6m", actor=actor, size=_plan_reaching(ws, set(wanted)))
    by_reason = {p["reason_id"]: p for p in plan["priorities"]}
    missing = [r for r in wanted if r not in by_reason]
    for r in missing:  # a small demo may not propose a planted reason: the loop still closes, on what was proposed
        del wanted[r]
    if not wanted and plan["priorities"]:
        top = plan["priorities"][0]
        wanted[top["reason_id"]] = {**planted[0], "initiative": f"Redesign: {top.get('title') or top['reason_id']}"}
    created = []
    for p in plan["priorities"]:
        if p["reason_id"] not in wanted:
            reject(
                ws,
                p["id"],
                reason="Not this cycle: the team has capacity for the two changes already planned.",
                actor=actor,
            )
            continue
        t = wanted[p["reason_id"]]
        accept(ws, p["id"], reason=f"Evidence supports it: {p['rationale'][:160]}", actor=actor)
        go = date.fromisoformat(t["go_live"])
        ini = add_initiative(
            ws,
            p["id"],
            title=t["initiative"],
            type="process",
            areas=_areas(p["opportunity"].get("reason_group") or p["reason_id"].split(".")[0]),
            start=go - timedelta(weeks=2),
            go_live=go,
            metric_id=DEMO_METRIC,
            metric_filters=target_filters(ws, p["reason_id"], go),
            target_change=-0.2,
            status="live",
            actor=actor,
        )
        add_task(
            ws,
            ini["id"],
            title="Agree the redesign with the business area",
            owner=ini["areas"][0]["owner"],
            due=go - timedelta(weeks=1),
            actor=actor,
        )
        created.append(ini["id"])
    first = close_cycle(ws, actor=actor)
    open_cycle(ws, actor=actor)
    plan2 = propose_plan(ws, horizon="12w", actor=actor)
    second_created = []
    as_of = ws.settings.as_of
    # the highest remaining opportunity that a finding supports (an accepted priority needs evidence)
    chosen = [next((p for p in plan2["priorities"] if _evidence(p)), None) or plan2["priorities"][0]] if plan2["priorities"] else []
    for p in chosen:
        accept(
            ws, p["id"], reason="Highest remaining opportunity with evidence after the first cycle's outcomes.", actor=actor
        )
        ini = add_initiative(
            ws,
            p["id"],
            title=f"Redesign: {p['opportunity'].get('reason_name', p['reason_id'])}",
            type="process",
            areas=_areas(p["reason_id"].split(".")[0]),
            start=as_of,
            go_live=as_of + timedelta(weeks=6),
            metric_id=DEMO_METRIC,
            metric_filters=target_filters(ws, p["reason_id"], as_of),
            target_change=-0.2,
            actor=actor,
        )
        second_created.append(ini["id"])
    for p in plan2["priorities"]:
        if p not in chosen:
            reject(ws, p["id"], reason="One change at a time this cycle.", actor=actor)
    return {
        "mapping": mapping,
        "first_cycle": first,
        "initiatives": created,
        "next_plan": plan2,
        "next_initiatives": second_created,
        "planted_not_proposed": missing,
    }
