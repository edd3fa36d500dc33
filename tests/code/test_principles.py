"""Principles: storage, versions and readable diffs; sector packs."""

from __future__ import annotations

import pytest

from cxchain.code import (
    ASSUMPTION_NOTE,
    PACK_SECTORS,
    Measure,
    Principle,
    diff,
    diff_text,
    get,
    history,
    list_principles,
    load_pack,
    pack_principles,
    save,
)
from cxchain.errors import CxchainError, NotFoundError
from cxchain.workspace import Workspace


def _p(**kw: object) -> Principle:
    base: dict[str, object] = dict(id="dont-make-me-chase", title="Don't make me chase",
                                   statement="Keep me informed so I don't have to chase you.",
                                   for_staff="Say what happens next and by when.",
                                   measures=[Measure("repeat_rate", {"reason_id": "bins.not_collected"}, 0.06, "below", 0.12)],
                                   evidence=["F-1"], sector="council", status="draft", note="evidenced")
    base.update(kw)
    return Principle(**base)  # type: ignore[arg-type]


def test_versions_are_kept_and_unchanged_saves_write_nothing(workspace: Workspace) -> None:
    p = save(workspace, _p(), actor="ana")
    assert p.version == 1
    assert save(workspace, _p(), actor="ana").version == 1  # same content: no new version
    p2 = save(workspace, _p(statement="Keep me informed, so I never have to chase you. Tell me first.",
                            evidence=["F-1", "F-2"]), actor="ben", note="reworded")
    assert p2.version == 2
    hist = history(workspace, "dont-make-me-chase")
    assert [h["version"] for h in hist] == [1, 2]
    assert [h["actor"] for h in hist] == ["ana", "ben"] and hist[1]["note"] == "reworded"
    assert get(workspace, "dont-make-me-chase").statement.startswith("Keep me informed, so")
    assert [p.id for p in list_principles(workspace)] == ["dont-make-me-chase"]
    # the full JSON of each version is stored
    con = workspace.store.ops()
    bodies = con.execute("SELECT body FROM principle_versions ORDER BY version").fetchall()
    con.close()
    assert '"F-2"' in bodies[1][0] and '"F-2"' not in bodies[0][0]


def test_diff_is_field_by_field_and_readable() -> None:
    a = _p()
    b = _p(title="Don't ever make me chase", evidence=["F-1", "F-9"],
           measures=[Measure("repeat_rate", {"reason_id": "bins.not_collected"}, 0.05, "below", 0.12)])
    changes = {c["field"]: c for c in diff(a, b)}
    assert set(changes) == {"title", "evidence", "measures"}
    assert "-Don't make me chase" in changes["title"]["diff"] and "+Don't ever make me chase" in changes["title"]["diff"]
    assert changes["evidence"]["diff"] == ["+ F-9"]
    text = diff_text(a, b)
    assert "title:" in text and "0.05" in text
    assert "no differences" in diff_text(a, a)


def test_unknown_principle_and_bad_status(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError):
        get(workspace, "nope")
    with pytest.raises(CxchainError):
        _p(status="final")


@pytest.mark.parametrize("sector", PACK_SECTORS)
def test_every_sector_pack_loads_as_assumptions(sector: str) -> None:
    ps = pack_principles(sector)
    assert 5 <= len(ps) <= 8
    assert len({p.id for p in ps}) == len(ps)
    for p in ps:
        assert p.status == "assumption" and p.note == ASSUMPTION_NOTE and p.evidence == []
        assert p.title and p.statement and p.for_staff and p.sector == sector
        assert p.measures and all(m.threshold is not None for m in p.measures)
        assert p.evidence_rule.get("themes")


def test_housing_pack_maps_tsm_and_complaint_handling_code() -> None:
    refs = " ".join(r for p in pack_principles("housing") for r in p.refs)
    for code in ("TP01", "TP02", "TP03", "TP04", "TP05", "TP06", "TP07", "TP08", "TP09", "TP10", "TP11", "TP12",
                 "CH01", "CH02"):
        assert code in refs, code
    chc = load_pack("housing")["complaint_handling_code"]
    assert [(s["stage"], s["acknowledge_wd"], s["respond_wd"]) for s in chc["stages"]] == [(1, 5, 10), (2, 5, 20)]
    assert "self-assessment" in chc["self_assessment"]
    assert "self-assessment" in refs


def test_bank_pack_maps_consumer_duty_outcomes() -> None:
    refs = " ".join(r for p in pack_principles("bank") for r in p.refs)
    for outcome in ("products and services", "price and value", "consumer understanding", "consumer support"):
        assert outcome in refs


def test_unknown_sector_pack() -> None:
    with pytest.raises(CxchainError):
        load_pack("casino")
