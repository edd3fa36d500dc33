"""Time of the CX Code's interaction QA on a published workspace: scoring every contact against the published
principles, weekly adherence, the QA sample, and the code link of chain health (cold, then from the cache).

    python benchmarks/code_qa.py --workspace cxchain-demo

Prints one JSON object with seconds per step and the number of verdicts scored.  The workspace needs a
published CX Code (``cxchain demo`` publishes one).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from cxchain.code import qa
from cxchain.code.adherence import adherence
from cxchain.code.health import code_health
from cxchain.workspace import Workspace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", "-w", default="cxchain-demo")
    args = ap.parse_args()
    ws = Workspace(args.workspace)
    out: dict[str, Any] = {"workspace": str(ws.path)}
    with ws.store.read() as con:
        out["contacts"] = int(con.execute("SELECT count(*) FROM contact_fact WHERE is_first_leg").fetchall()[0][0])

    def timed(name: str, fn: Any) -> Any:
        t = time.perf_counter()
        res = fn()
        out[f"{name}_s"] = round(time.perf_counter() - t, 3)
        return res

    qa._CACHE.clear()
    scores = timed("score_cold", lambda: qa.score_contacts(ws))
    timed("score_cached", lambda: qa.score_contacts(ws))
    timed("adherence_cached", lambda: adherence(ws))
    timed("sample_20", lambda: qa.sample(ws, 20))
    timed("code_health_cached", lambda: code_health(ws))
    out["verdicts"] = int(len(scores))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
