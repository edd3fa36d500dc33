"""The loop on the sample organisation: planted initiatives measured as planted (one session-scoped demo).

The demo initiatives target weekly failure contacts about the mapped workspace reason where the 13 weeks
before go-live average at least ``demo_loop.MIN_WEEKLY_FAILURE`` a week, else weekly contacts about it
(``demo_loop.target_filters``).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cxchain.cycle.cycles import cycle_report, outcomes
from cxchain.cycle.health import chain_health
from cxchain.demo.workspace import build_demo
from cxchain.priorities.cli import cycle, initiative, priorities
from cxchain.priorities.opportunities import opportunities
from cxchain.workspace import Workspace


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("loop") / "demo"
    built = build_demo(path, sector="housing", contacts=8000, seed=0)  # runs the loop too
    ws = Workspace(path)
    truth = json.loads((path / "truth.json").read_text())
    result = built["loop"]
    return ws, truth, result


def _planted(truth, key):
    return next(t for t in truth["truths"] if t["id"] == key)


def _measured(result, truth, key):
    t = _planted(truth, key)
    item = next(i for i in result["first_cycle"]["initiatives"] if i["go_live"] == t["go_live"])
    return t, item["measurement"]


def test_mapping_comes_from_classified_contacts(demo):
    ws, truth, result = demo
    assert set(result["mapping"]) == {"repairs.heating", "rent.payment_arrears"}
    assert result["mapping"]["repairs.heating"].startswith("repair.")


def test_change_that_worked_is_improved_with_planted_effect_inside(demo):
    ws, truth, result = demo
    t, m = _measured(result, truth, "initiative.worked")
    assert m["verdict"] == "improved"
    assert m["relative_ci_low"] <= t["true_value"] <= m["relative_ci_high"]
    print(
        f"worked: planted {t['true_value']:+.3f}, measured {m['relative_effect']:+.3f} "
        f"[{m['relative_ci_low']:+.3f}, {m['relative_ci_high']:+.3f}]"
    )


def test_change_that_did_not_work_is_no_detectable_change(demo):
    ws, truth, result = demo
    t, m = _measured(result, truth, "initiative.no_effect")
    assert m["verdict"] == "no detectable change"
    assert m["relative_ci_low"] <= t["true_value"] <= m["relative_ci_high"]
    print(
        f"no effect: planted {t['true_value']:+.3f}, measured {m['relative_effect']:+.3f} "
        f"[{m['relative_ci_low']:+.3f}, {m['relative_ci_high']:+.3f}]"
    )


def test_initiatives_come_from_accepted_proposals_and_report_says_what_it_did(demo):
    ws, truth, result = demo
    rep = cycle_report(ws, "C1")
    assert rep["cycle"]["status"] == "closed"
    accepted = {p["id"] for p in rep["priorities"] if p["status"] == "accepted"}
    assert {i["priority_id"] for i in rep["initiatives"]} <= accepted and len(rep["initiatives"]) == 2
    assert all(p["decision"] and p["decision"]["reason"] for p in rep["priorities"])
    assert rep["counts"]["improved"] == 1 and rep["counts"]["no_detectable_change"] == 1
    assert all(i["baseline"]["value"] and i["target"] for i in rep["initiatives"])
    assert any("Improved" in line for line in rep["text"])


def test_next_cycle_takes_outcomes_into_account(demo):
    ws, truth, result = demo
    out = {o["reason_id"]: o for o in outcomes(ws)}
    worked = result["mapping"]["repairs.heating"]
    assert out[worked]["verdict"] == "improved"
    opp = next(o for o in opportunities(ws) if o["reason_id"] == worked)
    assert opp["outcome"] and opp["outcome"]["remaining_factor"] < 1
    assert result["next_plan"]["cycle"]["id"] == "C2"


def test_chain_health_holds_after_the_loop(demo):
    ws, truth, result = demo
    h = chain_health(ws)
    assert {k: v["status"] for k, v in h.items()} == {
        "priorities": "holds",
        "redesign": "holds",
        "cycle": "holds",
    }, h


def test_cli_commands(demo):
    ws, truth, result = demo
    r = CliRunner()
    w = ["-w", str(ws.path)]
    res = r.invoke(cycle, ["report", "C1", *w, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["cycle"]["id"] == "C1"
    res = r.invoke(priorities, ["opportunities", *w, "--json", "--limit", "3"])
    assert res.exit_code == 0 and len(json.loads(res.output)) == 3
    res = r.invoke(initiative, ["list", "--board", *w])
    assert res.exit_code == 0 and "Contact centre" in res.output
    res = r.invoke(cycle, ["open", *w])  # C2 is open already: a clear error, exit 2
    assert res.exit_code == 2 and "still open" in res.output
    res = r.invoke(initiative, ["update", "I1", "--version", "0", "--title", "x", *w])
    assert res.exit_code == 2 and "reload" in res.output
    res = r.invoke(priorities, [*w, "--horizon", "12w"])
    assert res.exit_code == 0 and "C2-P1" in res.output
