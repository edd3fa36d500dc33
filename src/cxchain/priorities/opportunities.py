"""Link 3: opportunities sized in contacts, minutes, money and customer impact (domain brief section 5).

For every contact reason (``level="reason"``) and every reason x channel (``level="reason_channel"``),
from the published store's ``contact_fact`` / ``survey_fact``, over the last :data:`SCORE_WEIGHTS`
``window_weeks`` full weeks before the data end (``as_of``), figures are annualised (x 52 / weeks):

``volume``                 interactions (first legs)
``failure_share``          failure / (failure + value) interactions (``unknown`` left out)
``avoidable_contacts``     failure-demand interactions (after earlier initiatives' measured effects, below)
``handling_minutes``       agent handling minutes (talk + hold + wrap over every leg); ``avoidable_handling_minutes``
                           the part spent on failure demand
``cost``                   a range [low, high] GBP/year: avoidable contacts x ``costs.<channel>`` plus avoidable
                           handling minutes x ``costs.per_handling_minute`` (both terms shown; the handling term
                           prices agent time on top of the per-contact benchmark - set the per-contact costs to
                           exclude agent time if your benchmark already includes it)
``customer_impact``        driver importance (Shapley share of the explained variance of CSAT top-box, one
                           indicator per reason, :func:`cxchain.insight.drivers.shapley_regression`) x the gap
                           between the organisation's top-box share and the reason's (0 when the reason scores
                           at or above the overall); ``None`` when too few surveys link to contacts
``repeat``                 repeat-contact rate (metric ``repeat_rate``, whole data period)
``trend``                  relative slope of weekly failure contacts (per year, least squares over the last 26
                           weeks) and the XmR signal of the last 26 weeks against the 26 before
``code``                   the CX Code's adherence: contacts a year that break at least one published principle
                           (interaction QA, :func:`cxchain.code.adherence.breaches_by_reason`), and by principle

**Score** (0-100): each term is normalised by its largest value among the rows of the same level and
multiplied by its weight from :data:`SCORE_WEIGHTS`; the score is the sum of the points, and every term
(value, normalised, weight, points) is shown in ``terms``.  The CX Code term (``code_breaches``) takes its
weight from the setting ``priorities.code_weight`` and the other weights are scaled by (1 - that weight), so the
score stays 0-100; with no published code the term has weight 0 and the score is as without it.  **Earlier outcomes feed in**: when an initiative
on a reason was measured ``improved``, the failure contacts of that reason before its go-live are scaled by
(1 + measured relative effect) - the opportunity that remains after the change - and ``outcome`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..settings import Settings

__all__ = ["SCORE_WEIGHTS", "compute_opportunities", "opportunities", "reason_names", "data_end", "code_weighted"]

#: The score's weights, declared once as data (version it when a weight changes; results carry the version).
#: ``window_weeks``: the sizing window; ``min_surveys``: fewest linked survey responses for customer impact;
#: ``min_reason_surveys``: fewest responses for a reason to enter the driver model.
SCORE_WEIGHTS: dict[str, Any] = {
    "version": 2,
    "weights": {
        "avoidable_cost": 0.35,  # GBP/year (mid of the range) that failure demand costs
        "avoidable_contacts": 0.25,  # failure-demand contacts a year
        "customer_impact": 0.20,  # driver importance x CSAT top-box gap
        "repeat": 0.10,  # repeat contacts a year (repeat rate x volume)
        "trend": 0.10,  # rising failure demand (growth in weekly failure contacts a year, rises only)
        # contacts a year that break a published CX Code principle; the weight is the setting
        # priorities.code_weight and scales the others by (1 - it), see code_weighted()
        "code_breaches": 0.0,
    },
    "window_weeks": 52,
    "min_surveys": 50,
    "min_reason_surveys": 30,
}

_TREND_WEEKS = 26


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def data_end(con: duckdb.DuckDBPyConnection, settings: Settings | Mapping[str, Any]) -> date:
    """The Monday after the last full week of data: min(as_of + 1 day, last contact + 1 day), to its Monday."""
    as_of = settings.as_of if isinstance(settings, Settings) else date.fromisoformat(str(settings["as_of"]))
    last = con.execute("SELECT max(CAST(started_at AS DATE)) FROM contact_fact").fetchall()[0][0]
    end = as_of + timedelta(days=1)
    if last is not None:
        end = min(end, last + timedelta(days=1))
    return _monday(end)


def reason_names(ws_path: Any) -> dict[str, str]:
    """Reason id -> name from the workspace taxonomy file (empty when there is none)."""
    from pathlib import Path

    p = Path(ws_path) / "taxonomy.yaml"
    if not p.exists():
        return {}
    from ..insight.taxonomy import load_taxonomy

    try:
        tax = load_taxonomy(p)
    except Exception:  # a damaged taxonomy must not stop sizing: ids are shown instead
        return {}
    return {r.id: r.name for r in tax.reasons}


def _cost(settings: Settings | Mapping[str, Any], key: str) -> tuple[float, float]:
    v = settings[f"costs.{key}"] if _has(settings, f"costs.{key}") else [0.0, 0.0]
    return float(v[0]), float(v[1])


def _has(settings: Settings | Mapping[str, Any], key: str) -> bool:
    vals = settings.values if isinstance(settings, Settings) else settings
    return key in vals


def _slope_per_year(y: np.ndarray) -> float | None:
    if len(y) < 8 or y.mean() <= 0:
        return None
    t = np.arange(len(y), dtype=float)
    b = float(np.polyfit(t, y, 1)[0])
    return b * 52 / float(y.mean())


def _xmr_signal(y: np.ndarray) -> str | None:
    from ..insight.trends import xmr

    if len(y) < 2 * 8:
        return None
    base = len(y) // 2
    try:
        chart = xmr(y, baseline=base)
    except Exception:  # a flat or degenerate series has no signal to report
        return None
    dirs = {s.direction for s in chart.signals if s.index >= base}
    if not dirs:
        return "none"
    return "up" if dirs == {"up"} else ("down" if dirs == {"down"} else "mixed")


def _customer_impact(
    con: duckdb.DuckDBPyConnection,
    settings: Settings | Mapping[str, Any],
    weights: Mapping[str, Any],
    lo: date,
    hi: date,
) -> dict[str, Any]:
    """Per reason: importance, gap, impact; plus ``_meta`` (n, method, note)."""
    from ..insight.drivers import shapley_regression

    top_box = int(settings["metrics.csat_top_box"])
    try:
        df = con.execute(f"""
            SELECT s.reason_id, CAST(s.csat > s.csat_scale_max - {top_box} AS DOUBLE) AS top2
            FROM survey_fact s WHERE s.csat IS NOT NULL AND s.reason_id IS NOT NULL
              AND s.reason_id <> 'unclassified'""").df()
    except duckdb.Error:
        df = pd.DataFrame(columns=["reason_id", "top2"])
    meta: dict[str, Any] = {"n": len(df), "method": None, "overall_top_box": None}
    if len(df) < int(weights.get("min_surveys", 50)) or df["top2"].std() == 0:
        meta["note"] = f"only {len(df)} survey responses link to a contact reason: customer impact not sized"
        return {"_meta": meta}
    overall = float(df["top2"].mean())
    meta["overall_top_box"] = overall
    counts = df["reason_id"].value_counts()
    keep = [str(r) for r, c in counts.items() if c >= int(weights.get("min_reason_surveys", 30))]
    out: dict[str, Any] = {"_meta": meta}
    imp: dict[str, float] = {}
    if len(keep) >= 2:
        X = pd.DataFrame({r: (df["reason_id"] == r).astype(float) for r in keep})
        try:
            res = shapley_regression(X, df["top2"])
            imp = {d.name: float(d.importance) for d in res.drivers}
            meta["method"] = res.method
            meta["r2"] = float(res.r2)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            meta["note"] = f"driver model failed: {e}"
    for r, grp in df.groupby("reason_id"):
        p = float(grp["top2"].mean())
        gap = overall - p
        importance = imp.get(str(r))
        out[str(r)] = {
            "top_box": p,
            "n": len(grp),
            "gap": gap,
            "importance": importance,
            "value": (importance or 0.0) * max(gap, 0.0) if importance is not None else None,
        }
    return out


def compute_opportunities(
    con: duckdb.DuckDBPyConnection,
    settings: Settings | Mapping[str, Any],
    *,
    level: str = "reason",
    outcomes: Sequence[Mapping[str, Any]] = (),
    findings: Sequence[Mapping[str, Any]] = (),
    names: Mapping[str, str] | None = None,
    weights: Mapping[str, Any] | None = None,
    code_breaches: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Opportunities ranked by score over an open analytical store (see the module notes).

    ``level``: ``"reason"`` or ``"reason_channel"``.  ``outcomes``: earlier measurements, dicts with
    ``reason_id``, ``initiative_id``, ``verdict``, ``relative_effect``, ``go_live`` (only ``improved`` ones lower
    an opportunity).  ``findings``: published findings (their ids are linked by reason).  ``weights``: defaults
    to :data:`SCORE_WEIGHTS` with the CX Code weight from settings (:func:`code_weighted`).  ``code_breaches``:
    contacts a year breaking the published CX Code by reason (or ``reason|channel``):
    ``{key: {"contacts", "principles"}}``; None when there is no published code.
    """
    from ..metrics import compute

    if level not in ("reason", "reason_channel"):
        raise ValueError(f"level must be 'reason' or 'reason_channel', not {level!r}")
    w = dict(weights) if weights is not None else code_weighted(settings, code_breaches is not None)
    names = names or {}
    hi = data_end(con, settings)
    lo = hi - timedelta(weeks=int(w.get("window_weeks", 52)))
    weeks = (
        con.execute(
            "SELECT count(DISTINCT week) FROM contact_fact WHERE week >= ? AND week < ?", [lo, hi]
        ).fetchall()[0][0]
        or 0
    )
    if not weeks:
        return []
    annual = 52.0 / weeks
    keys = ["reason_id"] + (["channel"] if level == "reason_channel" else [])
    kcols = ", ".join(f"f.{k}" for k in keys)
    base = con.execute(
        f"""
        WITH legs AS (SELECT interaction_id, sum(handle_s) AS handle_s FROM contact_fact GROUP BY 1)
        SELECT {kcols}, any_value(f.reason_group) AS reason_group, count(*) AS volume,
               count(*) FILTER (WHERE f.demand = 'failure') AS failure,
               count(*) FILTER (WHERE f.demand IN ('failure', 'value')) AS classified,
               coalesce(sum(l.handle_s), 0) / 60.0 AS handle_min,
               coalesce(sum(l.handle_s) FILTER (WHERE f.demand = 'failure'), 0) / 60.0 AS fail_handle_min
        FROM contact_fact f LEFT JOIN legs l ON l.interaction_id = f.interaction_id
        WHERE f.is_first_leg AND f.week >= ? AND f.week < ? AND f.reason_id IS NOT NULL
          AND f.reason_id <> 'unclassified'
        GROUP BY {kcols} ORDER BY {kcols}""",
        [lo, hi],
    ).df()
    # failure contacts by channel (for the per-contact cost) within each row
    by_ch = con.execute(
        f"""
        WITH legs AS (SELECT interaction_id, sum(handle_s) AS handle_s FROM contact_fact GROUP BY 1)
        SELECT {kcols}, f.channel AS ch, count(*) AS failure
        FROM contact_fact f WHERE f.is_first_leg AND f.week >= ? AND f.week < ? AND f.demand = 'failure'
          AND f.reason_id IS NOT NULL AND f.reason_id <> 'unclassified'
        GROUP BY ALL""",
        [lo, hi],
    ).df()
    tl = hi - timedelta(weeks=_TREND_WEEKS * 2)
    weekly = con.execute(
        f"""
        SELECT {kcols}, f.week, count(*) AS failure FROM contact_fact f
        WHERE f.is_first_leg AND f.demand = 'failure' AND f.week >= ? AND f.week < ?
          AND f.reason_id IS NOT NULL GROUP BY ALL""",
        [tl, hi],
    ).df()
    all_weeks = [tl + timedelta(weeks=i) for i in range(_TREND_WEEKS * 2)]
    try:
        rep_rows = compute(con, "repeat_rate", settings, by=keys)
    except Exception:  # noqa: BLE001 - repeat needs linked customers; missing is shown, not fatal
        rep_rows = []
    repeat = {tuple(r[k] for k in keys): r for r in rep_rows}
    impact = _customer_impact(con, settings, w, lo, hi)
    ph_lo, ph_hi = _cost(settings, "per_handling_minute")

    # outcomes: improved initiatives lower the remaining opportunity of their reason
    adjust: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        if o.get("verdict") != "improved" or o.get("relative_effect") is None or not o.get("reason_id"):
            continue
        rel = max(-1.0, min(0.0, float(o["relative_effect"])))
        adjust.setdefault(str(o["reason_id"]), {**dict(o), "relative_effect": rel})
    pre_fail: dict[tuple[Any, ...], float] = {}
    for rid, o in adjust.items():
        go = date.fromisoformat(str(o["go_live"])[:10])
        rows = con.execute(
            f"""SELECT {kcols}, count(*) FROM contact_fact f WHERE f.is_first_leg
                               AND f.demand = 'failure' AND f.reason_id = ? AND f.week >= ? AND f.week < ?
                               GROUP BY ALL""",
            [rid, lo, min(go, hi)],
        ).fetchall()
        for r in rows:
            pre_fail[tuple(r[:-1])] = float(r[-1])

    by_reason_findings: dict[str, list[str]] = {}
    for f in findings:
        frid = (
            f.get("subject")
            if f.get("subject") not in (None, "all")
            else (f.get("estimand") or {}).get("reason_id")
        )
        if frid:
            by_reason_findings.setdefault(str(frid), []).append(str(f.get("id")))

    out: list[dict[str, Any]] = []
    for rec in base.to_dict("records"):
        key = tuple(rec[k] for k in keys)
        rid = str(rec["reason_id"])
        failure = float(rec["failure"])
        ratio = 1.0
        outcome = None
        if rid in adjust and failure > 0:
            o = adjust[rid]
            pre = pre_fail.get(key, 0.0)
            remaining = (failure - pre) + pre * (1 + o["relative_effect"])
            ratio = remaining / failure
            outcome = {
                "initiative_id": o.get("initiative_id"),
                "verdict": o["verdict"],
                "relative_effect": o["relative_effect"],
                "go_live": str(o.get("go_live")),
                "failure_contacts_before_go_live": pre,
                "remaining_factor": ratio,
                "text": f"Initiative {o.get('initiative_id')} was measured improved "
                f"({100 * o['relative_effect']:+.0f}% failure contacts); the failure contacts before "
                f"its go-live are counted at that reduced level.",
            }
        avoid = failure * annual * ratio
        fail_min = float(rec["fail_handle_min"]) * annual * ratio
        chans = by_ch[(by_ch[keys].astype(str) == [str(k) for k in key]).all(axis=1)] if len(by_ch) else by_ch
        c_lo = c_hi = 0.0
        cost_by_channel = {}
        for ch, n in zip(chans["ch"], chans["failure"], strict=True) if len(chans) else []:
            lo_c, hi_c = _cost(settings, str(ch)) if ch else (0.0, 0.0)
            cost_by_channel[str(ch)] = {
                "avoidable_contacts": float(n) * annual * ratio,
                "cost_per_contact": [lo_c, hi_c],
            }
            c_lo += float(n) * annual * ratio * lo_c
            c_hi += float(n) * annual * ratio * hi_c
        h_lo, h_hi = fail_min * ph_lo, fail_min * ph_hi
        rep = repeat.get(key)
        rep_share = rep["value"] if rep and rep.get("value") is not None else None
        vol = float(rec["volume"]) * annual
        y = np.zeros(len(all_weeks))
        if len(weekly):
            sub = weekly[(weekly[keys].astype(str) == [str(k) for k in key]).all(axis=1)]
            idx = {pd.Timestamp(wk).date(): i for i, wk in enumerate(all_weeks)}
            for wk, n in zip(sub["week"], sub["failure"], strict=True):
                i = idx.get(pd.Timestamp(wk).date())
                if i is not None:
                    y[i] = float(n)
        recent = y[-_TREND_WEEKS:]
        slope = _slope_per_year(recent)
        ci = impact.get(rid)
        row: dict[str, Any] = {
            "level": level,
            "reason_id": rid,
            "reason_name": names.get(rid, rid),
            "reason_group": rec.get("reason_group"),
            "channel": rec.get("channel") if level == "reason_channel" else None,
            "volume": round(vol, 1),
            "failure_share": (failure / rec["classified"]) if rec["classified"] else None,
            "avoidable_contacts": round(avoid, 1),
            "handling_minutes": round(float(rec["handle_min"]) * annual, 1),
            "avoidable_handling_minutes": round(fail_min, 1),
            "cost": {
                "low": round(c_lo + h_lo, 2),
                "high": round(c_hi + h_hi, 2),
                "contacts_low": round(c_lo, 2),
                "contacts_high": round(c_hi, 2),
                "handling_low": round(h_lo, 2),
                "handling_high": round(h_hi, 2),
                "per_handling_minute": [ph_lo, ph_hi],
                "by_channel": cost_by_channel,
                "unit": "GBP/year",
            },
            "customer_impact": ci
            if ci
            else {"value": None, "note": impact["_meta"].get("note", "too few surveys")},
            "repeat": {
                "share": rep_share,
                "n": rep["n"] if rep else 0,
                "repeat_contacts": round(rep_share * vol, 1) if rep_share is not None else None,
            },
            "trend": {
                "failure_slope_per_year": slope,
                "xmr_signal": _xmr_signal(y),
                "weekly_failures": [float(v) for v in recent],
            },
            "outcome": outcome,
            "code": _code_of(code_breaches, rid if level == "reason" else f"{rid}|{rec.get('channel')}"),
            "finding_ids": by_reason_findings.get(rid, []),
            "window": {
                "from": lo.isoformat(),
                "to": hi.isoformat(),
                "weeks": int(weeks),
                "annualised_by": annual,
            },
        }
        out.append(row)
    _score(out, w)
    out.sort(key=lambda r: (-r["score"], r["reason_id"], str(r["channel"])))
    for i, row in enumerate(out):
        row["rank"] = i + 1
    return out


