"""Link 4, coordinated redesign: initiatives that come from accepted priorities.

An initiative has a type (:data:`TYPES`), the business areas involved with an owner each, tasks, dates
(``start``, ``go_live``), a **target metric** (a registry metric id and filters, e.g. ``volume`` with
``{"reason_id": ..., "demand": "failure"}`` = failure contacts a week about the reason, or
``failure_demand_share`` for the reason) with a **baseline** computed from the published store (the mean
weekly value over the :data:`BASELINE_WEEKS` full weeks before ``start``, else before the data end) and a
**target** value, a status and a change log.  Every edit names the ``version`` it was based on
(optimistic locking, :class:`~cxchain.redesign.store.ConflictError` when stale) and is logged field by
field with who and when.  :func:`board` groups initiatives by business area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from ..errors import CxchainError, NotFoundError
from ..metrics import compute, get_spec
from ..workspace import Workspace
from .store import ConflictError, dumps, loads, now, reader, transaction

__all__ = [
    "TYPES",
    "STATUSES",
    "BASELINE_WEEKS",
    "add_initiative",
    "update_initiative",
    "get_initiative",
    "list_initiatives",
    "add_task",
    "update_task",
    "TASK_STATUSES",
    "board",
    "target_series",
    "series_kind",
    "compute_baseline",
]

TYPES = ("process", "policy", "technology", "people")
STATUSES = ("planned", "in_progress", "live", "done", "stopped")
TASK_STATUSES = ("open", "done", "dropped")
BASELINE_WEEKS = 13
_EDITABLE = ("title", "type", "status", "areas", "start", "go_live", "metric_id", "metric_filters", "target")


def _d(v: Any) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        raise CxchainError(f"{v!r} is not a date like 2026-01-12.") from None


def series_kind(metric_id: str) -> str:
    """``count`` for count metrics (weekly counts), ``rate`` for the others (weekly value with ``n``)."""
    return "count" if get_spec(metric_id).aggregate == "count" else "rate"


def target_series(
    con: duckdb.DuckDBPyConnection,
    settings: Any,
    metric_id: str,
    filters: Mapping[str, Any] | None,
    *,
    end: date | None = None,
) -> pd.DataFrame:
    """Weekly series (``week``, ``value``, ``n``) of a registry metric under ``filters``, full weeks only.

    Counts: every full week from the first to ``end`` (exclusive; default the data end), 0 where nothing
    happened.  Rates and means: the weeks with data.  Small-number suppression is off here (the series feeds
    a model; it is not displayed row by row).
    """
    from ..priorities.opportunities import data_end

    vals = dict(settings.values if hasattr(settings, "values") else settings)
    vals["metrics.small_number"] = 0
    spec = get_spec(metric_id)
    try:
        rows = compute(con, metric_id, vals, filters=dict(filters or {}), period="week")
    except (ValueError, KeyError) as e:
        raise CxchainError(f"Target metric {metric_id} with filters {dict(filters or {})}: {e}") from None
    hi = end or data_end(con, settings)
    first = con.execute("SELECT min(started_at) FROM contact_fact").fetchall()[0][0]
    lo = None
    if first is not None:
        d0 = first.date() if hasattr(first, "date") else first
        lo = d0 - timedelta(days=d0.weekday())
        if d0 != lo:  # the first week is partial
            lo += timedelta(weeks=1)
    by_week = {pd.Timestamp(r["week"]).date(): r for r in rows if r.get("week") is not None}
    out = []
    if spec.aggregate == "count":
        if lo is None:
            return pd.DataFrame(columns=["week", "value", "n"])
        wk = lo
        while wk < hi:
            r = by_week.get(wk)
            n = float(r["n"]) if r else 0.0
            out.append({"week": wk, "value": n, "n": n})
            wk += timedelta(weeks=1)
    else:
        for wk, r in sorted(by_week.items()):
            if (lo is None or wk >= lo) and wk < hi and r["n"] and r["value"] is not None:
                out.append({"week": wk, "value": float(r["value"]), "n": float(r["n"])})
    return pd.DataFrame(out, columns=["week", "value", "n"])


def compute_baseline(
    ws: Workspace, metric_id: str, filters: Mapping[str, Any] | None, before: date | None = None
) -> dict[str, Any]:
    """Baseline of a target metric: the mean weekly value over the BASELINE_WEEKS full weeks before ``before``."""
    with ws.store.read() as con:
        s = target_series(con, ws.settings, metric_id, filters)
    if before is not None:
        s = s[pd.to_datetime(s["week"]) < pd.Timestamp(before)]
    s = s.tail(BASELINE_WEEKS)
    if s.empty:
        return {"value": None, "weeks": 0, "note": "no data before the baseline date"}
    kind = series_kind(metric_id)
    value: float | None
    if kind == "count":
        value = float(s["value"].mean())
    else:
        value = float((s["value"] * s["n"]).sum() / s["n"].sum()) if s["n"].sum() else None
    return {
        "value": value,
        "kind": kind,
        "weeks": len(s),
        "from": str(s["week"].iloc[0]),
        "to": str(s["week"].iloc[-1]),
        "unit": "a week" if kind == "count" else get_spec(metric_id).unit,
    }


def _check_areas(areas: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    out = []
    for a in areas:
        if not a.get("area"):
            raise CxchainError(f"Each business area needs a name: got {dict(a)}.")
        out.append({"area": str(a["area"]), "owner": str(a.get("owner") or "")})
    return out


def _load(con: Any, initiative_id: str) -> dict[str, Any]:
    r = con.execute("SELECT * FROM initiatives WHERE id = ?", (initiative_id,)).fetchone()
    if r is None:
        raise NotFoundError(f"No initiative {initiative_id}: see `cxchain initiative list`.")
    d = dict(r)
    d["areas"] = loads(d["areas"], [])
    d["metric_filters"] = loads(d["metric_filters"], {})
    d["baseline"] = loads(d["baseline"], None)
    return d


def add_initiative(
    ws: Workspace,
    priority_id: str,
    *,
    title: str,
    type: str,
    areas: Sequence[Mapping[str, Any]],
    start: date | str | None = None,
    go_live: date | str | None = None,
    metric_id: str | None = "volume",
    metric_filters: Mapping[str, Any] | None = None,
    target: float | None = None,
    target_change: float | None = None,
    status: str = "planned",
    actor: str = "cli",
) -> dict[str, Any]:
    """Create an initiative under an accepted (or overridden) priority.

    ``areas``: ``[{"area": "Repairs", "owner": "Head of Repairs"}, ...]``.  ``metric_filters`` defaults to the
    priority's reason (and failure demand for count metrics).  ``target``: the value to reach; or
    ``target_change``: a relative change of the baseline (e.g. -0.2).
    """
    if type not in TYPES:
        raise CxchainError(f"Initiative type must be one of {', '.join(TYPES)}, not {type!r}.")
    if status not in STATUSES:
        raise CxchainError(f"Status must be one of {', '.join(STATUSES)}, not {status!r}.")
    if not title.strip():
        raise CxchainError("An initiative needs a title.")
    ar = _check_areas(areas)
    s, g = _d(start), _d(go_live)
    if s and g and g < s:
        raise CxchainError(f"Go-live {g} is before start {s}.")
    from ..priorities.plan import ACTIVE, get_priority

    pri = get_priority(ws, priority_id)
    if pri["status"] not in ACTIVE:
        raise CxchainError(
            f"Priority {priority_id} is {pri['status']}: initiatives come from accepted priorities. "
            f"Accept it first with `cxchain priorities accept {priority_id} --reason ...`."
        )
    filters = dict(metric_filters) if metric_filters is not None else None
    baseline = None
    if metric_id:
        get_spec(metric_id)  # unknown ids fail here with the known ones listed
        if filters is None:
            filters = {"reason_id": pri["reason_id"]}
        baseline = compute_baseline(ws, metric_id, filters, s or g)
        if target is None and target_change is not None and baseline.get("value") is not None:
            target = baseline["value"] * (1 + target_change)
    with transaction(ws) as con:
        seq = int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM initiatives").fetchone()[0])
        iid = f"I{seq}"
        t = now()
        con.execute(
            "INSERT INTO initiatives (id, seq, priority_id, cycle_id, title, type, status, areas, start, go_live, "
            "metric_id, metric_filters, baseline, target, created_at, created_by, updated_at, updated_by, "
            "version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                iid,
                seq,
                priority_id,
                pri["cycle_id"],
                title.strip(),
                type,
                status,
                dumps(ar),
                s.isoformat() if s else None,
                g.isoformat() if g else None,
                metric_id,
                dumps(filters or {}),
                dumps(baseline) if baseline else None,
                target,
                t,
                actor,
                t,
                actor,
            ),
        )
        con.execute(
            "INSERT INTO changes (initiative_id, at, actor, field, old, new, version) VALUES "
            "(?, ?, ?, 'created', NULL, ?, 1)",
            (iid, t, actor, title.strip()),
        )
    ws.store.audit(actor, "initiative.add", iid, {"priority": priority_id})
    return get_initiative(ws, iid)


def update_initiative(
    ws: Workspace, initiative_id: str, *, expected_version: int, actor: str = "cli", **changes: Any
) -> dict[str, Any]:
    """Edit fields of an initiative (``title``, ``type``, ``status``, ``areas``, ``start``, ``go_live``,
    ``metric_id``, ``metric_filters``, ``target``) based on ``expected_version``.

    Refused with :class:`ConflictError` when the initiative changed since that version; every changed field
    is logged with who and when; the version goes up by one.  Changing the metric recomputes the baseline.
    """
    bad = [k for k in changes if k not in _EDITABLE]
    if bad:
        raise CxchainError(f"Cannot edit {', '.join(bad)}; editable: {', '.join(_EDITABLE)}.")
    if "type" in changes and changes["type"] not in TYPES:
        raise CxchainError(f"Initiative type must be one of {', '.join(TYPES)}.")
    if "status" in changes and changes["status"] not in STATUSES:
        raise CxchainError(f"Status must be one of {', '.join(STATUSES)}.")
    if "areas" in changes:
        changes["areas"] = _check_areas(changes["areas"])
    for k in ("start", "go_live"):
        if k in changes:
            d = _d(changes[k])
            changes[k] = d.isoformat() if d else None
    with reader(ws) as con:
        cur = _load(con, initiative_id)
    if ("metric_id" in changes or "metric_filters" in changes) and (
        changes.get("metric_id") or cur["metric_id"]
    ):
        mid = changes.get("metric_id", cur["metric_id"])
        filt = changes.get("metric_filters", cur["metric_filters"])
        changes["baseline"] = compute_baseline(ws, mid, filt, _d(changes.get("start", cur["start"])))
    with transaction(ws) as con:
        cur = _load(con, initiative_id)
        if cur["version"] != expected_version:
            raise ConflictError(
                f"Initiative {initiative_id} was changed by {cur['updated_by']} at {cur['updated_at']} "
                f"(now version {cur['version']}; your edit was based on version {expected_version}). "
                "Nothing was saved: reload it and apply your edit again."
            )
        s, g = _d(changes.get("start", cur["start"])), _d(changes.get("go_live", cur["go_live"]))
        if s and g and g < s:
            raise CxchainError(f"Go-live {g} is before start {s}.")
        diff = {k: v for k, v in changes.items() if v != cur[k]}
        if not diff:
            return get_initiative(ws, initiative_id)
        t = now()
        new_version = expected_version + 1
        stored = {
            k: (dumps(v) if k in ("areas", "metric_filters", "baseline") else v) for k, v in diff.items()
        }
        n = con.execute(
            f"UPDATE initiatives SET {', '.join(f'{k} = ?' for k in stored)}, updated_at = ?, "
            "updated_by = ?, version = ? WHERE id = ? AND version = ?",
            (*stored.values(), t, actor, new_version, initiative_id, expected_version),
        ).rowcount
        if n != 1:  # pragma: no cover - the immediate transaction makes this unreachable
            raise ConflictError(f"Initiative {initiative_id} changed while saving: reload and try again.")
        for k, v in diff.items():
            con.execute(
                "INSERT INTO changes (initiative_id, at, actor, field, old, new, version) VALUES "
                "(?, ?, ?, ?, ?, ?, ?)",
                (initiative_id, t, actor, k, dumps(cur[k]), dumps(v), new_version),
            )
    ws.store.audit(actor, "initiative.update", initiative_id, {"fields": sorted(diff)})
    return get_initiative(ws, initiative_id)


def _bump(con: Any, initiative_id: str, expected_version: int | None, actor: str, t: str) -> int:
    """Check ``expected_version`` (when given) and raise the initiative's version by one; the new version."""
    cur = _load(con, initiative_id)
    if expected_version is not None and cur["version"] != expected_version:
        raise ConflictError(
            f"Initiative {initiative_id} was changed by {cur['updated_by']} at {cur['updated_at']} "
            f"(now version {cur['version']}; your edit was based on version {expected_version}). "
            "Nothing was saved: reload it and apply your edit again."
        )
    v = int(cur["version"]) + 1
    con.execute(
        "UPDATE initiatives SET version = ?, updated_at = ?, updated_by = ? WHERE id = ?",
        (v, t, actor, initiative_id),
    )
    return v


