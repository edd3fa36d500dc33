"""`cxchain demo`: generate the sample organisation into a workspace and run the chain on it."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import WorkspaceError
from ..settings import SourceConfig
from ..workspace import Workspace
from . import generate

MARKER = ".cxchain-demo"

#: The demo organisation sets its own costs, so the demo does not report placeholder settings.
DEMO_COSTS = {"costs.chat": [2.10, 3.90], "costs.email": [2.60, 4.80], "costs.social": [2.00, 3.50], "costs.sms": [0.10, 0.25],
              "costs.per_handling_minute": [0.55, 0.85]}


def build_demo(path: Path, *, sector: str = "council", contacts: int = 20_000, seed: int = 0,
               progress: Callable[[str, int, int], None] | None = None, effects: bool = True,
               engine: str | None = None) -> dict[str, Any]:
    """Create (or replace) a demo workspace at ``path``, generate its exports and run the chain
    (on ``engine``, 'duckdb' or 'spark', when given; else the workspace's ``engine`` setting)."""
    progress = progress or (lambda step, done, total: None)
    t0 = time.perf_counter()
    ws, manifest, gen_seconds = prepare_demo(path, sector=sector, contacts=contacts, seed=seed, progress=progress,
                                             effects=effects)
    path = Path(path)
    result = ws.run(progress=progress, engine=engine)
    from ..cycle.demo_loop import run_demo_loop
    from ..report.story import write_story

    progress("close the loop: priorities, initiatives, a measured cycle", 0, 1)
    loop = run_demo_loop(ws, json.loads((path / "truth.json").read_text()))
    from ..code.draft import draft_code, save_drafts
    from ..code.publish import publish

    progress("draft and publish the CX Code", 0, 1)
    principles = save_drafts(ws, draft_code(ws), actor="demo")
    code_files = {fmt: str(publish(ws, fmt, path / f"cx-code.{fmt}", actor="demo")) for fmt in ("html", "pdf", "md")}
    from ..code.review import review_demo_go_lives

    reviews = review_demo_go_lives(ws)
    story = ws.story()
    outputs = {fmt: str(write_story(story, fmt, path / f"story.{fmt}")) for fmt in ("html", "pdf", "md")}
    health = ws.health()
    cat = ws.sources()
    t = result["ingest"]["totals"]
    lines = [f"Sample organisation: {manifest.get('organisation')} ({sector}), {contacts} contacts, seed {seed}.",
             f"Generated {len(manifest['files'])} silo exports in {gen_seconds} s: {path / 'exports'}",
             f"Ingested: read {t['rows_read']} = loaded {t['rows_loaded']} + quarantined {t['rows_quarantined']} "
             f"+ duplicate {t['rows_duplicate']} (updated {t['rows_updated']}).",
             f"Linked {result['link'].get('records')} identity records to {result['link'].get('customers')} customers.",
             "Link coverage (share of each source's records whose customer is known to another source):"]
    for e in cat:
        if e.get("linked_any_share") is not None:
            lines.append(f"  {e['source']:<12} {e['linked_any_share']:6.1%}")
    lines.append(f"Chain health (data): {health['links']['data']['status']}"
                 + "".join(f"\n  [{r['code']}] {r['text']}" for r in health["links"]["data"]["reasons"]))
    ins = result.get("insight") or {}
    lines.append(f"Insight: {ins.get('reasons', {}).get('unclassified_share', 0):.1%} of contacts unclassified; "
                 f"demand {ins.get('demand')}; {ins.get('findings')} findings.")
    lines.append(f"Headline: {story['headline']}")
    for ini in (loop.get("first_cycle") or {}).get("initiatives", []):
        m = ini.get("measurement") or {}
        lines.append(f"Cycle 1 measured '{ini.get('title')}': {m.get('verdict', 'not measured')}. {m.get('summary', '')}")
    lines.append(f"Story: {outputs['html']} (also {outputs['pdf']}, {outputs['md']})")
    lines.append(f"CX Code: {code_files['html']} (also pdf, md): "
                 + "; ".join(f"{p.title} [{', '.join(p.evidence) or 'assumption'}]" for p in principles))
    for r in reviews:
        lines.append(f"Design review of {r['initiative_id']} against the CX Code: {r['verdict']} (score {r['score']}).")
    lines.append(f"Workspace: {path.resolve()}  (try: cxchain sources -w {path}; cxchain health -w {path})")
    lines.append(f"Total {round(time.perf_counter() - t0, 1)} s.")
    return {"workspace": str(path.resolve()), "manifest": str(path / "truth.json"), "run": result, "health": health,
            "sources": cat, "story": outputs, "top_findings": story["top"], "loop": loop, "code": code_files,
            "principles": [p.summary() for p in principles], "summary": "\n".join(lines)}


def prepare_demo(path: Path, *, sector: str = "council", contacts: int = 20_000, seed: int = 0,
                 progress: Callable[[str, int, int], None] | None = None,
                 effects: bool = True) -> tuple[Workspace, dict[str, Any], float]:
    """Create (or replace) a demo workspace at ``path`` with its generated exports and mappings, not yet run:
    (workspace, manifest, seconds to generate).  :func:`build_demo` then runs the chain on it."""
    progress = progress or (lambda step, done, total: None)
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise WorkspaceError(f"{path} exists and is not a demo workspace: choose another --workspace, or empty it.")
        shutil.rmtree(path)
    t0 = time.perf_counter()
    staging = path.parent / f".{path.name}.generating"
    shutil.rmtree(staging, ignore_errors=True)
    progress("generate sample organisation", 0, 1)
    manifest_path = generate(staging, sector=sector, contacts=contacts, seed=seed, effects=effects)
    manifest = json.loads(manifest_path.read_text())
    gen_seconds = round(time.perf_counter() - t0, 2)
    sources = [SourceConfig(name=f["source"], paths=(f["file"],), mapping=f"mappings/{f['source']}.yaml") for f in manifest["files"]]
    ws = Workspace.init(path, sector=sector, sources=sources, exist_ok=True,
                        overrides={"organisation": manifest.get("organisation", "Sample organisation"),
                                   "as_of": manifest["as_of"], **DEMO_COSTS})
    for sub in ("exports", "mappings", "truth"):
        shutil.rmtree(path / sub, ignore_errors=True)
        shutil.move(str(staging / sub), str(path / sub))
    shutil.move(str(manifest_path), str(path / "truth.json"))
    shutil.rmtree(staging, ignore_errors=True)
    (path / MARKER).write_text("This workspace was made by `cxchain demo` and is replaced by the next one.\n")
    return ws, manifest, gen_seconds
