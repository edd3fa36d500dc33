"""Interaction QA: contacts scored against the published principles, checked against the demo's planted truth;
people confirm or correct a sample and the agreement rate is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from click.testing import CliRunner

from cxchain.cli import cli
from cxchain.code import draft_code, publish, save_drafts
from cxchain.code.qa import (
    NEXT_STEP,
    agreement,
    checks_for,
    confirm,
    correct,
    published,
    sample,
    score_contacts,
)
from cxchain.errors import CxchainError, NotFoundError
from cxchain.workspace import Workspace

CHASE = "dont-make-me-chase"


@pytest.fixture
def coded(demo_ws: Workspace, tmp_path: Path) -> Workspace:
    save_drafts(demo_ws, draft_code(demo_ws))
    publish(demo_ws, "md", tmp_path / "code.md")
    return demo_ws


def _truth(ws: Workspace) -> pd.DataFrame:
    """Planted truth per record: failure type and whether the contact continues an episode (a true repeat)."""
    t = pl.read_parquet(ws.path / "truth" / "contacts.parquet").to_pandas()
    first = t.sort_values("started_at").groupby("contact_id").agg(ep=("episode_id", "first"),
                                                                  st=("started_at", "min")).reset_index()
    first = first.sort_values(["ep", "st"])
    first["seq"] = first.groupby("ep").cumcount()
    t = t.merge(first[["contact_id", "seq"]], on="contact_id")
    with ws.store.read() as con:
        keys = con.execute("SELECT record_id, source, source_key FROM contact_fact").df()
    return keys.merge(t, on=["source", "source_key"])


def test_no_published_code_no_qa(demo_ws: Workspace) -> None:
    with pytest.raises(CxchainError, match="no published CX Code"):
        score_contacts(demo_ws)


def test_chase_checks_come_from_measures_and_themes(coded: Workspace) -> None:
    p = next(p for p in published(coded) if p.id == CHASE)
    ids = [c.id for c in checks_for(p, coded.settings)]
    assert {"chasing", "repeat", "next_step"} <= set(ids)
    assert any(i.startswith("measure:") for i in ids)


def test_planted_repeats_and_chasing_fail_dont_make_me_chase(coded: Workspace) -> None:
    df = score_contacts(coded)
    m = df[df["principle_id"] == CHASE].merge(_truth(coded), on="record_id")
    assert len(m) > 500
    repeats, firsts = m[m["seq"] > 0], m[(m["seq"] == 0) & m["failure_type"].isna()]
    fail_rep, fail_first = 1 - repeats["passed"].mean(), 1 - firsts["passed"].mean()
    assert fail_rep > 0.6 and fail_rep > 2 * fail_first, (fail_rep, fail_first)
    chasing = m[m["failure_type"] == "chasing_progress"]
    assert 1 - chasing["passed"].mean() > 0.6
    # the repeat check itself: true repeats are flagged far more often than first contacts (almost never)
    flagged = m["failed_checks"].map(lambda c: "repeat" in c)
    assert flagged[m["seq"] > 0].mean() > 0.25 and flagged[m["seq"] == 0].mean() < 0.03


def test_next_step_language_is_read_from_transcripts_only(coded: Workspace) -> None:
    df = score_contacts(coded)
    judged = df[df["checks"].map(lambda c: "next_step" in c)]
    assert len(judged) and set(judged["channel"]) <= {"chat", "email"}
    import re
    assert re.search(NEXT_STEP, "you should hear back within 5 working days.")
    assert not re.search(NEXT_STEP, "can i take your postcode please?")


def test_sample_confirm_correct_and_agreement(coded: Workspace) -> None:
    s = sample(coded, 10, seed=3)
    items = s["items"]
    assert len(items) == 10 and {i["verdict"] for i in items} == {"pass", "fail"}
    assert sample(coded, 10, seed=3)["items"] == items  # same seed, same sample
    assert agreement(coded)["reviewed"] == 0
    a, b, c = items[:3]
    confirm(coded, a["record_id"], a["principle_id"], actor="ann")
    correct(coded, b["record_id"], b["principle_id"], passed=not b["passed"], note="agent did explain", actor="ann")
    correct(coded, c["record_id"], c["principle_id"], passed=c["passed"], actor="ann")  # same as auto: agrees
    ag = agreement(coded)
    assert (ag["reviewed"], ag["agreed"], ag["rate"]) == (3, 2, round(2 / 3, 4))
    assert ag["auto_fail_human_pass"] + ag["auto_pass_human_fail"] == 1
    again = {(i["record_id"], i["principle_id"]) for i in sample(coded, 10, seed=3)["items"]}
    assert not again & {(x["record_id"], x["principle_id"]) for x in (a, b, c)}  # reviewed ones leave the sample
    with pytest.raises(NotFoundError):
        confirm(coded, "no-such-record", a["principle_id"])


def test_cli_qa(coded: Workspace) -> None:
    run = CliRunner().invoke
    res = run(cli, ["code", "qa", "--sample", "4", "-w", str(coded.path), "--json"])
    assert res.exit_code == 0, res.output
    it = json.loads(res.output)["items"][0]
    res = run(cli, ["code", "qa", "correct", it["record_id"], it["principle_id"],
                    "--pass" if not it["passed"] else "--fail", "-w", str(coded.path), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["agrees"] is False
    res = run(cli, ["code", "qa", "-w", str(coded.path), "--sample", "2"])
    assert res.exit_code == 0 and "People agreed with 0 of 1 reviewed (0%)" in res.output
