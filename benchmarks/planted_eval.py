"""Link 2 on the sample organisation against what the generator planted.

    python benchmarks/planted_eval.py [--contacts 8000] [--seeds 0] [--sector housing council] [--no-effects]

For each seed and sector: build the demo workspace (links 1 and 2, no loop), then print how
consistently contacts of each generator reason land on one workspace reason (``reason_agreement``),
failure-demand accuracy per source (value/failure against the planted label; ``unknown`` counts as
wrong) and, for each planted finding-level truth (failure-share change, repeat hot spot, CSAT
driver), the matching finding in the story's top five with its value against the planted value.
Targets (issue 3, item 13): every planted truth in the top five, right sign, within 10 % relative;
with ``--no-effects`` (negative controls) none of them there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from cxchain import Workspace
from cxchain.demo import generate
from cxchain.demo.evaluate import demand_accuracy, planted_findings, reason_agreement
from cxchain.demo.workspace import DEMO_COSTS
from cxchain.settings import SourceConfig


def build(path: Path, sector: str, contacts: int, seed: int, effects: bool) -> tuple[Workspace, dict]:
    manifest = json.loads(generate(path, sector=sector, contacts=contacts, seed=seed, effects=effects).read_text())
    srcs = [SourceConfig(f["source"], (f["file"],), f"mappings/{f['source']}.yaml") for f in manifest["files"]]
    ws = Workspace.init(path, sector=sector, sources=srcs, exist_ok=True,
                        overrides={"organisation": manifest["organisation"], "as_of": manifest["as_of"], **DEMO_COSTS})
    ws.run()
    return ws, manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=8000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--sector", nargs="+", default=["housing", "council"])
    ap.add_argument("--no-effects", action="store_true", help="planted effects set to zero (negative controls)")
    ap.add_argument("--keep", type=Path, help="build the workspaces under this folder and keep them")
    a = ap.parse_args()
    root = a.keep or Path(tempfile.mkdtemp(prefix="cxchain-planted-"))
    for sector in a.sector:
        for seed in a.seeds:
            path = root / f"{sector}-{a.contacts}-{seed}-{'off' if a.no_effects else 'on'}"
            shutil.rmtree(path, ignore_errors=True)
            t0 = time.perf_counter()
            ws, manifest = build(path, sector, a.contacts, seed, not a.no_effects)
            secs = time.perf_counter() - t0
            acc = demand_accuracy(ws, path / manifest["truth_files"]["contacts"])
            print(f"{sector} seed {seed}, {a.contacts} contacts, effects {'off' if a.no_effects else 'on'} ({secs:.0f} s)")
            print("  failure-demand accuracy: " + ", ".join(f"{s} {v['accuracy']:.1%} (n={v['n']}, unknown {v['unknown']:.1%})"
                                                         for s, v in acc.items()))
            agree = reason_agreement(ws, path / manifest["truth_files"]["contacts"])
            print(f"  reasons: one-to-one agreement with the generator's {agree['one_to_one']:.1%}, majority "
                  f"agreement {agree['agreement']:.1%}, collapsed {agree['collisions'] or 'none'}")
            for r in planted_findings(ws, manifest):
                got = (f"rank {r['rank']}, value {r['value']:+.3f}, error {r['relative_error']:.0%}"
                       if r["rank"] and r["relative_error"] is not None else
                       (f"rank {r['rank']}, value {r['value']:+.3f}" if r["rank"] else "not in the top five"))
                print(f"  {r['id']:<22} {r['generator_reason']} -> {r['reason']}: planted {r['planted']:+.3f}; {got}; "
                      f"{'OK' if r['within'] else 'MISSED'}")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