def _term_values(r: Mapping[str, Any]) -> dict[str, float]:
    ci = r["customer_impact"].get("value")
    slope = r["trend"]["failure_slope_per_year"]
    return {
        "avoidable_cost": (r["cost"]["low"] + r["cost"]["high"]) / 2,
        "avoidable_contacts": r["avoidable_contacts"],
        "customer_impact": float(ci) if ci is not None else 0.0,
        "repeat": float(r["repeat"]["repeat_contacts"] or 0.0),
        "trend": max(float(slope), 0.0) * float(np.mean(r["trend"]["weekly_failures"]) or 0.0)
        if slope is not None and math.isfinite(slope)
        else 0.0,
        "code_breaches": float((r.get("code") or {}).get("contacts") or 0.0),
    }


def code_weighted(settings: Settings | Mapping[str, Any], have_code: bool = True) -> dict[str, Any]:
    """:data:`SCORE_WEIGHTS` with the CX Code term's weight from ``priorities.code_weight`` (0 without a published
    code) and the other weights scaled by (1 - that weight)."""
    vals = settings.values if isinstance(settings, Settings) else settings
    cw = float(vals.get("priorities.code_weight", 0.0)) if have_code else 0.0
    if not 0.0 <= cw < 1.0:
        raise ValueError(f"priorities.code_weight must be at least 0 and below 1, not {cw}")
    w = dict(SCORE_WEIGHTS)
    w["weights"] = {k: (cw if k == "code_breaches" else float(v) * (1.0 - cw))
                    for k, v in SCORE_WEIGHTS["weights"].items()}
    return w


