"""Link 2 on the sample organisation: every contact gets a reason and a demand type, findings carry
provenance, and the story renders as HTML, Markdown and PDF with customer text made inert."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cxchain import Workspace
from cxchain.demo.workspace import build_demo
from cxchain.report.story import story_html, write_story

CLI = [sys.executable, "-m", "cxchain.cli"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    path = tmp_path_factory.mktemp("insight") / "demo"
    build_demo(path, sector="council", contacts=4000, seed=2)
    return Workspace(path)


def test_every_contact_has_a_reason_and_a_demand_type(ws):
    with ws.store.read() as con:
        n = con.execute("SELECT count(*) FROM contact WHERE valid_to IS NULL").fetchall()[0][0]
        reasons = dict(con.execute("SELECT reason_id = 'unclassified', count(*) FROM contact_reason GROUP BY 1").fetchall())
        demand = dict(con.execute("SELECT demand, count(*) FROM contact_demand GROUP BY 1").fetchall())
        methods = {m for (m,) in con.execute("SELECT DISTINCT method FROM contact_reason").fetchall()}
    assert sum(reasons.values()) == n and sum(demand.values()) == n
    assert reasons.get(True, 0) / n < 0.10, reasons
    assert set(demand) <= {"value", "failure", "unknown"} and demand["failure"] > 0 and demand["value"] > 0
    assert "non_english" in methods  # the sample organisation has Welsh and Polish texts


def test_taxonomy_file_is_seeded_in_the_workspace(ws):
    text = (ws.path / "taxonomy.yaml").read_text()
    assert "sector: council" in text and "changes:" in text


def test_findings_have_numbers_and_provenance(ws):
    findings = ws.findings()
    assert findings, "no findings"
    for f in findings:
        assert f["id"].startswith("F-") and f["statement"] and f["metric"]["id"]
        assert f["section"] in ("headline", "demand", "failure", "drivers", "change", "unknown")
    assert {f["kind"] for f in findings} >= {"top_reasons", "failure_share"}
    # example contacts point at real records
    ids = [i for f in findings for i in f["example_ids"]]
    with ws.store.read() as con:
        known = con.execute("SELECT count(*) FROM contact WHERE record_id IN (SELECT unnest(?))", [ids]).fetchall()[0][0]
    assert known == len(set(ids))


def test_every_finding_drills_down_to_its_contacts(ws):
    """A finding's filters are real slices of its metric: the web app's drill-down runs them as they are."""
    from cxchain.metrics import drilldown
    from cxchain.metrics.registry import REGISTRY

    with ws.store.read() as con:
        for f in ws.findings():
            if f["metric"]["id"] in REGISTRY:
                assert drilldown(con, f["metric"]["id"], ws.settings, f.get("filters") or {}) is not None, f["id"]


def test_story_renders_in_every_format_through_the_cli(ws, tmp_path: Path):
    for fmt in ("html", "md", "pdf"):
        out = tmp_path / f"story.{fmt}"
        res = subprocess.run(CLI + ["story", "-w", str(ws.path), "--format", fmt, "--out", str(out), "--json"],
                             check=True, capture_output=True, text=True)
        assert json.loads(res.stdout)["out"] == str(out)
        data = out.read_bytes()
        if fmt == "pdf":
            assert data.startswith(b"%PDF") and len(data) > 5000
        else:
            text = data.decode()
            assert "What customers contact us about" in text and "What we do not know yet" in text
    html = (tmp_path / "story.html").read_text()
    assert "<script" not in html  # no script at all
    urls = set(re.findall(r"(?:src|href)=[\"']?([a-z]+:[^\"' >]*)", html))
    assert not urls, urls  # nothing fetched: no external src or href


def test_hostile_verbatims_render_inert(ws):
    s = ws.story()
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'
    s["sections"][0]["findings"] = [{**s["sections"][0]["findings"][0], "verbatims": [{"record_id": "x", "text": evil}],
                                     "title": evil}]
    html = story_html(s)
    assert "<script>" not in html and "<img" not in html and '<a href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_write_story_rejects_unknown_format(ws, tmp_path):
    with pytest.raises(ValueError):
        write_story(ws.story(), "docx", tmp_path / "x.docx")


def test_metric_api_slices_with_provenance(ws):
    rows = ws.metric("failure_demand_share", by=["channel"])
    assert rows and all(r["metric"] == "failure_demand_share" and "conventions" in r for r in rows)


def test_themes_cli_one_row_per_input_row_in_order(tmp_path: Path):
    src = tmp_path / "verbatims.csv"
    texts = ["my bin was not emptied this week", "I want to pay my council tax", "", "the bin men missed our street again",
             "how do I pay council tax by direct debit", "asdf qwer zxcv"]
    src.write_text("ref,comment\n" + "".join(f"r{i},\"{t}\"\n" for i, t in enumerate(texts)))
    reasons = tmp_path / "reasons.txt"
    reasons.write_text("Missed bin: my bin was not collected\nCouncil tax payment: paying council tax\n")
    out = tmp_path / "out.csv"
    cmd = CLI + ["themes", str(src), "--text-column", "comment", "--id-column", "ref", "--reasons", str(reasons),
                 "--out", str(out), "--cache-dir", str(tmp_path / "cache")]
    subprocess.run(cmd, check=True, capture_output=True)
    import csv

    rows = list(csv.DictReader(open(out, newline="")))
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(len(texts))]
    assert {"id", "reason", "confidence", "sentiment", "sentiment_label"} <= set(rows[0])
    assert rows[0]["reason"] == rows[3]["reason"] != rows[1]["reason"] == rows[4]["reason"]
    assert rows[2]["reason"] == "unclassified"
    first = out.read_bytes()
    subprocess.run(cmd, check=True, capture_output=True)
    assert out.read_bytes() == first  # reruns give identical output


def test_insight_health_holds_then_goes_stale(ws, tmp_path):
    h = ws.health()["links"]["insight"]
    assert h["status"] in ("holds", "weak") and all(r["code"] != "no_story" for r in h["reasons"])
    fresh = Workspace.init(tmp_path / "empty")
    assert fresh.health()["links"]["insight"]["reasons"][0]["code"] == "no_story"
    csv = tmp_path / "calls.csv"
    csv.write_text("CallID,Start\n1,03/02/2025 09:14\n")
    fresh.ingest([csv], source="calls")
    assert fresh.health()["links"]["insight"]["status"] == "broken"
