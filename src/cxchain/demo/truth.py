"""Planted estimands, computed from the per-record truth (so tests can recompute them the same way)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from .taxonomy import Effects

WINDOW_WEEKS = 13


def contact_level(truth: pl.DataFrame) -> pl.DataFrame:
    """One row per true contact (ACD legs and the linked IVR session collapse to one)."""
    return (truth.filter(pl.col("entity") == "contact")
            .group_by("contact_id")
            .agg(pl.col("person_id").first(), pl.col("reason_id").first(), pl.col("demand").first(),
                 pl.col("failure_type").first(), pl.col("started_at").min())
            .sort("contact_id"))


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def failure_share(cl: pl.DataFrame, reason: str, lo: date, hi: date) -> tuple[float, int]:
    f = cl.filter((pl.col("reason_id") == reason) & (pl.col("started_at") >= _dt(lo)) & (pl.col("started_at") < _dt(hi)))
    n = f.height
    return (float((f["demand"] == "failure").sum()) / n if n else 0.0), n


def repeat_rates(cl: pl.DataFrame, days: int = 7) -> pl.DataFrame:
    """Per reason: share of contacts followed by another contact of the same person and reason within ``days``."""
    s = cl.sort(["person_id", "reason_id", "started_at", "contact_id"])
    nxt = pl.col("started_at").shift(-1).over(["person_id", "reason_id"])
    s = s.with_columns(((nxt - pl.col("started_at")) <= timedelta(days=days)).fill_null(False).alias("rep"))
    return s.group_by("reason_id").agg(pl.col("rep").mean().alias("rate"), pl.len().alias("n")).sort("reason_id")


def repeat_gap(cl: pl.DataFrame, reason: str) -> tuple[float, float]:
    s = cl.sort(["person_id", "reason_id", "started_at", "contact_id"])
    nxt = pl.col("started_at").shift(-1).over(["person_id", "reason_id"])
    s = s.with_columns(((nxt - pl.col("started_at")) <= timedelta(days=7)).fill_null(False).alias("rep"))
    hot = s.filter(pl.col("reason_id") == reason)["rep"].mean()
    rest = s.filter(pl.col("reason_id") != reason)["rep"].mean()
    return float(hot or 0.0), float(rest or 0.0)  # type: ignore[arg-type]


def csat_gap(truth: pl.DataFrame, reason: str) -> tuple[float, float, int]:
    s = truth.filter((pl.col("source") == "surveys") & (pl.col("demand") == "value"))
    s = s.with_columns((pl.col("csat") >= 4).alias("top"))
    a = s.filter(pl.col("reason_id") == reason)
    b = s.filter(pl.col("reason_id") != reason)
    ta = float(a["top"].mean() or 0.0) if a.height else 0.0  # type: ignore[arg-type]
    tb = float(b["top"].mean() or 0.0) if b.height else 0.0  # type: ignore[arg-type]
    return ta, tb, a.height


def weekly_failures(cl: pl.DataFrame, reason: str, go_live: date) -> tuple[float, float]:
    lo = go_live - timedelta(weeks=WINDOW_WEEKS)
    hi = go_live + timedelta(weeks=WINDOW_WEEKS)
    f = cl.filter((pl.col("reason_id") == reason) & (pl.col("demand") == "failure"))
    before = f.filter((pl.col("started_at") >= _dt(lo)) & (pl.col("started_at") < _dt(go_live))).height
    after = f.filter((pl.col("started_at") >= _dt(go_live)) & (pl.col("started_at") < _dt(hi))).height
    return before / WINDOW_WEEKS, after / WINDOW_WEEKS


def identities(ident: pl.DataFrame) -> dict[str, int]:
    p = ident.filter(pl.col("person_id").is_not_null())
    out = {s: int(n) for s, n in p.group_by("source").agg(pl.col("person_id").n_unique()).sort("source").iter_rows()}
    out["_all"] = int(p["person_id"].n_unique())
    multi = p.group_by("person_id").agg(pl.col("source").n_unique().alias("k")).filter(pl.col("k") >= 2).height
    out["_in_two_or_more"] = int(multi)
    return out


def estimands(truth: pl.DataFrame, ident: pl.DataFrame, eff: Effects, start: date, end: date,
              timeliness: dict[str, float]) -> list[dict[str, object]]:
    cl = contact_level(truth)
    out: list[dict[str, object]] = []
    ids = identities(ident)
    for src, n in ids.items():
        if src.startswith("_"):
            continue
        out.append({"id": f"identity.people.{src}", "kind": "identity", "metric": "distinct_true_people",
                    "filters": {"source": src}, "window": [start.isoformat(), end.isoformat()], "true_value": n,
                    "description": f"Distinct true people behind the records of silo {src}."})
    out.append({"id": "identity.people.all", "kind": "identity", "metric": "distinct_true_people",
                "filters": {}, "window": [start.isoformat(), end.isoformat()], "true_value": ids["_all"],
                "description": "Distinct true people across all silos."})
    out.append({"id": "identity.people.multi_silo", "kind": "identity", "metric": "people_in_two_or_more_silos",
                "filters": {}, "window": [start.isoformat(), end.isoformat()], "true_value": ids["_in_two_or_more"],
                "description": "True people who appear in at least two silos (linkage must join them)."})

    d = eff.policy_date
    lo, hi = max(start, d - timedelta(weeks=26)), min(end + timedelta(days=1), d + timedelta(weeks=26))
    before, nb = failure_share(cl, eff.policy_reason, lo, d)
    after, na = failure_share(cl, eff.policy_reason, d, hi)
    out.append({"id": "policy.failure_share", "kind": "policy_change", "metric": "failure_share_change",
                "filters": {"reason_id": eff.policy_reason, "unit": "contact"},
                "window": [lo.isoformat(), d.isoformat(), hi.isoformat()],
                "true_value": round(after - before, 6),
                "before": round(before, 6), "after": round(after, 6), "n_before": nb, "n_after": na,
                "design_value": round(eff.policy_fail_after - eff.policy_fail_before, 6),
                "change_date": d.isoformat(), "change": eff.policy_name,
                "description": f"'{eff.policy_name}' from {d.isoformat()} raised the failure-demand share of first "
                               f"contacts on {eff.policy_reason}; share of all its contacts before vs after."})
    hot, rest = repeat_gap(cl, eff.repeat_reason)
    out.append({"id": "repeat.hot_spot", "kind": "repeat_hot_spot", "metric": "repeat_rate_7d_gap",
                "filters": {"reason_id": eff.repeat_reason, "unit": "contact", "repeat": "same person and reason "
                            "within 7 days, any channel"},
                "window": [start.isoformat(), end.isoformat()], "true_value": round(hot - rest, 6),
                "rate_reason": round(hot, 6), "rate_other_reasons": round(rest, 6),
                "design_value": round(eff.repeat_hot - eff.repeat_base, 6),
                "description": f"7-day repeat-contact rate on {eff.repeat_reason} minus the rate on all other reasons."})
    ta, tb, n = csat_gap(truth, eff.csat_reason)
    out.append({"id": "csat.driver", "kind": "csat_driver", "metric": "csat_top2_gap",
                "filters": {"reason_id": eff.csat_reason, "demand": "value", "source": "surveys"},
                "window": [start.isoformat(), end.isoformat()], "true_value": round(ta - tb, 6),
                "top2_reason": round(ta, 6), "top2_other": round(tb, 6), "n_reason": n,
                "design_value": -eff.csat_penalty,
                "description": f"CSAT top-2-box (4-5) share on {eff.csat_reason} minus other reasons, value-demand "
                               "contacts only; the driver also lowers effort scores (Q3) on that reason."})
    for key, reason, name, go, design in (
            ("initiative.worked", eff.worked_reason, eff.worked_name, eff.worked_date, -eff.worked_drop),
            ("initiative.no_effect", eff.flop_reason, eff.flop_name, eff.flop_date, 0.0)):
        b, a = weekly_failures(cl, reason, go)
        out.append({"id": key, "kind": "initiative", "metric": "weekly_failure_contacts_pct_change",
                    "filters": {"reason_id": reason, "demand": "failure", "unit": "contact"},
                    "window": [(go - timedelta(weeks=WINDOW_WEEKS)).isoformat(), go.isoformat(),
                               (go + timedelta(weeks=WINDOW_WEEKS)).isoformat()],
                    "true_value": round((a - b) / b, 6) if b else 0.0,
                    "weekly_before": round(b, 6), "weekly_after": round(a, 6), "design_value": design,
                    "go_live": go.isoformat(), "initiative": name,
                    "description": f"'{name}' went live {go.isoformat()}: relative change in weekly failure contacts "
                                   f"on {reason}, {WINDOW_WEEKS} weeks after vs before."})
    for k, limit in (("ack", "5 working days"), ("s1", "10 working days"), ("s2", "20 working days")):
        out.append({"id": f"complaints.breach.{k}", "kind": "timeliness", "metric": "breach_share",
                    "filters": {"source": "complaints", "stage": {"ack": "any", "s1": 1, "s2": 2}[k]},
                    "window": [start.isoformat(), end.isoformat()], "true_value": round(timeliness[k], 6),
                    "n": int(timeliness[f"{k}_n"]),
                    "description": f"Share of complaint {'acknowledgements' if k == 'ack' else 'responses'} later "
                                   f"than {limit} (rows with the date present, invalid rows included)."})
    return out
