from __future__ import annotations

import pytest

from cxchain.priorities.opportunities import SCORE_WEIGHTS, compute_opportunities, opportunities

from .synthetic import COSTS, make_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("opp") / "ws")


def test_cost_range_from_settings(ws):
    opps = opportunities(ws, outcomes=[])
    leak = next(o for o in opps if o["reason_id"] == "repairs.leak")
    annual = leak["window"]["annualised_by"]
    with ws.store.read() as con:
        by_ch = dict(
            con.execute(
                """SELECT channel, count(*) FROM contact_fact WHERE reason_id = 'repairs.leak'
                                    AND demand = 'failure' AND week >= ? AND week < ? GROUP BY 1""",
                [leak["window"]["from"], leak["window"]["to"]],
            ).fetchall()
        )
    n = sum(by_ch.values())
    assert leak["avoidable_contacts"] == pytest.approx(n * annual, abs=0.1)
    lo = sum(k * annual * COSTS[f"costs.{ch}"][0] for ch, k in by_ch.items())
    hi = sum(k * annual * COSTS[f"costs.{ch}"][1] for ch, k in by_ch.items())
    minutes = n * annual * 5  # 300 s each
    assert leak["cost"]["contacts_low"] == pytest.approx(lo, rel=1e-6)
    assert leak["cost"]["contacts_high"] == pytest.approx(hi, rel=1e-6)
    assert leak["cost"]["handling_low"] == pytest.approx(minutes * 0.5, rel=1e-3)
    assert leak["cost"]["low"] == pytest.approx(lo + minutes * 0.5, rel=1e-3)
    assert leak["cost"]["high"] == pytest.approx(hi + minutes * 1.0, rel=1e-3)
    assert leak["cost"]["low"] < leak["cost"]["high"]


def test_score_terms_shown_and_add_up(ws):
    opps = opportunities(ws, outcomes=[])
    assert opps[0]["reason_id"] == "repairs.leak"  # most failure demand, worst CSAT
    for o in opps:
        assert set(o["terms"]) == set(SCORE_WEIGHTS["weights"])
        assert sum(t["points"] for t in o["terms"].values()) == pytest.approx(o["score"], abs=0.05)
        for t in o["terms"].values():
            assert {"value", "normalised", "weight", "points", "meaning"} <= set(t)
        assert o["weights_version"] == SCORE_WEIGHTS["version"]
    leak = opps[0]
    assert leak["customer_impact"]["value"] and leak["customer_impact"]["gap"] > 0
    assert leak["repeat"]["share"] is not None


def test_reason_by_channel(ws):
    rows = opportunities(ws, level="reason_channel", outcomes=[])
    assert {(r["reason_id"], r["channel"]) for r in rows} >= {
        ("repairs.leak", "phone"),
        ("repairs.leak", "email"),
    }


def test_improved_outcome_lowers_remaining_opportunity(ws):
    with ws.store.read() as con:
        before = compute_opportunities(con, ws.settings)
        after = compute_opportunities(
            con,
            ws.settings,
            outcomes=[
                {
                    "reason_id": "repairs.leak",
                    "initiative_id": "I9",
                    "verdict": "improved",
                    "relative_effect": -0.5,
                    "go_live": "2026-01-05",
                }
            ],
        )
        same = compute_opportunities(
            con,
            ws.settings,
            outcomes=[
                {
                    "reason_id": "repairs.leak",
                    "initiative_id": "I9",
                    "verdict": "no detectable change",
                    "relative_effect": -0.5,
                    "go_live": "2026-01-05",
                }
            ],
        )
    b = next(o for o in before if o["reason_id"] == "repairs.leak")
    a = next(o for o in after if o["reason_id"] == "repairs.leak")
    s = next(o for o in same if o["reason_id"] == "repairs.leak")
    assert a["avoidable_contacts"] < b["avoidable_contacts"] and a["cost"]["low"] < b["cost"]["low"]
    assert a["outcome"]["initiative_id"] == "I9" and 0.5 < a["outcome"]["remaining_factor"] < 1
    assert s["avoidable_contacts"] == b["avoidable_contacts"] and s["outcome"] is None
