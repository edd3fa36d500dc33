"""From fact tables to ranked findings: what customers contact us about, where we fail them, what
drives dissatisfaction, and what changed.

Each generator computes one kind of finding with its number, a comparison, a chart, example
contacts and provenance, and scores it by *contacts affected x strength of evidence*, so that the
story's top findings are the large, well-evidenced effects rather than the background facts.
Context findings (the reason mix, the overall failure share) are scored low: they frame the story.
"""

from __future__ import annotations

import math
import zlib
from datetime import timedelta
from typing import Any

import duckdb
import numpy as np

from ..metrics import compute
from .findings import Finding
from .taxonomy import Taxonomy

MIN_N = 30  # below this a comparison is not reported as a finding
#: Family-wise error rate of each kind of finding: every reason tried is one test, so the threshold grows
#: with the number of tests (Bonferroni), not with the data's size.  (A shift's search over split weeks is
#: allowed for by its own null distribution, :func:`_shift_p_value`.)
ALPHA = 0.05
Z_GAP = 3.0  # strength at which a gap's confidence weight saturates (and the legacy ceiling for gaps)
#: Before/after a shift are compared over at most this many weeks either side of the change, so a slow
#: drift over the whole history does not count as part of the step.
SHIFT_WINDOW_WEEKS = 26


def z_threshold(tests: int, *, two_sided: bool = True, alpha: float = ALPHA) -> float:
    """The |z| a single test must reach for ``tests`` tests to keep the family-wise error rate at ``alpha``."""
    from statistics import NormalDist

    tail = alpha / max(1, tests) / (2 if two_sided else 1)
    return NormalDist().inv_cdf(1 - tail)


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
    rows.sort(key=lambda r: (-r["n"], str(r["reason_id"])))  # ties by id: the same order on every run and engine
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
                           GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()
    unknown = con.execute("SELECT count(*) FILTER (WHERE demand = 'unknown' OR demand IS NULL), count(*) FROM contact_fact WHERE is_first_leg").fetchall()[0]
    by_reason = con.execute("""SELECT reason_id, count(*) FILTER (WHERE demand = 'failure') AS f, count(*) FILTER (WHERE demand IN ('failure', 'value')) AS n
                               FROM contact_fact WHERE is_first_leg GROUP BY 1 HAVING f > 0 ORDER BY f DESC, reason_id LIMIT 8""").fetchall()
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


