from __future__ import annotations

import threading

import pytest

from cxchain.cycle.cycles import close_cycle, open_cycle
from cxchain.cycle.health import cycle_health, priorities_health, redesign_health
from cxchain.errors import CxchainError
from cxchain.priorities.plan import accept, propose_plan
from cxchain.redesign.initiatives import add_initiative, board, get_initiative, update_initiative
from cxchain.redesign.store import ConflictError

from ..priorities.synthetic import make_workspace

AREAS = [{"area": "Repairs", "owner": "Head of Repairs"}, {"area": "Contact centre", "owner": "CC manager"}]


@pytest.fixture()
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def _accepted(ws):
    open_cycle(ws, start="2025-12-01")
    plan = propose_plan(ws)
    pid = plan["priorities"][0]["id"]
    return pid, plan


def test_initiative_needs_accepted_priority_and_gets_baseline(ws):
    pid, _ = _accepted(ws)
    with pytest.raises(CxchainError, match="accepted"):
        add_initiative(ws, pid, title="Leak triage", type="process", areas=AREAS)
    accept(ws, pid, reason="evidence")
    ini = add_initiative(
        ws,
        pid,
        title="Leak triage",
        type="process",
        areas=AREAS,
        start="2026-01-05",
        go_live="2026-01-19",
        metric_filters={"reason_id": "repairs.leak", "demand": "failure"},
        target_change=-0.3,
    )
    assert ini["baseline"]["weeks"] == 13 and 10 < ini["baseline"]["value"] < 30
    assert ini["target"] == pytest.approx(ini["baseline"]["value"] * 0.7)
    b = board(ws)
    assert set(b) == {"Repairs", "Contact centre"} and b["Repairs"][0]["owner"] == "Head of Repairs"


def test_stale_edit_is_refused_not_lost(ws):
    pid, _ = _accepted(ws)
    accept(ws, pid, reason="evidence")
    ini = add_initiative(ws, pid, title="Leak triage", type="process", areas=AREAS, target=10)
    v = ini["version"]
    update_initiative(ws, ini["id"], expected_version=v, actor="ana", title="Leak triage v2")
    with pytest.raises(ConflictError, match="changed by ana"):
        update_initiative(ws, ini["id"], expected_version=v, actor="bo", status="in_progress")
    got = get_initiative(ws, ini["id"])
    assert got["title"] == "Leak triage v2" and got["status"] == "planned" and got["version"] == v + 1
    assert [(c["field"], c["actor"]) for c in got["changes"]][-1] == ("title", "ana")


def test_concurrent_edits_one_wins(ws):
    pid, _ = _accepted(ws)
    accept(ws, pid, reason="evidence")
    ini = add_initiative(ws, pid, title="Leak triage", type="process", areas=AREAS, target=10)
    results: list[str] = []

    def edit(who: str) -> None:
        try:
            update_initiative(ws, ini["id"], expected_version=1, actor=who, title=f"by {who}")
            results.append("ok")
        except ConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=edit, args=(w,)) for w in ("a", "b", "c", "d")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    assert get_initiative(ws, ini["id"])["version"] == 2


def _codes(h):
    return {r["code"] for r in h["reasons"]}


