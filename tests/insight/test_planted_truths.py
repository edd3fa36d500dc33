"""Planted truths (issue 3, item 13): the story's top findings are what the sample organisation planted.

SLOW AND OPT-IN: set ``CXCHAIN_PLANTED_TRUTHS=1`` to run it.  It builds ``len(SEEDS) x len(SECTORS)``
demo workspaces twice, with the planted effects on and with them set to zero (negative controls),
and runs links 1 and 2 on each: 4 to 10 minutes a workspace on the shared two-core machine at 8,000
contacts, about 8 at ``CONTACTS`` = 20,000 (embedding dominates), far beyond the suite's budget, so
it is not part of ``make test``.  ``CXCHAIN_PLANTED_CONTACTS`` overrides the size.  20,000 is the
smallest size measured at which all three planted effects reach the top five: at 8,000 the planted
reasons have about five contacts a week and a couple of dozen surveys, too few for the failure-share
step and the CSAT gap to pass the multiple-testing threshold.

Each planted finding-level truth (a failure-share rise on one reason after a policy change, a
repeat-contact hot spot, a reason that drives CSAT down) is looked for among the story's top five
findings on the workspace reason its generator reason maps to (majority vote of its contacts), and
compared with the planted value computed from the per-record truth.  ``benchmarks/planted_eval.py``
prints the same comparison with its numbers.

The target is not met yet, so the planted-effects half is a strict expected failure: it turns into
a failure, and the marker must go, once the chain recovers every planted truth.  Measured
(``benchmarks/planted_eval.py``): housing seed 1 at 20,000 contacts has all three in the top five
with the right sign but not within 10 % (failure-share rise rank 3, +0.135 against +0.308; repeat
hot spot rank 1, +0.139 against +0.247; CSAT driver rank 2, -0.232 against -0.297); housing seed 0
at 8,000 has only the hot spot (+0.116 against +0.259); its negative control has none.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cxchain import Workspace
from cxchain.demo import generate
from cxchain.demo.evaluate import planted_findings
from cxchain.demo.workspace import DEMO_COSTS
from cxchain.settings import SourceConfig

SEEDS = (0, 1, 2, 3, 4)
SECTORS = ("housing", "council")
CONTACTS = int(os.environ.get("CXCHAIN_PLANTED_CONTACTS", "20000"))
opt_in = pytest.mark.skipif(not os.environ.get("CXCHAIN_PLANTED_TRUTHS"),
                            reason="slow (20 demo builds): set CXCHAIN_PLANTED_TRUTHS=1 to run")


def _build(path: Path, sector: str, seed: int, effects: bool) -> tuple[Workspace, dict]:
    manifest = json.loads(generate(path, sector=sector, contacts=CONTACTS, seed=seed, effects=effects).read_text())
    srcs = [SourceConfig(f["source"], (f["file"],), f"mappings/{f['source']}.yaml") for f in manifest["files"]]
    ws = Workspace.init(path, sector=sector, sources=srcs, exist_ok=True,
                        overrides={"organisation": manifest["organisation"], "as_of": manifest["as_of"], **DEMO_COSTS})
    ws.run()
    return ws, manifest


@opt_in
@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 3 item 13 not met yet: see the module notes")
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sector", SECTORS)
def test_planted_truths_lead_the_story(tmp_path: Path, sector: str, seed: int):
    ws, manifest = _build(tmp_path / "on", sector, seed, effects=True)
    rows = planted_findings(ws, manifest)
    for r in rows:
        print(f"{sector} seed {seed} {r['id']}: planted {r['planted']:+.3f}, found rank {r['rank']} value {r['value']}")
    assert {r["kind"] for r in rows} == {"failure_shift", "repeat_hotspot", "csat_driver"}
    missed = [r for r in rows if not r["within"]]
    assert not missed, missed


@opt_in
@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sector", SECTORS)
def test_no_planted_finding_without_planted_effects(tmp_path: Path, sector: str, seed: int):
    ws, manifest = _build(tmp_path / "off", sector, seed, effects=False)
    rows = planted_findings(ws, manifest)
    assert manifest["effects"] is False and len(rows) == 3
    false_alarms = [r for r in rows if not r["within"]]
    assert not false_alarms, false_alarms
