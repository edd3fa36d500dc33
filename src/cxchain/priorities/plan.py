"""Link 3: a plan of a few priorities per cycle, each accepted, rejected or overridden with a reason.

:func:`propose_plan` sizes the opportunities (:mod:`cxchain.priorities.opportunities`), takes the top reasons
not yet decided in the open cycle and stores them as ``proposed`` priorities with a rationale (the score's
terms in words) and the ids of the findings behind them.  The number of priorities follows the horizon:
:data:`PER_CYCLE` per cycle, times the cycles that fit (``12w`` = one cycle of ``cycle.length_weeks``;
``6m`` = 26 weeks, i.e. two 12-week cycles = 6 priorities).  A person then decides each one
(:func:`accept`, :func:`reject`, :func:`override`: a new reason id, title or rank) and must say why; every
decision is kept in ``decisions``.  Initiatives can only be created for accepted or overridden priorities.
"""

from __future__ import annotations

from typing import Any

from ..errors import CxchainError, NotFoundError
from ..redesign.store import ConflictError, dumps, loads, now, reader, transaction
from ..workspace import Workspace
from .opportunities import opportunities

__all__ = [
    "HORIZONS",
    "PER_CYCLE",
    "horizon_weeks",
    "plan_size",
    "propose_plan",
    "accept",
    "reject",
    "override",
    "get_plan",
    "get_priority",
    "ACTIVE",
]

#: Horizon code -> weeks.
HORIZONS: dict[str, int] = {"12w": 12, "6m": 26}
#: Priorities a cycle can carry.
PER_CYCLE = 3
#: Statuses that count as "we will work on this".
ACTIVE = ("accepted", "overridden")


def horizon_weeks(horizon: str) -> int:
    """Weeks of a horizon code (``12w``, ``6m``; also ``<n>w``)."""
    if horizon in HORIZONS:
        return HORIZONS[horizon]
    if horizon.endswith("w") and horizon[:-1].isdigit() and int(horizon[:-1]) > 0:
        return int(horizon[:-1])
    raise CxchainError(f"Unknown horizon {horizon!r}: use 12w (one cycle) or 6m (six months).")


