"""The CX Code in the story: every principle next to the findings that evidence it, and its adherence."""

from __future__ import annotations

from pathlib import Path

from cxchain.code import draft_code, publish, save_drafts
from cxchain.code.story import code_section
from cxchain.report.story import story_html, story_markdown
from cxchain.workspace import Workspace


def test_story_shows_the_code_next_to_its_evidence(demo_ws: Workspace, tmp_path: Path) -> None:
    assert code_section(demo_ws) == {"principles": [], "published": False}
    save_drafts(demo_ws, draft_code(demo_ws))
    publish(demo_ws, "md", tmp_path / "code.md")
    story = demo_ws.story()
    sec = story["code"]
    assert sec["published"] and sec["principles"]
    finding_ids = {f["id"] for s in story["sections"] for f in s["findings"]}
    html, md = story_html(story), story_markdown(story)
    for p in sec["principles"]:
        if p["status"] == "published":
            assert p["adherence"] is not None and 0 <= p["adherence"] <= 1
        for e in p["evidence"]:
            assert f"({e['id']})" in md
            if e["id"] in finding_ids:  # the story's own anchor for the finding
                assert f'href="#{e["id"]}"' in html
    assert "Our CX Code, and the evidence behind it" in html