def test_health_codes_break_each_link(ws):
    assert priorities_health(ws)["status"] == "broken" and "no_open_cycle" in _codes(priorities_health(ws))
    assert "no_open_cycle" in _codes(cycle_health(ws)) and cycle_health(ws)["status"] == "broken"
    assert "no_initiatives" in _codes(redesign_health(ws))
    open_cycle(ws, start="2025-10-06", length_weeks=4)  # ends before as_of
    assert "no_priorities_for_horizon" in _codes(priorities_health(ws))
    assert "cycle_overdue" in _codes(cycle_health(ws)) and "no_closed_cycle" in _codes(cycle_health(ws))
    plan = propose_plan(ws)
    assert "priorities_undecided" in _codes(priorities_health(ws))
    pid = plan["priorities"][0]["id"]
    accept(ws, pid, reason="evidence")
    assert "no_initiatives" in _codes(redesign_health(ws)) and redesign_health(ws)["status"] == "broken"
    ini = add_initiative(
        ws,
        pid,
        title="Leak triage",
        type="process",
        areas=[{"area": "Repairs", "owner": ""}],
        metric_id=None,
        go_live="2025-11-03",
    )
    codes = _codes(redesign_health(ws))
    assert {"initiative_without_owner", "initiative_without_target"} <= codes
    assert "go_live_not_measured" in _codes(cycle_health(ws))
    update_initiative(
        ws,
        ini["id"],
        expected_version=ini["version"],
        areas=AREAS,
        metric_id="volume",
        metric_filters={"reason_id": "repairs.leak", "demand": "failure"},
        target=5.0,
    )
    assert not {"initiative_without_owner", "initiative_without_target"} & _codes(redesign_health(ws))
    report = close_cycle(ws)
    assert report["initiatives"][0]["measurement"]["verdict"] in ("improved", "no detectable change", "worse")
    assert "go_live_not_measured" not in _codes(cycle_health(ws))
    assert "no_open_cycle" in _codes(cycle_health(ws))


def test_tasks_are_versioned_and_logged(ws):
    from cxchain.errors import NotFoundError
    from cxchain.redesign.initiatives import add_task, update_task

    pid, _ = _accepted(ws)
    accept(ws, pid, reason="evidence")
    ini = add_initiative(ws, pid, title="Leak triage", type="process", areas=AREAS, target=10)
    got = add_task(ws, ini["id"], title="Agree triage script", owner="Head of Repairs", due="2026-01-10",
                   actor="ana", expected_version=1)
    assert got["version"] == 2 and got["tasks"][0]["status"] == "open"
    tid = got["tasks"][0]["id"]
    with pytest.raises(ConflictError, match="version 2; your edit was based on version 1"):
        update_task(ws, ini["id"], tid, status="done", expected_version=1, actor="bo")
    with pytest.raises(CxchainError, match="Task status"):
        update_task(ws, ini["id"], tid, status="finished", expected_version=2)
    with pytest.raises(NotFoundError):
        update_task(ws, ini["id"], 999, status="done", expected_version=2)
    done = update_task(ws, ini["id"], tid, status="done", expected_version=2, actor="bo")
    assert done["version"] == 3 and done["tasks"][0]["status"] == "done"
    assert [(c["field"], c["actor"], c["version"]) for c in done["changes"]][-2:] == [("task", "ana", 2),
                                                                                     (f"task:{tid}", "bo", 3)]
    # an edit of the initiative based on the version before the task change is refused
    with pytest.raises(ConflictError):
        update_initiative(ws, ini["id"], expected_version=2, status="live")
    assert board(ws)["Repairs"][0]["open_tasks"] == 0


def test_tasks_through_the_cli(ws):
    from click.testing import CliRunner

    from cxchain.priorities.cli import initiative

    pid, _ = _accepted(ws)
    accept(ws, pid, reason="evidence")
    ini = add_initiative(ws, pid, title="Leak triage", type="process", areas=AREAS, target=10)
    run = CliRunner().invoke
    w = ["--workspace", str(ws.path)]
    res = run(initiative, ["task", ini["id"], "--title", "Script", "--version", "1", "--by", "ana", *w])
    assert res.exit_code == 0 and "version 2" in res.output, res.output
    tid = get_initiative(ws, ini["id"])["tasks"][0]["id"]
    res = run(initiative, ["task-status", ini["id"], str(tid), "--status", "done", "--version", "1", *w])
    assert res.exit_code != 0 and "based on version 1" in res.output and "Traceback" not in res.output
    res = run(initiative, ["task-status", ini["id"], str(tid), "--status", "done", "--version", "2", "--json", *w])
    assert res.exit_code == 0 and '"version": 3' in res.output
