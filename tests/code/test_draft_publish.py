"""Drafting the code from the demo's findings, publishing it, and its health."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cxchain.code import ASSUMPTION_NOTE, code_health, draft_code, list_principles, publish, save, save_drafts
from cxchain.code.cli import code
from cxchain.workspace import Workspace

from .conftest import Filtered


def test_draft_gives_five_to_eight_evidenced_principles(demo_ws: Workspace) -> None:
    ids = {f["id"] for f in demo_ws.findings()}
    ps = draft_code(demo_ws)
    assert 5 <= len(ps) <= 8
    assert len({p.id for p in ps}) == len(ps)
    for p in ps:
        assert p.evidence, p.id
        assert set(p.evidence) <= ids
        assert p.status == "draft"
        assert p.measures and all(m.threshold is not None for m in p.measures)
    # pack principles evidenced by findings come first; chasing is the commonest failure in the demo
    assert ps[0].source == "pack"
    assert "dont-make-me-chase" in {p.id for p in ps}
    # measures from the current values: a hotspot's repeat rate must fall to the rest's
    hot = [m for p in ps for m in p.measures if m.filters.get("reason_id") and m.metric_id == "repeat_rate"]
    assert hot and all(m.baseline is not None and m.threshold is not None and m.threshold < m.baseline for m in hot)


def test_removing_evidence_turns_a_principle_into_an_assumption(demo_ws: Workspace) -> None:
    ps = save_drafts(demo_ws, draft_code(demo_ws))
    target = next(p for p in ps if p.id == "dont-make-me-chase")
    fewer = Filtered(demo_ws, set(target.evidence))
    again = {p.id: p for p in draft_code(fewer)}
    assert again["dont-make-me-chase"].status == "assumption"
    assert again["dont-make-me-chase"].note == ASSUMPTION_NOTE and again["dont-make-me-chase"].evidence == []
    # an insight-only principle whose evidence disappears is kept, as an assumption, when saved
    save_drafts(fewer, list(again.values()))  # type: ignore[arg-type]
    stored = {p.id: p for p in list_principles(demo_ws)}
    assert stored["dont-make-me-chase"].status == "assumption" and stored["dont-make-me-chase"].version == 2
    assert code_health(fewer)["reasons"][0]["code"] == "principle_without_evidence"  # type: ignore[arg-type]


def test_different_findings_draft_different_codes(demo_ws: Workspace) -> None:
    full = draft_code(demo_ws, previous=[])
    hotspots = {f["id"] for f in demo_ws.findings() if f["kind"] == "repeat_hotspot"}
    other = draft_code(Filtered(demo_ws, hotspots), previous=[])  # type: ignore[arg-type]
    key = [(p.id, tuple(p.evidence), p.status) for p in full]
    assert key != [(p.id, tuple(p.evidence), p.status) for p in other]
    assert not {e for p in other for e in p.evidence} & hotspots


def test_publish_html_md_pdf(demo_ws: Workspace, tmp_path: Path) -> None:
    html = publish(demo_ws, "html", tmp_path / "code.html").read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "Evidence appendix" in html and "@page { size: A4" in html and "What it means for you" in html
    ps = list_principles(demo_ws)
    assert all(p.status == "published" for p in ps if p.evidence)
    for p in ps:
        assert p.title.replace("'", "&#39;") in html
        for f in p.evidence:
            assert f in html
    md = publish(demo_ws, "md", tmp_path / "code.md").read_text()
    assert md.startswith("# ") and "## Evidence appendix" in md
    pdf = publish(demo_ws, "pdf", tmp_path / "code.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # re-drafting after publishing keeps unchanged principles published
    again = draft_code(demo_ws)
    assert any(p.status == "published" for p in again)


def test_hostile_title_renders_escaped(demo_ws: Workspace, tmp_path: Path) -> None:
    ps = save_drafts(demo_ws, draft_code(demo_ws))
    p = ps[0]
    p.title = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    p.for_staff = "<b>bold</b> & more"
    save(demo_ws, p, actor="mallory", rank=0)
    html = publish(demo_ws, "html", tmp_path / "code.html").read_text()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html


def test_health_codes(demo_ws: Workspace) -> None:
    assert code_health(demo_ws) == {"status": "broken", "reasons": [{"code": "no_code", "text": code_health(demo_ws)["reasons"][0]["text"]}]}
    ps = save_drafts(demo_ws, draft_code(demo_ws))
    assert code_health(demo_ws)["status"] == "holds"
    ps[0].measures = []
    ps[1].evidence = ["F-gone"]
    ps[2].contradicted = True
    for i, p in enumerate(ps):
        save(demo_ws, p, rank=i)
    h = code_health(demo_ws)
    assert h["status"] == "weak"
    assert {r["code"] for r in h["reasons"]} == {"principle_without_measure", "principle_without_evidence",
                                                 "principle_contradicted"}


def test_contradicted_when_the_measure_is_kept_everywhere(demo_ws: Workspace) -> None:
    from cxchain.code.draft import judge
    from cxchain.code.principles import Measure, Principle

    easy = Principle(id="x", title="x", statement="x", for_staff="x",
                     measures=[Measure("abandonment_rate", {}, 0.99, "below")])
    hard = Principle(id="y", title="y", statement="y", for_staff="y",
                     measures=[Measure("abandonment_rate", {}, 0.0001, "below")])
    assert judge(demo_ws, easy) is True
    assert judge(demo_ws, hard) is False


def test_cli(demo_ws: Workspace, tmp_path: Path) -> None:
    r = CliRunner()
    w = ["-w", str(demo_ws.path)]
    res = r.invoke(code, ["draft", "--json", *w])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    ids = {f["id"] for f in demo_ws.findings()}
    assert 5 <= len(data["principles"]) <= 8
    for p in data["principles"]:
        assert {"id", "title", "statement", "measures", "evidence", "status"} <= set(p)
        assert p["evidence"] and set(p["evidence"]) <= ids
    res = r.invoke(code, ["list", *w])
    assert res.exit_code == 0 and "dont-make-me-chase" in res.output
    out = tmp_path / "c.md"
    res = r.invoke(code, ["publish", "--format", "md", "--out", str(out), *w])
    assert res.exit_code == 0 and out.exists()
    res = r.invoke(code, ["diff", "dont-make-me-chase", *w])
    assert res.exit_code == 0 and "status:" in res.output and "+ published" in res.output
    res = r.invoke(code, ["diff", "nope", *w])
    assert res.exit_code == 2 and "No principle" in res.output
