"""Reason classification alone, in process (the DuckDB path), on a workspace after link 1.

    python benchmarks/reasons_speed.py --workspace WS [--runs 2]

Reads every current contact's classifier inputs, fits the workspace's classifier and labels them all
(``ReasonClassifier.label_rows``, the phases of ``cxchain.insight.reasons_bulk`` on one partition),
printing wall and CPU seconds per run.  The first run fills the embedding cache with the sample and
the ambiguous texts; later runs find them there, so they time the rest: the lexical model's fit,
language detection, scoring and the code priors.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cxchain import Workspace
from cxchain.insight.embed import Embedder
from cxchain.insight.pipeline import classifier_inputs, workspace_taxonomy
from cxchain.insight.reasons import ReasonClassifier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    ws = Workspace(a.workspace)
    with ws.store.read() as con:
        rows = classifier_inputs(con)
    tax = workspace_taxonomy(ws.path, str(ws.settings["sector"]))
    embedder = Embedder(ws.path / ".cxchain" / "cache" / "embeddings")
    texts = [r[1] for r in rows]
    print(f"{len(rows):,} contacts")
    for run in range(a.runs):
        clf = ReasonClassifier(tax, embedder, placeholders=True).fit(None)
        c0, w0 = time.process_time(), time.perf_counter()
        reason, _, method, _ = clf.label_rows(texts, coded=[r[2] for r in rows], ivr=[r[3] for r in rows])
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        share = sum(m == "lexical" for m in method) / max(len(method), 1)
        print(f"run {run + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU; {share:.0%} labelled by the lexical model; "
              f"sample {clf.report.get('bulk_sample', 0)}, ambiguous embedded {clf.report.get('bulk_ambiguous_embedded', 0)}")


if __name__ == "__main__":
    main()