def _code_of(breaches: Mapping[str, Any] | None, key: str) -> dict[str, Any]:
    if breaches is None:
        return {"contacts": None, "principles": {}, "note": "no published CX Code"}
    b = breaches.get(key) or {}
    return {"contacts": float(b.get("contacts") or 0.0), "principles": dict(b.get("principles") or {})}


_TERM_TEXT = {
    "avoidable_cost": "GBP a year that failure demand costs (mid of the range)",
    "avoidable_contacts": "failure-demand contacts a year",
    "customer_impact": "driver importance x CSAT top-box gap",
    "repeat": "repeat contacts a year",
    "trend": "rise in failure contacts a week over a year (relative slope x weekly mean; rises only)",
    "code_breaches": "contacts a year that break a published CX Code principle (interaction QA)",
}


def _score(rows: list[dict[str, Any]], w: Mapping[str, Any]) -> None:
    weights: Mapping[str, float] = w["weights"]
    vals = [_term_values(r) for r in rows]
    mx = {k: max((v[k] for v in vals), default=0.0) for k in weights}
    for r, v in zip(rows, vals, strict=True):
        terms = {}
        total = 0.0
        for k, wt in weights.items():
            norm = v[k] / mx[k] if mx[k] > 0 else 0.0
            pts = 100.0 * float(wt) * norm
            total += pts
            terms[k] = {
                "value": v[k],
                "normalised": round(norm, 4),
                "weight": float(wt),
                "points": round(pts, 2),
                "meaning": _TERM_TEXT.get(k, k),
            }
        r["terms"] = terms
        r["score"] = round(total, 2)
        r["weights_version"] = w["version"]


def opportunities(
    ws: Any,
    *,
    level: str = "reason",
    outcomes: Sequence[Mapping[str, Any]] | None = None,
    weights: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Opportunities of a :class:`~cxchain.workspace.Workspace`, ranked; earlier outcomes taken from its ops store."""
    if outcomes is None:
        from ..cycle.cycles import outcomes as stored_outcomes

        outcomes = stored_outcomes(ws)
    findings = ws.findings()
    from ..code.adherence import breaches_by_reason

    w = dict(weights or SCORE_WEIGHTS)
    code = breaches_by_reason(ws, window_weeks=int(w.get("window_weeks", 52)), level=level)["by"]
    with ws.store.read() as con:
        return compute_opportunities(
            con,
            ws.settings,
            level=level,
            outcomes=outcomes,
            findings=findings,
            names=reason_names(ws.path),
            weights=weights,
            code_breaches=code,
        )
