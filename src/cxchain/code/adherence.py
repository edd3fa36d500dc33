"""Adherence to the CX Code: per published principle, the weekly share of contacts that keep it, on an XmR
process behaviour chart (:func:`cxchain.insight.trends.xmr`), and the contacts that break it by reason (the CX
Code's term in the next cycle's opportunity score, :mod:`cxchain.priorities.opportunities`).

Adherence of a week = contacts that passed the principle's QA checks (:mod:`cxchain.code.qa`) / contacts the
checks applied to, over full weeks before the data end.  Weeks with fewer than ``metrics.small_number``
contacts are shown with their ``n`` but no value, and left out of the chart.  The natural process limits come
from every charted week; a signal (Wheeler's rules 1-3) says the principle's adherence changed for a reason,
rather than by routine variation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

from ..errors import CxchainError
from .principles import Principle
from .qa import _cache_key, published, score_contacts

__all__ = ["MIN_WEEKS", "adherence", "breaches_by_reason"]

#: Fewest charted weeks for process limits.
MIN_WEEKS = 8

#: Adherence of recent (scores, data end, small number): the web overview, the story and the code page ask for
#: it on every change of an edit-only state; at a million contacts it takes seconds of pandas from the scores.
_CACHE: dict[tuple[str, date, int], list[dict[str, Any]]] = {}
_CACHE_SIZE = 4


def _data_end(ws: Any) -> date:
    from ..priorities.opportunities import data_end

    with ws.store.read() as con:
        return data_end(con, ws.settings)


def _weekly(df: pd.DataFrame, end: date, small: int) -> list[dict[str, Any]]:
    if df.empty:
        return []
    d = df.assign(week=pd.to_datetime(df["week"]).dt.date)
    d = d[d["week"] < end]
    g = d.groupby("week")["passed"].agg(["size", "sum"]).reset_index().sort_values("week")
    return [
        {"week": w.isoformat(), "n": int(n), "passed": int(p),
         "value": round(float(p) / n, 4) if n >= small else None, "suppressed": n < small}
        for w, n, p in zip(g["week"], g["size"], g["sum"], strict=True)
    ]


def _chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    from ..insight.trends import xmr

    pts = [w for w in weeks if w["value"] is not None]
    if len(pts) < MIN_WEEKS:
        return {"centre": None, "lower": None, "upper": None, "signals": [],
                "note": f"Only {len(pts)} weeks with enough contacts: process limits need {MIN_WEEKS}."}
    try:
        res = xmr([w["value"] for w in pts], dates=[w["week"] for w in pts])
    except CxchainError as e:
        return {"centre": None, "lower": None, "upper": None, "signals": [], "note": str(e)}
    seg = res.segments[-1]
    return {
        "centre": round(seg.centre, 4), "lower": round(max(seg.lower, 0.0), 4), "upper": round(min(seg.upper, 1.0), 4),
        "signals": [{"rule": s.rule, "week": s.date.isoformat() if s.date else None, "direction": s.direction,
                     "value": round(s.value, 4), "meaning": s.description} for s in res.signals],
        "note": "; ".join(res.notes),
    }


def adherence(ws: Any, principles: Sequence[Principle] | None = None, *,
              scores: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Per published principle: overall adherence, the weekly series, the XmR chart and the recent signals.

    Returns ``[{"principle_id", "title", "contacts", "passed", "value", "latest", "weeks": [{"week", "n",
    "passed", "value", "suppressed"}], "chart": {"centre", "lower", "upper", "signals", "note"}, "failing_checks":
    {check id: contacts}}]``; a principle with no per-contact check has ``contacts`` 0 and ``value`` None.
    """
    ps = list(principles) if principles is not None else published(ws)
    end = _data_end(ws)
    small = int(ws.settings["metrics.small_number"])
    scored = _cache_key(ws, ps) if scores is None else None  # the key of the scores score_contacts keeps
    key = (scored, end, small) if scored is not None else None
    if key is not None and key in _CACHE:
        return copy.deepcopy(_CACHE[key])
    df = scores if scores is not None else score_contacts(ws, ps)
    out = []
    for p in ps:
        d = df[df["principle_id"] == p.id] if len(df) else df
        weeks = _weekly(d, end, small)
        n, k = int(len(d)), int(d["passed"].sum()) if len(d) else 0
        fails: dict[str, int] = {}
        for fc in d["failed_checks"] if len(d) else []:
            for c in fc:
                fails[c] = fails.get(c, 0) + 1
        latest = next((w for w in reversed(weeks) if w["value"] is not None), None)
        out.append({
            "principle_id": p.id, "title": p.title, "version": p.version, "contacts": n, "passed": k,
            "value": round(k / n, 4) if n >= small else None, "latest": latest, "weeks": weeks,
            "chart": _chart(weeks), "failing_checks": dict(sorted(fails.items(), key=lambda x: -x[1])),
        })
    if key is not None:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = copy.deepcopy(out)
    return out


def breaches_by_reason(ws: Any, *, window_weeks: int = 52, level: str = "reason") -> dict[str, Any]:
    """Contacts a year that break at least one published principle, by reason (``level="reason"``) or by
    ``"reason|channel"`` (``level="reason_channel"``), over the ``window_weeks`` full weeks before the data end.

    Returns ``{"by": {key: {"contacts": annualised, "principles": {id: annualised}}}, "weeks", "from", "to"}``;
    ``None`` when there is no published code (the score then gives the Code term no weight).
    """
    try:
        ps = published(ws)
    except CxchainError:
        return {"by": None, "weeks": 0, "from": None, "to": None}
    df = score_contacts(ws, ps)
    hi = _data_end(ws)
    lo = hi - timedelta(weeks=window_weeks)
    if df.empty:
        return {"by": {}, "weeks": 0, "from": lo.isoformat(), "to": hi.isoformat()}
    wk = pd.to_datetime(df["week"]).dt.date
    in_window = (wk >= lo) & (wk < hi)
    weeks = int(df.loc[in_window, "week"].nunique())
    d = df[in_window & (~df["passed"])]
    annual = 52.0 / weeks if weeks else 0.0
    keys = d["reason_id"].astype(str) if level == "reason" else d["reason_id"].astype(str) + "|" + d["channel"].astype(str)
    d = d.assign(_key=keys.to_numpy())
    by: dict[str, Any] = {}
    for key, g in d.groupby("_key"):
        by[str(key)] = {
            "contacts": round(g["record_id"].nunique() * annual, 1),
            "principles": {str(pid): round(len(x) * annual, 1) for pid, x in g.groupby("principle_id")},
        }
    return {"by": by, "weeks": weeks, "from": lo.isoformat(), "to": hi.isoformat()}