def add_task(
    ws: Workspace,
    initiative_id: str,
    *,
    title: str,
    owner: str | None = None,
    due: date | str | None = None,
    actor: str = "cli",
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Add a task to an initiative (logged in its change log; the initiative's version goes up by one).

    With ``expected_version`` the task is refused with :class:`ConflictError` when the initiative changed since.
    """
    if not title or not title.strip():
        raise CxchainError("A task needs a title.")
    d = _d(due)
    with transaction(ws) as con:
        t = now()
        v = _bump(con, initiative_id, expected_version, actor, t)
        con.execute(
            "INSERT INTO tasks (initiative_id, title, owner, due, status, created_at, created_by) VALUES "
            "(?, ?, ?, ?, 'open', ?, ?)",
            (initiative_id, title.strip(), owner or None, d.isoformat() if d else None, t, actor),
        )
        con.execute(
            "INSERT INTO changes (initiative_id, at, actor, field, old, new, version) VALUES "
            "(?, ?, ?, 'task', NULL, ?, ?)",
            (initiative_id, t, actor, title.strip(), v),
        )
    ws.store.audit(actor, "initiative.task.add", initiative_id, {"version": v})
    return get_initiative(ws, initiative_id)


def update_task(
    ws: Workspace,
    initiative_id: str,
    task_id: int,
    *,
    status: str,
    expected_version: int,
    actor: str = "cli",
) -> dict[str, Any]:
    """Set a task's status (:data:`TASK_STATUSES`) based on the initiative's ``expected_version``.

    Refused with :class:`ConflictError` when the initiative (or any of its tasks) changed since that version;
    logged in the change log as ``task:<id>``; the initiative's version goes up by one.
    """
    if status not in TASK_STATUSES:
        raise CxchainError(f"Task status must be one of {', '.join(TASK_STATUSES)}, not {status!r}.")
    with transaction(ws) as con:
        row = con.execute(
            "SELECT status FROM tasks WHERE id = ? AND initiative_id = ?", (int(task_id), initiative_id)
        ).fetchone()
        if row is None:
            _load(con, initiative_id)  # an unknown initiative says so first
            raise NotFoundError(f"Initiative {initiative_id} has no task {task_id}.")
        if row["status"] == status:
            cur = _load(con, initiative_id)
            if cur["version"] != expected_version:
                _bump(con, initiative_id, expected_version, actor, now())  # raises the conflict
            return get_initiative(ws, initiative_id)
        t = now()
        v = _bump(con, initiative_id, expected_version, actor, t)
        con.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, int(task_id)))
        con.execute(
            "INSERT INTO changes (initiative_id, at, actor, field, old, new, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (initiative_id, t, actor, f"task:{int(task_id)}", dumps(row["status"]), dumps(status), v),
        )
    ws.store.audit(actor, "initiative.task.update", initiative_id, {"task": int(task_id), "status": status})
    return get_initiative(ws, initiative_id)


def get_initiative(ws: Workspace, initiative_id: str) -> dict[str, Any]:
    """One initiative with its tasks, change log, measurements and CX Code design reviews (newest last)."""
    with reader(ws) as con:
        d = _load(con, initiative_id)
        d["tasks"] = [
            dict(r)
            for r in con.execute("SELECT * FROM tasks WHERE initiative_id = ? ORDER BY id", (initiative_id,))
        ]
        d["changes"] = [
            dict(r)
            for r in con.execute(
                "SELECT at, actor, field, old, new, version FROM changes WHERE initiative_id = ? ORDER BY id",
                (initiative_id,),
            )
        ]
        d["measurements"] = [
            dict(r) | {"details": loads(r["details"], {})}
            for r in con.execute(
                "SELECT * FROM measurements WHERE initiative_id = ? ORDER BY id", (initiative_id,)
            )
        ]
    from ..code.review import reviews_of  # the CX Code's design reviews of this initiative

    d["code_reviews"] = reviews_of(ws, initiative_id)
    return d


def list_initiatives(
    ws: Workspace, *, cycle_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Initiatives (optionally of one cycle or status), with their latest measurement."""
    sql, args = "SELECT id FROM initiatives WHERE 1 = 1", []
    if cycle_id:
        sql += " AND cycle_id = ?"
        args.append(cycle_id)
    if status:
        sql += " AND status = ?"
        args.append(status)
    with reader(ws) as con:
        ids = [r[0] for r in con.execute(sql + " ORDER BY seq", args)]
    out = []
    for i in ids:
        d = get_initiative(ws, i)
        d["latest_measurement"] = d["measurements"][-1] if d["measurements"] else None
        out.append(d)
    return out


def board(ws: Workspace, *, cycle_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Initiatives grouped by business area (an initiative appears under each of its areas, with that owner)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for d in list_initiatives(ws, cycle_id=cycle_id):
        if d["status"] == "stopped":
            continue
        lm = d["latest_measurement"]
        card = {
            "id": d["id"],
            "title": d["title"],
            "type": d["type"],
            "status": d["status"],
            "go_live": d["go_live"],
            "priority_id": d["priority_id"],
            "target": d["target"],
            "metric_id": d["metric_id"],
            "open_tasks": sum(1 for t in d["tasks"] if t["status"] == "open"),
            "verdict": lm["verdict"] if lm else None,
            "version": d["version"],
        }
        for a in d["areas"] or [{"area": "(no business area)", "owner": ""}]:
            out.setdefault(a["area"], []).append(card | {"owner": a["owner"] or None})
    return dict(sorted(out.items()))
