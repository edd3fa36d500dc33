"""Adherence per principle by week with XmR limits, and the CX Code's term in the opportunity score."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxchain.code import draft_code, publish, save_drafts
from cxchain.code.adherence import adherence, breaches_by_reason
from cxchain.code.qa import score_contacts
from cxchain.priorities.opportunities import SCORE_WEIGHTS, code_weighted, opportunities
from cxchain.workspace import Workspace


@pytest.fixture
def coded(demo_ws: Workspace, tmp_path: Path) -> Workspace:
    save_drafts(demo_ws, draft_code(demo_ws))
    publish(demo_ws, "md", tmp_path / "code.md")
    return demo_ws


def test_weekly_adherence_adds_up_and_has_limits(coded: Workspace) -> None:
    scores = score_contacts(coded)
    rows = adherence(coded, scores=scores)
    assert rows
    for r in rows:
        d = scores[scores["principle_id"] == r["principle_id"]]
        assert r["contacts"] == len(d) and r["passed"] == int(d["passed"].sum())
        assert sum(w["n"] for w in r["weeks"]) <= r["contacts"]  # full weeks only
        charted = [w for w in r["weeks"] if w["value"] is not None]
        assert all(w["n"] >= coded.settings["metrics.small_number"] for w in charted)
        ch = r["chart"]
        if len(charted) >= 8:
            assert ch["lower"] <= ch["centre"] <= ch["upper"]
            mean = sum(w["value"] for w in charted) / len(charted)
            assert ch["centre"] == pytest.approx(mean, abs=1e-4)


def test_breaches_feed_the_opportunity_score(coded: Workspace) -> None:
    b = breaches_by_reason(coded)
    assert b["by"] and b["weeks"] > 0
    ops = opportunities(coded)
    cw = coded.settings["priorities.code_weight"]
    assert cw > 0
    top = ops[0]
    assert set(top["terms"]) == set(SCORE_WEIGHTS["weights"])
    assert top["terms"]["code_breaches"]["weight"] == pytest.approx(cw)
    assert top["terms"]["avoidable_cost"]["weight"] == pytest.approx(SCORE_WEIGHTS["weights"]["avoidable_cost"] * (1 - cw))
    assert sum(t["weight"] for t in top["terms"].values()) == pytest.approx(1.0)
    for o in ops:
        want = (b["by"].get(o["reason_id"]) or {}).get("contacts") or 0.0
        assert o["code"]["contacts"] == pytest.approx(want)
        assert o["terms"]["code_breaches"]["value"] == pytest.approx(want)
    worst = max(ops, key=lambda o: o["code"]["contacts"])
    assert worst["terms"]["code_breaches"]["normalised"] == 1.0


def test_without_a_published_code_the_term_weighs_nothing(demo_ws: Workspace) -> None:
    assert breaches_by_reason(demo_ws)["by"] is None
    w = code_weighted(demo_ws.settings, have_code=False)
    assert w["weights"]["code_breaches"] == 0.0
    assert {k: v for k, v in w["weights"].items() if k != "code_breaches"} == {
        k: v for k, v in SCORE_WEIGHTS["weights"].items() if k != "code_breaches"}
    ops = opportunities(demo_ws)
    assert all(o["terms"]["code_breaches"]["points"] == 0 for o in ops)
    assert all(o["code"]["contacts"] is None for o in ops)


def test_health_reports_a_recent_fall_in_adherence(coded: Workspace) -> None:
    from cxchain.code.health import code_health, falling

    assert "adherence_falling" not in {r["code"] for r in code_health(coded)["reasons"]}
    # Plant a fall: the last four full weeks' contacts all fail "don't make me chase" (a rule-1/2 signal down).
    scores = score_contacts(coded)
    rows = adherence(coded, scores=scores)
    chase = next(r for r in rows if r["principle_id"] == "dont-make-me-chase")
    last = [w["week"] for w in chase["weeks"] if w["value"] is not None][-4:]
    m = (scores["principle_id"] == "dont-make-me-chase") & scores["week"].astype(str).str[:10].isin(last)
    scores.loc[m, "passed"] = False
    fallen = next(r for r in adherence(coded, scores=scores) if r["principle_id"] == "dont-make-me-chase")
    assert any(s["direction"] == "down" and s["week"] in last for s in fallen["chart"]["signals"])
    reasons = falling([fallen])
    assert [r["code"] for r in reasons] == ["adherence_falling"] and "Don't make me chase" in reasons[0]["text"]
    assert falling([chase]) == []
