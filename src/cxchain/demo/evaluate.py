"""How well the chain recovers what the generator planted: failure-demand accuracy and the planted findings.

Both compare a demo workspace with its ``truth/contacts.parquet`` (joined on source and source key) and
``truth.json``.  The generator's reasons are not the workspace's: each planted reason is mapped to the
workspace reason most of its contacts were classified as (majority vote, as the demo loop does), and
a planted truth counts as found when the story's top findings hold a finding of the matching kind on
that reason, with the planted sign, within a relative tolerance of the planted value.

    >>> demand_accuracy(ws, ws.path / "truth/contacts.parquet")        # doctest: +SKIP
    {'acd_calls': {'accuracy': 0.61, 'n': 4465, 'unknown': 0.09}, ..., 'all': {...}}
    >>> planted_findings(ws, json.loads((ws.path / "truth.json").read_text()))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..workspace import Workspace

__all__ = ["FINDING_KIND", "demand_accuracy", "planted_findings", "reason_agreement"]

#: Planted truth kind (truth.json) -> the finding kind that estimates it.
FINDING_KIND = {"policy_change": "failure_shift", "repeat_hot_spot": "repeat_hotspot", "csat_driver": "csat_driver"}


def demand_accuracy(ws: Workspace, truth_contacts: Path) -> dict[str, dict[str, float]]:
    """Share of contact records whose value/failure demand matches the planted label, per source and overall.

    ``unknown`` counts as wrong (and its share is reported apart).
    """
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE truth AS SELECT source, source_key, demand FROM read_parquet('{Path(truth_contacts)}') "
                "WHERE entity = 'contact'")
    with ws.store.read() as d:
        con.register("got", d.sql("SELECT f.source, f.source_key, cd.demand FROM contact_fact f "
                                  "JOIN contact_demand cd USING (record_id)").to_arrow_table())
        rows = con.execute("""
            SELECT coalesce(g.source, 'all'), avg(CAST(g.demand = t.demand AS DOUBLE)), count(*),
                   avg(CAST(g.demand = 'unknown' AS DOUBLE))
            FROM got g JOIN truth t USING (source, source_key) GROUP BY ROLLUP (g.source) ORDER BY 1""").fetchall()
    return {str(s): {"accuracy": round(float(a), 4), "n": int(n), "unknown": round(float(u), 4)} for s, a, n, u in rows}


def reason_agreement(ws: Workspace, truth_contacts: Path) -> dict[str, Any]:
    """How consistently the classifier puts each generator reason's contacts under one workspace reason.

    The two taxonomies differ, so there is no accuracy to compute; what must hold is that a
    generator reason lands mostly in one workspace reason and that distinct generator reasons do not
    collapse into the same one.  Per generator reason: its contacts ``n``, the ``majority`` workspace
    reason and the ``share`` of its contacts there.  Overall: ``agreement`` (the contact-weighted
    share), ``collisions`` (workspace reasons that are the majority of more than one generator
    reason, with those reasons) and ``one_to_one``: the share of contacts on their generator reason's
    workspace reason when each workspace reason may stand for one generator reason only (the best such
    matching), which, unlike ``agreement``, counts a collapse of several reasons into one as an error.
    """
    import duckdb
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    con = duckdb.connect()
    con.execute(f"CREATE TABLE truth AS SELECT source, source_key, reason_id AS g FROM read_parquet('{Path(truth_contacts)}') "
                "WHERE entity = 'contact' AND reason_id IS NOT NULL")
    with ws.store.read() as d:
        con.register("got", d.sql("SELECT source, source_key, reason_id AS r FROM contact_fact").to_arrow_table())
        rows = con.execute("""
            SELECT g, r, count(*) AS n FROM got JOIN truth USING (source, source_key)
            GROUP BY ALL ORDER BY g, n DESC, r""").fetchall()
    per: dict[str, dict[str, Any]] = {}
    for g, r, n in rows:
        e = per.setdefault(str(g), {"n": 0, "majority": str(r), "top": int(n)})
        e["n"] += int(n)
    total = sum(e["n"] for e in per.values())
    owners: dict[str, list[str]] = {}
    for g, e in per.items():
        e["share"] = round(e.pop("top") / e["n"], 4)
        owners.setdefault(e["majority"], []).append(g)
    gs, rs = sorted(per), sorted({str(r) for _, r, _ in rows})
    votes = np.zeros((len(gs), len(rs)))
    for g, r, n in rows:
        votes[gs.index(str(g)), rs.index(str(r))] = n
    matched = votes[linear_sum_assignment(-votes)].sum() if total else 0.0
    return {"reasons": per,
            "agreement": round(sum(e["share"] * e["n"] for e in per.values()) / total, 4) if total else 0.0,
            "one_to_one": round(float(matched) / total, 4) if total else 0.0,
            "collisions": {r: sorted(gs) for r, gs in sorted(owners.items()) if len(gs) > 1}}


def planted_findings(ws: Workspace, manifest: dict[str, Any], *, top: int = 5, tolerance: float = 0.10) -> list[dict[str, Any]]:
    """For each planted finding-level truth: the matching finding among the story's top ``top``, if any.

    Each row has the planted ``id``, ``kind``, generator and workspace reason, ``planted`` value, and,
    when a finding of the matching kind on the mapped reason is in the top ``top``, its ``rank``,
    ``value``, ``relative_error``, ``sign_ok`` and ``within`` (sign right and within ``tolerance``).
    With planted effects off (``manifest["effects"]`` false) the planted value is zero and a row is
    ``within`` only when no such finding is in the top (a negative control).
    """
    import polars as pl

    from ..cycle.demo_loop import map_generator_reasons

    truths = [t for t in manifest["truths"] if t.get("kind") in FINDING_KIND]
    contacts = pl.read_parquet(ws.path / manifest["truth_files"]["contacts"])
    mapping = map_generator_reasons(ws, contacts, sorted({t["filters"]["reason_id"] for t in truths}))
    story = ws.story()
    ranked = story["top_findings"][:top]
    out = []
    for t in truths:
        reason = mapping[t["filters"]["reason_id"]]
        kind = FINDING_KIND[t["kind"]]
        hit = next(((i + 1, f) for i, f in enumerate(ranked) if f["kind"] == kind and f["subject"] == reason), None)
        row: dict[str, Any] = {"id": t["id"], "kind": kind, "generator_reason": t["filters"]["reason_id"],
                               "reason": reason, "planted": float(t["true_value"]), "effects": bool(manifest["effects"]),
                               "rank": None, "value": None, "relative_error": None, "sign_ok": None}
        if hit is not None:
            rank, f = hit
            value = float(f["value"])
            planted = row["planted"]
            row.update(rank=rank, value=value, sign_ok=(value > 0) == (planted > 0),
                       relative_error=abs(value - planted) / abs(planted) if planted else None)
        if manifest["effects"]:
            row["within"] = bool(hit is not None and row["sign_ok"] and row["relative_error"] is not None
                                 and row["relative_error"] <= tolerance)
        else:
            row["within"] = hit is None
        out.append(row)
    return out
