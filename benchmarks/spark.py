"""Benchmark the whole chain (links 1 and 2) on DuckDB and on Spark (local mode) on this machine.

    python benchmarks/spark.py [--contacts 100000] [--seed 0] [--keep DIR] [--driver-memory 4g]

Generates the sample organisation's exports once, then runs the chain from the raw exports on each engine,
each in its own process and its own copy of the workspace (the same exports, mappings and keyed-hash
secret): link 1 (reading, the mapping transforms, quarantine, redaction, identity resolution) and link 2
(reasons, sentiment, failure demand, facts, findings).  DuckDB runs first and trains the linkage model; the
Spark run scores identities with that saved model.  Prints wall time per link and in all, and the peak
memory of the process tree (Python plus, for Spark, its JVM), sampled from /proc every 0.2 s; then checks
that the two runs agree: every file's reconciliation counts, the canonical tables, quarantine, the resolved
customers, and link 2's tables, contact reasons among them (floats within 1e-9).  Spark in local mode is expected to be slower on one
machine; the point is parity and a path to clusters (docs/spark.md has the estimate for 50M contacts).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RUN = """
import json, sys, time
from cxchain import Workspace

engine_name, ws_path = sys.argv[1:3]
if engine_name == "spark":
    from cxchain.engine.spark import start_session
    t = time.perf_counter()
    start_session("local[2]", driver_memory=sys.argv[3]).range(1).count()  # the run picks this session up
    start = time.perf_counter() - t
else:
    start = 0.0
t = time.perf_counter()
res = Workspace(ws_path).run(engine=engine_name)
total = time.perf_counter() - t + start
ins = res.get("insight") or {}
out = {"times": {"start": start, "link 1: ingest": sum(f["seconds"] for f in res["ingest"]["files"]),
                 "link 1: identities": res["link"]["seconds"], "link 2": ins.get("seconds", 0.0), "total": total},
       "insight_steps": ins.get("step_seconds") or ins.get("steps"), "totals": res["ingest"]["totals"],
       "link": {k: res["link"].get(k) for k in ("records", "customers", "pairs_above_threshold", "model", "scored_on",
                                                  "model_version")}}
print(json.dumps(out, default=str))
"""


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (kB), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/status") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = kb
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def run_engine(engine: str, ws: Path, driver_memory: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", RUN, engine, str(ws), driver_memory],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.2)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res.update(engine=engine, wall_s=round(wall, 1), peak_rss_mb=round(peak[0] / 1024), ws=str(ws))
    return res


def compare(a_ws: Path, b_ws: Path) -> dict[str, list[str]]:
    """Differences between two runs' published stores (empty lists when they agree)."""
    from cxchain import Workspace
    from cxchain.engine.parity import diff_tables
    from cxchain.metrics.facts import FACT_TABLES

    out: dict[str, list[str]] = {}
    system = ("batch_id", "valid_from", "valid_to")
    with Workspace(a_ws).store.read() as a, Workspace(b_ws).store.read() as b:
        counts = ("SELECT source, file, rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_updated "
                  "FROM batch WHERE kind = 'ingest' ORDER BY source, file")
        out["batch counts"] = [] if a.execute(counts).fetchall() == b.execute(counts).fetchall() else ["differ"]
        for t in ("contact", "case", "complaint", "survey", "property"):
            out[t] = diff_tables(a, b, t, ignore=system)
        out["survey_item"] = diff_tables(a, b, "survey_item")
        out["quarantine"] = diff_tables(a, b, "quarantine", ignore=("quarantine_id", "batch_id"))

        def partition(con: object) -> set[frozenset[str]]:
            groups: dict[str, set[str]] = {}
            for r, k in con.execute("SELECT record_id, customer_key FROM record_customer").fetchall():  # type: ignore[attr-defined]
                groups.setdefault(k, set()).add(r)
            return {frozenset(g) for g in groups.values()}
        out["resolved customers"] = [] if partition(a) == partition(b) else ["differ"]
        for t in ("contact_reason", "contact_reason_own", "contact_text_failure", "contact_sentiment", "contact_demand",
                  *FACT_TABLES):
            out[t] = diff_tables(a, b, t, ignore=("customer_key",) if t in FACT_TABLES[:4] else ())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sector", default="council")
    ap.add_argument("--keep", type=Path, help="Folder to keep the workspaces in (and reuse the generated exports).")
    ap.add_argument("--driver-memory", default="4g")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from cxchain.demo.workspace import prepare_demo

    work = args.keep or Path(tempfile.mkdtemp(prefix="cx-spark-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    template = work / f"exports-{args.sector}-{args.contacts}-{args.seed}"
    if not (template / "truth.json").exists():
        _, _, gen_s = prepare_demo(template, sector=args.sector, contacts=args.contacts, seed=args.seed)
        print(f"sample organisation generated in {gen_s:.1f} s: {template}")
    load = os.getloadavg()
    results = []
    for engine in ("duckdb", "spark"):
        ws = work / f"ws-{engine}"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(template, ws)
        if engine == "spark":  # the saved model the DuckDB run trained: both engines resolve with it
            shutil.copy(work / "ws-duckdb" / "linkage_model.json", ws / "linkage_model.json")
        results.append(run_engine(engine, ws, args.driver_memory))
    load_after = os.getloadavg()
    diffs = compare(Path(results[0]["ws"]), Path(results[1]["ws"]))
    t = results[0]["totals"]
    print(f"\n{args.contacts} contacts (seed {args.seed}, {args.sector}): rows read {t['rows_read']}, loaded "
          f"{t['rows_loaded']}, quarantined {t['rows_quarantined']}, duplicate {t['rows_duplicate']}; "
          f"{results[0]['link']['records']} identity records -> {results[0]['link']['customers']} customers")
    steps = list(results[0]["times"])
    print(f"{'engine':<8}" + "".join(f"{s:>22}" for s in steps) + f"{'wall':>9}{'peak MB':>9}")
    for r in results:
        print(f"{r['engine']:<8}" + "".join(f"{r['times'][s]:>21.1f}s" for s in steps)
              + f"{r['wall_s']:>8.1f}s{r['peak_rss_mb']:>9}")
        print(f"         link 2 steps: {json.dumps(r['insight_steps'], default=str)}; identities: {json.dumps(r['link'])}")
    ratio = results[1]["times"]["total"] / max(results[0]["times"]["total"], 1e-9)
    print(f"spark / duckdb (total): {ratio:.1f}x; load average before {load[0]:.1f}, after {load_after[0]:.1f}")
    bad = {k: v for k, v in diffs.items() if v}
    print("parity: identical" if not bad else f"parity: DIFFERENT {json.dumps(bad, default=str)[:2000]}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
