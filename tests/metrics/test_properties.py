"""Property-based checks: the compiled SQL against plain-Python reference implementations written here,
independently of the SQL, for every convention variant."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxchain.insight.demand import link_follow_ups
from cxchain.metrics import compute, drilldown

from .helpers import T0, add_reasons, finish, insert, link_customers, new_con

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GAPS_MIN = [0, 1, 5, 10, 14, 15, 16, 60, 1439, 1440, 3 * 1440, 7 * 1440 - 1, 7 * 1440, 7 * 1440 + 1, 9 * 1440]
CONTACT = st.fixed_dictionaries({
    "gap": st.sampled_from(GAPS_MIN),
    "customer": st.sampled_from(["a", "b", "c", None]),
    "reason": st.sampled_from([("r1", "g1"), ("r2", "g1"), ("r3", "g2"), (None, None), ("r4", None), ("rf", "gF")]),
    "dur": st.sampled_from([None, 0, 3, 12, 30]),
    "transferred": st.booleans(),
    "abandoned": st.booleans(),
    "wait": st.sampled_from([None, 0.0, 3.0, 4.99, 5.0, 19.0, 20.0, 20.5, 90.0]),
    "channel": st.sampled_from(["phone", "chat"]),
})


def materialise(drawn: list[dict]) -> list[dict]:
    out, t = [], T0
    for i, d in enumerate(drawn):
        t = t + timedelta(minutes=d["gap"])
        out.append({**d, "id": f"c:{i:03d}", "start": t,
                    "end": None if d["dur"] is None else t + timedelta(minutes=d["dur"]),
                    "reason_id": d["reason"][0], "group": d["reason"][1]})
    return out


FOLLOW_UP = "rf"  # a follow-up reason (taxonomy follows_up): about the customer's earlier issue


def load(cs: list[dict], window_days: int = 7):
    con = new_con()
    insert(con, "contact", [dict(record_id=c["id"], channel=c["channel"], direction="inbound", started_at=c["start"],
                                 ended_at=c["end"], transfers=int(c["transferred"]), abandoned=c["abandoned"],
                                 wait_s=c["wait"]) for c in cs])
    link_customers(con, {c["id"]: c["customer"] for c in cs})
    add_reasons(con, {c["id"]: c["reason"] for c in cs})
    link_follow_ups(con, [FOLLOW_UP], window_days)
    finish(con)
    return con


# ---- reference implementations -------------------------------------------------------------------------------

def ref_issue(cs, c, window_days):
    """The contact whose reason ``c`` is about: the customer's latest earlier non-follow-up contact with a
    reason within the window when ``c`` is a follow-up, else ``c`` itself."""
    if c["reason_id"] != FOLLOW_UP or c["customer"] is None:
        return c
    earlier = [s for s in cs if s["customer"] == c["customer"] and s["reason_id"] not in (None, FOLLOW_UP)
               and (s["start"], s["id"]) < (c["start"], c["id"]) and s["start"] >= c["start"] - timedelta(days=window_days)]
    return max(earlier, key=lambda s: (s["start"], s["id"])) if earlier else c


def ref_repeat(cs, window_days, mode, gap_min, denom, as_of, follow_ups="own"):
    def key(c):
        i = ref_issue(cs, c, window_days) if follow_ups == "issue" else c
        return {"group": i["group"], "reason": i["reason_id"], "any": "*"}[mode]
    end = datetime.combine(date.fromisoformat(as_of), datetime.min.time()) + timedelta(days=1) if as_of \
        else max(c["start"] for c in cs)
    base = sorted((c for c in cs if c["customer"] is not None), key=lambda c: (c["start"], c["id"]))
    forward, last = {}, {}
    for c in base:
        p = last.get(c["customer"])
        forward[c["id"]] = bool(p is not None and p["transferred"]
                                and c["start"] < (p["end"] or p["start"]) + timedelta(minutes=gap_min))
        last[c["customer"]] = c
    elig = [c for c in base if key(c) is not None]
    win = timedelta(days=window_days)
    kept, censored = [], 0
    for a in elig:
        if a["start"] + win > end:
            censored += 1
            continue
        followed = any(b["customer"] == a["customer"] and key(b) == key(a) and not forward[b["id"]]
                       and (b["start"], b["id"]) > (a["start"], a["id"]) and b["start"] <= a["start"] + win
                       for b in elig)
        kept.append((a, followed))
    if denom == "contact":
        return sum(f for _, f in kept), len(kept), censored
    return len({a["customer"] for a, f in kept if f}), len({a["customer"] for a, _ in kept}), censored


def eff_wait(c):
    if c["wait"] is not None:
        return c["wait"]
    return c["dur"] * 60.0 if c["abandoned"] and c["dur"] is not None else None


def ref_service_level(cs, t, short_s, mode):
    num = n = 0
    for c in cs:
        ab, w = c["abandoned"], eff_wait(c)
        if not ab and w is None:
            continue
        if mode == "removed" and ab:
            continue
        n += 1
        short = ab and w is not None and w < short_s
        num += (not ab and w <= t) or (mode == "positive" and short)
    return num, n


def ref_abandonment(cs, short_s):
    kept = [c for c in cs if not (c["abandoned"] and eff_wait(c) is not None and eff_wait(c) < short_s)]
    return sum(c["abandoned"] for c in kept), len(kept)


# ---- properties -----------------------------------------------------------------------------------------------

@PROPS
@given(st.lists(CONTACT, min_size=1, max_size=14), st.sampled_from([1, 7]), st.sampled_from([0, 15]),
       st.sampled_from(["", "2025-03-05", "2025-03-20"]))
def test_repeat_rate_matches_reference(drawn, window, gap, as_of):
    cs = materialise(drawn)
    con = load(cs, window)
    for mode, denom, follow_ups in itertools.product(("group", "reason", "any"), ("contact", "customer"), ("issue", "own")):
        conv = {"metrics.small_number": 0, "metrics.repeat_window_days": window, "metrics.repeat_same_reason": mode,
                "metrics.repeat_transfer_gap_minutes": gap, "metrics.repeat_denominator": denom, "as_of": as_of,
                "metrics.repeat_follow_ups": follow_ups}
        [row] = compute(con, "repeat_rate", conv)
        assert (row["numerator"], row["n"], row["censored"]) == ref_repeat(cs, window, mode, gap, denom, as_of,
                                                                          follow_ups), conv
        assert len(drilldown(con, "repeat_rate", conv)) == row["n"]


@PROPS
@given(st.lists(CONTACT, min_size=1, max_size=14), st.sampled_from([0, 20]), st.sampled_from([0, 5]))
def test_service_level_and_abandonment_match_reference(drawn, t, short_s):
    cs = materialise(drawn)
    con = load(cs)
    for mode in ("offered", "removed", "positive"):
        conv = {"metrics.small_number": 0, "metrics.service_level_seconds": t,
                "metrics.short_abandon_seconds": short_s, "metrics.service_level_abandons": mode}
        [row] = compute(con, "service_level", conv)
        num, n = ref_service_level(cs, t, short_s, mode)
        assert (row["numerator"], row["n"]) == (num, n), mode
        if n:
            assert math.isclose(row["value"], num / n)
        assert len(drilldown(con, "service_level", conv)) == n
    [ab] = compute(con, "abandonment_rate", {"metrics.small_number": 0, "metrics.short_abandon_seconds": short_s})
    assert (ab["numerator"], ab["n"]) == ref_abandonment(cs, short_s)


SCALES = [(1, 5), (1, 7), (0, 10)]
RESPONSE = st.sampled_from(SCALES).flatmap(lambda sc: st.tuples(st.just(sc), st.integers(sc[0], sc[1])))


def load_surveys(csat: list, nps: list[int]):
    con = new_con()
    m = max(len(csat), len(nps))
    insert(con, "survey", [dict(record_id=f"s:{i:03d}", instrument="pc", responded_at=T0 + timedelta(hours=i),
                                channel="phone" if i % 2 else "chat") for i in range(m)])
    items = [(f"s:{i:03d}", "csat", float(score), lo, hi) for i, ((lo, hi), score) in enumerate(csat)]
    items += [(f"s:{i:03d}", "nps", float(score), 0, 10) for i, score in enumerate(nps)]
    if items:
        con.executemany("INSERT INTO survey_item VALUES (?, 1, ?, ?, ?, ?)", items)
    finish(con)
    return con


@PROPS
@given(st.lists(RESPONSE, min_size=1, max_size=25), st.lists(st.integers(0, 10), max_size=25))
def test_csat_top_box_and_nps_match_reference(csat, nps):
    con = load_surveys(csat, nps)
    for top in (1, 2):
        conv = {"metrics.small_number": 0, "metrics.csat_top_box": top}
        [row] = compute(con, "csat_top2", conv)
        num = sum(score >= hi - top + 1 for (lo, hi), score in csat)
        assert (row["numerator"], row["n"]) == (num, len(csat))
        by = compute(con, "csat_top2", conv, by=["channel"])
        assert sum(r["n"] for r in by) == len(csat)
    [mean] = compute(con, "csat_mean", {"metrics.small_number": 0})
    assert math.isclose(mean["value"], sum(1 + 4 * (s - lo) / (hi - lo) for (lo, hi), s in csat) / len(csat))
    [row] = compute(con, "nps", {"metrics.small_number": 0})
    assert row["n"] == len(nps)
    if nps:
        p = sum(s >= 9 for s in nps) / len(nps)
        d = sum(s <= 6 for s in nps) / len(nps)
        half = 1.959963984540054 * math.sqrt(100 ** 2 * (p + d - (p - d) ** 2) / len(nps))
        assert math.isclose(row["value"], 100 * (p - d), abs_tol=1e-9)
        assert math.isclose(row["ci_low"], 100 * (p - d) - half, abs_tol=1e-9)
        assert math.isclose(row["ci_high"], 100 * (p - d) + half, abs_tol=1e-9)
    else:
        assert row["value"] is None and row["suppressed"] is False
