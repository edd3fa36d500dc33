"""From fact tables to ranked findings: what customers contact us about, where we fail them, what
drives dissatisfaction, and what changed.

Each generator computes one kind of finding with its number, a comparison, a chart, example
contacts and provenance, and scores it by *contacts affected x strength of evidence*, so that the
story's top findings are the large, well-evidenced effects rather than the background facts.
Context findings (the reason mix, the overall failure share) are scored low: they frame the story.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import numpy as np

from ..metrics import compute
from .findings import Finding
from .taxonomy import Taxonomy

MIN_N = 30  # below this a comparison is not reported as a finding
Z_SHIFT = 5.0  # a shift in a weekly share must be this strong (many reasons x many split points are tried)
Z_GAP = 3.0


def _metric(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row.get("metric"), "version": row.get("version"), "conventions": row.get("conventions", {})}


def _name(tax: Taxonomy, reason_id: str | None) -> str:
    if not reason_id or reason_id == "unclassified":
        return "Unclassified"
    try:
        return tax.get(reason_id).name
    except (KeyError, ValueError):
        return reason_id


def _examples(con: duckdb.DuckDBPyConnection, where: str, params: list[Any], k: int = 3) -> tuple[list[str], list[dict[str, str]]]:
    """Example contact ids and up to ``k`` short redacted verbatims for a slice of contact_fact."""
    rows = con.execute(f"""SELECT f.record_id, c.text FROM contact_fact f JOIN contact c ON c.record_id = f.record_id AND c.valid_to IS NULL
                           WHERE {where} ORDER BY hash(f.record_id) LIMIT 200""", params).fetchall()
    ids = [r[0] for r in rows[:10]]
    verb = [{"record_id": r[0], "text": (r[1] or "").strip()[:280]} for r in rows
            if r[1] and 20 <= len(r[1].strip()) and not r[1].lstrip().startswith(("<", "="))][:k]
    return ids, verb


def top_reasons(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    rows = [r for r in compute(con, "volume", settings, by=["reason_id"]) if r["value"] is not None]
    total = sum(r["n"] for r in rows) or 1
    rows.sort(key=lambda r: -r["n"])
    named = [r for r in rows if r["reason_id"] not in (None, "unclassified")]
    if not named:
        return []
    top = named[0]
    unclassified = sum(r["n"] for r in rows if r["reason_id"] in (None, "unclassified"))
    items = [(_name(tax, r["reason_id"]), r["n"] / total) for r in named[:10]]
    ids, verb = _examples(con, "f.reason_id = ? AND f.is_first_leg", [top["reason_id"]])
    return [Finding(
        kind="top_reasons", section="demand", subject="all",
        title="What customers contact us about",
        statement=(f"The most common reason is {_name(tax, top['reason_id'])}: {top['n'] / total:.0%} of {total:,} contacts. "
                   f"The top five reasons make up {sum(r['n'] for r in named[:5]) / total:.0%}; "
                   f"{unclassified / total:.1%} of contacts fit no reason yet (unclassified)."),
        value=top["n"] / total, unit="%", score=0.5, metric=_metric(top), filters={}, example_ids=ids, verbatims=verb,
        chart={"type": "bar", "items": items, "unit": "%", "title": "Share of contacts by reason"}, n=total,
        estimand={"metric": "volume_share", "by": "reason_id", "top": top["reason_id"]})]


def failure_overview(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    rows = compute(con, "failure_demand_share", settings)
    if not rows or rows[0]["value"] is None:
        return []
    r = rows[0]
    types = con.execute("""SELECT failure_type, count(*) FROM contact_fact WHERE is_first_leg AND demand = 'failure'
                           GROUP BY 1 ORDER BY 2 DESC""").fetchall()
    unknown = con.execute("SELECT count(*) FILTER (WHERE demand = 'unknown' OR demand IS NULL), count(*) FROM contact_fact WHERE is_first_leg").fetchall()[0]
    by_reason = con.execute("""SELECT reason_id, count(*) FILTER (WHERE demand = 'failure') AS f, count(*) FILTER (WHERE demand IN ('failure', 'value')) AS n
                               FROM contact_fact WHERE is_first_leg GROUP BY 1 HAVING f > 0 ORDER BY f DESC LIMIT 8""").fetchall()
    ids, verb = _examples(con, "f.demand = 'failure' AND f.is_first_leg", [])
    low, high = _avoidable_cost(con, settings)
    total_f = sum(n for _, n in types) or 1
    return [Finding(
        kind="failure_share", section="failure", subject="all", title="How much of our demand is failure demand",
        statement=(f"{r['value']:.0%} of classified contacts are failure demand ({r['numerator']:,} of {r['n']:,}): contacts caused by "
                   f"not doing something, or not doing it right, for the customer. The commonest kind is "
                   f"{(types[0][0] or 'unknown').replace('_', ' ')} ({types[0][1] / total_f:.0%} of failure demand). "
                   f"Avoidable cost: £{low:,.0f} to £{high:,.0f} over the period. "
                   f"{unknown[0] / max(unknown[1], 1):.0%} of contacts could not be classified as value or failure."),
        value=r["value"], unit="%", score=1.0, metric=_metric(r), filters={}, example_ids=ids, verbatims=verb,
        chart={"type": "bar", "items": [(_name(tax, rid), f) for rid, f, _ in by_reason], "title": "Failure contacts by reason"},
        n=r["n"], estimand={"metric": "failure_demand_share", "value": r["value"]})]


def _avoidable_cost(con: duckdb.DuckDBPyConnection, settings: Any) -> tuple[float, float]:
    rows = con.execute("""SELECT channel, count(*) FROM contact_fact WHERE is_first_leg AND demand = 'failure' GROUP BY 1""").fetchall()
    low = high = 0.0
    for ch, n in rows:
        lo, hi = settings.cost(ch) if hasattr(settings, "cost") else (0.0, 0.0)
        low += lo * n
        high += hi * n
    return low, high


def _best_split(f: np.ndarray, n: np.ndarray, min_side: int = 6) -> tuple[int, float, float, float] | None:
    """The split of a weekly share series with the largest two-proportion z: (k, z, p_before, p_after)."""
    if len(n) < 2 * min_side:
        return None
    cf, cn = np.cumsum(f), np.cumsum(n)
    best = None
    for k in range(min_side, len(n) - min_side + 1):
        n1, n2 = cn[k - 1], cn[-1] - cn[k - 1]
        if n1 < MIN_N or n2 < MIN_N:
            continue
        p1, p2 = cf[k - 1] / n1, (cf[-1] - cf[k - 1]) / n2
        p = cf[-1] / cn[-1]
        se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / n1 + 1 / n2))
        z = (p2 - p1) / se
        if best is None or abs(z) > abs(best[1]):
            best = (k, z, p1, p2)
    return best


def failure_shifts(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """Reasons whose failure-demand share stepped up or down at some week (a sustained shift)."""
    rows = con.execute("""SELECT reason_id, week, count(*) FILTER (WHERE demand = 'failure') AS f,
                                 count(*) FILTER (WHERE demand IN ('failure', 'value')) AS n
                          FROM contact_fact WHERE is_first_leg AND reason_id IS NOT NULL AND reason_id <> 'unclassified'
                          GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    by: dict[str, list[tuple[Any, int, int]]] = {}
    for rid, week, f, n in rows:
        by.setdefault(rid, []).append((week, f, n))
    out = []
    for rid, series in by.items():
        weeks = [w for w, _, _ in series]
        f = np.array([x for _, x, _ in series], dtype=float)
        n = np.array([x for _, _, x in series], dtype=float)
        best = _best_split(f, n)
        if best is None or abs(best[1]) < Z_SHIFT:
            continue
        k, z, p1, p2 = best
        change = weeks[k]
        after_volume = float(n[k:].sum())
        ids, verb = _examples(con, "f.reason_id = ? AND f.demand = 'failure' AND f.week >= ?", [rid, change])
        up = p2 > p1
        out.append(Finding(
            kind="failure_shift", section="failure" if up else "change", subject=rid,
            title=f"Failure demand {'rose' if up else 'fell'} on {_name(tax, rid)} from the week of {change}",
            statement=(f"From the week of {change}, {p2:.0%} of contacts about {_name(tax, rid)} were failure demand, against "
                       f"{p1:.0%} before (a change of {p2 - p1:+.0%}, z = {z:.1f}). Something changed for customers then: "
                       f"look for a new letter, process or policy around that date."),
            value=p2 - p1, comparison=p1, unit="pp", direction="up" if up else "down",
            score=after_volume * abs(p2 - p1) * min(abs(z) / Z_SHIFT, 3.0),
            metric={"id": "failure_demand_share", "version": 1}, filters={"reason_id": rid},
            example_ids=ids, verbatims=verb, n=int(n.sum()),
            chart={"type": "line", "points": [(str(w), (x / m if m else 0.0)) for w, x, m in series], "unit": "%",
                   "title": f"Weekly failure share: {_name(tax, rid)}", "marker": str(change)},
            estimand={"metric": "failure_share_change", "reason_id": rid, "change_date": str(change), "before": p1, "after": p2,
                      "value": p2 - p1}))
    return out


