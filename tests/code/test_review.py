"""Design review: an initiative or a described change checked against each published principle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cxchain.cli import cli
from cxchain.code import draft_code, publish, save_drafts
from cxchain.code.health import code_health
from cxchain.code.review import checklist, review, reviews_of, score_answers, unreviewed_go_lives
from cxchain.errors import CxchainError
from cxchain.redesign.initiatives import get_initiative
from cxchain.workspace import Workspace


def _publish(ws: Workspace, tmp_path: Path) -> list[str]:
    save_drafts(ws, draft_code(ws))
    publish(ws, "md", tmp_path / "code.md")
    return [q["principle_id"] for q in checklist(ws)]


def _forget_reviews(ws: Workspace) -> None:
    con = ws.store.ops()
    with con:
        con.execute("DELETE FROM code_reviews")
    con.close()


def test_score_and_verdict() -> None:
    assert score_answers({"a": "yes", "b": "partly", "c": "n/a"}) == (75.0, "keeps the code")
    # one broken promise is never averaged away
    assert score_answers({"a": "yes", "b": "yes", "c": "yes", "d": "yes", "e": "no"}) == (80.0, "concerns")
    assert score_answers({"a": "no", "b": "partly"}) == (25.0, "conflicts")
    assert score_answers({"a": "n/a"}) == (None, "not applicable")


def test_review_needs_a_published_code(demo_ws: Workspace) -> None:
    with pytest.raises(CxchainError, match="no published CX Code"):
        review(demo_ws, answers={}, text="Move bin orders online")


def test_review_of_an_initiative_is_stored_shown_and_audited(demo_ws: Workspace, tmp_path: Path) -> None:
    ids = _publish(demo_ws, tmp_path)
    _forget_reviews(demo_ws)
    answers = {pid: "yes" for pid in ids}
    answers[ids[0]] = "no"
    with pytest.raises(CxchainError, match="missing"):
        review(demo_ws, answers={ids[0]: "yes"}, initiative_id="I1")
    with pytest.raises(CxchainError, match="Answers are"):
        review(demo_ws, answers={pid: "maybe" for pid in ids}, initiative_id="I1")
    with pytest.raises(CxchainError, match="either"):
        review(demo_ws, answers=answers, initiative_id="I1", text="also text")
    r = review(demo_ws, answers=answers, initiative_id="I1", comments={ids[0]: "Customers must ring to book"},
               actor="ann")
    expected = round(100 * (len(ids) - 1) / len(ids), 1)
    assert r["score"] == expected and r["verdict"] == ("concerns" if expected >= 50 else "conflicts")
    assert r["answers"][0]["comment"] == "Customers must ring to book" and r["answers"][0]["version"] >= 1
    shown = get_initiative(demo_ws, "I1")["code_reviews"]
    assert [x["id"] for x in shown] == [r["id"]] == [x["id"] for x in reviews_of(demo_ws, "I1")]
    con = demo_ws.store.ops()
    audit = con.execute("SELECT actor, target FROM audit_log WHERE action = 'code.review'").fetchall()
    con.close()
    assert ("ann", "I1") in [tuple(a) for a in audit]


def test_health_flags_go_lives_never_reviewed(demo_ws: Workspace, tmp_path: Path) -> None:
    ids = _publish(demo_ws, tmp_path)
    _forget_reviews(demo_ws)
    live = [i["id"] for i in unreviewed_go_lives(demo_ws)]
    assert "I1" in live  # the demo's first-cycle initiative went live
    h = code_health(demo_ws)
    assert h["status"] == "weak" and "go_live_not_reviewed" in {x["code"] for x in h["reasons"]}
    for iid in live:
        review(demo_ws, answers=dict.fromkeys(ids, "yes"), initiative_id=iid)
    assert "go_live_not_reviewed" not in {x["code"] for x in code_health(demo_ws)["reasons"]}


def test_cli_review_of_text_and_initiative_show(demo_ws: Workspace, tmp_path: Path) -> None:
    ids = _publish(demo_ws, tmp_path)
    run = CliRunner().invoke
    args = ["code", "review", "-w", str(demo_ws.path), "--text", "Close the walk-in office on Fridays", "--json"]
    for pid in ids:
        args += ["--answer", f"{pid}=partly:needs a plan for residents who cannot go online"]
    res = run(cli, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["initiative_id"] is None and out["score"] == 50.0 and out["verdict"] == "concerns"
    assert out["subject"] == "Close the walk-in office on Fridays"
    bad = run(cli, ["code", "review", "-w", str(demo_ws.path), "--initiative", "I1", "--answer", "nope"])
    assert bad.exit_code == 2 and "PRINCIPLE=" in bad.output
    shown = run(cli, ["initiative", "show", "I1", "-w", str(demo_ws.path), "--json"])
    assert shown.exit_code == 0, shown.output
    assert "code_reviews" in json.loads(shown.output)
    text = run(cli, ["initiative", "show", "I1", "-w", str(demo_ws.path)])
    assert "CX Code review" in text.output