def plan_size(horizon: str, cycle_length_weeks: int) -> int:
    """How many priorities fit the horizon: PER_CYCLE x the cycles that fit (at least one), at most 6."""
    cycles = max(1, horizon_weeks(horizon) // max(1, int(cycle_length_weeks)))
    return min(6, PER_CYCLE * cycles)


def _open_cycle_id(con: Any) -> str:
    row = con.execute("SELECT id FROM cycles WHERE status = 'open' ORDER BY number DESC LIMIT 1").fetchone()
    if row is None:
        raise CxchainError("No open cycle: open one with `cxchain cycle open` before planning priorities.")
    return str(row["id"])


def _rationale(o: dict[str, Any]) -> str:
    parts = [
        f"{o['reason_name']}: about {o['avoidable_contacts']:,.0f} failure-demand contacts a year "
        f"({(o['failure_share'] or 0):.0%} of its classified contacts), costing GBP {o['cost']['low']:,.0f}-"
        f"{o['cost']['high']:,.0f} a year (contacts and {o['avoidable_handling_minutes']:,.0f} handling minutes)"
    ]
    ci = o["customer_impact"]
    if ci.get("value"):
        parts.append(
            f"CSAT top-box {ci['top_box']:.0%} against {ci['top_box'] + ci['gap']:.0%} overall "
            f"(driver importance {ci['importance']:.0%})"
        )
    if o["repeat"]["share"] is not None:
        parts.append(f"{o['repeat']['share']:.0%} of its contacts are repeated")
    sig = o["trend"]["xmr_signal"]
    if sig in ("up", "down"):
        parts.append(f"failure contacts signal {sig} on the XmR chart")
    if o.get("outcome"):
        parts.append(o["outcome"]["text"])
    top = sorted(o["terms"].items(), key=lambda kv: -kv[1]["points"])[:2]
    parts.append(f"score {o['score']:.0f}/100, mostly {' and '.join(k.replace('_', ' ') for k, _ in top)}")
    return "; ".join(parts) + "."


def _row(r: Any) -> dict[str, Any]:
    d = dict(r)
    d["finding_ids"] = loads(d["finding_ids"], [])
    d["opportunity"] = loads(d["opportunity"], {})
    return d


def propose_plan(
    ws: Workspace, *, horizon: str = "12w", actor: str = "cxchain", size: int | None = None
) -> dict[str, Any]:
    """Propose the open cycle's priorities for ``horizon`` and store them (returns :func:`get_plan`).

    Reasons already decided in this cycle are kept as decided and not proposed again; earlier undecided
    proposals of the same horizon are replaced.  ``size`` overrides :func:`plan_size`.
    """
    n = size if size is not None else plan_size(horizon, int(ws.settings["cycle.length_weeks"]))
    opps = opportunities(ws)
    with transaction(ws) as con:
        cid = _open_cycle_id(con)
        con.execute(
            "DELETE FROM priorities WHERE cycle_id = ? AND horizon = ? AND status = 'proposed' AND id NOT IN "
            "(SELECT priority_id FROM decisions)",
            (cid, horizon),
        )
        decided = {
            r["reason_id"] for r in con.execute("SELECT reason_id FROM priorities WHERE cycle_id = ?", (cid,))
        }
        taken = con.execute(
            "SELECT count(*) FROM priorities WHERE cycle_id = ? AND horizon = ?", (cid, horizon)
        ).fetchone()[0]
        seq = con.execute("SELECT count(*) FROM priorities WHERE cycle_id = ?", (cid,)).fetchone()[0]
        rank = 0
        for o in opps:
            if taken + rank >= n:
                break
            if o["reason_id"] in decided or o["score"] <= 0:
                continue
            rank += 1
            seq += 1
            pid = f"{cid}-P{seq}"
            opp = {
                k: o[k]
                for k in (
                    "reason_id",
                    "reason_name",
                    "volume",
                    "failure_share",
                    "avoidable_contacts",
                    "handling_minutes",
                    "avoidable_handling_minutes",
                    "cost",
                    "customer_impact",
                    "repeat",
                    "trend",
                    "outcome",
                    "score",
                    "terms",
                    "weights_version",
                    "window",
                )
            }
            con.execute(
                "INSERT INTO priorities (id, cycle_id, horizon, rank, reason_id, channel, title, rationale, "
                "finding_ids, opportunity, status, created_at, created_by) VALUES "
                "(?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, 'proposed', ?, ?)",
                (
                    pid,
                    cid,
                    horizon,
                    taken + rank,
                    o["reason_id"],
                    f"Cut failure demand on {o['reason_name']}",
                    _rationale(o),
                    dumps(o["finding_ids"]),
                    dumps(opp),
                    now(),
                    actor,
                ),
            )
    ws.store.audit(actor, "priorities.propose", cid, {"horizon": horizon, "size": n})
    return get_plan(ws, horizon=horizon)


def get_plan(ws: Workspace, *, cycle_id: str | None = None, horizon: str | None = None) -> dict[str, Any]:
    """The plan of a cycle (default: the open one, else the latest): its priorities and their decisions."""
    with reader(ws) as con:
        if cycle_id is None:
            row = con.execute(
                "SELECT * FROM cycles ORDER BY status = 'open' DESC, number DESC LIMIT 1"
            ).fetchone()
        else:
            row = con.execute("SELECT * FROM cycles WHERE id = ?", (cycle_id,)).fetchone()
        if row is None:
            raise NotFoundError(
                "No cycle yet: open one with `cxchain cycle open`."
                if cycle_id is None
                else f"No cycle {cycle_id}."
            )
        sql = "SELECT * FROM priorities WHERE cycle_id = ?"
        args: list[Any] = [row["id"]]
        if horizon:
            sql += " AND horizon = ?"
            args.append(horizon)
        pri = [_row(r) for r in con.execute(sql + " ORDER BY horizon, rank, id", args)]
        for p in pri:
            p["decisions"] = [
                dict(d) | {"detail": loads(d["detail"], {})}
                for d in con.execute(
                    "SELECT decision, reason, actor, at, detail FROM decisions WHERE priority_id = ? ORDER BY id",
                    (p["id"],),
                )
            ]
    return {
        "cycle": {k: row[k] for k in ("id", "number", "start", "end", "status")},
        "horizon": horizon,
        "priorities": pri,
    }


def get_priority(ws: Workspace, priority_id: str) -> dict[str, Any]:
    """One priority with its decisions."""
    with reader(ws) as con:
        r = con.execute("SELECT * FROM priorities WHERE id = ?", (priority_id,)).fetchone()
        if r is None:
            raise NotFoundError(f"No priority {priority_id}: see `cxchain priorities --json` for the ids.")
        return _row(r)


def _decide(
    ws: Workspace,
    priority_id: str,
    decision: str,
    reason: str,
    actor: str,
    changes: dict[str, Any] | None = None,
    expected_status: str | None = None,
) -> dict[str, Any]:
    if not reason or not reason.strip():
        raise CxchainError(f"Say why you {decision.rstrip('e')}e priority {priority_id}: give --reason.")
    status = {"accept": "accepted", "reject": "rejected", "override": "overridden"}[decision]
    with transaction(ws) as con:
        r = con.execute("SELECT * FROM priorities WHERE id = ?", (priority_id,)).fetchone()
        if r is None:
            raise NotFoundError(f"No priority {priority_id}: see `cxchain priorities --json` for the ids.")
        if expected_status is not None and r["status"] != expected_status:
            last = con.execute(
                "SELECT decision, actor, at FROM decisions WHERE priority_id = ? ORDER BY id DESC LIMIT 1",
                (priority_id,),
            ).fetchone()
            who = f" ({last['actor']} decided {last['decision']} at {last['at']})" if last else ""
            raise ConflictError(
                f"Priority {priority_id} is now {r['status']}{who}, not {expected_status} as when you looked. "
                "Nothing was saved: reload it and decide again."
            )
        cyc = con.execute("SELECT status FROM cycles WHERE id = ?", (r["cycle_id"],)).fetchone()
        if cyc["status"] != "open":
            raise CxchainError(
                f"Priority {priority_id} belongs to closed cycle {r['cycle_id']}: decide in the open cycle."
            )
        if decision == "reject":
            n = con.execute(
                "SELECT count(*) FROM initiatives WHERE priority_id = ?", (priority_id,)
            ).fetchone()[0]
            if n:
                raise CxchainError(
                    f"Priority {priority_id} already has {n} initiative(s): stop them before rejecting it."
                )
        detail: dict[str, Any] = {"from_status": r["status"]}
        sets = {"status": status}
        for k, v in (changes or {}).items():
            if v is not None:
                detail[k] = {"old": r[k], "new": v}
                sets[k] = v
        con.execute(
            f"UPDATE priorities SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
            (*sets.values(), priority_id),
        )
        con.execute(
            "INSERT INTO decisions (priority_id, decision, reason, actor, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (priority_id, decision, reason.strip(), actor, now(), dumps(detail)),
        )
    ws.store.audit(actor, f"priority.{decision}", priority_id, {"reason": reason.strip()})
    return get_priority(ws, priority_id)


def accept(
    ws: Workspace, priority_id: str, *, reason: str, actor: str = "cli", expected_status: str | None = None
) -> dict[str, Any]:
    """Accept a proposed priority (``reason`` required).

    ``expected_status``: the status the decider saw; when the priority has moved on since (someone else
    decided it), :class:`~cxchain.redesign.store.ConflictError` and nothing is saved.  The same holds for
    :func:`reject` and :func:`override`.
    """
    return _decide(ws, priority_id, "accept", reason, actor, expected_status=expected_status)


def reject(
    ws: Workspace, priority_id: str, *, reason: str, actor: str = "cli", expected_status: str | None = None
) -> dict[str, Any]:
    """Reject a priority (``reason`` required); refused when initiatives already hang off it."""
    return _decide(ws, priority_id, "reject", reason, actor, expected_status=expected_status)


def override(
    ws: Workspace,
    priority_id: str,
    *,
    reason: str,
    actor: str = "cli",
    reason_id: str | None = None,
    title: str | None = None,
    rank: int | None = None,
    expected_status: str | None = None,
) -> dict[str, Any]:
    """Accept a priority in a changed form (another reason id, title or rank); ``reason`` says why."""
    if reason_id is None and title is None and rank is None:
        raise CxchainError(
            "An override changes something: give a new reason id, title or rank (or use accept)."
        )
    return _decide(
        ws,
        priority_id,
        "override",
        reason,
        actor,
        {"reason_id": reason_id, "title": title, "rank": rank},
        expected_status=expected_status,
    )