def repeat_hotspots(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """Reasons whose repeat-contact rate stands out from the rest."""
    # Sliced by reason (the repeat itself is matched on the reason group or reason, per settings).
    key = "reason_id"
    rows = [r for r in compute(con, "repeat_rate", settings, by=[key]) if r["value"] is not None and r.get(key)]
    rows = [r for r in rows if r[key] != "unclassified"]
    total_num = sum(r["numerator"] or 0 for r in rows)
    total_n = sum(r["n"] for r in rows)
    out = []
    for r in rows:
        rest_n, rest_num = total_n - r["n"], total_num - (r["numerator"] or 0)
        if r["n"] < MIN_N or rest_n < MIN_N:
            continue
        p1, p0 = r["value"], rest_num / rest_n
        p = total_num / total_n
        z = (p1 - p0) / math.sqrt(max(p * (1 - p), 1e-12) * (1 / r["n"] + 1 / rest_n))
        if z < Z_GAP:
            continue
        label = r[key] if key == "reason_group" else _name(tax, r[key])
        ids, verb = _examples(con, f"f.{key} = ? AND f.is_first_leg", [r[key]])
        out.append(Finding(
            kind="repeat_hotspot", section="failure", subject=str(r[key]),
            title=f"Customers contact us again and again about {label}",
            statement=(f"{p1:.0%} of contacts about {label} are followed by another contact on the same issue within "
                       f"{settings['metrics.repeat_window_days']} days, against {p0:.0%} for other reasons "
                       f"({p1 - p0:+.0%}, z = {z:.1f}; {r.get('censored', 0) or 0:,} recent contacts not yet countable)."),
            value=p1 - p0, comparison=p0, unit="pp", direction="up", score=r["n"] * (p1 - p0) * min(z / Z_GAP, 3.0),
            metric=_metric(r), filters={key: r[key]}, example_ids=ids, verbatims=verb, n=r["n"],
            chart={"type": "bar", "items": [(str(x[key]) if key == "reason_group" else _name(tax, x[key]), x["value"])
                                            for x in sorted(rows, key=lambda x: -x["value"])[:8]],
                   "unit": "%", "title": "Repeat-contact rate by reason", "highlight": label},
            estimand={"metric": "repeat_rate_gap", key: r[key], "rate": p1, "rate_other": p0, "value": p1 - p0}))
    return out


def csat_drivers(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """What drives low CSAT: Shapley regression on reason groups and effort, then the reasons that pull it down."""
    from .drivers import shapley_regression

    top_box = int(settings["metrics.csat_top_box"])
    df = con.execute(f"""
        SELECT s.record_id, s.csat > s.csat_scale_max - {top_box} AS top2, s.reason_id, s.reason_group,
               f.demand, coalesce(f.interaction_transferred, false) AS transferred, f.wait_s, f.sentiment
        FROM survey_fact s JOIN contact_fact f ON f.record_id = s.contact_record_id
        WHERE s.csat IS NOT NULL AND s.reason_id IS NOT NULL AND s.reason_id <> 'unclassified'""").df()
    if len(df) < 50:
        return []
    df["top2"] = df["top2"].astype(float)
    out: list[Finding] = []
    drivers_note = ""
    try:
        import pandas as pd

        groups = [g for g, c in df["reason_group"].value_counts().items() if c >= MIN_N]
        X = pd.DataFrame({f"reason: {g}": (df["reason_group"] == g).astype(float) for g in groups})
        X["transferred"] = df["transferred"].astype(float)
        X["failure demand"] = (df["demand"] == "failure").astype(float)
        if df["sentiment"].notna().any():
            X["sentiment"] = df["sentiment"].fillna(0.0)
        res = shapley_regression(X, df["top2"])
        drivers_note = "; ".join(f"{d.name} {d.importance:.0%}" for d in res.drivers[:4])
    except Exception:  # driver analysis is supporting evidence; the gap below stands on its own
        res = None
    value = df[df["demand"] == "value"]
    base = value if len(value) >= 50 else df
    for rid, grp in base.groupby("reason_id"):
        rest = base[base["reason_id"] != rid]
        if len(grp) < 10 or len(rest) < MIN_N:
            continue
        p1, p0 = grp["top2"].mean(), rest["top2"].mean()
        p = base["top2"].mean()
        z = (p1 - p0) / math.sqrt(max(p * (1 - p), 1e-12) * (1 / len(grp) + 1 / len(rest)))
        if z > -Z_GAP:
            continue
        volume = con.execute("SELECT count(*) FROM contact_fact WHERE is_first_leg AND reason_id = ?", [rid]).fetchall()[0][0]
        ids, verb = _examples(con, "f.reason_id = ? AND f.is_first_leg", [rid])
        subset = "value-demand contacts" if base is value else "contacts"
        out.append(Finding(
            kind="csat_driver", section="drivers", subject=str(rid),
            title=f"{_name(tax, str(rid))} pulls satisfaction down",
            statement=(f"Among surveyed {subset}, {p1:.0%} of customers whose contact was about {_name(tax, str(rid))} were satisfied "
                       f"(top-{top_box}-box), against {p0:.0%} for other reasons ({p1 - p0:+.0%}, z = {z:.1f}, n = {len(grp)}). "
                       + (f"Driver importance (share of explained variance): {drivers_note}." if drivers_note else "")),
            value=p1 - p0, comparison=p0, unit="pp", direction="down", score=volume * abs(p1 - p0) * min(abs(z) / Z_GAP, 3.0),
            metric={"id": "csat_top2", "version": 1}, filters={"reason_id": rid, "demand": "value" if base is value else "any"},
            example_ids=ids, verbatims=verb, n=len(grp),
            chart={"type": "bar", "items": [(_name(tax, str(k)), float(v)) for k, v in
                                            base.groupby("reason_id")["top2"].mean().sort_values().head(8).items()],
                   "unit": "%", "title": "CSAT top-box share by reason", "highlight": _name(tax, str(rid))},
            estimand={"metric": "csat_top2_gap", "reason_id": rid, "top2_reason": p1, "top2_other": p0, "value": p1 - p0}))
    return out


GENERATORS = (top_reasons, failure_overview, failure_shifts, repeat_hotspots, csat_drivers)


def generate_findings(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """Every finding the data supports, unranked (see :func:`cxchain.insight.findings.save_findings`)."""
    out: list[Finding] = []
    for gen in GENERATORS:
        out.extend(gen(con, settings, tax))
    return out