def _split_z(f: np.ndarray, n: np.ndarray, min_side: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Two-proportion z of every allowed split of weekly share series (rows of ``f``) with weekly sizes ``n``.

    Returns ``(ks, z)``: the split weeks tried (the first week after the split) and, per series, the z of
    each (after minus before).  A split needs ``min_side`` weeks and :data:`MIN_N` contacts on each side.
    """
    f = np.atleast_2d(f)
    cn = np.cumsum(n)
    ks = np.arange(min_side, len(n) - min_side + 1)
    if len(ks):
        ks = ks[(cn[ks - 1] >= MIN_N) & (cn[-1] - cn[ks - 1] >= MIN_N)]
    if not len(ks):
        return ks, np.zeros((f.shape[0], 0))
    cf = np.cumsum(f, axis=1)
    n1, n2 = cn[ks - 1], cn[-1] - cn[ks - 1]
    p1 = cf[:, ks - 1] / n1
    p2 = (cf[:, -1:] - cf[:, ks - 1]) / n2
    p = cf[:, -1:] / cn[-1]
    se = np.sqrt(np.maximum(p * (1 - p), 1e-12) * (1 / n1 + 1 / n2))
    return ks, (p2 - p1) / se


def _best_split(f: np.ndarray, n: np.ndarray, min_side: int = 6) -> tuple[int, float, float, float] | None:
    """The split of a weekly share series with the largest two-proportion |z|: (k, z, p_before, p_after)."""
    ks, z = _split_z(f, n, min_side)
    if not len(ks):
        return None
    j = int(np.argmax(np.abs(z[0])))  # the first of equal maxima, as a scan from the left finds
    k = int(ks[j])
    return k, float(z[0, j]), float(f[:k].sum() / n[:k].sum()), float(f[k:].sum() / n[k:].sum())


#: Draws of the no-change null per reason tested for a shift (see :func:`_shift_p_value`).
SHIFT_NULL_DRAWS = 4000


def _overdispersion(f: np.ndarray, n: np.ndarray, k: int) -> float:
    """Pearson dispersion of the weekly counts around the two-level (before/after ``k``) fit, at least 1.

    Real weekly shares vary more than binomial sampling allows (staffing, post runs, weather); dividing z
    by the square root of this keeps such noise from being read as a step.
    """
    fitted = np.concatenate([np.full(k, f[:k].sum() / n[:k].sum()), np.full(len(n) - k, f[k:].sum() / n[k:].sum())])
    live = n > 0
    var = n[live] * fitted[live] * (1 - fitted[live])
    ok = var > 0
    df = int(ok.sum()) - 2
    if df <= 0:
        return 1.0
    chi2 = float((((f[live] - n[live] * fitted[live]) ** 2)[ok] / var[ok]).sum())
    return max(1.0, chi2 / df)


def _shift_p_value(z_obs: float, n: np.ndarray, p: float, seed: int, draws: int = SHIFT_NULL_DRAWS) -> float:
    """P(max |z| over the splits tried >= ``z_obs``) when nothing changed, simulated: ``draws`` series of
    weekly failure counts drawn as Binomial(n_week, ``p``), the same split search run on each.

    The splits of one series are strongly correlated, so a Bonferroni correction over split weeks (the
    earlier rule) asked far more of a real step than chance does; this null is built on the series' own
    weekly sizes.  Seeded, so a rerun gives the same findings.  The smallest p-value it can give is
    1 / (``draws`` + 1).
    """
    rng = np.random.default_rng(seed)
    sims = rng.binomial(n.astype(np.int64), min(max(p, 0.0), 1.0), size=(draws, len(n))).astype(float)
    _, z = _split_z(sims, n)
    if not z.shape[1]:
        return 1.0
    top = np.abs(z).max(axis=1)
    return float((1 + int((top >= abs(z_obs)).sum())) / (draws + 1))


def failure_shifts(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """Reasons whose failure-demand share stepped up or down at some week (a sustained shift).

    The step is found where the two-proportion z of before against after is largest.  Its z is divided
    by the square root of the series' over-dispersion, and its p-value is that of the largest z over
    every split week when nothing changed (:func:`_shift_p_value`, simulated); it is reported when the p-value is
    below :data:`ALPHA` divided by the number of reasons tested (Bonferroni over reasons).  Its size is
    the share in the ``SHIFT_WINDOW_WEEKS`` after the change minus the share in the same span before it.
    """
    rows = con.execute("""SELECT reason_id, week, count(*) FILTER (WHERE demand = 'failure') AS f,
                                 count(*) FILTER (WHERE demand IN ('failure', 'value')) AS n
                          FROM contact_fact WHERE is_first_leg AND reason_id IS NOT NULL AND reason_id <> 'unclassified'
                          GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    by: dict[str, list[tuple[Any, int, int]]] = {}
    for rid, week, f, n in rows:
        by.setdefault(rid, []).append((week, f, n))
    splits: dict[str, tuple[int, float, float, float]] = {}
    for rid, series in by.items():
        f = np.array([x for _, x, _ in series], dtype=float)
        n = np.array([x for _, _, x in series], dtype=float)
        best = _best_split(f, n)
        if best is not None:
            k, z, p1, p2 = best
            splits[rid] = (k, z / math.sqrt(_overdispersion(f, n, k)), p1, p2)
    alpha = ALPHA / max(1, len(splits))
    # enough draws that the smallest simulated p-value is well below the level (a large taxonomy tests more)
    draws = max(SHIFT_NULL_DRAWS, math.ceil(4 / alpha))
    # scale of the evidence weight in the score (a single test's |z| at that level); the decision is the p-value
    z_min = z_threshold(len(splits))
    out = []
    for rid, (k, z, _, _) in splits.items():
        series = by[rid]
        weeks = [w for w, _, _ in series]
        f = np.array([x for _, x, _ in series], dtype=float)
        n = np.array([x for _, _, x in series], dtype=float)
        p_value = _shift_p_value(z, n, float(f.sum() / n.sum()), zlib.crc32(rid.encode()), draws)
        if p_value >= alpha:
            continue
        change = weeks[k]
        lo, hi = change - timedelta(weeks=SHIFT_WINDOW_WEEKS), change + timedelta(weeks=SHIFT_WINDOW_WEEKS)
        before = np.array([lo <= w < change for w in weeks])
        after = np.array([change <= w < hi for w in weeks])
        p1 = float(f[before].sum() / max(n[before].sum(), 1))
        p2 = float(f[after].sum() / max(n[after].sum(), 1))
        after_volume = float(n[after].sum())
        ids, verb = _examples(con, "f.reason_id = ? AND f.demand = 'failure' AND f.week >= ?", [rid, change])
        up = p2 > p1
        out.append(Finding(
            kind="failure_shift", section="failure" if up else "change", subject=rid,
            title=f"Failure demand {'rose' if up else 'fell'} on {_name(tax, rid)} from the week of {change}",
            statement=(f"In the {SHIFT_WINDOW_WEEKS} weeks from the week of {change}, {p2:.0%} of contacts about {_name(tax, rid)} "
                       f"were failure demand, against {p1:.0%} in the {SHIFT_WINDOW_WEEKS} weeks before (a change of "
                       f"{p2 - p1:+.0%}, z = {z:.1f}). Something changed for customers then: "
                       f"look for a new letter, process or policy around that date."),
            value=p2 - p1, comparison=p1, unit="pp", direction="up" if up else "down",
            score=after_volume * abs(p2 - p1) * min(abs(z) / z_min, 3.0),
            metric={"id": "failure_demand_share", "version": 1}, filters={"reason_id": rid},
            example_ids=ids, verbatims=verb, n=int(n.sum()),
            chart={"type": "line", "points": [(str(w), (x / m if m else 0.0)) for w, x, m in series], "unit": "%",
                   "title": f"Weekly failure share: {_name(tax, rid)}", "marker": str(change)},
            estimand={"metric": "failure_share_change", "reason_id": rid, "change_date": str(change), "before": p1, "after": p2,
                      "window": [str(lo), str(change), str(hi)], "value": p2 - p1, "z": z, "p_value": p_value, "alpha": alpha,
                      "null_draws": draws}))
    return out


def repeat_hotspots(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """Reasons whose repeat-contact rate stands out from the rest."""
    # Sliced by reason (the repeat itself is matched on the reason group or reason, per settings).
    key = "reason_id"
    rows = [r for r in compute(con, "repeat_rate", settings, by=[key]) if r["value"] is not None and r.get(key)]
    rows = [r for r in rows if r[key] != "unclassified"]
    total_num = sum(r["numerator"] or 0 for r in rows)
    total_n = sum(r["n"] for r in rows)
    tested = [r for r in rows if r["n"] >= MIN_N and total_n - r["n"] >= MIN_N]
    z_min = min(Z_GAP, z_threshold(len(tested), two_sided=False))
    out = []
    for r in tested:
        rest_n, rest_num = total_n - r["n"], total_num - (r["numerator"] or 0)
        p1, p0 = r["value"], rest_num / rest_n
        p = total_num / total_n
        z = (p1 - p0) / math.sqrt(max(p * (1 - p), 1e-12) * (1 / r["n"] + 1 / rest_n))
        if z < z_min:
            continue
        label = r[key] if key == "reason_group" else _name(tax, r[key])
        ids, verb = _examples(con, f"f.{key} = ? AND f.is_first_leg", [r[key]])
        out.append(Finding(
            kind="repeat_hotspot", section="failure", subject=str(r[key]),
            title=f"Customers contact us again and again about {label}",
            statement=(f"{p1:.0%} of contacts about {label} are followed by another contact on the same issue within "
                       f"{settings['metrics.repeat_window_days']} days, against {p0:.0%} for other reasons "
                       f"({p1 - p0:+.0%}, z = {z:.1f}; {r.get('censored', 0) or 0:,} recent contacts not yet countable)."),
            value=p1 - p0, comparison=p0, unit="pp", direction="up", score=r["n"] * (p1 - p0) * min(z / z_min, 3.0),
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
    # Failure demand is itself a strong driver of dissatisfaction, and some reasons are mostly failure
    # demand: compare like with like (value with value, failure with failure) and pool the strata with
    # Cochran-Mantel-Haenszel weights, so a reason is not blamed for the failure demand it carries.
    strata = [s for _, s in df.groupby(df["demand"].fillna("unknown"))]
    counts = df["reason_id"].value_counts()
    tested = [str(rid) for rid, c in counts.items() if c >= 10 and len(df) - c >= MIN_N]
    z_min = min(Z_GAP, z_threshold(len(tested), two_sided=False))
    for rid in tested:
        num = den = var = 0.0
        for st in strata:
            a, b = st.loc[st["reason_id"] == rid, "top2"], st.loc[st["reason_id"] != rid, "top2"]
            if len(a) == 0 or len(b) == 0:
                continue
            w = len(a) * len(b) / (len(a) + len(b))
            p = float(st["top2"].mean())
            num += w * float(a.mean() - b.mean())
            den += w
            var += w * w * max(p * (1 - p), 1e-12) * (1 / len(a) + 1 / len(b))
        if den == 0 or var <= 0:
            continue
        gap = num / den
        z = gap / (math.sqrt(var) / den)
        if z > -z_min:
            continue
        n_reason = int(counts[rid])
        p0 = float(df.loc[df["reason_id"] != rid, "top2"].mean())
        p1 = p0 + gap
        volume = con.execute("SELECT count(*) FROM contact_fact WHERE is_first_leg AND reason_id = ?", [rid]).fetchall()[0][0]
        ids, verb = _examples(con, "f.reason_id = ? AND f.is_first_leg", [rid])
        out.append(Finding(
            kind="csat_driver", section="drivers", subject=rid,
            title=f"{_name(tax, rid)} pulls satisfaction down",
            statement=(f"Comparing like with like (value demand with value demand, failure demand with failure demand), "
                       f"customers whose contact was about {_name(tax, rid)} were satisfied (top-{top_box}-box) {abs(gap):.0%} "
                       f"less often than customers contacting about other reasons ({p1:.0%} against {p0:.0%}; "
                       f"z = {z:.1f}, n = {n_reason} surveyed). "
                       + (f"Driver importance (share of explained variance): {drivers_note}." if drivers_note else "")),
            value=gap, comparison=p0, unit="pp", direction="down", score=volume * abs(gap) * min(abs(z) / z_min, 3.0),
            metric={"id": "csat_top2", "version": 1}, filters={"reason_id": rid},
            example_ids=ids, verbatims=verb, n=n_reason,
            chart={"type": "bar", "items": [(_name(tax, str(k)), float(v)) for k, v in
                                            df.groupby("reason_id")["top2"].mean().sort_values(kind="stable").head(8).items()],
                   "unit": "%", "title": "CSAT top-box share by reason", "highlight": _name(tax, rid)},
            estimand={"metric": "csat_top2_gap", "reason_id": rid, "adjusted_for": "demand", "top2_reason": p1,
                      "top2_other": p0, "value": gap, "z": z}))
    return out


GENERATORS = (top_reasons, failure_overview, failure_shifts, repeat_hotspots, csat_drivers)


def generate_findings(con: duckdb.DuckDBPyConnection, settings: Any, tax: Taxonomy) -> list[Finding]:
    """Every finding the data supports, unranked (see :func:`cxchain.insight.findings.save_findings`)."""
    out: list[Finding] = []
    for gen in GENERATORS:
        out.extend(gen(con, settings, tax))
    return out
