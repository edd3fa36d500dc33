from __future__ import annotations

import pytest

from cxchain.cycle.cycles import open_cycle
from cxchain.errors import CxchainError
from cxchain.priorities.plan import accept, get_plan, override, plan_size, propose_plan, reject

from .synthetic import make_workspace


@pytest.fixture()
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def test_plan_size():
    assert plan_size("12w", 12) == 3
    assert plan_size("6m", 12) == 6


def test_propose_needs_open_cycle(ws):
    with pytest.raises(CxchainError, match="No open cycle"):
        propose_plan(ws)


def test_decisions_are_kept_with_reasons(ws):
    open_cycle(ws)
    plan = propose_plan(ws, horizon="12w")
    ids = [p["id"] for p in plan["priorities"]]
    assert len(ids) == 3 and plan["priorities"][0]["reason_id"] == "repairs.leak"
    assert plan["priorities"][0]["rationale"] and "score" in plan["priorities"][0]["rationale"]
    with pytest.raises(CxchainError, match="why"):
        accept(ws, ids[0], reason=" ")
    accept(ws, ids[0], reason="Biggest failure demand", actor="ana")
    reject(ws, ids[1], reason="Handled by the rent team already", actor="ana")
    with pytest.raises(CxchainError):
        override(ws, ids[2], reason="no change given")
    p = override(ws, ids[2], reason="ASB matters more to residents", reason_id="asb.noise", actor="bo")
    assert p["status"] == "overridden" and p["reason_id"] == "asb.noise"
    plan = get_plan(ws)
    st = {p["id"]: (p["status"], [d["reason"] for d in p["decisions"]]) for p in plan["priorities"]}
    assert st[ids[0]] == ("accepted", ["Biggest failure demand"])
    assert st[ids[1]][0] == "rejected"
    assert plan["priorities"][2]["decisions"][0]["actor"] == "bo"
    # re-proposing keeps decided priorities and does not duplicate them
    again = propose_plan(ws, horizon="12w")
    assert [p["id"] for p in again["priorities"]] == ids


def test_a_decision_on_a_stale_view_is_refused_not_lost(ws):
    from cxchain.redesign.store import ConflictError

    open_cycle(ws)
    pid = propose_plan(ws, horizon="12w")["priorities"][0]["id"]
    accept(ws, pid, reason="Biggest failure demand", actor="ana", expected_status="proposed")
    with pytest.raises(ConflictError, match="now accepted .*ana decided accept"):
        reject(ws, pid, reason="Not now", actor="bo", expected_status="proposed")
    p = get_plan(ws)["priorities"][0]
    assert p["status"] == "accepted" and [d["actor"] for d in p["decisions"]] == ["ana"]
    # a decision made on the current view goes through
    assert reject(ws, pid, reason="Changed our mind", actor="bo", expected_status="accepted")["status"] == "rejected"
